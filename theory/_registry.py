"""Registry of theory checks: the ``@check`` decorator, the run context and the result record.

Every module in the ``theory`` package whose name does not start with ``_`` is imported by
:func:`discover`; its ``@check``-decorated functions become checks of ``python -m theory``.

A check is a function ``fn(ctx: Context) -> Result``. It must size itself from ``ctx.quick`` / ``ctx.full``,
draw all randomness from ``ctx.rng(...)`` (so a rerun gives the same bits), write figures into ``ctx.figdir``
and return a :class:`Result` whose ``summary`` is the key figure printed in the verdict table.
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


@dataclass
class Result:
    """Outcome of one check.

    passed : whether the paper statement (or the expected finding) was reproduced.
    summary : one line, the key figure(s) printed next to PASS/FAIL.
    details : markdown paragraph(s) for report.md (what was measured, settings, differences from the paper).
    figures : file names (inside ``ctx.figdir``) of the figures the check wrote.
    data : JSON-serialisable numbers backing the verdict (written to results.json).
    """

    passed: bool
    summary: str
    details: str = ""
    figures: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


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

    def map(self, fn: Callable, items: Iterable) -> list:
        """Map ``fn`` over ``items`` on the executor if one was given, else serially (order kept)."""
        items = list(items)
        if self.executor is None or len(items) <= 1:
            return [fn(it) for it in items]
        return list(self.executor.map(fn, items))


@dataclass
class Check:
    name: str
    fn: Callable[[Context], Result]
    title: str
    statement: str
    expect_pass: bool = True
    order: int = 100


REGISTRY: dict[str, Check] = {}


def check(name: str, *, title: str, statement: str, expect_pass: bool = True, order: int = 100):
    """Register ``fn`` as the theory check ``name``.

    title : short human title; statement : the paper statement it tests (cited, with equation/figure numbers);
    expect_pass : False only for checks documented to fail (the exit code ignores their FAIL);
    order : position in the verdict table.
    """

    def deco(fn):
        if name in REGISTRY and REGISTRY[name].fn is not fn:
            raise RuntimeError(f"duplicate theory check name {name!r}")
        REGISTRY[name] = Check(name, fn, title, statement, expect_pass, order)
        return fn

    return deco


def discover() -> dict[str, Check]:
    """Import every public module of the ``theory`` package and return the registry sorted by order."""
    import theory

    for mod in pkgutil.iter_modules(theory.__path__):
        if not mod.name.startswith("_"):
            importlib.import_module(f"theory.{mod.name}")
    return dict(sorted(REGISTRY.items(), key=lambda kv: (kv[1].order, kv[0])))
