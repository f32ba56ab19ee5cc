"""Every ```python block of every docs page runs (the blocks of one page share a namespace, in order)."""

import contextlib
import io
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = sorted(p for p in DOCS.glob("*.md") if re.search(r"```python\n", p.read_text()))


def test_docs_have_runnable_examples():
    assert len(PAGES) >= 6


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_docs_examples_run(page, monkeypatch, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)  # examples that save files write them here
    ns: dict = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for block in re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S):
            exec(compile(block, str(page), "exec"), ns)
