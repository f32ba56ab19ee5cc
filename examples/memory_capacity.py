"""Jaeger's memory capacity of a linear reservoir: the exact closed form against simulation (docs/math.md §8).

MC_k is the squared correlation between the input k steps back and its best linear reconstruction from the state of
h_t = W h_{t−1} + u s_t. `rm.linear.memory_capacity` computes it exactly from the SVD of the Krylov matrix (never
forming the badly conditioned Gramian) or by simulation (``method="sampled"``); Σ_k MC_k equals the rank of the
controllability matrix: 20 for a generic reservoir of 20 units, 12 when u excites only 12 eigen-directions.

Run: ``python examples/memory_capacity.py [OUT.png]``
"""

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from rnnmem import linear  # noqa: E402
from rnnmem.plot import plot_memory_capacity  # noqa: E402

QUICK = os.environ.get("RNNMEM_EXAMPLES_QUICK") == "1"
samples = 20_000 if QUICK else 200_000     # simulated steps of the sampled estimate
k_max = 50

rng = np.random.default_rng(0)
m = 20
Q = np.linalg.qr(rng.standard_normal((m, m)))[0]
lam = 0.9 * np.cos(np.linspace(0.1, 3.0, m))        # real eigenvalues in (−0.9, 0.9)
W = (Q * lam) @ Q.T                                  # symmetric W with spectral radius ≤ 0.9
u_full = rng.standard_normal(m)
u_rank12 = Q[:, :12] @ rng.standard_normal(12)      # excites 12 of the 20 eigen-directions only

curves, errors, labels = [], [], []
for name, u in (("generic u", u_full), ("u in a 12-dim invariant subspace", u_rank12)):
    exact = linear.memory_capacity(W, u, k_max)
    sampled = linear.memory_capacity(W, u, k_max, "sampled", rng=1, samples=samples)
    se = 2 * np.sqrt(np.clip(exact * (1 - exact), 0, None)) / np.sqrt(samples / 2)   # sampling standard error
    total = linear.memory_capacity(W, u, 2000).sum()
    print(f"{name:34s} Σ_k MC_k = {total:.6f} (controllability rank {linear.controllability_rank(W, u)})")
    curves += [exact, sampled]
    errors += [None, 2 * se]
    labels += [f"{name}: exact (Σ = {total:.0f})", f"{name}: sampled, ±2 se"]

fig, ax = plt.subplots(figsize=(9, 4.2), layout="constrained")
plot_memory_capacity(curves, ax=ax, labels=labels, errors=errors)
ax.set_title(f"memory capacity of a linear reservoir (m = {m}, spectral radius 0.9, {samples} simulated steps)",
             fontsize=9)

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "docs" / "figures" / \
    "gallery-memory-capacity.png"
fig.savefig(out, dpi=110)
print(f"wrote {out}")
