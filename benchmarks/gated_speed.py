"""GRU/LSTM forward + BPTT against PyTorch, and DiagonalSSM outputs by FFT against its own sequential recurrence.

Run:  python benchmarks/gated_speed.py [--threads 1] [--repeats 5] [--rounds 3] [--quick] [--variants]

* GRU and LSTM (one layer, d = 1 input, float64, CPU): one forward pass plus the exact gradients of sum(dy * y) with
  respect to every parameter and the input. ``rnnmem`` = ``net.vjp(x, dy)``; ``torch`` = ``nn.GRU``/``nn.LSTM``
  forward + ``backward`` (autograd). Each peer runs in its own process (their thread pools and BLAS builds must not
  share one), with numba, BLAS (threadpoolctl) and torch pinned to ``--threads``. The two workers alternate for
  ``--rounds`` rounds and every time is the best over all rounds and repeats, so both see the same machine load.
* DiagonalSSM outputs at T = 10^5 (B = 8, d = p = 1, N states): ``ssm(x, method="fft")`` against
  ``ssm(x, method="scan")`` (the sequential recurrence, vectorised over the states), in one process.
* ``--variants``: the per-variant times (rows / parallel / blas / blas-parallel) of GRU/LSTM vjp beside the variants
  that ``rnnmem.gated._pick_variant`` chooses (the calibration of ``rnnmem._calibrate``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the checkout's rnnmem, also in the worker processes (no install needed)
CONFIGS = [(16, 32, 1000), (128, 32, 1000)]
QUICK_CONFIGS = [(16, 32, 200), (128, 32, 100)]
SSM_NS = [64, 256, 1024, 4096]
TARGETS = {(16, 32, 1000): 3.0, (128, 32, 1000): 1.2}


def best_time(fn, repeats, budget=60.0):
    times = []
    t_start = time.perf_counter()
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if time.perf_counter() - t_start > budget:
            break
    return min(times)


def problem(H, B, T, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((B, T, 1)), rng.standard_normal((B, T, H))


def pin_threads(n):
    """The process to its first n CPUs (what rnnmem plans its work for), numba and every loaded BLAS to n threads
    (load scipy's BLAS first: numba's np.dot uses it)."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:n])
    import numba
    import scipy.linalg  # noqa: F401

    import rnnmem  # noqa: F401

    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    from threadpoolctl import threadpool_limits

    threadpool_limits(n)


def rnnmem_worker(args):
    pin_threads(args.threads)
    import rnnmem as rm

    out = {}
    for kind in ("gru", "lstm"):
        cls = rm.GRU if kind == "gru" else rm.LSTM
        for H, B, T in json.loads(args.configs):
            x, dy = problem(H, B, T)
            net = cls.random(H, 1, rng=0)
            net.vjp(x[:, :3], dy[:, :3])  # compile / load outside the timing
            out[f"{kind},{H},{B},{T}"] = best_time(lambda net=net, x=x, dy=dy: net.vjp(x, dy), args.repeats)
    print(json.dumps(out))


def torch_worker(args):
    import torch

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    out = {"version": torch.__version__}
    for kind in ("gru", "lstm"):
        cls = torch.nn.GRU if kind == "gru" else torch.nn.LSTM
        for H, B, T in json.loads(args.configs):
            x, dy = problem(H, B, T)
            mod = cls(1, H, batch_first=True).double()
            xt, dyt = torch.from_numpy(x), torch.from_numpy(dy)

            def step(mod=mod, xt=xt, dyt=dyt):
                xx = xt.clone().requires_grad_(True)
                mod.zero_grad()
                y, _ = mod(xx)
                (y * dyt).sum().backward()

            step()
            out[f"{kind},{H},{B},{T}"] = best_time(step, args.repeats)
    print(json.dumps(out))


