"""The recurrent models researchers train, in PyTorch's layout and equations: multi-layer Elman RNN, GRU, LSTM.

Each model is the map of ``torch.nn.RNN`` / ``torch.nn.GRU`` / ``torch.nn.LSTM`` (unidirectional, any number of
layers, biases on or off, an initial state) from inputs (B, T, d) to the top layer's outputs (B, T, H) — torch's
``output`` — with torch's parameter names and shapes (docs/models.md), exact BPTT in Numba
(``rnnmem._kernels_gated``) and :func:`from_torch` to import a trained torch module (rnnmem never imports torch).

Layer ℓ (input u_k = x_k for ℓ = 0, else the output h_k of layer ℓ − 1; h_{−1} = h0[ℓ]), σ the logistic function:

* :class:`StackedRNN`: h_k = act(W_ih u_k + b_ih + W_hh h_{k−1} + b_hh), act = tanh or relu.
* :class:`GRU` (gates r, z, n stacked in this order in W_ih (3H, ·), W_hh (3H, H)):
  r = σ(W_ir u + b_ir + W_hr h + b_hr), z = σ(W_iz u + b_iz + W_hz h + b_hz),
  n = tanh(W_in u + b_in + r ⊙ (W_hn h + b_hn)), h_k = (1 − z) ⊙ n + z ⊙ h_{k−1}.
* :class:`LSTM` (gates i, f, g, o; W_ih (4H, ·), W_hh (4H, H)):
  i, f, o = σ(W_i· u + b_i· + W_h· h + b_h·), g = tanh(…), c_k = f ⊙ c_{k−1} + i ⊙ g, h_k = o ⊙ tanh(c_k).

Parameters are the entries ``weight_ih_l{ℓ}`` (G·H, d_ℓ), ``weight_hh_l{ℓ}`` (G·H, H) and, with bias,
``bias_ih_l{ℓ}``, ``bias_hh_l{ℓ}`` (G·H,), G = 1, 3, 4 — torch's ``state_dict()``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnmem import _kernels_gated as KG
from rnnmem import rnn as _rnn
from rnnmem._kernels import ACTIVATIONS as _ACT_CODES
from rnnmem._model import LOSSES, Frozen, loss_and_output_grad
from rnnmem._validate import (
    NonFiniteError,
    as_array,
    as_rng,
    as_sequence_input,
    check_bool,
    check_choice,
    check_int,
    check_real,
    check_size,
)
from rnnmem.rnn import _check_states, _dot, _products, _run_kernels, _workspace

__all__ = ["StackedRNN", "GRU", "LSTM", "NamedGradients", "from_torch", "KINDS", "NONLINEARITIES"]

KINDS = ("rnn", "gru", "lstm")
NONLINEARITIES = ("tanh", "relu")
_GATES = {"rnn": 1, "gru": 3, "lstm": 4}
_GATE_NAMES = {"rnn": ("",), "gru": ("r", "z", "n"), "lstm": ("i", "f", "g", "o")}

#: tests set this to one of rnnmem.rnn.VARIANTS except ``blas-cols`` to exercise one kernel variant on any size
_FORCE_VARIANT: str | None = None


def _pick_variant(direction: str, kind: str, H: int, B: int, T: int, G: int) -> str:
    """The kernel variant of one layer's recurrence: forced by tests, else the calibrated choice of this cell's
    kernels (``rnnmem._calibrate``, its table measured on first use of the cell; no column split: the gates of one
    unit are not contiguous in W_hh). Without a calibration, the RNN's static rule at the width √(H·G) whose
    recurrent product has the layer's size."""
    if _FORCE_VARIANT is not None:
        return _FORCE_VARIANT
    from rnnmem import _calibrate

    layer = "gated-rnn" if kind == "rnn" else kind
    return _calibrate.choose(direction, H, B, T, 1, _rnn._plan_threads(), layer=layer,
                             static_m=max(1, int(round(math.sqrt(H * G)))))


# ------------------------------------------------------------------------------------------------------- gradients
@dataclass(frozen=True)
class NamedGradients:
    """Gradients of a scalar with respect to every named parameter block and the input (and initial state).

    ``params()`` / ``state_dict()`` map each parameter name of the model (torch's names for the torch-layout models)
    to its gradient, of the parameter's shape (complex blocks get ∂L/∂Re + i ∂L/∂Im, PyTorch's convention).
    ``x`` has the shape of the input given; ``h0`` (and ``c0`` for an LSTM) the shape of the initial state
    (None for models without one).
    """

    blocks: dict[str, np.ndarray]
    x: np.ndarray
    h0: np.ndarray | None = None
    c0: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    def params(self) -> dict[str, np.ndarray]:
        """Parameter gradients as a dict, keys as the model's ``params()``."""
        return dict(self.blocks)

    def state_dict(self) -> dict[str, np.ndarray]:
        """The same dict (torch's name for it)."""
        return dict(self.blocks)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.blocks[name]


