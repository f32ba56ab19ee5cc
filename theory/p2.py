"""[P2] Emami et al., *Implicit Bias of Linear RNNs* (ICML 2021): the kernel regime of wide linear RNNs.

Checks p2-ntk-limit, p2-lag-weights, p2-dynamics, p2-implicit-bias, p2-bias-variance (docs/math.md §7b). The lag
weights ρ_j² are the form *derived* in docs/math.md §7b, not a formula printed in [P2] (whose body text we could not
consult); these checks are the Monte-Carlo evidence for it.

Every check computes its criterion with a kernel (or interpolant) passed as an argument, and its negative controls
are the same criterion with a deliberately wrong one: uniform lag weights with the same mean as ρ_j², ρ_j² without
the jν_Cν_Uσ^{2(j−1)} term (W not trained), or the unweighted minimum-norm interpolant (R = I).
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from rnnmem import ntk
from theory._registry import Context, Control, Result, check

SIGMA2S = (0.5, 0.81, 1.0, 1.21)
STATEMENT_7B = ("[P2] §3–4, in the form derived in docs/math.md §7b (not the paper's printed formula): for a wide "
                "linear RNN in the NTK parameterisation the Markov-parameter Gram G_ij = ⟨∇θ L_i, ∇θ L_j⟩ tends to "
                "diag(ρ_j²), ρ_j² = (ν_C + ν_U)σ^{2j} + j ν_C ν_U σ^{2(j−1)}, with off-diagonals ~ n^{−1/2}")
DATA = Path(__file__).resolve().parent / "data"


def _single_thread():
    """Pin BLAS to one thread: the matrix-vector products here are memory-bound and a 2-thread BLAS on a shared
    2-core machine is up to 40x slower (measured). rnnmem's own BLAS control: effective from any Python thread."""
    from rnnmem import _blas

    return _blas.blas_mode(_blas.ONE)


def single_blas(fn):
    """Run a check with BLAS and Numba pinned to one thread. Verdicts do not depend on it; the run time does: the
    problems here are small (widths ≤ a few thousand, batches of 32), where threads on a shared 2-core machine cost
    more than they save (measured: a width-32 student trained 10× slower with two Numba threads under load)."""

    @functools.wraps(fn)
    def wrapper(ctx):
        import numba

        prev = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            with _single_thread():
                return fn(ctx)
        finally:
            numba.set_num_threads(prev)

    return wrapper


def layout(fig, *, left=0.06, right=0.98, bottom=0.13, top=0.9, wspace=0.3):
    """Fixed margins instead of ``tight_layout`` (which costs a full extra draw, ~0.3 s a figure)."""
    fig.subplots_adjust(left=left, right=right, bottom=bottom, top=top, wspace=wspace)


def _width_axis(ax, widths):
    """Label a log x-axis with the widths only (no overlapping minor labels)."""
    from matplotlib.ticker import NullFormatter

    ax.set_xticks(widths)
    ax.set_xticklabels([str(n) for n in widths])
    ax.xaxis.set_minor_formatter(NullFormatter())


def _slope(n, v):
    """Least-squares slope of log v against log n (nan if some v is not positive and finite)."""
    v = np.asarray(v, float)
    if not np.all(np.isfinite(v) & (v > 0)):
        return float("nan")
    return float(np.polyfit(np.log(np.asarray(n, float)), np.log(v), 1)[0])


# ---------------------------------------------------------------------------------------------------- kernels
def _rho2(J, s2):
    """The derived lag weights ρ_j² (the library's closed form)."""
    return ntk.lag_weights(J, s2)


def _uniform(J, s2):
    """Wrong kernel: uniform lag weights with the same mean (the same total learning rate) as ρ_j²."""
    return np.full(J, float(np.mean(ntk.lag_weights(J, s2))))


def _no_w_term(J, s2):
    """Wrong kernel: ρ_j² without the j ν_C ν_U σ^{2(j−1)} term (the contribution of training W)."""
    return ntk.lag_weights(J, s2, lr_W=0.0)


#: name -> (kernel, what the control removes); the kernels are module-level so that workers can look them up by name
KERNELS = {"rho2": _rho2, "uniform": _uniform, "no-W-term": _no_w_term}
WRONG_KERNELS = {
    "uniform": "uniform lag weights (ρ_j² replaced by its mean over the lags: no lag preference)",
    "no-W-term": "ρ_j² without the j ν_C ν_U σ^{2(j−1)} term (as if W were not trained)",
}


def _controls(verdicts: dict, summaries: dict) -> list[Control]:
    return [Control(name, WRONG_KERNELS[name], bool(verdicts[name]), summaries[name]) for name in WRONG_KERNELS]


# ---------------------------------------------------------------------------------------------------- Gram sample
def _gram_job(args):
    """(σ², n, seed, J, standard) -> empirical Gram(s) of one random wide linear RNN (picklable)."""
    s2, n, seed, J, standard = args
    with _single_thread():
        model = ntk.init(n, s2, rng=seed)
        G = ntk.empirical(model, J)
        G_std = ntk.empirical(model, J, parameterization="standard") if standard else None
    return G, G_std


def _gram_plan(ctx: Context):
    J = ctx.pick(12, 24)
    widths = ctx.pick([100, 300, 900], [250, 500, 1000, 2000], [250, 500, 1000, 2000, 4000, 8000])
    seeds = ctx.pick([4, 4, 3], [8, 8, 6, 4], [8, 8, 8, 8, 4, 2])
    return J, widths, seeds


def _grams(ctx: Context) -> dict:
    """Empirical Grams {(σ², n): array (seeds, J, J)} and {σ²: standard-parameterisation Gram at the largest n},
    shared by p2-ntk-limit and p2-lag-weights (the same random models; computed once per run)."""
    J, widths, seeds = _gram_plan(ctx)

    def compute():
        items = [(s2, n, int(ctx.rng(60, i, k, s).integers(2**31)), J, k == len(widths) - 1 and s == 0)
                 for i, s2 in enumerate(SIGMA2S) for k, n in enumerate(widths) for s in range(seeds[k])]
        res = iter(ctx.map(_gram_job, items))
        out, std = {}, {}
        for s2 in SIGMA2S:
            for k, n in enumerate(widths):
                pairs = [next(res) for _ in range(seeds[k])]
                out[(s2, n)] = np.array([g for g, _ in pairs])
                if k == len(widths) - 1:
                    std[s2] = pairs[0][1]
        return out, std

    return ctx.memo("p2-grams", compute)


# ---------------------------------------------------------------------------------------------------- 1. NTK limit
def _ntk_limit_stats(grams, widths, J, kernel):
    """Per σ²: per-width rms of G_jj/k_j − 1 and of the normalised off-diagonals |G_ij|/(k_i k_j)^{1/2}, and slopes."""
    out = {}
    for s2 in SIGMA2S:
        k = kernel(J, s2)
        rows = []
        for n in widths:
            G = grams[(s2, n)][:, :J, :J]
            ratio = np.diagonal(G, axis1=1, axis2=2) / k
            off = np.abs(G) / np.sqrt(np.outer(k, k))
            off[:, np.arange(J), np.arange(J)] = 0.0
            rows.append({"n": n, "diag_ratio_mean": ratio.mean(axis=0),
                         "diag_rms_dev": float(np.sqrt(((ratio - 1) ** 2).mean())),
                         "off_max": float(off.max(axis=(1, 2)).mean()),
                         "off_rms": float(np.sqrt((off**2).sum(axis=(1, 2)) / (J * (J - 1))).mean())})
        out[s2] = {"rows": rows, "slope_off": _slope(widths, [r["off_rms"] for r in rows]),
                   "slope_diag": _slope(widths, [r["diag_rms_dev"] for r in rows])}
    return out


