"""Diagonal state-space layers: the linear recurrence of S4D and the LRU, with exact gradients and FFT outputs.

:class:`DiagonalSSM` (docs/models.md), with N complex states, d inputs, p outputs:

    h_k = λ ⊙ h_{k−1} + B x_k,   h_{−1} = 0,   y_k = Re(C h_k) + D x_k,

λ ∈ ℂ^N, B ∈ ℂ^{N×d}, C ∈ ℂ^{p×N}, D ∈ ℝ^{p×d}. It is a linear time-invariant map with Markov parameters
L_0 = Re(CB) + D, L_j = Re(C diag(λ^j) B) (y_k = Σ_{j≤k} L_j x_{k−j}); stable iff max |λ_n| < 1.

Parameterisations (the decay f from :mod:`rnnmem.reparam`, docs/math.md §6):

* :class:`S4D`: continuous a = −f(w) + iθ, step Δ = exp(log_dt), zero-order hold λ = e^{Δa}, B_d = (e^{Δa} − 1)/a ⊙ B
  (Gu et al. 2022, "On the parameterization and initialization of diagonal state space models"; f = exp is S4D's
  own A_re = −exp(log_A_real)).
* :class:`LRU`: λ = exp(−f(ν) + i e^{θ}), B_d = e^{γ} ⊙ B (Orvieto et al. 2023, "Resurrecting recurrent neural
  networks for long sequences"; f = exp is the LRU's ν parameterisation; ring initialisation in
  :meth:`LRU.random`).

Complex parameters get PyTorch's gradient convention ∂L/∂Re + i ∂L/∂Im (gradient descent θ ← θ − η g is then
correct); :func:`rnnmem.fit` steps their real and imaginary parts as two real parameters.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from rnnmem import _kernels_ssm as KS
from rnnmem._model import LOSSES, Frozen, loss_and_output_grad
from rnnmem._validate import (
    NonFiniteError,
    as_array,
    as_complex_array,
    as_rng,
    as_sequence_input,
    check_bool,
    check_choice,
    check_int,
    check_positive,
    check_size,
    first_nonfinite_step,
    shape_source,
)
from rnnmem.gated import NamedGradients
from rnnmem.reparam import Transform, transform

__all__ = ["DiagonalSSM", "S4D", "LRU", "METHODS"]

METHODS = ("auto", "scan", "fft")
#: below this length the outputs are always computed by the sequential scan
FFT_MIN_T = 256
#: rows and work (B·T·N·(d + p)) from which the scan runs under ``prange`` (numba threads > 1): the parallel kernel
#: is compiled afresh in every process (seconds), which smaller problems would not pay back
PARALLEL_MIN_ROWS = 4
PARALLEL_MIN_WORK = 20_000_000


def _flops_scan(B, T, N, d, p):
    """Model of the sequential evaluation's floating-point work: per row, step and state 4 (λh) + 2d (Bx) + 2p."""
    return B * T * N * (4 + 2 * d + 2 * p)


def _flops_fft(B, T, N, d, p):
    """Model of the FFT evaluation: the kernel (one complex GEMM, 8·T·N·p·d), real FFTs of length L ≈ 2T
    (≈ 2.5 L log2 L each: B·d forward, p·d for the kernel, B·p inverse) and the frequency-domain products."""
    L = 2 * T
    return 8 * T * N * p * d + 2.5 * L * math.log2(L) * (B * d + p * d + B * p) + 4 * B * p * d * L


