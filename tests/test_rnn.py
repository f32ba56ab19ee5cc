"""RNN kernels against the plain-NumPy references, gradients against finite differences, linear convolution."""

from __future__ import annotations

import pickle

import naive
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import rnnmem as rm
from rnnmem import rnn as rnn_module
from rnnmem.testing import finite_floats, inputs_for, rnns

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                    HealthCheck.function_scoped_fixture])
VARIANTS = ("rows", "parallel", "blas")


def rel_err(a, b):
    """Norm-wise relative error max|a-b| / max|b| (absolute when b is exactly zero)."""
    a, b = np.asarray(a), np.asarray(b)
    scale = np.abs(b).max()
    return np.abs(a - b).max() / (scale if scale > 0 else 1.0)


def ref_args(model):
    return model.W, model.U, model.b, model.C, model.D


@pytest.fixture(params=VARIANTS)
def variant(request, monkeypatch):
    monkeypatch.setattr(rnn_module, "_FORCE_VARIANT", request.param)
    return request.param


# ----------------------------------------------------------------------------- kernels vs reference
@settings(max_examples=40, **SETTINGS)
@given(data=st.data())
def test_forward_and_bptt_equal_reference(data, variant):
    model = data.draw(rnns(hidden=st.integers(1, 6)))
    x = data.draw(inputs_for(model, batch=st.integers(1, 3), time=st.integers(1, 9)))
    dy = data.draw(hnp.arrays(np.float64, x.shape[:2] + (model.outputs,), elements=finite_floats(2.0)))
    y_ref, h_ref, z_ref = naive.forward(*ref_args(model), x, model.cell, model.activation, model.dt)
    assert rel_err(model(x), y_ref) <= 1e-12
    assert rel_err(model.states(x), h_ref) <= 1e-12
    g = model.vjp(x, dy)
    g_ref = naive.vjp(*ref_args(model), x, dy, model.cell, model.activation, model.dt)
    tol = grad_tolerance(model.activation, z_ref)
    for name in ("W", "U", "b", "C", "x"):
        assert rel_err(getattr(g, name), g_ref[name]) <= tol, name
    if model.D is None:
        assert g.D is None
    else:
        assert rel_err(g.D, g_ref["D"]) <= tol


def grad_tolerance(activation, Z, base=1e-12):
    """Error model of the gradients' comparison: σ'(z) = 1 − tanh(z)² from a tanh rounded to ε (kernel and reference
    may round tanh differently by an ulp) has relative error ≈ 2ε·tanh²/(1 − tanh²) = 2ε·sinh²(z), which grows in
    saturation; each of the T steps of a backpropagated path carries one such factor. Beyond |z| ≈ 19 tanh rounds to
    ±1 and σ' is exactly 0 in both (capped). Other activations have exact derivatives (0, 1)."""
    if activation != "tanh":
        return base
    T = Z.shape[1]
    kappa = float((np.sinh(np.minimum(np.abs(Z), 19.0)) ** 2).max())
    return base * (1.0 + T * kappa)


@pytest.mark.parametrize("cell", rm.rnn.CELLS)
@pytest.mark.parametrize("activation", rm.rnn.ACTIVATIONS)
def test_wide_models_equal_reference(cell, activation, variant):
    """Widths around the BLAS threshold, several batches: every variant equals the loops of tests/naive.py."""
    rng = np.random.default_rng(3)
    for m in (1, 7, rm.rnn.BLAS_MIN_HIDDEN + 3):
        model = rm.RNN.random(m, 2, 3, cell=cell, activation=activation, dt=0.2, bias=0.3, feedthrough=True,
                              sigma2=0.64, rng=int(rng.integers(1 << 30)))
        x = rng.normal(size=(9, 13, 2))
        dy = rng.normal(size=(9, 13, 3))
        y_ref, _, _ = naive.forward(*ref_args(model), x, cell, activation, 0.2)
        assert rel_err(model(x), y_ref) <= 1e-12
        g = model.vjp(x, dy)
        g_ref = naive.vjp(*ref_args(model), x, dy, cell, activation, 0.2)
        for name in ("W", "U", "b", "C", "D", "x"):
            assert rel_err(getattr(g, name), g_ref[name]) <= 1e-12, (m, name)


