"""Mutation tests of the memory group's theory checks (p2-*, mc-exact-vs-sampled, fig3-teacher, fig11a, fig11, fig12).

Each check must (a) reach its expected state at --quick size with every negative control FAILing, and (b) change
state when a library function it relies on is given a plausible bug. The unmutated checks run once (one module-level
run, so fig12 reuses fig3's students as in a real run); each mutation reruns one check fresh (``verdict`` clears the
``ctx.memo`` cache).
"""

from __future__ import annotations

import dataclasses
import io
import tempfile

import numpy as np
import pytest
from theory_mutation import expected, verdict

import rnnmem
import rnnmem._kernels_memory as KM
from rnnmem import linear, ntk
from theory import _registry, _runner

CHECKS = ["p2-ntk-limit", "p2-lag-weights", "p2-dynamics", "p2-implicit-bias", "p2-bias-variance",
          "mc-exact-vs-sampled", "fig3-teacher", "fig11a-diverse-memories", "fig11-attractors",
          "fig12-transformer-teacher"]


@pytest.fixture(scope="module")
def unmutated():
    _registry.clear_memo()
    try:
        with tempfile.TemporaryDirectory() as out:
            return _runner.run(CHECKS, quick=True, out=out, resume=False, stream=io.StringIO())
    finally:
        _registry.clear_memo()


@pytest.mark.parametrize("name", CHECKS)
def test_quick_verdict_is_expected_and_controls_fail(unmutated, name):
    rec = unmutated[name]
    assert rec["status"] == expected(name), (rec["summary"], rec["details"][-1500:])
    assert rec["controls"], "a check must declare negative controls"
    for c in rec["controls"]:
        assert c["status"] == "FAIL", f"control {c['name']} passed: {c['summary']}"


def _changed(name):
    rec = verdict(name)
    assert rec["status"] != expected(name), f"{name} did not notice the mutation: {rec['status']} {rec['summary']}"
    return rec


# ------------------------------------------------------------------------------------------------------ [P2] kernels
def _drop_w_term(orig):
    return lambda lags, sigma2, *a, **k: orig(lags, sigma2, *a, **{**k, "lr_W": 0.0})


def _sigma_for_sigma2(orig):
    return lambda lags, sigma2, *a, **k: orig(lags, float(np.sqrt(sigma2)), *a, **k)


@pytest.mark.parametrize("bug", [_drop_w_term, _sigma_for_sigma2], ids=["drop-W-term", "sigma-for-sigma2"])
@pytest.mark.parametrize("name", ["p2-ntk-limit", "p2-lag-weights"])
def test_wrong_lag_weights_are_caught(monkeypatch, name, bug):
    monkeypatch.setattr(ntk, "lag_weights", bug(ntk.lag_weights))
    assert _changed(name)["status"] == "FAIL"


def test_dynamics_catches_a_wrong_recurrent_gradient(monkeypatch):
    orig = ntk._markov_vjp

    def scaled(Ku, Kc, g):  # the W-gradient off by a factor 1.5 (a wrong BPTT term)
        gW, gU, gC = orig(Ku, Kc, g)
        return 1.5 * gW, gU, gC

    monkeypatch.setattr(ntk, "_markov_vjp", scaled)
    assert _changed("p2-dynamics")["status"] == "FAIL"


def test_dynamics_catches_a_wrong_kernel(monkeypatch):
    monkeypatch.setattr(ntk, "lag_weights", _drop_w_term(ntk.lag_weights))
    assert _changed("p2-dynamics")["status"] == "FAIL"


@pytest.mark.parametrize("name", ["p2-implicit-bias", "p2-bias-variance"])
def test_interpolant_without_lag_weights_is_caught(monkeypatch, name):
    orig = ntk.interpolant
    monkeypatch.setattr(ntk, "interpolant", lambda X, y, rho2, L0=None: orig(X, y, np.ones_like(rho2), L0))
    assert _changed(name)["status"] in ("FAIL", "VACUOUS")


# ------------------------------------------------------------------------------------------------------ memory capacity
def test_memory_capacity_with_a_wrong_gramian_is_caught(monkeypatch):
    from theory.mc import _wrong_gramian

    orig = linear.memory_capacity

    def wrong(W, u, k_max, method="exact", *a, **k):
        return _wrong_gramian(W, u, k_max) if method == "exact" else orig(W, u, k_max, method, *a, **k)

    monkeypatch.setattr(linear, "memory_capacity", wrong)
    assert _changed("mc-exact-vs-sampled")["status"] == "FAIL"


def test_memory_capacity_with_a_loose_rank_tolerance_is_caught(monkeypatch):
    # a singular-value cut-off of 1e-6 (not ~eps) drops the reservoir's weakest directions. (Replacing W by Wᵀ, u by
    # Wu or dropping the Krylov matrix's first row would not do: for a controllable pair MC_k depends on W only
    # through its characteristic polynomial — a true invariance, not a blind spot.)
    orig = linear.memory_capacity

    def loose(W, u, k_max, method="exact", *a, **k):
        return orig(W, u, k_max, method, *a, **({**k, "rtol": 1e-6} if method == "exact" else k))

    monkeypatch.setattr(linear, "memory_capacity", loose)
    assert _changed("mc-exact-vs-sampled")["status"] == "FAIL"


# ------------------------------------------------------------------------------------------------------ [P1] memory
def test_fit_decay_always_exponential_makes_fig3_vacuous(monkeypatch):
    orig = rnnmem.fit_decay

    def always_exponential(*a, **k):
        return dataclasses.replace(orig(*a, **k), kind="exponential")

    monkeypatch.setattr(rnnmem, "fit_decay", always_exponential)
    monkeypatch.setattr(rnnmem.memory, "fit_decay", always_exponential)
    rec = _changed("fig3-teacher")
    assert rec["status"] == "VACUOUS"
    assert [c["status"] for c in rec["controls"] if c["name"] == "polynomial-teacher"] == ["PASS"]


def _one_epoch(monkeypatch):
    orig = rnnmem.fit
    monkeypatch.setattr(rnnmem, "fit", lambda *a, **k: orig(*a, **{**k, "epochs": 1}))


@pytest.mark.parametrize("name", ["fig3-teacher", "fig12-transformer-teacher"])
def test_training_cut_short_is_caught(monkeypatch, name):
    _one_epoch(monkeypatch)
    assert _changed(name)["status"] == "FAIL"


def test_memory_without_the_time_derivative_is_caught(monkeypatch):
    orig = rnnmem.memory_function

    def no_derivative(model, T, **k):  # M from the accumulated response instead of its time derivative
        mf = orig(model, T, **k)
        return dataclasses.replace(mf, values=np.cumsum(mf.values) * mf.dt)

    monkeypatch.setattr(rnnmem, "memory_function", no_derivative)
    assert _changed("fig11a-diverse-memories")["status"] == "FAIL"


def test_v_dynamics_without_the_activation_derivative_is_caught(monkeypatch):
    def linear_v(W, C, z0, d0, dt, act, out):  # dv/dt = W v: the factor σ'(z) of the Jacobian dropped
        v = np.tanh(z0 + d0) - np.tanh(z0)
        for k in range(out.shape[1]):
            out[:, k] = v @ C.T
            v = v + dt * v @ W.T

    monkeypatch.setattr(KM, "heaviside_euler", linear_v)
    rec = _changed("fig11-attractors")
    assert rec["status"] in ("PASS", "VACUOUS")  # the counterexample disappears
