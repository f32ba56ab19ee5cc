"""Classical memory measures of linear recurrent systems (docs/math.md §8; index conventions of §1).

All functions use the rnnmem convention of the *elman* cell, h_k = W h_{k-1} + U x_k, y_k = C h_k + D x_k, whose
impulse response (Markov parameters) is L_0 = CU + D, L_j = C W^j U: L_j multiplies the input j steps back. The
*euler* cell h_{k+1} = h_k + Δt (W h_k + U x_k), y_k = C h_{k+1} + D x_k is handled through its transition matrix
A = I + ΔtW and input matrix ΔtU (L_0 = ΔtCU + D, L_j = ΔtC A^j U).

Beware of other conventions: ``scipy.signal.dimpulse`` and python-control use a state x_k = h_{k-1} whose first
Markov parameter is D and then C_pc A^{k-1} B_pc (with C_pc = CW, D_pc = CU + D in our terms); their Hankel singular
values are those of the Hankel matrix [L_{i+j+1}], ours those of [C W^{i+j} U] (docs/math.md §8).

Contents: :func:`markov_parameters`, :func:`gramians`, :func:`h2_norm`, :func:`hankel_singular_values`,
:func:`memory_capacity` (Jaeger), :func:`fisher_memory` (Ganguli, Huh & Sompolinsky 2008), :func:`bptt_gain`,
:func:`trajectory_gain` and :func:`lyapunov_exponents` (Benettin QR).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnmem import _kernels_linear as KL
from rnnmem._deprecation_b import no_extra_kwargs, renamed
from rnnmem._validate import (
    NonFiniteError,
    as_array,
    as_rng,
    as_sequence_input,
    check_choice,
    check_finite_result,
    check_int,
    check_positive,
    check_real,
    check_size,
    first_nonfinite_step,
)
from rnnmem.rnn import CELLS, RNN, _cell_coefficients, _check_states, _run_forward
from rnnmem.stability import spectral_radius

__all__ = [
    "markov_parameters",
    "gramians",
    "h2_norm",
    "hankel_singular_values",
    "controllability_rank",
    "memory_capacity",
    "fisher_memory",
    "bptt_gain",
    "trajectory_gain",
    "lyapunov_exponents",
    "top_lyapunov_exponent",
    "spectral_radius",
]

_EPS = np.finfo(float).eps
#: the largest number of lags a function accepts (a Python int beyond it is an absurd size, refused up front)
_MAX_LAGS = 2**40


# ---------------------------------------------------------------------------------------------------- helpers
def _is_model(obj: Any) -> bool:
    """A model (RNN, reparameterised RNN, WideLinearRNN, ...) rather than a matrix: it has ``to_rnn()`` or the
    fields W, U, C, cell, dt."""
    if isinstance(obj, (np.ndarray, list, tuple, str, bytes, int, float, complex)) or obj is None:
        return False
    return callable(getattr(obj, "to_rnn", None)) or all(hasattr(obj, a) for a in ("W", "U", "C", "cell", "dt"))


def _model_system(model, cell, dt, func: str, *, linear: bool = True):
    """(W, U, C, D, cell, dt) of a model; ``cell``/``dt`` given explicitly must agree with the model's own."""
    rnn = model.to_rnn() if callable(getattr(model, "to_rnn", None)) else model
    mcell, mdt = rnn.cell, float(rnn.dt)
    if cell is not None and cell != mcell:
        raise ValueError(f"{func}(): cell={cell!r} differs from the model's own cell {mcell!r}; a model is analysed "
                         f"with its own cell and dt (omit cell=, or pass the matrices: {func}(model.W, model.U, "
                         f"model.C, cell={cell!r}, ...))")
    if dt is not None:
        dtv = check_positive(dt, "dt")
        if dtv != mdt:
            raise ValueError(f"{func}(): dt={dt!r} differs from the model's own dt={mdt!r}; a model is analysed with "
                             f"its own dt (omit dt=, or use model.replace(dt={dt!r}))")
    act = getattr(rnn, "activation", "linear")
    if linear and act != "linear":
        raise ValueError(f"{func}() needs a linear model (activation='linear'), got activation={act!r}; for the "
                         f"linearisation at the origin pass its matrices: {func}(model.W, model.U, model.C, "
                         f"cell={mcell!r}, dt={mdt!r})")
    return rnn.W, rnn.U, rnn.C, getattr(rnn, "D", None), mcell, mdt


def _given(func: str, **blocks) -> None:
    """Given a model, the matrix arguments must be left out."""
    extra = [k for k, v in blocks.items() if v is not None]
    if extra:
        raise TypeError(f"{func}() was given a model and also {', '.join(extra)}: pass either a model "
                        f"({func}(model, ...)) or the matrices ({func}(W, U, C, ...)), not both")


