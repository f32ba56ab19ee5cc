"""Finite-difference derivative checks with tolerances from the error model of the difference quotient.

For a function f (scalar- or array-valued) and a coordinate i with step h, the central difference

    d_h = (f(θ + h e_i) − f(θ − h e_i)) / (2h)

differs from ∂_i f(θ) by a truncation error h²/6 · f'''(ξ) and a round-off error δ_f / h, where δ_f bounds the
absolute error with which f itself is computed. Both are bounded per coordinate (and per output), from the same
evaluations:

- truncation: the pair d_h, d_2h (d_2h − d_h ≈ 3 · h²/6 · f''') gives |d_2h − d_h| / 3 (a Richardson estimate;
  it includes the round-off of both quotients, so it errs on the safe side). It cannot see a kink of f within
  2h of θ: callers keep their points away from kinks (relu, hardtanh) by more than that;
- round-off of f, best given as ``f_error``: an absolute bound on |computed f − exact f| from a running error
  analysis of f (e.g. ``tests/naive.py``'s ``forward_bound`` for an RNN's outputs), so that it scales with the
  magnitudes f actually sums, not with f. Without it, δ_f = κ · (ε · S + η) with S = ``f_scale`` (the magnitude
  of the numbers f sums; default the largest |f| seen, which understates S when f cancels), κ = ``safety`` and
  η = 2^-1074 the absolute rounding error of gradual underflow (f of order 1e-308 is not rounded relatively);
- the checked derivative's own round-off, best given as ``g_error`` (its running error bound); without it
  κ · (ε · (|g_i| + max|g|) + η).

The test is |g_i − d_h,i| <= tol_i with tol_i = 2·truncation_i + δ_f/h_i + g_error_i. Steps are the exactly
representable differences (θ_i + h) − θ_i, so the step's own rounding adds nothing. The check never uses a fixed
relative tolerance with an absolute floor, so it holds for gradients of any size (the Hypothesis seed-85 case:
an input gradient of norm 2e−8 whose central differences carry 1e−9 of round-off from f ≈ 1), and it still
catches a gradient block scaled by 1.00001 wherever that change exceeds the tolerance: the mutation tests in
``tests/test_gradcheck.py``, ``tests/test_rnn.py`` and ``tests/test_reparam.py`` show it, and
:func:`detectable` measures it for a given check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

EPS = np.finfo(np.float64).eps
#: subnormal spacing: with gradual underflow each operation may also err by this much in absolute value
ETA = 2.0**-1074
#: default relative step: ε^(1/3) balances h² truncation against ε/h round-off for a central difference
DEFAULT_STEP = EPS ** (1.0 / 3.0)


@dataclass
class FDResult:
    """Central differences of f with their error bounds, shaped f's output shape + θ's shape."""

    fd: np.ndarray
    truncation: np.ndarray
    roundoff: np.ndarray
    steps: np.ndarray  # θ's shape: the (exact) half-distance between the two points of each central difference


def central_differences(f: Callable[[np.ndarray], float | np.ndarray], theta, *, step: float = DEFAULT_STEP,
                        f_error=None, f_scale=None, safety: float = 32.0) -> FDResult:
    """Central differences of ``f`` at ``theta`` with per-coordinate truncation and round-off bounds.

    Parameters
    ----------
    f : function of an array shaped like ``theta``, returning a float or an array (then a Jacobian is formed).
    theta : the point (any shape; not modified).
    step : relative step; coordinate i uses h_i ≈ step · max(1, |θ_i|), rounded to a representable difference.
    f_error : absolute bound on the round-off of f (a float or an array shaped like f's output), from a running
        error analysis; takes precedence over ``f_scale``.
    f_scale : magnitude of the terms f sums (see the module docstring); default: the largest |f| evaluated.
    safety : κ, the multiple of ε · f_scale taken as f's round-off when ``f_error`` is not given.
    """
    theta = np.array(theta, dtype=np.float64)
    flat = theta.ravel()
    n = flat.size
    cols_fd, cols_tr, cols_fmax = [], [], []
    steps = np.empty(n)
    for i in range(n):
        h = step * max(1.0, abs(flat[i]))
        pts = []
        for k in (1.0, 2.0):
            p, q = flat.copy(), flat.copy()
            p[i] = flat[i] + k * h
            q[i] = flat[i] - k * h
            pts.append((p, q, p[i] - q[i]))  # exact distance (Sterbenz) or within one rounding of it
        vals = [[np.asarray(f(v.reshape(theta.shape)), dtype=np.float64) for v in pq[:2]] for pq in pts]
        (fp, fm), (fp2, fm2) = vals
        d1 = (fp - fm) / pts[0][2]
        d2 = (fp2 - fm2) / pts[1][2]
        steps[i] = pts[0][2] / 2.0
        cols_fd.append(d1)
        cols_tr.append(np.abs(d2 - d1) / 3.0)
        cols_fmax.append(np.maximum.reduce([np.abs(v) for v in (fp, fm, fp2, fm2)]))
    out_shape = cols_fd[0].shape
    fd = np.stack(cols_fd, axis=-1)  # (*out, n)
    trunc = np.stack(cols_tr, axis=-1)
    if f_error is not None:
        delta = np.broadcast_to(np.asarray(f_error, dtype=np.float64)[..., None], fd.shape)
    else:
        fmax = np.stack(cols_fmax, axis=-1)
        scale = fmax if f_scale is None else np.maximum(fmax, np.asarray(f_scale, dtype=np.float64)[..., None])
        delta = safety * (EPS * scale + ETA)
    roundoff = delta / steps
    shape = out_shape + theta.shape
    return FDResult(fd.reshape(shape), trunc.reshape(shape), roundoff.reshape(shape), steps.reshape(theta.shape))


def gradient_tolerance(res: FDResult, grad, *, g_error=None, g_scale: float | None = None,
                       safety: float = 32.0) -> np.ndarray:
    """tol = 2·truncation + round-off of f / h + the checked derivative's round-off + the rounding of the two values
    compared (each is a rounded float64: an exact derivative and an exact quotient still differ by up to an ulp;
    found by a Hypothesis example with |diff| = 1.1e-16 on a derivative ≈ 0.9) (see the module docstring)."""
    g = np.asarray(grad, dtype=np.float64)
    if g_error is not None:
        gerr = np.asarray(g_error, dtype=np.float64)
    else:
        gs = np.abs(g).max(initial=0.0) if g_scale is None else float(g_scale)
        gerr = safety * (EPS * (np.abs(g) + gs) + ETA)
    return 2.0 * res.truncation + res.roundoff + gerr + 2.0 * EPS * (np.abs(g) + np.abs(res.fd))


def assert_gradient(f: Callable[[np.ndarray], float | np.ndarray], theta, grad, *, name: str = "θ",
                    step: float = DEFAULT_STEP, f_error=None, g_error=None, f_scale=None,
                    g_scale: float | None = None, safety: float = 32.0) -> tuple[FDResult, np.ndarray]:
    """Assert that ``grad`` is the derivative of ``f`` at ``theta`` within the error model of central differences.

    ``grad`` is shaped like θ for a scalar f, or f's output shape + θ's shape (a Jacobian) for an array f.
    Raises AssertionError naming ``name``, the worst coordinate, the analytic and finite-difference values, the
    tolerance and its parts. Returns the :class:`FDResult` and the tolerance (e.g. for :func:`detectable`).
    """
    g = np.asarray(grad, dtype=np.float64)
    theta = np.asarray(theta, dtype=np.float64)
    res = central_differences(f, theta, step=step, f_error=f_error, f_scale=f_scale, safety=safety)
    if g.shape != res.fd.shape:
        raise AssertionError(f"{name}: derivative shape {g.shape} != expected {res.fd.shape}")
    tol = gradient_tolerance(res, g, g_error=g_error, g_scale=g_scale, safety=safety)
    err = np.abs(g - res.fd)
    if not np.all(err <= tol):
        i = tuple(int(v) for v in np.unravel_index(int(np.argmax(err - tol)), g.shape))
        j = i[len(i) - theta.ndim:]
        raise AssertionError(
            f"{name}{list(i)}: analytic {g[i]:.17g} vs central difference {res.fd[i]:.17g}: |diff| {err[i]:.3g} > "
            f"tol {tol[i]:.3g} (truncation {res.truncation[i]:.3g}, round-off of f {res.roundoff[i]:.3g}, "
            f"step {res.steps[j]:.3g}); {int(np.sum(err > tol))} of {g.size} coordinates out of tolerance")
    return res, tol


def detectable(grad, tol, rel: float = 1e-5) -> np.ndarray:
    """Where a relative error ``rel`` of the checked derivative would exceed the tolerance (the check's power)."""
    return rel * np.abs(np.asarray(grad, dtype=np.float64)) > tol
