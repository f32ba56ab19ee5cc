"""Memory of diagonal state-space models: S4D and LRU initialisations (`rm.ssm`).

A diagonal SSM h_k = λ ⊙ h_{k−1} + B x_k, y_k = Re(C h_k) + D x_k is linear, so its memory is the exact
|L_k| of its Markov parameters L_k = Re(C diag(λ^k) B) (`rm.exact_memory`, closed form), and its tail decays at the
rate −log max|λ| of the slowest mode. The S4D-Lin initialisation (step Δ log-uniform in [10⁻³, 10⁻¹]) keeps
|λ| = e^(−Δ/2) very close to 1, hence a very long memory; the LRU's ring initialisation with r_max = 0.99 and 0.9
puts the slowest mode further in.

Run: ``python examples/ssm_memory.py [OUT.png]``
"""

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import rnnmem as rm  # noqa: E402
from rnnmem.plot import plot_memory  # noqa: E402

QUICK = os.environ.get("RNNMEM_EXAMPLES_QUICK") == "1"
T = 2000 if QUICK else 20000

models = {
    "S4D-Lin, N = 64": rm.ssm.S4D.random(64, rng=0),
    "LRU, N = 64, r_max = 0.99": rm.ssm.LRU.random(64, r_min=0.5, r_max=0.99, rng=0),
    "LRU, N = 64, r_max = 0.9": rm.ssm.LRU.random(64, r_min=0.5, r_max=0.9, rng=0),
}
mfs, labels = [], []
for name, model in models.items():
    ssm = model.to_ssm()                               # the DiagonalSSM with λ, B_d, C, D
    mf = rm.exact_memory(ssm, T)                       # |L_k| from the Markov parameters, exactly
    slow = -np.log(np.abs(ssm.lam).max())
    print(f"{name:26s} slowest mode: −log max|λ| = {slow:.2e} per step")
    mfs.append(mf)
    labels.append(f"{name} (slowest rate {slow:.1e})")

fig, ax = plt.subplots(figsize=(9, 4.2), layout="constrained")
plot_memory(mfs, ax=ax, labels=labels, lw=0.8)
ax.set_xscale("log")
ax.set_ylim(1e-10, 2)
ax.set_xlabel("t (steps)")
ax.set_title("exact memory |L_k| of randomly initialised diagonal SSMs", fontsize=9)

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "docs" / "figures" / \
    "gallery-ssm-memory.png"
fig.savefig(out, dpi=110)
print(f"wrote {out}")
