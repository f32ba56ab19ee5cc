"""rnnmem.linear against slow references: Markov parameters, Gramians, H2, Hankel singular values, memory capacity
(exact, ill-conditioned, sampled), Fisher memory, BPTT gains and Lyapunov exponents (docs/math.md §8)."""

from __future__ import annotations

import naive
import naive_linear as nl
import numpy as np
import pytest
import scipy.linalg as sla
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import rnnmem as rm
from rnnmem import linear

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def rel_err(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    s = np.abs(b).max()
    return np.abs(a - b).max() / (s if s > 0 else 1.0)


def stable_system(seed, m, d, p, radius, cell="elman", dt=0.5, feedthrough=True):
    """Random system whose transition matrix (W or I + dtW) has the given spectral radius."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, m))
    A *= radius / np.max(np.abs(np.linalg.eigvals(A)))
    W = A if cell == "elman" else (A - np.eye(m)) / dt
    return (W, rng.standard_normal((m, d)), rng.standard_normal((p, m)),
            rng.standard_normal((p, d)) if feedthrough else None)


systems = st.builds(lambda *a: a, st.integers(0, 2**31 - 1), st.integers(1, 6), st.integers(1, 3),
                    st.integers(1, 3), st.floats(0.05, 0.95), st.sampled_from(["elman", "euler"]),
                    st.floats(0.1, 1.0), st.booleans())


# ----------------------------------------------------------------------------- Markov, Gramians, H2, Hankel
@settings(max_examples=40, **SETTINGS)
@given(systems)
def test_markov_parameters_match_matrix_powers(sys_):
    seed, m, d, p, radius, cell, dt, ft = sys_
    W, U, C, D = stable_system(seed, m, d, p, radius, cell, dt, ft)
    got = linear.markov_parameters(W, U, C, 12, D=D, cell=cell, dt=dt)
    assert rel_err(got, naive.markov(W, U, C, D, 12, cell, dt)) < 1e-12


@settings(max_examples=40, **SETTINGS)
@given(systems)
def test_h2_gramians_hankel_against_sums(sys_):
    seed, m, d, p, radius, cell, dt, ft = sys_
    W, U, C, D = stable_system(seed, m, d, p, radius, cell, dt, ft)
    A = W if cell == "elman" else np.eye(m) + dt * W
    B = U if cell == "elman" else dt * U
    K = int(np.ceil(np.log(1e-20) / np.log(radius))) + 50 * m
    # H2² = Σ_j ‖L_j‖² (rnnmem convention, L_0 includes D)
    h2 = linear.h2_norm(W, U, C, D, cell, dt)
    assert abs(h2 - nl.h2_by_sum(W, U, C, D, cell, dt, K)) <= 1e-9 * h2
    # python-control-style formula: state x_k = h_{k-1}, (A, B, C_pc = C A, D_pc = C B + D), H2² = tr(C_pc P C_pcᵀ
    # + D_pc D_pcᵀ) with P = A P Aᵀ + B Bᵀ
    P, Q = linear.gramians(W, U, C, cell, dt)
    Cpc, Dpc = C @ A, C @ B + (0 if D is None else D)
    assert abs(h2**2 - np.trace(Cpc @ P @ Cpc.T + Dpc @ Dpc.T)) <= 1e-9 * h2**2
    # Gramians: Lyapunov equations and series
    assert rel_err(A @ P @ A.T + B @ B.T, P) < 1e-10 and rel_err(A.T @ Q @ A + C.T @ C, Q) < 1e-10
    assert rel_err(P, nl.gramian_by_sum(A, B, K)) < 1e-9
    # Hankel singular values = sqrt(λ(PQ)) = singular values of the Hankel matrix [C A^{i+j} B]
    hs = linear.hankel_singular_values(W, U, C, cell, dt)
    ref = np.sort(np.sqrt(np.abs(np.linalg.eigvals(P @ Q))))[::-1]
    assert np.all(np.abs(hs - ref) <= 1e-7 * hs[0])
    if radius < 0.9:
        hm = nl.hankel_by_matrix(W, U, C, cell, dt, size=min(150, K))[:m]
        assert np.all(np.abs(hs - hm) <= 1e-8 * hs[0])


def test_h2_unstable_raises_like_gramians():
    """An unstable system: the H2 norm is infinite — a NonFiniteError, the same outcome as gramians()."""
    W = np.diag([1.1, 0.5])
    with pytest.raises(rm.NonFiniteError, match="spectral radius"):
        linear.h2_norm(W, np.ones((2, 1)), np.ones((1, 2)))
    with pytest.raises(rm.NonFiniteError, match="spectral radius"):
        linear.gramians(W, np.ones((2, 1)), np.ones((1, 2)))
    with pytest.raises(ValueError, match="U has shape"):
        linear.h2_norm(np.eye(2) * 0.5, np.ones((3, 1)), np.ones((1, 2)))
    with pytest.raises(ValueError, match="cell"):
        linear.h2_norm(np.eye(2) * 0.5, np.ones((2, 1)), np.ones((1, 2)), cell="lstm")


def test_inputs_not_mutated():
    W, U, C, D = stable_system(0, 4, 1, 1, 0.8)
    copies = [a.copy() for a in (W, U, C, D)]
    linear.h2_norm(W, U, C, D)
    linear.memory_capacity(W, U[:, 0], 5)
    linear.fisher_memory(W, U[:, 0], 5)
    for a, b in zip((W, U, C, D), copies, strict=True):
        assert np.array_equal(a, b)


# ----------------------------------------------------------------------------- memory capacity
@settings(max_examples=30, **SETTINGS)
@given(seed=st.integers(0, 2**31 - 1), m=st.integers(1, 6), radius=st.floats(0.1, 0.7))
def test_memory_capacity_exact_vs_lyapunov_well_conditioned(seed, m, radius):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((m, m))
    W *= radius / linear.spectral_radius(W)
    u = rng.standard_normal(m)
    P = sla.solve_discrete_lyapunov(W, np.outer(u, u))
    assume(np.linalg.cond(P) <= 1e6)  # the naive reference is only trustworthy when P is well conditioned
    mc = linear.memory_capacity(W, u, 30)
    assert np.all(np.abs(mc - nl.mc_lyapunov_naive(W, u, 30)) < 1e-8)
    assert abs(linear.memory_capacity(W, u, 500).sum() - m) < 1e-9
    assert linear.controllability_rank(W, u) == m


@settings(max_examples=25, **SETTINGS)
@given(seed=st.integers(0, 2**31 - 1), m=st.integers(2, 14), data=st.data())
def test_memory_capacity_sum_equals_controllability_rank(seed, m, data):
    """u excites r of the m eigenmodes of a symmetric W with well-separated eigenvalues: rank r exactly."""
    r = data.draw(st.integers(1, m))
    rng = np.random.default_rng(seed)
    Q = np.linalg.qr(rng.standard_normal((m, m)))[0]
    lam = 0.85 * np.linspace(-1, 1, m) if m > 1 else np.array([0.5])
    W = (Q * lam) @ Q.T
    modes = rng.choice(m, r, replace=False)
    u = Q[:, modes] @ (rng.choice([-1, 1], r) * rng.uniform(0.5, 2, r))
    total = linear.memory_capacity(W, u, 3000).sum()
    assert abs(total - r) < 1e-8
    assert linear.controllability_rank(W, u) == r


def test_memory_capacity_ill_conditioned_against_mpmath():
    """Clustered eigenvalues make P ≈ singular (cond ~1e13): the leverage-score evaluation keeps ~6 digits per
    delay against a 60-digit reference, the textbook inv(P) evaluation does not."""
    m = 9
    rng = np.random.default_rng(0)
    Q = np.linalg.qr(rng.standard_normal((m, m)))[0]
    W = (Q * np.linspace(0.3, 0.8, m)) @ Q.T
    u = Q @ np.ones(m)
    cond = np.linalg.cond(sla.solve_discrete_lyapunov(W, np.outer(u, u)))
    assert cond > 1e11
    ref = nl.mc_mpmath(W, u, 40)
    mc = linear.memory_capacity(W, u, 40)
    err = np.abs(mc - ref).max()
    assert err < 1e-5
    assert abs(linear.memory_capacity(W, u, 2000).sum() - m) < 1e-9
    naive_err = np.abs(nl.mc_lyapunov_naive(W, u, 40) - ref).max()
    assert naive_err > 10 * err  # fragile textbook evaluation (documents why the library avoids it)


def test_memory_capacity_similarity_invariant():
    rng = np.random.default_rng(4)
    m = 6
    W = rng.standard_normal((m, m))
    W *= 0.8 / linear.spectral_radius(W)
    u = rng.standard_normal(m)
    T = np.eye(m) + 0.3 * rng.standard_normal((m, m))
    mc = linear.memory_capacity(W, u, 25)
    mc2 = linear.memory_capacity(T @ W @ np.linalg.inv(T), T @ u, 25)
    assert np.abs(mc - mc2).max() < 1e-7


def test_memory_capacity_sampled_within_sampling_error():
    rng = np.random.default_rng(1)
    m = 5
    W = rng.standard_normal((m, m))
    W *= 0.85 / linear.spectral_radius(W)
    u = rng.standard_normal(m)
    exact = linear.memory_capacity(W, u, 25)
    samples = 60_000
    est = linear.memory_capacity(W, u, 25, "sampled", rng=3, samples=samples)
    se = 2 * np.sqrt(exact) * (1 - exact) / np.sqrt(samples / 2) + 2 / samples
    assert np.all(np.abs(est - exact) < 5 * se + 1e-4)
    assert np.array_equal(est, linear.memory_capacity(W, u, 25, "sampled", rng=3, samples=samples))
    # uncontrollable reservoir: rank-deficient states are handled (min-norm readout)
    Wd = np.diag([0.9, 0.5, -0.6])
    ud = np.array([1.0, 1.0, 0.0])
    est = linear.memory_capacity(Wd, ud, 60, "sampled", rng=0, samples=40_000)
    assert abs(est.sum() - 2.0) < 0.05


def test_memory_capacity_validation():
    with pytest.raises(ValueError, match="spectral radius"):
        linear.memory_capacity(np.eye(2), np.ones(2), 5)
    with pytest.raises(ValueError, match="method"):
        linear.memory_capacity(0.5 * np.eye(2), np.ones(2), 5, method="mc")
    with pytest.raises(ValueError, match="u has length"):
        linear.memory_capacity(0.5 * np.eye(2), np.ones(3), 5)
    with pytest.raises(ValueError, match="n must be"):
        linear.memory_capacity(0.5 * np.eye(2), np.ones(2), 0)
    with pytest.raises(ValueError, match="test_fraction"):
        linear.memory_capacity(0.5 * np.eye(2), np.ones(2), 5, "sampled", test_fraction=1.5)


# ----------------------------------------------------------------------------- Fisher memory
def real_normal_matrix(rng, m, radius):
    """Q blockdiag(rotation-scalings, reals) Qᵀ: a real normal matrix with complex eigenvalues."""
    B = np.zeros((m, m))
    i = 0
    while i < m:
        r = rng.uniform(0.05, radius)
        if i + 1 < m and rng.random() < 0.5:
            th = rng.uniform(0, np.pi)
            B[i:i + 2, i:i + 2] = r * np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
            i += 2
        else:
            B[i, i] = r * rng.choice([-1, 1])
            i += 1
    Q = np.linalg.qr(rng.standard_normal((m, m)))[0]
    return Q @ B @ Q.T


@settings(max_examples=30, **SETTINGS)
@given(seed=st.integers(0, 2**31 - 1), m=st.integers(1, 8), noise=st.floats(0.1, 3.0))
def test_fisher_memory_normal_sums_to_one_general_bounded(seed, m, noise):
    rng = np.random.default_rng(seed)
    W = real_normal_matrix(rng, m, 0.9)
    assert np.allclose(W @ W.T, W.T @ W, atol=1e-12)
    u = rng.standard_normal(m)
    u /= np.linalg.norm(u)
    J = linear.fisher_memory(W, u, 2000, noise=noise)
    assert abs(J.sum() - 1.0 / noise) < 1e-9
    assert rel_err(J[:30], nl.fisher_by_sum(W, u, 30, noise)) < 1e-9
    G = rng.standard_normal((m, m))
    G *= 0.9 / linear.spectral_radius(G)
    Jg = linear.fisher_memory(G, u, 3000, noise=noise)
    assert Jg.sum() <= m / noise * (1 + 1e-9)
    assert rel_err(Jg[:30], nl.fisher_by_sum(G, u, 30, noise, K=3000)) < 1e-8


# ----------------------------------------------------------------------------- gains and Lyapunov exponents
@settings(max_examples=20, **SETTINGS)
@given(seed=st.integers(0, 2**31 - 1), m=st.integers(1, 6), cell=st.sampled_from(["elman", "euler"]))
def test_bptt_gain_is_norm_of_powers(seed, m, cell):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((m, m))
    g = linear.bptt_gain(W, 8, cell=cell, dt=0.3)
    A = W if cell == "elman" else np.eye(m) + 0.3 * W
    ref = [np.linalg.norm(np.linalg.matrix_power(A, j), 2) for j in range(8)]
    assert rel_err(g, ref) < 1e-12


@settings(max_examples=10, **SETTINGS)
@given(seed=st.integers(0, 2**31 - 1), act=st.sampled_from(["tanh", "linear", "relu"]),
       cell=st.sampled_from(["elman", "euler"]))
def test_trajectory_gain_and_lyapunov_against_finite_difference_jacobians(seed, act, cell):
    rnn = rm.RNN.random(5, inputs=2, activation=act, cell=cell, dt=0.4, sigma=1.0, bias=0.3, rng=seed)
    x = np.random.default_rng(seed + 1).standard_normal((40, 2))
    Js = nl.jacobians(rnn, x)
    g = linear.trajectory_gain(rnn, x, 10)
    M = np.eye(5)
    ref = [1.0]
    for j in range(1, 10):
        M = M @ Js[40 - j]
        ref.append(np.linalg.norm(M, 2))
    assert rel_err(g, ref) < 1e-6
    Q0 = np.linalg.qr(np.random.default_rng(2).standard_normal((5, 3)))[0]
    with np.errstate(divide="ignore"):  # an all-dead relu step gives a zero Jacobian: exponent −inf
        ref_lam = nl.benettin(Js, 3, Q0)
    if not np.isfinite(ref_lam).all():  # never returned silently: a NonFiniteError (issue 12, case 23)
        with pytest.raises(rm.NonFiniteError, match="lyapunov_exponents"):
            linear.lyapunov_exponents(rnn, x, 3, rng=2)
        return
    lam = linear.lyapunov_exponents(rnn, x, 3, rng=2)
    np.testing.assert_allclose(lam, ref_lam, rtol=0, atol=1e-6)


def test_lyapunov_exponents_of_linear_rnn_are_log_moduli():
    rng = np.random.default_rng(3)
    m = 6
    W = rng.standard_normal((m, m)) / np.sqrt(m)
    rnn = rm.RNN(W, rng.standard_normal((m, 1)), np.zeros(m), np.ones((1, m)), activation="linear")
    x = rng.standard_normal((4000, 1))
    lam = linear.lyapunov_exponents(rnn, x, m, washout=200)
    ref = np.sort(np.log(np.abs(np.linalg.eigvals(W))))[::-1]
    assert np.abs(lam - ref).max() < 5e-3  # O(1/T) transient of the QR frame
    top = linear.top_lyapunov_exponent(rnn, x[None], washout=200)
    assert top.shape == (1,) and abs(top[0] - np.log(linear.spectral_radius(W))) < 5e-3
    # gain rate = top exponent
    g = linear.trajectory_gain(rnn, x[:400], 400)
    assert abs(np.log(g[-1] / g[200]) / 199 - ref[0]) < 2e-2


def test_gain_validation():
    rnn = rm.RNN.random(3, rng=0)
    with pytest.raises(ValueError, match="n=6 exceeds"):
        linear.trajectory_gain(rnn, np.zeros((5, 1)), 6)
    with pytest.raises(ValueError, match="k=4"):
        linear.lyapunov_exponents(rnn, np.zeros((5, 1)), 4)
    with pytest.raises(ValueError, match="washout"):
        linear.lyapunov_exponents(rnn, np.zeros((5, 1)), 1, washout=5)
    with pytest.raises(TypeError, match="rnn must"):
        linear.trajectory_gain(np.eye(3), np.zeros((5, 1)), 2)
    with pytest.raises(ValueError, match="W must be square"):
        linear.bptt_gain(np.ones((2, 3)), 3)


# ----------------------------------------------------------------------------- python-control cross-checks
@settings(max_examples=25, **SETTINGS)
@given(systems)
def test_h2_norm_and_gramians_against_python_control(sys_):
    """python-control's discrete state space (A, B, CA, CB + D) has the impulse response L_0, L_1, ... of rnnmem's
    convention (module docstring): its H2 norm is ours; its controllability Gramian is our P, its observability
    Gramian is our Q − CᵀC (its output matrix is CA). Both cells (euler: A = I + ΔtW, B = ΔtU).

    python-control's ``gram`` needs slycot; ``dlyap`` (SciPy's solver when slycot is absent) and ``norm(sys, 2)``
    do not."""
    ct = pytest.importorskip("control")
    seed, m, d, p, radius, cell, dt, ft = sys_
    W, U, C, D = stable_system(seed, m, d, p, radius, cell, dt, ft)
    A = W if cell == "elman" else np.eye(m) + dt * W
    B = U if cell == "elman" else dt * U
    sys_pc = ct.ss(A, B, C @ A, C @ B + (0 if D is None else D), True)
    h2 = linear.h2_norm(W, U, C, D, cell, dt)
    assert abs(h2 - ct.norm(sys_pc, 2)) <= 1e-9 * h2
    P, Q = linear.gramians(W, U, C, cell, dt)
    assert rel_err(P, ct.dlyap(A, B @ B.T)) < 1e-9
    CA = C @ A
    assert rel_err(Q, ct.dlyap(A.T, CA.T @ CA) + C.T @ C) < 1e-9
    # the impulse response of the python-control system is rnnmem's Markov parameters (first input)
    L = linear.markov_parameters(W, U, C, 6, D=D, cell=cell, dt=dt)
    resp = ct.impulse_response(sys_pc, T=np.arange(6), input=0).outputs  # (p, T) or (T,) for p = 1
    assert rel_err(np.reshape(resp, (p, 6)).T, L[:, :, 0]) < 1e-12


def test_python_control_check_fails_on_the_wrong_convention():
    """The check above can fail: python-control's own (A, B, C, D) realisation of the same matrices has impulse
    response D, CB, CAB, ... — a different H2 norm than rnnmem's L_j = C A^j B (+ D at lag 0)."""
    ct = pytest.importorskip("control")
    W, U, C, D = stable_system(1, 4, 1, 1, 0.8)
    naive_pc = ct.norm(ct.ss(W, U, C, D, True), 2)
    assert abs(linear.h2_norm(W, U, C, D) - naive_pc) > 1e-3 * naive_pc


