"""[P1] Figs. 4 and 8: a stable reparameterisation restores stable approximation of polynomial memory.

Students: W = −diag(f(w)) (:class:`rnnmem.reparam.ReparamRNN`, diagonal structure) with f = exp (Fig. 4, a
*linear* RNN as in the paper; the tanh version is reported as an extension at ``--full``) or f = softplus
(Fig. 8, tanh), trained on ρ(t) = (1 + t)^{−1.5} with the settings of ``theory/_students.py``. The perturbation
acts on the raw recurrent parameter w (Euclidean norm β): a stable map (f > 0) only rescales each decay rate
(exp: by e^{±δ}), so no perturbation crosses the stability boundary, and the claim is that the curves are then
free of blow-ups on a common interval [0, β₀] — no crossing caused by a blow-up moves toward β = 0 (docs/math.md §6;
the figure's ordering by m at every β is reported: a wider, better-fitting student can cross a narrower one
smoothly).

Initial decay rates sit at the log-centres of m equal intervals of [0.02, 1]: under a stable map a slow initial
rate is harmless (a raw perturbation only rescales it) and the diagonal students reach the tail within the budget.
Controls (the same criterion and code): the same students with f(w) = w (the direct parameterisation: same initial
W, same training), and students trained for one epoch.
"""

from __future__ import annotations

from theory._registry import Context, Control, Result, check
from theory._students import (
    APPROX,
    BETA0,
    FALL_TOTAL,
    LEVEL,
    Family,
    figure,
    fmt,
    level_radius,
    per_seed,
    rate,
    replace_family,
    seed_table,
    settings,
    settings_text,
    stable,
    students,
)
from theory.fig2 import _data

#: initial decay rates of the reparameterised students and of their direct control
RATES = (0.02, 1.0)

CRITERION = (
    "**PASS criterion** (per seed; PASS needs every seed) — stable approximation, Def. 3.5 with a common "
    f"β₀ = {BETA0}: (i) the students approximate: E_m(0) strictly falls with m, the widest is ≥ {FALL_TOTAL:g}× "
    f"better than the narrowest and reaches E_m(0) ≤ {APPROX:g}·E[y²] (the best single exponential mode reaches "
    "2.4e−2); (ii) a common radius: no curve of the raw recurrent parameter exceeds "
    f"{LEVEL:g}·E[y²] on [0, β₀], for any m — E(β) = limsup_m E_m(β) stays bounded near 0, so no crossing caused by "
    "a blow-up moves toward β = 0. β₀ lies between the radii of the stable students (≥ 0.7 in our runs) and the "
    "smallest radius of the direct control in each seed (0.11–0.19). **Reported, not gated: the ordering by m** "
    "(E_m'(β) ≤ E_m(β) for m < m' at every grid β ≤ β₀, the figure's visual reading of 'no crossings'). A wider "
    "student fits better, and a perturbation of w changes its output by O(β) with a constant that grows with the "
    "weight of its slow modes, so its curve can cross a narrower one's smoothly, without a blow-up: this happened in "
    "1 of 9 (run seed, seed) pairs of `fig8-softplus` (`--seed 2`, seed 2: widths 2 and 4 cross at β = 0.16, both "
    "errors < 0.01·E[y²], every radius ≥ 0.7) and in none of 9 of `fig4-exp-reparam`; the direct control's "
    "crossings come with blow-ups. A control passes only if the criterion holds on every one of its seeds too."
)


