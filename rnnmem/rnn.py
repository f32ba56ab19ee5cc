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
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numba
import numpy as np

from rnnmem import _blas, _sync
from rnnmem import _kernels as K
from rnnmem._model import LOSSES, Frozen, loss_and_output_grad
from rnnmem._validate import (
    MISSING,
    NonFiniteError,
    as_array,
    as_rng,
    as_sequence_input,
    check_bool,
    check_choice,
    check_dt,
    check_int,
    check_no_kwargs,
    check_positive,
    check_real,
    check_size,
    first_nonfinite_step,
    renamed_kwarg,
    shape_source,
)

__all__ = ["RNN", "Gradients", "CELLS", "ACTIVATIONS", "LOSSES", "simulate_stack"]

CELLS = ("elman", "euler")
ACTIVATIONS = tuple(K.ACTIVATIONS)

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


#: The kernel variants (docs/rnn.md, "Kernels"): recurrent products as loops or one BLAS call per step, on one
#: thread, with the rows (sequences) split over numba's thread count, or (``blas-threaded``) with a multi-threaded
#: BLAS. All give the same numbers to rounding; ``rnnmem._calibrate`` picks the fastest for each call.
VARIANTS = ("rows", "parallel", "blas", "blas-parallel", "blas-threaded", "blas-cols")
_LOOP_VARIANTS = ("rows", "parallel")
_SPLIT_VARIANTS = ("parallel", "blas-parallel")
_KERNELS = {"forward": (K.forward_rows, K.forward_blas), "backward": (K.backward_rows, K.backward_blas)}
_COLS_KERNELS = {"forward": K.forward_cols, "backward": K.backward_cols}
#: ``blas-cols`` gives each thread a block of at least this many columns (hidden units), a multiple of it
COLS_ALIGN = 8

#: without a calibration (``RNNMEM_KERNEL=static``, or if calibrating failed) the ``blas`` variant is used from this
#: hidden width on and ``rows`` below it, on one thread
BLAS_MIN_HIDDEN = 64

#: tests set this to one of VARIANTS to exercise one kernel variant on any size
_FORCE_VARIANT: str | None = None


def _threads() -> int:
    """How many threads rnnmem's kernels run on: numba's thread count (``numba.set_num_threads`` /
    ``NUMBA_NUM_THREADS``), at most :func:`_plan_threads`."""
    return max(1, min(numba.get_num_threads(), _plan_threads()))


def _plan_threads() -> int:
    """The thread count that work is *planned* for: the CPUs this process may run on (its affinity mask; the core
    count where the OS does not tell). The variant, and how a computation is cut into blocks (row ranges, column
    blocks, blocks of a product), depend on it and on the shape only; numba's thread count (:func:`_threads`) only
    decides how many blocks run at once. So a computation gives the same bits with 1 thread or with all, in this
    process or in a worker of a process pool or a Dask cluster on the same machine, whose thread counts are usually
    lowered to one."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _pick_variant(direction: str, m: int, rows: int, T: int, nmodels: int = 1, threads: int | None = None) -> str:
    """The kernel variant for one call: forced by tests, else the calibrated choice (``rnnmem._calibrate``) for the
    planned thread count."""
    if _FORCE_VARIANT is not None:
        return _FORCE_VARIANT
    from rnnmem import _calibrate

    return _calibrate.choose(direction, m, rows, T, nmodels, _plan_threads() if threads is None else threads)


# ------------------------------------------------------------------------------------------ threads
_POOL: ThreadPoolExecutor | None = None
_POOL_KEY: tuple[int, int] = (0, 0)
_POOL_LOCK = threading.Lock()


def _pool(workers: int) -> ThreadPoolExecutor:
    """The process's worker threads (at least ``workers``); a forked child makes its own (threads do not fork)."""
    global _POOL, _POOL_KEY
    pid = os.getpid()
    with _POOL_LOCK:
        if _POOL is None or _POOL_KEY[0] != pid or _POOL_KEY[1] < workers:
            if _POOL is not None and _POOL_KEY[0] == pid:
                _POOL.shutdown(wait=False)
            _POOL = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rnnmem-rows")
            _POOL_KEY = (pid, workers)
        return _POOL


