"""Outputs of a linear RNN: the recurrence ``rnn(x)`` against the Markov-parameter + FFT path ``rnn.convolve(x)``.

Run:  python benchmarks/linear_fft.py [--threads 1] [--T 100000] [--quick]

A stable linear elman model (W = 0.9 G/√m, d = p = 1, bias 0.1) and i.i.d. N(0, 1) inputs of B sequences of T steps.
``rnn(x)`` runs the recurrence with the calibrated kernel variant; ``rnn.convolve(x)`` computes the T Markov
parameters by baby and giant steps and convolves by FFT. Both in this process with numba and BLAS pinned to
``--threads``; best of ``--repeats`` calls after a warm-up call. Also printed: the largest difference of the two
outputs relative to max|y| (the FFT path is accurate norm-wise; see ``RNN.convolve``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CONFIGS = [(8, 1), (64, 1), (64, 16), (256, 1), (256, 16)]


def best(fn, repeats):
    fn()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return min(ts)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--T", type=int, default=100_000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="T = 10 000, one repeat")
    args = p.parse_args()
    T = 10_000 if args.quick else args.T
    repeats = 1 if args.quick else args.repeats

    import numba
    import scipy.linalg  # noqa: F401  (load scipy's BLAS before limiting it)
    from threadpoolctl import threadpool_limits

    import rnnmem as rm
    from rnnmem import rnn as rnn_module

    if hasattr(os, "sched_setaffinity"):  # the CPUs rnnmem plans its work for (rnnmem.rnn._plan_threads)
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:args.threads])
    numba.set_num_threads(args.threads)
    threadpool_limits(args.threads)
    print(f"threads: {args.threads} (numba, BLAS, CPU affinity); T = {T}; linear elman cell, d = p = 1; "
          f"best of {repeats}")
    print(f"{'(m, B)':>10} {'recurrence':>12} {'variant':>14} {'convolve':>10} {'speed-up':>9} "
          f"{'max|diff|/max|y|':>17}")
    for m, B in CONFIGS:
        rng = np.random.default_rng(m + B)
        W = 0.9 * rng.standard_normal((m, m)) / np.sqrt(m)
        model = rm.RNN(W, rng.standard_normal((m, 1)), 0.1 * rng.standard_normal(m),
                       rng.standard_normal((1, m)) / np.sqrt(m), activation="linear")
        x = rng.standard_normal((B, T, 1))
        t_rec = best(lambda model=model, x=x: model(x), repeats)
        t_fft = best(lambda model=model, x=x: model.convolve(x), repeats)
        y, y2 = model(x), model.convolve(x)
        err = np.abs(y - y2).max() / np.abs(y).max()
        variant = rnn_module._pick_variant("forward", m, B, T)
        print(f"{str((m, B)):>10} {t_rec * 1e3:10.1f}ms {variant:>14} {t_fft * 1e3:8.1f}ms {t_rec / t_fft:8.1f}x "
              f"{err:17.1e}")


if __name__ == "__main__":
    main()
