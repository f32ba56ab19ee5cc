"""[P1] Remark 3.3: RNNs with Lipschitz σ and a Hurwitz linearisation have decaying memory — refuted as worded.

The 2-D tanh RNN W = [[1, 1], [−4, −3]] (the Fig. 11 matrix, eigenvalue −1 twice) is Hurwitz, yet large Heaviside
inputs drive the velocity v = dh/dt to non-zero attractors: its Def. 3.1 memory does not decay. Corrected statements
reproduced here: (a) W + Wᵀ ≺ 0 is sufficient for every input (V(z) = Σ_i ∫_0^{z_i} σ is a Lyapunov function of
dz/dt = Wσ(z): dV/dt = σ(z)ᵀWσ(z) < 0 for σ(z) ≠ 0); (b) a Hurwitz W gives decay for small inputs (`lemma-a6`);
(c) for saturating σ the sup over all amplitudes in Def. 3.1 decays no faster than ~1/t.
"""

from __future__ import annotations

import numpy as np

import rnnmem as rm
from rnnmem.stability import spectral_abscissa
from theory._registry import Context, Control, Result, check

FIG11_W = np.array([[1.0, 1.0], [-4.0, -3.0]])
#: amplitudes |x| of the Heaviside inputs of the decay tests (Def. 3.1's sup restricted to |x| ≤ 10; the
#: unrestricted sup decays only like 1/t, part (c))
AMPLITUDES = np.logspace(-3.0, 1.0, 9)
DT = 0.1


def _envelope(v: np.ndarray) -> np.ndarray:
    """Upper envelope max_{s ≥ t} M(s) (non-increasing)."""
    return np.maximum.accumulate(v[::-1])[::-1]


def decay_ratio(rnn: rm.RNN, T: int) -> tuple[float, np.ndarray, np.ndarray]:
    """Env(t_end)/Env(0) of the continuous-time Def. 3.1 memory over the candidate inputs (RK4 v-dynamics)."""
    mf = rm.exact_memory(rnn, T, continuous=True, amplitudes=AMPLITUDES, substeps=4)
    env = _envelope(mf.values)
    return float(env[-1] / env[0]), mf.t, mf.values


def dissipative_w(m: int, gen: np.random.Generator) -> np.ndarray:
    """A random W with W + Wᵀ ≺ 0 (λ_max((W + Wᵀ)/2) ≤ −0.2) and a large skew part (non-normal)."""
    A = gen.standard_normal((m, m))
    S = (A - A.T) / 2 * 2.0
    G = gen.standard_normal((m, m)) / np.sqrt(m)
    sym = (G + G.T) / 2
    sym -= (np.linalg.eigvalsh(sym).max() + gen.uniform(0.2, 0.6)) * np.eye(m)
    return S + sym


def _model(W: np.ndarray, act: str, gen: np.random.Generator, bias: float = 0.3) -> rm.RNN:
    m = W.shape[0]
    return rm.RNN(W, gen.standard_normal((m, 1)), bias * gen.standard_normal(m), gen.standard_normal((1, m)) /
                  np.sqrt(m), cell="euler", activation=act, dt=DT)


@check("remark33", order=25, title="Remark 3.3: a Hurwitz linearisation does not give decaying memory (finding)",
       statement="[P1] Remark 3.3: an RNN dh/dt = σ(Wh + Ux + b) with Lipschitz σ and Hurwitz W has decaying memory, "
                 "M(t) → 0 (Def. 3.1). Refuted by the tanh RNN W = [[1, 1], [−4, −3]] (Hurwitz): large inputs drive "
                 "dh/dt to non-zero attractors. Corrected: W + Wᵀ ≺ 0 gives decaying memory for every input "
                 "(tanh, hardtanh); a Hurwitz W gives it for small inputs (lemma-a6); the sup over unbounded "
                 "amplitudes decays no faster than ~1/t for saturating σ.", expect="FINDING")
