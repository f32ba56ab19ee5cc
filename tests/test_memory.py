"""Tests of rnnmem.memory: the Def. 3.1 estimator (3 kinds), exact memories (Markov, expm, v-dynamics),
decay fitting, and the property tests (a)-(e) of issue 3."""

from __future__ import annotations

import naive
import naive_memory as nm
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from naive_memory import linear_targets

import rnnmem as rm
from rnnmem import memory as mem
from rnnmem import targets as tg
from rnnmem.testing import rnns, stable_rnns

KINDS = ("heaviside", "impulse", "reversed")


def _norm2(A):
    """Spectral norm (2-norm of a vector) without underflow for tiny entries."""
    s = np.abs(A).max()
    return s * np.linalg.norm(np.atleast_2d(A) / s, 2) if s > 0 else 0.0


def close(a, b, tol):
    """max |a − b| <= tol · max(1, max|b|) (only for the deterministic cases below; the property tests use the
    running error bounds of tests/naive.py instead)."""
    a, b = np.asarray(a), np.asarray(b)
    return np.abs(a - b).max() <= tol * max(1.0, np.abs(b).max())


def estimator_bound(rnn, T, cands, kind, normalize="paper"):
    """Bound on |memory_function(rnn) − exact| per time (the sup over the candidates ``cands``).

    Error model: every input sequence of the estimator has |u_k| <= |x| elementwise, and the running bound of
    tests/naive.py is monotone in |u|, so the outputs y(x) and y(0) are within Ey(|x| held constant) and Ey(0); the
    differences the estimator forms (heaviside: y_k − y_{k−1}; reversed: Y_{c+1} − Y_c at the last step) add two
    such errors; |max_i a_i − max_i b_i| <= max_i |a_i − b_i|."""
    rnn = rnn.to_rnn() if hasattr(rnn, "to_rnn") else rnn
    n, d = cands.shape
    args = (rnn.W, rnn.U, rnn.b, rnn.C, rnn.D)
    X = np.broadcast_to(np.abs(cands)[:, None, :], (n, T, d))
    E = (naive.forward_bound(*args, X, rnn.cell, rnn.activation, rnn.dt)["y"]
         + naive.forward_bound(*args, np.zeros((1, T, d)), rnn.cell, rnn.activation, rnn.dt)["y"])
    if kind == "heaviside":
        E = E + np.concatenate([np.zeros((n, 1, E.shape[2])), E[:, :-1]], axis=1)
    elif kind == "reversed":
        E = np.broadcast_to(2 * E[:, -1:, :], E.shape)
    nx = np.abs(cands).max(axis=1) + (1.0 if normalize == "proof" else 0.0)
    per = E.max(axis=2) / (rnn.dt * nx[:, None])
    return naive.rounding(4, 1.0) + per.max(axis=0) * (1 + naive.rounding(4, 1.0))


def exact_markov_memory_bound(rnn, T):
    """Bound on the Markov-parameter memory ‖L_k‖_{∞→∞}/Δt (each side): the per-entry bound of the L_k
    (naive.markov_bound) summed over inputs, max over outputs, plus the rounding of that sum."""
    Lb = naive.markov_bound(rnn.W, rnn.U, rnn.C, rnn.D, T, rnn.cell, rnn.dt)
    L = naive.markov(rnn.W, rnn.U, rnn.C, rnn.D, T, rnn.cell, rnn.dt)
    return (Lb.sum(axis=2).max(axis=1) + naive.rounding(rnn.inputs + 2, np.abs(L).sum(axis=2).max(axis=1))) / rnn.dt


# ----------------------------------------------------------------------------------------------- linear targets
@pytest.mark.parametrize("d", [1, 3])
@pytest.mark.parametrize("dt", [1.0, 0.1, 0.37])
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_equals_exact_memory_of_linear_targets(kind, dt, d):
    T = 60
    for f in linear_targets(d):
        mf = rm.memory_function(f, T, dt=dt, kind=kind, rng=0)
        assert mf.kind == kind and mf.dt == dt and mf.values.shape == (T,) and mf.argmax_x.shape == (T, d)
        np.testing.assert_allclose(mf.t, dt * np.arange(T))
        exact = f.memory(mf.t, dt=dt)
        assert close(mf.values, exact, 1e-10), (repr(f), np.abs(mf.values - exact).max())


def test_estimator_matches_naive_reference_per_input():
    f = tg.composite(tg.sum_of_exponentials([1.0, -1.5], [0.2, 0.7], direction=[1.0, 2.0]), "tanh")
    rnn = rm.RNN.random(4, inputs=2, outputs=2, cell="euler", dt=0.3, bias=0.5, feedthrough=True, rng=2)
    for model, dt in ((f, 0.5), (rnn, 0.3)):
        for kind in KINDS:
            for normalize in ("paper", "proof"):
                mf = rm.memory_function(model, 12, dt=dt, kind=kind, normalize=normalize,
                                        amplitudes=[0.01, 1.0, 30.0], rng=4)
                ref = nm.estimator(lambda x, m=model, s=dt: m(x, dt=s) if m is f else m(x), 12, dt,
                                   mf.candidates, kind, normalize)
                assert close(mf.per_input, ref, 1e-12), (kind, normalize)
                np.testing.assert_array_equal(mf.values, mf.per_input.max(axis=0))
                idx = mf.per_input.argmax(axis=0)
                np.testing.assert_array_equal(mf.argmax_x, mf.candidates[idx])


