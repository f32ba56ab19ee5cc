"""Jaeger memory capacity of a linear reservoir: closed form vs sampled estimator (docs/math.md §8)."""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla

from rnnmem import linear
from theory._registry import Context, Result, check
from theory.p2 import _single_thread

#: random reservoirs are redrawn until cond(P) < COND_MAX: beyond ~1e14 the states' smallest directions sit at the
#: float64 rounding level and any sampled estimator scatters (measured: cond 5.8e15 gave sampled sums 19.77–20.09)
COND_MAX = 1e13


def _reservoir(gen, m, radius, rank=None):
    """Random Gaussian W scaled to the spectral radius; u Gaussian, or (rank r) exciting only r eigenmodes of a
    symmetric W (spread over its spectrum), so that the controllability rank is exactly r.

    Clustered excited eigenvalues would make P restricted to the excited subspace so ill-conditioned (> 1e15) that
    no float64 estimator — sampled or closed-form — resolves its smallest directions; spreading them keeps it ~1e10.
    """
    if rank is None:
        for _ in range(100):  # redraw until P is resolvable in float64 by a sampled estimator (see details)
            W = gen.standard_normal((m, m))
            W *= radius / linear.spectral_radius(W)
            u = gen.standard_normal(m)
            if np.linalg.cond(sla.solve_discrete_lyapunov(W, np.outer(u, u))) < COND_MAX:
                break
        return W, u
    Q = np.linalg.qr(gen.standard_normal((m, m)))[0]
    lam = radius * np.linspace(-1, 1, m)
    W = (Q * lam) @ Q.T
    idx = np.round(np.linspace(0, m - 1, rank)).astype(int)  # excited modes spread over the spectrum
    u = Q[:, idx] @ gen.standard_normal(rank)
    return W, u


def _naive(W, u, k_max):
    """Textbook evaluation: P from the Lyapunov solver, then (W^k u)ᵀ P⁻¹ (W^k u) with an explicit inverse."""
    P = sla.solve_discrete_lyapunov(W, np.outer(u, u))
    Pinv = np.linalg.inv(P)
    V = np.empty((k_max, W.shape[0]))
    V[0] = u
    for k in range(1, k_max):
        V[k] = W @ V[k - 1]
    return np.einsum("ki,ij,kj->k", V, Pinv, V)


def _sampled(args):
    W, u, k_max, seed, samples = args
    with _single_thread():
        return linear.memory_capacity(W, u, k_max, "sampled", rng=seed, samples=samples)


@check("mc-exact-vs-sampled", order=70, title="Memory capacity: closed form vs sampled estimator; Σ MC_k = rank",
       statement="docs/math.md §8 (Jaeger 2002): for a linear reservoir with i.i.d. input, MC_k = (W^k u)ᵀP⁻¹(W^k u) "
                 "and Σ_k MC_k equals the rank of the Kalman controllability matrix; a sampled estimator (ridge/least-"
                 "squares readout) agrees within sampling error.")
