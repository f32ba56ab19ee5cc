"""Tests of rnnmem.reparam: the maps f, the effective W, raw-parameter gradients vs finite differences."""

from __future__ import annotations

import pickle

import naive
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from naive_train import effective_W

import rnnmem as rm
from rnnmem.reparam import TRANSFORMS, ReparamRNN, Transform, best, transform

FINITE = st.floats(-6.0, 6.0, allow_nan=False)


def _model(structure, f, *, cell="euler", activation="tanh", rng=0, D=False, m=3, d=2, p=2):
    gen = np.random.default_rng(rng)
    tf = transform(f)
    lo, hi = (0.2, 1.5)
    model = ReparamRNN.random(m, d, p, structure=structure, f=tf, cell=cell, activation=activation, dt=0.7,
                              rates=(lo, hi), feedthrough=D, rng=gen)
    # a non-zero bias and a non-orthogonal P exercise every term of the chain rule
    kw = {"b": 0.3 * gen.standard_normal(m)}
    if structure == "symmetric":
        kw["P"] = model.P + 0.2 * gen.standard_normal((m, m))
    return model.replace(**kw)


@pytest.mark.parametrize("name", TRANSFORMS)
def test_transform_derivative_matches_central_differences(name):
    tf = transform(name)
    w = np.array([0.3, 0.9, 1.7, 2.5]) if name == "inverse" else np.array([-2.1, -0.4, 0.0, 0.6, 1.9])
    h = 1e-6
    fd = (tf(w + h) - tf(w - h)) / (2 * h)
    np.testing.assert_allclose(tf.derivative(w), fd, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", TRANSFORMS)
def test_transform_inverse_roundtrip(name):
    tf = transform(name)
    lam = np.array([1e-4, 0.01, 0.3, 1.0, 1.9])
    np.testing.assert_allclose(tf(tf.inverse(lam)), lam, rtol=1e-12)


def test_softplus_is_stable_for_large_arguments():
    tf = transform("softplus")
    np.testing.assert_allclose(tf(np.array([-800.0, 800.0])), [0.0, 800.0], atol=1e-300)
    np.testing.assert_allclose(tf.derivative(np.array([-800.0, 800.0])), [0.0, 1.0])
    np.testing.assert_allclose(tf.inverse(np.array([50.0])), [50.0], rtol=1e-15)


@given(arrays(np.float64, 7, elements=FINITE))
@settings(deadline=None, max_examples=40)
def test_gradient_ratio_of_best_is_linear_in_w(w):
    tf = best(a=2.0, b=0.3)
    np.testing.assert_allclose(tf.gradient_ratio(w), 4.0 * np.abs(w), rtol=1e-10, atol=1e-12)


@given(st.sampled_from(["exp", "softplus", "best"]), st.sampled_from(["diagonal", "symmetric"]),
       arrays(np.float64, 5, elements=FINITE), arrays(np.float64, (5, 5), elements=st.floats(-3, 3)))
@settings(deadline=None, max_examples=60)
def test_positive_maps_give_stable_W_for_any_raw_parameters(name, structure, w, P):
    """f > 0 ⇒ W = −Pᵀ diag(f(w)) P is negative semi-definite for ANY P (strictly negative diagonal case)."""
    U, b, C = np.ones((5, 1)), np.zeros(5), np.ones((1, 5))
    model = ReparamRNN(w, U, b, C, P=P if structure == "symmetric" else None, f=name)
    W = model.W
    np.testing.assert_allclose(W, effective_W(w, model.P, name), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(W, W.T, atol=1e-12)
    eig = np.linalg.eigvalsh(W)
    assert eig.max() <= 1e-12 * max(1.0, np.abs(eig).max())
    if structure == "diagonal":
        assert eig.max() < 0


@pytest.mark.parametrize("structure", ["diagonal", "symmetric"])
@pytest.mark.parametrize("name", TRANSFORMS)
def test_effective_model_matches_naive_forward(structure, name):
    model = _model(structure, name, D=True)
    x = np.random.default_rng(5).normal(size=(3, 9, 2))
    W = effective_W(model.w, model.P, name)
    y_ref, _, _ = naive.forward(W, model.U, model.b, model.C, model.D, x, "euler", "tanh", 0.7)
    np.testing.assert_allclose(model(x), y_ref, rtol=1e-12, atol=1e-12)
    rnn = model.to_rnn()
    assert isinstance(rnn, rm.RNN)
    np.testing.assert_allclose(rnn.W, W, rtol=1e-12, atol=1e-14)


def _loss(model, x, y, loss):
    return model.loss_and_grad(x, y, loss)[0]


@pytest.mark.parametrize("structure", ["diagonal", "symmetric"])
@pytest.mark.parametrize("name", TRANSFORMS)
def test_raw_gradients_match_central_differences(structure, name):
    """Every raw-parameter gradient (w, P, U, b, C, D) equals central finite differences of the loss."""
    model = _model(structure, name, D=True)
    gen = np.random.default_rng(11)
    x = gen.normal(size=(2, 7, 2))
    y = gen.normal(size=(2, 7, 2))
    value, g = model.loss_and_grad(x, y, "mse")
    grads = g.params()
    assert set(grads) == set(model.params())
    h = 1e-6
    for key, theta in model.params().items():
        fd = np.empty(theta.shape)
        for idx in np.ndindex(theta.shape):
            tp, tm = theta.copy(), theta.copy()
            tp[idx] += h
            tm[idx] -= h
            fd[idx] = (_loss(model.replace(**{key: tp}), x, y, "mse")
                       - _loss(model.replace(**{key: tm}), x, y, "mse")) / (2 * h)
        np.testing.assert_allclose(grads[key], fd, rtol=2e-6, atol=1e-9, err_msg=f"{structure} {name} {key}")


@pytest.mark.parametrize("loss", ["weighted_mse", "cross_entropy"])
def test_raw_gradients_for_other_losses(loss):
    model = _model("symmetric", "softplus", cell="elman", activation="tanh")
    gen = np.random.default_rng(3)
    x = gen.normal(size=(4, 6, 2))
    y = np.array([0, 1, 1, 0]) if loss == "cross_entropy" else gen.normal(size=(4, 6, 2))
    _, g = model.loss_and_grad(x, y, loss)
    h = 1e-6
    for key in ("w", "P"):
        theta = model.params()[key]
        fd = np.empty(theta.shape)
        for idx in np.ndindex(theta.shape):
            tp, tm = theta.copy(), theta.copy()
            tp[idx] += h
            tm[idx] -= h
            fd[idx] = (_loss(model.replace(**{key: tp}), x, y, loss)
                       - _loss(model.replace(**{key: tm}), x, y, loss)) / (2 * h)
        np.testing.assert_allclose(g.params()[key], fd, rtol=2e-6, atol=1e-9)


@given(st.integers(0, 2**31 - 1), st.sampled_from(TRANSFORMS), st.sampled_from(["diagonal", "symmetric"]))
@settings(deadline=None, max_examples=25)
def test_vjp_chain_rule_on_random_models(seed, name, structure):
    """d/ds sum(dy * model_{θ+s·v}(x)) at s = 0 (central differences) equals <vjp, v> for a random v."""
    model = _model(structure, name, rng=seed, m=4)
    gen = np.random.default_rng(seed + 1)
    x = gen.normal(size=(2, 5, 2))
    dy = gen.normal(size=(2, 5, 2))
    g = model.vjp(x, dy).params()
    dirs = {k: gen.normal(size=v.shape) for k, v in model.params().items()}
    h = 1e-6

    def val(s):
        return float(np.sum(dy * model.replace(**{k: v + s * dirs[k] for k, v in model.params().items()})(x)))

    fd = (val(h) - val(-h)) / (2 * h)
    pred = sum(float(np.sum(g[k] * dirs[k])) for k in dirs)
    assert abs(fd - pred) <= 1e-6 * max(1.0, abs(pred))


def test_protocol_params_replace_and_immutability():
    model = _model("symmetric", "exp", D=True)
    assert list(model.params()) == ["w", "P", "U", "b", "C", "D"]
    assert list(_model("diagonal", "exp").params()) == ["w", "U", "b", "C"]
    w = np.array(model.w)
    new = model.replace(w=w + 1.0)
    assert isinstance(new, ReparamRNN) and new.structure == "symmetric"
    np.testing.assert_array_equal(model.w, w)  # unchanged
    with pytest.raises(AttributeError):
        model.w = w
    with pytest.raises(ValueError):
        model.w[0] = 1.0  # read-only
    with pytest.raises(TypeError, match="unknown field"):
        model.replace(W=np.eye(3))
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.W, model.W)
    assert again.f == model.f


def test_inputs_are_not_mutated():
    gen = np.random.default_rng(0)
    w, P, U, C = gen.normal(size=3), gen.normal(size=(3, 3)), gen.normal(size=(3, 1)), gen.normal(size=(1, 3))
    b = np.zeros(3)
    copies = [a.copy() for a in (w, P, U, b, C)]
    model = ReparamRNN(w, U, b, C, P=P, f="softplus")
    model.loss_and_grad(gen.normal(size=(2, 4, 1)), gen.normal(size=(2, 4, 1)))
    for a, c in zip((w, P, U, b, C), copies, strict=True):
        np.testing.assert_array_equal(a, c)


def test_random_is_reproducible_and_has_requested_rates():
    a = ReparamRNN.random(6, f="softplus", structure="symmetric", rates=(0.05, 0.5), rng=4)
    b = ReparamRNN.random(6, f="softplus", structure="symmetric", rates=(0.05, 0.5), rng=4)
    np.testing.assert_array_equal(a.W, b.W)
    lam = np.sort(-np.linalg.eigvalsh(a.W))
    np.testing.assert_allclose(lam, np.sort(a.rates), rtol=1e-10)
    assert lam.min() >= 0.05 - 1e-12 and lam.max() <= 0.5 + 1e-12
    np.testing.assert_allclose(a.P @ a.P.T, np.eye(6), atol=1e-12)


def test_bad_input_messages():
    U, b, C = np.ones((3, 1)), np.zeros(3), np.ones((1, 3))
    with pytest.raises(ValueError, match="unknown f 'tanh'"):
        ReparamRNN(np.zeros(3), U, b, C, f="tanh")
    with pytest.raises(TypeError, match="f must be a string"):
        transform(3)
    with pytest.raises(ValueError, match="P has shape"):
        ReparamRNN(np.zeros(3), U, b, C, P=np.eye(2))
    with pytest.raises(ValueError, match="U has shape"):
        ReparamRNN(np.zeros(3), np.ones((2, 1)), b, C)
    with pytest.raises(ValueError, match="f\\(w\\) is not finite"):
        ReparamRNN(np.zeros(3), U, b, C, f="inverse")
    with pytest.raises(ValueError, match="takes values in"):
        best(b=0.5).inverse([3.0])
    with pytest.raises(ValueError, match="only takes positive values"):
        transform("exp").inverse([-1.0])
    with pytest.raises(ValueError, match="a must be"):
        Transform("best", a=0.0)
    with pytest.raises(ValueError, match="unknown structure"):
        ReparamRNN.random(3, structure="dense")
    with pytest.raises(ValueError, match="rates must be"):
        ReparamRNN.random(3, rates=(1.0, 0.1))


def test_perturbation_error_perturbs_raw_parameters_or_effective_W():
    """A slow exp-parameterised mode survives raw perturbations of w (rates only rescale by e^{±β}) but the
    effective W + βI destabilises it as soon as β exceeds its rate (docs/math.md §6)."""
    model = ReparamRNN(np.log([0.01, 0.5]), np.ones((2, 1)), np.zeros(2), np.ones((1, 2)), f="exp", cell="euler",
                       activation="linear", dt=1.0)
    x = np.zeros((1, 3000, 1))
    x[0, 0, 0] = 1.0
    y = model(x)
    betas = [0.0, 0.002, 0.05, 0.2, 0.5]
    raw = rm.perturbation_error(model, y, betas, x=x, samples=6, blocks=("w",), rng=0)
    eff = rm.perturbation_error(model.to_rnn(), y, betas, x=x, samples=6, blocks=("W",), rng=0)
    assert raw.nominal == 0.0 and eff.nominal == 0.0
    assert np.all(np.isfinite(raw.errors)) and raw.errors.max() < 10.0  # impulse response stays bounded
    assert not np.isfinite(eff.errors[-1]) or eff.errors[-1] > 1e10  # W + 0.5 I: growth like e^{0.49 t}
    assert eff.stability_radius() == 0.002 and raw.stability_radius() == 0.5
