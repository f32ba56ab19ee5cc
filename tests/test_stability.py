"""rnnmem.stability: linear diagnostics against closed forms and slow references, perturbation error against a
loop-based reference, the stability-radius rule, the normal-W blow-up at β = −α(W)."""

from __future__ import annotations

import math

import naive
import naive_stability as ns
import numpy as np
import pytest
import scipy.linalg as sla
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import rnnmem as rm
from rnnmem.stability import PerturbationCurve, spectral_radius
from rnnmem.testing import rnns

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def jordan_smin(s, c):
    """Smallest singular value of [[z, c], [0, z]] with |z|² = s: σ_min σ_max = s, σ_min² + σ_max² = 2s + c² = q,
    so σ_min² = 2s² / (q + sqrt(q² − 4s²)) (the cancellation-free root)."""
    q = 2 * s + c * c
    return math.sqrt(2 * s * s / (q + math.sqrt(q * q - 4 * s * s)))


def orthogonal(m, rng):
    Q, R = np.linalg.qr(rng.standard_normal((m, m)))
    return Q * np.sign(np.diag(R))


def normal_matrix(m, rng):
    """Real normal matrix Q B Qᵀ with 2×2 rotation-scaling blocks and negative real parts."""
    B = np.zeros((m, m))
    i = 0
    while i < m:
        a = -rng.uniform(0.1, 2.0)
        if i + 1 < m and rng.random() < 0.5:
            b = rng.normal()
            B[i:i + 2, i:i + 2] = [[a, b], [-b, a]]
            i += 2
        else:
            B[i, i] = a
            i += 1
    Q = orthogonal(m, rng)
    return Q @ B @ Q.T


# ------------------------------------------------------------------------------------------------ abscissa
def test_spectral_abscissa_closed_forms():
    assert rm.spectral_abscissa(np.diag([-3.0, -0.5, -1.0])) == -0.5
    assert rm.spectral_abscissa([[-1.0, 10.0], [0.0, -1.0]]) == pytest.approx(-1.0, abs=1e-12)
    assert rm.spectral_abscissa([[-0.2, 3.0], [-3.0, -0.2]]) == pytest.approx(-0.2, abs=1e-12)  # -0.2 ± 3i
    assert spectral_radius([[0.0, 2.0], [-2.0, 0.0]]) == pytest.approx(2.0)


@pytest.mark.parametrize("bad, exc", [(np.ones((2, 3)), ValueError), (np.ones(3), ValueError),
                                      ([[np.nan, 0], [0, 1]], ValueError), (np.eye(2) * 1j, TypeError)])
def test_linear_diagnostics_reject_bad_input(bad, exc):
    with pytest.raises(exc):
        rm.spectral_abscissa(bad)
    with pytest.raises(exc):
        rm.distance_to_instability(bad)


def test_distance_rejects_bad_options():
    with pytest.raises(ValueError, match="cell"):
        rm.distance_to_instability(-np.eye(2), cell="z")
    with pytest.raises(ValueError, match="tol"):
        rm.distance_to_instability(-np.eye(2), tol=0)


# ------------------------------------------------------------------------------------ distance to instability
def test_distance_diagonal_and_unstable():
    assert rm.distance_to_instability(np.diag([-0.3, -2.0]), cell="euler") == pytest.approx(0.3, rel=1e-12)
    assert rm.distance_to_instability(np.diag([0.1, -2.0]), cell="euler") == 0.0
    assert rm.distance_to_instability(np.diag([0.0, -2.0]), cell="euler") == 0.0
    assert rm.distance_to_instability(np.diag([0.5, -0.2]), cell="elman") == pytest.approx(0.5, rel=1e-12)
    assert rm.distance_to_instability(np.diag([1.5, 0.2]), cell="elman") == 0.0


