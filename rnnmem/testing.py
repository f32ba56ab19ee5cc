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

from rnnmem._validate import check_bool, check_dt, check_int, check_names, check_positive, check_real
from rnnmem.rnn import ACTIVATIONS, CELLS, RNN

__all__ = ["rnns", "inputs_for", "finite_floats", "stable_rnns"]


def _check_count_arg(value, name: str, minimum: int = 1) -> None:
    """An int (>= minimum) or an integer strategy (validated when drawn)."""
    if not isinstance(value, st.SearchStrategy):
        check_int(value, name, minimum=minimum, maximum=MAX_SIZE)


#: the largest shape entry the strategies accept as a fixed int (property tests draw small models)
MAX_SIZE = 4096


def finite_floats(bound: float = 2.0) -> st.SearchStrategy[float]:
    """Finite float64 values in [-bound, bound] (no NaN/inf, no subnormals); ``bound`` a finite number > 0."""
    bound = check_positive(bound, "bound")
    return st.floats(-bound, bound, allow_nan=False, allow_infinity=False, allow_subnormal=False, width=64)


def _val(draw, x, name: str, minimum: int = 1):
    if isinstance(x, st.SearchStrategy):
        return check_int(draw(x), f"{name} (drawn)", minimum=minimum, maximum=MAX_SIZE)
    return x


@st.composite
def _rnns(draw, hidden, inputs, outputs, cells, activations, feedthrough, weight_bound, dt) -> RNN:
    m, d, p = _val(draw, hidden, "hidden"), _val(draw, inputs, "inputs"), _val(draw, outputs, "outputs")
    el = finite_floats(weight_bound)
    W = draw(hnp.arrays(np.float64, (m, m), elements=el)) / np.sqrt(m)
    U = draw(hnp.arrays(np.float64, (m, d), elements=el))
    b = draw(hnp.arrays(np.float64, (m,), elements=el))
    C = draw(hnp.arrays(np.float64, (p, m), elements=el))
    ft = draw(feedthrough) if isinstance(feedthrough, st.SearchStrategy) else feedthrough
    D = draw(hnp.arrays(np.float64, (p, d), elements=el)) if ft else None
    cell = draw(st.sampled_from(cells))
    activation = draw(st.sampled_from(activations))
    step = draw(dt) if isinstance(dt, st.SearchStrategy) else dt
    return RNN(W, U, b, C, D, cell=cell, activation=activation, dt=float(step))


def rnns(
    hidden: st.SearchStrategy[int] | int = st.integers(1, 6),
    inputs: st.SearchStrategy[int] | int = st.integers(1, 3),
    outputs: st.SearchStrategy[int] | int = st.integers(1, 3),
    cells: Sequence[str] = CELLS,
    activations: Sequence[str] = ACTIVATIONS,
    feedthrough: st.SearchStrategy[bool] | bool = st.booleans(),
    weight_bound: float = 1.5,
    dt: st.SearchStrategy[float] | float = st.floats(0.05, 1.0),
) -> st.SearchStrategy[RNN]:
    """Random :class:`~rnnmem.RNN` models with entries drawn by ``hypothesis.extra.numpy.arrays``.

    Every shape argument is an int (1..4096) or an integer strategy; ``cells`` and ``activations`` are sequences of
    names (a string is refused, not split); entries lie in [-weight_bound, weight_bound]; W is scaled by 1/√m so
    that the models are not all saturated. Arguments are validated when the strategy is built.
    """
    for name, v in (("hidden", hidden), ("inputs", inputs), ("outputs", outputs)):
        _check_count_arg(v, name)
    cells = check_names(cells, "cells", CELLS)
    activations = check_names(activations, "activations", ACTIVATIONS)
    if not isinstance(feedthrough, st.SearchStrategy):
        feedthrough = check_bool(feedthrough, "feedthrough")
    weight_bound = check_positive(weight_bound, "weight_bound")
    if not isinstance(dt, st.SearchStrategy):
        dt = check_dt(dt, "dt")
    return _rnns(hidden, inputs, outputs, cells, activations, feedthrough, weight_bound, dt)


@st.composite
def _stable_rnns(draw, hidden, inputs, outputs, activations, margin) -> RNN:
    m = _val(draw, hidden, "hidden")
    base = draw(_rnns(m, inputs, outputs, ("euler",), activations, False, 1.5, 1.0))
    S = base.W
    W = S - (np.linalg.norm(S, 2) + margin) * np.eye(m)
    dt = min(0.5, margin / np.linalg.norm(W, 2) ** 2)
    return base.replace(W=W, dt=dt)


def stable_rnns(hidden=st.integers(1, 8), inputs=st.integers(1, 2), outputs=st.integers(1, 2),
                activations: Sequence[str] = ("tanh", "hardtanh"), margin: float = 0.1) -> st.SearchStrategy[RNN]:
    """Continuous-time (``euler``) models whose linearisation at rest is Hurwitz with abscissa <= −margin.

    W = S − (‖S‖₂ + margin) I for a random S, so ⟨v, Wv⟩ <= −margin |v|² (every eigenvalue of W has real part
    <= −margin), and dt = min(0.5, margin / ‖W‖₂²), so that ‖I + dt W‖₂² <= 1 − dt·margin < 1 (the linear
    Euler map at rest is a contraction). ``margin`` is a finite number in (0, 1e6]; shapes as in :func:`rnns`.
    """
    for name, v in (("hidden", hidden), ("inputs", inputs), ("outputs", outputs)):
        _check_count_arg(v, name)
    activations = check_names(activations, "activations", ACTIVATIONS)
    margin = check_real(margin, "margin", minimum=0.0, maximum=1e6, strict_minimum=True)
    return _stable_rnns(hidden, inputs, outputs, activations, margin)


def inputs_for(rnn: RNN, batch: st.SearchStrategy[int] | int = st.integers(1, 3),
               time: st.SearchStrategy[int] | int = st.integers(1, 12),
               bound: float = 2.0) -> st.SearchStrategy[np.ndarray]:
    """Strategy of input arrays (B, T, d) matching ``rnn.inputs`` (any model with an ``inputs`` attribute).

    ``batch`` and ``time`` are ints (1..4096) or integer strategies (B, T >= 1: an empty batch is refused);
    entries lie in [-bound, bound]."""
    d = getattr(rnn, "inputs", None)
    if not isinstance(d, int):
        raise TypeError(f"rnn must be a model with an int attribute inputs (e.g. an rnnmem.RNN), got "
                        f"{type(rnn).__name__}")
    _check_count_arg(batch, "batch")
    _check_count_arg(time, "time")
    el = finite_floats(bound)

    @st.composite
    def _inputs(draw):
        B = _val(draw, batch, "batch")
        T = _val(draw, time, "time")
        return draw(hnp.arrays(np.float64, (B, T, d), elements=el))

    return _inputs()
