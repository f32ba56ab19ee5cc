"""Diagonal state-space models: scan and FFT outputs against the slow reference, Markov parameters, exact gradients
(central differences, torch complex autograd), S4D/LRU parameterisations, and the analyses on them."""

from __future__ import annotations

import math
import pickle

import naive_gated as naive
import numpy as np
import pytest
import scipy.linalg
from gradcheck import assert_gradient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rnnmem as rm
from rnnmem.ssm import LRU, S4D

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])
EPS = np.finfo(float).eps


def random_ssm(rng, N, d, p, feedthrough, rmax=0.95):
    r = rng.uniform(0.0, rmax, N)
    lam = r * np.exp(1j * rng.uniform(-np.pi, np.pi, N))
    B = rng.normal(size=(N, d)) + 1j * rng.normal(size=(N, d))
    C = rng.normal(size=(p, N)) + 1j * rng.normal(size=(p, N))
    D = rng.normal(size=(p, d)) if feedthrough else None
    return rm.DiagonalSSM(lam, B, C, D)


def conv_scale(ssm, x):
    """The magnitude of the terms summed into an output, Σ_j Σ_n |C_n| |λ_n|^j |B_n| · max|x| (+ |D| max|x|): the
    Markov parameters of the absolute-value system, so that cancellation inside Re(C λ^j B) is accounted for (the
    error model of both methods)."""
    absys = rm.DiagonalSSM(np.abs(ssm.lam), np.abs(ssm.B), np.abs(ssm.C), None if ssm.D is None else np.abs(ssm.D))
    L = absys.markov(x.shape[1])
    return float(np.abs(L).sum(axis=0).max() * np.abs(x).max())


# ----------------------------------------------------------------------------- outputs
@settings(max_examples=40, **SETTINGS)
@given(N=st.integers(1, 6), d=st.integers(1, 3), p=st.integers(1, 3), feed=st.booleans(), B=st.integers(1, 3),
       T=st.integers(1, 40), seed=st.integers(0, 2**32 - 1))
def test_scan_equals_reference(N, d, p, feed, B, T, seed):
    rng = np.random.default_rng(seed)
    ssm = random_ssm(rng, N, d, p, feed)
    x = rng.uniform(-2, 2, size=(B, T, d))
    y_ref = naive.ssm_forward(ssm.lam, ssm.B, ssm.C, ssm.D, x)
    tol = 64 * T * EPS * conv_scale(ssm, x) * max(1, N)
    assert np.abs(ssm(x, method="scan") - y_ref).max() <= tol
    assert np.abs(ssm(x, method="fft") - y_ref).max() <= tol
    assert np.abs(ssm.states(x)[..., :] @ ssm.C.T).shape == (B, T, p)


@settings(max_examples=8, **SETTINGS)
@given(N=st.integers(1, 5), d=st.integers(1, 2), p=st.integers(1, 2), T=st.integers(256, 700),
       seed=st.integers(0, 2**32 - 1))
def test_fft_equals_scan_on_long_sequences(N, d, p, T, seed):
    """FFT convolution error model: O(ε log L) relative to Σ_j‖L_j‖·max|x|."""
    rng = np.random.default_rng(seed)
    ssm = random_ssm(rng, N, d, p, True, rmax=0.99)
    x = rng.normal(size=(2, T, d))
    diff = np.abs(ssm(x, method="fft") - ssm(x, method="scan")).max()
    assert diff <= 64 * math.log2(2 * T) * EPS * conv_scale(ssm, x) * max(1, N)


def test_markov_equals_powers_and_convolution():
    rng = np.random.default_rng(0)
    ssm = random_ssm(rng, 5, 2, 3, True)
    L = ssm.markov(60)
    np.testing.assert_allclose(L, naive.ssm_markov(ssm.lam, ssm.B, ssm.C, ssm.D, 60), rtol=1e-12, atol=1e-14)
    x = rng.normal(size=(2, 60, 2))
    y = np.stack([sum(L[j] @ x[:, k - j].T for j in range(k + 1)).T for k in range(60)], axis=1)
    np.testing.assert_allclose(ssm(x), y, rtol=1e-12, atol=1e-12)
    assert rm.DiagonalSSM([1.5], [[1.0]], [[1.0]]).markov(3)[2, 0, 0] == pytest.approx(2.25)
    with pytest.raises(rm.NonFiniteError, match="overflow"):
        rm.DiagonalSSM([1e200], [[1.0]], [[1.0]]).markov(4)