def _ntk_limit_pass(stats, quick: bool) -> tuple[bool, tuple[float, float]]:
    """The criterion of p2-ntk-limit on the output of :func:`_ntk_limit_stats`: per σ², the fitted slope of the
    off-diagonal error against n lies in [−1, −0.25] (−0.15 with --quick; theory −1/2; over 12 run seeds at default
    size the slopes ranged over −0.34…−0.71), the diagonal error decreases (slope ≤ −0.05, not tested with --quick:
    at σ² ≥ 1 its fluctuations are products of j random matrices with heavy tails, and its slope ranged over
    −0.11…−1.0), and the diagonal rms error at the largest n is ≤ 0.25 (whether the mean is ρ_j² is judged, with an
    error model, by p2-lag-weights)."""
    lo, hi = (-1.0, -0.15) if quick else (-1.0, -0.25)  # --quick: 3 widths over 9×, 3–4 draws each
    ok = True
    for st in stats.values():
        diag_ok = quick or st["slope_diag"] <= -0.05  # --quick: 3–4 draws per width cannot resolve it
        st["pass"] = bool(lo <= st["slope_off"] <= hi and diag_ok and st["rows"][-1]["diag_rms_dev"] <= 0.25)
        ok &= st["pass"]
    return bool(ok), (lo, hi)


@check("p2-ntk-limit", order=60, title="[P2] empirical NTK Gram → diag(ρ_j²) as the width grows",
       statement=STATEMENT_7B + "; tested for σ² ∈ {0.5, 0.81, 1, 1.21}.")
@single_blas
def ntk_limit(ctx: Context) -> Result:
    Jg, widths, seeds = _gram_plan(ctx)
    J = 12
    grams, std = _grams(ctx)
    stats = {name: _ntk_limit_stats(grams, widths, J, KERNELS[name]) for name in KERNELS}
    verdict = {name: _ntk_limit_pass(stats[name], ctx.quick)[0] for name in KERNELS}
    lo, hi = _ntk_limit_pass(stats["rho2"], ctx.quick)[1]
    table = stats["rho2"]
    std_dev = [float(np.sqrt(((np.diag(std[s2])[:J] / ntk.lag_weights(J, s2, parameterization="standard") - 1) ** 2)
                             .mean())) for s2 in SIGMA2S]
    lines = [f"| {s2} | " + " | ".join(f"{r['diag_rms_dev']:.3f} / {r['off_rms']:.3f} ({r['off_max']:.3f})"
                                        for r in table[s2]["rows"])
             + f" | {table[s2]['slope_diag']:.2f} | {table[s2]['slope_off']:.2f} |" for s2 in SIGMA2S]

    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 5.2), layout="constrained")
    for s2 in SIGMA2S:
        rows, tb = table[s2]["rows"], table[s2]
        axes[0].loglog(widths, [r["off_rms"] for r in rows], "o-", label=f"σ²={s2} (slope {tb['slope_off']:.2f})")
        axes[1].loglog(widths, [r["diag_rms_dev"] for r in rows], "o-", label=f"σ²={s2} (slope {tb['slope_diag']:.2f})")
        axes[2].plot(np.arange(J), rows[-1]["diag_ratio_mean"], "o-", label=f"σ²={s2}")
    for name, mk in (("uniform", "x--"), ("no-W-term", "s:")):
        axes[1].loglog(widths, [r["diag_rms_dev"] for r in stats[name][1.0]["rows"]], mk, color="0.4",
                       label=f"control {name} (σ²=1)")
    ref = np.array(widths, float)
    for ax, r0 in ((axes[0], table[1.0]["rows"][0]["off_rms"]), (axes[1], table[1.0]["rows"][0]["diag_rms_dev"])):
        ax.loglog(ref, r0 * (ref / ref[0]) ** -0.5, "k:", label="n^{-1/2}")
        _width_axis(ax, widths)
        ax.set_xlabel("width n")
    axes[0].set_ylabel("rms normalised off-diagonal |G_ij|/(ρ_i ρ_j)")
    axes[0].set_title("off-diagonal entries → 0", fontsize=9)
    axes[1].set_ylabel("rms of G_jj/k_j − 1 (k = ρ² or a wrong kernel)")
    axes[1].set_title("diagonal → ρ_j² (controls: wrong kernels k)", fontsize=9)
    axes[2].axhline(1, color="k", lw=0.8)
    axes[2].set_xlabel("lag j")
    axes[2].set_ylabel(f"G_jj/ρ_j² at n={widths[-1]} (mean of {seeds[-1]} seeds)")
    axes[2].set_title(f"diagonal per lag at the largest width n = {widths[-1]}", fontsize=9)
    for ax in axes:
        ax.legend(fontsize=7, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False)
    fig.suptitle("[P2] empirical NTK Gram vs the derived limit diag(ρ_j²) (docs/math.md §7b)", fontsize=9)
    fig_name = ctx.save_figure(fig, "p2-ntk-limit.png")

    s1 = table[1.0]
    summary = (f"n={widths[-1]}: rms|G_jj/ρ_j²−1| = "
               + ", ".join(f"{table[s]['rows'][-1]['diag_rms_dev']:.3f}" for s in SIGMA2S)
               + f"; off-diag slope (σ²=1) {s1['slope_off']:.2f}, diag slope {s1['slope_diag']:.2f}")
    csum = {name: f"rms|G_jj/k_j−1| at n={widths[-1]} = "
            + ", ".join(f"{stats[name][s]['rows'][-1]['diag_rms_dev']:.2f}" for s in SIGMA2S)
            + f"; diag slope (σ²=1) {stats[name][1.0]['slope_diag']:.2f}" for name in WRONG_KERNELS}
    details = "\n".join([
        f"Linear elman RNN, NTK parameterisation, ν_C = ν_U = 1, lags j = 0..{J - 1}, widths {widths}, seeds per "
        f"width {seeds}; G from `rnnmem.ntk.empirical` (closed-form Krylov Gram, exact). Per σ² and n the table "
        "gives rms_j,seeds(G_jj/ρ_j² − 1) / rms_{i≠j}|G_ij|/(ρ_iρ_j) (mean over seeds of the max):",
        "",
        "| σ² | " + " | ".join(f"n={n}" for n in widths) + " | diag slope | off slope |",
        "|---|" + "---|" * (len(widths) + 2),
        *lines,
        "",
        f"Standard parameterisation at n = {widths[-1]} (G vs the limit ν_Uσ^{{2j}} + jν_Cν_Uσ^{{2(j−1)}} of "
        "`lag_weights(..., parameterization='standard')`, one draw): rms deviation "
        + ", ".join(f"{d:.3f}" for d in std_dev) + " for σ² = " + ", ".join(map(str, SIGMA2S)) + " (not judged).",
        "",
        f"PASS criterion (each σ²): fitted slope of the off-diagonal rms vs n in [{lo}, {hi}] (theory −1/2; −0.34 to "
        "−0.71 over 12 run seeds), the diagonal deviation decreasing with n (slope ≤ −0.05; at σ² ≥ 1 it is a "
        "product of j random matrices with a heavy tail, its slope ranged over −0.11 to −1.0), and diagonal rms "
        "deviation ≤ 0.25 at the largest n (whether the mean is ρ_j² is judged by p2-lag-weights; --quick skips the "
        "diagonal slope). The controls "
        "apply the same "
        "criterion with a wrong kernel k in place of ρ² (the same Gram sample): their diagonal deviation stays O(1) "
        "and does not shrink with n, so they must FAIL.",
    ])
    return Result(verdict["rho2"], summary, details, [fig_name],
                  {"widths": widths, "seeds": seeds, "J": J,
                   "table": {str(s): v for s, v in table.items()}, "standard_rms_dev": std_dev,
                   "controls": {name: {str(s): {"slope_diag": stats[name][s]["slope_diag"],
                                                "diag_rms_dev_last": stats[name][s]["rows"][-1]["diag_rms_dev"]}
                                       for s in SIGMA2S} for name in WRONG_KERNELS}},
                  controls=_controls(verdict, csum))


