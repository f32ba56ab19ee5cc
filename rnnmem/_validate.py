"""Input validation and random-number handling shared by every public function.

One path for every public entry point: arrays are converted once to contiguous float64 copies (the caller's
array is never touched), shapes and finiteness are checked, and errors name the argument, what was received
and what was expected.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterable, Iterator, Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np

__all__ = [
    "RNNMemError",
    "NonFiniteError",
    "as_rng",
    "as_array",
    "as_complex_array",
    "as_sequence_input",
    "check_labels",
    "check_callable",
    "check_pair",
    "shape_source",
    "check_choice",
    "check_positive",
    "check_int",
    "check_dt",
    "check_bool",
    "check_real",
    "check_names",
    "check_size",
    "check_finite_result",
    "first_nonfinite_step",
    "MISSING",
    "DEPRECATED_UNTIL",
    "deprecation_message",
    "deprecated_kwarg",
    "renamed_kwarg",
    "check_no_kwargs",
]

#: the largest array (in bytes) a public function agrees to allocate before it starts; larger requests are refused
#: with a ValueError naming the sizes that caused it (instead of a MemoryError or OverflowError deep inside).
MAX_ALLOCATION_BYTES = 8 << 30


class RNNMemError(ValueError):
    """Base class of rnnmem's own errors; a ``ValueError`` so ``except ValueError`` catches it."""


class NonFiniteError(RNNMemError):
    """Raised when a computation produces NaN or inf (e.g. an exploding RNN).

    Attributes
    ----------
    step : int or None
        The first time index at which a non-finite value appeared, when known.
    """

    def __init__(self, message: str, step: int | None = None):
        super().__init__(message)
        self.step = step


def as_rng(rng: None | int | np.random.Generator | np.random.SeedSequence, name: str = "rng"):
    """Return a ``numpy.random.Generator`` from ``None``, an int seed, a SeedSequence or a Generator.

    The same int seed gives the same bits on every call. A ``Generator`` is used as is (and advanced).
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (Integral, np.random.SeedSequence)):
        if isinstance(rng, Integral) and not isinstance(rng, bool) and rng < 0:
            raise ValueError(f"{name} must be a non-negative int seed, got {rng}")
        if isinstance(rng, bool):
            raise TypeError(f"{name} must be None, an int seed or a numpy.random.Generator, got bool")
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.RandomState):
        raise TypeError(
            f"{name} must be None, an int seed or a numpy.random.Generator; got a legacy RandomState "
            "(use numpy.random.default_rng(seed) instead)"
        )
    raise TypeError(f"{name} must be None, an int seed or a numpy.random.Generator, got {type(rng).__name__}")


def _describe(a: np.ndarray) -> str:
    return f"shape {a.shape}"


def _what(value: Any, arr: np.ndarray) -> str:
    """How to name a value that did not convert to numbers: its type for a non-array object, else the dtype."""
    if value is None:
        return "None"
    if isinstance(value, (str, bytes)):
        return f"the string {value!r:.40}"
    if arr.dtype == object and arr.ndim == 0:
        return f"a {type(value).__name__} object"
    if arr.dtype.kind in "US":
        return f"an array of strings (dtype {arr.dtype})"
    return f"an array of dtype {arr.dtype}"


def _model_hint(value: Any, name: str) -> str:
    """"; pass `rnn.W`" when a model (an object with an attribute of the argument's name) is given for an array."""
    attr = name.split("[")[0].split(".")[-1]
    if isinstance(value, (np.ndarray, list, tuple, str, bytes)) or not attr.isidentifier():
        return ""
    if hasattr(type(value), attr) or hasattr(value, attr):
        var = type(value).__name__.lower()
        return f" (a model where an array is expected: pass its array, e.g. `{var}.{attr}`)"
    return ""


def as_array(
    value: Any,
    name: str,
    *,
    ndim: int | Sequence[int] | None = None,
    shape: Sequence[int | None] | None = None,
    finite: bool = True,
    copy: bool = True,
    allow_empty: bool = False,
) -> np.ndarray:
    """Convert ``value`` to a C-contiguous float64 array, validating it.

    Parameters
    ----------
    value : array_like
        Real numbers (bool, int or float dtypes). Complex, object and string arrays raise ``TypeError``.
    name : str
        The argument's name, used in error messages.
    ndim : int or sequence of int, optional
        Allowed numbers of dimensions.
    shape : sequence of (int or None), optional
        Expected shape; ``None`` entries are free. Implies ``ndim``.
    finite : bool
        Reject NaN and inf.
    copy : bool
        Always return a fresh array (never a view of the caller's data).
    allow_empty : bool
        Allow zero-size arrays.
    """
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be an array of real numbers; could not convert it: {exc}") from None
    if arr.dtype.kind == "c":
        raise TypeError(f"{name} must be real, got complex dtype {arr.dtype}")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be an array of real numbers, got {_what(value, arr)}{_model_hint(value, name)}")
    if shape is not None:
        ndim = len(shape)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, Integral) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(f"{k}-D" for k in allowed)
            raise ValueError(f"{name} must be {want}, got a {arr.ndim}-D array of {_describe(arr)}")
    if shape is not None:
        for axis, (got, want) in enumerate(zip(arr.shape, shape, strict=True)):
            if want is not None and got != want:
                expected = tuple("*" if s is None else s for s in shape)
                raise ValueError(
                    f"{name} has shape {arr.shape}, expected {expected} (axis {axis} must be {want})"
                )
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name} is empty ({_describe(arr)}); every axis must have length >= 1")
    # (np.ascontiguousarray would turn a 0-d array into shape (1,))
    out = np.array(arr, dtype=np.float64, order="C", copy=True) if copy else np.asarray(
        arr, dtype=np.float64, order="C"
    )
    if finite and not np.isfinite(out).all():
        bad = np.argwhere(~np.isfinite(out))[0]
        raise ValueError(
            f"{name} contains NaN or inf (first at index {tuple(int(i) for i in bad)}); all entries must be finite"
        )
    return out


