"""Fuzz of the public API: every entry point, bad inputs of every kind, the contract of ``tests/fuzz.py``.

Entry points are registered in ``tests/fuzz_core.py`` and ``tests/fuzz_analysis.py`` (``ENTRY_POINTS`` lists of
:class:`fuzz.EntryPoint`). ``test_every_public_name_is_fuzzed`` discovers rnnmem's public names (the modules'
``__all__``, public classes and their public methods) and fails on any name that is neither registered nor exempt
with a reason in ``EXEMPT``. The default profile tries a bounded number of bad inputs per entry point (well under a
minute in all); ``pytest -m slow tests/test_fuzz.py`` runs the longer profile.
"""

from __future__ import annotations

import inspect
import os

import fuzz
import fuzz_analysis
import fuzz_core
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rnnmem

ENTRY_POINTS: list[fuzz.EntryPoint] = [*fuzz_core.ENTRY_POINTS, *fuzz_analysis.ENTRY_POINTS]

#: public names that are not entry points to fuzz, each with the reason
EXEMPT: dict[str, str] = {
    "rnnmem.__version__": "a string constant",
    "rnnmem.RNNMemError": "an exception class",
    "rnnmem.NonFiniteError": "an exception class",
}
EXEMPT.update(getattr(fuzz_core, "EXEMPT", {}))
EXEMPT.update(getattr(fuzz_analysis, "EXEMPT", {}))

PUBLIC_MODULES = ["rnnmem"] + [f"rnnmem.{m}" for m in ("targets", "reparam", "approx", "linear", "ntk", "stability",
                                                      "memory", "train", "sweep", "gated", "ssm", "plot", "testing")]


def public_names(modules=PUBLIC_MODULES) -> set[str]:
    """Public functions, classes and public methods of public classes, by dotted name (as reached from ``modules``)."""
    import importlib

    names: set[str] = set()
    for modname in modules:
        try:
            mod = importlib.import_module(modname)
        except ImportError:
            continue
        for attr in getattr(mod, "__all__", []):
            obj = getattr(mod, attr)
            if inspect.ismodule(obj):
                continue
            origin = getattr(obj, "__module__", "") or ""
            if not origin.startswith("rnnmem"):
                continue
            full = f"{modname}.{attr}"
            names.add(full)
            if inspect.isclass(obj) and not issubclass(obj, BaseException):
                for meth, member in vars(obj).items():
                    if meth.startswith("_") and meth != "__call__":
                        continue
                    if callable(member) or isinstance(member, (classmethod, staticmethod)):
                        names.add(f"{full}.{meth}")
    return names


def _registered() -> set[str]:
    return {ep.name for ep in ENTRY_POINTS}


def resolve(name: str):
    """The object a dotted public name refers to (module attributes, then class attributes)."""
    import importlib

    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = inspect.getattr_static(obj, attr) if inspect.isclass(obj) else getattr(obj, attr)
        return obj
    raise ImportError(name)


def _key(name: str):
    """Identity of the object behind a name; a method is keyed by (class, name) so re-exports coincide. A name may
    carry a note after a space (``"rnnmem.memory_function (rnn)"``: a second entry of the same function)."""
    name = name.split(" ")[0]
    parts = name.split(".")
    obj = resolve(name)
    if len(parts) >= 2:
        try:
            owner = resolve(".".join(parts[:-1]))
        except (ImportError, AttributeError):
            owner = None
        if inspect.isclass(owner):
            return (id(owner), parts[-1])
    return (id(obj), None)


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_every_public_name_is_fuzzed(module):
    """Every public name reached through ``module`` is registered (under any of its names) or exempt."""
    covered = {_key(n) for n in _registered() | set(EXEMPT)}
    missing = sorted(n for n in public_names([module]) if n not in EXEMPT and _key(n) not in covered)
    assert not missing, f"{len(missing)} public names of {module} are neither fuzzed nor exempt: {missing}"


PROFILE_EXAMPLES = int(os.environ.get("RNNMEM_FUZZ_EXAMPLES", "12"))


@pytest.mark.parametrize("ep", ENTRY_POINTS, ids=lambda ep: ep.name)
@settings(max_examples=PROFILE_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_bad_input_gets_a_clear_error_or_a_finite_result(ep, data):
    if not ep.bad:
        pytest.fail(f"{ep.name} registers no bad arguments")
    arg = data.draw(st.sampled_from(sorted(ep.bad)), label="argument")
    kwargs = ep.valid()
    kwargs[arg] = data.draw(ep.bad[arg], label=arg)
    fuzz.check_call(ep.call, kwargs, arg, names=tuple(ep.names.get(arg, ())), seconds=ep.seconds)


@pytest.mark.parametrize("ep", ENTRY_POINTS, ids=lambda ep: ep.name)
def test_valid_call_gives_a_finite_result(ep):
    kwargs = ep.valid()
    result = ep.call(**kwargs)
    assert fuzz._nonfinite(result) is None


@pytest.mark.slow
@pytest.mark.parametrize("ep", ENTRY_POINTS, ids=lambda ep: ep.name)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_bad_input_long_profile(ep, data):
    arg = data.draw(st.sampled_from(sorted(ep.bad)), label="argument")
    kwargs = ep.valid()
    kwargs[arg] = data.draw(ep.bad[arg], label=arg)
    fuzz.check_call(ep.call, kwargs, arg, names=tuple(ep.names.get(arg, ())), seconds=ep.seconds)


def test_version_is_a_string():
    assert isinstance(rnnmem.__version__, str)