def test_auto_method_and_nonfinite():
    ssm = rm.DiagonalSSM.random(64, rng=0)
    assert ssm._pick_method("auto", 8, 100) == "scan"
    assert ssm._pick_method("auto", 8, 100_000) == "fft"
    unstable = rm.DiagonalSSM([1.2], [[1.0]], [[1.0]])
    assert unstable._pick_method("auto", 8, 100_000) == "scan"
    with pytest.raises(rm.NonFiniteError):
        unstable(np.ones((1, 5000, 1)))
    with pytest.raises(ValueError, match="method"):
        ssm(np.ones((1, 4, 1)), method="direct")


# ----------------------------------------------------------------------------- gradients
def _complex_check(f, v, g, name, f_scale):
    """Central differences in the real and imaginary parts of a complex block."""
    theta = np.stack([v.real, v.imag])
    assert_gradient(lambda t: f(t[0] + 1j * t[1]), theta, np.stack([g.real, g.imag]), name=name, f_scale=f_scale)


@pytest.mark.parametrize("feed", [True, False])
def test_ssm_gradients_match_central_differences(feed):
    rng = np.random.default_rng(4)
    ssm = random_ssm(rng, 4, 2, 3, feed)
    x = rng.normal(size=(2, 12, 2))
    dy = rng.normal(size=(2, 12, 3))
    g = ssm.vjp(x, dy)
    f_scale = float(np.sum(np.abs(dy * ssm(x))))
    for name, v in ssm.params().items():
        def f(w, name=name):
            return float(np.sum(dy * ssm.replace(**{name: w})(x)))
        if np.iscomplexobj(v):
            _complex_check(f, v, g[name], name, f_scale)
        else:
            assert_gradient(f, v, g[name], name=name, f_scale=f_scale)
    assert_gradient(lambda w: float(np.sum(dy * ssm(w))), x, g.x, name="x", f_scale=f_scale)
    with pytest.raises(AssertionError):  # the check has power
        _complex_check(lambda w: float(np.sum(dy * ssm.replace(lam=w)(x))), ssm.lam, 1.00001 * g["lam"], "lam",
                       f_scale)


@pytest.mark.parametrize("cls", [S4D, LRU])
@pytest.mark.parametrize("f", ["exp", "softplus", "best"])
def test_parameterised_gradients_match_central_differences(cls, f):
    rng = np.random.default_rng(5)
    mdl = cls.random(3, 2, 2, f=f, feedthrough=True, rng=6)
    x = rng.normal(size=(2, 15, 2))
    dy = rng.normal(size=(2, 15, 2))
    g = mdl.vjp(x, dy)
    assert set(g.params()) == set(mdl.params())
    f_scale = float(np.sum(np.abs(dy * mdl(x))))
    for name, v in mdl.params().items():
        def fn(w, name=name):
            return float(np.sum(dy * mdl.replace(**{name: w})(x)))
        if np.iscomplexobj(v):
            _complex_check(fn, v, g[name], name, f_scale)
        else:
            assert_gradient(fn, v, g[name], name=name, f_scale=f_scale)
    loss, gl = mdl.loss_and_grad(x, dy)
    assert loss == pytest.approx(np.mean((mdl(x) - dy) ** 2), rel=1e-13)


