"""Finite-difference gradient checks with tolerances from the error model of the difference quotient.

For a scalar function f and a coordinate i with step h, the central difference

    d_h = (f(θ + h e_i) − f(θ − h e_i)) / (2h)

differs from ∂_i f(θ) by a truncation error h²/6 · f'''(ξ) and a round-off error δ_f / h, where δ_f bounds the
absolute error with which f itself is computed. Both are estimated per coordinate, from the same evaluations:

- truncation: the pair d_h, d_2h (d_2h − d_h ≈ 3 · h²/6 · f''') gives |d_2h − d_h| / 3 (a Richardson estimate;
  it includes d_2h's own round-off, so it errs on the safe side);
- round-off of f: δ_f = κ · ε · S with S the magnitude of the numbers f sums (``f_scale``; by default the
  largest |f| seen, which understates S when f cancels, so pass the sum of absolute terms where it is cheap,
  e.g. ``np.abs(dy * y).sum()`` for f = Σ dy·y) and κ a safety factor covering accumulation over a long sum;
- the analytic gradient's own round-off: κ · ε · ``g_scale`` (by default |g_i| plus the largest |g|).

The test is |g_i − d_h,i| ≤ tol_i with tol_i = 2·trunc_i + δ_f/h_i + κ·ε·g_scale. It never uses a fixed relative
tolerance with an absolute floor, so it passes for gradients of any size (the Hypothesis seed-85 case: an input
gradient of norm 2e−8 against central differences that differ from it by 1e−9 through the round-off of f ≈ 1),
and it still catches a gradient block scaled by 1.00001 whenever that change exceeds the round-off — the mutation
tests in ``tests/test_gradcheck.py`` and ``tests/test_rnn.py`` show it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

EPS = np.finfo(np.float64).eps
#: default relative step: ε^(1/3) balances h² truncation against ε/h round-off for a central difference
DEFAULT_STEP = EPS ** (1.0 / 3.0)


@dataclass
class FDResult:
    """Central differences of f with their error bounds (arrays shaped like θ)."""

    fd: np.ndarray
    truncation: np.ndarray
    roundoff: np.ndarray
    steps: np.ndarray


def central_differences(f: Callable[[np.ndarray], float], theta, *, step: float = DEFAULT_STEP,
                        f_scale: float | None = None, safety: float = 32.0) -> FDResult:
    """Central differences of ``f`` at ``theta`` with per-coordinate truncation and round-off bounds.

    Parameters
    ----------
    f : function of an array shaped like ``theta`` returning a float.
    theta : the point (any shape; not modified).
    step : relative step; coordinate i uses h_i = step · max(1, |θ_i|).
    f_scale : magnitude of the terms f sums (see the module docstring); default: the largest |f| evaluated.
    safety : κ, the multiple of ε · f_scale taken as f's absolute round-off.
    """
    theta = np.array(theta, dtype=np.float64)
    flat = theta.ravel()
    n = flat.size
    fd = np.empty(n)
    trunc = np.empty(n)
    fmax = np.empty(n)
    steps = step * np.maximum(1.0, np.abs(flat))
    for i in range(n):
        h = steps[i]
        vals = []
        for k in (1.0, -1.0, 2.0, -2.0):
            p = flat.copy()
            p[i] += k * h
            vals.append(float(f(p.reshape(theta.shape))))
        fp, fm, fp2, fm2 = vals
        d1 = (fp - fm) / (2.0 * h)
        d2 = (fp2 - fm2) / (4.0 * h)
        fd[i] = d1
        trunc[i] = abs(d2 - d1) / 3.0
        fmax[i] = max(abs(v) for v in vals)
    scale = fmax if f_scale is None else np.maximum(fmax, float(f_scale))
    roundoff = safety * EPS * scale / steps
    return FDResult(fd.reshape(theta.shape), trunc.reshape(theta.shape), roundoff.reshape(theta.shape),
                    steps.reshape(theta.shape))


def gradient_tolerance(res: FDResult, grad, *, g_scale: float | None = None, safety: float = 32.0) -> np.ndarray:
    """tol_i = 2·truncation_i + round-off_i + κ·ε·(|g_i| + g_scale) (see the module docstring)."""
    g = np.asarray(grad, dtype=np.float64)
    gs = np.abs(g).max(initial=0.0) if g_scale is None else float(g_scale)
    return 2.0 * res.truncation + res.roundoff + safety * EPS * (np.abs(g) + gs)


def assert_gradient(f: Callable[[np.ndarray], float], theta, grad, *, name: str = "θ", step: float = DEFAULT_STEP,
                    f_scale: float | None = None, g_scale: float | None = None, safety: float = 32.0) -> FDResult:
    """Assert that ``grad`` is the gradient of ``f`` at ``theta`` within the error model of central differences.

    Raises AssertionError naming ``name``, the worst coordinate, the analytic and finite-difference values, the
    tolerance and its parts. Returns the :class:`FDResult` (e.g. to check that the test had power).
    """
    g = np.asarray(grad, dtype=np.float64)
    theta = np.asarray(theta, dtype=np.float64)
    if g.shape != theta.shape:
        raise AssertionError(f"{name}: gradient shape {g.shape} != parameter shape {theta.shape}")
    res = central_differences(f, theta, step=step, f_scale=f_scale, safety=safety)
    tol = gradient_tolerance(res, g, g_scale=g_scale, safety=safety)
    err = np.abs(g - res.fd)
    if not np.all(err <= tol):
        i = np.unravel_index(int(np.argmax(err - tol)), g.shape)
        raise AssertionError(
            f"{name}{list(i)}: analytic {g[i]:.17g} vs central difference {res.fd[i]:.17g}: |diff| {err[i]:.3g} > "
            f"tol {tol[i]:.3g} (truncation {res.truncation[i]:.3g}, round-off of f {res.roundoff[i]:.3g}, "
            f"step {res.steps[i]:.3g}); {int(np.sum(err > tol))} of {g.size} coordinates out of tolerance")
    return res
