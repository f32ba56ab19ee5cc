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

import numpy as np
import scipy.linalg as sla

from rnnmem import _kernels_linear as KL
from rnnmem._validate import as_array, as_rng, as_sequence_input, check_choice, check_int, check_positive
from rnnmem.rnn import CELLS, RNN, _cell_coefficients, _check_states, _run_forward

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


# ---------------------------------------------------------------------------------------------------- helpers
def _system(W, U, C, D, cell, dt):
    """Validate and return the discrete state space (A, B, C, D) with L_0 = CB + D, L_j = C A^j B."""
    cell = check_choice(cell, "cell", CELLS)
    dt = check_positive(dt, "dt")
    W = as_array(W, "W", ndim=2)
    m = W.shape[0]
    if W.shape != (m, m):
        raise ValueError(f"W must be square (m, m), got shape {W.shape}")
    U = as_array(U, "U", ndim=(1, 2))
    if U.ndim == 1:
        U = U[:, None]
    if U.shape[0] != m:
        raise ValueError(f"U has shape {U.shape}, expected (m, d) with m = {m} rows (the width of W)")
    C = as_array(C, "C", ndim=(1, 2))
    if C.ndim == 1:
        C = C[None, :]
    if C.shape[1] != m:
        raise ValueError(f"C has shape {C.shape}, expected (p, m) with m = {m} columns (the width of W)")
    if D is not None:
        D = as_array(D, "D", shape=(C.shape[0], U.shape[1]))
    if cell == "elman":
        return W, U, C, D
    return np.eye(m) + dt * W, dt * U, C, D


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
    W = as_array(W, name, ndim=2)
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"{name} must be square (m, m), got shape {W.shape}")
    return W


def spectral_radius(W) -> float:
    """Spectral radius max |λ(W)| (the discrete-time stability margin: stable iff < 1)."""
    W = _square(W)
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def _require_stable(A, what):
    r = spectral_radius(A)
    if r >= 1.0:
        raise ValueError(f"{what} needs a stable system (spectral radius of the transition matrix < 1); "
                         f"got spectral radius {r:.6g}")
    return r


def _psd_sqrt_factor(P):
    """F with P ≈ F Fᵀ for a symmetric positive semi-definite P (eigen-decomposition, negative noise clipped)."""
    lam, V = np.linalg.eigh((P + P.T) / 2)
    lam = np.clip(lam, 0.0, None)
    return V * np.sqrt(lam)


# ---------------------------------------------------------------------------------------------------- Markov / H2
def markov_parameters(W, U, C, n: int, D=None, cell: str = "elman", dt: float = 1.0) -> np.ndarray:
    """Markov parameters (impulse response) L_0..L_{n-1} of a linear RNN, shape (n, p, d).

    elman: L_0 = CU + D, L_j = C W^j U.  euler: L_0 = Δt CU + D, L_j = Δt C (I + ΔtW)^j U (docs/math.md §1), so that
    y_k = Σ_{j≤k} L_j x_{k-j} exactly. Computed by :meth:`rnnmem.RNN.markov` (the library's one Markov kernel).

    Parameters
    ----------
    W : array (m, m)
    U : array (m, d) (a vector (m,) means d = 1)
    C : array (p, m) (a vector (m,) means p = 1)
    n : int
        Number of lags (>= 1).
    D : array (p, d), optional
    cell : {"elman", "euler"}
    dt : float
        Euler step (euler cell only).

    Examples
    --------
    >>> import numpy as np, rnnmem as rm
    >>> rm.linear.markov_parameters(0.5 * np.eye(1), [[1.0]], [[2.0]], 3)[:, 0, 0]
    array([2. , 1. , 0.5])
    """
    check_choice(cell, "cell", CELLS)
    W = _square(W)
    m = W.shape[0]
    U = as_array(U, "U", ndim=(1, 2))
    U = U[:, None] if U.ndim == 1 else U
    C = as_array(C, "C", ndim=(1, 2))
    C = C[None, :] if C.ndim == 1 else C
    return RNN(W, U, np.zeros(m), C, D, cell=cell, activation="linear", dt=dt).markov(n)