# ---------------------------------------------------------------------------------------------------- 2. lag weights
def _lag_shape(rho2, s2):
    """The closed-form shape the statement claims for ρ_j²: (ok, description)."""
    J = rho2.size
    q = rho2[1:] / rho2[:-1]
    if s2 < 1:
        # ρ_{j+1}²/ρ_j² = σ²(2σ² + j + 1)/(2σ² + j) decreases to σ² from above
        ok = bool(q[-1] < 1 and abs(q[-1] - s2) < 0.2 * s2 and np.all(np.diff(q) < 0) and np.all(q > s2))
        return ok, f"ratio ρ_{J - 1}²/ρ_{J - 2}² = {q[-1]:.3f}, decreasing to σ² = {s2}: {ok}"
    if s2 == 1:
        j = np.arange(J)
        ok = bool(np.allclose(rho2, 2 + j))
        return ok, f"ρ_j² = 2 + j: {ok}"
    ok = bool(np.all(q > 1) and q[-1] > 1.1)
    return ok, f"increasing, last ratio {q[-1]:.3f} (→ σ² = {s2}): {ok}"


def _lag_verdict(grams, widths, J, kernel, J_emp=12, zmax=6.0, cap=0.5):
    """Per σ²: the closed-form shape of k = kernel(J, σ²) over J lags, and the mean over seeds of G_jj/k_j at the
    largest width within zmax standard errors of 1 at every lag j < J_emp (and within ``cap`` — a sanity bound).

    Error model: the per-draw variance of G_jj/ρ_j² is v_j/n (fluctuations ~ n^{−1/2}, p2-ntk-limit); v_j is pooled
    over all widths' draws (Σ_k n_k Σ_s (r − r̄_k)² / Σ_k (S_k − 1)), so the standard error of the mean at the largest
    width, (v_j/(n S))^{1/2}, rests on every draw rather than on the last width's few. At σ² ≥ 1 the fluctuations
    are products of j random matrices, log-normal with log-sd ~ j/√n (at n = 250 single draws reach 10× at j = 23),
    so the comparison stops at J_emp = 12 lags (j/√n ≤ 0.25 at n = 2000) and zmax = 6 allows for their heavy tail
    (the largest |z| over 10 run seeds at default size was 4.6).
    """
    out = {}
    n = widths[-1]
    for s2 in SIGMA2S:
        k = kernel(J, s2)[:J_emp]
        R = {m: np.diagonal(grams[(s2, m)][:, :J_emp, :J_emp], axis1=1, axis2=2) / k for m in widths}
        num = sum(m * ((R[m] - R[m].mean(axis=0)) ** 2).sum(axis=0) for m in widths)
        dof = sum(R[m].shape[0] - 1 for m in widths)
        se = np.sqrt(num / dof / (n * R[n].shape[0]))
        mean = R[n].mean(axis=0)
        z = (mean - 1) / se
        shape_ok, shape = _lag_shape(kernel(J, s2), s2)
        dev = float(np.abs(mean - 1).max())
        emp = np.diagonal(grams[(s2, n)][:, :J, :J], axis1=1, axis2=2)
        out[s2] = {"rho2": kernel(J, s2), "empirical_mean": emp.mean(axis=0), "empirical_sd": emp.std(axis=0),
                   "max_rel_dev_of_mean": dev, "max_abs_z": float(np.abs(z).max()), "se_last_lag": float(se[-1]),
                   "shape": shape, "shape_ok": shape_ok,
                   "pass": bool(shape_ok and np.abs(z).max() <= zmax and dev <= cap)}
    return all(v["pass"] for v in out.values()), out


@check("p2-lag-weights", order=61, title="[P2] lag weights ρ_j²: decay for σ<1, linear at σ=1, explosion for σ>1",
       statement="[P2], derived form (docs/math.md §7b; not the paper's printed formula): ρ_j² ~ jσ^{2j} decays "
                 "geometrically for σ² < 1 (bias toward short lags), grows linearly (ρ_j² = 2 + j) at σ² = 1 and "
                 "explodes for σ² > 1; the empirical Gram diagonal follows it.")
@single_blas
def lag_weights_check(ctx: Context) -> Result:
    J, widths, seeds = _gram_plan(ctx)
    n = widths[-1]
    grams, _ = _grams(ctx)
    res = {name: _lag_verdict(grams, widths, J, KERNELS[name]) for name in KERNELS}
    passed, data = res["rho2"]

    import matplotlib.pyplot as plt

    from rnnmem.plot import plot_lag_weights

    fig, ax = plt.subplots(figsize=(7.5, 4.2), layout="constrained")
    plot_lag_weights(SIGMA2S, J, ax=ax, empirical=[(data[s]["empirical_mean"], data[s]["empirical_sd"])
                                                   for s in SIGMA2S])
    ax.plot(np.arange(J), _no_w_term(J, 1.0), "k:", lw=1, label="control no-W-term (σ²=1)")
    ax.plot(np.arange(J), _uniform(J, 1.0), "k--", lw=1, label="control uniform (σ²=1)")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    ax.set_title(f"derived ρ_j² (lines, docs/math.md §7b) vs empirical G_jj (n={n}, {seeds[-1]} seeds, mean ± sd)",
                 fontsize=8)
    fig_name = ctx.save_figure(fig, "p2-lag-weights.png")
    summary = "max |mean G_jj/ρ_j² − 1| = " + ", ".join(f"{data[s]['max_rel_dev_of_mean']:.3f}" for s in SIGMA2S) \
        + " (max |z| " + ", ".join(f"{data[s]['max_abs_z']:.1f}" for s in SIGMA2S) \
        + f"; σ² = {', '.join(map(str, SIGMA2S))}; n={n})"
    csum = {name: "max |mean G_jj/k_j − 1| = " + ", ".join(f"{res[name][1][s]['max_rel_dev_of_mean']:.2f}"
                                                          for s in SIGMA2S)
            + " (max |z| " + ", ".join(f"{res[name][1][s]['max_abs_z']:.0f}" for s in SIGMA2S)
            + "); shape " + ", ".join("ok" if res[name][1][s]["shape_ok"] else "wrong" for s in SIGMA2S)
            for name in WRONG_KERNELS}
    details = "\n".join([f"- σ² = {s}: {data[s]['shape']}; empirical mean within "
                         f"{data[s]['max_rel_dev_of_mean']:.3f} of ρ_j² over j < 12 (max |z| "
                         f"{data[s]['max_abs_z']:.2f}; standard error at the last lag {data[s]['se_last_lag']:.3f})"
                         for s in SIGMA2S] + [
        "",
        f"PASS criterion (each σ²): the closed form has the stated shape (σ²<1: the ratio ρ_{{j+1}}²/ρ_j² decreases to "
        f"σ², is < 1 at the last lag and within 20 % of σ²; σ²=1: exactly 2 + j; σ²>1: increasing) and the mean over "
        f"{seeds[-1]} seeds of the empirical diagonal at n = {n} is within 6 standard errors of it at every lag "
        f"j < 12 (and within 50 %). Standard errors from the error model var(G_jj/ρ_j²) = v_j/n with v_j pooled over "
        f"all {sum(seeds)} draws of widths {widths}. At σ² ≥ 1 the fluctuations are products of j random matrices "
        "(log-normal, log-sd ~ j/√n), so a fixed relative tolerance would be wrong for long lags and the comparison "
        "stops at j < 12 (j/√n ≤ 0.25 at n = 2000); the threshold 6 allows for their heavy tail (the largest |z| "
        "over 10 run seeds was 4.6). The figure shows all lags. The controls apply the same "
        "criterion to a wrong kernel (uniform weights with the mean of ρ_j², or ρ_j² without the W term) against the "
        "same Gram sample; both must FAIL."])
    return Result(passed, summary, details, [fig_name],
                  {"J": J, "n": n, "seeds": seeds[-1], "sigma2": {str(s): v for s, v in data.items()},
                   "controls": {name: {str(s): {k: res[name][1][s][k] for k in ("max_rel_dev_of_mean", "max_abs_z")}
                                       for s in SIGMA2S}
                                for name in WRONG_KERNELS}},
                  controls=_controls({k: v[0] for k, v in res.items()}, csum))


