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
    """L_j by explicit matrix powers, accumulated from the right (P_j = P_{j-1} A, L_j = scale·C P_j U: another
    association than the library's kernel, which forms A^j U from the left)."""
    m = W.shape[0]
    A = W if cell == "elman" else np.eye(m) + dt * W
    scale = 1.0 if cell == "elman" else dt
    P = np.eye(m)
    L = []
    for _ in range(n):
        L.append(scale * C @ P @ U)
        P = P @ A
    L = np.array(L)
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


# ----------------------------------------------------------------------------- rounding-error bounds
# Running (first-order) error analysis of the recurrence above, in the style of Higham, "Accuracy and Stability of
# Numerical Algorithms" (2nd ed.), §3.1 and §3.5: a sum of n products computed in ANY order (loops, BLAS, FMA)
# satisfies |fl(Σ a_i b_i) − Σ a_i b_i| <= γ_n Σ|a_i b_i| with γ_n = n·u/(1 − n·u), u = ε/2; an error δ in an
# argument propagates through σ with the local Lipschitz constant max|σ'| over [z − δ, z + δ]. The bounds are on
# |computed − exact|, so two implementations of the same map (a kernel and the loops above) differ by at most
# twice the bound. They scale with the magnitudes actually summed, never with the result, so they stay valid when
# a result cancels to (nearly) zero.
U_ROUND = np.finfo(np.float64).eps / 2
TANH_ULP = 3  # the kernels' tanh is within 3 ulp of tanh (tests/test_rnn.py), numpy's within 1


#: the spacing of subnormal numbers: with gradual underflow every operation may also err by ETA/2 in absolute value
#: (Higham, eq. (2.8)), so a computation of n operations carries an extra n·ETA
ETA = 2.0**-1074


def gamma(n):
    return n * U_ROUND / (1.0 - n * U_ROUND)


def rounding(n, mag):
    """Error bound of a sum of n products of magnitude ``mag`` (Σ|a_i b_i|): γ_n·mag + 2n·ETA (underflow)."""
    return gamma(n) * mag + 2 * n * ETA


def _lipschitz(z, dz, name):
    """max |σ'(w)| over |w − z| <= dz (elementwise)."""
    if name == "tanh":
        return 1.0 - np.tanh(np.maximum(np.abs(z) - dz, 0.0)) ** 2
    if name == "linear":
        return np.ones_like(z)
    if name == "relu":
        return (z + dz > 0.0).astype(float)
    return (np.abs(z) - dz < 1.0).astype(float)  # hardtanh


def _derivative_error(z, dz, name):
    """Bound on |σ'(z̃) − σ'(z)| for |z̃ − z| <= dz, plus the rounding of σ' itself."""
    if name == "tanh":  # |σ''| <= 4/(3√3); σ' = 1 − t² from a t within TANH_ULP ulp: 2|t|·δt + rounding
        return 4.0 / (3.0 * np.sqrt(3.0)) * dz + (2 * TANH_ULP + 2) * 2 * U_ROUND + 4 * ETA
    if name == "linear":
        return np.zeros_like(z)
    kinks = [0.0] if name == "relu" else [-1.0, 1.0]
    near = np.zeros(z.shape, dtype=bool)
    for c in kinks:  # σ' jumps by 1 at a kink: the two computations may disagree there
        near |= (np.abs(z - c) <= dz) & (dz > 0)
    return near.astype(float)