def test_two_dimensional_input_matches_batch_of_one():
    model = rm.RNN.random(5, 2, 3, rng=1, feedthrough=True)
    x = np.random.default_rng(0).normal(size=(11, 2))
    assert model(x).shape == (11, 3)
    np.testing.assert_array_equal(model(x), model(x[None])[0])
    np.testing.assert_array_equal(model.states(x), model.states(x[None])[0])
    dy = np.ones((11, 3))
    g2, g3 = model.vjp(x, dy), model.vjp(x[None], dy[None])
    assert g2.x.shape == (11, 2)
    np.testing.assert_array_equal(g2.W, g3.W)
    np.testing.assert_array_equal(g2.x, g3.x[0])


def test_simulate_stack_equals_individual_models(variant):
    rng = np.random.default_rng(5)
    models = [rm.RNN.random(6, 2, 2, cell="euler", dt=0.3, bias=0.2, feedthrough=True, rng=s) for s in range(4)]
    x = rng.normal(size=(3, 15, 2))
    stack = {k: np.stack([getattr(mdl, k) for mdl in models]) for k in "WUbCD"}
    y = rm.rnn.simulate_stack(stack["W"], stack["U"], stack["b"], stack["C"], stack["D"], x, cell="euler", dt=0.3)
    for s, mdl in enumerate(models):
        assert rel_err(y[s], mdl(x)) <= 1e-12


# ----------------------------------------------------------------------------- gradients vs finite differences
def _kink_distance(model, x):
    """Distance of every pre-activation to a kink of the activation (inf for smooth activations)."""
    if model.activation in ("tanh", "linear"):
        return np.inf
    _, _, Z = naive.forward(*ref_args(model), x, model.cell, model.activation, model.dt)
    if model.activation == "relu":
        return np.abs(Z).min()
    return np.minimum(np.abs(Z - 1.0), np.abs(Z + 1.0)).min()


def _fd_check(model, x, scalar_fn, grads, h=1e-6, rtol=1e-6):
    """Central differences of ``scalar_fn(model, x)`` for every parameter block and the input."""
    blocks = dict(model.params())
    for name, value in list(blocks.items()) + [("x", x)]:
        fd = np.zeros(value.size)
        flat = value.ravel()
        for i in range(value.size):
            e = np.zeros(value.size)
            e[i] = h * max(1.0, abs(flat[i]))
            plus, minus = (flat + e).reshape(value.shape), (flat - e).reshape(value.shape)
            if name == "x":
                fp, fm = scalar_fn(model, plus), scalar_fn(model, minus)
            else:
                fp, fm = scalar_fn(model.replace(**{name: plus}), x), scalar_fn(model.replace(**{name: minus}), x)
            fd[i] = (fp - fm) / (2 * e[i])
        g = np.asarray(grads[name]).ravel()
        err = np.linalg.norm(g - fd)
        assert err <= rtol * max(np.linalg.norm(g), 1e-3), (name, err, np.linalg.norm(g))


@settings(max_examples=25, **SETTINGS)
@given(data=st.data())
def test_vjp_equals_finite_differences(data):
    model = data.draw(rnns(hidden=st.integers(1, 4), inputs=st.integers(1, 2), outputs=st.integers(1, 2)))
    x = data.draw(inputs_for(model, batch=st.integers(1, 2), time=st.integers(1, 6)))
    assume(_kink_distance(model, x) > 1e-3)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31)))
    dy = rng.normal(size=x.shape[:2] + (model.outputs,))
    g = model.vjp(x, dy)
    grads = dict(g.params(), x=g.x)
    _fd_check(model, x, lambda mdl, xx: float((dy * mdl(xx)).sum()), grads)


