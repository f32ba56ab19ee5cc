"""Slow, independent references for rnnmem.linear and rnnmem.ntk (plain NumPy loops, finite differences, mpmath)."""

from __future__ import annotations

import mpmath
import naive
import numpy as np


# ----------------------------------------------------------------------------- NTK
def markov_vector(W, U, C, J):
    """L_j = C W^j U by explicit matrix powers (scalar in/out: U, C vectors)."""
    return np.array([C @ np.linalg.matrix_power(W, j) @ U for j in range(J)])


def fd_gram(W, U, C, J, parameterization="ntk", lr=(1.0, 1.0, 1.0), with_error=False):
    """G = Σ_b η_b J_b J_bᵀ from central finite differences (tests/gradcheck.py) of the Markov parameters w.r.t. the
    trained parameters; ntk: θ = (A = √n W, B = U, Γ = √n C); standard: θ = (W, U, C) and G is divided by n.
    Uses rnnmem.RNN.markov for the forward map (the library's own kernel, independent of ntk.empirical), whose
    round-off is tests/naive.py's markov_bound. With ``with_error``, also a bound on |G − exact G|: the Jacobians'
    per-entry bounds E_b (2·truncation + round-off / h) propagate as Σ_b η_b (|J_b| E_bᵀ + E_b |J_b|ᵀ + E_b E_bᵀ),
    plus the rounding of the products."""
    from gradcheck import central_differences

    import rnnmem as rm

    n = W.shape[0]
    sW = np.sqrt(n) if parameterization == "ntk" else 1.0
    sC = np.sqrt(n) if parameterization == "ntk" else 1.0
    f_error = naive.markov_bound(W, U[:, None], C[None, :], None, J, "elman", 1.0)[:, 0, 0]
    theta0 = (W * sW, U.copy(), C * sC)
    G = np.zeros((J, J))
    err = np.zeros((J, J))
    for which in range(3):
        def L_of(v, which=which):
            th = list(theta0)
            th[which] = v
            r = rm.RNN(th[0] / sW, th[1][:, None], np.zeros(n), (th[2] / sC)[None, :], activation="linear")
            return r.markov(J)[:, 0, 0]

        res = central_differences(L_of, theta0[which], f_error=2 * f_error)  # 2: also the rounding of θ / s
        Jb = res.fd.reshape(J, -1)
        Eb = (2.0 * res.truncation + res.roundoff).reshape(J, -1)
        aJ = np.abs(Jb)
        G += lr[which] * Jb @ Jb.T
        err += lr[which] * (aJ @ Eb.T + Eb @ aJ.T + Eb @ Eb.T + naive.rounding(Jb.shape[1] + 3, aJ @ aJ.T))
    G, err = (G / n, err / n) if parameterization == "standard" else (G, err)
    return (G, err) if with_error else G


def gram_magnitude(W, U, C, J, parameterization="ntk", lr=(1.0, 1.0, 1.0)):
    """ntk.empirical's formulas evaluated on |W|, |U|, |C| (u_b = |W|^b|U|, c_a = (|W|ᵀ)^a|C|, G^W_ij =
    Σ_{a<i, a'<j} ⟨c_a, c_a'⟩⟨u_{i-1-a}, u_{j-1-a'}⟩): the magnitude of every term the library sums, so that its
    result is within γ_N times this (N = the longest chain of products and sums, see the test)."""
    n = W.shape[0]
    aW = np.abs(W)
    Ku, Kc = np.empty((J, n)), np.empty((J, n))
    u, c = np.abs(U), np.abs(C)
    for k in range(J):
        Ku[k], Kc[k] = u, c
        u, c = aW @ u, aW.T @ c
    Gu, Gc = Ku @ Ku.T, Kc @ Kc.T
    Gw = np.zeros((J, J))
    for i in range(J):
        for j in range(J):
            Gw[i, j] = sum(Gc[a, b] * Gu[i - 1 - a, j - 1 - b] for a in range(i) for b in range(j))
    eW, eU, eC = lr
    sW, sU, sC = (eW / n, eU, eC / n) if parameterization == "ntk" else (eW / n, eU / n, eC / n)
    return sW * Gw + sU * Gc + sC * Gu


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
    L = np.array(L)
    idx = np.arange(size)[:, None] + np.arange(size)[None, :]
    p, d = L.shape[1:]
    H = L[idx].transpose(0, 2, 1, 3).reshape(size * p, size * d)  # block (i, j) = L_{i+j}
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