def forward_bound(W, U, b, C, D, x, cell, activation, dt, dW=None):
    """Bounds on |computed − exact| of the outputs y (B,T,p) and states (B,T,m); also returns the intermediate
    magnitudes that :func:`vjp_bound` needs. ``dW``: an elementwise bound on the error of W itself (a W formed
    from other parameters, e.g. rnnmem.reparam's −Pᵀ diag(f(w)) P), carried like the state's error."""
    B, T, d = x.shape
    m = W.shape[0]
    aW, aU, ab, aC = np.abs(W), np.abs(U), np.abs(b), np.abs(C)
    aD = None if D is None else np.abs(D)
    nz = m + d + 1  # terms of z = W h + U x + b
    h = np.zeros((B, m))
    Eh = np.zeros((B, m))
    H, EH, Z, EZ = (np.zeros((B, T, m)) for _ in range(4))
    for k in range(T):
        xk = x[:, k]
        z = h @ W.T + xk @ U.T + b
        Ez = Eh @ aW.T + rounding(nz, np.abs(h) @ aW.T + np.abs(xk) @ aU.T + ab)
        if dW is not None:
            Ez = Ez + np.abs(h) @ dW.T
        sig = act(z, activation)
        Esig = _lipschitz(z, Ez, activation) * Ez
        if activation == "tanh":
            Esig = Esig + TANH_ULP * 2 * U_ROUND * np.abs(sig) + TANH_ULP * ETA
        if cell == "elman":
            h, Eh = sig, Esig
        else:  # h + dt·σ: one product, one sum
            new = h + dt * sig
            Eh = Eh + dt * Esig + rounding(1, dt * np.abs(sig) + np.abs(new))
            h = new
        H[:, k], EH[:, k], Z[:, k], EZ[:, k] = h, Eh, z, Ez
    Ey = EH @ aC.T + rounding(m + d, np.abs(H) @ aC.T + (0.0 if aD is None else np.abs(x) @ aD.T))
    return dict(y=Ey, h=EH, H=H, Z=Z, Ez=EZ)


def vjp_bound(W, U, b, C, D, x, dy, cell, activation, dt, dW=None, ddy=None):
    """Bounds on |computed − exact| of every block of the gradient of sum(dy · y) (keys W, U, b, C, D, x) and of
    the outputs (key y), for any implementation that evaluates the recurrence and its adjoint as sums of
    products (the kernels of rnnmem._kernels and the loops of :func:`vjp` alike). ``dW`` as in
    :func:`forward_bound`; ``ddy``: an elementwise bound on the error of dy itself (e.g. a loss derivative computed
    from the outputs)."""
    B, T, d = x.shape
    m = W.shape[0]
    p = C.shape[0]
    fb = forward_bound(W, U, b, C, D, x, cell, activation, dt, dW)
    dyerr = np.zeros_like(dy) if ddy is None else np.broadcast_to(ddy, dy.shape)
    H, EH, Z, EZ = fb["H"], fb["h"], fb["Z"], fb["Ez"]
    aW, aU, aC = np.abs(W), np.abs(U), np.abs(C)
    aD = None if D is None else np.abs(D)
    a, c = (0.0, 1.0) if cell == "elman" else (1.0, dt)
    adx = np.abs(x)
    ady = np.abs(dy)
    g_next = np.zeros((B, m))
    Eg_next = np.zeros((B, m))
    gz_next = np.zeros((B, m))
    Egz_next = np.zeros((B, m))
    GZ, EGZ = np.zeros((B, T, m)), np.zeros((B, T, m))
    for k in range(T - 1, -1, -1):
        # g_k = Cᵀ dy_k + a g_{k+1} + Wᵀ gz_{k+1}: 1 + p + m terms
        g = dy[:, k] @ C + a * g_next + gz_next @ W
        Eg = a * Eg_next + Egz_next @ aW + rounding(1 + p + m, ady[:, k] @ aC + a * np.abs(g_next)
                                                    + np.abs(gz_next) @ aW) + dyerr[:, k] @ aC
        if dW is not None:
            Eg = Eg + np.abs(gz_next) @ dW
        z, Ez = Z[:, k], EZ[:, k]
        sd = c * dact(z, activation)
        Esd = c * _derivative_error(z, Ez, activation) + rounding(1, np.abs(sd))
        gz = sd * g
        Egz = np.abs(sd) * Eg + Esd * np.abs(g) + rounding(1, np.abs(gz))
        GZ[:, k], EGZ[:, k] = gz, Egz
        g_next, Eg_next, gz_next, Egz_next = g, Eg, gz, Egz
    n_acc = B * T  # the parameter gradients are sums over every (sequence, step)
    Hprev = np.concatenate([np.zeros((B, 1, m)), H[:, :-1]], axis=1)
    EHprev = np.concatenate([np.zeros((B, 1, m)), EH[:, :-1]], axis=1)
    aGZ = np.abs(GZ)

    def outer_sum(A, Bm):
        return np.einsum("nti,ntj->ij", A, Bm)

    out = dict(y=fb["y"])
    out["W"] = outer_sum(EGZ, np.abs(Hprev)) + outer_sum(aGZ, EHprev) + rounding(n_acc, outer_sum(aGZ, np.abs(Hprev)))
    out["U"] = outer_sum(EGZ, adx) + rounding(n_acc, outer_sum(aGZ, adx))
    out["b"] = EGZ.sum(axis=(0, 1)) + rounding(n_acc, aGZ.sum(axis=(0, 1)))
    out["C"] = outer_sum(ady, EH) + outer_sum(dyerr, np.abs(H)) + rounding(n_acc, outer_sum(ady, np.abs(H)))
    out["D"] = None if D is None else outer_sum(dyerr, adx) + rounding(n_acc, outer_sum(ady, adx))
    out["x"] = EGZ @ aU + (0.0 if aD is None else dyerr @ aD) + rounding(
        m + p, aGZ @ aU + (0.0 if aD is None else ady @ aD))
    return out


