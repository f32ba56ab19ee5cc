"""The finite-difference checker itself: it passes true derivatives of any size and catches a 1e-5 relative bug."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import EPS, assert_gradient, central_differences, detectable


def _f(theta):
    return float(np.sum(np.sin(3.0 * theta) * np.exp(0.5 * theta)) + 7.0)


def _g(theta):
    return 3.0 * np.cos(3.0 * theta) * np.exp(0.5 * theta) + 0.5 * np.sin(3.0 * theta) * np.exp(0.5 * theta)


@pytest.mark.parametrize("scale", [1.0, 1e-8, 1e6])
def test_true_gradient_passes_at_any_magnitude(scale):
    rng = np.random.default_rng(0)
    theta = rng.normal(size=(3, 4))
    assert_gradient(lambda t: scale * _f(t), theta, scale * _g(theta))


def test_tiny_gradient_on_a_large_value_passes():
    # the Hypothesis seed-85 shape: f ≈ 1, its gradient ≈ 1e-8 -- round-off of f dominates the difference quotient
    theta = np.array([0.3, -0.2])
    assert_gradient(lambda t: 1.0 + 1e-8 * float(np.sum(t**3)), theta, 3e-8 * theta**2)


def test_a_relative_bug_of_1e_5_is_caught():
    theta = np.random.default_rng(1).normal(size=5)
    _, tol = assert_gradient(_f, theta, _g(theta))
    assert detectable(_g(theta), tol).all()
    with pytest.raises(AssertionError, match="central difference"):
        assert_gradient(_f, theta, _g(theta) * 1.00001)


def test_truncation_estimate_tracks_the_third_derivative():
    theta = np.array([0.7])
    res = central_differences(lambda t: float(np.exp(4.0 * t[0])), theta, step=1e-3)
    h = res.steps[0]
    predicted = h**2 / 6 * 64.0 * np.exp(4.0 * 0.7)  # h²/6 · f'''
    assert 0.5 * predicted <= res.truncation[0] <= 2.0 * predicted
    assert abs(res.fd[0] - 4.0 * np.exp(2.8)) <= 2 * res.truncation[0] + res.roundoff[0]


def test_steps_are_the_exact_distances_between_the_evaluated_points():
    theta = np.array([1e8 + 0.1, 3.0, -1e-300])
    seen = []
    res = central_differences(lambda t: seen.append(t.copy()) or t.copy(), theta)
    for i in range(3):
        plus, minus = seen[4 * i][i], seen[4 * i + 1][i]
        assert res.steps[i] == (plus - minus) / 2
    np.testing.assert_array_equal(res.fd, np.eye(3))  # the identity map: exact, whatever the rounding of θ ± h


def test_jacobian_of_an_array_valued_function():
    theta = np.array([0.4, -1.1, 2.0])
    A = np.array([[1.0, -2.0, 0.5], [0.3, 0.0, 4.0]])

    def F(t):
        return np.array([np.sum(A[0] * np.sin(t)), np.prod(t) + A[1] @ t])

    J = np.array([A[0] * np.cos(theta), [theta[1] * theta[2] + 0.3, theta[0] * theta[2], theta[0] * theta[1] + 4]])
    res, tol = assert_gradient(F, theta, J, name="J")
    assert res.fd.shape == (2, 3)
    bad = J.copy()
    bad[1] *= 1.00001
    with pytest.raises(AssertionError, match=r"J\[1, "):
        assert_gradient(F, theta, bad, name="J")


def test_f_error_sets_the_roundoff_term():
    """An explicit bound on f's round-off replaces κ·ε·|f|: a value that cancels (f = big − big) has round-off far
    above ε|f|, and only the explicit bound covers it."""
    theta = np.array([0.25])
    big = 1e8

    def f(t):  # = t² computed as (big + t²) − big: round-off ~ ε·big
        return float((big + t[0] ** 2) - big)

    with pytest.raises(AssertionError):
        assert_gradient(f, theta, 2 * theta, safety=1.0)  # κ·ε·max|f| understates the round-off
    assert_gradient(f, theta, 2 * theta, f_error=2 * EPS * big)
