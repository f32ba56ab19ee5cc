"""Interoperability: ``RNN.statespace``, ``RNN.to_scipy``, ``RNN.from_scipy`` against scipy.signal and
python-control (impulse and forced responses, H2 norm, controllability Gramian), both cells, with and without D,
several numbers of outputs p and inputs d.

Tolerances: the state-space and Markov computations are the same products in a different order, so they agree to
a few ulps of the largest term; the bound used is 64·ε·(n + m)·max_k ‖C‖‖A‖^k‖B‖ per entry — a norm-wise error
model of n-step products — never a fixed rtol with an absolute floor.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

import rnnmem as rm

control = pytest.importorskip("control")

EPS = np.finfo(float).eps
CASES = [(cell, p, d, feedthrough) for cell in ("elman", "euler") for (p, d) in ((1, 1), (2, 3), (3, 2))
         for feedthrough in (False, True)]
IDS = [f"{c}-p{p}-d{d}-{'D' if f else 'noD'}" for c, p, d, f in CASES]


def _model(cell, p, d, feedthrough, m=5, seed=0):
    return rm.RNN.random(m, d, p, cell=cell, activation="linear", dt=0.3 if cell == "euler" else 0.7,
                         sigma2=0.49, feedthrough=feedthrough, rng=seed)


def _bound(rnn, n):
    """Norm-wise error bound of n-step products: 64 ε (n + m) max_k ‖C_ss‖ ‖A‖^k ‖B_ss‖ + ‖D_ss‖ (2-norms)."""
    A, B, C, D = rnn.statespace(bias_input=bool(np.any(rnn.b)))
    nA = np.linalg.norm(A, 2)
    scale = np.linalg.norm(C, 2) * np.linalg.norm(B, 2) * max(1.0, nA) ** n + np.linalg.norm(D, 2)
    return 64 * EPS * (n + rnn.hidden) * scale


@pytest.mark.parametrize("cell,p,d,feedthrough", CASES, ids=IDS)
def test_dimpulse_of_to_scipy_equals_markov(cell, p, d, feedthrough):
    rnn = _model(cell, p, d, feedthrough)
    n = 40
    sys = rnn.to_scipy()
    assert isinstance(sys, scipy.signal.dlti) and sys.dt == rnn.dt
    t, ys = scipy.signal.dimpulse(sys, n=n)
    L = rnn.markov(n)
    assert len(ys) == d
    np.testing.assert_array_equal(t, rnn.dt * np.arange(n))
    for j in range(d):
        assert np.abs(ys[j] - L[:, :, j]).max() <= _bound(rnn, n)
    # a wrong realisation is caught: the raw blocks (W, U, C, D) are not the control-convention system
    if cell == "elman":
        raw = scipy.signal.dlti(rnn.W, rnn.U, rnn.C, np.zeros((p, d)) if rnn.D is None else rnn.D, dt=rnn.dt)
        _, yr = scipy.signal.dimpulse(raw, n=n)
        assert np.abs(yr[0] - L[:, :, 0]).max() > 1e3 * _bound(rnn, n)


@pytest.mark.parametrize("cell,p,d,feedthrough", CASES, ids=IDS)
def test_python_control_impulse_and_forced_responses(cell, p, d, feedthrough):
    rnn = _model(cell, p, d, feedthrough, seed=1)
    n = 30
    sys = control.ss(*rnn.statespace(), rnn.dt)
    T = rnn.dt * np.arange(n)
    L = rnn.markov(n)
    # impulse_response: python-control's discrete impulse has unit area, u_0 = 1/Δt: it returns L_k / Δt
    imp = control.impulse_response(sys, T=T)
    for j in range(d):
        out = np.asarray(imp.outputs)[:, j, :] if d > 1 or p > 1 else np.asarray(imp.outputs)[None, :]
        assert np.abs(out.reshape(p, n).T * rnn.dt - L[:, :, j]).max() <= _bound(rnn, n)
    # forced_response to a random input equals rnn(x) (b = 0)
    x = np.random.default_rng(2).normal(size=(n, d))
    resp = control.forced_response(sys, T=T, U=x.T)
    y = np.asarray(resp.outputs).reshape(p, n).T
    assert np.abs(y - rnn(x)).max() <= _bound(rnn, n) * np.abs(x).sum(axis=0).max()


@pytest.mark.parametrize("cell", ["elman", "euler"])
def test_dlsim_equals_the_recurrence_and_bias_input(cell):
    rnn = _model(cell, 2, 2, True).replace(b=np.linspace(-0.5, 0.5, 5))
    x = np.random.default_rng(3).normal(size=(25, 2))
    with pytest.raises(ValueError, match="bias b ≠ 0.*bias_input=True"):
        rnn.statespace()
    u = np.concatenate([x, np.ones((25, 1))], axis=1)  # the bias as an input channel equal to 1
    _, y, _ = scipy.signal.dlsim(rnn.to_scipy(bias_input=True), u)
    assert np.abs(y - rnn(x)).max() <= _bound(rnn, 25) * np.abs(u).sum(axis=0).max()


@pytest.mark.parametrize("cell", ["elman", "euler"])
def test_h2_norm_and_controllability_gramian_against_python_control(cell):
    rnn = _model(cell, 2, 3, True, seed=4)
    A, B, C, D = rnn.statespace()
    sys = control.ss(A, B, C, D, rnn.dt)
    h2_control = control.norm(sys, 2)  # discrete H2 norm: (Σ_k ‖impulse_k‖²_F)^{1/2}, D included
    L = rnn.markov(4000)  # ρ(A) < 1: the tail is below rounding
    h2_markov = np.sqrt((L**2).sum())
    assert abs(h2_control - h2_markov) <= 1e-12 * h2_markov
    W, U, Cr, Dr = rnn.W, rnn.U, rnn.C, rnn.D
    assert abs(rm.linear.h2_norm(W, U, Cr, Dr, cell, rnn.dt) - h2_control) <= 1e-12 * h2_control
    P_control = control.dlyap(A, B @ B.T)
    P, Q = rm.linear.gramians(W, U, Cr, cell, rnn.dt)
    assert np.abs(P - P_control).max() <= 1e-12 * np.abs(P).max()
    # observability: the control-convention C = C_rnn A reads one step later, so Q_ss = Q − C_rnnᵀ C_rnn
    Q_control = control.dlyap(A.T, C.T @ C)
    assert np.abs(Q - Cr.T @ Cr - Q_control).max() <= 1e-12 * np.abs(Q).max()


@pytest.mark.parametrize("realization", ["auto", "invert", "augment"])
@pytest.mark.parametrize("cell,p,d,feedthrough", CASES[::3], ids=IDS[::3])
def test_from_scipy_round_trip_has_the_same_impulse_response(cell, p, d, feedthrough, realization):
    rnn = _model(cell, p, d, feedthrough, seed=5)
    back = rm.RNN.from_scipy(rnn.to_scipy(), cell=cell, realization=realization)
    assert back.cell == cell and back.dt == rnn.dt and back.activation == "linear"
    assert back.hidden == (rnn.hidden + d if realization == "augment" else rnn.hidden)
    n = 30
    cond = np.linalg.cond(rnn.statespace()[0])
    assert np.abs(back.markov(n) - rnn.markov(n)).max() <= _bound(rnn, n) * cond / (1 if cell == "elman" else
                                                                                     rnn.dt)


def test_from_scipy_transfer_function_zpk_control_and_tuple():
    tf = scipy.signal.dlti([1.0, 0.5], [1.0, -0.9, 0.2], dt=0.5)
    n = 25
    _, (ref,) = scipy.signal.dimpulse(tf, n=n)
    for system in (tf, tf.to_zpk(), tf.to_ss(), control.tf([1.0, 0.5], [1.0, -0.9, 0.2], 0.5),
                   control.ss(tf.to_ss().A, tf.to_ss().B, tf.to_ss().C, tf.to_ss().D, 0.5)):
        if isinstance(system, control.TransferFunction):
            with pytest.raises(TypeError, match=r"control.ss\(system\)"):
                rm.RNN.from_scipy(system)
            continue
        for cell in ("elman", "euler"):
            rnn = rm.RNN.from_scipy(system, cell=cell)
            assert rnn.dt == 0.5
            np.testing.assert_allclose(rnn.markov(n)[:, 0, 0], ref[:, 0], rtol=0, atol=1e-12)
    ss = tf.to_ss()
    rnn = rm.RNN.from_scipy((ss.A, ss.B, ss.C, ss.D), dt=0.5)
    np.testing.assert_allclose(rnn.markov(n)[:, 0, 0], ref[:, 0], rtol=0, atol=1e-12)


def test_from_scipy_singular_A_needs_extra_state():
    # a pure delay y_k = u_{k-2}: A nilpotent (singular), impulse response 0, 0, 1, 0, ...
    A = np.array([[0.0, 0.0], [1.0, 0.0]])
    B = np.array([[1.0], [0.0]])
    C = np.array([[0.0, 1.0]])
    D = np.zeros((1, 1))
    rnn = rm.RNN.from_scipy((A, B, C, D))
    assert rnn.hidden == 3  # n + d states: exact
    np.testing.assert_array_equal(rnn.markov(6)[:, 0, 0], [0, 0, 1, 0, 0, 0])
    with pytest.raises(ValueError, match="realization='invert' needs an invertible A"):
        rm.RNN.from_scipy((A, B, C, D), realization="invert")
    static = rm.RNN.from_scipy((np.zeros((0, 0)), np.zeros((0, 2)), np.zeros((1, 0)), np.array([[2.0, -1.0]])))
    assert static.hidden == 2  # a static gain: the d input states only
    np.testing.assert_array_equal(static.markov(3)[:, 0, :], [[2.0, -1.0], [0.0, 0.0], [0.0, 0.0]])


def test_interop_errors_name_the_argument():
    rnn = rm.RNN.random(3, rng=0)
    with pytest.raises(ValueError, match="statespace\\(\\) needs activation='linear'"):
        rnn.statespace()
    with pytest.raises(ValueError, match="continuous-time scipy.signal.lti; discretise it first"):
        rm.RNN.from_scipy(scipy.signal.lti([1.0], [1.0, 1.0]))
    with pytest.raises(ValueError, match="continuous-time system \\(dt = 0\\)"):
        rm.RNN.from_scipy(control.ss(-np.eye(1), np.ones((1, 1)), np.ones((1, 1)), np.zeros((1, 1))))
    with pytest.raises(ValueError, match="dt=2.0 differs from the system's sampling time 0.5"):
        rm.RNN.from_scipy(scipy.signal.dlti([1.0], [1.0, -0.5], dt=0.5), dt=2.0)
    with pytest.raises(TypeError, match="system must be a scipy.signal.dlti"):
        rm.RNN.from_scipy(np.eye(2))
    with pytest.raises(ValueError, match=r"B has shape \(3, 1\), expected \(2, 1\)"):
        rm.RNN.from_scipy((np.eye(2), np.ones((3, 1)), np.ones((1, 2)), np.zeros((1, 1))))
