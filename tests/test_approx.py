"""rnnmem.approx: exponential fits (variable projection) against closed forms and brute force; the RNN convention."""

from __future__ import annotations

import naive
import numpy as np
import pytest
from gradcheck import assert_gradient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rnnmem as rm
from rnnmem import approx

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_single_exponential_recovered_and_pruned():
    fit = approx.exponential_fit(lambda t: 0.9 ** t, 6)
    assert fit.rates.size == 1 and fit.width == 6
    assert fit.rates[0] == pytest.approx(-np.log(0.9), rel=1e-10)
    assert fit.weights[0] == pytest.approx(1.0, rel=1e-10)
    assert fit.info["pruned"] + fit.info["merged"] == 5
    assert fit.residual < 1e-12


def check_exact_recovery(fit, rates, weights, rho):
    """A fit of an exactly representable ρ recovers its rates and weights.

    Error model (a posteriori): with f(θ) the fitted function on the fit grid and f(θ*) = ρ exactly,
    θ̂ − θ* = J⁺ (f(θ̂) − ρ) + O(‖θ̂ − θ*‖²) for the Jacobian J of f at θ̂ (any left inverse of a full-rank J), so
    |θ̂ − θ*| <= 2 |J⁺| (|r| + rounding of r) elementwise (2 covers the second-order term). That bound must certify
    the claim of the test, recovery to a relative 1e-6; in practice it is ~1e-12 (the solver's xtol)."""
    t = approx.fit_grid()
    y = rho(t)
    assert fit.rates.size == len(rates), (fit.rates, rates)
    E = np.exp(-np.outer(t, fit.rates))
    r = E @ fit.weights - y
    J = np.hstack([-(fit.weights * t[:, None]) * E, E])
    bound = 2 * np.abs(np.linalg.pinv(J)) @ (np.abs(r) + naive.rounding(6, np.abs(E) @ np.abs(fit.weights)
                                                                       + np.abs(y)))
    truth = np.r_[rates, weights]
    naive.assert_within(np.r_[fit.rates, fit.weights], truth, bound, "(rates, weights)", factor=1.0)
    assert np.all(bound <= 1e-6 * np.abs(truth)), bound / np.abs(truth)


@settings(max_examples=10, **SETTINGS)
@given(l1=st.floats(0.01, 0.1), ratio=st.floats(5.0, 30.0), c1=st.floats(0.2, 2.0), c2=st.floats(-1.0, 2.0))
def test_two_exponentials_recovered(l1, ratio, c1, c2):
    """ρ = c1 e^{−λ1 t} + c2 e^{−λ2 t} is exactly representable: VP finds it (rates well separated)."""
    if abs(c2) < 0.05:
        c2 = 0.5
    l2 = l1 * ratio

    def rho(t):
        return c1 * np.exp(-l1 * t) + c2 * np.exp(-l2 * t)

    check_exact_recovery(approx.exponential_fit(rho, 2), [l1, l2], [c1, c2], rho)


def test_recovery_check_catches_a_relative_error_of_1e_5():
    def rho(t):
        return 0.8 * np.exp(-0.03 * t) - 0.4 * np.exp(-0.3 * t)

    fit = approx.exponential_fit(rho, 2)
    check_exact_recovery(fit, [0.03, 0.3], [0.8, -0.4], rho)
    for k in range(2):
        for field in ("rates", "weights"):
            v = getattr(fit, field).copy()
            v[k] *= 1.00001
            bad = approx.ExponentialFit(**{**{f: getattr(fit, f) for f in ("rates", "weights", "t", "residual",
                                                                            "width")}, field: v})
            with pytest.raises(AssertionError):
                check_exact_recovery(bad, [0.03, 0.3], [0.8, -0.4], rho)


def test_vp_beats_brute_force_one_mode():
    """m = 1 on the polynomial kernel: VP residual ≤ the best of a dense grid over λ (+ tiny slack)."""
    rho = rm.targets.polynomial(1.1)
    t = approx.fit_grid()
    fit = approx.exponential_fit(rho, 1, t=t)
    grid = np.geomspace(1e-5, 5.0, 4000)
    best = min(approx.fixed_basis_fit(rho, [lam], t=t).residual for lam in grid)
    assert fit.residual <= best * (1 + 1e-6)


def test_fixed_basis_matches_lstsq_and_weights():
    t = np.linspace(0, 50, 200)
    rates = np.array([0.05, 0.3, 1.0])
    w = np.linspace(0.5, 2.0, t.size)
    y = (1 + t) ** -1.5
    fit = approx.fixed_basis_fit(lambda s: (1 + s) ** -1.5, rates, t=t, weights=w)
    Phi = np.exp(-np.outer(t, rates))
    c = np.linalg.lstsq(Phi * np.sqrt(w)[:, None], y * np.sqrt(w), rcond=None)[0]
    np.testing.assert_allclose(fit.weights, c, rtol=1e-10)
    np.testing.assert_allclose(fit(t), Phi @ c, rtol=1e-12)
    assert fit.residual == pytest.approx(np.sqrt(np.mean(w * (y - Phi @ c) ** 2)))


