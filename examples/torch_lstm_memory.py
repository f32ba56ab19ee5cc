"""The memory of a PyTorch LSTM: import its weights with `rm.from_torch` and plot its memory function.

`rm.from_torch` takes a ``torch.nn.RNN``/``GRU``/``LSTM`` module or just its ``state_dict()`` (any mapping of
torch's parameter names to arrays), so a trained model's weights can be analysed without torch installed. Here the
weights are a stand-in for a trained model's (``rm.LSTM.random(...).state_dict()``, in torch's layout); with
torch installed the script also loads them into ``torch.nn.LSTM`` and checks that both compute the same outputs.
The memory function ([P1] Def. 3.1) is estimated under Heaviside and impulse inputs with amplitudes ≤ 1
([P1] App. H: both decay at the same rate), and its tail is fitted by `rm.fit_decay`.

Run: ``python examples/torch_lstm_memory.py [OUT.png]`` (torch optional)
"""

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import rnnmem as rm  # noqa: E402
from rnnmem.plot import plot_memory  # noqa: E402

QUICK = os.environ.get("RNNMEM_EXAMPLES_QUICK") == "1"
T = 50 if QUICK else 80          # beyond ~75 steps the memory is below the rounding floor of the outputs (1e-16)

# the weights: a mapping in torch's layout ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", ..., gates i, f, g, o),
# e.g. {k: v.numpy() for k, v in torch.load("lstm.pt").items()} for a trained model
state = rm.LSTM.random(16, inputs=1, layers=2, rng=0).state_dict()
net = rm.from_torch(state, kind="lstm")                  # rnnmem never imports torch itself
print(net, "| parameters:", ", ".join(list(state)[:4]), "...")

try:                                                      # optional: the same weights in torch compute the same map
    import torch

    lstm = torch.nn.LSTM(input_size=1, hidden_size=16, num_layers=2, batch_first=True).double()
    lstm.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in state.items()})
    x = np.random.default_rng(1).normal(size=(4, 50, 1))
    y_torch = lstm(torch.from_numpy(x))[0].detach().numpy()
    print("max |rnnmem − torch| =", float(np.abs(rm.from_torch(lstm)(x) - y_torch).max()))
except ImportError:
    print("torch not installed: using the state-dict of arrays only")

# Def. 3.1 memory (heaviside: a constant input from t = 0; impulse: an input at t = 0 only), |x| ≤ 1
amplitudes = [0.1, 0.3, 1.0]
mf_h = rm.memory_function(net, T, amplitudes=amplitudes)
mf_i = rm.memory_function(net, T, kind="impulse", amplitudes=amplitudes)
fit = mf_h.fit(window=(T // 5, 2 * T // 5))
print(f"Heaviside memory tail: {fit.kind}, rate β = {fit.rate:.3f} per step")

fig, ax = plt.subplots(figsize=(8, 4.2), layout="constrained")
plot_memory([mf_h, mf_i], ax=ax, labels=["Heaviside input", "impulse input"], fits=False)
tw = np.linspace(*fit.window, 50)
ax.plot(tw, fit.exponential(tw), "k--", lw=1, label=f"exponential fit, β = {fit.rate:.3f}")
ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
ax.set_xlabel("t (steps)")
ax.set_title("memory function of a 2-layer LSTM (16 units) imported from torch's layout", fontsize=9)

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "docs" / "figures" / \
    "gallery-torch-lstm-memory.png"
fig.savefig(out, dpi=110)
print(f"wrote {out}")
