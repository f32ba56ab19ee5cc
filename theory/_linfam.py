"""Model families shared by the linear-theory checks (thm39-*, lemma-a10, lemma-a7, appc-rescaling).

Not a check module (the leading underscore keeps it out of :func:`theory._registry.discover`). Everything here is
deterministic given its arguments; randomness comes in through explicit ``numpy.random.Generator`` arguments.

* :func:`hump_target` — ρ(t) = e^{−0.3t} − e^{−0.6t}/(1 + t): exponential memory (rate exactly 0.3) with a hump at
  t ≈ 1.4, not a finite sum of exponentials, so least-squares fits of growing width converge without being exact.
* :func:`chain_rnn` — the non-normal chain W = −I + γN (N the upper shift) whose memory is the truncated series of
  ρ(t) = a t e^{−μt}: α(W) = −1 for every width while the distance to instability r(W) → 0 (docs/math.md §9).
* :func:`destabilizer` — the smallest real perturbation of a Hurwitz W that makes it singular: −σ_min u vᵀ.
* :func:`similar` — the realisation (S W S⁻¹, S U, C S⁻¹) of the same input–output map.
"""

from __future__ import annotations

import numpy as np

import rnnmem as rm
from rnnmem import approx

#: rates of :func:`hump_target`
HUMP_RATE, HUMP_FAST = 0.3, 0.6


def hump_target() -> rm.targets.LinearFunctional:
    """ρ(t) = e^{−0.3t} − e^{−0.6t}/(1 + t): ρ(0) = 0, a hump, then e^{−0.3t} (exact decay rate 0.3).

    e^{−0.6t}/(1 + t) = ∫_{0.6}^∞ e^{−λt} e^{−(λ−0.6)} dλ is a continuum of exponential modes, so no finite
    exponential sum is exact and the least-squares fits of width m improve with m.
    """
    return rm.targets.LinearFunctional(
        "hump", lambda t, dt: np.exp(-HUMP_RATE * t) - np.exp(-HUMP_FAST * t) / (1.0 + t),
        {"rate": HUMP_RATE, "fast": HUMP_FAST})


def hump_fit_grid() -> np.ndarray:
    """Fit grid for :func:`hump_target`: every 0.25 up to t = 50, then 60 geometric points to t = 400."""
    return approx.fit_grid(window=50.0, horizon=400.0, n_tail=60, dt=0.25)


def continuous_rnn(rates: np.ndarray, weights: np.ndarray, *, dt: float = 0.05) -> rm.RNN:
    """The diagonal continuous-time realisation W = −diag(λ), U_i = √|c_i|, C_i = sign(c_i)√|c_i| (euler cell, Δt
    given; its memory in continuous time is Σ c_i e^{−λ_i t})."""
    u = np.sqrt(np.abs(weights))
    return rm.RNN(-np.diag(rates), u[:, None], np.zeros(rates.size), (np.sign(weights) * u)[None, :],
                  cell="euler", activation="linear", dt=dt)


def similar(rnn: rm.RNN, S: np.ndarray) -> rm.RNN:
    """(S W S⁻¹, S U, b, C S⁻¹): the same linear input–output map (exactly, in exact arithmetic)."""
    Si = np.linalg.inv(S)
    return rnn.replace(W=S @ rnn.W @ Si, U=S @ rnn.U, C=rnn.C @ Si)


def chain_rnn(m: int, *, gamma: float = 1.5, a: float = 0.5, mu: float = 0.5, dt: float = 0.1) -> rm.RNN:
    """Width-m chain realisation W = −I + γN, U = e_m, of the truncated series of ρ(t) = a t e^{−μt}.

    e^{Wt} e_m = e^{−t} Σ_k (γt)^k/k! e_{m−k} and a t e^{−μt} = e^{−t} Σ_{k≥1} a k (1−μ)^{k−1} t^k/k!, so
    C_{m−k} = a k (1−μ)^{k−1}/γ^k (k = 1..m−1) gives C e^{Wt} U = the first m terms. α(W) = −1 for every m, yet
    ‖(W − iω)⁻¹‖ grows like (γ/1)^m: r(W) → 0 (docs/math.md §9).
    """
    W = -np.eye(m) + gamma * np.eye(m, k=1)
    C = np.zeros(m)
    for k in range(1, m):
        C[m - 1 - k] = a * k * (1.0 - mu) ** (k - 1) / gamma ** k
    U = np.zeros((m, 1))
    U[-1, 0] = 1.0
    return rm.RNN(W, U, np.zeros(m), C[None, :], cell="euler", activation="linear", dt=dt)


def gamma_target(a: float = 0.5, mu: float = 0.5) -> rm.targets.LinearFunctional:
    """ρ(t) = a t e^{−μt}, the limit of :func:`chain_rnn` (exponential memory, rate μ)."""
    return rm.targets.LinearFunctional("gamma", lambda t, dt: a * t * np.exp(-mu * t), {"a": a, "mu": mu})


def destabilizer(W: np.ndarray) -> tuple[float, np.ndarray]:
    """(σ_min(W), D) with D = −u vᵀ (‖D‖₂ = 1) from the SVD W v = σ_min u: W + σ_min D is singular.

    For a Hurwitz W whose distance to instability r(W) = min_ω σ_min(W − iωI) is attained at ω = 0 (real W with
    the minimiser on the real axis), σ_min(W) = r(W) and D is the smallest real destabilising direction; in
    general σ_min(W) ≥ r(W).
    """
    Uu, s, Vt = np.linalg.svd(np.asarray(W, dtype=float))
    return float(s[-1]), -np.outer(Uu[:, -1], Vt[-1])


def impulse(T: int, dt: float = 1.0) -> np.ndarray:
    """x_0 = 1/Δt, else 0 (shape (1, T, 1)): y_k = Δt Σ_j ρ(jΔt) x_{k−j} = ρ(kΔt), the kernel itself."""
    x = np.zeros((1, T, 1))
    x[0, 0, 0] = 1.0 / dt
    return x


def blowup_of(betas: np.ndarray, errors: np.ndarray) -> tuple[float, float]:
    """The blow-up bracket (lo, hi] of an error curve on a β grid (rule of ``PerturbationCurve.blowup_bracket``)."""
    n = betas.size
    curve = rm.PerturbationCurve(betas=np.asarray(betas, float), errors=np.asarray(errors, float),
                                 sample_errors=np.zeros((n, 0)), worst_errors=np.zeros((n, 0)),
                                 nominal=float(errors[0]))
    return curve.blowup_bracket()


def errors_along(model: rm.RNN, target, W0: np.ndarray, D: np.ndarray, betas: np.ndarray, x: np.ndarray,
                 steps=None) -> np.ndarray:
    """Sup error of the models with W = W0 + βD, β on the grid (same error code as ``rm.perturbation_error``)."""
    return np.array([rm.perturbation_error(model.replace(W=W0 + b * D), target, [0.0], x=x, samples=0,
                                           worst_case=False, steps=steps).nominal for b in betas])
