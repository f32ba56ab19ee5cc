"""Tests of rnnmem.targets: closed-form kernels, FFT == direct sums, input samplers, teacher/composite targets."""

from __future__ import annotations

import naive
import naive_memory as nm
import numpy as np
import pytest
import scipy.special
from hypothesis import given, settings
from hypothesis import strategies as st
from naive_memory import linear_targets

import rnnmem as rm
from rnnmem import targets as tg

DTS = (1.0, 0.1, 0.37)


def ids(targets):
    return [repr(f) for f in targets]


# ----------------------------------------------------------------------------------------------- closed forms
def test_closed_forms_match_their_formulas():
    t = np.linspace(0.0, 30.0, 301)
    np.testing.assert_allclose(tg.exponential(rate=0.3).rho(t), np.exp(-0.3 * t), rtol=1e-15)
    np.testing.assert_allclose(tg.exponential(base=0.9).rho(t), 0.9**t, rtol=1e-13)
    np.testing.assert_allclose(tg.polynomial(1.1).rho(t), (1 + t) ** -1.1, rtol=1e-13)
    np.testing.assert_allclose(tg.polynomial(1.5, scale=0.1).rho(t), (1 + 0.1 * t) ** -1.5, rtol=1e-13)
    np.testing.assert_allclose(tg.sum_of_exponentials([1, -2], [0.1, 0.5]).rho(t),
                               np.exp(-0.1 * t) - 2 * np.exp(-0.5 * t), rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(tg.airy().rho(t), scipy.special.airy(t - 6.0)[0], rtol=1e-15)
    sh = tg.shift(4)
    np.testing.assert_array_equal(sh.rho(np.arange(8.0)), [0, 0, 0, 0, 1, 0, 0, 0])
    np.testing.assert_array_equal(sh.memory(0.5 * np.arange(8.0), dt=0.5), [0, 0, 0, 0, 2, 0, 0, 0])


@pytest.mark.parametrize("d", [1, 3])
def test_rho_shape_and_memory_is_l1_norm(d):
    t = np.linspace(0.0, 10.0, 21)
    for f in linear_targets(d):
        r = f.rho(t)
        assert r.shape == ((21,) if d == 1 else (21, d))
        l1 = np.abs(r) if d == 1 else np.abs(r).sum(axis=-1)
        np.testing.assert_allclose(f.memory(t), l1, rtol=1e-14, atol=0)
        assert f.inputs == d and f.outputs == 1


def test_markov_matches_rnn_index_convention():
    f = tg.exponential(base=0.8, direction=[1.0, -1.0])
    L = f.markov(6, dt=0.5)
    assert L.shape == (6, 1, 2)
    np.testing.assert_allclose(L[:, 0, 0], 0.5 * 0.8 ** (0.5 * np.arange(6)), rtol=1e-14)
    # the same linear map as an elman linear RNN with W = a^dt, U = 1, C = dt
    rnn = rm.RNN([[0.8**0.5]], [[1.0, -1.0]], [0.0], [[0.5]], cell="elman", activation="linear")
    np.testing.assert_allclose(rnn.markov(6), L, rtol=1e-14)


# ----------------------------------------------------------------------------------------------- FFT vs direct
@pytest.mark.parametrize("d", [1, 2])
@pytest.mark.parametrize("dt", DTS)
def test_fft_equals_direct_sum(d, dt):
    x = tg.sample_inputs(3, 150, d=d, rng=1)
    for f in linear_targets(d):
        check_fft(f, x, dt, f(x, dt=dt))


def check_fft(f, x, dt, y):
    """The FFT evaluation against the O(T²) direct sum, within the FFT's normwise error plus the direct sum's
    (naive_memory.fft_convolution_bound: ε_F = 16u·log2 N relative to ‖a‖·‖s‖, not to |y|, which may cancel)."""
    T = x.shape[1]
    if not hasattr(f, "kernel"):  # a shift: an exact index copy, no arithmetic
        np.testing.assert_array_equal(y, nm.direct_convolution(f.rho(dt * np.arange(T), dt=dt).reshape(T, -1), x, dt))
        return
    ref = nm.direct_convolution(f.rho(dt * np.arange(T), dt=dt).reshape(T, -1), x, dt)
    bound = nm.fft_convolution_bound(f.kernel(dt * np.arange(T), dt), f.direction, x, dt)
    naive.assert_within(y, ref, bound, repr(f), factor=1.0)


@settings(max_examples=25, deadline=None)
@given(rate=st.floats(0.01, 3.0), p=st.floats(0.2, 3.0), alpha=st.floats(0.05, 5.0),
       T=st.integers(1, 300), dt=st.floats(0.01, 2.0), seed=st.integers(0, 2**31))
def test_fft_equals_direct_property(rate, p, alpha, T, dt, seed):
    x = tg.sample_inputs(1, T, kind="gp", rng=seed)
    for f in (tg.exponential(rate=rate), tg.polynomial(p, scale=alpha)):
        check_fft(f, x, dt, f(x, dt=dt))


def test_fft_check_catches_a_relative_error_of_1e_5():
    x = tg.sample_inputs(2, 120, d=2, rng=3)
    for f in linear_targets(2):
        if not hasattr(f, "kernel"):
            continue
        y = f(x, dt=0.37)
        check_fft(f, x, 0.37, y)
        with pytest.raises(AssertionError):
            check_fft(f, x, 0.37, y * 1.00001)


def test_two_dimensional_input_and_no_mutation():
    f = tg.polynomial(1.1)
    x = tg.sample_inputs(1, 40, rng=0)
    x0 = x.copy()
    y3 = f(x)
    y2 = f(x[0])
    assert y2.shape == (40, 1)
    np.testing.assert_array_equal(y2, y3[0])
    np.testing.assert_array_equal(x, x0)


# ----------------------------------------------------------------------------------------------- (c), (d)
@settings(max_examples=20, deadline=None)
@given(T=st.integers(2, 200), cut=st.integers(1, 199), lag=st.integers(0, 50), seed=st.integers(0, 2**31))
def test_targets_are_causal_and_time_homogeneous(T, cut, lag, seed):
    cut = min(cut, T - 1)
    x = tg.sample_inputs(2, T, d=2, rng=seed)
    for f in linear_targets(2):
        y = f(x, dt=0.3)
        # each evaluation (other FFT lengths) is within its bound of the same exact outputs: the sum of the bounds
        xs = np.concatenate([np.zeros((2, lag, 2)), x], axis=1)
        if hasattr(f, "kernel"):
            b_full = nm.fft_convolution_bound(f.kernel(0.3 * np.arange(T), 0.3), f.direction, x, 0.3)
            b_cut = nm.fft_convolution_bound(f.kernel(0.3 * np.arange(cut), 0.3), f.direction, x[:, :cut], 0.3)
            b_lag = nm.fft_convolution_bound(f.kernel(0.3 * np.arange(T + lag), 0.3), f.direction, xs, 0.3)
        else:  # a shift copies entries exactly
            b_full = b_cut = b_lag = np.zeros((2, T + lag, 1))
        # (c) causality: the outputs up to `cut` depend only on inputs up to `cut`
        naive.assert_within(f(x[:, :cut], dt=0.3), y[:, :cut], b_cut + b_full[:, :cut], "causality", factor=1.0)
        # (d) time-homogeneity: delaying the input by `lag` zeros delays the output
        naive.assert_within(f(xs, dt=0.3)[:, lag:], y, b_lag[:, lag:] + b_full[:, :T], "homogeneity", factor=1.0)


# ----------------------------------------------------------------------------------------------- inputs
def test_sample_inputs_reproducible_and_distributed():
    for kind in tg.INPUT_KINDS:
        a = tg.sample_inputs(4, 30, d=2, kind=kind, rng=7)
        b = tg.sample_inputs(4, 30, d=2, kind=kind, rng=np.random.default_rng(7))
        assert a.shape == (4, 30, 2)
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, tg.sample_inputs(4, 30, d=2, kind=kind, rng=8))
    g = tg.sample_inputs(400, 500, kind="gaussian", rng=0, scale=2.0)
    n = g.size
    assert abs(g.mean()) < 5 * 2.0 / np.sqrt(n)
    assert abs(g.var() / 4.0 - 1.0) < 5 * np.sqrt(2.0 / n)
    u = tg.sample_inputs(400, 500, kind="uniform", rng=0, scale=3.0)
    assert u.min() >= -3.0 and u.max() <= 3.0
    assert abs(u.var() / 3.0 - 1.0) < 5 * np.sqrt(0.8 / n) * 3  # Var U(-3,3) = 3
    gp = tg.sample_inputs(400, 500, kind="gp", rng=0)
    inc = np.diff(gp, axis=1, prepend=0.0)
    assert abs(inc.var() - 1.0) < 5 * np.sqrt(2.0 / n)
    # random-walk variance grows linearly: Var x_k = k + 1
    np.testing.assert_allclose(gp[:, -1].var() / 500.0, 1.0, atol=5 * np.sqrt(2.0 / 400))


