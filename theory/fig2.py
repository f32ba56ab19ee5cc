"""[P1] Fig. 2: nonlinear (tanh, hardtanh) RNNs trained on a polynomial-memory target are not stably approximated.

Setting (docs/math.md §7; [P1] App. D): ``euler`` RNNs dh/dt = σ(Wh + Ux + b), ŷ = Ch, Δt = 1, T = 100, trained by
:func:`rnnmem.fit` (Numba BPTT, Adam, MSE) on the linear functional y_k = Σ_j ρ(j) x_{k−j} with
ρ(t) = (1 + t)^{−1.5}, i.i.d. N(0, 1) inputs; widths m of growing size. Each trained model's perturbation error
E_m(β) (mean squared error on held-out inputs, every block W, U, b, C perturbed in its spectral-norm β-ball, random
directions + the worst cases W + βI) is drawn against β. The curse of memory predicts: E_m(0) falls with m, while
the β at which the wider model's curve crosses the narrower one's moves toward 0 (no stable approximation).
The exponential target ρ(t) = e^{−t} is trained with the same settings for contrast (epochs to converge).

The helpers here (settings, training job, perturbation curves, figures) are shared by ``theory/reparam_figs.py``
(Figs. 4, 8) and ``theory/fig7.py``.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

import numpy as np

import rnnmem as rm
from rnnmem.reparam import ReparamRNN
from rnnmem.stability import spectral_abscissa, spectral_radius
from theory._registry import Context, Result, check
from theory.fig1 import crossing

#: ρ of the two targets ([P1] App. D: p = 1.5 for the nonlinear experiments)
TARGETS = {"pol": lambda: rm.targets.polynomial(1.5), "exp": lambda: rm.targets.exponential(1.0)}


@contextmanager
def single_threaded_blas():
    """Run BLAS on one thread (if threadpoolctl is installed).

    The BPTT gradient sums are (T·B, m) matrix products far too small for threads; measured on this 2-core
    machine under load, OpenBLAS threading made a width-16 gradient 10-20× slower (10.8 ms vs 0.6 ms).
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional; only speed is affected
        yield
        return
    with threadpool_limits(1, user_api="blas"):
        yield


def settings(ctx: Context, activation: str = "tanh") -> dict:
    """Sizes of the trained-RNN experiments (Figs. 2, 4, 7, 8) for this run (see the module docstrings).

    The ReLU (elman) models learn more slowly: at ``--quick`` size they get 3× the epochs, patience 8 and widths 4, 16.
    """
    n_beta, step = ctx.pick((21, 2), (21, 2), (27, 2))
    slow = activation == "relu" and ctx.quick
    return {
        "T": 100, "dt": 1.0, "n_train": ctx.pick(128, 256, 512), "n_test": 64, "batch": 32, "lr": 0.01,
        "epochs": 300 if slow else ctx.pick(100, 250, 400),
        "widths": [4, 16] if slow else ctx.pick([4, 8], [4, 8, 16], [8, 16, 32, 64]),
        "betas": np.r_[0.0, 1e-3 * 2.0 ** (np.arange(n_beta) / step)],
        "samples": ctx.pick(8, 8, 10),
        "init_sigma": 0.5, "input_gain": 0.1, "clip": 0.5, "error": "mse",
        "patience": 8 if slow else ctx.pick(2, 8, 15), "factor": 0.3,
    }


def data(ctx: Context, target: str) -> dict:
    """Training and held-out inputs/outputs of a target (seeded by the run seed)."""
    s = settings(ctx)
    f = TARGETS[target]()
    x = rm.targets.sample_inputs(s["n_train"], s["T"], rng=ctx.rng(20, 0))
    xt = rm.targets.sample_inputs(s["n_test"], s["T"], rng=ctx.rng(20, 1))
    return {"x": x, "y": f(x, dt=s["dt"]), "x_test": xt, "y_test": f(xt, dt=s["dt"]), "target": f}


