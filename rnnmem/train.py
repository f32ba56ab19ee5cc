"""Training on the Numba BPTT: the Adam and SGD optimisers and :func:`fit` (docs/math.md §7; no PyTorch).

Every model following the parameter protocol can be trained: ``params() -> dict[str, ndarray]`` (the trained
blocks), ``replace(**blocks)`` (a new model with blocks changed) and
``loss_and_grad(x, y, loss=..., power=...)`` returning ``(loss, grads)`` with ``grads`` a dict or an object
whose ``params()`` gives a dict with the same keys.
:class:`rnnmem.RNN`, :class:`rnnmem.reparam.ReparamRNN`, the torch-layout models (:class:`rnnmem.StackedRNN`,
:class:`rnnmem.GRU`, :class:`rnnmem.LSTM`) and the state-space models (:class:`rnnmem.DiagonalSSM`,
:class:`rnnmem.ssm.S4D`, :class:`rnnmem.ssm.LRU`) all do. Complex blocks (an SSM's λ, B, C) carry gradients
∂L/∂Re + i ∂L/∂Im and are stepped as two real parameters (PyTorch's ``view_as_real`` convention for optimisers).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnmem._model import loss_and_output_grad
from rnnmem._validate import (
    NonFiniteError,
    as_array,
    as_complex_array,
    as_rng,
    check_bool,
    check_callable,
    check_choice,
    check_int,
    check_labels,
    check_names,
    check_pair,
    check_positive,
    check_real,
)
from rnnmem.rnn import LOSSES

__all__ = ["Adam", "SGD", "FitResult", "fit", "OPTIMIZERS"]

OPTIMIZERS = ("adam", "sgd")


def _as_grad_dict(grads: Any) -> dict[str, np.ndarray]:
    if isinstance(grads, Mapping):
        return dict(grads)
    if hasattr(grads, "params"):
        return grads.params()
    raise TypeError(f"loss_and_grad must return gradients as a dict or an object with params(); got "
                    f"{type(grads).__name__}")


def _as_block(theta) -> np.ndarray:
    """A parameter block as float64, or complex128 for complex blocks (never silently dropping imaginary parts)."""
    return np.asarray(theta, dtype=np.complex128 if np.iscomplexobj(theta) else np.float64)


def _real(a: np.ndarray) -> np.ndarray:
    """A float64 view of a block: complex entries as (re, im) pairs (the optimiser state of a complex block)."""
    a = np.ascontiguousarray(a)
    return a.view(np.float64) if np.iscomplexobj(a) else a


def _back(a: np.ndarray, like: np.ndarray) -> np.ndarray:
    return a.view(np.complex128) if np.iscomplexobj(like) else a


def _check_step(params, grads, state_shapes: Mapping[str, tuple]) -> tuple[dict, dict]:
    """Validate one optimiser step's arguments before any state changes: ``params`` a mapping of finite real or
    complex arrays, ``grads`` (a mapping or an object with ``params()``) with blocks of ``params`` only, each of its
    block's shape and kind, finite. Returns (blocks, gradients) as float64/complex128 copies."""
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a mapping of block names to arrays (e.g. model.params()), got "
                        f"{type(params).__name__}")
    if not isinstance(grads, Mapping) and not callable(getattr(grads, "params", None)):
        raise TypeError(f"grads must be a mapping of block names to arrays (or an object with params(), such as "
                        f"rnnmem.Gradients), got {type(grads).__name__}")
    g_in = _as_grad_dict(grads)
    unknown = [k for k in g_in if k not in params]
    if unknown:
        raise ValueError(f"grads has block(s) {unknown} that params does not have; params has {list(params)}")
    blocks, g_out = {}, {}
    for k, g in g_in.items():
        theta = params[k]
        cplx = np.iscomplexobj(theta)
        conv = as_complex_array if cplx else as_array
        blocks[k] = conv(theta, f"params[{k!r}]", ndim=np.ndim(theta))
        try:
            gk = conv(g, f"grads[{k!r}]", ndim=np.ndim(g))
        except ValueError as exc:
            if "NaN or inf" in str(exc):
                raise NonFiniteError(f"grads[{k!r}] is not finite (a diverged loss; lower lr or set clip): "
                                     f"{exc}") from None
            raise
        if gk.shape != blocks[k].shape:
            raise ValueError(f"grads[{k!r}] has shape {gk.shape} but params[{k!r}] has shape {blocks[k].shape}; "
                             "each gradient must have its block's shape")
        prev = state_shapes.get(k)
        if prev is not None and prev != _real(blocks[k]).shape:
            raise ValueError(f"params[{k!r}] has shape {blocks[k].shape}, different from the previous steps of this "
                             "optimiser; use a new optimiser for a new model")
        g_out[k] = gk
    return blocks, g_out


