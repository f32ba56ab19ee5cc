"""Deprecated keyword aliases of the analysis modules (stability, linear, ntk, approx).

``deprecated_kwarg`` has the signature agreed for ``rnnmem._validate.deprecated_kwarg`` (issue 13, vocabulary
item 9); it lives here until both are unified into ``rnnmem._validate`` (then this module only re-exports it).
Message form, one for the whole library: "`old` is deprecated and will be removed in rnnmem 0.3; use `new`".
"""

from __future__ import annotations

import warnings
from typing import Any

__all__ = ["MISSING", "deprecated_kwarg", "renamed", "no_extra_kwargs"]


class _Missing:
    """Sentinel: the deprecated keyword was not given."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


def deprecated_kwarg(kwargs: dict, old: str, new: str, *, stacklevel: int = 3) -> Any:
    """Pop the deprecated keyword ``old`` from ``kwargs`` and return its value (with a DeprecationWarning that
    names ``new``), or :data:`MISSING` when it was not given.

    ``stacklevel=3`` points the warning at the caller of the function that calls this one.
    """
    if old not in kwargs:
        return MISSING
    value = kwargs.pop(old)
    warnings.warn(f"`{old}` is deprecated and will be removed in rnnmem 0.3; use `{new}`", DeprecationWarning,
                  stacklevel=stacklevel)
    return value


def renamed(value: Any, kwargs: dict, old: str, new: str, func: str, *, default: Any = None,
            required: bool = False) -> Any:
    """The value of the keyword ``new`` given as ``value`` or through its deprecated alias ``old`` in ``kwargs``.

    ``value is None`` means "not given". Giving both is a TypeError; with ``required`` a missing value is a
    TypeError naming ``new`` (the function's signature then shows ``new=None`` only to admit the alias).
    Warns at the caller of ``func`` (two frames above this one).
    """
    old_value = deprecated_kwarg(kwargs, old, new, stacklevel=4)
    if old_value is not MISSING:
        if value is not None:
            raise TypeError(f"{func}() got both `{new}` and its deprecated alias `{old}`; pass `{new}` only")
        value = old_value
    if value is None:
        if required:
            no_extra_kwargs(kwargs, func)  # an unknown keyword is the likelier mistake: report it first
            raise TypeError(f"{func}() missing required argument `{new}`")
        return default
    return value


def no_extra_kwargs(kwargs: dict, func: str) -> None:
    """Raise the TypeError Python raises for an unknown keyword, for functions that take ``**kwargs`` only to
    admit deprecated aliases."""
    if kwargs:
        name = next(iter(kwargs))
        raise TypeError(f"{func}() got an unexpected keyword argument {name!r}")
