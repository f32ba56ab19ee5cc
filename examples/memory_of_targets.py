"""Memory functions of linear targets: the estimator against the exact memory, and a decay fit.

The memory function of [P1] Def. 3.1 measures how strongly the output at time t still depends on an input
applied at time 0 (docs/math.md §3). For a linear functional H_t(x) = ∫ ρ(s) x_{t−s} ds it is exactly |ρ(t)|, so
the estimator `rm.memory_function` (which only calls the model) must reproduce |ρ|. `rm.fit_decay` then tells an
exponential tail (the kind a stable RNN can approximate) from a power law (the curse of memory).

Run: ``python examples/memory_of_targets.py [OUT.png]``
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

QUICK = os.environ.get("RNNMEM_EXAMPLES_QUICK") == "1"   # the test suite runs every example at a small size
T = 100 if QUICK else 400                                  # time steps
DT = 0.5                                                   # step of the time grid t_k = k·dt

targets = {
    "exponential e^(−0.1t)": rm.targets.exponential(rate=0.1),
    "polynomial (1 + t)^(−1.1)": rm.targets.polynomial(1.1),
    "e^(−0.05t) − 1.5 e^(−0.3t)": rm.targets.sum_of_exponentials([1.0, -1.5], [0.05, 0.3]),
}

# the estimator: the sup over constant (Heaviside) inputs of |Δy_k| / (Δt |x|), one batched model call per target
mfs = [rm.memory_function(f, T, dt=DT) for f in targets.values()]
for (name, f), mf in zip(targets.items(), mfs, strict=True):
    err = np.abs(mf.values - f.memory(mf.t)).max()
    fit = rm.fit_decay(mf.t, mf.values)
    print(f"{name:28s} max |estimate − exact| = {err:.1e}; tail fit: {fit.kind}")

fig, ax = plt.subplots(figsize=(8, 4.2), layout="constrained")
plot_memory(mfs, ax=ax, labels=list(targets), fits=True, exact=[f.memory for f in targets.values()],
            marker=".", ms=2, ls="none")
ax.set_ylim(1e-8, 2)
ax.set_title("Def. 3.1 memory of linear targets: estimator (dots), exact |ρ(t)| (dotted), tail fits (dashed)",
             fontsize=9)

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "docs" / "figures" / \
    "gallery-memory-of-targets.png"
fig.savefig(out, dpi=110)
print(f"wrote {out}")