def gramians(W, U, C, cell: str = "elman", dt: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Controllability and observability Gramians (P, Q) of a stable linear RNN (docs/math.md §8).

    P = A P Aᵀ + B Bᵀ = Σ_j A^j B Bᵀ (A^j)ᵀ and Q = Aᵀ Q A + Cᵀ C = Σ_j (A^j)ᵀ Cᵀ C A^j, with A = W, B = U (elman) or
    A = I + ΔtW, B = ΔtU (euler); solved by ``scipy.linalg.solve_discrete_lyapunov`` and symmetrised.

    Raises ``ValueError`` if the spectral radius of A is >= 1 (the series diverge).
    """
    A, B, Cm, _ = _system(W, U, C, None, cell, dt)
    _require_stable(A, "gramians()")
    P = sla.solve_discrete_lyapunov(A, B @ B.T)
    Q = sla.solve_discrete_lyapunov(A.T, Cm.T @ Cm)
    return (P + P.T) / 2, (Q + Q.T) / 2


def h2_norm(W, U, C, D=None, cell: str = "elman", dt: float = 1.0) -> float:
    """H2 norm (Σ_{j≥0} ‖L_j‖²_F)^{1/2} of a linear RNN in the elman convention L_0 = CB + D (docs/math.md §8).

    Closed form: ‖H‖²₂ = tr(C P Cᵀ) + ‖D‖²_F + 2⟨CB, D⟩_F with P the controllability Gramian (:func:`gramians`).
    Returns ``inf`` for an unstable system (spectral radius of the transition matrix >= 1), where the sum diverges.

    Note: python-control's ``h2norm`` of the equivalent state space (A, B, CA, CB + D) gives the same number; its
    own (A, B, C, D) would give a different one because its impulse response is D, CB, CAB, … (module docstring).
    """
    A, B, Cm, D = _system(W, U, C, D, cell, dt)
    if spectral_radius(A) >= 1.0:
        return float("inf")
    P = sla.solve_discrete_lyapunov(A, B @ B.T)
    val = float(np.trace(Cm @ P @ Cm.T))
    if D is not None:
        val += float(np.sum(D * D) + 2.0 * np.sum((Cm @ B) * D))
    return float(np.sqrt(max(val, 0.0)))


def hankel_singular_values(W, U, C, cell: str = "elman", dt: float = 1.0) -> np.ndarray:
    """Hankel singular values sqrt(λ(P Q)), in decreasing order (docs/math.md §8).

    They are the singular values of the infinite Hankel matrix [C A^{i+j} B]_{i,j≥0} (rnnmem convention; D is not
    part of it). Computed stably by the square-root method: P = R Rᵀ, Q = S Sᵀ, σ = svd(Sᵀ R), which never forms
    the product P Q. Length m (zeros for uncontrollable / unobservable directions, up to rounding).
    """
    P, Q = gramians(W, U, C, cell, dt)
    s = np.linalg.svd(_psd_sqrt_factor(Q).T @ _psd_sqrt_factor(P), compute_uv=False)
    return np.sort(s)[::-1]


# ---------------------------------------------------------------------------------------------------- memory capacity
def _krylov_rows(W, u, K):
    out = np.empty((K, W.shape[0]))
    KL.krylov(np.ascontiguousarray(W), np.ascontiguousarray(u), K, out)
    return out


def _tail_length(W, u, k_min, tol=1e-17, cap=2_000_000):
    """Smallest K >= k_min with ‖W^k u‖ <= tol · max_j ‖W^j u‖ for k = K (decay observed on a doubling schedule)."""
    K = max(k_min, 2 * W.shape[0], 16)
    while True:
        rows = _krylov_rows(W, u, K)
        norms = np.sqrt(np.einsum("ij,ij->i", rows, rows))
        peak = norms.max()
        if peak == 0.0 or norms[-1] <= tol * peak and norms[-max(4, K // 8):].max() <= 10 * tol * peak:
            return rows
        if K * W.shape[0] > cap * 8:
            raise ValueError(f"memory_capacity(method='exact'): the impulse response has not decayed after {K} steps "
                             "(spectral radius too close to 1); use method='sampled'")
        K *= 2


def controllability_rank(W, u, *, rtol: float | None = None) -> int:
    """Numerical rank of the (infinite) Kalman controllability matrix [u, Wu, W²u, …] of a stable W.

    Rank of the truncated Krylov matrix (truncated where ‖W^k u‖ has decayed to 1e-17 of its peak) by SVD with
    tolerance ``rtol · σ_max`` (default max(K, m)·eps) — the same rank that :func:`memory_capacity` sums to.
    """
    W = _square(W)
    u = _vector(u, "u", W.shape[0])
    _require_stable(W, "controllability_rank()")
    rows = _tail_length(W, u, 1)
    s = np.linalg.svd(rows, compute_uv=False)
    tol = (max(rows.shape) * _EPS if rtol is None else rtol) * s[0]
    return int(np.sum(s > tol))


def memory_capacity(W, u, k_max: int, method: str = "exact", rng=None, *, samples: int = 200_000,
                    washout: int | None = None, ridge: float = 0.0, test_fraction: float = 0.5,
                    rtol: float | None = None) -> np.ndarray:
    """Jaeger's memory capacity MC_k, k = 0..k_max-1, of the linear reservoir h_t = W h_{t-1} + u s_t (docs/math.md §8).

    MC_k is the squared correlation between s_{t-k} and its best linear reconstruction from h_t, for i.i.d.
    unit-variance input s. Closed form: MC_k = (W^k u)ᵀ P⁺ (W^k u), P = W P Wᵀ + u uᵀ = Σ_j W^j u uᵀ (W^j)ᵀ, and
    Σ_{k≥0} MC_k = rank of the Kalman controllability matrix (= m if (W, u) is controllable).

    Parameters
    ----------
    W : array (m, m)
        Stable (spectral radius < 1).
    u : array (m,)
        Input weights.
    k_max : int
        Number of delays returned.
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

    Returns
    -------
    ndarray (k_max,)
    """
    check_choice(method, "method", ("exact", "sampled"))
    W = _square(W)
    m = W.shape[0]
    u = _vector(u, "u", m)
    k_max = check_int(k_max, "k_max", minimum=1)
    rho = _require_stable(W, "memory_capacity()")
    if method == "exact":
        rows = _tail_length(W, u, k_max)
        Uk, s, _ = np.linalg.svd(rows, full_matrices=False)
        if s[0] == 0.0:
            return np.zeros(k_max)
        tol = (max(rows.shape) * _EPS if rtol is None else check_positive(rtol, "rtol")) * s[0]
        r = int(np.sum(s > tol))
        return np.einsum("ij,ij->i", Uk[:k_max, :r], Uk[:k_max, :r])
    samples = check_int(samples, "samples", minimum=10)
    ridge = check_positive(ridge, "ridge", strict=False)
    test_fraction = check_positive(test_fraction, "test_fraction")
    if test_fraction >= 1.0:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction}")
    if washout is None:
        washout = int(np.ceil(np.log(1e-12) / np.log(max(rho, 1e-3)))) + m
    washout = check_int(washout, "washout", minimum=0)
    gen = as_rng(rng)
    T = washout + k_max + samples
    sig = gen.standard_normal(T)
    rnn = RNN(W, u[:, None], np.zeros(m), np.zeros((1, m)), activation="linear")
    H = rnn.states(sig[:, None])  # (T, m)
    t0 = washout + k_max
    n_test = max(1, int(round(samples * test_fraction)))
    n_train = samples - n_test
    if n_train < m:
        raise ValueError(f"samples={samples} leaves {n_train} training steps for {m} state dimensions; "
                         "increase samples")
    Htr, Hte = H[t0:t0 + n_train], H[t0 + n_train:]
    lam = ridge * float(np.mean(Htr * Htr)) * n_train
    # rank-revealing least squares (thin SVD of the state matrix): states confined to a subspace (uncontrollable
    # reservoirs) give a rank-deficient H; w_k = V_r S_r⁻¹ U_rᵀ s_{·-k} is the minimum-norm solution
    Uh, sv, Vt = np.linalg.svd(np.vstack([Htr, np.sqrt(lam) * np.eye(m)]) if lam > 0 else Htr, full_matrices=False)
    r = int(np.sum(sv > max(Uh.shape) * _EPS * sv[0])) if sv[0] > 0 else 0
    if r == 0:
        return np.zeros(k_max)
    xc = _xcorr(Uh[:n_train, :r], sig[t0 - k_max + 1:t0 + n_train], k_max)  # (k_max, r) = (U_rᵀ s_{·-k})ᵀ
    Wk = Vt[:r].T @ (xc / sv[:r]).T  # (m, k_max)
    a_te = sig[t0 + n_train - k_max + 1:t0 + n_train + n_test]
    ys = np.einsum("ik,ki->k", Wk, _xcorr(Hte, a_te, k_max))             # Σ_t ŷ_k[t] s[t-k]
    yy = np.einsum("ik,ij,jk->k", Wk, Hte.T @ Hte, Wk)                    # Σ_t ŷ_k[t]²
    ybar = Hte.mean(axis=0) @ Wk
    cs, cs2 = np.concatenate([[0.0], np.cumsum(a_te)]), np.concatenate([[0.0], np.cumsum(a_te * a_te)])
    lo = k_max - 1 - np.arange(k_max)                                     # s[t-k] window starts at a_te[lo]
    sbar = (cs[lo + n_test] - cs[lo]) / n_test
    ss = (cs2[lo + n_test] - cs2[lo]) / n_test
    cov = ys / n_test - ybar * sbar
    vy, vs = yy / n_test - ybar**2, ss - sbar**2
    den = vy * vs
    return np.where(den > 0, cov**2 / np.where(den > 0, den, 1.0), 0.0)


def _xcorr(M, a, k_max):
    """out[k, i] = Σ_t M[t, i] a[t + k_max - 1 - k], k = 0..k_max-1 (len(a) = len(M) + k_max - 1), by FFT."""
    from scipy.signal import fftconvolve

    out = fftconvolve(a[:, None], M[::-1], mode="valid", axes=0)  # out'[l] = Σ_t a[l + t] M[t]
    return out[::-1]


def fisher_memory(W, u, k_max: int, *, noise: float = 1.0) -> np.ndarray:
    """Fisher memory curve J(k), k = 0..k_max-1 (Ganguli, Huh & Sompolinsky, PNAS 2008; docs/math.md §8).

    For h_t = W h_{t-1} + u s_t + z_t with white noise z ~ N(0, ε I), ε = ``noise``:
    J(k) = uᵀ (W^k)ᵀ C_n⁻¹ W^k u / ε, C_n = Σ_j W^j (W^j)ᵀ (solve_discrete_lyapunov(W, I); C_n ⪰ I, so the
    Cholesky solve is well conditioned). Σ_k J(k) = ‖u‖²/ε for normal W and ≤ m‖u‖²/ε for any W.
    """
    W = _square(W)
    m = W.shape[0]
    u = _vector(u, "u", m)
    k_max = check_int(k_max, "k_max", minimum=1)
    noise = check_positive(noise, "noise")
    _require_stable(W, "fisher_memory()")
    Cn = sla.solve_discrete_lyapunov(W, np.eye(m))
    L = np.linalg.cholesky((Cn + Cn.T) / 2)
    Z = sla.solve_triangular(L, _krylov_rows(W, u, k_max).T, lower=True)
    return np.einsum("ij,ij->j", Z, Z) / noise


# ---------------------------------------------------------------------------------------------------- gains / Lyapunov
def bptt_gain(W, j_max: int, cell: str = "elman", dt: float = 1.0) -> np.ndarray:
    """BPTT gain g(j) = ‖A^j‖₂, j = 0..j_max-1, of a linear RNN (A = W elman, I + ΔtW euler; docs/math.md §8).

    ∂h_k/∂h_{k-j} = A^j for the linear cell, so g(j) bounds how much a gradient grows or vanishes over j steps
    (Bengio et al. 1994; Pascanu et al. 2013); g(j)^{1/j} → spectral radius of A (Gelfand). The NTK lag weights
    ρ_j² of :func:`rnnmem.ntk.lag_weights` are its init-averaged square.
    """
    check_choice(cell, "cell", CELLS)
    dt = check_positive(dt, "dt")
    W = _square(W)
    j_max = check_int(j_max, "j_max", minimum=1)
    A = W if cell == "elman" else np.eye(W.shape[0]) + dt * W
    out = np.empty(j_max)
    KL.power_norms(np.ascontiguousarray(A), out)
    return out


def _step_jacobians(model, x):
    """State Jacobians (B, T, S, S) of a model without an RNN kernel path (``model.step_jacobians``), squeeze flag."""
    if not callable(getattr(model, "step_jacobians", None)):
        raise TypeError(f"rnn must be an rnnmem.RNN (or have to_rnn()) or a model with step_jacobians(x) "
                        f"(StackedRNN, GRU, LSTM, DiagonalSSM, ...); got {type(model).__name__}")
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


def trajectory_gain(rnn, x, j_max: int) -> np.ndarray:
    """Gain of backpropagation along a trajectory: g(j) = ‖∂s_{T-1}/∂s_{T-1-j}‖₂, j = 0..j_max-1 (docs/math.md §8).

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
        The inputs driving the trajectory; j_max <= T.

    Returns
    -------
    ndarray (B, j_max) (or (j_max,) for a 2-D x)
    """
    if not hasattr(rnn, "to_rnn"):
        J, squeeze = _step_jacobians(rnn, x)
        j_max = check_int(j_max, "j_max", minimum=1)
        B, T, S, _ = J.shape
        if j_max > T:
            raise ValueError(f"j_max={j_max} exceeds the sequence length T={T}")
        out = np.empty((B, j_max))
        for b in range(B):
            M = np.eye(S)
            out[b, 0] = 1.0
            for j in range(1, j_max):
                M = M @ J[b, T - j]
                out[b, j] = np.linalg.norm(M, 2)
        return out[0] if squeeze else out
    rnn, squeeze, dz, a = _trajectory(rnn, x)
    j_max = check_int(j_max, "j_max", minimum=1)
    if j_max > dz.shape[1]:
        raise ValueError(f"j_max={j_max} exceeds the sequence length T={dz.shape[1]}")
    W = np.ascontiguousarray(rnn.W)
    out = np.empty((dz.shape[0], j_max))
    for b in range(dz.shape[0]):
        KL.backward_gains(W, np.ascontiguousarray(dz[b]), a, out[b])
    return out[0] if squeeze else out


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
            for t in range(T):
                Q, R = np.linalg.qr(J[b, t] @ Q)
                logr[t] = np.log(np.abs(np.diag(R)))
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
        KL.benettin(W, np.ascontiguousarray(dz[b]), a, Q, logr)
        out[b] = logr[washout:].mean(axis=0)
    return out[0] if squeeze else out


def top_lyapunov_exponent(rnn, x, *, washout: int = 0, rng=None):
    """The largest Lyapunov exponent (per step) of an input-driven RNN: :func:`lyapunov_exponents` with k = 1.

    Returns a float for a 2-D x, else an array (B,).
    """
    out = lyapunov_exponents(rnn, x, 1, washout=washout, rng=rng)
    return float(out[0]) if out.ndim == 1 else out[:, 0]
