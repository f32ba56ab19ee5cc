"""The RNN model: forward pass, hidden states, exact backpropagation through time, losses, Markov parameters.

Cells (docs/math.md §1), with ``x`` of shape (B, T, d), hidden width m and outputs p:

* ``"elman"`` (discrete; PyTorch's ``nn.RNN``; [P2]):
  h_k = σ(W h_{k-1} + U x_k + b), h_{-1} = 0, y_k = C h_k + D x_k.
* ``"euler"`` (forward-Euler discretisation of the continuous-time RNN dh/dt = σ(Wh + Ux + b), [P1 eq. 1]):
  h_{k+1} = h_k + Δt σ(W h_k + U x_k + b), h_0 = 0, y_k = C h_{k+1} + D x_k.

Activations σ: ``tanh``, ``linear`` (identity), ``hardtanh`` (clip to [-1, 1]), ``relu``.
"""

from __future__ import annotations

import contextlib
import math
import threading
from dataclasses import dataclass

import numba
import numpy as np

from rnnmem import _kernels as K
from rnnmem._model import LOSSES, Frozen, loss_and_output_grad
from rnnmem._validate import (
    NonFiniteError,
    as_array,
    as_rng,
    as_sequence_input,
    check_choice,
    check_int,
    check_positive,
    first_nonfinite_step,
)

__all__ = ["RNN", "Gradients", "CELLS", "ACTIVATIONS", "LOSSES", "simulate_stack"]

CELLS = ("elman", "euler")
ACTIVATIONS = tuple(K.ACTIVATIONS)

#: the per-step (rows, m) @ (m, m) BLAS product beats tight per-row loops once rows * m >= BLAS_MIN_WORK or
#: m >= BLAS_MIN_HIDDEN (measured: BLAS 1.0-2.9x faster above, loops up to 3.5x faster below; see docs/rnn.md)
BLAS_MIN_WORK = 160
BLAS_MIN_HIDDEN = 64
#: rows and work per call (T * rows * m * m) from which the ``prange`` loop kernel is used (numba threads > 1)
PARALLEL_MIN_ROWS = 4
PARALLEL_MIN_WORK = 200_000


@dataclass(frozen=True)
class Gradients:
    """Gradients of a scalar with respect to every parameter block and the input.

    ``D`` is None when the model has no feed-through. ``x`` has the shape of the input given (2-D or 3-D).
    """

    W: np.ndarray
    U: np.ndarray
    b: np.ndarray
    C: np.ndarray
    D: np.ndarray | None
    x: np.ndarray

    def params(self) -> dict[str, np.ndarray]:
        """Parameter gradients as a dict (``D`` omitted when absent), in the order W, U, b, C, D."""
        out = {"W": self.W, "U": self.U, "b": self.b, "C": self.C}
        if self.D is not None:
            out["D"] = self.D
        return out


def _cell_coefficients(cell: str, dt: float) -> tuple[float, float]:
    return (0.0, 1.0) if cell == "elman" else (1.0, dt)


#: internal (T, rows, m) buffers up to this size are kept per thread and reused by the next call of the same or
#: smaller size: allocating them afresh costs a page fault per 4 KiB (3x the compute at m = 16, B = 32, T = 1000
#: on the development VM). Arrays returned to the caller are never workspace buffers.
WORKSPACE_MAX_BYTES = 64 << 20
_WORKSPACE = threading.local()


def _workspace(slot: str, shape: tuple[int, ...]) -> np.ndarray:
    """An uninitialised float64 array of ``shape`` backed by this thread's reusable buffer ``slot``."""
    n = math.prod(shape)
    if 8 * n > WORKSPACE_MAX_BYTES:
        return np.empty(shape)
    bufs = getattr(_WORKSPACE, "bufs", None)
    if bufs is None:
        bufs = _WORKSPACE.bufs = {}
    buf = bufs.get(slot)
    if buf is None or buf.size < n:
        buf = bufs[slot] = np.empty(n)
    return buf[:n].reshape(shape)


def clear_workspace() -> None:
    """Release this thread's reusable kernel buffers (at most 3 x ``WORKSPACE_MAX_BYTES``)."""
    _WORKSPACE.bufs = {}


#: tests set this to "rows", "parallel" or "blas" to exercise one kernel variant on any size
_FORCE_VARIANT: str | None = None


