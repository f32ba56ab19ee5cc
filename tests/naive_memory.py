"""Slow, independent references for targets and memory functions (plain loops / scipy; nothing shared with
rnnmem.targets, rnnmem.memory or the kernels)."""

from __future__ import annotations

import numpy as np
import scipy.integrate
import scipy.linalg
from naive import act

from rnnmem import targets as tg


def direct_convolution(rho_grid: np.ndarray, x: np.ndarray, dt: float) -> np.ndarray:
    """O(T²) Riemann sum y_k = Δt Σ_{j≤k} ρ(jΔt)ᵀ x_{k−j}; rho_grid (T, d), x (B, T, d) -> (B, T, 1)."""
    B, T, d = x.shape
    y = np.zeros((B, T, 1))
    for b in range(B):
        for k in range(T):
            acc = 0.0
            for j in range(k + 1):
                for i in range(d):
                    acc += rho_grid[j, i] * x[b, k - j, i]
            y[b, k, 0] = dt * acc
    return y


def estimator(model, T: int, dt: float, xs: np.ndarray, kind: str, normalize: str = "paper") -> np.ndarray:
    """Per-input memory curves (n, T), one model call per sequence (no batching, no broadcasting tricks)."""
    n, d = xs.shape
    zero = np.zeros((1, T, d))
    y0 = np.asarray(model(zero))[0]
    out = np.zeros((n, T))
    for i in range(n):
        x = xs[i]
        nx = np.abs(x).max() + (1.0 if normalize == "proof" else 0.0)
        if kind in ("heaviside", "impulse"):
            u = np.zeros((1, T, d))
            if kind == "heaviside":
                for k in range(T):
                    u[0, k] = x
            else:
                u[0, 0] = x
            y = np.asarray(model(u))[0] - y0
            for k in range(T):
                if kind == "heaviside":
                    prev = y[k - 1] if k > 0 else np.zeros_like(y[0])
                    diff = y[k] - prev
                else:
                    diff = y[k]
                out[i, k] = np.abs(diff).max() / (dt * nx)
        else:
            Y = np.zeros((T + 1, y0.shape[1]))
            for c in range(T + 1):
                u = np.zeros((1, T, d))
                for k in range(T - c):
                    u[0, k] = x
                Y[c] = np.asarray(model(u))[0, T - 1] - y0[T - 1]
            for k in range(T):
                out[i, k] = np.abs(Y[k + 1] - Y[k]).max() / (dt * nx)
    return out


def continuous_linear_memory(W, U, C, t) -> np.ndarray:
    """max_i Σ_j |(C e^{W t} U)_ij| by one scipy expm per time."""
    return np.array([np.abs(C @ scipy.linalg.expm(W * tk) @ U).sum(axis=1).max() for tk in t])


def markov_memory(W, U, C, D, T, cell, dt) -> np.ndarray:
    """‖L_k‖_{∞→∞}/Δt from explicit matrix powers."""
    m = W.shape[0]
    A = W if cell == "elman" else np.eye(m) + dt * W
    scale = 1.0 if cell == "elman" else dt
    out = np.zeros(T)
    P = np.eye(m)
    for k in range(T):
        L = scale * C @ P @ U
        if k == 0 and D is not None:
            L = L + D
        out[k] = np.abs(L).sum(axis=1).max() / dt
        P = A @ P
    return out


def continuous_v_memory(W, U, b, C, x, t, activation, rtol=1e-12, atol=1e-14) -> np.ndarray:
    """|C (σ(Wh + Ux + b) − σ(Wh⁰ + b))|_∞ along solutions of dh/dt = σ(Wh + Ux + b) (h-form, DOP853)."""
    m = W.shape[0]

    def rhs(_, hh):
        h, h0 = hh[:m], hh[m:]
        return np.concatenate([act(W @ h + U @ x + b, activation), act(W @ h0 + b, activation)])

    sol = scipy.integrate.solve_ivp(rhs, (0.0, float(t[-1])), np.zeros(2 * m), method="DOP853", t_eval=t,
                                    rtol=rtol, atol=atol)
    h, h0 = sol.y[:m].T, sol.y[m:].T
    v = act(h @ W.T + U @ x + b, activation) - act(h0 @ W.T + b, activation)
    return np.abs(v @ C.T).max(axis=1)


def polyfit_decay(t, M):
    """(rate, exponent) from numpy.polyfit of log M against t and log(1 + t)."""
    y = np.log(M)
    return -np.polyfit(t, y, 1)[0], -np.polyfit(np.log1p(t), y, 1)[0]


def linear_targets(d: int = 1):
    """One of every linear family (vector inputs through a fixed direction when d > 1)."""
    w = None if d == 1 else np.linspace(1.0, -0.5, d)
    return [
        tg.exponential(rate=0.3, direction=w),
        tg.exponential(base=0.9, coef=-2.0, direction=w),
        tg.polynomial(1.1, direction=w),
        tg.polynomial(1.5, scale=0.1, direction=w),
        tg.shift(3, direction=w),
        tg.sum_of_exponentials([1.0, -2.0, 0.5], [0.1, 0.5, 2.0], direction=w),
        tg.airy(direction=w),
        tg.airy(shift=2.0, scale=0.5, direction=w),
    ]


def fft_convolution_bound(kernel, direction, x, dt):
    """Bound on |computed − exact| of y_k = Δt Σ_{j<=k} k_j wᵀ x_{k−j} (ρ_j = k_j w) for rnnmem.targets' FFT
    evaluation (s = x·w, then a zero-padded real FFT convolution of length N = 2^⌈log2(2T−1)⌉ with a = Δt·k) and
    for :func:`direct_convolution` (a sum of T·d products), shape (B, T, 1).

    Error model: the FFT of length N is normwise backward stable with ‖fl(Fv) − Fv‖₂ <= ε_F ‖Fv‖₂,
    ε_F = log2(N)·8u (Higham, ASNA §24.1, accurate twiddle factors); through F a ⊙ F s and the inverse transform
    the circular convolution errs by at most ε_F (‖a‖₂‖s‖₁ + 2‖a‖₁‖s‖₂) + u‖a‖₁‖s‖₂ in every entry (‖·‖_∞ <=
    ‖·‖₂); s = x·w carries γ_d |x||w|, which the convolution weights by |a|; the direct sum is within γ_{Td+3}
    of Δt Σ_j |k_j| |w|ᵀ|x_{k−j}|."""
    B, T, d = x.shape
    N = 1 << int(np.ceil(np.log2(max(2 * T - 1, 1))))
    u = np.finfo(float).eps / 2
    epsF = np.log2(max(N, 2)) * 16 * u
    a = dt * np.abs(np.asarray(kernel, dtype=float).reshape(T))
    w = np.abs(np.asarray(direction, dtype=float).reshape(d))
    mag = direct_convolution((a[:, None] / dt) * w[None, :], np.abs(x), dt)  # Δt Σ |k||w|ᵀ|x|
    out = np.empty((B, T, 1))
    for b in range(B):
        s = np.abs(x[b]) @ w
        fft = epsF * (np.linalg.norm(a) * s.sum() + 2 * a.sum() * np.linalg.norm(s)) + u * a.sum() * np.linalg.norm(s)
        g = (T * d + 3) * u / (1 - (T * d + 3) * u)
        out[b, :, 0] = fft + (d + 2) * u * mag[b, :, 0] + g * mag[b, :, 0] + 8 * T * d * 2.0**-1074
    return out
