"""Regression tests of issue 12's numbered cases in the analysis modules (stability, linear, ntk, approx) and of
issue 13's vocabulary there (cell=, one name per concept, models or matrices, deprecated aliases).

Each ``test_issue12_caseNN_*`` reproduces the call of the issue and asserts the documented outcome: a ValueError/
TypeError naming the argument, or a NonFiniteError naming what overflowed and where, or (case 19) the documented
E = inf — never a hang, a silent NaN/inf or another exception type.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import rnnmem as rm
from rnnmem import approx, linear, ntk, stability

LIN = dict(activation="linear")


def exploding_rnn(m=3, scale=2.0, cell="elman"):
    return rm.RNN(scale * np.eye(m), np.ones((m, 1)), np.zeros(m), np.ones((1, m)), cell=cell, **LIN)


# ------------------------------------------------------------------------------------------------ issue 12
@pytest.mark.parametrize("bad, exc", [(2.5, TypeError), (None, TypeError), (True, TypeError), (0, ValueError)])
def test_issue12_case01_exponential_fit_max_nfev_is_an_integer(bad, exc):
    """max_nfev=2.5 used to hang (and return NaN); None and True were accepted."""
    with pytest.raises(exc, match="max_nfev"):
        approx.exponential_fit(lambda t: 0.9 ** t, 2, t=np.linspace(0, 50, 51), max_nfev=bad)


def test_issue12_case02_perturbation_error_steps():
    """steps=3 gave AxisError, steps=[0, 50] IndexError: an int selects one step, indices are range-checked."""
    rnn = rm.RNN.random(2, cell="euler", dt=0.5, rng=0, **LIN)
    x = np.random.default_rng(1).standard_normal((1, 50, 1))
    y = rnn(x) + np.arange(50)[None, :, None] * 1e-3  # error grows with t: the selected step decides E(0)
    one = rm.perturbation_error(rnn, y, [0.0], x=x, steps=3)
    assert one.nominal == pytest.approx(3e-3, rel=1e-9)
    assert rm.perturbation_error(rnn, y, [0.0], x=x, steps=[3]).nominal == one.nominal
    assert rm.perturbation_error(rnn, y, [0.0], x=x, steps=[-1]).nominal == pytest.approx(49e-3, rel=1e-9)
    with pytest.raises(ValueError, match=r"steps holds the time index 50, outside the T = 50"):
        rm.perturbation_error(rnn, y, [0.0], x=x, steps=[0, 50])
    for bad in (2.5, "1", [0.5], True):
        with pytest.raises(TypeError, match="steps"):
            rm.perturbation_error(rnn, y, [0.0], x=x, steps=bad)
    with pytest.raises(ValueError, match="selects no time step"):
        rm.perturbation_error(rnn, y, [0.0], x=x, steps=slice(5, 5))


def test_issue12_case05_bptt_gain_exploding_raises_nonfinite():
    """bptt_gain(2I, 2000) and trajectory_gain of an exploding model raised numba's LinAlgError (SVD of inf)."""
    with pytest.raises(rm.NonFiniteError, match="lag j = 1024") as err:
        linear.bptt_gain(2 * np.eye(3), 2000)
    assert err.value.step == 1024  # ‖(2I)^j‖ = 2^j overflows at j = 1024
    np.testing.assert_array_equal(linear.bptt_gain(2 * np.eye(3), 1024), 2.0 ** np.arange(1024))
    with pytest.raises(rm.NonFiniteError, match="trajectory_gain"):
        linear.trajectory_gain(exploding_rnn(), np.zeros((2000, 1)), 1500)
    with pytest.raises(rm.NonFiniteError):  # the states themselves explode: named by the forward pass
        linear.trajectory_gain(exploding_rnn(), np.ones((2000, 1)), 10)
    with pytest.raises(rm.NonFiniteError, match="trajectory_gain"):  # the step_jacobians path (a GRU-like model)
        linear.trajectory_gain(_JacobianModel(2 * np.eye(2)), np.zeros((1500, 1)), 1400)


class _JacobianModel:
    """A model known only by its constant state Jacobian (the step_jacobians protocol of GRU/LSTM/SSM)."""

    def __init__(self, J):
        self.J = J

    def step_jacobians(self, x):
        x = np.asarray(x)
        return np.broadcast_to(self.J, x.shape[:-1] + self.J.shape).copy()