def mc_exact_vs_sampled(ctx: Context) -> Result:
    m, radius, k_max = 20, 0.9, 60
    samples = ctx.pick(40_000, 100_000, 400_000)
    seeds = ctx.pick(3, 4, 8)
    cases = {"controllable": None, "rank 12": 12}
    out, ok, lines = {}, True, []
    curves, errs, labels = [], [], []
    for ci, (name, rank) in enumerate(cases.items()):
        W, u = _reservoir(ctx.rng(70, ci), m, radius, rank)
        exact = linear.memory_capacity(W, u, k_max)
        exact_total = float(linear.memory_capacity(W, u, 2000).sum())
        true_rank = m if rank is None else rank
        samp = np.array(ctx.map(_sampled, [(W, u, k_max, int(ctx.rng(71, ci, s).integers(2**31)), samples)
                                           for s in range(seeds)]))
        n_test = samples // 2
        se_k = 2 * np.sqrt(exact) * (1 - exact) / np.sqrt(n_test) + 1.0 / n_test  # delta-method sd + O(1/N) bias
        mean = samp.mean(axis=0)
        z = (mean - exact) / (se_k / np.sqrt(seeds))
        sums = samp.sum(axis=1)
        sd_sum = float(sums.std(ddof=1))
        # seed-to-seed sd, floored by the delta-method sd of the sum (4 seeds estimate a sd poorly), plus the known
        # bias of a held-out squared correlation: −r(1 − MC_k)/N_train per delay, +1/N_test where MC_k ≈ 0
        se_sum = max(sd_sum, float(np.sqrt(np.sum(se_k**2)))) / np.sqrt(seeds)
        bias = true_rank * float(np.sum(1 - exact)) / (samples - n_test) + k_max / n_test
        tol_sum = 4 * se_sum + bias
        per_k_ok = bool(np.all(np.abs(z) < 5))
        sum_ok = bool(abs(sums.mean() - exact.sum()) <= tol_sum)
        rank_ok = abs(exact_total - true_rank) < 1e-6
        naive = _naive(W, u, 2000)
        case_ok = per_k_ok and sum_ok and rank_ok
        ok &= case_ok
        cond = float(np.linalg.cond(sla.solve_discrete_lyapunov(W, np.outer(u, u))))
        out[name] = {"exact": exact, "sampled_mean": mean, "sampled_sums": sums, "exact_total": exact_total,
                     "rank": true_rank, "max_abs_z": float(np.abs(z).max()), "naive_total": float(naive.sum()),
                     "cond_P": cond, "pass": case_ok}
        lines.append(f"| {name} | {true_rank} | {exact_total:.10f} | {exact.sum():.4f} | {sums.mean():.4f} ± "
                     f"{sd_sum / np.sqrt(seeds):.4f} | {np.abs(z).max():.2f} | {cond:.1e} | {naive.sum():.6f} |")
        curves += [exact, mean]
        errs += [None, 2 * se_k / np.sqrt(seeds)]
        labels += [f"{name}: exact", f"{name}: sampled (mean of {seeds}, ±2 se)"]

    import matplotlib.pyplot as plt

    from rnnmem.plot import plot_memory_capacity

    fig, ax = plt.subplots(figsize=(6.5, 4))
    plot_memory_capacity(curves, ax=ax, labels=labels, errors=errs)
    ax.set_title(f"m={m}, spectral radius {radius}, {samples} samples per run", fontsize=9)
    fig.tight_layout()
    ctx.save_figure(fig, "mc_exact_vs_sampled.png")
    c = out["controllable"]
    summary = (f"Σ_k MC_k = {c['exact_total']:.6f} (rank {m}) exact; "
               f"sampled Σ_{{k<{k_max}}} {c['sampled_sums'].mean():.3f} "
               f"vs exact {c['exact'].sum():.3f}; rank-12 case Σ = {out['rank 12']['exact_total']:.6f}; naive inv(P): "
               f"{c['naive_total']:.6f}, rank-12 {out['rank 12']['naive_total']:.3g}")
    details = "\n".join([
        f"Reservoirs h_t = W h_{{t−1}} + u s_t, m = {m}, spectral radius {radius}: a random Gaussian W "
        f"(controllable; redrawn until cond(P) < {COND_MAX:.0e}, beyond which the states' smallest directions sit at "
        "float64 rounding level and a sampled estimator scatters — e.g. cond(P) = 5.8e15 gave sampled sums 19.77–20.09 "
        "over 4 seeds while the exact evaluation still summed to 20) and "
        "a symmetric W with u exciting only 12 of its eigenmodes (controllability rank exactly 12). Exact: "
        "`rnnmem.linear.memory_capacity` (leverage scores of the Krylov matrix, no inverse of P). Sampled: "
        f"{samples} steps of N(0,1) input, least-squares readout on the first half, squared correlation on the second, "
        f"{seeds} seeds.",
        "",
        f"| case | rank | exact Σ_{{k<2000}} MC_k | exact Σ_{{k<{k_max}}} | sampled Σ_{{k<{k_max}}} (mean ± se) | "
        "max |z| per k | cond(P) | naive Σ via inv(P) |",
        "|---|---|---|---|---|---|---|---|",
        *lines,
        "",
        "The naive column evaluates the same closed form with `inv(solve_discrete_lyapunov(W, uuᵀ))`: it loses "
        "digits in proportion to cond(P) and is meaningless when P is singular (the uncontrollable case), while the "
        "leverage-score evaluation sums to the rank to ~1e-12.",
        "",
        "PASS criterion (each case): the exact sum over k < 2000 equals the controllability rank to 1e-6; every "
        "per-delay sampled mean is within 5 standard errors (2√MC(1−MC)/√N_test/√seeds + 1/N_test) of the exact "
        "value; the sampled sum over k < 60 is within 4 standard errors (seed-to-seed, floored by the delta-method "
        "value) plus the held-out bias allowance r·Σ_k(1 − MC_k)/N_train + k_max/N_test of the exact sum.",
    ])
    return Result(bool(ok), summary, details, ["mc_exact_vs_sampled.png"], {"m": m, "radius": radius, "cases": out})
