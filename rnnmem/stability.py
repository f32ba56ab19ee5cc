"""Stable approximation (docs/math.md §4, [P1] §3.2): perturbation error, stability radius and linear diagnostics.

* :func:`perturbation_error` — the perturbation error E_m(β) of [P1] Definition 3.4,

      E_m(β) = sup_{θ̃ : |θ̃ − θ_m|₂ ≤ β} ‖H − Ĥ(·; θ̃)‖,     |θ|₂ = max(‖W‖₂, ‖U‖₂, |b|₂, ‖C‖₂),

  every parameter block perturbed at once inside its own β-ball, the sup estimated by sampled directions plus
  deterministic worst cases; returns a :class:`PerturbationCurve` whose :meth:`~PerturbationCurve.stability_radius`
  reads off where the curve blows up (the stability radius β₀ of [P1] Definition 3.5, "in figures, the β where E_m
  blows up").
* :func:`spectral_abscissa` α(W) = max Re λ(W), :func:`spectral_radius` max |λ(A)|.
* :func:`state_jacobian` — the state-transition Jacobian ∂s_k/∂s_{k−1} of any model at a state (default: the zero
  state and input), the matrix the discrete diagnostics apply to (``spectral_radius``,
  ``distance_to_instability(..., cell="elman")``).
* :func:`distance_to_instability` — continuous r(W) = min_ω σ_min(W − iωI) (Byers' bisection on the eigenvalues of
  a Hamiltonian matrix) and discrete r_d(A) = min_θ σ_min(A − e^{iθ}I) (the same bisection on a symplectic pencil).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnmem._deprecation_b import MISSING, deprecated_kwarg, no_extra_kwargs
from rnnmem._validate import (
    NonFiniteError,
    as_array,
    as_rng,
    check_bool,
    check_choice,
    check_int,
    check_names,
    check_positive,
    check_real,
    check_size,
)
from rnnmem.rnn import CELLS, simulate_stack

__all__ = [
    "PerturbationCurve",
    "perturbation_error",
    "spectral_abscissa",
    "spectral_radius",
    "state_jacobian",
    "distance_to_instability",
    "ERRORS",
    "NORMS",
]

#: error norms of :func:`perturbation_error`
ERRORS = ("sup", "mse", "weighted_mse", "w1")
#: how a perturbation's size is measured (per block)
NORMS = ("spectral", "max_entry")
#: the largest number of sampled perturbations per β (a bound on absurd requests, refused before any work)
MAX_SAMPLES = 100_000


# ----------------------------------------------------------------------------------------------- linear diagnostics
def _is_model(obj: Any) -> bool:
    if isinstance(obj, (np.ndarray, list, tuple, str, bytes, int, float, complex)) or obj is None:
        return False
    return any(callable(getattr(obj, a, None)) for a in ("to_rnn", "jacobian", "params")) or hasattr(obj, "W")


def _square(W: Any, name: str, func: str = "") -> np.ndarray:
    if _is_model(W):
        raise TypeError(f"{name} must be a square matrix, got a {type(W).__name__} model; pass the model to "
                        f"{func or 'the function'} directly where it accepts one, or its matrix ({name}=model.W)")
    W = as_array(W, name, ndim=2)
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"{name} must be a square (m, m) matrix, got shape {W.shape}")
    return W


def _eigvals_scaled(M: np.ndarray) -> tuple[np.ndarray, float]:
    """Eigenvalues of M / s and the scale s = max |M_ij| (so entries near the float64 limit do not overflow inside
    LAPACK); the caller multiplies back and checks that the product is finite."""
    s = float(np.max(np.abs(M))) if M.size else 0.0
    if s == 0.0 or (1e-150 < s < 1e150):
        return np.linalg.eigvals(M), 1.0
    return np.linalg.eigvals(M / s), s


def _finite_value(v: float, what: str, hint: str) -> float:
    if not math.isfinite(v):
        raise NonFiniteError(f"{what} is not finite ({v}); {hint}")
    return v


def _recurrent_matrix(model, func: str) -> np.ndarray:
    """The recurrent matrix W of a model (its effective RNN's), or a TypeError that says what to pass instead."""
    rnn = model.to_rnn() if callable(getattr(model, "to_rnn", None)) else model
    W = getattr(rnn, "W", None)
    if W is None or np.ndim(W) != 2:
        raise TypeError(f"{func}() needs a matrix W or a model with a recurrent matrix W; {type(model).__name__} has "
                        f"none: use {func}(rnnmem.stability.state_jacobian(model)) or spectral_radius(model)")
    return np.asarray(W, dtype=float)


def spectral_abscissa(W) -> float:
    """Spectral abscissa α(W) = max_i Re λ_i(W) (docs/math.md §4).

    The continuous-time linear system dh/dt = W h is asymptotically stable (W Hurwitz) iff α(W) < 0; −α(W) is the
    slowest decay rate of its modes. [P1] Theorem 3.9's mechanism: β₀-stability forces sup_m α(W_m) ≤ −β₀.

    Parameters
    ----------
    W : array (m, m), or a model
        A model (:class:`rnnmem.RNN`, a reparameterised RNN, any model with ``to_rnn()`` or a field ``W``) gives
        α of its recurrent matrix W — the continuous-time system matrix of the ``euler`` cell; for the ``elman``
        cell the stability margin is :func:`spectral_radius`.

    Returns
    -------
    float

    Raises
    ------
    NonFiniteError
        When α(W) is beyond the float64 range (entries near 1e308).

    Examples
    --------
    >>> import rnnmem as rm
    >>> rm.spectral_abscissa([[-1.0, 10.0], [0.0, -2.0]])
    -1.0
    """
    if _is_model(W):
        W = _recurrent_matrix(W, "spectral_abscissa")
    W = _square(W, "W", "spectral_abscissa")
    with np.errstate(all="ignore"):
        lam, s = _eigvals_scaled(W)
        v = float(np.max(lam.real)) * s
    return _finite_value(v, "spectral_abscissa(W)", "the entries of W are too large for float64")


def spectral_radius(A) -> float:
    """Spectral radius ρ(A) = max_i |λ_i(A)|: the discrete-time system h_{k+1} = A h_k is stable iff ρ(A) < 1.

    For the ``elman`` cell A = W; for the ``euler`` cell A = I + Δt W (docs/math.md §1).

    Parameters
    ----------
    A : array (m, m), or a model
        A model gives ρ of its state-transition Jacobian at the zero state and input (:func:`state_jacobian`):
        W (elman) or I + ΔtW (euler) for a linear or tanh RNN without bias, the stacked Jacobian of a GRU/LSTM/
        StackedRNN, diag(λ) of a diagonal SSM.

    Raises
    ------
    NonFiniteError
        When ρ(A) is beyond the float64 range.

    Examples
    --------
    >>> import numpy as np, rnnmem as rm
    >>> round(rm.spectral_radius(np.array([[0.0, 2.0], [-2.0, 0.0]])), 12)
    2.0
    """
    if _is_model(A):
        A = state_jacobian(A)
    A = _square(A, "A", "spectral_radius")
    with np.errstate(all="ignore"):
        lam, s = _eigvals_scaled(A)
        v = float(np.max(np.abs(lam))) * s
    return _finite_value(v, "spectral_radius(A)", "the entries of A are too large for float64")


def state_jacobian(model, h=None, x=None) -> np.ndarray:
    """The state-transition Jacobian J = ∂s_k/∂s_{k−1} of a model at state ``h`` and input ``x`` (default zero).

    * :class:`rnnmem.RNN`: elman J = diag(σ'(z)) W, euler J = I + Δt diag(σ'(z)) W, z = W h + U x + b (at h = 0,
      x = 0, b = 0 and tanh: W, resp. I + ΔtW).
    * :class:`rnnmem.StackedRNN`/:class:`rnnmem.GRU`/:class:`rnnmem.LSTM`: ``model.jacobian(h, x)`` over the stacked
      state of all layers (LSTM: h and c).
    * :class:`rnnmem.DiagonalSSM` (S4D, LRU): the real form [[Re Λ, −Im Λ], [Im Λ, Re Λ]] of Λ = diag(λ).

    The discrete-time recurrence is locally stable at a fixed point iff ``spectral_radius(J) < 1``;
    ``distance_to_instability(J, cell="elman")`` is the smallest perturbation of J that breaks this.

    Examples
    --------
    >>> import rnnmem as rm
    >>> net = rm.GRU.random(8, layers=2, rng=0)
    >>> bool(rm.spectral_radius(rm.stability.state_jacobian(net)) < 1)
    True
    """
    from rnnmem.rnn import RNN

    rnn = model.to_rnn() if (not isinstance(model, RNN) and callable(getattr(model, "to_rnn", None))) else model
    if isinstance(rnn, RNN):
        from rnnmem._kernels import ACTIVATIONS, activate

        m = rnn.hidden
        hv = np.zeros(m) if h is None else as_array(h, "h", shape=(m,))
        xv = np.zeros(rnn.inputs) if x is None else as_array(x, "x", shape=(rnn.inputs,))
        with np.errstate(all="ignore"):
            z = rnn.W @ hv + rnn.U @ xv + rnn.b
        if not np.isfinite(z).all():
            raise NonFiniteError("state_jacobian(): the pre-activation W h + U x + b overflows float64; use smaller "
                                 "h or x")
        ds = np.array([activate(float(zi), ACTIVATIONS[rnn.activation])[1] for zi in z])
        J = ds[:, None] * rnn.W
        return J if rnn.cell == "elman" else np.eye(m) + rnn.dt * J
    jac = getattr(model, "jacobian", None)
    if not callable(jac):
        hint = " (a matrix is already its own Jacobian)" if isinstance(model, (np.ndarray, list)) else ""
        raise TypeError(f"state_jacobian needs an rnnmem model (RNN, StackedRNN, GRU, LSTM, DiagonalSSM, ...); got "
                        f"{type(model).__name__}{hint}")
    return jac(h, x)


def _smin(M: np.ndarray) -> float:
    return float(np.linalg.svd(M, compute_uv=False)[-1])


_KINDS = {"continuous": "euler", "discrete": "elman"}


def _cell_matrix(model, cell, func: str) -> tuple[np.ndarray, bool]:
    """The matrix whose distance to instability a model has, and whether it is the continuous notion.

    RNN-like (``to_rnn()``/``cell``): the linearisation at the zero state; elman → the discrete distance of
    J = :func:`state_jacobian`, euler → the continuous distance of diag(σ'(b)) W = (J − I)/Δt (= W for a linear or
    bias-free tanh RNN).
    Other models (GRU, LSTM, SSMs) → the discrete distance of their state Jacobian.
    """
    rnn = model.to_rnn() if callable(getattr(model, "to_rnn", None)) else model
    own = getattr(rnn, "cell", None)
    if own is None:
        if cell not in (None, "elman"):
            raise ValueError(f"{func}(): cell={cell!r} but a {type(model).__name__} is a discrete-time model; omit "
                             "cell= (its own state Jacobian is used, discrete notion)")
        return state_jacobian(model), False
    if cell is not None and cell != own:
        raise ValueError(f"{func}(): cell={cell!r} differs from the model's own cell {own!r}; a model is analysed with "
                         f"its own cell (omit cell=, or pass a matrix: {func}(model.W, cell={cell!r}))")
    if own == "elman":
        return state_jacobian(rnn), False
    return _continuous_jacobian(rnn), True


def _continuous_jacobian(rnn) -> np.ndarray:
    """diag(σ'(b)) W: the Jacobian of the continuous-time RNN dh/dt = σ(Wh + Ux + b) at h = 0, x = 0 (= W for a
    linear or bias-free tanh RNN); the euler cell's state Jacobian is I + Δt times it."""
    from rnnmem._kernels import ACTIVATIONS, activate

    ds = np.array([activate(float(zi), ACTIVATIONS[rnn.activation])[1] for zi in rnn.b])
    return ds[:, None] * rnn.W


def distance_to_instability(W, *, cell: str | None = None, tol: float = 1e-10, return_argmin: bool = False,
                            **deprecated):
    """Distance to instability of a stable matrix (docs/math.md §4): the 2-norm of the smallest perturbation that
    makes it unstable.

    continuous (``cell="euler"``):  r(W) = min_{ω ∈ ℝ} σ_min(W − iωI)   (W Hurwitz; 0 if α(W) ≥ 0)
    discrete (``cell="elman"``):    r_d(A) = min_{θ ∈ [0, 2π)} σ_min(A − e^{iθ}I)   (ρ(A) < 1; 0 if ρ(A) ≥ 1)

    For normal W, r(W) = −α(W) (r_d(A) = 1 − ρ(A)); for non-normal W it can be much smaller: e.g.
    W = [[−1, 10], [0, −1]] has α = −1 but r ≈ 0.0990 (``cell="euler"``).

    Parameters
    ----------
    W : array (m, m), or a model
        A model is analysed with its own cell: an ``elman`` RNN by the discrete distance of its transition matrix
        (W for a linear or bias-free tanh RNN; in general its state Jacobian at the zero state), an ``euler`` RNN by
        the continuous distance of W (diag(σ'(b)) W in general); a GRU, LSTM, StackedRNN or diagonal SSM by the
        discrete distance of :func:`state_jacobian`. A bare matrix is read with ``cell`` (default ``"elman"``,
        the default cell of :class:`rnnmem.RNN`: the discrete notion, A = W).
    cell : {"elman", "euler"}, optional
        The notion for a bare matrix: ``"elman"`` → discrete, ``"euler"`` → continuous (of the continuous-time W).
        Given with a model, it must be the model's own. (The old ``kind="discrete"|"continuous"`` still works for
        one release, with a DeprecationWarning.)
    tol : float
        Relative tolerance of the result: the method stops when the bracket [lo, hi] known to contain r satisfies
        hi − lo ≤ tol · hi (in rare near-tangent cases it stops once the level bracket closes, and the attained
        ``hi`` is then within 1e-6 relative of r).
    return_argmin : bool
        Also return the frequency ω (continuous) or angle θ (discrete) at which ``hi`` was attained.

    Returns
    -------
    r : float
        ``hi``, a value σ_min(W − iωI) actually attained at some ω (so, up to the rounding of one SVD, never below
        the true distance), within relative ``tol`` of the true minimum.
    arg : float, optional
        The minimising ω or θ.

    Notes
    -----
    Byers' bisection (R. Byers, SIAM J. Sci. Stat. Comput. 9, 1988): for γ > 0, γ is a singular value of W − iωI
    iff iω is an eigenvalue of the Hamiltonian matrix H(γ) = [[W, −γI], [γI, −Wᵀ]]. So r ≤ γ iff H(γ) has an
    eigenvalue on the imaginary axis. Each step bisects [lo, hi] at γ: if H(γ) has (numerically) imaginary
    eigenvalues iω_j, σ_min(W − iω_j I) is evaluated there and at the midpoints between consecutive ω_j (the
    Boyd–Balakrishnan step, which makes convergence fast) and every evaluated value lowers ``hi``; a candidate
    counts only when the evaluated σ_min confirms it (≤ γ(1 + 1e-6)). Otherwise lo = γ. The start bracket is
    lo = 0, hi = min over ω ∈ {0} ∪ {Im λ(W)} of σ_min(W − iωI) (≤ −α(W)).
    Discrete: the same with the symplectic pencil [[A, −γI], [0, I]] − z [[I, 0], [−γI, Aᵀ]], whose eigenvalues
    on the unit circle z = e^{iθ} are the θ where γ is a singular value of A − e^{iθ}I.

    Examples
    --------
    >>> import rnnmem as rm
    >>> round(rm.distance_to_instability([[-1.0, 10.0], [0.0, -1.0]], cell="euler"), 4)
    0.099
    >>> rnn = rm.RNN.random(8, rng=0)          # elman: the discrete distance of W
    >>> rm.distance_to_instability(rnn) == rm.distance_to_instability(rnn.W, cell="elman")
    True
    """
    kind = deprecated_kwarg(deprecated, "kind", "cell")
    no_extra_kwargs(deprecated, "distance_to_instability")
    if kind is not MISSING:
        kind = check_choice(kind, "kind", tuple(_KINDS))
        if cell is not None and cell != _KINDS[kind]:
            raise ValueError(f"distance_to_instability(): kind={kind!r} (deprecated) contradicts cell={cell!r}; pass "
                             "cell only")
        cell = _KINDS[kind]
    if cell is not None:
        cell = check_choice(cell, "cell", CELLS)
    tol = check_real(tol, "tol", minimum=0.0, maximum=1.0, strict_minimum=True, strict_maximum=True)
    return_argmin = check_bool(return_argmin, "return_argmin")
    if _is_model(W):
        M, continuous = _cell_matrix(W, cell, "distance_to_instability")
    else:
        M, continuous = _square(W, "W", "distance_to_instability"), cell == "euler"
    r, arg = _distance(M, continuous, tol)
    return (r, arg) if return_argmin else r


def _distance(W: np.ndarray, continuous: bool, tol: float) -> tuple[float, float]:
    """(r, argmin) of Byers' bisection (see :func:`distance_to_instability`) on a validated square matrix."""
    import scipy.linalg as sla

    m = W.shape[0]
    eye = np.eye(m)
    scale = 1.0
    if continuous:
        s = float(np.max(np.abs(W)))
        if s > 1e150 or 0.0 < s < 1e-150:  # r(sW) = s r(W): bisect on a matrix of moderate size
            scale, W = s, W / s
    with np.errstate(all="ignore"):
        lam = np.linalg.eigvals(W)
    if not np.isfinite(lam).all():
        raise NonFiniteError("distance_to_instability(): the eigenvalues of W are not finite; its entries are too "
                             "large for float64")
    if continuous:
        if np.max(lam.real) >= 0:
            return 0.0, 0.0

        def smin(w):
            return _smin(W - 1j * w * eye)

        def candidates(g):
            H = np.block([[W, -g * eye], [g * eye, -W.T]])
            mu = np.linalg.eigvals(H)
            sc = np.linalg.norm(H, 1)
            return np.unique(np.round(mu[np.abs(mu.real) <= 1e-6 * sc].imag, 14))

        start = np.unique(np.concatenate([[0.0], np.abs(lam.imag)]))
    else:
        if np.max(np.abs(lam)) >= 1:
            return 0.0, 0.0

        def smin(th):
            return _smin(W - np.exp(1j * th) * eye)

        def candidates(g):
            Z = np.zeros((m, m))
            M = np.block([[W, -g * eye], [Z, eye]])
            N = np.block([[eye, Z], [-g * eye, W.T]])
            z = sla.eigvals(M, N)
            z = z[np.isfinite(z)]
            return np.unique(np.round(np.angle(z[np.abs(np.abs(z) - 1.0) <= 1e-6]), 14))

        start = np.unique(np.concatenate([[0.0, np.pi], np.abs(np.angle(lam))]))

    vals = [smin(w) for w in start]
    j = int(np.argmin(vals))
    hi, arg, lo = vals[j], float(start[j]), 0.0
    ub = hi  # upper bound of r: attained values and confirmed levels
    for _ in range(200):
        if hi - lo <= tol * hi or hi == 0.0:
            break
        g = 0.5 * (lo + min(hi, ub))
        ws = candidates(g)
        confirmed = False
        if ws.size:
            ws = np.sort(ws)
            trial = np.concatenate([ws, 0.5 * (ws[1:] + ws[:-1])])
            tv = np.array([smin(w) for w in trial])
            confirmed = bool(np.min(tv[: ws.size]) <= g * (1 + 1e-6))
            k = int(np.argmin(tv))
            if tv[k] < hi:
                hi, arg = float(tv[k]), float(trial[k])
        if confirmed:
            ub = min(ub, g, hi)
        else:
            lo = g
        if ub - lo <= 0.5 * tol * ub and hi - lo > tol * hi:
            # the level bracket [lo, ub] closed before an attained value got that close: hi is within the
            # confirmation slack (1e-6 relative) of r — stop rather than loop
            break
    return hi * scale, arg * scale


def _destabilizer(A: np.ndarray, *, continuous: bool = False) -> tuple[float, np.ndarray, float]:
    """(r, D, arg): the distance to instability r of A, a real direction D (‖D‖₂ = 1) and the minimiser arg.

    At the minimising θ (ω) of :func:`distance_to_instability`, the SVD (A − zI) v = σ_min u (z = e^{iθ}, resp. iω)
    gives the smallest perturbation −σ_min u v^H that puts an eigenvalue of A on the stability boundary. When the
    minimiser is real (θ ∈ {0, π}, ω = 0) u, v are real and D = −u vᵀ is exactly that perturbation's direction
    (A + rD is on the boundary); otherwise D is the real part of −u v^H, normalised (a heuristic direction: the
    complex minimiser is not a real matrix).
    """
    r, arg = _distance(A, continuous, 1e-10)
    z = 1j * arg if continuous else np.exp(1j * arg)
    Uu, _, Vh = np.linalg.svd(A - z * np.eye(A.shape[0]))
    D = -np.real(np.outer(Uu[:, -1], Vh[-1]))
    nrm = np.linalg.norm(D, 2)
    if not nrm > 0:  # purely imaginary product: take the imaginary part instead
        D = -np.imag(np.outer(Uu[:, -1], Vh[-1]))
        nrm = np.linalg.norm(D, 2)
    return r, (D / nrm if nrm > 0 else D), arg


# ------------------------------------------------------------------------------------------ perturbation error
@dataclass
class PerturbationCurve:
    """Perturbation errors E(β) on a grid of β ([P1] Definition 3.4), as returned by :func:`perturbation_error`.

    Attributes
    ----------
    betas : ndarray (n,)
        The perturbation sizes, increasing (β = 0 allowed: the unperturbed model).
    errors : ndarray (n,)
        E(β): the largest error over all perturbed models of that β (``inf`` when one exploded). With
        ``running_max`` it is the running maximum over β (the Curse-of-memory repository's convention).
    sample_errors : ndarray (n, samples)
        Errors of the random perturbations (at β = 0 every column holds the unperturbed error).
    worst_errors : ndarray (n, k)
        Errors of the k deterministic worst-case perturbations (k = 0 when none applied).
    nominal : float
        Error of the unperturbed model.
    error, norm : str
        The error norm and the perturbation norm used.
    """

    betas: np.ndarray
    errors: np.ndarray
    sample_errors: np.ndarray
    worst_errors: np.ndarray
    nominal: float
    error: str = "sup"
    norm: str = "spectral"
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        betas = as_array(self.betas, "betas", ndim=1)
        if np.any(betas < 0):
            raise ValueError(f"betas must be >= 0, got minimum {betas.min()}")
        n = betas.size
        errors = as_array(self.errors, "errors", ndim=1, finite=False)
        samp = as_array(self.sample_errors, "sample_errors", ndim=2, finite=False, allow_empty=True)
        worst = as_array(self.worst_errors, "worst_errors", ndim=2, finite=False, allow_empty=True)
        for name, a in (("errors", errors), ("sample_errors", samp), ("worst_errors", worst)):
            if a.shape[0] != n:
                raise ValueError(f"{name} has {a.shape[0]} rows but betas has {n} entries: one row per β")
        for name, a in (("errors", errors), ("sample_errors", samp), ("worst_errors", worst)):
            if np.isnan(a).any() or np.any(a < 0):
                raise ValueError(f"{name} must hold errors >= 0 or +inf (an exploded perturbation), got NaN or a "
                                 "negative value")
        nominal = check_real(self.nominal, "nominal", minimum=0.0, finite=False)
        check_choice(self.error, "error", ERRORS)
        check_choice(self.norm, "norm", NORMS)
        if not isinstance(self.info, dict):
            raise TypeError(f"info must be a dict, got {type(self.info).__name__}")
        for name, v in (("betas", betas), ("errors", errors), ("sample_errors", samp), ("worst_errors", worst),
                        ("nominal", nominal)):
            object.__setattr__(self, name, v)

    def blowup_bracket(self, *, max_slope: float = 4.0, limit: float | None = None) -> tuple[float, float]:
        """The grid interval (lo, hi] in which E(β) blows up (rule of :meth:`stability_radius`).

        Returns ``(lo, hi)``: E is controlled on every grid β ≤ lo and blows up at hi; ``hi = inf`` when it never
        blows up on the grid (then ``lo`` is the largest β).
        """
        max_slope = check_positive(max_slope, "max_slope")
        if limit is not None:
            limit = check_positive(limit, "limit")
        b, e = self.betas, self.errors
        prev = None
        for i in range(b.size):
            bad = not np.isfinite(e[i]) or (limit is not None and e[i] > limit)
            if not bad and prev is not None and b[prev] > 0 and e[prev] > 0 and e[i] > 0:
                slope = math.log(e[i] / e[prev]) / math.log(b[i] / b[prev])
                bad = slope > max_slope
            if bad:
                return (float(b[i - 1]) if i > 0 else 0.0, float(b[i]))
            prev = i
        return float(b[-1]), math.inf

    def stability_radius(self, *, max_slope: float = 4.0, limit: float | None = None) -> float:
        """Estimated stability radius: the largest grid β below the first blow-up of E(β).

        Rule (documented, applied left to right over the increasing grid): E *blows up* at β_i when
        (a) E(β_i) is not finite (a perturbed model exploded), or
        (b) ``limit`` is given and E(β_i) > limit, or
        (c) the log–log slope between consecutive positive grid points exceeds ``max_slope``:
            log(E(β_i)/E(β_{i−1})) / log(β_i/β_{i−1}) > max_slope.
        A stable perturbation changes E at most linearly in β (slope ≤ 1 once β dominates; random sampling adds
        a factor ~2), while crossing the stability boundary makes the error grow exponentially in time, so on a
        doubling grid it multiplies by far more than 2^4 = 16. The radius is the grid point just before the first
        blow-up (a lower estimate: the true blow-up lies in :meth:`blowup_bracket`); if E never blows up on the
        grid, the largest β is returned (the radius is at least that).

        Parameters
        ----------
        max_slope : float
            Slope threshold of rule (c).
        limit : float, optional
            Absolute error threshold of rule (b).
        """
        return self.blowup_bracket(max_slope=max_slope, limit=limit)[0]

    def __repr__(self) -> str:
        return (f"PerturbationCurve(n={self.betas.size}, error={self.error!r}, norm={self.norm!r}, "
                f"E(0)={self.nominal:.3g}, radius≈{self.stability_radius():.3g})")


def _errors(yhat: np.ndarray, y: np.ndarray, kind: str, power: float, dt: float) -> np.ndarray:
    """Per-model errors of stacked outputs yhat (S, B, T, p) against y (B, T, p); non-finite -> inf."""
    with np.errstate(all="ignore"):
        r = yhat - y[None]
        T = y.shape[1]
        if kind == "sup":
            e = np.max(np.abs(r), axis=(1, 2, 3))
        elif kind == "mse":
            e = np.mean(r * r, axis=(1, 2, 3))
        elif kind == "weighted_mse":
            w = ((np.arange(T) + 1.0) / (T + 1.0)) ** power
            e = np.mean(w[None, None, :, None] * r * r, axis=(1, 2, 3))
        else:  # w1: sup_t (|e_t|_inf + |e_t - e_{t-1}|_inf / dt), per sequence, then max over the batch
            a = np.max(np.abs(r), axis=3)
            d = np.abs(np.diff(r, axis=2, prepend=0.0)).max(axis=3) / dt
            e = np.max(a + d, axis=(1, 2))
        bad = ~np.isfinite(r).all(axis=(1, 2, 3)) | ~np.isfinite(e)
    e = np.asarray(e, dtype=float)
    e[bad] = np.inf
    return e


def _accepts_dt(fn: Callable) -> bool:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return False
    return "dt" in sig.parameters or any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())