def _blocks(W, U, C, D, cell, dt, func: str, *, need_C: bool = True):
    """Validate and return (W, U, C, D, cell, dt) — ``W`` may be a model (its blocks, cell and dt are used; U, C, D
    must then be omitted)."""
    if _is_model(W):
        _given(func, U=U, C=C, D=D)
        W, U, C, D, cell, dt = _model_system(W, cell, dt, func)
    else:
        cell = "elman" if cell is None else cell
        dt = 1.0 if dt is None else dt
        if U is None or (need_C and C is None):
            missing = "U" if U is None else "C"
            raise TypeError(f"{func}() missing argument {missing}: pass a model ({func}(rnn)) or the matrices "
                            f"({func}(W, U, C))")
    cell = check_choice(cell, "cell", CELLS)
    dt = check_positive(dt, "dt")
    W = _square(W, "W")
    m = W.shape[0]
    U = as_array(U, "U", ndim=(1, 2))
    if U.ndim == 1:
        U = U[:, None]
    if U.shape[0] != m:
        raise ValueError(f"U has shape {U.shape}, expected (m, d) with m = {m} rows (the width of W)")
    if C is not None:
        C = as_array(C, "C", ndim=(1, 2))
        if C.ndim == 1:
            C = C[None, :]
        if C.shape[1] != m:
            raise ValueError(f"C has shape {C.shape}, expected (p, m) with m = {m} columns (the width of W)")
    if D is not None:
        want = (C.shape[0] if C is not None else 1, U.shape[1])
        D = as_array(D, "D", ndim=(1, 2))
        if D.shape != want:
            raise ValueError(f"D has shape {D.shape}, expected (p, d) = {want} (p outputs of C, d inputs of U)")
    return W, U, C, D, cell, dt


def _system(W, U, C, D, cell, dt, func: str, *, need_C: bool = True):
    """Validate and return the discrete state space (A, B, C, D) with L_0 = CB + D, L_j = C A^j B, and the cell and
    Δt (``W`` may be a model, see :func:`_blocks`)."""
    W, U, C, D, cell, dt = _blocks(W, U, C, D, cell, dt, func, need_C=need_C)
    if cell == "elman":
        return W, U, C, D, cell, dt
    m = W.shape[0]
    with np.errstate(all="ignore"):
        A, B = np.eye(m) + dt * W, dt * U
    if not (np.isfinite(A).all() and np.isfinite(B).all()):
        raise NonFiniteError(f"{func}(): the euler transition matrix I + dt·W or input matrix dt·U overflows float64 "
                             f"(dt = {dt!r}); W, U or dt too large")
    return A, B, C, D, cell, dt


def _reservoir(W, u, func: str):
    """(A, u) of the reservoir h_t = A h_{t-1} + u s_t: matrices (W, u) or a model with one input (A its
    transition matrix, u its input column, scaled by Δt for the euler cell)."""
    if _is_model(W):
        if u is not None:
            raise TypeError(f"{func}() was given a model and also u: pass either a model or (W, u)")
        A, B, _, _, _, _ = _system(W, None, None, None, None, None, func, need_C=False)
        if B.shape[1] != 1:
            raise ValueError(f"{func}() needs a reservoir with one input (d = 1); the model has d = {B.shape[1]}")
        return A, np.ascontiguousarray(B[:, 0])
    if u is None:
        raise TypeError(f"{func}() missing argument u: pass a model ({func}(rnn, n)) or the matrices "
                        f"({func}(W, u, n))")
    A = _square(W, "W")
    return A, _vector(u, "u", A.shape[0])


def _vector(u, name, m):
    u = as_array(u, name, ndim=(1, 2))
    if u.ndim == 2:
        if u.shape[1] != 1:
            raise ValueError(f"{name} must be a vector (m,) or a column (m, 1), got shape {u.shape}")
        u = u[:, 0]
    if u.shape[0] != m:
        raise ValueError(f"{name} has length {u.shape[0]}, expected m = {m} (the width of W)")
    return np.ascontiguousarray(u)


def _square(W, name="W"):
    if _is_model(W):
        raise TypeError(f"{name} must be a square matrix, got a {type(W).__name__} model; pass its matrix "
                        f"({name}=model.W) or use a function that takes the model")
    W = as_array(W, name, ndim=2)
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"{name} must be square (m, m), got shape {W.shape}")
    return W


def _lags(n, name: str = "n") -> int:
    return check_int(n, name, minimum=1, maximum=_MAX_LAGS)


def _rho(A) -> float:
    """Spectral radius, inf when A is too large for float64 (never an exception)."""
    with np.errstate(all="ignore"):
        if not np.isfinite(A).all():
            return float("inf")
        try:
            return spectral_radius(A)
        except NonFiniteError:
            return float("inf")


def _require_stable(A, what):
    r = _rho(A)
    if not r < 1.0:
        raise NonFiniteError(f"{what} needs a stable system: the spectral radius of its transition matrix (A = W for "
                             f"the elman cell, I + dt·W for euler) must be < 1 (the series defining it diverge); got "
                             f"spectral radius {r:.6g}")
    return r


def _products_finite(func: str, **mats) -> None:
    """Raise NonFiniteError naming the blocks when a product such as B Bᵀ overflowed."""
    bad = [k for k, v in mats.items() if not np.isfinite(v).all()]
    if bad:
        raise NonFiniteError(f"{func}(): {', '.join(bad)} overflows float64: the entries of U/C (or W) are too large")


def _psd_sqrt_factor(P):
    """F with P ≈ F Fᵀ for a symmetric positive semi-definite P (eigen-decomposition, negative noise clipped)."""
    lam, V = np.linalg.eigh((P + P.T) / 2)
    lam = np.clip(lam, 0.0, None)
    return V * np.sqrt(lam)


def _lyap(A, Q):
    import scipy.linalg as sla

    with np.errstate(all="ignore"):
        P = sla.solve_discrete_lyapunov(A, Q)
    return P


