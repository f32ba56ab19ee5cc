"""rnnmem.linear against slow references: Markov parameters, Gramians, H2, Hankel singular values, memory capacity
(exact, ill-conditioned, sampled), Fisher memory, BPTT gains and Lyapunov exponents (docs/math.md §8)."""

from __future__ import annotations

import naive
import naive_linear as nl
import numpy as np
import pytest
import scipy.linalg as sla
from gradcheck import assert_gradient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rnnmem as rm
from rnnmem import linear

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def stable_system(seed, m, d, p, radius, cell="elman", dt=0.5, feedthrough=True):
    """Random system whose transition matrix (W or I + dtW) has the given spectral radius."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, m))
    A *= radius / np.max(np.abs(np.linalg.eigvals(A)))
    W = A if cell == "elman" else (A - np.eye(m)) / dt
    return (W, rng.standard_normal((m, d)), rng.standard_normal((p, m)),
            rng.standard_normal((p, d)) if feedthrough else None)


systems = st.builds(lambda *a: a, st.integers(0, 2**31 - 1), st.integers(1, 6), st.integers(1, 3),
                    st.integers(1, 3), st.floats(0.05, 0.95), st.sampled_from(["elman", "euler"]),
                    st.floats(0.1, 1.0), st.booleans())


# ----------------------------------------------------------------------------- Markov, Gramians, H2, Hankel
@settings(max_examples=40, **SETTINGS)
@given(systems)
def test_markov_parameters_match_matrix_powers(sys_):
    seed, m, d, p, radius, cell, dt, ft = sys_
    W, U, C, D = stable_system(seed, m, d, p, radius, cell, dt, ft)
    got = linear.markov_parameters(W, U, C, 12, D=D, cell=cell, dt=dt)
    # both are products of j + 2 matrices in some order: each within naive.markov_bound of the exact L_j
    naive.assert_within(got, naive.markov(W, U, C, D, 12, cell, dt), naive.markov_bound(W, U, C, D, 12, cell, dt), "L")


def _sigma_tol(delta2, s1, s2):
    """|s1 − s2| for s1, s2 >= 0 with |s1² − s2²| <= delta2: at most min(delta2 / (s1 + s2), sqrt(delta2))."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.minimum(np.where(s1 + s2 > 0, delta2 / (s1 + s2), np.inf), np.sqrt(delta2))