def initial_model(kind: str, m: int, *, activation: str = "tanh", f: str = "softplus", seed: int = 0,
                  sigma: float = 0.5, input_gain: float = 0.1, dt: float = 1.0, cell: str = "euler"):
    """The documented initialisation of every trained model.

    ``kind="direct"``: :meth:`rnnmem.RNN.random` (W = σG/√m − I, σ = 0.5, so Re λ(W) ∈ [−1.5, −0.5]).
    ``kind="reparam"``: a diagonal :class:`~rnnmem.reparam.ReparamRNN`, W = −diag(f(w)), rates f(w)
    log-uniform in [0.5, 1.5] (the same range). Both then get U ← g·U and C ← C/g with g = ``input_gain``, so
    the pre-activations start small (near-linear regime) at unchanged initial input-output gain.
    """
    if kind == "direct":
        model = rm.RNN.random(m, cell=cell, activation=activation, dt=dt, sigma=sigma, rng=seed)
    else:
        model = ReparamRNN.random(m, structure="diagonal", f=f, cell=cell, activation=activation, dt=dt,
                                  rates=(0.5, 1.5), rng=seed)
    return model.replace(U=model.U * input_gain, C=model.C / input_gain)


def grow(model, new):
    """A wider model computing the same function: ``model``'s units plus the units of ``new`` with zero readout.

    Direct: W ← blockdiag(W, W_new); reparameterised (diagonal): w ← (w, w_new); U, b stacked; C ← (C, 0).
    """
    kw = {"U": np.vstack([model.U, new.U]), "b": np.concatenate([model.b, new.b]),
          "C": np.hstack([model.C, np.zeros_like(new.C)])}
    if isinstance(model, ReparamRNN):
        kw["w"] = np.concatenate([model.w, new.w])
    else:
        m, k = model.hidden, new.hidden
        W = np.zeros((m + k, m + k))
        W[:m, :m], W[m:, m:] = model.W, new.W
        kw["W"] = W
    return model.replace(**kw)


def train_job(spec: dict) -> dict:
    """Train a nested family of widths on one target (top-level and picklable, for ``ctx.map``).

    Width m_1 starts from :func:`initial_model`; width m_{i+1} starts from the trained width m_i grown by
    m_{i+1} − m_i fresh units with zero readout (:func:`grow`), so every width starts where the previous one ended.
    """
    out = {}
    prev = None
    with single_threaded_blas():
        for i, m in enumerate(spec["widths"]):
            t0 = time.perf_counter()
            k = m if prev is None else m - prev.hidden
            fresh = initial_model(spec["kind"], k, activation=spec["activation"], f=spec.get("f", "softplus"),
                                  seed=spec["seed"] + i, sigma=spec["sigma"], input_gain=spec["input_gain"],
                                  cell=spec.get("cell", "euler"))
            model = fresh if prev is None else grow(prev, fresh)
            res = rm.fit(model, spec["x"], spec["y"], epochs=spec["epochs"], lr=spec["lr"],
                         batch_size=spec["batch"], clip=spec["clip"], stop_loss=spec.get("stop_loss"),
                         plateau_patience=spec["patience"], plateau_factor=spec["factor"], min_lr=1e-5,
                         rng=spec["seed"] + 100 + i, progress=False)
            prev = res.model
            out[m] = {"model": res.model, "fit": res, "loss": res.history["loss"],
                      "seconds": time.perf_counter() - t0}
    return out


