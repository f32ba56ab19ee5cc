"""Fuzz entry points of the core modules (see tests/fuzz.py for the contract, tests/test_fuzz.py for the runner).

Core modules: the models (``rnnmem.RNN``, the reparameterised, torch-layout and state-space models), training
(``fit``, ``Adam``, ``SGD``), targets, memory functions, ``sweep`` and the Hypothesis strategies of
``rnnmem.testing``. Each entry gives a small valid call and, per argument, the kinds of bad values to try; methods
are called on a fresh model built by ``valid()`` (passed as the argument ``model``, so that its state is checked
for mutation too).
"""

from __future__ import annotations

import numpy as np
from fuzz import (
    EntryPoint,
    bad_arrays,
    bad_counts,
    bad_flags,
    bad_names,
    bad_numbers,
    bad_pairs,
    bad_rngs,
)
from hypothesis import strategies as st

import rnnmem as rm
from rnnmem import gated, memory, reparam, ssm, targets, testing, train
from rnnmem.rnn import ACTIVATIONS, CELLS

_NAN = float("nan")
LOSSES = ("mse", "weighted_mse", "cross_entropy")


# ----------------------------------------------------------------------------------------------- valid objects
def _rnn(**kw):
    return rm.RNN.random(3, 1, 1, rng=0, **kw)


def _linear_rnn(**kw):
    return rm.RNN.random(3, 1, 1, activation="linear", sigma2=0.25, rng=0, **kw)


def _x(B=2, T=5, d=1):
    return np.random.default_rng(1).normal(size=(B, T, d))


def _reparam():
    return reparam.ReparamRNN.random(3, 1, 1, rng=0)


def _gru():
    return rm.GRU.random(3, inputs=1, layers=2, rng=0)


def _ssm():
    return rm.DiagonalSSM.random(3, 1, 1, rng=0)


def _target():
    return targets.exponential(rate=0.5)


def _decay_fit():
    t = np.arange(20.0)
    return rm.fit_decay(t, np.exp(-0.3 * t) + 1e-3 * np.exp(-0.01 * t))


def _memfun():
    return rm.memory_function(_rnn(), 20)


def _fit_data():
    x = _x(4, 5, 1)
    return x, _rnn()(x)


#: bad values of an argument that takes a model (any callable (B, T, d) -> (B, T, p), or a model class instance)
def bad_models() -> st.SearchStrategy:
    return st.sampled_from([None, "rnn", 3.0, [1.0], np.eye(3), object(), {"W": np.eye(3)}])


def bad_systems() -> st.SearchStrategy:
    import scipy.signal

    return st.sampled_from([None, "sys", 3.0, (np.eye(2),), (np.eye(2), np.ones((2, 1)), np.ones((1, 2))),
                            (np.ones((2, 3)), np.ones((2, 1)), np.ones((1, 2)), np.zeros((1, 1))),
                            (np.eye(2), np.ones((3, 1)), np.ones((1, 2)), np.zeros((1, 1))),
                            (np.full((2, 2), _NAN), np.ones((2, 1)), np.ones((1, 2)), np.zeros((1, 1))),
                            scipy.signal.lti([1.0], [1.0, 1.0]), object()])


def bad_params_dicts() -> st.SearchStrategy:
    return st.sampled_from([None, "W", [np.eye(2)], {"W": "x"}, {"W": np.full((2, 2), _NAN)}, {"W": None},
                            {"W": np.eye(3)}, {"X": np.eye(2)}, object()])


def bad_grads_dicts() -> st.SearchStrategy:
    return st.sampled_from([None, "W", {"X": np.ones((2, 2))}, {"W": np.ones(2)}, {"W": np.full((2, 2), _NAN)},
                            {"W": np.full((2, 2), np.inf)}, {"W": np.ones((2, 2)) * 1j}, {"W": "x"}, {"W": None},
                            [np.ones((2, 2))], object()])


def bad_callables() -> st.SearchStrategy:
    return st.sampled_from([None, "f", 3, [print], object()])


def bad_strategies_or_counts() -> st.SearchStrategy:
    """For rnnmem.testing's shape arguments: an int or an integer strategy."""
    return st.sampled_from([None, "3", True, -1, 0, 2.5, _NAN, 10**15, [3], object()])


def _counts_without(*valid) -> st.SearchStrategy:
    """bad_counts() minus values that are valid for this argument (e.g. a huge number of epochs is a valid, long
    run, not a bad input)."""
    return bad_counts().filter(lambda v: not any(v is w or (type(v) is type(w) and v == w) for w in valid))


def _const_kernel(t, dt):
    return np.ones_like(t)


def _call_method(name):
    return lambda model, **kw: getattr(model, name)(**kw)


ENTRY_POINTS: list[EntryPoint] = []


def _add(name, call, valid, bad, names=None, seconds=20.0):
    ENTRY_POINTS.append(EntryPoint(name, call, valid, bad, names or {}, seconds))


# ----------------------------------------------------------------------------------------------- RNN
def _rnn_blocks():
    r = _rnn()
    return dict(W=np.array(r.W), U=np.array(r.U), b=np.array(r.b), C=np.array(r.C), D=None, cell="elman",
                activation="tanh", dt=1.0)


_add("rnnmem.RNN", lambda **kw: rm.RNN(**kw), _rnn_blocks,
     dict(W=bad_arrays((3, 3)), U=bad_arrays((3, 1)), b=bad_arrays((3,)), C=bad_arrays((1, 3)), D=bad_arrays((1, 1)),
          cell=bad_names(CELLS), activation=bad_names(ACTIVATIONS), dt=bad_numbers()))