def check_linear_measures(W, U, C, D, cell, dt, h2, P, Q, hs, hankel_section=True):
    """H2 norm, Gramians and Hankel singular values against series, the trace formula and the Hankel matrix.

    Error model: the library's Gramians are within naive_linear.lyap_error (the Lyapunov operator's condition
    ‖(I − A⊗A)⁻¹‖ times a backward-stable solver's residual) of the exact ones; the series references sum
    products of j + 1 matrices (naive.markov_bound), miss the tail tr(C A^K P A^Kᵀ Cᵀ) <= ‖C A^K‖²_F ‖P‖₂, and the
    Hankel-matrix section misses Σ_{k >= n} (k+1)‖L_k‖² <= ‖C A^n‖²_F ((n+1) tr P + tr P₂), P₂ = Σ_i i A^i B Bᵀ (A^i)ᵀ.
    Squared quantities are compared, then converted with _sigma_tol."""
    m = W.shape[0]
    A = W if cell == "elman" else np.eye(m) + dt * W
    B = U if cell == "elman" else dt * U
    radius = np.abs(np.linalg.eigvals(A)).max()
    K = int(np.ceil(np.log(1e-20) / np.log(radius))) + 50 * m
    BB, CC = B @ B.T, C.T @ C
    eP, eQ = nl.lyap_error(A, BB, P), nl.lyap_error(A.T, CC, Q)
    nP, nQ = np.linalg.norm(P, 2) + eP, np.linalg.norm(Q, 2) + eQ
    Dz = np.zeros((C.shape[0], U.shape[1])) if D is None else D
    # H2² = Σ_j ‖L_j‖² (rnnmem convention, L_0 includes D); the library evaluates tr(C P Cᵀ) + ‖D‖² + 2⟨CB, D⟩
    aC, aB = np.abs(C), np.abs(B)
    mags = np.trace(aC @ np.abs(P) @ aC.T) + np.sum(Dz**2) + 2 * np.sum((aC @ aB) * np.abs(Dz))
    d_lib = np.linalg.norm(C) ** 2 * eP + naive.rounding(2 * m + 4 + Dz.size, mags)
    L = naive.markov(W, U, C, D, K, cell, dt)
    Lb = naive.markov_bound(W, U, C, D, K, cell, dt)
    tail = np.linalg.norm(C @ np.linalg.matrix_power(A, K)) ** 2 * nP
    d_sum = 2 * np.sum(np.abs(L) * Lb) + naive.rounding(L.size, np.sum(L**2)) + tail
    h2s = nl.h2_by_sum(W, U, C, D, cell, dt, K)
    naive.assert_within(h2, h2s, _sigma_tol(d_lib + d_sum + naive.rounding(4, h2s**2), h2, h2s), "H2", factor=1.0)
    # python-control-style formula: state x_k = h_{k-1}, (A, B, C_pc = C A, D_pc = C B + D), H2² = tr(C_pc P C_pcᵀ
    # + D_pc D_pcᵀ) with P = A P Aᵀ + B Bᵀ
    Cpc, Dpc = C @ A, C @ B + Dz
    aCpc = np.abs(C) @ np.abs(A)
    mags_pc = np.trace(aCpc @ np.abs(P) @ aCpc.T) + np.sum((np.abs(C) @ np.abs(B) + np.abs(Dz)) ** 2)
    d_pc = np.linalg.norm(aCpc) ** 2 * eP + naive.rounding(4 * m + 8, mags_pc)
    naive.assert_within(h2**2, np.trace(Cpc @ P @ Cpc.T + Dpc @ Dpc.T), d_lib + d_pc + naive.rounding(3, h2**2),
                        "H2² (trace formula)", factor=1.0)
    # Gramians: Lyapunov equations (residuals) and series
    assert np.linalg.norm(A @ P @ A.T + BB - P) <= nl.lyap_residual_bound(A, np.abs(B) @ np.abs(B).T, P), "P residual"
    assert np.linalg.norm(A.T @ Q @ A + CC - Q) <= nl.lyap_residual_bound(A.T, np.abs(C).T @ np.abs(C), Q), \
        "Q residual"
    # gramian_by_sum forms V_j = A^j B by repeated products (‖ΔV_j‖_F <= ‖B‖_F naive.power_error_norms) and sums
    # V_j V_jᵀ over K terms
    G = naive.power_norms(A, K)
    nV = np.sqrt(m) * G * np.linalg.norm(B)
    series_err = np.sum(2 * nV * np.linalg.norm(B) * naive.power_error_norms(A, K))
    series_mag = np.sum(nV**2)
    AK = np.linalg.matrix_power(A, K)
    d_P = eP + series_err + naive.rounding(K + B.shape[1], series_mag) + np.linalg.norm(AK) ** 2 * nP
    assert np.linalg.norm(P - nl.gramian_by_sum(A, B, K)) <= d_P, "P against its series"
    # Hankel singular values: the library's σ² = λ(PQ) within ‖P‖‖ΔQ‖ + ‖Q‖‖ΔP‖ + SVD rounding (Weyl on the
    # symmetric forms); the reference sqrt|λ(PQ)| by a nonsymmetric eig: eigenvalue condition κ_i (left/right
    # eigenvectors) times the perturbation of the product
    d_lib_s = nP * eQ + nQ * eP + naive.rounding(10 * m, nP * nQ)
    lam, vl, vr = sla.eig(P @ Q, left=True, right=True)
    kappa = np.linalg.norm(vl, axis=0) * np.linalg.norm(vr, axis=0) / np.abs(np.einsum("ij,ij->j", vl.conj(), vr))
    d_ref = kappa * (naive.rounding(10 * m, nP * nQ))
    order = np.argsort(-np.abs(lam))
    ref = np.sqrt(np.abs(lam[order]))
    naive.assert_within(hs, ref, _sigma_tol(d_lib_s + d_ref[order], hs, ref), "hsv vs sqrt(λ(PQ))", factor=1.0)
    if hankel_section:  # singular values of the finite Hankel matrix [C A^{i+j} B]_{i,j<n}
        n = min(150, K)
        hm = nl.hankel_by_matrix(W, U, C, cell, dt, size=n)[:m]
        P2 = sla.solve_discrete_lyapunov(A, A @ P @ A.T)
        P2 = P2 + nl.lyap_error(A, A @ P @ A.T, P2) * np.eye(m)
        tail_h = np.sqrt(np.linalg.norm(C @ np.linalg.matrix_power(A, n)) ** 2
                         * ((n + 1) * (np.trace(P) + m * eP) + np.trace(P2)))
        Lh = naive.markov_bound(W, U, C, None, 2 * n - 1, cell, dt)
        counts = np.minimum(np.arange(2 * n - 1) + 1, 2 * n - 1 - np.arange(2 * n - 1))
        dH = np.sqrt(np.sum(counts[:, None, None] * Lh**2))
        Hnorm = np.sqrt(np.sum(counts * np.sum(naive.markov(W, U, C, None, 2 * n - 1, cell, dt) ** 2, axis=(1, 2))))
        d_sec = tail_h + dH + naive.rounding(10 * n * max(U.shape[1], C.shape[0]), Hnorm)
        naive.assert_within(hs, hm, _sigma_tol(d_lib_s, hs, np.maximum(hs, 0.0)) + d_sec, "hsv vs Hankel matrix",
                            factor=1.0)


@settings(max_examples=40, **SETTINGS)
@given(systems)
def test_h2_gramians_hankel_against_sums(sys_):
    seed, m, d, p, radius, cell, dt, ft = sys_
    W, U, C, D = stable_system(seed, m, d, p, radius, cell, dt, ft)
    P, Q = linear.gramians(W, U, C, cell, dt)
    check_linear_measures(W, U, C, D, cell, dt, linear.h2_norm(W, U, C, D, cell, dt), P, Q,
                          linear.hankel_singular_values(W, U, C, cell, dt), hankel_section=radius < 0.9)


@pytest.mark.parametrize("what", ["h2", "P", "Q", "hs"])
def test_linear_measure_checks_catch_a_relative_error_of_1e_5(what):
    for seed, cell in ((1, "elman"), (2, "euler")):
        W, U, C, D = stable_system(seed, 4, 2, 2, 0.8, cell, 0.5, True)
        vals = dict(h2=linear.h2_norm(W, U, C, D, cell, 0.5), hs=linear.hankel_singular_values(W, U, C, cell, 0.5))
        vals["P"], vals["Q"] = linear.gramians(W, U, C, cell, 0.5)
        check_linear_measures(W, U, C, D, cell, 0.5, **vals)
        vals[what] = vals[what] * 1.00001
        with pytest.raises(AssertionError):
            check_linear_measures(W, U, C, D, cell, 0.5, **vals)


def test_h2_unstable_raises_like_gramians():
    """An unstable system: the H2 norm is infinite — a NonFiniteError, the same outcome as gramians()."""
    W = np.diag([1.1, 0.5])
    with pytest.raises(rm.NonFiniteError, match="spectral radius"):
        linear.h2_norm(W, np.ones((2, 1)), np.ones((1, 2)))
    with pytest.raises(rm.NonFiniteError, match="spectral radius"):
        linear.gramians(W, np.ones((2, 1)), np.ones((1, 2)))
    with pytest.raises(ValueError, match="U has shape"):
        linear.h2_norm(np.eye(2) * 0.5, np.ones((3, 1)), np.ones((1, 2)))
    with pytest.raises(ValueError, match="cell"):
        linear.h2_norm(np.eye(2) * 0.5, np.ones((2, 1)), np.ones((1, 2)), cell="lstm")


