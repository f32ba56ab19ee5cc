"""Run every Hypothesis test of the suite under many random seeds and report each failure with its seed.

The suite's tolerances come from error models, so it must pass under ANY Hypothesis seed (CI runs a derandomized
profile plus a few random seeds; users who run ``pytest`` get fresh examples every time). This script checks that
claim over many seeds::

    python tests/seed_sweep.py                  # the documented slow run: 20 random seeds
    python tests/seed_sweep.py --seeds 5 -j 2   # 5 seeds, two pytest processes at a time
    python tests/seed_sweep.py --seed-list 85 101 777   # replay given seeds
    python tests/seed_sweep.py -k test_rnn      # only tests matching a pytest -k expression

Each seed is one ``python -m pytest -m hypothesis --hypothesis-seed=N`` process (the "sweep" profile of
tests/conftest.py: no example database, so the run depends on N alone). Seeds are drawn from the operating system's
entropy unless ``--seed-list`` or ``--master-seed`` is given, and all are printed, so any failure can be replayed with
``pytest <test id> --hypothesis-seed=N``. Exit status 1 when any test failed or errored.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
_CHILDREN: list[subprocess.Popen] = []


def _stop_children(*_):
    for proc in _CHILDREN:
        if proc.poll() is None:
            proc.kill()
    raise SystemExit(130)


def run_seed(seed: int, marker: str, extra: list[str], workdir: Path, timeout: float) -> dict:
    xml = workdir / f"seed-{seed}.xml"
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", marker,
           f"--hypothesis-seed={seed}", f"--junitxml={xml}", *extra]
    env = dict(os.environ)
    env.pop("CI", None)  # the "ci" profile is derandomized; an explicit seed selects "sweep" anyway
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _CHILDREN.append(proc)
    try:
        out, _ = proc.communicate(timeout=timeout)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        out, rc = (out or "") + f"\nTIMEOUT after {timeout} s", -1
    wall = time.perf_counter() - t0
    tests, failed = 0, []
    if xml.exists():
        for case in ET.parse(xml).getroot().iter("testcase"):
            if case.find("skipped") is not None:
                continue
            tests += 1
            bad = case.find("failure")
            if bad is None:
                bad = case.find("error")
            if bad is not None:
                file = case.get("file") or case.get("classname", "").replace(".", "/") + ".py"
                lines = [ln.strip() for ln in (bad.get("message") or bad.text or "").splitlines() if ln.strip()]
                failed.append((f"{file}::{case.get('name')}", [" | ".join(lines[:4])]))
    if rc not in (0, 1) and not failed:  # pytest itself failed (collection error, timeout, crash)
        failed.append((f"<pytest exit status {rc}>", [out.strip().splitlines()[-1] if out.strip() else ""]))
    return dict(seed=seed, tests=tests, failed=failed, wall=wall, output=out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=20, help="number of random seeds (default 20)")
    ap.add_argument("--seed-list", type=int, nargs="+", help="run exactly these seeds")
    ap.add_argument("--master-seed", type=int, help="draw the seeds from this seed (reproducible seed list)")
    ap.add_argument("-j", "--jobs", type=int, default=1, help="pytest processes at a time (default 1)")
    ap.add_argument("-k", dest="keyword", help="pytest -k expression (default: every Hypothesis test)")
    ap.add_argument("--slow", action="store_true", help="include Hypothesis tests marked slow")
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds per seed (default 3600)")
    ap.add_argument("--show-output", action="store_true", help="print pytest's output of failing seeds")
    ap.add_argument("paths", nargs="*", help="test paths (default: the configured testpaths)")
    args = ap.parse_args(argv)

    if args.seed_list:
        seeds = list(args.seed_list)
    else:
        draw = (np.random.default_rng(args.master_seed).integers if args.master_seed is not None
                else lambda lo, hi: secrets.randbelow(hi - lo) + lo)
        seeds = [int(draw(0, 2**31)) for _ in range(args.seeds)]
    marker = "hypothesis" if args.slow else "hypothesis and not slow"
    extra = list(args.paths)
    if args.keyword:
        extra += ["-k", args.keyword]
    print(f"seed sweep: {len(seeds)} seeds, marker {marker!r}, {args.jobs} job(s); seeds: "
          + " ".join(map(str, seeds)), flush=True)

    signal.signal(signal.SIGTERM, _stop_children)  # a stopped sweep stops its pytest processes too
    signal.signal(signal.SIGINT, _stop_children)
    t0 = time.perf_counter()
    results = []
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(max(1, args.jobs)) as pool:
        futures = [pool.submit(run_seed, s, marker, extra, Path(tmp), args.timeout) for s in seeds]
        for fut in futures:
            r = fut.result()
            results.append(r)
            status = "ok" if not r["failed"] else f"{len(r['failed'])} FAILED"
            print(f"  seed {r['seed']:>10}: {r['tests']:3d} tests, {status}  ({r['wall']:.0f} s)", flush=True)
            for test, msg in r["failed"]:
                print(f"      FAIL {test}  (replay: python -m pytest '{test}' --hypothesis-seed={r['seed']})")
                if msg and msg[0]:
                    print(f"           {msg[0][:300]}")
            if r["failed"] and args.show_output:
                print(r["output"])
    wall = time.perf_counter() - t0
    n_fail = sum(len(r["failed"]) for r in results)
    runs = sum(r["tests"] for r in results)
    distinct = max((r["tests"] for r in results), default=0)
    print(f"seed sweep: {len(seeds)} seeds x {distinct} Hypothesis tests = {runs} test runs, {n_fail} failures, "
          f"wall {wall / 60:.1f} min")
    for r in results:
        for test, _ in r["failed"]:
            print(f"  FAILED seed={r['seed']} {test}")
    return 1 if n_fail or not runs else 0


if __name__ == "__main__":
    sys.exit(main())