def test_issue12_case12_exponential_fit_prune_times_weights():
    """prune=1e300 pruned every mode (IndexError); negative fit times and all-zero weights were accepted."""
    rho, t = (lambda s: 0.9 ** s), np.linspace(0, 50, 51)
    with pytest.raises(ValueError, match="prune must be < 1"):
        approx.exponential_fit(rho, 2, t=t, prune=1e300)
    with pytest.raises(ValueError, match="t must hold fit times >= 0"):
        approx.exponential_fit(rho, 2, t=np.linspace(-5, 50, 56))
    with pytest.raises(ValueError, match="weights are all zero"):
        approx.exponential_fit(rho, 2, t=t, weights=np.zeros(51))
    with pytest.raises(ValueError, match="weights are all zero"):
        approx.fixed_basis_fit(rho, approx.uniform_rates(2), t=t, weights=np.zeros(51))
    fit = approx.exponential_fit(rho, 2, t=t, prune=0.999)  # the largest admissible threshold keeps one mode
    assert fit.rates.size == 1 and fit.rates[0] == pytest.approx(-np.log(0.9), rel=1e-8)


def test_issue12_case13_controllability_rank_rtol():
    """rtol=-1 gave rank 3 for a rank-1 pair; NaN/inf/True gave 0."""
    W, u = 0.5 * np.eye(3), np.ones(3)
    assert linear.controllability_rank(W, u) == 1
    assert linear.controllability_rank(W, u, rtol=1e-6) == 1
    for bad, exc in ((-1.0, ValueError), (0.0, ValueError), (1.0, ValueError), (np.nan, ValueError),
                     (np.inf, ValueError), (True, TypeError), ("1e-3", TypeError)):
        with pytest.raises(exc, match="rtol"):
            linear.controllability_rank(W, u, rtol=bad)


def test_issue12_case14_ntk_validation_and_one_outcome():
    """WideLinearRNN never validated its variances and rates; markov of an unstable W returned NaN/inf;
    lag_weights(sigma2=1e300) and stable_lr(zero X) returned inf; gd returned an inf loss on an SCNN but raised
    FloatingPointError on a WideLinearRNN."""
    m = ntk.init(4, rng=0)
    for field in ("sigma2", "nu_C", "nu_U", "lr_W", "lr_U", "lr_C"):
        for bad, exc in (("x", TypeError), (-1.0, ValueError), (np.nan, ValueError), (None, TypeError),
                         (True, TypeError)):
            with pytest.raises(exc, match=field):
                m.replace(**{field: bad})
    unstable = ntk.init(8, sigma2=100.0, rng=0)
    with pytest.raises(rm.NonFiniteError, match="lag j") as err:
        unstable.markov(400)
    assert 0 < err.value.step < 400
    with pytest.raises(rm.NonFiniteError, match="sigma2=1e\\+300"):
        ntk.lag_weights(5, sigma2=1e300)
    with pytest.raises(ValueError, match="zero"):
        ntk.stable_lr(np.zeros((3, 4)), np.ones(4))
    X, y = 100 * np.ones((2, 3)), np.ones(2)
    for model in (ntk.SCNN(np.ones(3), np.zeros(3)), ntk.init(20, 1.0, rng=0)):
        with pytest.raises(rm.NonFiniteError, match="diverged at step .* lr=1000000.0") as err:
            ntk.gd(model, X, y, lr=1e6, steps=5000)
        assert err.value.step >= 1


@pytest.mark.parametrize("call", [
    lambda v: rm.perturbation_error(rm.RNN.random(2, rng=0), np.zeros((1, 4, 1)), [0.1], x=np.zeros((1, 4, 1)),
                                    worst_case=v),
    lambda v: rm.perturbation_error(rm.RNN.random(2, rng=0), np.zeros((1, 4, 1)), [0.1], x=np.zeros((1, 4, 1)),
                                    running_max=v),
    lambda v: rm.distance_to_instability(-np.eye(2), return_argmin=v),
    lambda v: approx.exponential_fit(lambda t: 0.9 ** t, 1, t=np.arange(10.0)).to_rnn(balance=v),
    lambda v: ntk.lagged_design(np.ones((2, 5)), 3, last_only=v),
    lambda v: ntk.empirical(ntk.init(3, rng=0), 3, blocks=v),
], ids=["worst_case", "running_max", "return_argmin", "balance", "last_only", "blocks"])
@pytest.mark.parametrize("bad", ["no", "False", 0, 1, None])
def test_issue12_case15_flags_are_booleans(call, bad):
    """The string 'no' counted as True."""
    with pytest.raises(TypeError, match="must be True or False"):
        call(bad)