# ----------------------------------------------------------------------------------------------- nonlinear
def test_teacher_wraps_rnn():
    rnn = rm.RNN.random(5, inputs=2, outputs=2, cell="euler", dt=0.2, rng=3)
    te = tg.teacher(rnn)
    x = tg.sample_inputs(3, 20, d=2, rng=1)
    np.testing.assert_array_equal(te(x), rnn(x))
    assert te.dt == 0.2 and te.inputs == 2 and te.outputs == 2
    with pytest.raises(ValueError, match="dt=0.5 differs"):
        te(x, dt=0.5)
    lin = tg.teacher(rnn.replace(activation="linear"))
    mf = lin.memory(30)
    np.testing.assert_allclose(mf.values, rm.memory_function(lin, 30).values, rtol=1e-10, atol=1e-14)
    with pytest.raises(TypeError, match="rnnmem.RNN"):
        tg.teacher(lambda x: x)


@pytest.mark.parametrize("outer", ["tanh", "sin"])
def test_composite_memory_is_bound_and_limit(outer):
    f = tg.composite(tg.polynomial(1.5, scale=0.5), outer)
    T, dt = 200, 0.25
    mf = rm.memory_function(f, T, dt=dt, amplitudes=np.logspace(-4, 1, 11))
    exact = f.memory(mf.t)
    # 1-Lipschitz outer map: every candidate's difference quotient is <= |ρ(t_k)|₁ (up to rounding)
    assert (mf.per_input <= exact * (1 + 1e-12) + 1e-15).all()
    # the sup is approached as |x| -> 0 (relative gap O(|x|²) = O(1e-8) at |x| = 1e-4)
    np.testing.assert_allclose(mf.values, exact, rtol=1e-6)
    # large amplitudes really are nonlinear: their quotient falls well below the bound
    assert (mf.per_input[-1] < 0.5 * exact).any()
    np.testing.assert_allclose(f(np.ones((1, 5, 1)), dt=1.0), _OUT[outer](tg.polynomial(1.5, scale=0.5)(
        np.ones((1, 5, 1)))), rtol=1e-15)


