"""The math behind the linear-theory checks (theory/lemmas.py, fig1.py, thm39.py, hartman_grobman.py, appc.py,
remark33.py, _linfam.py) and the fixed-width fit of rnnmem.approx, against closed forms and independent computations."""

from __future__ import annotations

import math

import naive
import numpy as np
import pytest
from gradcheck import assert_gradient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import rnnmem as rm
from rnnmem import approx
from theory import _linfam as lf
from theory.fig1 import crossing, exp_criterion, pol_criterion, worst_case
from theory.hartman_grobman import _rate, a7_case, random_hurwitz_family
from theory.lemmas import (
    a9_counterexample,
    a9_log_ratio,
    a9_ratio,
    a10_criterion,
    brute_force_radius,
    chain_matrix,
    gramian_norm_bound,
    lyapunov_solution,
    lyapunov_term,
    max_a9_ratio,
    max_lyapunov_term,
    random_nonnormal_hurwitz,
    random_normal_matrix,
)
from theory.remark33 import dissipative_w

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------------------------- Lemma A.8
def test_lyapunov_solution_solves_the_equation_and_closed_form():
    W = np.array([[-1.0, 10.0], [0.0, -1.0]])
    P = lyapunov_solution(W)
    np.testing.assert_allclose(W.T @ P + P @ W, -np.eye(2), atol=1e-12)
    # closed form for this W: P = [[1/2, 5/2], [5/2, 51/2]] (solve the 3 scalar equations by hand)
    np.testing.assert_allclose(P, [[0.5, 2.5], [2.5, 25.5]], rtol=1e-12)
    assert np.linalg.norm(P, 2) == pytest.approx(13 + math.sqrt(12.5 ** 2 + 2.5 ** 2), rel=1e-12)
    assert np.linalg.norm(P, 2) == pytest.approx(25.75, abs=0.01)  # docs/math.md §9: ≈ 25.7 > 0.5


@settings(max_examples=25, **SETTINGS)
@given(seed=st.integers(0, 2**31 - 1), m=st.integers(1, 6), beta0=st.floats(0.05, 3.0), sym=st.booleans())
def test_normal_matrices_attain_equality_in_a8(seed, m, beta0, sym):
    W = random_normal_matrix(m, beta0, np.random.default_rng(seed), symmetric=sym)
    # Error model: the computed Q B Qᵀ is within ‖E‖ <= γ_2m ‖|Q||B||Q|ᵀ‖_F <= γ_2m m^{3/2}‖W‖₂ of an exactly normal
    # (symmetric) matrix with abscissa −β₀: WWᵀ − WᵀW within 4‖W‖‖E‖ (+ the products' γ_m), the abscissa within
    # ‖E‖ (Bauer–Fike, κ = 1) + eigvals' γ_10m‖W‖; the Lyapunov solve within sep⁻¹ (γ_{4m²}(2‖W‖‖P‖ + 1) + 2‖E‖‖P‖)
    # where sep = σ_min(I⊗Wᵀ + Wᵀ⊗I) >= 2β₀ − 2‖E‖; r = −α for a normal W, the library's r within its documented
    # relative tol 1e-10 and the rounding of its eigenvalue tests (γ_30m ‖W‖).
    nW = np.linalg.norm(W, 2)
    dE = naive.rounding(2 * m, m**1.5 * nW)
    assert np.linalg.norm(W @ W.T - W.T @ W) <= 4 * nW * dE + 2 * naive.rounding(m, np.linalg.norm(
        np.abs(W) @ np.abs(W).T))
    naive.assert_within(rm.spectral_abscissa(W), -beta0, dE + naive.rounding(10 * m, nW), "abscissa", factor=1.0)
    if sym:
        naive.assert_within(W, W.T, dE, "W − Wᵀ")
    p = np.linalg.norm(lyapunov_solution(W), 2)
    nP = 1 / (2 * beta0)
    sep = 2 * beta0 - 2 * dE
    dP = (naive.rounding(4 * m * m, 2 * nW * nP + 1) + 2 * dE * nP) / sep + naive.rounding(10 * m, nP)
    naive.assert_within(p, nP, dP, "‖P‖₂", factor=1.0)
    r = rm.distance_to_instability(W, cell="euler")
    dr = 1e-10 * r + naive.rounding(30 * m, nW) + dE  # |r − β₀|
    naive.assert_within(p, 1 / (2 * r), dP + dr / (2 * r * max(r - dr, 1e-300)), "‖P‖₂ vs 1/(2r)", factor=1.0)


