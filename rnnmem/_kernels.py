"""Numba kernels of the RNN recurrences (private: no validation, explicit outputs, plain loops).

Unified recurrence for both cells. With s_{-1} = 0 and the stored state s_k (elman: h_k, euler: h_{k+1}),

    z_k = W s_{k-1} + U x_k + b,        s_k = a s_{k-1} + c σ(z_k),

with (a, c) = (0, 1) for the elman cell and (1, Δt) for the euler cell. The input products ``U x_k`` of all steps
are computed beforehand by one matrix product (``uxb``); the kernels add b (no separate pass over the (T, N, m)
array) and run the sequential part.

Storage is time-major: ``uxb``, ``s`` and ``dz`` have shape (T, N, m) where row n = model * B + batch, so a stack
of S models sharing one input batch (perturbation sweeps) runs in one pass; model ``n // B`` owns row n.
``dz`` stores c·σ'(z_k), what backpropagation needs.

Backward (BPTT), for the total state gradient g_k = ∂L/∂s_k:
    g_k = gd_k + a g_{k+1} + Wᵀ (dz_{k+1} ∘ g_{k+1}),    gz_k = dz_k ∘ g_k,
where gd_k = Cᵀ ∂L/∂y_k, computed beforehand for all steps by one matrix product into ``gz`` (step k reads
gz[k] before it overwrites it with gz_k).
Then ∂L/∂W = Σ_k gz_k s_{k-1}ᵀ, ∂L/∂U = Σ_k gz_k x_kᵀ, ∂L/∂b = Σ_k gz_k and
∂L/∂x_k = Uᵀ gz_k (+ Dᵀ ∂L/∂y_k); these sums are single matrix products done by the caller.

Every kernel runs the rows ``n0 <= n < n1`` only, so that disjoint row ranges can run at the same time on several
threads (the kernels release the GIL; ``rnnmem.rnn`` splits the rows). Two families:

* ``*_rows``: one row (sequence) at a time through all steps, the product W s_{k-1} as axpys along contiguous rows
  of Wᵀ in plain loops: no call overhead per step, best for few rows of small width;
* ``*_blas``: all rows of the range together, step by step: one BLAS product (rows, m) @ (m, m) per step and model
  (``np.dot``, scipy's BLAS), then the activation as one flat loop over the step's contiguous (rows, m) block,
  which LLVM vectorises.

The ``*_cols`` kernels split the other way: each of several threads computes the columns c0..c1-1 (hidden units)
of every row and step from the whole previous state, with its block of the recurrent matrix copied once, contiguous,
so that it stays in that core's cache; the threads meet at a barrier after every step (``rnnmem._sync``). This uses
several cores for one sequence, or for a batch whose rows alone would leave the per-step products too small to share.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir as llvm_ir
from numba.core import types
from numba.extending import intrinsic

from rnnmem._jit import jit, jit_fma
from rnnmem._sync import barrier

TANH, LINEAR, HARDTANH, RELU = 0, 1, 2, 3
ACTIVATIONS = {"tanh": TANH, "linear": LINEAR, "hardtanh": HARDTANH, "relu": RELU}

_LN2_HI = 6.93147180369123816490e-01  # Cody–Waite split of ln 2 (fdlibm)
_LN2_LO = 1.90821492927058770002e-10
_LOG2E = 1.4426950408889634
#: 1.5·2⁵²: adding it rounds a float64 in [0, 2⁵¹) to an integer k, which then sits in the low bits of the sum
_ROUND = 6755399441055744.0
_ROUND_BITS = int(np.array([_ROUND]).view(np.int64)[0])


@intrinsic
def _bits(typingctx, x):
    """The IEEE-754 bit pattern of a float64 as an int64 (an LLVM bitcast: no memory, vectorisable)."""
    if x != types.float64:
        return None

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], llvm_ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _from_bits(typingctx, x):
    """The float64 whose IEEE-754 bit pattern is the int64 ``x`` (inverse of :func:`_bits`)."""
    if x != types.int64:
        return None

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], llvm_ir.DoubleType())

    return types.float64(types.int64), codegen


@jit_fma
def tanh(x):
    """tanh(x) to within 3 ulp, branch-free so that LLVM vectorises loops calling it; short latency, since a
    recurrence with few units waits for each step's tanh.

    tanh|x| = e/(e + 2) with e = expm1(y), y = min(2|x|, 40) (tanh 20 rounds to 1). expm1 by Cody–Waite
    reduction y = k ln2 + r, |r| <= ln2/2 (k = round(y/ln2) by the add-and-subtract-1.5·2⁵² trick, which leaves
    k in the low bits of the sum), expm1(r) = r + r² q(r) with q the Taylor polynomial to r^13/13! (remainder
    < 1e-17) evaluated by Estrin's scheme (depth 4 instead of Horner's 12 dependent multiply-adds), 2^k built
    from its bit pattern, and expm1(y) = 2^k expm1(r) + (2^k − 1). About 10x faster than the libm call numba
    makes for ``np.tanh`` (measured by ``benchmarks/kernel_variants.py``); accuracy is tested against
    ``numpy.tanh`` in tests/test_rnn.py. NaN propagates.
    """
    y = min(2.0 * abs(x), 40.0)
    kd = y * _LOG2E + _ROUND
    kf = kd - _ROUND
    r = (y - kf * _LN2_HI) - kf * _LN2_LO
    r2 = r * r
    r4 = r2 * r2
    q = (((0.5 + r * (1.0 / 6.0)) + r2 * (1.0 / 24.0 + r * (1.0 / 120.0)))
         + r4 * ((1.0 / 720.0 + r * (1.0 / 5040.0)) + r2 * (1.0 / 40320.0 + r * (1.0 / 362880.0)))
         + (r4 * r4) * ((1.0 / 3628800.0 + r * (1.0 / 39916800.0))
                        + r2 * (1.0 / 479001600.0 + r * (1.0 / 6227020800.0))))
    p = q * r2 + r
    tk = _from_bits((_bits(kd) - _ROUND_BITS + 1023) << 52)  # 2^k, 0 <= k <= 58
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


@jit_fma
def _step(z, prev, a, c, act, s_out, dz_out, need_deriv, has_prev):
    """s_out = a·prev + c·σ(z) (just c·σ(z) without ``has_prev``) and, with ``need_deriv``, dz_out = c·σ'(z), over
    vectors; one simple loop per case so that LLVM vectorises it (the branches are outside the loops)."""
    n = z.shape[0]
    if act == TANH:
        if has_prev:
            for i in range(n):
                t = tanh(z[i])
                s_out[i] = a * prev[i] + c * t
                if need_deriv:
                    dz_out[i] = c * (1.0 - t * t)
        else:
            for i in range(n):
                t = tanh(z[i])
                s_out[i] = c * t
                if need_deriv:
                    dz_out[i] = c * (1.0 - t * t)
    elif act == LINEAR:
        if has_prev:
            for i in range(n):
                s_out[i] = a * prev[i] + c * z[i]
        else:
            for i in range(n):
                s_out[i] = c * z[i]
        if need_deriv:
            for i in range(n):
                dz_out[i] = c
    elif act == HARDTANH:
        for i in range(n):
            zi = z[i]
            v = c * min(max(zi, -1.0), 1.0)
            s_out[i] = a * prev[i] + v if has_prev else v
            if need_deriv:
                dz_out[i] = c if (zi > -1.0 and zi < 1.0) else 0.0
    else:
        for i in range(n):
            zi = z[i]
            v = c * max(zi, 0.0)
            s_out[i] = a * prev[i] + v if has_prev else v
            if need_deriv:
                dz_out[i] = c if zi > 0.0 else 0.0


# --------------------------------------------------------------------------------------- one row at a time (loops)
@jit_fma
def _forward_row(n, wt, uxb, bias, nb, a, c, act, s, dz, need_deriv, z, zd):
    """Run row ``n`` through all T steps; ``z`` and ``zd`` scratch (m,) (``zd`` takes the place of dz without
    ``need_deriv``: were it ``z``, the possible aliasing of the activation loop's input and output would keep LLVM
    from vectorising it, 40 % slower per step at m = 8)."""
    T, _, m = uxb.shape
    w = wt[n // nb]
    bq = bias[n // nb]
    has_prev = a != 0.0
    for k in range(T):
        for i in range(m):
            z[i] = uxb[k, n, i] + bq[i]
        d = dz[k, n] if need_deriv else zd
        if k > 0:
            for j in range(m):
                sj = s[k - 1, n, j]
                for i in range(m):  # axpy along a contiguous row of Wᵀ
                    z[i] += w[j, i] * sj
            _step(z, s[k - 1, n], a, c, act, s[k, n], d, need_deriv, has_prev)
        else:
            _step(z, z, a, c, act, s[k, n], d, need_deriv, False)


@jit
def forward_rows(wt, uxb, bias, nb, a, c, act, s, dz, need_deriv, n0, n1):
    """Forward pass of rows n0..n1-1, each row through all steps in plain loops. ``wt``: the stack of Wᵀ
    (S, m, m); ``uxb`` (T, N, m) the input products U x_k (``s`` may be the same array: uxb[k] is read before s[k]
    is written); ``bias`` (S, m) the biases b (added here: no separate pass over the (T, N, m) array); outputs
    ``s`` and, with ``need_deriv``, ``dz``."""
    z = np.empty(uxb.shape[2])
    zd = np.empty(uxb.shape[2])
    for n in range(n0, n1):
        _forward_row(n, wt, uxb, bias, nb, a, c, act, s, dz, need_deriv, z, zd)


@jit_fma
def _backward_row(n, w, dz, nb, a, gz, g, gnext):
    """BPTT for row ``n``: ``w`` the stack of W (S, m, m); on entry gz[k, n] holds the direct term Cᵀ dy_k."""
    T, _, m = dz.shape
    ww = w[n // nb]
    for k in range(T - 1, -1, -1):
        if a != 0.0 and k < T - 1:
            for j in range(m):
                g[j] = gz[k, n, j] + a * gnext[j]
        else:
            for j in range(m):
                g[j] = gz[k, n, j]
        if k < T - 1:
            for i in range(m):
                gi = gz[k + 1, n, i]
                for j in range(m):  # Wᵀ gz as an axpy along contiguous rows of W
                    g[j] += ww[i, j] * gi
        for j in range(m):
            gz[k, n, j] = dz[k, n, j] * g[j]
            gnext[j] = g[j]


@jit
def backward_rows(w, dz, nb, a, gz, n0, n1):
    """BPTT of rows n0..n1-1, one row at a time in plain loops: ``w`` the stack of W (S, m, m), ``dz`` (T, N, m)
    from the forward pass; ``gz`` (T, N, m) holds the direct terms Cᵀ dy_k on entry and dz_k ∘ g_k on exit (step k
    reads gz[k] before writing it)."""
    m = dz.shape[2]
    g = np.empty(m)
    gnext = np.empty(m)
    for n in range(n0, n1):
        _backward_row(n, w, dz, nb, a, gz, g, gnext)


# --------------------------------------------------------------------------------------- all rows per step (BLAS)
@jit
def _dot_models(w, src, z, nb, n0, n1):
    """z[n - n0] = src[n] @ w[n // nb] for rows n0 <= n < n1, one BLAS call per model."""
    for q in range(n0 // nb, (n1 - 1) // nb + 1):
        r0 = max(n0, q * nb)
        r1 = min(n1, (q + 1) * nb)
        np.dot(src[r0:r1], w[q], z[r0 - n0:r1 - n0])


@jit
def forward_blas(wt, uxb, bias, nb, a, c, act, s, dz, need_deriv, n0, n1):
    """:func:`forward_rows` with all rows of a step together: one BLAS product per step and model, then the
    activation as one flat loop over the step's contiguous (rows, m) block."""
    T, N, m = uxb.shape
    R = n1 - n0
    L = R * m
    f0 = n0 * m
    f1 = n1 * m
    sf = s.reshape(T, N * m)
    df = dz.reshape(dz.shape[0], dz.shape[1] * dz.shape[2])
    z2 = np.empty((R, m))
    z = z2.reshape(L)
    zd = np.empty(L)  # stands for dz without need_deriv (not z: see _forward_row)
    has_prev = a != 0.0
    for k in range(T):
        d = df[k, f0:f1] if need_deriv else zd
        if k > 0:
            _dot_models(wt, s[k - 1], z2, nb, n0, n1)
            for r in range(R):
                bq = bias[(n0 + r) // nb]
                u = uxb[k, n0 + r]
                zr = z2[r]
                for i in range(m):
                    zr[i] += u[i] + bq[i]
            _step(z, sf[k - 1, f0:f1], a, c, act, sf[k, f0:f1], d, need_deriv, has_prev)
        else:
            for r in range(R):
                bq = bias[(n0 + r) // nb]
                u = uxb[k, n0 + r]
                zr = z2[r]
                for i in range(m):
                    zr[i] = u[i] + bq[i]
            _step(z, z, a, c, act, sf[k, f0:f1], d, need_deriv, False)


@jit
def backward_blas(w, dz, nb, a, gz, n0, n1):
    """:func:`backward_rows` with all rows of a step together: one BLAS product per step and model."""
    T, N, m = dz.shape
    R = n1 - n0
    L = R * m
    f0 = n0 * m
    f1 = n1 * m
    df = dz.reshape(T, N * m)
    gzf = gz.reshape(T, N * m)
    g2 = np.empty((R, m))
    g = g2.reshape(L)
    gn = np.empty(L)  # g_{k+1}
    for k in range(T - 1, -1, -1):
        d = df[k, f0:f1]
        out = gzf[k, f0:f1]  # holds Cᵀ dy_k on entry
        if k < T - 1:
            _dot_models(w, gz[k + 1], g2, nb, n0, n1)  # g = Wᵀ gz_{k+1} (rows: gz_{k+1}ᵀ W)
            if a != 0.0:
                for i in range(L):
                    g[i] += out[i] + a * gn[i]
            else:
                for i in range(L):
                    g[i] += out[i]
        else:
            for i in range(L):
                g[i] = out[i]
        for i in range(L):
            out[i] = d[i] * g[i]
        if a != 0.0:
            for i in range(L):
                gn[i] = g[i]


# ------------------------------------------------------------------- columns of a step split over threads (BLAS)
@jit
def forward_cols(wblk, uxb, bias, nb, a, c, act, s, dz, need_deriv, bounds, p0, p1, sync, nthreads):
    """:func:`forward_blas` for the column blocks p0..p1-1 (hidden units bounds[p]..bounds[p+1]-1) of every row, on
    one of ``nthreads`` threads that together cover all blocks. ``wblk`` (S, m·m) holds each Wᵀ block by block: the
    columns c0..c1-1 of block p as a row-major m × (c1 - c0) matrix at offset m·c0 (contiguous: it stays in this
    core's cache from step to step). Each step and block: one BLAS product (rows, m) @ (m, c1 - c0) per model from
    the whole of s_{k-1}, the activation on the block; then the barrier ``sync`` (``rnnmem._sync``), after which
    s_k is complete for every thread. A block is computed the same way whichever thread runs it. Returns False if
    another thread aborted."""
    T, N, m = uxb.shape
    zf = np.empty(N * m)  # block p's (N, c1 - c0) scratch at offset N·c0
    zd = np.empty(m)  # stands for dz without need_deriv (not z: see _forward_row)
    has_prev = a != 0.0
    for k in range(T):
        for p in range(p0, p1):
            c0 = bounds[p]
            c1 = bounds[p + 1]
            w = c1 - c0
            z = zf[N * c0:N * c1].reshape((N, w))
            if k > 0:
                for q in range(N // nb):
                    np.dot(s[k - 1, q * nb:(q + 1) * nb], wblk[q, m * c0:m * c1].reshape((m, w)),
                           z[q * nb:(q + 1) * nb])
            for n in range(N):
                bq = bias[n // nb, c0:c1]
                u = uxb[k, n, c0:c1]
                zr = z[n]
                if k > 0:
                    for i in range(w):  # (u[c0 + i] here would keep LLVM from vectorising)
                        zr[i] += u[i] + bq[i]
                else:
                    for i in range(w):
                        zr[i] = u[i] + bq[i]
                d = dz[k, n, c0:c1] if need_deriv else zd[:w]
                if k > 0:
                    _step(zr, s[k - 1, n, c0:c1], a, c, act, s[k, n, c0:c1], d, need_deriv, has_prev)
                else:
                    _step(zr, zr, a, c, act, s[k, n, c0:c1], d, need_deriv, False)
        if not barrier(sync, nthreads, k + 1):
            return False
    return True


@jit
def backward_cols(wblk, dz, nb, a, gz, bounds, p0, p1, sync, nthreads):
    """:func:`backward_blas` for the column blocks p0..p1-1 on one of ``nthreads`` threads (see
    :func:`forward_cols`): ``wblk`` holds each W block by block; each step and block one BLAS product
    gz_{k+1} @ W[:, c0:c1] per model from the whole of gz_{k+1}; then the barrier."""
    T, N, m = dz.shape
    gf = np.empty(N * m)
    gnf = np.zeros(N * m)  # g_{k+1}, block by block
    for k in range(T - 1, -1, -1):
        for p in range(p0, p1):
            c0 = bounds[p]
            c1 = bounds[p + 1]
            w = c1 - c0
            g = gf[N * c0:N * c1].reshape((N, w))
            gn = gnf[N * c0:N * c1].reshape((N, w))
            if k < T - 1:
                for q in range(N // nb):
                    np.dot(gz[k + 1, q * nb:(q + 1) * nb], wblk[q, m * c0:m * c1].reshape((m, w)),
                           g[q * nb:(q + 1) * nb])
            for n in range(N):
                out = gz[k, n, c0:c1]  # holds Cᵀ dy_k on entry
                d = dz[k, n, c0:c1]
                gr = g[n]
                gnr = gn[n]
                if k < T - 1:
                    if a != 0.0:
                        for i in range(w):
                            gr[i] += out[i] + a * gnr[i]
                    else:
                        for i in range(w):
                            gr[i] += out[i]
                else:
                    for i in range(w):
                        gr[i] = out[i]
                for i in range(w):
                    out[i] = d[i] * gr[i]
                if a != 0.0:
                    for i in range(w):
                        gnr[i] = gr[i]
        if not barrier(sync, nthreads, T - k):
            return False
    return True


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
