"""Tests of rnnmem.train: optimisers against reference formulas, fit() on teachers, scheduling, protocol."""

from __future__ import annotations

import naive
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from naive_train import adam_bound, adam_steps, sgd_steps

import rnnmem as rm
from rnnmem.reparam import ReparamRNN


class Quadratic:
    """A minimal model of the training protocol: loss = batch mean of |a − x_n|², x of shape (B, 1, k).

    Records the sequences it was given, so minibatching can be checked.
    """

    def __init__(self, a, seen=None, const=False):
        self.a = np.asarray(a, dtype=float)
        self.seen = [] if seen is None else seen
        self.const = const

    def params(self):
        return {"a": self.a}

    def replace(self, **blocks):
        return Quadratic(blocks.get("a", self.a), self.seen, self.const)

    def __call__(self, x):
        return np.broadcast_to(self.a, x.shape).copy()

    def loss_and_grad(self, x, y, loss="mse", power=2.0):
        self.seen.append(x[:, 0, 0].copy())
        if self.const:
            return 1.0, {"a": np.ones_like(self.a)}
        r = self.a[None] - x[:, 0, :]
        return float(np.mean(np.sum(r * r, axis=1))), {"a": 2.0 * r.mean(axis=0)}


@given(arrays(np.float64, (2, 3), elements=st.floats(-5, 5)), st.integers(0, 2**31 - 1),
       st.floats(1e-4, 0.5), st.sampled_from([0.0, 0.01]))
@settings(deadline=None, max_examples=40)
def test_adam_matches_reference_formula(theta0, seed, lr, wd):
    gen = np.random.default_rng(seed)
    grads = [gen.normal(size=theta0.shape) * 10.0 ** gen.uniform(-4, 2) for _ in range(6)]
    opt = rm.Adam(lr, betas=(0.8, 0.99), eps=1e-7, weight_decay=wd)
    params = {"W": theta0.copy()}
    ref = adam_steps(theta0, grads, lr, 0.8, 0.99, 1e-7, wd)
    bounds = adam_bound(theta0, grads, lr, 0.8, 0.99, 1e-7, wd)  # each implementation within this of exact
    for g, r, b in zip(grads, ref, bounds, strict=True):
        params = opt.step(params, {"W": g})
        naive.assert_within(params["W"], r, b, "θ")
    np.testing.assert_array_equal(theta0, theta0.copy())


def test_adam_check_catches_a_relative_error_of_1e_5():
    gen = np.random.default_rng(0)
    theta0 = gen.normal(size=(2, 3))
    grads = [gen.normal(size=(2, 3)) for _ in range(4)]
    ref = adam_steps(theta0, grads, 0.01, 0.8, 0.99, 1e-7, 0.01)
    bounds = adam_bound(theta0, grads, 0.01, 0.8, 0.99, 1e-7, 0.01)
    opt = rm.Adam(0.01, betas=(0.8, 0.99), eps=1e-7, weight_decay=0.01)
    params = {"W": theta0.copy()}
    for g, r, b in zip(grads, ref, bounds, strict=True):
        params = opt.step(params, {"W": g})
        naive.assert_within(params["W"], r, b, "θ")
        with pytest.raises(AssertionError):
            naive.assert_within(params["W"] * 1.00001, r, b, "θ")


def test_adam_first_step_is_lr_times_sign():
    """Bias correction: the first Adam step is lr · g/(|g| + ε) ≈ lr · sign(g), whatever the scale of g."""
    opt = rm.Adam(0.01, eps=1e-12)
    g = np.array([3e-5, -7.0, 2e3])
    out = opt.step({"a": np.zeros(3)}, {"a": g})
    np.testing.assert_allclose(out["a"], -0.01 * np.sign(g), rtol=1e-6)


@pytest.mark.parametrize("momentum, wd", [(0.0, 0.0), (0.9, 0.0), (0.5, 0.1)])
def test_sgd_matches_reference(momentum, wd):
    gen = np.random.default_rng(1)
    theta0 = gen.normal(size=(3, 2))
    grads = [gen.normal(size=(3, 2)) for _ in range(5)]
    opt = rm.SGD(0.1, momentum=momentum, weight_decay=wd)
    params = {"U": theta0}
    for g, r in zip(grads, sgd_steps(theta0, grads, 0.1, momentum, wd), strict=True):
        params = opt.step(params, {"U": g})
        np.testing.assert_allclose(params["U"], r, rtol=1e-13)