def test_gramian_integral_closed_forms():
    assert gramian_norm_bound(np.diag([-1.0, -3.0])) == pytest.approx(0.5, rel=1e-7)
    # Jordan block: ‖e^{Wt}‖₂² = e^{−2t} σ_max([[1, ct], [0, 1]])², σ_max² = 1 + (ct)²/2 + ct sqrt(1 + (ct)²/4)
    c = 10.0
    from scipy.integrate import quad

    val, _ = quad(lambda t: np.exp(-2 * t) * (1 + (c * t) ** 2 / 2 + c * t * np.sqrt(1 + (c * t) ** 2 / 4)),
                  0, np.inf, epsrel=1e-12)
    assert gramian_norm_bound(np.array([[-1.0, c], [0.0, -1.0]])) == pytest.approx(val, rel=1e-7)


@settings(max_examples=15, **SETTINGS)
@given(A=hnp.arrays(np.float64, (3, 3), elements=st.floats(-3, 3, allow_subnormal=False)),
       shift=st.floats(0.2, 1.5))
def test_corrected_a8_bounds_hold(A, shift):
    """1/(2 r(W)) ≤ ‖P‖₂ ≤ ∫‖e^{Wt}‖₂² dt for every Hurwitz W (lemma-a8's corrected statement)."""
    W = A - (rm.spectral_abscissa(A) + shift) * np.eye(3)
    check_a8_bounds(W)


def check_a8_bounds(W, factor=1.0):
    """1/(2r) <= ‖P‖₂ <= ∫‖e^{Wt}‖₂² dt. Error model: the Simpson quadrature's error is estimated from a second step
    size (h and h/2: the error is O(h²) at the kinks of t ↦ ‖e^{Wt}‖₂, so G(h) − G* ≈ (4/3)(G(h) − G(h/2)); 2× that
    is taken); P is within sep⁻¹ γ_{4m²}(2‖W‖‖P‖ + 1), sep = σ_min(I⊗Wᵀ + Wᵀ⊗I) (the Lyapunov operator); the
    library's r is an upper estimate of the distance (its bracket's top) up to the rounding of its eigenvalue
    tests, γ_30m ‖W‖."""
    m = W.shape[0]
    nW = np.linalg.norm(W, 2)
    h = min(0.01, 0.02 / max(nW, 1e-12))
    G1, G2 = gramian_norm_bound(W, h=h), gramian_norm_bound(W, h=h / 2)
    quad = 2 * abs(G1 - G2) + naive.rounding(10 * m, G1)
    p = np.linalg.norm(lyapunov_solution(W), 2)
    sep = np.linalg.svd(np.kron(np.eye(m), W.T) + np.kron(W.T, np.eye(m)), compute_uv=False)[-1]
    dP = naive.rounding(4 * m * m, 2 * nW * p + 1) / sep + naive.rounding(10 * m, p)
    assert p * factor <= G1 + quad + dP, ("upper", p, G1, quad, dP)
    r = rm.distance_to_instability(W, cell="euler")
    assert 2 * r * p * factor >= 1 - 2 * (r * dP + p * naive.rounding(30 * m, nW)) - naive.rounding(4, 1.0), \
        ("lower", 2 * r * p)


def test_a8_bounds_check_catches_a_relative_error_of_1e_5():
    """Both bounds hold with equality for a normal W: ‖P‖₂ scaled by 1.00001 (or divided) must fail."""
    W = random_normal_matrix(3, 0.7, np.random.default_rng(1))
    check_a8_bounds(W)
    with pytest.raises(AssertionError, match="upper"):
        check_a8_bounds(W, factor=1.00001)
    with pytest.raises(AssertionError, match="lower"):
        check_a8_bounds(W, factor=1.0 / 1.00001)


def test_random_nonnormal_hurwitz_is_hurwitz():
    gen = np.random.default_rng(3)
    for _ in range(20):
        W = random_nonnormal_hurwitz(4, gen)
        assert -1.0 - 1e-9 <= rm.spectral_abscissa(W) <= -0.1 + 1e-9


