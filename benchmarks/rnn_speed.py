"""Forward + BPTT of rnnmem against PyTorch, JAX and a batched-NumPy loop, with GFLOP/s against a DGEMM measured
in the same run.

Run:  python benchmarks/rnn_speed.py [--threads 1,2] [--rounds 3] [--repeats 3] [--quick]

For each (m, B, T) every peer computes, in float64, the tanh elman cell h_k = tanh(W h_{k-1} + U x_k + b),
y_k = C h_k (d = p = 1) forward and the exact gradients of sum(dy * y) with respect to W, U, b, C and the input x:

* ``rnnmem``  — ``RNN.vjp`` (Numba kernels, the calibrated variant; the worker recalibrates at its start, so the
  choices reflect this run's machine and load, then compiles and warms before timing),
* ``torch``   — ``torch.nn.RNN`` + bias-free ``Linear`` readout, autograd (when torch is installed),
* ``jax``     — ``lax.scan`` of the same cell under ``jax.value_and_grad``, ``jax.jit``, x64 (when jax is installed),
* ``numpy``   — a loop over time vectorised over the batch, forward and backward written out (pure NumPy).

Each peer runs in its own process, pinned to the same first ``threads`` CPUs (``sched_setaffinity``, which also
sizes XLA's thread pool) with its own thread knobs set to ``threads`` (numba and every BLAS via threadpoolctl;
torch ``set_num_threads``; XLA's Eigen pool off at 1 thread). The driver asks the peers in turn, config by config,
for ``--rounds`` rounds of ``--repeats`` timed calls each, so a burst of load from other processes hits all of them;
the table reports each peer's best call. The DGEMM rate (n = 2048, numpy's BLAS, best of 3) is measured the same way
at 1 and 2 threads; the bound of a config is its flop count divided by the DGEMM rate at the run's thread count.

Flops of one forward + BPTT: the matrix products only, 6 m (m + d + p) per step and sequence (W h, U x, C h forward;
Cᵀ dy, Wᵀ gz, Σ gz hᵀ, Σ gz xᵀ, Σ dy hᵀ, Uᵀ gz backward), so 12.7 GFLOP at (256, 32, 1000).

It also reports what a first use costs, each in a fresh process: compiling the kernels into an empty numba cache
(plus the calibration, whose cache lives beside it), the calibration alone (numba cache warm), and loading both.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CONFIGS = [(8, 1, 10000), (16, 32, 1000), (64, 32, 1000), (256, 32, 1000)]
QUICK_CONFIGS = [(8, 1, 2000), (16, 32, 200), (64, 32, 200), (256, 32, 100)]
PEERS = ("rnnmem", "torch", "jax", "numpy")
#: the goals of the speed issue: rnnmem at least this many times faster than (torch, jax)
GOALS = {(8, 1, 10000): (50, 5), (16, 32, 1000): (5, 2), (64, 32, 1000): (2, 1.5), (256, 32, 1000): (1.5, 1.2)}
DGEMM_N = 2048


def flops(m, B, T, d=1, p=1):
    return 6.0 * m * (m + d + p) * B * T


def problem(m, B, T, seed=0):
    rng = np.random.default_rng(seed)
    W = 0.9 * rng.standard_normal((m, m)) / np.sqrt(m)
    U = rng.standard_normal((m, 1))
    b = 0.1 * rng.standard_normal(m)
    C = rng.standard_normal((1, m)) / np.sqrt(m)
    x = rng.standard_normal((B, T, 1))
    dy = rng.standard_normal((B, T, 1))
    return W, U, b, C, x, dy


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# ----------------------------------------------------------------------------------------------------- workers
def pin(threads):
    """Restrict this process to the first ``threads`` CPUs it may use (before any library starts its threads)."""
    if hasattr(os, "sched_setaffinity"):
        cpus = sorted(os.sched_getaffinity(0))[:threads]
        os.sched_setaffinity(0, cpus)
        return cpus
    return None


def setup_rnnmem(threads, configs):
    import numba
    import scipy.linalg  # noqa: F401  (load scipy's BLAS, the one numba calls, before threadpoolctl looks)
    from threadpoolctl import threadpool_limits

    sys.path.insert(0, str(ROOT))
    import rnnmem as rm
    from rnnmem import _calibrate, rnn

    numba.set_num_threads(threads)
    threadpool_limits(threads)
    cal = _calibrate.table(threads, recalibrate=True)  # measured now, under this run's conditions (and cached)
    info = {"calibration": None if cal is None else {"seconds": cal["seconds"], "load": cal.get("load")},
            "version": rm.__version__, "numba": numba.__version__, "numpy": np.__version__,
            "blas": [f"{lc.internal_api} {lc.version} ({getattr(lc, 'architecture', '')}) threads={lc.num_threads}"
                     for lc in rnn._blas_controllers()]}
    calls = {}
    for m, B, T in configs:
        W, U, b, C, x, dy = problem(m, B, T)
        model = rm.RNN(W, U, b, C)
        model.vjp(x, dy)  # compile, calibrate (if this machine and thread count have no calibration yet) and warm
        calls[(m, B, T)] = lambda model=model, x=x, dy=dy: model.vjp(x, dy)
        info[f"variant {m},{B},{T}"] = (f"{rnn._pick_variant('forward', m, B, T)} / "
                                        f"{rnn._pick_variant('backward', m, B, T)}")
    a = np.random.default_rng(0).standard_normal((DGEMM_N, DGEMM_N))
    calls["dgemm"] = lambda a=a: a @ a
    info["calibration file"] = str(_calibrate.cache_file(_calibrate.machine_key(threads)))
    return info, calls


def setup_numpy(threads, configs):
    from threadpoolctl import threadpool_limits

    threadpool_limits(threads)
    calls = {}
    for m, B, T in configs:
        args = problem(m, B, T)
        calls[(m, B, T)] = lambda args=args: numpy_vjp(*args)
    return {"version": np.__version__}, calls


def numpy_vjp(W, U, b, C, x, dy):
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
    for k in range(T - 1, -1, -1):
        g = gd[k] + (GZ[k + 1] @ W if k < T - 1 else 0.0)
        GZ[k] = (1.0 - H[k] ** 2) * g
    gW = GZ[1:].reshape(-1, m).T @ H[:-1].reshape(-1, m)
    gU = GZ.reshape(-1, m).T @ xt.reshape(-1, 1)
    gb = GZ.reshape(-1, m).sum(0)
    gC = dyt.reshape(-1, 1).T @ H.reshape(-1, m)
    gx = GZ @ U
    return gW, gU, gb, gC, gx


def setup_torch(threads, configs):
    import torch

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    calls = {}
    for m, B, T in configs:
        W, U, b, C, x, dy = problem(m, B, T)
        net = torch.nn.RNN(1, m, nonlinearity="tanh", batch_first=True).double()
        ro = torch.nn.Linear(m, 1, bias=False).double()
        with torch.no_grad():
            net.weight_hh_l0.copy_(torch.from_numpy(W))
            net.weight_ih_l0.copy_(torch.from_numpy(U))
            net.bias_ih_l0.copy_(torch.from_numpy(b))
            net.bias_hh_l0.zero_()
            ro.weight.copy_(torch.from_numpy(C))
        xt, dyt = torch.from_numpy(x), torch.from_numpy(dy)

        def step(net=net, ro=ro, xt=xt, dyt=dyt):
            xx = xt.clone().requires_grad_(True)
            net.zero_grad()
            ro.zero_grad()
            h, _ = net(xx)
            (ro(h) * dyt).sum().backward()

        step()
        calls[(m, B, T)] = step
    return {"version": torch.__version__, "threads": torch.get_num_threads()}, calls


def setup_jax(threads, configs):
    if threads == 1:
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false").strip()
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_platforms", "cpu")

    def loss(params, x, dy):
        W, U, b, C = params
        ux = jnp.einsum("btd,md->tbm", x, U) + b  # time-major input parts

        def cell(h, u):
            h = jnp.tanh(h @ W.T + u)
            return h, h

        _, H = jax.lax.scan(cell, jnp.zeros((x.shape[0], W.shape[0])), ux)
        return jnp.sum((H @ C.T) * jnp.swapaxes(dy, 0, 1))

    vg = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))
    calls = {}
    for m, B, T in configs:
        W, U, b, C, x, dy = problem(m, B, T)
        args = ((jnp.asarray(W), jnp.asarray(U), jnp.asarray(b), jnp.asarray(C)), jnp.asarray(x), jnp.asarray(dy))
        jax.block_until_ready(vg(*args))  # compile outside the timing
        calls[(m, B, T)] = lambda args=args: jax.block_until_ready(vg(*args))
    return {"version": jax.__version__, "devices": str(jax.devices())}, calls


SETUPS = {"rnnmem": setup_rnnmem, "numpy": setup_numpy, "torch": setup_torch, "jax": setup_jax}


def worker(peer, threads, configs):
    """Serve timing requests on stdin/stdout: a JSON line per request ``[config or "dgemm", repeats]``."""
    cpus = pin(threads)
    info, calls = SETUPS[peer](threads, configs)
    info["cpus"] = cpus
    print(json.dumps({"ready": info}), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        fn = calls[req[0] if req[0] == "dgemm" else tuple(req[0])]
        best = float("inf")
        for _ in range(req[1]):
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
        print(json.dumps({"t": best}), flush=True)


class Peer:
    def __init__(self, peer, threads, configs):
        self.name = peer
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--worker", peer, "--threads", str(threads), "--configs", json.dumps(configs)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
        line = self.proc.stdout.readline()
        if not line:
            err = self.proc.stderr.read()
            raise RuntimeError(f"{peer} worker failed: {err[-800:]}")
        self.info = json.loads(line)["ready"]

    def time(self, what, repeats):
        self.proc.stdin.write(json.dumps([what, repeats]) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())["t"]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def available(peer):
    import importlib.util

    return peer in ("rnnmem", "numpy") or importlib.util.find_spec(peer) is not None


# ----------------------------------------------------------------------------------------------------- first use
def first_use_costs(threads):
    """Seconds of import and of the first vjp in fresh processes: empty numba + calibration cache; warm numba cache
    with an empty calibration cache; both warm. Also the calibration's own measured seconds."""
    code = (f"import os, sys, time; sys.path.insert(0, {str(ROOT)!r}); t=time.perf_counter(); import numba, "
            f"numpy as np; numba.set_num_threads({threads}); import rnnmem as rm; from rnnmem import _calibrate; "
            "t1=time.perf_counter(); r=rm.RNN.random(8, rng=0); x=np.ones((4,5,1)); r.vjp(x, x); "
            "r2=rm.RNN.random(64, rng=0); r2.vjp(x, x); t2=time.perf_counter(); "
            f"d=_calibrate.table({threads}); print(t1-t, t2-t1, d['seconds'] if d else -1)")
    out = {}
    with tempfile.TemporaryDirectory() as numba_cache, tempfile.TemporaryDirectory() as cal_cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=numba_cache)
        env.pop("RNNMEM_CACHE_DIR", None)
        runs = [("cold", env), ("calibration only", dict(env, RNNMEM_CACHE_DIR=cal_cache)),
                ("warm", dict(env, RNNMEM_CACHE_DIR=cal_cache))]
        for name, e in runs:
            res = subprocess.run([sys.executable, "-c", code], env=e, capture_output=True, text=True)
            if res.returncode != 0:
                out[name] = None
                continue
            out[name] = [float(v) for v in res.stdout.split()]
    return out