# ---------------------------------------------------------------------------------------------------- 3. dynamics
def _teacher_problem(seed, J, N, n_test, teacher, noise=0.0):
    gen = np.random.default_rng(seed)
    X = gen.standard_normal((N, J))
    Xt = gen.standard_normal((n_test, J))
    y = X @ teacher + noise * gen.standard_normal(N)
    return X, y, Xt, Xt @ teacher


def _dyn_one(args):
    """One RNN trained by GD and SCNNs (one per kernel name) from the same initial function: trajectory gaps."""
    n, s2, seed, J, N, steps, frac, data_seed = args
    teacher = 0.8 ** np.arange(J)
    X, y, Xt, yt = _teacher_problem(data_seed, J, N, 200, teacher)
    lr = ntk.stable_lr(X, ntk.lag_weights(J, s2), frac)
    every = max(1, steps // 20)
    with _single_thread():
        model = ntk.init(n, s2, rng=seed)
        r = ntk.gd(model, X, y, lr=lr, steps=steps, X_test=Xt, y_test=yt, record_every=every)
    out = {"n": n, "rnn_test": r.test_loss, "rnn_L": r.responses[-1], "L0": r.responses[0]}
    for name, kernel in KERNELS.items():
        k = kernel(J, s2)
        tilt_gaps = []
        for tau in TILTS:
            with np.errstate(all="ignore"):
                s = ntk.gd(ntk.SCNN.from_response(r.responses[0], _tilted(k, tau)), X, y, lr=lr, steps=steps,
                           X_test=Xt, y_test=yt, record_every=every)
                scale = np.linalg.norm(s.responses[-1] - s.responses[0])
                gap_t = np.linalg.norm(r.responses - s.responses, axis=1) / scale
            tilt_gaps.append(float(np.max(gap_t)))
            if tau == 0:
                out[name] = {"gap_final": float(gap_t[-1]), "gap_max": float(np.max(gap_t)),
                             "loss_gap": float(np.max(np.abs(r.test_loss - s.test_loss)) / s.test_loss[0]),
                             "test": s.test_loss, "L": s.responses[-1]}
        out[name]["tilt_gaps"] = tilt_gaps
    return out


#: tilts τ of a kernel toward long (τ > 0) or short (τ < 0) lags: k_j (1 + |τ| j/(J−1))^{±1}
TILTS = np.round(np.arange(-0.6, 0.6001, 0.1), 2)


def _tilted(k, tau):
    f = 1.0 + abs(tau) * np.arange(k.size) / (k.size - 1)
    return k * f if tau >= 0 else k / f


def _rms(v):
    v = np.asarray(v, float)
    return float(np.sqrt(np.mean(np.square(v)))) if np.all(np.isfinite(v)) else float("inf")


@check("p2-dynamics", order=62, title="[P2] RNN vs SCNN trained by full-batch GD: trajectories merge as n grows",
       statement="[P2] §4 (derived kernel, docs/math.md §7b): in the kernel regime gradient descent on the wide linear "
                 "RNN and on the scaled convolution ŷ_k = Σ_j ρ_j θ_j x_{k−j} have the same function-space dynamics; "
                 "the gap between their impulse responses vanishes as n → ∞ (like n^{−1/2}).")
@single_blas
def dynamics(ctx: Context) -> Result:
    J, N, s2 = 12, 8, 1.0
    steps = ctx.pick(40, 60, 300)
    plan = ctx.pick([(100, 3), (300, 3), (900, 2)], [(125, 8), (250, 6), (500, 4), (1000, 3)],
                    [(125, 16), (250, 12), (500, 8), (1000, 6), (2000, 4), (4000, 2)])
    data_seed = int(ctx.rng(63, 0).integers(2**31))
    items = [(n, s2, int(ctx.rng(63, 1, n, s).integers(2**31)), J, N, steps, 0.9, data_seed)
             for n, S in plan for s in range(S)]
    res = ctx.map(_dyn_one, items)
    widths = [n for n, _ in plan]
    per_n = {n: [r for r in res if r["n"] == n] for n in widths}
    smax = ctx.pick(-0.2, -0.3)
    stats = {}
    for name in KERNELS:
        gapmax = [_rms([r[name]["gap_max"] for r in per_n[n]]) for n in widths]
        slope = _slope(widths, gapmax)
        # identification: at the largest n, the tilt τ of the kernel whose SCNN follows the RNN best
        tilt_gaps = [_rms([r[name]["tilt_gaps"][i] for r in per_n[widths[-1]]]) for i in range(TILTS.size)]
        tau = float(TILTS[int(np.argmin(tilt_gaps))])
        stats[name] = {"gap_max": gapmax, "gap_final": [_rms([r[name]["gap_final"] for r in per_n[n]])
                                                        for n in widths],
                       "loss_gap": [float(np.mean([r[name]["loss_gap"] for r in per_n[n]])) for n in widths],
                       "slope": slope, "tilt_gaps": tilt_gaps, "best_tilt": tau,
                       "pass": bool(np.isfinite(slope) and slope <= smax and gapmax[-1] < 0.5 * gapmax[0]
                                    and abs(tau) <= 0.25)}
    main = stats["rho2"]
    gapmax, gap, lgap, slope = main["gap_max"], main["gap_final"], main["loss_gap"], main["slope"]

    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 5.0), layout="constrained")
    t = np.arange(steps + 1)
    shown = sorted({widths[0], widths[-1]})  # the narrowest and the widest run; (c) has every width
    for k, n in enumerate(shown):
        r0 = per_n[n][0]
        axes[0].semilogy(t, r0["rnn_test"], "-", color=f"C{k}", label=f"RNN n={n}")
        axes[0].semilogy(t, r0["rho2"]["test"], "--", color=f"C{k}", lw=1, label=f"SCNN (ρ²), same L(0) as n={n}")
        axes[1].plot(r0["rnn_L"] - r0["L0"], "o-", ms=3, color=f"C{k}", label=f"RNN n={n}")
        axes[1].plot(r0["rho2"]["L"] - r0["L0"], "--", color=f"C{k}", lw=1, label=f"SCNN (ρ²), same L(0) as n={n}")
    axes[0].set_xlabel("GD step")
    axes[0].set_ylabel("test mse")
    axes[0].set_title("test loss during gradient descent (seed 0)", fontsize=9)
    axes[1].set_xlabel("lag j")
    axes[1].set_ylabel("learned L_j − L_j(0) after the last step")
    axes[1].set_title("learned impulse response (seed 0)", fontsize=9)
    axes[2].loglog(widths, gapmax, "o-", label=f"ρ²: max_t gap (slope {slope:.2f})")
    axes[2].loglog(widths, gap, "s-", label="ρ²: final gap")
    for name, mk in (("uniform", "x--"), ("no-W-term", "d:")):
        axes[2].loglog(widths, stats[name]["gap_max"], mk, color="0.4",
                       label=f"control {name} (slope {stats[name]['slope']:.2f})")
    axes[2].loglog(widths, gapmax[0] * (np.array(widths) / widths[0]) ** -0.5, "k:", label="n^{-1/2}")
    _width_axis(axes[2], widths)
    axes[2].set_xlabel("width n")
    axes[2].set_ylabel("‖L_RNN − L_SCNN‖ / ‖L_SCNN(T) − L(0)‖")
    axes[2].set_title("RNN − SCNN gap against the width (all seeds)", fontsize=9)
    for ax in axes:
        ax.legend(fontsize=7, ncol=2 if ax is axes[2] else 1, loc="upper center", bbox_to_anchor=(0.5, -0.16),
                  frameon=False)
    fig_name = ctx.save_figure(fig, "p2-dynamics.png")
    summary = "impulse-response gap " + ", ".join(f"{g:.3f}" for g in gapmax) + f" at n = {widths} (slope {slope:.2f})"
    csum = {name: "gap " + ", ".join(f"{g:.2f}" for g in stats[name]["gap_max"])
            + f" (slope {stats[name]['slope']:.2f}; best tilt τ* = {stats[name]['best_tilt']:+.1f})"
            for name in WRONG_KERNELS}
    details = "\n".join([
        f"Teacher L*_j = 0.8^j, J = {J} lags, N = {N} training sequences (under-determined), σ² = {s2}, ν = 1, NTK "
        f"parameterisation, full-batch GD for {steps} steps at η = 0.9/λ_max of the limit operator; the SCNN starts "
        "from the RNN's initial impulse response (same initial function) and takes the same steps. Gap = rms over "
        "seeds of max_t ‖L_RNN(t) − L_SCNN(t)‖ / ‖L_SCNN(T) − L(0)‖.",
        "",
        "| n | seeds | max_t gap | final gap | max test-loss gap / initial loss | control uniform "
        "| control no-W-term |",
        "|---|---|---|---|---|---|---|",
        *[f"| {n} | {S} | {gm:.3f} | {g:.3f} | {lg:.3f} | {u:.3f} | {w:.3f} |"
          for (n, S), gm, g, lg, u, w in zip(plan, gapmax, gap, lgap, stats["uniform"]["gap_max"],
                                            stats["no-W-term"]["gap_max"], strict=True)],
        "",
        f"PASS criterion: fitted slope of log gap vs log n ≤ {smax} (theory −1/2), the gap at the largest n below "
        "half the gap at the smallest, and the data identify the kernel: among SCNNs with the kernel tilted toward "
        "long or short lags, ρ_j²(1 + |τ| j/(J−1))^{±1}, τ ∈ {−0.6, …, 0.6}, the one that follows the RNN best at "
        f"the largest n has |τ*| ≤ 0.25 (here τ* = {main['best_tilt']:+.1f}; a W-gradient off by 1.5× moves it to "
        "≈ +0.4). Controls: the same criterion with the SCNN built on a wrong kernel (same RNN runs, same step "
        "size): the gap then stays O(1) as n grows, so they must FAIL.",
    ])
    return Result(main["pass"], summary, details, [fig_name],
                  {"widths": widths, "gap_max": gapmax, "gap_final": gap, "loss_gap": lgap, "slope": slope,
                   "tilts": TILTS, "tilt_gaps": main["tilt_gaps"], "best_tilt": main["best_tilt"],
                   "controls": {name: {"gap_max": stats[name]["gap_max"], "slope": stats[name]["slope"]}
                                for name in WRONG_KERNELS}},
                  controls=_controls({k: v["pass"] for k, v in stats.items()}, csum))