def _pick_variant(m: int, rows: int, T: int) -> str:
    if _FORCE_VARIANT is not None:
        return _FORCE_VARIANT
    if m >= BLAS_MIN_HIDDEN or rows * m >= BLAS_MIN_WORK:
        return "blas"
    if rows >= PARALLEL_MIN_ROWS and numba.get_num_threads() > 1 and T * rows * m * m >= PARALLEL_MIN_WORK:
        return "parallel"
    return "rows"


#: per-step products of fewer multiply-adds than this (rows * m * m) run with one BLAS thread: a multi-threaded
#: BLAS is slower on them (measured on two cores: 2x at m = 16, B = 32; 8 % at m = 256, B = 32; threads help from
#: m = 256, B = 128 on; on a busy machine much worse, as idle BLAS threads spin)
BLAS_THREADED_MIN_WORK = 1 << 22
_BLAS_CONTROLLER = None


def _blas_threads(variant: str, rows: int, m: int):
    """Context: one BLAS thread around the per-step products of the ``blas`` variant unless they are large."""
    global _BLAS_CONTROLLER
    if variant != "blas" or rows * m * m >= BLAS_THREADED_MIN_WORK:
        return contextlib.nullcontext()
    if _BLAS_CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _BLAS_CONTROLLER = ThreadpoolController()
    return _BLAS_CONTROLLER.limit(limits=1, user_api="blas")


_FORWARD = {"rows": K.forward_rows, "parallel": K.forward_rows_parallel, "blas": K.forward_blas}
_BACKWARD = {"rows": K.backward_rows, "parallel": K.backward_rows_parallel, "blas": K.backward_blas}


def _run_forward(W, U, b, X, cell, activation, dt, need_deriv, variant=None):
    """Stacked forward pass. W (S,m,m), U (S,m,d), b (S,m); X (B,T,d). Returns s, dz of shape (T, S*B, m)."""
    S, m, _ = W.shape
    B, T, d = X.shape
    X2 = np.ascontiguousarray(X.transpose(1, 0, 2)).reshape(T * B, d)
    if S == 1:  # one 2-D gemm (numpy's stacked matmul is slow when d is small)
        uxb = _workspace("s", (T * B, m))
        np.dot(X2, U[0].T, out=uxb)
        uxb += b[0]
        uxb = uxb.reshape(T, B, m)
    else:  # (T*B, S, m) -> time-major (T, S, B, m) -> (T, S*B, m)
        proj = np.tensordot(X2, U, axes=([1], [2])) + b
        uxb = _workspace("s", (T, S, B, m))
        np.copyto(uxb, proj.reshape(T, B, S, m).transpose(0, 2, 1, 3))
        uxb = uxb.reshape(T, S * B, m)
    s = uxb  # the kernels read uxb[k] before they write s[k]: the states overwrite the input projection
    dz = _workspace("dz", uxb.shape) if need_deriv else np.empty((1, 1, 1))
    a, c = _cell_coefficients(cell, dt)
    variant = variant or _pick_variant(m, S * B, T)
    wt = np.ascontiguousarray(W.transpose(0, 2, 1))
    with _blas_threads(variant, S * B, m):
        _FORWARD[variant](wt, uxb, B, a, c, K.ACTIVATIONS[activation], s, dz, need_deriv)
    return s, dz


def _check_states(s: np.ndarray, what: str = "hidden states") -> None:
    step = first_nonfinite_step(s, time_axis=0)
    if step >= 0:
        raise NonFiniteError(
            f"the model's {what} became non-finite (NaN or inf) at time step {step}: the model explodes on this "
            "input (reduce the weights, the input scale or dt); pass check_finite=False to get the raw values",
            step=step,
        )