# --------------------------------------------------------------------------------------------- Lemma A.9
def test_a9_counterexample_closed_form():
    m = 50
    W, v = a9_counterexample(m)
    assert rm.spectral_abscissa(W) == pytest.approx(-1.0)  # Hurwitz: the lemma's hypothesis holds
    assert np.abs(W).max() == 1.0
    # (Wv)_i = −i/m for i < m and −1 − (m−1)/m for i = m, so q_i = −i/m³ and q_m = −(2m−1)/m
    q2 = sum(i * i for i in range(1, m)) / m ** 6 + ((2 * m - 1) / m) ** 2
    v2 = (m - 1) / m ** 2 + 1.0
    assert a9_ratio(W, v) == pytest.approx(math.sqrt(q2) / v2 ** 1.5, rel=1e-12)
    assert a9_ratio(W, v) == pytest.approx(1.923, abs=1e-3)


@settings(max_examples=50, **SETTINGS)
@given(W=hnp.arrays(np.float64, st.tuples(st.integers(1, 8)).map(lambda t: (t[0], t[0])),
                    elements=st.floats(-5, 5, allow_subnormal=False)),
       data=st.data())
def test_a9_spectral_version_holds(W, data):
    v = data.draw(hnp.arrays(np.float64, W.shape[0], elements=st.floats(-5, 5, allow_subnormal=False)))
    if not v.any():  # the ratio is homogeneous of degree 0 in v and undefined at 0: take e_1 instead (no rejection)
        v = np.eye(W.shape[0])[0]
    v = v / np.abs(v).max()  # homogeneity: keeps v², v³ far from underflow for tiny v
    m = W.shape[0]
    nW = np.linalg.norm(W, 2)
    # |D(v)²Wv| <= ‖v‖_∞² ‖W‖ ‖v‖ <= ‖W‖ ‖v‖³; the ratio is computed within γ_{2m+8} of itself, ‖W‖₂ within γ_10m
    r = a9_ratio(W, v)
    assert r <= nW + naive.rounding(10 * m, nW) + naive.rounding(2 * m + 8, r)


def test_a9_objective_gradients():
    gen = np.random.default_rng(0)
    W = gen.standard_normal((5, 5))
    P = lyapunov_solution(W - (rm.spectral_abscissa(W) + 0.5) * np.eye(5))
    v = gen.standard_normal(5)
    assert_gradient(lambda x: a9_log_ratio(x, W)[0], v, a9_log_ratio(v, W)[1], name="a9_log_ratio")
    assert_gradient(lambda x: lyapunov_term(x, W, P)[0], v, lyapunov_term(v, W, P)[1], name="lyapunov_term")
    assert a9_log_ratio(v, W)[0] == pytest.approx(math.log(a9_ratio(W, v)), rel=1e-12)


def test_a9_search_finds_the_violation_and_none_for_diagonal_w():
    m = 20
    W = -np.eye(m) - np.tril(np.ones((m, m)), -1)
    starts = [a9_counterexample(m)[1], np.ones(m)]
    found, arg = max_a9_ratio(W, starts)
    assert found >= a9_ratio(*a9_counterexample(m)) - 1e-12 and found > 1.5
    assert a9_ratio(W, arg) == pytest.approx(found, rel=1e-12)
    w = np.linspace(0.5, 2.0, m)
    found_d, _ = max_a9_ratio(-np.diag(w), starts)
    assert found_d <= w.max() * (1 + 1e-12)  # |v³∘w| ≤ max|w| |v|³ exactly


def test_lyapunov_term_exceeds_the_claimed_bound_where_a8_holds():
    m = 10
    W = -(np.eye(m) + np.ones((m, m)))
    P = lyapunov_solution(W)
    assert np.linalg.norm(P, 2) == pytest.approx(0.5, rel=1e-12)  # Lemma A.8 holds with equality here
    gen = np.random.default_rng(1)
    val = max_lyapunov_term(W, P, [np.ones(m), gen.standard_normal(m)])
    # independent lower bound: the best of many random unit vectors never beats the optimiser
    V = gen.standard_normal((4000, m))
    V /= np.linalg.norm(V, axis=1, keepdims=True)
    rand = max(abs(lyapunov_term(v, W, P)[0]) for v in V)
    assert val >= rand - 1e-12
    assert val > 1.0  # > ‖P‖₂ M₀ = 1/2 · 2


