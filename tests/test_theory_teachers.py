"""The teachers of theory/_teachers.py (fig3, fig12): the NumPy causal transformer against a plain-loop reference,
causality, and the student filter's radius rule."""

from __future__ import annotations

import numpy as np
import pytest

import rnnmem as rm
from theory import _teachers as T


def _attention_loops(tf: T.CausalAttention, x: np.ndarray) -> np.ndarray:
    """Slow reference: one time step and one past position at a time."""
    B, Tn, _ = x.shape
    P = tf.positions(Tn)
    out = np.zeros((B, Tn, tf.outputs))
    for b in range(B):
        e = [tf.W_in @ x[b, t] + P[t] for t in range(Tn)]
        for t in range(Tn):
            q = tf.W_q @ e[t]
            logits = np.array([q @ (tf.W_k @ e[s]) / np.sqrt(tf.d_model) for s in range(t + 1)])
            w = np.exp(logits - logits.max())
            w /= w.sum()
            out[b, t] = tf.W_o @ sum(w[s] * (tf.W_v @ e[s]) for s in range(t + 1))
    return out


def test_causal_attention_matches_loops_and_is_causal():
    tf = T.CausalAttention(rng=3)
    x = np.random.default_rng(0).standard_normal((2, 9, 1))
    y = tf(x)
    np.testing.assert_allclose(y, _attention_loops(tf, x), rtol=1e-12, atol=1e-12)
    x2 = x.copy()
    x2[:, 5] += 1.0
    y2 = tf(x2)
    np.testing.assert_array_equal(y2[:, :5], y[:, :5])  # the past does not see the future
    assert np.all(np.abs(y2[:, 5:] - y[:, 5:]).max(axis=(0, 2)) > 0)
    p = tf.positions(4)
    assert np.allclose(p[:, 0], np.sin(np.arange(4))) and np.allclose(p[:, 1], np.cos(np.arange(4)))


def test_transformer_memory_is_computed_by_the_library_estimator():
    mf = rm.memory_function(T.CausalAttention(rng=1), 64, dt=0.5, amplitudes=T.LINEAR_REGIME, rng=0)
    assert mf.values.shape == (64,) and np.all(np.isfinite(mf.values)) and mf.values.max() > 0


@pytest.mark.parametrize("spec", [("rnn", 0.3, 5, 8, None), ("rnn", 0.6, 5, 8, 0.05), ("pol", 10.0),
                                  ("attention", 2, 2.0)])
def test_make_teacher(spec):
    t = T.make_teacher(spec)
    y = T.teacher_outputs(t, np.ones((1, 5, 1)), 0.5)
    assert y.shape == (1, 5, 1)
    if spec[0] == "rnn" and spec[4] is not None:
        assert abs(rm.spectral_abscissa(t.W) - spec[4]) < 1e-9


def test_stable_filter_uses_only_approximating_students():
    rows = [{"rel_E0": 0.5, "radius": 0.0}, {"rel_E0": 0.01, "radius": 0.256}, {"rel_E0": 0.001, "radius": 0.512}]
    f = T.stable_filter(rows)
    assert f["passes"] and f["beta0"] == 0.256
    assert not T.stable_filter([{"rel_E0": 0.1, "radius": 1.0}])["passes"]
    assert not T.stable_filter([{"rel_E0": 0.01, "radius": 0.0}])["passes"]
