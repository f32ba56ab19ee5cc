"""[P1] Fig. 1: perturbation curves of linear RNNs fitted to exponential and polynomial memory (docs/math.md §7).

Targets: d = 1 linear functionals ρ(t) = 0.9ᵗ ("exp") and ρ(t) = (1 + t)^{−1.1} ("pol"); widths m ∈ {2, 4, 6, 8, 14};
β ∈ {0} ∪ {5e−4 · 2^k, k = 0..20}; E_m(β) = the sup error of the impulse response (the memory kernel: y_k = ρ̂(k),
Δt = 1) under W, U, C perturbed in their spectral-norm β-balls (random directions + the worst cases W + βI;
b = 0 is not perturbed). Two fits, both least squares over exponential bases (no gradient descent):

* ``fig1-exp`` — the paper's setting as far as it is stated: a **fixed-width** fit, exactly m distinct modes, on
  the paper's window t ∈ {1..100}. The basis is the uniform eigenvalue grid e^{−λ_k} = k/(m+1)
  (:func:`rnnmem.approx.uniform_rates`) and the least squares is truncated at singular values < 1e−2 of the
  largest (:func:`rnnmem.approx.fixed_basis_fit`, ``rcond``). [P1] states neither basis nor solver; this pair is the
  one we found that reproduces the paper's E_m(0) (0.32, 0.10, 0.034, 0.010 for m ≤ 8) — an optimal fit is exact
  for 0.9ᵗ with one mode and gives one curve for all m (the previous, degenerate, version of this check).
* ``fig1-pol`` — rates and weights fitted jointly (variable projection, :func:`rnnmem.approx.exponential_fit`) on a
  long geometric horizon (t ≤ 1e4), all m modes kept: the fits whose slowest rate falls with m, the mechanism of
  the curse of memory. E_m on a long window (the sup over all t of Def. 3.4) and, reported, the paper's window.
"""

from __future__ import annotations

import math

import numpy as np

import rnnmem as rm
from rnnmem import approx
from rnnmem.stability import spectral_abscissa
from theory._registry import Context, Control, Result, check

#: [P1] Fig. 1 read-offs quoted in docs/math.md §7
PAPER_E0_EXP = {2: 0.32, 4: 0.10, 6: 0.034, 8: 0.010, 14: 0.0017}
PAPER_CROSSINGS_POL = [0.11, 0.055, 0.035, 0.016]
PAPER_BETA0_EXP = 0.07
#: the common crossing must lie within this factor of the paper's β₀ ≈ 0.07 (and below the target's rate)
BETA0_FACTOR = 2.5
#: "crossings move left": the last crossing at most this fraction of the first
LEFT_FACTOR = 1.0 / 3.0
#: truncated-SVD level of the fixed-width fit (fig1-exp)
RCOND = 1e-2
#: E_m(0) below this is rounding, not an approximation error
E0_FLOOR = 1e-12

TARGETS = {"exp": lambda: rm.targets.exponential(base=0.9), "pol": lambda: rm.targets.polynomial(1.1)}
RATE_EXP = -math.log(0.9)
_TAGS = {"fixed": 0, "vp-long": 1, "vp-short": 2}


def settings(ctx: Context) -> dict:
    """Sizes of the Fig. 1 computations for this run."""
    return {
        "widths": ctx.pick([4, 6, 8], [2, 4, 6, 8, 14]),
        "widths_vp": ctx.pick([2, 4, 6], [2, 4, 6, 8, 14]),
        "betas": np.r_[0.0, 5e-4 * 2.0 ** np.arange(ctx.pick(12, 21))],
        "betas_fine": np.r_[0.0, 5e-4 * 2.0 ** np.arange(-8, ctx.pick(9, 11))],
        "samples": ctx.pick(30, 30),
        "samples_long": 2,
        "seeds": ctx.pick([0], [0, 1, 2]),
        "T_short": 101,
        "T_long": ctx.pick(1001, 10001),
    }


def _impulse(T: int) -> np.ndarray:
    x = np.zeros((1, T, 1))
    x[0, 0, 0] = 1.0  # Δt = 1: y_k = Δt ρ̂(kΔt) x_0 / Δt = ρ̂(k)
    return x


