"""Jaeger memory capacity of a linear reservoir: closed form vs sampled estimator (docs/math.md §8).

The criterion (per reservoir with a claimed total r): the closed form Σ_k MC_k equals r, and the sampled estimator
(least-squares readouts on simulated data) agrees with the closed form delay by delay, in every seed. Controls: the
same criterion with a wrong Gramian in the closed form, and with the controllable-case claim (Σ = m) applied to a
reservoir that is not controllable.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla

from rnnmem import linear
from theory._registry import Context, Control, Result, check
from theory.p2 import _single_thread, layout, single_blas

#: random reservoirs are redrawn until cond(P) < COND_MAX: beyond ~1e14 the states' smallest directions sit at the
#: float64 rounding level and any sampled estimator scatters (measured: cond 5.8e15 gave sampled sums 19.77–20.09)
COND_MAX = 1e13
#: delays summed for the closed-form total (the tail beyond is below 1e-12 for spectral radius 0.9)
K_TOTAL = 2000


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


def _krylov(W, u, K):
    V = np.empty((K, W.shape[0]))
    V[0] = u
    for k in range(1, K):
        V[k] = W @ V[k - 1]
    return V


def _pinv_psd(P, rtol=1e-13):
    lam, V = np.linalg.eigh((P + P.T) / 2)
    keep = lam > rtol * lam.max()
    return (V[:, keep] / lam[keep]) @ V[:, keep].T


def _naive(W, u, k_max):
    """Textbook evaluation: P from the Lyapunov solver, then (W^k u)ᵀ P⁻¹ (W^k u) with an explicit inverse."""
    P = sla.solve_discrete_lyapunov(W, np.outer(u, u))
    V = _krylov(W, u, k_max)
    return np.einsum("ki,ij,kj->k", V, np.linalg.inv(P), V)


def _wrong_gramian(W, u, k_max):
    """Control: the closed form with the Gramian of the transposed Lyapunov equation P = WᵀPW + uuᵀ (the classic
    argument-order slip with ``solve_discrete_lyapunov``), pseudo-inverted."""
    P = sla.solve_discrete_lyapunov(W.T, np.outer(u, u))
    V = _krylov(W, u, k_max)
    return np.einsum("ki,ij,kj->k", V, _pinv_psd(P), V)


def _library(W, u, k_max):
    """The library's closed form (leverage scores of the Krylov matrix)."""
    return linear.memory_capacity(W, u, k_max)


def _sampled(args):
    W, u, k_max, seed, samples = args
    with _single_thread():
        return linear.memory_capacity(W, u, k_max, "sampled", rng=seed, samples=samples)


def _mc_verdict(closed_form, W, u, claimed, samp, samples, k_max):
    """The criterion for one reservoir: closed-form total = claimed to 1e-6; every seed's sampled curve within
    5 standard errors of the closed form at every delay; the seed-mean sampled sum within 4 se + bias allowance."""
    with np.errstate(all="ignore"):
        exact = closed_form(W, u, k_max)
        total = float(closed_form(W, u, K_TOTAL).sum())
    seeds = samp.shape[0]
    n_test = samples // 2
    # delta-method sd of one estimate + O(1/N) bias; floored so that a wrong closed form outside [0, 1] stays judged
    ex = np.clip(exact, 0.0, 1.0)
    se_k = 2 * np.sqrt(ex) * (1 - ex) / np.sqrt(n_test) + 1.0 / n_test
    with np.errstate(all="ignore"):
        z = (samp - exact[None]) / se_k[None]  # per seed
    per_seed = [bool(np.all(np.abs(zs) < 5)) for zs in z]
    sums = samp.sum(axis=1)
    sd_sum = float(sums.std(ddof=1)) if seeds > 1 else 0.0
    # seed-to-seed sd, floored by the delta-method sd of the sum, plus the known bias of a held-out squared
    # correlation: −r(1 − MC_k)/N_train per delay, +1/N_test where MC_k ≈ 0
    se_sum = max(sd_sum, float(np.sqrt(np.sum(se_k**2)))) / np.sqrt(seeds)
    bias = claimed * float(np.sum(1 - ex)) / (samples - n_test) + k_max / n_test
    sum_ok = bool(abs(sums.mean() - exact.sum()) <= 4 * se_sum + bias)
    total_ok = bool(np.isfinite(total) and abs(total - claimed) < 1e-6)
    return {"exact": exact, "total": total, "claimed": claimed, "total_ok": total_ok, "per_seed": per_seed,
            "max_abs_z": float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else float("inf"),
            "sum_ok": sum_ok, "sampled_mean": samp.mean(axis=0), "sampled_sums": sums, "sd_sum": sd_sum,
            "pass": bool(total_ok and all(per_seed) and sum_ok)}


@check("mc-exact-vs-sampled", order=70, title="Memory capacity: closed form vs sampled estimator; Σ MC_k = rank",
       statement="docs/math.md §8 (Jaeger 2002): for a linear reservoir with i.i.d. input, MC_k = (W^k u)ᵀP⁻¹(W^k u) "
                 "and Σ_k MC_k equals the rank of the Kalman controllability matrix (= m when (W, u) is "
                 "controllable); a sampled estimator (least-squares readout) agrees within sampling error.")
