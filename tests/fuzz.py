"""The fuzz harness of the public API: bad values by kind, and the contract every call must keep.

Contract of a public call given one bad argument (:func:`check_call`):

- it returns a result whose every number is finite (NaN/inf never escape silently), **or**
- it raises ``ValueError`` or ``TypeError`` (``rnnmem.RNNMemError`` and ``rnnmem.NonFiniteError`` are ValueErrors)
  whose message names the argument (or one of the names given in ``names``);
- no other exception (no IndexError, AxisError, LinAlgError, KeyError, ZeroDivisionError, MemoryError...);
- it returns within ``seconds`` (measured; a call that hangs outright is stopped by ``faulthandler`` after
  ``HANG_SECONDS`` with a traceback, failing the run loudly rather than silently);
- none of its arguments is mutated.

Entry points are registered in ``tests/fuzz_*.py`` modules as :class:`EntryPoint` records (a valid call plus, per
argument, the kind of bad values to try); ``tests/test_fuzz.py`` runs them under Hypothesis and checks that every
public name of rnnmem is covered (or exempt, with a reason).
"""

from __future__ import annotations

import copy
import dataclasses
import faulthandler
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st

#: a single call that runs longer than this is killed with a traceback (a hang is a defect, never a pass)
HANG_SECONDS = 120.0

_NAN, _INF = float("nan"), float("inf")


def bad_numbers() -> st.SearchStrategy:
    """Values that a real-number argument must refuse or handle: wrong types, NaN/inf, extremes, signs."""
    return st.sampled_from([None, "1", "x", True, False, _NAN, _INF, -_INF, -1.0, 0.0, -1e308, 1e308, 5e-324,
                            1 + 1j, [], [1.0, 2.0], object(), np.array([1.0, 2.0])])


def bad_counts() -> st.SearchStrategy:
    """Values that an integer count/size argument must refuse: negatives, zero, floats, bools, absurd sizes."""
    return st.sampled_from([None, "3", True, False, -1, 0, 2.5, _NAN, _INF, 10**15, 2**70, -(2**70), [3], object()])


def bad_flags() -> st.SearchStrategy:
    """Values that a boolean flag must refuse (``"no"`` is truthy: accepting it would invert the intent)."""
    return st.sampled_from(["no", "yes", "False", 0, 1, 2, None, _NAN, [], [True], object()])


def bad_names(choices: tuple[str, ...] = ()) -> st.SearchStrategy:
    """Values that a choice/name argument must refuse: unknown strings, non-strings, a string to be split."""
    vals: list[Any] = ["", "nope", "W U", None, 1, True, ["W"], object()]
    if choices:
        vals += ["".join(choices), choices[0].upper() + "_", choices[0] + " "]
    return st.sampled_from(vals)


def bad_rngs() -> st.SearchStrategy:
    """Values that an ``rng`` argument (None, an int seed or a numpy Generator) must refuse."""
    return st.sampled_from(["x", "0", 1.5, -1, True, _NAN, [0], object(), np.random.RandomState(0)])


def bad_pairs() -> st.SearchStrategy:
    """Values that a pair (a, b) of real numbers must refuse or handle."""
    return st.sampled_from([None, "ab", 3.0, (), (1.0,), (1.0, 2.0, 3.0), (_NAN, 1.0), (1.0, _INF), ("a", 1.0),
                            (True, 1.0), (2.0, 1.0), (-1.0, 1.0), (1 + 1j, 2.0), object()])


def bad_arrays(shape: tuple[int, ...]) -> st.SearchStrategy:
    """Values that an array argument of the given valid ``shape`` must refuse or handle."""
    shape = tuple(shape)
    ndim = len(shape)
    vals: list[Any] = [None, "x", 3.0, [], np.zeros((0,) * max(ndim, 1)), np.full(shape, np.nan),
                       np.full(shape, np.inf), np.full(shape, 1e308), np.ones(shape, dtype=complex),
                       np.array([object()] * max(int(np.prod(shape)), 1), dtype=object).reshape(shape)
                       if shape else np.array(object(), dtype=object),
                       np.ones(shape + (2,)), np.ones(shape[:-1]) if ndim > 1 else np.ones((2, 2, 2))]
    if ndim >= 1:
        wrong = list(shape)
        wrong[-1] += 1
        vals.append(np.ones(tuple(wrong)))
        vals.append(np.ones(shape, dtype=np.float32) * np.float32(np.nan))
    return st.sampled_from(vals)


@dataclass
class EntryPoint:
    """One public entry point to fuzz.

    name : the public dotted name (``"rnnmem.RNN.random"``, ``"rnnmem.linear.h2_norm"``); used for coverage.
    call : function of the keyword arguments (``lambda **kw: rm.linear.h2_norm(**kw)``, or for a method
        ``lambda model, **kw: model.vjp(**kw)``).
    valid : a factory returning a dict of valid keyword arguments (fresh objects on every call).
    bad : per argument name, a strategy of bad values for it (use the ``bad_*`` helpers above).
    names : per argument, extra words an error message may use to name it (e.g. ``{"x": ("input",)}``).
    seconds : the time bound of one call.
    """

    name: str
    call: Callable[..., Any]
    valid: Callable[[], dict[str, Any]]
    bad: Mapping[str, st.SearchStrategy] = field(default_factory=dict)
    names: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    seconds: float = 20.0


