"""rnnmem.ntk: lag weights (closed form and its derivative identity), empirical Gram vs finite differences, SCNN,
interpolant, gradient descent (docs/math.md §7b)."""

from __future__ import annotations

import naive
import naive_linear as nl
import numpy as np
import pytest
from gradcheck import assert_gradient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rnnmem as rm
from rnnmem import ntk

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])
pos = st.floats(0.05, 2.0)


def rel_err(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    s = np.abs(b).max()
    return np.abs(a - b).max() / (s if s > 0 else 1.0)


# ----------------------------------------------------------------------------- lag weights
def check_lag_weights(J, s2, nuC, nuU, eW, eU, eC, got, got_std):
    """ρ_j² = (η_C ∂_{ν_C} + η_U ∂_{ν_U} + η_W ∂_{σ²}) [ν_C ν_U σ^{2j}]: the directional derivative of the prior
    variance along (η_W, η_C, η_U), checked by central differences (tests/gradcheck.py, one Jacobian column per
    lag). Error model: the prior variance ν_C ν_U s^j and the three positive terms of ρ_j² are products of at most
    j + 3 factors (and the arguments s2 + η t round once each): within γ_{2j+8} of their values."""
    pv = ntk.prior_variance
    j = np.arange(J)
    for lrs, want, name in (((eW, eU, eC), got, "ntk"), ((eW, 0.0, eC), got_std, "standard")):
        def F(t, lrs=lrs):
            return pv(J, s2 + lrs[0] * t[0], nuC + lrs[2] * t[0], nuU + lrs[1] * t[0])

        f_err = naive.rounding(2 * j + 8, np.abs(pv(J, s2, nuC, nuU)) * 1.1)
        assert_gradient(F, [0.0], np.asarray(want)[:, None], name=f"ρ² ({name})", f_error=f_err,
                        g_error=naive.rounding(2 * j + 8, np.abs(want))[:, None])


@settings(max_examples=60, **SETTINGS)
@given(s2=pos, nuC=pos, nuU=pos, eW=st.floats(0, 2), eU=st.floats(0, 2), eC=st.floats(0, 2),
       J=st.integers(1, 25))
def test_lag_weights_is_derivative_of_prior_variance_fd(s2, nuC, nuU, eW, eU, eC, J):
    got = ntk.lag_weights(J, s2, nuC, nuU, lr_W=eW, lr_U=eU, lr_C=eC)
    std = ntk.lag_weights(J, s2, nuC, nuU, "standard", lr_W=eW, lr_U=eU, lr_C=eC)
    check_lag_weights(J, s2, nuC, nuU, eW, eU, eC, got, std)


def test_lag_weights_check_catches_a_relative_error_of_1e_5():
    args = (12, 0.81, 1.3, 0.7, 1.5, 0.5, 0.9)
    got = ntk.lag_weights(12, 0.81, 1.3, 0.7, lr_W=1.5, lr_U=0.5, lr_C=0.9)
    std = ntk.lag_weights(12, 0.81, 1.3, 0.7, "standard", lr_W=1.5, lr_U=0.5, lr_C=0.9)
    check_lag_weights(*args, got, std)
    for k in (0, 5, 11):
        bad = got.copy()
        bad[k] *= 1.00001
        with pytest.raises(AssertionError, match="ntk"):
            check_lag_weights(*args, bad, std)


def test_lag_weights_symbolic():
    """The same identity symbolically (sympy), for symbolic j, and the closed form term by term."""
    import sympy as sp

    s2, nuC, nuU, j = sp.symbols("s2 nu_C nu_U j", positive=True)
    eW, eU, eC = sp.symbols("eta_W eta_U eta_C", positive=True)
    prior = nuC * nuU * s2**j
    rho = eC * sp.diff(prior, nuC) + eU * sp.diff(prior, nuU) + eW * sp.diff(prior, s2)
    closed = eC * nuU * s2**j + eU * nuC * s2**j + eW * j * nuC * nuU * s2 ** (j - 1)
    assert sp.simplify(rho - closed) == 0
    # numeric evaluation of the library against the symbolic expression
    vals = {s2: sp.Rational(81, 100), nuC: sp.Rational(3, 2), nuU: sp.Rational(1, 3), eW: 2, eU: sp.Rational(1, 2),
            eC: 1}
    lib = ntk.lag_weights(10, 0.81, 1.5, 1 / 3, lr_W=2.0, lr_U=0.5, lr_C=1.0)
    ref = [float(rho.subs(vals).subs(j, k)) for k in range(10)]
    assert rel_err(lib, ref) < 1e-13


def test_lag_weights_shapes_and_special_values():
    assert np.allclose(ntk.lag_weights(5, 1.0), 2 + np.arange(5))
    assert np.allclose(ntk.lag_weights([0, 3], 0.5, parameterization="standard"), [1.0, 0.125 + 3 * 0.25])
    w0 = ntk.lag_weights(4, 0.0)  # σ² = 0: only lags 0 and 1 are trainable
    assert np.array_equal(w0, [2.0, 1.0, 0.0, 0.0])
    for bad, exc in [(dict(lags=-1), ValueError), (dict(lags=[0.5]), TypeError), (dict(lags=[[1]]), ValueError)]:
        with pytest.raises(exc, match="lags"):
            ntk.lag_weights(bad["lags"], 1.0)
    with pytest.raises(ValueError, match="sigma2"):
        ntk.lag_weights(3, -1.0)
    with pytest.raises(ValueError, match="parameterization"):
        ntk.lag_weights(3, 1.0, parameterization="mup")


# ----------------------------------------------------------------------------- empirical Gram
@settings(max_examples=12, **SETTINGS)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(2, 7), J=st.integers(1, 6),
       par=st.sampled_from(ntk.PARAMETERIZATIONS), s2=st.floats(0.3, 1.5),
       lr=st.tuples(st.floats(0, 2), st.floats(0, 2), st.floats(0, 2)))
