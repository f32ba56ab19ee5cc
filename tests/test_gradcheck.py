"""The finite-difference checker itself: it passes true gradients of any size and catches a 1e-5 relative bug."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import assert_gradient, central_differences


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
    with pytest.raises(AssertionError, match="central difference"):
        assert_gradient(_f, theta, _g(theta) * 1.00001)


def test_truncation_estimate_tracks_the_third_derivative():
    theta = np.array([0.7])
    res = central_differences(lambda t: float(np.exp(4.0 * t[0])), theta, step=1e-3)
    h = res.steps[0]
    predicted = h**2 / 6 * 64.0 * np.exp(4.0 * 0.7)  # h²/6 · f'''
    assert 0.5 * predicted <= res.truncation[0] <= 2.0 * predicted
    assert abs(res.fd[0] - 4.0 * np.exp(2.8)) <= 2 * res.truncation[0] + res.roundoff[0]