def run_worker(flag, args, configs):
    env = dict(os.environ, NUMBA_NUM_THREADS=str(args.threads), OMP_NUM_THREADS=str(args.threads),
               OPENBLAS_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    out = subprocess.run([sys.executable, __file__, flag, "--threads", str(args.threads), "--repeats",
                          str(args.repeats), "--configs", json.dumps(configs)],
                         capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def ssm_table(args):
    pin_threads(args.threads)
    import rnnmem as rm

    T, B = (20_000, 8) if args.quick else (100_000, 8)
    print(f"\nDiagonalSSM outputs, T = {T}, B = {B}, d = p = 1 (one process, {args.threads} thread(s))")
    print(f"{'N':>6} {'scan':>12} {'fft':>12} {'fft speed-up':>14} {'max|fft − scan| / max|y|':>26}")
    x = np.random.default_rng(1).standard_normal((B, T, 1))
    for N in SSM_NS:
        ssm = rm.DiagonalSSM.random(N, rng=0)
        ssm(x[:, :300], method="scan"), ssm(x[:, :300], method="fft")
        t_scan = best_time(lambda ssm=ssm: ssm(x, method="scan"), max(1, args.repeats // 2))
        t_fft = best_time(lambda ssm=ssm: ssm(x, method="fft"), args.repeats)
        ys, yf = ssm(x, method="scan"), ssm(x, method="fft")
        err = np.abs(ys - yf).max() / np.abs(ys).max()
        print(f"{N:>6} {t_scan * 1e3:10.1f}ms {t_fft * 1e3:10.1f}ms {t_scan / t_fft:13.1f}x {err:26.1e}")


def variants_table(args):
    pin_threads(args.threads)
    import rnnmem as rm
    from rnnmem import gated

    names = ("rows", "parallel", "blas", "blas-parallel")
    print(f"\nvariants (vjp, T = 1000, {args.threads} thread(s)); picked (forward / backward): the calibrated choice "
          "of the cell's kernels")
    print(f"{'kind':>5} {'H':>4} {'B':>4} " + " ".join(f"{v:>13}" for v in names) + "  picked")
    for kind, cls in (("gru", rm.GRU), ("lstm", rm.LSTM)):
        for H in (4, 8, 16, 32, 64):
            for B in (1, 4, 32):
                x, dy = problem(H, B, 1000)
                net = cls.random(H, 1, rng=0)
                row = []
                for v in names:
                    gated._FORCE_VARIANT = v
                    net.vjp(x[:, :3], dy[:, :3])
                    row.append(best_time(lambda net=net, x=x, dy=dy: net.vjp(x, dy), args.repeats))
                gated._FORCE_VARIANT = None
                G = net.gates * H
                picked = " / ".join(gated._pick_variant(d, kind, H, B, 1000, G) for d in ("forward", "backward"))
                print(f"{kind:>5} {H:>4} {B:>4} " + " ".join(f"{t * 1e3:11.2f}ms" for t in row) + f"  {picked}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    p.add_argument("--variants", action="store_true", help="also print the per-variant times")
    p.add_argument("--no-ssm", action="store_true", help="skip the DiagonalSSM table")
    p.add_argument("--rnnmem-worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--configs", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.rnnmem_worker:
        return rnnmem_worker(args)
    if args.torch_worker:
        return torch_worker(args)
    configs = QUICK_CONFIGS if args.quick else CONFIGS
    import importlib.util

    have_torch = importlib.util.find_spec("torch") is not None
    ours, theirs, version = {}, {}, None
    for _ in range(args.rounds):
        for k, v in run_worker("--rnnmem-worker", args, configs).items():
            ours[k] = min(v, ours.get(k, np.inf))
        if have_torch:
            res = run_worker("--torch-worker", args, configs)
            version = res.pop("version")
            for k, v in res.items():
                theirs[k] = min(v, theirs.get(k, np.inf))
    print(f"threads: {args.threads} (numba, BLAS via threadpoolctl, torch set_num_threads; env *_NUM_THREADS); "
          f"best of {args.rounds} alternating rounds × {args.repeats} repeats")
    print(f"torch {version} in its own process" if have_torch else "torch not installed: torch column omitted")
    print(f"{'model':>5} {'(H, B, T)':>16} {'rnnmem':>11} {'torch':>11} {'speed-up':>9} {'target':>7}")
    for kind in ("gru", "lstm"):
        for H, B, T in configs:
            key = f"{kind},{H},{B},{T}"
            t_rm, t_th = ours[key], theirs.get(key, float("nan"))
            target = TARGETS.get((H, B, T))
            tgt = f"≥{target:.1f}x" if target else "-"
            sp = f"{t_th / t_rm:8.2f}x" if t_th == t_th else f"{'-':>9}"
            th = f"{t_th * 1e3:9.1f}ms" if t_th == t_th else f"{'-':>11}"
            print(f"{kind:>5} {str((H, B, T)):>16} {t_rm * 1e3:9.1f}ms {th} {sp} {tgt:>7}")
    if not args.no_ssm:
        ssm_table(args)
    if args.variants:
        variants_table(args)


if __name__ == "__main__":
    main()
