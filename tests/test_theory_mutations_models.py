"""Mutation tests of the model checks (fig10-impulse-vs-heaviside, appb-lstm-token): unmutated, each check reaches its
expected state with every control FAIL; with a plausible bug planted in the library function it relies on, its state
changes."""

from __future__ import annotations

import pytest
from theory_mutation import expected, verdict

import rnnmem as rm
from rnnmem import memory as memory_module

CHECKS = ("fig10-impulse-vs-heaviside", "appb-lstm-token")
#: a mutated check must end FAIL or VACUOUS: its state changed by the bug, not by an exception (ERROR)
CHANGED = ("FAIL", "VACUOUS")


@pytest.fixture(scope="module")
def unmutated():
    return {name: verdict(name, quick=True) for name in CHECKS}


@pytest.mark.parametrize("name", CHECKS)
def test_unmutated_verdict_and_controls(unmutated, name):
    rec = unmutated[name]
    assert rec["status"] == expected(name), rec.get("summary")
    assert rec["controls"] and all(c["status"] == "FAIL" for c in rec["controls"]), rec["controls"]


def _flipped_fit_decay(orig):
    """fit_decay with its verdict inverted (the larger residual wins): a plausible comparison bug."""
    def fit_decay(*args, **kwargs):
        f = orig(*args, **kwargs)
        kind = "polynomial" if f.rss_exponential <= f.rss_polynomial else "exponential"
        return type(f)(**{**f.__dict__, "kind": kind})
    return fit_decay


@pytest.mark.parametrize("name", CHECKS)
def test_fit_verdict_inverted(monkeypatch, name):
    monkeypatch.setattr(rm, "fit_decay", _flipped_fit_decay(rm.fit_decay))
    assert verdict(name)["status"] in CHANGED


def test_fig10_baseline_not_subtracted(monkeypatch):
    """The estimator forgets to subtract the zero-input response H(0): the impulse memory of a biased model at rest
    then tends to |h*(0)|/|x| instead of decaying."""
    orig = memory_module._batched

    def batched(model, X, chunk, dt):
        y = orig(model, X, chunk, dt)
        y[0] = 0.0
        return y

    monkeypatch.setattr(memory_module, "_batched", batched)
    assert verdict("fig10-impulse-vs-heaviside")["status"] in CHANGED


def test_fig10_initial_state_ignored(monkeypatch):
    """The torch-layout models silently ignore a given initial state (always start from h = 0): the models are no
    longer at rest when the inputs start."""
    from rnnmem import gated

    orig = gated._TorchLayout._initial
    monkeypatch.setattr(gated._TorchLayout, "_initial", lambda self, h0, B, squeeze: orig(self, None, B, squeeze))
    assert verdict("fig10-impulse-vs-heaviside")["status"] in CHANGED


def test_appb_training_cut_short(monkeypatch):
    orig = rm.fit

    def fit(model, x, y, **kw):
        kw["epochs"] = 1
        return orig(model, x, y, **kw)

    monkeypatch.setattr(rm, "fit", fit)
    assert verdict("appb-lstm-token")["status"] in CHANGED


def test_appb_gradient_sign_error(monkeypatch):
    """BPTT with the sign of the recurrent-weight gradients flipped: training no longer learns the task."""
    from rnnmem import gated

    orig = gated._TorchLayout._backward

    def backward(self, *args):
        g = orig(self, *args)
        blocks = {k: (-v if k.startswith("weight_hh") or k.startswith("weight_ih") else v)
                  for k, v in g.blocks.items()}
        return gated.NamedGradients(blocks, g.x, g.h0, g.c0)

    monkeypatch.setattr(gated._TorchLayout, "_backward", backward)
    assert verdict("appb-lstm-token")["status"] in CHANGED
