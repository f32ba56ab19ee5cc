"""Helpers for the mutation tests of the theory checks: run one check in-process and return its state.

A mutation test patches a library function a check relies on with a plausible bug (a wrong rate, a factor, a sign,
the reparameterisation removed, training cut short) and asserts that the check's state changes from its expected
one. ``verdict`` clears the :meth:`theory.Context.memo` cache before and after, so a patched function is used.
"""

from __future__ import annotations

import io
import tempfile

from theory import _registry, _runner


def verdict(name: str, *, quick: bool = True, seed: int = 0) -> dict:
    """Run the check ``name`` fresh (no resume) and return its results.json record (``rec["status"]`` etc.)."""
    _registry.clear_memo()
    try:
        with tempfile.TemporaryDirectory() as out:
            res = _runner.run([name], quick=quick, out=out, seed=seed, resume=False, stream=io.StringIO())
    finally:
        _registry.clear_memo()
    return res[name]


def expected(name: str) -> str:
    """The state the check ``name`` declares as expected."""
    return _registry.discover()[name].expect
