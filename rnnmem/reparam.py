"""Stable reparameterisations of the recurrent weights (docs/math.md §6; [P1 §3.4]; StableSSM, arXiv 2311.14495).

The recurrent matrix is not trained directly but produced from a raw vector ``w`` (and, for the symmetric
structure, a raw matrix ``P``):

* ``structure="diagonal"``:  W = −diag(f(w)),
* ``structure="symmetric"``: W = −Pᵀ diag(f(w)) P (P orthogonal at initialisation, then trained freely),

with f one of

=============  ==========================  ===========================================================
``direct``     f(w) = w                    no constraint (the plain parameterisation, for contrast)
``exp``        f(w) = eʷ                   always > 0
``softplus``   f(w) = log(1 + eʷ)          always > 0 ([P1 Figs. 4, 8]; the CoM repo's SoftplusRNN)
``best``       f(w) = 1 / (a w² + b)       always > 0 (StableSSM; a = 1, b = 0.5 by default)
``inverse``    f(w) = 1 / w                > 0 only while w > 0 (our continuous-time reading of "inverse")
=============  ==========================  ===========================================================

When f > 0 every eigenvalue of W is ≤ −min f(w) < 0 (for the symmetric structure W = −(PᵀD^{1/2})(D^{1/2}P)
is symmetric negative semi-definite for *any* P, so a perturbation of the raw parameters can never move an
eigenvalue of W into the right half plane — the point of reparameterising).

The maps above give continuous-time decay rates λ = f(w) (the ``euler`` cell, W the generator of dh/dt = Wh). For
the discrete-time ``elman`` cell, ``discrete=True`` maps the same rates to the eigenvalues of the exact
discretisation of dh/dt = −λh over one step Δt:

* ``structure="diagonal"``:  W = diag(e^{−Δt f(w)}),
* ``structure="symmetric"``: W = Pᵀ diag(e^{−Δt f(w)}) P,

so when f > 0 every eigenvalue of a diagonal W lies in (0, 1) for any raw w (and ‖W‖₂ < 1 for orthogonal P):
no perturbation of w reaches the discrete stability boundary ρ(W) = 1, while f(w) = w ("direct") moves a rate by
the perturbation itself and crosses it (e^{−Δt(λ − β)} > 1 once β > λ).
StableSSM's gradient-over-weight ratio |f'(w)|/f(w)² is e^{−w} for exp, σ(w)/softplus(w)² for softplus and
2a|w| for best (linear in |w|).

Models of this module follow the protocol shared with :class:`rnnmem.RNN` (used by :func:`rnnmem.fit` and
:func:`rnnmem.perturbation_error`):

* ``params()`` — the RAW parameter blocks (``w``, ``P`` for the symmetric structure, ``U``, ``b``, ``C``,
  ``D``),
* ``replace(**blocks)`` — the same kind of model with some blocks changed,
* ``to_rnn()`` — the effective :class:`rnnmem.RNN` (with W = −Pᵀ diag(f(w)) P),
* ``loss_and_grad(x, y, loss=...)`` — a loss and its gradients with respect to the raw parameters,
* ``model(x)`` — the outputs.

So ``perturbation_error(model, ...)`` perturbs the raw parameters and
``perturbation_error(model.to_rnn(), ...)`` perturbs the effective W.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnmem._validate import (
    NonFiniteError,
    as_array,
    as_rng,
    check_bool,
    check_choice,
    check_finite_result,
    check_int,
    check_pair,
    check_positive,
    check_size,
)
from rnnmem.rnn import RNN, _FrozenModel, _validate_blocks

__all__ = [
    "Transform",
    "TRANSFORMS",
    "STRUCTURES",
    "transform",
    "best",
    "ReparamRNN",
    "ReparamGradients",
]

TRANSFORMS = ("direct", "exp", "softplus", "best", "inverse")
STRUCTURES = ("diagonal", "symmetric")


def _sigmoid(w: np.ndarray) -> np.ndarray:
    out = np.empty_like(w)
    pos = w >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-w[pos]))
    e = np.exp(w[~pos])
    out[~pos] = e / (1.0 + e)
    return out


@dataclass(frozen=True)
class Transform:
    """The scalar map f of W = −Pᵀ diag(f(w)) P, with its derivative and inverse (docs/math.md §6).

    Parameters
    ----------
    name : {"direct", "exp", "softplus", "best", "inverse"}
    a, b : float
        Constants of ``best``: f(w) = 1/(a w² + b) (ignored by the other maps). StableSSM uses a = 1 and
        b = 0.5 in its notebook (0.1 in its code); f then takes values in (0, 1/b].
    """

    name: str
    a: float = 1.0
    b: float = 0.5

    def __post_init__(self):
        check_choice(self.name, "f", TRANSFORMS)
        object.__setattr__(self, "a", check_positive(self.a, "a"))
        object.__setattr__(self, "b", check_positive(self.b, "b"))

    def _f(self, w: np.ndarray) -> np.ndarray:
        if self.name == "direct":
            return w.copy()
        if self.name == "exp":
            return np.exp(w)
        if self.name == "softplus":
            return np.logaddexp(0.0, w)
        if self.name == "best":
            return 1.0 / (self.a * w * w + self.b)
        return 1.0 / w

    def _df(self, w: np.ndarray) -> np.ndarray:
        if self.name == "direct":
            return np.ones_like(w)
        if self.name == "exp":
            return np.exp(w)
        if self.name == "softplus":
            return _sigmoid(w)
        if self.name == "best":
            return -2.0 * self.a * w / (self.a * w * w + self.b) ** 2
        return -1.0 / (w * w)

    def _eval(self, fn, w, what: str) -> np.ndarray:
        w = as_array(w, "w", ndim=None, allow_empty=True)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore", under="ignore"):
            out = fn(w)
        return check_finite_result(out, what, hint=f"f={self.name!r}: w is outside the map's finite range (e.g. "
                                                   "w = 0 for 'inverse', w > 709 for 'exp')")

    def __call__(self, w) -> np.ndarray:
        """f(w), element-wise, for finite real w of any shape (a new array).

        Raises :class:`~rnnmem.NonFiniteError` where f(w) is not finite (w = 0 for ``inverse``, w > 709 for
        ``exp``), naming the first such index.
        """
        return self._eval(self._f, w, "f(w)")

    def derivative(self, w) -> np.ndarray:
        """f'(w), element-wise: 1, eʷ, σ(w) = 1/(1+e^{−w}), −2aw/(aw²+b)², −1/w² (finite real w, any shape)."""
        return self._eval(self._df, w, "f'(w)")

    def inverse(self, lam: Any) -> np.ndarray:
        """Raw values w with f(w) = λ (λ > 0; for ``best`` 0 < λ ≤ 1/b, the branch w ≥ 0 is returned).

        Used to initialise a model with prescribed decay rates λ (eigenvalues −λ of W).
        """
        lam = as_array(lam, "lam", ndim=(0, 1), allow_empty=True)
        if self.name == "direct":
            return lam
        if np.any(lam <= 0):
            raise ValueError(f"f={self.name!r} only takes positive values; got rates lam with min "
                             f"{lam.min():g}")
        if self.name == "exp":
            return np.log(lam)
        if self.name == "softplus":
            return lam + np.log(-np.expm1(-lam))  # log(e^λ − 1), stable for small and large λ
        if self.name == "inverse":
            return 1.0 / lam
        if np.any(lam > 1.0 / self.b):
            raise ValueError(f"f='best' with b={self.b:g} takes values in (0, {1.0 / self.b:g}]; got lam (the "
                             f"rates) up to {lam.max():g}")
        return np.sqrt(np.maximum(1.0 / lam - self.b, 0.0) / self.a)

    def gradient_ratio(self, w) -> np.ndarray:
        """StableSSM's gradient-over-weight ratio |f'(w)| / f(w)² (docs/math.md §6); finite real w, any shape.

        Raises :class:`~rnnmem.NonFiniteError` where the ratio is not finite (f(w) = 0 for ``direct`` at w = 0,
        or f(w)² underflows)."""
        fw = self(w)
        dfw = self.derivative(w)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore", under="ignore"):
            out = np.abs(dfw) / fw ** 2
        return check_finite_result(out, f"|f'(w)|/f(w)² for f={self.name!r}",
                                   hint="f(w)² is zero or underflows at this w")


