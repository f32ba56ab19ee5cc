"""Implicit bias of wide linear RNNs in the kernel regime (Emami et al., ICML 2021 [P2]; docs/math.md §7b).

Model: a linear elman RNN with scalar input and output, width n, h_k = W h_{k-1} + U x_k, y_k = C h_k, whose output
is the convolution y_k = Σ_j L_j x_{k-j} with the Markov parameters L_j = C W^j U (docs/math.md §1).

Parameterisations (trained parameters θ):

* ``"ntk"``: W = A/√n, A_ij ~ N(0, σ²); U = B, B_i ~ N(0, ν_U); C = Γ/√n, Γ_i ~ N(0, ν_C); θ = (A, B, Γ).
* ``"standard"`` (PyTorch-like): W_ij ~ N(0, σ²/n), U_i ~ N(0, ν_U), C_i ~ N(0, ν_C/n); θ = (W, U, C), trained with
  learning rate η/n (so that the function-space kernel has an O(1) limit).

Because y is linear in x, the neural tangent kernel factors through the Gram matrix of the Markov-parameter
gradients G_ij = Σ_blocks η_b ⟨∇_b L_i, ∇_b L_j⟩ (η_b the per-block learning-rate multipliers), and as n → ∞
G → diag(ρ_j²) with (derived in docs/math.md §7b and checked by Monte Carlo — not the paper's printed formula, whose
body text was not available)

    ntk:       ρ_j² = η_C ν_U σ^{2j} + η_U ν_C σ^{2j} + η_W j ν_C ν_U σ^{2(j-1)}
    standard:  ρ_j² = η_C ν_U σ^{2j} + η_W j ν_C ν_U σ^{2(j-1)}          (the U-term is O(1/n))

= (η_C ∂_{ν_C} + η_U ∂_{ν_U} + η_W ∂_{σ²}) [ν_C ν_U σ^{2j}], the derivative of the NNGP prior variance of L_j.
Gradient descent on the RNN then behaves like gradient descent on the scaled convolution (SCNN)
ŷ_k = Σ_j ρ_j θ_j x_{k-j}, and converges to the minimum weighted-norm interpolant
L(0) + R Xᵀ (X R Xᵀ)⁻¹ (y − X L(0)), R = diag(ρ_j²).

Contents: :func:`lag_weights`, :func:`prior_variance`, :func:`init` → :class:`WideLinearRNN`, :func:`empirical`,
:class:`SCNN`, :func:`lagged_design`, :func:`interpolant`, :func:`gd` → :class:`GDResult`, :func:`stable_lr`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from rnnmem import _kernels_linear as KL
from rnnmem._deprecation_b import no_extra_kwargs, renamed
from rnnmem._validate import (
    NonFiniteError,
    as_array,
    as_rng,
    check_bool,
    check_choice,
    check_finite_result,
    check_int,
    check_positive,
    check_real,
    check_size,
)
from rnnmem.rnn import RNN

__all__ = [
    "PARAMETERIZATIONS",
    "lag_weights",
    "prior_variance",
    "WideLinearRNN",
    "init",
    "empirical",
    "SCNN",
    "lagged_design",
    "interpolant",
    "stable_lr",
    "GDResult",
    "gd",
]

PARAMETERIZATIONS = ("ntk", "standard")
#: the largest lag count accepted (a bound on absurd requests, refused before allocating)
_MAX_LAGS = 2**40


# ---------------------------------------------------------------------------------------------------- closed forms
def _lags(lags, name="lags") -> np.ndarray:
    if isinstance(lags, (int, np.integer)) and not isinstance(lags, (bool, np.bool_)):
        n = check_int(lags, name, minimum=1, maximum=_MAX_LAGS)
        check_size(name, n)
        return np.arange(n)
    if isinstance(lags, (bool, np.bool_, str, bytes)) or lags is None:
        raise TypeError(f"{name} must be a positive int n (meaning lags 0..n-1) or a 1-D array of non-negative "
                        f"integer lags, got {type(lags).__name__} {lags!r}")
    try:
        arr = np.asarray(lags)
    except (ValueError, TypeError):
        raise TypeError(f"{name} must be a positive int n or a 1-D array of non-negative integer lags, got "
                        f"{type(lags).__name__}") from None
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a positive int n (meaning lags 0..n-1) or a non-empty 1-D array of lags, "
                         f"got shape {arr.shape}")
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise TypeError(f"{name} must hold non-negative integers, got dtype {arr.dtype}")
    if arr.min() < 0:
        raise ValueError(f"{name} must be non-negative, got minimum {arr.min()}")
    if arr.max() > _MAX_LAGS:
        raise ValueError(f"{name} holds the lag {arr.max()}, beyond the largest supported lag {_MAX_LAGS}")
    return arr.astype(np.int64)


def _lrs(lr_W, lr_U, lr_C):
    return (check_real(lr_W, "lr_W", minimum=0.0), check_real(lr_U, "lr_U", minimum=0.0),
            check_real(lr_C, "lr_C", minimum=0.0))


def _variances(sigma2, nu_C, nu_U):
    return (check_real(sigma2, "sigma2", minimum=0.0), check_real(nu_C, "nu_C", minimum=0.0),
            check_real(nu_U, "nu_U", minimum=0.0))


def _finite_lags(out: np.ndarray, what: str, lags: np.ndarray, hint: str) -> np.ndarray:
    """Raise NonFiniteError naming the first lag at which a closed form overflowed."""
    if np.isfinite(out).all():
        return out
    i = int(np.argmax(~np.isfinite(out)))
    raise NonFiniteError(f"{what} overflows float64 at lag j = {int(lags[i])}; {hint}", step=int(lags[i]))


def prior_variance(lags, sigma2: float, nu_C: float = 1.0, nu_U: float = 1.0) -> np.ndarray:
    """NNGP variance at initialisation Var L_j(0) = ν_C ν_U σ^{2j} (both parameterisations; docs/math.md §7b).

    ``lags``: an int J (lags 0..J-1) or an array of non-negative integer lags.
    """
    lg = _lags(lags)
    j = lg.astype(float)
    s2, nu_C, nu_U = _variances(sigma2, nu_C, nu_U)
    with np.errstate(over="ignore", invalid="ignore"):
        out = nu_C * nu_U * s2**j
    return _finite_lags(out, f"prior_variance(sigma2={s2!r}, nu_C={nu_C!r}, nu_U={nu_U!r})", lg,
                        "σ^{2j} grows without bound for sigma2 > 1: use fewer lags or smaller values")


def lag_weights(lags, sigma2: float, nu_C: float = 1.0, nu_U: float = 1.0, parameterization: str = "ntk", *,
                lr_W: float = 1.0, lr_U: float = 1.0, lr_C: float = 1.0) -> np.ndarray:
    """Infinite-width lag weights ρ_j² = lim_{n→∞} G_jj of a linear elman RNN (docs/math.md §7b, derived form).

    ntk:      ρ_j² = η_C ν_U σ^{2j} + η_U ν_C σ^{2j} + η_W j ν_C ν_U σ^{2(j-1)}
    standard: ρ_j² = η_C ν_U σ^{2j} + η_W j ν_C ν_U σ^{2(j-1)}   (limit of G/n with learning rate η/n)

    The three terms come from training C (‖W^jU‖²), U (‖CW^j‖²) and W (Σ_{a+b=j-1}‖CW^a‖²‖W^bU‖²); they equal
    (η_C ∂_{ν_C} + η_U ∂_{ν_U} + η_W ∂_{σ²}) [ν_C ν_U σ^{2j}] (:func:`prior_variance`). σ² < 1: ρ_j² ~ jσ^{2j}
    decays (bias toward short lags); σ² = 1: linear growth; σ² > 1: exponential growth.

    Parameters
    ----------
    lags : int or array of int
        An int J means lags 0..J-1.
    sigma2 : float
        σ² >= 0, variance scale of the recurrent weights.
    nu_C, nu_U : float
        Variances of the readout and input weights.
    parameterization : {"ntk", "standard"}
    lr_W, lr_U, lr_C : float
        Per-block learning-rate multipliers η_W, η_U, η_C (0 freezes a block).

    Returns
    -------
    ndarray of the lags' shape.

    Examples
    --------
    >>> import rnnmem as rm
    >>> rm.ntk.lag_weights(4, 1.0)      # σ² = 1: ρ_j² = 2 + j
    array([2., 3., 4., 5.])
    """
    check_choice(parameterization, "parameterization", PARAMETERIZATIONS)
    lg = _lags(lags)
    j = lg.astype(float)
    s2, nu_C, nu_U = _variances(sigma2, nu_C, nu_U)
    eW, eU, eC = _lrs(lr_W, lr_U, lr_C)
    with np.errstate(over="ignore", invalid="ignore"):
        pw = s2**j
        pw1 = np.where(j > 0, s2 ** np.maximum(j - 1.0, 0.0), 0.0)
        out = eC * nu_U * pw + eW * j * nu_C * nu_U * pw1
        if parameterization == "ntk":
            out = out + eU * nu_C * pw
    return _finite_lags(out, f"lag_weights(sigma2={s2!r}, nu_C={nu_C!r}, nu_U={nu_U!r}, lr_W={eW!r}, lr_U={eU!r}, "
                        f"lr_C={eC!r})", lg,
                        "ρ_j² ~ j σ^{2j} grows without bound for sigma2 > 1 (and the variances/learning rates scale "
                        "it): use fewer lags or smaller values")


# ---------------------------------------------------------------------------------------------------- wide RNN
@dataclass(frozen=True)
class WideLinearRNN:
    """A scalar-in, scalar-out linear elman RNN with its parameterisation and per-block learning-rate multipliers.

    Stores the effective weights W (n, n), U (n,), C (n,) of width n = :attr:`hidden` (for ``"ntk"``: W = A/√n,
    C = Γ/√n), the variances σ² = ``sigma2``, ν_C, ν_U (finite, >= 0) and the multipliers (finite, >= 0). Training with
    :func:`gd` at learning rate η updates W -= η η_W/n ∇_W, C -= η η_C/n ∇_C and U -= η η_U κ ∇_U (κ = 1 for
    ``"ntk"``, 1/n for ``"standard"``) — gradient descent on θ in either parameterisation — whose function-space
    kernel is :func:`empirical` of this model.
    """

    W: np.ndarray
    U: np.ndarray
    C: np.ndarray
    sigma2: float = 1.0
    nu_C: float = 1.0
    nu_U: float = 1.0
    parameterization: str = "ntk"
    lr_W: float = 1.0
    lr_U: float = 1.0
    lr_C: float = 1.0

    def __post_init__(self):
        W = as_array(self.W, "W", ndim=2)
        n = W.shape[0]
        if W.shape != (n, n):
            raise ValueError(f"W must be square (n, n), got shape {W.shape}")
        U = as_array(self.U, "U", shape=(n,))
        C = as_array(self.C, "C", shape=(n,))
        check_choice(self.parameterization, "parameterization", PARAMETERIZATIONS)
        scalars = dict(zip(("sigma2", "nu_C", "nu_U"), _variances(self.sigma2, self.nu_C, self.nu_U), strict=True))
        scalars.update(zip(("lr_W", "lr_U", "lr_C"), _lrs(self.lr_W, self.lr_U, self.lr_C), strict=True))
        for name, arr in (("W", W), ("U", U), ("C", C)):
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)
        for name, v in scalars.items():
            object.__setattr__(self, name, v)

    def __reduce__(self):  # rebuild through __init__, so the arrays come back read-only
        return (type(self), tuple(getattr(self, f) for f in self.__dataclass_fields__))

    @property
    def hidden(self) -> int:
        """Width n of the hidden state (the name ``hidden`` as in :class:`rnnmem.RNN`)."""
        return self.W.shape[0]

    @property
    def n(self) -> int:
        """Width n (deprecated alias of :attr:`hidden`)."""
        warnings.warn("`n` is deprecated and will be removed in rnnmem 0.3; use `hidden`", DeprecationWarning,
                      stacklevel=2)
        return self.W.shape[0]

    def to_rnn(self) -> RNN:
        """The equivalent :class:`rnnmem.RNN` (linear elman, b = 0, D = None)."""
        return RNN(self.W, self.U[:, None], np.zeros(self.hidden), self.C[None, :], activation="linear")

    def replace(self, **changes) -> WideLinearRNN:
        """A copy with some fields changed."""
        kw = {f: getattr(self, f) for f in self.__dataclass_fields__}
        kw.update(changes)
        return WideLinearRNN(**kw)

    def markov(self, n: int | None = None, **deprecated) -> np.ndarray:
        """Markov parameters L_j = C W^j U, j = 0..n-1, as a vector (n,) (``J`` is a deprecated alias of ``n``).

        Raises :class:`~rnnmem.NonFiniteError` naming the first lag at which L_j overflows (an unstable W).
        """
        n = renamed(n, deprecated, "J", "n", "markov", required=True)
        no_extra_kwargs(deprecated, "markov")
        n = check_int(n, "n", minimum=1, maximum=_MAX_LAGS)
        check_size("markov: the Krylov rows (n, hidden)", n, self.hidden)
        Ku = np.empty((n, self.hidden))
        with np.errstate(all="ignore"):
            KL.krylov(self.W, self.U, n, Ku)
            L = Ku @ self.C
        return _finite_lags(L, "WideLinearRNN.markov(): L_j = C W^j U", np.arange(n),
                            f"W is unstable (spectral radius {_rho(self.W):.6g}) or U, C too large: use fewer lags")

    def kernel(self, lags) -> np.ndarray:
        """:func:`empirical` Gram matrix with this model's parameterisation and learning-rate multipliers."""
        return empirical(self, lags)

    def limit(self, lags) -> np.ndarray:
        """:func:`lag_weights` of this model's σ², ν_C, ν_U, parameterisation and multipliers."""
        return lag_weights(lags, self.sigma2, self.nu_C, self.nu_U, self.parameterization,
                           lr_W=self.lr_W, lr_U=self.lr_U, lr_C=self.lr_C)


