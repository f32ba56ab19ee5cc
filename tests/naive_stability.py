"""Slow, independent references for rnnmem.stability (plain NumPy/SciPy loops, nothing shared with the library)."""

from __future__ import annotations

import naive
import numpy as np
from scipy.optimize import minimize_scalar


def distance_continuous(W, n_grid=4001):
    """min_ω σ_min(W − iωI): dense grid over |ω| ≤ 2‖W‖₂ + 1, then a bounded scalar refinement around the best."""
    m = W.shape[0]
    if np.max(np.linalg.eigvals(W).real) >= 0:
        return 0.0
    R = 2 * np.linalg.norm(W, 2) + 1

    def f(w):
        return np.linalg.svd(W - 1j * w * np.eye(m), compute_uv=False)[-1]

    grid = np.linspace(-R, R, n_grid)
    vals = np.array([f(w) for w in grid])
    k = int(np.argmin(vals))
    h = grid[1] - grid[0]
    res = minimize_scalar(f, bounds=(grid[k] - h, grid[k] + h), method="bounded", options={"xatol": 1e-12})
    return float(min(res.fun, vals[k]))


def distance_discrete(A, n_grid=4001, return_argmin=False):
    """min_θ σ_min(A − e^{iθ}I) by a dense grid over [−π, π] and a bounded refinement (and the minimiser θ)."""
    m = A.shape[0]
    if np.max(np.abs(np.linalg.eigvals(A))) >= 1:
        return (0.0, 0.0) if return_argmin else 0.0

    def f(th):
        return np.linalg.svd(A - np.exp(1j * th) * np.eye(m), compute_uv=False)[-1]

    grid = np.linspace(-np.pi, np.pi, n_grid)
    vals = np.array([f(w) for w in grid])
    k = int(np.argmin(vals))
    h = grid[1] - grid[0]
    res = minimize_scalar(f, bounds=(grid[k] - h, grid[k] + h), method="bounded", options={"xatol": 1e-12})
    r, th = (float(res.fun), float(res.x)) if res.fun <= vals[k] else (float(vals[k]), float(grid[k]))
    return (r, th) if return_argmin else r


def destabilizing_direction(A):
    """The documented worst-case direction of perturbation_error: at the grid minimiser θ* of σ_min(A − e^{iθ}I),
    D = −Re(u v^H) from the SVD (A − e^{iθ*}I) v = σ_min u, normalised to ‖D‖₂ = 1."""
    _, th = distance_discrete(A, return_argmin=True)
    Uu, _, Vh = np.linalg.svd(A - np.exp(1j * th) * np.eye(A.shape[0]))
    D = -np.real(np.outer(Uu[:, -1], Vh[-1]))
    return D / np.linalg.svd(D, compute_uv=False)[0]


def perturbation_errors(rnn, y, x, betas, samples, seed, blocks=None, norm="spectral", error="sup", power=2.0):
    """Per-β max error over ``samples`` random perturbations drawn in the documented order (for each β > 0, for each
    sample, for each block in params() order: one standard-normal array, scaled), plus W + βI and the "grown" worst
    case and W + βD along the smallest destabiliser of the transition matrix (``destabilizing_direction``); each
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
            D = destabilizing_direction(A)
            if norm == "max_entry":
                D = D / np.abs(D).max()
            errs.append(err(dict(params, W=params["W"] + beta * D)))
        out.append(max(errs))
    return np.array(out)