def transform(f: str | Transform) -> Transform:
    """Return a :class:`Transform` from a name (``"best"`` gets a = 1, b = 0.5) or a Transform."""
    if isinstance(f, Transform):
        return f
    return Transform(check_choice(f, "f", TRANSFORMS))


def best(a: float = 1.0, b: float = 0.5) -> Transform:
    """StableSSM's "best" map f(w) = 1/(a w² + b) with chosen constants."""
    return Transform("best", a=a, b=b)


@dataclass(frozen=True)
class ReparamGradients:
    """Gradients of a scalar with respect to the RAW parameters of a :class:`ReparamRNN`.

    ``P`` is None for the diagonal structure, ``D`` None when the model has no feed-through; ``x`` is the
    input gradient (shape of the input given).
    """

    w: np.ndarray
    P: np.ndarray | None
    U: np.ndarray
    b: np.ndarray
    C: np.ndarray
    D: np.ndarray | None
    x: np.ndarray

    def params(self) -> dict[str, np.ndarray]:
        """Raw-parameter gradients as a dict with the keys of :meth:`ReparamRNN.params`."""
        out = {"w": self.w}
        if self.P is not None:
            out["P"] = self.P
        out.update(U=self.U, b=self.b, C=self.C)
        if self.D is not None:
            out["D"] = self.D
        return out