def crossing(betas: np.ndarray, e_small: np.ndarray, e_big: np.ndarray) -> tuple[float, bool]:
    """First β > 0 at which the wider model's error exceeds the narrower one's.

    Interpolated linearly in (log β, log E_big − log E_small) between the last grid point below and the first
    above; returns (β, exact) with exact = False when the crossing is at the first positive grid point (then it
    is ≤ that β) or when an error is infinite there (grid value). (nan, False) when they never cross.
    """
    idx = np.flatnonzero(betas > 0)
    prev = None
    for i in idx:
        a, b = e_small[i], e_big[i]
        if b > a:
            if prev is None:
                return float(betas[i]), False
            if not (np.isfinite(a) and np.isfinite(b)) or a <= 0 or b <= 0:
                return float(betas[i]), False
            d0 = math.log(e_big[prev]) - math.log(e_small[prev]) if e_big[prev] > 0 and e_small[prev] > 0 else -1
            d1 = math.log(b) - math.log(a)
            x0, x1 = math.log(betas[prev]), math.log(betas[i])
            return float(math.exp(x0 + (x1 - x0) * (-d0) / (d1 - d0))), True
        prev = i
    return math.nan, False


# ------------------------------------------------------------------------------------------------- the fits
def fixed_width_fits(ctx: Context, name: str) -> dict:
    """fig1-exp's fits: m distinct modes on the uniform eigenvalue grid, truncated-SVD least squares on t ≤ 100."""
    def compute():
        target = TARGETS[name]()
        t = np.arange(1.0, 101.0)
        out = {}
        for m in settings(ctx)["widths"]:
            fit = approx.fixed_basis_fit(target, approx.uniform_rates(m), t=t, rcond=RCOND)
            out[m] = {"fit": fit, "rnn": fit.to_rnn(cell="euler", dt=1.0)}
        return out

    return ctx.memo(("fig1-fixed", name), compute)


def vp_fits(ctx: Context, name: str) -> dict:
    """fig1-pol's fits: variable projection (rates and weights jointly) on the long geometric grid t ≤ 1e4."""
    def compute():
        target = TARGETS[name]()
        out = {}
        for m in settings(ctx)["widths_vp"]:
            fit = approx.exponential_fit(target, m, starts=1)
            out[m] = {"fit": fit, "rnn": fit.to_rnn(cell="euler", dt=1.0)}
        return out

    return ctx.memo(("fig1-vp", name), compute)


def curves_of(ctx: Context, fits: dict, name: str, T: int, betas: np.ndarray, samples: int, seed: int,
              tag: str) -> dict:
    """E_m(β) of every fit (sup over t ∈ {1..T−1}), perturbation directions from ``ctx.rng`` (seeded)."""
    def compute():
        target = TARGETS[name]()
        return {m: rm.perturbation_error(r["rnn"], target, betas, samples=samples, x=_impulse(T),
                                         blocks=("W", "U", "C"), steps=slice(1, None),
                                         rng=ctx.rng(1, seed, m, T, _TAGS[tag]))
                for m, r in fits.items()}

    return ctx.memo(("fig1-curves", tag, name, T, seed), compute)


#: the worst-case perturbations of ``rm.perturbation_error`` that E^wc uses (by their names in ``info["worst_cases"]``)
WORST_CASES = ("W+βI", "W+βI, other blocks grown")


def worst_case(curves: dict) -> dict:
    """The deterministic part of each sup estimate: E^wc_m(β) = max over the worst-case perturbations (W + βI, and
    W + βI with U, C grown by β) — the curves the criteria use (the sampled directions add seed noise). The
    smallest-destabiliser direction W + βD that ``perturbation_error`` also evaluates is left out: for these diagonal
    W it moves the slowest mode alone and crosses the stability boundary at the same β = −α(W) as W + βI, and the
    criteria (and their negative controls) are set on the two perturbations above."""
    def pick(c):
        names = c.info.get("worst_cases")
        if names is None:  # a curve built by hand (tests): every column is one of the two
            return c.worst_errors.max(axis=1)
        cols = [i for i, name in enumerate(names) if name in WORST_CASES]
        return c.worst_errors[:, cols].max(axis=1)

    return {m: rm.PerturbationCurve(c.betas, pick(c), c.sample_errors, c.worst_errors, c.nominal,
                                    c.error, c.norm, dict(c.info)) for m, c in curves.items()}


