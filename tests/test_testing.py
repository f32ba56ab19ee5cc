"""The public Hypothesis strategies produce what they promise (and the docstring example runs)."""

import naive
import numpy as np
import scipy.linalg as sla
from hypothesis import given, settings
from hypothesis import strategies as st

import rnnmem as rm
from rnnmem.testing import inputs_for, rnns, stable_rnns


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_rnns_and_inputs_have_consistent_shapes(data):
    model = data.draw(rnns(hidden=st.integers(1, 5), inputs=2, outputs=st.integers(1, 3)))
    x = data.draw(inputs_for(model, batch=2, time=st.integers(1, 7)))
    assert isinstance(model, rm.RNN) and model.inputs == 2
    assert x.shape[0] == 2 and x.shape[2] == 2 and np.isfinite(x).all()
    assert model(x).shape == (2, x.shape[1], model.outputs)


@settings(max_examples=30, deadline=None)
@given(model=stable_rnns(margin=0.2))
def test_stable_rnns_are_hurwitz_and_euler_contractive(model):
    assert model.cell == "euler"
    # Error model: W = S − (‖S‖₂ + margin)I is formed with ‖S‖₂ within γ_10m (SVD) and one rounding per entry, so
    # its symmetric part is within δ = γ_10m ‖S‖ + γ_2 |W| of one with λ_max <= −margin; eigvalsh adds γ_10m ‖W‖,
    # eigvals (non-symmetric) κ_i γ_10m ‖W‖ (κ_i the eigenvalue condition numbers); Re λ <= λ_max(sym) exactly.
    m = model.hidden
    nW = np.linalg.norm(model.W, 2)
    delta = naive.rounding(10 * m, nW + 0.2) + naive.rounding(2, np.linalg.norm(np.abs(model.W)))
    sym = 0.5 * (model.W + model.W.T)
    assert np.max(np.linalg.eigvalsh(sym)) <= -0.2 + delta + naive.rounding(10 * m, nW)
    lam, vl, vr = sla.eig(model.W, left=True, right=True)
    kappa = np.linalg.norm(vl, axis=0) * np.linalg.norm(vr, axis=0) / np.abs(np.einsum("ij,ij->j", vl.conj(), vr))
    assert np.max(lam.real) <= -0.2 + delta + kappa.max() * naive.rounding(10 * m, nW)
    # ‖I + dt W‖₂² <= 1 − dt·margin exactly: far below 1 compared with the rounding of the norm (γ_10m)
    assert np.linalg.norm(np.eye(m) + model.dt * model.W, 2) <= np.sqrt(1 - model.dt * 0.2) + naive.rounding(
        10 * m, 1.0 + model.dt * nW) < 1.0


def test_docstring_example_runs():
    import rnnmem.testing as T

    code = T.__doc__.split("::")[1]
    code = "\n".join(line[4:] for line in code.splitlines())
    ns = {}
    exec(compile(code, "rnnmem.testing docstring", "exec"), ns)
    ns["test_output_is_causal"]()