def test_empirical_equals_finite_difference_gram(seed, n, J, par, s2, lr):
    model = ntk.init(n, s2, nu_C=1.3, nu_U=0.7, parameterization=par, rng=seed)
    G = ntk.empirical(model.to_rnn(), J, parameterization=par, lr_W=lr[0], lr_U=lr[1], lr_C=lr[2])
    check_empirical(model, J, par, lr, G)


def check_empirical(model, J, par, lr, G):
    """The library's Gram matrix against the finite-difference one (naive_linear.fd_gram with its error bound).
    Error model of the library: Krylov vectors W^b U (depth J), inner products of length n and the double sum of
    G^W (J² terms), all sums of products without cancellation-free differences: within γ_N times the same formulas
    on absolute values (naive_linear.gram_magnitude), N = (J + 2)(n + 2) + J²; G is symmetric up to that."""
    n = model.W.shape[0]
    ref, ref_err = nl.fd_gram(model.W, model.U, model.C, J, par, lr, with_error=True)
    lib_err = naive.rounding((J + 2) * (n + 2) + J * J, nl.gram_magnitude(model.W, model.U, model.C, J, par, lr))
    naive.assert_within(G, ref, ref_err + lib_err, "G", factor=1.0)
    naive.assert_within(G, G.T, lib_err, "G − Gᵀ")


def test_empirical_check_catches_a_relative_error_of_1e_5():
    for par in ntk.PARAMETERIZATIONS:
        model = ntk.init(5, 0.9, nu_C=1.3, nu_U=0.7, parameterization=par, rng=4)
        lr = (0.7, 1.1, 1.4)
        G = ntk.empirical(model.to_rnn(), 5, parameterization=par, lr_W=lr[0], lr_U=lr[1], lr_C=lr[2])
        check_empirical(model, 5, par, lr, G)
        for i, j in ((0, 0), (3, 1), (4, 4)):
            bad = G.copy()
            bad[i, j] *= 1.00001
            bad[j, i] = bad[i, j]
            with pytest.raises(AssertionError, match="G"):
                check_empirical(model, 5, par, lr, bad)