def _step(rnn, s, xk):
    z = rnn.W @ s + rnn.U @ xk + rnn.b
    act = {"tanh": np.tanh, "linear": lambda v: v, "relu": lambda v: np.maximum(v, 0),
           "hardtanh": lambda v: np.clip(v, -1, 1)}[rnn.activation]
    return act(z) if rnn.cell == "elman" else s + rnn.dt * act(z)


def _step_error(rnn, s, xk):
    """Running error bound of one computed step s ↦ a s + c σ(W s + U x + b) (tests/naive.py's model)."""
    m, d = rnn.hidden, rnn.inputs
    z = rnn.W @ s + rnn.U @ xk + rnn.b
    Ez = naive.rounding(m + d + 1, np.abs(rnn.W) @ np.abs(s) + np.abs(rnn.U) @ np.abs(xk) + np.abs(rnn.b))
    sig = _step(rnn, s, xk) if rnn.cell == "elman" else (_step(rnn, s, xk) - s) / rnn.dt
    err = naive._lipschitz(z, Ez, rnn.activation) * Ez + naive.rounding(naive.TANH_ULP, np.abs(sig))
    if rnn.cell == "elman":
        return err
    return rnn.dt * err + naive.rounding(2, rnn.dt * np.abs(sig) + np.abs(s + rnn.dt * sig))


def _act_complex(z, name):
    """σ on complex arguments for complex-step differentiation: tanh and linear are analytic; relu and hardtanh are
    extended piecewise, branching on the real part (each piece is linear, so its complex extension is exact)."""
    if name == "tanh":
        return np.tanh(z)
    if name == "linear":
        return z
    if name == "relu":
        return np.where(z.real > 0.0, z, 0.0)
    return np.where(z.real > 1.0, 1.0, np.where(z.real < -1.0, -1.0, z))  # hardtanh


def jacobians(rnn, x, with_errors=False, method="complex"):
    """State Jacobians ∂s_k/∂s_{k-1} of one trajectory x (T, d), differentiating one step of plain NumPy code.

    method="complex": complex-step differentiation J[:, i] = Im step(s + iηe_i)/η, η = 2^-80. No difference is
    taken, so there is no cancellation: the error is the rounding of NumPy's complex tanh and of the step (a few
    ulp, bounded by 16u·(a + c|W_ji|)) plus a truncation η²·|third derivative|/6 ~ 1e-48, neglected; for relu and
    hardtanh a row whose pre-activation lies within rounding (γ_{m+d+1}·magnitudes) of a kink may take the other
    piece than exact arithmetic: its error bound is then c|W_j·|.
    method="central": central differences (tests/gradcheck.py, error bound 2·truncation + round-off of the step
    / h), the step shrunk near a kink of relu/hardtanh to a quarter of the distance of z to it (in units of
    max|W|), so that no difference straddles a kink. Used to check the complex-step Jacobians themselves.
    With ``with_errors``, also returns the per-entry error bounds."""
    from gradcheck import DEFAULT_STEP, central_differences

    m, d = rnn.hidden, rnn.inputs
    S = rnn.states(x)  # (T, m)
    a, c = (0.0, 1.0) if rnn.cell == "elman" else (1.0, rnn.dt)
    kinks = {"relu": [0.0], "hardtanh": [-1.0, 1.0]}.get(rnn.activation, [])
    out, errs = [], []
    for k in range(x.shape[0]):
        prev = S[k - 1] if k > 0 else np.zeros(m)
        z = rnn.W @ prev + rnn.U @ x[k] + rnn.b
        if method == "complex":
            eta = 2.0**-80
            Jk = np.empty((m, m))
            for i in range(m):
                sc = prev.astype(complex)
                sc[i] += 1j * eta
                zc = rnn.W @ sc + rnn.U @ x[k] + rnn.b
                sig = _act_complex(zc, rnn.activation)
                Jk[:, i] = (sig if rnn.cell == "elman" else sc + rnn.dt * sig).imag / eta
            Ez = naive.rounding(m + d + 1, np.abs(rnn.W) @ np.abs(prev) + np.abs(rnn.U) @ np.abs(x[k])
                                + np.abs(rnn.b))
            near = np.zeros(m, dtype=bool)
            for kk in kinks:
                near |= np.abs(z - kk) <= Ez
            out.append(Jk)
            errs.append(naive.rounding(16, a * np.eye(m) + c * np.abs(rnn.W)) + c * near[:, None] * np.abs(rnn.W))
            continue
        step = DEFAULT_STEP
        if kinks:
            dist = min(np.abs(z - kk).min() for kk in kinks)
            reach = np.abs(rnn.W).max() * max(1.0, np.abs(prev).max())  # |Δz| per unit relative step
            step = min(step, 0.25 * dist / reach) if reach > 0 else step
        res = central_differences(lambda s, xk=x[k]: _step(rnn, s, xk), prev, step=step,
                                  f_error=_step_error(rnn, prev, x[k]))
        out.append(res.fd)
        errs.append(2.0 * res.truncation + res.roundoff)
    return (out, errs) if with_errors else out


