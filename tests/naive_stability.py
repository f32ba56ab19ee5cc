"""Slow, independent references for rnnmem.stability (plain NumPy/SciPy loops, nothing shared with the library)."""

from __future__ import annotations

import naive
import numpy as np


def _global_min(f, lo, hi, n_grid, return_argmin=False):
    """Global minimum of a 1-Lipschitz f on [lo, hi]: a grid of step h, then a bounded Brent refinement on
    [ω_j − h, ω_j + h] around EVERY grid point with f(ω_j) <= min f(grid) + h. The minimiser ω* has a grid point
    within h/2, whose value is <= f(ω*) + h/2 <= min f(grid) + h/2 (Lipschitz), so its bracket, which contains ω*,
    is among those refined (a refinement around the best grid point alone can pick the wrong valley). With
    ``return_argmin``, also the minimiser."""
    from scipy.optimize import minimize_scalar

    grid = np.linspace(lo, hi, n_grid)
    vals = np.array([f(w) for w in grid])
    h = grid[1] - grid[0]
    k = int(np.argmin(vals))
    best, arg = float(vals[k]), float(grid[k])
    for j in np.flatnonzero(vals <= vals.min() + h):
        res = minimize_scalar(f, bounds=(grid[j] - h, grid[j] + h), method="bounded", options={"xatol": 1e-13})
        if float(res.fun) < best:
            best, arg = float(res.fun), float(res.x)
    return (best, arg) if return_argmin else best


def distance_continuous(W, n_grid=4001):
    """min_ω σ_min(W − iωI) over |ω| <= 2‖W‖₂ + 1 (outside, σ_min(W − iωI) >= |ω| − ‖W‖ exceeds σ_min(W)) by
    :func:`_global_min` (σ_min(W − iωI) is 1-Lipschitz in ω)."""
    m = W.shape[0]
    if np.max(np.linalg.eigvals(W).real) >= 0:
        return 0.0
    R = 2 * np.linalg.norm(W, 2) + 1

    def f(w):
        return np.linalg.svd(W - 1j * w * np.eye(m), compute_uv=False)[-1]

    return _global_min(f, -R, R, n_grid)


def distance_discrete(A, n_grid=4001, return_argmin=False):
    """min_θ σ_min(A − e^{iθ}I) over [−π, π] by :func:`_global_min` (1-Lipschitz in θ: |d e^{iθ}/dθ| = 1), and the
    minimiser θ with ``return_argmin``."""
    m = A.shape[0]
    if np.max(np.abs(np.linalg.eigvals(A))) >= 1:
        return (0.0, 0.0) if return_argmin else 0.0

    def f(th):
        return np.linalg.svd(A - np.exp(1j * th) * np.eye(m), compute_uv=False)[-1]

    return _global_min(f, -np.pi, np.pi, n_grid, return_argmin)


def destabilizing_direction(A):
    """The documented worst-case direction of perturbation_error: at the minimiser θ* of σ_min(A − e^{iθ}I),
    D = −Re(u v^H) from the SVD (A − e^{iθ*}I) v = σ_min u, normalised to ‖D‖₂ = 1."""
    _, th = distance_discrete(A, return_argmin=True)
    Uu, _, Vh = np.linalg.svd(A - np.exp(1j * th) * np.eye(A.shape[0]))
    D = -np.real(np.outer(Uu[:, -1], Vh[-1]))
    return D / np.linalg.svd(D, compute_uv=False)[0]


