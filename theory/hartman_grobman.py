"""[P1] App. A, Lemmas A.6 and A.7: the Hartman–Grobman step of the proof of Theorem 3.9 (docs/math.md §5).

The proof needs two facts about the hidden dynamics under a Heaviside input u^x (docs/math.md §3): with z = Wh + Ux
+ b, the velocity v = dh/dt = σ(z) obeys dz/dt = W σ(z); for σ = tanh (σ(0) = 0, σ'(0) = 1) and b = 0 the only
equilibrium is z* = 0 (h* = −W⁻¹Ux) and the Jacobian there is exactly W.

* ``lemma-a6`` — Hartman–Grobman: near a hyperbolic equilibrium the flow is conjugate to its linearisation, so small
  deviations decay (grow) at the exponential rate of the linearisation: the small-input memory decays at rate
  −α(W) when W is Hurwitz and grows at rate α(W) when α(W) > 0.
* ``lemma-a7`` — the step of Theorem 3.9 that uses it: if every perturbed model with ‖W̃ − W‖₂ ≤ β₀ has decaying
  memory, no such W̃ has an eigenvalue in the open right half-plane; with W̃ = W + βI this gives α(W) ≤ −β₀. The
  check locates, for non-normal W, where the memory stops decaying along W + βI (at −α(W)) and along the smallest
  destabiliser W + βD (at r(W) ≤ −α(W)).

[P1]'s appendix text was not available to the author of these checks: the statements are the proof steps as
docs/math.md §5 and the structure of the proof describe them, not quotations.
"""

from __future__ import annotations

import numpy as np

import rnnmem as rm
from rnnmem.stability import distance_to_instability, spectral_abscissa
from theory import _linfam as lf
from theory._registry import Context, Control, Result, check

#: amplitude of the "small" Heaviside input (linear regime of tanh)
SMALL = 1e-4
#: relative tolerance of a measured exponential rate
RATE_TOL = 0.05


def _tanh_rnn(W: np.ndarray, dt: float) -> rm.RNN:
    m = W.shape[0]
    return rm.RNN(W, np.ones((m, 1)) / np.sqrt(m), np.zeros(m), np.ones((1, m)) / np.sqrt(m), cell="euler",
                  activation="tanh", dt=dt)