# --------------------------------------------------------------------------------------------- criteria
def exp_criterion(betas: np.ndarray, curves: dict) -> dict:
    """fig1-exp's criterion on one set of curves (one seed): see the check's details."""
    ms = sorted(curves)
    e0 = [curves[m].nominal for m in ms]
    decreasing = all(e0[i + 1] < e0[i] for i in range(len(e0) - 1)) and min(e0) > E0_FLOOR
    cross = [crossing(betas, curves[ms[i]].errors, curves[ms[i + 1]].errors) for i in range(len(ms) - 1)]
    all_cross = all(np.isfinite(c) and ex for c, ex in cross)
    beta0 = min((c for c, _ in cross), default=math.nan) if all_cross else math.nan
    E = np.array([curves[m].errors for m in ms])
    below = betas < beta0 if all_cross else np.zeros(betas.size, bool)
    ordered = bool(all_cross and np.all(np.diff(E[:, below], axis=0) < 0))
    in_range = bool(all_cross and PAPER_BETA0_EXP / BETA0_FACTOR <= beta0 <= RATE_EXP)
    return {"E0": e0, "crossings": [c for c, _ in cross], "exact": [ex for _, ex in cross], "beta0": beta0,
            "decreasing": decreasing, "ordered": ordered, "beta0_ok": in_range,
            "ok": bool(decreasing and all_cross and ordered and in_range)}


def pol_criterion(betas: np.ndarray, curves: dict) -> dict:
    """fig1-pol's criterion on one set of curves (one seed): see the check's details."""
    ms = sorted(curves)
    e0 = [curves[m].nominal for m in ms]
    decreasing = all(e0[i + 1] < e0[i] for i in range(len(e0) - 1)) and min(e0) > E0_FLOOR
    cross = [crossing(betas, curves[ms[i]].errors, curves[ms[i + 1]].errors) for i in range(len(ms) - 1)]
    cl = [c for c, _ in cross]
    all_cross = all(np.isfinite(c) and ex for c, ex in cross)
    moves_left = bool(all_cross and all(cl[i + 1] < cl[i] for i in range(len(cl) - 1))
                      and cl[-1] <= LEFT_FACTOR * cl[0])
    return {"E0": e0, "crossings": cl, "exact": [ex for _, ex in cross], "decreasing": decreasing,
            "all_cross": all_cross, "moves_left": moves_left, "ok": bool(decreasing and all_cross and moves_left)}


def _fmt_cross(res: dict) -> str:
    return ", ".join("none" if not np.isfinite(c) else (f"{c:.2g}" if ex else f"≤{c:.2g}")
                     for c, ex in zip(res["crossings"], res["exact"], strict=True))


def _figure(ctx: Context, fname: str, panels: list, title: str) -> str:
    import matplotlib.pyplot as plt

    from rnnmem.plot import plot_perturbation

    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 5.0), layout="constrained")
    axes = np.atleast_1d(axes)
    keys: dict = {}
    for ax, (curves, sub) in zip(axes, panels, strict=True):
        plot_perturbation({f"m = {m}": c for m, c in sorted(curves.items())}, ax=ax, marker=".", legend="none")
        ax.set_title(sub, fontsize=9)
        for handle, lab in zip(*ax.get_legend_handles_labels(), strict=True):  # label -> handle, union of panels
            keys.setdefault("E off scale (above the panel's top)" if lab.startswith("E > ") else lab, handle)
    axes[-1].legend(list(keys.values()), list(keys), loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8,
                    borderaxespad=0.0)
    fig.suptitle(title, fontsize=9)
    return ctx.save_figure(fig, fname)


# ------------------------------------------------------------------------------------------------ fig1-exp
@check("fig1-exp", order=10, title="P1 Fig. 1(a), exponential memory: curves ordered below a common β₀",
       statement="[P1] Fig. 1(a) / Def. 3.5: linear RNNs of width m ∈ {2, 4, 6, 8, 14} fitted by least squares over "
                 "exponential bases to ρ(t) = 0.9ᵗ (error on t ∈ 1..100) have perturbation curves E_m(β) with "
                 "E_m(0) decreasing in m (paper: 0.32, 0.10, 0.034, 0.010, 0.0017) that stay ordered by m below a "
                 "common β₀ (paper ≈ 0.07), where they meet; Thm. 3.9 relates it to the target: β₀ ≤ −ln 0.9.")