_OUT = {"tanh": np.tanh, "sin": np.sin}


# ----------------------------------------------------------------------------------------------- errors
def test_bad_arguments_raise_with_names():
    with pytest.raises(ValueError, match="p must be"):
        tg.polynomial(-1.0)
    with pytest.raises(ValueError, match="scale must be"):
        tg.polynomial(1.0, scale=0.0)
    with pytest.raises(TypeError, match="rate must be a real number"):
        tg.exponential(rate="fast")
    with pytest.raises(ValueError, match="base must be"):
        tg.exponential(base=-0.5)
    with pytest.raises(ValueError, match="delay must be"):
        tg.shift(-1)
    with pytest.raises(ValueError, match="direction must be a nonzero"):
        tg.exponential(direction=[0.0, 0.0])
    with pytest.raises(ValueError, match="coefs and rates must have the same length"):
        tg.sum_of_exponentials([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="unknown kind"):
        tg.sample_inputs(2, 3, kind="brownian")
    with pytest.raises(ValueError, match="input feature"):
        tg.exponential(direction=[1.0, 2.0])(np.zeros((1, 5, 3)))
    with pytest.raises(ValueError, match="dt must be"):
        tg.exponential()(np.zeros((1, 5, 1)), dt=0.0)
    with pytest.raises(ValueError, match="unknown outer"):
        tg.composite(tg.exponential(), "cube")
    with pytest.raises(TypeError, match="LinearFunctional"):
        tg.composite(lambda x: x)
