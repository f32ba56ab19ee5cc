"""[P1] Table 1: stable reparameterisations train better than the direct one on sequential image classification.

Data: the 8×8 handwritten digits shipped in ``theory/data/digits.npz`` (1797 images, 10 classes; the UCI
"Optical Recognition of Handwritten Digits" test set as bundled by scikit-learn, see ``theory/data/README.md`` —
nothing is downloaded and scikit-learn is not needed), read pixel by pixel with each pixel held for 4 steps
(T = 256 scalars in [0, 1]; memory has to span ~100–200 steps, where at T = 64 it barely matters), split 80/20 at
random per seed. Model: an euler tanh RNN with W = −Pᵀ diag(f(w)) P (:class:`rnnmem.reparam.ReparamRNN`,
symmetric structure, P orthogonal at init and trained), softmax cross-entropy on the last step's 10 outputs;
f ∈ {softplus, exp, inverse, direct}, every f starting from the same rates, P, U and C for a given seed. Trained by
:func:`rnnmem.fit` (Adam, the same lr for every f, 10 epochs as in the paper), test accuracy after training.

``python -m theory.table1 --help`` runs the same comparison in other settings (shorter/longer sequences, blank
steps after the image, more epochs, a learning rate chosen per f on a validation split).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

import rnnmem as rm
from rnnmem.reparam import ReparamRNN
from theory._registry import Context, Control, Result, check
from theory._students import single_threaded_blas

#: [P1] Table 1 (test accuracy %, 10 epochs)
PAPER = {"softplus": 71.36, "exp": 70.55, "inverse": 70.77, "direct": 68.47}
STABLE = ("softplus", "exp", "inverse")
FS = (*STABLE, "direct")


#: the shipped data set (``theory/data/README.md``: provenance, licence)
DIGITS = Path(__file__).resolve().parent / "data" / "digits.npz"


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The shipped digits: ``images`` (1797, 8, 8) uint8 in 0…16 and ``labels`` (1797,) uint8 in 0…9 — equal to
    ``sklearn.datasets.load_digits()``'s ``images`` and ``target`` (``tests/test_table1.py``)."""
    with np.load(DIGITS) as z:
        return z["images"].copy(), z["labels"].copy()