def train_families(ctx: Context, jobs: list[dict]) -> list[dict]:
    """Train several nested families (one per dict of :func:`train_family` keyword arguments, plus ``target``),
    in parallel when the run has an executor (``--workers``/``--dask``)."""
    prepared = []
    for job in jobs:
        job = dict(job)
        target = job.pop("target")
        kind, activation = job.get("kind", "direct"), job.get("activation", "tanh")
        s = settings(ctx, activation)
        d = data(ctx, target)
        spec = dict(kind=kind, widths=s["widths"], activation=activation, f=job.get("f", "softplus"), x=d["x"],
                    y=d["y"], cell=job.get("cell", "euler"), epochs=s["epochs"], lr=s["lr"], batch=s["batch"],
                    sigma=s["init_sigma"], input_gain=s["input_gain"], clip=s["clip"],
                    stop_loss=job.get("stop_loss"), patience=s["patience"], factor=s["factor"],
                    seed=int(ctx.rng(21, job.get("key", 0)).integers(2**31)))
        prepared.append((spec, d, s))
    runs = ctx.map(train_job, [p[0] for p in prepared])
    return [{"data": d, "runs": r, "settings": s} for (_, d, s), r in zip(prepared, runs, strict=True)]


def train_family(ctx: Context, target: str, *, kind: str = "direct", activation: str = "tanh",
                 f: str = "softplus", key: int = 0, stop_loss: float | None = None, cell: str = "euler") -> dict:
    """Train the nested family of ``settings(ctx)['widths']`` on ``target``: models, losses, timings."""
    return train_families(ctx, [dict(target=target, kind=kind, activation=activation, f=f, key=key,
                                     stop_loss=stop_loss, cell=cell)])[0]


def curves_of(ctx: Context, fam: dict, key: int = 0, raw: bool = True) -> dict:
    """Perturbation curves E_m(β) of the trained models (raw parameters, or the effective W if not ``raw``)."""
    s, d = fam["settings"], fam["data"]
    out = {}
    with single_threaded_blas():
        for m, run in fam["runs"].items():
            model = run["model"] if raw else run["model"].to_rnn()
            out[m] = rm.perturbation_error(model, d["y_test"], s["betas"], x=d["x_test"], samples=s["samples"],
                                           error=s["error"], rng=ctx.rng(22, key, m))
    return out


def crossings(betas: np.ndarray, curves: dict) -> list[float]:
    """β at which each wider model's curve first exceeds the next narrower one's (nan: never)."""
    ms = sorted(curves)
    return [crossing(betas, curves[ms[i]].errors, curves[ms[i + 1]].errors)[0] for i in range(len(ms) - 1)]


def figure(ctx: Context, fname: str, panels: list[tuple[str, dict]], title: str) -> str:
    """Perturbation curves, one panel per (title, {m: curve}), written to ``ctx.figdir / fname``."""
    import matplotlib.pyplot as plt

    from rnnmem.plot import plot_perturbation

    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    for ax, (sub, curves) in zip(axes[0], panels, strict=True):
        plot_perturbation({f"m = {m}": c for m, c in sorted(curves.items())}, ax=ax, marker=".")
        ax.set_title(sub, fontsize=9)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    ctx.save_figure(fig, fname)
    return fname


def radius(curve, y2: float) -> float:
    """Blow-up radius of an MSE perturbation curve: the last grid β before E(β) either jumps (log-log slope > 8,
    twice the default of :meth:`~rnnmem.PerturbationCurve.stability_radius` because the MSE is quadratic in the
    output error) or exceeds 100·E[y²] (an RMS error 10× the target's RMS — needed for hardtanh, whose clipped
    states grow at most linearly, so its blow-up can be steep without one jump of slope > 8)."""
    return curve.stability_radius(max_slope=8.0, limit=100.0 * y2)


def margin(model) -> float:
    """Signed distance of the slowest linear mode from the stability boundary: α(W) for the euler cell
    (continuous time), ρ(W) − 1 for the elman cell (discrete time); < 0 is stable."""
    W = model.W
    return spectral_abscissa(W) if model.cell == "euler" else spectral_radius(W) - 1.0