# ----------------------------------------------------------------------------- one vocabulary
@pytest.mark.parametrize("cell, dt", [("elman", 1.0), ("euler", 0.3)])
def test_linear_functions_accept_a_model_with_its_cell_and_dt(cell, dt):
    W, U, C, D = stable_system(5, 4, 1, 1, 0.8, cell=cell, dt=dt)
    rnn = rm.RNN(W, U, np.zeros(4), C, D, cell=cell, activation="linear", dt=dt)
    mats = dict(cell=cell, dt=dt)
    np.testing.assert_array_equal(linear.markov_parameters(rnn, n=7), linear.markov_parameters(W, U, C, 7, D, **mats))
    np.testing.assert_array_equal(linear.markov_parameters(rnn, 7), rnn.markov(7))
    np.testing.assert_array_equal(linear.gramians(rnn)[0], linear.gramians(W, U, C, **mats)[0])
    assert linear.h2_norm(rnn) == linear.h2_norm(W, U, C, D, **mats)
    np.testing.assert_array_equal(linear.hankel_singular_values(rnn), linear.hankel_singular_values(W, U, C, **mats))
    np.testing.assert_array_equal(linear.bptt_gain(rnn, 5), linear.bptt_gain(W, 5, **mats))
    A = W if cell == "elman" else np.eye(4) + dt * W
    B = U[:, 0] if cell == "elman" else dt * U[:, 0]
    np.testing.assert_array_equal(linear.memory_capacity(rnn, n=9), linear.memory_capacity(A, B, 9))
    np.testing.assert_array_equal(linear.fisher_memory(rnn, 9), linear.fisher_memory(A, B, 9))
    assert linear.controllability_rank(rnn) == linear.controllability_rank(A, B) == 4
    # the model's own cell and dt decide; a different one is an error, never used silently
    other = "euler" if cell == "elman" else "elman"
    with pytest.raises(ValueError, match="differs from the model's own cell"):
        linear.h2_norm(rnn, cell=other)
    with pytest.raises(ValueError, match="differs from the model's own dt"):
        linear.bptt_gain(rnn, 3, dt=dt / 2)
    with pytest.raises(TypeError, match="model and also"):
        linear.gramians(rnn, U)
    with pytest.raises(ValueError, match="activation='linear'"):
        linear.h2_norm(rnn.replace(activation="tanh"))


def test_deprecated_lag_names_warn_and_agree():
    W, U, C, _ = stable_system(2, 3, 1, 1, 0.7)
    u = U[:, 0]
    for fn, args, old in ((linear.memory_capacity, (W, u), "k_max"), (linear.fisher_memory, (W, u), "k_max"),
                          (linear.bptt_gain, (W,), "j_max"), (linear.markov_parameters, (W, U, C), "k_max")):
        msg = f"`{old}` is deprecated and will be removed in rnnmem 0.3; use `n`"
        with pytest.warns(DeprecationWarning, match=msg):
            got = fn(*args, **{old: 6})
        np.testing.assert_array_equal(got, fn(*args, n=6))
        with pytest.raises(TypeError, match="deprecated alias"):
            fn(*args, n=6, **{old: 6})
    rnn = rm.RNN.random(3, rng=0)
    with pytest.warns(DeprecationWarning, match="`j_max`"):
        g = linear.trajectory_gain(rnn, np.zeros((5, 1)), j_max=4)
    np.testing.assert_array_equal(g, linear.trajectory_gain(rnn, np.zeros((5, 1)), 4))
    with pytest.raises(TypeError, match="unexpected keyword argument 'lags'"):
        linear.bptt_gain(W, lags=3)
