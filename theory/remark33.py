"""[P1] Remark 3.3: RNNs with Lipschitz activations and a stable (Hurwitz) linearisation have decaying memory."""

from __future__ import annotations

import numpy as np

import rnnmem as rm
from rnnmem.stability import spectral_abscissa
from theory._registry import Context, Result, check

#: amplitudes |x| <= SMALL are the "moderate" inputs (no long saturation transient)
SMALL = 10.0


def _envelope(v: np.ndarray) -> np.ndarray:
    """Upper envelope max_{s ≥ t} M(s) (non-increasing)."""
    return np.maximum.accumulate(v[::-1])[::-1]


def _first_below(t: np.ndarray, env: np.ndarray, frac: float) -> float:
    idx = np.flatnonzero(env <= frac * env[0])
    return float(t[idx[0]]) if idx.size else float("inf")


def _one(args):
    """Memory of one random stable RNN: (activation, m, seed, T, dt) -> summary dict (picklable for ctx.map)."""
    act, m, seed, T, dt = args
    gen = np.random.default_rng(seed)
    for _ in range(100):  # draw until the linearisation at 0 is Hurwitz
        rnn = rm.RNN.random(m, cell="euler", activation=act, dt=dt, sigma=0.6, shift=1.0, bias=0.3, rng=gen)
        if spectral_abscissa(rnn.W) < 0:
            break
    mf = rm.memory_function(rnn, T)
    amps = np.abs(mf.candidates[:, 0])
    small = mf.per_input[amps <= SMALL].max(axis=0)
    env_all, env_small = _envelope(mf.values), _envelope(small)
    return {"activation": act, "m": m, "alpha": spectral_abscissa(rnn.W),
            "sym_max": float(np.linalg.eigvalsh(rnn.W + rnn.W.T).max()),
            "ratio_all": float(env_all[-1] / env_all[0]), "ratio_small": float(env_small[-1] / env_small[0]),
            "t1_all": _first_below(mf.t, env_all, 1e-2), "t1_small": _first_below(mf.t, env_small, 1e-2),
            "t": mf.t, "values": mf.values}


@check("remark33", order=25, title="Remark 3.3: stable tanh/hardtanh RNNs have decaying memory",
       statement="[P1] Remark 3.3: an RNN dh/dt = σ(Wh + Ux + b) with Lipschitz σ and Hurwitz W has decaying "
                 "memory, M(t) → 0 (Def. 3.1), which is why Thm. 3.9 only needs decaying targets.")
def remark33(ctx: Context) -> Result:
    widths = ctx.pick([4], [4, 16, 32])
    seeds = ctx.pick(1, 3)
    T, dt = 4000, 0.1
    items = [(act, m, int(ctx.rng(33, i, j, k).integers(2**31)), T, dt)
             for i, act in enumerate(("tanh", "hardtanh")) for j, m in enumerate(widths) for k in range(seeds)]
    res = ctx.map(_one, items)
    ok = [r["ratio_all"] <= 1e-2 and r["ratio_small"] <= 1e-6 for r in res]
    passed = bool(all(ok))

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for r in res:
        col = "C0" if r["activation"] == "tanh" else "C1"
        ax.semilogy(r["t"], np.where(r["values"] > 0, r["values"], np.nan), color=col, lw=0.8, alpha=0.7)
    ax.plot([], [], color="C0", label="tanh")
    ax.plot([], [], color="C1", label="hardtanh")
    ax.set_xlabel("t")
    ax.set_ylabel("memory M(t) (Def. 3.1 estimator)")
    ax.set_xscale("log")
    ax.set_title(f"{len(res)} random euler RNNs with Hurwitz W (Δt = {dt})", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fname = "remark33.png"
    ctx.save_figure(fig, fname)
    rows = "\n".join(f"| {r['activation']} | {r['m']} | {r['alpha']:.3g} | {r['sym_max']:.3g} | "
                     f"{r['ratio_small']:.1e} | "
                     f"{r['t1_small']:.3g} | {r['ratio_all']:.1e} | {r['t1_all']:.3g} |" for r in res)
    worst = max(r["ratio_all"] for r in res)
    details = (
        f"Random `euler` RNNs (Δt = {dt}), `RNN.random(m, sigma=0.6, shift=1, bias=0.3)`, redrawn until "
        f"α(W) < 0; widths {widths}, {seeds} seed(s) each, tanh and hardtanh; memory by the Def. 3.1 Heaviside "
        f"estimator (`rm.memory_function`, 11 amplitudes 1e−3…1e2, both signs) on t < {T * dt:g}. "
        "Env(t) = max_{s ≥ t} M(s) is the non-increasing upper envelope.\n\n"
        f"**PASS criterion:** for every model Env(t_end) ≤ 1e−2 · Env(0) over all amplitudes, and "
        f"≤ 1e−6 · Env(0) over the moderate amplitudes |x| ≤ {SMALL:g}.\n\n"
        "**Finding.** Decay holds, but for saturating σ it is not uniform in the input amplitude: under a "
        "Heaviside input of size |x| the state needs a time ∝ |x| to reach its new equilibrium while "
        "|dh/dt| ≈ 1 (σ saturated), so |dy/dt|/|x| ≈ |C|/|x| persists until then — the sup over all amplitudes "
        "decays no faster than ~c/t (a plateau for the largest amplitude 1e2 in the figure), while for "
        f"|x| ≤ {SMALL:g} the memory decays exponentially. t_1% below = first t with Env ≤ 1e−2 Env(0).\n\n"
        "**Finding: Hurwitz W is not sufficient.** The 2-D tanh RNN W = [[1, 1], [−4, −3]] (eigenvalue −1 twice) "
        "keeps a non-decaying memory for large Heaviside inputs (check `fig11-attractors`); a sufficient "
        "condition is W + Wᵀ ≺ 0 (V = |σ(z)|² is then a Lyapunov function of the v-dynamics, see "
        "docs/memory.md). The column λ_max(W + Wᵀ) shows which of the random models below satisfy it; they are "
        "typical draws, and all of them decay.\n\n"
        "| σ | m | α(W) | λ_max(W + Wᵀ) | Env(t_end)/Env(0), abs(x) ≤ 10 | t_1%, abs(x) ≤ 10 | "
        "Env(t_end)/Env(0), all | t_1%, all |\n"
        "|---|---|---|---|---|---|---|---|\n" + rows
    )
    return Result(passed=passed, summary=f"{sum(ok)}/{len(ok)} random stable tanh/hardtanh RNNs have decaying "
                                         f"memory; worst Env(t_end)/Env(0) = {worst:.1e}",
                  details=details, figures=[fname],
                  data={k: [r[k] for r in res] for k in ("activation", "m", "alpha", "ratio_all", "ratio_small",
                                                          "t1_all", "t1_small")})