def fig1_exp(ctx: Context) -> Result:
    s = settings(ctx)
    widths, betas = s["widths"], s["betas"]
    s0 = s["seeds"][0]
    res, sampled, curves = {}, {}, {}
    for name in ("exp", "pol"):
        fits = fixed_width_fits(ctx, name)
        curves[name] = {seed: curves_of(ctx, fits, name, s["T_short"], betas, s["samples"], seed, "fixed")
                        for seed in s["seeds"]}
        res[name] = exp_criterion(betas, worst_case(curves[name][s0]))
        sampled[name] = {seed: exp_criterion(betas, c) for seed, c in curves[name].items()}
    main, ctl = res["exp"], res["pol"]
    passed = main["ok"]
    control = Control(
        "pol-target", "exponential memory replaced by (1 + t)^−1.1 (same fixed-width fits, same criterion)",
        passed=ctl["ok"],
        summary=f"crossings {_fmt_cross(ctl)}: β₀ = {ctl['beta0']:.2g} < {PAPER_BETA0_EXP / BETA0_FACTOR:.3g} "
                f"(curves cross early and spread); ordered below it: {ctl['ordered']}")
    fits = fixed_width_fits(ctx, "exp")
    fname = _figure(ctx, "fig1-exp.png",
                    [(curves["exp"][s0], f"exp target 0.9^t: crossings (worst case) {_fmt_cross(main)}"),
                     (curves["pol"][s0], f"control, pol target: crossings {_fmt_cross(ctl)}")],
                    f"[P1] Fig. 1(a): fixed-width least squares, eigenvalues k/(m+1), t ≤ 100 "
                    f"({s['samples']} random directions + worst cases, seed {s0})")
    table = ["| m | E_m(0) | paper E_m(0) | −α(W_m) = 1/(m+1) | max abs weight | rank kept |",
             "|---|---|---|---|---|---|"]
    for i, m in enumerate(widths):
        f = fits[m]["fit"]
        table.append(f"| {m} | {main['E0'][i]:.3g} | {PAPER_E0_EXP.get(m, math.nan):.3g} | "
                     f"{-spectral_abscissa(fits[m]['rnn'].W):.3g} | {np.abs(f.weights).max():.3g} | "
                     f"{f.info['rank']}/{m} |")
    samp = "; ".join(f"seed {seed}: crossings {_fmt_cross(r)}, β₀ = {r['beta0']:.2g}"
                     for seed, r in sampled["exp"].items())
    samp_p = "; ".join(f"seed {seed}: β₀ = {r['beta0']:.2g}" for seed, r in sampled["pol"].items())
    details = (
        f"Fits: `approx.fixed_basis_fit(ρ, approx.uniform_rates(m), t = 1..100, rcond = {RCOND:g})` — exactly m "
        "distinct modes with discrete eigenvalues k/(m+1) (none pruned), least squares truncated at singular values "
        f"< {RCOND:g} × the largest; `to_rnn(cell='euler', dt=1)`. E_m(β): `rm.perturbation_error`, sup error of the "
        f"impulse response on t ∈ 1..100, {s['samples']} random spectral-norm directions + 2 worst cases (W + βI; "
        "W + βI with U, C grown by β) per β.\n\n"
        "**PASS criterion**, on the worst-case curves E^wc_m(β) (the deterministic part of the sup estimate; the "
        "random directions add seed-dependent noise, reported below): (i) E_m(0) strictly decreasing in m (all above "
        "1e−12); (ii) every consecutive pair of curves crosses (interpolated, not at the first grid point); "
        "β₀ = the first crossing; (iii) on every grid β < β₀ the curves are strictly ordered, E_m'(β) < E_m(β) for "
        f"m' > m; (iv) {PAPER_BETA0_EXP / BETA0_FACTOR:.3g} ≤ β₀ ≤ −ln 0.9 = {RATE_EXP:.4f} (the paper's β₀ ≈ 0.07 "
        f"within a factor {BETA0_FACTOR}, and Thm. 3.9's β₀ ≤ the target's decay rate).\n\n"
        "**Control** `pol-target`: the same fits and criterion on (1 + t)^−1.1 must fail — its curves cross early "
        "and at spread-out β (a crossing below 0.028).\n\n"
        f"Measured: E_m(0) = {', '.join(f'{e:.2g}' for e in main['E0'])}; worst-case crossings "
        f"{_fmt_cross(main)}, β₀ = {main['beta0']:.3g} (paper ≈ 0.07); ordered below β₀: {main['ordered']}. "
        f"With the sampled directions included (the full estimate; not gated): {samp}; pol target {samp_p}.\n\n"
        + "\n".join(table) + "\n\n"
        "**Reading.** The crossings cluster at ≈ 0.06: the curves meet where W + βI destabilises the slowest "
        "modes (eigenvalue m/(m+1): β = 1/(m+1) = 0.067 for m = 14), as in the paper's panel. The fixed uniform "
        "basis and the truncation are a reconstruction — [P1] names no basis and no solver. An *optimal* m-mode "
        "fit represents 0.9ᵗ exactly with one mode (E_m(0) ≈ 1e−16 for every m, one curve: the previous, "
        "degenerate version of this check), so the paper's non-zero E_m(0) come from a non-optimal basis. "
        "Without the truncation (rcond → 0) the weights grow to ~1e4 at m = 14 and consecutive curves cross below "
        "β = 0.01 (no common β₀). The random directions can push a crossing down to ≈ 0.03 on some seeds: the "
        f"curves are within a factor 2 of each other on 0.03 ≤ β ≤ 0.06. Widths {widths}; β grid {{0}} ∪ "
        f"5e−4·2^k, k < {betas.size - 1}."
    )
    summary = (f"E_m(0) {', '.join(f'{e:.2g}' for e in main['E0'])} (paper 0.32, 0.10, 0.034, 0.010, 0.0017); "
               f"crossings {_fmt_cross(main)}: common β₀ = {main['beta0']:.3g} ≤ −ln 0.9 (paper ≈ 0.07), "
               f"ordered below")
    return Result(
        passed=bool(passed), summary=summary, details=details, figures=[fname], controls=[control],
        data={"widths": widths, "betas": betas, "rcond": RCOND, "worst_case": res, "sampled": sampled,
              "paper_E0": PAPER_E0_EXP, "weights": {m: fits[m]["fit"].weights for m in widths},
              "errors": {m: curves["exp"][s0][m].errors for m in widths}},
    )