class ReparamRNN(_FrozenModel):
    """An RNN whose recurrent matrix is W = −diag(f(w)) or W = −Pᵀ diag(f(w)) P (module docstring).

    Parameters
    ----------
    w : array (m,)
        Raw recurrent parameters; the decay rates (eigenvalues of −W for orthogonal P) are f(w).
    U, b, C, D : arrays (m, d), (m,), (p, m), (p, d) or None
        Input weights, bias, readout, feed-through, as in :class:`rnnmem.RNN`.
    P : array (m, m), optional
        Given: symmetric structure W = −Pᵀ diag(f(w)) P. None: diagonal structure W = −diag(f(w)).
    f : str or Transform
        ``"direct"``, ``"exp"``, ``"softplus"``, ``"best"`` (a = 1, b = 0.5; :func:`best` for others) or
        ``"inverse"``.
    cell, activation, dt : as in :class:`rnnmem.RNN` (default the continuous-time ``euler`` cell of [P1]).

    discrete : bool
        False (default): W = −Pᵀ diag(f(w)) P, the continuous-time generator (meant for the ``euler`` cell).
        True: W = Pᵀ diag(e^{−Δt f(w)}) P, the one-step transition of dh/dt = −f(w) h (only with the ``elman``
        cell; module docstring).

    Notes
    -----
    Gradients (chain rule through W = Pᵀ A P, A = diag(a(w)), with G = ∂L/∂W from BPTT):
    ∂L/∂w_i = a'(w_i) (P G Pᵀ)_ii and ∂L/∂P = A P (G + Gᵀ); the diagonal structure is P = I. Continuous:
    a = −f(w), a' = −f'(w). Discrete: a = e^{−Δt f(w)}, a' = −Δt f'(w) e^{−Δt f(w)}.

    Examples
    --------
    >>> import numpy as np, rnnmem as rm
    >>> model = rm.reparam.ReparamRNN.random(8, f="softplus", rng=0)
    >>> sorted(model.params())
    ['C', 'U', 'b', 'w']
    >>> bool(np.all(np.linalg.eigvalsh(model.W) < 0))
    True
    """

    __slots__ = ("_w", "_P", "_U", "_b", "_C", "_D", "_f", "_cell", "_activation", "_dt", "_discrete")

    def __init__(self, w, U, b, C, D=None, *, P=None, f: str | Transform = "exp", cell: str = "euler",
                 activation: str = "tanh", dt: float = 1.0, discrete: bool = False):
        f = transform(f)
        w = as_array(w, "w", ndim=1)
        m = w.shape[0]
        if P is not None:
            P = as_array(P, "P", shape=(m, m))
        U, b, C, D, cell, activation, dt = _validate_blocks(m, U, b, C, D, cell, activation, dt,
                                                            source=f"w (shape {w.shape})")
        try:
            fw = f(w)
        except NonFiniteError as exc:
            raise NonFiniteError(f"w: {exc} (w has an entry where f overflows or is undefined)") from None
        discrete = check_bool(discrete, "discrete")
        if discrete and cell != "elman":
            raise ValueError(f"discrete=True maps decay rates to a one-step transition W = Pᵀ diag(e^(−Δt f(w))) P, "
                             f"which is the recurrent matrix of the 'elman' cell; got cell={cell!r}. Use "
                             "cell='elman', or discrete=False for the continuous-time 'euler' cell")
        if discrete:
            with np.errstate(over="ignore"):
                check_finite_result(np.exp(-dt * fw), "e^(−Δt f(w))",
                                    hint=f"e^(−Δt f(w)) overflows for f={f.name!r}, dt={dt:g} (min f(w) = "
                                         f"{fw.min():g}); a discrete transition needs −Δt f(w) < 709")
        self._freeze(w=w, P=P, U=U, b=b, C=C, D=D, f=f, cell=cell, activation=activation, dt=dt, discrete=discrete)

    # ------------------------------------------------------------------ fields
    w = property(lambda self: self._w, doc="Raw recurrent parameters (m,), read-only.")
    P = property(lambda self: self._P, doc="Raw mixing matrix (m, m) (symmetric structure) or None.")
    f = property(lambda self: self._f, doc="The :class:`Transform` f.")
    hidden = property(lambda self: self._w.shape[0], doc="Hidden width m.")
    structure = property(lambda self: "diagonal" if self._P is None else "symmetric",
                         doc='"diagonal" (W = −diag(f(w))) or "symmetric" (W = −Pᵀ diag(f(w)) P).')
    discrete = property(lambda self: self._discrete,
                        doc="True: W = Pᵀ diag(e^{−Δt f(w)}) P (elman cell); False: W = −Pᵀ diag(f(w)) P.")

    @property
    def rates(self) -> np.ndarray:
        """f(w): the decay rates (eigenvalues of −W when P is orthogonal)."""
        return self._f(self._w)

    def _eigen(self) -> np.ndarray:
        """a(w): the eigenvalues of W for orthogonal P — −f(w), or e^{−Δt f(w)} when ``discrete``."""
        fw = self._f(self._w)
        return np.exp(-self._dt * fw) if self._discrete else -fw

    @property
    def W(self) -> np.ndarray:
        """The effective recurrent matrix W = Pᵀ diag(a) P (diagonal structure: diag(a)) with a = −f(w), or
        a = e^{−Δt f(w)} when ``discrete``."""
        a = self._eigen()
        if self._P is None:
            return np.diag(a)
        return (self._P.T * a) @ self._P

    def params(self) -> dict[str, np.ndarray]:
        """The RAW parameter blocks: w, P (symmetric structure only), U, b, C, D (when present)."""
        out = {"w": self._w}
        if self._P is not None:
            out["P"] = self._P
        out.update(U=self._U, b=self._b, C=self._C)
        if self._D is not None:
            out["D"] = self._D
        return out

    def replace(self, **changes) -> ReparamRNN:
        """A new model with some fields (w, P, U, b, C, D, f, cell, activation, dt) changed, validated again.

        The structure cannot change through ``P=None``/``P=array`` unless asked for explicitly.
        """
        return super().replace(**changes)

    def to_rnn(self) -> RNN:
        """The effective :class:`rnnmem.RNN`: W = −Pᵀ diag(f(w)) P, same U, b, C, D, cell, activation, dt."""
        return RNN(self.W, self._U, self._b, self._C, self._D, cell=self._cell, activation=self._activation,
                   dt=self._dt)

    def __repr__(self) -> str:
        return (f"ReparamRNN(hidden={self.hidden}, inputs={self.inputs}, outputs={self.outputs}, "
                f"structure={self.structure!r}, f={self._f.name!r}, cell={self._cell!r}, "
                f"activation={self._activation!r}, dt={self._dt}" + (", discrete=True)" if self._discrete else ")"))

    # ------------------------------------------------------------------ construction
    @classmethod
    def random(
        cls,
        hidden: int,
        inputs: int = 1,
        outputs: int = 1,
        *,
        structure: str = "diagonal",
        f: str | Transform = "exp",
        cell: str = "euler",
        activation: str = "tanh",
        dt: float = 1.0,
        rates: tuple[float, float] = (0.01, 1.0),
        feedthrough: bool = False,
        discrete: bool = False,
        rng=None,
    ) -> ReparamRNN:
        """A random model with decay rates spread log-uniformly over ``rates``.

        λ_i = exp(u_i), u_i ~ U(log rates[0], log rates[1]); w = f⁻¹(λ); P a Haar-random orthogonal matrix
        (QR of a Gaussian matrix with the signs of R's diagonal fixed); U_ij ~ N(0, 1/d), b = 0,
        C_ij ~ N(0, 1/m), D_ij ~ N(0, 1/d) when ``feedthrough``. For the euler cell keep λ Δt < 2 (the Euler
        map of a linear model is then contractive). ``discrete=True`` (elman cell only) gives
        W = Pᵀ diag(e^{−Δt λ}) P instead of −Pᵀ diag(λ) P.
        """
        m = check_int(hidden, "hidden", minimum=1)
        d = check_int(inputs, "inputs", minimum=1)
        p = check_int(outputs, "outputs", minimum=1)
        check_choice(structure, "structure", STRUCTURES)
        tf = transform(f)
        lo, hi = check_pair(rates, "rates", minimum=0.0, strict_minimum=True)
        if lo > hi:
            raise ValueError(f"rates must be (low, high) with low <= high, got {rates}")
        if tf.name == "best" and hi > 1.0 / tf.b:
            raise ValueError(f"rates={rates!r}: f='best' with b={tf.b:g} takes values in (0, {1.0 / tf.b:g}], so "
                             f"rates[1] must be <= {1.0 / tf.b:g} (a rate drawn above it has no raw value w); lower "
                             "it or use best(b=...) with a smaller b")
        feedthrough = check_bool(feedthrough, "feedthrough")
        check_size(f"ReparamRNN.random(hidden={m}, inputs={d}, outputs={p})",
                   m * (m if structure == "symmetric" else 1) + m * d + p * m + p * d + m)
        gen = as_rng(rng)
        lam = np.exp(gen.uniform(np.log(lo), np.log(hi), size=m))
        w = tf.inverse(lam)
        P = None
        if structure == "symmetric":
            q, r = np.linalg.qr(gen.standard_normal((m, m)))
            P = q * np.where(np.diag(r) < 0, -1.0, 1.0)
        U = gen.standard_normal((m, d)) / np.sqrt(d)
        b = np.zeros(m)
        C = gen.standard_normal((p, m)) / np.sqrt(m)
        D = gen.standard_normal((p, d)) / np.sqrt(d) if feedthrough else None
        return cls(w, U, b, C, D, P=P, f=tf, cell=cell, activation=activation, dt=dt, discrete=discrete)

    # ------------------------------------------------------------------ evaluation
    def __call__(self, x, *, check_finite: bool = True) -> np.ndarray:
        """Outputs (B, T, p) of the effective RNN (a 2-D input (T, d) gives (T, p))."""
        return self.to_rnn()(x, check_finite=check_finite)

    def states(self, x, *, check_finite: bool = True) -> np.ndarray:
        """Hidden states of the effective RNN (see :meth:`rnnmem.RNN.states`)."""
        return self.to_rnn().states(x, check_finite=check_finite)

    def _chain(self, g) -> ReparamGradients:
        """Raw gradients from the effective model's gradients g (class docstring)."""
        G = g.W
        a = self._eigen()
        fp = self._f.derivative(self._w)
        da = -self._dt * fp * a if self._discrete else -fp  # a'(w)
        if self._P is None:
            gw = da * np.diag(G)
            gP = None
        else:
            P = self._P
            gw = da * np.einsum("ij,jk,ik->i", P, G, P)
            gP = (a[:, None] * P) @ (G + G.T)
        return ReparamGradients(w=gw, P=gP, U=g.U, b=g.b, C=g.C, D=g.D, x=g.x)

    def vjp(self, x, dy, *, check_finite: bool = True) -> ReparamGradients:
        """Gradients of ``sum(dy * model(x))`` with respect to the raw parameters (BPTT + chain rule)."""
        return self._chain(self.to_rnn().vjp(x, dy, check_finite=check_finite))

    def loss_and_grad(self, x, y_target, loss: str = "mse", *, power: float = 2.0,
                      check_finite: bool = True) -> tuple[float, ReparamGradients]:
        """A loss of the effective RNN (:meth:`rnnmem.RNN.loss_and_grad`) and its raw-parameter gradients."""
        value, g = self.to_rnn().loss_and_grad(x, y_target, loss, power=power, check_finite=check_finite)
        return value, self._chain(g)