class DiagonalSSM(Frozen):
    """A diagonal linear state-space layer h_k = λ ⊙ h_{k−1} + B x_k, y_k = Re(C h_k) + D x_k (module docstring).

    Parameters
    ----------
    lam : array (N,), complex
        Eigenvalues λ of the transition (|λ| < 1: stable).
    B : array (N, d), complex
    C : array (p, N), complex
    D : array (p, d), real, optional
        Feed-through; None means absent (no gradient is returned for it).

    Examples
    --------
    >>> import numpy as np, rnnmem as rm
    >>> ssm = rm.DiagonalSSM([0.9, 0.5 + 0.3j], [[1.0], [1.0j]], [[1.0, 1.0]])
    >>> ssm.markov(3)[:, 0, 0]
    array([1.  , 0.6 , 0.51])
    """

    __slots__ = ("_lam", "_B", "_C", "_D")

    def __init__(self, lam, B, C, D=None):
        lam = as_complex_array(lam, "lam", ndim=1)
        N = lam.shape[0]
        with shape_source(f"the number of states N = {N} comes from lam (shape {lam.shape})"):
            B = as_complex_array(B, "B", shape=(N, None))
            C = as_complex_array(C, "C", shape=(None, N))
        if D is not None:
            D = as_array(D, "D", shape=(C.shape[0], B.shape[1]))
        self._freeze(lam=lam, B=B, C=C, D=D)

    lam = property(lambda self: self._lam, doc="Eigenvalues λ (N,), read-only.")
    B = property(lambda self: self._B, doc="Input matrix (N, d), read-only.")
    C = property(lambda self: self._C, doc="Output matrix (p, N), read-only.")
    D = property(lambda self: self._D, doc="Feed-through (p, d) or None.")
    hidden = property(lambda self: self._lam.shape[0], doc="Number N of complex states.")
    inputs = property(lambda self: self._B.shape[1], doc="Input features d.")
    outputs = property(lambda self: self._C.shape[0], doc="Output features p.")
    state_size = property(lambda self: 2 * self._lam.shape[0], doc="Real state dimension 2N.")

    def params(self) -> dict[str, np.ndarray]:
        """The parameter blocks lam, B, C (complex) and D (when present)."""
        out = {"lam": self._lam, "B": self._B, "C": self._C}
        if self._D is not None:
            out["D"] = self._D
        return out

    def to_ssm(self) -> DiagonalSSM:
        """The model itself (the protocol shared with :class:`S4D` and :class:`LRU`)."""
        return self

    def spectral_radius(self) -> float:
        """max |λ_n|: the recurrence is stable iff < 1."""
        return float(np.abs(self._lam).max())

    def __repr__(self) -> str:
        return (f"DiagonalSSM(N={self.hidden}, inputs={self.inputs}, outputs={self.outputs}, "
                f"max|λ|={self.spectral_radius():.4g}, D={'yes' if self._D is not None else 'None'})")

    # ------------------------------------------------------------------ construction
    @classmethod
    def zoh(cls, a, B, C, D=None, *, dt) -> DiagonalSSM:
        """Zero-order-hold discretisation of the continuous diagonal system dh/dt = a ⊙ h + B x(t), y = Re(Ch) + Dx
        with step Δ = ``dt`` (scalar or (N,)): λ = e^{Δa}, B_d = (e^{Δa} − 1)/a ⊙ B (→ Δ B as a → 0), as in S4D."""
        a = as_complex_array(a, "a", ndim=1)
        dt = as_array(dt, "dt", ndim=(0, 1))
        if dt.ndim == 1 and dt.shape != a.shape:
            raise ValueError(f"dt has shape {dt.shape}, expected () or {a.shape} (one step per state)")
        dt = np.broadcast_to(dt, a.shape)
        if np.any(dt <= 0):
            raise ValueError(f"dt must be > 0, got min {dt.min()!r}")
        with np.errstate(over="ignore", invalid="ignore"):
            lam, phi = _zoh(a, dt)
        if not (np.isfinite(lam).all() and np.isfinite(phi).all()):
            raise NonFiniteError("e^{dt·a} overflows: a has a large positive real part or dt is too large (the "
                                 "continuous system grows faster than the float range over one step)")
        B = as_complex_array(B, "B", shape=(a.shape[0], None))
        return cls(lam, phi[:, None] * B, C, D)

    @classmethod
    def random(cls, hidden: int, inputs: int = 1, outputs: int = 1, *, r_min: float = 0.5, r_max: float = 0.99,
               max_phase: float = math.pi, feedthrough: bool = False, rng=None) -> DiagonalSSM:
        """The LRU's ring initialisation (:meth:`LRU.random`) as a plain DiagonalSSM: |λ| uniform on the ring area
        r_min ≤ |λ| ≤ r_max, phase uniform in [0, max_phase], B ~ CN(0, 1/d)·√(1 − |λ|²), C ~ CN(0, 1/N)."""
        return LRU.random(hidden, inputs, outputs, r_min=r_min, r_max=r_max, max_phase=max_phase,
                          feedthrough=feedthrough, rng=rng).to_ssm()

    # ------------------------------------------------------------------ closed forms
    def _kernel(self, n: int) -> np.ndarray:
        """K_j = Re(C diag(λ^j) B), j = 0..n−1, shape (n, p, d), without D.

        λ^j for j = qS + r as (λ^S)^q · λ^r (S = ⌈√n⌉, both tables by cumulative products) and one complex GEMM
        over the states: O(n·N·p·d) work, relative rounding O(√n·ε) per power.
        """
        N, d, p = self.hidden, self.inputs, self.outputs
        S = max(1, math.isqrt(max(n - 1, 0)) + 1)
        nq = -(-n // S)
        lam = self._lam
        with np.errstate(over="ignore", invalid="ignore"):  # unstable models overflow; markov() reports it
            return self._kernel_powers(n, S, nq, lam, N, d, p)

    def _kernel_powers(self, n, S, nq, lam, N, d, p):
        P = np.cumprod(np.concatenate([np.ones((1, N), complex), np.broadcast_to(lam, (S - 1, N))]), axis=0)  # (S, N)
        lamS = P[-1] * lam
        Q = np.cumprod(np.concatenate([np.ones((1, N), complex), np.broadcast_to(lamS, (nq - 1, N))]), axis=0)
        Wt = (self._C[:, None, :] * self._B.T[None, :, :]).reshape(p * d, N)  # W[(o, j), n] = C[o, n] B[n, j]
        M = (Q[:, None, :] * Wt[None]).reshape(nq * p * d, N) @ P.T  # (nq·p·d, S)
        K = M.real.reshape(nq, p, d, S).transpose(0, 3, 1, 2).reshape(nq * S, p, d)[:n]
        return np.ascontiguousarray(K)

    def markov(self, n: int) -> np.ndarray:
        """Markov parameters L_0..L_{n−1} (n, p, d): L_0 = Re(CB) + D, L_j = Re(C diag(λ^j) B), so that
        ``ssm(x)[:, k] = Σ_{j≤k} L_j x_{k−j}`` exactly (same index convention as :meth:`rnnmem.RNN.markov`)."""
        n = check_int(n, "n", minimum=1)
        check_size(f"markov(n={n})", n, self.outputs, self.inputs)
        K = self._kernel(n)
        if self._D is not None:
            K[0] += self._D
        if not np.isfinite(K).all():
            step = first_nonfinite_step(K, 0)
            raise NonFiniteError(f"Markov parameters overflow at lag {step}: max|λ| = {self.spectral_radius():.6g} "
                                 "> 1; use a smaller n", step=step)
        return K

    # ------------------------------------------------------------------ forward
    def _pick_method(self, method: str, B: int, T: int) -> str:
        method = check_choice(method, "method", METHODS)
        if method != "auto":
            return method
        N, d, p = self.hidden, self.inputs, self.outputs
        if T < FFT_MIN_T or self.spectral_radius() > 1.0:
            return "scan"
        return "fft" if _flops_fft(B, T, N, d, p) < _flops_scan(B, T, N, d, p) else "scan"

    def _scan_outputs(self, X):
        B, T, d = X.shape
        xt = np.ascontiguousarray(X.transpose(1, 0, 2))
        y = np.empty((T, B, self.outputs))
        Bt = self._B.T
        work = B * T * self.hidden * (d + self.outputs)
        parallel = B >= PARALLEL_MIN_ROWS and work >= PARALLEL_MIN_WORK and numba.get_num_threads() > 1
        fn = KS.scan_readout_parallel if parallel else KS.scan_readout
        Ct = self._C.T
        fn(np.ascontiguousarray(self._lam.real), np.ascontiguousarray(self._lam.imag), np.ascontiguousarray(Bt.real),
           np.ascontiguousarray(Bt.imag), np.ascontiguousarray(Ct.real), np.ascontiguousarray(Ct.imag), xt, y)
        return y.transpose(1, 0, 2)

    def _fft_outputs(self, X):
        import scipy.fft

        B, T, d = X.shape
        K = self._kernel(T)  # (T, p, d)
        p = self.outputs
        L = scipy.fft.next_fast_len(2 * T - 1, real=True)
        Xf = scipy.fft.rfft(np.ascontiguousarray(X.transpose(0, 2, 1)), n=L, axis=-1)  # (B, d, F)
        Kf = scipy.fft.rfft(np.ascontiguousarray(K.transpose(1, 2, 0)), n=L, axis=-1)  # (p, d, F)
        Yf = np.zeros((B, p, Xf.shape[2]), complex)
        for o in range(p):  # p·d element-wise products over (B, F): cheaper than a (p, d) matmul per frequency
            for j in range(d):
                Yf[:, o] += Xf[:, j] * Kf[o, j]
        return scipy.fft.irfft(Yf, n=L, axis=-1)[:, :, :T].transpose(0, 2, 1)

    def __call__(self, x, *, method: str = "auto", check_finite: bool = True) -> np.ndarray:
        """Outputs y (B, T, p) for inputs x (B, T, d) (a 2-D x (T, d) gives (T, p)).

        Parameters
        ----------
        method : {"auto", "scan", "fft"}
            ``scan``: the sequential recurrence, O(B·T·N·(d + p)). ``fft``: the causal convolution with the Markov
            parameters by FFT, O(T·N·p·d + B·(d + p)·T log T) (equal to the scan up to rounding, ~1e-15 relative to
            Σ|L_j|·max|x|). ``auto``: fft for T ≥ ``FFT_MIN_T`` when a flop-count model says it is cheaper and the
            model is stable (max|λ| ≤ 1), else scan.
        check_finite : bool
            Raise :class:`~rnnmem.NonFiniteError` naming the first non-finite step.
        """
        check_bool(check_finite, "check_finite")
        X, squeeze = as_sequence_input(x, self.inputs)
        B, T, _ = X.shape
        meth = self._pick_method(method, B, T)
        with np.errstate(over="ignore", invalid="ignore"):  # reported below
            y = self._fft_outputs(X) if meth == "fft" else self._scan_outputs(X)
            if self._D is not None:
                y = y + X @ self._D.T
        y = np.ascontiguousarray(y)
        if check_finite:
            step = first_nonfinite_step(y, 1)
            if step >= 0:
                raise NonFiniteError(f"the SSM's outputs became non-finite at time step {step} (max|λ| = "
                                     f"{self.spectral_radius():.6g}); pass check_finite=False for the raw values",
                                     step=step)
        return y[0] if squeeze else y

    def states(self, x, *, check_finite: bool = True) -> np.ndarray:
        """The complex states h_k (B, T, N) (or (T, N) for a 2-D x).

        Raises :class:`~rnnmem.NonFiniteError` naming the first non-finite step unless ``check_finite=False``.
        """
        check_bool(check_finite, "check_finite")
        X, squeeze = as_sequence_input(x, self.inputs)
        with np.errstate(over="ignore", invalid="ignore"):
            H = self._states(X)
        if check_finite:
            step = first_nonfinite_step(H, 0)
            if step >= 0:
                raise NonFiniteError(f"the SSM's states became non-finite at time step {step} (max|λ| = "
                                     f"{self.spectral_radius():.6g}, or x too large); pass check_finite=False for "
                                     "the raw values", step=step)
        out = np.ascontiguousarray(H.transpose(1, 0, 2))
        return out[0] if squeeze else out

    def _states(self, X):
        """States (T, B, N) complex by the scan kernel."""
        B, T, d = X.shape
        U = (X.transpose(1, 0, 2).reshape(T * B, d) @ self._B.T).reshape(T, B, -1)
        return self._scan(self._lam, U)

    @staticmethod
    def _scan(lam, U):
        hr = np.empty(U.shape)
        hi = np.empty(U.shape)
        KS.scan(np.ascontiguousarray(lam.real), np.ascontiguousarray(lam.imag), np.ascontiguousarray(U.real),
                np.ascontiguousarray(U.imag), hr, hi)
        return hr + 1j * hi

    # ------------------------------------------------------------------ backward
    def _backward(self, X, squeeze, Hs, dY, check_finite) -> NamedGradients:
        B, T, d = X.shape
        N, p = self.hidden, self.outputs
        Xt = X.transpose(1, 0, 2).reshape(T * B, d)
        dYt = dY.transpose(1, 0, 2).reshape(T * B, p)
        c = (dYt @ np.conj(self._C)).reshape(T, B, N)  # ∂L/∂h_k from the readout
        G = self._scan(np.conj(self._lam), c[::-1])[::-1]  # g_k = c_k + conj(λ) g_{k+1}
        G2 = G.reshape(T * B, N)
        H2 = Hs.reshape(T * B, N)
        g_lam = (G[1:] * np.conj(Hs[:-1])).sum(axis=(0, 1)) if T > 1 else np.zeros(N, complex)
        grads = {"lam": g_lam, "B": G2.T @ Xt, "C": dYt.T @ np.conj(H2)}
        gx = (np.conj(G2) @ self._B).real
        if self._D is not None:
            grads["D"] = dYt.T @ Xt
            gx = gx + dYt @ self._D
        gx = np.ascontiguousarray(gx.reshape(T, B, d).transpose(1, 0, 2))
        if check_finite:
            bad = [k for k, v in grads.items() if not np.isfinite(v).all()]
            if not np.isfinite(gx).all():
                bad.append("x")
            if bad:
                raise NonFiniteError(f"backpropagated gradients became non-finite (blocks {bad}): an unstable SSM "
                                     "(max|λ| > 1), or dy or x too large; pass check_finite=False for the raw values")
        return NamedGradients(grads, gx[0] if squeeze else gx)

    def vjp(self, x, dy, *, check_finite: bool = True) -> NamedGradients:
        """Exact gradients (BPTT through the stored states) of ``sum(dy * ssm(x))``.

        With g_k = ∂L/∂h_k (∂L/∂Re + i ∂L/∂Im): g_k = C^H dy_k + conj(λ) ⊙ g_{k+1}; ∂λ = Σ_k g_k ⊙ conj(h_{k−1}),
        ∂B = Σ_k g_k x_kᵀ, ∂C = Σ_k dy_k h_k^H, ∂D = Σ_k dy_k x_kᵀ, ∂x_k = Re(B^H g_k) + Dᵀ dy_k. Memory O(T·B·N).
        """
        check_bool(check_finite, "check_finite")
        X, squeeze = as_sequence_input(x, self.inputs)
        B, T, _ = X.shape
        want = (T, self.outputs) if squeeze else (B, T, self.outputs)
        dY = as_array(dy, "dy", shape=want)
        dY = dY[None] if squeeze else dY
        with np.errstate(over="ignore", invalid="ignore"):
            return self._backward(X, squeeze, self._states(X), dY, check_finite)

    def loss_and_grad(self, x, y_target, loss: str = "mse", *, power: float = 2.0,
                      check_finite: bool = True) -> tuple[float, NamedGradients]:
        """A loss of the outputs (as :meth:`rnnmem.RNN.loss_and_grad`) and its exact gradients."""
        check_choice(loss, "loss", LOSSES)
        check_bool(check_finite, "check_finite")
        X, squeeze = as_sequence_input(x, self.inputs)
        B, T, _ = X.shape
        with np.errstate(over="ignore", invalid="ignore"):
            Hs = self._states(X)
            yhat = (Hs.reshape(T * B, -1) @ self._C.T).real.reshape(T, B, -1).transpose(1, 0, 2)
            if self._D is not None:
                yhat = yhat + X @ self._D.T
        if check_finite and not np.isfinite(yhat).all():
            step = first_nonfinite_step(yhat, 1)
            raise NonFiniteError(f"the SSM's outputs became non-finite at time step {step} (max|λ| = "
                                 f"{self.spectral_radius():.6g}, or x too large)", step=step)
        value, dY = loss_and_output_grad(yhat, y_target, loss, power, squeeze)
        with np.errstate(over="ignore", invalid="ignore"):
            return value, self._backward(X, squeeze, Hs, dY, check_finite)

    # ------------------------------------------------------------------ Jacobians
    def jacobian(self, h=None, x=None) -> np.ndarray:
        """The real state-transition matrix (2N, 2N) acting on [Re h; Im h]: [[Re Λ, −Im Λ], [Im Λ, Re Λ]] with
        Λ = diag(λ) (the same at every state and input: the layer is linear). Its eigenvalues are λ and conj(λ).

        ``h`` and ``x`` are accepted for the protocol shared with the nonlinear models and validated (shapes (2N,)
        and (d,)), but do not change the result."""
        if h is not None:
            as_array(h, "h", shape=(self.state_size,))
        if x is not None:
            as_array(x, "x", shape=(self.inputs,))
        check_size(f"jacobian (state size {self.state_size})", self.state_size, self.state_size)
        lr, li = np.diag(self._lam.real), np.diag(self._lam.imag)
        return np.block([[lr, -li], [li, lr]])

    def step_jacobians(self, x, h0=None) -> np.ndarray:
        """The (constant) state Jacobians along x: (B, T, 2N, 2N) (or (T, 2N, 2N))."""
        X, squeeze = as_sequence_input(x, self.inputs)
        check_size("step_jacobians", X.shape[0], X.shape[1], self.state_size, self.state_size)
        J = self.jacobian()
        out = np.broadcast_to(J, X.shape[:2] + J.shape).copy()
        return out[0] if squeeze else out


def _zoh(a, dt):
    """λ = e^{Δa} and φ = (e^{Δa} − 1)/a (series Δ(1 + Δa/2 + (Δa)²/6 + (Δa)³/24) for |Δa| < 1e-4)."""
    z = dt * a
    lam = np.exp(z)
    small = np.abs(z) < 1e-4
    safe = np.where(small, 1.0, a)
    phi = np.where(small, dt * (1 + z / 2 + z * z / 6 + z ** 3 / 24), (lam - 1.0) / safe)
    return lam, phi


class _ParamSSM(Frozen):
    """Shared mechanics of the parameterised SSMs: evaluation through :meth:`to_ssm`, gradients by the chain rule."""

    __slots__ = ()

    inputs = property(lambda self: self._B.shape[1], doc="Input features d.")
    outputs = property(lambda self: self._C.shape[0], doc="Output features p.")
    hidden = property(lambda self: self._B.shape[0], doc="Number N of complex states.")
    state_size = property(lambda self: 2 * self._B.shape[0], doc="Real state dimension 2N.")
    f = property(lambda self: self._f, doc="The decay :class:`rnnmem.reparam.Transform` f.")

    def __call__(self, x, *, method: str = "auto", check_finite: bool = True) -> np.ndarray:
        """Outputs of the effective :class:`DiagonalSSM` (see :meth:`DiagonalSSM.__call__`)."""
        return self.to_ssm()(x, method=method, check_finite=check_finite)

    def markov(self, n: int) -> np.ndarray:
        """Markov parameters of the effective :class:`DiagonalSSM`."""
        return self.to_ssm().markov(n)

    def jacobian(self, h=None, x=None) -> np.ndarray:
        return self.to_ssm().jacobian(h, x)

    def step_jacobians(self, x, h0=None) -> np.ndarray:
        return self.to_ssm().step_jacobians(x, h0)

    def vjp(self, x, dy, *, check_finite: bool = True) -> NamedGradients:
        """Gradients of ``sum(dy * model(x))`` with respect to the raw parameters (BPTT + chain rule)."""
        return self._chain(self.to_ssm().vjp(x, dy, check_finite=check_finite))

    def loss_and_grad(self, x, y_target, loss: str = "mse", *, power: float = 2.0,
                      check_finite: bool = True) -> tuple[float, NamedGradients]:
        """A loss of the effective SSM and its raw-parameter gradients."""
        value, g = self.to_ssm().loss_and_grad(x, y_target, loss, power=power, check_finite=check_finite)
        return value, self._chain(g)


def _check_effective(model, names: str) -> None:
    """The effective DiagonalSSM of a parameterised model must be finite (raw values beyond exp's range give inf)."""
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        try:
            model.to_ssm()
        except ValueError as exc:
            raise NonFiniteError(f"the parameters ({names}) give a non-finite effective SSM (an exponential "
                                 f"overflows): {exc}") from None


def _complex_init(gen, shape, scale):
    return (gen.standard_normal(shape) + 1j * gen.standard_normal(shape)) * (scale / math.sqrt(2.0))


class S4D(_ParamSSM):
    """S4D: a diagonal SSM from continuous parameters by zero-order hold (module docstring).

    a = −f(w) + iθ, Δ = exp(log_dt), λ = e^{Δa}, B_d = (e^{Δa} − 1)/a ⊙ B; y = Re(C h) + D x.

    Parameters
    ----------
    w, theta : arrays (N,)
        Raw decay parameters (decay rate f(w) > 0 for a positive f) and frequencies θ.
    log_dt : float or array (N,)
        Log step sizes (one per state, or shared).
    B : array (N, d), complex;  C : array (p, N), complex;  D : array (p, d) or None
    f : str or :class:`rnnmem.reparam.Transform`
        The decay reparameterisation (default "exp": S4D's A_re = −exp(log_A_real)).
    """

    __slots__ = ("_w", "_theta", "_log_dt", "_B", "_C", "_D", "_f")

    def __init__(self, w, theta, log_dt, B, C, D=None, *, f: str | Transform = "exp"):
        f = transform(f)
        w = as_array(w, "w", ndim=1)
        N = w.shape[0]
        with shape_source(f"the number of states N = {N} comes from w (shape {w.shape})"):
            theta = as_array(theta, "theta", shape=(N,))
            log_dt = as_array(log_dt, "log_dt", ndim=(0, 1))
            if log_dt.ndim == 1 and log_dt.shape != (N,):
                raise ValueError(f"log_dt has shape {log_dt.shape}, expected () or ({N},)")
            B = as_complex_array(B, "B", shape=(N, None))
            C = as_complex_array(C, "C", shape=(None, N))
        if D is not None:
            D = as_array(D, "D", shape=(C.shape[0], B.shape[1]))
        try:
            f(w)
        except NonFiniteError as exc:
            raise NonFiniteError(f"w: {exc}") from None
        self._freeze(w=w, theta=theta, log_dt=log_dt, B=B, C=C, D=D, f=f)
        _check_effective(self, "w, theta, log_dt")

    def params(self) -> dict[str, np.ndarray]:
        """Raw blocks w, theta, log_dt, B, C (and D)."""
        out = {"w": self._w, "theta": self._theta, "log_dt": self._log_dt, "B": self._B, "C": self._C}
        if self._D is not None:
            out["D"] = self._D
        return out

    @property
    def a(self) -> np.ndarray:
        """Continuous eigenvalues a = −f(w) + iθ."""
        return -self._f(self._w) + 1j * self._theta

    @property
    def rates(self) -> np.ndarray:
        """Decay rates f(w) (per unit time; per step: Δ f(w))."""
        return self._f(self._w)

    def to_ssm(self) -> DiagonalSSM:
        """The effective DiagonalSSM (zero-order hold)."""
        dt = np.broadcast_to(np.exp(self._log_dt), self._w.shape)
        lam, phi = _zoh(self.a, dt)
        return DiagonalSSM(lam, phi[:, None] * self._B, self._C, self._D)

    def __repr__(self) -> str:
        return f"S4D(N={self.hidden}, inputs={self.inputs}, outputs={self.outputs}, f={self._f.name!r})"

    @classmethod
    def random(cls, hidden: int, inputs: int = 1, outputs: int = 1, *, dt_min: float = 1e-3, dt_max: float = 1e-1,
               init: str = "lin", f: str | Transform = "exp", feedthrough: bool = False, rng=None) -> S4D:
        """S4D's initialisation: S4D-Lin a_n = −1/2 + iπn (or S4D-Inv a_n = −1/2 + i(N/π)(N/(2n+1) − 1)),
        Δ log-uniform in [dt_min, dt_max] per state, B = 1, C ~ CN(0, 1), D ~ N(0, 1) when ``feedthrough``."""
        N = check_int(hidden, "hidden", minimum=1)
        d = check_int(inputs, "inputs", minimum=1)
        p = check_int(outputs, "outputs", minimum=1)
        check_choice(init, "init", ("lin", "inv"))
        lo, hi = check_positive(dt_min, "dt_min"), check_positive(dt_max, "dt_max")
        if lo > hi:
            raise ValueError(f"dt_min must be <= dt_max, got {dt_min} > {dt_max}")
        feedthrough = check_bool(feedthrough, "feedthrough")
        check_size(f"S4D.random(hidden={N}, inputs={d}, outputs={p})", 2 * N * (d + p) + p * d + 3 * N)
        tf = transform(f)
        gen = as_rng(rng)
        n = np.arange(N)
        theta = np.pi * n if init == "lin" else (N / np.pi) * (N / (2 * n + 1) - 1)
        w = tf.inverse(np.full(N, 0.5))
        log_dt = gen.uniform(np.log(lo), np.log(hi), N)
        B = np.ones((N, d), complex)
        C = _complex_init(gen, (p, N), 1.0)
        D = gen.standard_normal((p, d)) if feedthrough else None
        return cls(w, theta, log_dt, B, C, D, f=tf)

    def _chain(self, g: NamedGradients) -> NamedGradients:
        dt = np.broadcast_to(np.exp(self._log_dt), self._w.shape)
        a = self.a
        lam, phi = _zoh(a, dt)
        G_lam = g["lam"]
        G_phi = (g["B"] * np.conj(self._B)).sum(axis=1)
        z = dt * a
        small = np.abs(z) < 1e-4
        safe = np.where(small, 1.0, a)
        # ∂φ/∂a = (Δ a e^{Δa} − (e^{Δa} − 1))/a² (→ Δ²/2 (1 + 2Δa/3) as Δa → 0), ∂φ/∂Δ = e^{Δa}
        dphi_da = np.where(small, dt * dt * (0.5 + z / 3 + z * z / 8), (z * lam - (lam - 1.0)) / (safe * safe))
        G_a = np.conj(dt * lam) * G_lam + np.conj(dphi_da) * G_phi
        G_dt = (np.conj(G_lam) * a * lam + np.conj(G_phi) * lam).real
        blocks = {"w": -self._f.derivative(self._w) * G_a.real, "theta": G_a.imag,
                  "log_dt": (dt * G_dt) if self._log_dt.ndim == 1 else np.asarray((dt * G_dt).sum()),
                  "B": np.conj(phi)[:, None] * g["B"], "C": g["C"]}
        if self._D is not None:
            blocks["D"] = g["D"]
        return NamedGradients(blocks, g.x)


class LRU(_ParamSSM):
    """The Linear Recurrent Unit's parameterisation (module docstring): λ = exp(−f(ν) + i e^{θ}), B_d = e^{γ} ⊙ B.

    Parameters
    ----------
    nu, theta, gamma : arrays (N,)
        Raw decay (|λ| = e^{−f(ν)}), log-phase (arg λ = e^{θ}) and log input normalisation γ.
    B : array (N, d), complex;  C : array (p, N), complex;  D : array (p, d) or None
    f : str or :class:`rnnmem.reparam.Transform`
        The decay reparameterisation (default "exp": the LRU's ν_log).
    """

    __slots__ = ("_nu", "_theta", "_gamma", "_B", "_C", "_D", "_f")

    def __init__(self, nu, theta, gamma, B, C, D=None, *, f: str | Transform = "exp"):
        f = transform(f)
        nu = as_array(nu, "nu", ndim=1)
        N = nu.shape[0]
        with shape_source(f"the number of states N = {N} comes from nu (shape {nu.shape})"):
            theta = as_array(theta, "theta", shape=(N,))
            gamma = as_array(gamma, "gamma", shape=(N,))
            B = as_complex_array(B, "B", shape=(N, None))
            C = as_complex_array(C, "C", shape=(None, N))
        if D is not None:
            D = as_array(D, "D", shape=(C.shape[0], B.shape[1]))
        try:
            f(nu)
        except NonFiniteError as exc:
            raise NonFiniteError(f"nu: {exc}") from None
        self._freeze(nu=nu, theta=theta, gamma=gamma, B=B, C=C, D=D, f=f)
        _check_effective(self, "nu, theta, gamma")

    def params(self) -> dict[str, np.ndarray]:
        """Raw blocks nu, theta, gamma, B, C (and D)."""
        out = {"nu": self._nu, "theta": self._theta, "gamma": self._gamma, "B": self._B, "C": self._C}
        if self._D is not None:
            out["D"] = self._D
        return out

    @property
    def rates(self) -> np.ndarray:
        """Decay rates per step f(ν) = −log|λ|."""
        return self._f(self._nu)

    @property
    def lam(self) -> np.ndarray:
        """λ = exp(−f(ν) + i e^{θ})."""
        return np.exp(-self._f(self._nu) + 1j * np.exp(self._theta))

    def to_ssm(self) -> DiagonalSSM:
        """The effective DiagonalSSM."""
        return DiagonalSSM(self.lam, np.exp(self._gamma)[:, None] * self._B, self._C, self._D)

    def __repr__(self) -> str:
        return f"LRU(N={self.hidden}, inputs={self.inputs}, outputs={self.outputs}, f={self._f.name!r})"

    @classmethod
    def random(cls, hidden: int, inputs: int = 1, outputs: int = 1, *, r_min: float = 0.0, r_max: float = 1.0,
               max_phase: float = 2 * math.pi, f: str | Transform = "exp", feedthrough: bool = False,
               rng=None) -> LRU:
        """The LRU's ring initialisation: |λ| uniform on the area of the ring r_min ≤ |λ| ≤ r_max, i.e.
        |λ|² = u₁(r_max² − r_min²) + r_min², arg λ = u₂·max_phase (u ~ U(0, 1)); γ = log √(1 − |λ|²);
        B ~ CN(0, 1/d) (E|B_ij|² = 1/d), C ~ CN(0, 1/N), D ~ N(0, 1) when ``feedthrough``."""
        N = check_int(hidden, "hidden", minimum=1)
        d = check_int(inputs, "inputs", minimum=1)
        p = check_int(outputs, "outputs", minimum=1)
        r_min = check_positive(r_min, "r_min", strict=False)
        r_max = check_positive(r_max, "r_max")
        if not r_min < r_max <= 1.0:
            raise ValueError(f"need 0 <= r_min < r_max <= 1, got r_min={r_min}, r_max={r_max}")
        max_phase = check_positive(max_phase, "max_phase")
        feedthrough = check_bool(feedthrough, "feedthrough")
        check_size(f"LRU.random(hidden={N}, inputs={d}, outputs={p})", 2 * N * (d + p) + p * d + 3 * N)
        tf = transform(f)
        gen = as_rng(rng)
        u1, u2 = gen.uniform(size=N), gen.uniform(size=N)
        r2 = u1 * (r_max ** 2 - r_min ** 2) + r_min ** 2
        r2 = np.clip(r2, 1e-300, 1.0 - 1e-12)
        nu = tf.inverse(-0.5 * np.log(r2))
        theta = np.log(np.maximum(max_phase * u2, 1e-300))
        gamma = np.log(np.sqrt(1.0 - r2))
        B = _complex_init(gen, (N, d), 1.0 / math.sqrt(d))
        C = _complex_init(gen, (p, N), 1.0 / math.sqrt(N))
        D = gen.standard_normal((p, d)) if feedthrough else None
        return cls(nu, theta, gamma, B, C, D, f=tf)

    def _chain(self, g: NamedGradients) -> NamedGradients:
        lam = self.lam
        G_a = np.conj(lam) * g["lam"]  # a = −f(ν) + i e^θ, λ = e^a
        eg = np.exp(self._gamma)
        G_scale = (g["B"] * np.conj(self._B)).sum(axis=1)
        blocks = {"nu": -self._f.derivative(self._nu) * G_a.real, "theta": np.exp(self._theta) * G_a.imag,
                  "gamma": eg * G_scale.real, "B": eg[:, None] * g["B"], "C": g["C"]}
        if self._D is not None:
            blocks["D"] = g["D"]
        return NamedGradients(blocks, g.x)