def _rho(W) -> float:
    with np.errstate(all="ignore"):
        return float(np.max(np.abs(np.linalg.eigvals(W)))) if np.isfinite(W).all() else float("inf")


def init(hidden: int | None = None, sigma2: float = 1.0, nu_C: float = 1.0, nu_U: float = 1.0,
         parameterization: str = "ntk", *, lr_W: float = 1.0, lr_U: float = 1.0, lr_C: float = 1.0, rng=None,
         **deprecated) -> WideLinearRNN:
    """Random wide linear elman RNN of width n = ``hidden`` (module docstring; docs/math.md §7b).

    Both parameterisations give the same distribution of the effective weights: W_ij ~ N(0, σ²/n),
    U_i ~ N(0, ν_U), C_i ~ N(0, ν_C/n); they differ in what is trained (and so in the kernel). Same ``rng`` seed,
    same model (W is drawn first, then U, then C). ``n=`` is a deprecated alias of ``hidden``.
    """
    n = renamed(hidden, deprecated, "n", "hidden", "init", required=True)
    no_extra_kwargs(deprecated, "init")
    n = check_int(n, "hidden", minimum=1, maximum=_MAX_LAGS)
    check_size("init: W (hidden, hidden)", n, n)
    check_choice(parameterization, "parameterization", PARAMETERIZATIONS)
    s2, nu_C, nu_U = _variances(sigma2, nu_C, nu_U)
    _lrs(lr_W, lr_U, lr_C)
    gen = as_rng(rng)
    W = gen.standard_normal((n, n)) * np.sqrt(s2 / n)
    U = gen.standard_normal(n) * np.sqrt(nu_U)
    C = gen.standard_normal(n) * np.sqrt(nu_C / n)
    return WideLinearRNN(W, U, C, s2, nu_C, nu_U, parameterization, lr_W, lr_U, lr_C)