def library_jacobian_error(rnn, x):
    """Bound on |J̃_k − J_k| for the Jacobians a I + diag(c σ'(z̃_k)) W that rnnmem.linear forms along its computed
    trajectory s̃ (the states rnn.states(x) returns: the same kernel), against the exact Jacobians at s̃: the
    library's z̃_k = W s̃_{k-1} + U x_k + b is within γ_{m+d+1}(|W||s̃| + |U||x| + |b|) of the exact one, which moves
    σ' by at most max|σ''| times that (or by 1 at a kink within reach); plus the rounding of a + c σ' W."""
    S = rnn.states(x)
    m, d = rnn.hidden, rnn.inputs
    a, c = (0.0, 1.0) if rnn.cell == "elman" else (1.0, rnn.dt)
    out = []
    for k in range(x.shape[0]):
        prev = S[k - 1] if k > 0 else np.zeros(m)
        z = rnn.W @ prev + rnn.U @ x[k] + rnn.b
        Ez = naive.rounding(m + d + 1, np.abs(rnn.W) @ np.abs(prev) + np.abs(rnn.U) @ np.abs(x[k]) + np.abs(rnn.b))
        derr = naive._derivative_error(z, 2 * Ez, rnn.activation)  # 2 Ez: the reference's z is off by Ez too
        J = a * np.eye(m) + c * naive.dact(z, rnn.activation)[:, None] * rnn.W
        out.append(c * derr[:, None] * np.abs(rnn.W) + naive.rounding(3, np.abs(J) + a * np.eye(m)))
    return out


def gain_bound(Js, dJ, j_max):
    """Bounds on |‖Π J̃‖₂ − ‖Π J‖₂| for the backward products M_j = J_{T-1} ⋯ J_{T-j}, j < j_max, given
    ‖J̃_t − J_t‖₂ <= dJ[t]: Σ_i ‖left_i‖₂ dJ_i ‖right_i‖₂ (first order; the δ² terms, ~1e-20, are neglected),
    plus the rounding of each side's product of j matrices (γ_{jm}·‖|J|⋯|J|‖₂) and of its 2-norm (SVD)."""
    T, m = len(Js), Js[0].shape[0]
    out = [naive.gamma(4 * m)]
    for j in range(1, j_max):
        idx = [T - i for i in range(1, j + 1)]  # M = J_{idx[0]} ⋯ J_{idx[-1]}
        first = 0.0
        for pos in range(j):
            left = np.eye(m)
            for t in idx[:pos]:
                left = left @ Js[t]
            right = np.eye(m)
            for t in idx[pos + 1:]:
                right = right @ Js[t]
            first += np.linalg.norm(left, 2) * dJ[idx[pos]] * np.linalg.norm(right, 2)
        M = np.eye(m)
        Mabs = np.eye(m)
        for t in idx:
            M = M @ Js[t]
            Mabs = Mabs @ np.abs(Js[t])
        out.append(first + 2 * naive.gamma((j + 1) * m) * np.linalg.norm(Mabs, 2)
                   + 2 * naive.gamma(10 * m) * np.linalg.norm(M, 2))
    return np.array(out)


