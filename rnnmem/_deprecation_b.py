"""Deprecated keyword aliases of the analysis modules (stability, linear, ntk, approx).

The mechanism is the library's one (``rnnmem._validate.deprecated_kwarg`` and its sentinel ``MISSING``, message
"`old` is deprecated and will be removed in rnnmem 0.3; use `new`"); this module adds the two small forms the
analysis modules use: ``renamed`` (a parameter whose ``None`` default means "not given") and ``no_extra_kwargs``.
"""

from __future__ import annotations

from typing import Any

from rnnmem._validate import MISSING, deprecated_kwarg

__all__ = ["MISSING", "deprecated_kwarg", "renamed", "no_extra_kwargs"]


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
