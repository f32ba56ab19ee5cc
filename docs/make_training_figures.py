"""Figures of docs/training.md: ``python docs/make_training_figures.py`` writes docs/figures/training-*.png.

1. training-loss.png — rm.fit loss histories of an euler tanh RNN (m = 8) on a polynomial- vs an
   exponential-memory target, plain W vs W = −softplus(w).
2. training-reparam-perturbation.png — perturbation error of the trained softplus model when its RAW parameters
   (w, U, b, C) are perturbed vs when its effective W is perturbed.
Prints the numbers quoted in docs/training.md.
"""

from __future__ import annotations

import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import rnnmem as rm  # noqa: E402
from rnnmem.plot import plot_perturbation  # noqa: E402
from rnnmem.reparam import ReparamRNN  # noqa: E402

OUT = Path(__file__).parent / "figures"


def main() -> None:
    OUT.mkdir(exist_ok=True)
    x = rm.targets.sample_inputs(256, 100, rng=0)
    targets = {"pol (1+t)^-1.5": rm.targets.polynomial(1.5), "exp e^-t": rm.targets.exponential(1.0)}
    fig, ax = plt.subplots(figsize=(7.5, 4), layout="constrained")
    trained = {}
    for name, f in targets.items():
        y = f(x)
        for kind in ("direct", "softplus"):
            if kind == "direct":
                model = rm.RNN.random(8, cell="euler", activation="tanh", sigma2=0.25, rng=1)
            else:
                model = ReparamRNN.random(8, f="softplus", rates=(0.5, 1.5), rng=1)
            model = model.replace(U=0.1 * model.U, C=10 * model.C)
            t0 = time.perf_counter()
            res = rm.fit(model, x, y, epochs=100, lr=0.01, batch_size=32, clip=0.5, plateau_patience=8,
                         plateau_factor=0.3, rng=2, progress=False)
            print(f"{name:16s} {kind:8s} final loss {res.history['loss'][-1]:.3e}  epochs to 1e-3: "
                  f"{res.epochs_to(1e-3)}  ({time.perf_counter() - t0:.1f} s)")
            ax.semilogy(np.arange(1, res.epochs + 1), res.history["loss"], label=f"{name}, {kind}")
            trained[(name, kind)] = res.model
    ax.set_xlabel("epoch")
    ax.set_ylabel("training MSE")
    ax.set_title("rm.fit: euler tanh RNN, m = 8, T = 100", fontsize=9)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    fig.savefig(OUT / "training-loss.png", dpi=110)
    plt.close(fig)

    model = trained[("pol (1+t)^-1.5", "softplus")]
    xt = rm.targets.sample_inputs(32, 100, rng=3)
    yt = targets["pol (1+t)^-1.5"](xt)
    betas = np.r_[0.0, 1e-3 * 2.0 ** np.arange(11)]
    raw = rm.perturbation_error(model, yt, betas, x=xt, samples=8, error="mse", rng=4)
    eff = rm.perturbation_error(model.to_rnn(), yt, betas, x=xt, samples=8, error="mse", rng=4)
    print("slowest rate", model.rates.min(), "radius raw", raw.stability_radius(max_slope=8.0),
          "radius effective W", eff.stability_radius(max_slope=8.0))
    ax = plot_perturbation({"raw (w, U, b, C)": raw, "effective (W, U, b, C)": eff}, marker=".")
    ax.set_title("W = −softplus(w), m = 8, trained on (1+t)^-1.5: what is perturbed matters", fontsize=9)
    ax.figure.savefig(OUT / "training-reparam-perturbation.png", dpi=110)
    plt.close(ax.figure)


if __name__ == "__main__":
    main()