# ------------------------------------------------------------------------------------------------------- layout
def _to_numpy(value, key: str) -> np.ndarray:
    """A torch tensor (duck-typed: ``detach``/``cpu``/``numpy``), JAX or NumPy array as a NumPy array."""
    if hasattr(value, "detach") and callable(value.detach):
        value = value.detach()
        if hasattr(value, "cpu"):
            value = value.cpu()
        if hasattr(value, "numpy"):
            value = value.numpy()
    try:
        return np.asarray(value)
    except Exception as exc:  # noqa: BLE001 - any conversion failure is reported with the key
        raise TypeError(f"params[{key!r}] could not be converted to an array: {exc}") from None


_KEY = re.compile(r"^(weight|bias)_(ih|hh|hr)_l(\d+)(_reverse)?$")


def param_names(kind: str, layers: int, bias: bool) -> list[str]:
    """Torch's parameter names of a unidirectional model, in ``state_dict()`` order."""
    names = []
    for layer in range(layers):
        names += [f"weight_ih_l{layer}", f"weight_hh_l{layer}"]
        if bias:
            names += [f"bias_ih_l{layer}", f"bias_hh_l{layer}"]
    return names


def _validate_layout(kind: str, params: Any) -> tuple[dict[str, np.ndarray], int, int, int, bool]:
    """Validate a torch-layout parameter mapping; returns (float64 copies, layers, hidden, inputs, bias)."""
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a mapping of torch parameter names to arrays (e.g. module.state_dict()), "
                        f"got {type(params).__name__}")
    G = _GATES[kind]
    keys = [str(k) for k in params]
    for k in keys:
        m = _KEY.match(k)
        if m and m.group(4):
            raise ValueError(f"bidirectional models are not supported (key {k!r}): rnnmem models are causal maps; "
                             "import each direction as its own model if you need them")
        if m and m.group(2) == "hr":
            raise ValueError(f"proj_size (LSTM with projections, key {k!r}) is not supported")
    if "weight_ih_l0" not in params or "weight_hh_l0" not in params:
        raise ValueError(f"params has no 'weight_ih_l0'/'weight_hh_l0' entry; expected torch's parameter names "
                         f"(weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, ...), got keys {keys}")
    layers = 0
    while f"weight_ih_l{layers}" in params:
        layers += 1
    bias = "bias_ih_l0" in params or "bias_hh_l0" in params
    names = param_names(kind, layers, bias)
    missing = [n for n in names if n not in params]
    if missing:
        raise ValueError(f"params is missing {missing} (a {layers}-layer {kind} with bias={bias} has "
                         f"{names})")
    extra = [k for k in keys if k not in names]
    if extra:
        raise ValueError(f"params has unexpected entries {extra}; a {layers}-layer {kind} with bias={bias} has "
                         f"exactly {names} (strip a module prefix such as 'rnn.' from the keys)")
    raw = {n: _to_numpy(params[n], n) for n in names}
    w_hh0 = raw["weight_hh_l0"]
    if w_hh0.ndim != 2 or w_hh0.shape[0] != G * w_hh0.shape[1]:
        raise ValueError(f"params['weight_hh_l0'] has shape {w_hh0.shape}, expected ({G}·H, H) = "
                         f"({G}*hidden, hidden) for a {kind}")
    H = w_hh0.shape[1]
    w_ih0 = raw["weight_ih_l0"]
    if w_ih0.ndim != 2 or w_ih0.shape[0] != G * H:
        raise ValueError(f"params['weight_ih_l0'] has shape {w_ih0.shape}, expected ({G * H}, inputs)")
    d = w_ih0.shape[1]
    out = {}
    for layer in range(layers):
        want = {f"weight_ih_l{layer}": (G * H, d if layer == 0 else H), f"weight_hh_l{layer}": (G * H, H)}
        if bias:
            want.update({f"bias_ih_l{layer}": (G * H,), f"bias_hh_l{layer}": (G * H,)})
        for n, shape in want.items():
            got = raw[n].shape
            if got != shape:
                raise ValueError(f"params[{n!r}] has shape {got}, expected {shape} (hidden H = {H}, "
                                 f"inputs d = {d}, {G} gate(s))")
            out[n] = as_array(raw[n], f"params[{n!r}]")
    if d < 1 or H < 1:
        raise ValueError(f"hidden and input sizes must be >= 1, got hidden {H}, inputs {d}")
    return out, layers, H, d, bias