def test_fit_recovers_teacher_rnn_outputs():
    """A student trained on a teacher's outputs reproduces them on FRESH inputs (relative error < 2 %)."""
    teacher = rm.RNN.random(4, 2, 1, cell="elman", activation="tanh", sigma2=0.64, rng=0)
    gen = np.random.default_rng(1)
    x, x_test = gen.normal(size=(256, 25, 2)), gen.normal(size=(256, 25, 2))
    y, y_test = teacher(x), teacher(x_test)
    student = rm.RNN.random(8, 2, 1, cell="elman", activation="tanh", sigma2=0.25, rng=2)
    res = rm.fit(student, x, y, epochs=150, lr=0.01, batch_size=64, rng=3, progress=False)
    rel = np.mean((res.model(x_test) - y_test) ** 2) / np.mean(y_test**2)
    rel0 = np.mean((student(x_test) - y_test) ** 2) / np.mean(y_test**2)
    assert rel < 0.02 < rel0
    assert res.history["loss"].shape == (150,) and res.epochs == 150 and res.stopped == "epochs"
    assert res.history["loss"][-1] < 0.05 * res.history["loss"][0]


def test_fit_trains_reparameterised_models_and_keeps_them_stable():
    teacher = rm.RNN.random(3, cell="euler", activation="tanh", dt=0.5, rng=4)
    gen = np.random.default_rng(5)
    x = gen.normal(size=(64, 30, 1))
    y = teacher(x)
    for structure in ("diagonal", "symmetric"):
        model = ReparamRNN.random(6, structure=structure, f="softplus", dt=0.5, rates=(0.1, 1.0), rng=6)
        res = rm.fit(model, x, y, epochs=60, lr=0.02, rng=0, progress=False)
        assert isinstance(res.model, ReparamRNN) and res.model.structure == structure
        assert res.history["loss"][-1] < 0.3 * res.history["loss"][0]
        assert np.linalg.eigvalsh(res.model.W).max() <= 1e-12


def test_fit_same_seed_same_run_and_progress_false_is_silent(capsys):
    teacher = rm.RNN.random(3, rng=0)
    x = np.random.default_rng(1).normal(size=(40, 10, 1))
    runs = [rm.fit(rm.RNN.random(3, rng=2), x, teacher(x), epochs=4, lr=0.01, batch_size=7, rng=9,
                   progress=False) for _ in range(2)]
    np.testing.assert_array_equal(runs[0].model.W, runs[1].model.W)
    np.testing.assert_array_equal(runs[0].history["loss"], runs[1].history["loss"])
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_minibatches_cover_every_sequence_once_per_epoch():
    x = np.arange(10.0).reshape(10, 1, 1)
    model = Quadratic(np.zeros(1))
    rm.fit(model, x, np.zeros((10, 1, 1)), epochs=3, lr=0.1, batch_size=4, optimizer="sgd", rng=0,
           progress=False)
    seen = model.seen
    assert [len(s) for s in seen] == [4, 4, 2] * 3
    for e in range(3):
        np.testing.assert_array_equal(np.sort(np.concatenate(seen[3 * e:3 * e + 3])), np.arange(10.0))
    assert not np.array_equal(np.concatenate(seen[:3]), np.concatenate(seen[3:6]))  # reshuffled


def test_full_batch_sgd_on_quadratic_is_plain_gradient_descent():
    """Full batch SGD on mean |a − x_n|² contracts a − mean(x) by (1 − 2 lr) per epoch, exactly."""
    x = np.random.default_rng(0).normal(size=(5, 1, 2))
    res = rm.fit(Quadratic(np.array([3.0, -1.0])), x, np.zeros((5, 1, 2)), epochs=7, lr=0.1, optimizer="sgd",
                 progress=False)
    mu = x[:, 0].mean(axis=0)
    np.testing.assert_allclose(res.model.a, mu + (np.array([3.0, -1.0]) - mu) * 0.8**7, rtol=1e-12)


def test_gradient_clipping_bounds_the_step():
    x = np.zeros((3, 1, 2))
    res = rm.fit(Quadratic(np.array([30.0, 40.0])), x, np.zeros((3, 1, 2)), epochs=1, lr=1.0,
                 optimizer="sgd", clip=0.5, progress=False)
    # gradient 2a = (60, 80), norm 100 -> clipped to norm 0.5 along the same direction
    np.testing.assert_allclose(res.model.a, [30.0 - 0.3, 40.0 - 0.4], rtol=1e-13)
    np.testing.assert_allclose(res.history["grad_norm"], [100.0])


def test_reduce_on_plateau_and_min_lr_stop():
    x = np.zeros((2, 1, 1))
    res = rm.fit(Quadratic(np.zeros(1), const=True), x, np.zeros((2, 1, 1)), epochs=20, lr=1.0,
                 optimizer="sgd", plateau_patience=2, plateau_factor=0.5, min_lr=0.25, progress=False)
    # epoch 1 sets the best loss; epochs 2-4 do not improve -> lr halves after epoch 4, and so on
    np.testing.assert_allclose(res.history["lr"][:10], [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25])
    assert res.stopped == "min_lr" and res.epochs == 10