def loss_error(yhat, Ey, y_target, loss, power=2.0):
    """Round-off bound of a loss computed from outputs ``yhat`` that are within ``Ey`` of exact (rnnmem.RNN
    .loss_and_grad's formulas): the outputs' bound weighted by |∂loss/∂y|, plus the rounding of the formula itself
    (γ_n times the magnitudes it sums). Also returns a bound on the error of ∂loss/∂y (what BPTT starts from)."""
    B, T, p = yhat.shape
    if loss == "cross_entropy":  # mean_b (log Σ_o e^{z_o} − z_label), z = logits − max: |∂/∂logits| <= 2/B
        logits = yhat[:, -1]
        z = logits - logits.max(axis=1, keepdims=True)
        lse = np.log(np.exp(z).sum(axis=1))
        mags = np.abs(logits).sum(axis=1) + np.abs(logits).max(axis=1) + lse
        err = 2.0 / B * Ey[:, -1].sum() + rounding(p + B + 8, mags.sum() / B)
        dd = np.zeros_like(yhat)  # softmax is 1/4-Lipschitz per logit: |Δ(p − onehot)/B| <= (Σ Ey/2 + rounding)/B
        dd[:, -1] = (Ey[:, -1].sum(axis=1, keepdims=True) / 2 + rounding(2 * p + 8, 1.0)) / B
        return float(err), dd
    r = yhat - y_target
    w = np.ones((1, T, 1)) if loss == "mse" else (((np.arange(T) + 1.0) / (T + 1.0)) ** power)[None, :, None]
    n = r.size  # Σ w r²/n, r = ŷ − y: the residual's rounding u(|ŷ| + |y|), then a sum of n terms
    dr = Ey + rounding(1, np.abs(yhat) + np.abs(y_target))
    err = (2.0 * w * np.abs(r) / n * dr).sum() + rounding(n + 8, (w * r * r).sum() / n)
    return float(err), 2.0 * w * dr / n + rounding(4, 2.0 * w * np.abs(r) / n)


def markov_magnitude(W, U, C, D, n, cell, dt):
    """scale·|C| Â^j |U| (+|D| at lag 0), Â = |W| (elman) or |I + dt·W| + dt·|W| (euler: also covers the rounding
    of A = I + dt·W): the magnitude of the terms summed in L_j."""
    m = W.shape[0]
    A = np.abs(W) if cell == "elman" else np.abs(np.eye(m) + dt * W) + dt * np.abs(W)
    scale = 1.0 if cell == "elman" else dt
    out = []
    v = np.abs(U)
    with np.errstate(over="ignore", invalid="ignore"):  # |A|^j may overflow where A^j decays: inf is a valid bound
        for j in range(n):
            mag = scale * np.abs(C) @ v
            if j == 0 and D is not None:
                mag = mag + np.abs(D)
            out.append(mag)
            v = A @ v
    return np.array(out)


_POWER_NORMS: dict = {}


def power_norms(A, n):
    """‖A^k‖₂ for k = 0..n-1 (by repeated products; a magnitude, so its own rounding is immaterial). Cached."""
    key = (A.tobytes(), A.shape, n)
    if key not in _POWER_NORMS:
        if len(_POWER_NORMS) > 64:
            _POWER_NORMS.clear()
        stack = np.empty((n,) + A.shape)
        P = np.eye(A.shape[0])
        for k in range(n):
            stack[k] = P
            P = P @ A
        _POWER_NORMS[key] = np.linalg.svd(stack, compute_uv=False)[:, 0]
    return _POWER_NORMS[key]


def fro(A):
    """Frobenius norm without underflow or overflow of the squares (entries of 1e-200 give 1e-200, not 0)."""
    A = np.asarray(A, dtype=float)
    s = np.abs(A).max(initial=0.0)
    return float(s * np.linalg.norm(A / s)) if s > 0 else 0.0