def _scalar_linear(model):
    """(W, U, C) vectors of a scalar linear elman model (RNN or WideLinearRNN)."""
    if isinstance(model, WideLinearRNN):
        return model.W, model.U, model.C
    if not isinstance(model, RNN):
        if hasattr(model, "to_rnn"):
            model = model.to_rnn()
        else:
            raise TypeError(f"model must be an rnnmem.RNN or ntk.WideLinearRNN, got {type(model).__name__}")
    if model.activation != "linear" or model.cell != "elman":
        raise ValueError(f"model must be a linear elman RNN (the Markov-parameter Gram); got cell={model.cell!r}, "
                         f"activation={model.activation!r}")
    if model.inputs != 1 or model.outputs != 1:
        raise ValueError(f"model must have scalar input and output (the Markov-parameter Gram); got "
                         f"d={model.inputs}, p={model.outputs}")
    return np.ascontiguousarray(model.W), np.ascontiguousarray(model.U[:, 0]), np.ascontiguousarray(model.C[0])


def _krylov_pair(W, U, C, J):
    """Rows W^b U and (W^a)ᵀ Cᵀ, b, a = 0..J-1: arrays (J, n) (one pass over W per power for both)."""
    n = W.shape[0]
    Ku = np.empty((J, n))
    Kc = np.empty((J, n))
    KL.krylov_pair(np.ascontiguousarray(W), np.ascontiguousarray(U), np.ascontiguousarray(C), Ku, Kc)
    return Ku, Kc