def test_stop_loss_and_validation_and_restore_best():
    teacher = rm.RNN.random(3, rng=0)
    gen = np.random.default_rng(1)
    x, xv = gen.normal(size=(64, 12, 1)), gen.normal(size=(32, 12, 1))
    res = rm.fit(rm.RNN.random(3, rng=2), x, teacher(x), epochs=500, lr=0.02, stop_loss=1e-3,
                 validation=(xv, teacher(xv)), restore_best=True, progress=False)
    assert res.stopped == "stop_loss" and res.epochs < 500
    assert len(res.history["val_loss"]) == res.epochs
    assert res.history["val_loss"][-1] <= 1e-3 < res.history["val_loss"][0]
    np.testing.assert_allclose(res.final_loss, np.mean((res.model(xv) - teacher(xv)) ** 2), rtol=1e-12)
    assert res.epochs_to(1e-3) == res.epochs


def test_cross_entropy_classification():
    """Sign of the running sum, read at the last step: a trained euler tanh RNN classifies > 92 % right."""
    gen = np.random.default_rng(0)
    x = gen.normal(size=(400, 15, 1))
    labels = (x.sum(axis=(1, 2)) > 0).astype(int)
    model = rm.RNN.random(6, 1, 2, cell="euler", dt=0.5, rng=1)
    res = rm.fit(model, x[:300], labels[:300], epochs=60, lr=0.02, batch_size=50, loss="cross_entropy", rng=0,
                 validation=(x[300:], labels[300:]), progress=False)
    acc = np.mean(res.model(x[300:])[:, -1].argmax(axis=1) == labels[300:])
    acc0 = np.mean(model(x[300:])[:, -1].argmax(axis=1) == labels[300:])
    assert acc > 0.92 and acc0 < 0.8
    assert res.history["val_loss"][-1] < 0.5 * res.history["val_loss"][0]


def test_trainable_subset_freezes_other_blocks():
    teacher = rm.RNN.random(3, rng=0)
    x = np.random.default_rng(1).normal(size=(16, 8, 1))
    model = rm.RNN.random(3, rng=2)
    res = rm.fit(model, x, teacher(x), epochs=3, lr=0.01, trainable=["C"], progress=False)
    np.testing.assert_array_equal(res.model.W, model.W)
    np.testing.assert_array_equal(res.model.U, model.U)
    assert not np.array_equal(res.model.C, model.C)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_raises_nonfinite_error():
    model = rm.RNN.random(3, cell="euler", activation="linear", shift=-3.0, rng=0)  # unstable linear model
    x = np.ones((4, 400, 1))
    with pytest.raises(rm.NonFiniteError, match="epoch 1, batch 1"):
        rm.fit(model, x, np.zeros((4, 400, 1)), epochs=2, lr=0.1, progress=False)


def test_bad_arguments():
    model = rm.RNN.random(2, rng=0)
    x, y = np.zeros((4, 5, 1)), np.zeros((4, 5, 1))
    with pytest.raises(ValueError, match="epochs must be an integer >= 1"):
        rm.fit(model, x, y, epochs=0, lr=0.1)
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        rm.fit(model, x, y, epochs=1, lr=-1.0)
    with pytest.raises(ValueError, match="unknown optimizer 'lbfgs'"):
        rm.fit(model, x, y, epochs=1, lr=0.1, optimizer="lbfgs")
    with pytest.raises(ValueError, match="unknown loss"):
        rm.fit(model, x, y, epochs=1, lr=0.1, loss="l1")
    with pytest.raises(ValueError, match=r"y has shape \(3, 5, 1\), expected \(4, 5, 1\)"):
        rm.fit(model, x, y[:3], epochs=1, lr=0.1)
    with pytest.raises(ValueError, match="y must be 2-D"):  # one (T, d) sequence takes one (T, p) target
        rm.fit(model, x[0], y, epochs=1, lr=0.1)
    with pytest.raises(ValueError, match="x must be 2-D or 3-D"):
        rm.fit(model, x[0, :, 0], y, epochs=1, lr=0.1)
    with pytest.raises(TypeError, match="integer class labels"):
        rm.fit(model, x, np.zeros(4), epochs=1, lr=0.1, loss="cross_entropy")
    with pytest.raises(ValueError, match="unknown trainable entry 'V'"):
        rm.fit(model, x, y, epochs=1, lr=0.1, trainable=["V"])
    with pytest.raises(TypeError, match="has no params"):
        rm.fit(object(), x, y, epochs=1, lr=0.1)
    with pytest.raises(ValueError, match="betas\\[0\\] must be < 1"):
        rm.Adam(0.1, betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="momentum must be < 1"):
        rm.SGD(0.1, momentum=1.5)


def test_fit_does_not_mutate_inputs_and_progress_reports():
    teacher = rm.RNN.random(3, rng=0)
    x = np.random.default_rng(1).normal(size=(12, 6, 1))
    y = teacher(x)
    x0, y0 = x.copy(), y.copy()
    model = rm.RNN.random(3, rng=2)
    W0 = model.W.copy()
    res = rm.fit(model, x, y, epochs=3, lr=0.01, batch_size=5, rng=0, progress=True)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(model.W, W0)
    assert res.history["seconds"].shape == (3,) and np.all(np.diff(res.history["seconds"]) >= 0)
