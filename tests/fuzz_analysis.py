"""Fuzz entry points of the analysis modules (see tests/fuzz.py for the contract, tests/test_fuzz.py for the runner)."""

from __future__ import annotations

from fuzz import EntryPoint

ENTRY_POINTS: list[EntryPoint] = []

#: public names of these modules that are not fuzzed, each with the reason
EXEMPT: dict[str, str] = {}