def test_inputs_not_mutated():
    W, U, C, D = stable_system(0, 4, 1, 1, 0.8)
    copies = [a.copy() for a in (W, U, C, D)]
    linear.h2_norm(W, U, C, D)
    linear.memory_capacity(W, U[:, 0], 5)
    linear.fisher_memory(W, U[:, 0], 5)
    for a, b in zip((W, U, C, D), copies, strict=True):
        assert np.array_equal(a, b)


# ----------------------------------------------------------------------------- memory capacity
def _tail_rows(W, u, k_min, tol=1e-17):
    """The number of Krylov rows the library keeps (rnnmem.linear._tail_length: decay below tol · peak)."""
    return linear._tail_length(W, u, k_min, tol).shape[0]


def check_memory_capacity(W, u, mc, mc_sum, k_sum):
    """MC_k (k < len(mc)) against the textbook vᵀP⁻¹v, and Σ_{k<k_sum} MC_k (= mc_sum) against m.

    Error model: the library's leverage scores move by at most 2‖ΔK‖/σ_min(K) (naive_linear.leverage_error, ∝
    cond(K) = cond(P)^{1/2}); the reference inverts the Lyapunov solution (naive_linear.lyap_error, inverse_error,
    quadratic_form_error: ∝ cond(P)); the sum misses Σ_{k >= k_sum} MC_k <= ‖P⁻¹‖ ‖W^{k_sum}‖² tr P. Where P is
    too ill-conditioned for either bound (cond(P) ~ 1/ε) the bound is infinite and the check honestly says nothing."""
    m = W.shape[0]
    n = mc.size
    P = sla.solve_discrete_lyapunov(W, np.outer(u, u))
    dP = nl.lyap_error(W, np.outer(u, u), P)
    ev = np.linalg.eigvalsh((P + P.T) / 2)
    lib = nl.leverage_error(W, u, _tail_rows(W, u, max(n, k_sum)))
    ref = nl.quadratic_form_error(W, u, n, 1.0 / max(ev[0] - dP, 0.0) if ev[0] > dP else np.inf,
                                  nl.inverse_error(P, dP))
    naive.assert_within(mc, nl.mc_lyapunov_naive(W, u, n), lib + ref, "MC_k", factor=1.0)
    gk = np.linalg.norm(np.linalg.matrix_power(W, k_sum), 2)
    tail = 0.0 if gk == 0 else (np.inf if ev[0] <= dP else gk**2 * (np.trace(P) + m * dP) / (ev[0] - dP))
    naive.assert_within(mc_sum, m, k_sum * lib + tail, "Σ MC_k", factor=1.0)


@settings(max_examples=30, **SETTINGS)
@given(seed=st.integers(0, 2**31 - 1), m=st.integers(1, 6), radius=st.floats(0.1, 0.7))
def test_memory_capacity_exact_vs_lyapunov(seed, m, radius):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((m, m))
    W *= radius / linear.spectral_radius(W)
    u = rng.standard_normal(m)
    check_memory_capacity(W, u, linear.memory_capacity(W, u, 30), linear.memory_capacity(W, u, 500).sum(), 500)
    # the numerical rank is m wherever the Krylov matrix is far from the rank tolerance max(N, m)·ε·σ_1
    rows = linear._tail_length(W, u, 1)
    s = np.linalg.svd(rows, compute_uv=False)
    if s[-1] > 1e3 * max(rows.shape) * np.finfo(float).eps * s[0]:
        assert linear.controllability_rank(W, u) == m


def test_seed_1379784805_numerically_singular_gramian():
    """Regression (seed sweep, `pytest tests/test_linear.py::test_memory_capacity_exact_vs_lyapunov
    --hypothesis-seed=1379784805`): radius 0.1, m = 5 gives cond(P) ~ 5e14, so P's smallest eigenvalue (9e-15) is
    below its error bound (1e-13) and the tail bound of Σ MC_k was 0·inf = NaN. The reference's bound is now
    infinite there (no information), while the library's leverage scores (cond(K) ~ 2e7) are still checked."""
    rng = np.random.default_rng(15998)
    W = rng.standard_normal((5, 5))
    u = rng.standard_normal(5)
    W *= 0.1 / linear.spectral_radius(W)
    check_memory_capacity(W, u, linear.memory_capacity(W, u, 30), linear.memory_capacity(W, u, 500).sum(), 500)


@pytest.mark.parametrize("what", ["mc", "sum"])
def test_memory_capacity_check_catches_a_relative_error_of_1e_5(what):
    rng = np.random.default_rng(2)
    W = rng.standard_normal((4, 4))
    W *= 0.6 / linear.spectral_radius(W)
    u = rng.standard_normal(4)
    mc, total = linear.memory_capacity(W, u, 30), linear.memory_capacity(W, u, 500).sum()
    check_memory_capacity(W, u, mc, total, 500)
    with pytest.raises(AssertionError):
        check_memory_capacity(W, u, mc * 1.00001 if what == "mc" else mc, total * (1.00001 if what == "sum" else 1),
                              500)


@settings(max_examples=25, **SETTINGS)
@given(seed=st.integers(0, 2**31 - 1), m=st.integers(2, 14), data=st.data())
def test_memory_capacity_sum_equals_controllability_rank(seed, m, data):
    """u excites r of the m eigenmodes of a symmetric W with well-separated eigenvalues: rank r exactly.

    Error model: Σ_k MC_k = ‖U_r‖²_F = r for the computed orthonormal U_r up to its loss of orthogonality
    γ_{10·N·m} per column (N Krylov rows); the tail beyond 3000 delays is below 0.85^6000."""
    r = data.draw(st.integers(1, m))
    rng = np.random.default_rng(seed)
    Q = np.linalg.qr(rng.standard_normal((m, m)))[0]
    lam = 0.85 * np.linspace(-1, 1, m) if m > 1 else np.array([0.5])
    W = (Q * lam) @ Q.T
    modes = rng.choice(m, r, replace=False)
    u = Q[:, modes] @ (rng.choice([-1, 1], r) * rng.uniform(0.5, 2, r))
    total = linear.memory_capacity(W, u, 3000).sum()
    N = _tail_rows(W, u, 3000)
    assert abs(total - r) <= naive.rounding(10 * N * m, r) + 0.85 ** 6000
    assert linear.controllability_rank(W, u) == r