def test_chunked_equals_single_batched_call():
    calls = []
    rnn = rm.RNN.random(3, cell="elman", rng=1, bias=0.2)

    def model(x):
        calls.append(x.shape)
        return rnn(x)

    one = rm.memory_function(model, 20, kind="reversed")
    assert len(calls) == 1 and calls[0] == (1 + 22 * 20, 20, 1)  # ONE batched call, zero input included
    calls.clear()
    many = rm.memory_function(model, 20, kind="reversed", chunk=50)
    assert len(calls) == int(np.ceil((1 + 22 * 20) / 50))
    assert close(one.values, many.values, 1e-14)  # the RNN's kernel variant may change with the batch size


def test_candidates_default_and_reproducible():
    c1 = mem.candidate_inputs(1)
    assert c1.shape == (22, 1) and set(np.abs(c1[:, 0]).round(12)) == set(mem.DEFAULT_AMPLITUDES.round(12))
    c3 = mem.candidate_inputs(3, rng=5)
    assert c3.shape == ((8 + 8) * 11, 3)
    np.testing.assert_allclose(np.abs(c3).max(axis=1), np.tile(mem.DEFAULT_AMPLITUDES, 16))
    np.testing.assert_array_equal(c3, mem.candidate_inputs(3, rng=5))
    assert not np.array_equal(c3, mem.candidate_inputs(3, rng=6))
    c12 = mem.candidate_inputs(12, rng=0, random_directions=0, amplitudes=[1.0])
    assert c12.shape == (256, 12) and set(np.unique(c12)) == {-1.0, 1.0}
    cd = mem.candidate_inputs(2, directions=[[2.0, 1.0]], amplitudes=[3.0])
    np.testing.assert_array_equal(cd, [[3.0, 1.5]])


def test_restrict_equals_estimator_on_the_sub_range():
    rnn = rm.RNN.random(4, inputs=2, cell="euler", dt=0.2, bias=0.3, rng=9)
    full = rm.memory_function(rnn, 60, rng=2)
    sub = full.restrict(max_amplitude=0.1)
    direct = rm.memory_function(rnn, 60, rng=2, amplitudes=mem.DEFAULT_AMPLITUDES[mem.DEFAULT_AMPLITUDES <= 0.1])
    np.testing.assert_allclose(sub.values, direct.values, rtol=1e-12)
    assert np.abs(sub.argmax_x).max() <= 0.1 + 1e-15
    assert (full.values >= sub.values).all()
    with pytest.raises(ValueError, match="no candidate"):
        full.restrict(min_amplitude=1e3)
    with pytest.raises(ValueError, match="closed form"):
        mem.exact_memory(rnn.replace(activation="linear"), 10).restrict(max_amplitude=1.0)


def test_memory_function_horizon_is_causal():
    """(c) for the estimator itself: the memory on a shorter horizon is the prefix of a longer one."""
    rnn = rm.RNN.random(5, inputs=2, cell="euler", dt=0.2, bias=0.3, rng=8)
    for kind in ("heaviside", "impulse"):
        a = rm.memory_function(rnn, 30, kind=kind, rng=1)
        b = rm.memory_function(rnn, 80, kind=kind, rng=1)
        np.testing.assert_allclose(a.values, b.values[:30], rtol=1e-13, atol=1e-300)


# ----------------------------------------------------------------------------------------------- linear RNNs
@settings(max_examples=30, deadline=None)
@given(rnn=rnns(hidden=st.integers(1, 5), inputs=st.integers(1, 3), outputs=st.integers(1, 2),
                activations=("linear",), weight_bound=1.0),
       T=st.integers(1, 40))
def test_linear_rnn_estimator_equals_exact_markov(rnn, T):
    # make the transition matrix (elman W, euler I + ΔtW) stable: spectral radius <= 0.99
    m = rnn.hidden
    A = rnn.W if rnn.cell == "elman" else np.eye(m) + rnn.dt * rnn.W
    rad = np.abs(np.linalg.eigvals(A)).max()
    if rad > 0.99:
        A = A * (0.99 / rad)
        rnn = rnn.replace(W=A if rnn.cell == "elman" else (A - np.eye(m)) / rnn.dt)
    ex = mem.exact_memory(rnn, T)
    assert ex.method == "markov"
    ref = nm.markov_memory(rnn.W, rnn.U, rnn.C, rnn.D, T, rnn.cell, rnn.dt)
    exb = exact_markov_memory_bound(rnn, T)
    naive.assert_within(ex.values, ref, exb, "exact memory")
    for kind in KINDS:
        mf = rm.memory_function(rnn, T, kind=kind, rng=0)
        naive.assert_within(mf.values, ex.values, exb + estimator_bound(rnn, T, mf.candidates, kind), kind, factor=1)


def test_estimator_check_catches_a_relative_error_of_1e_5():
    """Mutation test of the bounds above: the estimated memory of a linear RNN scaled by 1.00001 fails. (Without a
    bias: the bias response's rounding, divided by the smallest amplitude 1e-3, would dominate the bound of the
    reversed kind, whose every lag is read at the last step.)"""
    rnn = rm.RNN.random(4, inputs=2, outputs=2, cell="euler", activation="linear", dt=0.3, rng=5)
    exb = exact_markov_memory_bound(rnn, 30)
    ex = mem.exact_memory(rnn, 30)
    for kind in KINDS:
        mf = rm.memory_function(rnn, 30, kind=kind, rng=0)
        bound = exb + estimator_bound(rnn, 30, mf.candidates, kind)
        naive.assert_within(mf.values, ex.values, bound, kind, factor=1)
        with pytest.raises(AssertionError):
            naive.assert_within(mf.values * 1.00001, ex.values, bound, kind, factor=1)


