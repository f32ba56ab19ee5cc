"""Torch-layout models (StackedRNN, GRU, LSTM): kernels against the slow references, gradients against central
differences and torch autograd, from_torch, the model protocol and the state Jacobians."""

from __future__ import annotations

import pickle

import naive_gated as naive
import numpy as np
import pytest
from gradcheck import assert_gradient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rnnmem as rm
from rnnmem import gated

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
#: every kernel variant of the gated layers (all of rnnmem.rnn.VARIANTS but the column split)
VARIANTS = ("rows", "parallel", "blas", "blas-parallel", "blas-threaded")
KINDS = [("rnn", "tanh"), ("rnn", "relu"), ("gru", "tanh"), ("lstm", "tanh")]
EPS = np.finfo(float).eps


def make(kind, nl, hidden, inputs, layers, bias, rng, scale=None):
    if kind == "rnn":
        return rm.StackedRNN.random(hidden, inputs, layers, nonlinearity=nl, bias=bias, scale=scale, rng=rng)
    cls = rm.GRU if kind == "gru" else rm.LSTM
    return cls.random(hidden, inputs, layers, bias=bias, scale=scale, rng=rng)


def initial(net, B, rng):
    shape = (net.layers, B, net.hidden)
    h0 = rng.normal(size=shape)
    c0 = rng.normal(size=shape)
    return (h0, c0) if net.kind == "lstm" else h0, h0, c0


def close(a, b, scale, rel=1e-12):
    """|a − b| within rel·max|b| plus a floor at ε-level of the problem's overall gradient scale (the rounding of
    a sum of O(T) terms can exceed rel·max|b| only when the block itself cancels to below 1e-3 of the scale)."""
    a, b = np.asarray(a), np.asarray(b)
    err = np.abs(a - b).max(initial=0.0)
    return err <= rel * np.abs(b).max(initial=0.0) + 1e3 * EPS * scale, err


@pytest.fixture(params=VARIANTS)
def variant(request, monkeypatch):
    """One forced variant; three threads, so that the split variants cut the rows on any machine."""
    monkeypatch.setattr(gated, "_FORCE_VARIANT", request.param)
    monkeypatch.setattr(rm.rnn, "_plan_threads", lambda: 3)
    monkeypatch.setattr(rm.rnn, "_threads", lambda: 3)
    return request.param


# ----------------------------------------------------------------------------- kernels vs reference
@settings(max_examples=25, **SETTINGS)
@given(kind=st.sampled_from(KINDS), hidden=st.integers(1, 5), inputs=st.integers(1, 3), layers=st.integers(1, 3),
       bias=st.booleans(), with_h0=st.booleans(), B=st.integers(1, 3), T=st.integers(1, 7),
       seed=st.integers(0, 2**32 - 1), scale=st.sampled_from([None, 0.8, 1.5]))
def test_forward_and_bptt_equal_reference(variant, kind, hidden, inputs, layers, bias, with_h0, B, T, seed, scale):
    k, nl = kind
    rng = np.random.default_rng(seed)
    net = make(k, nl, hidden, inputs, layers, bias, rng, scale)
    x = rng.uniform(-2, 2, size=(B, T, inputs))
    dy = rng.normal(size=(B, T, hidden))
    h0, h0a, c0a = initial(net, B, rng) if with_h0 else (None, None, None)
    y_ref, _ = naive.forward(k, net.params(), x, h0a, c0a if k == "lstm" else None, nl)
    ok, err = close(net(x, h0), y_ref, np.abs(y_ref).max())
    assert ok, err
    g = net.vjp(x, dy, h0)
    ref = naive.vjp(k, net.params(), x, dy, h0a, c0a if k == "lstm" else None, nl)
    scale_g = max(np.abs(v).max() for v in ref.values())
    for name, val in g.state_dict().items():
        ok, err = close(val, ref[name], scale_g)
        assert ok, (name, err)
    assert close(g.x, ref["x"], scale_g)[0]
    assert close(g.h0, ref["h0"], scale_g)[0]
    if k == "lstm":
        assert close(g.c0, ref["c0"], scale_g)[0]
    else:
        assert g.c0 is None