def test_memory_capacity_ill_conditioned_against_mpmath():
    """Clustered eigenvalues make P ≈ singular (cond ~1e13): the leverage-score evaluation keeps ~6 digits per
    delay against a 60-digit reference, the textbook inv(P) evaluation does not."""
    m = 9
    rng = np.random.default_rng(0)
    Q = np.linalg.qr(rng.standard_normal((m, m)))[0]
    W = (Q * np.linspace(0.3, 0.8, m)) @ Q.T
    u = Q @ np.ones(m)
    cond = np.linalg.cond(sla.solve_discrete_lyapunov(W, np.outer(u, u)))
    assert cond > 1e11
    ref = nl.mc_mpmath(W, u, 40)
    mc = linear.memory_capacity(W, u, 40)
    err = np.abs(mc - ref).max()
    assert err < 1e-5
    assert abs(linear.memory_capacity(W, u, 2000).sum() - m) < 1e-9
    naive_err = np.abs(nl.mc_lyapunov_naive(W, u, 40) - ref).max()
    assert naive_err > 10 * err  # fragile textbook evaluation (documents why the library avoids it)


def test_memory_capacity_similarity_invariant():
    rng = np.random.default_rng(4)
    m = 6
    W = rng.standard_normal((m, m))
    W *= 0.8 / linear.spectral_radius(W)
    u = rng.standard_normal(m)
    T = np.eye(m) + 0.3 * rng.standard_normal((m, m))
    mc = linear.memory_capacity(W, u, 25)
    mc2 = linear.memory_capacity(T @ W @ np.linalg.inv(T), T @ u, 25)
    assert np.abs(mc - mc2).max() < 1e-7


def test_memory_capacity_sampled_within_sampling_error():
    rng = np.random.default_rng(1)
    m = 5
    W = rng.standard_normal((m, m))
    W *= 0.85 / linear.spectral_radius(W)
    u = rng.standard_normal(m)
    exact = linear.memory_capacity(W, u, 25)
    samples = 60_000
    est = linear.memory_capacity(W, u, 25, "sampled", rng=3, samples=samples)
    se = 2 * np.sqrt(exact) * (1 - exact) / np.sqrt(samples / 2) + 2 / samples
    assert np.all(np.abs(est - exact) < 5 * se + 1e-4)
    assert np.array_equal(est, linear.memory_capacity(W, u, 25, "sampled", rng=3, samples=samples))
    # uncontrollable reservoir: rank-deficient states are handled (min-norm readout)
    Wd = np.diag([0.9, 0.5, -0.6])
    ud = np.array([1.0, 1.0, 0.0])
    est = linear.memory_capacity(Wd, ud, 60, "sampled", rng=0, samples=40_000)
    assert abs(est.sum() - 2.0) < 0.05


def test_memory_capacity_validation():
    with pytest.raises(ValueError, match="spectral radius"):
        linear.memory_capacity(np.eye(2), np.ones(2), 5)
    with pytest.raises(ValueError, match="method"):
        linear.memory_capacity(0.5 * np.eye(2), np.ones(2), 5, method="mc")
    with pytest.raises(ValueError, match="u has length"):
        linear.memory_capacity(0.5 * np.eye(2), np.ones(3), 5)
    with pytest.raises(ValueError, match="n must be"):
        linear.memory_capacity(0.5 * np.eye(2), np.ones(2), 0)
    with pytest.raises(ValueError, match="test_fraction"):
        linear.memory_capacity(0.5 * np.eye(2), np.ones(2), 5, "sampled", test_fraction=1.5)


# ----------------------------------------------------------------------------- Fisher memory
def real_normal_matrix(rng, m, radius):
    """Q blockdiag(rotation-scalings, reals) Qᵀ: a real normal matrix with complex eigenvalues."""
    B = np.zeros((m, m))
    i = 0
    while i < m:
        r = rng.uniform(0.05, radius)
        if i + 1 < m and rng.random() < 0.5:
            th = rng.uniform(0, np.pi)
            B[i:i + 2, i:i + 2] = r * np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
            i += 2
        else:
            B[i, i] = r * rng.choice([-1, 1])
            i += 1
    Q = np.linalg.qr(rng.standard_normal((m, m)))[0]
    return Q @ B @ Q.T


def fisher_bounds(W, u, n, noise, K=None):
    """Bounds on |computed − exact| of J(k), k < n: (library: Cholesky solve with C_n from the Lyapunov solver,
    reference: explicit inverse of C_n summed over K terms, naive_linear.fisher_by_sum).

    Error model: C_n ⪰ I, so both inversions are well conditioned (naive_linear.inverse_error); C_n's own errors
    are naive_linear.lyap_error (solver) or the series' product errors plus its tail ‖W^K‖² ‖C_n‖; the quadratic
    forms v_kᵀ C_n⁻¹ v_k add naive_linear.quadratic_form_error."""
    m = W.shape[0]
    Cn = sla.solve_discrete_lyapunov(W, np.eye(m))
    dC = nl.lyap_error(W, np.eye(m), Cn)
    nCinv = 1.0 / max(np.linalg.eigvalsh((Cn + Cn.T) / 2)[0] - dC, 1e-300)
    lib = nl.quadratic_form_error(W, u, n, nCinv, nl.inverse_error(Cn, dC)) / noise
    if K is None:
        return lib, None
    G = naive.power_norms(W, K)
    nV = np.sqrt(m) * G
    dC_sum = (np.sum(2 * nV * np.sqrt(m) * naive.power_error_norms(W, K)) + naive.rounding(K + m, np.sum(nV**2))
              + np.linalg.norm(np.linalg.matrix_power(W, K), 2) ** 2 * (np.linalg.norm(Cn, 2) + dC))
    ref = nl.quadratic_form_error(W, u, n, nCinv, nl.inverse_error(Cn, dC_sum)) / noise
    return lib, ref