def benettin_interval(Js, dJ, Q0):
    """Interval [lo_i, hi_i] for each Lyapunov exponent λ_i of the Benettin iteration over Jacobians J̃_t with
    ‖J̃_t − J_t‖₂ <= dJ[t] (J_t the given ones) and a start frame within rounding of Q0.

    Error model (rigorous, not first order): the first i columns of the frame evolve on their own
    (span Q_t[:, :i] = J_t span Q_{t-1}[:, :i]) and Σ_{j<=i} log|R_t[j, j]| = log vol_i(J_t Q_{t-1}[:, :i]). Write
    the perturbed frame Q' = Q G + Q⊥ K (‖K‖ = sin θ, G's singular values in [cos θ, 1]) and A = J Q = Q_t R. In the
    basis [Q_t, Q⊥_t] the perturbed A' = J̃ Q' has the blocks R G + E (‖E‖ <= ‖Q_tᵀ J Q⊥‖ sin θ + dJ =: e) and
    F = Q⊥_tᵀ J Q⊥ K + Q⊥_tᵀ ΔJ Q' (‖F‖ <= ‖Q⊥_tᵀ J Q⊥‖ sin θ + dJ). Weyl: each singular value of R G + E lies in
    [σ_j(R) cos θ − e, σ_j(R) + e]; vol_i(A') lies between |det(RG + E)| and that times (1 + tan²θ')^{i/2}, where
    tan θ' <= ‖F‖ / σ_min(RG + E) bounds the next angle; and always vol_i(A') <= Π_{j<=i} (σ_j(J) + dJ).
    λ_i = Λ_i − Λ_{i-1} with Λ_i = (1/T) Σ_t log vol_i. An exponent whose frame may lose rank (σ_i cos θ <= e at
    some step, e.g. a relu step that kills all but i − 1 units) is undetermined below: lo = −inf. Returns (lo, hi)
    for the exponents and (lo, hi) for the partial sums Λ_i = λ_1 + … + λ_i, which stay narrow where a pair of
    exponents is degenerate (a complex pair of W's eigenvalues: the 1-frame rotates in the pair's plane, while the
    2-frame converges)."""
    T = len(Js)
    m, k = Q0.shape
    lo_vol = np.zeros(k + 1)
    hi_vol = np.zeros(k + 1)
    for i in range(1, k + 1):
        Qfull = np.linalg.qr(Q0[:, :i], mode="complete")[0]
        sin = naive.gamma(10 * m * i)  # the library's start frame: a QR of the same matrix
        lo = hi = 0.0
        for t in range(T):
            J = Js[t]
            Q, Qp = Qfull[:, :i], Qfull[:, i:]
            A = J @ Q
            Qn, R = np.linalg.qr(A, mode="complete")
            Qt, Qtp = Qn[:, :i], Qn[:, i:]
            sv = np.linalg.svd(R[:i], compute_uv=False)
            cos = np.sqrt(max(0.0, 1.0 - sin * sin))
            e = np.linalg.norm(Qt.T @ J @ Qp, 2) * sin + dJ[t] if i < m else dJ[t]
            f = np.linalg.norm(Qtp.T @ J @ Qp, 2) * sin + dJ[t] if i < m else 0.0
            smin = sv[-1] * cos - e
            tan = f / smin if smin > 0 else np.inf
            sj = np.linalg.svd(J, compute_uv=False)[:i]  # always: vol_i(J̃Q') <= Π_{j<=i} σ_j(J̃)
            with np.errstate(divide="ignore", invalid="ignore"):
                lo += np.sum(np.log(np.maximum(sv * cos - e, 0.0)))
                hi += min(np.sum(np.log(sj + dJ[t])),
                          np.sum(np.log(sv + e)) + 0.5 * i * np.log1p(tan * tan) if np.isfinite(tan) else np.inf)
            sin = min(1.0, tan)
            Qfull = Qn
        lo_vol[i], hi_vol[i] = lo / T, hi / T
    with np.errstate(invalid="ignore"):
        lo_l = lo_vol[1:] - hi_vol[:-1]
        hi_l = hi_vol[1:] - lo_vol[:-1]
    lo_l, hi_l = np.where(np.isnan(lo_l), -np.inf, lo_l), np.where(np.isnan(hi_l), np.inf, hi_l)
    return lo_l, hi_l, lo_vol[1:], hi_vol[1:]


def benettin(Js, k, Q0):
    """Benettin QR iteration over a list of Jacobians with start frame Q0: mean log|diag R| (plain loop)."""
    Q = Q0.copy()
    acc = np.zeros(k)
    for Jk in Js:
        Q, R = np.linalg.qr(Jk @ Q)
        acc += np.log(np.abs(np.diag(R)))
    return acc / len(Js)


# ----------------------------------------------------------------------------- error bounds of the linear measures
def sep_inv(A):
    """‖(I − A⊗A)⁻¹‖₂: the condition of the discrete Lyapunov operator X ↦ X − A X Aᵀ (inf if singular)."""
    m = A.shape[0]
    s = np.linalg.svd(np.eye(m * m) - np.kron(A, A), compute_uv=False)
    return np.inf if s[-1] == 0 else 1.0 / s[-1]