_add("rnnmem.RNN.random", lambda **kw: rm.RNN.random(**kw),
     lambda: dict(hidden=3, inputs=1, outputs=1, cell="elman", activation="tanh", dt=1.0, sigma2=0.81, shift=None,
                  bias=0.0, feedthrough=False, rng=0),
     dict(hidden=bad_counts(), inputs=bad_counts(), outputs=bad_counts(), cell=bad_names(CELLS),
          activation=bad_names(ACTIVATIONS), dt=bad_numbers(), sigma2=bad_numbers(), shift=bad_numbers(),
          bias=bad_numbers(), feedthrough=bad_flags(), rng=bad_rngs()),
     names={"hidden": ("RNN.random",), "inputs": ("RNN.random",), "outputs": ("RNN.random",)})
_add("rnnmem.RNN.__call__", lambda model, **kw: model(**kw),
     lambda: dict(model=_rnn(feedthrough=True), x=_x(), check_finite=True),
     dict(x=bad_arrays((2, 5, 1)), check_finite=bad_flags()))
_add("rnnmem.RNN.states", _call_method("states"), lambda: dict(model=_rnn(), x=_x(), check_finite=True),
     dict(x=bad_arrays((2, 5, 1)), check_finite=bad_flags()))
_add("rnnmem.RNN.vjp", _call_method("vjp"), lambda: dict(model=_rnn(), x=_x(), dy=_x(), check_finite=True),
     dict(x=bad_arrays((2, 5, 1)), dy=bad_arrays((2, 5, 1)), check_finite=bad_flags()))
_add("rnnmem.RNN.loss_and_grad", _call_method("loss_and_grad"),
     lambda: dict(model=_rnn(), x=_x(), y_target=_x(), loss="mse", power=2.0, check_finite=True),
     dict(x=bad_arrays((2, 5, 1)), y_target=bad_arrays((2, 5, 1)), loss=bad_names(LOSSES), power=bad_numbers(),
          check_finite=bad_flags()))
_add("rnnmem.RNN.convolve", _call_method("convolve"),
     lambda: dict(model=_linear_rnn(), x=_x(), check_finite=True),
     dict(x=bad_arrays((2, 5, 1)), check_finite=bad_flags()))
_add("rnnmem.RNN.markov", _call_method("markov"), lambda: dict(model=_linear_rnn(), n=5), dict(n=bad_counts()),
     names={"n": ("markov",)})
_add("rnnmem.RNN.replace", _call_method("replace"), lambda: dict(model=_rnn(), W=np.eye(3) * 0.5, dt=1.0),
     dict(W=bad_arrays((3, 3)), dt=bad_numbers()))
_add("rnnmem.RNN.statespace", _call_method("statespace"), lambda: dict(model=_linear_rnn(), bias_input=False),
     dict(bias_input=bad_flags()))
_add("rnnmem.RNN.to_scipy", _call_method("to_scipy"), lambda: dict(model=_linear_rnn(), bias_input=False),
     dict(bias_input=bad_flags()))
_add("rnnmem.RNN.from_scipy", lambda **kw: rm.RNN.from_scipy(**kw),
     lambda: dict(system=(np.eye(2) * 0.5, np.ones((2, 1)), np.ones((1, 2)), np.zeros((1, 1))), cell="elman",
                  dt=None, realization="auto"),
     dict(system=bad_systems(), cell=bad_names(CELLS), dt=bad_numbers(),
          realization=bad_names(("auto", "invert", "augment"))),
     names={"system": ("A", "B", "C", "D", "sys")})

# ----------------------------------------------------------------------------------------------- training
_add("rnnmem.Adam", lambda **kw: rm.Adam(**kw), lambda: dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                                                              weight_decay=0.0),
     dict(lr=bad_numbers(), betas=bad_pairs(), eps=bad_numbers(), weight_decay=bad_numbers()))
_add("rnnmem.Adam.step", lambda **kw: rm.Adam(0.1).step(**kw),
     lambda: dict(params={"W": np.eye(2), "b": np.zeros(2)}, grads={"W": np.ones((2, 2))}),
     dict(params=bad_params_dicts(), grads=bad_grads_dicts()))
_add("rnnmem.SGD", lambda **kw: rm.SGD(**kw), lambda: dict(lr=1e-2, momentum=0.9, weight_decay=0.0),
     dict(lr=bad_numbers(), momentum=bad_numbers(), weight_decay=bad_numbers()))
_add("rnnmem.SGD.step", lambda **kw: rm.SGD(0.1, momentum=0.5, weight_decay=0.1).step(**kw),
     lambda: dict(params={"W": np.eye(2), "b": np.zeros(2)}, grads={"W": np.ones((2, 2))}),
     dict(params=bad_params_dicts(), grads=bad_grads_dicts()))


def _fit_valid():
    x, y = _fit_data()
    return dict(model=_rnn(), x=x, y=y, epochs=2, lr=1e-2, batch_size=None, optimizer="adam", loss="mse",
                power=2.0, clip=None, plateau_patience=None, plateau_factor=0.1, min_lr=0.0, stop_loss=None,
                validation=(x, y), trainable=None, restore_best=False, rng=0, progress=False, callback=None,
                time_major=False)