def test_empirical_blocks_lags_and_model_defaults():
    model = ntk.init(40, 0.9, parameterization="standard", lr_U=0.0, rng=3)
    G, parts = ntk.empirical(model, [4, 0, 2], blocks=True)
    full = ntk.empirical(model, 5)
    assert np.allclose(G, full[np.ix_([4, 0, 2], [4, 0, 2])], rtol=1e-13, atol=0)
    assert np.allclose(G, parts["W"] + parts["U"] + parts["C"]) and np.all(parts["U"] == 0)
    assert np.allclose(model.kernel(5), full)
    # gradient w.r.t. W vanishes for L_0; w.r.t. C and U at lag 0 is U and C
    assert parts["W"][1, 1] == 0.0
    assert np.isclose(parts["C"][1, 1], model.U @ model.U / model.hidden)


def test_empirical_approaches_lag_weights():
    """One wide draw: diagonal within 20 %, off-diagonals small (a Monte-Carlo statement; theory/p2 quantifies it)."""
    for s2 in (0.5, 1.0, 1.21):
        model = ntk.init(2500, s2, rng=11)
        G = ntk.empirical(model, 8)
        rho2 = ntk.lag_weights(8, s2)
        assert np.all(np.abs(np.diag(G) / rho2 - 1) < 0.2)
        off = np.abs(G) / np.sqrt(np.outer(rho2, rho2)) - np.eye(8) * np.diag(G) / rho2
        assert off.max() < 0.15


def test_empirical_rejects_non_linear_models():
    with pytest.raises(ValueError, match="linear elman"):
        ntk.empirical(rm.RNN.random(4, rng=0), 3)
    with pytest.raises(ValueError, match="linear elman"):
        ntk.empirical(rm.RNN.random(4, cell="euler", activation="linear", rng=0), 3)
    with pytest.raises(ValueError, match="scalar"):
        ntk.empirical(rm.RNN.random(4, inputs=2, activation="linear", rng=0), 3)
    with pytest.raises(TypeError, match="model"):
        ntk.empirical(np.eye(3), 3)


def test_init_reproducible_and_scaled():
    a, b = ntk.init(300, 0.7, nu_C=2.0, nu_U=0.5, rng=5), ntk.init(300, 0.7, nu_C=2.0, nu_U=0.5, rng=5)
    assert np.array_equal(a.W, b.W) and np.array_equal(a.C, b.C)
    assert abs(a.W.var() * 300 / 0.7 - 1) < 0.02
    assert abs(a.U.var() / 0.5 - 1) < 0.25 and abs(a.C.var() * 300 / 2.0 - 1) < 0.25
    assert not a.W.flags.writeable
    assert np.allclose(a.markov(6), nl.markov_vector(a.W, a.U, a.C, 6))
    assert np.allclose(a.limit(4), ntk.lag_weights(4, 0.7, 2.0, 0.5))
    with pytest.raises(ValueError, match="parameterization"):
        ntk.init(3, parameterization="mup")
    with pytest.raises(ValueError, match="n must"):
        ntk.init(0)


# ----------------------------------------------------------------------------- design, SCNN, interpolant
def test_lagged_design_matches_rnn_and_convolution():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 9))
    model = ntk.init(12, 0.8, rng=1)
    L = model.markov(9)
    y = model.to_rnn()(x[:, :, None])[:, :, 0]
    assert rel_err(ntk.lagged_design(x, 9) @ L, y.ravel()) < 1e-13
    assert rel_err(ntk.lagged_design(x[:, :, None], 9, last_only=True) @ L, y[:, -1]) < 1e-13
    sc = ntk.SCNN.from_response(L[:5], ntk.lag_weights(5, 0.8))
    ref = np.array([np.convolve(row, L[:5])[:9] for row in x])
    assert rel_err(sc(x), ref) < 1e-13 and sc(x[:, :, None]).shape == (3, 9, 1)
    assert np.allclose(sc.markov(7)[:5], L[:5]) and np.all(sc.markov(7)[5:] == 0)


