"""Tests of rnnmem.reparam: the maps f, the effective W, raw-parameter gradients vs finite differences."""

from __future__ import annotations

import pickle

import naive
import numpy as np
import pytest
from gradcheck import assert_gradient
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
    """f'(w) against central differences of f (tests/gradcheck.py: f is elementwise, so its Jacobian is diagonal;
    f and f' are each within 8 ulp); f' scaled by 1.00001 fails."""
    tf = transform(name)
    w = np.array([0.3, 0.9, 1.7, 2.5]) if name == "inverse" else np.array([-2.1, -0.4, 0.0, 0.6, 1.9])
    d = tf.derivative(w)

    def f(v):
        return tf(v)

    err, derr = naive.rounding(8, np.abs(tf(w)) * 1.1), np.diag(naive.rounding(8, np.abs(d)))
    assert_gradient(f, w, np.diag(d), name="f'", f_error=err, g_error=derr)
    with pytest.raises(AssertionError):
        assert_gradient(f, w, np.diag(d * 1.00001), name="f'", f_error=err, g_error=derr)


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
    # |f'|/f² = 2a|w| exactly; f and f' each within 8 ulp, so the computed ratio within about 30 ulp of 4|w|
    naive.assert_within(tf.gradient_ratio(w), 4.0 * np.abs(w), naive.rounding(30, 4.0 * np.abs(w)), "ratio", factor=1)


@given(st.sampled_from(["exp", "softplus", "best"]), st.sampled_from(["diagonal", "symmetric"]),
       arrays(np.float64, 5, elements=FINITE), arrays(np.float64, (5, 5), elements=st.floats(-3, 3)))
@settings(deadline=None, max_examples=60)
def test_positive_maps_give_stable_W_for_any_raw_parameters(name, structure, w, P):
    """f > 0 ⇒ W = −Pᵀ diag(f(w)) P is negative semi-definite for ANY P (strictly negative diagonal case)."""
    U, b, C = np.ones((5, 1)), np.zeros(5), np.ones((1, 5))
    model = ReparamRNN(w, U, b, C, P=P if structure == "symmetric" else None, f=name)
    W = model.W
    # both sides form −Pᵀ diag(f(w)) P in floating point: each within effective_W_error of the exact matrix, which
    # is symmetric negative semi-definite; so is the computed one up to that error (Weyl) and eigvalsh's rounding
    dW = effective_W_error(model)
    naive.assert_within(W, effective_W(w, model.P, name), dW, "W")
    naive.assert_within(W, W.T, dW, "W − Wᵀ")
    eig = np.linalg.eigvalsh(W)
    assert eig.max() <= np.linalg.norm(dW) + naive.rounding(10 * 5, np.abs(eig).max())
    if structure == "diagonal":
        assert eig.max() < 0


@pytest.mark.parametrize("structure", ["diagonal", "symmetric"])
@pytest.mark.parametrize("name", TRANSFORMS)
def test_effective_model_matches_naive_forward(structure, name):
    model = _model(structure, name, D=True)
    x = np.random.default_rng(5).normal(size=(3, 9, 2))
    W = effective_W(model.w, model.P, name)
    y_ref, _, _ = naive.forward(W, model.U, model.b, model.C, model.D, x, "euler", "tanh", 0.7)
    # both form W within effective_W_error and run the recurrence within the running bound of tests/naive.py
    dW = effective_W_error(model)
    bound = naive.forward_bound(W, model.U, model.b, model.C, model.D, x, "euler", "tanh", 0.7, dW=dW)["y"]
    naive.assert_within(model(x), y_ref, bound, "y")
    rnn = model.to_rnn()
    assert isinstance(rnn, rm.RNN)
    naive.assert_within(rnn.W, W, dW, "W")


def _loss(model, x, y, loss):
    return model.loss_and_grad(x, y, loss)[0]


# ----------------------------------------------------------------------------- error model of the reparameterised model
def effective_W_error(model):
    """Bound on |W̃ − W| for W = −Pᵀ diag(f(w)) P (or −diag f(w)) formed in floating point: f(w) within 8 ulp
    (exp, logaddexp, a rational function), then a sum of m products."""
    fw = np.abs(model.rates)
    dfw = naive.rounding(8, fw)
    if model.P is None:
        return np.diag(dfw)
    aP = np.abs(model.P)
    return aP.T @ (dfw[:, None] * aP) + naive.rounding(model.hidden + 1, aP.T @ (fw[:, None] * aP))


def raw_gradient_error(model, g_eff, bound):
    """Bounds on the raw gradients' errors from the effective model's gradient G = g_eff.W (within bound["W"]) and
    the chain rule of rnnmem.reparam: g_w = −f'(w) ⊙ diag(P G Pᵀ), g_P = −(f(w) ⊙ P)(G + Gᵀ); U, b, C, D, x are the
    effective model's own."""
    G, dG = np.abs(g_eff.W), bound["W"]
    fp, fw = np.abs(model.f.derivative(model.w)), np.abs(model.rates)
    out = {k: bound[k] for k in ("U", "b", "C", "D", "x") if bound.get(k) is not None}
    if model.P is None:
        out["w"] = fp * np.diag(dG) + naive.rounding(10, fp * np.diag(G))
        return out
    aP = np.abs(model.P)
    m = model.hidden
    out["w"] = fp * np.einsum("ij,jk,ik->i", aP, dG, aP) + naive.rounding(m * m + 10, fp * np.einsum(
        "ij,jk,ik->i", aP, G, aP))
    out["P"] = (fw[:, None] * aP) @ (dG + dG.T) + naive.rounding(m + 10, (fw[:, None] * aP) @ (G + G.T))
    return out