def _memory(W: np.ndarray, T_end: float, amplitude: float, dt: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Continuous-time Heaviside memory of the tanh RNN dh/dt = tanh(Wh + Ux) for inputs ±amplitude (RK4)."""
    mf = rm.exact_memory(_tanh_rnn(W, dt), int(round(T_end / dt)) + 1, continuous=True,
                         amplitudes=[amplitude], substeps=4)
    return mf.t, mf.values


def _rate(t: np.ndarray, M: np.ndarray, lo: float, hi: float) -> float:
    """Slope of log(upper envelope of M) on the part of the curve between lo·M₀ and hi·M₀ (M₀ = M at t = 0),
    by least squares — the exponential rate of decay (negative) or growth (positive)."""
    env = np.maximum.accumulate(M[::-1])[::-1] if M[-1] < M[0] else np.maximum.accumulate(M)
    r = env / M[0]
    sel = (r >= lo) & (r <= hi) & (t > 0)
    if sel.sum() < 10:
        return float("nan")
    return float(np.polyfit(t[sel], np.log(env[sel]), 1)[0])


def random_hurwitz_family(gen: np.random.Generator, n: int, unstable: bool) -> list[np.ndarray]:
    """n random non-normal 3×3 matrices with real spectral abscissa α ∈ ±[0.3, 1] (real leading eigenvalue)."""
    out = []
    while len(out) < n:
        A = gen.standard_normal((3, 3))
        lam = np.linalg.eigvals(A)
        lead = lam[np.argmax(lam.real)]
        if abs(lead.imag) > 1e-9:
            continue  # keep a real leading eigenvalue: the envelope is then a clean exponential
        second = np.sort(lam.real)[-2]
        if lead.real - second < 0.3:
            continue  # leading rate separated from the next one
        target = gen.uniform(0.3, 1.0) * (1 if unstable else -1)
        out.append(A + (target - lead.real) * np.eye(3))
    return out


def _a6_case(W: np.ndarray, amplitude: float) -> dict:
    a = spectral_abscissa(W)
    if a < 0:
        t, M = _memory(W, 30.0 / abs(a), amplitude)
        rate = -_rate(t, M, 1e-12, 1e-3)  # the tail: below 1e−3 of the start
        ok = bool(np.isfinite(rate) and abs(rate - (-a)) <= RATE_TOL * abs(a))
        return {"alpha": a, "kind": "stable", "rate": rate, "expected": -a, "ok": ok}
    t, M = _memory(W, 16.0 / a, amplitude * 1e-4)
    rate = _rate(t, M, 1e2, 1e5)  # the growth phase 1e2…1e5 × the start: past the non-normal transient, and still
    # linear (the input is 1e−4 × the stable case's, so v stays ≤ ~1e−3)
    ok = bool(np.isfinite(rate) and abs(rate - a) <= RATE_TOL * a)
    return {"alpha": a, "kind": "unstable", "rate": rate, "expected": a, "ok": ok}


@check("lemma-a6", order=33, title="Lemma A.6 (Hartman–Grobman): small-input memory has the linearisation's rate",
       statement="[P1] App. A, Lemma A.6 (Hartman–Grobman, as used for Thm. 3.9; paraphrased): near a hyperbolic "
                 "equilibrium the flow dz/dt = Wσ(z) of the hidden velocity is conjugate to its linearisation "
                 "(Jacobian W for tanh, b = 0), so small deviations decay — or grow — exponentially at the rate of "
                 "the linearisation: the memory of small inputs decays at rate −α(W) for Hurwitz W and grows at "
                 "rate α(W) when α(W) > 0.")
def lemma_a6(ctx: Context) -> Result:
    gen = ctx.rng(6)
    n = ctx.pick(2, 4)
    stable = random_hurwitz_family(gen, n, unstable=False)
    unstable = random_hurwitz_family(gen, n, unstable=True)
    cases = [_a6_case(W, SMALL) for W in stable + unstable]
    passed = all(c["ok"] for c in cases)
    big = [_a6_case(W, 100.0) for W in stable]
    control = Control("large-input", "locality removed: the same rate test with |x| = 100 instead of 1e−4 "
                      "(stable W)", passed=all(c["ok"] for c in big),
                      summary="decay rates " + ", ".join(f"{c['rate']:.3g} vs −α = {c['expected']:.3g}" for c in big))

    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), layout="constrained")
    for W, c in zip(stable, cases[:n], strict=True):
        t, M = _memory(W, 30.0 / abs(c["alpha"]), SMALL)
        axes[0].semilogy(t, M / M[0], label=f"α = {c['alpha']:.2f}: rate {c['rate']:.3f}")
        t2, M2 = _memory(W, 30.0 / abs(c["alpha"]), 100.0)
        axes[0].semilogy(t2, M2 / M2[0], ":", color=axes[0].lines[-1].get_color())
    axes[0].set_xlabel("t")
    axes[0].set_ylabel("M(t)/M(0)")
    axes[0].set_title("Hurwitz W: |x| = 1e−4 (solid), |x| = 100 (dotted, control)", fontsize=9)
    axes[0].legend(fontsize=7, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False)
    for W, c in zip(unstable, cases[n:], strict=True):
        t, M = _memory(W, 16.0 / c["alpha"], SMALL * 1e-4)
        axes[1].semilogy(t, M / M[0], label=f"α = {c['alpha']:.2f}: rate {c['rate']:.3f}")
    axes[1].set_xlabel("t")
    axes[1].set_ylabel("M(t)/M(0)")
    axes[1].set_title("α(W) > 0: growth of the small-input memory", fontsize=9)
    axes[1].legend(fontsize=7, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False)
    fname = ctx.save_figure(fig, "lemma-a6.png")
    rows = "\n".join(f"| {c['kind']} | {c['alpha']:.4g} | {c['expected']:.4g} | {c['rate']:.4g} | "
                     f"{abs(c['rate'] / c['expected'] - 1):.1e} |" for c in cases)
    details = (
        f"Models: tanh RNNs dh/dt = tanh(Wh + Ux), b = 0, U = C = 1/√3 (m = 3), {n} random non-normal W with "
        f"α(W) ∈ [−1, −0.3] and {n} with α(W) ∈ [0.3, 1] (real leading eigenvalue separated by ≥ 0.3 from the "
        "next); memory = the continuous-time Def. 3.1 memory for inputs ±1e−4 (`rm.exact_memory(continuous=True)`, "
        "RK4, Δt = 0.05; ±1e−8 for the unstable W). Rate = least-squares slope of log of the memory's monotone "
        "envelope — on its tail (below 1e−3 of the start) for Hurwitz W, on its growth from 1e2× to 1e5× the start "
        "(after the non-normal transient, before saturation) otherwise.\n\n"
        f"**PASS criterion:** every measured rate within {RATE_TOL:.0%} of the linearisation's: −α(W) (decay) or "
        "α(W) (growth).\n\n"
        "**Control** `large-input`: the same test with |x| = 100 — outside the neighbourhood where the conjugacy "
        "holds tanh saturates, v stays near ±1 for a time ∝ |x| and the rate on the window is not −α(W): FAIL.\n\n"
        "| W | α(W) | predicted rate | measured | relative error |\n|---|---|---|---|---|\n" + rows + "\n\n"
        f"Control rates (|x| = 100): {control.summary}."
    )
    return Result(passed=bool(passed),
                  summary=f"small-input memory rate = linearisation's to ≤ "
                          f"{max(abs(c['rate'] / c['expected'] - 1) for c in cases):.1e} (relative) for {n} "
                          f"Hurwitz and {n} unstable non-normal W",
                  details=details, figures=[fname], controls=[control], data={"cases": cases, "control": big})


# --------------------------------------------------------------------------------------------------- lemma-a7
def _decays(W: np.ndarray, T_end: float) -> tuple[bool, float]:
    """Does the small-input memory of the tanh RNN decay on [0, T_end]? (end ≤ 1e−2 × max: yes; ≥ 0.1: no)."""
    _, M = _memory(W, T_end, SMALL, dt=0.05)
    ratio = float(M[-1] / M.max())
    return ratio <= 1e-2, ratio


def a7_case(W: np.ndarray, margin: float = 0.2) -> dict:
    """Decay of the memory along W + βI and W + βD at β = (1 ∓ margin)·(−α(W)) and (1 ∓ margin)·r(W)."""
    a = -spectral_abscissa(W)
    r, omega = distance_to_instability(W, cell="euler", return_argmin=True)
    smin, D = lf.destabilizer(W)
    out = {"minus_alpha": a, "r": r, "omega": omega, "smin": smin}
    for name, scale, direction in (("I", a, np.eye(W.shape[0])), ("D", smin, D)):
        for side, f in (("below", 1 - margin), ("above", 1 + margin)):
            Wt = W + f * scale * direction
            g = spectral_abscissa(Wt)
            T_end = 12.0 / max(abs(g), 1e-3)
            dec, ratio = _decays(Wt, T_end)
            out[f"{name}_{side}"] = {"beta": f * scale, "alpha": g, "decays": dec, "end_over_max": ratio}
    out["ok"] = bool(out["I_below"]["decays"] and not out["I_above"]["decays"] and out["D_below"]["decays"]
                     and not out["D_above"]["decays"] and abs(smin / r - 1) <= 1e-6 and r <= a)
    return out


@check("lemma-a7", order=34, title="Lemma A.7 (the Hartman–Grobman step of Thm. 3.9): decaying perturbed memories "
                                   "force α(W) ≤ −β₀",
       statement="[P1] App. A, Lemma A.7 (the step of Thm. 3.9's proof that uses Hartman–Grobman; paraphrased): if "
                 "every perturbed model with ‖W̃ − W‖₂ ≤ β₀ has decaying memory, then no such W̃ has an eigenvalue "
                 "with positive real part; taking W̃ = W + βI, α(W) ≤ −β₀. Tested on tanh RNNs: the memory stops "
                 "decaying along W + βI at β = −α(W) and along the smallest destabiliser at β = r(W) ≤ −α(W).")
def lemma_a7(ctx: Context) -> Result:
    gen = ctx.rng(7)
    n = ctx.pick(2, 4)
    Ws = [np.array([[-1.0, 4.0], [0.0, -1.5]])] + random_hurwitz_family(gen, n - 1, unstable=False)
    cases = [a7_case(W) for W in Ws]
    passed = all(c["ok"] for c in cases)
    beta0 = [c["r"] for c in cases]
    Wu = random_hurwitz_family(gen, 1, unstable=True)[0]
    cu = a7_case(Wu)
    control = Control("unstable-W", "premise removed: W itself unstable (α(W) > 0), same test",
                      passed=cu["ok"], summary=f"α(W) = {-cu['minus_alpha']:.3g}: the memory decays at "
                                              f"β = 0.8·(−α)? {cu['I_below']['decays']} (the test needs a decaying "
                                              "memory below the threshold)")

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.6), layout="constrained")
    k = np.arange(len(cases))
    ax.plot(k, [c["minus_alpha"] for c in cases], "s", label="−α(W): W + βI stops decaying here")
    ax.plot(k, [c["r"] for c in cases], "o", label="r(W): W + βD stops decaying here")
    for c, kk in zip(cases, k, strict=True):
        for key, col in (("I", "C0"), ("D", "C1")):
            ax.plot([kk, kk], [c[f"{key}_below"]["beta"], c[f"{key}_above"]["beta"]], "-", color=col, lw=4,
                    alpha=0.3)
    ax.set_xticks(k, ["[[−1, 4], [0, −1.5]]"] + [f"random 3×3 no. {i}" for i in range(1, len(cases))], fontsize=8)
    ax.set_xlabel("non-normal Hurwitz W")
    ax.set_ylabel("perturbation size β")
    ax.set_title("Lemma A.7: bars = decaying (lower end) / not decaying (upper end)", fontsize=9)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False)
    fname = ctx.save_figure(fig, "lemma-a7.png")
    rows = "\n".join(
        f"| {i} | {c['minus_alpha']:.4g} | {c['r']:.4g} | {c['I_below']['end_over_max']:.1e} / "
        f"{c['I_above']['end_over_max']:.2g} | {c['D_below']['end_over_max']:.1e} / {c['D_above']['end_over_max']:.2g}"
        f" | {c['ok']} |" for i, c in enumerate(cases))
    details = (
        "Models: tanh RNNs dh/dt = tanh(W̃h + Ux), b = 0, for W = [[−1, 4], [0, −1.5]] and "
        f"{n - 1} random non-normal Hurwitz 3×3 W; W̃ = W + βI and W̃ = W + βD, D = −u vᵀ the smallest real "
        "destabiliser (‖D‖₂ = 1, σ_min(W) = r(W) here). Memory: continuous-time Def. 3.1 memory of inputs "
        "±1e−4 on [0, 12/|α(W̃)|]; *decays* if its last value ≤ 1e−2 × its max.\n\n"
        "**PASS criterion** for every W: the memory decays at β = 0.8·(−α(W)) along I and at β = 0.8·r(W) along D, "
        "and does not decay at 1.2·(−α(W)) and 1.2·r(W); σ_min(W) = r(W) and r(W) ≤ −α(W). So the largest β₀ for "
        "which every ‖W̃ − W‖₂ ≤ β₀ has decaying memory is r(W) (within 20 %), and α(W) ≤ −r(W) ≤ −β₀: "
        "the lemma's conclusion, with the sharper quantity r.\n\n"
        "**Control** `unstable-W`: W with α(W) > 0 — the premise (decaying memory at β = 0) fails, and so does the "
        "test.\n\n"
        "| W | −α(W) | r(W) | end/max along I at 0.8 / 1.2 | along D at 0.8 / 1.2 | ok |\n|---|---|---|---|---|---|\n"
        + rows + "\n\n"
        "Hartman–Grobman needs hyperbolicity, which is why the argument works with an open margin (β < β₀); it "
        "says nothing about W̃ with eigenvalues on the imaginary axis."
    )
    return Result(passed=bool(passed),
                  summary=f"memory stops decaying at −α(W) along W + βI and at r(W) along the smallest "
                          f"destabiliser (±20 %), {len(cases)} non-normal W; β₀ = r(W) = "
                          f"{', '.join(f'{b:.3g}' for b in beta0)} ≤ −α(W)",
                  details=details, figures=[fname], controls=[control], data={"cases": cases, "control": cu})
