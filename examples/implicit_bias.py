"""Implicit bias of linear RNNs ([P2]): gradient descent from a wide random RNN learns the minimum-ρ-norm interpolant.

With fewer training sequences than lags, many impulse responses L fit the data. A wide linear RNN trained by
gradient descent (`rm.ntk.gd`) picks, in the kernel regime, the one closest to its initial response in the norm
Σ_j (L_j − L_j(0))²/ρ_j² (`rm.ntk.interpolant`, docs/math.md §7b). Since ρ_j² decays like σ^(2j) for σ² < 1, a small
initial variance σ² hides the teacher's long tap at lag 18; σ² > 1 recovers part of it.

Run: ``python examples/implicit_bias.py [OUT.png]``
"""

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from rnnmem import ntk  # noqa: E402

QUICK = os.environ.get("RNNMEM_EXAMPLES_QUICK") == "1"
n, steps = (100, 60) if QUICK else (400, 300)       # RNN width, gradient-descent steps

J, N = 24, 8                                           # lags, training samples (N < J: many interpolants)
teacher = np.zeros(J)
teacher[[2, 18]] = 1.0                                 # taps at lags 2 and 18
rng = np.random.default_rng(0)
X = rng.standard_normal((N, J))                        # rows: x_k, x_{k−1}, ..., x_{k−J+1}
y = X @ teacher

fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained")
# left: the infinite-width prediction averaged over initialisations (L(0) = 0) for a small and a large σ²
axes[0].stem(np.arange(J), teacher, linefmt="k-", markerfmt="ko", basefmt=" ", label="teacher")
for k, s2 in enumerate((0.5, 1.21)):
    L = ntk.interpolant(X, y, ntk.lag_weights(J, s2))
    axes[0].plot(L, "o-", ms=3, color=f"C{k}", label=f"interpolant, σ² = {s2}: L_18 = {L[18]:.2f}")
    print(f"σ² = {s2}: interpolant from L(0) = 0 has L_2 = {L[2]:.2f}, L_18 = {L[18]:.2f}")
axes[0].set_title("infinite width, L(0) = 0: only σ² ≥ 1 sees the long tap", fontsize=9)
axes[0].set_ylabel("impulse response L_j")

# right: one finite-width RNN trained by gradient descent against the interpolant from its own initial response
s2 = 1.0
rho2 = ntk.lag_weights(J, s2)
run = ntk.gd(ntk.init(n, s2, rng=1), X, y, lr=ntk.stable_lr(X, rho2, 0.9), steps=steps)
L0, L_rnn = run.responses[0], run.responses[-1]
L_int = ntk.interpolant(X, y, rho2, L0)
gap = np.linalg.norm(L_rnn - L_int) / np.linalg.norm(L_int - L0)
print(f"RNN (σ² = {s2}, n = {n}): train mse {run.train_loss[-1]:.1e}, |RNN − interpolant| / |interpolant − L(0)| "
      f"= {gap:.2f}")
axes[1].plot(L_int - L0, "s--", ms=4, color="C2", label="interpolant from the RNN's L(0)")
axes[1].plot(L_rnn - L0, "o-", ms=3, color="C3", label=f"RNN after {steps} GD steps")
axes[1].set_title(f"width n = {n}, σ² = {s2}: relative distance {gap:.2f}", fontsize=9)
axes[1].set_ylabel("learned change L_j − L_j(0)")
for ax in axes:
    ax.axhline(0, color="0.7", lw=0.6)
    ax.set_xlabel("lag j")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, frameon=False)
fig.suptitle(f"[P2] implicit bias: {N} samples of a two-tap teacher (lags 2 and 18), {J} lags", fontsize=10)

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "docs" / "figures" / \
    "gallery-implicit-bias.png"
fig.savefig(out, dpi=110)
print(f"wrote {out}")
