"""[P1] Fig. 7(a): a ReLU RNN without reparameterisation is not stably approximating a polynomial-memory target.

Same training and perturbation setting as ``theory/fig2.py`` (Δt = 1, T = 100, ρ(t) = (1 + t)^{−1.5}, nested widths,
exponential target for contrast) with σ = ReLU — but on the ``elman`` cell h_k = relu(W h_{k−1} + U x_k + b):
with the euler cell h_{k+1} = h_k + Δt·relu(·) every state is non-decreasing in time (dh/dt = relu(·) ≥ 0), and
in our runs such models fitted neither target (see the check's details).
"""

from __future__ import annotations

from theory._registry import Context, Result, check
from theory.fig2 import _fig2

EULER_NOTE = (
    "**Why the elman cell.** With the paper's continuous-time cell dh/dt = relu(Wh + Ux + b) the state can only "
    "grow, so the memory of an input cannot decay through the dynamics. A development run of this check on the "
    "euler cell (same settings, widths 4, 8, 16, 32; `_fig2(ctx, 'relu', cell='euler')`) fitted neither target: "
    "E_m(0) ≈ 0.019, 0.0043, 0.0039, 0.0040 (tanh: ~1e−5), the exp models never reached τ₂, and pol and exp "
    "models had the same blow-up radius (≈ 0.09) — no contrast to test. The elman ReLU RNN can represent a "
    "decaying linear filter (pairs of units for the positive and negative parts), so the stability question is "
    "meaningful there; its stability boundary is ρ(W) = 1 (discrete time).\n\n"
)


@check("fig7-relu", order=34, title="P1 Fig. 7(a), ReLU RNN on polynomial memory: unstable",
       statement="[P1] Fig. 7(a): ReLU RNNs trained on ρ(t) = (1+t)^−1.5 without reparameterisation are not "
                 "stably approximating: fitting the polynomial tail pushes the slowest mode to the stability "
                 "boundary, so the perturbation curves blow up at small β (contrast: the exponential target).")
def fig7_relu(ctx: Context) -> Result:
    return _fig2(ctx, "relu", name="fig7-relu", cell="elman", note=EULER_NOTE)
