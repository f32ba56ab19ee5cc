"""The kernel calibration of this machine, and what the in-kernel tanh saves.

Run:  python benchmarks/kernel_variants.py [--threads 1]

1. Runs the calibration of ``rnnmem._calibrate`` into a fresh, temporary cache (so it measures, whatever is cached)
   with numba and BLAS pinned to ``--threads``, and prints its cost, the time per step of every kernel variant on the
   grid of hidden widths m and rows (forward and backward; ``-``: variant not applicable), the size from which the
   products outside the recurrence are split over the threads, and the resulting choices for some sizes.
2. The kernels' branch-free ``tanh`` against the libm call numba makes for ``np.tanh``: throughput on 512 000
   values, and latency along a chain of 10^7 dependent calls x <- 1.5 tanh(x) + 0.3 (what a recurrence of one
   narrow sequence waits for at every step).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def best(fn, repeats=7):
    fn()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return min(ts)


@numba.njit
def _apply_libm_tanh(x, out):
    for i in range(x.size):
        out[i] = np.tanh(x[i])


@numba.njit
def _chain_libm_tanh(x, n):
    for _ in range(n):
        x = 1.5 * np.tanh(x) + 0.3
    return x


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    import scipy.linalg  # noqa: F401  (load scipy's BLAS before limiting it)
    from threadpoolctl import threadpool_limits

    if hasattr(os, "sched_setaffinity"):  # the CPUs rnnmem plans its work for (rnnmem.rnn._plan_threads)
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:args.threads])
    numba.set_num_threads(args.threads)
    threadpool_limits(args.threads)
    from rnnmem import _calibrate
    from rnnmem import _kernels as K

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["RNNMEM_CACHE_DIR"] = tmp
        data = _calibrate.table(args.threads, recalibrate=True)
        print("calibration failed" if data is None else _calibrate.report(data, args.threads))

    @numba.njit
    def apply_kernel_tanh(x, out):
        for i in range(x.size):
            out[i] = K.tanh(x[i])

    x = np.random.default_rng(1).normal(size=512_000) * 2
    out = np.empty_like(x)
    t_k = best(lambda: apply_kernel_tanh(x, out), 10)
    t_l = best(lambda: _apply_libm_tanh(x, out), 10)
    print(f"tanh of 512000 values: kernel {t_k * 1e3:.2f} ms, numba np.tanh (libm) {t_l * 1e3:.2f} ms, "
          f"ratio {t_l / t_k:.1f}x")

    @numba.njit
    def chain_kernel_tanh(x, n):
        for _ in range(n):
            x = 1.5 * K.tanh(x) + 0.3
        return x

    n = 10_000_000
    l_k = best(lambda: chain_kernel_tanh(0.1, n), 3) / n
    l_l = best(lambda: _chain_libm_tanh(0.1, n), 3) / n
    print(f"tanh latency (chain of {n} dependent calls): kernel {l_k * 1e9:.1f} ns, numba np.tanh (libm) "
          f"{l_l * 1e9:.1f} ns per call")


if __name__ == "__main__":
    main()
