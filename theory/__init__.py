"""Executable checks of the papers' statements; run them all with ``python -m theory``."""

from theory._registry import Context, Result, check, discover
from theory._runner import main, run

__all__ = ["Context", "Result", "check", "discover", "main", "run"]
