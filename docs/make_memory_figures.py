"""Make docs/figures/memory.png (docs/memory.md) and print the numbers quoted on that page.

Run from the repository root:  python docs/make_memory_figures.py      (about 20-40 s on 2 cores)
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import rnnmem as rm  # noqa: E402
from rnnmem import targets as tg  # noqa: E402
from rnnmem.memory import exact_memory  # noqa: E402
from rnnmem.plot import plot_memory  # noqa: E402

OUT = Path(__file__).resolve().parent / "figures" / "memory.png"


def main() -> None:
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6))

    # (a) linear targets of [P1 Fig. 1]: estimator (3 kinds) vs exact |ρ(t)|, with decay fits
    T = 200
    exp_t, pol_t = tg.exponential(base=0.9), tg.polynomial(1.1)
    mfs = [rm.memory_function(f, T, kind="heaviside") for f in (exp_t, pol_t)]
    for f, mf in zip((exp_t, pol_t), mfs, strict=True):
        err = max(np.abs(rm.memory_function(f, T, kind=k).values - f.memory(mf.t)).max()
                  for k in ("heaviside", "impulse", "reversed"))
        fit = rm.fit_decay(mf.t, mf.values)
        print(f"(a) {f!r}: max |estimate - exact| over 3 kinds = {err:.1e}; fit: {fit.kind}, "
              f"rate = {fit.rate:.4f}, exponent = {fit.exponent:.4f}, R2 exp/pol = "
              f"{fit.r2_exponential:.4f}/{fit.r2_polynomial:.4f}")
    plot_memory(mfs, ax=axes[0], labels=["0.9^t (estimator)", "(1+t)^-1.1 (estimator)"], fits=True,
                exact=[exp_t.memory, pol_t.memory], marker=".", ls="none", ms=3, legend="inside")
    axes[0].set_title("(a) linear targets: estimator = exact |ρ(t)|")

    # (b) a tanh RNN trained on ρ(t) = (1 + 0.1 t)^-1.5 (the repo's polynomial family)
    target = tg.polynomial(1.5, scale=0.1)
    x = tg.sample_inputs(256, 100, rng=0)
    rnn0 = rm.RNN.random(16, cell="euler", activation="tanh", dt=1.0, sigma2=0.25, rng=1)
    res = rm.fit(rnn0, x, target(x), epochs=100, lr=0.01, batch_size=64, rng=2, progress=False)
    rnn = res.model
    print(f"(b) trained tanh RNN: final training MSE {res.history['loss'][-1]:.4f}, spectral abscissa of W "
          f"{np.linalg.eigvals(rnn.W).real.max():.4f}")
    T2 = 400
    full = rm.memory_function(rnn, T2, rng=0)
    small = rm.memory_function(rnn, T2, amplitudes=np.logspace(-3, -1, 5), rng=0)
    imp = rm.memory_function(rnn, T2, kind="impulse", amplitudes=np.logspace(-3, -1, 5), rng=0)
    ex = exact_memory(rnn, T2, amplitudes=np.logspace(-3, -1, 5), rng=0)
    print(f"(b) v-dynamics vs estimator (|x| <= 0.1): max rel. difference "
          f"{np.abs(ex.values - small.values).max() / small.values.max():.1e}")
    for name, mf in (("|x| in [1e-3, 1e2]", full), ("|x| in [1e-3, 1e-1]", small)):
        fit = rm.fit_decay(mf.t, mf.values)
        print(f"(b) memory, {name}: M(100) = {mf.values[100]:.3g}, M(399) = {mf.values[-1]:.3g}; tail fit "
              f"{fit.kind}, rate = {fit.rate:.4f}, exponent = {fit.exponent:.3f}")
    plot_memory([full, small, imp], ax=axes[1], labels=["Heaviside, |x| ≤ 100", "Heaviside, |x| ≤ 0.1",
                                                         "impulse, |x| ≤ 0.1"], legend="none")
    axes[1].plot(full.t, target.memory(full.t), "k:", lw=1.2, label="target (1+0.1t)^-1.5")
    axes[1].axvline(100, color="0.6", lw=0.8)
    axes[1].legend(fontsize=8)
    axes[1].set_title("(b) tanh RNN trained on a polynomial target (T = 100)")

    # (c) why the amplitude range matters: scalar continuous-time tanh RNN, W = -1
    one = rm.RNN([[-1.0]], [[1.0]], [0.0], [[1.0]], cell="euler", activation="tanh", dt=0.5)
    amps = np.logspace(-1, 3, 5)
    exa = exact_memory(one, 2401, continuous=True, x=amps[:, None], substeps=4)
    ax = axes[2]
    for a, curve in zip(amps, exa.per_input, strict=True):
        ax.plot(exa.t, np.where(curve > 0, curve, np.nan), lw=1, label=f"|x| = {a:g}")
    env = exact_memory(one, 2401, continuous=True, amplitudes=np.logspace(-3, 4, 57), substeps=4)
    ax.plot(env.t, env.values, "k", lw=2, label="sup over |x| ≤ 1e4")
    ax.plot(env.t[1:], 1.0 / env.t[1:], "k--", lw=1, label="1 / t")
    tM = env.t[[20, 200, 2000]] * env.values[[20, 200, 2000]]
    print(f"(c) t * M(t) at t = 10, 100, 1000: {np.round(tM, 3).tolist()}")
    ax.set_yscale("log")
    ax.set_ylim(1e-8, 2)
    ax.set_xscale("log")
    ax.set_xlabel("t")
    ax.set_ylabel("memory M(t)")
    ax.legend(fontsize=8)
    ax.set_title("(c) dh/dt = tanh(-h + x): per-amplitude memory")

    env2 = exact_memory(one, 2001, continuous=True, amplitudes=np.logspace(1, 3.5, 1001), substeps=4)
    tM2 = env2.t[[20, 200, 2000]] * env2.values[[20, 200, 2000]]
    print(f"(c) same with 1001 amplitudes in [10, 10^3.5]: t * M(t) = {np.round(tM2, 3).tolist()}")

    fig.tight_layout()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUT, dpi=120)
    print(f"wrote {OUT}")


def numbers() -> None:
    """The convergence table and the findings of docs/memory.md."""
    rng = np.random.default_rng(1)
    W = rng.standard_normal((4, 4)) / 2 - 1.0 * np.eye(4)
    U, C = rng.standard_normal((4, 1)), rng.standard_normal((1, 4))
    for dt in (0.04, 0.02, 0.01, 0.005):
        T = int(round(4.0 / dt)) + 1
        rnn = rm.RNN(W, U, np.zeros(4), C, cell="euler", activation="linear", dt=dt)
        err = np.abs(rm.memory_function(rnn, T).values[1:]
                     - exact_memory(rnn, T, continuous=True).values[1:]).max()
        print(f"convergence, linear, dt={dt:<6}: max_(t<=4) |M_euler - M_cont| = {err:.3e}")
    b = 0.2 * rng.standard_normal(4)
    for dt in (0.02, 0.01, 0.005):
        T = int(round(3.0 / dt)) + 1
        rnn = rm.RNN(W, U, b, C, cell="euler", activation="tanh", dt=dt)
        amps = [0.3, 3.0]
        err = np.abs(rm.memory_function(rnn, T, amplitudes=amps).values
                     - exact_memory(rnn, T, continuous=True, amplitudes=amps).values).max()
        print(f"convergence, tanh,   dt={dt:<6}: max_(t<=3) |M_euler - M_cont| = {err:.3e}")

    W2 = np.array([[1.0, 1.0], [-4.0, -3.0]])
    rnn = rm.RNN(W2, np.eye(2), np.zeros(2), np.eye(2), cell="euler", activation="tanh", dt=0.05)
    ex = exact_memory(rnn, 601, continuous=True, x=[[5.0, 5.0], [0.1, 0.1]])
    print(f"Hurwitz W = [[1,1],[-4,-3]], eigenvalues {np.linalg.eigvals(W2).real.tolist()}: M_x(30) for "
          f"x = (5,5), (0.1,0.1): {ex.per_input[0, -1]:.3g}, {ex.per_input[1, -1]:.3g}")

    d, beta = 4, 0.5
    r = rm.RNN(-beta * np.eye(d), np.eye(d), np.zeros(d), np.ones((1, d)) / np.sqrt(d), cell="euler",
               activation="linear", dt=0.1)
    c = exact_memory(r, 20, continuous=True)
    ratio = np.unique(np.round(c.values / np.exp(-beta * c.t), 9))
    print(f"normal-W bound, d = 4: M(t) / (|C||U| e^(-beta t)) = {ratio}")

    mf = rm.memory_function(lambda x: x.copy(), 500)
    t = np.arange(1.0, 501.0)
    fit = rm.fit_decay(t, 1.0 / t)
    print(f"identity map: M(0) = {mf.values[0]}, max_(t>0) M = {mf.values[1:].max()}; output 1/t: {fit.kind}, "
          f"p = {fit.exponent:.4f} on t in {fit.window}")


if __name__ == "__main__":
    main()
    numbers()
