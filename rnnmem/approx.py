"""Least-squares approximation of linear functionals by linear RNNs over exponential bases ([P1] §7 Fig. 1).

A linear functional H_t(x) = ∫_0^∞ ρ(s) x_{t−s} ds (docs/math.md §2, [P1] eq. 3) is approximated by a linear RNN of
width m, whose memory kernel is a sum of m exponentials: a diagonal continuous-time model
dh/dt = W h + U x, ŷ = C h with W = −diag(λ) has kernel ρ̂(t) = C e^{Wt} U = Σ_i c_i e^{−λ_i t}, c_i = C_i U_i.
So no gradient descent is needed: fit the rates λ_i > 0 and weights c_i to ρ by least squares and read off the
RNN.

:func:`exponential_fit` fits rates and weights jointly by *variable projection* (Golub–Pereyra; the weights are
the linear least-squares solution for given rates, an outer Gauss–Newton/trust-region optimiser with Kaufman's
Jacobian works on the log-rates), on a long, geometrically spaced horizon, then prunes modes of ~0 weight and
merges coincident rates (they would otherwise sit at arbitrary slow rates, and a perturbation of W makes them
unstable — docs/math.md §7). :func:`fixed_basis_fit` is the plain (optionally truncated-SVD) least-squares fit over
given rates — the fixed-width fit: exactly m modes, none pruned — and :func:`uniform_rates` the basis whose discrete
eigenvalues e^{−λ_kΔt} = k/(m+1) fill the unit interval uniformly.
:meth:`ExponentialFit.to_rnn` / :func:`linear_rnn` return the :class:`rnnmem.RNN`.

Discretisation convention of the returned RNN (documented in :meth:`ExponentialFit.to_rnn`): the default
``cell="euler"`` RNN with step Δt has W = diag(w_i), w_i = (e^{−λ_i Δt} − 1)/Δt (exact discretisation of each
mode: (1 + Δt w_i)^j = e^{−λ_i jΔt}), so its Markov parameters are L_j = Δt ρ̂(jΔt) exactly and ``rnn(x)`` equals
the Riemann form y_k = Δt Σ_j ρ̂(jΔt) x_{k−j} of docs/math.md §2 — the same discretisation ``rnnmem.targets`` uses
for ρ. As Δt → 0, w_i → −λ_i (the continuous-time W).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnmem._validate import (
    as_array,
    check_bool,
    check_choice,
    check_finite_result,
    check_int,
    check_positive,
    check_real,
    check_size,
)
from rnnmem.rnn import RNN

__all__ = ["ExponentialFit", "exponential_fit", "fixed_basis_fit", "uniform_rates", "linear_rnn", "fit_grid"]

#: the largest width accepted (the fits are dense least squares over m exponentials; far beyond any useful width)
MAX_WIDTH = 10_000


@dataclass(frozen=True)
class ExponentialFit:
    """A sum of exponentials ρ̂(t) = Σ_i c_i e^{−λ_i t} fitted to a memory kernel ρ.

    Attributes
    ----------
    rates : ndarray (k,)
        Decay rates λ_i > 0, increasing (k ≤ the requested width after pruning).
    weights : ndarray (k,)
        Weights c_i.
    t : ndarray
        The fit grid.
    residual : float
        Root-mean-square residual on the fit grid, sqrt(mean_k w_k (ρ(t_k) − ρ̂(t_k))²).
    width : int
        The requested width m.
    info : dict
        Optimiser diagnostics (``nfev``, ``pruned``, ``merged``, ``start``).
    """

    rates: np.ndarray
    weights: np.ndarray
    t: np.ndarray
    residual: float
    width: int
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        rates = as_array(self.rates, "rates", ndim=1)
        if np.any(rates <= 0):
            raise ValueError(f"rates must be > 0, got minimum {rates.min()}")
        weights = as_array(self.weights, "weights", ndim=1)
        if weights.shape != rates.shape:
            raise ValueError(f"weights has {weights.size} entries but rates has {rates.size}: one weight per rate")
        t = as_array(self.t, "t", ndim=1, allow_empty=True)
        residual = check_real(self.residual, "residual", minimum=0.0)
        width = check_int(self.width, "width", minimum=1)
        if not isinstance(self.info, dict):
            raise TypeError(f"info must be a dict, got {type(self.info).__name__}")
        for name, v in (("rates", rates), ("weights", weights), ("t", t), ("residual", residual), ("width", width)):
            if isinstance(v, np.ndarray):
                v.flags.writeable = False
            object.__setattr__(self, name, v)

    def __reduce__(self):  # rebuild through __init__, so the arrays come back read-only
        return (type(self), (self.rates, self.weights, self.t, self.residual, self.width, dict(self.info)))

    def __call__(self, t) -> np.ndarray:
        """ρ̂(t) = Σ_i c_i e^{−λ_i t} at the times ``t`` (real numbers, any shape; a float for a scalar ``t``).

        Raises :class:`~rnnmem.NonFiniteError` when ρ̂ overflows (very negative t: the modes grow like e^{λ|t|}).
        """
        arr = as_array(t, "t", allow_empty=True)
        check_size("ExponentialFit(t): the modes (t.size, k)", arr.size, self.rates.size)
        with np.errstate(all="ignore"):
            out = np.exp(-np.multiply.outer(arr, self.rates)) @ self.weights
        out = check_finite_result(out, "ExponentialFit(t)", hint="e^{−λt} overflows float64 at very negative t")
        return float(out) if np.ndim(t) == 0 else out

    @property
    def slowest_rate(self) -> float:
        """min_i λ_i: the spectral abscissa of the continuous-time W is −min λ."""
        return float(self.rates.min())

    def to_rnn(self, *, cell: str = "euler", dt: float = 1.0, balance: bool = True) -> RNN:
        """The linear RNN of width k (= len(rates)) with memory kernel ρ̂.

        Parameters
        ----------
        cell : {"euler", "elman"}
            ``euler`` (default): W = diag(w_i), w_i = (e^{−λ_i Δt} − 1)/Δt, so that the Markov parameters are
            L_j = Δt C (I + ΔtW)^j U = Δt ρ̂(jΔt) (docs/math.md §1) and −α(W) = (1 − e^{−λ_min Δt})/Δt, the exact
            β at which W + βI loses stability. ``elman``: W = diag(e^{−λ_i Δt}), U scaled by Δt, so again
            L_j = C W^j U = Δt ρ̂(jΔt).
        dt : float
            Time step Δt.
        balance : bool
            Split each weight evenly between input and readout, U_i = √|c_i|, C_i = sign(c_i) √|c_i| (both
            blocks equally sensitive to perturbations); otherwise U = 1, C = c.

        Returns
        -------
        RNN
            ``activation="linear"``, b = 0, D = None, d = p = 1.
        """
        cell = check_choice(cell, "cell", ("euler", "elman"))
        dt = check_positive(dt, "dt")
        balance = check_bool(balance, "balance")
        lam, c = self.rates, self.weights
        if balance:
            u = np.sqrt(np.abs(c))
            out = np.sign(c) * u
        else:
            u, out = np.ones_like(c), c.copy()
        if cell == "euler":
            W = np.diag(np.expm1(-lam * dt) / dt)
        else:
            W = np.diag(np.exp(-lam * dt))
            u = u * dt
        return RNN(W, u[:, None], np.zeros(lam.size), out[None, :], cell=cell, activation="linear", dt=dt)


def _rho_values(rho: Any, t: np.ndarray) -> np.ndarray:
    fn = rho.rho if hasattr(rho, "rho") and callable(rho.rho) else rho
    if not callable(fn):
        raise TypeError(f"rho must be a callable t -> ρ(t) or have a .rho method, got {type(rho).__name__}")
    v = as_array(fn(t), "rho(t)", finite=False, allow_empty=True)
    if v.ndim == 2 and v.shape[1] == 1:
        v = v[:, 0]
    if v.shape != t.shape:
        raise ValueError(f"rho(t) must return one value per time (scalar memory, d = 1); got shape {v.shape} "
                         f"for t of shape {t.shape}")
    if not np.isfinite(v).all():
        raise ValueError("rho(t) returned NaN or inf on the fit grid")
    return v


def fit_grid(window: float = 100.0, horizon: float = 1e4, n_tail: int = 300, dt: float = 1.0) -> np.ndarray:
    """The default fit grid: t = 0, Δt, …, window (every step of the evaluation window) followed by ``n_tail``
    geometrically spaced times up to ``horizon`` (the long tail that decides the slow rates)."""
    window = check_positive(window, "window")
    horizon = check_positive(horizon, "horizon")
    dt = check_positive(dt, "dt")
    n_tail = check_int(n_tail, "n_tail", minimum=0, maximum=2**40)
    n_head = window / dt + 1
    if not n_head <= 2**40:
        raise ValueError(f"window/dt = {window / dt:.3g} grid points: too many; use a larger dt or a shorter window")
    check_size("fit_grid", int(n_head) + n_tail + 1)
    head = np.arange(0.0, window + 0.5 * dt, dt)
    tail = np.geomspace(window, horizon, n_tail + 1)[1:] if horizon > window and n_tail > 0 else np.empty(0)
    return np.concatenate([head, tail])


def _basis(t, lam):
    return np.exp(-np.multiply.outer(t, lam))


def _solve(Phi, y):
    c, *_ = np.linalg.lstsq(Phi, y, rcond=None)
    return c


def _grid(t, weights, rho) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validated fit grid t (times >= 0), ρ(t) and point weights (>= 0, not all zero)."""
    t = fit_grid() if t is None else as_array(t, "t", ndim=1)
    if np.any(t < 0):
        raise ValueError(f"t must hold fit times >= 0 (the memory kernel ρ(t) lives on t >= 0), got minimum {t.min()}")
    y = _rho_values(rho, t)
    w = np.ones_like(t) if weights is None else as_array(weights, "weights", shape=(t.size,))
    if np.any(w < 0):
        raise ValueError(f"weights must be >= 0, got minimum {w.min()}")
    if not np.any(w > 0):
        raise ValueError("weights are all zero: nothing to fit (give at least one positive point weight)")
    return t, y, w