def test_kaufman_gradient_is_exact():
    """J_Kᵀ r equals the exact gradient of ½‖r(s)‖² (r ⟂ range Φ kills the second Golub–Pereyra term)."""
    from rnnmem.approx import _basis, _solve

    t = approx.fit_grid(window=30, horizon=300, n_tail=40)
    y = (1 + t) ** -1.1
    sw = np.ones_like(t)
    s = np.log(np.array([0.02, 0.2, 1.3]))

    def half_sq(s):
        lam = np.exp(s)
        Phi = _basis(t, lam)
        r = y - Phi @ _solve(Phi, y)
        return 0.5 * r @ r

    lam = np.exp(s)
    Phi = _basis(t, lam)
    c = _solve(Phi, y)
    r = y - Phi @ c
    U, sv, _ = np.linalg.svd(Phi, full_matrices=False)
    D = Phi * (lam * c)[None, :] * t[:, None]
    J = D - U @ (U.T @ D)
    g = J.T @ r
    # f = ½ Σ r_k², r = y − Φ c: the rounding of each r_k, ~u(|y_k| + (|Φ||c|)_k), enters multiplied by |r_k| (c's own
    # least-squares error enters at second order: r ⟂ range Φ); g = Jᵀr sums |J|ᵀ|r| with J = D − U(UᵀD)
    f_scale = float(np.sum(np.abs(r) * (np.abs(y) + np.abs(Phi) @ np.abs(c))))
    g_scale = float(np.max((np.abs(D) + np.abs(U) @ np.abs(U.T @ D)).T @ np.abs(r)))
    assert_gradient(half_sq, s, g, name="Kaufman gradient", f_scale=f_scale, g_scale=g_scale)
    with pytest.raises(AssertionError):
        assert_gradient(half_sq, s, g * 1.00001, name="Kaufman gradient", f_scale=f_scale, g_scale=g_scale)
    assert sw.size == t.size


@pytest.mark.parametrize("cell", ["euler", "elman"])
@pytest.mark.parametrize("dt", [1.0, 0.25])
@pytest.mark.parametrize("balance", [True, False])
def test_to_rnn_markov_parameters_are_dt_rho(cell, dt, balance):
    fit = approx.ExponentialFit(np.array([0.05, 0.7]), np.array([0.6, -0.2]), np.zeros(1), 0.0, 2)
    rnn = fit.to_rnn(cell=cell, dt=dt, balance=balance)
    n = 40
    L = rnn.markov(n)[:, 0, 0]
    np.testing.assert_allclose(L, dt * fit(dt * np.arange(n)), rtol=1e-12, atol=1e-15)
    if cell == "euler":
        assert rm.spectral_abscissa(rnn.W) == pytest.approx(np.expm1(-0.05 * dt) / dt, rel=1e-12)


def test_rnn_reproduces_target_outputs():
    """An exactly representable target: the fitted RNN's outputs equal the target's Riemann-sum outputs."""
    target = rm.targets.sum_of_exponentials([1.0, 0.5], [0.1, 1.0])
    rnn = approx.linear_rnn(target, 4, dt=0.5)
    x = np.random.default_rng(0).normal(size=(2, 80, 1))
    np.testing.assert_allclose(rnn(x), target(x, dt=0.5), rtol=1e-8, atol=1e-10)


def test_polynomial_slowest_rate_falls_with_width():
    """docs/math.md §7: the slowest rate of the pol fits falls with m (≈ 0.067, 0.0076, 0.0013)."""
    rates = [approx.exponential_fit(rm.targets.polynomial(1.1), m).slowest_rate for m in (2, 4, 6)]
    assert rates[0] > 5 * rates[1] > 25 * rates[2]
    assert rates[0] == pytest.approx(0.067, rel=0.1)


def test_approx_validation():
    with pytest.raises(TypeError, match="rho"):
        approx.exponential_fit(3.0, 2)
    with pytest.raises(ValueError, match="one value per time"):
        approx.exponential_fit(lambda t: np.ones((t.size, 2)), 2)
    with pytest.raises(ValueError, match="NaN"):
        approx.exponential_fit(lambda t: np.full(t.shape, np.nan), 2)
    with pytest.raises(ValueError, match="m must"):
        approx.exponential_fit(lambda t: np.exp(-t), 0)
    with pytest.raises(ValueError, match="rate_bounds"):
        approx.exponential_fit(lambda t: np.exp(-t), 2, rate_bounds=(1.0, 0.1))
    with pytest.raises(ValueError, match="rates"):
        approx.fixed_basis_fit(lambda t: np.exp(-t), [-1.0])
    with pytest.raises(ValueError, match="cell"):
        approx.exponential_fit(lambda t: np.exp(-t), 1).to_rnn(cell="lstm")