def _hankel(g):
    """H[a, b] = g[a+b+1] (0 where a+b+1 >= J), a, b = 0..J-2."""
    J = g.shape[0]
    idx = np.arange(J - 1)
    hank = idx[:, None] + idx[None, :] + 1
    return np.where(hank < J, g[np.minimum(hank, J - 1)], 0.0)


def _markov_vjp(Ku, Kc, g):
    """Gradients (∇_W, ∇_U, ∇_C) of Σ_j g_j L_j, L_j = C W^j U, from the Krylov rows Ku[b] = W^bU, Kc[a] = (W^a)ᵀCᵀ.

    ∇_C = Σ_j g_j u_j, ∇_U = Σ_j g_j c_j, ∇_W = Σ_{a+b+1<J} g_{a+b+1} c_a u_bᵀ = Kc[:-1]ᵀ H Ku[:-1] with the Hankel
    matrix H[a, b] = g[a+b+1] (0 where a+b+1 >= J).
    """
    J = g.shape[0]
    gC = g @ Ku
    gU = g @ Kc
    if J == 1:
        return np.zeros((Ku.shape[1], Ku.shape[1])), gU, gC
    return Kc[:-1].T @ (_hankel(g) @ Ku[:-1]), gU, gC


def empirical(model, lags, *, parameterization: str | None = None, lr_W: float | None = None,
              lr_U: float | None = None, lr_C: float | None = None, blocks: bool = False):
    """Empirical Gram matrix G_ij = Σ_b η_b ⟨∇_{θ_b} L_i, ∇_{θ_b} L_j⟩ of the Markov parameters (docs/math.md §7b).

    Exact and vectorised, without forming any n×n gradient: with u_b = W^b U and c_a = (W^a)ᵀ Cᵀ,
    ∇_C L_j = u_j, ∇_U L_j = c_j, ∇_W L_j = Σ_{a+b=j-1} c_a u_bᵀ, hence
    G^C_ij = ⟨u_i, u_j⟩, G^U_ij = ⟨c_i, c_j⟩, G^W_ij = Σ_{a<i} Σ_{a'<j} ⟨c_a, c_a'⟩ ⟨u_{i-1-a}, u_{j-1-a'}⟩.
    Cost: 2J matrix-vector products (O(J n²)) plus O(J⁴) for G^W — widths of several thousand take well under a
    second. Then ``"ntk"``: G = η_W G^W/n + η_U G^U + η_C G^C/n (gradients w.r.t. A = √n W, B = U, Γ = √n C);
    ``"standard"``: G = (η_W G^W + η_U G^U + η_C G^C)/n (gradients w.r.t. W, U, C, learning rate η/n). Both
    converge to diag(:func:`lag_weights`) as n → ∞, off-diagonals ~ n^{-1/2}.

    Parameters
    ----------
    model : rnnmem.RNN (linear elman, d = p = 1) or WideLinearRNN
        b and D do not enter (they are not part of θ here).
    lags : int J (lags 0..J-1) or array of lags
    parameterization, lr_W, lr_U, lr_C :
        Default: the model's own (WideLinearRNN) or ``"ntk"`` and 1.0 (RNN).
    blocks : bool
        Also return the three per-block Grams {"W", "U", "C"} (already scaled as they enter G).

    Returns
    -------
    G : ndarray (len(lags), len(lags))  (and a dict of blocks if ``blocks``)
    """
    W, U, C = _scalar_linear(model)
    wide = isinstance(model, WideLinearRNN)
    if parameterization is None:
        parameterization = model.parameterization if wide else "ntk"
    check_choice(parameterization, "parameterization", PARAMETERIZATIONS)
    eW, eU, eC = (getattr(model, f"lr_{b}") if wide else 1.0 for b in "WUC")
    eW, eU, eC = _lrs(eW if lr_W is None else lr_W, eU if lr_U is None else lr_U, eC if lr_C is None else lr_C)
    blocks = check_bool(blocks, "blocks")
    lg = _lags(lags)
    J = int(lg.max()) + 1
    n = W.shape[0]
    check_size("empirical: the Krylov rows (max lag + 1, width)", 2 * J, n)
    check_size("empirical: the Gram matrices (max lag + 1)²", 3 * J, J)
    with np.errstate(all="ignore"):
        Ku, Kc = _krylov_pair(W, U, C, J)
        Gu = Ku @ Ku.T
        Gc = Kc @ Kc.T
    if not (np.isfinite(Gu).all() and np.isfinite(Gc).all()):
        bad = int(np.argmax(~(np.isfinite(Gu).all(axis=1) & np.isfinite(Gc).all(axis=1))))
        raise NonFiniteError(f"empirical(): the Krylov vectors W^j U, (W^j)ᵀCᵀ overflow float64 at lag j = {bad} (W is "
                             f"unstable, spectral radius {_rho(W):.6g}); use fewer lags", step=bad)
    Gw = np.empty((J, J))
    with np.errstate(all="ignore"):
        KL.gram_w(Gc, Gu, Gw)
    if parameterization == "ntk":
        sW, sU, sC = eW / n, eU, eC / n
    else:
        sW, sU, sC = eW / n, eU / n, eC / n
    sel = np.ix_(lg, lg)
    with np.errstate(all="ignore"):
        parts = {"W": sW * Gw[sel], "U": sU * Gc[sel], "C": sC * Gu[sel]}
        G = parts["W"] + parts["U"] + parts["C"]
    check_finite_result(G, "empirical(): the Gram matrix G", hint="the Markov-parameter gradients overflow float64 "
                        "(an unstable W or huge learning-rate multipliers); use fewer lags")
    return (G, parts) if blocks else G


