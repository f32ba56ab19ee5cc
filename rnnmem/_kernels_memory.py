"""Numba kernels of the Heaviside-input velocity ("v-") dynamics of RNNs (private: plain loops, no checks).

Under a constant input x switched on at t = 0 (Heaviside input u^x, docs/math.md §3) the pre-activation
z = W h + U x + b of an RNN obeys an autonomous equation in which x only enters the initial value
z(0) = U x + b, and the hidden velocity v = dh/dt = σ(z) is read off pointwise:

    continuous time   dz/dt = W σ(z),                      v = σ(z)      (so dv/dt = σ'(z) ∘ (W v))
    euler cell        z_{k+1} = z_k + Δt W σ(z_k),         v_k = σ(z_k) = (h_{k+1} − h_k)/Δt
    elman cell        a_{k+1} = a_k + W Δ_k,  Δ_{k+1} = σ(a_k + W Δ_k) − σ(a_k),  Δ_k = h_k − h_{k−1}

(elman: a_k = W h_{k−1} + U x + b, a_0 = U x + b, Δ_0 = σ(a_0)). For tanh, σ'(z) = 1 − v∘v, which is the
v-dynamics of docs/math.md §3. The response to the zero input is subtracted (H(0) = 0, §1): the kernels run the
zero-input trajectory z⁰ next to δ = z − z⁰ and evaluate the velocity difference

    σ(z⁰ + δ) − σ(z⁰) = dsig(z⁰, δ)

with a cancellation-free formula (tanh: sinh δ / (cosh z⁰ cosh(z⁰+δ)) in log space; piecewise-exact for
linear, relu, hardtanh). The velocities are therefore accurate to *relative* rounding error even after they
have decayed far below the absolute noise floor (≈ 1e-16 |y|) of a finite difference of simulated outputs.

Storage: ``z0`` (n, m) initial zero-input pre-activations (= b, repeated), ``d0`` (n, m) initial offsets U x;
outputs ``out`` (n, T, p) hold C times the velocity difference (the caller divides by |x|).
"""

from __future__ import annotations

import numpy as np

from rnnmem._jit import jit
from rnnmem._kernels import HARDTANH, LINEAR, TANH, activate

LOG2 = float(np.log(2.0))


@jit
def sig(z, act):
    """σ(z): the activation of ``rnnmem._kernels.activate`` (one definition, same codes, same tanh)."""
    return activate(z, act)[0]


@jit
def _logcosh(u):
    a = abs(u)
    return a + np.log1p(np.exp(-2.0 * a)) - LOG2


@jit
def dsig(a, d, act):
    """σ(a + d) − σ(a) without cancellation."""
    if act == LINEAR:
        return d
    if act == TANH:
        if abs(d) < 1.0:
            # tanh(a+d) − tanh(a) = sinh(d) / (cosh(a) cosh(a+d))
            return np.sinh(d) * np.exp(-(_logcosh(a) + _logcosh(a + d)))
        return np.tanh(a + d) - np.tanh(a)
    if act == HARDTANH:
        b = a + d
        if -1.0 < a < 1.0 and -1.0 < b < 1.0:
            return d
        return min(1.0, max(-1.0, b)) - min(1.0, max(-1.0, a))
    # relu
    b = a + d
    if a >= 0.0 and b >= 0.0:
        return d
    return max(b, 0.0) - max(a, 0.0)


@jit
def _matvec(W, v, out):
    m = W.shape[0]
    for i in range(m):
        acc = 0.0
        for j in range(m):
            acc += W[i, j] * v[j]
        out[i] = acc


@jit
def _readout(C, v, out_row):
    p, m = C.shape
    for i in range(p):
        acc = 0.0
        for j in range(m):
            acc += C[i, j] * v[j]
        out_row[i] = acc


@jit
def heaviside_euler(W, C, z0, d0, dt, act, out):
    """Euler cell: out[n, k] = C (σ(z⁰_k + δ_k) − σ(z⁰_k)), z_{k+1} = z_k + Δt W σ(z_k) for z = z⁰ and z⁰ + δ.

    δ is advanced as δ_{k+1} = δ_k + Δt W dsig(z⁰_k, δ_k), z⁰ as z⁰_{k+1} = z⁰_k + Δt W σ(z⁰_k).
    """
    n_rows, T, _ = out.shape
    m = W.shape[0]
    z = np.empty(m)
    d = np.empty(m)
    v0 = np.empty(m)
    dv = np.empty(m)
    tmp = np.empty(m)
    for n in range(n_rows):
        for i in range(m):
            z[i] = z0[n, i]
            d[i] = d0[n, i]
        for k in range(T):
            for i in range(m):
                v0[i] = sig(z[i], act)
                dv[i] = dsig(z[i], d[i], act)
            _readout(C, dv, out[n, k])
            if k < T - 1:
                _matvec(W, v0, tmp)
                for i in range(m):
                    z[i] += dt * tmp[i]
                _matvec(W, dv, tmp)
                for i in range(m):
                    d[i] += dt * tmp[i]