# ------------------------------------------------------------------------------------------------------- models
class _TorchLayout(Frozen):
    """Shared mechanics of :class:`StackedRNN`, :class:`GRU` and :class:`LSTM` (forward, BPTT, Jacobians)."""

    __slots__ = ()
    kind = "rnn"

    # ------------------------------------------------------------------ fields
    def _setup(self, params, nonlinearity: str | None = None) -> None:
        vals, layers, H, d, bias = _validate_layout(self.kind, params)
        for v in vals.values():
            v.flags.writeable = False
        fields = {"params": vals}
        if nonlinearity is not None:
            fields["nonlinearity"] = check_choice(nonlinearity, "nonlinearity", NONLINEARITIES)
        self._freeze(**fields)

    def _kwargs(self) -> dict[str, Any]:
        kw = super()._kwargs()
        kw["params"] = dict(self._params)
        return kw

    @property
    def layers(self) -> int:
        """Number of stacked layers (torch's ``num_layers``)."""
        n = 0
        while f"weight_ih_l{n}" in self._params:
            n += 1
        return n

    hidden = property(lambda self: self._params["weight_hh_l0"].shape[1], doc="Hidden width H.")
    inputs = property(lambda self: self._params["weight_ih_l0"].shape[1], doc="Input features d.")
    outputs = property(lambda self: self.hidden, doc="Output features (= H: the top layer's hidden state).")
    bias = property(lambda self: "bias_ih_l0" in self._params, doc="Whether the layers have biases.")
    gates = property(lambda self: _GATES[self.kind], doc="Pre-activations per hidden unit (1, 3, 4).")

    @property
    def state_size(self) -> int:
        """Size of the recurrent state: layers·H (LSTM: 2·layers·H, h and c of every layer)."""
        return self.layers * self.hidden * (2 if self.kind == "lstm" else 1)

    def _act(self) -> int:
        return _ACT_CODES[getattr(self, "_nonlinearity", "tanh")]

    def params(self) -> dict[str, np.ndarray]:
        """The parameter blocks by torch's names, in ``state_dict()`` order (read-only arrays)."""
        return {n: self._params[n] for n in param_names(self.kind, self.layers, self.bias)}

    def state_dict(self) -> dict[str, np.ndarray]:
        """Writable float64 copies of the parameters by torch's names: ``module.load_state_dict`` after
        ``torch.from_numpy``, or :func:`from_torch` (round trip)."""
        return {n: np.array(v) for n, v in self.params().items()}

    def replace(self, **changes):
        """A new model with some parameter blocks (by torch name) or fields changed, validated again.

        Example: ``net.replace(weight_hh_l0=W)``.
        """
        kw = self._kwargs()
        params = kw["params"]
        for k, v in changes.items():
            if k == "params":
                params = dict(v)
            elif k in params:
                params[k] = v
            elif k in kw:
                kw[k] = v
            else:
                raise TypeError(f"replace() got unknown field {k!r}; parameter blocks are {list(params)}, fields "
                                f"{sorted(set(kw) - {'params'})}")
        kw["params"] = params
        return type(self)(**kw)

    def __repr__(self) -> str:
        extra = f", nonlinearity={self._nonlinearity!r}" if self.kind == "rnn" else ""
        return (f"{type(self).__name__}(hidden={self.hidden}, inputs={self.inputs}, layers={self.layers}, "
                f"bias={self.bias}{extra})")

    # ------------------------------------------------------------------ construction
    @classmethod
    def _random_params(cls, hidden, inputs, layers, bias, scale, rng) -> dict[str, np.ndarray]:
        H = check_int(hidden, "hidden", minimum=1)
        d = check_int(inputs, "inputs", minimum=1)
        L = check_int(layers, "layers", minimum=1)
        bias = check_bool(bias, "bias")
        G = _GATES[cls.kind]
        check_size(f"{cls.__name__}.random(hidden={H}, inputs={d}, layers={L})",
                   G * H * (d + H + 2) + (L - 1) * G * H * (2 * H + 2))
        # U(−k, k) needs 2k in the float range
        k = 1.0 / math.sqrt(H) if scale is None else check_real(scale, "scale", minimum=0.0,
                                                                 maximum=np.finfo(np.float64).max / 2)
        gen = as_rng(rng)
        out = {}
        for layer in range(L):
            out[f"weight_ih_l{layer}"] = gen.uniform(-k, k, (G * H, d if layer == 0 else H))
            out[f"weight_hh_l{layer}"] = gen.uniform(-k, k, (G * H, H))
            if bias:
                out[f"bias_ih_l{layer}"] = gen.uniform(-k, k, G * H)
                out[f"bias_hh_l{layer}"] = gen.uniform(-k, k, G * H)
        return out

    # ------------------------------------------------------------------ states
    def _initial(self, h0, B: int, squeeze: bool):
        """Initial states as (L, B, H) arrays (h0, c0); c0 is zeros for the non-LSTM models."""
        L, H = self.layers, self.hidden
        want = (L, H) if squeeze else (L, B, H)
        c0 = None
        if self.kind == "lstm" and h0 is not None:
            if not (isinstance(h0, (tuple, list)) and len(h0) == 2):
                raise TypeError(f"h0 of an LSTM must be a pair (h0, c0) of arrays of shape {want}, got "
                                f"{type(h0).__name__}")
            h0, c0 = h0
        hs = []
        names = ("h0[0] (h0)", "h0[1] (c0)") if self.kind == "lstm" else ("h0", "c0")
        for name, v in zip(names, (h0, c0), strict=True):
            if v is None:
                hs.append(np.zeros((L, B, H)))
                continue
            a = as_array(v, name, shape=want)
            hs.append(np.ascontiguousarray(a[:, None] if squeeze else a))
        return hs[0], hs[1]

    def _forward(self, x, h0, check_finite: bool, time_major: bool = False):
        """Run every layer. Returns X (B, T, d), squeeze, per-layer (input, gates, h, aux), h0, c0."""
        check_bool(check_finite, "check_finite")
        X, squeeze = as_sequence_input(x, self.inputs, time_major=check_bool(time_major, "time_major"))
        B, T, _ = X.shape
        H, G, L = self.hidden, self.gates * self.hidden, self.layers
        H0, C0 = self._initial(h0, B, squeeze)
        kind, act = KG.KINDS[self.kind], self._act()
        variant = _pick_variant("forward", self.kind, H, B, T, G)
        inp = np.ascontiguousarray(X.transpose(1, 0, 2))  # (T, B, d)
        saved = []
        with _products():  # one BLAS thread (rnnmem.rnn._products)
            for layer in range(L):
                w_ih = self._params[f"weight_ih_l{layer}"]
                w_hh = self._params[f"weight_hh_l{layer}"]
                gi = _workspace(f"gated.gi{layer}", (T, B, G))
                _dot(inp.reshape(T * B, inp.shape[2]), w_ih.T, gi.reshape(T * B, G))
                if not self.bias:
                    bhh = np.zeros(G)
                elif self.kind == "gru":  # b_in stays outside r ⊙ (W_hn h + b_hn)
                    gi += self._params[f"bias_ih_l{layer}"]
                    bhh = self._params[f"bias_hh_l{layer}"]
                else:  # both biases enter the same sum: added once per step by the kernel
                    bhh = self._params[f"bias_ih_l{layer}"] + self._params[f"bias_hh_l{layer}"]
                h = _workspace(f"gated.h{layer}", (T, B, H))
                aux = _workspace(f"gated.aux{layer}", (T, B, H))
                aux2 = _workspace(f"gated.tanhc{layer}", (T, B, H)) if self.kind == "lstm" else np.empty((1, 1, 1))
                _run_kernels(KG.FORWARD, variant, (kind, act, gi, np.ascontiguousarray(w_hh.T), bhh, H0[layer],
                                                   C0[layer], h, aux, aux2), B, _rnn._plan_threads(),
                             _rnn._threads())
                saved.append((inp, gi, h, aux, aux2))
                inp = h
        if check_finite:
            _check_states(inp)
        return X, squeeze, saved, H0, C0

    def _output(self, saved, squeeze, time_major: bool = False):
        h = saved[-1][2]  # (T, B, H)
        out = np.array(h if time_major else h.transpose(1, 0, 2), order="C", copy=True)  # never a workspace view
        return out[0] if squeeze and not time_major else (out[:, 0] if squeeze else out)

    def __call__(self, x, h0=None, *, check_finite: bool = True, time_major: bool = False) -> np.ndarray:
        """The top layer's outputs (B, T, H) for inputs x (B, T, d) — torch's ``output`` (``batch_first`` layout).

        Parameters
        ----------
        x : array (B, T, d), or (T, d) for one sequence (then the result is (T, H) and h0 is (layers, H))
        h0 : array (layers, B, H), optional
            Initial hidden state (default zeros); for an LSTM a pair ``(h0, c0)``.
        check_finite : bool
            Raise :class:`~rnnmem.NonFiniteError` naming the first non-finite step.
        time_major : bool
            x is (T, B, d) and the output (T, B, H): torch's default layout (``batch_first=False``). Default
            False: (B, T, ·), rnnmem's layout (a (T, B, d) array passed without it is read as T sequences).
        """
        _, squeeze, saved, *_ = self._forward(x, h0, check_finite, time_major)
        return self._output(saved, squeeze, time_major)

    def forward(self, x, h0=None, *, check_finite: bool = True, time_major: bool = False):
        """``(output, h_n)`` as torch's module returns them (LSTM: ``(output, (h_n, c_n))``), h_n (layers, B, H);
        ``time_major`` as in ``__call__``."""
        _, squeeze, saved, *_ = self._forward(x, h0, check_finite, time_major)
        out = self._output(saved, squeeze, time_major)
        hn = np.stack([s[2][-1] for s in saved])
        cn = np.stack([s[3][-1] for s in saved]) if self.kind == "lstm" else None
        if squeeze:
            hn = hn[:, 0]
            cn = cn[:, 0] if cn is not None else None
        return (out, (hn, cn)) if self.kind == "lstm" else (out, hn)

    # ------------------------------------------------------------------ backward
    def _backward(self, X, squeeze, saved, H0, C0, dY, check_finite) -> NamedGradients:
        B, T, d = X.shape
        H, G, L = self.hidden, self.gates * self.hidden, self.layers
        kind = KG.KINDS[self.kind]
        dh = np.ascontiguousarray(dY.transpose(1, 0, 2))  # (T, B, H)
        dH0 = np.empty((L, B, H))
        dC0 = np.empty((L, B, H))
        grads: dict[str, np.ndarray] = {}
        ones = np.ones(T * B)
        # an overflow is reported as NonFiniteError (check_finite) or returned raw: no RuntimeWarning on the way
        variant = _pick_variant("backward", self.kind, H, B, T, G)
        with _products(), np.errstate(over="ignore", invalid="ignore"):
            for layer in range(L - 1, -1, -1):
                inp, gi, h, aux, aux2 = saved[layer]
                w_ih = self._params[f"weight_ih_l{layer}"]
                w_hh = self._params[f"weight_hh_l{layer}"]
                dgi = _workspace("gated.dgi", (T, B, G))
                dghn = _workspace("gated.dghn", (T, B, H)) if self.kind == "gru" else np.empty((1, 1, 1))
                _run_kernels(KG.BACKWARD, variant, (kind, gi, aux, aux2, h, H0[layer], C0[layer],
                                                    np.ascontiguousarray(w_hh), dh, dgi, dghn, dH0[layer], dC0[layer]),
                             B, _rnn._plan_threads(), _rnn._threads())
                dgi2 = dgi.reshape(T * B, G)
                din = inp.shape[2]
                grads[f"weight_ih_l{layer}"] = _dot(dgi2.T, inp.reshape(T * B, din))
                # ∂W_hh = Σ_k δh_k h_{k-1}ᵀ with h_{-1} = h0; for the GRU δh differs from δ in its n part
                gw = dgi[0].T @ H0[layer]
                if T > 1:
                    gw += _dot(dgi[1:].reshape((T - 1) * B, G).T, h[:-1].reshape((T - 1) * B, H))
                if self.kind == "gru":
                    gn = dghn[0].T @ H0[layer]
                    if T > 1:
                        gn += _dot(dghn[1:].reshape((T - 1) * B, H).T, h[:-1].reshape((T - 1) * B, H))
                    gw[2 * H:] = gn
                grads[f"weight_hh_l{layer}"] = gw
                if self.bias:
                    gb = ones @ dgi2
                    grads[f"bias_ih_l{layer}"] = gb
                    gbh = gb.copy()
                    if self.kind == "gru":
                        gbh[2 * H:] = ones @ dghn.reshape(T * B, H)
                    grads[f"bias_hh_l{layer}"] = gbh
                nxt = _workspace(f"gated.dx{layer % 2}", (T, B, din))
                _dot(dgi2, w_ih, nxt.reshape(T * B, din))
                dh = nxt
        gx = np.array(dh.transpose(1, 0, 2), order="C", copy=True)
        if check_finite:
            bad = [n for n, v in grads.items() if not np.isfinite(v).all()]
            if bad or not np.isfinite(gx).all():
                raise NonFiniteError(f"backpropagated gradients became non-finite (blocks {bad or ['x']}): the model "
                                     "explodes backwards, or dy (the output gradient) or h0 is too large; pass "
                                     "check_finite=False to get the raw values")
        ordered = {n: grads[n] for n in param_names(self.kind, L, self.bias)}
        if squeeze:
            return NamedGradients(ordered, gx[0], dH0[:, 0], dC0[:, 0] if self.kind == "lstm" else None)
        return NamedGradients(ordered, gx, dH0, dC0 if self.kind == "lstm" else None)

    def vjp(self, x, dy, h0=None, *, check_finite: bool = True) -> NamedGradients:
        """Exact gradients (BPTT) of ``sum(dy * net(x, h0))`` with respect to every parameter, x and h0.

        Returns :class:`NamedGradients`: ``state_dict()`` (torch's names and shapes), ``x``, ``h0`` (and ``c0``).
        """
        X, squeeze, saved, H0, C0 = self._forward(x, h0, check_finite)
        B, T, _ = X.shape
        want = (T, self.hidden) if squeeze else (B, T, self.hidden)
        dY = as_array(dy, "dy", shape=want, copy=False)  # read only: _backward makes its own time-major copy
        if squeeze:
            dY = dY[None]
        return self._backward(X, squeeze, saved, H0, C0, dY, check_finite)

    def loss_and_grad(self, x, y_target, loss: str = "mse", *, h0=None, power: float = 2.0,
                      check_finite: bool = True) -> tuple[float, NamedGradients]:
        """A loss of the outputs and its exact gradients.

        ``mse`` = mean over all B·T·H elements of (net(x) − y)² (torch's ``F.mse_loss(output, y)``);
        ``weighted_mse`` and ``cross_entropy`` as in :meth:`rnnmem.RNN.loss_and_grad` (the H outputs as logits).

        Returns
        -------
        loss : float
        grads : NamedGradients
            ``grads.state_dict()`` has a gradient for every torch parameter name; ``grads.x``, ``grads.h0``.
        """
        check_choice(loss, "loss", LOSSES)
        X, squeeze, saved, H0, C0 = self._forward(x, h0, check_finite)
        yhat = saved[-1][2].transpose(1, 0, 2)
        value, dY = loss_and_output_grad(yhat, y_target, loss, power, squeeze)
        return value, self._backward(X, squeeze, saved, H0, C0, dY, check_finite)

    # ------------------------------------------------------------------ Jacobians
    def _layer_step(self, layer: int, u, h, c):
        """One step of one layer at input u (d_ℓ,), state h (and c): new state and its Jacobians.

        Returns (s', J_s, J_u) with s' = h' (LSTM: [h'; c']), J_s = ∂s'/∂s (s = h or [h; c]), J_u = ∂s'/∂u.
        """
        p = self._params
        H = self.hidden
        w_ih, w_hh = p[f"weight_ih_l{layer}"], p[f"weight_hh_l{layer}"]
        a_i = w_ih @ u + (p[f"bias_ih_l{layer}"] if self.bias else 0.0)
        a_h = w_hh @ h + (p[f"bias_hh_l{layer}"] if self.bias else 0.0)

        def sig(v):
            return 0.5 + 0.5 * np.tanh(0.5 * v)

        if self.kind == "rnn":
            z = a_i + a_h
            if self._nonlinearity == "tanh":
                s = np.tanh(z)
                ds = 1.0 - s * s
            else:
                s = np.maximum(z, 0.0)
                ds = (z > 0).astype(float)
            return s, ds[:, None] * w_hh, ds[:, None] * w_ih
        if self.kind == "gru":
            sl = [slice(k * H, (k + 1) * H) for k in range(3)]
            r = sig(a_i[sl[0]] + a_h[sl[0]])
            z = sig(a_i[sl[1]] + a_h[sl[1]])
            ghn = a_h[sl[2]]
            n = np.tanh(a_i[sl[2]] + r * ghn)
            hn = n + z * (h - n)
            dr_u, dr_h = (r * (1 - r))[:, None] * w_ih[sl[0]], (r * (1 - r))[:, None] * w_hh[sl[0]]
            dz_u, dz_h = (z * (1 - z))[:, None] * w_ih[sl[1]], (z * (1 - z))[:, None] * w_hh[sl[1]]
            dn_u = (1 - n * n)[:, None] * (w_ih[sl[2]] + ghn[:, None] * dr_u)
            dn_h = (1 - n * n)[:, None] * (r[:, None] * w_hh[sl[2]] + ghn[:, None] * dr_h)
            Ju = (1 - z)[:, None] * dn_u + (h - n)[:, None] * dz_u
            Jh = (1 - z)[:, None] * dn_h + (h - n)[:, None] * dz_h + np.diag(z)
            return hn, Jh, Ju
        sl = [slice(k * H, (k + 1) * H) for k in range(4)]
        a = a_i + a_h
        ig, fg, gg, og = sig(a[sl[0]]), sig(a[sl[1]]), np.tanh(a[sl[2]]), sig(a[sl[3]])
        cn = fg * c + ig * gg
        tc = np.tanh(cn)
        der = (ig * (1 - ig), fg * (1 - fg), 1 - gg * gg, og * (1 - og))
        blocks = []
        for w in (w_ih, w_hh):
            di, df, dg, do = (der[k][:, None] * w[sl[k]] for k in range(4))
            dc = c[:, None] * df + gg[:, None] * di + ig[:, None] * dg
            dh = tc[:, None] * do + (og * (1 - tc * tc))[:, None] * dc
            blocks.append((dh, dc))
        (dh_u, dc_u), (dh_h, dc_h) = blocks
        dh_c = np.diag(og * (1 - tc * tc) * fg)
        Js = np.block([[dh_h, dh_c], [dc_h, np.diag(fg)]])
        Ju = np.vstack([dh_u, dc_u])
        return np.concatenate([tc * og, cn]), Js, Ju

    def _step_jacobian(self, state, x):
        """(new state, ∂s_k/∂s_{k−1}) of the whole stack at state s_{k−1} (S,) and input x_k (d,)."""
        H, L = self.hidden, self.layers
        w = 2 * H if self.kind == "lstm" else H
        S = L * w
        J = np.zeros((S, S))
        new = np.empty(S)
        u, du = x, np.zeros((x.shape[0], S))
        for layer in range(L):
            blk = slice(layer * w, (layer + 1) * w)
            s = state[blk]
            h, c = (s[:H], s[H:]) if self.kind == "lstm" else (s, None)
            sn, Js, Ju = self._layer_step(layer, u, h, c)
            new[blk] = sn
            J[blk] = Ju @ du
            J[blk, blk] += Js
            u, du = sn[:H], J[blk][:H]
        return new, J

    def jacobian(self, h=None, x=None) -> np.ndarray:
        """The state-transition Jacobian ∂s_k/∂s_{k−1} (S, S) at state ``h`` and input ``x`` (default: zero state,
        zero input), for the stability diagnostics (:func:`rnnmem.spectral_radius`,
        ``distance_to_instability(J, cell="elman")``: a discrete-time map).

        The state s stacks every layer's h (LSTM: [h_ℓ; c_ℓ] per layer), S = :attr:`state_size`; a layer's new state
        depends on the new output of the layer below, so J is block lower-triangular in the layers.
        """
        S = self.state_size
        check_size(f"jacobian (state size {S})", S, S)
        s = np.zeros(S) if h is None else as_array(h, "h", shape=(S,))
        u = np.zeros(self.inputs) if x is None else as_array(x, "x", shape=(self.inputs,))
        return self._step_jacobian(s, u)[1]

    def step_jacobians(self, x, h0=None) -> np.ndarray:
        """The state Jacobians J_k = ∂s_k/∂s_{k−1} along the trajectory of x: (B, T, S, S) (or (T, S, S))."""
        X, squeeze, saved, H0, C0 = self._forward(x, h0, True)
        B, T, _ = X.shape
        check_size("step_jacobians", B, T, self.state_size, self.state_size)
        L = self.layers
        lstm = self.kind == "lstm"
        parts = []  # (T, B, S) states
        for layer in range(L):
            parts.append(saved[layer][2])
            if lstm:
                parts.append(saved[layer][3])
        states = np.concatenate(parts, axis=2)
        init = np.concatenate([np.concatenate([H0[ly], C0[ly]], axis=1) if lstm else H0[ly] for ly in range(L)],
                              axis=1)  # (B, S)
        S = states.shape[2]
        out = np.empty((B, T, S, S))
        for b in range(B):
            prev = init[b]
            for k in range(T):
                out[b, k] = self._step_jacobian(prev, X[b, k])[1]
                prev = states[k, b]
        return out[0] if squeeze else out