def test_ssm_gradients_against_torch_complex_autograd():
    torch = pytest.importorskip("torch", reason="torch is the oracle of this test (CI installs it)")
    rng = np.random.default_rng(8)
    ssm = random_ssm(rng, 4, 2, 2, True)
    x = rng.normal(size=(3, 20, 2))
    y = rng.normal(size=(3, 20, 2))
    lam, B, C = (torch.tensor(v, requires_grad=True) for v in (ssm.lam, ssm.B, ssm.C))
    D = torch.tensor(ssm.D, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    h = torch.zeros(3, 4, dtype=torch.complex128)
    outs = []
    for k in range(20):
        h = lam * h + xt[:, k].to(torch.complex128) @ B.T
        outs.append((h @ C.T).real + xt[:, k] @ D.T)
    loss_t = torch.nn.functional.mse_loss(torch.stack(outs, 1), torch.tensor(y))
    loss_t.backward()
    loss, g = ssm.loss_and_grad(x, y)
    assert loss == pytest.approx(loss_t.item(), rel=1e-12)
    for name, t in (("lam", lam), ("B", B), ("C", C), ("D", D)):
        ref = t.grad.numpy()
        assert np.abs(g[name] - ref).max() <= 1e-10 * np.abs(ref).max(), name
    assert np.abs(g.x - xt.grad.numpy()).max() <= 1e-10 * np.abs(xt.grad.numpy()).max()


# ----------------------------------------------------------------------------- parameterisations
def test_zoh_equals_matrix_exponential():
    a = np.array([-0.3 + 2.0j, -1.0, -1e-7 + 0.5j])
    Bc = np.array([[1.0, 0.5j], [2.0, 0.0], [1j, 1.0]])
    dt = 0.2
    ssm = rm.DiagonalSSM.zoh(a, Bc, np.ones((1, 3)), dt=dt)
    for n in range(3):  # exp([[a, b], [0, 0]] Δ) = [[e^{aΔ}, ∫_0^Δ e^{as} ds b], [0, 1]]
        M = scipy.linalg.expm(np.array([[a[n], 1.0], [0.0, 0.0]]) * dt)
        assert ssm.lam[n] == pytest.approx(M[0, 0], rel=1e-14)
        np.testing.assert_allclose(ssm.B[n], M[0, 1] * Bc[n], rtol=1e-12)


def test_s4d_and_lru_initialisations():
    s4 = S4D.random(8, 2, 1, dt_min=0.01, dt_max=0.1, rng=0)
    np.testing.assert_allclose(s4.rates, 0.5, rtol=1e-12)
    np.testing.assert_allclose(s4.a.imag, np.pi * np.arange(8))
    assert np.all((np.exp(s4.params()["log_dt"]) >= 0.01) & (np.exp(s4.params()["log_dt"]) <= 0.1))
    assert s4.to_ssm().spectral_radius() < 1
    lru = LRU.random(4000, 1, 1, r_min=0.4, r_max=0.9, max_phase=0.5, rng=1)
    r = np.abs(lru.lam)
    assert r.min() >= 0.4 and r.max() <= 0.9
    # uniform on the ring's area: P(|λ|² <= s) = (s − r_min²)/(r_max² − r_min²)
    assert np.mean(r ** 2 <= 0.5) == pytest.approx((0.5 - 0.16) / (0.81 - 0.16), abs=0.03)
    assert np.angle(lru.lam).min() >= 0 and np.angle(lru.lam).max() <= 0.5
    np.testing.assert_allclose(np.exp(lru.params()["gamma"]), np.sqrt(1 - r ** 2), rtol=1e-12)
    assert isinstance(rm.DiagonalSSM.random(3, rng=0), rm.DiagonalSSM)


@pytest.mark.parametrize("f", ["exp", "softplus", "best"])
def test_stable_reparameterisation_keeps_every_perturbation_stable(f):
    """With a positive f, any perturbation of the raw decay parameters keeps |λ| < 1 (the point of
    reparameterising, docs/math.md §6); the direct λ can be pushed out of the unit disc."""
    rng = np.random.default_rng(2)
    mdl = LRU.random(6, rng=3, f=f, r_min=0.9, r_max=0.999)
    for _ in range(50):
        nu = mdl.params()["nu"] + rng.normal(size=6) * 5
        assert mdl.replace(nu=nu).to_ssm().spectral_radius() < 1
    ssm = mdl.to_ssm()
    assert ssm.replace(lam=ssm.lam * 1.05).spectral_radius() > 1


def test_model_protocol():
    ssm = rm.DiagonalSSM.random(3, 2, 2, feedthrough=True, rng=0)
    assert sorted(ssm.params()) == ["B", "C", "D", "lam"]
    with pytest.raises(ValueError):
        ssm.lam[0] = 0.0
    clone = pickle.loads(pickle.dumps(ssm))
    x = np.ones((1, 5, 2))
    np.testing.assert_array_equal(clone(x), ssm(x))
    with pytest.raises(TypeError, match="complex"):
        rm.DiagonalSSM(ssm.lam, ssm.B, ssm.C, ssm.D + 1j)
    with pytest.raises(ValueError, match="B has shape"):
        rm.DiagonalSSM(ssm.lam, np.ones((4, 2)), ssm.C)
    lru = pickle.loads(pickle.dumps(LRU.random(3, rng=1)))
    assert lru.f.name == "exp"
    J = ssm.jacobian()
    np.testing.assert_allclose(np.sort_complex(np.linalg.eigvals(J)),
                               np.sort_complex(np.concatenate([ssm.lam, np.conj(ssm.lam)])), atol=1e-14)


# ----------------------------------------------------------------------------- analyses
def test_exact_memory_is_the_estimator():
    ssm = rm.DiagonalSSM.random(6, 2, 2, feedthrough=True, rng=4)
    ex = rm.exact_memory(ssm, 80)
    assert ex.method == "markov"
    est = rm.memory_function(ssm, 80, amplitudes=[1.0])
    np.testing.assert_allclose(est.values, ex.values, rtol=1e-10, atol=1e-15)
    per = rm.exact_memory(ssm, 80, x=[[1.0, -0.5]])
    assert per.values.shape == (80,)
    for mdl in (S4D.random(4, rng=0), LRU.random(4, rng=0)):
        np.testing.assert_allclose(rm.exact_memory(mdl, 30).values, rm.exact_memory(mdl.to_ssm(), 30).values)
    with pytest.raises(ValueError, match="discrete-time"):
        rm.exact_memory(ssm, 10, continuous=True)


def test_perturbation_worst_case_crosses_the_unit_circle():
    ssm = rm.DiagonalSSM([0.9, 0.5j], [[1.0], [1.0]], [[1.0, 1.0]])
    x = np.zeros((1, 400, 1))
    x[0, 0] = 1.0
    curve = rm.perturbation_error(ssm, ssm(x), [0, 0.02, 0.05, 0.08, 0.12, 0.2], x=x, samples=3, rng=0)
    assert curve.nominal == 0.0 and curve.worst_errors.shape == (6, 1)
    assert 0.08 <= curve.stability_radius() < 0.12  # blow-up between the grid points around 1 − 0.9 = 0.1
    lo = rm.perturbation_error(ssm, ssm(x), [0.05], x=x, samples=5, rng=1)
    assert np.isfinite(lo.errors).all()


def test_fit_trains_an_lru_with_complex_parameters():
    rng = np.random.default_rng(0)
    teacher = LRU.random(3, rng=1, r_min=0.5, r_max=0.9)
    x = rng.normal(size=(16, 30, 1))
    res = rm.fit(LRU.random(3, rng=2, r_min=0.5, r_max=0.9), x, teacher(x), epochs=60, lr=0.02, progress=False)
    assert res.history["loss"][-1] < 0.3 * res.history["loss"][0]
    direct = rm.fit(rm.DiagonalSSM.random(3, rng=2), x, teacher(x), epochs=40, lr=0.01, progress=False)
    assert np.iscomplexobj(direct.model.lam) and direct.history["loss"][-1] < direct.history["loss"][0]


def test_gains_and_lyapunov_of_the_ssm():
    lam = np.array([0.9, 0.5 + 0.5j, -0.2])
    ssm = rm.DiagonalSSM(lam, np.ones((3, 1)), np.ones((1, 3)))
    x = np.random.default_rng(0).normal(size=(400, 1))
    g = rm.linear.trajectory_gain(ssm, x, 10)
    np.testing.assert_allclose(g, 0.9 ** np.arange(10), rtol=1e-12)
    # the real state [Re h; Im h] has every exponent twice; the start frame's transient decays like
    # (|λ_2|/|λ_1|)^t = 0.79^t, negligible after the washout of 150 steps
    le = rm.linear.lyapunov_exponents(ssm, x, 4, washout=150, rng=0)
    want = [np.log(0.9)] * 2 + [np.log(abs(0.5 + 0.5j))] * 2
    np.testing.assert_allclose(np.sort(le)[::-1], want, atol=1e-9)
    assert rm.stability.spectral_radius(rm.stability.state_jacobian(ssm)) == pytest.approx(0.9)