def test_linear_exact_argmax_attains_the_sup():
    rnn = rm.RNN.random(4, inputs=3, outputs=2, cell="elman", activation="linear", sigma2=0.64, rng=3)
    ex = mem.exact_memory(rnn, 15)
    L = rnn.markov(15)
    attained = np.abs(np.einsum("kpd,kd->kp", L, ex.argmax_x)).max(axis=1) / rnn.dt
    np.testing.assert_allclose(attained, ex.values, rtol=1e-14)


def test_continuous_kernel_eig_expm_and_naive_agree():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((5, 5)) / np.sqrt(5) - 1.2 * np.eye(5)
    U, C = rng.standard_normal((5, 2)), rng.standard_normal((3, 5))
    t = np.linspace(0.0, 8.0, 33)
    Ke = mem.continuous_kernel(W, U, C, t, method="eig")
    Kx = mem.continuous_kernel(W, U, C, t, method="expm")
    assert close(Ke, Kx, 1e-11)
    rnn = rm.RNN(W, U, np.zeros(5), C, cell="euler", activation="linear", dt=0.25)
    ex = mem.exact_memory(rnn, 33, continuous=True)
    assert ex.method == "expm"
    assert close(ex.values, nm.continuous_linear_memory(W, U, C, t), 1e-12)


def test_continuous_kernel_defective_and_nonnormal_fallback():
    # Jordan block: e^{Wt} = e^{-t} [[1, t], [0, 1]]; eigenvectors are parallel (cond(V) = inf)
    W = np.array([[-1.0, 1.0], [0.0, -1.0]])
    U = np.array([[0.0], [1.0]])
    C = np.array([[1.0, 0.0]])
    t = np.linspace(0.0, 20.0, 81)
    K = mem.continuous_kernel(W, U, C, t)
    np.testing.assert_allclose(K[:, 0, 0], t * np.exp(-t), rtol=1e-12, atol=1e-300)
    # strongly non-normal, nearly defective: auto falls back to expm and stays accurate
    Wn = np.array([[-1.0, 1e4], [0.0, -1.0 - 1e-9]])
    Kn = mem.continuous_kernel(Wn, np.eye(2), np.eye(2), t[:10])
    ref = np.stack([np.eye(2) @ __import__("scipy").linalg.expm(Wn * tk) for tk in t[:10]])
    assert np.abs(Kn - ref).max() <= 1e-9 * np.abs(ref).max()


def test_euler_memory_converges_to_continuous_at_rate_dt():
    """Linear euler memory |C (I+ΔtW)^k U| → |C e^{W t} U| with error O(Δt) at fixed t = kΔt."""
    rng = np.random.default_rng(1)
    W = rng.standard_normal((4, 4)) / 2 - 1.0 * np.eye(4)
    U, C = rng.standard_normal((4, 1)), rng.standard_normal((1, 4))
    t_end = 4.0
    errs = []
    dts = [0.04, 0.02, 0.01, 0.005]
    for dt in dts:
        T = int(round(t_end / dt)) + 1
        rnn = rm.RNN(W, U, np.zeros(4), C, cell="euler", activation="linear", dt=dt)
        est = rm.memory_function(rnn, T, rng=0)
        cont = mem.exact_memory(rnn, T, continuous=True)
        errs.append(np.abs(est.values[1:] - cont.values[1:]).max())
    slopes = np.diff(np.log(errs)) / np.diff(np.log(dts))
    assert np.all(np.abs(slopes - 1.0) < 0.1), slopes
    assert errs[-1] < 0.01


# ----------------------------------------------------------------------------------------------- v-dynamics
@pytest.mark.parametrize("cell", ["euler", "elman"])
@pytest.mark.parametrize("activation", ["tanh", "hardtanh", "relu", "linear"])
@pytest.mark.parametrize("bias", [0.0, 0.4])
def test_v_dynamics_equal_estimator(cell, activation, bias):
    rnn = rm.RNN.random(5, inputs=2, outputs=2, cell=cell, activation=activation, dt=0.2, bias=bias,
                        feedthrough=True, sigma2=0.64, rng=11)
    mf = rm.memory_function(rnn, 150, rng=3)
    ex = mem.exact_memory(rnn, 150, rng=3, random_directions=8)
    assert ex.method == "v-dynamics"
    np.testing.assert_array_equal(ex.candidates, mf.candidates)
    scale = mf.per_input.max(axis=1, keepdims=True)
    assert (np.abs(mf.per_input - ex.per_input) <= 1e-9 * scale).all()


def test_v_dynamics_relative_accuracy_below_the_noise_floor():
    """The kernel propagates velocity differences without cancellation: far below the ≈1e-16 |y| noise floor of
    finite differences it still shows the exact asymptotic ratio. Scalar tanh euler, W = -1: z_{k+1} = z_k −
    Δt tanh z_k, so M_{k+1}/M_k → 1 − Δt."""
    dt = 0.5
    rnn = rm.RNN([[-1.0]], [[1.0]], [0.0], [[1.0]], cell="euler", activation="tanh", dt=dt)
    ex = mem.exact_memory(rnn, 400, x=[[1.0]])
    v = ex.values
    assert 1e-120 < v[-1] < 1e-100
    np.testing.assert_allclose(v[300:] / v[299:-1], 1 - dt, rtol=1e-12)
    est = rm.memory_function(rnn, 400, amplitudes=[1.0])
    assert est.values[-1] < 1e-15  # the estimator only sees rounding noise (or 0) there