def settings_text(s: dict, cell: str = "euler") -> str:
    """The shared settings paragraph (what we used, what the paper/repo used, why)."""
    b = s["betas"]
    return (
        f"**Settings.** {cell} cell, Δt = 1, T = {s['T']}, i.i.d. N(0, 1) inputs, {s['n_train']} training and "
        f"{s['n_test']} held-out sequences, Adam lr {s['lr']}, batch {s['batch']}, {s['epochs']} epochs "
        f"({s['epochs'] * -(-s['n_train'] // s['batch'])} Adam steps), MSE; widths {s['widths']}; init "
        f"σ = {s['init_sigma']} (Re λ(W) ∈ [−1.5, −0.5]) with U scaled by {s['input_gain']} and C by "
        f"1/{s['input_gain']} (near-linear start). Perturbations: β ∈ {{0}} ∪ {{1e−3·2^(k/2), k < {b.size - 1}}} "
        f"(up to {b[-1]:.3g}), {s['samples']} random directions per β (each block at "
        "spectral norm β) plus, for "
        "a plain W, the worst cases W + βI; E = mean squared error over the held-out sequences and all t "
        "(so E_m(0) is the test MSE). We use the MSE, as the CoM repo does, rather than the sup of Def. 3.4: at "
        "this training budget the sup over 6400 outputs is set by single outliers and does not fall with m.\n\n"
        "**Paper / repo.** [P1] Fig. 2: Adam lr 0.005, batch 128, 12 800 train = test samples, up to 1000 epochs "
        "(≈ 10⁵ steps), β ∈ {0} ∪ {1e−11·2^k, k ≤ 35}, max of 3 perturbations; the repo: T = 100, Δt = 1, AdamW "
        "lr 0.01, widths 8/16/32/64. We keep T = 100 and Δt = 1 (the memory horizon that makes ρ = (1+t)^−1.5 "
        "hard) and cut the data and steps ~50× so the check runs in seconds on 2 cores (--full: more data and "
        "steps, widths 8…64). The β grid starts at 1e−3 because below it every curve is flat at E_m(0)."
    )