# ---------------------------------------------------------------------------------------------------- Markov / H2
def markov_parameters(W, U=None, C=None, n: int | None = None, D=None, cell: str | None = None,
                      dt: float | None = None, **deprecated) -> np.ndarray:
    """Markov parameters (impulse response) L_0..L_{n-1} of a linear RNN, shape (n, p, d).

    elman: L_0 = CU + D, L_j = C W^j U.  euler: L_0 = Δt CU + D, L_j = Δt C (I + ΔtW)^j U (docs/math.md §1), so that
    y_k = Σ_{j≤k} L_j x_{k-j} exactly. Computed by :meth:`rnnmem.RNN.markov` (the library's one Markov kernel).

    Parameters
    ----------
    W : array (m, m), or a linear model
        The recurrent matrix; or an :class:`rnnmem.RNN` (any model with ``to_rnn()`` or fields W, U, C, cell, dt),
        whose own U, C, D, cell and dt are used: ``markov_parameters(rnn, n=10)`` (also ``markov_parameters(rnn,
        10)``).
    U : array (m, d) (a vector (m,) means d = 1)
    C : array (p, m) (a vector (m,) means p = 1)
    n : int
        Number of lags (>= 1). (``k_max`` is a deprecated alias.)
    D : array (p, d), optional
    cell : {"elman", "euler"}
        Default: the model's own, else ``"elman"``.
    dt : float
        Euler step (euler cell only). Default: the model's own, else 1.

    Raises
    ------
    NonFiniteError
        When L_j overflows (an unstable system, ρ(A) > 1, over many lags); names the first bad lag.

    Examples
    --------
    >>> import numpy as np, rnnmem as rm
    >>> rm.linear.markov_parameters(0.5 * np.eye(1), [[1.0]], [[2.0]], 3)[:, 0, 0]
    array([2. , 1. , 0.5])
    """
    if _is_model(W) and n is None and C is None and D is None and U is not None and not hasattr(U, "shape") \
            and np.ndim(U) == 0:
        n, U = U, None  # markov_parameters(rnn, 10): the lag count in the second position
    n = renamed(n, deprecated, "k_max", "n", "markov_parameters", required=True)
    no_extra_kwargs(deprecated, "markov_parameters")
    n = _lags(n)
    W, U, C, D, cell, dt = _blocks(W, U, C, D, cell, dt, "markov_parameters")
    check_size("markov_parameters", n, C.shape[0], U.shape[1])
    try:
        with np.errstate(all="ignore"):
            return RNN(W, U, np.zeros(W.shape[0]), C, D, cell=cell, activation="linear", dt=dt).markov(n)
    except NonFiniteError as exc:
        with np.errstate(all="ignore"):
            rho = _rho(W if cell == "elman" else np.eye(W.shape[0]) + dt * W)
        raise NonFiniteError(f"markov_parameters(): L_j = C A^j B (+ D at j = 0) overflows float64 from lag j = "
                             f"{exc.step} (spectral radius of the transition matrix {rho:.6g}); use fewer lags n, or "
                             "smaller W, U, C, D", step=exc.step) from None


