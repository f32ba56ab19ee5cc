"""Tests of rnnmem.targets: closed-form kernels, FFT == direct sums, input samplers, teacher/composite targets."""

from __future__ import annotations

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
        y = f(x, dt=dt)
        ref = nm.direct_convolution(f.rho(dt * np.arange(150), dt=dt).reshape(150, d), x, dt)
        scale = max(1.0, np.abs(ref).max())
        assert np.abs(y - ref).max() <= 1e-12 * scale, repr(f)


@settings(max_examples=25, deadline=None)
@given(rate=st.floats(0.01, 3.0), p=st.floats(0.2, 3.0), alpha=st.floats(0.05, 5.0),
       T=st.integers(1, 300), dt=st.floats(0.01, 2.0), seed=st.integers(0, 2**31))
def test_fft_equals_direct_property(rate, p, alpha, T, dt, seed):
    x = tg.sample_inputs(1, T, kind="gp", rng=seed)
    for f in (tg.exponential(rate=rate), tg.polynomial(p, scale=alpha)):
        y = f(x, dt=dt)
        ref = nm.direct_convolution(f.rho(dt * np.arange(T)).reshape(T, 1), x, dt)
        assert np.abs(y - ref).max() <= 1e-12 * max(1.0, np.abs(ref).max())


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
        # (c) causality: the outputs up to `cut` depend only on inputs up to `cut`
        np.testing.assert_allclose(f(x[:, :cut], dt=0.3), y[:, :cut], rtol=0, atol=1e-12 * max(1, abs(y).max()))
        # (d) time-homogeneity: delaying the input by `lag` zeros delays the output
        xs = np.concatenate([np.zeros((2, lag, 2)), x], axis=1)
        np.testing.assert_allclose(f(xs, dt=0.3)[:, lag:], y, rtol=0, atol=1e-12 * max(1, abs(y).max()))


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