@pytest.mark.parametrize("a, c", [(1.0, 10.0), (0.5, 1.0), (2.0, 0.1), (0.1, 100.0)])
def test_distance_jordan_block_closed_form(a, c):
    """W = [[−a, c], [0, −a]]: σ_min(W − iωI) increases with |z|² = a² + ω², minimum at ω = 0."""
    W = np.array([[-a, c], [0.0, -a]])
    r, w = rm.distance_to_instability(W, cell="euler", return_argmin=True)
    assert r == pytest.approx(jordan_smin(a * a, c), rel=1e-9)
    assert abs(w) < 1e-6
    assert r < a  # non-normal: strictly closer to instability than −α(W) = a


@pytest.mark.parametrize("a, c", [(0.5, 3.0), (0.9, 0.5), (-0.7, 2.0)])
def test_distance_discrete_jordan_block_closed_form(a, c):
    """A = [[a, c], [0, a]]: σ_min(A − e^{iθ}I) is minimal where |a − e^{iθ}| = 1 − |a|."""
    A = np.array([[a, c], [0.0, a]])
    r = rm.distance_to_instability(A, cell="elman")
    assert r == pytest.approx(jordan_smin((1 - abs(a)) ** 2, c), rel=1e-9)


def test_distance_counterexample_value():
    """docs/math.md §5 matrix: α = −1 but r ≈ 0.0990."""
    r = rm.distance_to_instability([[-1.0, 10.0], [0.0, -1.0]], cell="euler")
    assert r == pytest.approx(0.0990195135927840, rel=1e-9)


@settings(max_examples=25, **SETTINGS)
@given(seed=st.integers(0, 2**31 - 1), m=st.integers(1, 6))
def test_distance_normal_equals_minus_abscissa(seed, m):
    rng = np.random.default_rng(seed)
    W = normal_matrix(m, rng)
    # Error model: the library's distance is within its documented relative tol = 1e-10 of the true one, up to the
    # rounding of the eigenvalue tests it bisects on (γ_20m ‖W‖); the computed W = Q B Qᵀ is within γ_2m m^{3/2}‖W‖
    # of a normal matrix, whose eigenvalues (Bauer–Fike, κ = 1) and distance move by no more; eigvals errs by γ_10m ‖W‖.
    nW = np.linalg.norm(W, 2)
    r = rm.distance_to_instability(W, cell="euler")
    naive.assert_within(r, -rm.spectral_abscissa(W), 1e-10 * r + naive.rounding(30 * m, nW)
                        + 2 * naive.rounding(2 * m, m**1.5 * nW), "distance (continuous)", factor=1.0)
    A = orthogonal(m, rng) * rng.uniform(0.1, 0.95)  # normal, all |λ| equal
    rd = rm.distance_to_instability(A, cell="elman")
    naive.assert_within(rd, 1 - spectral_radius(A), 1e-10 * rd + naive.rounding(30 * m, 1.0)
                        + 2 * naive.rounding(10 * m * m, 1.0), "distance (discrete)", factor=1.0)


@settings(max_examples=20, **SETTINGS)
@given(W=hnp.arrays(np.float64, (4, 4), elements=st.floats(-3, 3, allow_subnormal=False)),
       shift=st.floats(0.05, 2.0))
def test_distance_matches_grid_reference(W, shift):
    """Random (mostly non-normal) matrices: Byers bisection vs dense grid + refinement; never below the true min."""
    W = W - (rm.spectral_abscissa(W) + shift) * np.eye(4)
    check_distance(W, shift)