# ----------------------------------------------------------------------------------------------------- driver
def run(threads, configs, rounds, repeats, peers, show_first_use):
    print(f"\n=== threads: {threads} ===")
    ps = {}
    for name in peers:
        if not available(name):
            print(f"{name}: not installed, column omitted")
            continue
        try:
            ps[name] = Peer(name, threads, configs)
        except RuntimeError as exc:
            print(exc)
    rm_info = ps["rnnmem"].info
    print(f"cpu: {cpu_model()}, {os.cpu_count()} logical CPUs; each peer pinned to CPUs {rm_info['cpus']}")
    peers_v = "; ".join(f"{n} {p.info['version']}" for n, p in ps.items() if n in ("torch", "jax"))
    print(f"python {platform.python_version()}; rnnmem {rm_info['version']}, numba {rm_info['numba']}, numpy "
          f"{rm_info['numpy']}; {peers_v}")
    print("BLAS: " + "; ".join(rm_info["blas"]))
    # DGEMM at 1 and 2 threads, each in its own pinned process (the rnnmem worker's numpy BLAS)
    dgemm = {}
    for n in sorted({1, 2, threads} & set(range(1, (os.cpu_count() or 1) + 1))):
        p = ps["rnnmem"] if n == threads else Peer("rnnmem", n, [])
        dgemm[n] = 2.0 * DGEMM_N**3 / p.time("dgemm", 3) / 1e9
        if p is not ps["rnnmem"]:
            p.close()
    print(f"DGEMM (n = {DGEMM_N}, same run): " + ", ".join(f"{n} thread{'s' * (n > 1)} {g:.1f} GFLOP/s"
                                                          for n, g in dgemm.items()))
    rate = dgemm[threads] if threads in dgemm else max(dgemm.values())
    best = {name: {tuple(c): float("inf") for c in configs} for name in ps}
    for _ in range(rounds):
        for c in configs:
            for name, p in ps.items():
                best[name][tuple(c)] = min(best[name][tuple(c)], p.time(c, repeats))
    for p in ps.values():
        p.close()
    print(f"best of {rounds} rounds x {repeats} calls; GF/s = GFLOP/s; bound = flops / DGEMM rate at {threads} "
          f"thread(s)")
    cols = [n for n in PEERS if n in ps and n != "rnnmem"]
    head = f"{'(m, B, T)':>16} {'GFLOP':>6} {'rnnmem':>10} {'GF/s':>6} {'x bound':>7}"
    for n in cols:
        head += f" {n:>10} {'GF/s':>6} {'ratio':>7}"
    print(head)
    for c in configs:
        c = tuple(c)
        fl = flops(*c)
        t = best["rnnmem"][c]
        line = f"{str(c):>16} {fl / 1e9:6.3f} {t * 1e3:8.2f}ms {fl / t / 1e9:6.1f} {t / (fl / (rate * 1e9)):7.2f}"
        for n in cols:
            tn = best[n][c]
            line += f" {tn * 1e3:8.2f}ms {fl / tn / 1e9:6.1f} {tn / t:6.1f}x"
        print(line)
    print("kernel variant (forward / backward): " + "; ".join(
        f"{k.split(' ', 1)[1]}: {v}" for k, v in rm_info.items() if k.startswith("variant")))
    cal = rm_info["calibration"]
    if cal:
        print(f"calibration (measured at the start of this run, load average {cal['load']:.1f}): "
              f"{cal['seconds']:.2f} s; file {rm_info['calibration file']}")
    goals = [c for c in configs if tuple(c) in GOALS]
    for c in goals:
        gt, gj = GOALS[tuple(c)]
        t = best["rnnmem"][tuple(c)]
        parts = []
        for n, g in (("torch", gt), ("jax", gj)):
            if n in best:
                r = best[n][tuple(c)] / t
                parts.append(f"{n} {r:.1f}x (goal {g}x: {'met' if r >= g else 'NOT met'})")
        print(f"goal {tuple(c)}: " + ", ".join(parts))
    if show_first_use:
        fu = first_use_costs(threads)
        if fu.get("cold"):
            print(f"first use, fresh process, empty numba and calibration caches: import {fu['cold'][0]:.2f} s, "
                  f"compile + calibrate + first vjp {fu['cold'][1]:.2f} s (calibration measured {fu['cold'][2]:.2f} s)")
        if fu.get("calibration only"):
            print(f"first use, warm numba cache, empty calibration cache: first vjp {fu['calibration only'][1]:.2f} s "
                  f"(calibration measured {fu['calibration only'][2]:.2f} s)")
        if fu.get("warm"):
            print(f"first use, both caches warm: import {fu['warm'][0]:.2f} s, first vjp {fu['warm'][1]:.2f} s")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", default="1", help="thread count(s), comma-separated, e.g. 1,2 (default 1)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="small sizes, 1 round (a smoke run)")
    p.add_argument("--peers", default=",".join(PEERS), help=f"comma-separated subset of {PEERS}")
    p.add_argument("--no-first-use", action="store_true", help="skip the fresh-process first-use costs")
    p.add_argument("--only", default=None, metavar="MxBxT[,...]",
                   help="run only these (m, B, T), e.g. 8x1x10000,256x32x1000")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    p.add_argument("--configs", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return worker(args.worker, int(args.threads), [tuple(c) for c in json.loads(args.configs)])
    configs = [list(c) for c in (QUICK_CONFIGS if args.quick else CONFIGS)]
    if args.only:
        try:
            configs = [[int(v) for v in c.lower().split("x")] for c in args.only.split(",") if c]
        except ValueError:
            p.error(f"--only: expected MxBxT[,MxBxT...] with integers, e.g. 8x1x10000; got {args.only!r}")
        if not configs or any(len(c) != 3 or min(c) < 1 for c in configs):
            p.error(f"--only: expected MxBxT[,MxBxT...] with positive integers, e.g. 8x1x10000; got {args.only!r}")
    rounds = 1 if args.quick else args.rounds
    peers = [q for q in args.peers.split(",") if q]
    if "rnnmem" not in peers:
        peers.insert(0, "rnnmem")
    for threads in [int(t) for t in args.threads.split(",")]:
        run(threads, configs, rounds, args.repeats, peers, not args.no_first_use)


if __name__ == "__main__":
    main()