@jit
def heaviside_elman(W, C, a0, act, out):
    """Elman cell: out[n, k] = C Δ_k with Δ_k = h_k − h_{k−1} (h_{−1} = 0) under the constant input whose
    pre-activation offset is a0[n] = U x + b; a_{k+1} = a_k + W Δ_k, Δ_{k+1} = dsig(a_k, W Δ_k).

    The caller subtracts the zero-input row (x = 0, a0 = b), which is identically zero when b = 0.
    """
    n_rows, T, _ = out.shape
    m = W.shape[0]
    a = np.empty(m)
    dl = np.empty(m)
    wd = np.empty(m)
    for n in range(n_rows):
        for i in range(m):
            a[i] = a0[n, i]
            dl[i] = sig(a[i], act)  # Δ_0 = h_0 − 0
        for k in range(T):
            _readout(C, dl, out[n, k])
            if k < T - 1:
                _matvec(W, dl, wd)
                for i in range(m):
                    dl_new = dsig(a[i], wd[i], act)
                    a[i] += wd[i]
                    dl[i] = dl_new


@jit
def _rhs(W, z, d, act, fz, fd, s0, s1):
    """f(z⁰, δ) = (W σ(z⁰), W dsig(z⁰, δ)); s0, s1 scratch."""
    m = W.shape[0]
    for i in range(m):
        s0[i] = sig(z[i], act)
        s1[i] = dsig(z[i], d[i], act)
    _matvec(W, s0, fz)
    _matvec(W, s1, fd)


@jit
def heaviside_rk4(W, C, z0, d0, dt, substeps, act, out):
    """Continuous time: out[n, k] = C (σ(z⁰(t_k) + δ(t_k)) − σ(z⁰(t_k))), t_k = kΔt, integrating
    dz⁰/dt = W σ(z⁰), dδ/dt = W dsig(z⁰, δ) by classical RK4 with step h = Δt / substeps."""
    n_rows, T, _ = out.shape
    m = W.shape[0]
    h = dt / substeps
    z = np.empty(m)
    d = np.empty(m)
    zt = np.empty(m)
    dtmp = np.empty(m)
    k1z = np.empty(m)
    k1d = np.empty(m)
    k2z = np.empty(m)
    k2d = np.empty(m)
    k3z = np.empty(m)
    k3d = np.empty(m)
    k4z = np.empty(m)
    k4d = np.empty(m)
    s0 = np.empty(m)
    s1 = np.empty(m)
    for n in range(n_rows):
        for i in range(m):
            z[i] = z0[n, i]
            d[i] = d0[n, i]
        for k in range(T):
            for i in range(m):
                s1[i] = dsig(z[i], d[i], act)
            _readout(C, s1, out[n, k])
            if k == T - 1:
                break
            for _ in range(substeps):
                _rhs(W, z, d, act, k1z, k1d, s0, s1)
                for i in range(m):
                    zt[i] = z[i] + 0.5 * h * k1z[i]
                    dtmp[i] = d[i] + 0.5 * h * k1d[i]
                _rhs(W, zt, dtmp, act, k2z, k2d, s0, s1)
                for i in range(m):
                    zt[i] = z[i] + 0.5 * h * k2z[i]
                    dtmp[i] = d[i] + 0.5 * h * k2d[i]
                _rhs(W, zt, dtmp, act, k3z, k3d, s0, s1)
                for i in range(m):
                    zt[i] = z[i] + h * k3z[i]
                    dtmp[i] = d[i] + h * k3d[i]
                _rhs(W, zt, dtmp, act, k4z, k4d, s0, s1)
                for i in range(m):
                    z[i] += h / 6.0 * (k1z[i] + 2.0 * k2z[i] + 2.0 * k3z[i] + k4z[i])
                    d[i] += h / 6.0 * (k1d[i] + 2.0 * k2d[i] + 2.0 * k3d[i] + k4d[i])