_add("rnnmem.fit", lambda **kw: rm.fit(**kw), _fit_valid,
     dict(model=bad_models(), x=bad_arrays((4, 5, 1)), y=bad_arrays((4, 5, 1)),
          epochs=_counts_without(10**15, 2**70), lr=bad_numbers(), batch_size=_counts_without(10**15, 2**70),
          optimizer=bad_names(("adam", "sgd")), loss=bad_names(LOSSES), power=bad_numbers(), clip=bad_numbers(),
          plateau_patience=_counts_without(0, 10**15, 2**70), plateau_factor=bad_numbers(), min_lr=bad_numbers(),
          stop_loss=bad_numbers(),
          validation=st.sampled_from(["xy", (1.0,), (_x(4, 5, 1),), (_x(4, 5, 1), _x(2, 5, 1)),
                                      (_x(4, 5, 1), np.full((4, 5, 1), _NAN)), (_x(4, 5, 2), _x(4, 5, 1)), 3.0]),
          trainable=bad_names(("W", "U", "b", "C")), restore_best=bad_flags(), rng=bad_rngs(),
          progress=bad_flags(), callback=bad_callables(), time_major=bad_flags()),
     names={"model": ("params",), "validation": ("validation",)}, seconds=30.0)
_add("rnnmem.FitResult.epochs_to", lambda threshold: train.FitResult(
    model=None, history={"loss": np.array([3.0, 2.0, 1.0])}, epochs=3).epochs_to(threshold),
     lambda: dict(threshold=1.5), dict(threshold=bad_numbers()))

# ----------------------------------------------------------------------------------------------- memory
_add("rnnmem.memory_function", lambda **kw: rm.memory_function(**kw),
     lambda: dict(model=_target(), T=8, dt=None, kind="heaviside", normalize="paper", amplitudes=None,
                  directions=None, rng=0, d=None, random_directions=None, chunk=None),
     dict(model=bad_models(), T=bad_counts(), dt=bad_numbers(), kind=bad_names(memory.KINDS),
          normalize=bad_names(memory.NORMALIZATIONS), amplitudes=bad_arrays((3,)), directions=bad_arrays((2, 1)),
          rng=bad_rngs(), d=bad_counts(), random_directions=bad_counts(), chunk=bad_counts()),
     names={"T": ("memory_function",), "random_directions": ("candidate_inputs",), "d": ("candidate_inputs",)})
_add("rnnmem.memory_function (rnn)", lambda **kw: rm.memory_function(**kw),
     lambda: dict(model=_rnn(), T=6, dt=None, kind="reversed"),
     dict(dt=bad_numbers(), kind=bad_names(memory.KINDS), T=bad_counts()),
     names={"T": ("memory_function",)})
_add("rnnmem.exact_memory", lambda **kw: rm.exact_memory(**kw),
     lambda: dict(model=_rnn(cell="euler", dt=0.5), T=6, continuous=False, dt=None, x=None, normalize="paper",
                  amplitudes=None, directions=None, rng=0, random_directions=None, substeps=4, method="auto"),
     dict(model=bad_models(), T=bad_counts(), continuous=bad_flags(), dt=bad_numbers(), x=bad_arrays((2, 1)),
          normalize=bad_names(memory.NORMALIZATIONS), amplitudes=bad_arrays((3,)), directions=bad_arrays((2, 1)),
          rng=bad_rngs(), random_directions=bad_counts(), substeps=bad_counts(),
          method=bad_names(("auto", "eig", "expm"))),
     names={"T": ("exact_memory", "markov"), "random_directions": ("candidate_inputs",)})
_add("rnnmem.exact_memory (linear, continuous)", lambda **kw: rm.exact_memory(**kw),
     lambda: dict(model=_linear_rnn(cell="euler", dt=0.5), T=6, continuous=True, dt=0.25, method="auto"),
     dict(T=bad_counts(), dt=bad_numbers(), method=bad_names(("auto", "eig", "expm"))),
     names={"T": ("continuous_kernel",)})
_add("rnnmem.memory.candidate_inputs", lambda **kw: memory.candidate_inputs(**kw),
     lambda: dict(d=2, amplitudes=[0.1, 1.0], directions=None, random_directions=2, rng=0),
     dict(d=bad_counts(), amplitudes=bad_arrays((2,)), directions=bad_arrays((2, 2)),
          random_directions=bad_counts(), rng=bad_rngs()),
     names={"d": ("candidate_inputs",), "random_directions": ("candidate_inputs",)})
_add("rnnmem.memory.continuous_kernel", lambda **kw: memory.continuous_kernel(**kw),
     lambda: dict(W=-np.eye(2) + 0.1, U=np.ones((2, 1)), C=np.ones((1, 2)), t=np.arange(5.0), method="auto"),
     dict(W=bad_arrays((2, 2)), U=bad_arrays((2, 1)), C=bad_arrays((1, 2)), t=bad_arrays((5,)),
          method=bad_names(("auto", "eig", "expm"))),
     names={"W": ("continuous kernel",), "t": ("continuous kernel",)})
_add("rnnmem.fit_decay", lambda **kw: rm.fit_decay(**kw),
     lambda: dict(t=np.arange(20.0), M=np.exp(-0.3 * np.arange(20.0)), tail=0.5, window=None, floor=1e-10,
                  scale=1.0, min_points=4, margin=1.0, tie=2.0),
     dict(t=bad_arrays((20,)), M=bad_arrays((20,)), tail=bad_numbers(), window=bad_pairs(), floor=bad_numbers(),
          scale=bad_numbers(), min_points=bad_counts(), margin=bad_numbers(), tie=bad_numbers()),
     names={"M": ("fit_decay",), "t": ("fit_decay",), "floor": ("fit_decay",), "window": ("fit_decay",),
            "tail": ("fit_decay",), "min_points": ("fit_decay",)})