def test_issue12_case16_blocks_string_not_split():
    """perturbation_error(blocks='WU') perturbed W and U."""
    rnn = rm.RNN.random(2, rng=0)
    x = np.zeros((1, 4, 1))
    with pytest.raises(TypeError, match=r"blocks .* not the string 'WU'"):
        rm.perturbation_error(rnn, rnn(x), [0.1], x=x, blocks="WU")
    curve = rm.perturbation_error(rnn, rnn(x), [0.1], x=x, blocks=("W", "U"), rng=0)
    assert curve.info["blocks"] == ["W", "U"]


@pytest.mark.parametrize("call, name", [
    (lambda v: rm.perturbation_error(rm.RNN.random(2, rng=0), np.zeros((1, 4, 1)), [0.1], x=np.zeros((1, 4, 1)),
                                     power=v, error="weighted_mse"), "power"),
    (lambda v: linear.fisher_memory(0.5 * np.eye(2), np.ones(2), 3, noise=v), "noise"),
    (lambda v: approx.exponential_fit(lambda t: 0.9 ** t, 1, t=np.arange(10.0), prune=v), "prune"),
    (lambda v: approx.exponential_fit(lambda t: 0.9 ** t, 1, t=np.arange(10.0), merge=v), "merge"),
    (lambda v: ntk.lag_weights(3, v), "sigma2"),
    (lambda v: rm.distance_to_instability(-np.eye(2), tol=v), "tol"),
    (lambda v: linear.memory_capacity(0.5 * np.eye(2), np.ones(2), 3, ridge=v), "ridge"),
])
@pytest.mark.parametrize("bad", ["1", True, None, 1 + 0j])
def test_issue12_case17_numbers_are_real_numbers(call, name, bad):
    """Numbers were checked with float(): '1' and True passed."""
    with pytest.raises(TypeError, match=name):
        call(bad)


