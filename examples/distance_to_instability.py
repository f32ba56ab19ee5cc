"""Distance to instability: the same eigenvalues, very different robustness (docs/math.md §5).

Theorem 3.9's mechanism is that a stable approximation needs the recurrent matrix to stay stable under
perturbations. The spectral abscissa α(W) (`rm.spectral_abscissa`) only says how far the eigenvalues are from the
imaginary axis; the distance to instability r(W) = min_ω σ_min(W − iωI) (`rm.distance_to_instability`) is the size
of the smallest complex perturbation that makes W unstable. The three matrices below all have the double eigenvalue
−1 (α = −1); the more non-normal, the smaller r(W): a perturbation of norm 0.099 destabilises [[−1, 10], [0, −1]].

Run: ``python examples/distance_to_instability.py [OUT.png]``
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import rnnmem as rm  # noqa: E402

omega = np.linspace(-4, 4, 801)
fig, ax = plt.subplots(figsize=(8, 4.2), layout="constrained")
for c in (0.0, 2.0, 10.0):
    W = np.array([[-1.0, c], [0.0, -1.0]])
    smin = [np.linalg.svd(W - 1j * w * np.eye(2), compute_uv=False)[-1] for w in omega]
    r, w_star = rm.distance_to_instability(W, cell="euler", return_argmin=True)   # dh/dt = Wh: continuous time
    (line,) = ax.semilogy(omega, smin, label=f"W = [[−1, {c:g}], [0, −1]]: α = {rm.spectral_abscissa(W):g}, "
                                             f"r(W) = {r:.4f}")
    ax.plot([w_star], [r], "o", color=line.get_color())
    print(f"c = {c:4g}: α(W) = {rm.spectral_abscissa(W):g}, distance to instability {r:.6f} at ω = {w_star:.3g}")
ax.set_xlabel("frequency ω")
ax.set_ylabel("σ_min(W − iωI)")
ax.set_title("σ_min(W − iωI) over ω; its minimum (dots) is the distance to instability r(W)", fontsize=9)
ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "docs" / "figures" / \
    "gallery-distance-to-instability.png"
fig.savefig(out, dpi=110)
print(f"wrote {out}")
