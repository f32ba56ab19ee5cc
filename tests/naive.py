"""Slow, independent plain-NumPy references (loops over batch and time, nothing shared with the kernels)."""

from __future__ import annotations

import numpy as np


def act(z, name):
    if name == "tanh":
        return np.tanh(z)
    if name == "linear":
        return z.copy()
    if name == "hardtanh":
        return np.clip(z, -1.0, 1.0)
    if name == "relu":
        return np.maximum(z, 0.0)
    raise ValueError(name)


def dact(z, name):
    if name == "tanh":
        return 1.0 - np.tanh(z) ** 2
    if name == "linear":
        return np.ones_like(z)
    if name == "hardtanh":
        return ((z > -1.0) & (z < 1.0)).astype(float)
    if name == "relu":
        return (z > 0.0).astype(float)
    raise ValueError(name)


def forward(W, U, b, C, D, x, cell, activation, dt):
    """Returns (y (B,T,p), states (B,T,m), pre-activations (B,T,m)) written as in docs/math.md §1."""
    B, T, _ = x.shape
    m = W.shape[0]
    p = C.shape[0]
    y = np.zeros((B, T, p))
    H = np.zeros((B, T, m))
    Z = np.zeros((B, T, m))
    for n in range(B):
        h = np.zeros(m)  # elman: h_{-1}; euler: h_0
        for k in range(T):
            z = W @ h + U @ x[n, k] + b
            if cell == "elman":
                h = act(z, activation)
            else:
                h = h + dt * act(z, activation)
            Z[n, k] = z
            H[n, k] = h
            y[n, k] = C @ h + (D @ x[n, k] if D is not None else 0.0)
    return y, H, Z


def vjp(W, U, b, C, D, x, dy, cell, activation, dt):
    """Gradients of sum(dy * y) by reverse-mode through the loop above, one sequence and step at a time."""
    B, T, d = x.shape
    m = W.shape[0]
    _, H, Z = forward(W, U, b, C, D, x, cell, activation, dt)
    gW = np.zeros_like(W)
    gU = np.zeros_like(U)
    gb = np.zeros_like(b)
    gC = np.zeros_like(C)
    gD = None if D is None else np.zeros_like(D)
    gx = np.zeros_like(x)
    for n in range(B):
        gh = np.zeros(m)  # dL/dh_k flowing back from step k+1
        for k in range(T - 1, -1, -1):
            gh = gh + C.T @ dy[n, k]
            gC += np.outer(dy[n, k], H[n, k])
            if D is not None:
                gD += np.outer(dy[n, k], x[n, k])
                gx[n, k] += D.T @ dy[n, k]
            hprev = H[n, k - 1] if k > 0 else np.zeros(m)
            if cell == "elman":
                gz = dact(Z[n, k], activation) * gh
                gh_prev = W.T @ gz
            else:
                gz = dt * dact(Z[n, k], activation) * gh
                gh_prev = gh + W.T @ gz
            gW += np.outer(gz, hprev)
            gU += np.outer(gz, x[n, k])
            gb += gz
            gx[n, k] += U.T @ gz
            gh = gh_prev
    return dict(W=gW, U=gU, b=gb, C=gC, D=gD, x=gx)


def markov(W, U, C, D, n, cell, dt):
    """L_j by explicit matrix powers."""
    m = W.shape[0]
    A = W if cell == "elman" else np.eye(m) + dt * W
    scale = 1.0 if cell == "elman" else dt
    L = np.array([scale * C @ np.linalg.matrix_power(A, j) @ U for j in range(n)])
    if D is not None:
        L[0] += D
    return L


def convolve(L, x):
    """y_k = Σ_{j≤k} L_j x_{k-j} as a double loop."""
    B, T, _ = x.shape
    p = L.shape[1]
    y = np.zeros((B, T, p))
    for n in range(B):
        for k in range(T):
            for j in range(k + 1):
                y[n, k] += L[j] @ x[n, k - j]
    return y