_add("rnnmem.DecayFit.exponential", _call_method("exponential"),
     lambda: dict(model=_decay_fit(), t=np.arange(5.0)), dict(t=bad_arrays((5,))))
_add("rnnmem.DecayFit.polynomial", _call_method("polynomial"),
     lambda: dict(model=_decay_fit(), t=np.arange(5.0)), dict(t=bad_arrays((5,))))
_add("rnnmem.MemoryFunction.restrict", _call_method("restrict"),
     lambda: dict(model=_memfun(), min_amplitude=0.0, max_amplitude=np.inf),
     dict(min_amplitude=bad_numbers(), max_amplitude=bad_numbers()),
     names={"min_amplitude": ("amplitude",), "max_amplitude": ("amplitude",)})
_add("rnnmem.MemoryFunction.fit", _call_method("fit"), lambda: dict(model=_memfun(), tail=0.5, floor=0.0),
     dict(tail=bad_numbers(), floor=bad_numbers()), names={"floor": ("fit_decay",), "tail": ("fit_decay",)})

# ----------------------------------------------------------------------------------------------- targets
_DIR = bad_arrays((2,))
_add("rnnmem.targets.exponential", lambda **kw: targets.exponential(**kw),
     lambda: dict(rate=0.5, base=None, coef=1.0, direction=None),
     dict(rate=bad_numbers(), base=bad_numbers(), coef=bad_numbers(), direction=_DIR))
_add("rnnmem.targets.polynomial", lambda **kw: targets.polynomial(**kw),
     lambda: dict(p=1.5, scale=1.0, coef=1.0, direction=None),
     dict(p=bad_numbers(), scale=bad_numbers(), coef=bad_numbers(), direction=_DIR))
_add("rnnmem.targets.shift", lambda **kw: targets.shift(**kw), lambda: dict(delay=2, direction=None),
     dict(delay=bad_counts().filter(lambda v: v != 0), direction=_DIR))
_add("rnnmem.targets.sum_of_exponentials", lambda **kw: targets.sum_of_exponentials(**kw),
     lambda: dict(coefs=[1.0, -0.5], rates=[0.1, 0.5], direction=None),
     dict(coefs=bad_arrays((2,)), rates=bad_arrays((2,)), direction=_DIR))
_add("rnnmem.targets.airy", lambda **kw: targets.airy(**kw),
     lambda: dict(shift=6.0, scale=1.0, coef=1.0, direction=None),
     dict(shift=bad_numbers(), scale=bad_numbers(), coef=bad_numbers(), direction=_DIR))
_add("rnnmem.targets.teacher", lambda **kw: targets.teacher(**kw), lambda: dict(rnn=_rnn()),
     dict(rnn=bad_models()))
_add("rnnmem.targets.Teacher", lambda **kw: targets.Teacher(**kw), lambda: dict(rnn=_rnn()),
     dict(rnn=bad_models()))
_add("rnnmem.targets.composite", lambda **kw: targets.composite(**kw), lambda: dict(linear=_target(), outer="sin"),
     dict(linear=bad_models(), outer=bad_names(("tanh", "sin"))))
_add("rnnmem.targets.Composite", lambda **kw: targets.Composite(**kw), lambda: dict(linear=_target(), outer="tanh"),
     dict(linear=bad_models(), outer=bad_names(("tanh", "sin"))))
_add("rnnmem.targets.sample_inputs", lambda **kw: targets.sample_inputs(**kw),
     lambda: dict(batch=2, T=5, d=1, kind="gp", rng=0, scale=1.0),
     dict(batch=bad_counts(), T=bad_counts(), d=bad_counts(), kind=bad_names(targets.INPUT_KINDS), rng=bad_rngs(),
          scale=bad_numbers()),
     names={"batch": ("sample_inputs",), "T": ("sample_inputs",), "d": ("sample_inputs",)})
_add("rnnmem.targets.fft_convolve", lambda **kw: targets.fft_convolve(**kw),
     lambda: dict(kernel=np.exp(-np.arange(8.0)), s=np.ones((2, 8))),
     dict(kernel=bad_arrays((8,)), s=bad_arrays((2, 8))), names={"kernel": ("convolution",), "s": ("convolution",)})
_add("rnnmem.targets.LinearFunctional", lambda **kw: targets.LinearFunctional(**kw),
     lambda: dict(name="const", kernel=_const_kernel, params={}, direction=None, continuous=True),
     dict(name=st.sampled_from([None, 3, ["a"], object()]), kernel=bad_callables(),
          params=st.sampled_from([None, "a", [1], 3.0]), direction=_DIR, continuous=bad_flags()))
_add("rnnmem.targets.LinearFunctional.__call__", lambda model, **kw: model(**kw),
     lambda: dict(model=targets.exponential(rate=-0.5), x=_x(2, 6, 1), dt=1.0),
     dict(x=bad_arrays((2, 6, 1)), dt=bad_numbers()), names={"dt": ("kernel",)})
for _meth in ("kernel", "rho", "memory"):
    _add(f"rnnmem.targets.LinearFunctional.{_meth}", _call_method(_meth),
         lambda: dict(model=targets.airy(), t=np.arange(5.0), dt=1.0),
         dict(t=bad_arrays((5,)), dt=bad_numbers()), names={"t": ("kernel",)})