class StackedRNN(_TorchLayout):
    """``torch.nn.RNN``: a stack of Elman layers h_k = act(W_ih u_k + b_ih + W_hh h_{k−1} + b_hh) (module docstring).

    Parameters
    ----------
    params : mapping
        Torch's parameter names to arrays (``module.state_dict()`` works, tensors included): ``weight_ih_l{ℓ}``
        (H, d_ℓ), ``weight_hh_l{ℓ}`` (H, H), with bias ``bias_ih_l{ℓ}``, ``bias_hh_l{ℓ}`` (H,).
    nonlinearity : {"tanh", "relu"}

    Notes
    -----
    :class:`rnnmem.RNN` is the one-layer model of the papers (a readout C, the euler cell, four activations); this
    class is torch's multi-layer module without a readout.

    Examples
    --------
    >>> import numpy as np, rnnmem as rm
    >>> net = rm.StackedRNN.random(8, inputs=2, layers=3, rng=0)
    >>> net(np.ones((4, 10, 2))).shape
    (4, 10, 8)
    """

    __slots__ = ("_params", "_nonlinearity")
    kind = "rnn"

    def __init__(self, params, *, nonlinearity: str = "tanh"):
        self._setup(params, nonlinearity)

    nonlinearity = property(lambda self: self._nonlinearity, doc='"tanh" or "relu".')

    @classmethod
    def random(cls, hidden: int, inputs: int = 1, layers: int = 1, *, nonlinearity: str = "tanh",
               bias: bool = True, scale: float | None = None, rng=None) -> StackedRNN:
        """Torch's default initialisation: every weight and bias ~ U(−k, k), k = ``scale`` (default 1/√H)."""
        return cls(cls._random_params(hidden, inputs, layers, bias, scale, rng), nonlinearity=nonlinearity)


