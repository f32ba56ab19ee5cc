"""Every public object pickles and comes back bit-identical; frozen objects stay frozen (process pools, Dask, stores).

``CASES`` builds one instance of every public class (and every target family); ``test_every_public_class_has_a_case``
fails when a new public class appears without one, so the list cannot silently fall behind the API.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
import pickle
import pkgutil
import struct

import numpy as np
import pytest

import rnnmem as rm
import theory
from rnnmem import approx, ntk, reparam, targets
from rnnmem.sweep import CellError, SweepResult

X = np.random.default_rng(0).standard_normal((3, 40, 1))


def _sweep_result():
    return SweepResult([{"a": 1}, {"a": 2}], [0.5, None], {1: CellError(1, {"a": 2}, "ValueError", "bad", "tb")},
                       ("a",), (2,), 0)


def _fit_result():
    teacher = targets.exponential(base=0.9)
    return rm.fit(rm.RNN.random(3, rng=0), X, teacher(X), epochs=2, lr=1e-2, progress=False, rng=0)


def _adam():
    opt = rm.Adam(lr=1e-2)
    opt.step({"W": np.ones(3)}, {"W": np.arange(3.0)})  # with moment state
    return opt


def _gd_result():
    L0 = np.array([0.5, 0.2, 0.1])
    x = np.random.default_rng(1).standard_normal((20, 3))
    return ntk.gd(ntk.SCNN.from_response(L0, np.ones(3)), x, x @ L0[::-1], lr=0.1, steps=3)


def _reparam_grads():
    m = reparam.ReparamRNN.random(3, rng=0)
    return m.loss_and_grad(X, np.zeros((3, 40, 1)))[1]


#: (public class, name of the case, factory)
CASES = [
    (rm.RNN, "rnn", lambda: rm.RNN.random(4, 2, 1, rng=0)),
    (rm.RNN, "rnn-euler-D", lambda: rm.RNN.random(3, cell="euler", activation="relu", dt=0.1, rng=1)
     .replace(D=np.ones((1, 1)))),
    (rm.Gradients, "gradients", lambda: rm.RNN.random(3, rng=0).vjp(X, np.ones((3, 40, 1)))),
    (rm.Adam, "adam", _adam),
    (rm.SGD, "sgd", lambda: rm.SGD(lr=0.1, momentum=0.9)),
    (rm.FitResult, "fit-result", _fit_result),
    (rm.MemoryFunction, "memory-function", lambda: rm.memory_function(rm.RNN.random(3, rng=0), 20, rng=0)),
    (rm.DecayFit, "decay-fit", lambda: rm.fit_decay(np.arange(1.0, 30.0), 0.9 ** np.arange(1.0, 30.0))),
    (rm.PerturbationCurve, "perturbation-curve",
     lambda: rm.perturbation_error(rm.RNN.random(3, rng=0), targets.exponential(), [0.0, 0.1], samples=2,
                                   x=X, rng=0)),
    (targets.LinearFunctional, "exponential", lambda: targets.exponential(rate=0.3, coef=2.0)),
    (targets.LinearFunctional, "exponential-base", lambda: targets.exponential(base=0.9, direction=[1.0, -2.0])),
    (targets.LinearFunctional, "polynomial", lambda: targets.polynomial(1.1, scale=0.1)),
    (targets.LinearFunctional, "shift", lambda: targets.shift(3)),
    (targets.LinearFunctional, "sum-of-exponentials", lambda: targets.sum_of_exponentials([1.0, -0.5], [0.1, 1.0])),
    (targets.LinearFunctional, "airy", lambda: targets.airy()),
    (targets.Teacher, "teacher", lambda: targets.teacher(rm.RNN.random(3, rng=2))),
    (targets.Composite, "composite", lambda: targets.composite(targets.polynomial(1.5), "sin")),
    (reparam.Transform, "transform", lambda: reparam.best(2.0, 0.25)),
    (reparam.ReparamRNN, "reparam-rnn", lambda: reparam.ReparamRNN.random(4, f="softplus", rng=0)),
    (reparam.ReparamRNN, "reparam-rnn-symmetric",
     lambda: reparam.ReparamRNN.random(3, structure="symmetric", f="best", rng=1)),
    (reparam.ReparamGradients, "reparam-gradients", _reparam_grads),
    (approx.ExponentialFit, "exponential-fit", lambda: approx.exponential_fit(targets.polynomial(1.1).rho, 2)),
    (ntk.WideLinearRNN, "wide-linear-rnn", lambda: ntk.init(6, sigma2=0.8, rng=0)),
    (ntk.SCNN, "scnn", lambda: ntk.SCNN(np.array([1.0, 0.5]), np.array([0.3, -0.2]))),
    (ntk.GDResult, "gd-result", _gd_result),
    (SweepResult, "sweep-result", _sweep_result),
    (CellError, "cell-error", lambda: CellError(0, 3, "KeyError", "k", "Traceback ...")),
    (rm.StackedRNN, "stacked-rnn", lambda: rm.StackedRNN.random(3, inputs=2, layers=2, nonlinearity="relu", rng=0)),
    (rm.GRU, "gru", lambda: rm.GRU.random(3, inputs=1, layers=2, bias=False, rng=1)),
    (rm.LSTM, "lstm", lambda: rm.LSTM.random(3, inputs=2, layers=1, rng=2)),
    (rm.gated.NamedGradients, "named-gradients",
     lambda: rm.LSTM.random(3, rng=2).loss_and_grad(X, np.zeros((3, 40, 3)))[1]),
    (rm.DiagonalSSM, "diagonal-ssm", lambda: rm.DiagonalSSM.random(4, inputs=1, outputs=2, rng=0)),
    (rm.ssm.S4D, "s4d", lambda: rm.ssm.S4D.random(4, rng=0)),
    (rm.ssm.LRU, "lru", lambda: rm.ssm.LRU.random(4, rng=0)),
    (theory.Result, "theory-result", lambda: theory.Result(True, "s", data={"x": np.arange(3.0)}, seeds={0: True},
                                                           controls=[theory.Control("c", "p", False, "c")])),
    (theory.Control, "theory-control", lambda: theory.Control("c", "premise", False, "x = 1")),
    (theory.Context, "theory-context", lambda: theory.Context(quick=True, seed=3)),
]

#: public exception and warning classes: pickled as exceptions (type and message), not compared field by field
EXCEPTIONS = {rm.RNNMemError, rm.NonFiniteError}


def _public_classes():
    mods = ["rnnmem"] + [f"rnnmem.{m.name}" for m in pkgutil.iter_modules(rm.__path__) if not m.name.startswith("_")]
    found = {}
    for name in mods:
        mod = importlib.import_module(name)
        for attr in getattr(mod, "__all__", [a for a in dir(mod) if not a.startswith("_")]):
            obj = getattr(mod, attr)
            if inspect.isclass(obj) and obj.__module__.startswith("rnnmem") and not issubclass(obj, Warning):
                found[obj] = f"{name}.{attr}"
    for attr in theory.__all__:
        obj = getattr(theory, attr)
        if inspect.isclass(obj):
            found[obj] = f"theory.{attr}"
    return found


def test_every_public_class_has_a_case():
    covered = {cls for cls, _, _ in CASES} | EXCEPTIONS
    missing = [path for cls, path in _public_classes().items()
               if cls not in covered and not issubclass(cls, Exception)]
    assert not missing, f"public classes without a pickle round-trip case in tests/test_pickle.py CASES: {missing}"


def _same(a, b, path="obj"):
    """Bit-identical structural equality (arrays: dtype, shape, bytes and writeable flag; floats: their bits)."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, path
        assert a.tobytes() == b.tobytes(), f"{path}: array bits differ"
        assert a.flags.writeable == b.flags.writeable, f"{path}: writeable {a.flags.writeable} -> {b.flags.writeable}"
    elif isinstance(a, (float, np.floating)):
        assert struct.pack("<d", float(a)) == struct.pack("<d", float(b)), f"{path}: {a!r} != {b!r}"
    elif isinstance(a, (dict,)):
        assert list(a) == list(b), f"{path}: keys {list(a)} != {list(b)}"
        for k in a:
            _same(a[k], b[k], f"{path}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (u, v) in enumerate(zip(a, b, strict=True)):
            _same(u, v, f"{path}[{i}]")
    elif isinstance(a, functools.partial):
        _same(a.func, b.func, f"{path}.func")
        _same(a.args, b.args, f"{path}.args")
        _same(a.keywords, b.keywords, f"{path}.keywords")
    elif isinstance(a, (str, bytes, int, bool, type(None), np.integer, np.bool_, np.ufunc)) or inspect.isroutine(a) \
            or inspect.isclass(a):
        assert a == b, f"{path}: {a!r} != {b!r}"
    else:
        _same(_state(a), _state(b), f"{path}.<state>")


def _state(obj) -> dict:
    if dataclasses.is_dataclass(obj):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if f.compare}
    slots = [s for k in type(obj).__mro__ for s in getattr(k, "__slots__", ())]
    state = {s: getattr(obj, s) for s in slots if hasattr(obj, s)}
    state.update(getattr(obj, "__dict__", {}))
    return state


