"""Hypothesis strategies for property tests of RNN code (yours and ours).

Requires ``hypothesis`` (``pip install rnnmem[test]``); not imported by ``import rnnmem``.

Examples
--------
A property test of your own code over random models (pytest collects it)::

    import numpy as np
    from hypothesis import given, settings, strategies as st
    from rnnmem.testing import inputs_for, rnns

    @settings(max_examples=50, deadline=None)      # jitted code: no per-example deadline
    @given(data=st.data())
    def test_output_is_causal(data):
        model = data.draw(rnns(hidden=st.integers(1, 8)))
        x = data.draw(inputs_for(model, time=st.integers(2, 20)))
        y = model(x)
        # equal up to rounding: BLAS may sum in another order for another length
        np.testing.assert_allclose(model(x[:, :-1]), y[:, :-1], rtol=1e-13, atol=1e-13)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from rnnmem.rnn import ACTIVATIONS, CELLS, RNN

__all__ = ["rnns", "inputs_for", "finite_floats", "stable_rnns"]


def finite_floats(bound: float = 2.0) -> st.SearchStrategy[float]:
    """Finite float64 values in [-bound, bound] (no NaN/inf, no subnormals)."""
    return st.floats(-bound, bound, allow_nan=False, allow_infinity=False, allow_subnormal=False, width=64)


@st.composite
def rnns(
    draw,
    hidden: st.SearchStrategy[int] | int = st.integers(1, 6),
    inputs: st.SearchStrategy[int] | int = st.integers(1, 3),
    outputs: st.SearchStrategy[int] | int = st.integers(1, 3),
    cells: Sequence[str] = CELLS,
    activations: Sequence[str] = ACTIVATIONS,
    feedthrough: st.SearchStrategy[bool] | bool = st.booleans(),
    weight_bound: float = 1.5,
    dt: st.SearchStrategy[float] | float = st.floats(0.05, 1.0),
) -> RNN:
    """Random :class:`~rnnmem.RNN` models with entries drawn by ``hypothesis.extra.numpy.arrays``.

    Every shape argument is an int or an integer strategy; entries lie in [-weight_bound, weight_bound];
    W is scaled by 1/√m so that the models are not all saturated.
    """

    def val(x):
        return draw(x) if isinstance(x, st.SearchStrategy) else x

    m, d, p = val(hidden), val(inputs), val(outputs)
    el = finite_floats(weight_bound)
    W = draw(hnp.arrays(np.float64, (m, m), elements=el)) / np.sqrt(m)
    U = draw(hnp.arrays(np.float64, (m, d), elements=el))
    b = draw(hnp.arrays(np.float64, (m,), elements=el))
    C = draw(hnp.arrays(np.float64, (p, m), elements=el))
    D = draw(hnp.arrays(np.float64, (p, d), elements=el)) if val(feedthrough) else None
    return RNN(W, U, b, C, D, cell=draw(st.sampled_from(tuple(cells))),
               activation=draw(st.sampled_from(tuple(activations))), dt=float(val(dt)))


@st.composite
def stable_rnns(draw, hidden=st.integers(1, 8), inputs=st.integers(1, 2), outputs=st.integers(1, 2),
                activations: Sequence[str] = ("tanh", "hardtanh"), margin: float = 0.1):
    """Continuous-time (``euler``) models whose linearisation at rest is Hurwitz with abscissa <= −margin.

    W = S − (‖S‖₂ + margin) I for a random S, so ⟨v, Wv⟩ <= −margin |v|² (every eigenvalue of W has real part
    <= −margin), and dt = min(0.5, margin / ‖W‖₂²), so that ‖I + dt W‖₂² <= 1 − dt·margin < 1 (the linear
    Euler map at rest is a contraction).
    """
    m = draw(hidden) if isinstance(hidden, st.SearchStrategy) else hidden
    base = draw(rnns(hidden=m, inputs=inputs, outputs=outputs, cells=("euler",), activations=activations,
                     feedthrough=False))
    S = base.W
    W = S - (np.linalg.norm(S, 2) + margin) * np.eye(m)
    dt = min(0.5, margin / np.linalg.norm(W, 2) ** 2)
    return base.replace(W=W, dt=dt)


def inputs_for(rnn: RNN, batch: st.SearchStrategy[int] | int = st.integers(1, 3),
               time: st.SearchStrategy[int] | int = st.integers(1, 12), bound: float = 2.0):
    """Strategy of input arrays (B, T, d) matching ``rnn.inputs``."""

    @st.composite
    def _inputs(draw):
        B = draw(batch) if isinstance(batch, st.SearchStrategy) else batch
        T = draw(time) if isinstance(time, st.SearchStrategy) else time
        return draw(hnp.arrays(np.float64, (B, T, rnn.inputs), elements=finite_floats(bound)))

    return _inputs()
