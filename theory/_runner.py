"""Command line and runner of ``python -m theory``: verdict table, report.md, results.json, resume, executors."""

from __future__ import annotations

import argparse
import difflib
import json
import os
import platform
import sys
import time
import traceback
from concurrent.futures import Executor
from pathlib import Path

from rnnmem.sweep import SweepError, atomic_write, move_aside
from theory._registry import STATES, Check, Context, Result, discover

RESULTS = "results.json"

#: exit codes of ``python -m theory``
EXIT_OK, EXIT_FAIL, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130

DESCRIPTION = """\
Run the executable checks of the papers' statements and print one verdict line per check:
NAME  STATE  key figure  [negative controls]  seconds.

STATE is PASS (reproduced), FINDING (the statement as worded is refuted, the corrected one
reproduced), FAIL (not reproduced), VACUOUS (a negative control passed too) or ERROR (the
check raised). The run writes OUT/report.md, OUT/figures/*.png and OUT/results.json; each
finished check is saved at once, so an interrupted run resumes where it stopped (ERRORs rerun)."""

EPILOG = """\
exit codes:
  0    every check ended in its expected state (PASS, or FINDING where one is expected)
  1    a check ended FAIL or VACUOUS, or otherwise not in its expected state
  2    a check raised (ERROR), or a usage error (unknown check, unwritable --out, no dask...)
  130  interrupted (Ctrl-C); the finished checks are saved and a rerun resumes

examples:
  python -m theory --quick                  smallest sizes, seconds per check
  python -m theory --only fig1-exp,fig1-pol --out /tmp/r
  python -m theory --workers 2              heavy loops on 2 local processes
  python -m theory --dask local:2           ... on a 2-worker Dask LocalCluster
  python -m theory --dask tcp://host:8786   ... on a running Dask scheduler"""


class UsageError(ValueError):
    """A request the runner cannot carry out (unknown check, unusable output folder, missing dask...)."""


# ---------------------------------------------------------------------------------------------- results.json
_REQUIRED = {"status": str, "summary": str, "size": str, "seconds": (int, float)}


def _record_problem(rec) -> str | None:
    """Why a results.json record cannot be used, or None."""
    if not isinstance(rec, dict):
        return f"a {type(rec).__name__}, not a record"
    for key, typ in _REQUIRED.items():
        if not isinstance(rec.get(key), typ):
            return f"no {key!r}" if key not in rec else f"{key!r} is a {type(rec[key]).__name__}"
    if rec["status"] not in STATES:
        return f"unknown status {rec['status']!r}"
    return None


def _load(out: Path, say) -> dict:
    """The valid records of ``out/results.json`` ({} when there is none).

    Never treats a damaged file as empty: a file that is not JSON or not a {name: record} object is moved aside
    (``results.json.bad-<time>``) and the run says so; a file with some malformed records is copied aside and only
    its valid records are kept. An unreadable file (permissions) stops the run with a UsageError.
    """
    path = out / RESULTS
    if not path.exists():
        return {}
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        problem = f"not UTF-8 text ({exc.reason})"
    except OSError as exc:
        raise UsageError(f"cannot read {path} ({exc.strerror}); fix its permissions, or pass another --out") from exc
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            problem = f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}; truncated?)"
        else:
            if isinstance(data, dict):
                bad = {name: why for name, rec in data.items() if (why := _record_problem(rec))}
                if not bad:
                    return data
                backup = path.with_name(f"{RESULTS}.bad-{time.strftime('%Y%m%d-%H%M%S')}")
                atomic_write(backup, path.read_bytes())
                say(f"warning: {path}: {len(bad)} malformed record(s) "
                    f"({'; '.join(f'{n}: {w}' for n, w in list(bad.items())[:5])}) are not resumed; the file was "
                    f"copied to {backup.name}; the {len(data) - len(bad)} valid record(s) are kept")
                return {name: rec for name, rec in data.items() if name not in bad}
            problem = f"a JSON {type(data).__name__}, not an object of check records"
    backup = move_aside(path)
    say(f"warning: {path} is {problem}: moved to {backup.name}; no previous results are resumed")
    return {}