def test_variants_agree_on_larger_sizes(monkeypatch):
    """Every variant gives the same numbers (up to the summation order of BLAS) at H = 40, B = 9 (rows split 3/3/3
    by the split variants)."""
    monkeypatch.setattr(rm.rnn, "_plan_threads", lambda: 3)
    monkeypatch.setattr(rm.rnn, "_threads", lambda: 3)
    rng = np.random.default_rng(3)
    for kind, nl in KINDS:
        net = make(kind, nl, 40, 3, 2, True, rng)
        x = rng.normal(size=(9, 30, 3))
        dy = rng.normal(size=(9, 30, 40))
        outs = {}
        for v in VARIANTS:
            monkeypatch.setattr(gated, "_FORCE_VARIANT", v)
            outs[v] = (net(x), net.vjp(x, dy).state_dict())
        for v in VARIANTS[1:]:
            np.testing.assert_allclose(outs[v][0], outs["rows"][0], rtol=1e-12, atol=1e-13)
            for name in outs[v][1]:
                np.testing.assert_allclose(outs[v][1][name], outs["rows"][1][name], rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------------------- finite differences
@pytest.mark.parametrize("kind,nl", KINDS)
@pytest.mark.parametrize("bias", [True, False])
def test_gradients_match_central_differences(kind, nl, bias):
    """Every parameter block, the input and the initial state(s) against central differences (error model of
    tests/gradcheck.py)."""
    rng = np.random.default_rng(7 if bias else 8)
    net = make(kind, nl, 3, 2, 2, bias, rng, scale=0.9)
    B, T = 2, 5
    x = rng.normal(size=(B, T, 2))
    dy = rng.normal(size=(B, T, 3))
    h0, h0a, c0a = initial(net, B, rng)
    g = net.vjp(x, dy, h0)
    params = net.params()

    def f_block(name):
        def f(v):
            return float(np.sum(dy * net.replace(**{name: v})(x, h0)))
        return f

    f_scale = float(np.sum(np.abs(dy * net(x, h0))))
    for name, val in params.items():
        assert_gradient(f_block(name), val, g[name], name=name, f_scale=f_scale)
    assert_gradient(lambda v: float(np.sum(dy * net(v, h0))), x, g.x, name="x", f_scale=f_scale)
    if kind == "lstm":
        assert_gradient(lambda v: float(np.sum(dy * net(x, (v, c0a)))), h0a, g.h0, name="h0", f_scale=f_scale)
        assert_gradient(lambda v: float(np.sum(dy * net(x, (h0a, v)))), c0a, g.c0, name="c0", f_scale=f_scale)
    else:
        assert_gradient(lambda v: float(np.sum(dy * net(x, v))), h0a, g.h0, name="h0", f_scale=f_scale)


def test_gradient_check_catches_a_scaled_block():
    """The finite-difference test has power: one block scaled by 1.00001 fails it."""
    rng = np.random.default_rng(1)
    net = rm.LSTM.random(3, 2, 2, rng=rng)
    x = rng.normal(size=(2, 5, 2))
    dy = rng.normal(size=(2, 5, 3))
    g = net.vjp(x, dy)
    f_scale = float(np.sum(np.abs(dy * net(x))))
    for name in ("weight_hh_l0", "bias_ih_l1"):
        def f(v, name=name):
            return float(np.sum(dy * net.replace(**{name: v})(x)))
        with pytest.raises(AssertionError):
            assert_gradient(f, net.params()[name], 1.00001 * g[name], name=name, f_scale=f_scale)


@pytest.mark.parametrize("kind", ["rnn", "gru", "lstm"])
def test_loss_and_grad_is_mse_and_its_gradient(kind):
    rng = np.random.default_rng(2)
    net = make(kind, "tanh", 4, 2, 2, True, rng)
    x = rng.normal(size=(3, 6, 2))
    y = rng.normal(size=(3, 6, 4))
    loss, g = net.loss_and_grad(x, y)
    assert loss == pytest.approx(np.mean((net(x) - y) ** 2), rel=1e-14)
    gv = net.vjp(x, 2.0 * (net(x) - y) / y.size)
    for name in g.state_dict():
        np.testing.assert_allclose(g[name], gv[name], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(g.x, gv.x, rtol=1e-13, atol=1e-15)


# ----------------------------------------------------------------------------- torch oracle
TORCH_CASES = [("rnn", "tanh", 2, True), ("rnn", "relu", 3, False), ("gru", None, 2, False), ("gru", None, 3, True),
               ("lstm", None, 2, True), ("lstm", None, 3, False)]


@pytest.mark.parametrize("kind,nl,layers,bias", TORCH_CASES)
def test_against_torch_autograd(kind, nl, layers, bias, record_property):
    """nn.RNN/GRU/LSTM with given initial states: outputs to 1e-10, every gradient to 1e-8 relative (norm-wise)."""
    torch = pytest.importorskip("torch", reason="torch is the oracle of this test (CI installs it)")
    torch.manual_seed(5)
    d, H, B, T = 3, 5, 4, 12
    cls = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[kind]
    kw = {"nonlinearity": nl} if kind == "rnn" else {}
    mod = cls(d, H, num_layers=layers, bias=bias, batch_first=True, **kw).double()
    net = rm.from_torch(mod)
    x = torch.randn(B, T, d, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(layers, B, H, dtype=torch.float64, requires_grad=True)
    c0 = torch.randn(layers, B, H, dtype=torch.float64, requires_grad=True)
    y_t, _ = mod(x, (h0, c0) if kind == "lstm" else h0)
    target = torch.randn(B, T, H, dtype=torch.float64)
    loss_t = torch.nn.functional.mse_loss(y_t, target)
    loss_t.backward()
    np0 = (h0.detach().numpy(), c0.detach().numpy())
    h0n = np0 if kind == "lstm" else np0[0]
    xn = x.detach().numpy()
    y = net(xn, h0n)
    errs = {"output": np.abs(y - y_t.detach().numpy()).max() / np.abs(y_t.detach().numpy()).max()}
    assert errs["output"] <= 1e-10
    loss, g = net.loss_and_grad(xn, target.numpy(), h0=h0n)
    assert loss == pytest.approx(loss_t.item(), rel=1e-12)
    ref = {name: p.grad.numpy() for name, p in mod.named_parameters()}
    ref.update(x=x.grad.numpy(), h0=h0.grad.numpy())
    got = dict(g.state_dict(), x=g.x, h0=g.h0)
    if kind == "lstm":
        ref["c0"], got["c0"] = c0.grad.numpy(), g.c0
    assert set(g.state_dict()) == {name for name, _ in mod.named_parameters()}
    for name, r in ref.items():
        assert got[name].shape == r.shape, name
        errs[name] = float(np.abs(got[name] - r).max() / np.abs(r).max())
        assert errs[name] <= 1e-8, (name, errs[name])
    record_property("max_relative_error", max(errs.values()))
    print(f"\n[torch oracle {kind} layers={layers} bias={bias}] output {errs['output']:.1e}, worst gradient "
          f"{max(v for k, v in errs.items() if k != 'output'):.1e}")


def test_from_torch_module_batch_first_irrelevant_and_round_trip():
    torch = pytest.importorskip("torch", reason="torch is the oracle of this test (CI installs it)")
    mod = torch.nn.GRU(2, 3, num_layers=2, batch_first=False).double()
    net = rm.from_torch(mod)
    x = np.random.default_rng(0).normal(size=(4, 6, 2))
    y_t, _ = mod(torch.from_numpy(x.transpose(1, 0, 2).copy()))
    np.testing.assert_allclose(net(x), y_t.detach().numpy().transpose(1, 0, 2), rtol=1e-12, atol=1e-14)
    mod2 = torch.nn.GRU(2, 3, num_layers=2, batch_first=True).double()
    mod2.load_state_dict({k: torch.from_numpy(v) for k, v in net.state_dict().items()})
    np.testing.assert_allclose(net(x), mod2(torch.from_numpy(x))[0].detach().numpy(), rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="bidirectional"):
        rm.from_torch(torch.nn.LSTM(2, 3, bidirectional=True))
    with pytest.raises(ValueError, match="proj_size"):
        rm.from_torch(torch.nn.LSTM(2, 3, proj_size=2))
    with pytest.raises(ValueError, match="kind='gru' but"):
        rm.from_torch(torch.nn.LSTM(2, 3), kind="gru")
    relu = rm.from_torch(torch.nn.RNN(2, 3, nonlinearity="relu"))
    assert relu.nonlinearity == "relu"
    sd_net = rm.from_torch(mod.state_dict(), kind="gru")  # tensors in a mapping
    np.testing.assert_array_equal(sd_net(x), net(x))


# ----------------------------------------------------------------------------- from_torch without torch
def test_from_mapping_errors_name_key_and_shapes():
    net = rm.LSTM.random(3, 2, 2, rng=0)
    sd = net.state_dict()
    assert isinstance(rm.from_torch(sd, kind="lstm"), rm.LSTM)
    with pytest.raises(ValueError, match="kind is required"):
        rm.from_torch(sd)
    bad = dict(sd, weight_hh_l1=np.zeros((12, 4)))
    with pytest.raises(ValueError, match=r"params\['weight_hh_l1'\] has shape \(12, 4\), expected \(12, 3\)"):
        rm.from_torch(bad, kind="lstm")
    with pytest.raises(ValueError, match=r"params\['weight_hh_l0'\] has shape \(12, 3\), expected \(3·H, H\)"):
        rm.from_torch(sd, kind="gru")  # an LSTM's 4H rows are not a GRU's 3H
    with pytest.raises(ValueError, match="bidirectional"):
        rm.from_torch(dict(sd, weight_ih_l0_reverse=sd["weight_ih_l0"]), kind="lstm")
    with pytest.raises(ValueError, match="proj_size"):
        rm.from_torch(dict(sd, weight_hr_l0=np.zeros((2, 3))), kind="lstm")
    missing = dict(sd)
    del missing["bias_hh_l1"]
    with pytest.raises(ValueError, match="missing.*bias_hh_l1"):
        rm.from_torch(missing, kind="lstm")
    with pytest.raises(ValueError, match="unexpected entries.*'rnn.weight'"):
        rm.from_torch(dict(sd, **{"rnn.weight": np.zeros(2)}), kind="lstm")
    with pytest.raises(TypeError):
        rm.from_torch([1, 2, 3])
    with pytest.raises(ValueError, match="nan|NaN"):
        rm.from_torch(dict(sd, weight_ih_l0=np.full((12, 2), np.nan)), kind="lstm")


# ----------------------------------------------------------------------------- model protocol
def test_model_protocol_immutable_pickle_replace():
    net = rm.StackedRNN.random(4, 2, 2, nonlinearity="relu", bias=False, rng=3)
    assert (net.layers, net.hidden, net.inputs, net.outputs, net.bias, net.state_size) == (2, 4, 2, 4, False, 8)
    assert list(net.params()) == ["weight_ih_l0", "weight_hh_l0", "weight_ih_l1", "weight_hh_l1"]
    with pytest.raises(ValueError):
        net.params()["weight_hh_l0"][0, 0] = 1.0
    with pytest.raises(AttributeError, match="immutable"):
        net.hidden = 3
    clone = pickle.loads(pickle.dumps(net))
    x = np.random.default_rng(0).normal(size=(2, 5, 2))
    np.testing.assert_array_equal(clone(x), net(x))
    assert clone.nonlinearity == "relu"
    W = np.eye(4)
    other = net.replace(weight_hh_l1=W)
    np.testing.assert_array_equal(other.params()["weight_hh_l1"], W)
    assert net.params()["weight_hh_l1"][0, 1] != 0.0 and other.nonlinearity == "relu"
    assert net.replace(nonlinearity="tanh").nonlinearity == "tanh"
    with pytest.raises(TypeError, match="unknown field"):
        net.replace(W=W)
    sd = net.state_dict()
    sd["weight_hh_l0"][0, 0] = 99.0  # writable copy: the model is untouched
    assert net.params()["weight_hh_l0"][0, 0] != 99.0
    a, b = rm.GRU.random(5, rng=11), rm.GRU.random(5, rng=np.random.default_rng(11))
    for k in a.params():
        np.testing.assert_array_equal(a.params()[k], b.params()[k])
    big = rm.GRU.random(400, rng=0)
    assert np.abs(big.params()["weight_hh_l0"]).max() <= 1 / 20
    assert np.abs(big.params()["weight_hh_l0"]).max() > 0.99 / 20


def test_unbatched_input_forward_and_final_state():
    net = rm.LSTM.random(3, 2, 2, rng=4)
    rng = np.random.default_rng(5)
    x = rng.normal(size=(6, 2))
    h0 = (rng.normal(size=(2, 3)), rng.normal(size=(2, 3)))
    y = net(x, h0)
    yb = net(x[None], (h0[0][:, None], h0[1][:, None]))
    np.testing.assert_allclose(y, yb[0], rtol=1e-15)
    out, (hn, cn) = net.forward(x, h0)
    assert hn.shape == (2, 3) and cn.shape == (2, 3)
    np.testing.assert_array_equal(hn[-1], out[-1])
    # continuing from the final state equals running the whole sequence
    x2 = rng.normal(size=(4, 2))
    np.testing.assert_allclose(net(x2, (hn, cn)), net(np.concatenate([x, x2]), h0)[6:], rtol=1e-13, atol=1e-15)
    with pytest.raises(TypeError, match="pair"):
        net(x, h0[0])
    with pytest.raises(ValueError, match="h0 has shape"):
        rm.GRU.random(3, 2, 2, rng=0)(x, np.zeros((1, 3)))


def test_bad_input_and_nonfinite():
    net = rm.GRU.random(3, 2, rng=0)
    with pytest.raises(ValueError, match="input feature"):
        net(np.zeros((1, 4, 3)))
    big = rm.StackedRNN.random(3, 1, nonlinearity="relu", scale=50.0, rng=1)
    with pytest.raises(rm.NonFiniteError):
        big(np.full((1, 400, 1), 50.0))
    assert not np.isfinite(big(np.full((1, 400, 1), 50.0), check_finite=False)).all()
    with pytest.raises(ValueError, match="nonlinearity"):
        rm.StackedRNN.random(3, nonlinearity="sigmoid")
    x = np.random.default_rng(0).normal(size=(2, 4, 2))
    x0 = x.copy()
    net.vjp(x, np.ones((2, 4, 3)))
    np.testing.assert_array_equal(x, x0)


# ----------------------------------------------------------------------------- Jacobians
@pytest.mark.parametrize("kind,nl", KINDS)
def test_state_jacobian_matches_finite_differences(kind, nl):
    rng = np.random.default_rng(9)
    net = make(kind, nl, 3, 2, 3, True, rng, scale=1.0)
    S = net.state_size
    s = rng.normal(size=S) * 0.5
    x = rng.normal(size=2)
    J = net.jacobian(s, x)
    assert J.shape == (S, S)
    H, L = net.hidden, net.layers
    w = S // L

    def step(state):
        hs = np.stack([state[i * w:i * w + H] for i in range(L)])
        if kind == "lstm":
            cs = np.stack([state[i * w + H:(i + 1) * w] for i in range(L)])
            _, (hn, cn) = net.forward(x[None], (hs, cs))
            return np.concatenate([np.concatenate([hn[i], cn[i]]) for i in range(L)])
        _, hn = net.forward(x[None], hs)
        return hn.reshape(-1)

    h = 1e-6
    Jfd = np.stack([(step(s + h * e) - step(s - h * e)) / (2 * h) for e in np.eye(S)], axis=1)
    np.testing.assert_allclose(J, Jfd, atol=1e-8)
    # along a trajectory
    xs = rng.normal(size=(4, 2))
    Js = net.step_jacobians(xs)
    assert Js.shape == (4, S, S)
    np.testing.assert_allclose(Js[0], net.jacobian(None, xs[0]), rtol=1e-13, atol=1e-15)


def test_jacobian_at_zero_state_of_a_one_layer_rnn():
    net = rm.StackedRNN.random(4, 1, bias=False, rng=0)
    np.testing.assert_allclose(net.jacobian(), net.params()["weight_hh_l0"], rtol=1e-15)
    lstm = rm.LSTM.random(4, 1, bias=False, rng=0)
    J = lstm.jacobian()
    # at h = c = 0, x = 0 without bias: i = f = o = 1/2, g = 0, so c' = c/2 and h' = tanh(c')/2
    np.testing.assert_allclose(J[4:, 4:], 0.5 * np.eye(4), atol=1e-15)
    np.testing.assert_allclose(J[:4, 4:], 0.25 * np.eye(4), atol=1e-15)


def test_fit_trains_a_gru():
    rng = np.random.default_rng(0)
    teacher = rm.GRU.random(3, 1, rng=1)
    x = rng.normal(size=(32, 15, 1))
    y = teacher(x)
    res = rm.fit(rm.GRU.random(3, 1, rng=2), x, y, epochs=40, lr=0.02, progress=False, rng=0)
    assert res.history["loss"][-1] < 0.2 * res.history["loss"][0]
    assert isinstance(res.model, rm.GRU)


# ----------------------------------------------------------------------------- analyses on every model
def test_memory_functions_of_gated_models():
    net = rm.GRU.random(6, 2, 2, rng=0)
    mf = rm.memory_function(net, 60, rng=0)
    ex = rm.exact_memory(net, 60, rng=0)
    np.testing.assert_array_equal(ex.values, mf.values)
    assert ex.method == "estimator" and mf.values[0] > 0
    lin = mf.restrict(max_amplitude=1.0)  # the linear regime: a random torch-init GRU forgets exponentially
    assert lin.values[-1] < 1e-6 * lin.values[:5].max()
    one = rm.exact_memory(net, 20, x=[1.0, -1.0])
    assert one.candidates.shape == (1, 2)


def test_perturbation_error_of_an_lstm():
    net = rm.LSTM.random(4, 1, 2, rng=1)
    x = np.random.default_rng(2).normal(size=(4, 40, 1))
    curve = rm.perturbation_error(net, net(x), [0, 1e-3, 1e-2, 1e-1], x=x, samples=4, rng=3)
    assert curve.nominal == 0.0 and curve.worst_errors.shape == (4, 0)
    assert np.all(np.diff(curve.errors) > 0)
    # each block in its own ball: the perturbation of every block has spectral (2-D) / Euclidean (1-D) norm beta
    seen = []
    orig = rm.LSTM.replace

    def spy(self, **blocks):
        seen.append({k: v - net.params()[k] for k, v in blocks.items()})
        return orig(self, **blocks)

    rm.LSTM.replace = spy
    try:
        rm.perturbation_error(net, net(x), [0.05], x=x, samples=2, rng=4)
    finally:
        rm.LSTM.replace = orig
    assert set(seen[0]) == set(net.params())
    for delta in seen[0].values():
        n = np.linalg.norm(delta, 2) if delta.ndim == 2 else np.linalg.norm(delta)
        assert n == pytest.approx(0.05, rel=1e-12)


def test_gains_and_lyapunov_match_the_rnn_kernel_path():
    """A one-layer bias-free tanh StackedRNN is rm.RNN(W_hh, W_ih, 0, I): the generic Jacobian path of
    trajectory_gain / lyapunov_exponents equals the RNN's kernel path."""
    net = rm.StackedRNN.random(5, 2, bias=False, scale=1.2, rng=0)
    p = net.params()
    rnn = rm.RNN(p["weight_hh_l0"], p["weight_ih_l0"], np.zeros(5), np.eye(5))
    x = np.random.default_rng(1).normal(size=(2, 60, 2))
    np.testing.assert_allclose(rm.linear.trajectory_gain(net, x, 20), rm.linear.trajectory_gain(rnn, x, 20),
                               rtol=1e-10)
    np.testing.assert_allclose(rm.linear.lyapunov_exponents(net, x, 3, rng=5),
                               rm.linear.lyapunov_exponents(rnn, x, 3, rng=5), rtol=1e-10)
    np.testing.assert_allclose(rm.stability.state_jacobian(net), rm.stability.state_jacobian(rnn), rtol=1e-15)
    euler = rm.RNN.random(4, cell="euler", dt=0.1, rng=0)
    np.testing.assert_allclose(rm.stability.state_jacobian(euler), np.eye(4) + 0.1 * euler.W, rtol=1e-15)
    with pytest.raises(TypeError, match="state_jacobian"):
        rm.stability.state_jacobian(np.eye(3))