_add("rnnmem.targets.LinearFunctional.markov", _call_method("markov"),
     lambda: dict(model=targets.polynomial(1.5, direction=[1.0, -2.0]), n=5, dt=0.5),
     dict(n=bad_counts(), dt=bad_numbers()), names={"n": ("markov",)})
_add("rnnmem.targets.Teacher.__call__", lambda model, **kw: model(**kw),
     lambda: dict(model=targets.teacher(_rnn()), x=_x(), dt=None),
     dict(x=bad_arrays((2, 5, 1)), dt=bad_numbers()))
_add("rnnmem.targets.Teacher.memory", _call_method("memory"), lambda: dict(model=targets.teacher(_rnn()), T=5),
     dict(T=bad_counts()), names={"T": ("exact_memory",)})
_add("rnnmem.targets.Composite.__call__", lambda model, **kw: model(**kw),
     lambda: dict(model=targets.composite(_target()), x=_x(), dt=1.0),
     dict(x=bad_arrays((2, 5, 1)), dt=bad_numbers()))
_add("rnnmem.targets.Composite.memory", _call_method("memory"),
     lambda: dict(model=targets.composite(_target()), t=np.arange(4.0), dt=1.0),
     dict(t=bad_arrays((4,)), dt=bad_numbers()), names={"t": ("kernel",)})

# ----------------------------------------------------------------------------------------------- reparam
_add("rnnmem.reparam.Transform", lambda **kw: reparam.Transform(**kw), lambda: dict(name="best", a=1.0, b=0.5),
     dict(name=bad_names(reparam.TRANSFORMS), a=bad_numbers(), b=bad_numbers()), names={"name": ("f",)})
for _meth in ("__call__", "derivative", "gradient_ratio"):
    _add(f"rnnmem.reparam.Transform.{_meth}",
         (lambda meth: lambda name, **kw: getattr(reparam.transform(name), meth)(**kw))(_meth),
         lambda: dict(name="softplus", w=np.array([-1.0, 0.0, 2.0])),
         dict(w=bad_arrays((3,))))
_add("rnnmem.reparam.Transform.inverse", lambda name, **kw: reparam.transform(name).inverse(**kw),
     lambda: dict(name="best", lam=np.array([0.5, 1.0])), dict(lam=bad_arrays((2,))))
_add("rnnmem.reparam.transform", lambda **kw: reparam.transform(**kw), lambda: dict(f="exp"),
     dict(f=bad_names(reparam.TRANSFORMS)))
_add("rnnmem.reparam.best", lambda **kw: reparam.best(**kw), lambda: dict(a=1.0, b=0.5),
     dict(a=bad_numbers(), b=bad_numbers()))


def _reparam_blocks():
    r = _reparam()
    return dict(w=np.array(r.w), U=np.array(r.U), b=np.array(r.b), C=np.array(r.C), D=None, P=None, f="exp",
                cell="euler", activation="tanh", dt=1.0)


_add("rnnmem.reparam.ReparamRNN", lambda **kw: reparam.ReparamRNN(**kw), _reparam_blocks,
     dict(w=bad_arrays((3,)), U=bad_arrays((3, 1)), b=bad_arrays((3,)), C=bad_arrays((1, 3)), D=bad_arrays((1, 1)),
          P=bad_arrays((3, 3)), f=bad_names(reparam.TRANSFORMS), cell=bad_names(CELLS),
          activation=bad_names(ACTIVATIONS), dt=bad_numbers()))
_add("rnnmem.reparam.ReparamRNN.random", lambda **kw: reparam.ReparamRNN.random(**kw),
     lambda: dict(hidden=3, inputs=1, outputs=1, structure="symmetric", f="best", cell="euler", activation="tanh",
                  dt=1.0, rates=(0.1, 1.0), feedthrough=True, rng=0),
     dict(hidden=bad_counts(), inputs=bad_counts(), outputs=bad_counts(),
          structure=bad_names(reparam.STRUCTURES), f=bad_names(reparam.TRANSFORMS), cell=bad_names(CELLS),
          activation=bad_names(ACTIVATIONS), dt=bad_numbers(), rates=bad_pairs(), feedthrough=bad_flags(),
          rng=bad_rngs()),
     names={"hidden": ("ReparamRNN.random",), "inputs": ("ReparamRNN.random",),
            "outputs": ("ReparamRNN.random",)})
_add("rnnmem.reparam.ReparamRNN.__call__", lambda model, **kw: model(**kw),
     lambda: dict(model=_reparam(), x=_x(), check_finite=True), dict(x=bad_arrays((2, 5, 1)),
                                                                    check_finite=bad_flags()))
_add("rnnmem.reparam.ReparamRNN.states", _call_method("states"),
     lambda: dict(model=_reparam(), x=_x(), check_finite=True), dict(x=bad_arrays((2, 5, 1)),
                                                                    check_finite=bad_flags()))
_add("rnnmem.reparam.ReparamRNN.vjp", _call_method("vjp"),
     lambda: dict(model=_reparam(), x=_x(), dy=_x(), check_finite=True),
     dict(x=bad_arrays((2, 5, 1)), dy=bad_arrays((2, 5, 1)), check_finite=bad_flags()))
_add("rnnmem.reparam.ReparamRNN.loss_and_grad", _call_method("loss_and_grad"),
     lambda: dict(model=_reparam(), x=_x(), y_target=_x(), loss="weighted_mse", power=1.0, check_finite=True),
     dict(x=bad_arrays((2, 5, 1)), y_target=bad_arrays((2, 5, 1)), loss=bad_names(LOSSES), power=bad_numbers(),
          check_finite=bad_flags()))