def check_distance(W, shift, r=None, rd=None):
    """Error model: the library is within its documented relative tol = 1e-10 of the true distance, up to the
    rounding of the eigenvalue tests it bisects on (γ_20m ‖W‖); the reference (naive_stability: a grid and Brent
    refinements around every grid point that can hold the minimum of the 1-Lipschitz σ_min) is within the
    rounding of its SVDs (γ_10m (‖W‖ + 1)). r <= −α(W) holds exactly; the computed α errs by at most
    max_i κ_i γ_10m ‖W‖ (κ_i the eigenvalue condition numbers: large for a nearly defective W)."""
    m = W.shape[0]
    nW = np.linalg.norm(W, 2)
    r = rm.distance_to_instability(W, cell="euler") if r is None else r
    ref = ns.distance_continuous(W)
    naive.assert_within(r, ref, 1e-10 * r + naive.rounding(30 * m, nW + 1), "distance (continuous)", factor=1.0)
    lam, vl, vr = sla.eig(W, left=True, right=True)
    kappa = np.linalg.norm(vl, axis=0) * np.linalg.norm(vr, axis=0) / np.abs(np.einsum("ij,ij->j", vl.conj(), vr))
    assert r <= (1 + 1e-10) * (-rm.spectral_abscissa(W) + kappa.max() * naive.rounding(10 * m, nW)) + \
        naive.rounding(20 * m, nW), "r <= −α(W)"
    A = W / (spectral_radius(W) * (1 + shift))  # Schur stable
    rd = rm.distance_to_instability(A, cell="elman") if rd is None else rd
    naive.assert_within(rd, ns.distance_discrete(A), 1e-10 * rd + naive.rounding(30 * m, np.linalg.norm(A, 2) + 1),
                        "distance (discrete)", factor=1.0)


def test_distance_check_catches_a_relative_error_of_1e_5():
    rng = np.random.default_rng(4)
    W = rng.uniform(-3, 3, (4, 4))
    W = W - (rm.spectral_abscissa(W) + 0.3) * np.eye(4)
    check_distance(W, 0.3)
    r = rm.distance_to_instability(W, cell="euler")
    A = W / (spectral_radius(W) * 1.3)
    rd = rm.distance_to_instability(A, cell="elman")
    with pytest.raises(AssertionError, match="continuous"):
        check_distance(W, 0.3, r=r * 1.00001)
    with pytest.raises(AssertionError, match="discrete"):
        check_distance(W, 0.3, rd=rd * 1.00001)


def test_distance_tolerance_and_argmin():
    rng = np.random.default_rng(3)
    W = rng.standard_normal((5, 5)) * 2
    W -= (rm.spectral_abscissa(W) + 0.3) * np.eye(5)
    r, w = rm.distance_to_instability(W, cell="euler", return_argmin=True, tol=1e-12)
    assert np.linalg.svd(W - 1j * w * np.eye(5), compute_uv=False)[-1] == pytest.approx(r, rel=1e-12)
    coarse = rm.distance_to_instability(W, cell="euler", tol=1e-2)
    assert r <= coarse * (1 + 1e-12) and coarse <= r * 1.02


# ------------------------------------------------------------------------------------- perturbation error
def impulse(T, dt=1.0):
    x = np.zeros((1, T, 1))
    x[0, 0, 0] = 1.0 / dt
    return x


def diag_rnn(lams, dt, cell="euler"):
    m = len(lams)
    return rm.RNN(np.diag(lams), np.ones((m, 1)), np.zeros(m), np.ones((1, m)) / m, cell=cell,
                  activation="linear", dt=dt)


@pytest.mark.parametrize("error", ["sup", "mse", "weighted_mse", "w1"])
@pytest.mark.parametrize("norm", ["spectral", "max_entry"])
def test_perturbation_error_matches_loop_reference(error, norm):
    rnn = rm.RNN.random(3, inputs=2, outputs=2, cell="euler", activation="tanh", dt=0.3, bias=0.2,
                        feedthrough=True, rng=1)
    x = np.random.default_rng(2).normal(size=(2, 15, 2))
    y = np.random.default_rng(3).normal(size=(2, 15, 2)) * 0.1 + rnn(x)
    betas = [0.0, 0.01, 0.2, 1.5]
    curve = rm.perturbation_error(rnn, y, betas, samples=3, x=x, norm=norm, error=error, rng=7)
    ref = ns.perturbation_errors(rnn, y, x, betas, 3, 7, norm=norm, error=error)
    np.testing.assert_allclose(curve.errors, ref, rtol=1e-10, atol=1e-14)
    assert curve.sample_errors.shape == (4, 3) and curve.worst_errors.shape == (4, 3)