def uniform_rates(m: int, *, dt: float = 1.0) -> np.ndarray:
    """The fixed width-m basis with uniformly spaced discrete eigenvalues: λ_k = −ln(k/(m+1)) / Δt, k = 1..m.

    On the grid t = jΔt the modes are e^{−λ_k jΔt} = (k/(m+1))^j, i.e. a diagonal recurrence whose eigenvalues
    k/(m+1) fill (0, 1) uniformly; the slowest rate −ln(m/(m+1))/Δt ≈ 1/((m+1)Δt) falls with m. Returned in
    increasing order (fastest mode last is ``k = 1``).

    Examples
    --------
    >>> from rnnmem import approx
    >>> (approx.uniform_rates(2) - [0.405465, 1.098612]).round(6).tolist()
    [0.0, 0.0]
    """
    m = check_int(m, "m", minimum=1, maximum=MAX_WIDTH)
    dt = check_positive(dt, "dt")
    out = np.sort(-np.log(np.arange(1, m + 1) / (m + 1.0)) / dt)
    return check_finite_result(out, f"uniform_rates(m, dt={dt!r})", hint="dt too small: the rates overflow float64")


def fixed_basis_fit(rho, rates, *, t=None, weights=None, rcond: float | None = None) -> ExponentialFit:
    """Linear least squares over a fixed exponential basis: c = argmin Σ_k w_k (ρ(t_k) − Σ_i c_i e^{−λ_i t_k})².

    The fixed-width fit of [P1] Fig. 1 ("least squares over exponential bases"): the m rates are given, only the
    weights are fitted, and no mode is pruned, so the model has exactly m distinct modes.

    Parameters
    ----------
    rho : callable t -> ρ(t), or an object with ``.rho(t)`` (e.g. an ``rnnmem.targets`` functional)
    rates : array (m,)
        Fixed rates λ_i > 0, pairwise distinct (e.g. :func:`uniform_rates`).
    t : array, optional
        Fit grid (default :func:`fit_grid`).
    weights : array, optional
        Point weights w_k ≥ 0 (default 1).
    rcond : float, optional
        Truncated-SVD regularisation: singular values of the (weighted) basis matrix below ``rcond`` × the largest
        are treated as zero (``numpy.linalg.lstsq``'s rule), which bounds the weights of an ill-conditioned basis
        (exponential bases are: the condition number grows geometrically with m). Default: machine precision
        × max(grid size, m), i.e. the plain least-squares solution.

    Examples
    --------
    >>> import numpy as np
    >>> from rnnmem import approx
    >>> fit = approx.fixed_basis_fit(lambda t: 0.9 ** t, approx.uniform_rates(2), t=np.arange(1.0, 101.0))
    >>> fit.rates.size, round(float(fit.info["rank"]), 1)
    (2, 2.0)
    """
    lam = as_array(rates, "rates", ndim=1)
    if np.any(lam <= 0):
        raise ValueError(f"rates must be > 0, got minimum {lam.min()}")
    if np.unique(lam).size != lam.size:
        raise ValueError("rates must be pairwise distinct (a repeated rate makes the basis rank deficient)")
    if lam.size > MAX_WIDTH:
        raise ValueError(f"rates has {lam.size} entries; at most {MAX_WIDTH} are supported")
    if rcond is not None:
        rcond = check_real(rcond, "rcond", minimum=0.0, maximum=1.0, strict_minimum=True, strict_maximum=True)
    t, y, w = _grid(t, weights, rho)
    check_size("fixed_basis_fit: the basis matrix (grid size, m)", t.size, lam.size)
    sw = np.sqrt(w)
    c, _, rank, _ = np.linalg.lstsq(_basis(t, lam) * sw[:, None], y * sw, rcond=rcond)
    order = np.argsort(lam)
    res = float(np.sqrt(np.mean(w * (y - _basis(t, lam) @ c) ** 2)))
    return ExponentialFit(lam[order], c[order], t, res, lam.size,
                          {"method": "fixed", "rank": int(rank), "rcond": rcond})


