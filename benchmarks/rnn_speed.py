"""Forward + BPTT wall time of rnnmem against NumPy baselines and PyTorch CPU, measured in the same run.

Run:  python benchmarks/rnn_speed.py [--threads 1] [--repeats 5] [--quick]

For each (m, B, T) it times one forward pass plus the exact gradients of sum(dy * y) with respect to every
parameter and the input (tanh elman cell, d = p = 1, float64), reporting the best of ``--repeats`` runs:

* ``rnnmem``        — ``RNN.vjp`` (Numba kernels; compiled once before timing),
* ``numpy-batched`` — a pure-NumPy loop over time, vectorised over the batch (a fair NumPy baseline),
* ``naive``         — the loop-over-batch-and-time reference of ``tests/naive.py`` (the test oracle),
* ``torch``         — ``torch.nn.RNN`` + bias-free ``Linear`` readout, float64, autograd, in its own process
  (mixing torch's and numba's thread pools in one process distorts both); only when torch is installed.

Thread counts are pinned for all of them: numba (``numba.set_num_threads``), BLAS (threadpoolctl) and torch
(``set_num_threads``). It also reports the first-call cost of the kernels: compiling into an empty cache, and
loading from the on-disk cache, each in a fresh process.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CONFIGS = [(8, 1, 10000), (16, 32, 1000), (64, 32, 1000), (256, 32, 1000)]
QUICK_CONFIGS = [(8, 1, 2000), (16, 32, 200), (64, 32, 200), (256, 32, 100)]


def problem(m, B, T, seed=0):
    rng = np.random.default_rng(seed)
    W = 0.9 * rng.standard_normal((m, m)) / np.sqrt(m)
    U = rng.standard_normal((m, 1))
    b = 0.1 * rng.standard_normal(m)
    C = rng.standard_normal((1, m)) / np.sqrt(m)
    x = rng.standard_normal((B, T, 1))
    dy = rng.standard_normal((B, T, 1))
    return W, U, b, C, x, dy


def best_time(fn, repeats, budget=30.0):
    """Best wall time of ``fn()`` over ``repeats`` runs (fewer if one run exceeds the budget)."""
    times = []
    t_start = time.perf_counter()
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if time.perf_counter() - t_start > budget:
            break
    return min(times)


def numpy_batched_vjp(W, U, b, C, x, dy):
    """Forward + BPTT of the elman tanh cell, loop over time, vectorised over the batch (pure NumPy)."""
    B, T, _ = x.shape
    m = W.shape[0]
    H = np.empty((T, B, m))
    h = np.zeros((B, m))
    xt = np.ascontiguousarray(x.transpose(1, 0, 2))
    ux = xt @ U.T + b
    for k in range(T):
        h = np.tanh(h @ W.T + ux[k])
        H[k] = h
    dyt = np.ascontiguousarray(dy.transpose(1, 0, 2))
    gd = dyt @ C
    GZ = np.empty_like(H)
    g = np.zeros((B, m))
    for k in range(T - 1, -1, -1):
        g = gd[k] + (GZ[k + 1] @ W if k < T - 1 else 0.0)
        GZ[k] = (1.0 - H[k] ** 2) * g
    gW = GZ[1:].reshape(-1, m).T @ H[:-1].reshape(-1, m)
    gU = GZ.reshape(-1, m).T @ xt.reshape(-1, 1)
    gb = GZ.reshape(-1, m).sum(0)
    gC = dyt.reshape(-1, 1).T @ H.reshape(-1, m)
    gx = GZ @ U
    return gW, gU, gb, gC, gx


def pin_threads(n):
    """Pin numba's and every loaded BLAS's thread count (import everything first: threadpoolctl only limits
    libraries that are already loaded, and numba's np.dot uses scipy's OpenBLAS, not numpy's)."""
    import numba
    import scipy.linalg  # noqa: F401  (loads scipy's BLAS)

    import rnnmem  # noqa: F401

    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n)
        return "threadpoolctl"
    except ImportError:
        return "unpinned (pip install threadpoolctl)"