def remark33(ctx: Context) -> Result:
    T = ctx.pick(1500, 4000)
    # the counterexample (hypotheses: tanh Lipschitz, W Hurwitz)
    cx = rm.RNN(FIG11_W, np.eye(2), np.zeros(2), np.eye(2), cell="euler", activation="tanh", dt=DT)
    alpha_c = spectral_abscissa(FIG11_W)
    ratio_c, t, M_c = decay_ratio(cx, T)
    counter = bool(alpha_c < 0 and ratio_c >= 0.1)
    # (a) W + Wᵀ ≺ 0: decay for every input, both activations, several seeds
    seeds = ctx.pick([0], [0, 1, 2])
    m = ctx.pick(4, 6)
    rows = []
    for s in seeds:
        gen = ctx.rng(33, s)
        for act in ("tanh", "hardtanh"):
            W = dissipative_w(m, gen)
            r, _, M = decay_ratio(_model(W, act, gen), T)
            rows.append({"seed": s, "activation": act, "alpha": spectral_abscissa(W),
                         "sym_max": float(np.linalg.eigvalsh(W + W.T).max()), "ratio": r, "M": M})
    per_seed = {s: all(r["ratio"] <= 1e-2 for r in rows if r["seed"] == s) for s in seeds}
    # (c) the 1/t tail of the unrestricted sup: dh/dt = tanh(−h + x), |x| ≤ 1e3
    one = rm.RNN([[-1.0]], [[1.0]], [0.0], [[1.0]], cell="euler", activation="tanh", dt=DT)
    mf1 = rm.exact_memory(one, T, continuous=True, amplitudes=np.logspace(-3, 3, 13), substeps=4)
    probe = [5.0, 20.0, 100.0, T * DT * 0.75]
    tM = {tt: float(tt * mf1.values[int(round(tt / DT))]) for tt in probe}
    slow = min(tM.values()) >= 0.3  # t·M(t) does not fall: decay no faster than 1/t
    passed = bool(all(per_seed.values()) and slow and counter)
    # controls: the same decay test where its premise fails
    gen = ctx.rng(34)
    Wd = dissipative_w(m, gen)
    Wu = Wd - (spectral_abscissa(Wd) - 0.3) * np.eye(m)  # α(W) = +0.3
    ru, _, _ = decay_ratio(_model(Wu, "tanh", gen), T)
    c_unstable = Control("unstable-W", "premise removed: W shifted so that α(W) = +0.3 (same decay test)",
                         passed=bool(ru <= 1e-2), summary=f"α(W) = {spectral_abscissa(Wu):.3g}: Env(t_end)/Env(0) = "
                                                         f"{ru:.3g}")
    c_fig11 = Control("hurwitz-not-dissipative", "W + Wᵀ ≺ 0 removed: the Hurwitz W = [[1, 1], [−4, −3]] "
                      "(W + Wᵀ has eigenvalue 4.5), same decay test", passed=bool(ratio_c <= 1e-2),
                      summary=f"Env(t_end)/Env(0) = {ratio_c:.3g}")

    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), layout="constrained")
    for r in rows:
        axes[0].loglog(t[1:], np.maximum(r["M"][1:], 1e-300), color="C0" if r["activation"] == "tanh" else "C1",
                       lw=0.8, alpha=0.7)
    axes[0].loglog(t[1:], M_c[1:], "k", lw=1.5, label="W = [[1,1],[−4,−3]] (Hurwitz): no decay")
    axes[0].plot([], [], color="C0", label="tanh, W + Wᵀ ≺ 0")
    axes[0].plot([], [], color="C1", label="hardtanh, W + Wᵀ ≺ 0")
    axes[0].set_ylim(1e-12, 10)
    axes[0].set_xlabel("t")
    axes[0].set_ylabel("M(t), |x| ≤ 10")
    axes[0].set_title("Remark 3.3: counterexample and the dissipative sufficient condition", fontsize=9)
    axes[0].legend(fontsize=7, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False)
    axes[1].loglog(mf1.t[1:], mf1.t[1:] * mf1.values[1:])
    axes[1].set_xlabel("t")
    axes[1].set_ylabel("t · M(t)")
    axes[1].set_title("dh/dt = tanh(−h + x), |x| ≤ 1e3: M(t) ~ 1/t", fontsize=9)
    fname = ctx.save_figure(fig, "remark33.png")
    table = "\n".join(f"| {r['seed']} | {r['activation']} | {r['alpha']:.3g} | {r['sym_max']:.3g} | "
                      f"{r['ratio']:.1e} |" for r in rows)
    details = (
        f"Memories: the Def. 3.1 Heaviside memory of the continuous-time RNN on t < {T * DT:g} (`rm.exact_memory("
        f"continuous=True)`, RK4 on the v-dynamics, grid Δt = {DT}), sup over |x| ∈ {{1e−3 … 10}} (9 amplitudes) "
        "and all sign vectors — a restricted sup, because the unrestricted one decays only like 1/t (part (c)); "
        "Env(t) = max_{s ≥ t} M(s).\n\n"
        f"**Counterexample** (hypotheses hold: tanh is Lipschitz, α(W) = {alpha_c:.3g}): W = [[1, 1], [−4, −3]], "
        f"U = C = I, b = 0: Env(t_end)/Env(0) = {ratio_c:.3g} — large inputs send v = dh/dt to a non-zero "
        "attractor (`fig11-attractors`), so M(t) ↛ 0 and Remark 3.3 as worded is false.\n\n"
        "**FINDING criterion** (the corrected statement): (a) for random W with W + Wᵀ ≺ 0 (m = "
        f"{m}, seeds {seeds}, tanh and hardtanh, U, C Gaussian, b ~ N(0, 0.3²)): Env(t_end)/Env(0) ≤ 1e−2 for "
        "|x| ≤ 10 — V(z) = Σ∫σ(z_i) decreases along dz/dt = Wσ(z) at rate σᵀWσ ≤ λ_max((W+Wᵀ)/2)|σ|²; "
        "(c) the unrestricted sup decays no faster than 1/t for saturating σ: for dh/dt = tanh(−h + x) with "
        "|x| ≤ 1e3, t·M(t) ≥ 0.3 at t = " + ", ".join(f"{tt:g}" for tt in probe) + " (measured "
        + ", ".join(f"{v:.2f}" for v in tM.values()) + "). (b), decay of small inputs for every Hurwitz W, is "
        "`lemma-a6`.\n\n"
        "**Controls:** `unstable-W` — W shifted so α(W) > 0: the decay test must fail; "
        "`hurwitz-not-dissipative` — the decay test on the Hurwitz but not dissipative counterexample must fail.\n\n"
        "| seed | σ | α(W) | λ_max(W + Wᵀ) | Env(t_end)/Env(0) |\n|---|---|---|---|---|\n" + table
    )
    return Result(passed=passed, refuted=counter, seeds=per_seed,
                  summary=f"finding: Hurwitz W = [[1,1],[−4,−3]] keeps M(t_end)/M(0) = {ratio_c:.2f}; "
                          f"W + Wᵀ ≺ 0 ⇒ decay ({len(rows)} models, worst {max(r['ratio'] for r in rows):.1e}); "
                          f"unrestricted sup ~1/t (t·M ≈ {min(tM.values()):.2f}…{max(tM.values()):.2f})",
                  details=details, figures=[fname], controls=[c_unstable, c_fig11],
                  data={"counter_ratio": ratio_c, "rows": [{k: v for k, v in r.items() if k != "M"} for r in rows],
                        "tM": tM, "control_unstable": ru})