def perturbation_errors(rnn, y, x, betas, samples, seed, blocks=None, norm="spectral", error="sup", power=2.0):
    """Per-β max error over ``samples`` random perturbations drawn in the documented order (for each β > 0, for each
    sample, for each block in params() order: one standard-normal array, scaled), plus W + βI and the "grown" worst
    case and W + βD along the library's smallest destabiliser of the transition matrix (not unique: see below); each
    perturbed model run by tests.naive.forward (loops over batch and time)."""
    gen = np.random.default_rng(seed)
    params = {k: np.array(v) for k, v in rnn.params().items()}
    names = list(params) if blocks is None else list(blocks)

    def err(p):
        with np.errstate(all="ignore"):
            yh, _, _ = naive.forward(p["W"], p["U"], p["b"], p["C"], p.get("D"), x, rnn.cell, rnn.activation,
                                     rnn.dt)
            r = yh - y
            if not np.isfinite(r).all():
                return np.inf
            if error == "sup":
                return np.abs(r).max()
            if error == "mse":
                return (r ** 2).mean()
            if error == "weighted_mse":
                T = y.shape[1]
                w = ((np.arange(T) + 1.0) / (T + 1.0)) ** power
                return (w[None, :, None] * r ** 2).mean()
            e = np.zeros(x.shape[0])
            for b in range(x.shape[0]):
                prev = np.zeros(y.shape[2])
                best = 0.0
                for k in range(x.shape[1]):
                    best = max(best, np.abs(r[b, k]).max() + np.abs(r[b, k] - prev).max() / rnn.dt)
                    prev = r[b, k]
                e[b] = best
            return e.max()

    def scale(G, beta):
        if norm == "max_entry":
            s = np.abs(G).max()
        elif G.ndim == 2:
            s = np.linalg.svd(G, compute_uv=False)[0]
        else:
            s = np.sqrt((G ** 2).sum())
        return G * beta / s

    out = []
    for beta in np.sort(np.asarray(betas, float)):
        if beta == 0:
            out.append(err(params))
            continue
        errs = []
        for _ in range(samples):
            p = dict(params)
            for n in names:
                p[n] = params[n] + scale(gen.standard_normal(params[n].shape), beta)
            errs.append(err(p))
        if "W" in names:
            p = dict(params)
            p["W"] = params["W"] + beta * np.eye(params["W"].shape[0])
            errs.append(err(p))
            for n in names:
                if n != "W":
                    B = params[n]
                    if norm == "max_entry":
                        nb = np.abs(B).max()
                    elif B.ndim == 2:
                        nb = np.linalg.svd(B, compute_uv=False)[0]
                    else:
                        nb = np.sqrt((B ** 2).sum())
                    p[n] = B * (1 + beta / nb) if nb > 0 else B
            errs.append(err(p))
            A = params["W"] if rnn.cell == "elman" else np.eye(params["W"].shape[0]) + rnn.dt * params["W"]
            # the direction along the library's minimiser: the minimiser of σ_min(A − e^{iθ}I) and its singular
            # vectors are not unique where local minima tie or σ_min is repeated, and there two correct computations
            # (this file's and the library's) pick different directions (seed-sweep failures 2093893594 and
            # 1133284730: |Δerror| up to 3e-8). What is checked here is the evaluation of the perturbed models; the
            # direction's own property (A + rD reaches the boundary, ‖D‖₂ = 1) is tested against an independent
            # computation in test_hardening_analysis.py
            # (test_destabilizer_direction_crosses_the_boundary_at_the_distance)
            from rnnmem.stability import _destabilizer

            D = _destabilizer(A)[1]
            if norm == "max_entry":
                D = D / np.abs(D).max()
            errs.append(err(dict(params, W=params["W"] + beta * D)))
        out.append(max(errs))
    return np.array(out)


def perturbed_output_bound(rnn, x, beta):
    """A bound on the rounding error of the outputs of EVERY model that perturbation_error (and the reference
    above) evaluates at level β: each perturbed block has entries within |B| + β (a perturbation of spectral,
    Frobenius or max-entry norm β has entries <= β; the grown worst case B(1 + β/‖B‖) too), is formed with one
    rounding, and |σ(z)| <= |z|, |σ'| <= 1 for every activation, so the running bound of tests/naive.py on these
    magnitudes, with a linear activation, dominates each model's own bound; tanh adds its TANH_ULP rounding."""
    X = np.abs(np.asarray(x, dtype=float))
    m = rnn.hidden
    W, U, b, C = (np.abs(getattr(rnn, k)) + beta for k in "WUbC")
    D = None if rnn.D is None else np.abs(rnn.D) + beta
    dW, dU, db, dC = (naive.rounding(2, M) for M in (W, U, b, C))
    a = 0.0 if rnn.cell == "elman" else 1.0
    c = 1.0 if rnn.cell == "elman" else rnn.dt
    B, T, d = X.shape
    h = np.zeros((B, m))
    Eh = np.zeros((B, m))
    Ey = np.zeros((B, T, C.shape[0]))
    for k in range(T):
        xk = X[:, k]
        z = h @ W.T + xk @ U.T + b
        Ez = Eh @ W.T + naive.rounding(m + d + 1, z) + h @ dW.T + xk @ dU.T + db
        sig = z
        Esig = Ez + naive.rounding(naive.TANH_ULP, sig)
        new = a * h + c * sig
        Eh = a * Eh + c * Esig + naive.rounding(2, new)
        h = new
        y = h @ C.T + (0.0 if D is None else xk @ D.T)
        Ey[:, k] = Eh @ C.T + naive.rounding(m + d, y) + h @ dC.T + (0.0 if D is None else xk @ naive.rounding(2, D).T)
    return float(Ey.max())