def _save(out: Path, results: dict) -> None:
    atomic_write(out / RESULTS, json.dumps(results, indent=1, sort_keys=True, default=float).encode())


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
        kind, msg = type(exc).__name__, str(exc)
        if isinstance(exc, SweepError) and exc.errors:  # raised in a worker by Context.map: name the worker's error
            first = next(iter(exc.errors.values()))
            kind, msg = first.type, first.message
        rec = {
            "status": "ERROR",
            "summary": f"error: {kind}: {(msg.splitlines() or [''])[0]}"[:300],
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


# ----------------------------------------------------------------------------------------------------- report
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
    return f"{name:<{width}}  {rec['status']:<7}  {rec['summary']}  [{_controls_cell(rec)}]  {rec['seconds']:.1f} s"


def _duration(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 60 else f"{int(seconds // 60)} min {seconds % 60:.0f} s"


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
    atomic_write(path, ("\n".join(lines) + "\n").encode())
    return path


def exit_code(results: dict) -> int:
    """0 when every check has its expected state; 2 on any ERROR; else 1 (a FAIL, VACUOUS or other mismatch)."""
    if any(r["status"] == "ERROR" for r in results.values()):
        return EXIT_ERROR
    if any(r["status"] != r.get("expected", "PASS") for r in results.values()):
        return EXIT_FAIL
    return EXIT_OK


# -------------------------------------------------------------------------------------------------------- run
def _select(checks: dict[str, Check], names: list[str] | None) -> dict[str, Check]:
    if not names:
        return checks
    unknown = [n for n in names if n not in checks]
    if unknown:
        msgs = []
        for n in unknown:
            close = [c for c in checks if c.startswith(n)]
            close += [c for c in difflib.get_close_matches(n, list(checks), n=3, cutoff=0.6) if c not in close]
            close = close[:5]
            msgs.append(f"unknown check {n!r}" + (f" (did you mean {', '.join(close)}?)" if close else ""))
        raise UsageError("; ".join(msgs) + " — `python -m theory --list` lists the checks")
    return {n: checks[n] for n in checks if n in names}


def _prepare_out(out) -> Path:
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; pass a folder (it is created if missing)")
    try:
        (out / "figures").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create the output folder --out {out} ({exc.strerror}); pass a writable "
                         "folder") from exc
    if not os.access(out, os.W_OK) or not os.access(out / "figures", os.W_OK):
        raise UsageError(f"the output folder --out {out} is not writable; pass a writable folder")
    return out


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
    progress=None,
) -> dict:
    """Run theory checks and write ``report.md``, ``figures/`` and ``results.json`` into ``out``.

    Parameters
    ----------
    names : checks to run (default: all).
    quick, full : run size (smallest, used by the test suite / largest).
    out : output folder.
    seed : base seed of every check's randomness.
    executor : any ``concurrent.futures.Executor`` for the checks' heavy loops (``Context.map``): a spawn
        ``ProcessPoolExecutor``, a ``ThreadPoolExecutor``, a Dask client or its ``get_executor()``...
    resume : reuse the records of checks already finished in ``out`` with the same size, seed and expected state
        (ERRORs are always rerun). Records of checks not run now are always kept.
    stream : where the verdict lines go (default: stdout).
    progress : where a line announcing each check (with the last run's time as an estimate) goes (default:
        stderr, or ``stream`` when one is given).

    Returns
    -------
    dict
        The results (name -> record) of the checks that were asked for.

    Raises
    ------
    UsageError
        For an unknown check name or an unusable output folder.
    """
    import matplotlib

    matplotlib.use("Agg")
    progress = progress or (stream if stream is not None else sys.stderr)
    stream = stream or sys.stdout

    def say(msg: str) -> None:
        print(msg, file=progress, flush=True)

    checks = _select(discover(), names)
    out = _prepare_out(out)
    ctx = Context(quick=quick, full=full, out=out, seed=seed, executor=executor)
    stored = _load(out, say)
    width = max([len(n) for n in checks] + [5])

    def reusable(name: str, chk: Check) -> bool:
        prev = stored.get(name)
        return bool(resume and prev and prev.get("size") == ctx.size and prev.get("seed") == seed
                    and prev["status"] != "ERROR" and prev.get("expected") == chk.expect)

    todo = [n for n, c in checks.items() if not reusable(n, c)]
    estimate = sum(stored[n]["seconds"] for n in todo if n in stored and stored[n].get("size") == ctx.size)
    say(f"theory: {len(todo)} check(s) to run at size {ctx.size}, seed {seed}"
        + (f", {len(checks) - len(todo)} resumed from {out / RESULTS}" if len(todo) < len(checks) else "")
        + (f"; the last run took {_duration(estimate)} for those timed" if estimate else ""))
    done: dict = {}
    k = 0
    for name, chk in checks.items():
        if name in todo:
            k += 1
            prev = stored.get(name)
            last = f"last run {_duration(prev['seconds'])}" if prev and prev.get("size") == ctx.size else "first run"
            say(f"[{k}/{len(todo)}] {name} ... ({last})")
            rec = _run_one(chk, ctx)
            stored[name] = rec
            _save(out, stored)
        else:
            rec = dict(stored[name], resumed=True)
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


# ------------------------------------------------------------------------------------------------- executors
def _limit_threads(threads: int) -> None:
    """Worker initializer: ``threads`` numba and BLAS threads per worker process (no oversubscription)."""
    import numba

    from rnnmem import _blas

    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    for lib in _blas.controllers():  # rnnmem's own BLAS control (threadpoolctl is optional)
        lib.set_num_threads(max(1, threads))


