"""[P1] Fig. 1: perturbation curves of linear RNNs fitted to exponential vs polynomial memory (docs/math.md §7).

Setting: d = 1 linear functionals with ρ(t) = 0.9ᵗ ("exp") and ρ(t) = (1 + t)^{−1.1} ("pol"); linear RNNs of width
m ∈ {2, 4, 6, 8, 14} fitted without gradient descent by variable projection over exponential bases
(:func:`rnnmem.approx.exponential_fit`, long geometric horizon t ≤ 1e4, modes of ~0 weight pruned), turned into
``euler`` RNNs with Δt = 1 (:meth:`rnnmem.approx.ExponentialFit.to_rnn`, exact discretisation of each mode).
E_m(β) is the sup error of the impulse response (the memory kernel: x_0 = 1, so y_k = ρ̂(k)) on
β ∈ {0} ∪ {5e−4 · 2^k}, with W, U, C perturbed in their spectral-norm β-balls (10 random directions + the
worst cases W + βI; b = 0 is not perturbed). Two windows: the paper's t ∈ {1..100}, and a long window
t ∈ {1..T_long} that approximates the sup over all t ≥ 0 of Definition 3.4.
"""

from __future__ import annotations

import math

import numpy as np

import rnnmem as rm
from rnnmem import approx
from rnnmem.stability import spectral_abscissa
from theory._registry import Context, Result, check

#: [P1] Fig. 1 read-offs quoted in docs/math.md §7
PAPER_E0_EXP = {2: 0.32, 4: 0.10, 6: 0.034, 8: 0.010, 14: 0.0017}
PAPER_CROSSINGS_POL = [0.11, 0.055, 0.035, 0.016]
PAPER_BETA0_EXP = 0.07

TARGETS = {"exp": lambda: rm.targets.exponential(base=0.9), "pol": lambda: rm.targets.polynomial(1.1)}

_CACHE: dict = {}


def settings(ctx: Context) -> dict:
    """Sizes of the Fig. 1 computation for this run."""
    return {
        "widths": ctx.pick([2, 4, 6], [2, 4, 6, 8, 14]),
        "betas": np.r_[0.0, 5e-4 * 2.0 ** np.arange(ctx.pick(12, 21))],
        "samples": ctx.pick(3, 10),
        "T_short": 101,
        "T_long": ctx.pick(1001, 10001),
    }


def _impulse(T: int) -> np.ndarray:
    x = np.zeros((1, T, 1))
    x[0, 0, 0] = 1.0  # Δt = 1: y_k = Δt ρ̂(kΔt) x_0 / Δt = ρ̂(k)
    return x


def fig1_data(ctx: Context) -> dict:
    """Fits, RNNs and perturbation curves of both targets (cached per run size and seed)."""
    key = (ctx.size, ctx.seed)
    if key in _CACHE:
        return _CACHE[key]
    s = settings(ctx)
    out: dict = {"settings": s}
    for ti, (name, make) in enumerate(TARGETS.items()):
        target = make()
        rows = {}
        for m in s["widths"]:
            fit = approx.exponential_fit(target, m)
            rnn = fit.to_rnn(cell="euler", dt=1.0)
            curves = {}
            for wi, T in enumerate((s["T_short"], s["T_long"])):
                curves["short" if wi == 0 else "long"] = rm.perturbation_error(
                    rnn, target, s["betas"], samples=s["samples"], x=_impulse(T), blocks=("W", "U", "C"),
                    steps=slice(1, None), rng=ctx.rng(1, ti, m, wi))
            rows[m] = {"fit": fit, "rnn": rnn, "curves": curves, "alpha": spectral_abscissa(rnn.W)}
        out[name] = rows
    _CACHE[key] = out
    return out


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