@settings(max_examples=30, **SETTINGS)
@given(seed=st.integers(0, 2**31 - 1), m=st.integers(1, 8), noise=st.floats(0.1, 3.0))
def test_fisher_memory_normal_sums_to_one_general_bounded(seed, m, noise):
    rng = np.random.default_rng(seed)
    W = real_normal_matrix(rng, m, 0.9)
    # normal up to the rounding of Q B Qᵀ (|E| <= γ_2m |Q||B||Q|ᵀ <= γ_2m·m·‖W‖ entrywise): ‖WWᵀ − WᵀW‖ <= 4‖W‖‖E‖
    nW = np.linalg.norm(W, 2)
    assert np.linalg.norm(W @ W.T - W.T @ W) <= 4 * nW * naive.rounding(2 * m, m * m * nW) + naive.rounding(
        2 * m, 2 * np.linalg.norm(np.abs(W) @ np.abs(W).T))
    u = rng.standard_normal(m)
    u /= np.linalg.norm(u)
    J = linear.fisher_memory(W, u, 2000, noise=noise)
    lib, ref = fisher_bounds(W, u, 2000, noise, K=4000)
    # Σ_k J(k) = ‖u‖²/ε for normal W; the tail beyond 2000 lags <= ‖C_n⁻¹‖ ‖W^2000‖² ‖C_n‖ m / ε (C_n ⪰ I)
    tail = np.linalg.norm(np.linalg.matrix_power(W, 2000), 2) ** 2 * np.linalg.norm(
        sla.solve_discrete_lyapunov(W, np.eye(m)), 2) * m / noise
    naive.assert_within(J.sum(), 1.0 / noise, lib.sum() + tail + naive.rounding(2000 + m + 3, 1.0 / noise),
                        "Σ J (normal)", factor=1.0)
    naive.assert_within(J[:30], nl.fisher_by_sum(W, u, 30, noise), lib[:30] + ref[:30], "J (normal)", factor=1.0)
    G = rng.standard_normal((m, m))
    G *= 0.9 / linear.spectral_radius(G)
    Jg = linear.fisher_memory(G, u, 3000, noise=noise)
    lib, ref = fisher_bounds(G, u, 3000, noise, K=3000)
    assert Jg.sum() <= m / noise + lib.sum() + naive.rounding(3000, Jg.sum())  # Σ J <= m‖u‖²/ε for any W
    naive.assert_within(Jg[:30], nl.fisher_by_sum(G, u, 30, noise, K=3000), lib[:30] + ref[:30], "J (general)",
                        factor=1.0)


def test_fisher_check_catches_a_relative_error_of_1e_5():
    rng = np.random.default_rng(3)
    W = real_normal_matrix(rng, 5, 0.9)
    u = rng.standard_normal(5)
    u /= np.linalg.norm(u)
    J = linear.fisher_memory(W, u, 2000, noise=0.5)
    lib, ref = fisher_bounds(W, u, 2000, 0.5, K=4000)
    naive.assert_within(J[:30], nl.fisher_by_sum(W, u, 30, 0.5), lib[:30] + ref[:30], "J", factor=1.0)
    with pytest.raises(AssertionError):
        naive.assert_within(J[:30] * 1.00001, nl.fisher_by_sum(W, u, 30, 0.5), lib[:30] + ref[:30], "J", factor=1.0)
    with pytest.raises(AssertionError):
        naive.assert_within(J.sum() * 1.00001, 2.0, lib.sum() + naive.rounding(2008, 2.0), "Σ J", factor=1.0)


# ----------------------------------------------------------------------------- gains and Lyapunov exponents
@settings(max_examples=20, **SETTINGS)
@given(seed=st.integers(0, 2**31 - 1), m=st.integers(1, 6), cell=st.sampled_from(["elman", "euler"]))
def test_bptt_gain_is_norm_of_powers(seed, m, cell):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((m, m))
    g = linear.bptt_gain(W, 8, cell=cell, dt=0.3)
    A = W if cell == "elman" else np.eye(m) + 0.3 * W  # the same expression as the library: the same A
    ref, P = [], np.eye(m)
    for _ in range(8):  # powers from the right (the library multiplies from the left)
        ref.append(np.linalg.norm(P, 2))
        P = A @ P
    # each side: the power's product error (naive.power_error_norms) plus the SVD's γ·‖A^j‖₂
    bound = naive.power_error_norms(A, 8) + naive.rounding(10 * m, naive.power_norms(A, 8))
    naive.assert_within(g, ref, bound, "‖A^j‖")


def lyapunov_or_none(rnn, x, k=3, rng=2):
    """The library's exponents, or None where it raises NonFiniteError (an exponent exactly −∞: a Jacobian product
    lost rank, e.g. dead relu units — issue 12 case 23: never returned silently)."""
    try:
        return linear.lyapunov_exponents(rnn, x, k, rng=rng)
    except rm.NonFiniteError:
        return None