def _digits(pixelwise: bool, hold: int = 1, delay: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The digits as sequences: (N, 64·hold + delay, 1) pixel by pixel, or (N, 8 + delay, 8) row by row.

    Each pixel (row) is held for ``hold`` steps, then ``delay`` zero steps follow, so the label read at the
    last step must be remembered across ``delay`` steps of no input.
    """
    images, labels = load_digits()
    x = images.astype(np.float64) / 16.0  # (1797, 8, 8) in [0, 1]
    x = x.reshape(len(x), 64, 1) if pixelwise else x  # pixel by pixel (T=64, d=1) or row by row (T=8, d=8)
    if hold > 1:
        x = np.repeat(x, hold, axis=1)
    if delay > 0:
        x = np.concatenate([x, np.zeros((len(x), delay, x.shape[2]))], axis=1)
    return x, labels.astype(np.int64)


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
        if spec.get("train_size"):  # a smaller training set (``--quick``); the test set is unchanged
            tr = tr[:spec["train_size"]]
        base = ReparamRNN.random(spec["hidden"], x.shape[2], 10, structure="symmetric", f="softplus",
                                 cell="euler", activation="tanh", dt=spec["dt"], rates=spec["rates"], rng=gen)
        # the same initial rates λ = f(w) for every f: w = f⁻¹(λ)
        tf = rm.reparam.transform(spec["f"])
        model = base.replace(f=tf, w=tf.inverse(base.rates))
        loss = np.zeros(0)
        if spec["epochs"] > 0:  # epochs = 0: the untrained control
            res = rm.fit(model, x[tr], y[tr], epochs=spec["epochs"], lr=spec["lr"], batch_size=spec["batch"],
                         loss="cross_entropy", clip=spec["clip"], rng=spec["seed"] + 1, progress=False)
            model, loss = res.model, res.history["loss"]

        def accuracy(idx):
            return float(np.mean(model(x[idx])[:, -1].argmax(axis=1) == y[idx])) if len(idx) else np.nan

        return {"f": spec["f"], "seed": spec["seed"], "lr": spec["lr"], "acc": accuracy(te),
                "val_acc": accuracy(va), "loss": loss,
                "min_rate": float(model.rates.min()),
                "alpha": float(np.linalg.eigvalsh(model.W).max()), "seconds": time.perf_counter() - t0}


def _figure(ctx: Context, acc: dict, loss: dict, rate: dict, T: int = 256, fname: str = "table1-ordering.png") -> str:
    """Per-seed test accuracy (one line per seed) and mean training loss per epoch, per f."""
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4.4))
    xs = np.arange(len(FS))
    for i in range(len(acc["direct"])):
        a1.plot(xs, [100 * acc[f][i] for f in FS], "-", color="0.75", lw=0.8)
    for j, f in enumerate(FS):
        a1.plot(np.full(len(acc[f]), j), 100 * np.asarray(acc[f]), "o", ms=4, color=f"C{j}")
        a1.plot([j - 0.25, j + 0.25], [100 * np.mean(acc[f])] * 2, "-", color="k", lw=2)
        a2.plot(np.arange(1, len(loss[f]) + 1), loss[f], "-", color=f"C{j}",
                label=f"{f} (final −α(W) = {np.mean(rate[f]):.3f})")
    a1.set_xticks(xs, FS)
    a1.set_ylabel("test accuracy (%)")
    a1.set_title("per seed (grey lines), mean (black)", fontsize=9)
    a1.set_xlabel("parameterisation f of W = −Pᵀ diag(f(w)) P")
    a2.set_xlabel("epoch")
    a2.set_ylabel("training cross-entropy (mean over seeds)")
    a2.set_title("training loss; legend: slowest decay rate after training", fontsize=9)
    a2.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    fig.suptitle(f"[P1] Table 1 on sequential digits (T = {T}): test accuracy after {len(loss['direct'])} epochs, "
                 f"{len(acc['direct'])} seed(s)", fontsize=10)
    fig.tight_layout()
    ctx.save_figure(fig, fname)
    return fname


#: the setting of the check (``hold``: steps per pixel, T = 64·hold; ``delay``: blank steps after the image)
SETTING = dict(pixelwise=True, hold=4, delay=0, hidden=16, epochs=10, batch=32, clip=1.0, dt=1.0, rates=(0.02, 1.0))


def seeds_for(n: int, run_seed: int = 0) -> list[int]:
    """The check's data/initialisation seeds for ``python -m theory --seed run_seed`` (``ctx.rng(30, k)``)."""
    ctx = Context(seed=run_seed)
    return [int(ctx.rng(30, k).integers(2**31)) for k in range(n)]


def compare(seeds: list[int], mapper=map, lrs: tuple[float, ...] = (0.01,), **changes) -> dict:
    """Train every f on every seed (and every lr in ``lrs``); per (seed, f) keep the run with the best validation
    accuracy (20 % of the training images held out when there are several lrs; the test set is never used).

    Returns ``{"best": {f: [run per seed]}, "acc": {f: [test acc per seed]}, "wins": {f: #seeds f > direct},
    "runs": all runs, "settings": ...}``.
    """
    common = dict(SETTING, **changes)
    common["val"] = 0.2 if len(lrs) > 1 else 0.0
    specs = [dict(common, f=f, seed=s, lr=lr) for s in seeds for f in FS for lr in lrs]
    out = list(mapper(table1_job, specs))
    best = {f: [max((r for r in out if r["f"] == f and r["seed"] == s), key=lambda r: r["val_acc"])
                for s in seeds] for f in FS}
    acc = {f: [r["acc"] for r in best[f]] for f in FS}
    wins = {f: sum(a > d for a, d in zip(acc[f], acc["direct"], strict=True)) for f in STABLE}
    return {"best": best, "acc": acc, "wins": wins, "runs": out, "settings": dict(common, lrs=list(lrs))}


def table(res: dict) -> list[str]:
    """Markdown rows: test accuracy % per seed, mean, wins over direct, slowest decay rate −α(W), paper."""
    best, acc, wins = res["best"], res["acc"], res["wins"]
    n = len(acc["direct"])
    rows = ["| f | " + " | ".join(f"seed {i}" for i in range(n)) + " | mean | beats direct in | "
            "slowest decay −α(W) (mean) | paper |", "|---" * (n + 5) + "|"]
    for f in FS:
        w = f"{wins[f]}/{n}" if f in wins else "—"
        rows.append(f"| {f} | " + " | ".join(f"{100 * a:.2f}" for a in acc[f]) + f" | {100 * np.mean(acc[f]):.2f} "
                    f"| {w} | {-np.mean([r['alpha'] for r in best[f]]):.4f} | {PAPER[f]} |")
    if len(res["settings"]["lrs"]) > 1:
        rows.append("| lr chosen (softplus, exp, inverse, direct) | " + " | ".join(
            ", ".join(f"{best[f][i]['lr']:g}" for f in FS) for i in range(n)) + " | | | | |")
    return rows


#: measured once with the settings in the table (``docs/reproductions.md``, Table 1 section, has the per-seed
#: numbers and commands); mean test accuracy % softplus / exp / inverse / direct and seeds where all three
#: stable f beat direct
TRIED = (
    ("T = 64 (no hold), 30 epochs, lr 0.01", "61.0 / 62.3 / 61.8 / 58.1", "4/5"),
    ("T = 64, 10 epochs, lr 0.01", "45.8 / 47.8 / 50.8 / 46.3", "2/5"),
    ("T = 64, 30 epochs, lr per f on validation from {0.003, 0.01, 0.03}", "60.6 / 60.2 / 61.1 / 58.3", "3/5"),
    ("T = 64 + 64 blank steps, 30 epochs", "25.8 / 27.3 / 23.9 / 17.8", "3/5"),
    ("T = 64 + 64 blank steps, initial rates in [0.005, 1], 30 epochs", "29.2 / 27.9 / 31.8 / 15.8", "3/5"),
    ("T = 64 + 192 blank steps, 30 epochs", "7.5 / 7.5 / 12.6 / 18.2 (chance 10)", "0/5"),
    ("hold 4 (T = 256), 30 epochs, lr 0.01", "50.1 / 51.0 / 49.1 / 38.2", "4/5"),
    ("hold 4, 30 epochs, lr per f on validation from {0.001, …, 0.03}", "49.2 / 47.2 / 49.0 / 46.8", "1/5"),
    ("hold 4, 10 epochs, lr per f on validation from {0.001, …, 0.03}", "44.1 / 42.4 / 44.2 / 38.6", "4/5"),
    ("hold 12 (T = 768), 10 epochs, lr 0.01", "36.3 / 35.9 / 35.7 / 34.2", "2/5"),
)


#: one-sided level of the pooled paired t-test (chosen by resampling 40 measured seeds: ``pass_rates``)
ALPHA = 0.06
#: practical floor on the pooled mean gap (accuracy points)
FLOOR = 1.0


def ordering(acc: dict, alpha: float = ALPHA, floor: float = FLOOR) -> dict:
    """The criterion on accuracies ``{f: [acc per seed]}`` (``docs/theory.md``, table1-ordering).

    Per seed s the pooled paired gap g_s = mean over the stable f of (acc_f − acc_direct) in points (same seed: same
    split and initial model). PASS iff the one-sided paired t-test of H₀: E[g] ≤ 0 rejects at level ``alpha``
    (t = mean(g) / (sd(g)/√n), n − 1 degrees of freedom), mean(g) ≥ ``floor`` points, and every stable f's own mean
    gap is > 0 (the ordering of [P1] Table 1: each stable f above direct on average). Needs n ≥ 2 seeds.
    """
    from scipy.stats import t as student_t

    d = {f: 100 * (np.asarray(acc[f], dtype=float) - np.asarray(acc["direct"], dtype=float)) for f in STABLE}
    g = np.mean([d[f] for f in STABLE], axis=0)
    n = g.size
    if n < 2:
        raise ValueError(f"ordering: the paired t-test needs at least 2 seeds, got {n}; run more seeds")
    mean, se = float(g.mean()), float(np.std(g, ddof=1) / np.sqrt(n))
    t = mean / se if se > 0 else (np.inf if mean > 0 else (-np.inf if mean < 0 else 0.0))
    p = float(student_t.sf(t, n - 1)) if mean != 0 else 1.0
    out = {f: {"gaps": d[f].tolist(), "mean": float(d[f].mean()),
               "se": float(np.std(d[f], ddof=1) / np.sqrt(n)), "positive": bool(d[f].mean() > 0)} for f in STABLE}
    out["pooled"] = {"gaps": g.tolist(), "mean": mean, "se": se, "t": float(t), "p": p, "n": n,
                     "alpha": alpha, "floor": floor}
    out["passed"] = bool(p < alpha and mean >= floor and all(out[f]["positive"] for f in STABLE))
    return out


def pass_rates(main: dict, control: dict, n: int, alpha: float = ALPHA, draws: int = 10000,
               rng: int | np.random.Generator = 0) -> tuple[float, float]:
    """Estimated probability over run seeds that :func:`ordering` passes with ``n`` seeds: draw ``n`` of the measured
    seeds with replacement (the same draw for the main accuracies ``main`` and the control's ``control``, both
    ``{f: [acc per seed]}`` on the same seeds) ``draws`` times; returns (main rate, control rate)."""
    gen = np.random.default_rng(rng)
    m = len(main["direct"])
    hits = np.zeros(2)
    for _ in range(draws):
        idx = gen.integers(m, size=n)
        for j, acc in enumerate((main, control)):
            hits[j] += ordering({f: np.asarray(acc[f])[idx] for f in FS}, alpha)["passed"]
    return float(hits[0] / draws), float(hits[1] / draws)


#: seeds at each size (``ctx.pick``). Every size runs ``SETTING`` and the same criterion: the cheaper settings we
#: measured for ``--quick`` lose the effect (16 seeds each, pooled mean gap to direct: pixels held 2 steps +0.7,
#: width 8 with 720 training images and batch 16 +0.7, 720 training images and batch 16 +4.3 with its one-epoch
#: control at +0.9; docs/reproductions.md), so ``--quick`` runs the fewest seeds a paired t-test allows
N_SEEDS = {"quick": 2, "default": 10, "full": 20}
#: estimated probability over run seeds that the check passes (main setting) and that its one-epoch control passes:
#: :func:`pass_rates` on 40 measured seeds (``python -m theory.table1 --seeds 20 --run-seed 7,11 --resample 2,10,20
#: --workers 2``; docs/reproductions.md, Table 1 section)
RATES = {"quick": (0.228, 0.029, "2 of 40 measured seeds at α = 0.06 (10 000 draws)"),
         "default": (0.973, 0.017, "10 of 40 measured seeds at α = 0.06 (10 000 draws)"),
         "full": (0.9999, 0.013, "20 of 40 measured seeds at α = 0.06 (10 000 draws)")}


def _pm(o: dict, f: str) -> str:
    """``+6.3 ± 1.1`` (mean gap ± standard error)."""
    return f"{o[f]['mean']:+.1f} ± {o[f]['se']:.1f}"


def _pooled_text(o: dict) -> str:
    q = o["pooled"]
    return (f"pooled gap {q['mean']:+.1f} ± {q['se']:.1f} points (t = {q['t']:.2f}, one-sided p = {q['p']:.2g}, "
            f"n = {q['n']})")


def _gap_text(o: dict) -> str:
    return (_pooled_text(o) + "; per map " + "; ".join(
        f"{f} {_pm(o, f)} (gaps {', '.join(f'{g:+.1f}' for g in o[f]['gaps'])})" for f in STABLE))


@check("table1-ordering", order=35, title="P1 Table 1: stable parameterisations beat direct on sequential digits",
       statement="[P1] Table 1: on sequential image classification, stable reparameterisations (softplus "
                 "71.36 %, exp 70.55 %, inverse 70.77 %) end better than the direct parameterisation (68.47 %) "
                 "after 10 epochs — the ordering stable > direct is the target.")
def table1_ordering(ctx: Context) -> Result:
    t0 = time.perf_counter()
    n_seeds = ctx.pick(N_SEEDS["quick"], N_SEEDS["default"], N_SEEDS["full"])
    seeds = [int(ctx.rng(30, k).integers(2**31)) for k in range(n_seeds)]
    res = ctx.memo(("table1", "main"), lambda: compare(seeds, ctx.map))
    ctrl = {"one-epoch": (1, "students trained for one epoch instead of 10 (the training premise removed)"),
            "untrained": (0, "the initial models, untrained (identical initial W for every f)")}
    ctrl_res = {k: ctx.memo(("table1", k), lambda ep=ep: compare(seeds, ctx.map, epochs=ep))
                for k, (ep, _) in ctrl.items()}
    acc, wins, common = res["acc"], res["wins"], res["settings"]
    crit = ordering(acc)
    ctrl_crit = {k: ordering(r["acc"]) for k, r in ctrl_res.items()}
    mean = {f: 100 * float(np.mean(acc[f])) for f in FS}
    per_seed = [all(acc[f][i] > acc["direct"][i] for f in STABLE) for i in range(n_seeds)]
    rate = {f: [-r["alpha"] for r in res["best"][f]] for f in FS}  # slowest decay rate −α(W) of the trained W
    loss = {f: np.mean([r["loss"] for r in res["best"][f]], axis=0) for f in FS}
    fig = _figure(ctx, acc, loss, rate, T=64 * common["hold"] + common["delay"])
    tried = ["| setting (5 seeds, width 16) | mean acc % softplus / exp / inverse / direct | all stable > direct |",
             "|---|---|---|"] + [f"| {a} | {b} | {c} |" for a, b, c in TRIED]
    train_cpu = sum(r["seconds"] for r in res["runs"] + [r for v in ctrl_res.values() for r in v["runs"]])
    seconds = time.perf_counter() - t0
    p_main, p_ctrl, how = RATES[ctx.size]
    n_train = common.get("train_size") or 1437
    details = (
        f"**Setting.** The shipped digits (`theory/data/digits.npz`: 1797 8×8 images, the UCI optdigits test set as "
        f"bundled by scikit-learn), read pixel by pixel with each pixel held for {common['hold']} steps (T = "
        f"{64 * common['hold']}, d = 1; sequential MNIST has T = 784), pixels / 16, random 80/20 split per seed "
        f"({n_train} training images, 360 test); euler tanh RNN, Δt = 1, W = −Pᵀ diag(f(w)) P (symmetric structure, "
        f"P orthogonal at init, trained), width {common['hidden']}, initial rates log-uniform in {common['rates']} — "
        f"identical P, U, C, rates for all f of a seed; Adam lr {common['lrs'][0]} for every f (one optimiser "
        f"setting for all f, as in the paper), batch {common['batch']}, gradient clipping at {common['clip']}, "
        f"{common['epochs']} epochs (as in the paper), softmax cross-entropy on the last step; {n_seeds} seeds. Test "
        "accuracy (%) per seed:\n\n" + "\n".join(table(res)) + "\n\n"
        "**PASS criterion** (a pooled paired test; n and α fixed on 40 other seeds, below). Per seed s, the pooled gap "
        "g_s = mean over the stable maps (softplus, exp, inverse) of acc_f − acc_direct, in points (same seed: same "
        f"split and initial model). PASS iff the one-sided paired t-test of mean(g) > 0 rejects at level α = {ALPHA:g} "
        f"(t = mean(g)/(sd(g)/√n), n − 1 degrees of freedom), mean(g) ≥ {FLOOR:g} point (a practical floor), and "
        "every stable map's own mean gap is > 0 (each stable f above direct on average: the ordering of Table 1). "
        f"Measured: {_gap_text(crit)}. Wall time {seconds:.1f} s (per-run times summed: {train_cpu:.1f} s, main and "
        "controls).\n\n"
        "**Controls** (the same criterion and code): `one-epoch` (" + _gap_text(ctrl_crit["one-epoch"]) + ") "
        "and `untrained` (every f starts from the same W: " + _pooled_text(ctrl_crit["untrained"]) + "). "
        "A control that passed would show that the ordering does not need the 10 epochs of training.\n\n"
        f"**How reliable the verdict is** ({ctx.size} size). Per seed the ordering is noisy: on 40 measured seeds "
        "of the default setting the stable maps beat direct in 32, 35, 37 of 40 seeds (mean gaps +7.6, +8.3, +8.6 "
        "points) and the one-epoch control's gaps scatter by ±4–5 points (360 test images), so no per-seed "
        f"criterion is reliable. Resampling {how}, this criterion at this size passes for an estimated "
        f"{100 * p_main:.0f} % of run seeds and its one-epoch control for {100 * p_ctrl:.1f} % "
        "(docs/reproductions.md, Table 1 section, has the commands).\n\n"
        "**Reading.** The held sequence is long enough for memory to matter. The stable maps move a small rate "
        "λ multiplicatively (dλ = f'(w) dw with f' ≈ λ for exp/softplus, −λ² for inverse), so the slow modes "
        "that carry the early pixels survive training; direct's Adam steps change every λ by ~lr regardless "
        "of its size, and the slowest modes are lost: after training, the slowest decay rate −α(W) of direct's "
        "W is ~0.06 vs ~0.02 for the stable maps (table: −α(W); initial rates ≥ 0.02). It is an effect on "
        "training speed and step size: after one epoch the parameterisations are level. With the learning rate "
        "chosen per f on a validation split (grid 0.001–0.03), the means stay ordered after 10 epochs (10 seeds: "
        "45.3 / 42.1 / 45.3 vs 38.3) but per seed exp beats direct in only 7/10 (softplus, inverse 9/10), and after "
        "30 epochs the gap mostly closes (direct picks lr 0.003 and ends 0.4–2.4 points behind). Other settings we "
        "measured (default seeds; per-seed tables in docs/reproductions.md):\n\n" + "\n".join(tried) + "\n\n"
        "**Differences from the paper.** The paper's setup (dataset, width, Δt) is underspecified; we use a "
        "small dataset shipped with the package (1437 training images instead of 60 000, so 10 epochs are "
        "450 Adam steps instead of ~19 000), so absolute accuracies are not comparable — only the ordering is. "
        f"Sizes: --quick {N_SEEDS['quick']} seeds (a smoke test: passes for an estimated "
        f"{100 * RATES['quick'][0]:.0f} % of run seeds), default {N_SEEDS['default']} seeds, --full "
        f"{N_SEEDS['full']}, all of the same setting and criterion. "
        "Other settings: `python -m theory.table1 --help`."
    )
    ctrls = [Control(k, why, ctrl_crit[k]["passed"], _pooled_text(ctrl_crit[k]) + "; per map " + ", ".join(
        f"{f} {ctrl_crit[k][f]['mean']:+.1f}" for f in STABLE)) for k, (_, why) in ctrl.items()]
    q = crit["pooled"]
    return Result(
        passed=crit["passed"],
        summary="test acc % (mean over seeds) " + ", ".join(f"{f} {mean[f]:.1f}" for f in FS)
                + f"; pooled paired gap to direct {q['mean']:+.1f} ± {q['se']:.1f} points (t = {q['t']:.2f}, "
                f"p = {q['p']:.2g} vs α = {ALPHA:g}, {n_seeds} seeds); per map " + ", ".join(
                    f"{f} {crit[f]['mean']:+.1f}" for f in STABLE)
                + "; beats direct in " + ", ".join(f"{wins[f]}/{n_seeds}" for f in STABLE)
                + f" seeds (est. pass rate {100 * p_main:.0f} %, control {100 * p_ctrl:.1f} %)",
        details=details, figures=[fig], controls=ctrls,
        data={"accuracy": acc, "seeds": seeds, "wins": wins, "criterion": crit, "per_seed_ordering": per_seed,
              "controls": {k: {"accuracy": r["acc"], "criterion": ctrl_crit[k]} for k, r in ctrl_res.items()},
              "estimated_pass_rate": {"main": p_main, "one-epoch": p_ctrl, "how": how},
              "paper": PAPER, "settings": common, "mean_loss_per_epoch": {f: loss[f].tolist() for f in FS},
              "runs": [{k: r[k] for k in ("f", "seed", "lr", "acc", "val_acc", "min_rate", "alpha",
                                          "seconds")} for r in res["runs"]]},
    )


def main(argv: list[str] | None = None) -> None:
    """``python -m theory.table1``: the comparison in other settings (prints the per-seed table); with
    ``--resample``, also the one-epoch control and the estimated pass rates of the check's criterion."""
    import argparse
    from concurrent.futures import ProcessPoolExecutor

    p = argparse.ArgumentParser(prog="python -m theory.table1", description=main.__doc__)
    p.add_argument("--seeds", type=int, default=5, help="number of seeds per run seed (default 5)")
    p.add_argument("--run-seed", default="0", help="as `python -m theory --seed`; comma-separated: the seeds of "
                   "each run seed, concatenated (default 0)")
    p.add_argument("--lrs", default="0.01", help="comma-separated learning rates; several: chosen per (seed, f) "
                   "on a 20 %% validation split (default 0.01)")
    for k in ("hold", "delay", "epochs", "hidden", "batch"):
        p.add_argument(f"--{k}", type=int, default=SETTING[k], help=f"default {SETTING[k]}")
    p.add_argument("--train-size", type=int, default=0, help="use only this many training images (0: all)")
    p.add_argument("--pixelwise", type=int, default=1, help="1: pixel by pixel (default), 0: row by row")
    p.add_argument("--rates", default="0.02,1.0", help="initial decay rates (low,high), default 0.02,1.0")
    p.add_argument("--resample", default="", help="comma-separated numbers of seeds n: also train for one epoch "
                   "(the check's control) and print, for each n, the estimated fraction of run seeds where the "
                   f"criterion (α = --alpha) passes, main and control ({10000} draws of n of the measured seeds)")
    p.add_argument("--alpha", type=float, default=ALPHA, help=f"level of the criterion's t-test (default {ALPHA})")
    p.add_argument("--workers", type=int, default=1)
    a = p.parse_args(argv)
    changes = dict(hold=a.hold, delay=a.delay, epochs=a.epochs, hidden=a.hidden, batch=a.batch,
                   pixelwise=bool(a.pixelwise), rates=tuple(float(v) for v in a.rates.split(",")),
                   train_size=a.train_size)
    lrs = tuple(float(v) for v in a.lrs.split(","))
    seeds = [s for rs in a.run_seed.split(",") for s in seeds_for(a.seeds, int(rs))]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(a.workers) as ex:
        mapper = ex.map if a.workers > 1 else map
        res = compare(seeds, mapper, lrs=lrs, **changes)
        ctrl = compare(seeds, mapper, lrs=lrs, **dict(changes, epochs=1)) if a.resample else None
    n = len(seeds)
    allw = sum(all(res["acc"][f][i] > res["acc"]["direct"][i] for f in STABLE) for i in range(n))
    print("\n".join(table(res)))
    cpu = sum(r["seconds"] for r in res["runs"] + (ctrl["runs"] if ctrl else []))
    print(f"\nall three stable f ahead of direct in {allw}/{n} seeds; {time.perf_counter() - t0:.1f} s wall, "
          f"{cpu:.1f} s of training")
    if n > 1:
        print("criterion on all these seeds:", _gap_text(ordering(res["acc"], a.alpha)))
    if ctrl:
        print("\none epoch:\n" + "\n".join(table(ctrl)))
        print("criterion on all these seeds, one epoch:", _gap_text(ordering(ctrl["acc"], a.alpha)))
        for k in (int(v) for v in a.resample.split(",")):
            pm, pc = pass_rates(res["acc"], ctrl["acc"], k, a.alpha)
            print(f"n = {k} seeds, α = {a.alpha:g}: criterion passes for {100 * pm:.1f} % of run seeds, "
                  f"one-epoch control for {100 * pc:.1f} %")


if __name__ == "__main__":
    main()
