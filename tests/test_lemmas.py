"""The math behind the lemma / Fig. 1 theory checks (theory/lemmas.py, theory/fig1.py), against closed forms."""

from __future__ import annotations

import math

import naive
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import rnnmem as rm
from theory.fig1 import crossing
from theory.lemmas import (
    a9_counterexample,
    a9_ratio,
    a10_family,
    gramian_norm_bound,
    lyapunov_solution,
    random_normal_matrix,
)

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_lyapunov_solution_solves_the_equation_and_closed_form():
    W = np.array([[-1.0, 10.0], [0.0, -1.0]])
    P = lyapunov_solution(W)
    np.testing.assert_allclose(W.T @ P + P @ W, -np.eye(2), atol=1e-12)
    # closed form for this W: P = [[1/2, 5/2], [5/2, 51/2]] (solve the 3 scalar equations by hand)
    np.testing.assert_allclose(P, [[0.5, 2.5], [2.5, 25.5]], rtol=1e-12)
    assert np.linalg.norm(P, 2) == pytest.approx(13 + math.sqrt(12.5 ** 2 + 2.5 ** 2), rel=1e-12)
    assert np.linalg.norm(P, 2) == pytest.approx(25.75, abs=0.01)  # docs/math.md §5: ≈ 25.7 > 0.5


@settings(max_examples=30, **SETTINGS)
@given(seed=st.integers(0, 2**31 - 1), m=st.integers(1, 7), beta0=st.floats(0.05, 3.0),
       sym=st.booleans())
def test_normal_matrices_attain_equality_in_a8(seed, m, beta0, sym):
    W = random_normal_matrix(m, beta0, np.random.default_rng(seed), symmetric=sym)
    # Error model: the computed Q B Qᵀ is within ‖E‖ <= γ_2m ‖|Q||B||Q|ᵀ‖_F <= γ_2m m^{3/2}‖W‖₂ of an exactly normal
    # (symmetric) matrix with abscissa −β₀: WWᵀ − WᵀW within 4‖W‖‖E‖ (+ the products' γ_m), the abscissa within
    # ‖E‖ (Bauer–Fike, κ = 1) + eigvals' γ_10m‖W‖; the Lyapunov solve within sep⁻¹ (γ_{4m²}(2‖W‖‖P‖ + 1) + 2‖E‖‖P‖)
    # where sep = σ_min(I⊗Wᵀ + Wᵀ⊗I) >= 2β₀ − 2‖E‖.
    nW = np.linalg.norm(W, 2)
    dE = naive.rounding(2 * m, m**1.5 * nW)
    assert np.linalg.norm(W @ W.T - W.T @ W) <= 4 * nW * dE + 2 * naive.rounding(m, np.linalg.norm(
        np.abs(W) @ np.abs(W).T))
    naive.assert_within(rm.spectral_abscissa(W), -beta0, dE + naive.rounding(10 * m, nW), "abscissa", factor=1.0)
    if sym:
        naive.assert_within(W, W.T, dE, "W − Wᵀ")
    P = lyapunov_solution(W)
    nP = 1 / (2 * beta0)
    sep = 2 * beta0 - 2 * dE
    naive.assert_within(np.linalg.norm(P, 2), nP, (naive.rounding(4 * m * m, 2 * nW * nP + 1) + 2 * dE * nP) / sep
                        + naive.rounding(10 * m, nP), "‖P‖₂", factor=1.0)


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
def test_integral_bound_holds(A, shift):
    W = A - (rm.spectral_abscissa(A) + shift) * np.eye(3)
    check_integral_bound(W)


def check_integral_bound(W, factor=1.0):
    """‖P‖₂ <= ∫‖e^{Wt}‖₂² dt. Error model: the Simpson quadrature's error is estimated from a second step size
    (h and h/2: the error is O(h²) at the kinks of t ↦ ‖e^{Wt}‖₂, so G(h) − G* ≈ (4/3)(G(h) − G(h/2)); 2× that is
    taken); P is within sep⁻¹ γ_{4m²}(2‖W‖‖P‖ + 1), sep = σ_min(I⊗Wᵀ + Wᵀ⊗I) (the Lyapunov operator)."""
    m = W.shape[0]
    nW = np.linalg.norm(W, 2)
    h = min(0.01, 0.02 / max(nW, 1e-12))
    G1, G2 = gramian_norm_bound(W, h=h), gramian_norm_bound(W, h=h / 2)
    quad = 2 * abs(G1 - G2) + naive.rounding(10 * m, G1)
    P = lyapunov_solution(W)
    nP = np.linalg.norm(P, 2)
    sep = np.linalg.svd(np.kron(np.eye(m), W.T) + np.kron(W.T, np.eye(m)), compute_uv=False)[-1]
    dP = naive.rounding(4 * m * m, 2 * nW * nP + 1) / sep + naive.rounding(10 * m, nP)
    assert nP * factor <= G1 + quad + dP, (nP, G1, quad, dP)


def test_integral_bound_check_catches_a_relative_error_of_1e_5():
    """Equality holds for a normal W: ‖P‖₂ scaled by 1.00001 must exceed the quadrature and its error estimate."""
    W = random_normal_matrix(3, 0.7, np.random.default_rng(1))
    check_integral_bound(W)
    with pytest.raises(AssertionError):
        check_integral_bound(W, factor=1.00001)


def test_a9_counterexample_value():
    W, v = a9_counterexample(50)
    r = a9_ratio(W, v)
    # closed form: Wv = (1 + 49/50)·1, D(v)²Wv = 1.98 v², so ratio = 1.98 |v²|₂ / |v|₂³
    v2 = np.sqrt(1 + 49 / 50 ** 4)
    assert r == pytest.approx(1.98 * v2 / (1 + 49 / 2500) ** 1.5, rel=1e-12)
    assert r == pytest.approx(1.92, abs=0.01) and r > np.abs(W).max()


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


def test_a10_family_hypotheses():
    t = np.linspace(0, 50, 5001)
    for m in (1, 3, 10, 100):
        f, fm = a10_family(t, m, 0.5)
        assert np.abs(fm - f).max() <= 1 / m + 1e-15
        assert np.all(np.exp(0.5 * t) * np.abs(fm) <= 2 / (1 + t) + 1e-12)


def test_crossing_helper():
    b = np.array([0.0, 1.0, 2.0, 4.0])
    # E_big crosses E_small between 1 and 2: log-ratio −log 2 → +log 2, crossing at the log-midpoint √2
    e_small = np.array([1.0, 1.0, 1.0, 1.0])
    e_big = np.array([0.1, 0.5, 2.0, 5.0])
    x, exact = crossing(b, e_small, e_big)
    assert exact and x == pytest.approx(math.sqrt(2.0))
    assert crossing(b, e_small, np.array([0.1, 2.0, 3.0, 4.0])) == (1.0, False)  # at the first grid point
    assert crossing(b, e_small, np.array([0.1, 0.5, np.inf, np.inf])) == (2.0, False)
    x, exact = crossing(b, e_small, np.array([0.1, 0.5, 0.6, 0.7]))
    assert math.isnan(x) and not exact
