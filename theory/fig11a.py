"""[P1] App. I.1, Fig. 11(a): random tanh RNNs have diverse memory functions, and some of them do not decay.

Population: continuous-time tanh RNNs dh/dt = tanh(Wh + Ux + b) ([P1] eq. 1; euler cell, Δt = 0.1) of width 16 with
W = σG/√m − I, σ drawn uniformly in [0.4, 1.6] (so the linearisation at rest, W, is Hurwitz for some models and
not for others), b ~ N(0, 0.2²). Memory: :func:`rnnmem.memory_function` (Heaviside inputs in the linear regime
|x|_∞ ≤ 1) on t ≤ 200, tail fitted by :func:`rnnmem.fit_decay`.
"""

from __future__ import annotations

import numpy as np

import rnnmem as rm
from theory import _teachers as T
from theory._registry import Context, Control, Result, check
from theory.p2 import single_blas

DT, M_HIDDEN = 0.1, 16


def classify(mf) -> dict:
    """Decaying: M(t_end) ≤ 1e-3 max M and the tail is exponential (``fit_decay``) with rate > 0.
    Non-decaying: the exponential rate fitted on the last half is below 0.5/t_end (less than half an e-fold over the
    horizon) and min M over the last quarter is ≥ 0.1 max M. Anything else (slow decay) is left unclassified."""
    M = mf.values
    n, peak, t_end = M.size, float(M.max()), float(mf.t[-1])
    fit = T.tail_fit(mf)
    # the late fit is needed only where the last half is well above the rounding floor
    late_rate = (rm.fit_decay(mf.t, M, window=(0.5 * t_end, t_end)).rate if M[n // 2:].min() >= 1e-6 * peak
                 else float("inf"))
    decaying = bool(M[-1] <= 1e-3 * peak and fit.kind == "exponential" and fit.rate > 0)
    non_decaying = bool(late_rate < 0.5 / t_end and M[3 * n // 4:].min() >= 0.1 * peak)
    return {"decaying": decaying, "non_decaying": non_decaying, "rate": float(fit.rate), "kind": fit.kind,
            "late_rate": float(late_rate), "class": "decaying" if decaying else ("non-decaying" if non_decaying
                                                                               else "unclassified")}


def _sample(ctx: Context, seed_key: int, sigma_range: tuple[float, float], n_models: int, T_steps: int) -> dict:
    gen = ctx.rng(111, seed_key)
    rows = []
    for _ in range(n_models):
        sigma = float(gen.uniform(*sigma_range))
        rnn = rm.RNN.random(M_HIDDEN, 1, 1, cell="euler", activation="tanh", dt=DT, sigma2=sigma**2, bias=0.2, rng=gen)
        mf = rm.memory_function(rnn, T_steps, amplitudes=T.LINEAR_REGIME, rng=gen)
        rows.append({"sigma": sigma, "alpha": float(rm.spectral_abscissa(rnn.W)), "t": mf.t, "M": mf.values,
                     **classify(mf)})
    return rows


def _diverse(rows) -> dict:
    """The claim on one sample: some memories do not decay, and the decaying ones are diverse (at least two, with
    exponential rates differing by a factor ≥ 1.5)."""
    rates = sorted(r["rate"] for r in rows if r["decaying"])
    n_non = sum(r["non_decaying"] for r in rows)
    spread = rates[-1] / rates[0] if len(rates) >= 2 else 1.0
    return {"n_decaying": len(rates), "n_non_decaying": n_non, "rate_spread": float(spread),
            "holds": bool(n_non >= 1 and len(rates) >= 2 and spread >= 1.5)}


@check("fig11a-diverse-memories", order=319,
       title="Random tanh RNNs: diverse memory functions, some not decaying (P1 App. I.1, Fig. 11(a))",
       statement="[P1 App. I.1, Fig. 11(a)] The memory functions of randomly initialised tanh RNNs are diverse: some "
                 "decay (at different exponential rates) and some do not decay at all.")
@single_blas
def fig11a(ctx: Context) -> Result:
    n_models = ctx.pick(8, 16, 24)
    seeds = ctx.pick(1, 3, 5)
    T_steps = ctx.pick(1000, 2000, 4000)
    samples = [_sample(ctx, s, (0.4, 1.6), n_models, T_steps) for s in range(seeds)]
    verdicts = [_diverse(rows) for rows in samples]
    stable = _sample(ctx, 99, (0.1, 0.5), n_models, T_steps)
    cv = _diverse(stable)
    passed = all(v["holds"] for v in verdicts)
    rows = [r for rs in samples for r in rs]
    hurwitz_nondec = [r for r in rows if r["non_decaying"] and r["alpha"] < 0]

    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), layout="constrained")
    colors = {"decaying": "C0", "non-decaying": "C3", "unclassified": "0.6"}
    for r in samples[0]:
        axes[0].semilogy(r["t"], np.maximum(r["M"], 1e-17), color=colors[r["class"]], lw=0.9)
    for name, c in colors.items():
        axes[0].plot([], [], color=c, label=name)
    axes[0].set_ylim(1e-14, None)
    axes[0].set_xlabel("t")
    axes[0].set_ylabel("memory M(t) (Heaviside, |x| ≤ 1)")
    axes[0].set_title(f"{n_models} random tanh RNNs (seed 0), σ ∈ [0.4, 1.6]", fontsize=9)
    axes[0].legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False)
    for r in rows:
        axes[1].scatter(r["alpha"], max(r["late_rate"], 1e-4) if r["class"] != "decaying" else r["rate"],
                        color=colors[r["class"]], s=14)
    for r in stable:
        axes[1].scatter(r["alpha"], r["rate"], marker="x", color="k", s=14)
    for name, c in colors.items():
        axes[1].scatter([], [], color=c, s=14, label=f"{name} (σ ∈ [0.4, 1.6], all seeds)")
    axes[1].scatter([], [], marker="x", color="k", label="control: σ ∈ [0.1, 0.5]")
    axes[1].axvline(0, color="k", lw=0.6)
    axes[1].set_yscale("log")
    axes[1].set_xlabel("spectral abscissa α(W)")
    axes[1].set_ylabel("fitted decay rate (tail; 1e-4 if none)")
    axes[1].set_title("decay rate against the linearisation's α(W)", fontsize=9)
    axes[1].legend(fontsize=7, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False)
    fig_name = ctx.save_figure(fig, "fig11a-diverse-memories.png")

    summary = "; ".join(f"seed {i}: {v['n_decaying']} decaying (rates ×{v['rate_spread']:.1f}), {v['n_non_decaying']} "
                        "non-decaying" for i, v in enumerate(verdicts)) + f" of {n_models}"
    details = (
        f"Random continuous-time tanh RNNs (euler cell, Δt = {DT}, width {M_HIDDEN}, W = σG/√m − I with σ ~ "
        f"U[0.4, 1.6], U ~ N(0, 1), b ~ N(0, 0.2²)), {n_models} per seed, {seeds} seeds; memory by "
        f"`rm.memory_function` (Heaviside, 7 amplitudes in [1e-3, 1], both signs) on t ≤ {T_steps * DT:.0f}. "
        "Classification: *decaying* if M(t_end) ≤ 1e-3 max M and `rm.fit_decay` finds an exponential tail with rate "
        "> 0; *non-decaying* if the exponential rate fitted on the last half is < 0.5/t_end and min M over the last "
        "quarter ≥ 0.1 max M; otherwise unclassified (a slow decay that the horizon cannot settle, or a tail whose "
        "exponential and power fits `fit_decay` cannot separate).\n\n"
        "| seed | decaying | decay rates | non-decaying (α(W) of each) | unclassified |\n|---|---|---|---|---|\n"
        + "\n".join(f"| {i} | {v['n_decaying']} | " + ", ".join(f"{r['rate']:.3f}" for r in rs if r["decaying"])
                    + f" | {v['n_non_decaying']} (" + ", ".join(f"{r['alpha']:+.2f}" for r in rs if r["non_decaying"])
                    + f") | {sum(r['class'] == 'unclassified' for r in rs)} |"
                    for i, (v, rs) in enumerate(zip(verdicts, samples, strict=True)))
        + "\n\nPASS (every seed): at least one non-decaying memory, and at least two decaying ones whose rates "
        "differ by a factor ≥ 1.5. Control: the same criterion on a stable-only sample (σ ~ U[0.1, 0.5]: every W "
        f"strongly Hurwitz); it must FAIL — it has {cv['n_non_decaying']} non-decaying and {cv['n_decaying']} "
        f"decaying memories. In the linear regime the non-decaying memories belong to models whose linearisation at "
        f"rest is not Hurwitz (α(W) ≥ 0) or marginal; {len(hurwitz_nondec)} non-decaying model(s) had α(W) < 0 "
        "(the large-input mechanism of `fig11-attractors` needs |x| > 1).")
    controls = [Control("stable-only", "a stable-only sample (σ ~ U[0.1, 0.5], α(W) ≤ −0.4)", cv["holds"],
                        f"{cv['n_decaying']} decaying (rates ×{cv['rate_spread']:.1f}), {cv['n_non_decaying']} "
                        "non-decaying")]
    data = {"seeds": [{"verdict": v, "models": [{k: r[k] for k in ("sigma", "alpha", "rate", "late_rate", "class")}
                                                for r in rs]} for v, rs in zip(verdicts, samples, strict=True)],
            "control": {"verdict": cv, "models": [{k: r[k] for k in ("sigma", "alpha", "rate", "class")}
                                                  for r in stable]}}
    return Result(passed, summary, details, [fig_name], data, controls=controls,
                  seeds={i: v["holds"] for i, v in enumerate(verdicts)})