# ---------------------------------------------------------------------------------------------------- SCNN, data
@dataclass(frozen=True)
class SCNN:
    """Scaled 1-D convolution ŷ_k = Σ_{j<J} ρ_j θ_j x_{k-j} (docs/math.md §7b): the infinite-width equivalent of the
    linear RNN. Its impulse response is L = ρ ∘ θ; gradient descent on θ moves L with the kernel R = diag(ρ_j²).

    Attributes
    ----------
    rho2 : ndarray (J,)
        Lag weights ρ_j² > 0 (e.g. :func:`lag_weights`).
    theta : ndarray (J,)
        Trainable coefficients.
    """

    rho2: np.ndarray
    theta: np.ndarray

    def __post_init__(self):
        r = as_array(self.rho2, "rho2", ndim=1)
        if np.any(r <= 0):
            raise ValueError(f"rho2 must be positive, got minimum {r.min()}")
        if not np.isfinite(np.sqrt(r)).all() or np.any(np.sqrt(r) == 0):
            raise ValueError("rho2 must lie in (1e-308, 1.8e308): its square roots ρ_j scale the coefficients")
        t = as_array(self.theta, "theta", ndim=1)
        if t.shape != r.shape:
            raise ValueError(f"theta has {t.size} coefficients but rho2 has {r.size} lag weights: one of each per lag")
        for name, arr in (("rho2", r), ("theta", t)):
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)

    def __reduce__(self):  # rebuild through __init__, so the arrays come back read-only
        return (type(self), (self.rho2, self.theta))

    @classmethod
    def from_response(cls, L, rho2) -> SCNN:
        """The SCNN with impulse response L: θ = L/ρ (same initial function as a given RNN)."""
        rho2 = as_array(rho2, "rho2", ndim=1)
        L = as_array(L, "L", ndim=1)
        if L.shape != rho2.shape:
            raise ValueError(f"L has {L.size} lags but rho2 has {rho2.size} lag weights: one of each per lag")
        if np.any(rho2 <= 0):
            raise ValueError(f"rho2 must be positive, got minimum {rho2.min()}")
        with np.errstate(all="ignore"):
            theta = L / np.sqrt(rho2)
        check_finite_result(theta, "SCNN.from_response(): θ = L/ρ", hint="rho2 too small for the given L")
        return cls(rho2, theta)

    @property
    def J(self) -> int:
        """Number of lags."""
        return self.rho2.shape[0]

    def markov(self, n: int | None = None, **deprecated) -> np.ndarray:
        """Impulse response L_j = ρ_j θ_j (zero beyond the last lag), j = 0..n-1 (default: the model's own
        :attr:`J` lags; ``J=`` is a deprecated alias of ``n``)."""
        n = renamed(n, deprecated, "J", "n", "markov")
        no_extra_kwargs(deprecated, "markov")
        with np.errstate(all="ignore"):
            L = np.sqrt(self.rho2) * self.theta
        L = check_finite_result(L, "SCNN.markov(): L = ρ ∘ θ", time_axis=0,
                                hint="rho2 and theta too large for float64")
        if n is None:
            return L
        n = check_int(n, "n", minimum=1, maximum=_MAX_LAGS)
        check_size("SCNN.markov", n)
        return np.concatenate([L, np.zeros(max(0, n - L.size))])[:n]

    def __call__(self, x) -> np.ndarray:
        """Outputs (B, T) of inputs (B, T) (or (B, T, 1) → (B, T, 1)): causal convolution with :meth:`markov`."""
        arr = as_array(x, "x", ndim=(2, 3))
        three = arr.ndim == 3
        if three and arr.shape[2] != 1:
            raise ValueError(f"x must be (B, T) or (B, T, 1), got shape {arr.shape}")
        X = arr[..., 0] if three else arr
        B, T = X.shape
        with np.errstate(all="ignore"):
            y = lagged_design(X, self.J) @ self.markov()
        y = check_finite_result(y.reshape(B, T), "SCNN(x): the outputs", time_axis=1,
                                hint="x or the coefficients too large for float64")
        return y[..., None] if three else y


