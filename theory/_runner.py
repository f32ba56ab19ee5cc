"""Command line and runner of ``python -m theory``: verdict table, report.md, results.json, resume."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import traceback
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path

from theory._registry import Check, Context, Result, discover

RESULTS = "results.json"


def _load(out: Path) -> dict:
    path = out / RESULTS
    if path.exists():
        try:
            return json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            return {}
    return {}


def _save(out: Path, results: dict) -> None:
    tmp = out / (RESULTS + ".tmp")
    tmp.write_text(json.dumps(results, indent=1, sort_keys=True, default=float))
    os.replace(tmp, out / RESULTS)


def _json_safe(obj):
    """Make numpy scalars/arrays and non-finite floats JSON-friendly."""
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _json_safe(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return v if np.isfinite(v) else ("inf" if v > 0 else "-inf" if v < 0 else "nan")
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def _run_one(chk: Check, ctx: Context) -> dict:
    t0 = time.perf_counter()
    try:
        res = chk.fn(ctx)
        if not isinstance(res, Result):
            raise TypeError(f"check {chk.name} returned {type(res).__name__}, expected theory.Result")
        rec = {
            "status": res.status,
            "summary": res.summary,
            "details": res.details,
            "figures": list(res.figures),
            "controls": [{"name": c.name, "premise_removed": c.premise_removed, "status": c.status,
                          "summary": c.summary} for c in res.controls],
            "data": _json_safe(res.data),
        }
        if res.seeds:
            rec["seeds"] = {str(k): ("PASS" if v else "FAIL") for k, v in res.seeds.items()}
        if not res.controls:
            rec["summary"] += " [declares no negative control]"
    except Exception as exc:  # a crash is an ERROR, never a scientific verdict
        rec = {
            "status": "ERROR",
            "summary": f"error: {type(exc).__name__}: {exc}"[:300],
            "details": "```\n" + traceback.format_exc() + "```",
            "figures": [],
            "controls": [],
            "data": {},
        }
    rec.update(
        seconds=round(time.perf_counter() - t0, 2),
        size=ctx.size,
        seed=ctx.seed,
        expected=chk.expect,
        title=chk.title,
        statement=chk.statement,
    )
    return rec


def _controls_cell(rec: dict) -> str:
    """``controls 2/2 FAIL`` (all failed, as they must), or which passed."""
    ctrls = rec.get("controls") or []
    if not ctrls:
        return "no controls"
    passed = [c["name"] for c in ctrls if c["status"] != "FAIL"]
    if not passed:
        return f"controls {len(ctrls)}/{len(ctrls)} FAIL"
    return f"controls PASSED: {', '.join(passed)}"


def _line(name: str, rec: dict, width: int) -> str:
    return f"{name:<{width}}  {rec['status']:<7}  {rec['summary']}  [{_controls_cell(rec)}]"


def _write_report(out: Path, checks: dict[str, Check], results: dict, header: str) -> Path:
    lines = ["# rnnmem theory report", "", header, "",
             "States: PASS (reproduced), FINDING (the statement as worded is refuted; the corrected one reproduced), "
             "FAIL (not reproduced), VACUOUS (a negative control passed too), ERROR (the check raised).", ""]
    lines += ["| check | state | expected | key figure | controls | seconds |", "|---|---|---|---|---|---|"]
    for name in checks:
        if name in results:
            r = results[name]
            cell = r["summary"].replace("|", "\\|")  # a literal | would split the markdown table cell
            lines.append(f"| `{name}` | {r['status']} | {r.get('expected', 'PASS')} | {cell} | "
                         f"{_controls_cell(r)} | {r['seconds']} |")
    for name, chk in checks.items():
        if name not in results:
            continue
        r = results[name]
        lines += ["", f"## `{name}` — {chk.title}", "", f"**Statement tested.** {chk.statement}", ""]
        lines += [f"**Verdict: {r['status']}** (expected {r.get('expected', 'PASS')}) — {r['summary']} "
                  f"({r['seconds']} s, size `{r['size']}`)", ""]
        if r.get("controls"):
            lines += ["**Negative controls** (each must FAIL):", ""]
            lines += [f"- `{c['name']}` — {c['premise_removed']}: **{c['status']}** — {c['summary']}"
                      for c in r["controls"]]
            lines += [""]
        if r.get("seeds"):
            lines += ["**Seeds:** " + ", ".join(f"{k}: {v}" for k, v in r["seeds"].items()), ""]
        if r.get("details"):
            lines += [r["details"], ""]
        for fig in r.get("figures", []):
            lines += [f"![{name}](figures/{fig})", ""]
        lines += [f"Rerun: `python -m theory --only {name}" + (" --quick`" if r["size"] == "quick" else "`"), ""]
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def exit_code(results: dict) -> int:
    """0 when every check has its expected state; 2 on any ERROR; else 1 (a FAIL, VACUOUS or other mismatch)."""
    if any(r["status"] == "ERROR" for r in results.values()):
        return 2
    if any(r["status"] != r.get("expected", "PASS") for r in results.values()):
        return 1
    return 0


def run(
    names: list[str] | None = None,
    *,
    quick: bool = False,
    full: bool = False,
    out: str | Path = "theory-report",
    seed: int = 0,
    executor: Executor | None = None,
    resume: bool = True,
    stream=None,
) -> dict:
    """Run theory checks and write ``report.md``, ``figures/`` and ``results.json`` into ``out``.

    Parameters
    ----------
    names : checks to run (default: all).
    quick, full : run size (smallest, used by the test suite / largest).
    out : output folder.
    seed : base seed of every check's randomness.
    executor : any ``concurrent.futures.Executor`` for heavy sweeps (e.g. a Dask client's ``get_executor()``).
    resume : reuse results of checks already finished in ``out`` with the same size and seed.

    Returns the results dict (name -> record) of the checks that were asked for.
    """
    import matplotlib

    matplotlib.use("Agg")
    stream = stream or sys.stdout
    checks = discover()
    if names:
        unknown = [n for n in names if n not in checks]
        if unknown:
            raise SystemExit(f"unknown check(s) {unknown}; known: {', '.join(checks)}")
        checks = {n: checks[n] for n in checks if n in names}
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ctx = Context(quick=quick, full=full, out=out, seed=seed, executor=executor)
    stored = _load(out) if resume else {}
    width = max([len(n) for n in checks] + [5])
    done: dict = {}
    for name, chk in checks.items():
        prev = stored.get(name)
        if prev and prev.get("size") == ctx.size and prev.get("seed") == seed and prev.get("status") != "ERROR" \
                and prev.get("expected") == chk.expect:
            rec = dict(prev, resumed=True)
        else:
            rec = _run_one(chk, ctx)
            stored[name] = rec
            _save(out, stored)
        done[name] = rec
        print(_line(name, rec, width) + ("  (resumed)" if rec.get("resumed") else ""), file=stream, flush=True)
    header = (
        f"Size `{ctx.size}`, seed {seed}; Python {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} CPUs. Generated by `python -m theory"
        + (" --quick" if quick else "") + (" --full" if full else "") + "`."
    )
    all_checks = discover()
    report = _write_report(out, {n: all_checks[n] for n in all_checks if n in stored}, stored, header)
    print(f"report: {report}", file=stream)
    return done


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m theory", description=__doc__)
    p.add_argument("--quick", action="store_true", help="smallest sizes (seconds; used by the test suite)")
    p.add_argument("--full", action="store_true", help="the papers' sizes where they differ from the defaults")
    p.add_argument("--only", action="append", default=[], metavar="NAME",
                   help="run only NAME (repeatable, or a comma list)")
    p.add_argument("--out", default="theory-report", help="output folder (default: theory-report)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=0, help="processes for heavy sweeps (default: 0 = in-process)")
    p.add_argument("--dask", metavar="ADDRESS", help="run heavy sweeps on a Dask distributed scheduler")
    p.add_argument("--fresh", action="store_true", help="ignore finished checks saved in --out")
    p.add_argument("--list", action="store_true", help="list the checks and exit")
    a = p.parse_args(argv)
    if a.quick and a.full:
        p.error("--quick and --full are exclusive")
    if a.list:
        for name, chk in discover().items():
            print(f"{name:<28} {chk.title}")
        return 0
    names = [n for item in a.only for n in item.split(",") if n] or None
    executor: Executor | None = None
    if a.dask:
        from dask.distributed import Client  # optional extra: pip install rnnmem[dask]

        executor = Client(a.dask).get_executor()
    elif a.workers > 1:
        executor = ProcessPoolExecutor(max_workers=a.workers)
    try:
        results = run(names, quick=a.quick, full=a.full, out=a.out, seed=a.seed, executor=executor, resume=not a.fresh)
    finally:
        if isinstance(executor, ProcessPoolExecutor):
            executor.shutdown()
    code = exit_code(results)
    unexpected = [f"{n} ({r['status']}, expected {r.get('expected', 'PASS')})" for n, r in results.items()
                  if r["status"] != r.get("expected", "PASS")]
    if unexpected:
        print(f"unexpected state: {', '.join(unexpected)}", file=sys.stderr)
    return code
