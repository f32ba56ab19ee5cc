"""Regression tests of issue 12's cases in the core modules (one test per case, named after its number), and of the
vocabulary and input-layout items of issue 13 (renamed arguments, one (T, d) sequence in fit, time-major input).

Each test reproduces the reported call and asserts the contract: a ValueError/TypeError (or the documented
``NonFiniteError``) that names the argument, never a silent NaN/inf, a wrapped index or a broadcast.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rnnmem as rm
from rnnmem import NonFiniteError, memory, reparam, targets, testing


def _x(B=4, T=10, d=1, seed=0):
    return np.random.default_rng(seed).normal(size=(B, T, d))


def _fit(model, x, y, **kw):
    return rm.fit(model, x, y, epochs=1, lr=1e-2, progress=False, **kw)


# ----------------------------------------------------------------------------------------------- case 3
def test_issue12_case03_fit_validation_labels_out_of_range_or_negative_raise():
    model = rm.RNN.random(3, outputs=3, rng=0)
    x = _x()
    labels = np.array([0, 1, 2, 0])
    with pytest.raises(ValueError, match=r"validation\[1\] labels must lie in 0..2 .* got 5 at index 2"):
        _fit(model, x, labels, loss="cross_entropy", validation=(x, np.array([0, 1, 5, 0])))
    with pytest.raises(ValueError, match=r"validation\[1\] labels must lie in 0..2 .* got -1 at index 2"):
        _fit(model, x, labels, loss="cross_entropy", validation=(x, np.array([0, 1, -1, 0])))
    with pytest.raises(ValueError, match=r"y labels must lie in 0..2"):  # the training labels too
        _fit(model, x, np.array([0, 3, 0, 0]), loss="cross_entropy")
    with pytest.raises(TypeError, match=r"validation\[1\] must be integer class labels"):
        _fit(model, x, labels, loss="cross_entropy", validation=(x, np.array([0.0, 1.0, 2.0, 0.0])))


# ----------------------------------------------------------------------------------------------- case 4
def test_issue12_case04_fit_validation_targets_of_the_wrong_shape_raise():
    model = rm.RNN.random(3, rng=0)
    x = _x()
    y = model(x)
    with pytest.raises(ValueError, match=r"validation\[1\] has shape \(1, 10, 1\), expected \(4, 10, 1\)"):
        _fit(model, x, y, validation=(x, y[:1]))  # used to broadcast silently
    with pytest.raises(ValueError, match=r"validation\[1\] has shape \(4, 5, 1\), expected \(4, 10, 1\)"):
        _fit(model, x, y, validation=(x, y[:, :5]))  # used to give a bare broadcast error
    with pytest.raises(ValueError, match=r"validation\[1\] has shape \(4, 10, 2\), expected \(4, 10, 1\)"):
        _fit(model, x, y, validation=(x, np.concatenate([y, y], axis=2)))
    with pytest.raises(ValueError, match=r"y has shape \(4, 10, 2\), expected \(4, 10, 1\)"):
        _fit(model, x, np.concatenate([y, y], axis=2))


# ----------------------------------------------------------------------------------------------- case 6
def test_issue12_case06_continuous_kernel_validates_and_never_returns_nonfinite():
    U, C = np.ones((2, 1)), np.ones((1, 2))
    with pytest.raises(ValueError, match=r"W must be square \(m, m\), got shape \(2, 3\)"):
        memory.continuous_kernel(np.ones((2, 3)), U, C, np.arange(3.0))
    with pytest.raises(ValueError, match="t must be >= 0"):
        memory.continuous_kernel(-np.eye(2), U, C, -np.arange(1000.0))
    with pytest.raises(NonFiniteError, match="continuous kernel .* not finite .* time step") as info:
        memory.continuous_kernel(np.eye(2) * 1e3, U, C, np.arange(1000.0))
    assert info.value.step == int(np.ceil(np.log(np.finfo(float).max) / 1e3))  # e^{1000 t} overflows at t = 1
    for method in ("eig", "expm"):
        with pytest.raises(NonFiniteError):
            memory.continuous_kernel(np.eye(2) * 1e3, U, C, np.arange(5.0), method=method)
    # a stable kernel is unchanged: C e^{Wt} U = 2 e^{-t} for W = -I
    np.testing.assert_allclose(memory.continuous_kernel(-np.eye(2), U, C, np.arange(5.0))[:, 0, 0],
                               2 * np.exp(-np.arange(5.0)), rtol=1e-14)


# ----------------------------------------------------------------------------------------------- case 7
def test_issue12_case07_exact_memory_of_an_unstable_model_raises_on_both_paths():
    unstable = rm.RNN(2 * np.eye(2), np.ones((2, 1)), np.zeros(2), np.ones((1, 2)), cell="euler",
                      activation="linear")
    with pytest.raises(NonFiniteError, match="continuous kernel"):
        rm.exact_memory(unstable, 1000, continuous=True)
    with pytest.raises(NonFiniteError, match="Markov parameters overflow"):
        rm.exact_memory(unstable, 1000)
    tanh = unstable.replace(activation="tanh", W=np.diag([2.0, -1.0]))
    mf = rm.exact_memory(tanh, 50, continuous=True)  # saturating: finite, the same on both paths
    assert np.isfinite(mf.values).all() and np.isfinite(rm.exact_memory(tanh, 50).values).all()


# ----------------------------------------------------------------------------------------------- case 8
def test_issue12_case08_memory_function_dt_must_be_the_models_and_representable():
    rnn = rm.RNN.random(3, cell="euler", dt=0.5, rng=0)
    with pytest.raises(ValueError, match=r"dt=1.0 differs from the model's own dt=0.5"):
        rm.memory_function(rnn, 10, dt=1.0)  # used to double the values silently
    assert rm.memory_function(rnn, 10, dt=0.5).dt == 0.5  # the model's own dt is fine
    teacher = targets.teacher(rnn)
    with pytest.raises(ValueError, match="differs from the model's own dt"):
        rm.memory_function(teacher, 10, dt=0.25)
    f = targets.exponential(rate=0.5)  # a target takes any grid step
    with pytest.raises(ValueError, match="dt must be at least .* subnormal"):
        rm.memory_function(f, 10, dt=1e-320)  # used to give all-inf
    with pytest.raises(ValueError, match=r"dt=1e\+308 with T=10 gives times"):
        rm.memory_function(f, 10, dt=1e308)
    gain = rm.RNN(np.zeros((1, 1)), np.ones((1, 1)), np.zeros(1), np.full((1, 1), 1e300), activation="linear",
                  dt=1e-10)
    with pytest.raises(NonFiniteError, match="memory function is not finite .*dt=1e-10"):
        rm.memory_function(gain, 5)  # |Δy|/(Δt|x|) = 1e310 overflows


# ----------------------------------------------------------------------------------------------- case 9
@pytest.mark.parametrize("target", [targets.exponential(rate=-1.0), targets.exponential(base=2.0),
                                    targets.sum_of_exponentials([1.0, 1.0], [0.5, -1.0])],
                         ids=["rate=-1", "base=2", "negative rate"])
def test_issue12_case09_growing_kernels_raise_instead_of_an_all_nan_output(target):
    x = np.ones((1, 2000, 1))
    with pytest.raises(NonFiniteError, match=r"kernel r\(t\) .* not finite .* growing kernel"):
        target(x)
    y = target(x[:, :50])  # a short horizon is fine: finite, and the exact sum of the growing kernel
    ref = np.cumsum(target.kernel(np.arange(50.0)))
    np.testing.assert_allclose(y[0, :, 0], ref, rtol=1e-9)
    with pytest.raises(ValueError, match="t must be >= 0"):
        target.kernel(-1000.0)  # used to return inf
    with pytest.raises(NonFiniteError):
        target.kernel(1e4)


# ----------------------------------------------------------------------------------------------- case 10
def test_issue12_case10_fft_convolve_validates_its_arguments():
    with pytest.raises(TypeError, match="kernel must be an array of real numbers, got None"):
        targets.fft_convolve(None, np.ones(3))
    with pytest.raises(ValueError, match="s must have at least one axis"):
        targets.fft_convolve([1.0, 2.0], 3.0)
    with pytest.raises(ValueError, match="kernel contains NaN or inf"):
        targets.fft_convolve(np.array([np.nan, 1.0]), np.ones(2))
    with pytest.raises(ValueError, match="kernel must be 1-D, got a 2-D array"):
        targets.fft_convolve(np.ones((2, 2)), np.ones(2))
    with pytest.raises(NonFiniteError, match="convolution .* overflows"):
        targets.fft_convolve(np.full(4, 1e308), np.full(4, 1e308))
    # lists work, and the result is the causal convolution
    np.testing.assert_allclose(targets.fft_convolve([1.0, 2.0], [1.0, 1.0, 1.0]), [1.0, 3.0, 3.0], atol=1e-14)


# ----------------------------------------------------------------------------------------------- case 11
@pytest.mark.parametrize("opt", [rm.Adam(0.1), rm.SGD(0.1, momentum=0.9)], ids=["adam", "sgd"])
def test_issue12_case11_optimiser_steps_validate_blocks_shapes_and_finiteness(opt):
    params = {"W": np.eye(2)}
    with pytest.raises(ValueError, match=r"grads has block\(s\) \['X'\] that params does not have"):
        opt.step(params, {"X": np.ones((2, 2))})
    with pytest.raises(ValueError, match=r"grads\['W'\] has shape \(2,\) but params\['W'\] has shape \(2, 2\)"):
        opt.step(params, {"W": np.ones(2)})
    with pytest.raises(NonFiniteError, match=r"grads\['W'\] is not finite"):
        opt.step(params, {"W": np.full((2, 2), np.nan)})
    with pytest.raises(TypeError, match="params must be a mapping"):
        opt.step([np.eye(2)], {"W": np.ones((2, 2))})
    assert opt.t == 0  # a refused step leaves the optimiser's state unchanged
    out = opt.step(params, {"W": np.ones((2, 2))})
    assert opt.t == 1 and np.isfinite(out["W"]).all() and np.array_equal(params["W"], np.eye(2))
    with pytest.raises(NonFiniteError, match=r"updated params\['W'\] is not finite"):
        type(opt)(1e308).step({"W": np.full((2, 2), -1e308)}, {"W": np.ones((2, 2))})


# ----------------------------------------------------------------------------------------------- case 15
def test_issue12_case15_boolean_flags_are_checked_as_booleans():
    rnn = rm.RNN.random(3, rng=0)
    x = _x()
    calls = {
        "check_finite": lambda v: rnn(x, check_finite=v),
        "feedthrough": lambda v: rm.RNN.random(3, feedthrough=v),
        "restore_best": lambda v: _fit(rnn, x, rnn(x), restore_best=v),
        "progress": lambda v: rm.fit(rnn, x, rnn(x), epochs=1, lr=0.1, progress=v),
        "time_major": lambda v: _fit(rnn, x, rnn(x), time_major=v),
        "continuous": lambda v: rm.exact_memory(rnn, 5, continuous=v),
        "bias": lambda v: rm.GRU.random(2, bias=v),
        "bias_input": lambda v: rnn.replace(activation="linear").statespace(bias_input=v),
    }
    for name, call in calls.items():
        for bad in ("no", 1, None):
            with pytest.raises(TypeError, match=f"{name} must be True or False, got"):
                call(bad)


# ----------------------------------------------------------------------------------------------- case 16
def test_issue12_case16_a_string_is_never_split_into_names():
    rnn = rm.RNN.random(3, rng=0)
    x = _x()
    with pytest.raises(TypeError, match=r"trainable must be a sequence of names .*did you mean \('W', 'C'\)"):
        _fit(rnn, x, rnn(x), trainable="WC")
    with pytest.raises(TypeError, match=r"write \('W',\) for a single name"):
        _fit(rnn, x, rnn(x), trainable="W")
    res = _fit(rnn, x, rnn(x) + 1.0, trainable=("W", "C"))
    assert np.array_equal(res.model.U, rnn.U) and not np.array_equal(res.model.W, rnn.W)
    with pytest.raises(TypeError, match="cells must be a sequence of names"):
        testing.rnns(cells="elman")


# ----------------------------------------------------------------------------------------------- case 17
def test_issue12_case17_numbers_are_real_numbers_not_strings_or_bools():
    with pytest.raises(TypeError, match="shift must be a real number, got str '1'"):
        rm.RNN.random(3, shift="1")
    mf = rm.memory_function(rm.RNN.random(3, rng=0), 20)
    with pytest.raises(TypeError, match="max_amplitude must be a real number, got bool True"):
        mf.restrict(max_amplitude=True)
    t = np.arange(20.0)
    with pytest.raises(TypeError, match="tail must be a real number, got bool True"):
        rm.fit_decay(t, np.exp(-t), tail=True)
    with pytest.raises(TypeError, match="scale must be a real number, got str"):
        targets.sample_inputs(2, 5, scale="2")
    assert mf.restrict(max_amplitude=np.inf).values.shape == (20,)  # inf is a valid upper bound


# ----------------------------------------------------------------------------------------------- case 18
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_issue12_case18_reparam_random_rates_checked_against_the_range_not_the_draw(seed):
    with pytest.raises(ValueError, match=r"rates=\(0.1, 5\): f='best' with b=0.5 takes values in \(0, 2\]"):
        reparam.ReparamRNN.random(3, f="best", rates=(0.1, 5), rng=seed)
    model = reparam.ReparamRNN.random(3, f="best", rates=(0.1, 2.0), rng=seed)
    assert np.all((model.rates >= 0.1 - 1e-12) & (model.rates <= 2.0 + 1e-12))
    with pytest.raises(TypeError, match="rates must be a pair"):
        reparam.ReparamRNN.random(3, rates=0.5)


# ----------------------------------------------------------------------------------------------- case 20
def test_issue12_case20_evaluation_helpers_validate_their_input():
    tf = reparam.transform("exp")
    for meth in (tf, tf.derivative, tf.gradient_ratio):
        with pytest.raises(TypeError, match="w must be an array of real numbers, got None"):
            meth(None)
        with pytest.raises(TypeError, match="w must be an array of real numbers, got the string"):
            meth("x")
        with pytest.raises(TypeError, match="w must be real, got complex"):
            meth(1j)
        with pytest.raises(ValueError, match="w contains NaN or inf"):
            meth(np.inf)
    with pytest.raises(NonFiniteError, match=r"f\(w\) is not finite .* f='exp'"):
        tf(1000.0)
    with pytest.raises(NonFiniteError, match=r"f\(w\) is not finite .* f='inverse'"):
        reparam.transform("inverse")([1.0, 0.0])
    assert tf.gradient_ratio([]).shape == (0,)  # empty in, empty out
    t = np.arange(20.0)
    fit = rm.fit_decay(t, np.exp(-0.3 * t))
    for meth in (fit.exponential, fit.polynomial):
        with pytest.raises(TypeError, match="t must be an array of real numbers, got None"):
            meth(None)
        with pytest.raises(TypeError, match="t must be an array of real numbers, got the string"):
            meth("x")
        with pytest.raises(ValueError, match="t must be >= 0"):
            meth([-5.0])
    np.testing.assert_allclose(fit.exponential(t), np.exp(-0.3 * t), rtol=1e-12)


# ----------------------------------------------------------------------------------------------- case 22
def test_issue12_case22_testing_strategies_validate_when_built():
    with pytest.raises(ValueError, match="margin must be a finite real number, got nan"):
        testing.stable_rnns(margin=float("nan"))  # used to raise LinAlgError when drawn
    with pytest.raises(ValueError, match=r"batch must be an integer in \[1, 4096\], got 0"):
        testing.inputs_for(rm.RNN.random(2, rng=0), batch=0)  # used to return empty arrays
    with pytest.raises(ValueError, match="hidden must be an integer"):
        testing.rnns(hidden=-1)
    with pytest.raises(TypeError, match="rnn must be a model"):
        testing.inputs_for(np.eye(2))


@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_issue12_case22_strategies_still_draw_valid_models(data):
    model = data.draw(testing.stable_rnns(hidden=st.integers(1, 3)))
    x = data.draw(testing.inputs_for(model, batch=st.integers(1, 2), time=st.integers(1, 4)))
    assert x.shape[0] >= 1 and np.isfinite(model(x)).all()
    assert np.linalg.eigvals(model.W).real.max() <= -0.1 + 1e-12


# ----------------------------------------------------------------------------------------------- case 23 (targets)
def test_issue12_case23_overflowing_targets_and_inputs_raise():
    with pytest.raises(NonFiniteError, match=r"kernel r\(t\) of airy\(shift=6.0, scale=1e\+300"):
        targets.airy(scale=1e300)(np.ones((1, 10, 1)))
    with pytest.raises(NonFiniteError, match="sampled inputs .* scale=1e\\+308 is too large"):
        targets.sample_inputs(2, 50, kind="gp", scale=1e308, rng=0)


# ----------------------------------------------------------------------------------------------- case 24
def test_issue12_case24_absurd_sizes_are_refused_before_allocating():
    with pytest.raises(ValueError, match=r"RNN.random\(hidden=3, inputs=1000000000000000, outputs=1\) would "
                                         r"allocate .* GiB"):
        rm.RNN.random(3, inputs=10**15)
    with pytest.raises(ValueError, match=r"candidate_inputs\(d=1180591620717411303424.* would allocate"):
        memory.candidate_inputs(2**70)
    with pytest.raises(ValueError, match=r"sample_inputs\(batch=1000000, T=1000000, d=1\) would allocate"):
        targets.sample_inputs(10**6, 10**6)
    with pytest.raises(ValueError, match=r"markov\(n=1000000000000\) would allocate"):
        rm.RNN.random(3, activation="linear", rng=0).markov(10**12)


# ----------------------------------------------------------------------------------------------- case 25
def test_issue12_case25_fit_decay_flags_a_near_tie_as_ambiguous():
    # a tail that neither shape fits well, where the two residual sums are close (the reported r² 0.667 vs 0.665)
    t = np.arange(1.0, 60.0)
    M = np.exp(-0.05 * t) * (1.0 + 0.5 * np.sin(0.7 * t))
    fit = rm.fit_decay(t, M, tail=1.0, floor=0.0)
    ratio = fit.rss_exponential / fit.rss_polynomial
    assert 0.5 < ratio < 2.0, ratio  # the setting of the case: a near-tie
    assert fit.ambiguous and fit.verdict == "ambiguous" and fit.kind in ("exponential", "polynomial")
    clean = rm.fit_decay(t, np.exp(-0.05 * t))  # an exact exponential is not ambiguous
    assert not clean.ambiguous and clean.verdict == clean.kind == "exponential"
    power = rm.fit_decay(t, (1 + t) ** -1.5)
    assert not power.ambiguous and power.verdict == "polynomial"
    assert not rm.fit_decay(t, M, tail=1.0, floor=0.0, tie=1.0).ambiguous  # tie=1: never ambiguous


# ----------------------------------------------------------------------------------------------- case 26
def test_issue12_case26_messages_name_the_argument_and_suggest_the_fix():
    rnn = rm.RNN.random(3, rng=0)
    with pytest.raises(TypeError, match=r"W must be an array of real numbers, got a RNN object .* `rnn.W`"):
        memory.continuous_kernel(rnn, rnn.U, rnn.C, np.arange(3.0))
    with pytest.raises(TypeError, match=r"C must be an array .* `rnn.C`"):
        rm.RNN(rnn.W, rnn.U, rnn.b, rnn)
    with pytest.raises(ValueError, match=r"U has shape \(2, 1\), expected \(3, '\*'\) .* m = 3 comes from W"):
        rm.RNN(rnn.W, np.ones((2, 1)), rnn.b, rnn.C)
    with pytest.raises(ValueError, match=r"B has shape \(2, 1\), expected \(3, '\*'\).* N = 3 comes from lam"):
        rm.DiagonalSSM(np.ones(3) * 0.5, np.ones((2, 1)), np.ones((1, 3)))
    with pytest.raises(TypeError, match="model must be a callable map"):
        rm.memory_function(None, 10)


# ----------------------------------------------------------------------------------------------- issue 13
def test_issue13_rnn_random_sigma2_and_the_deprecated_sigma_draw_the_same_model():
    new = rm.RNN.random(8, sigma2=0.64, rng=3)
    with pytest.warns(DeprecationWarning, match=r"`sigma` is deprecated and will be removed in rnnmem 0.3; use "
                                                r"`sigma2`"):
        old = rm.RNN.random(8, sigma=0.8, rng=3)
    assert np.array_equal(new.W, old.W) and np.array_equal(new.C, old.C)
    assert np.array_equal(rm.RNN.random(8, rng=3).W, rm.RNN.random(8, sigma2=0.81, rng=3).W)  # the default σ = 0.9
    with pytest.raises(TypeError, match="got both `sigma2` and its deprecated alias `sigma`"):
        rm.RNN.random(8, sigma=0.8, sigma2=0.64)
    with pytest.raises(TypeError, match=r"RNN.random\(\) got unexpected keyword argument\(s\): sigm"):
        rm.RNN.random(8, sigm=0.8)
    # W_ij ~ N(0, sigma2/m): the sample variance of m² entries is within 5 standard errors of sigma2/m
    m, s2 = 200, 0.5
    W = rm.RNN.random(m, sigma2=s2, rng=0).W
    assert abs(W.var() * m / s2 - 1.0) < 5 * np.sqrt(2.0 / m**2)


def test_issue13_sample_inputs_batch_and_the_deprecated_n():
    x = targets.sample_inputs(3, 7, 2, rng=0)
    assert x.shape == (3, 7, 2)
    assert np.array_equal(targets.sample_inputs(batch=3, T=7, d=2, rng=0), x)
    with pytest.warns(DeprecationWarning, match="`n` is deprecated .* use `batch`"):
        assert np.array_equal(targets.sample_inputs(n=3, T=7, d=2, rng=0), x)
    with pytest.raises(TypeError, match="missing required argument batch"):
        targets.sample_inputs(T=7)


def test_issue13_fit_accepts_one_sequence_like_rnn():
    teacher = rm.RNN.random(3, 2, 1, rng=0)
    x = _x(1, 30, 2)
    one = rm.fit(rm.RNN.random(3, 2, 1, rng=1), x[0], teacher(x[0]), epochs=3, lr=1e-2, progress=False, rng=0)
    batch = rm.fit(rm.RNN.random(3, 2, 1, rng=1), x, teacher(x), epochs=3, lr=1e-2, progress=False, rng=0)
    assert np.array_equal(one.history["loss"], batch.history["loss"])  # the same training run
    assert np.array_equal(one.model.W, batch.model.W)
    clf = rm.RNN.random(3, 2, 3, rng=0)
    res = rm.fit(clf, x[0], 2, loss="cross_entropy", epochs=2, lr=1e-2, progress=False)  # one scalar label
    assert np.isfinite(res.final_loss)


def test_issue13_time_major_input_is_explicit():
    teacher = rm.RNN.random(3, 2, 1, rng=0)
    x = _x(5, 8, 2)
    y = teacher(x)
    xt, yt = x.transpose(1, 0, 2), y.transpose(1, 0, 2)  # torch's default layout (T, B, ·)
    a = rm.fit(rm.RNN.random(3, 2, 1, rng=1), x, y, epochs=2, lr=1e-2, progress=False, rng=0)
    b = rm.fit(rm.RNN.random(3, 2, 1, rng=1), xt, yt, epochs=2, lr=1e-2, progress=False, rng=0, time_major=True)
    assert np.array_equal(a.history["loss"], b.history["loss"])
    with pytest.raises(ValueError, match=r"y has shape \(8, 5, 1\), expected \(5, 8, 1\)"):
        rm.fit(rm.RNN.random(3, 2, 1, rng=1), x, yt, epochs=1, lr=1e-2, progress=False)
    net = rm.GRU.random(4, inputs=2, layers=2, rng=0)
    out, hn = net.forward(xt, time_major=True)
    ref, hn_ref = net.forward(x)
    assert np.array_equal(out, ref.transpose(1, 0, 2)) and np.array_equal(hn, hn_ref)
    assert np.array_equal(net(xt, time_major=True), ref.transpose(1, 0, 2))


def test_deprecated_kwarg_helper_points_the_warning_at_the_caller():
    from rnnmem._validate import MISSING, deprecated_kwarg

    kwargs = {"k_max": 5}
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")

        def public(**kw):
            return deprecated_kwarg(kw, "k_max", "n")

        assert public(**kwargs) == 5
    assert rec[0].category is DeprecationWarning and rec[0].filename == __file__
    assert str(rec[0].message) == "`k_max` is deprecated and will be removed in rnnmem 0.3; use `n`"
    assert deprecated_kwarg({}, "k_max", "n") is MISSING
