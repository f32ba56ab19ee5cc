"""Why rnnmem keeps every product on one BLAS thread: a multi-threaded OpenBLAS product slows the next recurrence.

Run:  python benchmarks/blas_spin.py [--threads 2] [--m 256] [--rows 32]

After a product on OpenBLAS's own threads, its idle worker threads keep spinning for a while (about 0.1 s by
default: ``OPENBLAS_THREAD_TIMEOUT``) instead of sleeping. On a machine with few cores they take the cores that a
following multi-threaded computation needs. This script times one forward pass of the ``blas-parallel`` recurrence
(rows split over ``--threads`` threads, one BLAS thread each; m units, ``--rows`` rows, 100 steps) right after a
1000 × 1000 DGEMM on the BLAS's own threads, with pauses of 0 to 0.5 s in between, and the same pass after a DGEMM
on one BLAS thread. Best of 5 per cell, µs per step.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--m", type=int, default=256)
    p.add_argument("--rows", type=int, default=32)
    args = p.parse_args()
    from rnnmem import _calibrate, rnn
    from rnnmem import _kernels as K

    T, m, rows = 100, args.m, args.rows
    P = _calibrate._problem(m, rows, T, np.random.default_rng(0))
    A = np.random.default_rng(1).standard_normal((1000, 1000))

    def recurrence():
        rnn._launch("forward", "blas-parallel", (P["wt"], P["uxb"], P["b"], rows, 0.0, 1.0, K.TANH, P["s"], P["dz"],
                                                 True), rows, args.threads, args.threads)

    recurrence()
    blas = [f"{lc.internal_api} {lc.version} threads={lc.num_threads}" for lc in rnn._blas_controllers()]
    print(f"blas-parallel forward, m = {m}, rows = {rows}, T = {T}, {args.threads} threads; BLAS: {'; '.join(blas)}")
    print(f"{'pause after the DGEMM':>22} {'DGEMM on BLAS threads':>22} {'DGEMM on one thread':>20}")
    for pause in (0.0, 0.01, 0.05, 0.2, 0.5):
        cells = []
        for mode in (rnn._own_blas_threads, rnn._one_blas_thread):
            best = np.inf
            for _ in range(5):
                with mode():
                    A @ A
                time.sleep(pause)
                t0 = time.perf_counter()
                recurrence()
                best = min(best, time.perf_counter() - t0)
            cells.append(best / T * 1e6)
        print(f"{pause:>20.2f} s {cells[0]:>19.1f} µs {cells[1]:>17.1f} µs")


if __name__ == "__main__":
    main()
