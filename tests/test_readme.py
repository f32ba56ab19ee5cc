"""The README's usage example runs, and its two commands are the ones .ci/run and the docs use."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _python_blocks(text):
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_example_runs(capsys):
    blocks = _python_blocks((ROOT / "README.md").read_text())
    assert blocks, "README has no python example"
    for code in blocks:
        assert len([ln for ln in code.splitlines() if ln.strip()]) <= 12
        exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "(8, 200, 1) 0.0304 exponential 0.402 0.394" in out


def test_readme_commands_match_ci():
    readme = (ROOT / "README.md").read_text()
    assert 'pip install -e . && python -m theory' in readme
    assert 'pip install -e ".[test]" && pytest' in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'pip install -e ".[test]"' in ci and "pytest" in ci