@pytest.mark.parametrize("activation", ["tanh", "hardtanh", "relu", "linear"])
def test_continuous_v_dynamics_match_ode_solver(activation):
    rnn = rm.RNN.random(3, inputs=2, outputs=1, cell="euler", activation=activation, dt=0.1, bias=0.3,
                        sigma2=0.64, rng=5)
    xs = np.array([[0.5, -1.0], [3.0, 2.0]])
    ex = mem.exact_memory(rnn, 61, continuous=True, x=xs, substeps=16)
    tol = 1e-9 if activation in ("tanh", "linear") else 1e-5  # kinks lower RK4's order
    for i, x in enumerate(xs):
        ref = nm.continuous_v_memory(rnn.W, rnn.U, rnn.b, rnn.C, x, ex.t, activation) / np.abs(x).max()
        assert np.abs(ex.per_input[i] - ref).max() <= tol * ref.max(), activation


def test_continuous_v_dynamics_linear_equals_closed_form():
    rnn = rm.RNN.random(4, inputs=1, cell="euler", activation="linear", dt=0.25, rng=2)
    per_x = mem.exact_memory(rnn, 41, continuous=True, x=[[1.0]], substeps=32)
    closed = mem.exact_memory(rnn, 41, continuous=True)
    assert close(per_x.values, closed.values, 1e-9)  # RK4, h = 0.25/32: error ~ h⁴


def test_euler_estimator_converges_to_continuous_nonlinear():
    """tanh: the euler cell's estimated memory → the continuous-time v-dynamics, error O(Δt)."""
    rng = np.random.default_rng(4)
    W = rng.standard_normal((3, 3)) / 2 - np.eye(3)
    U, C, b = rng.standard_normal((3, 1)), rng.standard_normal((1, 3)), 0.2 * rng.standard_normal(3)
    amps = [0.3, 3.0]
    errs = []
    for dt in (0.02, 0.01, 0.005):
        T = int(round(3.0 / dt)) + 1
        rnn = rm.RNN(W, U, b, C, cell="euler", activation="tanh", dt=dt)
        est = rm.memory_function(rnn, T, amplitudes=amps)
        cont = mem.exact_memory(rnn, T, continuous=True, amplitudes=amps)
        errs.append(np.abs(est.values - cont.values).max())
    ratios = np.array(errs[:-1]) / np.array(errs[1:])
    assert np.all(np.abs(ratios - 2.0) < 0.2), ratios


# ----------------------------------------------------------------------------------------------- (a) decaying
@settings(max_examples=8, deadline=None)
@given(rnn=stable_rnns(hidden=st.integers(1, 4), inputs=st.integers(1, 2), outputs=st.integers(1, 2),
                       margin=0.5))
def test_a_stable_euler_and_continuous_rnns_have_decaying_memory(rnn):
    """(a) Lyapunov-diagonally-stable W (W + Wᵀ ≺ −2·margin·I, hence Hurwitz): sup over the default candidates
    (|x| up to 100) of the continuous-time memory decays to < 1e-6 · max on a long horizon.

    Horizon: V(z) = Σ log cosh z_i obeys dV/dt = σ(z)ᵀWσ(z) <= −margin |σ(z)|², so the saturated phase that a
    large input starts in (V(0) <= |z(0)|₁ <= 100 Σ|U| + |b|₁) ends by t ≈ 2 V(0)/margin; after it the
    linearisation (log-norm <= −margin) takes over: 40/margin more time units give e^{−40}."""
    margin = 0.5
    t_end = 2 * (100 * np.abs(rnn.U).sum() + np.abs(rnn.b).sum()) / margin + 40 / margin
    dt = 2.0
    substeps = int(np.ceil(dt * np.linalg.norm(rnn.W, 2) / 0.5))
    ex = mem.exact_memory(rnn, int(t_end / dt) + 2, continuous=True, dt=dt, substeps=substeps, rng=0)
    v = ex.values
    assert v[-1] <= 1e-6 * v.max(), (v.max(), v[-1])
    assert v[-5:].max() <= 1e-6 * v.max()  # and it stays down (complex modes may oscillate)
    # the euler cell itself (dt <= margin/‖W‖₂² from the strategy): V(z_{k+1}) − V(z_k) <= −dt (margin −
    # dt‖W‖²/2)|σ|² <= −dt (margin/2)|σ|², so the same argument holds with margin/2
    vd = mem.exact_memory(rnn, int(2 * t_end / rnn.dt) + 2, rng=0).values
    assert vd[-5:].max() <= 1e-6 * vd.max(), (vd.max(), vd[-1])


@settings(max_examples=10, deadline=None)
@given(rnn=rnns(hidden=st.integers(1, 5), inputs=st.integers(1, 2), outputs=st.integers(1, 2),
                cells=("elman",), activations=("tanh", "hardtanh"), feedthrough=False))