def torch_worker(args):
    """Runs in its own process: times torch.nn.RNN forward+backward and prints JSON."""
    import torch

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    out = {"version": torch.__version__}
    for m, B, T in json.loads(args.configs):
        W, U, b, C, x, dy = problem(m, B, T)
        net = torch.nn.RNN(1, m, nonlinearity="tanh", batch_first=True).double()
        ro = torch.nn.Linear(m, 1, bias=False).double()
        with torch.no_grad():
            net.weight_hh_l0.copy_(torch.from_numpy(W))
            net.weight_ih_l0.copy_(torch.from_numpy(U))
            net.bias_ih_l0.copy_(torch.from_numpy(b))
            net.bias_hh_l0.zero_()
            ro.weight.copy_(torch.from_numpy(C))
        xt = torch.from_numpy(x)
        dyt = torch.from_numpy(dy)

        def step(net=net, ro=ro, xt=xt, dyt=dyt):
            xx = xt.clone().requires_grad_(True)
            net.zero_grad()
            ro.zero_grad()
            h, _ = net(xx)
            (ro(h) * dyt).sum().backward()

        step()
        out[f"{m},{B},{T}"] = best_time(step, args.repeats)
    print(json.dumps(out))


def compile_cost():
    """First-call time of RNN.vjp in fresh processes: empty Numba cache, then warm cache."""
    code = ("import time; t=time.perf_counter(); import numpy as np, rnnmem as rm; t1=time.perf_counter(); "
            "r=rm.RNN.random(8, rng=0); x=np.ones((1,5,1)); r.vjp(x, x); "
            "r2=rm.RNN.random(64, rng=0); r2.vjp(x, x); print(t1-t, time.perf_counter()-t1)")
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        res = []
        for _ in range(2):
            out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
            res.append([float(v) for v in out.stdout.split()])
    return res


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    p.add_argument("--no-naive", action="store_true", help="skip the slow tests/naive.py reference")
    p.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--configs", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    configs = QUICK_CONFIGS if args.quick else CONFIGS
    if args.torch_worker:
        return torch_worker(args)

    pinned = pin_threads(args.threads)
    import rnnmem as rm

    sys.path.insert(0, str(HERE.parent / "tests"))
    import naive

    cold, warm = compile_cost()
    print(f"threads: {args.threads} (numba + BLAS via {pinned}; torch set_num_threads)")
    print(f"first call (fresh process, empty numba cache): import {cold[0]:.2f} s, compile+run {cold[1]:.2f} s")
    print(f"first call (fresh process, warm numba cache):  import {warm[0]:.2f} s, load+run {warm[1]:.2f} s")

    torch_times = {}
    try:
        import importlib.util

        if importlib.util.find_spec("torch") is not None:
            out = subprocess.run(
                [sys.executable, __file__, "--torch-worker", "--threads", str(args.threads), "--repeats",
                 str(args.repeats), "--configs", json.dumps(configs)],
                capture_output=True, text=True, check=True)
            torch_times = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"torch {torch_times.pop('version')} in its own process")
        else:
            print("torch not installed: torch column omitted")
    except subprocess.CalledProcessError as exc:
        print(f"torch worker failed: {exc.stderr[-500:]}")

    hdr = f"{'(m, B, T)':>16} {'rnnmem':>10} {'numpy-batched':>14} {'naive':>10} {'torch':>10}   speed-up of rnnmem vs"
    print(hdr)
    for m, B, T in configs:
        W, U, b, C, x, dy = problem(m, B, T)
        model = rm.RNN(W, U, b, C)
        model.vjp(x[:, :3], dy[:, :3])  # compile outside the timing
        t_rm = best_time(lambda model=model, x=x, dy=dy: model.vjp(x, dy), args.repeats)
        t_np = best_time(lambda W=W, U=U, b=b, C=C, x=x, dy=dy: numpy_batched_vjp(W, U, b, C, x, dy), args.repeats)
        if args.no_naive:
            t_nv = float("nan")
        else:
            t_nv = best_time(
                lambda W=W, U=U, b=b, C=C, x=x, dy=dy: naive.vjp(W, U, b, C, None, x, dy, "elman", "tanh", 1.0),
                1 if B * T > 5000 else args.repeats, budget=5.0)
        t_th = torch_times.get(f"{m},{B},{T}", float("nan"))

        def ms(t, width, digits=2):
            return f"{t * 1e3:{width}.{digits}f}ms" if t == t else f"{'-':>{width + 2}}"

        def ratio(t, width, base=t_rm):
            return f"{t / base:{width}.1f}x" if t == t else f"{'-':>{width + 1}}"

        ratios = f"numpy-batched {ratio(t_np, 6)}, naive {ratio(t_nv, 7)}, torch {ratio(t_th, 6)}"
        print(f"{str((m, B, T)):>16} {ms(t_rm, 8)} {ms(t_np, 12)} {ms(t_nv, 8, 1)} {ms(t_th, 8)}   {ratios}")


if __name__ == "__main__":
    main()