_add("rnnmem.reparam.ReparamRNN.replace", _call_method("replace"),
     lambda: dict(model=_reparam(), w=np.zeros(3), f="softplus"),
     dict(w=bad_arrays((3,)), f=bad_names(reparam.TRANSFORMS)))

# ----------------------------------------------------------------------------------------------- torch layout
for _cls in ("StackedRNN", "GRU", "LSTM"):
    _add(f"rnnmem.{_cls}.random", (lambda c: lambda **kw: getattr(rm, c).random(**kw))(_cls),
         lambda: dict(hidden=3, inputs=1, layers=2, bias=True, scale=None, rng=0),
         dict(hidden=bad_counts(), inputs=bad_counts(), layers=bad_counts(), bias=bad_flags(), scale=bad_numbers(),
              rng=bad_rngs()),
         names={k: ("random",) for k in ("hidden", "inputs", "layers")})
    _add(f"rnnmem.{_cls}", (lambda c: lambda **kw: getattr(rm, c)(**kw))(_cls),
         (lambda c: lambda: dict(params=getattr(rm, c).random(2, inputs=1, rng=0).state_dict()))(_cls),
         dict(params=st.sampled_from([None, "weight_ih_l0", {}, {"weight_ih_l0": np.ones((2, 1))},
                                      [np.ones((2, 1))], object()])))


def _gru_call(name):
    return lambda model, **kw: getattr(model, name)(**kw) if name != "__call__" else model(**kw)


_H0 = bad_arrays((2, 2, 3))
_add("rnnmem.GRU.__call__", _gru_call("__call__"),
     lambda: dict(model=_gru(), x=_x(), h0=None, check_finite=True, time_major=False),
     dict(x=bad_arrays((2, 5, 1)), h0=_H0, check_finite=bad_flags(), time_major=bad_flags()))
_add("rnnmem.GRU.forward", _gru_call("forward"),
     lambda: dict(model=_gru(), x=_x(), h0=np.zeros((2, 5, 3)), check_finite=True, time_major=True),
     dict(x=bad_arrays((2, 5, 1)), h0=bad_arrays((2, 5, 3)), check_finite=bad_flags(), time_major=bad_flags()))
_add("rnnmem.GRU.vjp", _gru_call("vjp"),
     lambda: dict(model=_gru(), x=_x(), dy=np.ones((2, 5, 3)), h0=None, check_finite=True),
     dict(x=bad_arrays((2, 5, 1)), dy=bad_arrays((2, 5, 3)), h0=_H0, check_finite=bad_flags()),
     names={"h0": ("output",)})  # a huge h0 is a huge output: the loss/gradient overflow names the outputs
_add("rnnmem.GRU.loss_and_grad", _gru_call("loss_and_grad"),
     lambda: dict(model=_gru(), x=_x(), y_target=np.ones((2, 5, 3)), loss="mse", h0=None, power=2.0,
                  check_finite=True),
     dict(x=bad_arrays((2, 5, 1)), y_target=bad_arrays((2, 5, 3)), loss=bad_names(LOSSES), h0=_H0,
          power=bad_numbers(), check_finite=bad_flags()), names={"h0": ("output",)})
_add("rnnmem.LSTM.__call__", lambda model, **kw: model(**kw),
     lambda: dict(model=rm.LSTM.random(2, rng=0), x=_x(), h0=(np.zeros((1, 2, 2)), np.zeros((1, 2, 2)))),
     dict(x=bad_arrays((2, 5, 1)), h0=st.sampled_from([np.zeros((1, 2, 2)), (np.zeros((1, 2, 2)),),
                                                       (np.zeros((1, 2, 2)), np.full((1, 2, 2), _NAN)), "h0"])))
_add("rnnmem.GRU.jacobian", _gru_call("jacobian"), lambda: dict(model=_gru(), h=np.zeros(6), x=np.zeros(1)),
     dict(h=bad_arrays((6,)), x=bad_arrays((1,))))
_add("rnnmem.GRU.step_jacobians", _gru_call("step_jacobians"),
     lambda: dict(model=_gru(), x=_x(), h0=None), dict(x=bad_arrays((2, 5, 1)), h0=_H0))
_add("rnnmem.GRU.replace", _gru_call("replace"),
     lambda: dict(model=_gru(), weight_hh_l0=np.zeros((9, 3))), dict(weight_hh_l0=bad_arrays((9, 3))),
     names={"weight_hh_l0": ("params",)})
_add("rnnmem.from_torch", lambda **kw: rm.from_torch(**kw),
     lambda: dict(module_or_state_dict=rm.GRU.random(2, rng=0).state_dict(), kind="gru", nonlinearity="tanh"),
     dict(module_or_state_dict=st.sampled_from([None, "gru", 3.0, {}, {"weight": np.ones(2)}, [1], object()]),
          kind=bad_names(gated.KINDS), nonlinearity=bad_names(gated.NONLINEARITIES)),
     names={"module_or_state_dict": ("params", "from_torch", "module")})

# ----------------------------------------------------------------------------------------------- state space
_add("rnnmem.DiagonalSSM", lambda **kw: rm.DiagonalSSM(**kw),
     lambda: dict(lam=np.array([0.9, 0.5 + 0.3j]), B=np.ones((2, 1)) + 0j, C=np.ones((1, 2)) + 0j, D=None),
     dict(lam=bad_arrays((2,)), B=bad_arrays((2, 1)), C=bad_arrays((1, 2)), D=bad_arrays((1, 1))))