@settings(max_examples=20, **SETTINGS)
@given(data=st.data(), loss=st.sampled_from(rm.rnn.LOSSES))
def test_loss_and_grad_equals_finite_differences(data, loss):
    model = data.draw(rnns(hidden=st.integers(1, 4), inputs=st.integers(1, 2), outputs=st.integers(1, 3)))
    x = data.draw(inputs_for(model, batch=st.integers(1, 3), time=st.integers(1, 6)))
    assume(_kink_distance(model, x) > 1e-3)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31)))
    B, T = x.shape[:2]
    y = rng.integers(0, model.outputs, size=B) if loss == "cross_entropy" else rng.normal(size=(B, T, model.outputs))
    value, g = model.loss_and_grad(x, y, loss=loss, power=1.5)
    grads = dict(g.params(), x=g.x)

    def f(mdl, xx):
        return mdl.loss_and_grad(xx, y, loss=loss, power=1.5)[0]

    assert value == pytest.approx(f(model, x), rel=0, abs=0)
    _fd_check(model, x, f, grads)


def test_loss_values_follow_their_formulas():
    model = rm.RNN.random(4, 2, 3, rng=2)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 7, 2))
    y = rng.normal(size=(5, 7, 3))
    r = model(x) - y
    assert model.loss_and_grad(x, y)[0] == pytest.approx(np.mean(r**2), rel=1e-14)
    w = ((np.arange(7) + 1) / 8.0) ** 2
    assert model.loss_and_grad(x, y, "weighted_mse")[0] == pytest.approx(np.mean(w[None, :, None] * r**2), rel=1e-14)
    labels = np.array([0, 2, 1, 1, 0])
    logits = model(x)[:, -1]
    ce = np.mean(np.log(np.exp(logits).sum(1)) - logits[np.arange(5), labels])
    assert model.loss_and_grad(x, labels, "cross_entropy")[0] == pytest.approx(ce, rel=1e-13)


# ----------------------------------------------------------------------------- linear models: convolution
@settings(max_examples=30, **SETTINGS)
@given(data=st.data())
def test_linear_rnn_is_convolution_with_markov(data):
    model = data.draw(rnns(activations=("linear",), hidden=st.integers(1, 5)))
    x = data.draw(inputs_for(model, batch=st.integers(1, 2), time=st.integers(1, 10)))
    T = x.shape[1]
    L = model.markov(T)
    assert L.shape == (T, model.outputs, model.inputs)
    assert rel_err(L, naive.markov(model.W, model.U, model.C, model.D, T, model.cell, model.dt)) <= 1e-12
    y_x, y_0 = model(x), model(np.zeros_like(x))
    ref = naive.convolve(L, x)
    # the bias response y_0 is subtracted: measure the error against the size of every term involved
    scale = max(np.abs(ref).max(), np.abs(y_x).max(), np.abs(y_0).max(), 1e-300)
    assert np.abs((y_x - y_0) - ref).max() <= 1e-11 * scale


def test_markov_convention_and_euler_limit():
    """L_0 = CU + D (elman), L_0 = dt CU + D and L_j/dt -> C e^{Wt} U (euler) as dt -> 0."""
    from scipy.linalg import expm

    model = rm.RNN.random(3, 1, 1, activation="linear", cell="euler", rng=4)
    t = 1.0
    errs = []
    for dt in (0.1, 0.05, 0.025):
        mdl = model.replace(dt=dt)
        L = mdl.markov(int(round(t / dt)) + 1)
        assert L[0] == pytest.approx(dt * model.C @ model.U)
        errs.append(abs(L[-1, 0, 0] / dt - (model.C @ expm(model.W * t) @ model.U)[0, 0]))
    assert errs[0] / errs[1] == pytest.approx(2.0, rel=0.1) and errs[1] / errs[2] == pytest.approx(2.0, rel=0.1)
    elman = model.replace(cell="elman")
    assert elman.markov(1)[0] == pytest.approx(model.C @ model.U)