# ---------------------------------------------------------------------------------------------------- 4. implicit bias
def _bias_rnn_one(args):
    n, s2, seed, J, N, steps, data_seed, taps = args
    teacher = np.zeros(J)
    for lag, v in taps:
        teacher[lag] = v
    X, y, _, _ = _teacher_problem(data_seed, J, N, 1, teacher)
    lr = ntk.stable_lr(X, ntk.lag_weights(J, s2), 0.9)
    with _single_thread():
        r = ntk.gd(ntk.init(n, s2, rng=seed), X, y, lr=lr, steps=steps, record_every=steps)
    return {"n": n, "data_seed": data_seed, "train_loss": float(r.train_loss[-1]), "L": r.responses[-1],
            "L0": r.responses[0]}


def _weighted(X, y, rho2, L0=None):
    """The statement's interpolant: minimum ρ-weighted norm (the library's)."""
    return ntk.interpolant(X, y, rho2, L0)


def _unweighted(X, y, rho2, L0=None):
    """Control: the unweighted minimum-norm interpolant (R = I), whatever the lag weights."""
    return ntk.interpolant(X, y, np.ones_like(rho2), L0)


def _bias_verdict(interp, J, N, taps, data_seeds, scnn_runs, rnn_runs, s2_rnn, dmax):
    """The criterion of p2-implicit-bias with the interpolant ``interp`` (the weighted one, or a control's)."""
    teacher = np.zeros(J)
    for lag, v in taps:
        teacher[lag] = v
    recov, scnn_err = {}, {}
    for s2 in SIGMA2S:
        rho2 = ntk.lag_weights(J, s2)
        Ls = np.array([interp(*_teacher_problem(ds, J, N, 1, teacher)[:2], rho2) for ds in data_seeds])
        recov[s2] = {"short": float(Ls[:, taps[0][0]].mean()), "long": float(Ls[:, taps[1][0]].mean()),
                     "mean_L": Ls.mean(axis=0)}
        errs = []
        for ds, L0, L_gd in scnn_runs[s2]:
            X, y, _, _ = _teacher_problem(ds, J, N, 1, teacher)
            Li0 = interp(X, y, rho2, L0)
            errs.append(float(np.linalg.norm(L_gd - Li0) / np.linalg.norm(Li0)))
        scnn_err[s2] = max(errs)
    rho2 = ntk.lag_weights(J, s2_rnn)
    widths = sorted({r["n"] for r in rnn_runs})
    dist = []
    for n in widths:
        dn = []
        for r in (q for q in rnn_runs if q["n"] == n):
            X, y, _, _ = _teacher_problem(r["data_seed"], J, N, 1, teacher)
            Li = interp(X, y, rho2, r["L0"])
            dn.append(float(np.linalg.norm(r["L"] - Li) / np.linalg.norm(Li - r["L0"])))
        dist.append(float(np.mean(dn)))
    slope = _slope(widths, dist)
    parts = {
        "long_missed": bool(recov[0.5]["long"] < 0.1 and recov[0.5]["short"] > 10 * recov[0.5]["long"]),
        "long_grows": bool(recov[0.5]["long"] < recov[0.81]["long"] < recov[1.0]["long"]),
        "scnn_ok": bool(max(scnn_err.values()) < 1e-6),
        "rnn_ok": bool(dist[-1] < dist[0] and slope < -0.2 and dist[-1] < dmax),
    }
    return all(parts.values()), {"recovery": recov, "scnn_err": scnn_err, "widths": widths, "rnn_dist": dist,
                                 "slope": slope, "parts": parts}


