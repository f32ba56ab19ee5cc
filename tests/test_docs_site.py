"""The documentation site: the strict MkDocs build, the API reference's coverage, figure names, printed outputs.

The build itself needs the ``docs`` extra (``pip install -e ".[docs]"``) and is skipped without it; the other tests
read the files and need nothing but rnnmem.
"""

import contextlib
import importlib.util
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

import rnnmem

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
API = DOCS / "api"
MKDOCS_YML = (ROOT / "mkdocs.yml").read_text()


def _missing_docs_tools() -> list[str]:
    return [m for m in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python")
            if importlib.util.find_spec(m.split(".")[0]) is None
            or (m == "mkdocstrings_handlers.python" and importlib.util.find_spec(m) is None)]


@pytest.mark.skipif(bool(_missing_docs_tools()), reason="the docs build needs the docs extra: "
                    "pip install -e \".[docs]\" (missing: " + ", ".join(_missing_docs_tools()) + ")")
def test_strict_build_passes(tmp_path):
    """``mkdocs build --strict``: any warning (broken link, page missing from the nav, unparsable docstring) fails."""
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True, timeout=900,
                          env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-8000:]
    html = (tmp_path / "site" / "api" / "rnn" / "index.html").read_text()
    assert "loss_and_grad" in html and "Markov parameters" in html     # the API pages have content


# ------------------------------------------------------------------------------------------------ coverage
def test_every_top_level_name_is_in_the_api_overview():
    page = (API / "index.md").read_text()
    missing = [n for n in rnnmem.__all__ if f"rm.{n}`" not in page and f"rnnmem.{n}`" not in page]
    assert not missing, f"add these names of rnnmem.__all__ to docs/api/index.md: {missing}"


def test_every_public_module_has_an_api_page_in_the_nav():
    modules = sorted(p.stem for p in (ROOT / "rnnmem").glob("*.py") if not p.stem.startswith("_"))
    for mod in modules:
        page = API / f"{mod}.md"
        assert page.exists() and f"::: rnnmem.{mod}" in page.read_text(), f"docs/api/{mod}.md must document it"
        assert f"api/{mod}.md" in MKDOCS_YML, f"api/{mod}.md is not in the nav of mkdocs.yml"


def test_every_page_is_in_the_nav_and_every_image_exists():
    for page in sorted(DOCS.rglob("*.md")):
        rel = page.relative_to(DOCS).as_posix()
        assert f" {rel}" in MKDOCS_YML, f"{rel} is not in the nav of mkdocs.yml"
        for target in re.findall(r"\]\((figures/[^)#]+)\)", page.read_text()):
            assert (page.parent / target).exists(), f"{rel} shows {target}, which does not exist"


# ------------------------------------------------------------------------------------------------ figure names
def test_figure_files_use_hyphens_only():
    bad = [p.name for p in (DOCS / "figures").iterdir() if "_" in p.name]
    assert not bad, f"figure names use hyphens, not underscores: {bad}"
    sources = [*ROOT.glob("theory/*.py"), *DOCS.glob("*.py"), *DOCS.glob("*.md"), *ROOT.glob("examples/*.py")]
    for src in sources:
        for name in re.findall(r"[\w./-]+\.png", src.read_text()):
            assert "_" not in Path(name).name, f"{src.relative_to(ROOT)} names the figure {name}"


# ------------------------------------------------------------------------------------------------ printed outputs
def _block_and_output(page: Path) -> tuple[str, str]:
    text = page.read_text()
    code = re.findall(r"```python\n(.*?)```", text, flags=re.S)[0]
    return code, text


@pytest.mark.parametrize("page", ["index.md"])  # errors.md: tests/test_docs.py compares all of its blocks' output
def test_printed_output_is_what_the_page_shows(page, monkeypatch, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    code, text = _block_and_output(DOCS / page)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, page, "exec"), {})
    printed = out.getvalue().strip().splitlines()
    shown = re.search(r"prints `([^`]+)`", text).group(1)
    assert printed == [shown]
