"""Numba kernels of the RNN recurrences (private: no validation, explicit outputs, plain loops).

Unified recurrence for both cells. With s_{-1} = 0 and the stored state s_k (elman: h_k, euler: h_{k+1}),

    z_k = W s_{k-1} + U x_k + b,        s_k = a s_{k-1} + c σ(z_k),

with (a, c) = (0, 1) for the elman cell and (1, Δt) for the euler cell. The input part ``U x_k + b`` of every
step is computed beforehand by one matrix product (``uxb``), so the kernels only run the sequential part.

Storage is time-major: ``uxb``, ``s`` and ``dz`` have shape (T, N, m) where row n = model * B + batch, so a stack
of S models sharing one input batch (perturbation sweeps) runs in one pass; model ``n // B`` owns row n.
``dz`` stores c·σ'(z_k), what backpropagation needs.

Backward (BPTT), for the total state gradient g_k = ∂L/∂s_k:
    g_k = gd_k + a g_{k+1} + Wᵀ (dz_{k+1} ∘ g_{k+1}),    gz_k = dz_k ∘ g_k,
where gd_k = Cᵀ ∂L/∂y_k (computed in the kernel from ``dy`` and C).
Then ∂L/∂W = Σ_k gz_k s_{k-1}ᵀ, ∂L/∂U = Σ_k gz_k x_kᵀ, ∂L/∂b = Σ_k gz_k and
∂L/∂x_k = Uᵀ gz_k (+ Dᵀ ∂L/∂y_k); these sums are single matrix products done by the caller.

Three variants of each recurrence: ``*_rows`` (tight loops per row, for small m), ``*_rows_parallel`` (the same
under ``prange`` over rows) and ``*_blas`` (a contiguous (N, m) @ (m, m) product per step, for large m).
"""

from __future__ import annotations

import numpy as np
from numba import prange

from rnnmem._jit import jit, jit_parallel

TANH, LINEAR, HARDTANH, RELU = 0, 1, 2, 3
ACTIVATIONS = {"tanh": TANH, "linear": LINEAR, "hardtanh": HARDTANH, "relu": RELU}

_LN2_HI = 6.93147180369123816490e-01  # Cody–Waite split of ln 2 (fdlibm)
_LN2_LO = 1.90821492927058770002e-10
_LOG2E = 1.4426950408889634
_POW2 = np.array([2.0**k for k in range(64)])


@jit
def tanh(x):
    """tanh(x) to within 3 ulp, branch-free so that LLVM vectorises loops calling it.

    tanh|x| = e/(e + 2) with e = expm1(y), y = min(2|x|, 40) (tanh 20 rounds to 1). expm1 by Cody–Waite
    reduction y = k ln2 + r, |r| <= ln2/2, expm1(r) by its Taylor polynomial to r^13/13! (remainder < 1e-17),
    and expm1(y) = 2^k expm1(r) + (2^k − 1). About 10x faster than the libm call numba makes for ``np.tanh``
    (measured by ``benchmarks/rnn_speed.py``); accuracy is tested against ``numpy.tanh`` in tests/test_rnn.py.
    NaN propagates.
    """
    y = min(2.0 * abs(x), 40.0)
    k = int(y * _LOG2E + 0.5)
    r = (y - k * _LN2_HI) - k * _LN2_LO
    p = 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r * r + r
    tk = _POW2[k]
    e = tk * p + (tk - 1.0)
    t = e / (e + 2.0)
    return t if x >= 0.0 else (-t if x < 0.0 else x)


@jit
def activate(z, act):
    """σ(z) and σ'(z) of a scalar. Derivatives at kinks follow PyTorch: hardtanh' = 1 on (-1, 1) only,
    relu'(0) = 0."""
    if act == TANH:
        t = tanh(z)
        return t, 1.0 - t * t
    if act == LINEAR:
        return z, 1.0
    if act == HARDTANH:
        return min(max(z, -1.0), 1.0), (1.0 if (z > -1.0 and z < 1.0) else 0.0)
    return max(z, 0.0), (1.0 if z > 0.0 else 0.0)


@jit
def _step(z, prev, a, c, act, s_out, dz_out, need_deriv):
    """s_out = a·prev + c·σ(z) and dz_out = c·σ'(z) over a vector; one simple loop per activation so that
    LLVM vectorises it (the activation branch is outside the loops)."""
    m = z.shape[0]
    if act == TANH:
        for i in range(m):
            t = tanh(z[i])
            s_out[i] = a * prev[i] + c * t
            if need_deriv:
                dz_out[i] = c * (1.0 - t * t)
    elif act == LINEAR:
        for i in range(m):
            s_out[i] = a * prev[i] + c * z[i]
            if need_deriv:
                dz_out[i] = c
    elif act == HARDTANH:
        for i in range(m):
            zi = z[i]
            s_out[i] = a * prev[i] + c * min(max(zi, -1.0), 1.0)
            if need_deriv:
                dz_out[i] = c if (zi > -1.0 and zi < 1.0) else 0.0
    else:
        for i in range(m):
            zi = z[i]
            s_out[i] = a * prev[i] + c * max(zi, 0.0)
            if need_deriv:
                dz_out[i] = c if zi > 0.0 else 0.0


