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
    as_array,
    as_rng,
    as_sequence_input,
    check_choice,
    check_int,
    check_positive,
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
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return v


def fft_convolve(kernel: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Causal convolution y_k = Σ_{j=0}^{k} kernel_j s_{k−j} along the last axis, by zero-padded real FFT.

    Parameters
    ----------
    kernel : ndarray (T,)
    s : ndarray (..., T)

    Returns
    -------
    ndarray (..., T)
        Padding to a length ≥ 2T − 1 makes the circular convolution equal the linear one on k = 0..T−1.
    """
    T = s.shape[-1]
    nfft = 1 << int(np.ceil(np.log2(max(2 * T - 1, 1))))
    kf = np.fft.rfft(kernel, nfft)
    sf = np.fft.rfft(s, nfft, axis=-1)
    return np.fft.irfft(sf * kf, nfft, axis=-1)[..., :T]


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
        """The scalar kernel r(t) (same shape as t); ``dt`` matters only for the grid-only shift."""
        t = as_array(t, "t", ndim=None, allow_empty=True)
        dt = check_positive(dt, "dt")
        return np.asarray(self._kernel(t, dt), dtype=np.float64)

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
        dt = check_positive(dt, "dt")
        r = self.kernel(dt * np.arange(n), dt)
        return (dt * r)[:, None, None] * self.direction[None, None, :]

    def __call__(self, x, dt: float = 1.0) -> np.ndarray:
        """Outputs y_k = Δt Σ_{j≤k} ρ(jΔt)ᵀ x_{k−j} (docs/math.md §2) by zero-padded FFT convolution.

        Parameters
        ----------
        x : array (B, T, d) or (T, d)
        dt : float
            Grid step Δt.

        Returns
        -------
        ndarray (B, T, 1) or (T, 1)
        """
        dt = check_positive(dt, "dt")
        X, squeeze = as_sequence_input(x, self.inputs)
        T = X.shape[1]
        s = X @ self.direction  # (B, T)
        y = fft_convolve(dt * self.kernel(dt * np.arange(T), dt), s)[..., None]
        return y[0] if squeeze else y


class _Shift(LinearFunctional):
    """The delay y_k = wᵀ x_{k−τ}, computed by an exact index shift."""

    def __call__(self, x, dt: float = 1.0) -> np.ndarray:
        check_positive(dt, "dt")
        X, squeeze = as_sequence_input(x, self.inputs)
        tau = self.params["delay"]
        s = X @ self.direction
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
    lam = as_array(rates, "rates", shape=(c.shape[0],))
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
        if dt is not None and check_positive(dt, "dt") != self.rnn.dt:
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
def sample_inputs(n: int, T: int, d: int = 1, kind: str = "gaussian", rng=None, *,
                  scale: float = 1.0) -> np.ndarray:
    """Random input sequences (docs/math.md §2), shape (n, T, d).

    * ``gaussian``: x_k = s ξ_k, ξ_k i.i.d. N(0, I).
    * ``uniform``: x_k = s u_k, u_k i.i.d. uniform on [−1, 1]^d.
    * ``gp``: x_k = s Σ_{j≤k} ξ_j — a Gaussian process (random walk / sampled Brownian motion), the
      Curse-of-memory repo's "Gaussian_input" (cumulative sum).

    The repo scales its Gaussian inputs by Δt: pass ``scale=dt`` to reproduce it.

    Parameters
    ----------
    n, T, d : int
    kind : {"gaussian", "uniform", "gp"}
    rng : None, int or numpy.random.Generator
        Same seed, same bits.
    scale : float > 0
        s.
    """
    n = check_int(n, "n", minimum=1)
    T = check_int(T, "T", minimum=1)
    d = check_int(d, "d", minimum=1)
    check_choice(kind, "kind", INPUT_KINDS)
    s = check_positive(scale, "scale")
    gen = as_rng(rng)
    if kind == "uniform":
        return s * gen.uniform(-1.0, 1.0, size=(n, T, d))
    x = gen.standard_normal((n, T, d))
    if kind == "gp":
        x = np.cumsum(x, axis=1)
    return s * x