class GRU(_TorchLayout):
    """``torch.nn.GRU``: gates r, z, n (module docstring); n = tanh(W_in u + b_in + r ⊙ (W_hn h + b_hn)).

    Parameters
    ----------
    params : mapping
        Torch's parameter names to arrays: ``weight_ih_l{ℓ}`` (3H, d_ℓ), ``weight_hh_l{ℓ}`` (3H, H), with bias
        ``bias_ih_l{ℓ}``, ``bias_hh_l{ℓ}`` (3H,), rows in the order r, z, n.

    Examples
    --------
    >>> import numpy as np, rnnmem as rm
    >>> net = rm.GRU.random(16, inputs=3, layers=2, rng=0)
    >>> loss, g = net.loss_and_grad(np.ones((2, 5, 3)), np.zeros((2, 5, 16)))
    >>> g.state_dict()["weight_hh_l1"].shape
    (48, 16)
    """

    __slots__ = ("_params",)
    kind = "gru"

    def __init__(self, params):
        self._setup(params)

    @classmethod
    def random(cls, hidden: int, inputs: int = 1, layers: int = 1, *, bias: bool = True,
               scale: float | None = None, rng=None) -> GRU:
        """Torch's default initialisation: every weight and bias ~ U(−k, k), k = ``scale`` (default 1/√H)."""
        return cls(cls._random_params(hidden, inputs, layers, bias, scale, rng))