@settings(max_examples=30, **SETTINGS)
@given(seed=st.integers(0, 2**31 - 1), N=st.integers(1, 6), extra=st.integers(1, 8), s2=st.floats(0.3, 1.3))
def test_interpolant_is_the_weighted_min_norm_solution(seed, N, extra, s2):
    rng = np.random.default_rng(seed)
    J = N + extra
    X, y, L0 = rng.standard_normal((N, J)), rng.standard_normal(N), rng.standard_normal(J)
    rho2 = ntk.lag_weights(J, s2)
    check_interpolant(X, y, rho2, L0, ntk.interpolant(X, y, rho2, L0), rng)


def check_interpolant(X, y, rho2, L0, Li, rng):
    """The interpolant: X L = y, the explicit formula, and minimality of the weighted distance to L0.

    Error model (M = X R^{1/2}, κ = cond(M), N×J): the library's SVD least-squares solve is backward stable, so
    its residual is within γ_{10NJ}(‖X‖‖L‖ + ‖y − X L0‖) (no κ) and its solution within κ times that relative
    error; the explicit formula solves the normal equations X R Xᵀ = M Mᵀ: κ² times. Minimality: for v in
    null(X), w(L + δv) − w(L) = δ²‖v‖²_{R⁻¹} + 2δ⟨L − L*, v⟩_{R⁻¹} (+ the component of the computed v outside
    null(X)), so w may drop by at most 2δ‖R^{-1/2}‖(‖ΔL‖‖R^{-1/2}‖‖v‖ + ‖L* − L0‖_{R⁻¹}‖Δv‖) plus its own rounding."""
    N, J = X.shape
    r = np.sqrt(rho2)
    M = X * r
    sv = np.linalg.svd(M, compute_uv=False)
    kappa = sv[0] / sv[-1]
    g = naive.gamma(10 * N * J)
    rhs = np.linalg.norm(y - X @ L0) + naive.rounding(J, np.linalg.norm(np.abs(X) @ np.abs(L0)))
    z_norm = rhs / sv[-1]  # ‖M⁺(y − X L0)‖
    resid = g * (np.linalg.norm(X, 2) * np.linalg.norm(Li) + rhs) + naive.rounding(J + 1, np.linalg.norm(
        np.abs(X) @ np.abs(Li)) + np.linalg.norm(y))
    assert np.linalg.norm(X @ Li - y) <= resid, "residual"
    dL_lib = r.max() * g * (kappa * z_norm + rhs / sv[-1]) + naive.rounding(2, np.abs(L0) + np.abs(Li))
    dL_ref = r.max() * g * (kappa**2 * z_norm + kappa * rhs / sv[-1]) * (1 + kappa) + naive.rounding(
        2, np.abs(L0) + np.abs(Li))
    naive.assert_within(Li, nl.interpolant_formula(X, y, rho2, L0), dL_lib + dL_ref, "interpolant", factor=1.0)
    # any other interpolant L = Li + v (X v = 0) has a larger weighted distance to L0
    null = np.linalg.svd(X)[2][N:].T
    v = null @ rng.standard_normal(null.shape[1])
    dv = naive.rounding(10 * J * J, np.linalg.norm(v))  # the SVD's null-space basis is orthogonal to rounding
    w = lambda L: np.sum((L - L0) ** 2 / rho2)  # noqa: E731
    delta = 1e-3
    ri = 1.0 / r.min()
    slack = 2 * delta * (ri**2 * np.linalg.norm(dL_lib) * np.linalg.norm(v) + np.sqrt(w(Li)) * ri * dv)
    assert w(Li + delta * v) >= w(Li) - slack - naive.rounding(3 * J + 3, w(Li) + w(Li + delta * v)), "minimality"