def _figure(ctx: Context, name: str, data: dict, extra_title: str) -> str:
    import matplotlib.pyplot as plt

    from rnnmem.plot import plot_perturbation

    s = data["settings"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, window, title in ((axes[0], "short", "paper window t ≤ 100"),
                              (axes[1], "long", f"long window t ≤ {s['T_long'] - 1}")):
        curves = {f"m = {m}": data[name][m]["curves"][window] for m in s["widths"]}
        plot_perturbation(curves, ax=ax, marker=".")
        ax.set_title(f"{name}: {title}", fontsize=9)
    fig.suptitle(f"[P1] Fig. 1 ({name} target): E_m(β), linear RNNs by variable projection. {extra_title}",
                 fontsize=9)
    fig.tight_layout()
    fname = f"fig1-{name}.png"
    ctx.save_figure(fig, fname)
    return fname


def _e0_table(data: dict, name: str, widths) -> str:
    lines = ["| m | width after pruning | slowest rate λ_min | −α(W_m) | E_m(0), t ≤ 100 | paper E_m(0) |",
             "|---|---|---|---|---|---|"]
    for m in widths:
        r = data[name][m]
        paper = PAPER_E0_EXP.get(m, math.nan) if name == "exp" else math.nan
        lines.append(f"| {m} | {r['fit'].rates.size} | {r['fit'].slowest_rate:.3g} | {-r['alpha']:.3g} | "
                     f"{r['curves']['short'].nominal:.3g} | {paper:.3g} |")
    return "\n".join(lines)


@check("fig1-exp", order=10, title="P1 Fig. 1, exponential memory: stable approximation",
       statement="[P1] Fig. 1 / Def. 3.5: linear RNNs approximating ρ(t) = 0.9ᵗ have perturbation curves E_m(β) "
                 "ordered by m below a common β₀ > 0 (paper: β₀ ≈ 0.07, E_m(0) ≈ 0.32, 0.10, 0.034, 0.010, "
                 "0.0017 for m = 2, 4, 6, 8, 14).")
def fig1_exp(ctx: Context) -> Result:
    data = fig1_data(ctx)
    s = data["settings"]
    widths, betas = s["widths"], s["betas"]
    rows = data["exp"]
    ok_all = True
    verdicts = {}
    for window in ("short", "long"):
        curves = [rows[m]["curves"][window] for m in widths]
        brackets = [c.blowup_bracket() for c in curves]
        beta0 = min(b[0] for b in brackets)
        e0 = [c.nominal for c in curves]
        below = betas <= beta0
        ordered = all(
            np.all(curves[j].errors[below] <= curves[i].errors[below] * 1.05 + 1e-12)
            for i in range(len(curves)) for j in range(i + 1, len(curves)))
        approx_ok = max(e0) <= 1e-8
        ok = approx_ok and beta0 >= 0.05 and ordered
        verdicts[window] = {"beta0": beta0, "brackets": brackets, "E0": e0, "ordered": ordered, "ok": ok}
        ok_all &= ok
    b0 = verdicts["long"]["beta0"]
    # ablation: the same fits without pruning/merging keep ~0-weight modes at arbitrary slow rates
    target = TARGETS["exp"]()
    ablation = {}
    for m in widths[1:]:
        raw = approx.exponential_fit(target, m, prune=0.0, merge=0.0)
        c = rm.perturbation_error(raw.to_rnn(cell="euler", dt=1.0), target, betas, samples=0,
                                  x=_impulse(s["T_long"]), blocks=("W", "U", "C"), steps=slice(1, None))
        ablation[m] = {"slowest_rate": raw.slowest_rate, "bracket": c.blowup_bracket(), "E0": c.nominal}
    fname = _figure(ctx, "exp", data, f"common β₀ ≈ {b0:.3g}")
    details = (
        f"Widths {widths}, β grid {{0}} ∪ {{5e−4·2^k, k < {betas.size - 1}}}, {s['samples']} random directions + "
        "2 worst cases per β; sup error of the impulse response on t ∈ {1..100} (paper window) and on "
        f"t ∈ {{1..{s['T_long'] - 1}}} (long window).\n\n"
        "**PASS criterion** (both windows): every E_m(0) ≤ 1e−8 (the target is approximated), a common "
        "β₀ = min_m stability_radius ≥ 0.05 (bounded away from 0), and for β ≤ β₀ the curves are ordered by m "
        "(E_m'(β) ≤ 1.05 E_m(β) + 1e−12 for m' > m).\n\n"
        f"Measured: β₀ = {verdicts['short']['beta0']:.3g} (paper window), {b0:.3g} (long window); blow-up "
        f"bracket of every m: {verdicts['long']['brackets'][0]} (grid points; the exact boundary of W + βI is "
        f"−α(W) = 1 − 0.9 = {-rows[widths[0]]['alpha']:.4g}). Paper: β₀ ≈ {PAPER_BETA0_EXP}.\n\n"
        + _e0_table(data, "exp", widths) + "\n\n"
        "**Difference from the paper.** Variable projection recovers the single exponential 0.9ᵗ = e^{−0.1054 t} "
        "exactly, so every fit prunes to one mode (width 1) with E_m(0) at rounding level, far below the "
        "paper's 0.32 … 0.0017 (which suggests the paper's fits did not optimise the rates), and the curves "
        "for different m coincide: the ordering below β₀ holds with equality. What reproduces is the "
        "signature that matters for Theorem 3.9: E_m(β) is continuous in β up to a common, m-independent "
        "β₀ ≈ 0.1 and blows up just beyond it.\n\n"
        "**Why pruning matters (ablation, not part of the verdict).** Without pruning (`prune=0, merge=0`) the "
        "extra modes keep weights ~1e−17 but sit at arbitrary slow rates, and W + βI makes them unstable long "
        "before 0.1 (worst cases only, long window): "
        + "; ".join(f"m = {m}: slowest rate {a['slowest_rate']:.2g}, blow-up bracket "
                    f"({a['bracket'][0]:.3g}, {a['bracket'][1]:.3g}]" for m, a in ablation.items())
        + " — an exactly representable target would look unstably approximated."
    )
    return Result(
        passed=bool(ok_all),
        summary=f"common β₀ = {b0:.3g} (paper ≈ 0.07); E_m(0) ≤ {max(verdicts['long']['E0']):.1e} "
                f"(paper 0.32…0.0017); ordered below β₀: {verdicts['long']['ordered']}",
        details=details, figures=[fname],
        data={"widths": widths, "betas": betas, "verdicts": verdicts,
              "E0": {m: rows[m]["curves"]["short"].nominal for m in widths},
              "paper_E0": PAPER_E0_EXP, "ablation_no_pruning": ablation,
              "errors_short": {m: rows[m]["curves"]["short"].errors for m in widths},
              "errors_long": {m: rows[m]["curves"]["long"].errors for m in widths}},
    )


@check("fig1-pol", order=11, title="P1 Fig. 1, polynomial memory: the curse of memory",
       statement="[P1] Fig. 1 / Thm. 3.9: for ρ(t) = (1 + t)^{−1.1} the crossings of consecutive perturbation "
                 "curves E_m, E_m' move toward β = 0 as m grows (paper ≈ 0.11, 0.055, 0.035, 0.016): E(β) "
                 "jumps at 0, no stable approximation.")
def fig1_pol(ctx: Context) -> Result:
    data = fig1_data(ctx)
    s = data["settings"]
    widths, betas = s["widths"], s["betas"]
    rows = data["pol"]
    res = {}
    for window in ("short", "long"):
        curves = [rows[m]["curves"][window] for m in widths]
        cross = [crossing(betas, curves[i].errors, curves[i + 1].errors) for i in range(len(curves) - 1)]
        res[window] = cross
    e0 = [rows[m]["curves"]["long"].nominal for m in widths]
    cl = [c for c, _ in res["long"]]
    decreasing_e0 = all(e0[i + 1] < e0[i] for i in range(len(e0) - 1))
    all_cross = all(np.isfinite(c) for c in cl)
    moves_left = all_cross and all(cl[i + 1] <= cl[i] * (1 + 1e-9) for i in range(len(cl) - 1)) and cl[-1] < cl[0]
    passed = decreasing_e0 and all_cross and moves_left

    def fmt(cs):
        return ", ".join("none" if not np.isfinite(c) else (f"{c:.2g}" if ex else f"≤{c:.2g}") for c, ex in cs)

    fname = _figure(ctx, "pol", data, f"crossings (long window): {fmt(res['long'])}")
    pairs = ", ".join(f"({widths[i]},{widths[i + 1]})" for i in range(len(widths) - 1))
    details = (
        f"Widths {widths}; same β grid, directions and error as `fig1-exp`. Crossing of the pair (m, m'): the "
        "first β > 0 with E_m'(β) > E_m(β), interpolated in log–log between grid points (\"≤\": already at the "
        "first grid point).\n\n"
        "**PASS criterion** (long window, which approximates the sup over all t of Definition 3.4): E_m(0) "
        "decreases with m, every consecutive pair crosses, and the crossings are non-increasing in m with the "
        "last strictly left of the first.\n\n"
        f"Crossings for the pairs {pairs}: long window {fmt(res['long'])}; paper window t ≤ 100: "
        f"{fmt(res['short'])}; paper ≈ {', '.join(map(str, PAPER_CROSSINGS_POL))}.\n\n"
        + _e0_table(data, "pol", widths) + "\n\n"
        "The slowest fitted rate falls with m (docs/math.md §7 trials: ≈ 0.067, 0.0076, 0.0013, 0.00033, 0.00014), "
        "so W_m + βI becomes unstable at β ≈ λ_min(m) → 0: the tail of the polynomial kernel needs ever slower "
        "modes. **Finding:** on the paper's short window t ≤ 100 that instability is almost invisible — a mode "
        "growing at rate g only shows after t ≈ 1/g — and W + βI multiplies the kernel by e^{βt}, which is the "
        "same for every good fit on t ≤ 100, so the curves for m ≥ 4 nearly coincide there and crossings "
        "beyond the first are absent or unstable; on the long window the signature is clear. Our crossing "
        "values are smaller than the paper's because our fits reproduce the tail to t = 1e4."
    )
    return Result(
        passed=bool(passed),
        summary=f"crossings {fmt(res['long'])} (long window; paper {', '.join(map(str, PAPER_CROSSINGS_POL))}); "
                f"E_m(0) {', '.join(f'{e:.2g}' for e in e0)}",
        details=details, figures=[fname],
        data={"widths": widths, "betas": betas, "crossings_long": res["long"], "crossings_short": res["short"],
              "E0": e0, "paper_crossings": PAPER_CROSSINGS_POL,
              "slowest_rates": {m: rows[m]["fit"].slowest_rate for m in widths},
              "errors_short": {m: rows[m]["curves"]["short"].errors for m in widths},
              "errors_long": {m: rows[m]["curves"]["long"].errors for m in widths}},
    )
