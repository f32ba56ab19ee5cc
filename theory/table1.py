"""[P1] Table 1: stable reparameterisations train better than the direct one on sequential image classification.

Data: scikit-learn's bundled 8×8 handwritten digits (``sklearn.datasets.load_digits``: 1797 images, 10 classes,
shipped with the package — nothing is downloaded), read pixel by pixel as a sequence of T = 64 scalars in [0, 1]
(row by row, T = 8 × d = 8, with ``--quick``), split 80/20 at random per seed. Model: an euler tanh RNN with
W = −Pᵀ diag(f(w)) P (:class:`rnnmem.reparam.ReparamRNN`, symmetric structure, P orthogonal at init and trained),
softmax cross-entropy on the last step's 10 outputs; f ∈ {softplus, exp, inverse, direct}, every f starting from
the same rates, P, U and C for a given seed. Trained by :func:`rnnmem.fit` (Adam), test accuracy after training.
"""

from __future__ import annotations

import time

import numpy as np

import rnnmem as rm
from rnnmem.reparam import ReparamRNN
from theory._registry import Context, Result, check
from theory.fig2 import single_threaded_blas

#: [P1] Table 1 (test accuracy %, 10 epochs)
PAPER = {"softplus": 71.36, "exp": 70.55, "inverse": 70.77, "direct": 68.47}
STABLE = ("softplus", "exp", "inverse")
FS = (*STABLE, "direct")


