"""The public Hypothesis strategies produce what they promise (and the docstring example runs)."""

import numpy as np
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
    assert np.max(np.linalg.eigvals(model.W).real) <= -0.2 + 1e-12
    sym = 0.5 * (model.W + model.W.T)
    assert np.max(np.linalg.eigvalsh(sym)) <= -0.2 + 1e-12
    assert np.linalg.norm(np.eye(model.hidden) + model.dt * model.W, 2) < 1.0


def test_docstring_example_runs():
    import rnnmem.testing as T

    code = T.__doc__.split("::")[1]
    code = "\n".join(line[4:] for line in code.splitlines())
    ns = {}
    exec(compile(code, "rnnmem.testing docstring", "exec"), ns)
    ns["test_output_is_causal"]()