@check("p2-implicit-bias", order=63, title="[P2] implicit bias: GD finds the ρ-weighted min-norm interpolant",
       statement="[P2] §4 (derived kernel, docs/math.md §7b): from few samples, gradient descent converges to the "
                 "minimum weighted-norm interpolant L(0) + R Xᵀ(XRXᵀ)⁻¹(y − X L(0)), R = diag(ρ_j²) — exactly for the "
                 "SCNN, approximately (better with n) for the RNN — so long-lag taps of the teacher are missed when "
                 "σ < 1.")
@single_blas
def implicit_bias(ctx: Context) -> Result:
    J, N = 24, 8
    taps = ((2, 1.0), (18, 1.0))
    teacher = np.zeros(J)
    for lag, v in taps:
        teacher[lag] = v
    data_seeds = [int(ctx.rng(64, 0, s).integers(2**31)) for s in range(ctx.pick(4, 20))]
    # SCNN trained by plain GD (η = 1.9/λ_max) from a random NNGP initial function, run to a 1e-10 contraction of
    # the slowest mode
    scnn_runs = {}
    for s2 in SIGMA2S:
        rho2 = ntk.lag_weights(J, s2)
        scnn_runs[s2] = []
        for k, ds in enumerate(data_seeds[:ctx.pick(2, 3)]):
            X, y, _, _ = _teacher_problem(ds, J, N, 1, teacher)
            L0 = np.sqrt(ntk.prior_variance(J, s2)) * ctx.rng(64, 1, k).standard_normal(J)
            lr = ntk.stable_lr(X, rho2, 1.9)  # η = 1.9/λ_max: every mode contracts, the slowest twice as fast
            Z = X * np.sqrt(rho2)
            ev = np.linalg.eigvalsh(2.0 / N * Z @ Z.T)
            rate = min(lr * ev[0], -np.log(abs(1.0 - lr * ev[-1])))  # slowest per-step contraction (log)
            steps = int(min(200_000, np.ceil(np.log(1e10) / rate)))
            g = ntk.gd(ntk.SCNN.from_response(L0, rho2), X, y, lr=lr, steps=steps, record_every=steps)
            scnn_runs[s2].append((ds, L0, g.responses[-1]))
    # finite-width RNNs
    s2_rnn = 0.81
    plan = ctx.pick([(100, 2), (900, 2)], [(250, 4), (500, 3), (1000, 3)],
                    [(250, 8), (500, 6), (1000, 4), (2000, 3), (4000, 2)])
    steps = ctx.pick(60, 100, 1000)
    items = [(n, s2_rnn, int(ctx.rng(64, 2, n, s).integers(2**31)), J, N, steps, data_seeds[s % len(data_seeds)], taps)
             for n, S in plan for s in range(S)]
    rnn_runs = ctx.map(_bias_rnn_one, items)
    dmax = ctx.pick(0.3, 0.2)
    passed, d = _bias_verdict(_weighted, J, N, taps, data_seeds, scnn_runs, rnn_runs, s2_rnn, dmax)
    c_pass, c = _bias_verdict(_unweighted, J, N, taps, data_seeds, scnn_runs, rnn_runs, s2_rnn, dmax)
    recov, scnn_err, widths, dist, slope = d["recovery"], d["scnn_err"], d["widths"], d["rnn_dist"], d["slope"]
    loss = [float(np.max([r["train_loss"] for r in rnn_runs if r["n"] == n])) for n in widths]

    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 5.0), layout="constrained")
    axes[0].stem(np.arange(J), teacher, linefmt="k-", markerfmt="ko", basefmt=" ", label="teacher")
    for k, s2 in enumerate(SIGMA2S):
        axes[0].plot(np.arange(J), recov[s2]["mean_L"], "o-", ms=3, color=f"C{k}", label=f"σ²={s2}")
    axes[0].plot(np.arange(J), c["recovery"][1.0]["mean_L"], "k:", label="control: unweighted (any σ²)")
    axes[0].set_xlabel("lag j")
    axes[0].set_ylabel(f"mean learned L_j (N={N}, {len(data_seeds)} data draws)")
    axes[0].set_title("infinite width: the interpolant from L(0) = 0, per σ²", fontsize=9)
    r_big = [r for r in rnn_runs if r["n"] == widths[-1]][0]
    Xb, yb, _, _ = _teacher_problem(r_big["data_seed"], J, N, 1, teacher)
    rho2 = ntk.lag_weights(J, s2_rnn)
    axes[1].plot(_weighted(Xb, yb, rho2, r_big["L0"]) - r_big["L0"], "k--", label="weighted interpolant − L(0)")
    axes[1].plot(_unweighted(Xb, yb, rho2, r_big["L0"]) - r_big["L0"], "k:", label="unweighted (control) − L(0)")
    for k, n in enumerate(widths):
        r = [q for q in rnn_runs if q["n"] == n][0]
        if r is r_big or k == 0:
            axes[1].plot(r["L"] - r["L0"], "o-", ms=3, color=f"C{k}", label=f"RNN n={n} − L(0)")
    axes[1].set_xlabel("lag j")
    axes[1].set_ylabel("L_j − L_j(0)")
    axes[1].set_title(f"RNN (σ²={s2_rnn}) vs the weighted and unweighted min-norm interpolants", fontsize=9)
    for ax in axes:
        ax.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False)
    fig_name = ctx.save_figure(fig, "p2-implicit-bias.png")
    summary = ("long tap (lag 18) recovered " + ", ".join(f"{recov[s]['long']:.3f}" for s in SIGMA2S)
               + f" for σ² = {', '.join(map(str, SIGMA2S))}; SCNN−interpolant ≤ {max(scnn_err.values()):.1e}; "
               + "RNN−interpolant " + ", ".join(f"{v:.3f}" for v in dist) + f" at n = {widths}")
    csum = (f"long tap {c['recovery'][0.5]['long']:.3f} at every σ²; SCNN−interpolant "
            f"{max(c['scnn_err'].values()):.2f}; RNN−interpolant " + ", ".join(f"{v:.2f}" for v in c["rnn_dist"])
            + "; failed: " + ", ".join(k for k, v in c["parts"].items() if not v))
    details = "\n".join([
        f"Teacher with taps at lags 2 and 18 (value 1), J = {J} lags, N = {N} Gaussian input windows (under-"
        f"determined), ν = 1. (a) Infinite width: the interpolant from L(0) = 0, i.e. the init-average of the "
        f"learned response, averaged over {len(data_seeds)} data draws:",
        "",
        "| σ² | mean L̂_2 (short tap) | mean L̂_18 (long tap) | max ‖SCNN_GD − interpolant‖/‖interpolant‖ |",
        "|---|---|---|---|",
        *[f"| {s} | {recov[s]['short']:.3f} | {recov[s]['long']:.3f} | {scnn_err[s]:.1e} |" for s in SIGMA2S],
        "",
        f"(b) RNN, σ² = {s2_rnn}, {steps} GD steps (η = 0.9/λ_max), seeds per width {[S for _, S in plan]}: mean "
        "‖L_RNN − interpolant(L_RNN(0))‖/‖interpolant − L(0)‖ = " + ", ".join(f"{v:.3f}" for v in dist)
        + f" at n = {widths} (slope {slope:.2f}); max final train mse " + ", ".join(f"{v:.1e}" for v in loss) + ".",
        "",
        "PASS criterion: at σ² = 0.5 the long tap is missed (mean < 0.1, and < 1/10 of the short tap's); long-tap "
        "recovery increases from σ² = 0.5 to 0.81 to 1 (beyond 1 it need not: weight moves to even longer lags); "
        "SCNN gradient descent (run to a 1e-10 contraction) equals the interpolant to 1e-6; the RNN's distance to "
        f"its interpolant decreases with n (slope < −0.2) and is < {dmax} at the largest n. Control: the same "
        "criterion, on the same GD runs, with the unweighted minimum-norm interpolant (R = I) in place of the "
        "ρ-weighted one; it must FAIL.",
    ])
    data = {"recovery": {str(s): v for s, v in recov.items()}, "scnn_err": {str(s): v for s, v in scnn_err.items()},
            "widths": widths, "rnn_dist": dist, "slope": slope,
            "control_unweighted": {"rnn_dist": c["rnn_dist"], "parts": c["parts"]}}
    return Result(passed, summary, details, [fig_name], data,
                  controls=[Control("unweighted", "the unweighted minimum-norm interpolant (R = I) in place of the "
                                    "ρ-weighted one", c_pass, csum)])


