"""The gallery: every ``examples/*.py`` runs (at its small size) and writes its figure; the docs show each one.

Each example is run in this process (``runpy``, so the jitted kernels compile once for all of them) with
``RNNMEM_EXAMPLES_QUICK=1`` and an output path as its argument. A DeprecationWarning raised from rnnmem or the
example fails the test: the gallery must use the current names.
"""

import re
import runpy
import sys
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
GALLERY = ROOT / "docs" / "gallery.md"


def figure_name(example: Path) -> str:
    return f"gallery-{example.stem.replace('_', '-')}.png"


def test_there_is_a_gallery():
    assert len(EXAMPLES) >= 8
    assert any("from_torch" in p.read_text() for p in EXAMPLES), "one example must import torch weights"


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs_and_writes_its_figure(example, tmp_path, monkeypatch, capsys):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = tmp_path / figure_name(example)
    monkeypatch.setenv("RNNMEM_EXAMPLES_QUICK", "1")
    monkeypatch.setattr(sys, "argv", [str(example), str(out)])
    monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("an example called plt.show()"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DeprecationWarning)
        runpy.run_path(str(example), run_name="__main__")
    plt.close("all")
    ours = [w for w in caught if issubclass(w.category, DeprecationWarning)
            and re.search(r"(rnnmem|examples)[/\\]", str(w.filename))]
    assert not ours, [f"{w.filename}:{w.lineno}: {w.message}" for w in ours]
    assert out.stat().st_size > 10_000, "the figure is missing or empty"
    assert f"wrote {out}" in capsys.readouterr().out


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_is_documented_with_its_command_and_figure(example):
    text = example.read_text()
    assert text.startswith('"""'), "each example opens with a docstring: its title and what it shows"
    assert f"Run: ``python examples/{example.name}" in text
    assert figure_name(example) in text, "the default output is docs/figures/gallery-<name>.png"
    assert (ROOT / "docs" / "figures" / figure_name(example)).exists(), "regenerate it: python examples/<name>.py"
    page = GALLERY.read_text()
    assert f'--8<-- "examples/{example.name}"' in page, "docs/gallery.md includes the example's source"
    assert f"figures/{figure_name(example)}" in page, "docs/gallery.md shows the example's figure"