def test_a_contractive_elman_rnns_have_decaying_memory(rnn):
    """(a), elman cell: ‖W‖₂ <= 0.9 (σ 1-Lipschitz ⇒ |Δ_{k+1}| <= 0.9 |Δ_k|) — geometric decay of M."""
    rnn = rnn.replace(W=rnn.W * (0.9 / max(np.linalg.norm(rnn.W, 2), 0.9)))
    mf = rm.memory_function(rnn, 200, rng=0)
    # the estimator's rounding floor (its running bound; ≈ ε |y| / (Δt · the smallest amplitude 1e-3))
    noise = estimator_bound(rnn, 200, mf.candidates, "heaviside")[-1]
    assert mf.values[-1] <= 1e-6 * mf.values.max() + noise
    # with b = 0 (Δ⁰ = 0): |Δ_k|₂ <= 0.9^k |Δ_0|₂ <= 0.9^k ‖U‖₂ √d |x|_∞, so M(t_k) <= max_i|C_i|₂ ‖U‖₂ √d 0.9^k
    r0 = rnn.replace(b=np.zeros(rnn.hidden))
    ex = mem.exact_memory(r0, 200, rng=0)
    c = max(_norm2(row) for row in rnn.C) * _norm2(rnn.U) * np.sqrt(rnn.inputs)
    # the v-dynamics propagate the difference without cancellation: a relative γ_{m+4} per step, carried by a
    # contraction, so at most (k + 1)·γ_{m+4} relative after k steps
    k = np.arange(200)
    bound = c * 0.9**k / rnn.dt
    assert (ex.values <= bound + naive.rounding((k + 1) * (rnn.hidden + 4), bound)).all()


def test_hurwitz_alone_does_not_give_decaying_memory():
    """Finding: W = [[1, 1], [−4, −3]] is Hurwitz (eigenvalue −1, twice) yet a tanh RNN driven by a large
    constant input saturates into v → (1, −1) (docs/math.md §7, [P1 Fig. 11]): its memory does not decay."""
    W = np.array([[1.0, 1.0], [-4.0, -3.0]])
    assert np.linalg.eigvals(W).real.max() < 0
    rnn = rm.RNN(W, np.eye(2), np.zeros(2), np.eye(2), cell="euler", activation="tanh", dt=0.05)
    ex = mem.exact_memory(rnn, 601, continuous=True, x=[[5.0, 5.0], [0.1, 0.1]])
    assert ex.per_input[0, -1] > 0.19  # = |v|_∞/|x|_∞ → 1/5 at t = 30
    assert ex.per_input[1, -1] < 1e-5  # small inputs stay in the linear, decaying regime


def test_unbounded_amplitudes_give_one_over_t_memory():
    """Finding: with the sup over all x (Def. 3.1), a saturating continuous-time RNN has M(t) ≳ c/t: the input
    of size ≈ t keeps tanh saturated (|v| ≈ 1) until time ≈ t. Scalar W = −1: sinh z(t) = sinh(x) e^{−t}."""
    rnn = rm.RNN([[-1.0]], [[1.0]], [0.0], [[1.0]], cell="euler", activation="tanh", dt=0.5)
    ex = mem.exact_memory(rnn, 2001, continuous=True, amplitudes=np.logspace(-3, 4, 57), substeps=4)
    tk = ex.t[[20, 200, 2000]]
    tM = tk * ex.values[[20, 200, 2000]]
    assert np.all((tM > 0.5) & (tM < 1.0)), tM
    # closed form check of the same curve at one amplitude: v = tanh(asinh(sinh(x) e^{−t}))
    one = mem.exact_memory(rnn, 41, continuous=True, x=[[3.0]], substeps=32)
    ref = np.tanh(np.arcsinh(np.sinh(3.0) * np.exp(-one.t))) / 3.0
    np.testing.assert_allclose(one.values, ref, rtol=1e-8)


# ----------------------------------------------------------------------------------------------- (b) bounds
@st.composite
def normal_systems(draw):
    """Normal W = Q blockdiag(a_i, [[a_j, b_j], [−b_j, a_j]]) Qᵀ with spectral abscissa exactly −β₀."""
    m = draw(st.integers(1, 6))
    beta0 = draw(st.floats(0.05, 1.5))
    seed = draw(st.integers(0, 2**31))
    d = draw(st.integers(1, 3))
    rng = np.random.default_rng(seed)
    B = np.zeros((m, m))
    i = 0
    while i < m:
        a = -beta0 - rng.exponential(1.0) if i > 0 else -beta0
        if i + 1 < m and rng.random() < 0.5:
            w = rng.uniform(0.1, 3.0)
            B[i:i + 2, i:i + 2] = [[a, w], [-w, a]]
            i += 2
        else:
            B[i, i] = a
            i += 1
    Q, _ = np.linalg.qr(rng.standard_normal((m, m)))
    W = Q @ B @ Q.T
    return W, rng.standard_normal((m, d)), rng.standard_normal((1, m)), beta0


