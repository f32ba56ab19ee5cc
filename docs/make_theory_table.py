"""Write the recorded verdict table of docs/theory.md from a run's results.json.

    python -m theory --fresh --out theory-report          # the default run (its wall time is printed at the end)
    python docs/make_theory_table.py theory-report/results.json --wall "2 min 10 s"

The lines between the markers ``<!-- verdict-table:start -->`` and ``<!-- verdict-table:end -->`` of
docs/theory.md are replaced by the verdict lines exactly as ``python -m theory`` prints them, with the machine, the
seed, the size and the wall time in the sentence above them. Nothing else in the page changes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

PAGE = Path(__file__).resolve().parent / "theory.md"
sys.path.insert(0, str(PAGE.parents[1]))  # run from anywhere: the repository's theory package

from theory._runner import _line, discover  # noqa: E402

START, END = "<!-- verdict-table:start -->", "<!-- verdict-table:end -->"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", type=Path, help="results.json of a `python -m theory` run")
    ap.add_argument("--wall", required=True, help="the run's wall time as printed at its end, e.g. '2 min 10 s'")
    args = ap.parse_args(argv)
    results = json.loads(args.results.read_text())
    if not isinstance(results, dict) or not results:
        raise SystemExit(f"{args.results} holds no records")
    sizes = sorted({r.get("size", "?") for r in results.values()})
    seeds = sorted({str(r.get("seed", "?")) for r in results.values()})
    width = max(map(len, results))
    order = [n for n in discover() if n in results] + sorted(set(results) - set(discover()))  # the run's order
    lines = [_line(name, results[name], width) for name in order]
    states = [r["status"] for r in results.values()]
    counts = ", ".join(f"{states.count(s)} {s}" for s in ("PASS", "FINDING", "FAIL", "VACUOUS", "ERROR")
                       if states.count(s))
    block = (f"{START}\n`python -m theory --fresh` (size {', '.join(sizes)}, seed {', '.join(seeds)}) on "
             f"{cpu_model()}, {os.cpu_count()} cores: {args.wall} wall, {len(lines)} checks ({counts}); regenerate "
             f"with `python docs/make_theory_table.py theory-report/results.json --wall ...`. The key figures of the "
             f"trained and sampled checks move in their last digits across CPUs and BLAS builds (summation order); "
             f"the states do not (`tests/test_theory_threads.py`).\n\n```text\n" + "\n".join(lines) + f"\n```\n{END}")
    text = PAGE.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"{PAGE} lacks the markers {START} … {END}")
    head, rest = text.split(START, 1)
    new = head + block + rest.split(END, 1)[1]
    fd, tmp = tempfile.mkstemp(dir=PAGE.parent, suffix=".md")
    with os.fdopen(fd, "w") as fh:
        fh.write(new)
    os.replace(tmp, PAGE)
    print(f"wrote {len(lines)} verdict lines into {PAGE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