def power_error_norms(A, n):
    """Normwise first-order bound on ‖fl(A^j) − A^j‖_F (and, times ‖X‖_F, on ‖fl(A^j X) − A^j X‖_F) when A^j is
    formed by j − 1 products from either side: the i-th product errs by γ_m ‖A‖_F ‖A^{i-1}‖_F, which the remaining
    j − i factors carry with ‖A^{j-i}‖₂, so the bound is γ_m ‖A‖_F √m Σ_i ‖A^{j-i}‖₂ ‖A^{i-1}‖₂ (a convolution of
    :func:`power_norms`). Unlike the elementwise |A|^j, this decays with the powers of a stable non-normal A."""
    m = A.shape[0]
    G = power_norms(A, n)
    conv = np.concatenate([[0.0], np.convolve(G, G)[:n - 1]])  # conv[j] = Σ_{i=1}^{j} G[j-i] G[i-1]
    return gamma(m) * fro(A) * np.sqrt(m) * conv


def markov_bound(W, U, C, D, n, cell, dt):
    """Bound on |computed − exact| of L_0..L_{n-1} (elementwise), valid for the library's kernel (A^j U from the
    left) and for :func:`markov` (from the right): the smaller of two valid bounds,

    - elementwise, for any association: γ_{(j+3)(m+2)} times :func:`markov_magnitude` (products of j + 2 matrices
      of inner size <= m + 1, plus the rounding of A = I + dt·W); tight for short horizons, but |A|^j can grow
      (even overflow) while A^j decays;
    - normwise (each entry <= the Frobenius norm): scale·‖C‖_F ‖U‖_F times :func:`power_error_norms` plus the last
      two products, γ_{2m}·scale‖C‖_F √m ‖A^j‖₂ ‖U‖_F, plus |D|'s rounding at lag 0, plus the rounding of A."""
    m = W.shape[0]
    mag = markov_magnitude(W, U, C, D, n, cell, dt)
    with np.errstate(over="ignore", invalid="ignore"):
        elem = np.array([rounding((j + 3) * (m + 2), mag[j]) for j in range(n)])
    A = W if cell == "elman" else np.eye(m) + dt * W
    scale = 1.0 if cell == "elman" else dt
    G = power_norms(A, n)
    dA = 0.0 if cell == "elman" else rounding(2, np.sqrt(m) + dt * fro(W))
    conv = np.concatenate([[0.0], np.convolve(G, G)[:n - 1]])  # Σ_i ‖A^{j-i}‖ ‖A^{i-1}‖: also carries ΔA
    pw = power_error_norms(A, n) + dA * conv
    nC, nU = fro(C), fro(U)
    norm = (scale * nC * nU * pw + rounding(2 * m, scale * nC * np.sqrt(m) * G * nU)
            + 2 * ETA * (np.arange(n) + 3) * (m + 2))
    norm = np.broadcast_to(norm[:, None, None], elem.shape).copy()
    if D is not None:
        norm[0] += rounding(1, np.abs(D) + scale * np.abs(C) @ np.abs(U))
    return np.fmin(np.nan_to_num(elem, nan=np.inf), norm)


def assert_within(got, ref, bound, name="", factor=2.0):
    """|got − ref| <= factor · bound elementwise (factor 2: each of the two computations is within bound of the
    exact value). On failure, names the worst element, both values, the difference and the bound."""
    got, ref, bound = (np.asarray(v, dtype=np.float64) for v in (got, ref, bound))
    if np.isnan(bound).any():
        raise AssertionError(f"{name}: the error bound itself is NaN (an undefined product such as 0·inf)")
    bound = np.broadcast_to(bound, np.broadcast_shapes(got.shape, ref.shape, bound.shape))
    diff = np.abs(got - ref)
    if not np.all(diff <= factor * bound):
        i = tuple(int(k) for k in np.unravel_index(int(np.argmax(diff - factor * bound)), diff.shape))
        raise AssertionError(
            f"{name}{list(i)}: {np.broadcast_to(got, diff.shape)[i]:.17g} vs {np.broadcast_to(ref, diff.shape)[i]:.17g}"
            f": |diff| {diff[i]:.3g} > {factor} x bound {bound[i]:.3g}; "
            f"{int(np.sum(diff > factor * bound))} of {diff.size} elements out of bound")