@settings(max_examples=25, deadline=None)
@given(sys_=normal_systems())
def test_b_normal_w_memory_bounds(sys_):
    W, U, C, beta0 = sys_
    m, d = U.shape
    # Error model: the computed W = Q B Qᵀ is within ‖E‖ <= γ_2m ‖|Q||B||Q|ᵀ‖_F <= γ_2m m^{3/2} ‖W‖₂ of a normal
    # matrix with abscissa −β₀, so (Bauer–Fike, κ(V) = 1) its eigenvalues move by at most ‖E‖ (+ eigvals' own
    # backward error γ_10m ‖W‖); e^{Wt} then moves by a relative t‖E‖, and its evaluation (eig or expm of a normal
    # matrix) errs by a relative γ_{20m(2 + ‖W‖t)}; the discrete memories are within the Markov bound.
    nW = np.linalg.norm(W, 2)
    dW = naive.rounding(2 * m, m**1.5 * nW)
    assert abs(np.linalg.eigvals(W).real.max() + beta0) <= dW + naive.rounding(10 * m, nW)
    nCU = np.linalg.norm(C) * np.linalg.norm(U, 2) * (1 + naive.rounding(2 * m + 2, 1.0))
    rnn = rm.RNN(W, U, np.zeros(m), C, cell="euler", activation="linear", dt=0.05)
    cont = mem.exact_memory(rnn, 200, continuous=True)
    # |Uᵀ e^{Wᵀt} Cᵀ|₁ <= √d |C|₂ ‖U‖₂ e^{−β₀ t}  (√d = 1 for scalar input: the bound)
    bound = np.sqrt(d) * nCU * np.exp(-beta0 * cont.t)
    rel = cont.t * dW + naive.rounding(20 * m * (2 + nW * cont.t), 1.0)
    assert (cont.values <= bound * (1 + rel)).all()
    # discrete analogues: euler |C (I+ΔtW)^k U|₁ <= √d |C| ‖U‖ r^k, r = spectral radius of I + ΔtW (itself within
    # 0.05‖E‖ + γ_10m of the computed one)
    disc = mem.exact_memory(rnn, 200)
    A = np.eye(m) + 0.05 * W
    r = np.abs(np.linalg.eigvals(A)).max() + 0.05 * dW + naive.rounding(10 * m, np.linalg.norm(A, 2))
    assert (disc.values <= np.sqrt(d) * nCU * r ** np.arange(200) + exact_markov_memory_bound(rnn, 200)).all()
    el = rm.RNN(W / max(1.0, np.abs(np.linalg.eigvals(W)).max() * 1.05), U, np.zeros(m), C, activation="linear")
    rad = np.abs(np.linalg.eigvals(el.W)).max() + dW + naive.rounding(10 * m, np.linalg.norm(el.W, 2))
    em = mem.exact_memory(el, 100)
    assert (em.values <= np.sqrt(d) * nCU * rad ** np.arange(100) + exact_markov_memory_bound(el, 100)).all()


def test_b_literal_bound_fails_for_vector_input():
    """Finding: for d > 1 the memory |·|₁ can exceed |C|₂‖U‖₂ e^{−β₀t} by √d (W = −βI, U = I, C = 1ᵀ/√d)."""
    d, beta = 4, 0.5
    rnn = rm.RNN(-beta * np.eye(d), np.eye(d), np.zeros(d), np.ones((1, d)) / np.sqrt(d), cell="euler",
                 activation="linear", dt=0.1)
    cont = mem.exact_memory(rnn, 20, continuous=True)
    np.testing.assert_allclose(cont.values, np.sqrt(d) * np.exp(-beta * cont.t), rtol=1e-12)


# ----------------------------------------------------------------------------------------------- (c), (d) RNNs
@settings(max_examples=25, deadline=None)
@given(rnn=rnns(weight_bound=1.0), T=st.integers(2, 30), cut=st.integers(1, 29), lag=st.integers(0, 10),
       seed=st.integers(0, 2**31))
def test_c_d_rnns_are_causal_and_time_homogeneous_at_rest(rnn, T, cut, lag, seed):
    cut = min(cut, T - 1)
    x = tg.sample_inputs(2, T, d=rnn.inputs, rng=seed)
    y = rnn(x, check_finite=False)
    if not np.isfinite(y).all():
        return
    # (c) causality: extending the input does not change earlier outputs -- not bitwise (the readout GEMM's shape
    # differs), but both within the running bound of tests/naive.py of the exact outputs
    args = (rnn.W, rnn.U, rnn.b, rnn.C, rnn.D)
    Ey = naive.forward_bound(*args, x, rnn.cell, rnn.activation, rnn.dt)["y"]
    naive.assert_within(rnn(x[:, :cut]), y[:, :cut], Ey[:, :cut], "causality")
    # (d) time-homogeneity from rest (b = 0 makes h = 0 an equilibrium of every activation: the zero prefix leaves
    # the state exactly 0, so the exact outputs after it are y0's)
    r0 = rnn.replace(b=np.zeros(rnn.hidden))
    y0 = r0(x, check_finite=False)
    if not np.isfinite(y0).all():
        return
    xs = np.concatenate([np.zeros((2, lag, rnn.inputs)), x], axis=1)
    Ey0 = naive.forward_bound(rnn.W, rnn.U, np.zeros(rnn.hidden), rnn.C, rnn.D, x, rnn.cell, rnn.activation,
                              rnn.dt)["y"]
    naive.assert_within(r0(xs)[:, lag:], y0, Ey0, "time-homogeneity")


# ----------------------------------------------------------------------------------------------- (e) fit
@settings(max_examples=25, deadline=None)
@given(rate=st.floats(0.01, 1.0), dt=st.sampled_from([0.1, 0.5, 1.0]), base=st.booleans())
def test_e_fit_decay_identifies_exponential_targets(rate, dt, base):
    f = tg.exponential(base=float(np.exp(-rate))) if base else tg.exponential(rate=rate)
    T = int(min(2000, 40.0 / (rate * dt))) + 10
    mf = rm.memory_function(f, T, dt=dt, kind="impulse")
    fit = rm.fit_decay(mf.t, mf.values)
    assert fit.kind == "exponential"
    assert abs(fit.rate / rate - 1) < 0.05
    assert fit.r2_exponential > fit.r2_polynomial


@settings(max_examples=25, deadline=None)
@given(p=st.floats(0.3, 3.0), alpha=st.floats(0.1, 10.0), kind=st.sampled_from(KINDS))
def test_e_fit_decay_identifies_polynomial_targets(p, alpha, kind):
    f = tg.polynomial(p, scale=alpha)
    T = 1000 if kind != "reversed" else 300
    mf = rm.memory_function(f, T, dt=2.0, kind=kind)
    fit = rm.fit_decay(mf.t, mf.values)
    assert fit.kind == "polynomial"
    assert abs(fit.exponent / p - 1) < 0.05, (fit.exponent, p)
    exact = rm.fit_decay(mf.t, mf.values, scale=alpha)  # s = α recovers p to rounding
    assert abs(exact.exponent / p - 1) < 1e-4  # rounding noise of M ~ 1e-10 values at the tail


