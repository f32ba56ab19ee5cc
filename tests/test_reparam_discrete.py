"""Tests of the discrete-time map of rnnmem.reparam (``discrete=True``): W = Pᵀ diag(e^{−Δt f(w)}) P for the elman
cell — the effective W against explicit sums, stability for any raw w, raw-parameter gradients against central
differences (error-model tolerances of ``tests/gradcheck.py``), the chain rule against torch autograd where torch is
installed, validation messages, and that the continuous map is unchanged."""

from __future__ import annotations

import math
import pickle

import naive
import numpy as np
import pytest
from gradcheck import assert_gradient
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from rnnmem.reparam import TRANSFORMS, ReparamRNN, transform

F = {
    "direct": lambda s: s,
    "exp": math.exp,
    "softplus": lambda s: math.log1p(math.exp(s)) if s < 30 else s + math.log1p(math.exp(-s)),
    "best": lambda s: 1.0 / (s * s + 0.5),
    "inverse": lambda s: 1.0 / s,
}


def discrete_W(w, P, name, dt):
    """W = Pᵀ diag(e^{−Δt f(w)}) P by explicit sums (P = None: diag(e^{−Δt f(w)}))."""
    a = [math.exp(-dt * F[name](float(s))) for s in w]
    m = len(w)
    W = np.zeros((m, m))
    for i in range(m):
        for j in range(m):
            if P is None:
                W[i, j] = a[i] if i == j else 0.0
            else:
                W[i, j] = sum(P[k, i] * a[k] * P[k, j] for k in range(m))
    return W


def _model(structure, f, *, rng=0, m=3, d=2, p=2, activation="tanh"):
    gen = np.random.default_rng(rng)
    model = ReparamRNN.random(m, d, p, structure=structure, f=f, cell="elman", activation=activation, dt=0.7,
                              rates=(0.2, 1.5), feedthrough=True, discrete=True, rng=gen)
    kw = {"b": 0.3 * gen.standard_normal(m)}
    if structure == "symmetric":  # a non-orthogonal P exercises every term of the chain rule
        kw["P"] = model.P + 0.2 * gen.standard_normal((m, m))
    return model.replace(**kw)


@pytest.mark.parametrize("structure", ["diagonal", "symmetric"])
@pytest.mark.parametrize("name", TRANSFORMS)
def test_discrete_W_and_forward_match_explicit_sums(structure, name):
    model = _model(structure, name)
    W = discrete_W(model.w, model.P, name, 0.7)
    np.testing.assert_allclose(model.W, W, rtol=1e-13, atol=1e-15)
    x = np.random.default_rng(5).normal(size=(3, 9, 2))
    y_ref, _, _ = naive.forward(W, model.U, model.b, model.C, model.D, x, "elman", "tanh", 0.7)
    np.testing.assert_allclose(model(x), y_ref, rtol=1e-12, atol=1e-13)
    assert model.to_rnn().cell == "elman" and model.discrete
    np.testing.assert_allclose(model.rates, transform(name)(model.w), rtol=0, atol=0)


@given(st.sampled_from(["exp", "softplus", "best"]), arrays(np.float64, 6, elements=st.floats(-6.0, 6.0)),
       st.floats(0.05, 3.0))
@settings(deadline=None, max_examples=60)
def test_positive_maps_keep_every_eigenvalue_in_the_unit_interval(name, w, dt):
    """f > 0 ⇒ the diagonal discrete W has eigenvalues e^{−Δt f(w)} ∈ (0, 1) for ANY raw w (in floating point:
    < 1, and > 0 until e^{−Δt f(w)} underflows, Δt f(w) ≳ 745 — e.g. f = exp, w = 6, Δt = 2)."""
    model = ReparamRNN(w, np.ones((6, 1)), np.zeros(6), np.ones((1, 6)), f=name, cell="elman", dt=dt,
                       discrete=True)
    eig = np.diag(model.W)
    rate = dt * transform(name)(w)
    assert np.all(eig >= 0) and np.all(eig < 1)
    assert np.all(eig[rate < 700] > 0)
    np.testing.assert_array_equal(model.W, np.diag(eig))


def test_direct_map_crosses_the_boundary_when_a_rate_turns_negative():
    """f(w) = w: a perturbation β > λ of the raw rate gives an eigenvalue e^{−Δt(λ − β)} > 1."""
    lam = 0.05
    model = ReparamRNN([lam], [[1.0]], [0.0], [[1.0]], f="direct", cell="elman", dt=1.0, discrete=True)
    assert model.W[0, 0] == pytest.approx(math.exp(-lam), rel=1e-15)
    assert model.replace(w=[lam - 0.04]).W[0, 0] < 1 < model.replace(w=[lam - 0.06]).W[0, 0]