def _accepts_check_finite(fn: Callable) -> bool:
    try:
        return "check_finite" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _direction(gen: np.random.Generator, block: np.ndarray) -> np.ndarray:
    """A Gaussian direction of the block's shape (complex blocks: independent real and imaginary parts)."""
    if np.iscomplexobj(block):
        return gen.standard_normal(block.shape) + 1j * gen.standard_normal(block.shape)
    return gen.standard_normal(block.shape)


def _scaled(G: np.ndarray, beta: float, norm: str) -> np.ndarray:
    if norm == "max_entry":
        s = np.max(np.abs(G))
    elif G.ndim == 2:
        s = np.linalg.norm(G, 2)
    else:
        s = np.linalg.norm(G.ravel())
    return G * (beta / s) if s > 0 else G


def _betas(betas) -> np.ndarray:
    if isinstance(betas, (str, bytes)):
        raise TypeError(f"betas must be a sequence of real numbers β >= 0, got the string {betas!r}")
    if not isinstance(betas, np.ndarray) and not np.isscalar(betas):
        try:
            betas = list(betas)
        except TypeError:
            raise TypeError(f"betas must be a sequence of real numbers β >= 0, got {type(betas).__name__}") from None
    try:
        kind = np.asarray(betas).dtype.kind
    except (ValueError, TypeError):
        kind = "O"
    if kind == "b":
        raise TypeError(f"betas must be real numbers β >= 0, got booleans {betas!r}")
    bet = np.atleast_1d(as_array(betas, "betas", ndim=(0, 1)))
    check_size("perturbation_error: betas", bet.size, limit=8 << 20)
    if np.any(bet < 0):
        raise ValueError(f"betas must be >= 0, got minimum {bet.min()}")
    return np.sort(bet)