class ContractViolation(AssertionError):
    """A public call broke the fuzz contract (see the module docstring)."""


def _snapshot(obj: Any) -> Any:
    if isinstance(obj, np.ndarray) and obj.dtype == object:
        return obj.copy()  # the same element objects: deep copies of object() entries never compare equal
    try:
        return copy.deepcopy(obj)
    except Exception:  # an object that cannot be copied is compared by identity only
        return obj


def _state(obj: Any) -> dict[str, Any]:
    """The attributes of an object (``__dict__`` and every ``__slots__`` entry): objects without ``__eq__`` (models,
    a bare ``object()``) are compared by what they hold, not by identity (the snapshot is a deep copy)."""
    out = dict(vars(obj)) if hasattr(obj, "__dict__") else {}
    for cls in type(obj).__mro__:
        slots = getattr(cls, "__slots__", ())
        for sl in (slots,) if isinstance(slots, str) else slots:
            try:
                out[sl] = object.__getattribute__(obj, sl)
            except AttributeError:
                pass
    return out


def _same(a: Any, b: Any, depth: int = 0) -> bool:
    if depth > 6:
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and a.dtype == b.dtype):
            return False
        if a.dtype == object:  # the snapshot deep-copied the elements: compare them as objects
            return all(_same(x, y, depth + 1) for x, y in zip(a.ravel(), b.ravel(), strict=True))
        try:
            return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
        except TypeError:
            return a is b
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_same(a[k], b[k], depth + 1) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y, depth + 1) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (a != a and b != b)
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return all(_same(getattr(a, f.name), getattr(b, f.name), depth + 1) for f in dataclasses.fields(a))
    try:
        if bool(a == b):
            return True
    except Exception:
        pass
    return _same(_state(a), _state(b), depth + 1)  # objects without __eq__ (models): compare what they hold


def _nonfinite(obj: Any, depth: int = 0) -> str | None:
    """Return a description of the first NaN/inf found in a (nested) result, or None."""
    if depth > 4:
        return None
    if isinstance(obj, (float, np.floating, complex, np.complexfloating)):
        return None if np.isfinite(obj) else repr(obj)
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind in "fc" and not np.isfinite(obj).all():
            return f"array of shape {obj.shape} with {int((~np.isfinite(obj)).sum())} non-finite entries"
        return None
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            bad = _nonfinite(v, depth + 1)
            if bad:
                return f"[{k!r}] {bad}"
        return None
    if isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj[:1000]):
            bad = _nonfinite(v, depth + 1)
            if bad:
                return f"[{i}] {bad}"
        return None
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            bad = _nonfinite(getattr(obj, f.name, None), depth + 1)
            if bad:
                return f".{f.name} {bad}"
    return None


def check_call(call: Callable[..., Any], kwargs: dict[str, Any], bad_arg: str, *, names: tuple[str, ...] = (),
               seconds: float = 20.0, allow_nonfinite: bool = False) -> str:
    """Call ``call(**kwargs)`` where ``kwargs[bad_arg]`` holds a bad value, and enforce the contract.

    Returns ``"ok"`` (finite result) or ``"raised"``; raises :class:`ContractViolation` otherwise.
    """
    before = {k: _snapshot(v) for k, v in kwargs.items()}
    faulthandler.dump_traceback_later(HANG_SECONDS, exit=True)
    t0 = time.perf_counter()
    try:
        result = call(**kwargs)
        outcome = "ok"
    except (ValueError, TypeError) as exc:
        outcome = "raised"
        msg = str(exc)
        words = (bad_arg,) + tuple(names)
        if not any(w in msg for w in words):
            raise ContractViolation(f"{type(exc).__name__} for bad {bad_arg}={kwargs[bad_arg]!r:.80} does not name "
                                    f"the argument (expected one of {words} in the message): {msg!r}") from exc
    except Exception as exc:  # any other exception type is a defect
        raise ContractViolation(f"bad {bad_arg}={kwargs[bad_arg]!r:.80} raised {type(exc).__name__}: {exc}"
                                " (expected ValueError/TypeError naming the argument, or a finite result)") from exc
    finally:
        faulthandler.cancel_dump_traceback_later()
    elapsed = time.perf_counter() - t0
    if elapsed > seconds:
        raise ContractViolation(f"bad {bad_arg}={kwargs[bad_arg]!r:.80} took {elapsed:.1f} s (bound {seconds} s)")
    for k, v in kwargs.items():
        if not _same(before[k], v):
            raise ContractViolation(f"argument {k} was mutated by the call (bad {bad_arg})")
    if outcome == "ok" and not allow_nonfinite:
        bad = _nonfinite(result)
        if bad:
            raise ContractViolation(f"bad {bad_arg}={kwargs[bad_arg]!r:.80} returned a non-finite result silently: "
                                    f"{bad}")
    return outcome