def lagged_design(x, n: int | None = None, *, last_only: bool = False, **deprecated) -> np.ndarray:
    """Design matrix of a causal convolution: rows X[(b, k), j] = x[b, k - j] (0 when k < j), j = 0..n-1.

    Then ``X @ L`` is y_k = Σ_{j<n} L_j x_{k-j} for every (b, k) in row-major order (b outer), or only k = T-1 with
    ``last_only``. x: (B, T) or (B, T, 1). ``n`` is the number of lags (``J`` is a deprecated alias).
    """
    J = renamed(n, deprecated, "J", "n", "lagged_design", required=True)
    no_extra_kwargs(deprecated, "lagged_design")
    last_only = check_bool(last_only, "last_only")
    arr = as_array(x, "x", ndim=(2, 3))
    if arr.ndim == 3:
        if arr.shape[2] != 1:
            raise ValueError(f"x must be (B, T) or (B, T, 1), got shape {arr.shape}")
        arr = arr[..., 0]
    J = check_int(J, "n", minimum=1, maximum=_MAX_LAGS)
    B, T = arr.shape
    check_size("lagged_design: the design matrix (B·T, n)", B, 1 if last_only else T, J)
    check_size("lagged_design: the padded input (B, T + n)", B, T + J)
    pad = np.concatenate([np.zeros((B, J - 1)), arr], axis=1)  # pad[b, J-1+k] = x[b, k]
    win = np.lib.stride_tricks.sliding_window_view(pad, J, axis=1)[:, :, ::-1]  # (B, T, J): x[b, k-j]
    if last_only:
        return np.ascontiguousarray(win[:, -1, :])
    return np.ascontiguousarray(win.reshape(B * T, J))


def _weights(rho2, J: int) -> np.ndarray:
    rho2 = as_array(rho2, "rho2", ndim=1)
    if rho2.size != J:
        raise ValueError(f"rho2 has {rho2.size} lag weights but X has {J} columns (lags): one weight per column")
    return rho2


def _design(X, y):
    X = as_array(X, "X", ndim=2)
    y = as_array(y, "y", shape=(X.shape[0],))
    return X, y