def gramians(W, U=None, C=None, cell: str | None = None, dt: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Controllability and observability Gramians (P, Q) of a stable linear RNN (docs/math.md §8).

    P = A P Aᵀ + B Bᵀ = Σ_j A^j B Bᵀ (A^j)ᵀ and Q = Aᵀ Q A + Cᵀ C = Σ_j (A^j)ᵀ Cᵀ C A^j, with A = W, B = U (elman) or
    A = I + ΔtW, B = ΔtU (euler); solved by ``scipy.linalg.solve_discrete_lyapunov`` and symmetrised.

    ``W`` may be a linear model (``gramians(rnn)``: its U, C, cell and dt are used).

    Raises :class:`~rnnmem.NonFiniteError` (a ValueError) if the spectral radius of A is >= 1 (the series diverge).
    """
    A, B, Cm, _, _, _ = _system(W, U, C, None, cell, dt, "gramians")
    _require_stable(A, "gramians()")
    with np.errstate(all="ignore"):
        BB, CC = B @ B.T, Cm.T @ Cm
    _products_finite("gramians", **{"U Uᵀ": BB, "Cᵀ C": CC})
    P = _lyap(A, BB)
    Q = _lyap(A.T, CC)
    P, Q = (P + P.T) / 2, (Q + Q.T) / 2
    check_finite_result(P, "gramians(): the controllability Gramian P", hint="the system is too close to unstable")
    check_finite_result(Q, "gramians(): the observability Gramian Q", hint="the system is too close to unstable")
    return P, Q


def h2_norm(W, U=None, C=None, D=None, cell: str | None = None, dt: float | None = None) -> float:
    """H2 norm (Σ_{j≥0} ‖L_j‖²_F)^{1/2} of a linear RNN in the elman convention L_0 = CB + D (docs/math.md §8).

    Closed form: ‖H‖²₂ = tr(C P Cᵀ) + ‖D‖²_F + 2⟨CB, D⟩_F with P the controllability Gramian (:func:`gramians`).
    ``W`` may be a linear model (``h2_norm(rnn)``: its U, C, D, cell and dt are used).

    Note: python-control's ``h2norm`` of the equivalent state space (A, B, CA, CB + D) gives the same number; its
    own (A, B, C, D) would give a different one because its impulse response is D, CB, CAB, … (module docstring).

    Raises
    ------
    NonFiniteError
        For an unstable system (spectral radius of the transition matrix >= 1): the sum diverges, the norm is
        infinite (the same outcome as :func:`gramians`).
    """
    A, B, Cm, D, _, _ = _system(W, U, C, D, cell, dt, "h2_norm")
    _require_stable(A, "h2_norm()")
    with np.errstate(all="ignore"):
        BB = B @ B.T
    _products_finite("h2_norm", **{"U Uᵀ": BB})
    P = _lyap(A, BB)
    with np.errstate(all="ignore"):
        val = float(np.trace(Cm @ P @ Cm.T))
        if D is not None:
            val += float(np.sum(D * D) + 2.0 * np.sum((Cm @ B) * D))
        out = float(np.sqrt(max(val, 0.0))) if not np.isnan(val) else val
    if not np.isfinite(out):
        raise NonFiniteError(f"h2_norm() overflows float64 (got {out}): the system is too close to unstable or its "
                             "weights W, U, C, D too large")
    return out


def hankel_singular_values(W, U=None, C=None, cell: str | None = None, dt: float | None = None) -> np.ndarray:
    """Hankel singular values sqrt(λ(P Q)), in decreasing order (docs/math.md §8).

    They are the singular values of the infinite Hankel matrix [C A^{i+j} B]_{i,j≥0} (rnnmem convention; D is not
    part of it). Computed stably by the square-root method: P = R Rᵀ, Q = S Sᵀ, σ = svd(Sᵀ R), which never forms
    the product P Q. Length m (zeros for uncontrollable / unobservable directions, up to rounding).
    ``W`` may be a linear model (``hankel_singular_values(rnn)``).
    """
    if _is_model(W):
        _given("hankel_singular_values", U=U, C=C)
        W, U, C, _, cell, dt = _model_system(W, cell, dt, "hankel_singular_values")
    P, Q = gramians(W, U, C, cell, dt)
    s = np.linalg.svd(_psd_sqrt_factor(Q).T @ _psd_sqrt_factor(P), compute_uv=False)
    return np.sort(s)[::-1]


# ---------------------------------------------------------------------------------------------------- memory capacity
def _krylov_rows(W, u, K):
    check_size("the Krylov matrix [u, Wu, ...]", K, W.shape[0])
    out = np.empty((K, W.shape[0]))
    KL.krylov(np.ascontiguousarray(W), np.ascontiguousarray(u), K, out)
    return out


def _tail_length(W, u, k_min, tol=1e-17, cap=2_000_000, *, func: str = "linear"):
    """Smallest K >= k_min with ‖W^k u‖ <= tol · max_j ‖W^j u‖ for k = K (decay observed on a doubling schedule)."""
    K = max(k_min, 2 * W.shape[0], 16)
    while True:
        rows = _krylov_rows(W, u, K)
        norms = np.sqrt(np.einsum("ij,ij->i", rows, rows))
        peak = norms.max()
        if peak == 0.0 or norms[-1] <= tol * peak and norms[-max(4, K // 8):].max() <= 10 * tol * peak:
            return rows
        if K * W.shape[0] > cap * 8:
            raise ValueError(f"{func}: the impulse response has not decayed after {K} steps (spectral radius too "
                             "close to 1)" + ("; use method='sampled'" if "memory_capacity" in func else ""))
        K *= 2


def controllability_rank(W, u=None, *, rtol: float | None = None) -> int:
    """Numerical rank of the (infinite) Kalman controllability matrix [u, Wu, W²u, …] of a stable W.

    Rank of the truncated Krylov matrix (truncated where ‖W^k u‖ has decayed to 1e-17 of its peak) by SVD with
    tolerance ``rtol · σ_max`` (default max(K, m)·eps) — the same rank that :func:`memory_capacity` sums to.
    ``W`` may be a linear model with one input (``controllability_rank(rnn)``: its transition matrix and input
    column).

    Parameters
    ----------
    rtol : float in (0, 1), optional
        Relative singular-value threshold.
    """
    if rtol is not None:
        rtol = check_real(rtol, "rtol", minimum=0.0, maximum=1.0, strict_minimum=True, strict_maximum=True)
    W, u = _reservoir(W, u, "controllability_rank")
    _require_stable(W, "controllability_rank()")
    rows = _tail_length(W, u, 1, func="controllability_rank()")
    s = np.linalg.svd(rows, compute_uv=False)
    if s[0] == 0.0:
        return 0
    tol = (max(rows.shape) * _EPS if rtol is None else rtol) * s[0]
    return int(np.sum(s > tol))


def memory_capacity(W, u=None, n: int | None = None, method: str = "exact", rng=None, *, samples: int = 200_000,
                    washout: int | None = None, ridge: float = 0.0, test_fraction: float = 0.5,
                    rtol: float | None = None, **deprecated) -> np.ndarray:
    """Jaeger's memory capacity MC_k, k = 0..n-1, of the linear reservoir h_t = W h_{t-1} + u s_t (docs/math.md §8).

    MC_k is the squared correlation between s_{t-k} and its best linear reconstruction from h_t, for i.i.d.
    unit-variance input s. Closed form: MC_k = (W^k u)ᵀ P⁺ (W^k u), P = W P Wᵀ + u uᵀ = Σ_j W^j u uᵀ (W^j)ᵀ, and
    Σ_{k≥0} MC_k = rank of the Kalman controllability matrix (= m if (W, u) is controllable).

    Parameters
    ----------
    W : array (m, m), or a linear model with one input
        Stable (spectral radius < 1). A model (``memory_capacity(rnn, n=60)``) gives its transition matrix A
        (W for elman, I + ΔtW for euler) and input column (U, ΔtU); u must then be omitted.
    u : array (m,)
        Input weights.
    n : int
        Number of delays returned (``k_max`` is a deprecated alias).
    method : {"exact", "sampled"}
        ``"exact"``: the closed form, evaluated without forming or inverting P. With the Krylov matrix
        K = [u, Wu, …, W^{N-1}u]ᵀ (N rows, truncated where ‖W^k u‖ has decayed below 1e-17 of its peak) one has
        P = KᵀK, so MC_k = eₖᵀ K (KᵀK)⁺ Kᵀ eₖ = ‖(U_r)_{k,:}‖², the leverage score of row k in the thin SVD
        K = U Σ Vᵀ truncated to the numerical rank r (σ_i > rtol·σ_1, default rtol = max(N, m)·eps). This needs
        cond(K), not cond(P) = cond(K)² — the Krylov matrix of even a modest reservoir is so ill-conditioned that
        inverting the Lyapunov solution P loses all digits (see tests). Σ_k MC_k = r by construction.
        ``"sampled"``: simulate the reservoir for ``samples`` steps on s ~ N(0, 1) (after ``washout`` steps), fit a
        linear readout w_k by SVD least squares, truncated at the numerical rank of the state matrix (ridge penalty
        ``ridge`` × mean squared state × number of rows; default 0 — even a tiny ridge biases MC_k down when P is
        ill-conditioned, which it usually is, while the SVD needs only cond(H) ≈ cond(P)^{1/2}) on the first
        (1 − ``test_fraction``) of the steps, and report the
        squared correlation between H w_k and s_{t-k} on the rest (all delays at once by FFT cross-correlation).
        Sampling standard error ≈ 2 √MC_k (1 − MC_k)/√(samples·test_fraction).
    rng : None, int or Generator
        Input noise of ``"sampled"``.
    samples, washout, ridge, test_fraction : of ``"sampled"`` (test_fraction in (0, 1))
    rtol : float in (0, 1), optional
        Rank threshold of ``"exact"``.

    Returns
    -------
    ndarray (n,)
    """
    if _is_model(W) and n is None and u is not None and np.ndim(u) == 0 and not hasattr(u, "shape"):
        n, u = u, None  # memory_capacity(rnn, 60)
    n = renamed(n, deprecated, "k_max", "n", "memory_capacity", required=True)
    no_extra_kwargs(deprecated, "memory_capacity")
    check_choice(method, "method", ("exact", "sampled"))
    W, u = _reservoir(W, u, "memory_capacity")
    m = W.shape[0]
    n = _lags(n)
    if rtol is not None:
        rtol = check_real(rtol, "rtol", minimum=0.0, maximum=1.0, strict_minimum=True, strict_maximum=True)
    samples = check_int(samples, "samples", minimum=10, maximum=_MAX_LAGS)
    ridge = check_real(ridge, "ridge", minimum=0.0)
    test_fraction = check_real(test_fraction, "test_fraction", minimum=0.0, maximum=1.0, strict_minimum=True,
                               strict_maximum=True)
    if washout is not None:
        washout = check_int(washout, "washout", minimum=0, maximum=_MAX_LAGS)
    gen = as_rng(rng)
    rho = _require_stable(W, "memory_capacity()")
    if method == "exact":
        check_size("memory_capacity(method='exact')", n, m)
        rows = _tail_length(W, u, n, func="memory_capacity(method='exact')")
        Uk, s, _ = np.linalg.svd(rows, full_matrices=False)
        if s[0] == 0.0:
            return np.zeros(n)
        tol = (max(rows.shape) * _EPS if rtol is None else rtol) * s[0]
        r = int(np.sum(s > tol))
        return np.einsum("ij,ij->i", Uk[:n, :r], Uk[:n, :r])
    if washout is None:
        washout = int(np.ceil(np.log(1e-12) / np.log(max(rho, 1e-3)))) + m
    T = washout + n + samples
    check_size("memory_capacity(method='sampled'): the simulated states (washout + n + samples, m)", T, m + 2)
    n_test = max(1, int(round(samples * test_fraction)))
    n_train = samples - n_test
    if n_train < m:
        raise ValueError(f"samples={samples} leaves {n_train} training steps for {m} state dimensions; "
                         "increase samples")
    sig = gen.standard_normal(T)
    rnn = RNN(W, u[:, None], np.zeros(m), np.zeros((1, m)), activation="linear")
    H = rnn.states(sig[:, None])  # (T, m)
    t0 = washout + n
    Htr, Hte = H[t0:t0 + n_train], H[t0 + n_train:]
    lam = ridge * float(np.mean(Htr * Htr)) * n_train
    # rank-revealing least squares (thin SVD of the state matrix): states confined to a subspace (uncontrollable
    # reservoirs) give a rank-deficient H; w_k = V_r S_r⁻¹ U_rᵀ s_{·-k} is the minimum-norm solution
    Uh, sv, Vt = np.linalg.svd(np.vstack([Htr, np.sqrt(lam) * np.eye(m)]) if lam > 0 else Htr, full_matrices=False)
    r = int(np.sum(sv > max(Uh.shape) * _EPS * sv[0])) if sv[0] > 0 else 0
    if r == 0:
        return np.zeros(n)
    xc = _xcorr(Uh[:n_train, :r], sig[t0 - n + 1:t0 + n_train], n)  # (n, r) = (U_rᵀ s_{·-k})ᵀ
    Wk = Vt[:r].T @ (xc / sv[:r]).T  # (m, n)
    a_te = sig[t0 + n_train - n + 1:t0 + n_train + n_test]
    ys = np.einsum("ik,ki->k", Wk, _xcorr(Hte, a_te, n))             # Σ_t ŷ_k[t] s[t-k]
    yy = np.einsum("ik,ij,jk->k", Wk, Hte.T @ Hte, Wk)                # Σ_t ŷ_k[t]²
    ybar = Hte.mean(axis=0) @ Wk
    cs, cs2 = np.concatenate([[0.0], np.cumsum(a_te)]), np.concatenate([[0.0], np.cumsum(a_te * a_te)])
    lo = n - 1 - np.arange(n)                                         # s[t-k] window starts at a_te[lo]
    sbar = (cs[lo + n_test] - cs[lo]) / n_test
    ss = (cs2[lo + n_test] - cs2[lo]) / n_test
    cov = ys / n_test - ybar * sbar
    vy, vs = yy / n_test - ybar**2, ss - sbar**2
    den = vy * vs
    return np.where(den > 0, cov**2 / np.where(den > 0, den, 1.0), 0.0)


def _xcorr(M, a, n):
    """out[k, i] = Σ_t M[t, i] a[t + n - 1 - k], k = 0..n-1 (len(a) = len(M) + n - 1), by FFT."""
    from scipy.signal import fftconvolve

    out = fftconvolve(a[:, None], M[::-1], mode="valid", axes=0)  # out'[l] = Σ_t a[l + t] M[t]
    return out[::-1]


def fisher_memory(W, u=None, n: int | None = None, *, noise: float = 1.0, **deprecated) -> np.ndarray:
    """Fisher memory curve J(k), k = 0..n-1 (Ganguli, Huh & Sompolinsky, PNAS 2008; docs/math.md §8).

    For h_t = W h_{t-1} + u s_t + z_t with white noise z ~ N(0, ε I), ε = ``noise``:
    J(k) = uᵀ (W^k)ᵀ C_n⁻¹ W^k u / ε, C_n = Σ_j W^j (W^j)ᵀ (solve_discrete_lyapunov(W, I); C_n ⪰ I, so the
    Cholesky solve is well conditioned). Σ_k J(k) = ‖u‖²/ε for normal W and ≤ m‖u‖²/ε for any W.

    ``W`` may be a linear model with one input (its transition matrix and input column, as in
    :func:`memory_capacity`); ``n`` is the number of delays (``k_max`` is a deprecated alias).

    Raises
    ------
    NonFiniteError
        When J(k) overflows float64 (J ∝ 1/ε: a ``noise`` so small that ‖u‖²/ε > 1.8e308).
    """
    if _is_model(W) and n is None and u is not None and np.ndim(u) == 0 and not hasattr(u, "shape"):
        n, u = u, None  # fisher_memory(rnn, 60)
    n = renamed(n, deprecated, "k_max", "n", "fisher_memory", required=True)
    no_extra_kwargs(deprecated, "fisher_memory")
    W, u = _reservoir(W, u, "fisher_memory")
    m = W.shape[0]
    n = _lags(n)
    noise = check_positive(noise, "noise")
    _require_stable(W, "fisher_memory()")
    import scipy.linalg as sla

    Cn = _lyap(W, np.eye(m))
    L = np.linalg.cholesky((Cn + Cn.T) / 2)
    Z = sla.solve_triangular(L, _krylov_rows(W, u, n).T, lower=True)
    with np.errstate(over="ignore", invalid="ignore"):
        J = np.einsum("ij,ij->j", Z, Z) / noise
    return check_finite_result(J, f"fisher_memory(noise={noise!r}): J(k)", time_axis=0,
                               hint="J ∝ 1/noise overflows float64; use a larger noise (J scales exactly as 1/noise)")


# ---------------------------------------------------------------------------------------------------- gains / Lyapunov
def _gain_overflow(out: np.ndarray, what: str, hint: str) -> np.ndarray:
    """Raise NonFiniteError naming the first lag j at which a gain overflowed."""
    if np.isfinite(out).all():
        return out
    j = first_nonfinite_step(out, out.ndim - 1)
    raise NonFiniteError(f"{what} overflows float64 from lag j = {j} on; {hint}", step=j)


def bptt_gain(W, n: int | None = None, cell: str | None = None, dt: float | None = None,
              **deprecated) -> np.ndarray:
    """BPTT gain g(j) = ‖A^j‖₂, j = 0..n-1, of a linear RNN (A = W elman, I + ΔtW euler; docs/math.md §8).

    ∂h_k/∂h_{k-j} = A^j for the linear cell, so g(j) bounds how much a gradient grows or vanishes over j steps
    (Bengio et al. 1994; Pascanu et al. 2013); g(j)^{1/j} → spectral radius of A (Gelfand). The NTK lag weights
    ρ_j² of :func:`rnnmem.ntk.lag_weights` are its init-averaged square.

    Parameters
    ----------
    W : array (m, m), or a linear model (``bptt_gain(rnn, n)``: its W, cell and dt)
    n : int
        Number of lags (``j_max`` is a deprecated alias).
    cell, dt :
        Default: the model's own, else ``"elman"`` and 1.

    Raises
    ------
    NonFiniteError
        When ‖A^j‖₂ overflows float64 (an exploding system, ρ(A) > 1, over many lags); names the first bad lag.
    """
    n = renamed(n, deprecated, "j_max", "n", "bptt_gain", required=True)
    no_extra_kwargs(deprecated, "bptt_gain")
    if _is_model(W):
        Wm, _, _, _, cell, dt = _model_system(W, cell, dt, "bptt_gain")
    else:
        Wm, cell, dt = W, ("elman" if cell is None else cell), (1.0 if dt is None else dt)
    cell = check_choice(cell, "cell", CELLS)
    dt = check_positive(dt, "dt")
    Wm = _square(Wm)
    n = _lags(n)
    check_size("bptt_gain", n)
    with np.errstate(all="ignore"):
        A = Wm if cell == "elman" else np.eye(Wm.shape[0]) + dt * Wm
        out = np.empty(n)
        if np.isfinite(A).all():
            KL.power_norms(np.ascontiguousarray(A), out)
        else:
            out[:] = np.inf
    return _gain_overflow(out, "bptt_gain(): ‖A^j‖₂ (A = W, or I + dt·W for euler)",
                          f"the gain grows like ρ(A)^j with ρ(A) = {_rho(A):.6g} and overflows float64; use fewer "
                          "lags, or a smaller W")


def _step_jacobians(model, x):
    """State Jacobians (B, T, S, S) of a model without an RNN kernel path (``model.step_jacobians``), squeeze flag."""
    if not callable(getattr(model, "step_jacobians", None)):
        hint = " (pass the model, not its matrix)" if isinstance(model, (np.ndarray, list)) else ""
        raise TypeError(f"rnn must be an rnnmem.RNN (or have to_rnn()) or a model with step_jacobians(x) "
                        f"(StackedRNN, GRU, LSTM, DiagonalSSM, ...); got {type(model).__name__}{hint}")
    J = model.step_jacobians(x)
    squeeze = J.ndim == 3
    return (J[None] if squeeze else J), squeeze


def _trajectory(rnn, x, check_finite=True):
    if not hasattr(rnn, "to_rnn"):
        raise TypeError(f"rnn must be an rnnmem.RNN (or have to_rnn()), got {type(rnn).__name__}")
    rnn = rnn.to_rnn()
    X, squeeze = as_sequence_input(x, rnn.inputs)
    s, dz = _run_forward(rnn.W[None], rnn.U[None], rnn.b[None], X, rnn.cell, rnn.activation, rnn.dt, True)
    if check_finite:
        _check_states(s)
    a, _ = _cell_coefficients(rnn.cell, rnn.dt)
    return rnn, squeeze, np.array(dz.transpose(1, 0, 2), order="C", copy=True), a  # dz: (B, T, m), own copy


def trajectory_gain(rnn, x, n: int | None = None, **deprecated) -> np.ndarray:
    """Gain of backpropagation along a trajectory: g(j) = ‖∂s_{T-1}/∂s_{T-1-j}‖₂, j = 0..n-1 (docs/math.md §8).

    ∂s_{T-1}/∂s_{T-1-j} = J_{T-1} ⋯ J_{T-j} with the state Jacobians J_k = a I + diag(c σ'(z_k)) W ((a, c) = (0, 1)
    elman, (1, Δt) euler; z_k the pre-activation), i.e. the products of Wᵀdiag(σ'(·)) that BPTT applies. For the
    linear elman cell this is :func:`bptt_gain`.

    Any other model with ``step_jacobians(x)`` (:class:`rnnmem.StackedRNN`, :class:`rnnmem.GRU`,
    :class:`rnnmem.LSTM` over the stacked state of all layers, :class:`rnnmem.DiagonalSSM`) uses its Jacobians
    J_k = ∂s_k/∂s_{k−1} the same way.

    Parameters
    ----------
    rnn : rnnmem.RNN or a model with ``step_jacobians``
    x : array (B, T, d) or (T, d)
        The inputs driving the trajectory; n <= T.
    n : int
        Number of lags (``j_max`` is a deprecated alias).

    Returns
    -------
    ndarray (B, n) (or (n,) for a 2-D x)

    Raises
    ------
    NonFiniteError
        When the states or the Jacobian products overflow (an exploding model); names the first bad step or lag.
    """
    n = renamed(n, deprecated, "j_max", "n", "trajectory_gain", required=True)
    no_extra_kwargs(deprecated, "trajectory_gain")
    hint = "the Jacobian products overflow float64 (an exploding model); use fewer lags"
    if not hasattr(rnn, "to_rnn"):
        J, squeeze = _step_jacobians(rnn, x)
        n = _lags(n)
        B, T, S, _ = J.shape
        if n > T:
            raise ValueError(f"n={n} exceeds the sequence length T={T}")
        out = np.empty((B, n))
        for b in range(B):
            M = np.eye(S)
            out[b, 0] = 1.0
            for j in range(1, n):
                with np.errstate(all="ignore"):
                    M = M @ J[b, T - j]
                if not np.isfinite(M).all():
                    out[b, j:] = np.inf
                    break
                out[b, j] = np.linalg.norm(M, 2)
        out = _gain_overflow(out, "trajectory_gain(): ‖∂s_{T-1}/∂s_{T-1-j}‖₂", hint)
        return out[0] if squeeze else out
    rnn, squeeze, dz, a = _trajectory(rnn, x)
    n = _lags(n)
    if n > dz.shape[1]:
        raise ValueError(f"n={n} exceeds the sequence length T={dz.shape[1]}")
    W = np.ascontiguousarray(rnn.W)
    out = np.empty((dz.shape[0], n))
    with np.errstate(all="ignore"):
        for b in range(dz.shape[0]):
            KL.backward_gains(W, np.ascontiguousarray(dz[b]), a, out[b])
    out = _gain_overflow(out, "trajectory_gain(): ‖∂s_{T-1}/∂s_{T-1-j}‖₂", hint)
    return out[0] if squeeze else out


_LYAP_HINT = ("an exponent is −∞ (a Jacobian product lost rank exactly: e.g. saturated tanh units, σ'(z) = 0 in "
              "float64, dead relu units, or a singular W) or the product overflowed; ask for fewer exponents k, or "
              "drive the model with smaller inputs")


def lyapunov_exponents(rnn, x, k: int = 1, *, washout: int = 0, rng=None) -> np.ndarray:
    """The k largest Lyapunov exponents of an input-driven RNN along the trajectory of x (Benettin QR method).

    λ_i = (1/(T − washout)) Σ_{t ≥ washout} log |R_t[i, i]|, where Q_t R_t = J_t Q_{t-1} is the QR step of the state
    Jacobian J_t = a I + diag(c σ'(z_t)) W (see :func:`trajectory_gain`) applied to an orthonormal frame Q
    (random start from ``rng``). Units: per time step (divide by Δt for a rate in time units). The top exponent is the
    exponential rate of :func:`trajectory_gain`; for a linear elman RNN it is log ρ(W), and all exponents are the
    logs of the moduli of W's eigenvalues. Statistical error decays like (T − washout)^{-1/2}.

    Any other model with ``step_jacobians(x)`` (torch-layout models over the stacked state of all layers, the
    diagonal SSM) runs the same QR iteration on its Jacobians.

    Returns
    -------
    ndarray (B, k) (or (k,) for a 2-D x)

    Raises
    ------
    NonFiniteError
        When an exponent is −∞ or not finite: a step whose Jacobian maps the frame to rank < k exactly (saturated
        tanh, dead relu units, singular W), named by its first step.
    """
    if not hasattr(rnn, "to_rnn"):
        J, squeeze = _step_jacobians(rnn, x)
        B, T, S, _ = J.shape
        k = check_int(k, "k", minimum=1)
        if k > S:
            raise ValueError(f"k={k} exceeds the state dimension {S}")
        washout = check_int(washout, "washout", minimum=0)
        if washout >= T:
            raise ValueError(f"washout={washout} must be smaller than the sequence length T={T}")
        gen = as_rng(rng)
        out = np.empty((B, k))
        for b in range(B):
            Q = np.linalg.qr(gen.standard_normal((S, k)))[0]
            logr = np.empty((T, k))
            with np.errstate(all="ignore"):
                for t in range(T):
                    Z = J[b, t] @ Q
                    if not np.isfinite(Z).all():
                        logr[t:] = np.nan
                        break
                    Q, R = np.linalg.qr(Z)
                    logr[t] = np.log(np.abs(np.diag(R)))
            check_finite_result(logr, "lyapunov_exponents(): log|R_t|", time_axis=0, hint=_LYAP_HINT)
            out[b] = logr[washout:].mean(axis=0)
        return out[0] if squeeze else out
    rnn, squeeze, dz, a = _trajectory(rnn, x)
    m = rnn.hidden
    k = check_int(k, "k", minimum=1)
    if k > m:
        raise ValueError(f"k={k} exceeds the state dimension m={m}")
    washout = check_int(washout, "washout", minimum=0)
    B, T, _ = dz.shape
    if washout >= T:
        raise ValueError(f"washout={washout} must be smaller than the sequence length T={T}")
    gen = as_rng(rng)
    W = np.ascontiguousarray(rnn.W)
    out = np.empty((B, k))
    for b in range(B):
        Q = np.ascontiguousarray(np.linalg.qr(gen.standard_normal((m, k)))[0])
        logr = np.empty((T, k))
        with np.errstate(all="ignore"):
            KL.benettin(W, np.ascontiguousarray(dz[b]), a, Q, logr)
        check_finite_result(logr, "lyapunov_exponents(): log|R_t|", time_axis=0, hint=_LYAP_HINT)
        out[b] = logr[washout:].mean(axis=0)
    return out[0] if squeeze else out


def top_lyapunov_exponent(rnn, x, *, washout: int = 0, rng=None):
    """The largest Lyapunov exponent (per step) of an input-driven RNN: :func:`lyapunov_exponents` with k = 1.

    Returns a float for a 2-D x, else an array (B,).
    """
    out = lyapunov_exponents(rnn, x, 1, washout=washout, rng=rng)
    return float(out[0]) if out.ndim == 1 else out[:, 0]