@settings(max_examples=15, **SETTINGS)
@given(rnn=rnns(hidden=st.integers(1, 4), inputs=st.integers(1, 2), outputs=st.integers(1, 2)),
       seed=st.integers(0, 1000))
def test_perturbation_error_property_vs_reference(rnn, seed):
    x = np.random.default_rng(seed).normal(size=(2, 8, rnn.inputs))
    y = np.zeros((2, 8, rnn.outputs))
    betas = [0.0, 0.05, 0.3]
    curve = rm.perturbation_error(rnn, y, betas, samples=2, x=x, rng=seed)
    ref = ns.perturbation_errors(rnn, y, x, betas, 2, seed)
    # both evaluate the same perturbed models (the sup of |y|, target 0): each within the running bound that
    # dominates all models at level β (naive_stability.perturbed_output_bound)
    bound = [ns.perturbed_output_bound(rnn, x, beta) for beta in betas]
    naive.assert_within(curve.errors, ref, bound, "errors")


def test_perturbation_check_catches_a_relative_error_of_1e_5():
    rnn = rm.RNN.random(3, inputs=2, outputs=2, cell="euler", activation="tanh", dt=0.3, bias=0.2, rng=1)
    x = np.random.default_rng(2).normal(size=(2, 8, 2))
    y = np.zeros((2, 8, 2))
    betas = [0.0, 0.05, 0.3]
    curve = rm.perturbation_error(rnn, y, betas, samples=2, x=x, rng=3)
    ref = ns.perturbation_errors(rnn, y, x, betas, 2, 3)
    bound = [ns.perturbed_output_bound(rnn, x, beta) for beta in betas]
    naive.assert_within(curve.errors, ref, bound, "errors")
    with pytest.raises(AssertionError):
        naive.assert_within(curve.errors * 1.00001, ref, bound, "errors")


def test_normal_W_finite_below_minus_alpha_and_blows_up_beyond():
    """Linear euler RNN with normal W: for β < −α(W) every perturbed model (‖ΔW‖₂ = β moves eigenvalues of a
    normal W by at most β) stays stable and the error stays bounded; beyond −α(W) the worst case W + βI makes
    I + Δt(W + βI) have an eigenvalue > 1 and the error explodes."""
    rng = np.random.default_rng(0)
    Q = orthogonal(3, rng)
    W = Q @ np.diag([-0.3, -0.7, -1.2]) @ Q.T  # symmetric (normal), −α(W) = 0.3
    dt, T = 0.1, 3000
    rnn = rm.RNN(W, rng.normal(size=(3, 1)), np.zeros(3), rng.normal(size=(1, 3)), cell="euler",
                 activation="linear", dt=dt)
    x = impulse(T, dt)
    a = -rm.spectral_abscissa(W)
    assert a == pytest.approx(0.3)
    below = a * np.array([0.1, 0.3, 0.6, 0.9])
    above = a * np.array([1.3, 2.0])
    curve = rm.perturbation_error(rnn, rnn(x), np.r_[below, above], x=x, samples=8, blocks=("W",), rng=1)
    nb = below.size
    assert np.all(np.isfinite(curve.errors[:nb]))
    assert np.all(np.isfinite(curve.sample_errors[:nb]))
    # W + βI, β < −α: kernel C e^{(W+βI)t}U − C e^{Wt}U is bounded by (e^{βt} − 1)e^{−αt}|C||U| ≤ |C||U|
    bound = np.linalg.norm(rnn.C) * np.linalg.norm(rnn.U) / dt
    assert np.all(curve.worst_errors[:nb] <= bound)
    assert np.all(curve.worst_errors[nb:, 0] > 1e3 * curve.worst_errors[nb - 1, 0])
    lo, hi = curve.blowup_bracket()
    assert lo < a <= hi
    assert curve.stability_radius() == pytest.approx(below[-1])