def _fig2(ctx: Context, activation: str, name: str | None = None, cell: str = "euler", note: str = "") -> Result:
    s = settings(ctx, activation)
    t0 = time.perf_counter()
    y2 = float(np.mean(data(ctx, "pol")["y"] ** 2))
    thr = (1e-3 * y2, 1e-4 * y2)
    # the contrast only needs convergence speed and radii: each exp width stops once it reaches the strict threshold
    pol, expo = train_families(ctx, [dict(target="pol", activation=activation, key=1, cell=cell),
                                     dict(target="exp", activation=activation, key=2, stop_loss=thr[1],
                                          cell=cell)])
    cp = curves_of(ctx, pol, key=1)
    ce = curves_of(ctx, expo, key=2)
    widths, betas = s["widths"], s["betas"]
    e0 = [cp[m].nominal for m in widths]
    falls = all(e0[i + 1] < e0[i] for i in range(len(e0) - 1))
    improves = e0[-1] < e0[0]
    cross = crossings(betas, cp)
    moves_left = all(np.isfinite(cross)) and all(cross[i + 1] < cross[i] for i in range(len(cross) - 1))
    # MSE is quadratic in the output error: a stable perturbation gives log-log slope <= 2 (vs 1 for sup), so the
    # blow-up rule of PerturbationCurve.stability_radius uses twice its default slope threshold
    radii_pol = [radius(cp[m], y2) for m in widths]
    radii_exp = [radius(ce[m], y2) for m in widths]
    alpha_pol = [margin(pol["runs"][m]["model"]) for m in widths]
    alpha_exp = [margin(expo["runs"][m]["model"]) for m in widths]
    aname = "α(W)" if cell == "euler" else "ρ(W) − 1"
    small_radius = radii_pol[-1] < 0.5 * min(radii_exp)
    alpha_to_zero = alpha_pol[-1] > alpha_pol[0]
    near_boundary = abs(alpha_pol[-1]) < min(abs(a) for a in alpha_exp) / 3
    ep_pol = [[pol["runs"][m]["fit"].epochs_to(t) for m in widths] for t in thr]
    ep_exp = [[expo["runs"][m]["fit"].epochs_to(t) for m in widths] for t in thr]
    # the linearisation margin is meaningful for tanh/hardtanh (σ'(0) = 1); for ReLU σ'(z) ∈ {0, 1} switches off
    # units, so ρ(W) − 1 says little about the trained model's stability and (iii) is reported only
    gate_margin = activation != "relu"
    passed = bool(improves and small_radius and (near_boundary or not gate_margin))
    strict = bool(falls and moves_left)
    fname = figure(ctx, f"{name or 'fig2-' + activation + '-pol'}.png",
                   [(f"pol ρ = (1+t)^−1.5, {activation}", cp), (f"exp ρ = e^−t (contrast), {activation}", ce)],
                   f"[P1] Fig. {'7' if activation == 'relu' else '2'} ({activation}): E_m(β) of trained euler RNNs "
                   "(MSE on held-out inputs)")
    fmt = ", ".join
    rows = [f"| m | E_m(0) pol | crossing with next m | radius pol | {aname} pol | radius exp | {aname} exp | "
            "epochs to τ₁ pol / exp | epochs to τ₂ pol / exp | train s pol / exp |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for i, m in enumerate(widths):
        c = f"{cross[i]:.3g}" if i < len(cross) else "—"
        rows.append(f"| {m} | {e0[i]:.3g} | {c} | {radii_pol[i]:.3g} | {alpha_pol[i]:.3g} | {radii_exp[i]:.3g} | "
                    f"{alpha_exp[i]:.3g} | {ep_pol[0][i]} / {ep_exp[0][i]} | {ep_pol[1][i]} / {ep_exp[1][i]} | "
                    f"{pol['runs'][m]['seconds']:.1f} / {expo['runs'][m]['seconds']:.1f} |")
    details = (
        settings_text(s, cell) + "\n\n" + note
        + "**PASS criterion** (the mechanism of Thm. 3.9, docs/math.md §5, in a form that is robust at this training "
        "budget): on the polynomial target (i) the approximation improves with m: E_{m_max}(0) < E_{m_min}(0); "
        "(ii) the widest pol model is nearly marginal: its blow-up radius (the last β before the MSE curve jumps — "
        "log-log slope > 8, twice the default of PerturbationCurve.stability_radius because the MSE is quadratic — "
        "or exceeds 100·E[y²]) is below half the smallest radius of the exp models trained identically; (iii) its "
        "slowest linear mode is at least 3× closer to the stability boundary than that of every exp model: "
        "|α(W_{m_max})| < min_exp |α(W)| / 3 (elman cell: ρ(W) − 1 in place of α(W); not gated for ReLU, whose "
        "σ' ∈ {0, 1} switches units off, so the linear margin of W says little about the trained model). "
        "**Reported, not gated:** the trend α(W_m) → 0⁻ (α(W_{m_max}) > α(W_{m_min})) and the strict paper "
        "signature — E_m(0) strictly ↓ in m and the crossings of consecutive curves strictly move left. Neither "
        "holds for every seed at this budget (the differences between widths are of the order of the "
        "seed-to-seed noise of ~2000 Adam steps; the paper used ~10⁵); docs/reproductions.md lists seeds 0–2.\n\n"
        "Exponential contrast: epochs until the mean training loss is ≤ τ₁ = 1e−3·E[y²] and τ₂ = 1e−4·E[y²] "
        f"(τ₁ = {thr[0]:.2e}, τ₂ = {thr[1]:.2e}; exp training stops at τ₂). Widths form a nested family: the "
        "first width is trained from the initialisation, each next one starts from the previous trained model "
        "plus fresh units with zero readout (same function) and gets the same budget; so epoch counts of the "
        "first width are from scratch, the others from a warm start.\n\n"
        f"Measured: (i) E_m(0) = {fmt(f'{v:.3g}' for v in e0)} → {improves}; (ii) pol radii "
        f"{fmt(f'{v:.3g}' for v in radii_pol)} vs exp radii {fmt(f'{v:.3g}' for v in radii_exp)} → "
        f"{small_radius}; (iii) {aname} pol {fmt(f'{v:.3g}' for v in alpha_pol)}, exp "
        f"{fmt(f'{v:.3g}' for v in alpha_exp)} → {near_boundary}; trend toward 0: {alpha_to_zero}. Strict "
        f"signature: E_m(0) strictly ↓ {falls}, crossings {fmt(f'{v:.3g}' for v in cross)} strictly left "
        f"{moves_left}. Total wall time {time.perf_counter() - t0:.1f} s.\n\n" + "\n".join(rows) + "\n\n"
        "Reading: to fit the polynomial tail every pol model places an eigenvalue of W close to the imaginary "
        "axis (α(W) ≈ −0.02…−0.06, i.e. memory time ≈ T), so W + βI destabilises it at β ≈ −α; the wider "
        "models push it closer. The exponential target needs no slow mode: α(W) ≈ −0.5 and its curves stay "
        "flat ~10× longer."
    )
    return Result(
        passed=passed,
        summary=(f"pol E_m(0) {fmt(f'{v:.2g}' for v in e0)}; radius pol {fmt(f'{v:.2g}' for v in radii_pol)} vs exp ≥ "
                 f"{min(radii_exp):.2g}; {aname} {alpha_pol[0]:.2g} → {alpha_pol[-1]:.2g}; crossings "
                 f"{fmt(f'{v:.2g}' for v in cross)} (strict signature {'yes' if strict else 'no'}); epochs to τ₂ "
                 f"(m={widths[0]}, scratch) pol {ep_pol[1][0]} vs exp {ep_exp[1][0]}"),
        details=details, figures=[fname],
        data={"widths": widths, "betas": betas, "E0_pol": e0, "crossings": cross, "radii_pol": radii_pol,
              "radii_exp": radii_exp, "alpha_pol": alpha_pol, "alpha_exp": alpha_exp, "thresholds": thr,
              "strict_signature": strict, "improves": improves, "small_radius": small_radius,
              "near_boundary": near_boundary,
              "alpha_to_zero": alpha_to_zero,
              "epochs_to_threshold_pol": ep_pol, "epochs_to_threshold_exp": ep_exp,
              "errors_pol": {m: cp[m].errors for m in widths}, "errors_exp": {m: ce[m].errors for m in widths},
              "loss_pol": {m: pol["runs"][m]["loss"][-1] for m in widths},
              "loss_exp": {m: expo["runs"][m]["loss"][-1] for m in widths},
              "train_seconds": {m: pol["runs"][m]["seconds"] + expo["runs"][m]["seconds"] for m in widths}},
    )


STATEMENT = ("[P1] Fig. 2 / Thm. 3.9: {act} RNNs trained on ρ(t) = (1+t)^−1.5 fit better as m grows (E_m(0) ↓) "
             "but the crossings of consecutive perturbation curves move toward β = 0: no stable approximation "
             "of a polynomial-memory target. (Exponential targets converge far faster.)")


@check("fig2-tanh-pol", order=30, title="P1 Fig. 2, tanh RNN on polynomial memory: unstable",
       statement=STATEMENT.format(act="tanh"))
def fig2_tanh_pol(ctx: Context) -> Result:
    return _fig2(ctx, "tanh")


@check("fig2-hardtanh-pol", order=31, title="P1 Fig. 2, hardtanh RNN on polynomial memory: unstable",
       statement=STATEMENT.format(act="hardtanh"))
def fig2_hardtanh_pol(ctx: Context) -> Result:
    return _fig2(ctx, "hardtanh")