def _digits(pixelwise: bool, hold: int = 1, delay: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The digits as sequences: (N, 64·hold + delay, 1) pixel by pixel, or (N, 8 + delay, 8) row by row.

    Each pixel (row) is held for ``hold`` steps, then ``delay`` zero steps follow, so the label read at the
    last step must be remembered across ``delay`` steps of no input.
    """
    from sklearn.datasets import load_digits

    d = load_digits()
    x = d.images.astype(np.float64) / 16.0  # (1797, 8, 8) in [0, 1]
    x = x.reshape(len(x), 64, 1) if pixelwise else x  # pixel by pixel (T=64, d=1) or row by row (T=8, d=8)
    if hold > 1:
        x = np.repeat(x, hold, axis=1)
    if delay > 0:
        x = np.concatenate([x, np.zeros((len(x), delay, x.shape[2]))], axis=1)
    return x, d.target.astype(np.int64)


def table1_job(spec: dict) -> dict:
    """Train one (seed, f, lr) model and return its accuracies and loss history (top-level, picklable).

    The split depends on the seed only: 20 % test; with ``spec["val"] > 0`` that fraction of the remaining
    training images is held out as a validation set (used to choose the learning rate, never the test set).
    """
    with single_threaded_blas():
        t0 = time.perf_counter()
        x, y = _digits(spec["pixelwise"], spec.get("hold", 1), spec.get("delay", 0))
        gen = np.random.default_rng(spec["seed"])
        perm = gen.permutation(len(x))
        n_train = int(0.8 * len(x))
        tr, te = perm[:n_train], perm[n_train:]
        n_val = int(spec.get("val", 0.0) * n_train)
        va, tr = tr[:n_val], tr[n_val:]
        base = ReparamRNN.random(spec["hidden"], x.shape[2], 10, structure="symmetric", f="softplus",
                                 cell="euler", activation="tanh", dt=spec["dt"], rates=spec["rates"], rng=gen)
        # the same initial rates λ = f(w) for every f: w = f⁻¹(λ)
        tf = rm.reparam.transform(spec["f"])
        model = base.replace(f=tf, w=tf.inverse(base.rates))
        res = rm.fit(model, x[tr], y[tr], epochs=spec["epochs"], lr=spec["lr"], batch_size=spec["batch"],
                     loss="cross_entropy", clip=spec["clip"], rng=spec["seed"] + 1, progress=False)

        def accuracy(idx):
            return float(np.mean(res.model(x[idx])[:, -1].argmax(axis=1) == y[idx])) if len(idx) else np.nan

        return {"f": spec["f"], "seed": spec["seed"], "lr": spec["lr"], "acc": accuracy(te),
                "val_acc": accuracy(va), "train_acc": accuracy(tr), "loss": res.history["loss"],
                "min_rate": float(res.model.rates.min()),
                "alpha": float(np.linalg.eigvalsh(res.model.W).max()), "seconds": time.perf_counter() - t0}


@check("table1-ordering", order=35, title="P1 Table 1: stable parameterisations beat direct on sequential digits",
       expect_pass=False,
       statement="[P1] Table 1: on sequential image classification, stable reparameterisations (softplus "
                 "71.36 %, exp 70.55 %, inverse 70.77 %) train faster / end better than the direct "
                 "parameterisation (68.47 %) — the ordering stable > direct is the target.")
def table1_ordering(ctx: Context) -> Result:
    t0 = time.perf_counter()
    try:
        import sklearn  # noqa: F401  (the digits ship with scikit-learn)
    except ImportError:
        return Result(False, "scikit-learn is not installed (pip install scikit-learn): no bundled dataset",
                      "This check reads `sklearn.datasets.load_digits`; install scikit-learn to run it.")
    pixelwise = ctx.pick(False, True, True)
    n_seeds = ctx.pick(1, 3, 5)
    seeds = [int(ctx.rng(30, k).integers(2**31)) for k in range(n_seeds)]
    common = dict(pixelwise=pixelwise, hidden=ctx.pick(16, 16, 32), epochs=ctx.pick(2, 30, 100), lr=0.01, batch=32,
                  clip=1.0, dt=1.0, rates=(0.02, 1.0))
    specs = [dict(common, f=f, seed=s) for s in seeds for f in FS]
    out = ctx.map(table1_job, specs)
    acc = {f: [r["acc"] for r in out if r["f"] == f] for f in FS}
    loss1 = {f: [r["loss"][0] for r in out if r["f"] == f] for f in FS}
    per_seed = [all(acc[f][i] > acc["direct"][i] for f in STABLE) for i in range(n_seeds)]
    passed = bool(all(per_seed))
    mean = {f: 100 * float(np.mean(acc[f])) for f in FS}
    rows = ["| f | " + " | ".join(f"seed {i}" for i in range(n_seeds)) + " | mean | first-epoch loss (mean) | "
            "paper |", "|---" * (n_seeds + 4) + "|"]
    for f in FS:
        rows.append(f"| {f} | " + " | ".join(f"{100 * a:.2f}" for a in acc[f]) + f" | {mean[f]:.2f} | "
                    f"{np.mean(loss1[f]):.3f} | {PAPER[f]} |")
    seconds = time.perf_counter() - t0
    reading = "pixel by pixel (T = 64, d = 1)" if pixelwise else "row by row (T = 8, d = 8)"
    details = (
        f"**Setting.** sklearn digits (1797 8×8 images, bundled), read {reading}, "
        "pixels / 16, random 80/20 split per seed; euler tanh RNN, Δt = 1, W = −Pᵀ diag(f(w)) P (symmetric "
        f"structure, P orthogonal at init, trained), width {common['hidden']}, initial rates log-uniform in "
        f"{common['rates']} — identical P, U, C, rates for all f of a seed; Adam lr {common['lr']}, batch "
        f"{common['batch']}, gradient clipping at {common['clip']}, {common['epochs']} epochs (paper: 10), softmax "
        "cross-entropy on the last step. Test accuracy (%) per seed:\n\n" + "\n".join(rows) + "\n\n"
        "**PASS criterion.** For every seed, each stable parameterisation (softplus, exp, inverse) reaches a "
        "strictly higher test accuracy than direct. Per seed: "
        + ", ".join(f"seed {i}: {'yes' if ok else 'no'}" for i, ok in enumerate(per_seed))
        + f". Wall time {seconds:.1f} s.\n\n"
        "**Expected to fail (documented).** In our runs the ordering does not hold across seeds: the spread "
        "between seeds (~10 points) is larger than the differences between parameterisations (~1–4 points; "
        "paper: ~2–3 points). The direct parameterisation often ends with an unstable W (α(W) > 0, see "
        "`data.runs`) without losing accuracy on these length-64 sequences. The check still reports PASS "
        "whenever the ordering does hold.\n\n"
        "**Differences from the paper.** The paper's setup (dataset, width, Δt) is underspecified; we use a "
        "small dataset that ships with scikit-learn (1437 training images instead of 60 000, so more epochs: "
        "30 by default, 100 with --full, vs the paper's 10), so absolute accuracies are not comparable — only "
        "the ordering is. --quick reads the images row by row (T = 8), where stability plays no role."
    )
    return Result(
        passed=passed,
        summary="test acc % (mean over seeds) " + ", ".join(f"{f} {mean[f]:.1f}" for f in FS)
                + f"; stable > direct in {sum(per_seed)}/{n_seeds} seeds",
        details=details, figures=[],
        data={"accuracy": acc, "first_epoch_loss": loss1, "seeds": seeds, "per_seed_ordering": per_seed,
              "paper": PAPER, "settings": common,
              "runs": [{k: r[k] for k in ("f", "seed", "acc", "train_acc", "min_rate", "alpha", "seconds")}
                       for r in out]},
    )