@settings(max_examples=12, **SETTINGS)
@given(seed=st.integers(0, 2**31 - 1), m=st.integers(1, 5), rho=st.floats(0.3, 0.97), frac=st.floats(0.1, 0.95))
def test_normal_W_property_stable_below_radius(seed, m, rho, frac):
    """Linear elman RNN with a random normal W (‖W‖₂ = ρ(W) = ρ, largest eigenvalue real), β = frac·(1 − ρ):
    ‖(W + Δ)^k‖₂ ≤ (ρ + β)^k < 1 for every ‖Δ‖₂ = β, so the kernel error |C(W+Δ)^kU − CW^kU| ≤ 2|C||U| for all k
    — exactly, sampled and worst-case directions alike; beyond the radius W + 1.5(1 − ρ)I explodes."""
    rng = np.random.default_rng(seed)
    B = np.zeros((m, m))
    B[0, 0] = rho
    i = 1
    while i < m:
        r = rho * rng.uniform(0.1, 1.0)
        if i + 1 < m and rng.random() < 0.5:
            th = rng.uniform(0, np.pi)
            B[i:i + 2, i:i + 2] = r * np.array([[np.cos(th), np.sin(th)], [-np.sin(th), np.cos(th)]])
            i += 2
        else:
            B[i, i] = r * rng.choice([-1.0, 1.0])
            i += 1
    Q = orthogonal(m, rng)
    W = Q @ B @ Q.T
    rd = rm.distance_to_instability(W, cell="elman")  # W within γ_2m m^{3/2}‖W‖ of a normal matrix (as above)
    naive.assert_within(rd, 1 - rho, 1e-10 * rd + naive.rounding(30 * m, 1.0) + 2 * naive.rounding(2 * m, m**1.5 * rho),
                        "distance (discrete)", factor=1.0)
    rnn = rm.RNN(W, rng.normal(size=(m, 1)), np.zeros(m), rng.normal(size=(1, m)), cell="elman",
                 activation="linear")
    T = int(40 / (1 - rho)) + 1
    x = impulse(T)
    c = rm.perturbation_error(rnn, rnn(x), [frac * (1 - rho), 1.5 * (1 - rho)], x=x, samples=4, blocks=("W",),
                              rng=seed)
    bound = 2 * np.linalg.norm(rnn.C) * np.linalg.norm(rnn.U)
    # rounding of the two impulse responses (perturbed and nominal): the state's error grows by a relative
    # γ_{m+1}√m per step and is carried by a contraction of rate q = ρ + β(1 + γ_10m) (the normalised direction's
    # own rounding), the readout adds γ_{m+1}: <= 2‖C‖‖U‖ max_k (k γ_{m+1}√m + γ_{m+1}) q^k
    q = rho + frac * (1 - rho) * (1 + naive.rounding(10 * m, 1.0))
    k = np.arange(T)
    slack = 2 * np.linalg.norm(rnn.C) * np.linalg.norm(rnn.U) * np.max(
        (k * naive.gamma(m + 1) * np.sqrt(m) + naive.gamma(m + 1)) * q**k)
    assert np.all(c.sample_errors[0] <= bound + slack) and np.all(c.worst_errors[0] <= bound + slack)
    assert c.worst_errors[1, 0] > 1e3 * bound  # (1 + (1 − ρ)/2)^T ≥ e^{0.3 · 40}


def test_exploding_models_give_inf_not_error():
    rnn = rm.RNN(np.eye(2) * 0.5, np.ones((2, 1)), np.zeros(2), np.ones((1, 2)), cell="elman",
                 activation="linear")
    x = np.ones((1, 3000, 1))
    curve = rm.perturbation_error(rnn, rnn(x), [0.0, 0.1, 5.0], x=x, samples=2, rng=0)
    assert curve.errors[0] == 0.0 and np.isfinite(curve.errors[1])
    assert np.isinf(curve.errors[2]) and np.isinf(curve.worst_errors[2]).all()
    assert curve.stability_radius() == 0.1