def _loss_fn(model, key, x, y, loss):
    return lambda theta: model.replace(**{key: theta}).loss_and_grad(x, y, loss)[0]


@pytest.mark.parametrize("structure", ["diagonal", "symmetric"])
@pytest.mark.parametrize("name", TRANSFORMS)
def test_discrete_raw_gradients_match_central_differences(structure, name):
    """Every raw-parameter gradient (w, P, U, b, C, D) of the discrete map within the error model."""
    model = _model(structure, name, activation="relu" if name == "softplus" else "tanh")
    gen = np.random.default_rng(11)
    x = gen.normal(size=(2, 7, 2))
    y = gen.normal(size=(2, 7, 2))
    _, g = model.loss_and_grad(x, y, "mse")
    grads = g.params()
    assert set(grads) == set(model.params())
    for key, theta in model.params().items():
        assert_gradient(_loss_fn(model, key, x, y, "mse"), theta, grads[key], name=f"{structure} {name} {key}")


@pytest.mark.parametrize("scale", [1.00001, -1.0])
def test_gradient_check_catches_a_wrong_discrete_chain_rule(monkeypatch, scale):
    """The check has power: ∂L/∂w scaled by 1.00001 (or its sign flipped) is caught."""
    model = _model("diagonal", "softplus")
    gen = np.random.default_rng(2)
    x, y = gen.normal(size=(2, 7, 2)), gen.normal(size=(2, 7, 2))
    _, g = model.loss_and_grad(x, y, "mse")
    with pytest.raises(AssertionError):
        assert_gradient(_loss_fn(model, "w", x, y, "mse"), model.w, scale * g.w, name="w")


@pytest.mark.parametrize("structure", ["diagonal", "symmetric"])
def test_discrete_chain_rule_matches_torch_autograd(structure):
    torch = pytest.importorskip("torch")
    model = _model(structure, "softplus")
    gen = np.random.default_rng(4)
    x, dy = gen.normal(size=(2, 6, 2)), gen.normal(size=(2, 6, 2))
    g = model.vjp(x, dy)
    w = torch.tensor(model.w, requires_grad=True)
    P = torch.tensor(model.P if model.P is not None else np.eye(model.hidden), requires_grad=structure != "diagonal")
    U, b, C, D = (torch.tensor(v) for v in (model.U, model.b, model.C, model.D))
    W = P.T @ torch.diag(torch.exp(-0.7 * torch.nn.functional.softplus(w))) @ P
    h = torch.zeros(2, model.hidden, dtype=torch.float64)
    out = []
    X = torch.tensor(x)
    for k in range(x.shape[1]):
        h = torch.tanh(h @ W.T + X[:, k] @ U.T + b)
        out.append(h @ C.T + X[:, k] @ D.T)
    torch.sum(torch.stack(out, 1) * torch.tensor(dy)).backward()
    np.testing.assert_allclose(g.w, w.grad.numpy(), rtol=1e-10, atol=1e-12)
    if structure == "symmetric":
        np.testing.assert_allclose(g.P, P.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_continuous_map_is_unchanged_by_the_default():
    gen = np.random.default_rng(0)
    model = ReparamRNN.random(4, structure="symmetric", f="softplus", rng=gen)
    assert not model.discrete
    np.testing.assert_array_equal(model.W, -(model.P.T * model.rates) @ model.P)


def test_discrete_flag_survives_replace_random_and_pickle():
    model = ReparamRNN.random(3, f="softplus", cell="elman", activation="relu", rates=(0.05, 1.0), discrete=True,
                              rng=3)
    np.testing.assert_allclose(np.sort(np.diag(model.W)), np.sort(np.exp(-model.rates)), rtol=1e-15)
    assert model.replace(U=2 * model.U).discrete
    clone = pickle.loads(pickle.dumps(model))
    assert clone.discrete and np.array_equal(clone.W, model.W)
    assert "discrete=True" in repr(model)


def test_bad_discrete_arguments_have_clear_messages():
    kw = dict(U=[[1.0]], b=[0.0], C=[[1.0]], f="softplus")
    with pytest.raises(ValueError, match="elman"):
        ReparamRNN([0.1], **kw, cell="euler", discrete=True)
    with pytest.raises(TypeError, match="discrete must be True or False"):
        ReparamRNN([0.1], **kw, cell="elman", discrete="yes")
    with pytest.raises(ValueError, match="overflows"):
        ReparamRNN([-800.0], U=[[1.0]], b=[0.0], C=[[1.0]], f="direct", cell="elman", discrete=True)
    with pytest.raises(ValueError, match="elman"):
        ReparamRNN.random(2, cell="euler", discrete=True, rng=0)