def error_bounds(model, x, dy=None, y=None, loss=None):
    """Round-off bounds for a check of the raw gradients by central differences: (f_error, g_error) where f is
    sum(dy · model(x)) (``dy`` given) or the loss against ``y``; running bounds of tests/naive.py on the effective
    RNN with W known within effective_W_error."""
    rnn = model.to_rnn()
    dW = effective_W_error(model)
    args = (rnn.W, rnn.U, rnn.b, rnn.C, rnn.D, x)
    fb = naive.forward_bound(*args, rnn.cell, rnn.activation, rnn.dt, dW=dW)
    yhat = rnn(x)
    if loss is None:
        f_error = float((np.abs(dy) * fb["y"]).sum() + naive.rounding(dy.size, np.abs(dy * yhat).sum()))
        ddy = None
        g_eff = rnn.vjp(x, dy)
    else:
        f_error, ddy = naive.loss_error(yhat, fb["y"], y, loss)
        if loss == "cross_entropy":
            logits = yhat[:, -1]
            pr = np.exp(logits - logits.max(axis=1, keepdims=True))
            pr /= pr.sum(axis=1, keepdims=True)
            pr[np.arange(len(y)), y] -= 1.0
            dy = np.zeros_like(yhat)
            dy[:, -1] = pr / len(y)
        else:
            T = yhat.shape[1]
            w = np.ones((1, T, 1)) if loss == "mse" else (((np.arange(T) + 1.0) / (T + 1.0)) ** 2.0)[None, :, None]
            dy = 2.0 * w * (yhat - y) / yhat.size
        g_eff = rnn.loss_and_grad(x, y, loss)[1]
    bound = naive.vjp_bound(*args, dy, rnn.cell, rnn.activation, rnn.dt, dW=dW, ddy=ddy)
    return f_error, raw_gradient_error(model, g_eff, bound)


def check_raw_gradients(model, x, y, loss, grads, keys=None):
    """Every raw-parameter gradient (w, P, U, b, C, D) against central differences of the loss
    (tests/gradcheck.py), with f's and the gradient's round-off from :func:`error_bounds`."""
    f_error, g_error = error_bounds(model, x, y=y, loss=loss)
    for key, theta in model.params().items():
        if keys is not None and key not in keys:
            continue

        def f(v, key=key):
            return _loss(model.replace(**{key: v}), x, y, loss)

        assert_gradient(f, theta, grads[key], name=key, f_error=1.1 * f_error, g_error=g_error[key])


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
    check_raw_gradients(model, x, y, "mse", grads)


@pytest.mark.parametrize("loss", ["weighted_mse", "cross_entropy"])
def test_raw_gradients_for_other_losses(loss):
    model = _model("symmetric", "softplus", cell="elman", activation="tanh")
    gen = np.random.default_rng(3)
    x = gen.normal(size=(4, 6, 2))
    y = np.array([0, 1, 1, 0]) if loss == "cross_entropy" else gen.normal(size=(4, 6, 2))
    _, g = model.loss_and_grad(x, y, loss)
    check_raw_gradients(model, x, y, loss, g.params(), keys=("w", "P"))


@pytest.mark.parametrize("key", ["w", "P", "U", "b", "C", "D"])
def test_raw_gradient_check_catches_a_relative_error_of_1e_5(key):
    model = _model("symmetric", "softplus", D=True)
    gen = np.random.default_rng(11)
    x, y = gen.normal(size=(2, 7, 2)), gen.normal(size=(2, 7, 2))
    grads = dict(model.loss_and_grad(x, y, "mse")[1].params())
    grads[key] = grads[key] * 1.00001
    with pytest.raises(AssertionError, match=f"^{key}"):
        check_raw_gradients(model, x, y, "mse", grads, keys=(key,))


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

    def val(s):
        return float(np.sum(dy * model.replace(**{k: v + s[0] * dirs[k] for k, v in model.params().items()})(x)))

    pred = sum(float(np.sum(g[k] * dirs[k])) for k in dirs)
    # the directional derivative's round-off: Σ_k |v_k|·(the raw gradient's bound) plus the final sum of products
    f_error, g_error = error_bounds(model, x, dy=dy)
    g_err = sum(float(np.sum(np.abs(dirs[k]) * g_error[k])) for k in dirs) + naive.rounding(
        sum(v.size for v in dirs.values()), sum(float(np.sum(np.abs(g[k] * dirs[k]))) for k in dirs))
    assert_gradient(val, [0.0], [pred], name="<g, v>", f_error=1.1 * f_error, g_error=[g_err])


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