def process_pool(workers: int):
    """A ``ProcessPoolExecutor`` of ``workers`` spawned processes (fork is unsafe under numba's OpenMP layer),
    each limited to ``cpu_count // workers`` numba and BLAS threads."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    threads = max(1, (os.cpu_count() or 1) // workers)
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_limit_threads,
                               initargs=(threads,))


def dask_client(address: str):
    """A ``dask.distributed.Client``: ``"local"`` / ``"local:N"`` starts a LocalCluster of N single-threaded worker
    processes (default: one per CPU), any other address connects to a running scheduler."""
    local = address == "local" or address.startswith("local:")
    n = address.partition(":")[2] if local else ""
    if local and address != "local" and not (n.isdigit() and int(n) > 0):  # reported with or without dask
        raise UsageError(f"--dask {address}: expected local or local:N with N a positive worker count")
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:
        raise UsageError("--dask needs dask.distributed, an optional extra: pip install 'rnnmem[dask]' "
                         f"({exc})") from exc
    if local:
        workers = int(n) if n else (os.cpu_count() or 1)
        threads = str(max(1, (os.cpu_count() or 1) // workers))
        env = {v: threads for v in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                    "MKL_NUM_THREADS")}
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                               env=env)
        return Client(cluster)
    try:
        return Client(address, timeout=30)
    except (OSError, TimeoutError, ValueError) as exc:
        raise UsageError(f"cannot connect to the Dask scheduler at {address!r} ({type(exc).__name__}: {exc}); "
                         "start one (`dask scheduler`, `dask worker ADDRESS`) or use --dask local[:N]") from exc


def _close(executor, client, *, interrupted: bool = False) -> None:
    """Close what main() opened; after an interrupt, stop the local workers without waiting for their tasks."""
    if client is not None:
        cluster = client.cluster
        client.close()
        if cluster is not None:
            cluster.close()
    elif executor is not None:
        executor.shutdown(wait=not interrupted, cancel_futures=True)
        if interrupted:
            for proc in list((getattr(executor, "_processes", None) or {}).values()):
                proc.terminate()


# ------------------------------------------------------------------------------------------------------- main
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m theory", description=DESCRIPTION, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smallest sizes (seconds per check; used by the test suite)")
    p.add_argument("--full", action="store_true", help="the papers' sizes where they differ from the defaults")
    p.add_argument("--only", action="append", default=[], metavar="NAME",
                   help="run only NAME (repeatable, or a comma-separated list); see --list")
    p.add_argument("--out", default="theory-report", metavar="DIR",
                   help="output folder for report.md, figures/ and results.json (default: theory-report)")
    p.add_argument("--seed", type=int, default=0,
                   help="base seed of all randomness: the same seed gives the same numbers (default: 0)")
    p.add_argument("--workers", type=int, default=0, metavar="N",
                   help="run the checks' heavy loops on N local worker processes (default: 0, in this process)")
    p.add_argument("--dask", metavar="ADDRESS",
                   help="run the heavy loops on Dask: a scheduler address (tcp://host:8786), or local[:N] to start "
                        "a LocalCluster of N workers (needs the dask extra)")
    p.add_argument("--fresh", action="store_true",
                   help="rerun the selected checks even if --out holds their finished records")
    p.add_argument("--list", action="store_true", help="list the checks and exit")
    return p


def main(argv: list[str] | None = None) -> int:
    """``python -m theory``; returns the exit code (see ``--help``)."""
    p = _parser()
    try:
        a = p.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors (0 for --help)
        return int(exc.code or 0)
    if a.quick and a.full:
        p.print_usage(sys.stderr)
        print("python -m theory: error: --quick and --full are exclusive", file=sys.stderr)
        return EXIT_ERROR
    if a.list:
        for name, chk in discover().items():
            print(f"{name:<28} {chk.title}")
        return EXIT_OK
    names = [n.strip() for item in a.only for n in item.split(",") if n.strip()] or None
    executor = client = None
    interrupted = False
    try:
        if a.workers < 0:
            raise UsageError(f"--workers must be >= 0, got {a.workers}")
        if a.dask and a.workers:
            raise UsageError("--workers and --dask are exclusive (use --dask local:N for N local Dask workers)")
        _select(discover(), names)  # unknown names fail before a cluster starts
        _prepare_out(a.out)
        if a.dask:
            client = dask_client(a.dask)
            executor = client.get_executor()
        elif a.workers:
            executor = process_pool(a.workers)
        results = run(names, quick=a.quick, full=a.full, out=a.out, seed=a.seed, executor=executor,
                      resume=not a.fresh)
    except UsageError as exc:
        print(f"python -m theory: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        interrupted = True
        print(f"\ninterrupted: the finished checks are saved in {Path(a.out) / RESULTS}; rerun the same command to "
              "resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        _close(executor, client, interrupted=interrupted)
    unexpected = [f"{n} ({r['status']}, expected {r.get('expected', 'PASS')})" for n, r in results.items()
                  if r["status"] != r.get("expected", "PASS")]
    if unexpected:
        print(f"unexpected state: {', '.join(unexpected)}", file=sys.stderr)
    return exit_code(results)