@single_blas
def mc_exact_vs_sampled(ctx: Context) -> Result:
    m, radius, k_max = 20, 0.9, 60
    samples = ctx.pick(20_000, 100_000, 400_000)
    seeds = ctx.pick(3, 3, 8)
    cases = {"controllable": (None, m), "rank 12": (12, 12)}
    res, lines, curves, errs, labels, samp_by_case = {}, [], [], [], [], {}
    for ci, (name, (rank, claimed)) in enumerate(cases.items()):
        W, u = _reservoir(ctx.rng(70, ci), m, radius, rank)
        samp = np.array(ctx.map(_sampled, [(W, u, k_max, int(ctx.rng(71, ci, s).integers(2**31)), samples)
                                           for s in range(seeds)]))
        samp_by_case[name] = (W, u, samp)
        r = _mc_verdict(_library, W, u, claimed, samp, samples, k_max)
        r["cond_P"] = float(np.linalg.cond(sla.solve_discrete_lyapunov(W, np.outer(u, u))))
        r["naive_total"] = float(_naive(W, u, K_TOTAL).sum())
        res[name] = r
        lines.append(f"| {name} | {claimed} | {r['total']:.10f} | {r['exact'].sum():.4f} | "
                     f"{r['sampled_sums'].mean():.4f} ± {r['sd_sum'] / np.sqrt(seeds):.4f} | {r['max_abs_z']:.2f} | "
                     f"{r['cond_P']:.1e} | {r['naive_total']:.6f} |")
        curves += [r["exact"], r["sampled_mean"]]
        ex = np.clip(r["exact"], 0.0, 1.0)  # a wrong closed form (mutation tests) may leave [0, 1]
        errs += [None, 2 * (2 * np.sqrt(ex) * (1 - ex) / np.sqrt(samples // 2)) / np.sqrt(seeds)]
        labels += [f"{name}: exact", f"{name}: sampled (mean of {seeds}, ±2 se)"]
    passed = all(r["pass"] for r in res.values())
    per_seed = {s: all(r["per_seed"][s] for r in res.values()) for s in range(seeds)}
    # controls: the same criterion (a) with a wrong Gramian in the closed form, (b) claiming Σ = m for the
    # rank-12 reservoir (the controllability premise removed)
    W, u, samp = samp_by_case["controllable"]
    wrong = _mc_verdict(_wrong_gramian, W, u, m, samp, samples, k_max)
    W12, u12, samp12 = samp_by_case["rank 12"]
    unctrl = _mc_verdict(_library, W12, u12, m, samp12, samples, k_max)
    controls = [
        Control("wrong-gramian", "closed form with the Gramian of the transposed Lyapunov equation P = WᵀPW + uuᵀ",
                wrong["pass"], f"Σ_k MC_k = {wrong['total']:.4g} (claimed {m}); max |z| vs sampled "
                               f"{wrong['max_abs_z']:.3g}"),
        Control("not-controllable", f"the claim Σ_k MC_k = m = {m} applied to a reservoir whose controllability "
                                    "rank is 12", unctrl["pass"],
                f"Σ_k MC_k = {unctrl['total']:.6f} ≠ {m}"),
    ]

    import matplotlib.pyplot as plt

    from rnnmem.plot import plot_memory_capacity

    fig, ax = plt.subplots(figsize=(8, 4))
    plot_memory_capacity(curves, ax=ax, labels=labels, errors=errs)
    ax.plot(np.arange(k_max), np.clip(wrong["exact"], 0, 1.2), "k:", lw=1, label="control: wrong Gramian (clipped)")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    ax.set_title(f"m={m}, spectral radius {radius}, {samples} samples per run", fontsize=9)
    layout(fig, left=0.08, right=0.66, top=0.9)
    fig_name = ctx.save_figure(fig, "mc-exact-vs-sampled.png")
    c = res["controllable"]
    summary = (f"Σ_k MC_k = {c['total']:.6f} (rank {m}) exact; sampled Σ_{{k<{k_max}}} {c['sampled_sums'].mean():.3f} "
               f"vs exact {c['exact'].sum():.3f}; rank-12 case Σ = {res['rank 12']['total']:.6f}; max |z| "
               f"{max(r['max_abs_z'] for r in res.values()):.2f}; naive inv(P): {c['naive_total']:.6f}, rank-12 "
               f"{res['rank 12']['naive_total']:.3g}")
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
        f"| case | claimed Σ | exact Σ_{{k<{K_TOTAL}}} MC_k | exact Σ_{{k<{k_max}}} | sampled Σ_{{k<{k_max}}} "
        "(mean ± se) | max |z| per k and seed | cond(P) | naive Σ via inv(P) |",
        "|---|---|---|---|---|---|---|---|",
        *lines,
        "",
        "The naive column evaluates the same closed form with `inv(solve_discrete_lyapunov(W, uuᵀ))`: it loses "
        "digits in proportion to cond(P) and is meaningless when P is singular (the uncontrollable case), while the "
        "leverage-score evaluation sums to the rank to ~1e-12.",
        "",
        f"PASS criterion (each case): the exact sum over k < {K_TOTAL} equals the claimed total (the controllability "
        "rank, known by construction) to 1e-6; in every seed, every per-delay sampled value is within 5 standard "
        "errors (2√MC(1−MC)/√N_test + 1/N_test) of the exact one; the seed-mean sampled sum over k < 60 is within 4 "
        "standard errors (seed-to-seed, floored by the delta-method value) plus the held-out bias allowance "
        "r·Σ_k(1 − MC_k)/N_train + k_max/N_test of the exact sum. Controls (each must FAIL): the same criterion with "
        "the closed form evaluated on a wrong Gramian (transposed Lyapunov equation), and the controllable-case claim "
        "Σ = m applied to the rank-12 reservoir (a library that returned m whatever the controllability would pass "
        "it).",
    ])
    return Result(passed, summary, details, [fig_name],
                  {"m": m, "radius": radius, "samples": samples,
                   "cases": {k: {kk: vv for kk, vv in v.items() if kk != "per_seed"} for k, v in res.items()},
                   "control_wrong_gramian_total": wrong["total"], "control_not_controllable_total": unctrl["total"]},
                  controls=controls, seeds=per_seed)
