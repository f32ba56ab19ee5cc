"""Slow, independent references for rnnmem.linear and rnnmem.ntk (plain NumPy loops, finite differences, mpmath)."""

from __future__ import annotations

import mpmath
import numpy as np


# ----------------------------------------------------------------------------- NTK
def markov_vector(W, U, C, J):
    """L_j = C W^j U by explicit matrix powers (scalar in/out: U, C vectors)."""
    return np.array([C @ np.linalg.matrix_power(W, j) @ U for j in range(J)])


def fd_gram(W, U, C, J, parameterization="ntk", lr=(1.0, 1.0, 1.0), h=1e-6):
    """G = Σ_b η_b J_b J_bᵀ from central finite differences of the Markov parameters w.r.t. the trained parameters.

    ntk: θ = (A = √n W, B = U, Γ = √n C); standard: θ = (W, U, C) and G is divided by n.
    Uses rnnmem.RNN.markov for the forward map (the library's own kernel, independent of ntk.empirical).
    """
    import rnnmem as rm

    n = W.shape[0]
    sW = np.sqrt(n) if parameterization == "ntk" else 1.0
    sC = np.sqrt(n) if parameterization == "ntk" else 1.0

    def L_of(A, B, Gm):
        r = rm.RNN(A / sW, B[:, None], np.zeros(n), (Gm / sC)[None, :], activation="linear")
        return r.markov(J)[:, 0, 0]

    A0, B0, G0 = W * sW, U.copy(), C * sC
    blocks = []
    for which in range(3):
        base = (A0, B0, G0)[which]
        Jac = np.empty((J, base.size))
        for idx in range(base.size):
            plus = [A0.copy(), B0.copy(), G0.copy()]
            minus = [A0.copy(), B0.copy(), G0.copy()]
            plus[which].flat[idx] += h
            minus[which].flat[idx] -= h
            Jac[:, idx] = (L_of(*plus) - L_of(*minus)) / (2 * h)
        blocks.append(Jac)
    G = lr[0] * blocks[0] @ blocks[0].T + lr[1] * blocks[1] @ blocks[1].T + lr[2] * blocks[2] @ blocks[2].T
    return G / n if parameterization == "standard" else G


def interpolant_formula(X, y, rho2, L0):
    """L0 + R Xᵀ (X R Xᵀ)⁻¹ (y − X L0) with an explicit solve (needs X R Xᵀ invertible)."""
    R = np.diag(rho2)
    return L0 + R @ X.T @ np.linalg.solve(X @ R @ X.T, y - X @ L0)


# ----------------------------------------------------------------------------- linear measures
def h2_by_sum(W, U, C, D, cell, dt, K=4000):
    """(Σ_{j<K} ‖L_j‖²_F)^{1/2} by explicit powers (rnnmem convention, L_0 includes D)."""
    m = W.shape[0]
    A = W if cell == "elman" else np.eye(m) + dt * W
    B = U if cell == "elman" else dt * U
    tot = 0.0
    P = np.eye(m)
    for j in range(K):
        L = C @ P @ B
        if j == 0 and D is not None:
            L = L + D
        tot += float(np.sum(L * L))
        P = P @ A
    return np.sqrt(tot)


def gramian_by_sum(A, B, K=4000):
    """Σ_{j<K} A^j B Bᵀ (A^j)ᵀ."""
    P = np.zeros((A.shape[0], A.shape[0]))
    V = B.copy()
    for _ in range(K):
        P += V @ V.T
        V = A @ V
    return P


def hankel_by_matrix(W, U, C, cell, dt, size=150):
    """Singular values of the finite Hankel matrix [C A^{i+j} B]_{i,j<size}."""
    m = W.shape[0]
    A = W if cell == "elman" else np.eye(m) + dt * W
    B = U if cell == "elman" else dt * U
    L = []
    P = np.eye(m)
    for _ in range(2 * size):
        L.append(C @ P @ B)
        P = P @ A
    H = np.block([[L[i + j] for j in range(size)] for i in range(size)])
    return np.linalg.svd(H, compute_uv=False)


def mc_lyapunov_naive(W, u, k_max):
    """Textbook MC_k = (W^k u)ᵀ P⁻¹ (W^k u) with P from the Lyapunov solver and an explicit inverse."""
    import scipy.linalg as sla

    P = sla.solve_discrete_lyapunov(W, np.outer(u, u))
    Pi = np.linalg.inv(P)
    v = u.copy()
    out = []
    for _ in range(k_max):
        out.append(v @ Pi @ v)
        v = W @ v
    return np.array(out)


def mc_mpmath(W, u, k_max, dps=60, tail=1e-40):
    """MC_k in extended precision: P = Σ_k v_k v_kᵀ summed until ‖v_k‖² < tail, then v_kᵀ P⁻¹ v_k (mpmath)."""
    with mpmath.workdps(dps):
        m = W.shape[0]
        Wm = mpmath.matrix(W.tolist())
        v = mpmath.matrix([[mpmath.mpf(float(x))] for x in u])
        P = mpmath.zeros(m, m)
        vs = []
        while True:
            vs.append(v)
            P += v * v.T
            if mpmath.norm(v) ** 2 < tail:
                break
            v = Wm * v
        Pi = mpmath.inverse(P)
        out = []
        for k in range(k_max):
            vk = vs[k] if k < len(vs) else mpmath.zeros(m, 1)
            out.append(float((vk.T * Pi * vk)[0]))
        return np.array(out)


def fisher_by_sum(W, u, k_max, noise=1.0, K=4000):
    """J(k) = uᵀ(W^k)ᵀ C_n⁻¹ W^k u / ε with C_n = Σ_{j<K} W^j (W^j)ᵀ."""
    m = W.shape[0]
    Cn = gramian_by_sum(W, np.eye(m), K)
    Ci = np.linalg.inv(Cn)
    v = u.copy()
    out = []
    for _ in range(k_max):
        out.append(v @ Ci @ v / noise)
        v = W @ v
    return np.array(out)


def jacobians(rnn, x):
    """State Jacobians ∂s_k/∂s_{k-1} of one trajectory x (T, d), by central finite differences of one step."""
    m = rnn.hidden
    S = rnn.states(x)  # (T, m)
    out = []
    for k in range(x.shape[0]):
        prev = S[k - 1] if k > 0 else np.zeros(m)
        h = 1e-6 * (1.0 + np.abs(prev).max())  # relative step: rounding error eps·|s|/h stays ~1e-10
        Jk = np.empty((m, m))
        for i in range(m):
            e = np.zeros(m)
            e[i] = h
            Jk[:, i] = (_step(rnn, prev + e, x[k]) - _step(rnn, prev - e, x[k])) / (2 * h)
        out.append(Jk)
    return out


def _step(rnn, s, xk):
    z = rnn.W @ s + rnn.U @ xk + rnn.b
    act = {"tanh": np.tanh, "linear": lambda v: v, "relu": lambda v: np.maximum(v, 0),
           "hardtanh": lambda v: np.clip(v, -1, 1)}[rnn.activation]
    return act(z) if rnn.cell == "elman" else s + rnn.dt * act(z)


def benettin(Js, k, Q0):
    """Benettin QR iteration over a list of Jacobians with start frame Q0: mean log|diag R| (plain loop)."""
    Q = Q0.copy()
    acc = np.zeros(k)
    for Jk in Js:
        Q, R = np.linalg.qr(Jk @ Q)
        acc += np.log(np.abs(np.diag(R)))
    return acc / len(Js)