def simulate_stack(W, U, b, C, D, x, *, cell="elman", activation="tanh", dt=1.0, check_finite=True):
    """Outputs of S models that share structure and inputs, in one jitted pass.

    Parameters
    ----------
    W, U, b, C : arrays of shape (S, m, m), (S, m, d), (S, m), (S, p, m)
        Stacked parameters of S models (e.g. perturbed copies of one model).
    D : array (S, p, d) or None
    x : array (B, T, d)
        Inputs, shared by all models.
    cell, activation, dt : as in :class:`RNN`.
    check_finite : bool
        Raise :class:`NonFiniteError` when a state becomes non-finite.

    Returns
    -------
    y : ndarray (S, B, T, p)
        ``y[s] = RNN(W[s], U[s], b[s], C[s], D[s])(x)``.
    """
    check_choice(cell, "cell", CELLS)
    check_choice(activation, "activation", ACTIVATIONS)
    dt = check_positive(dt, "dt")
    W = as_array(W, "W", ndim=3)
    S, m = W.shape[0], W.shape[1]
    if W.shape != (S, m, m):
        raise ValueError(f"W must have shape (S, m, m), got {W.shape}")
    U = as_array(U, "U", shape=(S, m, None))
    d = U.shape[2]
    b = as_array(b, "b", shape=(S, m))
    C = as_array(C, "C", shape=(S, None, m))
    p = C.shape[1]
    if D is not None:
        D = as_array(D, "D", shape=(S, p, d))
    X = as_array(x, "x", shape=(None, None, d))
    s, _ = _run_forward(W, U, b, X, cell, activation, dt, False)
    if check_finite:
        _check_states(s)
    B, T = X.shape[:2]
    s4 = s.reshape(T, S, B, m).transpose(1, 0, 2, 3).reshape(S, T * B, m)
    y = np.matmul(s4, C.transpose(0, 2, 1)).reshape(S, T, B, p).transpose(0, 2, 1, 3)
    if D is not None:
        y = y + np.matmul(X[None], D.transpose(0, 2, 1)[:, None])
    return np.ascontiguousarray(y)


def _validate_blocks(m: int, U, b, C, D, cell, activation, dt):
    """The validation shared by every cell model: U (m, d), b (m,), C (p, m), D (p, d) or None, the names and dt."""
    cell = check_choice(cell, "cell", CELLS)
    activation = check_choice(activation, "activation", ACTIVATIONS)
    dt = check_positive(dt, "dt")
    U = as_array(U, "U", shape=(m, None))
    b = as_array(b, "b", shape=(m,))
    C = as_array(C, "C", shape=(None, m))
    if D is not None:
        D = as_array(D, "D", shape=(C.shape[0], U.shape[1]))
    return U, b, C, D, cell, activation, dt


class _FrozenModel(Frozen):
    """The fields common to every cell model (U, b, C, D, cell, activation, dt, inputs, outputs) on top of the
    immutable-model mechanics of :class:`rnnmem._model.Frozen` (``_freeze``, ``replace``, pickling), shared by
    :class:`RNN` and the reparameterised models of ``rnnmem.reparam``.

    A subclass lists its fields as ``__slots__ = ("_<field>", ...)`` in the order of its constructor's keywords.
    """

    __slots__ = ()

    U = property(lambda self: self._U, doc="Input weights (m, d), read-only.")
    b = property(lambda self: self._b, doc="Bias (m,), read-only.")
    C = property(lambda self: self._C, doc="Readout (p, m), read-only.")
    D = property(lambda self: self._D, doc="Feed-through (p, d) or None, read-only.")
    cell = property(lambda self: self._cell, doc='"elman" or "euler".')
    activation = property(lambda self: self._activation, doc="Activation name.")
    dt = property(lambda self: self._dt, doc="Time step Δt.")
    inputs = property(lambda self: self._U.shape[1], doc="Input features d.")
    outputs = property(lambda self: self._C.shape[0], doc="Output features p.")