def test_interpolant_check_catches_a_relative_error_of_1e_5():
    rng = np.random.default_rng(6)
    X, y, L0 = rng.standard_normal((4, 9)), rng.standard_normal(4), rng.standard_normal(9)
    rho2 = ntk.lag_weights(9, 0.8)
    Li = ntk.interpolant(X, y, rho2, L0)
    check_interpolant(X, y, rho2, L0, Li, np.random.default_rng(0))
    for k in (0, 4, 8):
        bad = Li.copy()
        bad[k] += 1e-5 * np.abs(Li).max()
        with pytest.raises(AssertionError, match="residual|interpolant"):
            check_interpolant(X, y, rho2, L0, bad, np.random.default_rng(0))


def test_interpolant_many_right_hand_sides_equal_one_at_a_time():
    rng = np.random.default_rng(3)
    N, J, K = 5, 11, 4
    X, Y, L0s = rng.standard_normal((N, J)), rng.standard_normal((N, K)), rng.standard_normal((J, K))
    rho2 = ntk.lag_weights(J, 0.7)
    cols = lambda f: np.stack([f(k) for k in range(K)], axis=1)  # noqa: E731
    one = ntk.interpolant
    assert rel_err(one(X, Y, rho2, L0s), cols(lambda k: one(X, Y[:, k], rho2, L0s[:, k]))) < 1e-12
    assert rel_err(one(X, Y, rho2), cols(lambda k: one(X, Y[:, k], rho2))) < 1e-12
    assert rel_err(one(X, Y[:, 0], rho2, L0s), cols(lambda k: one(X, Y[:, 0], rho2, L0s[:, k]))) < 1e-12
    assert rel_err(one(X, Y, rho2, L0s[:, 0]), cols(lambda k: one(X, Y[:, k], rho2, L0s[:, 0]))) < 1e-12
    with pytest.raises(ValueError, match="columns"):
        ntk.interpolant(X, Y, rho2, L0s[:, :2])