def _pencil_rates(rho_fn, t: np.ndarray, m: int) -> np.ndarray | None:
    """Initial rates by the matrix-pencil method on uniform samples of ρ over the head of the grid (exact for a
    sum of ≤ m real exponentials); None when it yields no usable (real, decaying) rate."""
    tmax = t.max() if t.size else 0.0
    head = min(tmax, 100.0) if tmax > 0 else 0.0
    if head <= 0:
        return None
    N = 201
    tu = np.linspace(0.0, head, N)
    yu = _rho_values(rho_fn, tu)
    L = N // 2
    Y = np.lib.stride_tricks.sliding_window_view(yu, L + 1)  # (N - L, L + 1) Hankel matrix
    _, sv, Vh = np.linalg.svd(Y, full_matrices=False)
    k = int(min(m, np.sum(sv > sv[0] * 1e-12))) if sv[0] > 0 else 0
    if k == 0:
        return None
    V = Vh[:k].T
    z = np.linalg.eigvals(np.linalg.pinv(V[:-1]) @ V[1:])
    z = np.abs(z[np.isfinite(z)])
    z = z[(z > 0) & (z < 1)]
    if z.size == 0:
        return None
    return np.sort(-np.log(z) / (tu[1] - tu[0]))


def _vp(t, y, sw, s0, lo, hi, max_nfev):
    """Variable projection over log-rates s (λ = e^s) with Kaufman's Jacobian."""
    from scipy.optimize import least_squares

    yw = y * sw

    def parts(s):
        lam = np.exp(s)
        Phi = _basis(t, lam) * sw[:, None]
        U, sv, _ = np.linalg.svd(Phi, full_matrices=False)
        keep = sv > sv[0] * 1e-13 if sv[0] > 0 else np.zeros_like(sv, bool)
        Q = U[:, keep]
        c = _solve(Phi, yw)
        return lam, Phi, Q, c

    def fun(s):
        lam, Phi, Q, c = parts(s)
        return yw - Phi @ c

    def jac(s):
        lam, Phi, Q, c = parts(s)
        D = Phi * (lam * c)[None, :] * t[:, None]  # ∂(-Φc)/∂s_k = c_k λ_k t φ_k (weighted)
        return D - Q @ (Q.T @ D)

    sol = least_squares(fun, s0, jac=jac, bounds=(lo, hi), method="trf", x_scale=1.0, max_nfev=max_nfev,
                        xtol=1e-12, ftol=1e-14, gtol=1e-12)
    return sol.x, float(np.sum(sol.fun ** 2)), sol.nfev