def as_complex_array(value: Any, name: str, *, shape: Sequence[int | None] | None = None,
                     ndim: int | Sequence[int] | None = None) -> np.ndarray:
    """Convert ``value`` (real or complex numbers) to a C-contiguous complex128 copy, validating shape and
    finiteness like :func:`as_array`."""
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be an array of numbers; could not convert it: {exc}") from None
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"{name} must be an array of real or complex numbers, got dtype {arr.dtype}")
    re = as_array(arr.real, name, shape=shape, ndim=ndim)
    im = as_array(arr.imag, name, shape=shape, ndim=ndim) if arr.dtype.kind == "c" else np.zeros_like(re)
    return re + 1j * im


def as_sequence_input(x: Any, d: int, name: str = "x", *, time_major: bool = False) -> tuple[np.ndarray, bool]:
    """Validate an input sequence batch.

    Accepts ``(B, T, d)`` or a single sequence ``(T, d)``; returns a float64 ``(B, T, d)`` copy and a flag
    that says whether the caller gave 2-D input (so outputs are squeezed back to 2-D). With ``time_major=True`` a
    3-D input is ``(T, B, d)`` (torch's default layout, ``batch_first=False``) and is transposed once here.
    """
    arr = as_array(x, name, ndim=(2, 3))
    squeeze = arr.ndim == 2
    if squeeze:
        arr = arr[None]
    elif time_major:
        arr = np.ascontiguousarray(arr.transpose(1, 0, 2))
    if arr.shape[2] != d:
        got = arr.shape[1:] if squeeze else np.asarray(x).shape
        want = f"(T, {d})" if squeeze else (f"(T, B, {d})" if time_major else f"(B, T, {d})")
        raise ValueError(
            f"{name} has shape {got} but the model has {d} input feature(s): expected {want} "
            "(arrays are (batch, time, features); a single sequence may be (time, features))"
        )
    return arr, squeeze