def test_interpolant_validation():
    with pytest.raises(ValueError, match="rho2"):
        ntk.interpolant(np.ones((2, 3)), np.ones(2), [1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="y"):
        ntk.interpolant(np.ones((2, 3)), np.ones(3), np.ones(3))


# ----------------------------------------------------------------------------- gradient descent
def test_rnn_gd_step_equals_bptt_gradient_step():
    """One GD step of the WideLinearRNN equals the update with rnn.vjp (BPTT) gradients, both parameterisations."""
    rng = np.random.default_rng(2)
    N, J = 5, 7
    x = rng.standard_normal((N, J))
    X = ntk.lagged_design(x, J, last_only=True)
    y = rng.standard_normal(N)
    for par in ntk.PARAMETERIZATIONS:
        m = ntk.init(9, 0.9, parameterization=par, lr_W=0.7, lr_U=1.3, lr_C=0.4, rng=4)
        r = m.to_rnn()
        res = X @ m.markov(J) - y
        dy = np.zeros((N, J, 1))
        dy[:, -1, 0] = 2 * res / N  # d mean(res²) / d y_last
        g = r.vjp(x[:, :, None], dy)
        lr = 0.05
        n = m.hidden
        kU = 1.0 if par == "ntk" else 1.0 / n
        out = ntk.gd(m, X, y, lr=lr, steps=1).model
        assert rel_err(out.W, m.W - lr * 0.7 / n * g.W) < 1e-13
        assert rel_err(out.U, m.U - lr * 1.3 * kU * g.U[:, 0]) < 1e-13
        assert rel_err(out.C, m.C - lr * 0.4 / n * g.C[0]) < 1e-13


def test_rnn_gd_function_step_matches_kernel():
    """For a tiny learning rate, ΔL ≈ −η G ∂loss/∂L (the NTK description of a GD step)."""
    rng = np.random.default_rng(7)
    N, J = 4, 6
    X, y = rng.standard_normal((N, J)), rng.standard_normal(N)
    m = ntk.init(50, 1.0, rng=8)
    eta = 1e-6
    L0 = m.markov(J)
    L1 = ntk.gd(m, X, y, lr=eta, steps=1).responses[-1]
    g = 2 / N * X.T @ (X @ L0 - y)
    assert rel_err(L1 - L0, -eta * ntk.empirical(m, J) @ g) < 1e-4


def test_scnn_gd_converges_to_interpolant_and_records():
    rng = np.random.default_rng(1)
    N, J = 4, 10
    X, y = rng.standard_normal((N, J)), rng.standard_normal(N)
    rho2 = ntk.lag_weights(J, 0.81)
    L0 = rng.standard_normal(J) * 0.1
    lr = ntk.stable_lr(X, rho2)
    res = ntk.gd(ntk.SCNN.from_response(L0, rho2), X, y, lr=lr, steps=20000, X_test=X, y_test=y, record_every=5000)
    assert rel_err(res.model.markov(), ntk.interpolant(X, y, rho2, L0)) < 1e-9
    assert res.train_loss.shape == (20001,) and np.allclose(res.train_loss, res.test_loss)
    assert list(res.steps) == [0, 5000, 10000, 15000, 20000] and np.allclose(res.responses[0], L0)
    assert np.all(np.diff(res.train_loss) <= 1e-15)  # η <= 1/λ_max: monotone


def test_wide_rnn_gd_tracks_scnn():
    """A 1500-wide RNN and the SCNN from the same initial function end close (the theory check sweeps n)."""
    rng = np.random.default_rng(0)
    N, J = 6, 8
    X = rng.standard_normal((N, J))
    y = X @ (0.7 ** np.arange(J))
    rho2 = ntk.lag_weights(J, 1.0)
    lr = ntk.stable_lr(X, rho2, 0.9)
    m = ntk.init(1500, 1.0, rng=1)
    r = ntk.gd(m, X, y, lr=lr, steps=60)
    s = ntk.gd(ntk.SCNN.from_response(m.markov(J), rho2), X, y, lr=lr, steps=60)
    Lr, Ls, L0 = r.responses[-1], s.responses[-1], r.responses[0]
    assert np.linalg.norm(Lr - Ls) < 0.2 * np.linalg.norm(Ls - L0)
    assert r.train_loss[-1] < 1e-2 * r.train_loss[0]


def test_gd_validation():
    X, y = np.ones((2, 3)), np.ones(2)
    m = ntk.init(4, rng=0)
    with pytest.raises(ValueError, match="lr"):
        ntk.gd(m, X, y, lr=-1.0, steps=1)
    with pytest.raises(TypeError, match="WideLinearRNN or an SCNN"):
        ntk.gd(rm.RNN.random(3, rng=0), X, y, lr=0.1, steps=1)
    with pytest.raises(ValueError, match="lags"):
        ntk.gd(ntk.SCNN(np.ones(4), np.zeros(4)), X, y, lr=0.1, steps=1)
    with pytest.raises(ValueError, match="X_test"):
        ntk.gd(m, X, y, lr=0.1, steps=1, X_test=X)
    # divergence is a NonFiniteError naming lr and the step, for the RNN and the SCNN alike (issue 12, case 14)
    with pytest.raises(rm.NonFiniteError, match="diverged at step .* lr"):
        ntk.gd(ntk.init(20, 1.0, rng=0), 100 * np.ones((2, 3)), y, lr=1e6, steps=50)
    with pytest.raises(rm.NonFiniteError, match="diverged at step .* lr"):
        ntk.gd(ntk.SCNN(np.ones(3), np.zeros(3)), 100 * np.ones((2, 3)), y, lr=1e6, steps=5000)


def test_plot_helpers_draw():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rnnmem.plot import plot_gram, plot_lag_weights, plot_memory_capacity

    m = ntk.init(30, 1.0, rng=0)
    ax = plot_lag_weights((0.5, 1.0), 6, empirical=[(np.diag(m.kernel(6)), np.zeros(6)), None])
    assert len(ax.lines) >= 2 and ax.get_yscale() == "log"
    ax = plot_gram(m.kernel(6))
    assert ax.images[0].get_array().shape == (6, 6)
    ax = plot_memory_capacity([np.linspace(1, 0, 5)], labels=["a"], errors=[np.full(5, 0.1)])
    assert ax.get_xlabel() == "delay k"
    plt.close("all")