_add("rnnmem.DiagonalSSM.random", lambda **kw: rm.DiagonalSSM.random(**kw),
     lambda: dict(hidden=3, inputs=1, outputs=1, r_min=0.5, r_max=0.99, max_phase=np.pi, feedthrough=True,
                  rng=0),
     dict(hidden=bad_counts(), inputs=bad_counts(), outputs=bad_counts(), r_min=bad_numbers(), r_max=bad_numbers(),
          max_phase=bad_numbers(), feedthrough=bad_flags(), rng=bad_rngs()),
     names={k: ("random",) for k in ("hidden", "inputs", "outputs")})
_add("rnnmem.DiagonalSSM.zoh", lambda **kw: rm.DiagonalSSM.zoh(**kw),
     lambda: dict(a=np.array([-0.5 + 1j, -1.0]), B=np.ones((2, 1)), C=np.ones((1, 2)), D=None, dt=0.1),
     dict(a=bad_arrays((2,)), B=bad_arrays((2, 1)), C=bad_arrays((1, 2)), D=bad_arrays((1, 1)), dt=bad_numbers()),
     names={"dt": ("e^{dt·a}",), "a": ("e^{dt·a}",)})
_add("rnnmem.DiagonalSSM.markov", _call_method("markov"), lambda: dict(model=_ssm(), n=6), dict(n=bad_counts()),
     names={"n": ("markov",)})
_add("rnnmem.DiagonalSSM.__call__", lambda model, **kw: model(**kw),
     lambda: dict(model=_ssm(), x=_x(), method="auto", check_finite=True),
     dict(x=bad_arrays((2, 5, 1)), method=bad_names(ssm.METHODS), check_finite=bad_flags()))
_add("rnnmem.DiagonalSSM.states", _call_method("states"), lambda: dict(model=_ssm(), x=_x(), check_finite=True),
     dict(x=bad_arrays((2, 5, 1)), check_finite=bad_flags()))
_add("rnnmem.DiagonalSSM.vjp", _call_method("vjp"),
     lambda: dict(model=_ssm(), x=_x(), dy=_x(), check_finite=True),
     dict(x=bad_arrays((2, 5, 1)), dy=bad_arrays((2, 5, 1)), check_finite=bad_flags()))
_add("rnnmem.DiagonalSSM.loss_and_grad", _call_method("loss_and_grad"),
     lambda: dict(model=_ssm(), x=_x(), y_target=_x(), loss="mse", power=2.0, check_finite=True),
     dict(x=bad_arrays((2, 5, 1)), y_target=bad_arrays((2, 5, 1)), loss=bad_names(LOSSES), power=bad_numbers(),
          check_finite=bad_flags()))
_add("rnnmem.DiagonalSSM.jacobian", _call_method("jacobian"), lambda: dict(model=_ssm(), h=None, x=None),
     dict(h=bad_arrays((6,)), x=bad_arrays((1,))))
_add("rnnmem.DiagonalSSM.step_jacobians", _call_method("step_jacobians"),
     lambda: dict(model=_ssm(), x=_x(), h0=None), dict(x=bad_arrays((2, 5, 1))))


def _s4d_blocks():
    m = ssm.S4D.random(2, rng=0)
    return {k: np.array(v) for k, v in m.params().items()} | {"D": None, "f": "exp"}


def _lru_blocks():
    m = ssm.LRU.random(2, rng=0)
    return {k: np.array(v) for k, v in m.params().items()} | {"D": None, "f": "exp"}


_add("rnnmem.ssm.S4D", lambda **kw: ssm.S4D(**kw), _s4d_blocks,
     dict(w=bad_arrays((2,)), theta=bad_arrays((2,)), log_dt=bad_arrays((2,)), B=bad_arrays((2, 1)),
          C=bad_arrays((1, 2)), D=bad_arrays((1, 1)), f=bad_names(reparam.TRANSFORMS)))
_add("rnnmem.ssm.S4D.random", lambda **kw: ssm.S4D.random(**kw),
     lambda: dict(hidden=2, inputs=1, outputs=1, dt_min=1e-3, dt_max=1e-1, init="inv", f="softplus",
                  feedthrough=True, rng=0),
     dict(hidden=bad_counts(), inputs=bad_counts(), outputs=bad_counts(), dt_min=bad_numbers(),
          dt_max=bad_numbers(), init=bad_names(("lin", "inv")), f=bad_names(reparam.TRANSFORMS),
          feedthrough=bad_flags(), rng=bad_rngs()),
     names={k: ("random",) for k in ("hidden", "inputs", "outputs")})
_add("rnnmem.ssm.LRU", lambda **kw: ssm.LRU(**kw), _lru_blocks,
     dict(nu=bad_arrays((2,)), theta=bad_arrays((2,)), gamma=bad_arrays((2,)), B=bad_arrays((2, 1)),
          C=bad_arrays((1, 2)), D=bad_arrays((1, 1)), f=bad_names(reparam.TRANSFORMS)))
_add("rnnmem.ssm.LRU.random", lambda **kw: ssm.LRU.random(**kw),
     lambda: dict(hidden=2, inputs=1, outputs=1, r_min=0.1, r_max=0.9, max_phase=1.0, f="exp", feedthrough=False,
                  rng=0),
     dict(hidden=bad_counts(), inputs=bad_counts(), outputs=bad_counts(), r_min=bad_numbers(), r_max=bad_numbers(),
          max_phase=bad_numbers(), f=bad_names(reparam.TRANSFORMS), feedthrough=bad_flags(), rng=bad_rngs()),
     names={k: ("random",) for k in ("hidden", "inputs", "outputs")})