def test_fit_decay_matches_polyfit_and_handles_zeros():
    t = np.arange(200.0)
    M = 3.0 * np.exp(-0.07 * t) * (1 + 0.01 * np.sin(t))
    fit = rm.fit_decay(t, M, window=(50.0, 150.0))
    sel = (t >= 50) & (t <= 150)
    rate, expo = nm.polyfit_decay(t[sel], M[sel])
    assert abs(fit.rate - rate) < 1e-12 and abs(fit.exponent - expo) < 1e-10
    assert fit.window == (50.0, 150.0) and fit.n_points == 101
    # underflow / exact zeros / NaN / noise floor: dropped before the window is chosen
    M2 = np.exp(-0.5 * t)
    M2[120:] = 0.0
    M2[60:120] = 1e-30  # below the 1e-10 relative floor
    M2[5] = np.nan
    fit2 = rm.fit_decay(t, M2)
    assert fit2.kind == "exponential" and abs(fit2.rate - 0.5) < 1e-10
    assert fit2.window[1] <= 46.0
    np.testing.assert_allclose(fit2.exponential(t[:40]), np.exp(-0.5 * t[:40]), rtol=1e-9)
    q = fit2.quality()
    assert set(q) == {"r2_exponential", "r2_polynomial", "rss_exponential", "rss_polynomial"}


def test_fit_decay_margin_turns_near_ties_exponential():
    t = np.arange(0.0, 40.0, 0.5)
    # two exponential modes whose crossover lies in the window: convex on a semilog plot, so the power fit wins
    # narrowly (RSS_exp / RSS_pol = 3.76)
    M = np.exp(-t) + 1e-3 * np.exp(-0.5 * t)
    plain = rm.fit_decay(t, M, window=(5.0, 30.0))
    ratio = plain.rss_exponential / plain.rss_polynomial
    assert plain.kind == "polynomial" and 3.7 < ratio < 3.8
    lenient = rm.fit_decay(t, M, window=(5.0, 30.0), margin=10.0)
    assert lenient.kind == "exponential"
    assert rm.fit_decay(t, M, window=(5.0, 30.0), margin=3.7).kind == "polynomial"
    # the fits themselves do not depend on the margin
    assert lenient.rate == plain.rate and lenient.rss_polynomial == plain.rss_polynomial
    # an exact power law stays polynomial for any sensible margin (its power fit is exact to rounding)
    assert rm.fit_decay(t, (1 + t) ** -10.0, window=(1.0, 8.0), margin=1e6).kind == "polynomial"


def test_fit_decay_errors():
    t = np.arange(10.0)
    with pytest.raises(ValueError, match="at least 4 positive finite values"):
        rm.fit_decay(t, np.zeros(10))
    with pytest.raises(ValueError, match="same shape"):
        rm.fit_decay(t, np.ones(9))
    with pytest.raises(ValueError, match="tail must be"):
        rm.fit_decay(t, np.ones(10), tail=0.0)
    with pytest.raises(ValueError, match="window must be"):
        rm.fit_decay(t, np.ones(10), window=(5.0, 1.0))
    with pytest.raises(ValueError, match="t must be >= 0"):
        rm.fit_decay(t - 5, np.ones(10))
    with pytest.raises(ValueError, match="margin must be >= 1"):
        rm.fit_decay(t, np.exp(-t), margin=0.5)


# ----------------------------------------------------------------------------------------------- identity map
def test_identity_map_has_no_memory_but_polynomially_decaying_output():
    """docs/math.md §3: y_t = x_t fed x_t = 1/t decays like t^{-1}, yet its Heaviside memory is 0 for t > 0."""

    def identity(x):
        return x.copy()

    T = 500
    mf = rm.memory_function(identity, T)
    assert mf.values[0] == 1.0  # the Dirac at t = 0 (y_0 − y_{−1} = x)
    assert np.all(mf.values[1:] == 0.0)
    for kind in ("impulse", "reversed"):
        m2 = rm.memory_function(identity, T, kind=kind)
        assert m2.values[0] == 1.0 and np.all(m2.values[1:] == 0.0)
    t = np.arange(1.0, T + 1.0)
    y = identity((1.0 / t)[None, :, None])[0, :, 0]
    fit = rm.fit_decay(t, y)
    assert fit.kind == "polynomial" and abs(fit.exponent - 1.0) < 0.01