def _even(n: int, k: int) -> list[int]:
    """Bounds of ``k`` contiguous, as even as possible ranges of 0..n-1."""
    return [n * i // k for i in range(k + 1)]


def _run_blocks(fn, blocks: list[tuple], workers: int) -> None:
    """``fn(*block)`` for every block, the blocks dealt in contiguous groups to ``workers`` threads (the calling
    thread runs the first group; the kernels release the GIL). Every block is computed the same way whatever
    ``workers`` is: only which thread runs it, and when, changes."""
    k = max(1, min(workers, len(blocks)))

    def group(g0, g1):
        for blk in blocks[g0:g1]:
            fn(*blk)

    bounds = _even(len(blocks), k)
    futures = [_pool(k - 1).submit(group, bounds[i], bounds[i + 1]) for i in range(1, k)]
    try:
        group(bounds[0], bounds[1])
    finally:
        for f in futures:
            f.result()


def _run_split(fn, args: tuple, rows: int, blocks: int, workers: int) -> None:
    """``fn(*args, n0, n1)`` on ``blocks`` disjoint, contiguous row ranges, run by ``workers`` threads."""
    bounds = _even(rows, max(1, min(blocks, rows)))
    _run_blocks(lambda n0, n1: fn(*args, n0, n1), list(zip(bounds[:-1], bounds[1:], strict=True)), workers)


def _blas_controllers() -> list:
    """The loaded BLAS libraries (numpy's and scipy's, the one numba's ``np.dot`` calls), as ``rnnmem._blas``
    controllers: ``num_threads``, ``set_num_threads``, ``internal_api``, ``version``, ``filepath``."""
    return _blas.controllers()


def _one_blas_thread():
    """Every BLAS on one thread for the duration. Concurrent calls share the setting; a call wanting the BLAS's own
    thread count waits until they leave, so each product's rounding does not depend on what runs beside it
    (``rnnmem._blas``)."""
    return _blas.blas_mode(_blas.ONE)


def _own_blas_threads():
    """The BLAS's own thread counts for the duration (waits for concurrent one-thread sections to leave)."""
    return _blas.blas_mode(_blas.OWN)


def _products():
    """Context for the products outside the recurrence (input projection, readout, gradient sums): one BLAS thread.
    Large products are split over rnnmem's own threads instead (:func:`_dot`). A multi-threaded OpenBLAS leaves its
    worker threads spinning for a while after each product (about 0.1 s: ``OPENBLAS_THREAD_TIMEOUT``), and on a
    machine with few cores they take the cores that the next recurrence's threads need (measured: the split-row
    recurrence 1.6–2x slower per step within 0.05 s of a 2-thread DGEMM; docs/rnn.md, "Threads")."""
    return _one_blas_thread()


#: :func:`_dot` gives each thread at least this many rows of the output
DOT_MIN_ROWS = 8


def _dot(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``a @ b`` (2-D float64; ``out`` C-contiguous if given) inside a :func:`_products` section. From the calibrated
    size on (``rnnmem._calibrate.split_min_work``), the output's rows are cut into :func:`_plan_threads` contiguous
    blocks, each one one-thread BLAS product over the whole inner dimension, run on :func:`_threads` threads; the
    cut depends on the plan, not on the thread count, so the bits do not either."""
    M, K = a.shape
    N = b.shape[1]
    if out is None:
        out = np.empty((M, N))
    plan = _plan_threads()
    k = min(plan, M // DOT_MIN_ROWS)
    if k < 2:
        np.dot(a, b, out=out)
        return out
    from rnnmem import _calibrate

    if float(M) * N * K < _calibrate.split_min_work(plan):
        np.dot(a, b, out=out)
        return out
    return _dot_split(a, b, out, k, _threads())


def _dot_split(a: np.ndarray, b: np.ndarray, out: np.ndarray, k: int, workers: int) -> np.ndarray:
    """``out[:] = a @ b`` with the rows in ``k`` contiguous blocks (one BLAS product each) on ``workers`` threads."""
    bounds = _even(a.shape[0], max(1, min(k, a.shape[0])))
    _run_blocks(lambda r0, r1: np.dot(a[r0:r1], b, out=out[r0:r1]), list(zip(bounds[:-1], bounds[1:], strict=True)),
                workers)
    return out


def _blas_threads(variant: str):
    """The BLAS mode of a recurrence run as ``variant``: nothing for the loop variants; the BLAS's own threads for
    ``blas-threaded`` (held for the whole kernel: the rounding does not change mid-call); one BLAS thread for the
    others (their threads are rnnmem's own)."""
    if variant in _LOOP_VARIANTS:
        return contextlib.nullcontext()
    if variant == "blas-threaded":
        return _own_blas_threads()
    return _one_blas_thread()


def _launch(direction: str, variant: str, args: tuple, rows: int, plan: int | None = None,
            workers: int | None = None) -> None:
    """Run the ``direction`` ("forward"/"backward") kernel of ``variant`` on all ``rows`` (args without n0, n1),
    cut for ``plan`` threads (default :func:`_plan_threads`) and run on ``workers`` (default :func:`_threads`)."""
    plan = _plan_threads() if plan is None else plan
    workers = min(plan, _threads()) if workers is None else workers
    if variant == "blas-cols" and not _sync.AVAILABLE:
        variant = "blas-parallel"  # no step barrier without sched_yield (Windows): the row split instead
    if variant == "blas-cols":
        with _blas_threads(variant):
            _run_cols(direction, args, plan, workers)
        return
    _run_kernels(_KERNELS[direction], variant, args, rows, plan, workers)


def _run_kernels(kernels: tuple, variant: str, args: tuple, rows: int, plan: int, workers: int) -> None:
    """Run ``kernels`` = (one-row-at-a-time kernel, per-step BLAS kernel), each taking ``*args, n0, n1``, as
    ``variant`` (not ``blas-cols``) on ``rows`` rows, the split variants cut into ``plan`` row ranges run by
    ``workers`` threads: the shared launcher of the RNN and the gated layers."""
    fn = kernels[0 if variant in _LOOP_VARIANTS else 1]
    with _blas_threads(variant):
        if variant in _SPLIT_VARIANTS and plan > 1 and rows > 1:
            _run_split(fn, args, rows, plan, workers)
        else:
            fn(*args, 0, rows)


def _col_bounds(m: int, threads: int) -> list[int]:
    """Column blocks of ``blas-cols``: at most ``threads`` contiguous blocks of whole multiples of COLS_ALIGN
    (the last takes the rest), as even as that allows."""
    units = max(1, m // COLS_ALIGN)
    k = max(1, min(threads, units))
    return [min(m, COLS_ALIGN * (units * i // k)) if i < k else m for i in range(k + 1)]


def _run_cols(direction: str, args: tuple, plan: int, workers: int) -> None:
    """The ``blas-cols`` variant: the columns of every step cut into blocks for ``plan`` threads, run by ``workers``
    threads (each takes a contiguous group of blocks) that meet at a barrier after each step (``rnnmem._sync``).
    The recurrent matrix is copied once, block by block, each block contiguous (so that it stays in its core's
    cache). A thread that fails sets the barrier's abort flag, so the others return, and its exception is raised
    here."""
    fn = _COLS_KERNELS[direction]
    mat = args[0]  # forward: the stack of Wᵀ; backward: the stack of W (S, m, m)
    S, m = mat.shape[0], mat.shape[2]
    bounds = np.array(_col_bounds(m, plan), dtype=np.int64)
    blocks = np.empty((S, m * m))  # block p of model q: its m × (c1 - c0) columns at offset m · c0, row-major
    for p in range(len(bounds) - 1):
        c0, c1 = int(bounds[p]), int(bounds[p + 1])
        blocks[:, m * c0:m * c1] = mat[:, :, c0:c1].reshape(S, m * (c1 - c0))
    k = max(1, min(workers, len(bounds) - 1))
    groups = _even(len(bounds) - 1, k)
    sync = _sync.new_sync()

    def part(i):
        try:
            return fn(blocks, *args[1:], bounds, groups[i], groups[i + 1], sync, k)
        except BaseException:
            _sync.abort(sync)
            raise

    futures = [_pool(k - 1).submit(part, i) for i in range(1, k)] if k > 1 else []
    try:
        ok = part(0)
    finally:
        done = [f.result() for f in futures]  # raises a worker's exception
    if not (ok and all(done)):  # pragma: no cover - an abort always comes with an exception raised above
        raise RuntimeError("a thread of the blas-cols kernel stopped without an error")


def _run_forward(W, U, b, X, cell, activation, dt, need_deriv, variant=None):
    """Stacked forward pass. W (S,m,m), U (S,m,d), b (S,m); X (B,T,d). Returns s, dz of shape (T, S*B, m)."""
    S, m, _ = W.shape
    B, T, d = X.shape
    X2 = np.ascontiguousarray(X.transpose(1, 0, 2)).reshape(T * B, d)
    with _products():  # the input products U x_k (the kernels add b)
        if S == 1:  # one 2-D gemm (numpy's stacked matmul is slow when d is small)
            uxb = _dot(X2, U[0].T, _workspace("s", (T * B, m))).reshape(T, B, m)
        else:  # time-major (T, S, B, m) written in place (no temporary of the full size: page faults)
            uxb = _workspace("s", (T, S, B, m))
            np.matmul(X2.reshape(T, 1, B, d), U.transpose(0, 2, 1)[None], out=uxb)
            uxb = uxb.reshape(T, S * B, m)
    s = uxb  # the kernels read uxb[k] before they write s[k]: the states overwrite the input projection
    dz = _workspace("dz", uxb.shape) if need_deriv else np.empty((1, 1, 1))
    a, c = _cell_coefficients(cell, dt)
    variant = variant or _pick_variant("forward", m, S * B, T, S)
    wt = np.ascontiguousarray(W.transpose(0, 2, 1))
    _launch("forward", variant, (wt, uxb, np.ascontiguousarray(b), B, a, c, K.ACTIVATIONS[activation], s, dz,
                                 need_deriv), S * B)
    return s, dz


def _check_states(s: np.ndarray, what: str = "hidden states", time_axis: int = 0,
                  cause: str = "the model explodes on this input (reduce the weights, the input scale or dt)") -> None:
    """Raise :class:`NonFiniteError` naming the first time step at which ``s`` holds NaN or inf (``time_axis``)."""
    if np.isfinite(np.sum(s)):  # one vectorised pass; a sum of finite numbers is finite unless it overflows
        return
    step = first_nonfinite_step(s, time_axis=time_axis)  # exact (and right when only the sum overflowed)
    if step >= 0:
        raise NonFiniteError(
            f"the model's {what} became non-finite (NaN or inf) at time step {step}: {cause}; pass "
            "check_finite=False to get the raw values",
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
    dt = check_dt(dt, "dt")
    check_finite = check_bool(check_finite, "check_finite")
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
    with _products():
        y = np.matmul(s.reshape(T, S, B, m), C.transpose(0, 2, 1)[None]).transpose(1, 2, 0, 3)  # (S, B, T, p)
        if D is not None:
            y = y + np.matmul(X[None], D.transpose(0, 2, 1)[:, None])
    return np.ascontiguousarray(y)


def _markov_bsgs(A, U, C, T: int) -> np.ndarray:
    """C A^j U for j = 0..T-1, shape (T, p, d), by baby and giant steps: with n ≈ √(T d / p) and G = A^n (repeated
    squaring), C A^{i + nq} U = (C A^i)(G^q U) for i < n, q < ⌈T/n⌉ — the pairs in one GEMM."""
    m, d = U.shape
    p = C.shape[0]
    n = max(1, min(T, int(math.ceil(math.sqrt(T * d / p)))))
    Q = -(-T // n)
    R = np.empty((n, p, m))
    R[0] = C
    for i in range(1, n):
        np.dot(R[i - 1], A, out=R[i])
    V = np.empty((Q, m, d))
    V[0] = U
    if Q > 1:
        G = np.linalg.matrix_power(A, n)
        for q in range(1, Q):
            np.dot(G, V[q - 1], out=V[q])
    L = R.reshape(n * p, m) @ V.transpose(1, 0, 2).reshape(m, Q * d)  # rows (i, o), columns (q, c)
    return np.ascontiguousarray(L.reshape(n, p, Q, d).transpose(2, 0, 1, 3).reshape(Q * n, p, d)[:T])


def _validate_blocks(m: int, U, b, C, D, cell, activation, dt, source: str = "W"):
    """The validation shared by every cell model: U (m, d), b (m,), C (p, m), D (p, d) or None, the names and dt.

    ``source`` names the argument that fixed the hidden width m (W, or w of a reparameterised model), so that a
    shape mismatch names both sides."""
    cell = check_choice(cell, "cell", CELLS)
    activation = check_choice(activation, "activation", ACTIVATIONS)
    dt = check_dt(dt, "dt")
    with shape_source(f"the hidden width m = {m} comes from {source}"):
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
        U, b, C, D, cell, activation, dt = _validate_blocks(m, U, b, C, D, cell, activation, dt,
                                                            source=f"W (shape {W.shape})")
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
        sigma2: float = MISSING,
        shift: float | None = None,
        bias: float = 0.0,
        feedthrough: bool = False,
        rng=None,
        **deprecated,
    ) -> RNN:
        """A random model with a documented initialisation.

        W = √σ² G / √m − shift · I with G_ij ~ N(0, 1), so W_ij ~ N(0, σ²/m) (by the circular law the eigenvalues
        of √σ² G/√m fill the disc of radius σ); U_ij ~ N(0, 1/d), b_i ~ N(0, bias²), C_ij ~ N(0, 1/m),
        D_ij ~ N(0, 1/d) when ``feedthrough``. The circular law is asymptotic: for small m some eigenvalues fall
        outside the disc (e.g. m = 16, σ² = 0.81, seed 0 gives an euler W with spectral abscissa +0.09), so check
        ``rnnmem.spectral_abscissa(rnn.W)`` when stability matters.

        Parameters
        ----------
        hidden, inputs, outputs : int
            m, d, p (each >= 1).
        cell, activation, dt : as in :class:`RNN`.
        sigma2 : float
            Variance scale σ² >= 0 of W: W_ij ~ N(0, σ²/m), spectral radius ≈ σ for large m (default 0.81, i.e.
            σ = 0.9). The name ``sigma2`` is the one variance name of rnnmem (as in
            :func:`rnnmem.ntk.lag_weights`).
        shift : float, optional
            Subtracted from W's diagonal. Default 0 for ``elman`` and 1 for ``euler`` (so the continuous-time
            linearisation W is Hurwitz when σ < 1).
        bias : float
            Standard deviation of b (default 0: b = 0).
        feedthrough : bool
            Include a random D.
        rng : None, int or numpy.random.Generator
            Same seed, same model.

        Notes
        -----
        ``sigma=`` (the standard deviation scale σ, W = σG/√m) is a deprecated alias: ``sigma=s`` is
        ``sigma2=s**2`` and draws the same model; it will be removed in rnnmem 0.3.
        """
        sigma = renamed_kwarg(deprecated, "sigma", "sigma2", MISSING)
        check_no_kwargs(deprecated, "RNN.random")
        m = check_int(hidden, "hidden", minimum=1)
        d = check_int(inputs, "inputs", minimum=1)
        p = check_int(outputs, "outputs", minimum=1)
        if sigma is not MISSING:
            if sigma2 is not MISSING:
                raise TypeError("got both `sigma2` and its deprecated alias `sigma`; pass `sigma2` only")
            scale = check_real(sigma, "sigma", minimum=0.0)
        else:
            scale = 0.9 if sigma2 is MISSING else math.sqrt(check_real(sigma2, "sigma2", minimum=0.0))
        bias = check_real(bias, "bias", minimum=0.0)
        feedthrough = check_bool(feedthrough, "feedthrough")
        check_choice(cell, "cell", CELLS)
        check_choice(activation, "activation", ACTIVATIONS)
        dt = check_dt(dt, "dt")
        shift = (0.0 if cell == "elman" else 1.0) if shift is None else check_real(shift, "shift")
        check_size(f"RNN.random(hidden={m}, inputs={d}, outputs={p})", m * m + m * d + p * m + p * d + m)
        gen = as_rng(rng)
        W = scale * gen.standard_normal((m, m)) / np.sqrt(m) - shift * np.eye(m)
        U = gen.standard_normal((m, d)) / np.sqrt(d)
        b = bias * gen.standard_normal(m)
        C = gen.standard_normal((p, m)) / np.sqrt(m)
        D = gen.standard_normal((p, d)) / np.sqrt(d) if feedthrough else None
        if not (np.isfinite(W).all() and np.isfinite(b).all()):
            raise ValueError(f"the scales are too large: W = √sigma2·G/√m − shift·I or b = bias·g overflows "
                             f"(sigma2 = {scale * scale:g}, shift = {shift:g}, bias = {bias:g})")
        return cls(W, U, b, C, D, cell=cell, activation=activation, dt=dt)

    # ------------------------------------------------------------------ forward
    def _forward(self, x, need_deriv: bool, check_finite: bool):
        check_bool(check_finite, "check_finite")
        X, squeeze = as_sequence_input(x, self.inputs)
        s, dz = _run_forward(self._W[None], self._U[None], self._b[None], X, self._cell, self._activation,
                             self._dt, need_deriv)
        if check_finite:
            _check_states(s)
        return X, squeeze, s, dz

    def _readout(self, X, s):
        B, T, d = X.shape
        m, p = self.hidden, self.outputs
        # an overflow is reported by the caller (check_finite) or returned raw: no RuntimeWarning on the way
        with _products(), np.errstate(over="ignore", invalid="ignore"):
            y = _dot(s.reshape(T * B, m), self._C.T).reshape(T, B, p).transpose(1, 0, 2)
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
        if check_finite:
            _check_states(y, "outputs", time_axis=1, cause="the readout C h + D x overflows (C, D or x too large)")
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
        # an overflow is reported as NonFiniteError (check_finite) or returned raw: no RuntimeWarning on the way
        with _products(), np.errstate(over="ignore", invalid="ignore"):
            return self._backward_products(X, squeeze, s, dz, dY, check_finite)

    def _backward_products(self, X, squeeze, s, dz, dY, check_finite):
        B, T, d = X.shape
        m, p = self.hidden, self.outputs
        dY_tm = np.ascontiguousarray(dY.transpose(1, 0, 2))  # (T, B, p)
        dY2 = dY_tm.reshape(T * B, p)
        gz = _workspace("gz", dz.shape)
        _dot(dY2, self._C, gz.reshape(T * B, m))  # the direct terms Cᵀ dy_k, overwritten by the kernel
        a, _ = _cell_coefficients(self._cell, self._dt)
        _launch("backward", _pick_variant("backward", m, B, T), (self._W[None], dz, B, a, gz), B)
        if check_finite:
            _check_states(gz, "backpropagated gradients",
                          cause="the model explodes backwards (reduce the weights or dt) or dy is too large")
        gz2 = gz.reshape(T * B, m)
        s2 = s.reshape(T * B, m)
        X_tm2 = np.ascontiguousarray(X.transpose(1, 0, 2)).reshape(T * B, d)
        gW = _dot(gz[1:].reshape((T - 1) * B, m).T, s[:-1].reshape((T - 1) * B, m)) if T > 1 else np.zeros((m, m))
        gU = _dot(gz2.T, X_tm2)
        gb = np.ones(T * B) @ gz2
        gC = _dot(s2.T, dY2).T.copy()
        gx = _dot(gz2, self._U).reshape(T, B, d)
        gD = None
        if self._D is not None:
            gD = dY2.T @ X_tm2
            gx = gx + dY_tm @ self._D
        gx = np.ascontiguousarray(gx.transpose(1, 0, 2))
        if check_finite:
            bad = [k for k, v in (("W", gW), ("U", gU), ("b", gb), ("C", gC), ("D", gD), ("x", gx))
                   if v is not None and not np.isfinite(v).all()]
            if bad:
                raise NonFiniteError(f"the gradients of blocks {bad} overflow (the sums over time and batch of "
                                     "finite terms exceed the float range: dy, x or the weights are too large); pass "
                                     "check_finite=False to get the raw values")
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
    def _transition(self):
        """(A, scale) with h ← A h + scale·(U x + b): elman (W, 1), euler (I + ΔtW, Δt)."""
        if self._cell == "elman":
            return self._W, 1.0
        return np.eye(self.hidden) + self._dt * self._W, self._dt

    def convolve(self, x, *, check_finite: bool = True) -> np.ndarray:
        """Outputs of a linear model as a convolution by FFT: the same map as ``rnn(x)``, fast for long sequences.

        With activation="linear" the model is y_k = Σ_{j≤k} L_j x_{k−j} + y^b_k, with the Markov parameters L_j of
        :meth:`markov` and the response to the bias y^b_k = Σ_{j≤k} scale·C A^j b (``rnn(0)``). This computes all
        T parameters by baby and giant steps, L_{i+nq} = (scale·C A^i)(A^{nq} U) with n ≈ √T (√T products with A,
        √T with A^n, one GEMM; O(√T m² + T m + m³ log T) operations instead of the T m² of T successive powers), and
        the convolution by real FFTs of length ≥ 2T − 1 (O(B T log T p d)), against O(B T m²) for the recurrence.
        ``python benchmarks/linear_fft.py`` measures the gain (docs/rnn.md).

        Accuracy: the error is norm-wise, the usual bound of FFT convolution, |y_k − rnn(x)_k| ≲ ε log₂T · Σ_j|L_j|
        · max|x| at every step (tested to that bound). Outputs far below the largest — the tail of a decayed impulse
        response — are therefore not accurate relative to their own size; the recurrence ``rnn(x)`` is (its
        rounding errors decay with the state), so use it for memory functions and decay rates.

        Parameters
        ----------
        x : array (B, T, d) or (T, d)
        check_finite : bool
            Raise :class:`~rnnmem.NonFiniteError` when the Markov parameters overflow (an unstable model).

        Returns
        -------
        y : ndarray (B, T, p) (or (T, p) for 2-D x)
        """
        if self._activation != "linear":
            raise ValueError(f"convolve() needs activation='linear' (the map is otherwise not a convolution); "
                             f"this model has activation={self._activation!r}; use rnn(x)")
        import scipy.fft

        check_bool(check_finite, "check_finite")
        X, squeeze = as_sequence_input(x, self.inputs)
        B, T, d = X.shape
        check_size("convolve's Markov parameters", T, self.outputs, d + 1)
        A, scale = self._transition()
        Ub = np.concatenate([self._U, self._b[:, None]], axis=1)  # the bias is an input channel equal to 1
        with np.errstate(over="ignore", invalid="ignore"):
            L = _markov_bsgs(A, Ub, self._C, T)
            L *= scale
        if check_finite and not np.isfinite(L).all():
            step = first_nonfinite_step(L, 0)
            raise NonFiniteError(f"Markov parameters overflow at lag {step}: the linear model is unstable (spectral "
                                 f"radius of its transition matrix > 1); rnn(x, check_finite=False) gives the raw "
                                 f"recurrence", step=step)
        Lx = L[:, :, :d]
        if self._D is not None:
            Lx[0] += self._D
        nfft = scipy.fft.next_fast_len(2 * T - 1, real=True)
        Lf = scipy.fft.rfft(Lx, nfft, axis=0)  # (F, p, d)
        Xf = scipy.fft.rfft(X, nfft, axis=1)  # (B, F, d)
        y = scipy.fft.irfft(np.einsum("fod,bfd->bfo", Lf, Xf), nfft, axis=1)[:, :T]
        y += np.cumsum(L[:, :, d], axis=0)  # the bias response
        y = np.ascontiguousarray(y)
        if check_finite:
            _check_states(y, "outputs", time_axis=1, cause="the convolution overflows (x or the weights too large)")
        return y[0] if squeeze else y

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
        d, p = self.inputs, self.outputs
        check_size(f"markov(n={n})", n, p, d)
        A, scale = self._transition()
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

    # ------------------------------------------------------------------ interoperability
    def _linear_blocks(self, bias_input, what: str):
        """(U, D) of the linear map x ↦ y of a linear model, with b as an extra input column when ``bias_input``."""
        if self._activation != "linear":
            raise ValueError(f"{what} needs activation='linear' (a state-space system is linear); this model has "
                             f"activation={self._activation!r}. Its linearisation at rest (when b = 0) is "
                             "rnn.replace(activation='linear')")
        bias_input = check_bool(bias_input, "bias_input")
        U = self._U
        D = np.zeros((self.outputs, self.inputs)) if self._D is None else self._D
        if bias_input:
            U = np.concatenate([U, self._b[:, None]], axis=1)
            D = np.concatenate([D, np.zeros((self.outputs, 1))], axis=1)
        elif np.any(self._b != 0):
            raise ValueError(f"{what}: this model has a bias b ≠ 0, so its map x ↦ y is affine, not linear. Pass "
                             "bias_input=True to get b as one more input channel (u_d = 1 at every step), or use "
                             "rnn.replace(b=np.zeros(rnn.hidden)) for the response to x alone")
        return U, D

    def statespace(self, *, bias_input: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The model as a discrete linear system (A, B, C, D) in the control convention (linear activation only).

        x_{k+1} = A x_k + B u_k,  y_k = C x_k + D u_k,  x_0 = 0 (u_k the model's input x_k),

        with the impulse response y_0 = D, y_k = C A^{k−1} B equal to the Markov parameters of :meth:`markov`
        (docs/math.md §1):

        * elman: x_k = h_{k−1} (the state before step k), (A, B, C, D) = (W, U, CW, CU + D_rnn);
        * euler: x_k = h_k, A = I + ΔtW, B = ΔtU, C = C_rnn A, D = Δt C_rnn U + D_rnn (the discrete map of the
          forward-Euler step; the Δt factors are those of the Markov parameters).

        This is the convention of ``scipy.signal.dlti`` (see :meth:`to_scipy`) and of python-control
        (``control.ss(*rnn.statespace(), rnn.dt)``; its ``impulse_response`` uses a unit-area pulse u_0 = 1/Δt, so
        it returns L_k / Δt, while ``forced_response`` to u_0 = 1 returns L_k).

        Parameters
        ----------
        bias_input : bool
            A model with b ≠ 0 is affine; with ``bias_input=True`` b becomes one more input column of B (and a zero
            column of D), so that feeding u = (x, 1) reproduces ``rnn(x)``. Without it, b ≠ 0 raises ``ValueError``.

        Returns
        -------
        A (m, m), B (m, d), C (p, m), D (p, d) : new float64 arrays (D is zero when the model has none).
        """
        U, Drnn = self._linear_blocks(bias_input, "statespace()")
        A, scale = self._transition()
        A = np.array(A, dtype=np.float64)
        B = scale * U
        C = self._C @ A
        D = scale * (self._C @ U) + Drnn
        return A, np.ascontiguousarray(B), np.ascontiguousarray(C), np.ascontiguousarray(D)

    def to_scipy(self, *, bias_input: bool = False):
        """The model as a ``scipy.signal.dlti`` state-space system with sampling time ``dt``.

        ``scipy.signal.dimpulse(rnn.to_scipy(), n=n)`` returns the Markov parameters ``rnn.markov(n)`` (for each
        input j, the outputs (n, p) = ``rnn.markov(n)[:, :, j]``), and ``scipy.signal.dlsim`` the outputs
        ``rnn(x)`` of one sequence. The matrices are those of :meth:`statespace` (see there for ``bias_input``).

        Examples
        --------
        >>> import numpy as np, scipy.signal, rnnmem as rm
        >>> rnn = rm.RNN.random(4, activation="linear", rng=0)
        >>> _, (y,) = scipy.signal.dimpulse(rnn.to_scipy(), n=6)
        >>> bool(np.allclose(y, rnn.markov(6)[:, :, 0], rtol=1e-12, atol=1e-15))
        True
        """
        import scipy.signal

        return scipy.signal.dlti(*self.statespace(bias_input=bias_input), dt=self._dt)

    @classmethod
    def from_scipy(cls, system, *, cell: str = "elman", dt: float | None = None,
                   realization: str = "auto") -> RNN:
        """A linear RNN whose impulse response (:meth:`markov`) is that of a discrete linear system.

        Parameters
        ----------
        system : scipy.signal.dlti (state space, transfer function or zeros/poles/gain), a discrete python-control
            ``StateSpace`` (anything with attributes A, B, C, D and a sampling time ``dt``), or a tuple (A, B, C, D)
            in the control convention x_{k+1} = A x_k + B u_k, y_k = C x_k + D u_k (impulse response y_0 = D,
            y_k = C A^{k−1} B).
        cell : {"elman", "euler"}
        dt : float, optional
            The model's Δt; default the system's sampling time (1 when the system has none). A value different
            from the system's own sampling time raises ``ValueError``.
        realization : {"auto", "invert", "augment"}
            How the readout of the RNN (which reads h_k, the state *after* step k) is matched to C x_k (the state
            before it):

            * ``invert`` — same state size n: W = A, U = B, C_rnn = C A⁻¹, D_rnn = D − C A⁻¹ B; needs A invertible,
              and rounds with relative error ≈ cond(A)·ε.
            * ``augment`` — n + d states, exact for any A (including singular A, and n = 0, a static gain): the
              RNN state carries the system's state and the current input, h_k = (x_k, u_k), with
              W = [[A, B], [0, 0]], U = [[0], [I]], C_rnn = [C, 0], D_rnn = D — no arithmetic on the system's
              entries.
            * ``auto`` — ``invert`` when A is invertible with cond(A) ≤ ``FROM_SCIPY_MAX_COND``, else ``augment``
              (so an exact realisation needs d extra states exactly when A is singular or ill-conditioned).

            For the euler cell the elman realisation (W_e, U_e, C, D) becomes W = (W_e − I)/Δt, U = U_e/Δt (the
            Euler map I + ΔtW = W_e), exact up to the rounding of that division.

        Returns
        -------
        RNN
            ``activation="linear"``, b = 0, with ``markov(n)`` equal to the system's impulse response.

        Examples
        --------
        >>> import numpy as np, scipy.signal, rnnmem as rm
        >>> sys = scipy.signal.dlti([1.0, 0.5], [1.0, -0.9, 0.2], dt=1.0)   # a transfer function
        >>> rnn = rm.RNN.from_scipy(sys)
        >>> _, (y,) = scipy.signal.dimpulse(sys, n=8)
        >>> bool(np.allclose(rnn.markov(8)[:, 0, 0], y[:, 0], rtol=1e-12, atol=1e-12))
        True
        """
        cell = check_choice(cell, "cell", CELLS)
        realization = check_choice(realization, "realization", ("auto", "invert", "augment"))
        A, B, C, D, sys_dt = _discrete_system(system)
        if dt is None:
            dt = 1.0 if sys_dt is None else sys_dt
        else:
            dt = check_dt(dt, "dt")
            if sys_dt is not None and dt != sys_dt:
                raise ValueError(f"dt={dt} differs from the system's sampling time {sys_dt}; omit dt to use the "
                                 "system's own (a different dt would rescale the time axis silently)")
        n, d, p = A.shape[0], B.shape[1], C.shape[0]
        if realization == "auto":
            cond = np.linalg.cond(A) if n else np.inf
            realization = "invert" if n and np.isfinite(cond) and cond <= FROM_SCIPY_MAX_COND else "augment"
        if realization == "invert":
            if n == 0:
                raise ValueError("realization='invert' needs at least one state; this system is a static gain "
                                 "(use realization='augment' or 'auto')")
            try:
                CAinv = np.linalg.solve(A.T, C.T).T
            except np.linalg.LinAlgError:
                raise ValueError("realization='invert' needs an invertible A; this system's A is singular (use "
                                 "realization='augment' or 'auto': d extra states make it exact)") from None
            W, Ue, Cr, Dr = A, B, CAinv, D - CAinv @ B
        else:
            W = np.zeros((n + d, n + d))
            W[:n, :n] = A
            W[:n, n:] = B
            Ue = np.zeros((n + d, d))
            Ue[n:] = np.eye(d)
            Cr = np.concatenate([C, np.zeros((p, d))], axis=1)
            Dr = D
        if cell == "euler":
            W = (W - np.eye(W.shape[0])) / dt
            Ue = Ue / dt
        Dr = None if not np.any(Dr) else Dr
        return cls(W, Ue, np.zeros(W.shape[0]), Cr, Dr, cell=cell, activation="linear", dt=dt)


#: :meth:`RNN.from_scipy` with ``realization="auto"`` inverts A (same state size) up to this condition number
FROM_SCIPY_MAX_COND = 1e6


def _discrete_system(system) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float | None]:
    """(A, B, C, D, dt) of a scipy.signal dlti, a python-control discrete system or a tuple (A, B, C, D);
    dt is None when the system has no numeric sampling time."""
    sys_dt = None
    if isinstance(system, (tuple, list)):
        if len(system) != 4:
            raise TypeError(f"system as a sequence must be (A, B, C, D), got {len(system)} entries")
        mats = system
    else:
        import scipy.signal

        if isinstance(system, scipy.signal.lti):
            raise ValueError("system is a continuous-time scipy.signal.lti; discretise it first, e.g. "
                             "system.to_discrete(dt) (zero-order hold), then pass the dlti")
        if isinstance(system, scipy.signal.dlti):
            ss = system.to_ss()
            mats = (ss.A, ss.B, ss.C, ss.D)
            raw_dt = system.dt
        elif all(hasattr(system, k) for k in ("A", "B", "C", "D")):
            mats = (system.A, system.B, system.C, system.D)
            raw_dt = getattr(system, "dt", True)
            if raw_dt is not None and not isinstance(raw_dt, bool) and raw_dt == 0:
                raise ValueError("system is a continuous-time system (dt = 0); discretise it first, e.g. "
                                 "control.sample_system(system, dt)")
        else:
            raise TypeError(f"system must be a scipy.signal.dlti, a discrete python-control StateSpace (attributes "
                            f"A, B, C, D, dt) or a tuple (A, B, C, D); got a {type(system).__name__} object (a "
                            "python-control TransferFunction converts with control.ss(system))")
        if raw_dt is not None and not isinstance(raw_dt, (bool, np.bool_)):
            sys_dt = check_positive(raw_dt, "system.dt")
    A = as_array(mats[0], "A", allow_empty=True)
    n = A.shape[0] if A.size else 0
    if A.size and (A.ndim != 2 or A.shape[0] != A.shape[1]):
        raise ValueError(f"A must be a square matrix (n, n), got shape {A.shape}")
    D = as_array(mats[3], "D", ndim=(0, 2))
    D = D.reshape(1, 1) if D.ndim == 0 else D
    p, d = D.shape
    if n == 0:  # a static gain y = D u
        for name, v in (("B", mats[1]), ("C", mats[2])):
            if as_array(v, name, allow_empty=True).size:
                raise ValueError(f"{name} must be empty when A is (a system without states), got {np.shape(v)}")
        return np.zeros((0, 0)), np.zeros((0, d)), np.zeros((p, 0)), D, sys_dt
    B = as_array(mats[1], "B", shape=(n, d))
    C = as_array(mats[2], "C", shape=(p, n))
    return A, B, C, D, sys_dt
