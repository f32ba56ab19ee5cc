"""No verdict of ``python -m theory`` may depend on the number of threads.

The kernels choose their variant (serial rows, numba's parallel layer, BLAS, threaded BLAS) by a run-time
calibration that depends on the thread count, and BLAS sums in another order with more threads: the numbers move in
their last bits. A verdict that flips with them would be a verdict about the machine, not about the paper.
``tests/test_theory_cli.py::test_python_m_theory_quick_passes`` runs ``--quick`` with the machine's threads and
requires every check in its expected state; this test runs it again pinned to ONE thread (numba, OpenMP, OpenBLAS,
MKL) and requires the same states — so both runs give the same statuses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ONE_THREAD = {v: "1" for v in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


def test_quick_statuses_on_one_thread_are_the_expected_ones(tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg", **ONE_THREAD)
    proc = subprocess.run([sys.executable, "-m", "theory", "--quick", "--out", str(tmp_path)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    results = json.loads((tmp_path / "results.json").read_text())
    wrong = {name: (rec["status"], rec["expected"], rec["summary"]) for name, rec in results.items()
             if rec["status"] != rec["expected"]}
    assert not wrong, f"with one thread these checks changed state: {wrong}"
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    for name, rec in results.items():
        assert all(c["status"] == "FAIL" for c in rec["controls"]), (name, rec["controls"])