# ----------------------------------------------------------------------------------------------- errors/misc
def test_bad_arguments():
    rnn = rm.RNN.random(3, rng=0)
    with pytest.raises(ValueError, match="unknown kind"):
        rm.memory_function(rnn, 10, kind="step")
    with pytest.raises(ValueError, match="unknown normalize"):
        rm.memory_function(rnn, 10, normalize="max")
    with pytest.raises(ValueError, match="T must be"):
        rm.memory_function(rnn, 0)
    with pytest.raises(TypeError, match="T must be an integer"):
        rm.memory_function(rnn, 10.5)
    with pytest.raises(ValueError, match="amplitudes must be > 0"):
        rm.memory_function(rnn, 10, amplitudes=[1.0, -1.0])
    with pytest.raises(ValueError, match="directions row 0 is zero"):
        rm.memory_function(rnn, 10, directions=[[0.0]])
    with pytest.raises(ValueError, match=r"directions has shape \(1, 2\)"):
        rm.memory_function(rnn, 10, directions=[[1.0, 1.0]])
    with pytest.raises(TypeError, match="callable"):
        rm.memory_function(np.zeros(3), 10)
    with pytest.raises(ValueError, match="to outputs \\(B, T, p\\)"):
        rm.memory_function(lambda x: x[..., 0], 10)
    with pytest.raises(rm.NonFiniteError, match="non-finite"):
        rm.memory_function(lambda x: np.where(x > 50.0, np.inf, x), 10)
    with pytest.raises(ValueError, match="dt must be"):
        rm.memory_function(rnn, 10, dt=-1.0)
    with pytest.raises(TypeError, match="exact_memory needs an rnnmem.RNN"):
        mem.exact_memory(lambda x: x, 10)
    with pytest.raises(ValueError, match="no continuous limit"):
        mem.exact_memory(rnn, 10, continuous=True)
    with pytest.raises(ValueError, match="differs from the model's dt"):
        mem.exact_memory(rnn, 10, dt=0.5)
    with pytest.raises(ValueError, match="zero row"):
        mem.exact_memory(rnn, 10, x=[[0.0]])
    with pytest.raises(ValueError, match="unknown method"):
        mem.continuous_kernel(np.eye(2), np.ones((2, 1)), np.ones((1, 2)), [0.0], method="pade")


def test_d_keyword_dt_default_and_proof_normalization():
    f = tg.exponential(rate=0.2, direction=[1.0, -1.0])
    seen = []

    def model(x):
        seen.append(x.shape)
        return f(x)

    mf = rm.memory_function(model, 20, d=2, rng=0)
    assert seen[0][2] == 2 and mf.dt == 1.0
    np.testing.assert_allclose(mf.values, f.memory(mf.t), rtol=1e-10)
    pr = rm.memory_function(model, 20, d=2, normalize="proof", rng=0)
    # linear: each candidate's quotient scales by |x|/(|x|+1); the sup is at the largest amplitude
    np.testing.assert_allclose(pr.values, f.memory(pr.t) * 100 / 101, rtol=1e-10)
    rnn = rm.RNN.random(2, cell="euler", dt=0.3, rng=0)
    assert rm.memory_function(rnn, 5).dt == 0.3


def test_repr_fit_and_plot():
    import matplotlib

    matplotlib.use("Agg")
    from rnnmem.plot import plot_memory

    f = tg.polynomial(1.5)
    mf = rm.memory_function(f, 100)
    assert "MemoryFunction(T=100" in repr(mf) and len(mf) == 100
    assert mf.fit().kind == "polynomial"
    ax = plot_memory([mf, rm.memory_function(tg.exponential(0.1), 100)], labels=["pol", "exp"], fits=True,
                     exact=[f.memory, None])
    assert ax.get_yscale() == "log" and len(ax.lines) == 5
    with pytest.raises(TypeError, match="MemoryFunction"):
        plot_memory([1, 2])


def test_docs_example_runs_and_prints_what_the_page_says(capsys):
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "memory.md").read_text()
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    shown = text.split("Output (", 1)[1].split("```\n", 1)[1].split("```", 1)[0].strip().splitlines()
    exec(compile(code, "docs/memory.md", "exec"), {})
    got = capsys.readouterr().out.strip().splitlines()
    assert len(got) == len(shown) == 4
    assert float(got[0]) < 1e-13 and float(shown[0]) < 1e-13
    assert got[1] == shown[1]
    assert float(got[2]) < 1e-12 and float(shown[2]) < 1e-12
    assert got[3] == shown[3]


def test_kernel_velocity_difference_is_cancellation_free():
    """dsig(a, δ) = σ(a + δ) − σ(a): equals d·σ'(a) to relative 1e-12 for δ = 1e-20 (where the naive difference
    is 0), and the plain difference where there is no cancellation."""
    from rnnmem import _kernels_memory as KM
    from rnnmem._kernels import ACTIVATIONS

    tanh = ACTIVATIONS["tanh"]
    for a in (-30.0, -3.0, 0.0, 0.5, 20.0, 300.0):
        sech2 = 4.0 * np.exp(-2 * abs(a)) / (1 + np.exp(-2 * abs(a))) ** 2
        for d in (1e-20, -1e-20):
            assert abs(KM.dsig(a, d, tanh) / (d * sech2) - 1) < 1e-12, a
        assert np.tanh(a + 1e-20) - np.tanh(a) == 0.0 or a == 0.0  # what finite differences would see
    for a, d in ((0.0, 0.5), (-0.2, 0.9), (1.0, -3.0), (-2.0, 5.0)):
        assert abs(KM.dsig(a, d, tanh) - (np.tanh(a + d) - np.tanh(a))) < 1e-15
    cases = {  # (a, δ) -> exact σ(a+δ) − σ(a)
        "relu": {(0.3, 0.2): 0.2, (-0.5, 0.2): 0.0, (-0.5, 2.0): 1.5, (2.0, -4.0): -2.0, (0.1, 1e-20): 1e-20},
        "hardtanh": {(0.3, 0.2): 0.2, (0.9, 0.5): 0.1, (-0.5, 2.0): 1.5, (2.0, -4.0): -2.0, (0.1, 1e-20): 1e-20,
                     (1.5, 0.2): 0.0},
        "linear": {(0.3, 0.2): 0.2, (2.0, -4.0): -4.0, (0.1, 1e-20): 1e-20},
    }
    for name, table in cases.items():
        for (a, d), want in table.items():
            assert KM.dsig(a, d, ACTIVATIONS[name]) == pytest.approx(want, rel=1e-15, abs=0), (name, a, d)
