"""Numba kernels of the linear-system measures and the linear-RNN NTK (private: no validation, explicit outputs).

* ``krylov(A, v, K, out)``: out[k] = A^k v (rows), k = 0..K-1 (BLAS, not Numba).
* ``krylov_pair(W, u, c, Ku, Kc)``: Ku[k] = W^k u and Kc[k] = (Wᵀ)^k c in one pass over W per k.
* ``gram_w(Gc, Gu, out)``: the W-block of the Markov-parameter Gram matrix from the small Grams of the Krylov vectors
  (docs/math.md §7b): out[i, j] = Σ_{a<i} Σ_{a'<j} Gc[a, a'] Gu[i-1-a, j-1-a'].
* ``power_norms(A, out)``: out[j] = ‖A^j‖₂.
* ``benettin(W, dz, a, Q, logr)``: QR (Benettin) iteration of the Jacobians a I + diag(dz_k) W along a trajectory.
* ``backward_gains(W, dz, a, out)``: ‖J_{T-1} J_{T-2} ⋯ J_{T-j}‖₂ for j = 0..len(out)-1.
"""

from __future__ import annotations

import numpy as np

from rnnmem._jit import jit, jit_sum


def krylov(A, v, K, out, transpose=False):
    """out[k] = A^k v for k = 0..K-1 (out: (K, m)); with ``transpose``, out[k] = (Aᵀ)^k v computed as vᵀA (no copy
    of Aᵀ is ever formed: transposing a large matrix costs more than the products).

    Plain NumPy on purpose: each step is one BLAS gemv (memory-bound), ~25x faster than Numba's own matrix-vector
    product at n = 2000; the loop runs over lags only.
    """
    out[0] = v
    for k in range(1, K):
        if transpose:
            np.dot(out[k - 1], A, out=out[k])
        else:
            np.dot(A, out[k - 1], out=out[k])


@jit_sum
def krylov_pair(W, u, c, Ku, Kc):
    """Ku[k] = W^k u and Kc[k] = (Wᵀ)^k c for k = 0..K-1 (Ku, Kc: (K, n)).

    Both products of a step read W once, row by row: (W a)_i = W[i, :]·a and Wᵀ b += W[i, :] b_i. For the wide
    matrices of the NTK checks each product is bound by the memory traffic of W (32 MB at n = 2000), so sharing the
    pass halves the time of two BLAS gemv calls. The dot products are vectorised with partial sums (``jit_sum``).
    """
    K, n = Ku.shape
    for j in range(n):
        Ku[0, j] = u[j]
        Kc[0, j] = c[j]
    for k in range(1, K):
        for j in range(n):
            Kc[k, j] = 0.0
        i = 0
        while i + 4 <= n:  # four rows of W per sweep: one load and store of Kc[k] serves four rows
            b0 = Kc[k - 1, i]
            b1 = Kc[k - 1, i + 1]
            b2 = Kc[k - 1, i + 2]
            b3 = Kc[k - 1, i + 3]
            a0 = 0.0
            a1 = 0.0
            a2 = 0.0
            a3 = 0.0
            for j in range(n):
                x = Ku[k - 1, j]
                w0 = W[i, j]
                w1 = W[i + 1, j]
                w2 = W[i + 2, j]
                w3 = W[i + 3, j]
                a0 += w0 * x
                a1 += w1 * x
                a2 += w2 * x
                a3 += w3 * x
                Kc[k, j] += (w0 * b0 + w1 * b1) + (w2 * b2 + w3 * b3)
            Ku[k, i] = a0
            Ku[k, i + 1] = a1
            Ku[k, i + 2] = a2
            Ku[k, i + 3] = a3
            i += 4
        while i < n:
            bi = Kc[k - 1, i]
            acc = 0.0
            for j in range(n):
                w = W[i, j]
                acc += w * Ku[k - 1, j]
                Kc[k, j] += w * bi
            Ku[k, i] = acc
            i += 1


@jit
def gram_w(Gc, Gu, out):
    """out[i, j] = Σ_{a=0}^{i-1} Σ_{a'=0}^{j-1} Gc[a, a'] Gu[i-1-a, j-1-a'], i, j = 0..J-1 (out: (J, J)).

    With c_a = (W^a)ᵀCᵀ, u_b = W^bU, Gc = [⟨c_a, c_a'⟩], Gu = [⟨u_b, u_b'⟩] this is ⟨∇_W L_i, ∇_W L_j⟩_F for
    ∇_W L_j = Σ_{a+b=j-1} c_a u_bᵀ.
    """
    J = out.shape[0]
    for i in range(J):
        for j in range(i, J):
            acc = 0.0
            for a in range(i):
                for ap in range(j):
                    acc += Gc[a, ap] * Gu[i - 1 - a, j - 1 - ap]
            out[i, j] = acc
            out[j, i] = acc


@jit
def _all_finite(M):
    for v in M.flat:
        if not np.isfinite(v):
            return False
    return True


@jit
def power_norms(A, out):
    """out[j] = ‖A^j‖₂ (largest singular value), j = 0..len(out)-1; from the first power that overflows on,
    out[j] = inf (the SVD of a non-finite matrix is undefined)."""
    m = A.shape[0]
    P = np.eye(m)
    for j in range(out.shape[0]):
        if j > 0:
            P = P @ A
        if not _all_finite(P):
            out[j:] = np.inf
            return
        out[j] = np.linalg.svd(P, False)[1][0] if m > 0 else 0.0


@jit
def benettin(W, dz, a, Q, logr):
    """Benettin/QR iteration: Q ← qr((a I + diag(dz_k) W) Q), logr[k] = log|diag R_k| (logr: (T, r)).

    W (m, m); dz (T, m) the factors c·σ'(z_k) of one trajectory; Q (m, r) an orthonormal start frame (overwritten).
    A step whose product is not finite sets logr[k:] = NaN and stops (the caller reports the first bad step).
    """
    T = dz.shape[0]
    r = Q.shape[1]
    for k in range(T):
        Z = W @ Q
        for i in range(Z.shape[0]):
            for c in range(r):
                Z[i, c] = dz[k, i] * Z[i, c] + a * Q[i, c]
        if not _all_finite(Z):
            logr[k:, :] = np.nan
            return
        q, R = np.linalg.qr(Z)
        for c in range(r):
            logr[k, c] = np.log(np.abs(R[c, c]))
        Q[:, :] = q


@jit
def backward_gains(W, dz, a, out):
    """out[j] = ‖J_{T-1} ⋯ J_{T-j}‖₂ with J_k = a I + diag(dz_k) W (out[0] = 1); dz (T, m) one trajectory.
    From the first product that overflows on, out[j] = inf."""
    T, m = dz.shape
    M = np.eye(m)
    out[0] = 1.0
    for j in range(1, out.shape[0]):
        k = T - j
        # M ← M J_k = (M diag(dz_k)) W + a M
        Md = M.copy()
        for i in range(m):
            for c in range(m):
                Md[i, c] *= dz[k, c]
        M = Md @ W + a * M
        if not _all_finite(M):
            out[j:] = np.inf
            return
        out[j] = np.linalg.svd(M, False)[1][0]
