"""Numba kernels of the diagonal state-space recurrence (private: no validation, explicit outputs, plain loops).

    h_k = λ ⊙ h_{k−1} + u_k,   h_{−1} = 0   (λ, h, u complex, N states)

Complex numbers are held as separate real and imaginary float64 arrays so that the loops over the N states
vectorise. Storage is time-major (T, R, ·) with R rows (batch).

* ``scan(lr, li, ur, ui, hr, hi)``: the states h_k for given inputs u_k (for BPTT, which needs them all; the
  adjoint recursion g_k = c_k + conj(λ) g_{k+1} is the same scan over reversed time with conj(λ)).
* ``scan_readout(lr, li, Br, Bi, Crt, Cit, x, y)``: the outputs y_k = Re(C h_k) with u_k = B x_k, keeping only a
  chunk of states at a time (the sequential evaluation of ``DiagonalSSM.__call__``: O(T·R·N·(d + p))).
* ``scan_readout_parallel``: the same under ``prange`` over rows.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from rnnmem._jit import jit, jit_parallel


@jit
def _scan_row(n, lr, li, ur, ui, hr, hi, sr, si):
    T = ur.shape[0]
    N = lr.shape[0]
    for i in range(N):
        sr[i] = 0.0
        si[i] = 0.0
    for k in range(T):
        vr, vi = ur[k, n], ui[k, n]
        for i in range(N):  # the state in sr/si, updated in place: the loop vectorises
            a = sr[i]
            b = si[i]
            sr[i] = lr[i] * a - li[i] * b + vr[i]
            si[i] = lr[i] * b + li[i] * a + vi[i]
        qr, qi = hr[k, n], hi[k, n]
        for i in range(N):
            qr[i] = sr[i]
            qi[i] = si[i]


@jit
def scan(lr, li, ur, ui, hr, hi):
    """hr + i·hi = states (T, R, N) of h_k = λ h_{k−1} + u_k from u = ur + i·ui (T, R, N)."""
    N = lr.shape[0]
    sr = np.empty(N)
    si = np.empty(N)
    for n in range(ur.shape[1]):
        _scan_row(n, lr, li, ur, ui, hr, hi, sr, si)


#: time steps per chunk of :func:`scan_readout`: the states of a chunk are kept and read out by one BLAS product
CHUNK = 128


@jit
def _readout_row(n, lr, li, Br, Bi, Crt, Cit, x, y, hr, hi, yr, yi):
    """Row n: states of CHUNK steps at a time into hr/hi (CHUNK, N), then y = Hr Crᵀ − Hi Ciᵀ by two BLAS products
    (Crt, Cit are Cᵀ (N, p)); the state update is a simple loop over the N states that LLVM vectorises."""
    T, _, d = x.shape
    N = lr.shape[0]
    p = Crt.shape[1]
    sr = np.zeros(N)  # the state, updated in place (same-index loads and stores: the loops vectorise)
    si = np.zeros(N)
    for k0 in range(0, T, CHUNK):
        nk = min(CHUNK, T - k0)
        for t in range(nk):
            k = k0 + t
            for i in range(N):
                a = sr[i]
                b = si[i]
                sr[i] = lr[i] * a - li[i] * b
                si[i] = lr[i] * b + li[i] * a
            for j in range(d):
                xj = x[k, n, j]
                for i in range(N):
                    sr[i] += Br[j, i] * xj
                    si[i] += Bi[j, i] * xj
            qr, qi = hr[t], hi[t]
            for i in range(N):
                qr[i] = sr[i]
                qi[i] = si[i]
        np.dot(hr[:nk], Crt, yr[:nk])
        np.dot(hi[:nk], Cit, yi[:nk])
        for t in range(nk):
            for o in range(p):
                y[k0 + t, n, o] = yr[t, o] - yi[t, o]


@jit
def scan_readout(lr, li, Br, Bi, Crt, Cit, x, y):
    """y (T, R, p) = Re(C h_k) for u_k = B x_k; Br/Bi are Bᵀ (d, N) (contiguous rows), Crt/Cit Cᵀ (N, p),
    x (T, R, d)."""
    N = lr.shape[0]
    p = Crt.shape[1]
    hr = np.empty((CHUNK, N))
    hi = np.empty((CHUNK, N))
    yr = np.empty((CHUNK, p))
    yi = np.empty((CHUNK, p))
    for n in range(x.shape[1]):
        _readout_row(n, lr, li, Br, Bi, Crt, Cit, x, y, hr, hi, yr, yi)


@jit_parallel
def scan_readout_parallel(lr, li, Br, Bi, Crt, Cit, x, y):
    N = lr.shape[0]
    p = Crt.shape[1]
    for n in prange(x.shape[1]):
        hr = np.empty((CHUNK, N))
        hi = np.empty((CHUNK, N))
        yr = np.empty((CHUNK, p))
        yi = np.empty((CHUNK, p))
        _readout_row(n, lr, li, Br, Bi, Crt, Cit, x, y, hr, hi, yr, yi)