def check_gain_and_lyapunov(rnn, x, g, lam, k=3, rng=2):
    """Trajectory gains and Lyapunov exponents of the library against reference Jacobians.

    Error model: the reference Jacobians J_t (complex-step derivatives of one step of plain NumPy code,
    tests/naive_linear.jacobians; checked against central differences below) are within their per-entry bounds E_t
    of the exact ones at the computed trajectory, the library's within naive_linear.library_jacobian_error; so the two
    differ by at most dJ_t = ‖E_t‖_F + ‖E_lib,t‖_F (+ the QR's backward error, inside the helpers). Gains: first-order
    propagation through the products (naive_linear.gain_bound). Exponents: each must lie in the interval that
    Weyl's and Wedin's perturbation bounds give along the reference Benettin run (naive_linear.benettin_interval)."""
    T, m = x.shape[0], rnn.hidden
    Js, errs = nl.jacobians(rnn, x, with_errors=True)
    lib_err = nl.library_jacobian_error(rnn, x)
    dJ = [np.linalg.norm(e, "fro") + np.linalg.norm(le, "fro") for e, le in zip(errs, lib_err, strict=True)]
    M = np.eye(m)
    ref = [1.0]
    for j in range(1, g.size):
        M = M @ Js[T - j]
        ref.append(np.linalg.norm(M, 2))
    naive.assert_within(g, ref, nl.gain_bound(Js, dJ, g.size), "gain", factor=1.0)
    Q0 = np.linalg.qr(np.random.default_rng(rng).standard_normal((m, k)))[0]
    lo, hi, lo_sum, hi_sum = nl.benettin_interval(Js, dJ, Q0)
    if lam is None:  # the library raised NonFiniteError (an exponent −∞, issue 12 case 23): the reference must allow it
        assert np.isneginf(lo).any(), f"lyapunov_exponents raised NonFiniteError but every exponent is bounded: {lo}"
        return np.full(k, np.inf)
    inside = (lam >= lo) & (lam <= hi)
    assert inside.all(), f"Lyapunov exponents {lam} outside [{lo}, {hi}] at {np.flatnonzero(~inside)}"
    partial = np.cumsum(lam)
    inside = (partial >= lo_sum) & (partial <= hi_sum)
    assert inside.all(), f"Lyapunov partial sums {partial} outside [{lo_sum}, {hi_sum}] at {np.flatnonzero(~inside)}"
    with np.errstate(invalid="ignore"):  # inf − inf where an exponent is −inf in every case: no width
        return np.nan_to_num(np.minimum(hi - lo, hi_sum - lo_sum), nan=np.inf, posinf=np.inf)


@settings(max_examples=10, **SETTINGS)
@given(seed=st.integers(0, 2**31 - 1), act=st.sampled_from(["tanh", "linear", "relu"]),
       cell=st.sampled_from(["elman", "euler"]))
def test_trajectory_gain_and_lyapunov_against_complex_step_jacobians(seed, act, cell):
    rnn = rm.RNN.random(5, inputs=2, activation=act, cell=cell, dt=0.4, sigma2=1.0, bias=0.3, rng=seed)
    x = np.random.default_rng(seed + 1).standard_normal((40, 2))
    check_gain_and_lyapunov(rnn, x, linear.trajectory_gain(rnn, x, 10), lyapunov_or_none(rnn, x))


@pytest.mark.parametrize("cell", ["elman", "euler"])
@pytest.mark.parametrize("act", ["tanh", "linear", "relu", "hardtanh"])
def test_reference_jacobians_equal_central_differences(act, cell):
    """The complex-step reference Jacobians against central differences (tests/gradcheck.py), each within its own
    error bound; and a Jacobian scaled by 1.00001 fails."""
    rnn = rm.RNN.random(4, inputs=2, activation=act, cell=cell, dt=0.4, sigma2=1.0, bias=0.3, rng=5)
    x = np.random.default_rng(6).standard_normal((8, 2))
    Js, errs = nl.jacobians(rnn, x, with_errors=True)
    S = rnn.states(x)
    for k in range(8):
        prev = S[k - 1] if k > 0 else np.zeros(4)

        def step(s, xk=x[k]):
            return nl._step(rnn, s, xk)

        assert_gradient(step, prev, Js[k], name=f"J_{k}", f_error=nl._step_error(rnn, prev, x[k]), g_error=errs[k])
        if not Js[k].any():
            continue  # a relu step with every unit off: J = 0, nothing to scale
        with pytest.raises(AssertionError):
            assert_gradient(step, prev, Js[k] * 1.00001, name=f"J_{k}", f_error=nl._step_error(rnn, prev, x[k]),
                            g_error=errs[k])


@pytest.mark.parametrize("seed, act, cell", [(68, "relu", "elman"), (13, "relu", "elman"), (65, "relu", "elman"),
                                             (102, "tanh", "elman")])
def test_lyapunov_rank_collapse_and_ill_conditioned_cases(seed, act, cell):
    """Regression (issue 15, `pytest tests/test_linear.py --hypothesis-seed=101`): relu steps that kill all but
    i − 1 units make the i-th exponent −inf in exact arithmetic; the library and the reference then return −inf or
    log(rounding noise)/T (seeds 68, 13, 65: a finite −3.1 against −inf), which a fixed atol of 1e-6 failed. The
    interval is unbounded below there and the check passes; seed 102 (tanh) had a 4e-7 discrepancy against
    central-difference Jacobians, within its interval (and far smaller against the complex-step ones)."""
    rnn = rm.RNN.random(5, inputs=2, activation=act, cell=cell, dt=0.4, sigma2=1.0, bias=0.3, rng=seed)
    x = np.random.default_rng(seed + 1).standard_normal((40, 2))
    lam = lyapunov_or_none(rnn, x)
    width = check_gain_and_lyapunov(rnn, x, linear.trajectory_gain(rnn, x, 10), lam)
    if act == "relu":
        assert np.isinf(width).any() and (lam is None or np.isfinite(lam[0]))


@pytest.mark.parametrize("cell", ["elman", "euler"])
@pytest.mark.parametrize("act", ["tanh", "linear", "relu"])
def test_gain_and_lyapunov_check_catches_a_relative_error_of_1e_5(act, cell):
    """Mutation test: gains scaled by 1.00001, or every Jacobian scaled by 1.00001 (each exponent + log 1.00001),
    fail the check wherever the exponent is determined (finite interval)."""
    x = np.random.default_rng(4).standard_normal((40, 2))
    for seed in range(3, 40):  # the first model whose top exponent is determined (relu elman often collapses)
        rnn = rm.RNN.random(5, inputs=2, activation=act, cell=cell, dt=0.4, sigma2=1.0, bias=0.3, rng=seed)
        g, lam = linear.trajectory_gain(rnn, x, 10), lyapunov_or_none(rnn, x)
        if lam is None:
            continue
        width = check_gain_and_lyapunov(rnn, x, g, lam)
        if width[0] < 1e-6:
            break
    assert width[0] < 1e-6
    with pytest.raises(AssertionError, match="gain"):
        check_gain_and_lyapunov(rnn, x, g * np.r_[1.0, np.full(9, 1.00001)], lam)
    with pytest.raises(AssertionError, match="Lyapunov"):
        check_gain_and_lyapunov(rnn, x, g, lam + np.log(1.00001))