def test_running_max_and_nominal():
    rnn = diag_rnn([-0.2, -0.5], 1.0)
    x = impulse(60)
    y = rnn(x) + 0.01
    c = rm.perturbation_error(rnn, y, [0.0, 1e-4, 1e-3], x=x, samples=4, rng=0, running_max=True)
    assert c.nominal == pytest.approx(0.01)
    assert np.all(np.diff(c.errors) >= 0)
    assert c.errors[0] == pytest.approx(0.01)


def test_target_callable_with_and_without_dt_and_default_inputs():
    rnn = rm.RNN.random(2, cell="euler", activation="linear", dt=0.5, rng=0)
    seen = {}

    def with_dt(x, dt=1.0):
        seen["dt"] = dt
        return rnn(x)

    c1 = rm.perturbation_error(rnn, with_dt, [0.0, 0.01], samples=2, T=20, batch=3, rng=4)
    assert seen["dt"] == 0.5 and c1.nominal == 0.0 and c1.info["inputs"] == (3, 20, 1)
    c2 = rm.perturbation_error(rnn, lambda x: rnn(x), [0.0, 0.01], samples=2, T=20, batch=3, rng=4)
    np.testing.assert_array_equal(c1.errors, c2.errors)  # same seed, same bits
    c3 = rm.perturbation_error(rnn, rm.targets.exponential(rate=0.3), [0.0], T=10, rng=0)
    assert np.isfinite(c3.nominal)


def test_steps_and_blocks_select():
    rnn = diag_rnn([-0.2, -0.5], 1.0)
    x = impulse(30)
    y = rnn(x)
    y[:, 0] += 5.0  # a large error only at t = 0
    c_all = rm.perturbation_error(rnn, y, [0.0], x=x)
    c_cut = rm.perturbation_error(rnn, y, [0.0], x=x, steps=slice(1, None))
    assert c_all.nominal == pytest.approx(5.0) and c_cut.nominal == pytest.approx(0.0, abs=1e-15)
    c_U = rm.perturbation_error(rnn, rnn(x), [0.0, 0.1], x=x, samples=3, blocks=("U",), rng=0)
    assert c_U.worst_errors.shape == (2, 0)  # no W perturbed: no W + βI case
    # perturbing U only is linear in ΔU: error = max_t |C e^{Wt} ΔU| ≤ β |C| max‖e^{Wt}‖
    assert c_U.errors[1] <= 0.1 * np.linalg.norm(rnn.C) + 1e-15


def test_reparameterised_model_protocol():
    """Any model with params()/replace()/to_rnn(): the raw block is perturbed, the effective RNN evaluated."""

    class Diag:
        def __init__(self, w, U, C):
            self.w, self.U, self.C = np.asarray(w), np.asarray(U), np.asarray(C)

        def params(self):
            return {"w": self.w, "U": self.U, "C": self.C}

        def replace(self, **kw):
            p = self.params() | kw
            return Diag(p["w"], p["U"], p["C"])

        def to_rnn(self):
            m = self.w.size
            return rm.RNN(-np.diag(np.exp(self.w)), self.U, np.zeros(m), self.C, cell="euler",
                          activation="linear", dt=0.1)

    model = Diag([0.0, -1.0], np.ones((2, 1)), np.ones((1, 2)))
    x = impulse(2000, 0.1)
    y = model.to_rnn()(x)
    c = rm.perturbation_error(model, y, [0.0, 0.5, 2.0], x=x, samples=5, rng=0)
    assert c.worst_errors.shape == (3, 0)
    # W = −exp(w) stays Hurwitz under any perturbation of w (and |1 + Δt w_i| < 1 for exp(w_i) ≤ e² here)
    assert np.all(np.isfinite(c.errors)) and c.errors[-1] < 10
    direct = rm.perturbation_error(model.to_rnn(), y, [0.0, 0.5, 2.0], x=x, samples=5, rng=0)
    assert direct.errors[-1] > 1e6  # the direct parameterisation crosses the boundary (−α(W) = e^{−1})