# ------------------------------------------------------------------------------------------------ fig1-pol
@check("fig1-pol", order=11, title="P1 Fig. 1(b), polynomial memory: crossings move to β = 0",
       statement="[P1] Fig. 1(b) / Thm. 3.9: for ρ(t) = (1 + t)^{−1.1} the crossings of consecutive perturbation "
                 "curves E_m, E_m' move toward β = 0 as m grows (paper ≈ 0.11, 0.055, 0.035, 0.016): E(β) "
                 "jumps at 0, no stable approximation.")
def fig1_pol(ctx: Context) -> Result:
    s = settings(ctx)
    widths, betas = s["widths_vp"], s["betas_fine"]
    s0 = s["seeds"][0]
    curves = {name: curves_of(ctx, vp_fits(ctx, name), name, s["T_long"], betas, s["samples_long"], s0, "vp-long")
              for name in ("pol", "exp")}
    main = pol_criterion(betas, worst_case(curves["pol"]))
    ctl = pol_criterion(betas, worst_case(curves["exp"]))
    sampled = pol_criterion(betas, curves["pol"])
    fits = vp_fits(ctx, "pol")
    kept = {m: int(fits[m]["fit"].rates.size) for m in widths}
    no_pruning = all(kept[m] == m for m in widths)
    passed = main["ok"] and no_pruning
    # reported, not gated: the paper's window, and the fixed-width fits of fig1-exp
    cur_s = curves_of(ctx, fits, "pol", s["T_short"], betas, s["samples_long"], s0, "vp-short")
    short = pol_criterion(betas, worst_case(cur_s))
    fixed = exp_criterion(s["betas"], worst_case(curves_of(ctx, fixed_width_fits(ctx, "pol"), "pol", s["T_short"],
                                                           s["betas"], s["samples"], s0, "fixed")))
    control = Control(
        "exp-target", "polynomial memory replaced by 0.9^t (same variable-projection fits, same criterion)",
        passed=ctl["ok"],
        summary=f"E_m(0) {', '.join(f'{e:.1g}' for e in ctl['E0'])} (exact 1-mode fits: wider is not better), "
                f"crossings {_fmt_cross(ctl)}")
    cur = curves["pol"]
    fname = _figure(ctx, "fig1-pol.png", [(cur, f"long window t ≤ {s['T_long'] - 1}: crossings {_fmt_cross(main)}"),
                                          (cur_s, f"paper window t ≤ 100: crossings {_fmt_cross(short)}")],
                    "[P1] Fig. 1(b): (1+t)^-1.1, variable-projection fits, all m modes kept")
    table = ["| m | modes kept | slowest rate λ_min | E_m(0), long window | E_m(0), t ≤ 100 |", "|---|---|---|---|---|"]
    for i, m in enumerate(widths):
        table.append(f"| {m} | {kept[m]} | {fits[m]['fit'].slowest_rate:.3g} | {main['E0'][i]:.2g} | "
                     f"{short['E0'][i]:.2g} |")
    details = (
        "Fits: `approx.exponential_fit(ρ, m, starts=1)` (variable projection on t ≤ 1e4, geometric tail), all m "
        f"modes kept (modes kept: {kept}); `to_rnn(cell='euler', dt=1)`. E_m(β) on the long window "
        f"t ∈ 1..{s['T_long'] - 1} "
        f"(the sup over t of Def. 3.4), {s['samples_long']} random directions + 2 worst cases per β (seed {s0}); "
        f"β grid {{0}} ∪ 5e−4·2^k, k = −8..{betas.size - 10} (the paper's grid with 8 finer points, so "
        "that the small crossings are interpolated rather than bounded by the first grid point, and cut at β ≈ 0.5: "
        "every curve has blown up by then).\n\n"
        "**PASS criterion**, on the worst-case curves E^wc_m(β) as in `fig1-exp` (deterministic): E_m(0) strictly "
        "decreasing in m (above 1e−12); every consecutive pair crosses (interpolated); the crossings strictly "
        "decrease in m and the last is ≤ 1/3 of the first (the paper's "
        "0.11 → 0.016 is a factor 7); no mode pruned.\n\n"
        "**Control** `exp-target`: the same pipeline on 0.9ᵗ — variable projection represents it exactly with one "
        "mode, so wider models are not better (E_m(0) at rounding level) and there is nothing to cross: FAIL.\n\n"
        f"Measured: crossings {_fmt_cross(main)} on the long window (with the sampled directions: "
        f"{_fmt_cross(sampled)}); paper window t ≤ 100: "
        f"{_fmt_cross(short)}; paper ≈ {', '.join(map(str, PAPER_CROSSINGS_POL))}.\n\n" + "\n".join(table) + "\n\n"
        "The slowest fitted rate falls with m, so W_m + βI is unstable for β > λ_min(m) → 0: the tail of the "
        "polynomial kernel needs ever slower modes. On the paper's window t ≤ 100 a mode growing at rate g shows "
        "only once g·100 ≳ 1, so there the crossings sit near 0.01–0.2 and are not monotone; the sup over all t "
        "(long window) shows the signature. With the fixed-width fits of `fig1-exp` (uniform basis, t ≤ 100) the "
        f"polynomial target's crossings are {_fmt_cross(fixed)} — early and spread, but not monotone either: the "
        "paper's monotone 0.11, 0.055, 0.035, 0.016 is not reproduced on the short window by either fit."
    )
    return Result(
        passed=bool(passed),
        summary=f"crossings {_fmt_cross(main)} (long window; paper {', '.join(map(str, PAPER_CROSSINGS_POL))}); "
                f"E_m(0) {', '.join(f'{e:.2g}' for e in main['E0'])}; slowest rate "
                f"{fits[widths[0]]['fit'].slowest_rate:.2g} → {fits[widths[-1]]['fit'].slowest_rate:.2g}",
        details=details, figures=[fname], controls=[control],
        data={"widths": widths, "betas": betas, "worst_case": main, "sampled": sampled, "control": ctl,
              "short_window": short, "fixed_width_fits": fixed,
              "modes_kept": kept, "paper_crossings": PAPER_CROSSINGS_POL,
              "slowest_rates": {m: fits[m]["fit"].slowest_rate for m in widths},
              "errors_long": {m: cur[m].errors for m in widths}},
    )