def check_labels(value: Any, name: str, n: int | None, classes: int) -> np.ndarray:
    """Integer class labels in ``0..classes-1``: shape ``(n,)`` (a scalar when ``n`` is None, one sequence);
    returns an int64 copy. Negative labels are refused (Python indexing would wrap them silently)."""
    arr = np.asarray(value)
    want = () if n is None else (n,)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must be integer class labels of shape {want} for loss='cross_entropy', got "
                        f"{_what(value, arr)}")
    if arr.shape != want:
        raise ValueError(f"{name} must be integer class labels of shape {want} (one per sequence) for "
                         f"loss='cross_entropy', got shape {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() >= classes):
        bad = int(np.flatnonzero((arr.reshape(-1) < 0) | (arr.reshape(-1) >= classes))[0])
        raise ValueError(f"{name} labels must lie in 0..{classes - 1} (the model has {classes} outputs, the "
                         f"logits); got {int(arr.reshape(-1)[bad])} at index {bad}")
    return arr.astype(np.int64).reshape(want)


def check_callable(value: Any, name: str, what: str = "a callable") -> Any:
    """Check that ``value`` is callable (``what`` says which signature is expected)."""
    if not callable(value):
        raise TypeError(f"{name} must be {what}, got {type(value).__name__} {value!r:.60}")
    return value


def check_pair(value: Any, name: str, **bounds: Any) -> tuple[float, float]:
    """Check a pair (a, b) of real numbers (a tuple, list or 2-element array; ``bounds`` as in :func:`check_real`
    for each entry) and return it as a tuple of floats."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise TypeError(f"{name} must be a pair (a, b) of real numbers, got {type(value).__name__} {value!r:.60}")
    a, b = value
    return check_real(a, f"{name}[0]", **bounds), check_real(b, f"{name}[1]", **bounds)


@contextlib.contextmanager
def shape_source(note: str) -> Iterator[None]:
    """Append ``note`` (e.g. "the hidden width m = 4 comes from W") to a shape-mismatch ValueError raised inside, so
    that the message names both arguments of the mismatch."""
    try:
        yield
    except ValueError as exc:
        if isinstance(exc, NonFiniteError) or "has shape" not in str(exc):
            raise
        raise ValueError(f"{exc}; {note}") from None


def check_choice(value: Any, name: str, choices: Iterable[str]) -> str:
    """Check that ``value`` is one of ``choices`` (strings), naming them all on failure."""
    choices = tuple(choices)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {choices}; got {type(value).__name__} {value!r}")
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; expected one of {choices}")
    return value


def check_positive(value: Any, name: str, *, strict: bool = True) -> float:
    """Check a finite real scalar ``> 0`` (or ``>= 0`` when ``strict`` is False) and return it as float."""
    if isinstance(value, bool) or not isinstance(value, (Real, np.floating, np.integer)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    v = float(value)
    if not np.isfinite(v) or (v <= 0 if strict else v < 0):
        raise ValueError(f"{name} must be a finite number {'>' if strict else '>='} 0, got {value!r}")
    return v


def check_dt(value: Any, name: str = "dt") -> float:
    """A time step Δt: a finite real number > 0 that is a normal float (>= 2.2e-308); a subnormal Δt has lost its
    precision (Δt·x rounds to a few bits), and its reciprocal overflows."""
    v = check_positive(value, name)
    if v < np.finfo(np.float64).tiny:
        raise ValueError(f"{name} must be at least {np.finfo(np.float64).tiny:.3g} (a normal float), got {value!r}: a "
                         "subnormal step has lost its precision and 1/dt overflows")
    return v


def check_int(value: Any, name: str, *, minimum: int = 0, maximum: int | None = None) -> int:
    """Check an integer in ``[minimum, maximum]`` (bools and floats are refused) and return it as a Python int."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (Integral, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    v = int(value)
    if v < minimum or (maximum is not None and v > maximum):
        rng = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        raise ValueError(f"{name} must be an integer {rng}, got {v}")
    return v


def check_bool(value: Any, name: str) -> bool:
    """Check a boolean flag (``True``/``False`` or a numpy bool) and return it as a Python bool.

    Strings, numbers and ``None`` are refused: ``"no"`` is truthy in Python, so accepting it would invert the
    caller's intent.
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")


def check_real(value: Any, name: str, *, minimum: float | None = None, maximum: float | None = None,
               strict_minimum: bool = False, strict_maximum: bool = False, finite: bool = True) -> float:
    """Check a real scalar (not a bool, string or complex) within optional bounds and return it as float.

    ``strict_minimum``/``strict_maximum`` make the bounds exclusive; ``finite=False`` admits ±inf (never NaN).
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (Real, np.floating, np.integer)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    v = float(value)
    if np.isnan(v) or (finite and not np.isfinite(v)):
        raise ValueError(f"{name} must be a {'finite ' if finite else ''}real number, got {value!r}")
    if minimum is not None and (v <= minimum if strict_minimum else v < minimum):
        raise ValueError(f"{name} must be {'>' if strict_minimum else '>='} {minimum}, got {value!r}")
    if maximum is not None and (v >= maximum if strict_maximum else v > maximum):
        raise ValueError(f"{name} must be {'<' if strict_maximum else '<='} {maximum}, got {value!r}")
    return v


def check_names(value: Any, name: str, choices: Iterable[str], *, allow_empty: bool = False) -> tuple[str, ...]:
    """Check a collection of names drawn from ``choices`` and return it as a tuple (order kept, no duplicates).

    A single string is refused rather than split into characters (``"WU"`` is not ``("W", "U")``): pass a tuple.
    """
    choices = tuple(choices)
    if isinstance(value, (str, bytes)):
        if value in choices:
            fix = f"write ({value!r},) for a single name"
        elif value and all(c in choices for c in value):
            fix = f"did you mean {tuple(value)!r}?"
        else:
            fix = f"names are {choices}"
        raise TypeError(f"{name} must be a sequence of names such as {choices[:2]!r}, not the string {value!r} "
                        f"({fix})")
    try:
        names = tuple(value)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of names from {choices}, got {type(value).__name__}") from None
    for n in names:
        check_choice(n, f"{name} entry", choices)
    if len(set(names)) != len(names):
        raise ValueError(f"{name} names {names} contain duplicates")
    if not names and not allow_empty:
        raise ValueError(f"{name} is empty; expected at least one of {choices}")
    return names


def check_size(name: str, *dims: int, itemsize: int = 8, limit: int | None = None) -> None:
    """Refuse an allocation of ``prod(dims)`` items before it is attempted, naming ``name`` and the sizes."""
    limit = MAX_ALLOCATION_BYTES if limit is None else limit
    total = itemsize
    for d in dims:
        total *= int(d)
    if total > limit:
        raise ValueError(f"{name} would allocate {total / 2**30:.3g} GiB ({' x '.join(str(int(d)) for d in dims)} "
                         f"items of {itemsize} bytes), over the {limit / 2**30:.3g} GiB limit of one call; reduce "
                         "the sizes, or process the data in chunks")


def check_finite_result(a: np.ndarray, what: str, *, time_axis: int | None = None, hint: str = "") -> np.ndarray:
    """Raise :class:`NonFiniteError` if ``a`` holds NaN or inf, naming ``what`` and the first bad (time) index.

    ``hint`` says what usually causes it (an unstable model, a growing kernel...) and how to fix it.
    """
    if np.isfinite(a).all():
        return a
    if time_axis is not None:
        step = first_nonfinite_step(a, time_axis)
        where = f"first at time step {step}"
    else:
        step = None
        where = f"first at index {tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])}"
    raise NonFiniteError(f"{what} is not finite ({where}){'; ' + hint if hint else ''}", step=step)


def first_nonfinite_step(a: np.ndarray, time_axis: int) -> int:
    """Return the first index along ``time_axis`` holding a non-finite value, or -1 if all are finite."""
    bad = ~np.isfinite(a)
    if not bad.any():
        return -1
    other = tuple(i for i in range(a.ndim) if i != time_axis)
    per_step = bad.any(axis=other)
    return int(np.argmax(per_step))


# ----------------------------------------------------------------------------------------------- deprecations
#: the release in which deprecated names are removed
DEPRECATED_UNTIL = "0.3"


class _Missing:
    """The type of :data:`MISSING`: an argument that was not passed (distinct from ``None``, a valid value)."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __reduce__(self):
        return (_Missing, ())


#: returned by :func:`deprecated_kwarg` when the old keyword was not passed; also the default of a renamed
#: parameter, so that passing both names can be detected
MISSING = _Missing()


def deprecation_message(old: str, new: str) -> str:
    """The one message form of every deprecation: "`old` is deprecated and will be removed in rnnmem 0.3; use
    `new`"."""
    return f"`{old}` is deprecated and will be removed in rnnmem {DEPRECATED_UNTIL}; use `{new}`"


def deprecated_kwarg(kwargs: dict, old: str, new: str, *, stacklevel: int = 3) -> Any:
    """Pop the deprecated keyword ``old`` from ``kwargs`` (a public function's ``**kwargs``).

    Returns its value after a ``DeprecationWarning`` in the form of :func:`deprecation_message`, or
    :data:`MISSING` when ``old`` was not passed. ``stacklevel=3`` points the warning at the caller of the public
    function that calls this helper directly.
    """
    if old not in kwargs:
        return MISSING
    value = kwargs.pop(old)
    warnings.warn(deprecation_message(old, new), DeprecationWarning, stacklevel=stacklevel)
    return value


def renamed_kwarg(kwargs: dict, old: str, new: str, value: Any, *, default: Any = MISSING,
                  stacklevel: int = 4) -> Any:
    """The value of a renamed parameter ``new`` whose old name ``old`` may still arrive in ``kwargs``.

    ``value`` is what was passed as ``new`` (:data:`MISSING` when nothing was: give ``new`` that default in the
    signature). Passing both names raises ``TypeError``; passing only ``old`` warns (:func:`deprecated_kwarg`);
    passing neither returns ``default``.
    """
    old_value = deprecated_kwarg(kwargs, old, new, stacklevel=stacklevel)
    if old_value is MISSING:
        return default if value is MISSING else value
    if value is not MISSING:
        raise TypeError(f"got both `{new}` and its deprecated alias `{old}`; pass `{new}` only")
    return old_value


def check_no_kwargs(kwargs: dict, where: str) -> None:
    """Refuse keywords left in ``kwargs`` after the deprecated aliases were taken out (a misspelt argument)."""
    if kwargs:
        names = ", ".join(sorted(map(str, kwargs)))
        raise TypeError(f"{where}() got unexpected keyword argument(s): {names}")