_add("rnnmem.ssm.LRU.__call__", lambda model, **kw: model(**kw),
     lambda: dict(model=ssm.LRU.random(2, rng=0), x=_x(), method="scan", check_finite=True),
     dict(x=bad_arrays((2, 5, 1)), method=bad_names(ssm.METHODS), check_finite=bad_flags()))
_add("rnnmem.ssm.S4D.loss_and_grad", _call_method("loss_and_grad"),
     lambda: dict(model=ssm.S4D.random(2, rng=0), x=_x(), y_target=_x(), loss="mse"),
     dict(x=bad_arrays((2, 5, 1)), y_target=bad_arrays((2, 5, 1)), loss=bad_names(LOSSES)))

# ----------------------------------------------------------------------------------------------- sweep
_add("rnnmem.sweep.sweep", lambda **kw: rm.sweep(**kw),
     lambda: dict(fn=pow, grid={"base": [2, 3], "exp": [0, 1]}, executor=None, store=None, progress=False),
     dict(fn=bad_callables(),
          grid=st.sampled_from([None, 3, "abc", {"base": 3}, {"a b": [1]}, {3: [1]}, object()]),
          executor=st.sampled_from(["threads", 3, object(), [None]]),
          store=st.sampled_from([3.0, [], object(), True]), progress=bad_flags()))

# ----------------------------------------------------------------------------------------------- testing
_add("rnnmem.testing.finite_floats", lambda **kw: testing.finite_floats(**kw), lambda: dict(bound=2.0),
     dict(bound=bad_numbers()))
_add("rnnmem.testing.rnns", lambda **kw: testing.rnns(**kw),
     lambda: dict(hidden=2, inputs=st.integers(1, 2), outputs=1, cells=("elman",), activations=ACTIVATIONS,
                  feedthrough=False, weight_bound=1.0, dt=0.5),
     dict(hidden=bad_strategies_or_counts(), inputs=bad_strategies_or_counts(), outputs=bad_strategies_or_counts(),
          cells=bad_names(CELLS), activations=bad_names(ACTIVATIONS), feedthrough=bad_flags(),
          weight_bound=bad_numbers(), dt=bad_numbers()),
     names={"cells": ("cells",), "activations": ("activations",)})
_add("rnnmem.testing.stable_rnns", lambda **kw: testing.stable_rnns(**kw),
     lambda: dict(hidden=2, inputs=1, outputs=1, activations=("tanh",), margin=0.1),
     dict(hidden=bad_strategies_or_counts(), inputs=bad_strategies_or_counts(),
          outputs=bad_strategies_or_counts(), activations=bad_names(ACTIVATIONS), margin=bad_numbers()))
_add("rnnmem.testing.inputs_for", lambda **kw: testing.inputs_for(**kw),
     lambda: dict(rnn=_rnn(), batch=2, time=st.integers(1, 3), bound=1.0),
     dict(rnn=bad_models(), batch=bad_strategies_or_counts(), time=bad_strategies_or_counts(),
          bound=bad_numbers()))


#: public names of these modules that are not fuzzed, each with the reason
_RECORD = "a result record built by the library (its fields are computed values, not user input)"
_NOARGS = "takes no arguments (nothing to fuzz); its result is checked by the unit tests of the class"
EXEMPT: dict[str, str] = {
    # `rm.sweep` is the function, but the dotted name resolves to the submodule; the function is fuzzed above as
    # rnnmem.sweep.sweep
    "rnnmem.sweep": "the function is registered as rnnmem.sweep.sweep",
    "rnnmem.Gradients": _RECORD, "rnnmem.Gradients.params": _NOARGS,
    "rnnmem.FitResult": _RECORD,
    "rnnmem.DecayFit": _RECORD, "rnnmem.DecayFit.quality": _NOARGS,
    "rnnmem.MemoryFunction": _RECORD,
    "rnnmem.RNN.params": _NOARGS, "rnnmem.RNN.to_rnn": _NOARGS,
    "rnnmem.DiagonalSSM.params": _NOARGS, "rnnmem.DiagonalSSM.to_ssm": _NOARGS,
    "rnnmem.DiagonalSSM.spectral_radius": _NOARGS,
    "rnnmem.ssm.S4D.params": _NOARGS, "rnnmem.ssm.S4D.to_ssm": _NOARGS,
    "rnnmem.ssm.LRU.params": _NOARGS, "rnnmem.ssm.LRU.to_ssm": _NOARGS,
    "rnnmem.reparam.ReparamGradients": _RECORD, "rnnmem.reparam.ReparamGradients.params": _NOARGS,
    "rnnmem.reparam.ReparamRNN.params": _NOARGS, "rnnmem.reparam.ReparamRNN.to_rnn": _NOARGS,
    "rnnmem.gated.NamedGradients": _RECORD, "rnnmem.gated.NamedGradients.params": _NOARGS,
    "rnnmem.gated.NamedGradients.state_dict": _NOARGS,
    "rnnmem.sweep.SweepResult": _RECORD, "rnnmem.sweep.SweepResult.array": _NOARGS,
    "rnnmem.sweep.SweepResult.raise_errors": _NOARGS, "rnnmem.sweep.CellError": _RECORD,
    "rnnmem.sweep.SweepError": "an exception class", "rnnmem.sweep.SweepWarning": "a warning class",
}