# ----------------------------------------------------------------------------- PyTorch oracle
def _torch_reference(model, x, dy):
    """Run torch.nn.RNN if it is installed; otherwise PyTorch's documented formula written out in NumPy."""
    try:
        import torch
    except ImportError:
        W, U, b, C = model.W, model.U, model.b, model.C
        b_ih, b_hh = 0.25 * b, 0.75 * b
        B, T, _ = x.shape
        h = np.zeros((B, model.hidden))
        out = []
        for k in range(T):  # h_t = tanh(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh)  (torch.nn.RNN docs)
            h = np.tanh(x[:, k] @ U.T + b_ih + h @ W.T + b_hh)
            out.append(h @ C.T)
        return "numpy transcription of the torch.nn.RNN formula", np.stack(out, 1), None
    torch.set_num_threads(1)
    net = torch.nn.RNN(model.inputs, model.hidden, nonlinearity="tanh", batch_first=True).double()
    with torch.no_grad():
        net.weight_hh_l0.copy_(torch.from_numpy(model.W.copy()))
        net.weight_ih_l0.copy_(torch.from_numpy(model.U.copy()))
        net.bias_ih_l0.copy_(torch.from_numpy(0.25 * model.b))
        net.bias_hh_l0.copy_(torch.from_numpy(0.75 * model.b))
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    C = torch.from_numpy(model.C.copy()).requires_grad_(True)
    h, _ = net(xt)
    y = h @ C.T
    (y * torch.from_numpy(dy)).sum().backward()
    grads = dict(W=net.weight_hh_l0.grad.numpy(), U=net.weight_ih_l0.grad.numpy(), b=net.bias_hh_l0.grad.numpy(),
                 C=C.grad.numpy(), x=xt.grad.numpy())
    return f"torch {torch.__version__} nn.RNN", y.detach().numpy(), grads


def test_elman_tanh_is_torch_rnn(record_property, capsys):
    model = rm.RNN.random(7, 3, 2, bias=0.5, sigma2=1.44, rng=11)
    rng = np.random.default_rng(12)
    x = rng.normal(size=(4, 25, 3))
    dy = rng.normal(size=(4, 25, 2))
    oracle, y_ref, g_ref = _torch_reference(model, x, dy)
    record_property("oracle", oracle)
    with capsys.disabled():
        print(f"\n[test_elman_tanh_is_torch_rnn] oracle: {oracle}")
    assert rel_err(model(x), y_ref) <= 1e-12
    if g_ref is not None:
        g = model.vjp(x, dy)
        for name in ("W", "U", "b", "C", "x"):
            assert rel_err(getattr(g, name), g_ref[name]) <= 1e-11, name


# ----------------------------------------------------------------------------- model object
def test_random_is_reproducible_and_documented_scale():
    a = rm.RNN.random(400, 2, 1, rng=7)
    b = rm.RNN.random(400, 2, 1, rng=np.random.default_rng(7))
    for k in "WUbC":
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k))
    assert np.std(a.W) * np.sqrt(400) == pytest.approx(0.9, rel=0.02)
    assert np.max(np.abs(np.linalg.eigvals(a.W))) == pytest.approx(0.9, rel=0.1)
    e = rm.RNN.random(50, cell="euler", rng=0)
    assert np.max(np.linalg.eigvals(e.W).real) < 0
    assert not np.array_equal(rm.RNN.random(3, rng=1).W, rm.RNN.random(3, rng=2).W)


def test_model_is_immutable_and_copies_inputs():
    W = np.eye(2) * 0.5
    model = rm.RNN(W, np.ones((2, 1)), np.zeros(2), np.ones((1, 2)))
    W[0, 0] = 100.0
    assert model.W[0, 0] == 0.5
    with pytest.raises(ValueError):
        model.W[0, 0] = 3.0
    with pytest.raises(AttributeError, match="immutable"):
        model.W = np.eye(2)
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone.W, model.W)
    assert clone.cell == model.cell
    assert model.replace(dt=0.5).dt == 0.5 and model.dt == 1.0


def test_inputs_are_not_mutated():
    model = rm.RNN.random(4, 2, 2, rng=0, feedthrough=True)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 8, 2))
    dy = rng.normal(size=(3, 8, 2))
    x0, dy0 = x.copy(), dy.copy()
    model(x), model.states(x), model.vjp(x, dy), model.loss_and_grad(x, dy)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(dy, dy0)