class RNN(_FrozenModel):
    """An immutable recurrent network of the ``elman`` or ``euler`` cell (module docstring, docs/math.md §1).

    Parameters
    ----------
    W : array (m, m)
        Recurrent weights.
    U : array (m, d)
        Input weights.
    b : array (m,)
        Bias.
    C : array (p, m)
        Readout.
    D : array (p, d), optional
        Feed-through (``y_k += D x_k``); None means absent (no gradient is returned for it).
    cell : {"elman", "euler"}
        ``elman``: h_k = σ(W h_{k-1} + U x_k + b), y_k = C h_k + D x_k (h_{-1} = 0).
        ``euler``: h_{k+1} = h_k + dt σ(W h_k + U x_k + b), y_k = C h_{k+1} + D x_k (h_0 = 0) — forward Euler
        of the continuous-time RNN dh/dt = σ(Wh + Ux + b) of [P1 eq. 1].
    activation : {"tanh", "linear", "hardtanh", "relu"}
    dt : float
        Euler step Δt > 0 (stored for the elman cell too, where it is the time unit of memory functions).

    Notes
    -----
    The elman cell with ``activation="tanh"`` and ``D=None`` is the same map as PyTorch's
    ``torch.nn.RNN(d, m, nonlinearity="tanh", num_layers=1, batch_first=True)`` followed by a bias-free
    linear readout ``C``, with ``W = weight_hh_l0``, ``U = weight_ih_l0`` and ``b = bias_ih_l0 + bias_hh_l0``
    (tested against torch when it is installed).

    Arrays are copied to read-only float64 arrays; the caller's arrays are never modified. Use
    :meth:`replace` to get a model with some fields changed.

    Examples
    --------
    >>> import numpy as np, rnnmem as rm
    >>> rnn = rm.RNN.random(8, inputs=2, outputs=1, rng=0)
    >>> x = np.random.default_rng(1).normal(size=(4, 50, 2))
    >>> rnn(x).shape
    (4, 50, 1)
    """

    __slots__ = ("_W", "_U", "_b", "_C", "_D", "_cell", "_activation", "_dt")

    def __init__(self, W, U, b, C, D=None, *, cell: str = "elman", activation: str = "tanh", dt: float = 1.0):
        W = as_array(W, "W", ndim=2)
        m = W.shape[0]
        if W.shape != (m, m):
            raise ValueError(f"W must be square (m, m), got shape {W.shape}")
        U, b, C, D, cell, activation, dt = _validate_blocks(m, U, b, C, D, cell, activation, dt)
        self._freeze(W=W, U=U, b=b, C=C, D=D, cell=cell, activation=activation, dt=dt)

    # ------------------------------------------------------------------ fields
    W = property(lambda self: self._W, doc="Recurrent weights (m, m), read-only.")
    hidden = property(lambda self: self._W.shape[0], doc="Hidden width m.")

    def params(self) -> dict[str, np.ndarray]:
        """The parameter blocks as a dict W, U, b, C (and D when present)."""
        out = {"W": self._W, "U": self._U, "b": self._b, "C": self._C}
        if self._D is not None:
            out["D"] = self._D
        return out

    def to_rnn(self) -> RNN:
        """The model itself (the protocol shared with reparameterised models, whose ``to_rnn`` gives the
        effective RNN): ``params()``, ``replace(**blocks)`` and ``to_rnn()``."""
        return self

    def __repr__(self) -> str:
        return (f"RNN(hidden={self.hidden}, inputs={self.inputs}, outputs={self.outputs}, cell={self._cell!r}, "
                f"activation={self._activation!r}, dt={self._dt}, D={'yes' if self._D is not None else 'None'})")

    # ------------------------------------------------------------------ construction
    @classmethod
    def random(
        cls,
        hidden: int,
        inputs: int = 1,
        outputs: int = 1,
        *,
        cell: str = "elman",
        activation: str = "tanh",
        dt: float = 1.0,
        sigma: float = 0.9,
        shift: float | None = None,
        bias: float = 0.0,
        feedthrough: bool = False,
        rng=None,
    ) -> RNN:
        """A random model with a documented initialisation.

        W = σ G / √m − shift · I with G_ij ~ N(0, 1) (so W_ij ~ N(0, σ²/m): by the circular law the eigenvalues of
        σG/√m fill the disc of radius σ), U_ij ~ N(0, 1/d), b_i ~ N(0, bias²), C_ij ~ N(0, 1/m), D_ij ~ N(0, 1/d)
        when ``feedthrough``. The circular law is asymptotic: for small m some eigenvalues fall outside the disc
        (e.g. m = 16, σ = 0.9, seed 0 gives an euler W with spectral abscissa +0.09), so check
        ``rnnmem.spectral_abscissa(rnn.W)`` when stability matters.

        Parameters
        ----------
        hidden, inputs, outputs : int
            m, d, p (each >= 1).
        cell, activation, dt : as in :class:`RNN`.
        sigma : float
            Scale σ >= 0 of W (spectral radius ≈ σ for large m).
        shift : float, optional
            Subtracted from W's diagonal. Default 0 for ``elman`` and 1 for ``euler`` (so the continuous-time
            linearisation W is Hurwitz when σ < 1).
        bias : float
            Standard deviation of b (default 0: b = 0).
        feedthrough : bool
            Include a random D.
        rng : None, int or numpy.random.Generator
            Same seed, same model.
        """
        m = check_int(hidden, "hidden", minimum=1)
        d = check_int(inputs, "inputs", minimum=1)
        p = check_int(outputs, "outputs", minimum=1)
        sigma = check_positive(sigma, "sigma", strict=False)
        bias = check_positive(bias, "bias", strict=False)
        check_choice(cell, "cell", CELLS)
        if shift is None:
            shift = 0.0 if cell == "elman" else 1.0
        gen = as_rng(rng)
        W = sigma * gen.standard_normal((m, m)) / np.sqrt(m) - float(shift) * np.eye(m)
        U = gen.standard_normal((m, d)) / np.sqrt(d)
        b = bias * gen.standard_normal(m)
        C = gen.standard_normal((p, m)) / np.sqrt(m)
        D = gen.standard_normal((p, d)) / np.sqrt(d) if feedthrough else None
        return cls(W, U, b, C, D, cell=cell, activation=activation, dt=dt)

    # ------------------------------------------------------------------ forward
    def _forward(self, x, need_deriv: bool, check_finite: bool):
        X, squeeze = as_sequence_input(x, self.inputs)
        s, dz = _run_forward(self._W[None], self._U[None], self._b[None], X, self._cell, self._activation,
                             self._dt, need_deriv)
        if check_finite:
            _check_states(s)
        return X, squeeze, s, dz

    def _readout(self, X, s):
        B, T, _ = X.shape
        m = self.hidden
        y = np.dot(s.reshape(T * B, m), self._C.T).reshape(T, B, self.outputs).transpose(1, 0, 2)
        if self._D is not None:
            y = y + X @ self._D.T
        return np.ascontiguousarray(y)

    def __call__(self, x, *, check_finite: bool = True) -> np.ndarray:
        """Outputs y (B, T, p) for inputs x (B, T, d); a 2-D x (T, d) gives (T, p).

        Raises :class:`~rnnmem.NonFiniteError` naming the first non-finite time step unless
        ``check_finite=False``.
        """
        X, squeeze, s, _ = self._forward(x, False, check_finite)
        y = self._readout(X, s)
        return y[0] if squeeze else y

    def states(self, x, *, check_finite: bool = True) -> np.ndarray:
        """Hidden states (B, T, m): elman h_k, euler h_{k+1} (the state that produces y_k)."""
        X, squeeze, s, _ = self._forward(x, False, check_finite)
        h = np.array(s.transpose(1, 0, 2), order="C", copy=True)  # never a view of the workspace
        return h[0] if squeeze else h

    # ------------------------------------------------------------------ backward
    def vjp(self, x, dy, *, check_finite: bool = True) -> Gradients:
        """Exact gradients (backpropagation through time) of ``sum(dy * rnn(x))``.

        Parameters
        ----------
        x : array (B, T, d) or (T, d)
        dy : array of the output's shape, (B, T, p) or (T, p)

        Returns
        -------
        Gradients
            Fields W, U, b, C, D (None if the model has no D) and x (shape of ``x``).

        Notes
        -----
        With g_k = ∂L/∂s_k and gz_k = c σ'(z_k) ∘ g_k (see ``rnnmem._kernels``):
        g_k = Cᵀ dy_k + a g_{k+1} + Wᵀ gz_{k+1}; ∂W = Σ_k gz_k s_{k-1}ᵀ, ∂U = Σ_k gz_k x_kᵀ, ∂b = Σ_k gz_k,
        ∂C = Σ_k dy_k s_kᵀ, ∂D = Σ_k dy_k x_kᵀ, ∂x_k = Uᵀ gz_k + Dᵀ dy_k.
        """
        X, squeeze, s, dz = self._forward(x, True, check_finite)
        B, T, _ = X.shape
        want = (T, self.outputs) if squeeze else (B, T, self.outputs)
        dY = as_array(dy, "dy", shape=want)
        if squeeze:
            dY = dY[None]
        return self._backward(X, squeeze, s, dz, dY, check_finite)

    def _backward(self, X, squeeze, s, dz, dY, check_finite):
        B, T, d = X.shape
        m, p = self.hidden, self.outputs
        dY_tm = np.ascontiguousarray(dY.transpose(1, 0, 2))  # (T, B, p)
        gz = _workspace("gz", dz.shape)
        a, _ = _cell_coefficients(self._cell, self._dt)
        variant = _pick_variant(m, B, T)
        with _blas_threads(variant, B, m):
            _BACKWARD[variant](self._W[None], self._C[None], dY_tm, dz, B, a, gz)
        if check_finite:
            _check_states(gz, "backpropagated gradients")
        gz2 = gz.reshape(T * B, m)
        s2 = s.reshape(T * B, m)
        X_tm2 = np.ascontiguousarray(X.transpose(1, 0, 2)).reshape(T * B, d)
        dY2 = dY_tm.reshape(T * B, p)
        gW = gz[1:].reshape((T - 1) * B, m).T @ s[:-1].reshape((T - 1) * B, m) if T > 1 else np.zeros((m, m))
        gU = gz2.T @ X_tm2
        gb = np.ones(T * B) @ gz2
        gC = dY2.T @ s2
        gx = (gz2 @ self._U).reshape(T, B, d)
        gD = None
        if self._D is not None:
            gD = dY2.T @ X_tm2
            gx = gx + dY_tm @ self._D
        gx = np.ascontiguousarray(gx.transpose(1, 0, 2))
        return Gradients(W=gW, U=gU, b=gb, C=gC, D=gD, x=gx[0] if squeeze else gx)

    def loss_and_grad(self, x, y_target, loss: str = "mse", *, power: float = 2.0,
                      check_finite: bool = True) -> tuple[float, Gradients]:
        """A loss and its exact gradients.

        Parameters
        ----------
        x : array (B, T, d) or (T, d)
        y_target : array
            ``"mse"``, ``"weighted_mse"``: the output's shape. ``"cross_entropy"``: integer class labels (B,)
            (or a scalar for 2-D x) in ``0..p-1``.
        loss : {"mse", "weighted_mse", "cross_entropy"}
            ``mse`` = mean over all B·T·p elements of (ŷ − y)².
            ``weighted_mse`` = mean over all elements of w_k (ŷ − y)², w_k = ((k+1)/(T+1))**power
            (the time-weighted MSE of the Curse-of-memory code; later errors count more).
            ``cross_entropy`` = mean over the batch of −log softmax(ŷ_{T-1})[label] (classification from the
            last step's p outputs used as logits).
        power : float
            Exponent of the time weights (``weighted_mse`` only).

        Returns
        -------
        loss : float
        grads : Gradients
        """
        check_choice(loss, "loss", LOSSES)
        X, squeeze, s, dz = self._forward(x, True, check_finite)
        value, dY = loss_and_output_grad(self._readout(X, s), y_target, loss, power, squeeze)
        return value, self._backward(X, squeeze, s, dz, dY, check_finite)

    # ------------------------------------------------------------------ linear models
    def markov(self, n: int) -> np.ndarray:
        """Markov parameters (impulse response) L_0..L_{n-1}, shape (n, p, d); linear activation only.

        elman: L_0 = CU + D, L_j = C W^j U.  euler: L_0 = Δt CU + D, L_j = Δt C (I + ΔtW)^j U.
        Then ``rnn(x)[:, k] = Σ_{j≤k} L_j x_{k-j} + rnn(0)[:, k]`` exactly (the last term is the response to the
        bias; zero when b = 0). Index convention: L_j multiplies the input j steps back, L_0 the current one —
        unlike ``scipy.signal.dimpulse`` (y[k] = C A^{k-1} B) or python-control's unit-area impulse.
        For the euler cell the memory kernel is ρ̂_j = L_j / Δt (j ≥ 1) → C e^{W jΔt} U as Δt → 0 (docs/math.md §1).
        """
        if self._activation != "linear":
            raise ValueError(f"markov() needs activation='linear' (the map is otherwise not a convolution); "
                             f"this model has activation={self._activation!r}")
        n = check_int(n, "n", minimum=1)
        m, d, p = self.hidden, self.inputs, self.outputs
        if self._cell == "elman":
            A, scale = self._W, 1.0
        else:
            A, scale = np.eye(m) + self._dt * self._W, self._dt
        out = np.empty((n, p, d))
        K.markov(np.ascontiguousarray(A), np.ascontiguousarray(self._U), np.ascontiguousarray(self._C), n,
                 scale, out)
        if self._D is not None:
            out[0] += self._D
        if not np.isfinite(out).all():
            step = first_nonfinite_step(out, 0)
            raise NonFiniteError(f"Markov parameters overflow at lag {step}: the linear model is unstable "
                                 f"(spectral radius of its transition matrix > 1); use a smaller n", step=step)
        return out