def test_issue12_case19_reparam_exploding_perturbation_is_inf():
    """perturbation_error on ReparamRNN(f='exp') with β = 1e3 raised ValueError from replace(); its docstring
    promises E = ∞ for an exploding perturbation, never an exception."""
    model = rm.reparam.ReparamRNN.random(4, f="exp", rng=0)
    x = np.random.default_rng(0).standard_normal((2, 20, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no overflow warnings leak either
        curve = rm.perturbation_error(model, model.to_rnn()(x), [0.0, 1e-3, 1e3], x=x, samples=3, rng=0)
    assert curve.errors[0] == 0.0 and np.isfinite(curve.errors[1])
    assert curve.errors[2] == np.inf and np.isinf(curve.sample_errors[2]).any()  # exp(w + Δ) overflows for some Δ


def test_issue12_case23_overflow_at_extreme_values():
    """spectral_abscissa(full 1e308), fisher_memory(noise=5e-324) and Lyapunov exponents of a saturated tanh RNN
    returned inf/NaN/−inf silently."""
    with pytest.raises(rm.NonFiniteError, match="spectral_abscissa"):
        rm.spectral_abscissa(np.full((3, 3), 1e308))  # α = 3e308 is beyond float64
    assert rm.spectral_abscissa(np.full((3, 3), 1e300)) == pytest.approx(3e300, rel=1e-12)  # scaled, exact
    assert rm.spectral_radius(np.full((3, 3), -1e300)) == pytest.approx(3e300, rel=1e-12)
    with pytest.raises(rm.NonFiniteError, match="noise"):
        linear.fisher_memory(0.5 * np.eye(2), np.ones(2), 3, noise=5e-324)
    saturated = rm.RNN(np.eye(3), 100 * np.ones((3, 1)), np.zeros(3), np.ones((1, 3)), activation="tanh")
    with pytest.raises(rm.NonFiniteError, match="lyapunov_exponents.*first at time step 0"):
        linear.lyapunov_exponents(saturated, np.ones((50, 1)))
    assert np.isfinite(linear.lyapunov_exponents(saturated, 1e-3 * np.ones((50, 1)))).all()
    assert rm.distance_to_instability(-1e300 * np.eye(2), cell="euler") == pytest.approx(1e300, rel=1e-9)
    with pytest.raises(rm.NonFiniteError, match="h2_norm.*spectral radius"):
        linear.h2_norm(np.diag([1.1, 0.5]), np.ones((2, 1)), np.ones((1, 2)))


def test_issue12_case26_messages_name_the_argument_and_the_fix():
    """spectral_abscissa(rnn) said 'W must be an array of real numbers, got dtype object' without the fix; now a
    model is accepted, and what cannot be accepted says what to pass instead."""
    rnn = rm.RNN.random(4, cell="euler", dt=0.1, rng=0)
    assert rm.spectral_abscissa(rnn) == rm.spectral_abscissa(rnn.W)
    assert rm.spectral_radius(rnn) == rm.spectral_radius(np.eye(4) + 0.1 * rnn.W)
    gru = rm.GRU.random(3, rng=0)
    with pytest.raises(TypeError, match="state_jacobian"):
        rm.spectral_abscissa(gru)
    assert rm.spectral_radius(gru) == rm.spectral_radius(stability.state_jacobian(gru))
    with pytest.raises(ValueError, match=r"needs a linear model .* pass its matrices: memory_capacity\(model.W"):
        linear.memory_capacity(rm.RNN.random(3, rng=0), n=4)
    with pytest.raises(ValueError, match=r"U has shape \(3, 1\), expected .* \(the width of W\)"):
        linear.h2_norm(0.5 * np.eye(2), np.ones((3, 1)), np.ones((1, 2)))
    with pytest.raises(TypeError, match=r"rnn must be an rnnmem.RNN .*\(pass the model, not its matrix\)"):
        linear.trajectory_gain(np.eye(3), np.zeros((5, 1)), 2)


# ------------------------------------------------------------------------------------------------ issue 13
def test_issue13_distance_to_instability_uses_the_models_cell():
    """distance_to_instability(RNN.random(8, rng=0)) returned the continuous distance 0.0 for an elman RNN."""
    rnn = rm.RNN.random(8, rng=0)
    r = rm.distance_to_instability(rnn)
    assert r == rm.distance_to_instability(rnn.W, cell="elman") == rm.distance_to_instability(rnn.W)
    assert r == pytest.approx(0.0506, abs=5e-5) and rm.spectral_abscissa(rnn.W) > 0  # continuous notion: 0
    euler = rm.RNN.random(8, cell="euler", dt=0.1, rng=0).replace(W=-np.eye(8) + 0.2 * np.eye(8, k=1))
    assert rm.distance_to_instability(euler) == rm.distance_to_instability(euler.W, cell="euler")
    with pytest.raises(ValueError, match="differs from the model's own cell"):
        rm.distance_to_instability(rnn, cell="euler")
    gru = rm.GRU.random(4, rng=0)
    assert rm.distance_to_instability(gru) == rm.distance_to_instability(stability.state_jacobian(gru))


@pytest.mark.parametrize("kind, cell", [("continuous", "euler"), ("discrete", "elman")])
def test_issue13_kind_is_a_deprecated_alias_of_cell(kind, cell):
    W = np.array([[-0.5, 2.0], [0.0, -0.3]]) if cell == "euler" else np.array([[0.5, 2.0], [0.0, 0.3]])
    with pytest.warns(DeprecationWarning, match="`kind` is deprecated and will be removed in rnnmem 0.3; use `cell`"):
        old = rm.distance_to_instability(W, kind=kind)
    assert old == rm.distance_to_instability(W, cell=cell)
    with pytest.raises(ValueError, match="contradicts"), pytest.warns(DeprecationWarning):
        rm.distance_to_instability(W, kind=kind, cell="elman" if cell == "euler" else "euler")


def test_issue13_top_level_names_and_lazy_submodules():
    assert rm.spectral_radius is stability.spectral_radius is linear.spectral_radius
    assert "spectral_radius" in rm.__all__
    assert rm.plot.plot_gram is not None and rm.testing.rnns is not None
    assert {"plot", "testing"} <= set(dir(rm))


def test_issue13_ntk_width_is_hidden():
    m = ntk.init(5, rng=0)
    assert m.hidden == 5
    with pytest.warns(DeprecationWarning, match="`n` is deprecated .* use `hidden`"):
        assert m.n == 5
    with pytest.warns(DeprecationWarning, match="`n` is deprecated .* use `hidden`"):
        old = ntk.init(n=5, rng=0)
    np.testing.assert_array_equal(old.W, m.W)
    with pytest.warns(DeprecationWarning, match="`J` is deprecated .* use `n`"):
        np.testing.assert_array_equal(m.markov(J=4), m.markov(4))
    s = ntk.SCNN(np.ones(3), np.arange(3.0))
    with pytest.warns(DeprecationWarning, match="`J` is deprecated .* use `n`"):
        np.testing.assert_array_equal(s.markov(J=5), s.markov(5))
    with pytest.warns(DeprecationWarning, match="`J` is deprecated .* use `n`"):
        np.testing.assert_array_equal(ntk.lagged_design(np.ones((1, 4)), J=2), ntk.lagged_design(np.ones((1, 4)), 2))


# ------------------------------------------------------------------------------------------------ destabiliser
def chain(m, dt=0.1):
    """The non-normal chain W = −I + 1.5N (N the upper shift): α(W) = −1 for every m, r(W) → 0."""
    W = -np.eye(m) + 1.5 * np.eye(m, k=1)
    C = np.zeros((1, m))
    C[0, : m - 1] = 0.5 ** np.arange(m - 1, 0, -1)
    U = np.zeros((m, 1))
    U[-1, 0] = 1.0
    return rm.RNN(W, U, np.zeros(m), C, cell="euler", dt=dt, **LIN)


def test_destabilizer_direction_crosses_the_boundary_at_the_distance():
    """W + βD with D from the minimising frequency: ρ(I + Δt(W + βD)) crosses 1 at β = r_d(I + ΔtW)/Δt."""
    rnn = chain(6)
    A = np.eye(6) + rnn.dt * rnn.W
    r, D, theta = stability._destabilizer(A)
    assert abs(theta) < 1e-9 and np.linalg.norm(D, 2) == pytest.approx(1.0, rel=1e-12)  # real minimiser θ* = 0
    beta = r / rnn.dt
    assert beta == pytest.approx(rm.distance_to_instability(rnn), rel=1e-8)  # = r(W) here (θ* = 0)
    assert rm.spectral_radius(np.eye(6) + rnn.dt * (rnn.W + 0.999 * beta * D)) < 1
    assert rm.spectral_radius(np.eye(6) + rnn.dt * (rnn.W + 1.001 * beta * D)) > 1
    assert beta < 0.1 < -rm.spectral_abscissa(rnn)  # far below −α(W) = 1, where W + βI crosses


def test_perturbation_error_blowup_follows_r_not_minus_alpha_on_the_chain():
    """[P1] Thm. 3.9's mechanism on W = −I + 1.5N: with the smallest-destabiliser worst case the blow-up bracket
    contains r(W) ≈ 0.075; random directions plus W + βI alone (worst_case=False, or the old worst cases) place it
    near −α(W) = 1 — the over-estimate this worst case removes (the control: it must be far above r)."""
    rnn = chain(6)
    x = np.zeros((1, 1000, 1))
    x[0, 0, 0] = 1.0 / rnn.dt
    betas = np.r_[0.0, 1e-3 * 2.0 ** np.arange(12)]
    r = rm.distance_to_instability(rnn)
    curve = rm.perturbation_error(rnn, rnn(x), betas, x=x, samples=3, blocks=("W", "U", "C"), rng=0)
    assert curve.info["worst_cases"][-1].startswith("W+βD")
    lo, hi = curve.blowup_bracket()
    assert lo < r <= hi and hi <= 2 * r + 10 / (1000 * rnn.dt)
    sampled = rm.perturbation_error(rnn, rnn(x), betas, x=x, samples=3, blocks=("W", "U", "C"), rng=0,
                                    worst_case=False)
    assert sampled.blowup_bracket()[0] > 0.25 > 3 * r  # random directions miss the destabiliser


def test_perturbation_error_destabiliser_elman_and_max_entry():
    """The elman cell uses the discrete distance of W itself; norm='max_entry' scales D to max|D_ij| = β."""
    W = np.array([[0.5, 3.0], [0.0, 0.5]])  # ρ = 0.5, r_d = σ_min(W − I) ≈ 0.0828 (θ* = 0)
    rnn = rm.RNN(W, np.ones((2, 1)), np.zeros(2), np.ones((1, 2)), **LIN)
    r = rm.distance_to_instability(rnn)
    assert r == pytest.approx(np.linalg.svd(W - np.eye(2), compute_uv=False)[-1], rel=1e-8)
    x = np.zeros((1, 3000, 1))
    x[0, 0, 0] = 1.0
    curve = rm.perturbation_error(rnn, rnn(x), [0.0, 0.9 * r, 1.1 * r], x=x, samples=0, blocks=("W",))
    assert np.isfinite(curve.worst_errors[1, 2]) and curve.worst_errors[1, 2] < 1e3
    assert curve.worst_errors[2, 2] > 1e6  # W + 1.1 r D grows like (1 + c)^3000
    assert np.isfinite(curve.worst_errors[2, :2]).all() and curve.worst_errors[2, :2].max() < 1e3  # W + βI does not
    me = rm.perturbation_error(rnn, rnn(x), [0.0, 0.05], x=x, samples=0, blocks=("W",), norm="max_entry")
    assert me.worst_errors.shape == (2, 3)

