"""Every ```python block of every docs page runs (the blocks of one page share a namespace, in order), and on the
pages listed in CHECKED the printed output is the one the page shows, number by number.

Numbers are compared to a relative 5 % (values below 1e-9 count as rounding noise and only need to be small on
both sides): a figure that depends on the order of a floating-point sum (BLAS kernels differ between CPUs) may move
in its last digits, anything larger is a page that no longer tells the truth.
"""

import contextlib
import importlib.util
import io
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = sorted(p for p in DOCS.glob("*.md") if re.search(r"```python\n", p.read_text()))
#: pages whose first printed-output block ("Output …:" or "prints …" above a fence) is checked against a run
CHECKED = {"errors.md", "implicit_bias.md", "linear_measures.md", "stability.md", "training.md", "models.md"}
_OUTPUT = re.compile(r"\n(?:Output|prints)[^\n]*\n\n```[a-z]*\n(.*?)```", re.S)
_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def test_docs_have_runnable_examples():
    assert len(PAGES) >= 6


def _same(got: str, shown: str) -> bool:
    """Equal text between the numbers (whitespace collapsed) and numbers within 5 % or both below 1e-9."""
    norm = lambda s: " ".join(s.split())  # noqa: E731
    g_nums, s_nums = _NUMBER.findall(got), _NUMBER.findall(shown)
    if norm(_NUMBER.sub("#", got)) != norm(_NUMBER.sub("#", shown)) or len(g_nums) != len(s_nums):
        return False
    for a, b in zip(map(float, g_nums), map(float, s_nums), strict=True):
        if not (abs(a - b) <= 0.05 * max(abs(a), abs(b)) or max(abs(a), abs(b)) < 1e-9):
            return False
    return True


def test_the_comparison_can_fail():
    assert _same("loss 1.000e-01 (60 epochs) [1. 2.5]", "loss 1.02e-01 (60 epochs) [1.  2.5]")
    assert _same("3.7e-15", "1.1e-16")
    assert not _same("loss 1.000e-01", "loss 1.2e-01")
    assert not _same("exponential 0.42", "polynomial 0.42")
    assert not _same("[1 2 3]", "[1 2]")


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_docs_examples_run(page, monkeypatch, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)  # examples that save files write them here
    ns: dict = {}
    out = io.StringIO()
    text = page.read_text()
    with contextlib.redirect_stdout(out):
        for block in re.findall(r"```python\n(.*?)```", text, flags=re.S):
            exec(compile(block, str(page), "exec"), ns)
    if page.name not in CHECKED:
        return
    shown = _OUTPUT.search(text).group(1).strip().splitlines()
    got = out.getvalue().strip().splitlines()
    if page.name == "models.md" and importlib.util.find_spec("torch") is None:
        shown = [s for s in shown if not s.startswith("same outputs as torch")]  # the torch-only line
    assert len(got) == len(shown), f"{page.name} prints\n" + "\n".join(got)
    for g, s in zip(got, shown, strict=True):
        assert _same(g, s), f"{page.name} prints\n  {g}\nbut shows\n  {s}"
