"""Memory functions of sequence-to-sequence maps: the Def. 3.1 estimator, exact memories, decay fitting.

docs/math.md §3, [P1 §3.1, Def. 3.1, App. F–H]. With the Heaviside input u^x (x for t ≥ 0, 0 before),

    M(H)(t) = sup_{x ≠ 0} |d/dt H_t(u^x)| / |x|_∞                       (Def. 3.1, ``normalize="paper"``)

or with 1/(|x|_∞ + 1) (the proofs' normalisation, [P1 eqs. 43, 67], ``normalize="proof"``). On a grid
t_k = kΔt, k = 0..T−1, and with y = H(u^x) − H(0) (the zero-input response is subtracted), the derivative
is the backward difference (y_k − y_{k−1}) / Δt with y_{−1} = 0. Output norm for p > 1 outputs: the max-norm
|·|_∞ over outputs, so that a linear functional with matrix kernel ρ(t) ∈ ℝ^{p×d} has memory ‖ρ(t)‖_{∞→∞}
(the largest absolute row sum; |ρ(t)|₁ for p = 1).

Variants ([P1 App. F–H]): impulse i^x (x at t = 0 only): M_imp(t_k) = sup |y_k| / (Δt |x|); reversed step r^x
(x for t < 0, 0 after): M_rev(t) = sup |d/dt H_t(r^x)| / |x|. For a linear functional with the Riemann grid
convention y_k = Δt Σ_j ρ(jΔt)ᵀ x_{k−j} (docs/math.md §2) all three equal |ρ(t_k)|₁ exactly on the grid.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnmem import _kernels_memory as KM
from rnnmem._kernels import ACTIVATIONS as _ACT_CODES
from rnnmem._validate import (
    NonFiniteError,
    as_array,
    as_rng,
    check_bool,
    check_callable,
    check_choice,
    check_dt,
    check_finite_result,
    check_int,
    check_pair,
    check_positive,
    check_real,
    check_size,
    first_nonfinite_step,
)

__all__ = [
    "MemoryFunction",
    "DecayFit",
    "memory_function",
    "exact_memory",
    "fit_decay",
    "candidate_inputs",
    "continuous_kernel",
    "KINDS",
    "NORMALIZATIONS",
    "DEFAULT_AMPLITUDES",
]

KINDS = ("heaviside", "impulse", "reversed")
NORMALIZATIONS = ("paper", "proof")
#: default input amplitudes |x|_∞: from the linear regime (1e-3) to saturation (1e2)
DEFAULT_AMPLITUDES = np.logspace(-3.0, 2.0, 11)
#: input dimension up to which all 2^d vertices of the cube {|x|_∞ = 1} are used as directions
MAX_VERTEX_DIM = 8
#: the most RK4 substeps per grid step of :func:`exact_memory` (its error O((Δt/substeps)⁴) reaches rounding level
#: long before; more only costs time)
MAX_SUBSTEPS = 1_000_000


# ----------------------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class MemoryFunction:
    """A memory function sampled on the grid t_k = kΔt.

    Attributes
    ----------
    t : ndarray (T,)
        Times t_k = kΔt.
    values : ndarray (T,)
        M(t_k): the sup over the candidate inputs (or the exact value, see ``method``).
    argmax_x : ndarray (T, d)
        The candidate input x attaining the sup at each t_k (for exact linear memories: the maximising sign
        vector with |x|_∞ = 1).
    kind : str
        "heaviside", "impulse" or "reversed".
    normalize : str
        "paper" (÷|x|_∞) or "proof" (÷(|x|_∞ + 1)).
    dt : float
        Grid step Δt.
    method : str
        "estimator" (finite differences of the model's outputs), "markov" (linear discrete closed form),
        "expm" (continuous linear closed form), "v-dynamics" (the kernel of ``rnnmem._kernels_memory``).
    candidates : ndarray (n, d) or None
        The finite set of inputs x over which the sup was taken.
    per_input : ndarray (n, T) or None
        The normalised memory of every candidate; ``values = per_input.max(axis=0)``.
    """

    t: np.ndarray
    values: np.ndarray
    argmax_x: np.ndarray
    kind: str = "heaviside"
    normalize: str = "paper"
    dt: float = 1.0
    method: str = "estimator"
    candidates: np.ndarray | None = field(default=None, repr=False)
    per_input: np.ndarray | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.t)

    def __repr__(self) -> str:
        return (f"MemoryFunction(T={len(self.t)}, dt={self.dt}, kind={self.kind!r}, "
                f"normalize={self.normalize!r}, "
                f"method={self.method!r}, M(0)={self.values[0]:.4g}, M(t_end)={self.values[-1]:.4g})")

    def fit(self, **kwargs) -> DecayFit:
        """``fit_decay(self.t, self.values, **kwargs)``."""
        return fit_decay(self.t, self.values, **kwargs)

    def restrict(self, min_amplitude: float = 0.0, max_amplitude: float = np.inf) -> MemoryFunction:
        """The sup over the candidates with min_amplitude <= |x|_∞ <= max_amplitude only (no new model calls).

        Useful because the amplitude range changes the answer for saturating models (docs/memory.md,
        "Findings"): e.g. ``mf.restrict(max_amplitude=0.1)`` is the linear-regime memory.
        """
        if self.per_input is None or self.candidates is None:
            raise ValueError("restrict needs per-input curves; this MemoryFunction is a closed form over all x")
        lo = check_real(min_amplitude, "min_amplitude", minimum=0.0)
        hi = check_real(max_amplitude, "max_amplitude", minimum=0.0, finite=False)
        if not hi >= lo:
            raise ValueError(f"max_amplitude must be >= min_amplitude, got {max_amplitude!r} < {min_amplitude!r}")
        keep = (np.abs(self.candidates).max(axis=1) >= lo) & (np.abs(self.candidates).max(axis=1) <= hi)
        if not keep.any():
            raise ValueError(f"no candidate input has amplitude in [{lo:g}, {hi:g}]")
        return _finish(self.per_input[keep], self.candidates[keep], self.t, self.kind, self.normalize, self.dt,
                       self.method)


# ----------------------------------------------------------------------------------------------- helpers
def _model_dims(model, d, dt):
    """(d, Δt) of a model: ``d`` (default ``model.inputs``, else 1) and ``dt`` (default ``model.dt``, else 1).

    A model with its own ``dt`` lives on its grid: an explicit different ``dt`` raises (it would rescale the memory
    silently, docs/math.md §3).
    """
    own_d = getattr(model, "inputs", None)
    if d is None:
        d = 1 if own_d is None else own_d
    d = check_int(d, "d", minimum=1)
    if isinstance(own_d, int) and d != own_d:
        raise ValueError(f"d={d} differs from the model's number of inputs {own_d}; omit d")
    own = getattr(model, "dt", None)
    if own is not None and not callable(own):
        own = check_positive(own, "model.dt")
    if dt is None:
        dt = 1.0 if own is None else own
    dt = check_dt(dt, "dt")
    if own is not None and dt != own:
        raise ValueError(f"dt={dt} differs from the model's own dt={own}: the model's outputs live on its grid "
                         "t_k = k·model.dt, and another Δt would rescale the memory function silently; omit dt (or "
                         "build the model with the dt you want)")
    return d, dt


def _check_grid(dt: float, T: int) -> None:
    """The time grid t_k = kΔt, k < T, must be representable."""
    if not np.isfinite(dt * max(T - 1, 1)):
        raise ValueError(f"dt={dt} with T={T} gives times t_k = k·dt beyond the float range; use a smaller dt or T")


def candidate_inputs(d: int, *, amplitudes=None, directions=None, random_directions: int | None = None,
                     rng=None) -> np.ndarray:
    """The finite set of constant inputs x over which memory estimators take their sup.

    x = a · u for every amplitude a and direction u, with u scaled to |u|_∞ = 1.

    Parameters
    ----------
    d : int
        Input dimension.
    amplitudes : array_like of positive floats, optional
        |x|_∞ values; default ``DEFAULT_AMPLITUDES`` = 11 log-spaced values from 1e-3 to 1e2.
    directions : array_like (k, d), optional
        Directions (nonzero rows, rescaled to |u|_∞ = 1). Default: every vertex of the cube {−1, 1}^d when
        d ≤ 8 (the sup of |ρᵀx|/|x|_∞ over x is attained at a vertex, so linear maps are handled exactly),
        else 256 random vertices; plus ``random_directions`` Gaussian directions.
    random_directions : int, optional
        Extra N(0, I) directions (default 0 for d = 1, else 8). Ignored when ``directions`` is given.
    rng : None, int or numpy.random.Generator
        Source of the random directions.

    Returns
    -------
    ndarray (n_amplitudes · n_directions, d)
        Row index = direction index · n_amplitudes + amplitude index.
    """
    d = check_int(d, "d", minimum=1)
    if amplitudes is None:
        amps = DEFAULT_AMPLITUDES.copy()
    else:
        amps = as_array(amplitudes, "amplitudes", ndim=(0, 1)).reshape(-1)
        if (amps <= 0).any():
            raise ValueError(f"amplitudes must be > 0, got min {amps.min()!r}")
    if directions is None:
        k = None if random_directions is None else check_int(random_directions, "random_directions")
        n_dirs = (2**d if d <= MAX_VERTEX_DIM else 256) + ((0 if d == 1 else 8) if k is None else k)
        check_size(f"candidate_inputs(d={d}, random_directions={k})", n_dirs, amps.size, d)
        gen = as_rng(rng)
        if d <= MAX_VERTEX_DIM:
            grid = ((np.arange(2**d)[:, None] >> np.arange(d)[None, :]) & 1).astype(float)
            dirs = 1.0 - 2.0 * grid
        else:
            dirs = gen.choice([-1.0, 1.0], size=(256, d))
        k = (0 if d == 1 else 8) if k is None else k
        if k:
            dirs = np.concatenate([dirs, gen.standard_normal((k, d))])
    else:
        dirs = as_array(directions, "directions", ndim=(1, 2))
        if dirs.ndim == 1:
            dirs = dirs[None]
        if dirs.shape[1] != d:
            raise ValueError(f"directions has shape {dirs.shape}, expected (k, {d}) for a model with "
                             f"d = {d} inputs")
        check_size("candidate_inputs", dirs.shape[0], amps.size, d)
    norms = np.abs(dirs).max(axis=1)
    if (norms == 0).any():
        raise ValueError(f"directions row {int(np.argmin(norms))} is zero; every direction must be nonzero")
    dirs = dirs / norms[:, None]
    return (dirs[:, None, :] * amps[None, :, None]).reshape(-1, d)


def _accepts_dt(model) -> bool:
    """Whether ``model(x, dt=...)`` is a valid call (targets of rnnmem.targets take the grid step)."""
    try:
        params = inspect.signature(model).parameters
    except (TypeError, ValueError):
        return False
    p = params.get("dt")
    return p is not None and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)


def _call_model(model, X, dt=None):
    """Evaluate model on X (B, T, d) in one call (passing ``dt`` when given); validate a (B, T, p) finite
    output."""
    try:
        out = model(X) if dt is None else model(X, dt=dt)
    except NonFiniteError as exc:
        raise NonFiniteError(f"the model's outputs are non-finite for some memory-probing input ({exc}); the model "
                             "explodes at large amplitudes: pass smaller amplitudes=", step=exc.step) from None
    y = as_array(out, "the model's output model(x)", finite=False, copy=False, allow_empty=True)
    B, T = X.shape[:2]
    if y.ndim != 3 or y.shape[:2] != (B, T):
        raise ValueError(f"model must map inputs (B, T, d) = {X.shape} to outputs (B, T, p); it returned "
                         f"shape {y.shape}")
    if not np.isfinite(y).all():
        step = first_nonfinite_step(y, 1)
        raise NonFiniteError(f"the model's outputs are non-finite at time step {step} for some "
                             "memory-probing input (the model explodes at large amplitudes; pass smaller "
                             "amplitudes=)", step=step)
    return y


def _norm_x(X, normalize):
    n = np.abs(X).max(axis=1)
    return n + 1.0 if normalize == "proof" else n


def _finish(per, cands, t, kind, normalize, dt, method):
    idx = np.argmax(per, axis=0)
    return MemoryFunction(t=t, values=per[idx, np.arange(per.shape[1])], argmax_x=cands[idx].copy(),
                          kind=kind, normalize=normalize, dt=dt, method=method, candidates=cands,
                          per_input=per)


# ----------------------------------------------------------------------------------------------- estimator
def memory_function(model, T: int, *, dt: float | None = None, kind: str = "heaviside",
                    normalize: str = "paper", amplitudes=None, directions=None, rng=None,
                    d: int | None = None, random_directions: int | None = None,
                    chunk: int | None = None) -> MemoryFunction:
    """Estimate the memory function of any causal sequence map (docs/math.md §3, [P1 Def. 3.1, App. F–H]).

    M(t_k) = max_{x ∈ X} |Δy_k|_∞ / (Δt · N(x)),   N(x) = |x|_∞ ("paper") or |x|_∞ + 1 ("proof"),

    * ``heaviside``: y = H(u^x) − H(0), u^x_k = x for all k ≥ 0; Δy_k = y_k − y_{k−1}, y_{−1} = 0 (Def. 3.1).
    * ``impulse``: y = H(i^x) − H(0), i^x_0 = x, i^x_k = 0 for k ≥ 1; Δy_k = y_k (App. F).
    * ``reversed``: one sequence per lag: r^{x,c}_k = x for k < T − c, 0 for k ≥ T − c (c = 0..T trailing
      zeros), all observed at the last step, Y_c = H(r^{x,c})_{T−1} − H(0)_{T−1}; Δy_k = Y_{k+1} − Y_k
      (App. H). The past is as long as the horizon allows (T − 1 − k steps for lag k); for a linear functional
      the finite past cancels and Δy_k = −Δt ρ(t_k)ᵀ x exactly; for a map with decaying memory the truncation
      error is O(M(T)).

    For a linear functional in the Riemann convention of docs/math.md §2 all three kinds return |ρ(t_k)|₁ exactly
    ([P1 eqs. 4, 120, 127]).

    Parameters
    ----------
    model : callable
        Causal map of a float64 array (B, T, d) to (B, T, p), e.g. an :class:`rnnmem.RNN`, a target from
        :mod:`rnnmem.targets`, or any function. If its signature has a ``dt`` parameter (the targets of
        :mod:`rnnmem.targets`) it is called as ``model(x, dt=dt)``, so target and estimator share the grid.
    T : int
        Number of grid points t_k = kΔt, k = 0..T−1.
    dt : float, optional
        Δt; default ``model.dt`` when the model has one, else 1.
    kind : {"heaviside", "impulse", "reversed"}
    normalize : {"paper", "proof"}
    amplitudes, directions, rng, random_directions
        The candidate set X, see :func:`candidate_inputs` (default: all 2^d sign vectors for d ≤ 8 times 11
        amplitudes 1e-3 … 1e2).
    d : int, optional
        Input dimension when the model has no ``inputs`` attribute (default 1).
    chunk : int, optional
        Maximum number of sequences per model call. Default: all inputs (and the zero input) in ONE batched
        call — (1 + n) sequences for heaviside/impulse, 1 + n·T for reversed (memory ∝ n·T²·d there).

    Returns
    -------
    MemoryFunction
        ``t``, ``values``, ``argmax_x`` (+ ``per_input``, ``candidates``, ``kind``, ``normalize``, ``dt``).

    Examples
    --------
    >>> import numpy as np, rnnmem as rm
    >>> mf = rm.memory_function(rm.targets.exponential(rate=0.5), 50)
    >>> float(abs(mf.values[10] - np.exp(-5.0))) < 1e-12
    True
    """
    check_callable(model, "model", "a callable map (B, T, d) -> (B, T, p), e.g. an rnnmem.RNN or a target")
    check_choice(kind, "kind", KINDS)
    check_choice(normalize, "normalize", NORMALIZATIONS)
    T = check_int(T, "T", minimum=1)
    d, dt = _model_dims(model, d, dt)
    _check_grid(dt, T)
    cands = candidate_inputs(d, amplitudes=amplitudes, directions=directions,
                             random_directions=random_directions, rng=rng)
    if chunk is not None:
        chunk = check_int(chunk, "chunk", minimum=1)
    n = cands.shape[0]
    check_size(f"memory_function(T={T})'s probing inputs", 1 + n * (T if kind == "reversed" else 1), T, d)
    per = _estimate(model, cands, T, dt, kind, normalize, chunk)
    _check_memory(per, dt)
    return _finish(per, cands, dt * np.arange(T), kind, normalize, dt, "estimator")


def _check_memory(per: np.ndarray, dt: float) -> None:
    """Memory values (n, T) must be finite: the model's outputs are, so an overflow comes from dividing by Δt·|x|."""
    check_finite_result(per, "the memory function", time_axis=1,
                        hint=f"dividing the output differences by Δt·|x| overflows (dt={dt:g} is too small, or the "
                             "amplitudes)")


def _estimate(model, cands, T, dt, kind, normalize, chunk):
    """The normalised memory (n, T) of every candidate input (rows of ``cands``) by the Def. 3.1 estimator."""
    n, d = cands.shape
    if kind == "reversed":
        c = np.arange(T)[:, None]  # lag k -> c = k trailing zeros; c = T (all zero) is the zero input
        mask = (np.arange(T)[None, :] < (T - c)).astype(np.float64)  # (T, T): row c
        X = np.empty((1 + n * T, T, d))
        X[0] = 0.0
        X[1:] = (cands[:, None, None, :] * mask[None, :, :, None]).reshape(n * T, T, d)
    else:
        X = np.zeros((1 + n, T, d))
        if kind == "heaviside":
            X[1:] = cands[:, None, :]
        else:
            X[1:, 0] = cands
    y = _batched(model, X, chunk, dt if _accepts_dt(model) else None)
    if kind == "reversed":
        last = y[1:, T - 1, :] - y[0, T - 1, :]  # (n*T, p)
        Y = np.concatenate([last.reshape(n, T, -1), np.zeros((n, 1, last.shape[1]))], axis=1)  # Y_0..Y_T
        delta = Y[:, 1:] - Y[:, :-1]
    else:
        Y = y[1:] - y[0]
        delta = np.diff(Y, axis=1, prepend=0.0) if kind == "heaviside" else Y
    with np.errstate(over="ignore"):  # an overflow is reported by _check_memory
        return np.abs(delta).max(axis=2) / (dt * _norm_x(cands, normalize)[:, None])


def _batched(model, X, chunk, dt):
    if chunk is None or chunk >= X.shape[0]:
        return _call_model(model, X, dt)
    parts = [_call_model(model, X[i:i + chunk], dt) for i in range(0, X.shape[0], chunk)]
    return np.concatenate(parts, axis=0)


# ----------------------------------------------------------------------------------------------- exact
def _as_rnn(model):
    """The RNN behind ``model`` (an RNN or a model with ``to_rnn()``), or None."""
    from rnnmem.rnn import RNN

    if isinstance(model, RNN):
        return model
    to_rnn = getattr(model, "to_rnn", None)
    if callable(to_rnn):
        rnn = to_rnn()
        if isinstance(rnn, RNN):
            return rnn
    return None


def _as_ssm(model):
    """The DiagonalSSM behind ``model`` (a DiagonalSSM, S4D or LRU), or None."""
    from rnnmem.ssm import DiagonalSSM

    to_ssm = getattr(model, "to_ssm", None)
    if callable(to_ssm):
        ssm = to_ssm()
        if isinstance(ssm, DiagonalSSM):
            return ssm
    return None


def _inf_op_norm(K):
    """‖K‖_{∞→∞} for a stack (..., p, d): the largest absolute row sum."""
    return np.abs(K).sum(axis=-1).max(axis=-1)


def _argmax_sign(K):
    """Maximising sign vectors x (|x|_∞ = 1) of |K x|_∞ for a stack K (T, p, d)."""
    rows = np.abs(K).sum(axis=-1).argmax(axis=-1)
    s = np.sign(K[np.arange(K.shape[0]), rows])
    s[s == 0] = 1.0
    return s


def continuous_kernel(W, U, C, t, *, method: str = "auto") -> np.ndarray:
    """ρ(t) = C e^{W t} U for the continuous-time linear RNN (docs/math.md §3), shape (len(t), p, d).

    Parameters
    ----------
    W, U, C : arrays (m, m), (m, d), (p, m)
    t : array (T,) of times
    method : {"auto", "eig", "expm"}
        ``eig``: W = V Λ V⁻¹, ρ(t) = (C V) e^{Λt} (V⁻¹ U); error ≈ cond(V)·ε. ``expm``: ``scipy.linalg.expm``
        of the stack W t_k (scaling and squaring; robust for non-normal and defective W). ``auto``: eig when
        cond(V) ≤ 1e4, else expm.
    """
    check_choice(method, "method", ("auto", "eig", "expm"))
    W = as_array(W, "W", ndim=2)
    m = W.shape[0]
    if W.shape != (m, m):
        raise ValueError(f"W must be square (m, m), got shape {W.shape}")
    U = as_array(U, "U", shape=(m, None))
    C = as_array(C, "C", shape=(None, m))
    t = as_array(t, "t", ndim=1)
    if (t < 0).any():
        raise ValueError(f"t must be >= 0 (ρ(t) = C e^{{Wt}} U is the kernel of a causal map, defined for t ≥ 0); got "
                         f"t[{int(np.argmax(t < 0))}] = {float(t[np.argmax(t < 0)])!r}")
    T = t.shape[0]
    check_size("continuous_kernel", T, C.shape[0], U.shape[1])
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        K = None
        if method != "expm":
            lam, V = np.linalg.eig(W)
            cond = np.linalg.cond(V)
            if method == "eig" or (np.isfinite(cond) and cond <= 1e4):
                CV = C @ V
                try:
                    VU = np.linalg.solve(V, U)
                except np.linalg.LinAlgError:  # a defective W asked for method="eig"
                    raise ValueError("method='eig' needs a diagonalisable W; this W's eigenvectors are singular "
                                     "(use method='expm' or 'auto')") from None
                E = np.exp(t[:, None] * lam[None, :])  # (T, m)
                K = np.ascontiguousarray(np.einsum("pm,tm,md->tpd", CV, E, VU).real)
        if K is None:
            check_size("continuous_kernel (method='expm')", T, m, m)
            import scipy.linalg

            E = scipy.linalg.expm(t[:, None, None] * W[None])  # (T, m, m)
            K = np.ascontiguousarray(C[None] @ E @ U[None])
    return check_finite_result(K, "the continuous kernel ρ(t) = C e^{Wt} U", time_axis=0,
                               hint="e^{Wt} overflows: W has an eigenvalue with a positive real part (an unstable "
                                    "model) or W·t is too large; use shorter times t")


def exact_memory(model, T: int, *, continuous: bool = False, dt: float | None = None, x=None,
                 normalize: str = "paper", amplitudes=None, directions=None, rng=None,
                 random_directions: int | None = None, substeps: int = 8,
                 method: str = "auto") -> MemoryFunction:
    """Exact Heaviside memory of an RNN on the grid t_k = kΔt, k = 0..T−1 (docs/math.md §1, §3).

    *Linear activation, no x / amplitudes / directions / random_directions given* — the sup over **all** x ≠ 0
    in closed form (``normalize`` does not matter:
    with "proof" the sup is approached as |x|_∞ → ∞):

    * discrete (the model's own cell and Δt): M(t_k) = ‖L_k‖_{∞→∞} / Δt with the Markov parameters of
      ``rnn.markov`` (elman L_0 = CU + D, L_k = C W^k U; euler L_0 = Δt CU + D, L_k = Δt C (I + ΔtW)^k U),
      which is what the Heaviside estimator returns exactly, since y_k − y_{k−1} = L_k x.
    * ``continuous=True``: M(t) = ‖C e^{Wt} U‖_{∞→∞} = |Uᵀ e^{Wᵀt} Cᵀ|₁ for p = 1, via
      :func:`continuous_kernel` (eigendecomposition, ``scipy.linalg.expm`` fallback for non-normal/defective
      W). A feed-through D adds a Dirac mass at t = 0, which is not included.

    *Nonlinear activation (or x given)* — the velocity (v-) dynamics of ``rnnmem._kernels_memory`` for each
    candidate x, then the max over the candidates (the same finite set as :func:`memory_function`):

    * euler cell: M_x(t_k) = |C (v_k − v⁰_k) + [k = 0] D x / Δt|_∞ / N(x) with v_k = σ(z_k),
      z_{k+1} = z_k + Δt W σ(z_k), z_0 = U x + b (v⁰: the zero input). This is the finite difference
      (y_k − y_{k−1})/Δt of the euler RNN's outputs *exactly* (same recursion, no cancellation): "exact" means
      exact for the discrete model, not the continuous-time one.
    * elman cell: M_x(t_k) = |C (Δ_k − Δ⁰_k) + [k = 0] D x|_∞ / (Δt N(x)), Δ_k = h_k − h_{k−1} propagated
      directly (kernel docstring) — again the exact finite difference of the elman outputs. With b ≠ 0 the
      subtraction of Δ⁰ limits the relative accuracy to ≈ ε |Δ⁰|/|Δ − Δ⁰|.
    * ``continuous=True`` (euler cell only: the elman cell has no continuous-time limit): the continuous-time
      RNN dh/dt = σ(Wh + Ux + b) of the same parameters, M_x(t) = |C (σ(z(t)) − σ(z⁰(t)))|_∞ / N(x) with
      dz/dt = W σ(z) (for tanh: dv/dt = (1 − v∘v) ∘ (W v), docs/math.md §3) integrated by classical RK4 with step
      Δt/``substeps`` (global error O((Δt/substeps)⁴) for smooth σ; relu/hardtanh kinks lower the order).

    *Other models* — :class:`rnnmem.DiagonalSSM` (and :class:`~rnnmem.ssm.S4D`, :class:`~rnnmem.ssm.LRU` through
    ``to_ssm()``): the closed form M(t_k) = ‖L_k‖_{∞→∞} of its Markov parameters L_0 = Re(CB) + D,
    L_k = Re(C diag(λ^k) B) (a linear map: ``normalize`` does not matter; with x/amplitudes/directions given, the
    per-input values |L_k x|_∞ / N(x)). :class:`rnnmem.StackedRNN`, :class:`rnnmem.GRU`, :class:`rnnmem.LSTM` have no
    closed form: their memory is the Heaviside finite difference of their own outputs over the candidate inputs (the
    estimator of :func:`memory_function`, exact for the discrete model up to the rounding ε·|y| of the differences;
    ``method="estimator"``).

    Parameters
    ----------
    model : rnnmem.RNN (or an object with ``to_rnn()``), DiagonalSSM (or ``to_ssm()``), StackedRNN, GRU or LSTM
    T : int
        Number of grid points.
    continuous : bool
        The continuous-time limit instead of the model's discrete cell.
    dt : float, optional
        Grid step of the continuous curve (default ``model.dt``). For discrete memories it must equal
        model.dt.
    x : array (n, d) or (d,), optional
        The inputs to use (overrides amplitudes/directions). Required to get per-input curves of linear
        models.
    normalize : {"paper", "proof"}
    amplitudes, directions, rng, random_directions : see :func:`candidate_inputs`.
    substeps : int
        RK4 substeps per grid step (continuous, nonlinear).
    method : {"auto", "eig", "expm"}
        See :func:`continuous_kernel` (continuous, linear).

    Returns
    -------
    MemoryFunction
        ``method`` is "markov", "expm" or "v-dynamics".
    """
    T = check_int(T, "T", minimum=1)
    check_size(f"exact_memory(T={T})", T)
    check_choice(normalize, "normalize", NORMALIZATIONS)
    continuous = check_bool(continuous, "continuous")
    substeps = check_int(substeps, "substeps", minimum=1, maximum=MAX_SUBSTEPS)
    check_choice(method, "method", ("auto", "eig", "expm"))
    rnn = _as_rnn(model)
    if rnn is None:
        return _exact_memory_other(model, T, continuous, dt, x, normalize, amplitudes, directions, rng,
                                   random_directions)
    if continuous:
        if rnn.cell != "euler":
            raise ValueError("continuous=True needs an euler-cell model (the continuous-time RNN "
                             "dh/dt = σ(Wh+Ux+b) it discretises); this model has "
                             f"cell={rnn.cell!r}, which has no continuous limit")
        dt = rnn.dt if dt is None else check_dt(dt, "dt")
    else:
        if dt is not None and check_dt(dt, "dt") != rnn.dt:
            raise ValueError(f"dt={dt} differs from the model's dt={rnn.dt}; the discrete memory lives on "
                             "the model's grid (use continuous=True for another grid)")
        dt = rnn.dt
    _check_grid(dt, T)
    t = dt * np.arange(T)
    W, U, b, C, D = rnn.W, rnn.U, rnn.b, rnn.C, rnn.D
    d = rnn.inputs
    if rnn.activation == "linear" and x is None and amplitudes is None and directions is None \
            and random_directions is None:
        if continuous:
            K = continuous_kernel(W, U, C, t, method=method)
            meth = "expm"
        else:
            K = rnn.markov(T) / dt
            meth = "markov"
        check_finite_result(K, "the exact memory", time_axis=0,
                            hint=f"the kernel divided by Δt overflows (dt={dt:g})")
        return MemoryFunction(t=t, values=_inf_op_norm(K), argmax_x=_argmax_sign(K), kind="heaviside",
                              normalize=normalize, dt=dt, method=meth)
    if x is not None:
        cands = as_array(x, "x", ndim=(1, 2))
        cands = cands[None] if cands.ndim == 1 else cands
        if cands.shape[1] != d:
            raise ValueError(f"x has shape {cands.shape}, expected (n, {d}) for a model with {d} inputs")
        if (np.abs(cands).max(axis=1) == 0).any():
            raise ValueError("x contains a zero row; memory is normalised by |x|_∞, every x must be nonzero")
    else:
        cands = candidate_inputs(d, amplitudes=amplitudes, directions=directions,
                                 random_directions=random_directions, rng=rng)
    n = cands.shape[0]
    check_size(f"exact_memory(T={T})", n + 1, T, C.shape[0])
    act = _ACT_CODES[rnn.activation]
    Wc = np.ascontiguousarray(W)
    Cc = np.ascontiguousarray(C)
    p = C.shape[0]
    out = np.empty((n, T, p))
    if rnn.cell == "euler":
        z0 = np.ascontiguousarray(np.broadcast_to(b, (n, b.shape[0])))
        d0 = np.ascontiguousarray(cands @ U.T)
        if continuous:
            KM.heaviside_rk4(Wc, Cc, z0, d0, dt, substeps, act, out)
        else:
            KM.heaviside_euler(Wc, Cc, z0, d0, dt, act, out)
            if D is not None:
                out[:, 0] += cands @ D.T / dt
    else:
        a0 = np.ascontiguousarray(np.concatenate([b[None], cands @ U.T + b[None]]))
        raw = np.empty((n + 1, T, p))
        KM.heaviside_elman(Wc, Cc, a0, act, raw)
        out = (raw[1:] - raw[0]) / dt
        if D is not None:
            out[:, 0] += cands @ D.T / dt
    if not np.isfinite(out).all():
        step = first_nonfinite_step(out, 1)
        raise NonFiniteError(f"the v-dynamics became non-finite at step {step}: the model explodes for some probing "
                             "input (an unstable model, or amplitudes/x too large)", step=step)
    per = np.abs(out).max(axis=2) / _norm_x(cands, normalize)[:, None]
    _check_memory(per, dt)
    return _finish(per, cands, t, "heaviside", normalize, dt, "v-dynamics")


def _exact_candidates(x, d, amplitudes, directions, rng, random_directions):
    if x is not None:
        cands = as_array(x, "x", ndim=(1, 2))
        cands = cands[None] if cands.ndim == 1 else cands
        if cands.shape[1] != d:
            raise ValueError(f"x has shape {cands.shape}, expected (n, {d}) for a model with {d} inputs")
        if (np.abs(cands).max(axis=1) == 0).any():
            raise ValueError("x contains a zero row; memory is normalised by |x|_∞, every x must be nonzero")
        return cands
    return candidate_inputs(d, amplitudes=amplitudes, directions=directions, random_directions=random_directions,
                            rng=rng)


def _exact_memory_other(model, T, continuous, dt, x, normalize, amplitudes, directions, rng, random_directions):
    """exact_memory of the models other than the RNN: the diagonal SSM in closed form, the torch-layout models
    through the finite differences of their own outputs."""
    if continuous:
        raise ValueError(f"continuous=True needs an euler-cell rnnmem.RNN; {type(model).__name__} is a "
                         "discrete-time model")
    ssm = _as_ssm(model)
    if ssm is not None:
        if dt is not None and check_dt(dt, "dt") != 1.0:
            raise ValueError("a DiagonalSSM is a discrete-time model on the grid t_k = k (dt = 1)")
        t = np.arange(T, dtype=np.float64)
        K = ssm.markov(T)
        if x is None and amplitudes is None and directions is None and random_directions is None:
            return MemoryFunction(t=t, values=_inf_op_norm(K), argmax_x=_argmax_sign(K), kind="heaviside",
                                  normalize=normalize, dt=1.0, method="markov")
        cands = _exact_candidates(x, ssm.inputs, amplitudes, directions, rng, random_directions)
        per = np.abs(np.einsum("tpd,nd->ntp", K, cands)).max(axis=2) / _norm_x(cands, normalize)[:, None]
        return _finish(per, cands, t, "heaviside", normalize, 1.0, "markov")
    from rnnmem.gated import _TorchLayout

    if isinstance(model, _TorchLayout):
        d, dt = _model_dims(model, None, dt)
        cands = _exact_candidates(x, d, amplitudes, directions, rng, random_directions)
        per = _estimate(model, cands, T, dt, "heaviside", normalize, None)
        return _finish(per, cands, dt * np.arange(T), "heaviside", normalize, dt, "estimator")
    raise TypeError(f"exact_memory needs an rnnmem.RNN (or a model with to_rnn()), a DiagonalSSM/S4D/LRU or a "
                    f"StackedRNN/GRU/LSTM; got {type(model).__name__} (use memory_function for any callable)")


# ----------------------------------------------------------------------------------------------- fitting
@dataclass(frozen=True)
class DecayFit:
    """Result of :func:`fit_decay`.

    Attributes
    ----------
    kind : {"exponential", "polynomial"}
        The model with the smaller residual sum of squares of log M on the window (see ``margin`` of
        :func:`fit_decay`); read it together with ``ambiguous``.
    rate : float
        β of the exponential fit log M ≈ log A − β t.
    exponent : float
        p of the power fit log M ≈ log B − p log(1 + s t).
    log_amplitude_exponential, log_amplitude_polynomial : float
        log A, log B.
    r2_exponential, r2_polynomial : float
        Coefficients of determination of the two fits of log M (1 = perfect).
    rss_exponential, rss_polynomial : float
        Residual sums of squares of log M.
    window : tuple (t_lo, t_hi)
        The tail window that was fitted.
    n_points : int
        Points used (inside the window, finite, above the floor).
    scale : float
        s in log(1 + s t).
    ambiguous : bool
        True when neither fit is clearly better: the residual sums are within the factor ``tie`` of the decision
        boundary, RSS_exp / (margin · RSS_pol) ∈ (1/tie, tie). ``kind`` is then a near-tie, not a finding.
    tie : float
        The factor used for ``ambiguous``.
    """

    kind: str
    rate: float
    exponent: float
    log_amplitude_exponential: float
    log_amplitude_polynomial: float
    r2_exponential: float
    r2_polynomial: float
    rss_exponential: float
    rss_polynomial: float
    window: tuple[float, float]
    n_points: int
    scale: float = 1.0
    ambiguous: bool = False
    tie: float = 2.0

    @property
    def verdict(self) -> str:
        """``kind``, or ``"ambiguous"`` when the two fits are a near-tie (``ambiguous``)."""
        return "ambiguous" if self.ambiguous else self.kind

    def _times(self, t) -> np.ndarray:
        tt = as_array(t, "t", ndim=None, allow_empty=True)
        if (tt < 0).any():
            raise ValueError(f"t must be >= 0 (times of a memory function); got min {tt.min()!r}")
        return tt

    def exponential(self, t) -> np.ndarray:
        """The exponential fit A e^{−βt} at times t >= 0 (any shape)."""
        with np.errstate(over="ignore"):
            out = np.exp(self.log_amplitude_exponential - self.rate * self._times(t))
        return check_finite_result(out, "the exponential fit A e^{-βt}", hint="it overflows at these times t")

    def polynomial(self, t) -> np.ndarray:
        """The power fit B (1 + s t)^{−p} at times t >= 0 (any shape)."""
        with np.errstate(over="ignore"):
            out = np.exp(self.log_amplitude_polynomial - self.exponent * np.log1p(self.scale * self._times(t)))
        return check_finite_result(out, "the power fit B (1 + st)^{-p}", hint="it overflows at these times t")

    def quality(self) -> dict[str, Any]:
        """Both fits' R² and RSS as a dict."""
        return {"r2_exponential": self.r2_exponential, "r2_polynomial": self.r2_polynomial,
                "rss_exponential": self.rss_exponential, "rss_polynomial": self.rss_polynomial}


def _lsq_line(xv, yv):
    A = np.stack([np.ones_like(xv), xv], axis=1)
    coef, *_ = np.linalg.lstsq(A, yv, rcond=None)
    res = yv - A @ coef
    rss = float(res @ res)
    tss = float(((yv - yv.mean()) ** 2).sum())
    r2 = 1.0 - rss / tss if tss > 0 else (1.0 if rss == 0 else 0.0)
    return float(coef[0]), float(coef[1]), rss, r2


def fit_decay(t, M, *, tail: float = 0.5, window: tuple[float, float] | None = None, floor: float = 1e-10,
              scale: float = 1.0, min_points: int = 4, margin: float = 1.0, tie: float = 2.0) -> DecayFit:
    """Fit exponential and power-law decay to a memory function's tail (docs/math.md §3, decay fitting).

    Least squares on the points (t_i, log M_i) of the tail window:

    * exponential: log M ≈ log A − β t                (``rate`` β; [P1 Def. 3.2])
    * polynomial:  log M ≈ log B − p log(1 + s t)     (``exponent`` p; s = ``scale``, default 1)

    and the verdict ``kind`` = the fit with the smaller residual sum of squares (both fit the same log M, so
    this is also the larger R²); with ``margin`` > 1 the power law must be better by that factor,
    RSS_pol · margin < RSS_exp, so that a near-tie counts as exponential. When the ratio
    q = RSS_exp / (margin · RSS_pol) lies within a factor ``tie`` of 1 (1/tie < q < tie) neither shape describes
    the tail clearly better: the result is flagged ``ambiguous`` (``verdict == "ambiguous"``), with ``kind`` still
    the side of the boundary q falls on.

    Robustness: points with non-finite M, M ≤ 0 (exact zeros, underflow) or M < ``floor`` · max M (the
    rounding noise floor of finite-difference estimates, ≈ 1e-16 |y| / Δt) are dropped *before* the window is
    chosen, so a curve that decays to zero at t = 50 on a horizon of 1000 is fitted on its last decaying
    stretch.

    Parameters
    ----------
    t, M : array_like (T,)
        Times (increasing, ≥ 0) and memory values.
    tail : float in (0, 1]
        Default window: the last ``tail`` fraction of the time range [t_first, t_last] of the kept points.
    window : (t_lo, t_hi), optional
        Explicit window (overrides ``tail``).
    floor : float ≥ 0
        Relative floor (see above); 0 keeps every positive value.
    scale : float > 0
        s in the power fit; the exponent of ρ(t) = (1 + αt)^{−p} is recovered exactly when s = α, and
        asymptotically (αt ≫ 1) for any s.
    min_points : int
        Fewer usable points than this raise ``ValueError``.
    margin : float ≥ 1
        Factor by which the power fit's RSS must beat the exponential fit's for ``kind = "polynomial"`` (default 1).
        A sum of damped, partly oscillating exponentials (the memory of a stable linear RNN) is only approximately a
        straight line on a short window, while an exact power law is fitted to rounding; ``margin`` separates the
        two (e.g. 10 in the theory check ``fig3-teacher``).
    tie : float > 1
        The near-tie band of the ``ambiguous`` flag (default 2: the two fits' RSS within a factor 2 of the decision
        boundary, i.e. their rms log-residuals within a factor √2).

    Returns
    -------
    DecayFit
    """
    t = as_array(t, "t", ndim=1)
    M = as_array(M, "M", ndim=1, finite=False)
    if M.shape != t.shape:
        raise ValueError(f"t and M must have the same shape, got {t.shape} and {M.shape}")
    tail = check_real(tail, "tail", minimum=0.0, maximum=1.0, strict_minimum=True)
    if window is not None:
        window = check_pair(window, "window")
        if not window[0] < window[1]:
            raise ValueError(f"window must be (t_lo, t_hi) with t_lo < t_hi, got {window!r}")
    floor = check_real(floor, "floor", minimum=0.0)
    scale = check_positive(scale, "scale")
    min_points = check_int(min_points, "min_points", minimum=3)
    margin = check_real(margin, "margin", minimum=1.0)
    tie = check_real(tie, "tie", minimum=1.0)
    if not np.isfinite(scale * t.max()):
        raise ValueError(f"scale={scale:g} times the largest t ({t.max():g}) overflows; use a smaller scale")
    if (t < 0).any():
        raise ValueError("t must be >= 0 (times of a memory function)")
    ok = np.isfinite(M) & (M > 0)
    if ok.any():
        ok &= M >= floor * M[ok].max()
    tk, Mk = t[ok], M[ok]
    if tk.size:
        if window is None:
            lo = tk[-1] - tail * (tk[-1] - tk[0])
            hi = tk[-1]
        else:
            lo, hi = window
        sel = (tk >= lo) & (tk <= hi)
        tk, Mk = tk[sel], Mk[sel]
    else:
        lo = hi = float("nan")
    if tk.size < min_points:
        raise ValueError(f"fit_decay needs at least {min_points} positive finite values of M above the floor "
                         f"({floor:g} × max M) in the window [{lo:g}, {hi:g}]; got {tk.size} "
                         "(M may have decayed to zero/underflowed: use a shorter horizon, floor=0 or an "
                         "explicit window)")
    yv = np.log(Mk)
    a_e, s_e, rss_e, r2_e = _lsq_line(tk, yv)
    a_p, s_p, rss_p, r2_p = _lsq_line(np.log1p(scale * tk), yv)
    kind = "exponential" if rss_e <= margin * rss_p else "polynomial"
    # near-tie: q = RSS_exp / (margin RSS_pol) within (1/tie, tie), written without dividing (either RSS may be 0)
    bound = margin * rss_p
    ambiguous = bool(rss_e * tie > bound and rss_e < bound * tie) if tie > 1 else False
    return DecayFit(kind=kind, rate=-s_e, exponent=-s_p, log_amplitude_exponential=a_e,
                    log_amplitude_polynomial=a_p, r2_exponential=r2_e, r2_polynomial=r2_p,
                    rss_exponential=rss_e, rss_polynomial=rss_p, window=(float(lo), float(hi)),
                    n_points=int(tk.size), scale=scale, ambiguous=ambiguous, tie=tie)