def interpolant(X, y, rho2, L0=None) -> np.ndarray:
    """Minimum weighted-norm interpolant L̂ = argmin Σ_j (L_j − L0_j)²/ρ_j² subject to X L = y (docs/math.md §7b).

    = L0 + R Xᵀ (X R Xᵀ)⁻¹ (y − X L0), R = diag(ρ_j²), when X R Xᵀ is invertible; computed as
    L0 + R^{1/2} (X R^{1/2})⁺ (y − X L0) by an SVD least-squares solve (``gelsd``), which is the limit of gradient
    descent from L0 in every case (least squares when the system is inconsistent).

    Parameters
    ----------
    X : array (N, J)
        Design matrix (:func:`lagged_design`).
    y : array (N,) or (N, K)
        Targets; K columns are K problems with the same X and weights, solved by one factorisation.
    rho2 : array (J,)
        Positive weights.
    L0 : array (J,) or (J, K), optional
        Initial impulse response(s) (default 0). A (J,) L0 with a (N, K) y is shared by the K problems; a (J, K)
        L0 with a (N,) y gives K problems with the same targets.

    Returns
    -------
    ndarray (J,), or (J, K) when y or L0 has K columns.
    """
    X = as_array(X, "X", ndim=2)
    N, J = X.shape
    y = as_array(y, "y", shape=(N,)) if np.ndim(y) <= 1 else as_array(y, "y", shape=(N, None))
    rho2 = _weights(rho2, J)
    if np.any(rho2 <= 0):
        raise ValueError(f"rho2 must be positive, got minimum {rho2.min()}")
    if L0 is None:
        L0 = np.zeros(J)
    else:
        L0 = as_array(L0, "L0", shape=(J,)) if np.ndim(L0) <= 1 else as_array(L0, "L0", shape=(J, None))
    if y.ndim == 2 and L0.ndim == 2 and y.shape[1] != L0.shape[1]:
        raise ValueError(f"y has {y.shape[1]} columns but L0 has {L0.shape[1]}; they must match (or one be 1-D)")
    import scipy.linalg as sla

    with np.errstate(all="ignore"):
        r = np.sqrt(rho2)
        XL0 = X @ L0
        if y.ndim == 2 and XL0.ndim == 1:
            XL0 = XL0[:, None]
        rhs = (y[:, None] if y.ndim == 1 and L0.ndim == 2 else y) - XL0
        Xr = X * r
    check_finite_result(Xr, "interpolant(): X R^{1/2}", hint="X or rho2 too large for float64")
    check_finite_result(rhs, "interpolant(): the residual y − X L0", hint="X, y or L0 too large for float64")
    z = sla.lstsq(Xr, rhs, lapack_driver="gelsd")[0]
    with np.errstate(all="ignore"):
        out = (L0[:, None] if L0.ndim == 1 else L0) + r[:, None] * z if z.ndim == 2 else L0 + r * z
    return check_finite_result(out, "interpolant(): L̂", hint="the weighted system is too ill-conditioned or its "
                               "entries too large for float64")


def stable_lr(X, rho2, fraction: float = 1.0) -> float:
    """``fraction`` / λ_max of the function-space GD operator (2/N) R^{1/2} Xᵀ X R^{1/2} (mse loss).

    Gradient descent on the SCNN (and the wide RNN) converges for η < 2/λ_max; ``fraction = 1`` is the largest step
    without oscillation in the top eigendirection.
    """
    X = as_array(X, "X", ndim=2)
    rho2 = _weights(rho2, X.shape[1])
    if np.any(rho2 < 0):
        raise ValueError(f"rho2 must be >= 0, got minimum {rho2.min()}")
    fraction = check_positive(fraction, "fraction")
    with np.errstate(all="ignore"):
        Z = X * np.sqrt(rho2)
    check_finite_result(Z, "stable_lr(): X R^{1/2}", hint="X or rho2 too large for float64")
    lam = 2.0 / X.shape[0] * np.linalg.norm(Z, 2) ** 2
    if not lam > 0:
        raise ValueError("stable_lr(): the gradient-descent operator (2/N) R^{1/2} XᵀX R^{1/2} is zero (X is all zeros "
                         "or rho2 vanishes on its support): every step size is stable, there is no largest one")
    out = fraction / lam
    if not np.isfinite(out):
        raise NonFiniteError(f"stable_lr(): fraction/λ_max = {out} overflows float64 (λ_max = {lam:.3g}: X or rho2 "
                             "nearly zero)")
    return out


@dataclass
class GDResult:
    """Outcome of :func:`gd`: the trained model, the loss curves (one entry per step, before the step, plus the
    final value) and the impulse responses L_0..L_{J-1} at the recorded steps."""

    model: object
    train_loss: np.ndarray
    test_loss: np.ndarray | None
    steps: np.ndarray
    responses: np.ndarray
    info: dict = field(default_factory=dict)


def _mse(X, L, y):
    r = X @ L - y
    return float(r @ r / r.size)