# ---------------------------------------------------------------------------------------------------- 5. bias-variance
def load_sunspots() -> tuple[np.ndarray, np.ndarray]:
    """Yearly sunspot numbers 1700–2008 shipped in ``theory/data/sunspots.npz`` (statsmodels' data set; see
    theory/data/README.md): ``(year, sunactivity)``."""
    with np.load(DATA / "sunspots.npz") as f:
        return f["year"].astype(np.int64), f["sunactivity"].astype(np.float64)


def _test_errors(X, y, Xt, yt, s2, kernel, draws, gen):
    """Test mse of the infinite-width learned response with lag weights ``kernel(J, σ²)``: (zero init, mean over
    ``draws`` NNGP initial functions). The learned response is the weighted min-norm interpolant from L(0);
    L(0) = 0 is the centred model (equivalently the init-average), L(0) ~ N(0, ν_Cν_Uσ^{2j}) the plain RNN."""
    J = X.shape[1]
    L0 = np.zeros((J, draws + 1))
    L0[:, 1:] = np.sqrt(ntk.prior_variance(J, s2))[:, None] * gen.standard_normal((J, draws))
    L = ntk.interpolant(X, y, kernel(J, s2), L0)
    r = Xt @ L - yt[:, None]
    mse = np.mean(r * r, axis=0)
    return float(mse[0]), (float(mse[1:].mean()) if draws else float("nan"))


def _best(grid, curves):
    """Median curve over the seeds and its minimiser (the smallest σ² among ties, so a flat curve gives grid[0])."""
    med = np.median(curves, axis=0)
    return med, float(grid[np.flatnonzero(med <= med.min() * (1 + 1e-9))[0]])


def _bv_synthetic(ctx, grid, taus, seeds, draws, kernel, J=32, N=16, noise=0.1):
    """Test-error curves over σ² for the synthetic teachers, and the monotonicity criterion per seed group."""
    syn = {}
    for ti, tau in enumerate(taus):
        teacher = np.exp(-np.arange(J) / tau)
        teacher /= np.linalg.norm(teacher)
        cz, cr = np.empty((seeds, grid.size)), np.empty((seeds, grid.size))
        for s in range(seeds):
            X, y, Xt, yt = _teacher_problem(int(ctx.rng(65, ti, s).integers(2**31)), J, N, 400, teacher, noise)
            gen = ctx.rng(65, 100 + ti, s)
            for g, s2 in enumerate(grid):
                cz[s, g], cr[s, g] = _test_errors(X, y, Xt, yt, s2, kernel, draws, gen)
        syn[tau] = {"zero_all": cz, "nngp_all": cr}
    return syn