def test_dtypes_convert_once_to_float64():
    model = rm.RNN.random(3, 2, 1, rng=0)
    x = np.arange(20).reshape(1, 10, 2) % 3
    assert model(x).dtype == np.float64
    np.testing.assert_array_equal(model(x), model(x.astype(np.float64)))
    np.testing.assert_array_equal(model(x.astype(np.float32)), model(x.astype(np.float64)))
    m32 = rm.RNN(*(a.astype(np.float32) for a in (model.W, model.U, model.b, model.C)))
    assert m32.W.dtype == np.float64


# ----------------------------------------------------------------------------- bad input
def test_bad_parameters_raise_naming_the_argument():
    W, U, b, C = np.eye(3), np.ones((3, 2)), np.zeros(3), np.ones((1, 3))
    with pytest.raises(ValueError, match="W must be square"):
        rm.RNN(np.ones((3, 2)), U, b, C)
    with pytest.raises(ValueError, match=r"U has shape \(4, 2\)"):
        rm.RNN(W, np.ones((4, 2)), b, C)
    with pytest.raises(ValueError, match="b has shape"):
        rm.RNN(W, U, np.zeros(2), C)
    with pytest.raises(ValueError, match="C has shape"):
        rm.RNN(W, U, b, np.ones((1, 2)))
    with pytest.raises(ValueError, match="D has shape"):
        rm.RNN(W, U, b, C, D=np.ones((2, 2)))
    with pytest.raises(ValueError, match="b must be 1-D"):
        rm.RNN(W, U, np.zeros((3, 1)), C)
    bad = W.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"W contains NaN or inf \(first at index \(1, 2\)\)"):
        rm.RNN(bad, U, b, C)
    with pytest.raises(ValueError, match="U contains NaN or inf"):
        rm.RNN(W, U * np.inf, b, C)
    with pytest.raises(TypeError, match="W must be real"):
        rm.RNN(W + 1j, U, b, C)
    with pytest.raises(TypeError, match="W must be an array of real numbers"):
        rm.RNN([["a"]], U, b, C)
    with pytest.raises(ValueError, match="dt must be a finite number > 0, got 0"):
        rm.RNN(W, U, b, C, dt=0)
    with pytest.raises(ValueError, match="dt must be"):
        rm.RNN(W, U, b, C, dt=-0.1)
    with pytest.raises(ValueError, match="dt must be"):
        rm.RNN(W, U, b, C, dt=np.nan)
    with pytest.raises(ValueError, match=r"unknown cell 'lstm'; expected one of \('elman', 'euler'\)"):
        rm.RNN(W, U, b, C, cell="lstm")
    with pytest.raises(ValueError, match="unknown activation 'sigmoid'"):
        rm.RNN(W, U, b, C, activation="sigmoid")
    with pytest.raises(TypeError, match="activation must be a string"):
        rm.RNN(W, U, b, C, activation=None)
    with pytest.raises(ValueError, match="W is empty"):
        rm.RNN(np.zeros((0, 0)), np.zeros((0, 1)), np.zeros(0), np.zeros((1, 0)))
    with pytest.raises(ValueError, match="hidden must be an integer >= 1"):
        rm.RNN.random(0)
    with pytest.raises(TypeError, match="rng must be None, an int seed"):
        rm.RNN.random(2, rng="seed")
    with pytest.raises(TypeError, match="replace"):
        rm.RNN(W, U, b, C).replace(V=W)


