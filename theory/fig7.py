"""[P1] Fig. 7(a): a ReLU RNN without reparameterisation on polynomial memory (work in progress)."""

from __future__ import annotations

from theory._registry import Context, Result, check
from theory.fig2 import curse_check


@check("fig7-relu", order=34, title="P1 Fig. 7(a), ReLU RNN on polynomial memory: unstable",
       statement="[P1] Fig. 7(a): ReLU RNNs trained on ρ(t) = (1+t)^−1.5 without reparameterisation are not "
                 "stably approximating.")
def fig7_relu(ctx: Context) -> Result:
    return curse_check(ctx, "fig7-relu", "relu", cell="elman", fig="7(a)")
