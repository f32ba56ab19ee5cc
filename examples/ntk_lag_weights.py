"""The neural tangent kernel of wide linear RNNs ([P2]): lag weights ρ_j² and the Gram matrix (docs/math.md §7b).

For a linear elman RNN of width n in the NTK parameterisation, the Gram matrix G_ij = ⟨∇θ L_i, ∇θ L_j⟩ of the
Markov-parameter gradients (`rm.ntk.empirical`, computed exactly) tends to diag(ρ_j²) as n → ∞ (`rm.ntk.lag_weights`):
gradient descent then weighs lag j by ρ_j², which decays like jσ^(2j) for σ² < 1 — the bias toward short memory.
Left: ρ_j² against the empirical diagonal (mean ± sd over a few random draws at width n). Right: the normalised
Gram matrix of one draw, close to the identity.

Run: ``python examples/ntk_lag_weights.py [OUT.png]``
"""

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from rnnmem import ntk  # noqa: E402
from rnnmem.plot import plot_gram, plot_lag_weights  # noqa: E402

QUICK = os.environ.get("RNNMEM_EXAMPLES_QUICK") == "1"
n, draws, J = (300, 2, 12) if QUICK else (2000, 4, 16)      # width, random draws per σ², lags
sigma2s = (0.5, 0.81, 1.0, 1.21)

empirical = []
for i, s2 in enumerate(sigma2s):
    diag = np.array([np.diag(ntk.empirical(ntk.init(n, s2, rng=10 * i + k), J)) for k in range(draws)])
    empirical.append((diag.mean(axis=0), diag.std(axis=0)))
    print(f"σ² = {s2}: max |mean G_jj / ρ_j² − 1| = {np.abs(diag.mean(0) / ntk.lag_weights(J, s2) - 1).max():.3f}")

fig, axes = plt.subplots(1, 2, figsize=(12, 4.4), layout="constrained", width_ratios=(1.4, 1))
plot_lag_weights(sigma2s, J, ax=axes[0], empirical=empirical)
axes[0].set_title(f"ρ_j² (lines) and empirical G_jj (dots: mean ± sd of {draws} draws, n = {n})", fontsize=9)
plot_gram(ntk.empirical(ntk.init(n, 0.81, rng=99), J), ax=axes[1])
axes[1].set_title(f"normalised Gram matrix, σ² = 0.81, n = {n}", fontsize=9)

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "docs" / "figures" / \
    "gallery-ntk-lag-weights.png"
fig.savefig(out, dpi=110)
print(f"wrote {out}")