class LSTM(_TorchLayout):
    """``torch.nn.LSTM`` without projections: gates i, f, g, o; c_k = f ⊙ c_{k−1} + i ⊙ g, h_k = o ⊙ tanh(c_k).

    Parameters
    ----------
    params : mapping
        Torch's parameter names to arrays: ``weight_ih_l{ℓ}`` (4H, d_ℓ), ``weight_hh_l{ℓ}`` (4H, H), with bias
        ``bias_ih_l{ℓ}``, ``bias_hh_l{ℓ}`` (4H,), rows in the order i, f, g, o.

    Notes
    -----
    The initial state is the pair ``h0=(h0, c0)``, each (layers, B, H), as in torch.
    """

    __slots__ = ("_params",)
    kind = "lstm"

    def __init__(self, params):
        self._setup(params)

    @classmethod
    def random(cls, hidden: int, inputs: int = 1, layers: int = 1, *, bias: bool = True,
               scale: float | None = None, rng=None) -> LSTM:
        """Torch's default initialisation: every weight and bias ~ U(−k, k), k = ``scale`` (default 1/√H)."""
        return cls(cls._random_params(hidden, inputs, layers, bias, scale, rng))


_CLASSES = {"rnn": StackedRNN, "gru": GRU, "lstm": LSTM}
_MODES = {"RNN_TANH": ("rnn", "tanh"), "RNN_RELU": ("rnn", "relu"), "GRU": ("gru", None), "LSTM": ("lstm", None)}