def lyap_error(A, M, X):
    """Bound on ‖X̃ − X‖_F for X = A X Aᵀ + M solved by scipy.linalg.solve_discrete_lyapunov (m < 10: LU of the
    m²×m² Kronecker system (I − A⊗A) vec X = vec M, backward stable: residual <= γ_{4m²}(‖I − A⊗A‖ ‖X‖ + ‖M‖)),
    i.e. ‖(I − A⊗A)⁻¹‖₂ times that residual; plus the symmetrisation (X + Xᵀ)/2 (one rounding)."""
    m = A.shape[0]
    nA = np.linalg.norm(A, 2)
    resid = naive.rounding(4 * m * m, (1 + nA * nA) * np.linalg.norm(X) + np.linalg.norm(M))
    return sep_inv(A) * resid + naive.rounding(2, np.linalg.norm(X))


def lyap_residual_bound(A, M, X):
    """Bound on ‖A X̃ Aᵀ + M − X̃‖_F for the computed X̃: the solver's residual (see :func:`lyap_error`) plus the
    rounding of evaluating the residual itself (products of 3 matrices of size m, one sum of three terms)."""
    m = A.shape[0]
    nA = np.linalg.norm(A, 2)
    aA = np.abs(A)
    solver = naive.rounding(4 * m * m, (1 + nA * nA) * np.linalg.norm(X) + np.linalg.norm(M))
    evaluation = naive.rounding(2 * m + 3, np.linalg.norm(aA @ np.abs(X) @ aA.T + np.abs(M) + np.abs(X)))
    return solver + evaluation


def krylov_error(W, u, n):
    """‖v_k‖₂ and bounds on ‖fl(v_k) − v_k‖₂ for v_k = W^k u formed by repeated products (either side)."""
    G = naive.power_norms(W, n)
    nu = np.linalg.norm(u)
    return G * nu, naive.power_error_norms(W, n) * nu + 2 * naive.ETA * W.shape[0]


def quadratic_form_error(W, u, n, Minv_norm, dMinv, Mabs_inv=None):
    """Bound on |fl(v_kᵀ M⁻¹ v_k) − v_kᵀ M⁻¹ v_k| when M⁻¹ is known within ‖Δ(M⁻¹)‖ <= dMinv and v_k = W^k u is
    formed by repeated products: ‖v‖² dMinv + 2‖v‖‖Δv‖‖M⁻¹‖ + γ_{2m}‖v‖²‖M⁻¹‖ (the final products)."""
    nv, dv = krylov_error(W, u, n)
    m = W.shape[0]
    if not (np.isfinite(Minv_norm) and np.isfinite(dMinv)):  # M numerically singular: no bound
        return np.full(n, np.inf)
    return nv**2 * dMinv + 2 * nv * dv * Minv_norm + naive.rounding(2 * m + 2, nv**2 * m * Minv_norm)


def inverse_error(M, dM):
    """Bound on ‖fl(M̃⁻¹) − M⁻¹‖₂ for a symmetric positive definite M known within ‖M̃ − M‖₂ <= dM and inverted
    (or Cholesky-solved) by a backward-stable method: ‖M⁻¹‖² dM (first order) + γ_{3m}·cond(M)·‖M⁻¹‖."""
    m = M.shape[0]
    ev = np.linalg.eigvalsh((M + M.T) / 2)
    if ev[0] <= dM:
        return np.inf
    inv_norm = 1.0 / (ev[0] - dM)
    return inv_norm**2 * dM + naive.rounding(3 * m * m, ev[-1] * inv_norm) * inv_norm


def leverage_error(W, u, rows):
    """Bound on |computed − exact| of the leverage scores MC_k = ‖U_r[k, :]‖² of the Krylov matrix
    K = [u, Wu, …]ᵀ (``rows`` rows, the library's truncation): the SVD is backward stable (‖ΔK‖ <= γ_{10·rows·m}‖K‖),
    the rows carry their own product errors, and the projector onto range(K) moves by at most
    2‖ΔK‖/σ_min(K) (Wedin), which bounds the change of each diagonal entry."""
    m = W.shape[0]
    nv, dv = krylov_error(W, u, rows)
    K = np.empty((rows, m))
    v = u.copy()
    for k in range(rows):
        K[k] = v
        v = W @ v
    s = np.linalg.svd(K, compute_uv=False)
    dK = np.sqrt(np.sum(dv**2)) + naive.rounding(10 * rows * m, s[0])
    return 2 * dK / s[-1] if s[-1] > 2 * dK else np.inf
