"""The mechanics shared by every immutable model of rnnmem, and the losses every model computes the same way.

* :class:`Frozen` — fields set once (arrays become read-only float64/complex128 copies), ``replace(**changes)`` for a
  modified copy, pickling through the constructor. :class:`rnnmem.RNN`, the reparameterised RNNs, the torch-layout
  models of :mod:`rnnmem.gated` and the state-space models of :mod:`rnnmem.ssm` all derive from it.
* :func:`loss_and_output_grad` — the losses of ``loss_and_grad`` (mse, weighted_mse, cross_entropy) and their
  gradient with respect to the model's outputs, one definition for every model.

The model protocol (what :func:`rnnmem.fit`, :func:`rnnmem.perturbation_error` and the memory and stability
functions rely on): ``params() -> dict`` of parameter blocks, ``replace(**blocks)``, ``model(x)`` on (B, T, d)
inputs, ``vjp(x, dy)`` and ``loss_and_grad(x, y, loss=..., power=...)`` returning ``(loss, grads)`` whose
``grads.params()`` has the keys of ``params()``, and the attributes ``inputs`` and ``outputs``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnmem._validate import NonFiniteError, as_array, check_choice, check_labels, check_real

__all__ = ["Frozen", "LOSSES", "loss_and_output_grad"]

LOSSES = ("mse", "weighted_mse", "cross_entropy")


def _rebuild(cls, kwargs):
    return cls(**kwargs)


class Frozen:
    """Immutable-model mechanics: fields listed in ``__slots__ = ("_<field>", ...)`` in the order of the constructor's
    keywords, set once by :meth:`_freeze` (arrays become read-only), ``replace`` and pickling for free."""

    __slots__ = ()

    def _freeze(self, **fields) -> None:
        for name, val in fields.items():
            if isinstance(val, np.ndarray):
                val.flags.writeable = False
            object.__setattr__(self, "_" + name, val)

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is immutable; use model.replace({name.lstrip('_')}=...) for a "
                             "modified copy")

    def __reduce__(self):
        return (_rebuild, (type(self), self._kwargs()))

    def _kwargs(self) -> dict[str, Any]:
        return {slot[1:]: getattr(self, slot) for slot in self.__slots__}

    def replace(self, **changes):
        """A new model with the given fields changed, validated again (the fields are the constructor's
        arguments)."""
        kw = self._kwargs()
        unknown = set(changes) - set(kw)
        if unknown:
            raise TypeError(f"replace() got unknown field(s) {sorted(unknown)}; fields are {sorted(kw)}")
        kw.update(changes)
        return type(self)(**kw)


def loss_and_output_grad(yhat: np.ndarray, y_target, loss: str, power: float, squeeze: bool):
    """A loss of the outputs ``yhat`` (B, T, p) and its gradient ``dY`` with respect to them.

    ``mse`` = mean over all B·T·p elements of (ŷ − y)²; ``weighted_mse`` = mean of w_k (ŷ − y)² with
    w_k = ((k+1)/(T+1))**power; ``cross_entropy`` = mean over the batch of −log softmax(ŷ_{T−1})[label] with
    integer labels (B,) (a scalar when ``squeeze``, i.e. for a single 2-D sequence). Returns ``(value, dY)``.
    """
    check_choice(loss, "loss", LOSSES)
    power = check_real(power, "power", minimum=0.0)
    B, T, p = yhat.shape
    if loss == "cross_entropy":
        labels = check_labels(y_target, "y_target", None if squeeze else B, p).reshape(B)
        logits = yhat[:, -1, :]
        z = logits - logits.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        value = float(-logp[np.arange(B), labels].mean())
        dY = np.zeros_like(yhat)
        probs = np.exp(logp)
        probs[np.arange(B), labels] -= 1.0
        dY[:, -1, :] = probs / B
        return value, dY
    want = (T, p) if squeeze else (B, T, p)
    Y = as_array(y_target, "y_target", shape=want)
    if squeeze:
        Y = Y[None]
    r = yhat - Y
    if loss == "mse":
        w = np.ones((1, T, 1))
    else:
        w = (((np.arange(T) + 1.0) / (T + 1.0)) ** power)[None, :, None]
    n = r.size
    with np.errstate(over="ignore", invalid="ignore"):
        value = float((w * r * r).sum() / n)
        dY = 2.0 * w * r / n
    if not (np.isfinite(value) and np.isfinite(dY).all()):
        raise NonFiniteError(f"the {loss} loss overflows: the residual between the outputs and y_target is too large "
                             f"(max |y_target| = {np.abs(Y).max():.3g}, max |output| = {np.abs(yhat).max():.3g})")
    return value, dY