@pytest.mark.parametrize(("cls", "name", "make"), CASES, ids=[c[1] for c in CASES])
def test_round_trip_is_bit_identical_and_frozen_stays_frozen(cls, name, make):
    obj = make()
    assert isinstance(obj, cls)
    for protocol in (2, pickle.DEFAULT_PROTOCOL, pickle.HIGHEST_PROTOCOL):
        back = pickle.loads(pickle.dumps(obj, protocol=protocol))
        _same(obj, back, name)  # includes each array's read-only flag
        if dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen or hasattr(cls, "_freeze"):
            field = next(iter(_state(back)))
            with pytest.raises(AttributeError):  # FrozenInstanceError is an AttributeError
                setattr(back, field.lstrip("_"), None)
        for arr in (v for v in _state(back).values() if isinstance(v, np.ndarray) and not v.flags.writeable):
            with pytest.raises(ValueError, match="read-only"):
                arr[...] = 0.0


@pytest.mark.parametrize("name", ["rnn", "rnn-euler-D", "reparam-rnn", "reparam-rnn-symmetric", "exponential",
                                  "exponential-base", "polynomial", "shift", "sum-of-exponentials", "airy",
                                  "teacher", "composite", "wide-linear-rnn", "scnn"])
def test_unpickled_models_and_targets_compute_the_same_bits(name):
    obj = dict((c[1], c[2]) for c in CASES)[name]()
    back = pickle.loads(pickle.dumps(obj))
    if name == "wide-linear-rnn":
        obj, back = obj.to_rnn(), back.to_rnn()
    x = np.random.default_rng(3).standard_normal((2, 30, getattr(obj, "inputs", 1)))
    if name == "scnn":
        x = x[..., 0]
    assert obj(x).tobytes() == back(x).tobytes()


@pytest.mark.parametrize("name", ["wide-linear-rnn", "scnn", "exponential-base", "rnn", "reparam-rnn"])
def test_frozen_arrays_stay_read_only_after_unpickling(name):
    """The issue's case: WideLinearRNN and SCNN came back writeable, so a frozen model could be changed."""
    back = pickle.loads(pickle.dumps(dict((c[1], c[2]) for c in CASES)[name]()))
    arrays = [v for v in _state(back).values() if isinstance(v, np.ndarray)]
    assert arrays and not any(a.flags.writeable for a in arrays)


def test_exceptions_pickle_with_their_message():
    for exc in (rm.RNNMemError("bad x"), rm.NonFiniteError("nan at step 3", step=3)):
        back = pickle.loads(pickle.dumps(exc))
        assert type(back) is type(exc) and str(back) == str(exc) and vars(back) == vars(exc)
