"""The amplitude range is part of the memory: a saturating tanh RNN (docs/memory.md, Findings 1).

Def. 3.1 takes the sup over all constant inputs x ≠ 0. For the continuous-time RNN dh/dt = tanh(−h + x) an input of
size A keeps tanh saturated for a time ≈ A, so the memory per amplitude (`rm.exact_memory(..., x=...)`, the exact
v-dynamics of docs/math.md §3) decays exponentially for every fixed |x| — at the rate of the linearisation — but at
a later time the larger |x| is; the sup over |x| ≤ 10⁴ therefore decays only like 1/t. State the amplitude range when
you report a decay rate.

Run: ``python examples/amplitude_and_memory.py [OUT.png]``
"""

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import rnnmem as rm  # noqa: E402

QUICK = os.environ.get("RNNMEM_EXAMPLES_QUICK") == "1"
T = 400 if QUICK else 2500
dt = 0.5

# dh/dt = tanh(−h + x), y = h: W = −1, U = C = 1, b = 0, forward Euler with step dt
rnn = rm.RNN(W=[[-1.0]], U=[[1.0]], b=[0.0], C=[[1.0]], cell="euler", activation="tanh", dt=dt)
amplitudes = np.logspace(-1, 4, 51)                    # 0.1 … 10⁴, ten per decade
per = rm.exact_memory(rnn, T, x=amplitudes[:, None])   # one curve per input amplitude (per.per_input)
sup = per.per_input.max(axis=0)

fig, ax = plt.subplots(figsize=(8.5, 4.4), layout="constrained")
for A in (0.1, 1.0, 10.0, 100.0, 1000.0):
    i = int(np.argmin(np.abs(amplitudes - A)))
    ax.loglog(per.t[1:], per.per_input[i, 1:], lw=1, label=f"|x| = {A:g}")
ax.loglog(per.t[1:], sup[1:], "k", lw=2, label="sup over 0.1 ≤ |x| ≤ 10⁴")
ax.loglog(per.t[1:], 1 / per.t[1:], "k--", lw=1, label="1 / t")
ax.set_ylim(1e-8, 2)
ax.set_xlabel("t")
ax.set_ylabel("memory M(t)")
ax.set_title("dh/dt = tanh(−h + x): exponential decay for each amplitude, 1/t for the sup", fontsize=9)
ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
for t in (10, 100, 1000):
    k = int(round(t / dt))
    if k < T:
        print(f"t = {t:5d}: t · sup_x M_x(t) = {t * sup[k]:.3f}")

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "docs" / "figures" / \
    "gallery-amplitude-and-memory.png"
fig.savefig(out, dpi=110)
print(f"wrote {out}")