def test_perturbation_error_validation():
    rnn = rm.RNN.random(2, rng=0)
    x = np.zeros((1, 5, 1))
    y = np.zeros((1, 5, 1))
    with pytest.raises(ValueError, match="betas"):
        rm.perturbation_error(rnn, y, [-0.1], x=x)
    with pytest.raises(ValueError, match="error"):
        rm.perturbation_error(rnn, y, [0.1], x=x, error="l7")
    with pytest.raises(ValueError, match="norm"):
        rm.perturbation_error(rnn, y, [0.1], x=x, norm="fro")
    with pytest.raises(ValueError, match="blocks"):
        rm.perturbation_error(rnn, y, [0.1], x=x, blocks=("Q",))
    with pytest.raises(ValueError, match="x is required"):
        rm.perturbation_error(rnn, y, [0.1])
    with pytest.raises(ValueError, match="target"):
        rm.perturbation_error(rnn, np.zeros((1, 4, 1)), [0.1], x=x)
    with pytest.raises(ValueError, match="nothing to evaluate"):
        rm.perturbation_error(rnn, y, [0.1], x=x, samples=0, worst_case=False)
    with pytest.raises(TypeError, match="params"):
        rm.perturbation_error(object(), y, [0.1], x=x)
    with pytest.raises(TypeError, match="samples"):
        rm.perturbation_error(rnn, y, [0.1], x=x, samples=1.5)
    with pytest.raises(ValueError, match="x has shape"):
        rm.perturbation_error(rnn, y, [0.1], x=np.zeros((1, 5, 2)))


def test_inputs_not_mutated():
    rnn = rm.RNN.random(2, rng=0)
    x = np.random.default_rng(0).normal(size=(1, 6, 1))
    y = rnn(x)
    x0, y0 = x.copy(), y.copy()
    rm.perturbation_error(rnn, y, [0.0, 0.1], x=x, rng=0)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(y, y0)


# ------------------------------------------------------------------------------------------ radius rule
def curve(betas, errors):
    b, e = np.asarray(betas, float), np.asarray(errors, float)
    return PerturbationCurve(b, e, e[:, None], np.zeros((b.size, 0)), float(e[0]))


def test_stability_radius_rule():
    b = [0.0, 0.01, 0.02, 0.04, 0.08, 0.16]
    assert curve(b, [0.1, 0.1, 0.11, 0.12, np.inf, np.inf]).blowup_bracket() == (0.04, 0.08)
    # slope rule: ×100 per doubling is a blow-up (slope log2(100) ≈ 6.6 > 4); linear growth is not
    assert curve(b, [0, 1e-3, 2e-3, 4e-3, 0.4, 40]).stability_radius() == 0.04
    assert curve(b, [0, 1e-3, 2e-3, 4e-3, 8e-3, 1.6e-2]).blowup_bracket() == (0.16, math.inf)
    assert curve(b, [0, 1e-3, 2e-3, 4e-3, 8e-3, 1.6e-2]).stability_radius(limit=5e-3) == 0.04
    assert curve(b, [0, 1e-3, 2e-3, 4e-3, 0.4, 40]).stability_radius(max_slope=8) == 0.16
    assert curve(b, [np.inf] * 6).blowup_bracket() == (0.0, 0.0)
    assert curve([0.0, 0.1], [0.0, np.inf]).stability_radius() == 0.0
    with pytest.raises(ValueError):
        curve(b, [0] * 6).stability_radius(max_slope=-1)


def test_plot_perturbation_marks_blowups():
    import matplotlib

    matplotlib.use("Agg")
    from rnnmem.plot import plot_perturbation

    b = [0.0, 0.01, 0.02, 0.04]
    ax = plot_perturbation({"a": curve(b, [1e-3, 1e-3, 1e5, np.inf]), "b": curve(b, [1e-4, 2e-3, 4e-3, 8e-3])},
                           radius=True)
    markers = [ln.get_marker() for ln in ax.get_lines()]
    assert "x" in markers and "^" in markers
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    with pytest.raises(TypeError):
        plot_perturbation([1, 2])
    import matplotlib.pyplot as plt

    plt.close("all")
