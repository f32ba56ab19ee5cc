"""Figures of docs/linear_measures.md and docs/implicit_bias.md.

Run from the repository root:  python docs/make_linear_figures.py
Writes docs/figures/linear-measures.png, docs/figures/implicit-bias-lag-weights.png and
docs/figures/implicit-bias-interpolant.png, and prints the numbers quoted in the two pages.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import rnnmem as rm  # noqa: E402
from rnnmem import linear, ntk  # noqa: E402
from rnnmem.plot import plot_lag_weights, plot_memory_capacity  # noqa: E402

OUT = Path(__file__).resolve().parent / "figures"


def linear_measures():
    rng = np.random.default_rng(0)
    m = 20
    W = rng.standard_normal((m, m))
    W *= 0.9 / linear.spectral_radius(W)
    u = rng.standard_normal(m)
    exact = linear.memory_capacity(W, u, 60)
    sampled = linear.memory_capacity(W, u, 60, "sampled", rng=1, samples=200_000)
    print(f"MC: exact sum over k<2000 = {linear.memory_capacity(W, u, 2000).sum():.10f}, "
          f"exact sum k<60 = {exact.sum():.4f}, sampled sum k<60 = {sampled.sum():.4f}, "
          f"max |sampled - exact| = {np.abs(sampled - exact).max():.4f}")
    # Fisher memory: normal vs non-normal (feed-forward chain) with the same spectrum-free scale
    Q = np.linalg.qr(rng.standard_normal((m, m)))[0]
    Wn = (Q * (0.9 * np.cos(np.linspace(0, np.pi, m)))) @ Q.T
    chain = np.diag(np.full(m - 1, 2.0), -1)  # amplifying delay line: nilpotent, so stable, and very non-normal
    e1 = np.zeros(m)
    e1[0] = 1.0
    Jn = linear.fisher_memory(Wn, Q[:, 0], 60)
    Jc = linear.fisher_memory(chain, e1, 60)
    print(f"Fisher: normal sum = {linear.fisher_memory(Wn, Q[:, 0], 3000).sum():.10f}, "
          f"amplifying delay-line sum = {linear.fisher_memory(chain, e1, 3000).sum():.4f} (bound m = {m})")
    # gains
    Wg = rm.RNN.random(50, sigma2=1.69, rng=2).W
    rnn = rm.RNN.random(50, sigma2=1.69, rng=2)
    x = np.random.default_rng(3).standard_normal((2000, 1))
    g_lin = linear.bptt_gain(Wg, 60)
    g_traj = linear.trajectory_gain(rnn, x[:300], 60)
    lam = linear.top_lyapunov_exponent(rnn, x, washout=200, rng=0)
    print(f"gain: spectral radius {linear.spectral_radius(Wg):.3f}; tanh RNN top Lyapunov exponent {lam:.4f}/step")
    hsv = linear.hankel_singular_values(W, u[:, None], rng.standard_normal((1, m)))
    fig, axes = plt.subplots(2, 2, figsize=(11, 8.8), layout="constrained")
    plot_memory_capacity([exact, sampled], ax=axes[0, 0], labels=["exact (closed form)", "sampled (2e5 steps)"],
                         legend="inside")
    axes[0, 0].set_title(f"Jaeger memory capacity, m={m}, ρ(W)=0.9: Σ_k MC_k = {m}", fontsize=9)
    axes[0, 1].semilogy(Jn, "o-", ms=3, label=f"normal W: Σ J = {Jn.sum():.3f}")
    axes[0, 1].semilogy(np.maximum(Jc, 1e-12), "s-", ms=3,
                        label=f"amplifying delay line (non-normal): Σ J = {Jc.sum():.2f}")
    axes[0, 1].set_xlabel("delay k")
    axes[0, 1].set_ylabel("Fisher memory J(k)")
    axes[0, 1].set_ylim(1e-6, 2)
    axes[0, 1].set_title("Fisher memory: normal vs non-normal W (‖u‖ = 1)", fontsize=9)
    axes[0, 1].legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), frameon=False)
    axes[1, 0].semilogy(g_lin, label="linear: ‖W^j‖₂")
    axes[1, 0].semilogy(g_traj, label="tanh, along a trajectory")
    axes[1, 0].semilogy(np.exp(lam * np.arange(60)), "k:", label=f"exp(λ₁ j), λ₁ = {lam:.3f}")
    axes[1, 0].set_xlabel("lag j")
    axes[1, 0].set_ylabel("BPTT gain")
    axes[1, 0].set_title("gradient gains of a tanh RNN (m = 50, σ = 1.3)", fontsize=9)
    axes[1, 0].legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, frameon=False)
    axes[1, 1].semilogy(np.arange(1, hsv.size + 1), hsv, "o")
    axes[1, 1].set_xlabel("index i")
    axes[1, 1].set_ylabel("Hankel singular value σ_i")
    axes[1, 1].set_title("Hankel singular values of the reservoir (readout C random)", fontsize=9)
    fig.savefig(OUT / "linear-measures.png", dpi=110)
    plt.close(fig)


def implicit_bias():
    s2s = (0.5, 0.81, 1.0, 1.21)
    J, n, seeds = 24, 2000, 4
    emp = []
    for i, s2 in enumerate(s2s):
        d = np.array([np.diag(ntk.empirical(ntk.init(n, s2, rng=100 * i + s), J)) for s in range(seeds)])
        emp.append((d.mean(axis=0), d.std(axis=0)))
        print(f"σ²={s2}: max |mean G_jj/ρ_j² − 1| over j<{J} at n={n} ({seeds} seeds) = "
              f"{np.abs(d.mean(axis=0) / ntk.lag_weights(J, s2) - 1).max():.3f}")
    fig, ax = plt.subplots(figsize=(7.5, 4.2), layout="constrained")
    plot_lag_weights(s2s, J, ax=ax, empirical=emp)
    ax.set_title(f"ρ_j² (lines) and empirical G_jj (dots: mean ± sd, n = {n}, {seeds} seeds)", fontsize=9)
    fig.savefig(OUT / "implicit-bias-lag-weights.png", dpi=110)
    plt.close(fig)

    rng = np.random.default_rng(0)
    J, N = 24, 8
    teacher = np.zeros(J)
    teacher[[2, 18]] = 1.0
    X = rng.standard_normal((N, J))
    y = X @ teacher
    # one panel per σ² (four overlapping curves in one panel hide each other), the teacher in every panel
    fig, axes = plt.subplots(1, len(s2s), figsize=(14, 3.8), sharey=True, layout="constrained")
    for k, (ax, s2) in enumerate(zip(axes, s2s, strict=True)):
        L = ntk.interpolant(X, y, ntk.lag_weights(J, s2))
        ax.stem(np.arange(J), teacher, linefmt="k-", markerfmt="ko", basefmt=" ", label="teacher (taps at 2, 18)")
        ax.plot(L, "o-", ms=3, color=f"C{k}", label="learned L̂ (infinite width, L(0) = 0)")
        ax.axhline(0, color="0.7", lw=0.6)
        ax.set_title(f"σ² = {s2}: L̂_2 = {L[2]:.2f}, L̂_18 = {L[18]:.2f}", fontsize=9)
        ax.set_xlabel("lag j")
        print(f"interpolant σ²={s2}: L_2 = {L[2]:.3f}, L_18 = {L[18]:.3f}")
    axes[0].set_ylabel("impulse response L_j")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=2, fontsize=8, frameon=False)
    fig.suptitle(f"Implicit bias ([P2]): the minimum-ρ-norm interpolant of a two-tap teacher, N = {N} samples, "
                 f"J = {J} lags", fontsize=10)
    fig.savefig(OUT / "implicit-bias-interpolant.png", dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    linear_measures()
    implicit_bias()