def _bv_verdict(syn, grid, taus, groups):
    """Best σ² (median test mse, L(0) = 0) non-decreasing in τ up to one grid step and ≥ 0.1 larger for the longest
    memory than for the shortest, in every group of seeds."""
    step = float(grid[1] - grid[0])
    seeds = syn[taus[0]]["zero_all"].shape[0]
    per_group, bests = [], []
    for gi in range(groups):
        sl = slice(gi * seeds // groups, (gi + 1) * seeds // groups)
        b = [_best(grid, syn[t]["zero_all"][sl])[1] for t in taus]
        ok = all(c >= a - step - 1e-9 for a, c in zip(b, b[1:], strict=False)) and b[-1] >= b[0] + 0.1 - 1e-9
        per_group.append(bool(ok))
        bests.append(b)
    return per_group, bests


@check("p2-bias-variance", order=64, title="[P2] σ trades bias for variance: best σ grows with the target's memory",
       statement="[P2] §5 (derived kernel, docs/math.md §7b): σ sets the implicit prior over lags; short-memory "
                 "targets are learned best with small σ, long-memory ones need σ near 1 (larger σ inflates "
                 "variance); shown on synthetic teachers of several memory lengths, and reported on a real series "
                 "(yearly sunspots).")
@single_blas
def bias_variance(ctx: Context) -> Result:
    J, N = 32, 16
    grid = np.round(np.arange(0.3, 1.3001, ctx.pick(0.1, 0.05)), 3)
    taus = (1.0, 4.0, 16.0, 64.0)
    groups = ctx.pick(1, 3, 5)
    seeds = groups * ctx.pick(12, 12, 20)
    draws = ctx.pick(2, 5, 20)
    syn = _bv_synthetic(ctx, grid, taus, seeds, draws, _rho2, J, N)
    per_group, bests = _bv_verdict(syn, grid, taus, groups)
    ctrl = _bv_synthetic(ctx, grid, taus, seeds, 0, _uniform, J, N)
    c_group, c_bests = _bv_verdict(ctrl, grid, taus, groups)
    for t in taus:
        syn[t]["zero"], syn[t]["best_zero"] = _best(grid, syn[t]["zero_all"])
        syn[t]["nngp"], syn[t]["best_nngp"] = _best(grid, syn[t]["nngp_all"])
    bz = [syn[t]["best_zero"] for t in taus]
    br = [syn[t]["best_nngp"] for t in taus]
    # real series (reported, not judged): one-step-ahead forecast of yearly sunspots from the last Jr years
    _, raw = load_sunspots()
    sun = (raw - raw.mean()) / raw.std()
    shuffled = ctx.rng(66, 999).permutation(sun)
    Jr, Nr = 40, 20
    real = {}
    for label, series in (("sunspots", sun), ("shuffled", shuffled)):
        Xall = np.lib.stride_tricks.sliding_window_view(series[:-1], Jr)[:, ::-1]  # row t: s[t+Jr-1], ..., s[t]
        yall = series[Jr:]
        half = Xall.shape[0] // 2
        Xte, yte = Xall[half:], yall[half:]
        rz, rr = np.empty((seeds, grid.size)), np.empty((seeds, grid.size))
        for k in range(seeds):
            gen = ctx.rng(66, k)
            idx = np.sort(gen.choice(half, Nr, replace=False))
            for g, s2 in enumerate(grid):
                rz[k, g], rr[k, g] = _test_errors(Xall[idx], yall[idx], Xte, yte, s2, _rho2, draws, gen)
        (mz, bz_r), (mr, br_r) = _best(grid, rz), _best(grid, rr)
        real[label] = {"zero": mz, "nngp": mr, "best_zero": bz_r, "best_nngp": br_r, "q25": np.quantile(rz, 0.25, 0),
                       "q75": np.quantile(rz, 0.75, 0), "zero_forecast": float(np.mean(yte**2)),
                       "persistence": float(np.mean((Xte[:, 0] - yte) ** 2)), "n_test": int(Xte.shape[0])}
    rs, rsh = real["sunspots"], real["shuffled"]

    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 5.0), layout="constrained")
    for k, tau in enumerate(taus):
        q25, q75 = np.quantile(syn[tau]["zero_all"], [0.25, 0.75], axis=0)
        axes[0].semilogy(grid, syn[tau]["zero"], "o-", ms=3, color=f"C{k}",
                         label=f"τ={tau:g}: best σ²={syn[tau]['best_zero']:g}")
        axes[0].fill_between(grid, q25, q75, color=f"C{k}", alpha=0.15)
        axes[0].semilogy(grid, syn[tau]["nngp"], ":", color=f"C{k}", lw=1)
    axes[0].set_ylim(top=20)
    axes[0].set_xlabel("σ²")
    axes[0].set_ylabel("test mse (median; dotted: random NNGP init)")
    axes[0].set_title(f"teachers L*_j ∝ e^(−j/τ), J={J}, N={N}", fontsize=9)
    axes[0].plot([], [], ":", color="0.4", lw=1, label="random NNGP initial function")
    axes[0].legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False)
    axes[1].semilogy(grid, rs["zero"], "o-", ms=3, label=f"sunspots, L(0)=0 (best σ²={rs['best_zero']:g})")
    axes[1].fill_between(grid, rs["q25"], rs["q75"], alpha=0.2)
    axes[1].semilogy(grid, rs["nngp"], ":", label=f"sunspots, NNGP init (best σ²={rs['best_nngp']:g})")
    axes[1].semilogy(grid, rsh["zero"], "s--", ms=3, color="0.4",
                     label=f"shuffled years, L(0)=0 (best σ²={rsh['best_zero']:g})")
    axes[1].set_ylim(top=30)
    axes[1].set_xlabel("σ²")
    axes[1].set_ylabel("one-step forecast test mse (standardised)")
    axes[1].set_title(f"yearly sunspots, {Jr} lags, {Nr} training windows (not judged)", fontsize=9)
    axes[1].legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False)
    fig_name = ctx.save_figure(fig, "p2-bias-variance.png")
    passed = all(per_group)
    summary = (f"best σ² {bz} for teacher memory τ = {[int(t) for t in taus]} (NNGP init {br}); criterion in "
               f"{sum(per_group)}/{groups} seed groups; sunspots best σ² {rs['best_zero']:g} (shuffled "
               f"{rsh['best_zero']:g})")
    csum = f"best σ² {c_bests[0]} (flat curves: the interpolant does not depend on a uniform R's scale)"
    details = "\n".join([
        "Infinite-width linear RNN = kernel regression with the lag weights ρ_j² (docs/math.md §7b): the learned "
        "response is the weighted min-norm interpolant from L(0). Two initial functions: L(0) = 0 (centred model; "
        f"also the init-average of the learned function) and L(0) ~ NNGP N(0, σ^{{2j}}) (plain RNN; mean over {draws} "
        f"draws). Synthetic: teachers L*_j ∝ e^{{−j/τ}} (unit norm), J = {J}, N = {N} Gaussian windows "
        f"(under-determined), label noise sd 0.1, 400 test windows, {seeds} seeds in {groups} groups; median test mse "
        "(zero init / NNGP init):",
        "",
        "| σ² | " + " | ".join(f"τ={t:g}" for t in taus) + " | sunspots | shuffled |",
        "|---|" + "---|" * (len(taus) + 2),
        *[f"| {g:g} | " + " | ".join(f"{syn[t]['zero'][i]:.3g} / {syn[t]['nngp'][i]:.3g}" for t in taus)
          + f" | {rs['zero'][i]:.3g} / {rs['nngp'][i]:.3g} | {rsh['zero'][i]:.3g} |" for i, g in enumerate(grid)],
        "",
        f"Best σ² (zero init) per seed group: {bests}; NNGP init (all seeds): {br} — the random initial function's "
        "variance σ^{2j} at long lags pushes the optimum below 1 for every teacher. Small σ² also loses: the "
        "interpolant must then fit the N labels with the first ~N lags only, which amplifies the label noise "
        "(variance), while large σ² spreads the fit onto long lags the teacher does not use (bias).",
        "",
        "PASS criterion (in every seed group): with L(0) = 0 the best σ² is non-decreasing in the teacher's memory "
        "τ (up to one grid step) and at least 0.1 larger for the longest than for the shortest memory. Control: the "
        "same criterion with uniform lag weights (mean of ρ_j²) in place of ρ_j²; it must FAIL.",
        "",
        f"**Real series (reported, not part of the verdict).** Yearly sunspots 1700–2008 (`theory/data/sunspots.npz`, "
        f"standardised), one-step forecast from the previous {Jr} years, {Nr} training windows drawn from the first "
        f"half, test on the second half ({rs['n_test']} windows), {seeds} seeds: interior optimum σ² = "
        f"{rs['best_zero']:g} (median mse {rs['zero'].min():.3f} vs {rs['zero'][0]:.3f} at σ² = {grid[0]:g} and "
        f"{rs['zero'][-1]:.3f} at σ² = {grid[-1]:g}; zero forecast {rs['zero_forecast']:.3f}, persistence "
        f"{rs['persistence']:.3f}). **Finding:** the same series with its years shuffled (no memory at all) also has "
        f"an interior optimum, at σ² = {rsh['best_zero']:g} (median mse {rsh['zero'].min():.3f}, zero forecast "
        f"{rsh['zero_forecast']:.3f}). For a ridgeless interpolant with N < J the σ²-dependence on this series is "
        "dominated by the conditioning of the interpolation (variance), so the sunspot curve is not evidence that "
        "the best σ tracks a real series' memory; we report it and judge only the synthetic teachers, whose memory is "
        "known.",
    ])
    return Result(passed, summary, details, [fig_name],
                  {"sigma2": grid, "best_zero_per_group": bests, "best_nngp": br,
                   "synthetic": {str(t): {"zero": syn[t]["zero"], "nngp": syn[t]["nngp"]} for t in taus},
                   "sunspots": {k: {kk: vv for kk, vv in v.items() if kk not in ("q25", "q75")}
                                for k, v in real.items()},
                   "control_uniform_best": c_bests},
                  controls=[Control("uniform", WRONG_KERNELS["uniform"], all(c_group), csum)],
                  seeds={gi: ok for gi, ok in enumerate(per_group)})