def _steps(steps, T: int) -> np.ndarray:
    """The selected time indices: None (all), a slice, or integer indices in [-T, T)."""
    idx = np.arange(T)
    if steps is None:
        return idx
    if isinstance(steps, slice):
        try:
            sel = idx[steps]
        except (TypeError, ValueError) as exc:
            raise TypeError(f"steps must be a slice of integers or integer time indices, got {steps!r} ({exc})") \
                from None
    else:
        if isinstance(steps, (str, bytes, bool, np.bool_)):
            raise TypeError(f"steps must be a slice or integer time indices, got {type(steps).__name__} {steps!r}")
        try:
            arr = np.asarray(steps)
        except (ValueError, TypeError):
            raise TypeError(f"steps must be a slice or integer time indices, got {type(steps).__name__}") from None
        if arr.dtype.kind not in "iu":
            raise TypeError(f"steps must be a slice or integer time indices (e.g. slice(1, None) or [0, 5, 9]), got "
                            f"{type(steps).__name__} of dtype {arr.dtype}")
        arr = np.atleast_1d(arr)
        if arr.ndim != 1:
            raise ValueError(f"steps must be a 1-D sequence of time indices, got shape {arr.shape}")
        bad = arr[(arr < -T) | (arr >= T)]
        if bad.size:
            raise ValueError(f"steps holds the time index {int(bad[0])}, outside the T = {T} time steps of x "
                             f"(valid: {-T}..{T - 1})")
        sel = idx[arr]
    if sel.size == 0:
        raise ValueError(f"steps={steps!r} selects no time step of the T = {T} steps of x")
    return sel