def test_bad_inputs_raise_naming_the_argument():
    model = rm.RNN.random(3, 2, 1, rng=0)
    with pytest.raises(ValueError, match=r"x has shape \(1, 5, 3\) but the model has 2 input feature"):
        model(np.zeros((1, 5, 3)))
    with pytest.raises(ValueError, match=r"x must be 2-D or 3-D, got a 1-D array"):
        model(np.zeros(5))
    with pytest.raises(ValueError, match="x must be 2-D or 3-D, got a 4-D"):
        model(np.zeros((1, 1, 5, 2)))
    x = np.zeros((2, 5, 2))
    x[1, 3, 0] = np.inf
    with pytest.raises(ValueError, match=r"x contains NaN or inf \(first at index \(1, 3, 0\)\)"):
        model(x)
    with pytest.raises(ValueError, match="x is empty"):
        model(np.zeros((1, 0, 2)))
    with pytest.raises(ValueError, match=r"dy has shape \(2, 5, 2\), expected \(2, 5, 1\)"):
        model.vjp(np.zeros((2, 5, 2)), np.zeros((2, 5, 2)))
    with pytest.raises(ValueError, match="y_target has shape"):
        model.loss_and_grad(np.zeros((2, 5, 2)), np.zeros((2, 4, 1)))
    with pytest.raises(ValueError, match="unknown loss 'l1'"):
        model.loss_and_grad(np.zeros((2, 5, 2)), np.zeros((2, 5, 1)), loss="l1")
    with pytest.raises(ValueError, match=r"labels must lie in 0..0"):
        model.loss_and_grad(np.zeros((2, 5, 2)), np.array([0, 1]), loss="cross_entropy")
    with pytest.raises(TypeError, match="integer class labels of shape"):
        model.loss_and_grad(np.zeros((2, 5, 2)), np.array([0.0, 0.0]), loss="cross_entropy")
    with pytest.raises(ValueError, match="markov\\(\\) needs activation='linear'"):
        model.markov(3)
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        model.replace(activation="linear").markov(0)


def test_exploding_model_names_first_nonfinite_step():
    model = rm.RNN(np.array([[1e80]]), np.ones((1, 1)), np.zeros(1), np.ones((1, 1)), activation="linear")
    x = np.ones((1, 10, 1))
    with pytest.raises(rm.NonFiniteError, match="non-finite .* at time step 4") as info:
        model(x)
    assert info.value.step == 4 and isinstance(info.value, ValueError)
    raw = model(x, check_finite=False)
    assert np.isfinite(raw[0, :4]).all() and not np.isfinite(raw[0, 4:]).all()
    with pytest.raises(rm.NonFiniteError):
        model.vjp(x, np.ones_like(x))
    with pytest.raises(rm.NonFiniteError, match="lag 4"):
        model.markov(10)
    # an unstable Euler step: I + dt W has spectral radius > 1
    euler = rm.RNN(np.array([[-1.0]]), np.ones((1, 1)), np.zeros(1), np.ones((1, 1)), cell="euler",
                   activation="linear", dt=3.5)
    with pytest.raises(rm.NonFiniteError, match="reduce the weights, the input scale or dt"):
        euler(np.ones((1, 2000, 1)))


def test_kernel_tanh_is_within_3_ulp_of_numpy():
    """The branch-free tanh of the kernels (rnnmem._kernels.tanh) against numpy.tanh over 16 orders of magnitude."""
    from rnnmem import _kernels as K

    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(size=20000) * s for s in (1e-300, 1e-12, 1e-4, 0.1, 0.5, 1, 3, 10, 19, 40, 1e5)]
                       + [np.array([0.0, -0.0, 20.0, -20.0, np.inf, -np.inf, 709.0, 1e308])])
    got = np.array([K.tanh(v) for v in x])
    ref = np.tanh(x)
    ulp = np.abs(got - ref) / np.spacing(np.abs(ref))
    assert ulp.max() <= 3.0
    assert np.isnan(K.tanh(np.nan))


def test_returned_arrays_never_alias_the_reused_workspace():
    """Internal buffers are reused across calls; what a call returned must not change on the next call."""
    rng = np.random.default_rng(0)
    for B in (1, 3):
        model = rm.RNN.random(5, 2, 2, cell="euler", dt=0.2, rng=B)
        x1, x2 = rng.normal(size=(B, 9, 2)), rng.normal(size=(B, 9, 2))
        h1, y1, g1 = model.states(x1), model(x1), model.vjp(x1, np.ones((B, 9, 2)))
        saved = [h1.copy(), y1.copy(), g1.x.copy(), g1.W.copy()]
        model.states(x2), model(x2), model.vjp(x2, np.ones((B, 9, 2)))
        for a, b in zip([h1, y1, g1.x, g1.W], saved, strict=True):
            np.testing.assert_array_equal(a, b)
    rm.rnn.clear_workspace()
    np.testing.assert_array_equal(model(x1), y1)