def test_chain_numbers_of_docs_math_9():
    for m, p_ref, r_ref in ((8, 102.289, 0.0327167), (16, 4.54e4, 1.27e-3)):
        W = chain_matrix(m)
        assert np.linalg.norm(W, 2) <= 2.5 and rm.spectral_abscissa(W) == -1.0
        assert np.linalg.norm(lyapunov_solution(W), 2) == pytest.approx(p_ref, rel=1e-2)
        assert rm.distance_to_instability(W, cell="euler") == pytest.approx(r_ref, rel=1e-2)
    W = chain_matrix(6)
    assert brute_force_radius(W, 2001) == pytest.approx(rm.distance_to_instability(W, cell="euler"), rel=1e-6)


# -------------------------------------------------------------------------------------------- Lemma A.10
def test_a10_criterion_on_known_families():
    t = np.linspace(0.0, 200.0, 4001)
    f = np.exp(-0.5 * t) / (1 + t)
    mems = {m: f * (1 + np.sin(m * t) / m) for m in (4, 16, 64)}
    assert a10_criterion(t, mems, f, 0.45, (0.5, 0.9))["ok"]
    # the premise fails when the envelope grows: β₀ above the functions' decay rate
    bad = a10_criterion(t, mems, f, 0.6, (0.5, 0.9))
    assert not bad["H2"] and not bad["ok"]


# ------------------------------------------------------------------------------------------------ Fig. 1
def test_crossing_helper():
    b = np.array([0.0, 1.0, 2.0, 4.0])
    e_small = np.array([1.0, 1.0, 1.0, 1.0])
    e_big = np.array([0.1, 0.5, 2.0, 5.0])
    x, exact = crossing(b, e_small, e_big)
    assert exact and x == pytest.approx(math.sqrt(2.0))
    assert crossing(b, e_small, np.array([0.1, 2.0, 3.0, 4.0])) == (1.0, False)
    assert crossing(b, e_small, np.array([0.1, 0.5, np.inf, np.inf])) == (2.0, False)
    x, exact = crossing(b, e_small, np.array([0.1, 0.5, 0.6, 0.7]))
    assert math.isnan(x) and not exact


def _curves(betas, rows):
    n = betas.size
    return {m: rm.PerturbationCurve(betas, np.asarray(e, float), np.zeros((n, 0)), np.asarray(e, float)[:, None],
                                    float(e[0])) for m, e in rows.items()}


def test_fig1_criteria_on_synthetic_curves():
    b = np.r_[0.0, 0.01 * 2.0 ** np.arange(6)]  # 0, 0.01 … 0.32
    # exp-like: ordered until all meet between 0.04 and 0.08
    common = {2: [0.3, 0.3, 0.3, 0.3, 0.35, 5, 9], 4: [0.1, 0.1, 0.12, 0.2, 0.4, 6, 9],
              6: [0.03, 0.04, 0.06, 0.15, 0.45, 7, 9]}
    r = exp_criterion(b, worst_case(_curves(b, common)))
    assert r["ok"] and 0.04 < r["beta0"] < 0.08
    assert not pol_criterion(b, _curves(b, common))["ok"]  # crossings do not move left by 3×
    # pol-like: crossings at ~0.14, then ~0.014
    left = {2: [0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.4], 4: [0.1, 0.1, 0.1, 0.12, 0.15, 0.2, 0.5],
            6: [0.03, 0.04, 0.2, 0.3, 0.5, 1, 2]}
    r = pol_criterion(b, _curves(b, left))
    assert r["ok"] and r["crossings"][1] < r["crossings"][0] / 3
    assert not exp_criterion(b, _curves(b, left))["ok"]  # first crossing ≈ 0.014 < 0.028