def test_lyapunov_exponents_of_linear_rnn_are_log_moduli():
    rng = np.random.default_rng(3)
    m = 6
    W = rng.standard_normal((m, m)) / np.sqrt(m)
    rnn = rm.RNN(W, rng.standard_normal((m, 1)), np.zeros(m), np.ones((1, m)), activation="linear")
    x = rng.standard_normal((4000, 1))
    lam = linear.lyapunov_exponents(rnn, x, m, washout=200)
    ref = np.sort(np.log(np.abs(np.linalg.eigvals(W))))[::-1]
    assert np.abs(lam - ref).max() < 5e-3  # O(1/T) transient of the QR frame
    top = linear.top_lyapunov_exponent(rnn, x[None], washout=200)
    assert top.shape == (1,) and abs(top[0] - np.log(linear.spectral_radius(W))) < 5e-3
    # gain rate = top exponent
    g = linear.trajectory_gain(rnn, x[:400], 400)
    assert abs(np.log(g[-1] / g[200]) / 199 - ref[0]) < 2e-2


def test_gain_validation():
    rnn = rm.RNN.random(3, rng=0)
    with pytest.raises(ValueError, match="n=6 exceeds"):
        linear.trajectory_gain(rnn, np.zeros((5, 1)), 6)
    with pytest.raises(ValueError, match="k=4"):
        linear.lyapunov_exponents(rnn, np.zeros((5, 1)), 4)
    with pytest.raises(ValueError, match="washout"):
        linear.lyapunov_exponents(rnn, np.zeros((5, 1)), 1, washout=5)
    with pytest.raises(TypeError, match="rnn must"):
        linear.trajectory_gain(np.eye(3), np.zeros((5, 1)), 2)
    with pytest.raises(ValueError, match="W must be square"):
        linear.bptt_gain(np.ones((2, 3)), 3)


# ----------------------------------------------------------------------------- python-control cross-checks
@settings(max_examples=25, **SETTINGS)
@given(systems)
def test_h2_norm_and_gramians_against_python_control(sys_):
    """python-control's discrete state space (A, B, CA, CB + D) has the impulse response L_0, L_1, ... of rnnmem's
    convention (module docstring): its H2 norm is ours; its controllability Gramian is our P, its observability
    Gramian is our Q − CᵀC (its output matrix is CA). Both cells (euler: A = I + ΔtW, B = ΔtU).

    python-control's ``gram`` needs slycot; ``dlyap`` (SciPy's solver when slycot is absent) and ``norm(sys, 2)``
    do not."""
    pytest.importorskip("control")
    seed, m, d, p, radius, cell, dt, ft = sys_
    W, U, C, D = stable_system(seed, m, d, p, radius, cell, dt, ft)
    h2 = linear.h2_norm(W, U, C, D, cell, dt)
    P, Q = linear.gramians(W, U, C, cell, dt)
    L = linear.markov_parameters(W, U, C, 6, D=D, cell=cell, dt=dt)
    check_against_python_control(W, U, C, D, cell, dt, h2, P, Q, L)


def check_against_python_control(W, U, C, D, cell, dt, h2, P, Q, L):
    """Error model: both Gramians are solutions of Lyapunov equations by backward-stable solvers (python-control's
    ``dlyap`` is SciPy's without slycot), each within naive_linear.lyap_error of the exact one; python-control's Q
    equation has the right-hand side (CA)ᵀ(CA), formed with γ_{2m+p} rounding, moved by sep⁻¹ times that. H2²: the
    library's tr(C P Cᵀ) + ‖D‖² + 2⟨CB, D⟩ and python-control's tr(C' P' C'ᵀ + D' D'ᵀ) with C' = CA, D' = CB + D,
    each within ‖C‖²_F ‖ΔP‖ + γ rounding of its magnitudes. Markov parameters: the simulated impulse response is a
    product of j + 2 matrices like the library's, each within naive.markov_bound of the exact L_j."""
    ct = pytest.importorskip("control")
    m, p = W.shape[0], C.shape[0]
    A = W if cell == "elman" else np.eye(m) + dt * W
    B = U if cell == "elman" else dt * U
    Dz = np.zeros((p, U.shape[1])) if D is None else D
    CA = C @ A
    sys_pc = ct.ss(A, B, CA, C @ B + Dz, True)
    BB = B @ B.T
    P_pc = ct.dlyap(A, BB)
    eP, eP_pc = nl.lyap_error(A, BB, P), nl.lyap_error(A, BB, P_pc)
    assert np.linalg.norm(P - P_pc) <= eP + eP_pc, "P vs control.dlyap"
    aCA = np.abs(C) @ np.abs(A)
    dM = naive.rounding(2 * m + p, np.linalg.norm(aCA.T @ aCA))
    Q_pc = ct.dlyap(A.T, CA.T @ CA) + C.T @ C
    eQ = nl.lyap_error(A.T, C.T @ C, Q)
    eQ_pc = nl.lyap_error(A.T, CA.T @ CA, Q_pc - C.T @ C) + nl.sep_inv(A.T) * dM + naive.rounding(
        2, np.linalg.norm(np.abs(Q_pc) + np.abs(C).T @ np.abs(C)))
    assert np.linalg.norm(Q - Q_pc) <= eQ + eQ_pc, "Q vs control.dlyap"
    h2_pc = ct.norm(sys_pc, 2)
    aC, aB = np.abs(C), np.abs(B)
    mags = np.trace(aC @ np.abs(P) @ aC.T) + np.sum(Dz**2) + 2 * np.sum((aC @ aB) * np.abs(Dz))
    d_lib = np.linalg.norm(C) ** 2 * eP + naive.rounding(2 * m + 4 + Dz.size, mags)
    mags_pc = np.trace(aCA @ np.abs(P_pc) @ aCA.T) + np.sum((aC @ aB + np.abs(Dz)) ** 2)
    d_pc = np.linalg.norm(aCA) ** 2 * eP_pc + naive.rounding(4 * m + 8, mags_pc)
    naive.assert_within(h2**2, h2_pc**2, d_lib + d_pc + naive.rounding(3, h2**2 + h2_pc**2), "H2² vs control.norm",
                        factor=1.0)
    n = L.shape[0]
    resp = ct.impulse_response(sys_pc, T=np.arange(n), input=0).outputs  # (p, T) or (T,) for p = 1
    bound = 2 * naive.markov_bound(W, U, C, D, n, cell, dt)[:, :, 0]
    naive.assert_within(L[:, :, 0], np.reshape(resp, (p, n)).T, bound, "impulse response vs control", factor=1.0)


