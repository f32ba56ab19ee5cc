"""Where the kernel variants cross over, and what the in-kernel tanh saves.

Run:  python benchmarks/kernel_variants.py [--T 500]

1. Ratio (time of ``rows`` loops) / (time of per-step ``blas`` products) for forward + backward of the tanh elman
   cell over hidden widths m and rows B (one numba and one BLAS thread): > 1 means BLAS is faster. This is what
   ``rnnmem.rnn._pick_variant`` encodes (BLAS once rows * m >= 160 or m >= 64).
2. The kernels' branch-free ``tanh`` against the libm call numba makes for ``np.tanh``, on 512 000 values.
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np
import scipy.linalg  # noqa: F401  (load scipy's BLAS before limiting it)

import rnnmem  # noqa: F401
from rnnmem import _kernels as K


def best(fn, repeats=7):
    fn()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return min(ts)


@numba.njit
def _apply_kernel_tanh(x, out):
    for i in range(x.size):
        out[i] = K.tanh(x[i])


@numba.njit
def _apply_libm_tanh(x, out):
    for i in range(x.size):
        out[i] = np.tanh(x[i])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--T", type=int, default=500)
    args = p.parse_args()
    numba.set_num_threads(1)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass
    T, rows_list = args.T, [1, 2, 4, 8, 32, 128]
    print(f"rows/blas time ratio, forward + backward, T = {T} (> 1: BLAS faster)")
    print("    m \\ B " + "".join(f"{B:>7}" for B in rows_list))
    for m in (2, 4, 8, 16, 32, 48, 64):
        cells = []
        for B in rows_list:
            rng = np.random.default_rng(0)
            uxb = rng.normal(size=(T, B, m))
            W = 0.9 * rng.normal(size=(m, m)) / np.sqrt(m)
            wt = np.ascontiguousarray(W.T)[None]
            C = rng.normal(size=(1, 1, m))
            dy = rng.normal(size=(T, B, 1))
            s, dz, gz = np.empty_like(uxb), np.empty_like(uxb), np.empty_like(uxb)

            def run(fwd, bwd, uxb=uxb, wt=wt, W=W, C=C, dy=dy, s=s, dz=dz, gz=gz, B=B):
                fwd(wt, uxb, B, 0.0, 1.0, K.TANH, s, dz, True)
                bwd(W[None], C, dy, dz, B, 0.0, gz)

            t_rows = best(lambda run=run: run(K.forward_rows, K.backward_rows))
            t_blas = best(lambda run=run: run(K.forward_blas, K.backward_blas))
            cells.append(f"{t_rows / t_blas:7.2f}")
        print(f"{m:>9} " + "".join(cells))
    x = np.random.default_rng(1).normal(size=512_000) * 2
    out = np.empty_like(x)
    t_k = best(lambda: _apply_kernel_tanh(x, out), 10)
    t_l = best(lambda: _apply_libm_tanh(x, out), 10)
    print(f"tanh of 512000 values: kernel {t_k * 1e3:.2f} ms, numba np.tanh (libm) {t_l * 1e3:.2f} ms, "
          f"ratio {t_l / t_k:.1f}x")


if __name__ == "__main__":
    main()