# ------------------------------------------------------------------------------- approx fixed-width fit
def test_uniform_rates_and_fixed_width_fit():
    lam = approx.uniform_rates(4, dt=0.5)
    np.testing.assert_allclose(np.exp(-lam * 0.5), [0.8, 0.6, 0.4, 0.2], rtol=1e-14)
    t = np.arange(1.0, 101.0)
    rho = rm.targets.exponential(base=0.9)
    fit = approx.fixed_basis_fit(rho, approx.uniform_rates(6), t=t)
    Phi = np.exp(-np.outer(t, fit.rates))
    ref, *_ = np.linalg.lstsq(Phi, 0.9 ** t, rcond=None)
    np.testing.assert_allclose(fit.weights, ref, rtol=1e-8, atol=1e-12)
    assert fit.rates.size == 6 and fit.info["rank"] == 6
    trunc = approx.fixed_basis_fit(rho, approx.uniform_rates(14), t=t, rcond=1e-2)
    assert trunc.info["rank"] < 14 and trunc.rates.size == 14  # truncated, but no mode pruned
    assert np.abs(trunc.weights).max() < np.abs(approx.fixed_basis_fit(rho, approx.uniform_rates(14), t=t)
                                                 .weights).max()
    with pytest.raises(ValueError, match="distinct"):
        approx.fixed_basis_fit(rho, [0.1, 0.1])
    with pytest.raises(ValueError, match="rcond"):
        approx.fixed_basis_fit(rho, [0.1], rcond=-1.0)


# ----------------------------------------------------------------------------------- model families
def test_chain_rnn_memory_is_the_truncated_series():
    m, dt = 6, 0.1
    rnn = lf.chain_rnn(m, dt=dt)
    t = dt * np.arange(200)
    M = rm.exact_memory(rnn, t.size, continuous=True).values
    series = np.exp(-t) * sum(0.5 * k * 0.5 ** (k - 1) * t ** k / math.factorial(k) for k in range(1, m))
    np.testing.assert_allclose(M, np.abs(series), rtol=1e-9, atol=1e-14)
    assert rm.spectral_abscissa(rnn.W) == -1.0


def test_similar_keeps_the_map_and_destabilizer_is_minimal():
    gen = np.random.default_rng(2)
    rnn = lf.continuous_rnn(np.array([0.3, 0.8, 2.0]), np.array([1.0, -0.4, 0.2]), dt=0.1)
    S = np.eye(3) + np.eye(3, k=1)
    x = gen.standard_normal((2, 50, 1))
    np.testing.assert_allclose(lf.similar(rnn, S)(x), rnn(x), rtol=1e-10, atol=1e-13)
    W = lf.similar(rnn, S).W
    smin, D = lf.destabilizer(W)
    assert np.linalg.norm(D, 2) == pytest.approx(1.0)
    assert np.linalg.svd(W + smin * D, compute_uv=False)[-1] <= 1e-12 * np.linalg.norm(W, 2)
    assert smin == pytest.approx(rm.distance_to_instability(W, cell="euler"), rel=1e-6)


def test_hump_target_closed_form():
    tg = lf.hump_target()
    t = np.array([0.0, 1.0, 10.0])
    np.testing.assert_allclose(tg.rho(t), np.exp(-0.3 * t) - np.exp(-0.6 * t) / (1 + t), rtol=1e-15)
    assert tg.rho(np.zeros(1))[0] == 0.0


# ------------------------------------------------------------------------------------ Hartman–Grobman
def test_random_hurwitz_family_and_rate_helper():
    gen = np.random.default_rng(5)
    for unstable in (False, True):
        for W in random_hurwitz_family(gen, 3, unstable=unstable):
            lam = np.linalg.eigvals(W)
            lead = lam[np.argmax(lam.real)]
            assert abs(lead.imag) < 1e-9 and 0.3 - 1e-9 <= abs(lead.real) <= 1.0 + 1e-9
            assert (lead.real > 0) == unstable
    t = np.linspace(0, 50, 1001)
    assert _rate(t, 2.0 * np.exp(-0.7 * t), 1e-12, 1e-3) == pytest.approx(-0.7, rel=1e-9)
    assert _rate(t, 1e-6 * np.exp(0.4 * t), 1e2, 1e5) == pytest.approx(0.4, rel=1e-9)


def test_a7_case_on_a_diagonal_w():
    c = a7_case(np.diag([-0.5, -2.0]))
    assert c["ok"] and c["r"] == pytest.approx(0.5) and c["minus_alpha"] == pytest.approx(0.5)


def test_dissipative_w():
    gen = np.random.default_rng(4)
    for _ in range(10):
        W = dissipative_w(5, gen)
        assert np.linalg.eigvalsh(W + W.T).max() < -0.3
