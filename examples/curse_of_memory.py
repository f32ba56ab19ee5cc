"""The curse of memory ([P1] Fig. 1): a polynomial-memory target cannot be approximated stably by RNNs.

Both targets are linear functionals; each is approximated by linear RNNs of widths m = 2…8 fitted by least squares
(`rm.approx.exponential_fit`, no training). The perturbation error E(β) ([P1] Def. 3.4, `rm.perturbation_error`)
is the worst output error over weights within distance β of the fitted ones. For the exponential target 0.9ᵗ every
width blows up at the same β ≈ −ln 0.9 (a common stability radius β₀ > 0: stable approximation). For the
polynomial target (1 + t)^(−1.1) the wider, better fits need slower modes and blow up at ever smaller β: the
stability radius shrinks to 0 (Theorem 3.9: stable approximation forces exponentially decaying memory).

Run: ``python examples/curse_of_memory.py [OUT.png]``
"""

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import rnnmem as rm  # noqa: E402
from rnnmem import approx  # noqa: E402
from rnnmem.plot import plot_perturbation  # noqa: E402

QUICK = os.environ.get("RNNMEM_EXAMPLES_QUICK") == "1"
T = 500 if QUICK else 2000                     # window of the error; a slowly growing mode shows after ~10/rate steps
widths = (2, 4) if QUICK else (2, 4, 6, 8)
betas = np.r_[0.0, 2.5e-4 * 2.0 ** np.arange(12)]   # β = 0 is the unperturbed fit

x = np.zeros((1, T, 1))
x[0, 0, 0] = 1.0                               # an impulse: the output is the impulse response, E is the kernel error

fig, axes = plt.subplots(1, 2, figsize=(12, 4.4), layout="constrained")
for ax, (name, target) in zip(axes, {"exponential 0.9^t": rm.targets.exponential(base=0.9),
                                     "polynomial (1 + t)^(−1.1)": rm.targets.polynomial(1.1)}.items(), strict=True):
    curves = {}
    for m in widths:
        fit = approx.exponential_fit(target, m)          # least squares by sums of exponentials (variable projection)
        rnn = fit.to_rnn(cell="euler", dt=1.0)           # a linear euler RNN with exactly these modes
        curve = rm.perturbation_error(rnn, target, betas, x=x, blocks=("W", "U", "C"), steps=slice(1, None), rng=m)
        curves[f"m = {m} (slowest rate {fit.slowest_rate:.2g})"] = curve
        print(f"{name:26s} m = {m}: E(0) = {curve.nominal:.1e}, stability radius ≈ {curve.stability_radius():.3g}")
    plot_perturbation(curves, ax=ax, marker=".", radius=True)
    ax.set_title(f"{name}: dotted lines mark each stability radius", fontsize=9)
fig.suptitle(f"[P1] Fig. 1: perturbation error of least-squares linear RNN fits (window t < {T})", fontsize=10)

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "docs" / "figures" / \
    "gallery-curse-of-memory.png"
fig.savefig(out, dpi=110)
print(f"wrote {out}")
