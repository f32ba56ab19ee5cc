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
where gd_k = Cᵀ ∂L/∂y_k. Then ∂L/∂W = Σ_k gz_k s_{k-1}ᵀ, ∂L/∂U = Σ_k gz_k x_kᵀ, ∂L/∂b = Σ_k gz_k and
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


@jit
def activate(z, act):
    """σ(z) and σ'(z). Derivatives at kinks follow PyTorch: hardtanh' = 1 on (-1, 1) only, relu'(0) = 0."""
    if act == TANH:
        t = np.tanh(z)
        return t, 1.0 - t * t
    if act == LINEAR:
        return z, 1.0
    if act == HARDTANH:
        if z <= -1.0:
            return -1.0, 0.0
        if z >= 1.0:
            return 1.0, 0.0
        return z, 1.0
    if z > 0.0:
        return z, 1.0
    return 0.0, 0.0


@jit
def _forward_row(n, wt, uxb, nb, a, c, act, s, dz, need_deriv, z):
    """Run row ``n`` through all T steps. ``wt`` is the stack of Wᵀ (S, m, m); ``z`` is scratch (m,)."""
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
        for i in range(m):
            f, df = activate(z[i], act)
            prev = s[k - 1, n, i] if k > 0 else 0.0
            s[k, n, i] = a * prev + c * f
            if need_deriv:
                dz[k, n, i] = c * df


@jit
def forward_rows(wt, uxb, nb, a, c, act, s, dz, need_deriv):
    z = np.empty(uxb.shape[2])
    for n in range(uxb.shape[1]):
        _forward_row(n, wt, uxb, nb, a, c, act, s, dz, need_deriv, z)


@jit_parallel
def forward_rows_parallel(wt, uxb, nb, a, c, act, s, dz, need_deriv):
    for n in prange(uxb.shape[1]):
        z = np.empty(uxb.shape[2])
        _forward_row(n, wt, uxb, nb, a, c, act, s, dz, need_deriv, z)


@jit
def forward_blas(wt, uxb, nb, a, c, act, s, dz, need_deriv):
    T, N, m = uxb.shape
    nmodels = wt.shape[0]
    z = np.empty((N, m))
    for k in range(T):
        if k > 0:
            for q in range(nmodels):
                np.dot(s[k - 1, q * nb:(q + 1) * nb], wt[q], z[q * nb:(q + 1) * nb])
        else:
            z[:] = 0.0
        for n in range(N):
            for i in range(m):
                f, df = activate(z[n, i] + uxb[k, n, i], act)
                prev = s[k - 1, n, i] if k > 0 else 0.0
                s[k, n, i] = a * prev + c * f
                if need_deriv:
                    dz[k, n, i] = c * df


@jit
def _backward_row(n, w, gd, dz, nb, a, gz, g, gnext):
    """BPTT for row ``n``: ``w`` is the stack of W (S, m, m), ``gd`` the direct state gradients Cᵀ dy."""
    T, _, m = gd.shape
    ww = w[n // nb]
    for j in range(m):
        gnext[j] = 0.0
    for k in range(T - 1, -1, -1):
        for j in range(m):
            g[j] = gd[k, n, j] + a * gnext[j]
        if k < T - 1:
            for i in range(m):
                gi = gz[k + 1, n, i]
                for j in range(m):  # Wᵀ gz as an axpy along contiguous rows of W
                    g[j] += ww[i, j] * gi
        for j in range(m):
            gz[k, n, j] = dz[k, n, j] * g[j]
            gnext[j] = g[j]


@jit
def backward_rows(w, gd, dz, nb, a, gz):
    m = gd.shape[2]
    g = np.empty(m)
    gnext = np.empty(m)
    for n in range(gd.shape[1]):
        _backward_row(n, w, gd, dz, nb, a, gz, g, gnext)


@jit_parallel
def backward_rows_parallel(w, gd, dz, nb, a, gz):
    m = gd.shape[2]
    for n in prange(gd.shape[1]):
        g = np.empty(m)
        gnext = np.empty(m)
        _backward_row(n, w, gd, dz, nb, a, gz, g, gnext)


@jit
def backward_blas(w, gd, dz, nb, a, gz):
    T, N, m = gd.shape
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
            for j in range(m):
                gj = g[n, j] + gd[k, n, j] + a * gnext[n, j]
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