@pytest.mark.parametrize("what", ["h2", "P", "Q", "L"])
def test_python_control_check_catches_a_relative_error_of_1e_5(what):
    for seed, cell in ((1, "elman"), (2, "euler")):
        W, U, C, D = stable_system(seed, 4, 2, 2, 0.8, cell, 0.5, True)
        vals = dict(h2=linear.h2_norm(W, U, C, D, cell, 0.5), L=linear.markov_parameters(W, U, C, 6, D=D, cell=cell,
                                                                                            dt=0.5))
        vals["P"], vals["Q"] = linear.gramians(W, U, C, cell, 0.5)
        check_against_python_control(W, U, C, D, cell, 0.5, **vals)
        vals[what] = vals[what] * 1.00001
        with pytest.raises(AssertionError):
            check_against_python_control(W, U, C, D, cell, 0.5, **vals)


def test_python_control_check_fails_on_the_wrong_convention():
    """The check above can fail: python-control's own (A, B, C, D) realisation of the same matrices has impulse
    response D, CB, CAB, ... — a different H2 norm than rnnmem's L_j = C A^j B (+ D at lag 0)."""
    ct = pytest.importorskip("control")
    W, U, C, D = stable_system(1, 4, 1, 1, 0.8)
    naive_pc = ct.norm(ct.ss(W, U, C, D, True), 2)
    assert abs(linear.h2_norm(W, U, C, D) - naive_pc) > 1e-3 * naive_pc


# ----------------------------------------------------------------------------- one vocabulary
@pytest.mark.parametrize("cell, dt", [("elman", 1.0), ("euler", 0.3)])
def test_linear_functions_accept_a_model_with_its_cell_and_dt(cell, dt):
    W, U, C, D = stable_system(5, 4, 1, 1, 0.8, cell=cell, dt=dt)
    rnn = rm.RNN(W, U, np.zeros(4), C, D, cell=cell, activation="linear", dt=dt)
    mats = dict(cell=cell, dt=dt)
    np.testing.assert_array_equal(linear.markov_parameters(rnn, n=7), linear.markov_parameters(W, U, C, 7, D, **mats))
    np.testing.assert_array_equal(linear.markov_parameters(rnn, 7), rnn.markov(7))
    np.testing.assert_array_equal(linear.gramians(rnn)[0], linear.gramians(W, U, C, **mats)[0])
    assert linear.h2_norm(rnn) == linear.h2_norm(W, U, C, D, **mats)
    np.testing.assert_array_equal(linear.hankel_singular_values(rnn), linear.hankel_singular_values(W, U, C, **mats))
    np.testing.assert_array_equal(linear.bptt_gain(rnn, 5), linear.bptt_gain(W, 5, **mats))
    A = W if cell == "elman" else np.eye(4) + dt * W
    B = U[:, 0] if cell == "elman" else dt * U[:, 0]
    np.testing.assert_array_equal(linear.memory_capacity(rnn, n=9), linear.memory_capacity(A, B, 9))
    np.testing.assert_array_equal(linear.fisher_memory(rnn, 9), linear.fisher_memory(A, B, 9))
    assert linear.controllability_rank(rnn) == linear.controllability_rank(A, B) == 4
    # the model's own cell and dt decide; a different one is an error, never used silently
    other = "euler" if cell == "elman" else "elman"
    with pytest.raises(ValueError, match="differs from the model's own cell"):
        linear.h2_norm(rnn, cell=other)
    with pytest.raises(ValueError, match="differs from the model's own dt"):
        linear.bptt_gain(rnn, 3, dt=dt / 2)
    with pytest.raises(TypeError, match="model and also"):
        linear.gramians(rnn, U)
    with pytest.raises(ValueError, match="activation='linear'"):
        linear.h2_norm(rnn.replace(activation="tanh"))


def test_deprecated_lag_names_warn_and_agree():
    W, U, C, _ = stable_system(2, 3, 1, 1, 0.7)
    u = U[:, 0]
    for fn, args, old in ((linear.memory_capacity, (W, u), "k_max"), (linear.fisher_memory, (W, u), "k_max"),
                          (linear.bptt_gain, (W,), "j_max"), (linear.markov_parameters, (W, U, C), "k_max")):
        msg = f"`{old}` is deprecated and will be removed in rnnmem 0.3; use `n`"
        with pytest.warns(DeprecationWarning, match=msg):
            got = fn(*args, **{old: 6})
        np.testing.assert_array_equal(got, fn(*args, n=6))
        with pytest.raises(TypeError, match="deprecated alias"):
            fn(*args, n=6, **{old: 6})
    rnn = rm.RNN.random(3, rng=0)
    with pytest.warns(DeprecationWarning, match="`j_max`"):
        g = linear.trajectory_gain(rnn, np.zeros((5, 1)), j_max=4)
    np.testing.assert_array_equal(g, linear.trajectory_gain(rnn, np.zeros((5, 1)), 4))
    with pytest.raises(TypeError, match="unexpected keyword argument 'lags'"):
        linear.bptt_gain(W, lags=3)