@jit
def _forward_row(n, wt, uxb, nb, a, c, act, s, dz, need_deriv, z, zero):
    """Run row ``n`` through all T steps. ``wt`` is the stack of Wᵀ (S, m, m); ``z`` scratch, ``zero`` zeros (m,)."""
    T, _, m = uxb.shape
    w = wt[n // nb]
    for k in range(T):
        for i in range(m):
            z[i] = uxb[k, n, i]
        if k > 0:
            for j in range(m):
                sj = s[k - 1, n, j]
                for i in range(m):  # axpy along a contiguous row of Wᵀ: vectorises without fastmath
                    z[i] += w[j, i] * sj
            _step(z, s[k - 1, n], a, c, act, s[k, n], dz[k, n] if need_deriv else zero, need_deriv)
        else:
            _step(z, zero, a, c, act, s[k, n], dz[k, n] if need_deriv else zero, need_deriv)


@jit
def forward_rows(wt, uxb, nb, a, c, act, s, dz, need_deriv):
    m = uxb.shape[2]
    z = np.empty(m)
    zero = np.zeros(m)
    for n in range(uxb.shape[1]):
        _forward_row(n, wt, uxb, nb, a, c, act, s, dz, need_deriv, z, zero)


@jit_parallel
def forward_rows_parallel(wt, uxb, nb, a, c, act, s, dz, need_deriv):
    m = uxb.shape[2]
    for n in prange(uxb.shape[1]):
        z = np.empty(m)
        zero = np.zeros(m)
        _forward_row(n, wt, uxb, nb, a, c, act, s, dz, need_deriv, z, zero)


@jit
def forward_blas(wt, uxb, nb, a, c, act, s, dz, need_deriv):
    T, N, m = uxb.shape
    nmodels = wt.shape[0]
    z = np.empty((N, m))
    zero = np.zeros(m)
    for k in range(T):
        if k > 0:
            for q in range(nmodels):
                np.dot(s[k - 1, q * nb:(q + 1) * nb], wt[q], z[q * nb:(q + 1) * nb])
        else:
            z[:] = 0.0
        for n in range(N):
            for i in range(m):
                z[n, i] += uxb[k, n, i]
            _step(z[n], s[k - 1, n] if k > 0 else zero, a, c, act, s[k, n], dz[k, n] if need_deriv else zero,
                  need_deriv)


@jit
def _backward_row(n, w, cm, dy, dz, nb, a, gz, g, gnext):
    """BPTT for row ``n``: ``w`` the stack of W (S, m, m), ``cm`` the stack of C (S, p, m), ``dy`` (T, N, p)."""
    T, _, m = dz.shape
    p = dy.shape[2]
    q = n // nb
    ww = w[q]
    cq = cm[q]
    for j in range(m):
        gnext[j] = 0.0
    for k in range(T - 1, -1, -1):
        for j in range(m):
            g[j] = a * gnext[j]
        for o in range(p):  # direct term Cᵀ dy_k
            dyo = dy[k, n, o]
            for j in range(m):
                g[j] += cq[o, j] * dyo
        if k < T - 1:
            for i in range(m):
                gi = gz[k + 1, n, i]
                for j in range(m):  # Wᵀ gz as an axpy along contiguous rows of W
                    g[j] += ww[i, j] * gi
        for j in range(m):
            gz[k, n, j] = dz[k, n, j] * g[j]
            gnext[j] = g[j]


@jit
def backward_rows(w, cm, dy, dz, nb, a, gz):
    m = dz.shape[2]
    g = np.empty(m)
    gnext = np.empty(m)
    for n in range(dz.shape[1]):
        _backward_row(n, w, cm, dy, dz, nb, a, gz, g, gnext)


@jit_parallel
def backward_rows_parallel(w, cm, dy, dz, nb, a, gz):
    m = dz.shape[2]
    for n in prange(dz.shape[1]):
        g = np.empty(m)
        gnext = np.empty(m)
        _backward_row(n, w, cm, dy, dz, nb, a, gz, g, gnext)


@jit
def backward_blas(w, cm, dy, dz, nb, a, gz):
    T, N, m = dz.shape
    p = dy.shape[2]
    nmodels = w.shape[0]
    g = np.empty((N, m))
    gnext = np.zeros((N, m))
    for k in range(T - 1, -1, -1):
        if k < T - 1:
            for q in range(nmodels):
                np.dot(gz[k + 1, q * nb:(q + 1) * nb], w[q], g[q * nb:(q + 1) * nb])
        else:
            g[:] = 0.0
        for n in range(N):
            cq = cm[n // nb]
            for o in range(p):
                dyo = dy[k, n, o]
                for j in range(m):
                    g[n, j] += cq[o, j] * dyo
            for j in range(m):
                gj = g[n, j] + a * gnext[n, j]
                gz[k, n, j] = dz[k, n, j] * gj
                gnext[n, j] = gj


@jit
def markov(A, U, C, n, scale, out):
    """out[j] = scale · C A^j U for j = 0..n-1 (out: (n, p, d)); A (m, m), U (m, d), C (p, m)."""
    m, d = U.shape
    v = U.copy()
    tmp = np.empty((m, d))
    for j in range(n):
        out[j] = scale * (C @ v)
        if j < n - 1:
            np.dot(A, v, tmp)
            v[:] = tmp