def exponential_fit(
    rho,
    m: int,
    *,
    t=None,
    weights=None,
    rate_bounds: tuple[float, float] = (1e-7, 10.0),
    starts: int = 3,
    prune: float = 1e-6,
    merge: float = 1e-3,
    max_nfev: int = 400,
) -> ExponentialFit:
    """Best sum of m exponentials for a memory kernel ρ by variable projection ([P1] §7 Fig. 1, docs/math.md §7).

        min_{λ ∈ [λ_lo, λ_hi]^m, c ∈ ℝ^m}  Σ_k w_k (ρ(t_k) − Σ_i c_i e^{−λ_i t_k})²

    For fixed λ the weights are the linear least-squares solution c(λ) = Φ(λ)⁺ ρ; the reduced (projected)
    functional ‖(I − ΦΦ⁺)ρ‖² is minimised over s = log λ by a trust-region least-squares solver with Kaufman's
    Jacobian −P⊥ (∂Φ/∂s_k) c. ``starts`` initial rate sets (geometric grids over the decades the fit grid can
    resolve) and one from the matrix-pencil method on uniform samples of ρ (exact for sums of real exponentials)
    are tried and the best kept. Then modes with |c_i| ≤ prune · max_j |c_j| are dropped, rates closer
    than ``merge`` in log are merged (only when that does not increase the residual: two close rates with large
    opposite weights represent t e^{−λt}), and the weights are refitted.

    Parameters
    ----------
    rho : callable t -> ρ(t), or an object with ``.rho(t)`` (scalar memory)
    m : int
        Width (number of exponentials) before pruning.
    t : array, optional
        Fit grid (default :func:`fit_grid`: every step of t ≤ 100, then 300 geometric points up to 1e4).
    weights : array, optional
        Point weights (default 1).
    rate_bounds : (float, float)
        Bounds 0 < λ_lo < λ_hi on the rates λ.
    starts : int
        Number of initial rate sets tried.
    prune : float in [0, 1)
        Relative weight threshold for dropping a mode (|c_i| <= prune · max|c|; 1 or more would drop every mode).
    merge : float >= 0
        Log-distance below which two rates are merged.
    max_nfev : int
        Function-evaluation budget per start (an integer >= 1).

    Returns
    -------
    ExponentialFit
        ``rates``, ``weights``, ``residual``; ``.to_rnn()`` gives the RNN.

    Examples
    --------
    >>> import numpy as np
    >>> from rnnmem import approx
    >>> fit = approx.exponential_fit(lambda t: 0.9 ** t, 3)
    >>> fit.rates.round(4), fit.weights.round(6)
    (array([0.1054]), array([1.]))
    """
    m = check_int(m, "m", minimum=1, maximum=MAX_WIDTH)
    starts = check_int(starts, "starts", minimum=1, maximum=1000)
    prune = check_real(prune, "prune", minimum=0.0, maximum=1.0, strict_maximum=True)
    merge = check_real(merge, "merge", minimum=0.0)
    max_nfev = check_int(max_nfev, "max_nfev", minimum=1, maximum=10**7)
    try:
        lo_r, hi_r = rate_bounds
    except (TypeError, ValueError):
        raise TypeError(f"rate_bounds must be a pair (lo, hi) of rates, got {rate_bounds!r:.80}") from None
    lo_r, hi_r = check_positive(lo_r, "rate_bounds"), check_positive(hi_r, "rate_bounds")
    if lo_r >= hi_r:
        raise ValueError(f"rate_bounds must be increasing, got {rate_bounds}")
    t, y, w = _grid(t, weights, rho)
    check_size("exponential_fit: the basis matrix (grid size, m)", t.size, m)
    sw = np.sqrt(w)
    lo, hi = np.log(lo_r), np.log(hi_r)
    tpos = t[t > 0]
    slow = max(lo_r * 1.01, 1.0 / tpos.max()) if tpos.size else lo_r * 1.01
    fast = min(hi_r / 1.01, 1.0 / tpos.min()) if tpos.size else hi_r / 1.01
    best = None
    nfev = 0
    inits = []
    for k in range(starts):
        # geometric grids from the slowest resolvable rate 1/max(t) up to a fast end that moves down by up to a
        # quarter of the log-range over the starts
        a = np.log(slow)
        b = np.log(fast) - k * 0.25 * (np.log(fast) - np.log(slow)) / max(starts - 1, 1)
        inits.append(np.linspace(a, b, m) if m > 1 else np.array([0.5 * (a + b)]))
    pencil = _pencil_rates(rho, t, m)
    if pencil is not None:  # matrix-pencil rates, completed by a geometric grid when fewer than m
        extra = np.geomspace(slow, fast, m + 2)[1:-1]
        lam0 = np.concatenate([pencil, extra[: m - pencil.size]])
        lam0 = lam0 * (1 + 1e-3 * np.arange(m))  # separate coincident rates
        inits.append(np.log(np.sort(lam0)))
    for s0 in inits:
        s0 = np.clip(s0, lo + 1e-9, hi - 1e-9)
        s, cost, nf = _vp(t, y, sw, s0, lo, hi, max_nfev)
        nfev += nf
        if best is None or cost < best[1]:
            best = (s, cost)
    lam = np.exp(best[0])
    c = _solve(_basis(t, lam) * sw[:, None], y * sw)
    pruned = merged = 0
    while True:  # prune ~0 weights and merge coincident rates, refit, until nothing changes
        order = np.argsort(lam)
        lam, c = lam[order], c[order]
        big = np.abs(c) > prune * np.max(np.abs(c)) if np.any(c != 0) else np.ones(lam.size, bool)
        if not big.all():
            pruned += int((~big).sum())
            lam = lam[big]
            c = _solve(_basis(t, lam) * sw[:, None], y * sw)
            continue
        gaps = np.diff(np.log(lam))
        if lam.size > 1 and gaps.min() < merge:
            i = int(np.argmin(gaps))
            wi = np.abs(c[i : i + 2])
            new = np.exp(np.average(np.log(lam[i : i + 2]), weights=wi if wi.sum() > 0 else None))
            lam2 = np.concatenate([lam[:i], [new], lam[i + 2 :]])
            c2 = _solve(_basis(t, lam2) * sw[:, None], y * sw)
            before = np.sum((sw * (y - _basis(t, lam) @ c)) ** 2)
            after = np.sum((sw * (y - _basis(t, lam2) @ c2)) ** 2)
            if after <= before * (1 + 1e-6) + 1e-28 * max(np.sum((sw * y) ** 2), 1e-300):
                lam, c = lam2, c2
                merged += 1
                continue
        break
    if pruned or merged:  # polish the reduced model
        s, _, nf = _vp(t, y, sw, np.clip(np.log(lam), lo + 1e-9, hi - 1e-9), lo, hi, max_nfev)
        nfev += nf
        lam = np.exp(s)
        order = np.argsort(lam)
        lam = lam[order]
        c = _solve(_basis(t, lam) * sw[:, None], y * sw)
    res = float(np.sqrt(np.mean(w * (y - _basis(t, lam) @ c) ** 2)))
    return ExponentialFit(lam, c, t, res, m, {"nfev": nfev, "pruned": pruned, "merged": merged,
                                               "method": "variable projection"})


def linear_rnn(rho, m: int, *, cell: str = "euler", dt: float = 1.0, balance: bool = True,
               **fit_kwargs) -> RNN:
    """A linear RNN of width ≤ m approximating the linear functional with memory kernel ρ (variable projection,
    :func:`exponential_fit`, then :meth:`ExponentialFit.to_rnn`; see there for the cell/Δt convention).

    Examples
    --------
    >>> import numpy as np
    >>> from rnnmem import approx
    >>> rnn = approx.linear_rnn(lambda t: (1 + t) ** -1.1, 4)
    >>> rnn.cell, rnn.activation, rnn.hidden
    ('euler', 'linear', 4)
    """
    return exponential_fit(rho, m, **fit_kwargs).to_rnn(cell=cell, dt=dt, balance=balance)