def _build(model, new: dict):
    """``model.replace(**new)``, or None when the perturbed parameters cannot make a model (a reparameterisation
    whose weight map overflows at them: the perturbation explodes, its error is ∞)."""
    try:
        with np.errstate(all="ignore"):
            out = model.replace(**new)
            if callable(getattr(out, "to_rnn", None)):
                out.to_rnn()
        return out
    except ValueError:
        return None


def perturbation_error(
    model,
    target,
    betas: Iterable[float],
    *,
    samples: int = 10,
    x=None,
    norm: str = "spectral",
    error: str = "sup",
    rng=None,
    worst_case: bool = True,
    blocks: Sequence[str] | None = None,
    running_max: bool = False,
    power: float = 2.0,
    steps=None,
    T: int = 100,
    batch: int = 16,
) -> PerturbationCurve:
    """Perturbation error E_m(β) of [P1] Definition 3.4 (docs/math.md §4) on a grid of β.

        E(β) = max_{θ̃ ∈ Θ_β} ‖H(x) − Ĥ(x; θ̃)‖,   Θ_β = {θ̃ : ‖θ̃_k − θ_k‖ = β for every block k}

    where Θ_β holds ``samples`` random perturbations — every block of ``model.params()`` perturbed at once, each by
    a Gaussian direction scaled to norm exactly β (spectral norm ‖·‖₂ for 2-D blocks, Euclidean for 1-D; with
    ``norm="max_entry"`` max_ij |Δ_ij| = β) — plus deterministic worst cases (below). The sampled sup alone is a
    lower estimate of the true sup over the ball that can miss the destabilising direction of a non-normal W
    entirely (random directions rarely find it); the worst cases include that direction. For RNN-like models (with
    ``to_rnn()``) all perturbed models of one β run in one batched, jitted pass (:func:`rnnmem.rnn.simulate_stack`);
    other models are called one by one.

    Parameters
    ----------
    model : object with ``params() -> dict`` and ``replace(**blocks)``, and ``to_rnn() -> RNN`` or callable
        An :class:`rnnmem.RNN` or a reparameterised model (its blocks are perturbed, ``to_rnn()`` is evaluated), or
        any model of the protocol: :class:`rnnmem.StackedRNN`, :class:`rnnmem.GRU`, :class:`rnnmem.LSTM` (torch's
        blocks ``weight_hh_l0``, ...), :class:`rnnmem.DiagonalSSM`, :class:`~rnnmem.ssm.S4D`, :class:`~rnnmem.ssm.LRU`
        (complex blocks get complex Gaussian directions, ‖Δ‖ as for real ones).
    target : callable or array
        The sequence relationship H: a callable on inputs (``target(x, dt=...)`` when it accepts ``dt``, e.g. an
        ``rnnmem.targets`` functional, with ``dt`` the model's; otherwise ``target(x)``), or the precomputed outputs
        y (B, T, p) of ``x``.
    betas : sequence of float
        Perturbation sizes β ≥ 0 (sorted increasingly in the result; β = 0 is the unperturbed model).
    samples : int
        Random perturbations per β > 0 (at most 100 000).
    x : array (B, T, d), optional
        Inputs. Default: i.i.d. N(0, 1) of shape (``batch``, ``T``, d) drawn from ``rng``. Required when ``target``
        is an array.
    norm : {"spectral", "max_entry"}
        Size of a block perturbation: "spectral" (paper: ‖ΔW‖₂ = β, |Δb|₂ = β) or "max_entry" (the
        Curse-of-memory repository: Gaussian noise scaled to max-entry β per tensor).
    error : {"sup", "mse", "weighted_mse", "w1"}
        ‖H − Ĥ‖ over the inputs and time steps: "sup" = max_{b,k,i} |ŷ − y|; "mse" = mean (ŷ − y)²;
        "weighted_mse" = mean w_k (ŷ − y)², w_k = ((k+1)/(T+1))^power (repository); "w1" = max_b sup_k
        (|e_k|_∞ + |e_k − e_{k−1}|_∞ / Δt), e = ŷ − y, e_{−1} = 0 (the W¹ norm of [P1] Definition 3.7 on the grid).
    rng : None, int or numpy.random.Generator
    worst_case : bool
        Add deterministic worst cases when the model has a square block named ``"W"``: (i) W + βI (every
        eigenvalue moves right by β — the direction that crosses the stability boundary at β = −α(W) for normal
        W), other blocks unchanged; (ii) W + βI with every other block B ↦ B + β B/‖B‖ (largest gain; a
        zero block stays zero); (iii) W + βD, D the direction of the smallest destabilising perturbation of the
        model's transition matrix A (A = W for the elman cell, I + ΔtW for euler): at the minimiser θ* of the
        discrete distance to instability r_d(A) = min_θ σ_min(A − e^{iθ}I), D = −u vᵀ from the SVD
        (A − e^{iθ*}I) v = σ_min u, scaled to ‖D‖ = 1 in the block norm (the real part of −u v^H when θ* ∉ {0, π}).
        For θ* ∈ {0, π} it destabilises at β = r_d(A) (elman) resp. r_d(I + ΔtW)/Δt (euler; → the continuous
        distance r(W) as Δt → 0), the exact stability radius of the W block, where (i) needs β = −α(W) ≥ r(W)
        (docs/math.md §4). For a model with a complex block ``"lam"`` (a DiagonalSSM): the eigenvalue of largest
        modulus moved radially outwards by β (crossing |λ| = 1 at β = 1 − max|λ|). The torch-layout models have
        no square recurrent block: sampled directions only.
    blocks : sequence of str, optional
        Names of the blocks to perturb (default: all of ``model.params()``); e.g. ``("W", "U", "C")`` to leave a
        zero bias alone. A single string is refused (write ``("W",)``), never split into letters.
    running_max : bool
        Report the running maximum of E over β (repository convention; use with ``norm="max_entry"``,
        ``worst_case=False``, ``error="weighted_mse"`` to mimic its figures).
    power : float
        Exponent (>= 0) of the "weighted_mse" time weights.
    steps : slice or int array, optional
        Time steps entering the error (default all), e.g. ``slice(1, None)`` for t ∈ {1, …, T−1}; integer indices
        must lie in [−T, T).
    T, batch : int
        Shape of the default inputs.

    Returns
    -------
    PerturbationCurve
        ``betas``, ``errors`` and ``stability_radius()``. A perturbed model that explodes (non-finite states) gives
        error ``inf``, never an exception; so does a perturbation at which the model cannot be built because its
        weight map overflows (e.g. W = −exp(w) of a reparameterised model at w + β, β = 1e3).

    Examples
    --------
    >>> import numpy as np, rnnmem as rm
    >>> W = np.diag([-0.2, -0.5])
    >>> rnn = rm.RNN(W, np.ones((2, 1)), np.zeros(2), np.ones((1, 2)), cell="euler", activation="linear")
    >>> x = np.zeros((1, 200, 1)); x[0, 0, 0] = 1.0
    >>> curve = rm.perturbation_error(rnn, rnn(x), [0, 0.05, 0.1, 0.4], x=x, blocks=("W",), rng=0)
    >>> bool(np.isinf(curve.errors[-1]) or curve.errors[-1] > 1e3)
    True
    """
    samples = check_int(samples, "samples", minimum=0, maximum=MAX_SAMPLES)
    norm = check_choice(norm, "norm", NORMS)
    error = check_choice(error, "error", ERRORS)
    power = check_real(power, "power", minimum=0.0)
    worst_case = check_bool(worst_case, "worst_case")
    running_max = check_bool(running_max, "running_max")
    bet = _betas(betas)
    gen = as_rng(rng)
    for attr in ("params", "replace"):
        if not callable(getattr(model, attr, None)):
            raise TypeError(f"model must provide params() and replace(**blocks) (and be callable or have to_rnn()); "
                            f"{type(model).__name__} has no {attr}()")
    stacked = callable(getattr(model, "to_rnn", None))  # RNN-like: all perturbed models in one stacked pass
    if not stacked and not callable(model):
        raise TypeError(f"model must be callable or have to_rnn(); {type(model).__name__} is neither")
    params = {k: np.asarray(v, dtype=complex if np.iscomplexobj(v) else float) for k, v in model.params().items()}
    names = list(params) if blocks is None else list(check_names(blocks, "blocks", tuple(params)))
    base = model.to_rnn() if stacked else model
    d = base.inputs
    T = check_int(T, "T", minimum=1)
    batch = check_int(batch, "batch", minimum=1)
    if x is None:
        if not callable(target):
            raise ValueError("x is required when target is an array of precomputed outputs")
        check_size("perturbation_error: the default inputs (batch, T, d)", batch, T, d)
        X = gen.standard_normal((batch, T, d))
    else:
        X = as_array(x, "x", ndim=3)
        if X.shape[2] != d:
            raise ValueError(f"x has shape {X.shape}, expected (B, T, {d}) (the model has {d} input(s))")
    base_dt = float(getattr(base, "dt", 1.0) or 1.0)
    if callable(target):
        Y = target(X, dt=base_dt) if _accepts_dt(target) else target(X)
        Y = as_array(Y, "target(x)", shape=(X.shape[0], X.shape[1], None))
    else:
        Y = as_array(target, "target", shape=(X.shape[0], X.shape[1], None))
    if Y.shape[2] != base.outputs:
        raise ValueError(f"target outputs have {Y.shape[2]} feature(s), the model has {base.outputs}")
    sel = _steps(steps, X.shape[1])
    Ysel = Y[:, sel]

    has_W = worst_case and "W" in names and params["W"].ndim == 2 and params["W"].shape[0] == params["W"].shape[1] \
        and not np.iscomplexobj(params["W"])
    has_lam = (worst_case and not has_W and "lam" in names and params["lam"].ndim == 1
               and np.iscomplexobj(params["lam"]))
    worst_names: list[str] = []
    D_worst = None
    if has_W:
        worst_names = ["W+βI", "W+βI, other blocks grown"]
        Wb = params["W"]
        cell = getattr(base, "cell", "elman")
        A = np.eye(Wb.shape[0]) + base_dt * Wb if cell == "euler" else Wb
        try:
            _, D_worst, _ = _destabilizer(A)
        except (NonFiniteError, np.linalg.LinAlgError):  # W too large for float64: the model explodes anyway
            D_worst = None
        if D_worst is not None and np.all(np.isfinite(D_worst)) and np.any(D_worst != 0):
            if norm == "max_entry":
                D_worst = D_worst / np.max(np.abs(D_worst))
            worst_names.append("W+βD (smallest destabiliser)")
        else:
            D_worst = None
    elif has_lam:
        worst_names = ["λ_max moved radially"]
    n_worst = len(worst_names)
    if samples == 0 and n_worst == 0 and np.any(bet > 0):
        raise ValueError("samples=0 and no worst case applies: nothing to evaluate for beta > 0 (give samples >= 1)")
    m_state = getattr(base, "hidden", 1) or 1
    check_size("perturbation_error: the states of the perturbed models (samples + worst cases, B, T, m)",
               samples + n_worst, X.shape[0], X.shape[1], m_state + Y.shape[2])

    def evaluate_each(models: list) -> np.ndarray:
        """Models without a stacked kernel: one call each; an exploding model gives inf, never an exception."""
        out = np.empty(len(models))
        for i, mdl in enumerate(models):
            if mdl is None:
                out[i] = np.inf
                continue
            with np.errstate(all="ignore"):
                try:
                    yhat = mdl(X, check_finite=False) if _accepts_check_finite(mdl) else mdl(X)
                except NonFiniteError:
                    out[i] = np.inf
                    continue
            out[i] = _errors(np.asarray(yhat, dtype=float)[None][:, :, sel], Ysel, error, power, base_dt)[0]
        return out

    def evaluate(models: list) -> np.ndarray:
        if not stacked:
            return evaluate_each(models)
        out = np.full(len(models), np.inf)
        ok = [i for i, mdl in enumerate(models) if mdl is not None]
        if not ok:
            return out
        with np.errstate(all="ignore"):
            rnns = [models[i].to_rnn() for i in ok]
        r0 = rnns[0]
        for r in rnns:
            if (r.cell, r.activation, r.dt) != (r0.cell, r0.activation, r0.dt):
                raise ValueError("perturbed models changed cell/activation/dt; cannot evaluate them as a stack")
        stack = {k: np.stack([getattr(r, k) for r in rnns]) for k in ("W", "U", "b", "C")}
        D = None if r0.D is None else np.stack([r.D for r in rnns])
        with np.errstate(all="ignore"):
            yhat = simulate_stack(stack["W"], stack["U"], stack["b"], stack["C"], D, X, cell=r0.cell,
                                  activation=r0.activation, dt=r0.dt, check_finite=False)
        out[ok] = _errors(yhat[:, :, sel], Ysel, error, power, r0.dt)
        return out

    nominal = float(evaluate([model])[0])
    S = samples
    sample_err = np.empty((bet.size, S))
    worst_err = np.empty((bet.size, n_worst))
    errors = np.empty(bet.size)
    for i, beta in enumerate(bet):
        if beta == 0:
            sample_err[i] = nominal
            worst_err[i] = nominal
            errors[i] = nominal
            continue
        models = []
        for _ in range(S):
            with np.errstate(all="ignore"):
                new = {n: params[n] + _scaled(_direction(gen, params[n]), beta, norm) for n in names}
            models.append(_build(model, new))
        if has_lam:
            lam = params["lam"]
            j = int(np.argmax(np.abs(lam)))
            step = np.zeros_like(lam)
            step[j] = beta * (lam[j] / abs(lam[j]) if lam[j] != 0 else 1.0)
            models.append(_build(model, {"lam": lam + step}))
        if has_W:
            with np.errstate(all="ignore"):
                Wp = params["W"] + beta * np.eye(params["W"].shape[0])
                models.append(_build(model, {"W": Wp}))
                grown = {"W": Wp}
                for n in names:
                    if n != "W":
                        nb = np.linalg.norm(params[n], 2) if (norm == "spectral" and params[n].ndim == 2) else (
                            np.max(np.abs(params[n])) if norm == "max_entry" else np.linalg.norm(params[n].ravel()))
                        grown[n] = params[n] * (1 + beta / nb) if nb > 0 else params[n]
                models.append(_build(model, grown))
                if D_worst is not None:
                    models.append(_build(model, {"W": params["W"] + beta * D_worst}))
        e = evaluate(models)
        sample_err[i], worst_err[i] = e[:S], e[S:]
        errors[i] = np.max(e)
    if running_max:
        errors = np.maximum.accumulate(errors)
    return PerturbationCurve(betas=bet, errors=errors, sample_errors=sample_err, worst_errors=worst_err,
                             nominal=nominal, error=error, norm=norm,
                             info={"samples": S, "worst_case": n_worst, "worst_cases": worst_names, "blocks": names,
                                   "running_max": running_max, "inputs": X.shape})
