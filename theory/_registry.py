"""Registry of theory checks: the ``@check`` decorator, the run context and the result record.

Every module in the ``theory`` package whose name does not start with ``_`` is imported by
:func:`discover`; its ``@check``-decorated functions become checks of ``python -m theory``.

A check is a function ``fn(ctx: Context) -> Result``. It must size itself from ``ctx.quick`` / ``ctx.full``,
draw all randomness from ``ctx.rng(...)`` (so a rerun gives the same bits), write figures into ``ctx.figdir``
and return a :class:`Result` whose ``summary`` is the key figure printed in the verdict table.

The verdict contract
--------------------
Every check computes one *criterion* (the paper's claim, as strong as the paper states it) and applies the same
criterion, with the same code, to one or more **negative controls**: settings where the claim's premise is
removed (an exponential-memory target in place of a polynomial one, the direct parameterisation in place of a
stable one, a matrix that violates a lemma's hypothesis, a wrong kernel, an untrained student). A control must
come out FAIL; a control that passes shows the criterion cannot tell the difference, and the check is VACUOUS.

The runner turns a :class:`Result` into one of five states (:data:`STATES`):

- ``PASS``: the criterion held, every control failed, and the statement was reproduced as worded;
- ``FINDING``: the statement as worded is refuted (``Result.refuted``: a counterexample that satisfies the
  statement's hypotheses is shown), the corrected statement's criterion held, and every control failed;
- ``FAIL``: the criterion did not hold (the expected outcome was not obtained);
- ``VACUOUS``: the criterion held but so did a control (or the check declared no control);
- ``ERROR``: the check raised; never resumed, the next run reruns it.

Each check declares the state it expects (``expect="PASS"`` or ``"FINDING"``); ``python -m theory`` exits 0
when every check has its expected state, 1 on any other FAIL/VACUOUS/PASS/FINDING mismatch, 2 on any ERROR.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: the five verdict states, in the order of the verdict table's legend
STATES = ("PASS", "FINDING", "FAIL", "VACUOUS", "ERROR")
#: the states a check may declare as expected
EXPECTABLE = ("PASS", "FINDING")


@dataclass
class Control:
    """One negative control: the check's criterion, computed by the same code, on a setting without the premise.

    name : short identifier (``"exp-target"``, ``"direct-param"``, ``"normal-W"``...).
    premise_removed : what was removed or broken, in words (``"polynomial memory replaced by 0.9^t"``).
    passed : whether the criterion held on the control. It must not: a passing control makes the check VACUOUS.
    summary : the key figure of the control (printed in the report next to its state).
    """

    name: str
    premise_removed: str
    passed: bool
    summary: str = ""

    @property
    def status(self) -> str:
        """``"FAIL"`` (as it must be) or ``"PASS"`` (the control passed: the check is vacuous)."""
        return "PASS" if self.passed else "FAIL"


@dataclass
class Result:
    """Outcome of one check.

    passed : whether the check's criterion held (the statement, or for a finding the corrected statement, was
        reproduced) on the main setting — on every seed where several ran.
    summary : one line, the key figure(s) printed next to the state.
    details : markdown paragraph(s) for report.md (what was measured, settings, differences from the paper).
    figures : file names (inside ``ctx.figdir``) of the figures the check wrote.
    data : JSON-serialisable numbers backing the verdict (written to results.json).
    controls : the negative controls (at least one); each must come out FAIL.
    refuted : True when the statement *as worded* is refuted by a counterexample satisfying its hypotheses
        (then a passing check is a FINDING, and ``summary``/``details`` show the counterexample).
    seeds : per-seed outcome of the criterion where several seeds ran (``{seed: passed}``).
    """

    passed: bool
    summary: str
    details: str = ""
    figures: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    controls: list[Control] = field(default_factory=list)
    refuted: bool = False
    seeds: dict[int, bool] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """The verdict state (see the module docstring): PASS, FINDING, FAIL or VACUOUS (ERROR is the runner's)."""
        if not self.passed:
            return "FAIL"
        if not self.controls or any(c.passed for c in self.controls):
            return "VACUOUS"
        return "FINDING" if self.refuted else "PASS"


_MEMO: dict = {}


def _progress_bars() -> bool:
    """Progress bars for ``Context.map`` only on an interactive terminal (never in logs or the test suite)."""
    import sys

    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def clear_memo() -> None:
    """Forget every value cached by :meth:`Context.memo`."""
    _MEMO.clear()


@dataclass
class Context:
    """What a check gets: sizes, output folder, seeded randomness and an optional executor."""

    quick: bool = False
    full: bool = False
    out: Path = Path("theory-report")
    seed: int = 0
    executor: Executor | None = None

    @property
    def figdir(self) -> Path:
        d = Path(self.out) / "figures"
        d.mkdir(parents=True, exist_ok=True)
        return d

    @property
    def size(self) -> str:
        return "full" if self.full else ("quick" if self.quick else "default")

    def pick(self, quick: Any, default: Any, full: Any | None = None) -> Any:
        """Choose a setting by run size (``full`` falls back to ``default``)."""
        if self.full and full is not None:
            return full
        return quick if self.quick else default

    def save_figure(self, fig, name: str, dpi: int = 110) -> str:
        """Write ``fig`` as ``figdir/name`` (PNG), close it and return ``name`` (for ``Result.figures``)."""
        import matplotlib.pyplot as plt

        fig.savefig(self.figdir / name, dpi=dpi)
        plt.close(fig)
        return name

    def rng(self, *key: int) -> np.random.Generator:
        """A Generator seeded from the run seed and ``key`` (stable across runs and processes)."""
        return np.random.default_rng(np.random.SeedSequence([self.seed, *[int(k) for k in key]]))

    def memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per (run size, seed, ``key``) in this process, shared between checks and controls.

        Use it to reuse fitted models between a check, its controls and sibling checks (``fig1-exp``/``fig1-pol``).
        :func:`clear_memo` empties it (the mutation tests do, so that a patched library function is really used).
        """
        full_key = (self.size, self.seed, key)
        if full_key not in _MEMO:
            _MEMO[full_key] = compute()
        return _MEMO[full_key]

    def map(self, fn: Callable, items: Iterable) -> list:
        """``[fn(item) for item in items]``, on the run's executor when it has one (``--workers``, ``--dask``).

        Built on :func:`rnnmem.sweep` (results in the order of ``items``); ``fn`` must be a picklable top-level
        function. The first item that raises stops the map (the items not started are cancelled) and its exception
        is raised here — the original one when it ran in this process, else a :class:`rnnmem.sweep.SweepError`
        holding the worker's traceback — so the check ends as an ERROR.
        """
        from rnnmem.sweep import _sweep

        items = list(items)
        executor = self.executor if len(items) > 1 else None
        res = _sweep(fn, items, executor=executor, progress=_progress_bars(), fail_fast=True, leave=False,
                     desc=getattr(fn, "__name__", "map"))
        if res.errors:
            err = next(iter(res.errors.values()))
            if err.exception is not None:
                raise err.exception
            from rnnmem.sweep import SweepError

            raise SweepError(f"{getattr(fn, '__qualname__', fn)!r} raised on item {err.index} {err.cell!r}: "
                             f"{err.type}: {err.message}\n--- traceback in the worker ---\n{err.traceback}",
                             {err.index: err})
        return list(res.values)


@dataclass
class Check:
    name: str
    fn: Callable[[Context], Result]
    title: str
    statement: str
    expect: str = "PASS"
    order: int = 100


REGISTRY: dict[str, Check] = {}


def check(name: str, *, title: str, statement: str, expect: str = "PASS", order: int = 100):
    """Register ``fn`` as the theory check ``name``.

    title : short human title; statement : the paper statement it tests, quoted with its figure, theorem or
    equation number; expect : the state the check is expected to end in, ``"PASS"`` (the statement reproduces)
    or ``"FINDING"`` (the statement as worded is refuted and the corrected one reproduces);
    order : position in the verdict table.
    """
    if expect not in EXPECTABLE:
        raise ValueError(f"check {name!r}: expect must be one of {EXPECTABLE}, got {expect!r}")

    def deco(fn):
        if name in REGISTRY and REGISTRY[name].fn is not fn:
            raise RuntimeError(f"duplicate theory check name {name!r}")
        REGISTRY[name] = Check(name, fn, title, statement, expect, order)
        return fn

    return deco


def discover() -> dict[str, Check]:
    """Import every public module of the ``theory`` package and return the registry sorted by order."""
    import theory

    for mod in pkgutil.iter_modules(theory.__path__):
        if not mod.name.startswith("_"):
            importlib.import_module(f"theory.{mod.name}")
    return dict(sorted(REGISTRY.items(), key=lambda kv: (kv[1].order, kv[0])))