def from_torch(module_or_state_dict, *, kind: str | None = None, nonlinearity: str = "tanh"):
    """An rnnmem model from a ``torch.nn.RNN``/``GRU``/``LSTM`` module or from a mapping of parameter names to arrays.

    rnnmem never imports torch: a module is recognised by its attributes (``mode``, ``state_dict()``,
    ``bidirectional``, ``proj_size``), tensors by ``detach()``/``numpy()``.

    Parameters
    ----------
    module_or_state_dict : torch module or mapping
        A module (its ``batch_first`` does not matter: rnnmem models take (B, T, d)), or torch-free a mapping
        ``{"weight_ih_l0": array, ...}`` (e.g. ``module.state_dict()``, NumPy arrays, or ``net.state_dict()`` of an
        rnnmem model).
    kind : {"rnn", "gru", "lstm"}, optional
        Required for a mapping; for a module it is read from the module (and checked if given).
    nonlinearity : {"tanh", "relu"}
        Of a ``kind="rnn"`` mapping; a module's own nonlinearity is used (a different explicit value raises).

    Returns
    -------
    StackedRNN, GRU or LSTM

    Raises
    ------
    ValueError
        For a bidirectional module or ``proj_size > 0`` (naming the feature), missing or unexpected keys, and a
        mis-shaped entry (naming the key, the expected and the received shape).
    """
    check_choice(nonlinearity, "nonlinearity", NONLINEARITIES)
    obj = module_or_state_dict
    if isinstance(obj, Mapping):
        if kind is None:
            raise ValueError("kind is required with a mapping of parameters: 'rnn', 'gru' or 'lstm'")
        kind = check_choice(kind, "kind", KINDS)
        params = dict(obj)
    elif hasattr(obj, "state_dict") and hasattr(obj, "mode"):
        mode = obj.mode
        if mode not in _MODES:
            raise ValueError(f"unsupported recurrent module mode {mode!r}; expected one of {list(_MODES)}")
        mkind, mnl = _MODES[mode]
        if kind is not None and check_choice(kind, "kind", KINDS) != mkind:
            raise ValueError(f"kind={kind!r} but the module is a {type(obj).__name__} ({mkind!r})")
        kind = mkind
        if getattr(obj, "bidirectional", False):
            raise ValueError("bidirectional=True is not supported: rnnmem models are causal (unidirectional) maps")
        if getattr(obj, "proj_size", 0):
            raise ValueError(f"proj_size={obj.proj_size} (LSTM with projections) is not supported")
        if mnl is not None:
            if nonlinearity != "tanh" and nonlinearity != mnl:
                raise ValueError(f"nonlinearity={nonlinearity!r} but the module uses {mnl!r}")
            nonlinearity = mnl
        params = dict(obj.state_dict())
        if bool(getattr(obj, "bias", True)) != ("bias_ih_l0" in params):
            raise ValueError("the module's bias flag does not match its state_dict")
    else:
        raise TypeError(f"from_torch needs a torch.nn.RNN/GRU/LSTM module or a mapping of parameter names to arrays, "
                        f"got {type(obj).__name__}")
    cls = _CLASSES[kind]
    return cls(params, nonlinearity=nonlinearity) if kind == "rnn" else cls(params)