def _check_updated(out: dict, keys) -> dict:
    for k in keys:
        if not np.isfinite(out[k]).all():
            raise NonFiniteError(f"the updated params[{k!r}] is not finite (the step overflowed: params or lr too "
                                 "large)")
    return out


class Adam:
    """Adam (Kingma & Ba 2015) with optional decoupled weight decay (AdamW, Loshchilov & Hutter 2019).

    For each block θ with gradient g, at step t = 1, 2, ...:

        m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²,
        m̂ = m / (1 − β₁ᵗ),       v̂ = v / (1 − β₂ᵗ),
        θ ← θ − lr (m̂ / (√v̂ + ε) + λ θ)

    (PyTorch's ``torch.optim.Adam`` / ``AdamW`` conventions; λ = ``weight_decay`` is decoupled, i.e. AdamW).

    Parameters
    ----------
    lr : float
        Learning rate (> 0). May be changed between steps (``opt.lr = ...``), e.g. by a plateau scheduler.
    betas : (float, float)
        β₁, β₂ in [0, 1).
    eps : float
        ε > 0.
    weight_decay : float
        Decoupled weight decay λ >= 0 (0: plain Adam).
    """

    def __init__(self, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        self.lr = check_positive(lr, "lr")
        self.betas = check_pair(betas, "betas", minimum=0.0, maximum=1.0, strict_maximum=True)
        self.eps = check_positive(eps, "eps")
        self.weight_decay = check_positive(weight_decay, "weight_decay", strict=False)
        self.t = 0
        self._m: dict[str, np.ndarray] = {}
        self._v: dict[str, np.ndarray] = {}

    def step(self, params: Mapping[str, np.ndarray],
             grads: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """One update; returns NEW arrays for the blocks in ``grads`` (inputs are not modified).

        Blocks of ``params`` without a gradient are returned unchanged. Raises ``ValueError`` for a gradient of
        an unknown block or of another shape than its block, :class:`~rnnmem.NonFiniteError` for a NaN/inf gradient
        or an update that overflows (the optimiser's state is then unchanged).
        """
        lr = check_positive(self.lr, "lr")
        blocks, gs = _check_step(params, grads, {k: v.shape for k, v in self._m.items()})
        self.t += 1
        b1, b2 = self.betas
        c1 = 1.0 - b1 ** self.t
        c2 = 1.0 - b2 ** self.t
        out = dict(params)
        for k, g in gs.items():
            block = blocks[k]
            theta = _real(block)
            g = _real(g)
            m = self._m.get(k)
            if m is None:
                m = np.zeros_like(theta)
                v = np.zeros_like(theta)
            else:
                v = self._v[k]
            m = b1 * m + (1.0 - b1) * g
            v = b2 * v + (1.0 - b2) * (g * g)
            self._m[k], self._v[k] = m, v
            upd = (m / c1) / (np.sqrt(v / c2) + self.eps)
            if self.weight_decay:
                upd = upd + self.weight_decay * theta
            out[k] = _back(theta - lr * upd, block)
        return _check_updated(out, gs)


class SGD:
    """Stochastic gradient descent with optional (heavy-ball) momentum and weight decay.

    With μ = ``momentum`` and λ = ``weight_decay`` (PyTorch's ``torch.optim.SGD`` convention, no dampening):

        g ← g + λ θ,   u ← μ u + g (u = g at the first step),   θ ← θ − lr u.

    Parameters
    ----------
    lr : float
        Learning rate (> 0); may be changed between steps.
    momentum : float
        μ in [0, 1).
    weight_decay : float
        λ >= 0 (L2 penalty added to the gradient).
    """

    def __init__(self, lr: float = 1e-2, momentum: float = 0.0, weight_decay: float = 0.0):
        self.lr = check_positive(lr, "lr")
        self.momentum = check_real(momentum, "momentum", minimum=0.0, maximum=1.0, strict_maximum=True)
        self.weight_decay = check_positive(weight_decay, "weight_decay", strict=False)
        self.t = 0
        self._u: dict[str, np.ndarray] = {}

    def step(self, params: Mapping[str, np.ndarray],
             grads: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """One update; returns NEW arrays for the blocks in ``grads`` (inputs are not modified).

        Raises as :meth:`Adam.step` (unknown block, wrong shape, NaN/inf gradient or update).
        """
        lr = check_positive(self.lr, "lr")
        blocks, gs = _check_step(params, grads, {k: _real(v).shape for k, v in self._u.items()})
        self.t += 1
        out = dict(params)
        for k, g in gs.items():
            theta = blocks[k]
            if self.weight_decay:
                g = g + self.weight_decay * theta
            if self.momentum:
                u = self._u.get(k)
                u = g if u is None else self.momentum * u + g
                self._u[k] = u
                g = u
            out[k] = theta - lr * g
        return _check_updated(out, gs)


@dataclass
class FitResult:
    """Result of :func:`fit`.

    model : the trained model (the best one seen when ``restore_best=True``).
    history : per-epoch arrays: ``loss`` (mean of the minibatch losses of the epoch), ``val_loss`` (when
        validation data were given), ``lr`` (learning rate used in the epoch), ``grad_norm`` (mean global
        gradient norm before clipping), ``seconds`` (wall time since the start).
    epochs : number of epochs run.
    stopped : why training ended: ``"epochs"`` (all epochs run), ``"stop_loss"``, ``"min_lr"`` or ``"callback"``.
        (A non-finite loss or gradient raises :class:`~rnnmem.NonFiniteError` instead.)
    """

    model: Any
    history: dict[str, np.ndarray] = field(default_factory=dict)
    epochs: int = 0
    stopped: str = "epochs"

    @property
    def final_loss(self) -> float:
        """The monitored loss (``val_loss`` if present, else ``loss``) of the last epoch."""
        h = self.history.get("val_loss")
        h = self.history["loss"] if h is None or len(h) == 0 else h
        return float(h[-1]) if len(h) else float("nan")

    def epochs_to(self, threshold: float) -> int | None:
        """First epoch (1-based) whose monitored loss is <= ``threshold`` (a real number), or None if never."""
        threshold = check_real(threshold, "threshold", finite=False)
        h = self.history.get("val_loss")
        h = self.history["loss"] if h is None or len(h) == 0 else h
        hit = np.flatnonzero(np.asarray(h) <= threshold)
        return int(hit[0]) + 1 if hit.size else None


def _progress(total: int, enabled: bool):
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # optional dependency: fall back to a line every 10 % of the epochs
        return None
    return tqdm(total=total, desc="fit", unit="epoch", leave=False)


def fit(
    model,
    x,
    y,
    *,
    epochs: int,
    lr: float,
    batch_size: int | None = None,
    optimizer: str | Adam | SGD = "adam",
    loss: str = "mse",
    power: float = 2.0,
    clip: float | None = None,
    plateau_patience: int | None = None,
    plateau_factor: float = 0.1,
    min_lr: float = 0.0,
    stop_loss: float | None = None,
    validation: tuple[Any, Any] | None = None,
    trainable: Iterable[str] | None = None,
    restore_best: bool = False,
    rng=None,
    progress: bool = True,
    callback: Callable[[int, Any, dict], bool | None] | None = None,
    time_major: bool = False,
) -> FitResult:
    """Train ``model`` on (x, y) by minibatch gradient descent with exact BPTT gradients.

    Each epoch shuffles the N sequences (with ``rng``) into ⌈N / batch_size⌉ minibatches; for each one the
    loss and its gradient are computed by ``model.loss_and_grad`` (Numba BPTT), the global gradient norm
    ‖g‖ = (Σ_blocks ‖g_block‖_F²)^{1/2} is clipped to ``clip`` (g ← g · clip/‖g‖ when larger; PyTorch's
    ``clip_grad_norm_``), and the optimiser updates the parameters.

    Parameters
    ----------
    model : RNN, ReparamRNN or any model of the protocol (module docstring)
    x : array (N, T, d), or one sequence (T, d) as ``rnn(x)`` accepts (then N = 1)
        Training inputs.
    y : array
        Targets: (N, T, p) (or (T, p) for a 2-D x) for ``mse``/``weighted_mse``, of exactly the model's output
        shape; integer class labels (N,) in 0..p−1 (a scalar for a 2-D x) for ``cross_entropy`` (softmax
        cross-entropy of the last step's outputs).
    epochs : int
        Maximum number of passes over the data (>= 1).
    lr : float
        Learning rate of the optimiser (> 0).
    batch_size : int, optional
        Minibatch size; None: full batch (one step per epoch).
    optimizer : "adam", "sgd" or an :class:`Adam` / :class:`SGD` instance (its own lr is then overwritten by
        ``lr``).
    loss : {"mse", "weighted_mse", "cross_entropy"}
        See :meth:`rnnmem.RNN.loss_and_grad`; ``power`` is the time-weight exponent of ``weighted_mse``.
    clip : float, optional
        Maximum global gradient norm (the CoM repo clips at 0.5).
    plateau_patience : int, optional
        Reduce-on-plateau: when the monitored loss has not improved (by a relative 1e-4) for this many epochs,
        lr ← max(lr · ``plateau_factor``, ``min_lr``) (PyTorch's ``ReduceLROnPlateau``, mode "min", "rel").
        Training stops (``stopped="min_lr"``) when a reduction is due with lr already at a positive
        ``min_lr``.
    stop_loss : float, optional
        Stop as soon as the monitored loss is <= this value (``stopped="stop_loss"``).
    validation : (x_val, y_val), optional
        Held-out data, shaped as x and y (same T and p; labels in range); its loss (forward pass only) is the
        monitored loss.
    trainable : sequence of str, optional
        Names of the blocks to train, e.g. ``("W", "C")`` (default: all of ``model.params()``); the others stay
        fixed. A string is refused rather than split into letters.
    restore_best : bool
        Return the model with the lowest monitored loss instead of the last one.
    rng : None, int or Generator
        Shuffling; the same seed gives the same training run.
    progress : bool
        Show a tqdm progress bar when tqdm is installed (else a line on stderr every 10 % of the epochs);
        False prints nothing.
    callback : callable(epoch, model, record) -> bool, optional
        Called after every epoch with the 1-based epoch, the current model and that epoch's history record;
        returning True stops training.
    time_major : bool
        The 3-D arrays x, y (and the validation pair) are time-major (T, N, ·), torch's default layout
        (``batch_first=False``); they are transposed once to rnnmem's (N, T, ·). Default False: (N, T, ·).
        (A (T, N, d) array passed without it would silently be read as T sequences of length N.)

    Returns
    -------
    FitResult
        ``.model``, ``.history`` (per-epoch arrays), ``.epochs``, ``.stopped``.

    Raises
    ------
    NonFiniteError
        If a loss or gradient becomes non-finite (the message names the epoch and batch).

    Examples
    --------
    >>> import numpy as np, rnnmem as rm
    >>> teacher = rm.RNN.random(4, rng=0)
    >>> x = np.random.default_rng(1).normal(size=(64, 20, 1))
    >>> res = rm.fit(rm.RNN.random(4, rng=2), x, teacher(x), epochs=5, lr=1e-2, progress=False)
    >>> res.history["loss"].shape
    (5,)
    """
    epochs = check_int(epochs, "epochs", minimum=1)
    lr = check_positive(lr, "lr")
    check_choice(loss, "loss", LOSSES)
    power = check_real(power, "power", minimum=0.0)
    for attr in ("params", "replace", "loss_and_grad"):
        if not callable(getattr(model, attr, None)):
            raise TypeError("model must provide params(), replace(**blocks) and loss_and_grad(x, y, loss=...); "
                            f"{type(model).__name__} has no {attr}()")
    time_major = check_bool(time_major, "time_major")
    restore_best = check_bool(restore_best, "restore_best")
    progress = check_bool(progress, "progress")
    if callback is not None:
        check_callable(callback, "callback", "a callable callback(epoch, model, record)")
    X, Y = _check_data(model, x, y, loss, time_major, ("x", "y"))
    N = X.shape[0]
    if batch_size is None:
        batch_size = N
    batch_size = min(check_int(batch_size, "batch_size", minimum=1), N)
    if clip is not None:
        clip = check_positive(clip, "clip")
    plateau_factor = check_real(plateau_factor, "plateau_factor", minimum=0.0, maximum=1.0, strict_minimum=True,
                                strict_maximum=True)
    if plateau_patience is not None:
        plateau_patience = check_int(plateau_patience, "plateau_patience", minimum=0)
    min_lr = check_real(min_lr, "min_lr", minimum=0.0)
    if stop_loss is not None:
        stop_loss = check_real(stop_loss, "stop_loss", minimum=0.0)
    if validation is not None:
        if isinstance(validation, (str, bytes)) or not isinstance(validation, (tuple, list)) or len(validation) != 2:
            raise TypeError(f"validation must be a pair (x_val, y_val), got {type(validation).__name__}")
        Xv, Yv = _check_data(model, validation[0], validation[1], loss, time_major,
                             ("validation[0]", "validation[1]"))
    gen = as_rng(rng)

    if isinstance(optimizer, (Adam, SGD)):
        opt = optimizer
        opt.lr = lr
    else:
        name = check_choice(optimizer, "optimizer", OPTIMIZERS)
        opt = Adam(lr) if name == "adam" else SGD(lr)

    params = {k: np.array(_as_block(v)) for k, v in model.params().items()}
    names = list(params) if trainable is None else list(check_names(trainable, "trainable", tuple(params)))

    hist: dict[str, list] = {"loss": [], "lr": [], "grad_norm": [], "seconds": []}
    if validation is not None:
        hist["val_loss"] = []
    best_val, best_model = np.inf, model
    plateau_best, bad_epochs = np.inf, 0
    stopped = "epochs"
    bar = _progress(epochs, progress)
    report_every = max(1, epochs // 10)
    t0 = time.perf_counter()
    n_batches = -(-N // batch_size)
    epoch = 0
    for epoch in range(1, epochs + 1):
        order = gen.permutation(N) if n_batches > 1 else np.arange(N)
        losses = np.empty(n_batches)
        norms = np.empty(n_batches)
        lr_used = opt.lr
        nonfinite = False
        for i in range(n_batches):
            idx = order[i * batch_size:(i + 1) * batch_size]
            try:
                value, grads = model.loss_and_grad(X[idx], Y[idx], loss=loss, power=power)
            except NonFiniteError as exc:
                raise NonFiniteError(f"training diverged at epoch {epoch}, batch {i + 1} (lower lr or set clip): "
                                     f"{exc}") from exc
            g = _as_grad_dict(grads)
            g = {k: _as_block(g[k]) if np.iscomplexobj(params[k]) else np.asarray(g[k], dtype=np.float64)
                 for k in names}
            gnorm = float(np.sqrt(sum(float(np.sum(v * v)) if not np.iscomplexobj(v) else
                                      float(np.sum(v.real * v.real + v.imag * v.imag)) for v in g.values())))
            if not (np.isfinite(value) and np.isfinite(gnorm)):
                nonfinite = True
                break
            if clip is not None and gnorm > clip:
                g = {k: v * (clip / gnorm) for k, v in g.items()}
            params = opt.step(params, g)
            model = model.replace(**{k: params[k] for k in names})
            losses[i], norms[i] = value, gnorm
        if nonfinite:
            raise NonFiniteError(f"training diverged at epoch {epoch}, batch {i + 1}: the loss or gradient "
                                 "is not finite (lower lr or set clip)")
        rec = {"loss": float(losses.mean()), "lr": lr_used, "grad_norm": float(norms.mean()),
               "seconds": time.perf_counter() - t0}
        if validation is not None:
            rec["val_loss"] = _eval_loss(model, Xv, Yv, loss, power)
        for k, v in rec.items():
            hist[k].append(v)
        monitored = rec.get("val_loss", rec["loss"])
        if restore_best and monitored < best_val:
            best_val, best_model = monitored, model
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{monitored:.3e}", lr=f"{opt.lr:.1e}")
        elif progress and (epoch % report_every == 0 or epoch == epochs):
            print(f"fit: epoch {epoch}/{epochs} loss {monitored:.4e} lr {opt.lr:.2e}", file=sys.stderr)
        if stop_loss is not None and monitored <= stop_loss:
            stopped = "stop_loss"
            break
        if callback is not None and callback(epoch, model, rec):
            stopped = "callback"
            break
        if plateau_patience is not None:
            if monitored < plateau_best * (1.0 - 1e-4):
                plateau_best, bad_epochs = monitored, 0
            else:
                bad_epochs += 1
                if bad_epochs > plateau_patience:
                    if min_lr > 0 and opt.lr <= min_lr:
                        stopped = "min_lr"
                        break
                    opt.lr = max(opt.lr * plateau_factor, min_lr)
                    bad_epochs = 0
    if bar is not None:
        bar.close()
    history = {k: np.asarray(v, dtype=np.float64) for k, v in hist.items()}
    return FitResult(model=best_model if restore_best else model, history=history, epochs=epoch,
                     stopped=stopped)


def _check_data(model, x, y, loss: str, time_major: bool, names: tuple[str, str]):
    """Inputs (N, T, d) and targets of exactly the model's output shape (N, T, p), or labels (N,) in 0..p−1.

    A 2-D x (T, d) is one sequence (N = 1) with y (T, p) or a scalar label, as ``model(x)`` accepts it; with
    ``time_major`` 3-D arrays are (T, N, ·).
    """
    xname, yname = names
    X = as_array(x, xname, ndim=(2, 3))
    single = X.ndim == 2
    if single:
        X = X[None]
    elif time_major:
        X = np.ascontiguousarray(X.transpose(1, 0, 2))
    N, Tx, d = X.shape
    d_model = getattr(model, "inputs", None)
    if isinstance(d_model, int) and d != d_model:
        raise ValueError(f"{xname} has {d} input feature(s) (shape {np.shape(x)}) but the model has {d_model}; "
                         "arrays are (batch, time, features)" + (" with time_major=True: (time, batch, features)"
                                                                 if time_major else ""))
    p = getattr(model, "outputs", None)
    if loss == "cross_entropy":
        if not isinstance(p, int):
            raise TypeError(f"loss='cross_entropy' needs the model's number of outputs (model.outputs); "
                            f"{type(model).__name__} has none")
        Y = check_labels(y, yname, None if single else N, p).reshape(N)
        return X, Y
    Y = as_array(y, yname, ndim=2 if single else 3)
    if single:
        Y = Y[None]
    elif time_major:
        Y = np.ascontiguousarray(Y.transpose(1, 0, 2))
    p = p if isinstance(p, int) else Y.shape[2]
    if Y.shape != (N, Tx, p):
        expected = (Tx, p) if single else ((Tx, N, p) if time_major else (N, Tx, p))
        raise ValueError(f"{yname} has shape {np.shape(y)}, expected {expected}: the model's output shape on "
                         f"{xname} (the same sequences and steps, p = model.outputs = {p} features)")
    return X, Y


def _eval_loss(model, X, Y, loss: str, power: float) -> float:
    """The loss of ``model`` on (X, Y) by a forward pass only (same definitions as ``RNN.loss_and_grad``)."""
    value, _ = loss_and_output_grad(np.asarray(model(X), dtype=np.float64), Y, loss, power, False)
    return value
