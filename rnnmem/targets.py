"""Target sequence maps with known memory: linear functionals, teacher RNNs, composite nonlinear functionals.

Linear functionals (docs/math.md §2, [P1 eq. 3]): H_t(x) = ∫_0^∞ ρ(s)ᵀ x_{t−s} ds with ρ(t) = r(t) w — a scalar
kernel r times a fixed direction w ∈ ℝ^d (w = [1] for scalar inputs). On a grid t_k = kΔt the output is the
Riemann sum

    y_k = Δt Σ_{j=0}^{k} ρ(jΔt)ᵀ x_{k−j}                                    (docs/math.md §2)

(with Δt = 1 this is the Curse-of-memory repo's generator), computed by zero-padded FFT convolution in
O(T log T). Every linear family knows its exact kernel ``rho(t)`` and its exact memory ``memory(t)`` =
|ρ(t)|₁ = |r(t)| · |w|₁ ([P1 eq. 4]); on the grid the memory estimators of :mod:`rnnmem.memory` return exactly
these values.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from rnnmem._validate import (
    MISSING,
    NonFiniteError,
    as_array,
    as_rng,
    as_sequence_input,
    check_bool,
    check_callable,
    check_choice,
    check_dt,
    check_finite_result,
    check_int,
    check_no_kwargs,
    check_positive,
    check_real,
    check_size,
    renamed_kwarg,
)

__all__ = [
    "LinearFunctional",
    "Teacher",
    "Composite",
    "exponential",
    "polynomial",
    "shift",
    "sum_of_exponentials",
    "airy",
    "teacher",
    "composite",
    "sample_inputs",
    "fft_convolve",
    "INPUT_KINDS",
]

INPUT_KINDS = ("gaussian", "uniform", "gp")


def _check_real(value, name) -> float:
    return check_real(value, name)


def fft_convolve(kernel, s) -> np.ndarray:
    """Causal convolution y_k = Σ_{j=0}^{k} kernel_j s_{k−j} along the last axis, by zero-padded real FFT.

    Parameters
    ----------
    kernel : array_like (L,)
        Finite real values; only the lags j < T matter (a longer kernel is cut to T, a shorter one is zero beyond
        its end).
    s : array_like (..., T)
        Finite real values, time on the last axis.

    Returns
    -------
    ndarray (..., T)
        Padding to a length ≥ 2T − 1 makes the circular convolution equal the linear one on k = 0..T−1. The error
        is norm-wise (≈ ε log₂T · Σ_j|kernel_j| · max|s|). Raises :class:`~rnnmem.NonFiniteError` if the sum
        overflows.
    """
    kernel = as_array(kernel, "kernel", ndim=1)
    s = as_array(s, "s", copy=False)
    if s.ndim == 0:
        raise ValueError("s must have at least one axis (..., T), time last; got a scalar")
    T = s.shape[-1]
    kernel = kernel[:T]
    nfft = 1 << int(np.ceil(np.log2(max(2 * T - 1, 1))))
    check_size("fft_convolve", s.size // T, nfft, itemsize=16)
    with np.errstate(over="ignore", invalid="ignore"):
        kf = np.fft.rfft(kernel, nfft)
        sf = np.fft.rfft(s, nfft, axis=-1)
        y = np.fft.irfft(sf * kf, nfft, axis=-1)[..., :T]
    return check_finite_result(np.ascontiguousarray(y), "the convolution of kernel and s", time_axis=y.ndim - 1,
                               hint="the sum overflows (kernel or s too large)")


#: a grid kernel that grows by more than this factor beyond its first sixteenth is convolved directly: the FFT's
#: norm-wise error ε·log₂T·Σ|L_j|·max|x| would swamp the early outputs (they would lose log10 of the factor in digits)
DIRECT_GROWTH = 1e6


def _grows(L: np.ndarray) -> bool:
    a = np.abs(L)
    head = a[: max(1, a.shape[0] // 16)].max()
    return bool(a.max() > DIRECT_GROWTH * head)


def _direct_convolve(L: np.ndarray, s: np.ndarray) -> np.ndarray:
    """y_k = Σ_{j≤k} L_j s_{k−j} by direct summation (O(B T²); each output rounded relative to its own terms)."""
    T = s.shape[-1]
    with np.errstate(over="ignore", invalid="ignore"):
        y = np.stack([np.convolve(L, row)[:T] for row in s.reshape(-1, T)]).reshape(s.shape)
    return check_finite_result(y, "the convolution of kernel and s", time_axis=y.ndim - 1,
                               hint="the sum overflows (kernel or s too large)")


# The kernels r(t, dt) of the families: module-level functions bound with functools.partial, so that every target
# pickles (process pools, Dask, sweep stores).
def _exponential_kernel(c, lam, t, dt):
    return c * np.exp(-lam * t)


def _polynomial_kernel(c, p, al, t, dt):
    return c * np.exp(-p * np.log1p(al * t))


def _shift_kernel(tau, t, dt):
    return np.where(np.abs(t / dt - tau) < 1e-9, 1.0 / dt, 0.0)


def _sum_of_exponentials_kernel(c, lam, t, dt):
    return np.exp(-np.multiply.outer(t, lam)) @ c


def _airy_kernel(c, t0, al, t, dt):
    import scipy.special

    return c * scipy.special.airy(al * (t - t0))[0]


def _tanh_derivative(u):
    return 1.0 - np.tanh(u) ** 2


class LinearFunctional:
    """A linear functional H_t(x) = ∫ ρ(s)ᵀ x_{t−s} ds with ρ(t) = r(t) w (module docstring).

    Construct with the factory functions (:func:`exponential`, :func:`polynomial`, :func:`shift`,
    :func:`sum_of_exponentials`, :func:`airy`).

    Attributes
    ----------
    name : str
    params : dict
        The family's parameters.
    direction : ndarray (d,)
        w; ``[1.0]`` for scalar input.
    inputs, outputs : int
        d and p = 1.
    continuous : bool
        False for the shift (a point mass, defined on the grid only).
    """

    def __init__(self, name: str, kernel: Callable[[np.ndarray, float], np.ndarray], params: dict[str, Any],
                 direction=None, *, continuous: bool = True):
        if not isinstance(name, str):
            raise TypeError(f"name must be a string, got {type(name).__name__}")
        check_callable(kernel, "kernel", "a callable kernel(t, dt) -> array of t's shape")
        if not isinstance(params, dict):
            raise TypeError(f"params must be a dict of the family's parameters, got {type(params).__name__}")
        continuous = check_bool(continuous, "continuous")
        self.name = name
        self._kernel = kernel
        self.params = dict(params)
        if direction is None:
            w = np.ones(1)
            self._scalar = True
        else:
            w = as_array(direction, "direction", ndim=1)
            if not np.abs(w).max() > 0:
                raise ValueError("direction must be a nonzero vector")
            self._scalar = False
        w.flags.writeable = False
        self.direction = w
        self.continuous = continuous

    inputs = property(lambda self: self.direction.shape[0], doc="Input dimension d.")
    outputs = property(lambda self: 1, doc="Output dimension p = 1.")

    def __setstate__(self, state: dict) -> None:
        # pickle restores arrays writeable: freeze the direction again
        self.__dict__.update(state)
        self.direction.flags.writeable = False

    def __repr__(self) -> str:
        ps = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        extra = "" if self._scalar else f", d={self.inputs}"
        return f"{self.name}({ps}{extra})"

    def kernel(self, t, dt: float = 1.0) -> np.ndarray:
        """The scalar kernel r(t) at times t >= 0 (same shape as t); ``dt`` matters only for the grid-only shift.

        Raises :class:`~rnnmem.NonFiniteError` where r(t) overflows (a growing kernel, e.g. ``rate < 0`` or
        ``base > 1``, at a large t), naming the first such index of t.
        """
        t = as_array(t, "t", ndim=None, allow_empty=True)
        if (t < 0).any():
            raise ValueError(f"t must be >= 0 (the kernel ρ(t) of a causal functional is defined for t ≥ 0); got "
                             f"min {float(t.min())!r}")
        dt = check_dt(dt, "dt")
        with np.errstate(over="ignore", invalid="ignore"):
            r = np.asarray(self._kernel(t, dt), dtype=np.float64)
        return check_finite_result(r, f"the kernel r(t) of {self!r}",
                                   hint="it overflows at these times (a growing kernel); use shorter times t "
                                        "(for outputs: shorter sequences)")

    def rho(self, t, dt: float = 1.0) -> np.ndarray:
        """Exact ρ(t) = r(t) w: shape ``t.shape`` for scalar input (no direction given), else
        ``t.shape + (d,)``."""
        r = self.kernel(t, dt)
        return r if self._scalar else r[..., None] * self.direction

    def memory(self, t, dt: float = 1.0) -> np.ndarray:
        """Exact memory |ρ(t)|₁ = |r(t)| · |w|₁ ([P1 eq. 4]), shape ``t.shape``."""
        return np.abs(self.kernel(t, dt)) * float(np.abs(self.direction).sum())

    def markov(self, n: int, dt: float = 1.0) -> np.ndarray:
        """Grid impulse response L_j = Δt ρ(jΔt)ᵀ, shape (n, 1, d), so that y_k = Σ_j L_j x_{k−j}
        (same index convention as ``RNN.markov``)."""
        n = check_int(n, "n", minimum=1)
        dt = check_dt(dt, "dt")
        check_size(f"markov(n={n})", n, self.inputs)
        if not np.isfinite(dt * (n - 1)):
            raise ValueError(f"dt={dt} with n={n} gives times j·dt beyond the float range")
        r = self.kernel(dt * np.arange(n), dt)
        return (dt * r)[:, None, None] * self.direction[None, None, :]

    def __call__(self, x, dt: float = 1.0) -> np.ndarray:
        """Outputs y_k = Δt Σ_{j≤k} ρ(jΔt)ᵀ x_{k−j} (docs/math.md §2) by zero-padded FFT convolution.

        The FFT's error is norm-wise (≈ ε log₂T · Σ_j|L_j| · max|x| at every step); a kernel that grows by more than
        ``DIRECT_GROWTH`` over the horizon (a negative rate, ``base > 1``) is summed directly instead, in O(B T²),
        so that the early outputs keep their accuracy. A kernel or output that overflows raises
        :class:`~rnnmem.NonFiniteError` naming the first bad step.

        Parameters
        ----------
        x : array (B, T, d) or (T, d)
        dt : float
            Grid step Δt.

        Returns
        -------
        ndarray (B, T, 1) or (T, 1)
        """
        dt = check_dt(dt, "dt")
        X, squeeze = as_sequence_input(x, self.inputs)
        T = X.shape[1]
        if not np.isfinite(dt * (T - 1)):
            raise ValueError(f"dt={dt} with T={T} steps gives times k·dt beyond the float range")
        with np.errstate(over="ignore"):
            s = X @ self.direction  # (B, T)
            L = dt * self.kernel(dt * np.arange(T), dt)
        check_finite_result(s, "the projected input wᵀx", time_axis=1, hint="x is too large")
        check_finite_result(L, "the grid kernel Δt·r(kΔt)", time_axis=0, hint=f"dt={dt:g} is too large")
        try:
            y = (_direct_convolve(L, s) if _grows(L) else fft_convolve(L, s))[..., None]
        except NonFiniteError as exc:
            raise NonFiniteError(f"the outputs overflow (first at time step {exc.step}): x, or the kernel of {self!r}, "
                                 "is too large", step=exc.step) from None
        return y[0] if squeeze else y


class _Shift(LinearFunctional):
    """The delay y_k = wᵀ x_{k−τ}, computed by an exact index shift."""

    def __call__(self, x, dt: float = 1.0) -> np.ndarray:
        check_dt(dt, "dt")
        X, squeeze = as_sequence_input(x, self.inputs)
        tau = self.params["delay"]
        with np.errstate(over="ignore"):
            s = X @ self.direction
        check_finite_result(s, "the projected input wᵀx", time_axis=1, hint="x is too large")
        y = np.zeros_like(s)
        if tau < s.shape[1]:
            y[:, tau:] = s[:, : s.shape[1] - tau]
        y = y[..., None]
        return y[0] if squeeze else y


def exponential(rate: float = 1.0, *, base: float | None = None, coef: float = 1.0,
                direction=None) -> LinearFunctional:
    """Exponential memory ρ(t) = c e^{−λt} (or c a^t = c e^{t ln a} with ``base=a``) (docs/math.md §2).

    Parameters
    ----------
    rate : float
        λ (ignored when ``base`` is given).
    base : float > 0, optional
        a; ρ(t) = c a^t, i.e. λ = −ln a ([P1 Fig. 1] uses a = 0.9).
    coef : float
        c.
    direction : array (d,), optional
        w for vector inputs; ρ(t) = r(t) w.

    Examples
    --------
    >>> import numpy as np, rnnmem as rm
    >>> f = rm.targets.exponential(base=0.9)
    >>> bool(np.isclose(f.memory(2.0), 0.81))
    True
    """
    c = _check_real(coef, "coef")
    if base is not None:
        a = check_positive(base, "base")
        lam = -np.log(a)
        params = {"base": a, "coef": c}
    else:
        lam = _check_real(rate, "rate")
        params = {"rate": lam, "coef": c}
    return LinearFunctional("exponential", partial(_exponential_kernel, c, lam), params, direction)


def polynomial(p: float, scale: float = 1.0, *, coef: float = 1.0, direction=None) -> LinearFunctional:
    """Polynomial memory ρ(t) = c (1 + αt)^{−p} (docs/math.md §2; [P1 Fig. 1]: α = 1, p = 1.1; repo α = 0.1).

    Parameters
    ----------
    p : float > 0
        Decay exponent.
    scale : float > 0
        α.
    coef : float
        c.
    direction : array (d,), optional
    """
    p = check_positive(p, "p")
    al = check_positive(scale, "scale")
    c = _check_real(coef, "coef")
    return LinearFunctional("polynomial", partial(_polynomial_kernel, c, p, al), {"p": p, "scale": al, "coef": c},
                            direction)


def shift(delay: int, *, direction=None) -> LinearFunctional:
    """Discrete delay y_k = wᵀ x_{k−τ} (docs/math.md §2; a point mass, not integrable in continuous time).

    In the Riemann convention y_k = Δt Σ_j ρ(jΔt)ᵀ x_{k−j} this is ρ(jΔt) = δ_{jτ} w / Δt, so
    ``rho``/``memory`` depend on ``dt``: |ρ(τΔt)|₁ = |w|₁/Δt and 0 at every other grid time. Outputs are
    computed by an exact index shift (no FFT rounding).

    Parameters
    ----------
    delay : int >= 0
        τ in steps.
    direction : array (d,), optional
    """
    tau = check_int(delay, "delay", minimum=0)
    return _Shift("shift", partial(_shift_kernel, tau), {"delay": tau}, direction, continuous=False)


def sum_of_exponentials(coefs, rates, *, direction=None) -> LinearFunctional:
    """ρ(t) = Σ_i c_i e^{−λ_i t} (docs/math.md §2). Memory |Σ_i c_i e^{−λ_i t}| (exact, including sign changes).

    Parameters
    ----------
    coefs, rates : array_like (k,)
        c_i and λ_i.
    direction : array (d,), optional
    """
    c = as_array(coefs, "coefs", ndim=1)
    lam = as_array(rates, "rates", ndim=1)
    if lam.shape != c.shape:
        raise ValueError(f"coefs and rates must have the same length (one rate per coefficient), got coefs of "
                         f"shape {c.shape} and rates of shape {lam.shape}")
    params = {"coefs": c.tolist(), "rates": lam.tolist()}
    return LinearFunctional("sum_of_exponentials", partial(_sum_of_exponentials_kernel, c, lam), params, direction)


def airy(shift: float = 6.0, scale: float = 1.0, *, coef: float = 1.0, direction=None) -> LinearFunctional:
    """Airy-type oscillating kernel ρ(t) = c Ai(α(t − t₀)) (the Curse-of-memory repo's "airy": α = 1, t₀ = 6).

    Ai oscillates for t < t₀ (amplitude ~ |α(t−t₀)|^{−1/4}) and decays like exp(−(2/3)(α(t−t₀))^{3/2}) after —
    faster than any exponential. Memory |c Ai(α(t − t₀))| (exact; zero crossings included).

    Parameters
    ----------
    shift : float
        t₀.
    scale : float > 0
        α.
    coef : float
    direction : array (d,), optional
    """
    t0 = _check_real(shift, "shift")
    al = check_positive(scale, "scale")
    c = _check_real(coef, "coef")
    return LinearFunctional("airy", partial(_airy_kernel, c, t0, al), {"shift": t0, "scale": al, "coef": c},
                            direction)


# ----------------------------------------------------------------------------------------------- nonlinear
class Teacher:
    """A teacher RNN as a target (docs/math.md §7 Fig. 3): y = rnn(x) on the rnn's own grid.

    Attributes
    ----------
    rnn : rnnmem.RNN
    inputs, outputs, dt : as the rnn's.
    """

    def __init__(self, rnn):
        from rnnmem.rnn import RNN

        if not isinstance(rnn, RNN):
            raise TypeError(f"teacher needs an rnnmem.RNN, got {type(rnn).__name__}")
        self.rnn = rnn

    inputs = property(lambda self: self.rnn.inputs)
    outputs = property(lambda self: self.rnn.outputs)
    dt = property(lambda self: self.rnn.dt)

    def __repr__(self) -> str:
        return f"Teacher({self.rnn!r})"

    def __call__(self, x, dt: float | None = None) -> np.ndarray:
        """The teacher's outputs; ``dt`` must be None or equal to ``rnn.dt`` (the grid is part of the
        model)."""
        if dt is not None and check_dt(dt, "dt") != self.rnn.dt:
            raise ValueError(f"dt={dt} differs from the teacher's dt={self.rnn.dt}")
        return self.rnn(x)

    def memory(self, T: int, **kwargs):
        """Exact memory on the teacher's grid, :func:`rnnmem.memory.exact_memory` (closed form when
        linear)."""
        from rnnmem.memory import exact_memory

        return exact_memory(self.rnn, T, **kwargs)


def teacher(rnn) -> Teacher:
    """Wrap an :class:`rnnmem.RNN` as a target (any cell/activation)."""
    return Teacher(rnn)


_OUTER = {
    "tanh": (np.tanh, _tanh_derivative),
    "sin": (np.sin, np.cos),
}


class Composite:
    """A pointwise nonlinearity after a linear functional: y_k = g(H_k(x)), g ∈ {tanh, sin}.

    Memory (docs/math.md §3). d/dt g(H_t(u^x)) = g'(H_t(u^x)) ρ(t)ᵀx and |g'| ≤ g'(0) = 1, so for every x

        |d/dt g(H_t(u^x))| / |x|_∞ ≤ |ρ(t)|₁,

    and the bound is the sup: along x = ε sign(ρ(t)), ε → 0, H_t(u^x) → 0 and g' → 1. Hence M(t) = |ρ(t)|₁
    exactly (``memory``), attained only in the small-amplitude limit. On the grid, g is 1-Lipschitz, so the
    finite difference obeys |g(y_k) − g(y_{k−1})| ≤ |y_k − y_{k−1}| = Δt |ρ(t_k)ᵀx| — the estimator never
    exceeds the exact memory, and approaches it as |x| → 0 (relative gap O(|x|²) for tanh).
    """

    def __init__(self, linear: LinearFunctional, outer: str = "tanh"):
        if not isinstance(linear, LinearFunctional):
            raise TypeError(f"linear must be a LinearFunctional (from rnnmem.targets), "
                            f"got {type(linear).__name__}")
        self.outer = check_choice(outer, "outer", tuple(_OUTER))
        self.linear = linear

    inputs = property(lambda self: self.linear.inputs)
    outputs = property(lambda self: 1)

    def __repr__(self) -> str:
        return f"Composite({self.outer}, {self.linear!r})"

    def __call__(self, x, dt: float = 1.0) -> np.ndarray:
        """y = g(H(x)) on the grid (H by FFT convolution)."""
        return _OUTER[self.outer][0](self.linear(x, dt))

    def memory(self, t, dt: float = 1.0) -> np.ndarray:
        """Exact memory sup_x |d/dt g(H_t(u^x))|/|x|_∞ = |ρ(t)|₁ (class docstring)."""
        return self.linear.memory(t, dt)


def composite(linear: LinearFunctional, outer: str = "tanh") -> Composite:
    """y = g(H(x)) with g = tanh or sin applied pointwise to a linear functional; memory |ρ(t)|₁ (see
    :class:`Composite`)."""
    return Composite(linear, outer)


# ----------------------------------------------------------------------------------------------- inputs
def sample_inputs(batch: int = MISSING, T: int = MISSING, d: int = 1, kind: str = "gaussian", rng=None, *,
                  scale: float = 1.0, **deprecated) -> np.ndarray:
    """Random input sequences (docs/math.md §2), shape (batch, T, d).

    * ``gaussian``: x_k = s ξ_k, ξ_k i.i.d. N(0, I).
    * ``uniform``: x_k = s u_k, u_k i.i.d. uniform on [−1, 1]^d.
    * ``gp``: x_k = s Σ_{j≤k} ξ_j — a Gaussian process (random walk / sampled Brownian motion), the
      Curse-of-memory repo's "Gaussian_input" (cumulative sum).

    The repo scales its Gaussian inputs by Δt: pass ``scale=dt`` to reproduce it.

    Parameters
    ----------
    batch, T, d : int
        Number of sequences, their length and the input features (each >= 1). ``n=`` is a deprecated alias of
        ``batch`` (removed in rnnmem 0.3); positional calls ``sample_inputs(64, 100)`` are unchanged.
    kind : {"gaussian", "uniform", "gp"}
    rng : None, int or numpy.random.Generator
        Same seed, same bits.
    scale : float > 0
        s. Raises :class:`~rnnmem.NonFiniteError` when s·x overflows.
    """
    batch = renamed_kwarg(deprecated, "n", "batch", batch)
    check_no_kwargs(deprecated, "sample_inputs")
    if batch is MISSING or T is MISSING:
        raise TypeError(f"sample_inputs() missing required argument {'batch' if batch is MISSING else 'T'}: "
                        "call sample_inputs(batch, T, d=1, ...)")
    n = check_int(batch, "batch", minimum=1)
    T = check_int(T, "T", minimum=1)
    d = check_int(d, "d", minimum=1)
    check_choice(kind, "kind", INPUT_KINDS)
    s = check_positive(scale, "scale")
    check_size(f"sample_inputs(batch={n}, T={T}, d={d})", n, T, d)
    gen = as_rng(rng)
    with np.errstate(over="ignore", invalid="ignore"):
        if kind == "uniform":
            x = s * gen.uniform(-1.0, 1.0, size=(n, T, d))
        else:
            x = gen.standard_normal((n, T, d))
            if kind == "gp":
                x = np.cumsum(x, axis=1)
            x = s * x
    return check_finite_result(x, "the sampled inputs", time_axis=1, hint=f"scale={s:g} is too large")
