"""Executable checks of the papers' statements; run them all with ``python -m theory``."""

from theory._registry import STATES, Context, Control, Result, check, discover
from theory._runner import main, run

__all__ = ["STATES", "Context", "Control", "Result", "check", "discover", "main", "run"]
