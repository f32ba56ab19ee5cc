"""Mutation tests of the linear-theory checks: each check must change state when a library function it relies on
gets a plausible bug, and the unmutated checks must end in their expected state with every control FAILing.

Group LINEAR: fig1-exp, fig1-pol, thm39-mechanism, thm39-bound, remark33, lemma-a6, lemma-a7, lemma-a8, lemma-a9,
lemma-a10, appc-rescaling. All at quick size.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from theory_mutation import expected, verdict

import rnnmem as rm
import rnnmem.stability as stab
from theory import _registry, _runner, appc, fig1, hartman_grobman, lemmas, remark33, thm39

CHECKS = ["fig1-exp", "fig1-pol", "thm39-mechanism", "thm39-bound", "remark33", "lemma-a6", "lemma-a7", "lemma-a8",
          "lemma-a9", "lemma-a10", "appc-rescaling"]


@pytest.fixture(scope="module")
def unmutated(tmp_path_factory):
    _registry.clear_memo()
    try:
        res = _runner.run(CHECKS, quick=True, out=tmp_path_factory.mktemp("linear"), resume=False,
                          stream=io.StringIO())
    finally:
        _registry.clear_memo()
    return res


@pytest.mark.parametrize("name", CHECKS)
def test_unmutated_state_and_controls(unmutated, name):
    rec = unmutated[name]
    assert rec["status"] == expected(name), rec["summary"]
    assert rec["controls"], f"{name} declares no negative control"
    assert all(c["status"] == "FAIL" for c in rec["controls"]), rec["controls"]


# ------------------------------------------------------------------------------------------ mutations
def _doubled_distance(monkeypatch, *modules):
    orig = stab.distance_to_instability

    def wrong(W, *args, **kwargs):  # a factor-2 bug in the distance to instability
        out = orig(W, *args, **kwargs)
        return (2 * out[0], out[1]) if isinstance(out, tuple) else 2 * out

    monkeypatch.setattr(stab, "distance_to_instability", wrong)
    monkeypatch.setattr(rm, "distance_to_instability", wrong)
    for mod in modules:
        monkeypatch.setattr(mod, "distance_to_instability", wrong)


def _shifted_abscissa(monkeypatch, shift, *modules):
    orig = stab.spectral_abscissa

    def wrong(W):  # a shifted spectral abscissa (e.g. the real part of the wrong eigenvalue)
        return orig(W) + shift

    monkeypatch.setattr(stab, "spectral_abscissa", wrong)
    monkeypatch.setattr(rm, "spectral_abscissa", wrong)
    for mod in modules:
        monkeypatch.setattr(mod, "spectral_abscissa", wrong)


def _changed(name):
    rec = verdict(name)
    assert rec["status"] != expected(name), f"{name} stayed {rec['status']} under the mutation: {rec['summary']}"


def test_fig1_exp_halved_perturbation(monkeypatch):
    orig = rm.perturbation_error

    def halved(model, target, betas, **kw):  # every perturbation half the size it claims: the radius doubles
        betas = np.asarray(betas, dtype=float)
        curve = orig(model, target, betas / 2, **kw)
        curve.betas = np.sort(betas)
        return curve

    monkeypatch.setattr(rm, "perturbation_error", halved)
    _changed("fig1-exp")


def test_fig1_pol_rates_bounded_away_from_zero(monkeypatch):
    orig = rm.approx.exponential_fit

    def bounded(rho, m, **kw):  # a wrong default rate bound: no mode slower than 0.02
        kw["rate_bounds"] = (2e-2, 10.0)
        return orig(rho, m, **kw)

    monkeypatch.setattr(rm.approx, "exponential_fit", bounded)
    monkeypatch.setattr(fig1.approx, "exponential_fit", bounded)
    _changed("fig1-pol")


def test_thm39_mechanism_doubled_distance(monkeypatch):
    _doubled_distance(monkeypatch, thm39)
    _changed("thm39-mechanism")


def test_thm39_mechanism_shifted_abscissa(monkeypatch):
    _shifted_abscissa(monkeypatch, 0.9, thm39)  # α(W) = −1 reported as −0.1
    _changed("thm39-mechanism")


def test_thm39_bound_doubled_distance(monkeypatch):
    _doubled_distance(monkeypatch, thm39)
    _changed("thm39-bound")


def test_lemma_a8_doubled_distance(monkeypatch):
    _doubled_distance(monkeypatch, lemmas)
    _changed("lemma-a8")


def test_lemma_a8_shifted_abscissa(monkeypatch):
    _shifted_abscissa(monkeypatch, 0.05, lemmas)
    _changed("lemma-a8")


def test_lemma_a9_doubled_distance(monkeypatch):
    _doubled_distance(monkeypatch, lemmas)
    _changed("lemma-a9")


def test_lemma_a10_shifted_abscissa(monkeypatch):
    _shifted_abscissa(monkeypatch, -0.05, lemmas)  # claims faster decay than the fits have
    _changed("lemma-a10")


def test_lemma_a6_shifted_abscissa(monkeypatch):
    _shifted_abscissa(monkeypatch, 0.05, hartman_grobman)
    _changed("lemma-a6")


def _linearised_memory(monkeypatch, *modules):
    orig = rm.exact_memory

    def linearised(model, T, **kw):  # the v-dynamics with σ' ≡ 1: the nonlinearity ignored
        return orig(model.replace(activation="linear"), T, **kw)

    monkeypatch.setattr(rm, "exact_memory", linearised)
    for mod in modules:
        monkeypatch.setattr(mod.rm, "exact_memory", linearised)


def test_lemma_a6_linearised_memory(monkeypatch):
    _linearised_memory(monkeypatch, hartman_grobman)
    _changed("lemma-a6")  # the large-input control now passes: VACUOUS


def test_lemma_a7_doubled_distance(monkeypatch):
    _doubled_distance(monkeypatch, hartman_grobman)
    _changed("lemma-a7")


def test_appc_doubled_distance(monkeypatch):
    _doubled_distance(monkeypatch, appc)
    _changed("appc-rescaling")


def test_remark33_linearised_memory(monkeypatch):
    _linearised_memory(monkeypatch, remark33)
    _changed("remark33")  # the Hurwitz counterexample then decays: no finding
