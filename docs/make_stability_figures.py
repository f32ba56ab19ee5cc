"""Make docs/figures/stability.png (docs/stability.md) and the figures of the stability theory checks shown in
docs/theory.md (docs/figures/theory-<check>.png, by running those checks at default size), and print the numbers
quoted on those pages.

Run from the repository root:  python docs/make_stability_figures.py      (about 40 s on 2 cores)
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import rnnmem as rm  # noqa: E402
from rnnmem import approx  # noqa: E402
from rnnmem.plot import plot_perturbation  # noqa: E402

OUT = Path(__file__).resolve().parent / "figures" / "stability.png"
#: the theory checks documented in docs/theory.md by this helper
CHECKS = ["fig1-exp", "fig1-pol", "thm39-mechanism", "thm39-bound", "remark33", "lemma-a6", "lemma-a7", "lemma-a8",
          "lemma-a9", "lemma-a10", "appc-rescaling"]


def theory_figures() -> None:
    """Run the stability checks (default size) in a scratch folder and copy their figures to docs/figures."""
    import theory

    with tempfile.TemporaryDirectory() as tmp:
        theory.run(CHECKS, out=tmp, resume=False)
        for png in sorted((Path(tmp) / "figures").glob("*.png")):
            dest = OUT.parent / f"theory-{png.name}"
            shutil.copyfile(png, dest)
            print(f"wrote {dest}")


def main() -> None:
    fig, axes = plt.subplots(1, 3, figsize=(18, 4.6), layout="constrained")

    # (a) + (b): [P1] Fig. 1 setting, long window, exp vs pol targets
    betas = np.r_[0.0, 5e-4 * 2.0 ** np.arange(21)]
    T = 10001
    x = np.zeros((1, T, 1))
    x[0, 0, 0] = 1.0
    for ax, target, name in ((axes[0], rm.targets.exponential(base=0.9), "0.9^t"),
                             (axes[1], rm.targets.polynomial(1.1), "(1+t)^-1.1")):
        curves = {}
        for m in (2, 4, 6, 8, 14):
            fit = approx.exponential_fit(target, m)
            rnn = fit.to_rnn(cell="euler", dt=1.0)
            c = rm.perturbation_error(rnn, target, betas, samples=10, x=x, blocks=("W", "U", "C"),
                                      steps=slice(1, None), rng=m)
            curves[f"m = {m} (width {rnn.hidden})"] = c
            lo, hi = c.blowup_bracket()
            print(f"{name:>11} m={m:2d}: width {rnn.hidden:2d}, slowest rate {fit.slowest_rate:.3g}, "
                  f"-alpha(W) {-rm.spectral_abscissa(rnn.W):.3g}, E(0) {c.nominal:.2e}, radius {lo:.3g}, "
                  f"blow-up bracket ({lo:.3g}, {hi:.3g}]")
        plot_perturbation(curves, ax=ax, marker=".")
        ax.set_title(f"[P1] Fig. 1 setting, ρ = {name}, window t ≤ {T - 1}", fontsize=9)

    # (c): σ_min(W − iωI) for a normal and a non-normal W with the same spectrum
    om = np.linspace(-3, 3, 1201)
    for W, lab in ((np.diag([-1.0, -1.0]), "normal W = −I"),
                   (np.array([[-1.0, 10.0], [0.0, -1.0]]), "non-normal [[−1, 10], [0, −1]]")):
        s = [np.linalg.svd(W - 1j * w * np.eye(2), compute_uv=False)[-1] for w in om]
        r = rm.distance_to_instability(W, cell="euler")
        axes[2].semilogy(om, s, label=f"{lab}: r(W) = {r:.4f}")
        print(f"{lab}: alpha = {rm.spectral_abscissa(W):.4f}, distance to instability = {r:.10f}")
    axes[2].set_xlabel("ω")
    axes[2].set_ylabel("σ_min(W − iωI)")
    axes[2].set_title("distance to instability = min over ω (both have α(W) = −1)", fontsize=9)
    axes[2].legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), frameon=False)
    OUT.parent.mkdir(exist_ok=True)
    fig.savefig(OUT, dpi=110)
    print(f"wrote {OUT}")
    plt.close(fig)
    theory_figures()


if __name__ == "__main__":
    main()
