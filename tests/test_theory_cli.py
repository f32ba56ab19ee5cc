"""The ``python -m theory`` contract: verdict table, report, results.json, exit code, --only, resume."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import theory
from theory import _registry, _runner

ROOT = Path(__file__).resolve().parents[1]


def _ctrl(passed=False):
    return [theory.Control("ctl", "premise removed", passed, "c = 0")]


@pytest.fixture
def fake_registry(monkeypatch):
    calls = []
    reg = {}

    def ok(ctx):
        calls.append("ok")
        return theory.Result(True, "x = 1.00 | |y| < 2", details="fine", data={"x": 1.0, "arr": [float("inf")]},
                             controls=_ctrl())

    def bad(ctx):
        calls.append("bad")
        return theory.Result(False, "x = 2.00", controls=_ctrl())

    def finding(ctx):
        calls.append("finding")
        return theory.Result(True, "counterexample", refuted=True, controls=_ctrl())

    def vacuous(ctx):
        calls.append("vacuous")
        return theory.Result(True, "holds everywhere", controls=_ctrl(True))

    def crash(ctx):
        calls.append("crash")
        raise RuntimeError("boom")

    for name, fn, expect in (("ok", ok, "PASS"), ("bad", bad, "PASS"), ("finding", finding, "FINDING"),
                             ("vacuous", vacuous, "PASS"), ("crash", crash, "PASS")):
        reg[name] = _registry.Check(name, fn, name.title(), "statement", expect)
    monkeypatch.setattr(_runner, "discover", lambda: dict(reg))
    return calls


def test_runner_contract(tmp_path, fake_registry, capsys):
    code = _runner.main(["--quick", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 2  # "crash" is an ERROR
    lines = {ln.split()[0]: ln.split()[1] for ln in out.splitlines() if ln and not ln.startswith("report")}
    assert lines == {"ok": "PASS", "bad": "FAIL", "finding": "FINDING", "vacuous": "VACUOUS", "crash": "ERROR"}
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["crash"]["summary"].startswith("error: RuntimeError: boom")
    assert results["ok"]["data"] == {"x": 1.0, "arr": ["inf"]}
    assert results["ok"]["controls"] == [{"name": "ctl", "premise_removed": "premise removed", "status": "FAIL",
                                          "summary": "c = 0"}]
    assert results["vacuous"]["controls"][0]["status"] == "PASS"
    assert {r["expected"] for r in results.values()} == {"PASS", "FINDING"}
    report = (tmp_path / "report.md").read_text()
    assert "| `ok` | PASS | PASS | x = 1.00 \\| \\|y\\| < 2 | controls 1/1 FAIL |" in report
    # resume: nothing re-runs except the ERROR, which is never resumed
    fake_registry.clear()
    assert _runner.main(["--quick", "--out", str(tmp_path)]) == 2
    assert fake_registry == ["crash"]
    assert "(resumed)" in capsys.readouterr().out
    # --only runs just that check; --fresh ignores saved results
    fake_registry.clear()
    assert _runner.main(["--quick", "--out", str(tmp_path), "--only", "ok", "--fresh"]) == 0
    assert fake_registry == ["ok"]
    assert _runner.main(["--quick", "--out", str(tmp_path), "--only", "finding"]) == 0  # FINDING as expected
    assert _runner.main(["--quick", "--out", str(tmp_path), "--only", "bad"]) == 1
    assert _runner.main(["--quick", "--out", str(tmp_path), "--only", "vacuous"]) == 1
    # a different size is not resumed
    fake_registry.clear()
    _runner.main(["--out", str(tmp_path), "--only", "ok,finding"])
    assert fake_registry == ["ok", "finding"]


def test_a_check_without_controls_is_vacuous():
    assert theory.Result(True, "x").status == "VACUOUS"
    assert theory.Result(False, "x").status == "FAIL"
    assert theory.Result(True, "x", controls=_ctrl(), refuted=True).status == "FINDING"


def test_unknown_check_is_a_usage_error_with_suggestions(tmp_path, fake_registry, capsys):
    assert _runner.main(["--out", str(tmp_path), "--only", "finidng"]) == 2
    err = capsys.readouterr().err
    assert "unknown check 'finidng' (did you mean finding?)" in err and "--list" in err and "Traceback" not in err
    assert _runner.main(["--out", str(tmp_path), "--only", "ok,nope"]) == 2
    assert "unknown check 'nope'" in capsys.readouterr().err
    assert fake_registry == []  # nothing ran
    with pytest.raises(_runner.UsageError, match="did you mean"):
        theory.run(["crsh"], out=tmp_path)


@pytest.mark.parametrize(("argv", "message"), [
    (["--quick", "--full"], "exclusive"),
    (["--workers", "-1"], "--workers must be >= 0"),
    (["--workers", "2", "--dask", "local"], "exclusive"),
    (["--dask", "local:zero"], "local:N"),  # checked before dask is imported: the same message without dask
    (["--dask", "local:"], "local:N"),
    (["--bogus"], "unrecognized arguments"),
    (["--seed", "x"], "invalid int value"),
])
def test_usage_errors_exit_2_without_traceback(tmp_path, fake_registry, capsys, argv, message):
    assert _runner.main(argv + ["--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert fake_registry == []


def test_unusable_out_folder_is_a_usage_error(tmp_path, fake_registry, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert _runner.main(["--out", str(afile)]) == 2
    assert f"--out {afile} is a file" in capsys.readouterr().err
    assert _runner.main(["--out", str(afile / "sub")]) == 2  # cannot be created
    assert "cannot create the output folder" in capsys.readouterr().err
    if os.geteuid() != 0:  # root may write anywhere
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
        assert _runner.main(["--out", str(ro)]) == 2
        assert "not writable" in capsys.readouterr().err
    assert fake_registry == []


def test_dask_missing_is_a_usage_error(tmp_path, fake_registry, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # as if the dask extra were not installed
    assert _runner.main(["--dask", "local:2", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "pip install 'rnnmem[dask]'" in err and "Traceback" not in err


def test_help_is_plain_text_and_documents_exit_codes(capsys):
    with pytest.raises(SystemExit):
        _runner._parser().parse_args(["--help"])
    text = capsys.readouterr().out
    assert "``" not in text and ":func:" not in text
    for code in ("0 ", "1 ", "2 ", "130"):
        assert f"\n  {code}" in text
    helps = {a.dest: a.help for a in _runner._parser()._actions}
    assert all(helps.values()), [d for d, h in helps.items() if not h]
    assert "seed" in helps["seed"]


def test_fresh_and_only_keep_the_other_records(tmp_path, fake_registry):
    _runner.main(["--quick", "--out", str(tmp_path)])
    before = json.loads((tmp_path / "results.json").read_text())
    assert _runner.main(["--quick", "--out", str(tmp_path), "--only", "ok", "--fresh"]) == 0
    after = json.loads((tmp_path / "results.json").read_text())
    assert set(after) == set(before) == {"ok", "bad", "finding", "vacuous", "crash"}
    assert {n: r for n, r in after.items() if n != "ok"} == {n: r for n, r in before.items() if n != "ok"}


def test_progress_lines_announce_each_check_with_the_last_run_time(tmp_path, fake_registry, capsys):
    _runner.main(["--quick", "--out", str(tmp_path), "--only", "ok,bad"])
    err = capsys.readouterr().err
    assert "theory: 2 check(s) to run at size quick" in err
    assert "[1/2] ok ... (first run)" in err and "[2/2] bad ... (first run)" in err
    results = json.loads((tmp_path / "results.json").read_text())
    results["bad"]["seconds"] = 12.5
    (tmp_path / "results.json").write_text(json.dumps(results))
    results["crash"] = dict(results["bad"], status="ERROR", seconds=3.25)
    (tmp_path / "results.json").write_text(json.dumps(results))
    _runner.main(["--quick", "--out", str(tmp_path), "--only", "ok,bad,crash"])  # an ERROR is never resumed
    cap = capsys.readouterr()
    assert "[1/1] crash ... (last run 3.2 s)" in cap.err and "2 resumed" in cap.err
    assert "the last run took 3.2 s" in cap.err and "ok ... " not in cap.err
    table = {ln.split()[0]: ln for ln in cap.out.splitlines() if ln.split()[0] in ("ok", "bad", "crash")}
    assert table["ok"].endswith("(resumed)") and table["crash"].rstrip().endswith(" s")
    _runner.main(["--quick", "--out", str(tmp_path), "--only", "bad", "--fresh"])
    assert "[1/1] bad ... (last run 12.5 s)" in capsys.readouterr().err


def test_interrupt_exits_130_and_keeps_the_finished_checks(tmp_path, monkeypatch, capsys):
    def ok(ctx):
        return theory.Result(True, "fine", controls=_ctrl())

    def interrupted(ctx):
        raise KeyboardInterrupt

    reg = {"ok": _registry.Check("ok", ok, "Ok", "s"), "stop": _registry.Check("stop", interrupted, "Stop", "s")}
    monkeypatch.setattr(_runner, "discover", lambda: dict(reg))
    assert _runner.main(["--quick", "--out", str(tmp_path)]) == 130
    assert "rerun the same command to resume" in capsys.readouterr().err
    assert set(json.loads((tmp_path / "results.json").read_text())) == {"ok"}


def test_context_rng_is_reproducible():
    ctx = theory.Context(seed=3)
    assert ctx.rng(1).integers(1 << 60) == theory.Context(seed=3).rng(1).integers(1 << 60)
    assert ctx.rng(1).integers(1 << 60) != ctx.rng(2).integers(1 << 60)
    assert theory.Context(quick=True).pick(1, 2, 3) == 1 and theory.Context(full=True).pick(1, 2, 3) == 3


def test_python_m_theory_quick_passes(tmp_path):
    """The real checks at --quick size, as a user runs them: exit 0, one line per check, a report with figures."""
    env = dict(os.environ, MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, "-m", "theory", "--quick", "--out", str(tmp_path)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    print(proc.stdout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # the registry as a fresh process sees it (docs examples run in this process may register their own checks)
    listing = subprocess.run([sys.executable, "-m", "theory", "--list"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout
    checks = [ln.split()[0] for ln in listing.splitlines() if ln.strip()]
    table = [ln for ln in proc.stdout.splitlines() if ln.split() and ln.split()[0] in checks]
    assert len(table) == len(checks) >= 1
    results = json.loads((tmp_path / "results.json").read_text())
    assert set(results) == set(checks)
    for name, rec in results.items():
        assert rec["status"] == rec["expected"], (name, rec["status"], rec["summary"])
        assert rec["controls"] and all(c["status"] == "FAIL" for c in rec["controls"]), (name, rec["controls"])
        for fig in rec["figures"]:
            assert (tmp_path / "figures" / fig).stat().st_size > 1000, (name, fig)
    assert (tmp_path / "report.md").read_text().count("## `") == len(checks)


def _square(v):
    return v * v


def test_heavy_sweeps_run_on_a_process_executor(tmp_path, monkeypatch):
    seen = {}

    def sweep(ctx):
        seen["executor"] = type(ctx.executor).__name__
        return theory.Result(ctx.map(_square, range(5)) == [0, 1, 4, 9, 16], "mapped", controls=_ctrl())

    reg = {"sweep": _registry.Check("sweep", sweep, "Sweep", "statement")}
    monkeypatch.setattr(_runner, "discover", lambda: dict(reg))
    assert _runner.main(["--quick", "--out", str(tmp_path), "--workers", "2"]) == 0
    assert seen["executor"] == "ProcessPoolExecutor"


@pytest.mark.slow
def test_python_m_theory_default_size_passes(tmp_path):
    """The main job at its default size (about 2 minutes on 2 cores): `pytest -m slow`."""
    proc = subprocess.run([sys.executable, "-m", "theory", "--out", str(tmp_path)], cwd=ROOT,
                          env=dict(os.environ, MPLBACKEND="Agg"), capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    assert all(r["status"] == r["expected"] for r in results.values())