def stable_check(ctx: Context, name: str, main: Family, fig: str, extensions: tuple[Family, ...] = (),
                 note: str = "") -> Result:
    """The stable-approximation check of [P1] Figs. 4, 7(b), 8 for one family: criterion, controls, figure."""
    s = settings(ctx)
    controls = {"direct-param": (replace_family(main, f="direct"),
                                 "the stable map removed: f(w) = w (the direct parameterisation), same initial W "
                                 "and training"),
                "one-epoch": (replace_family(main, epochs=1), "students trained for one epoch per width "
                                                              "(no approximation)")}
    runs = students(ctx, main)
    res = per_seed(runs, stable)
    ctrl_runs = {k: students(ctx, fam) for k, (fam, _) in controls.items()}
    ctrl_res = {k: per_seed(r, stable) for k, r in ctrl_runs.items()}
    passed = all(r["passed"] for r in res)
    ctrls = [Control(k, why, all(r["passed"] for r in ctrl_res[k]),
                     f"criterion in {rate(ctrl_res[k])} seeds; seed 0: E_m(0) {fmt(ctrl_res[k][0]['e0'])}, "
                     f"crossings {fmt(ctrl_res[k][0]['crossings'])}, radii {fmt(ctrl_res[k][0]['radii'])}")
             for k, (_, why) in controls.items()]
    r0 = res[0]
    all_blocks = {m: run["curve_all"] for m, run in runs[0].items() if "curve_all" in run}
    rad_all = [level_radius(all_blocks[m]) for m in sorted(all_blocks)]
    fname = figure(ctx, f"{name}.png", [
        (f"f = {main.f}: w perturbed (seed 0)", {m: r["curve"] for m, r in runs[0].items()}),
        ("control: f(w) = w, w perturbed (seed 0)", {m: r["curve"] for m, r in ctrl_runs["direct-param"][0].items()}),
        (f"f = {main.f}, every block perturbed (Def. 3.4; reported)", all_blocks)],
        f"[P1] Fig. {fig}: {main.activation} RNNs ({main.cell} cell), "
        + (f"W = diag(e^−{main.f}(w)), spike inputs" if main.discrete else f"W = −diag({main.f}(w))")
        + ", ρ = (1+t)^−1.5")
    ext_text, ext_data = "", {}
    for fam in extensions:
        er = per_seed(students(ctx, fam), stable)
        ext_data[fam.label] = [{k: v for k, v in r.items()} for r in er]
        ext_text += (f"**Extension (reported, not gated): {fam.label}** — criterion in {rate(er)} seeds; seed 0: "
                     f"E_m(0) {fmt(er[0]['e0'])}, crossings {fmt(er[0]['crossings'])}, radii {fmt(er[0]['radii'])}."
                     "\n\n")
    keys = ("first_violation", "crossings", "radii")
    details = (
        CRITERION + "\n\n" + note
        + f"**Main: {main.label}** (criterion in {rate(res)} seeds):\n\n" + seed_table(res, runs, keys) + "\n\n"
        + f"**Control `direct-param`** (criterion in {rate(ctrl_res['direct-param'])} seeds):\n\n"
        + seed_table(ctrl_res["direct-param"], ctrl_runs["direct-param"], keys) + "\n\n"
        + f"**Control `one-epoch`** (criterion in {rate(ctrl_res['one-epoch'])} seeds):\n\n"
        + seed_table(ctrl_res["one-epoch"], ctrl_runs["one-epoch"], keys) + "\n\n"
        + ("**Def. 3.4 with every block perturbed** (seed 0, reported, not gated; not computed at `--quick`): "
           f"radii {fmt(rad_all)}.\n\n")
        + ext_text
        + "Reading: a raw perturbation of w rescales each decay rate by a bounded factor, so the slow modes the "
          "polynomial tail needs stay stable and the error grows smoothly with β; with f(w) = w the same "
          "perturbation moves a rate λ by ±β and destabilises every mode slower than β, first in the wider "
          "students that hold the slowest modes.\n\n"
        + "**Difference from the repository.** The CoM code trains W = −Pᵀ diag(f(w)) P with a trained "
          "orthogonal-initialised P (available as `ReparamRNN(..., P=...)`); we use the diagonal structure so that "
          "a raw perturbation is exactly a multiplicative perturbation of the rates.\n\n" + settings_text(s, main)
    )
    return Result(
        passed=passed,
        summary=(f"stable in {rate(res)} seeds; seed 0: E_m(0) {fmt(r0['e0'])} ({r0['e0_ratio']:.0f}×), radii "
                 f"{fmt(r0['radii'])}, crossings {fmt(r0['crossings'])}; ordered on [0, β₀] in "
                 f"{sum(r['ordered'] for r in res)}/{len(res)} seeds; direct control: radii "
                 f"{fmt(ctrl_res['direct-param'][0]['radii'])} (criterion in {rate(ctrl_res['direct-param'])}); "
                 f"one-epoch: {rate(ctrl_res['one-epoch'])}"),
        details=details, figures=[fname], controls=ctrls,
        seeds={k: bool(r["passed"]) for k, r in enumerate(res)},
        data={"settings": {k: v for k, v in s.items() if k != "betas"}, "betas": s["betas"], "beta0": BETA0,
              "main": _data(res, runs), **{k: _data(ctrl_res[k], ctrl_runs[k]) for k in controls},
              "all_blocks_radii_seed0": rad_all, "extensions": ext_data},
    )


@check("fig8-softplus", order=32, title="P1 Fig. 8, softplus reparameterisation: stable on polynomial memory",
       statement="[P1] §3.4, Fig. 8 and Def. 3.5: tanh RNNs with W = −softplus(w) trained on ρ(t) = (1+t)^−1.5 "
                 "approximate stably: E_m(0) falls with m while no perturbation curve of the raw parameters blows "
                 "up on a common interval [0, β₀] — no crossing caused by a blow-up moves toward β = 0 (the "
                 "figure's ordering by m is reported).")
def fig8_softplus(ctx: Context) -> Result:
    return stable_check(ctx, "fig8-softplus", Family("pol", "tanh", "euler", f="softplus", rates=RATES), "8")


@check("fig4-exp-reparam", order=33, title="P1 Fig. 4, exp reparameterisation of a linear RNN: stable",
       statement="[P1] §3.4, Fig. 4 and Def. 3.5: linear RNNs with the exponential reparameterisation "
                 "W = −exp(w) trained on ρ(t) = (1+t)^−1.5 approximate stably: E_m(0) falls with m while no "
                 "perturbation curve of the raw parameters blows up on a common interval [0, β₀] — no crossing "
                 "caused by a blow-up moves toward β = 0 (the figure's ordering by m is reported).")
def fig4_exp_reparam(ctx: Context) -> Result:
    ext = (Family("pol", "tanh", "euler", f="exp", rates=RATES),
           Family("pol", "tanh", "euler", f="best", rates=RATES)) if ctx.full else ()
    return stable_check(ctx, "fig4-exp-reparam", Family("pol", "linear", "euler", f="exp", rates=RATES), "4",
                        extensions=ext)