def gd(model, X, y, *, lr: float, steps: int, X_test=None, y_test=None, record_every: int | None = None) -> GDResult:
    """Full-batch gradient descent on the mse loss mean((X L − y)²) of a convolutional model (docs/math.md §7b).

    ``model`` is a :class:`WideLinearRNN` (the linear RNN in its parameterisation, with exact gradients through
    the Markov parameters: ∂loss/∂L = (2/N) Xᵀ r, then ∇_C = Σ_j g_j W^jU, ∇_U = Σ_j g_j (W^j)ᵀCᵀ,
    ∇_W = Σ_{a+b<J-1} g_{a+b+1} (W^a)ᵀCᵀ (W^bU)ᵀ — the same numbers BPTT gives, in O(J n²) per step) or an
    :class:`SCNN` (θ ← θ − η ρ ∘ ∂loss/∂L). X has J columns: lags 0..J-1 (:func:`lagged_design`).

    Parameters
    ----------
    model : WideLinearRNN or SCNN
    X, y : arrays (N, J), (N,)
    lr : float
        η (see :func:`stable_lr`).
    steps : int
    X_test, y_test : optional held-out design and targets (test loss recorded at every step)
    record_every : int, optional
        Record the impulse response every this many steps (default: about 50 records).

    Returns
    -------
    GDResult
    """
    X, y = _design(X, y)
    N, J = X.shape
    lr = check_positive(lr, "lr")
    steps = check_int(steps, "steps", minimum=0, maximum=_MAX_LAGS)
    if not isinstance(model, (SCNN, WideLinearRNN)):
        raise TypeError(f"model must be a WideLinearRNN or an SCNN, got {type(model).__name__}")
    if (X_test is None) != (y_test is None):
        raise ValueError("give both X_test and y_test or neither")
    if X_test is not None:
        X_test, y_test = _design(X_test, y_test)
        if X_test.shape[1] != J:
            raise ValueError(f"X_test has {X_test.shape[1]} columns, X has {J}")
    every = max(1, steps // 50) if record_every is None else check_int(record_every, "record_every", minimum=1)
    check_size("gd: the recorded impulse responses", steps // every + 2, J)
    train, test, rec_steps, recs = [], [], [], []

    def diverged(t: int, what: str):
        if t == 0:
            return NonFiniteError(f"gd: {what} at the start (step 0) is not finite: X, y (or X_test, y_test) or the "
                                  "model's weights too large for float64", step=0)
        return NonFiniteError(f"gd diverged at step {t} ({what} not finite) with lr={lr!r}; reduce lr (stable_lr(X, "
                              "rho2) is the largest stable step of the SCNN)", step=t)

    if isinstance(model, SCNN):
        if model.J != J:
            raise ValueError(f"the SCNN has {model.J} lags but X has {J} columns")
        r = np.sqrt(model.rho2)
        theta = model.theta.copy()
        for t in range(steps + 1):
            with np.errstate(all="ignore"):
                L = r * theta
                res = X @ L - y
                loss = float(res @ res / N)
            if not (np.isfinite(loss) and np.isfinite(L).all()):
                raise diverged(t, "the loss")
            train.append(loss)
            if X_test is not None:
                with np.errstate(all="ignore"):
                    test.append(_mse(X_test, L, y_test))
                if not np.isfinite(test[-1]):
                    raise diverged(t, "the test loss")
            if t % every == 0 or t == steps:
                rec_steps.append(t)
                recs.append(L.copy())
            if t < steps:
                with np.errstate(all="ignore"):
                    theta -= lr * r * (2.0 / N) * (X.T @ res)
        out = SCNN(model.rho2, theta)
    elif isinstance(model, WideLinearRNN):
        n = model.hidden
        W, U, C = model.W.copy(), model.U.copy(), model.C.copy()
        kU = 1.0 if model.parameterization == "ntk" else 1.0 / n
        aW, aU, aC = lr * model.lr_W / n, lr * model.lr_U * kU, lr * model.lr_C / n
        for t in range(steps + 1):
            with np.errstate(over="ignore", invalid="ignore"):
                Ku, Kc = _krylov_pair(W, U, C, J)
                L = Ku @ C
                res = X @ L - y
                loss = float(res @ res / N)
            if not (np.all(np.isfinite(L)) and np.isfinite(loss)):
                raise diverged(t, "the Markov parameters or the loss")
            train.append(loss)
            if X_test is not None:
                with np.errstate(all="ignore"):
                    test.append(_mse(X_test, L, y_test))
                if not np.isfinite(test[-1]):
                    raise diverged(t, "the test loss")
            if t % every == 0 or t == steps:
                rec_steps.append(t)
                recs.append(L.copy())
            if t == steps:
                break
            with np.errstate(all="ignore"):
                gW, gU, gC = _markov_vjp(Ku, Kc, (2.0 / N) * (X.T @ res))
                np.multiply(gW, aW, out=gW)  # in place: no second n×n temporary
                W -= gW
                U -= aU * gU
                C -= aC * gC
            if not (np.isfinite(W).all() and np.isfinite(U).all() and np.isfinite(C).all()):
                raise diverged(t + 1, "the weights")
        out = model.replace(W=W, U=U, C=C)
    return GDResult(out, np.array(train), np.array(test) if X_test is not None else None,
                    np.array(rec_steps), np.array(recs), {"lr": lr, "steps": steps})
