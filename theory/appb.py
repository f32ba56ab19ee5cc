"""[P1] App. B: the memory of a trained LSTM, queried by repeating one token, decays exponentially.

An LSTM with a linear head is trained (by :func:`rnnmem.fit`, exact BPTT) on a generated sentiment-like task — no
download — and its memory function is read off by feeding one token ("good" or "bad") at every step (a Heaviside
input in the token's one-hot direction). [P1] Wang, Li & Li, ICLR 2024, App. B; docs/math.md §3.
"""

from __future__ import annotations

import numpy as np

import rnnmem as rm
from rnnmem._model import Frozen, loss_and_output_grad
from rnnmem.gated import NamedGradients
from theory._registry import Context, Control, Result, check

#: vocabulary: tokens 0, 1 positive ("good", "great"), 2, 3 negative ("bad", "awful"), 4..7 neutral
VOCAB = ("good", "great", "bad", "awful", "the", "movie", "was", "and")
SENTIMENT = np.array([1.0, 1.0, -1.0, -1.0, 0.0, 0.0, 0.0, 0.0])
TOKEN_P = np.array([0.1, 0.1, 0.1, 0.1, 0.15, 0.15, 0.15, 0.15])
QUERIES = {"good": 0, "bad": 2}
HIDDEN = 8
#: criterion: test accuracy at least ACC_MIN, and for both query tokens an exponential tail (exponential fit better
#: than the power fit, R² ≥ R2_MIN on the second half of the range where M exceeds FLOOR × max M; the
#: finite-difference noise of the query is ~1e-15 max M)
ACC_MIN = 0.9
R2_MIN = 0.99
FLOOR = 1e-11


def sentiment_data(n: int, T: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """n one-hot token sequences (n', T, 8) with label 1 when positive tokens outnumber negative ones (ties are
    dropped, so n' ≤ n)."""
    toks = rng.choice(len(VOCAB), size=(n, T), p=TOKEN_P)
    score = SENTIMENT[toks].sum(axis=1)
    keep = score != 0
    return np.eye(len(VOCAB))[toks[keep]], (score[keep] > 0).astype(np.int64)


class LSTMClassifier(Frozen):
    """An :class:`rnnmem.LSTM` followed by a linear head on every step: logits_k = W h_k + b (2 classes); trained
    on the last step's logits. Follows the model protocol (params, replace, loss_and_grad), so :func:`rnnmem.fit`
    trains it."""

    __slots__ = ("_lstm", "_W", "_b")

    def __init__(self, lstm, W, b):
        self._freeze(lstm=lstm, W=np.array(W, dtype=float), b=np.array(b, dtype=float))

    inputs = property(lambda self: self._lstm.inputs)
    outputs = property(lambda self: self._W.shape[0])
    lstm = property(lambda self: self._lstm)

    def params(self) -> dict[str, np.ndarray]:
        return dict(self._lstm.params(), head_W=self._W, head_b=self._b)

    def replace(self, **changes):
        lstm_blocks = {k: v for k, v in changes.items() if not k.startswith("head_")}
        lstm = self._lstm.replace(**lstm_blocks) if lstm_blocks else self._lstm
        return LSTMClassifier(lstm, changes.get("head_W", self._W), changes.get("head_b", self._b))

    def __call__(self, x):
        return self._lstm(x) @ self._W.T + self._b

    def score(self, x):
        """The scalar read-out z = logit(positive) − logit(negative), (B, T, 1)."""
        out = self(x)
        return (out[..., 1] - out[..., 0])[..., None]

    def loss_and_grad(self, x, y, loss: str = "cross_entropy", *, power: float = 2.0):
        net = self._lstm
        X, squeeze, saved, H0, C0 = net._forward(x, None, True)
        h = saved[-1][2].transpose(1, 0, 2)
        yhat = h @ self._W.T + self._b
        value, dY = loss_and_output_grad(yhat, y, loss, power, squeeze)
        g = net._backward(X, squeeze, saved, H0, C0, dY @ self._W, True)
        blocks = dict(g.state_dict(), head_W=np.einsum("btp,bth->ph", dY, h), head_b=dY.sum(axis=(0, 1)))
        return value, NamedGradients(blocks, g.x)


class Score:
    """The classifier's score z as a map (B, T, 8) → (B, T, 1), for :func:`rnnmem.memory_function`."""

    def __init__(self, model):
        self.model = model
        self.inputs = model.inputs

    def __call__(self, x):
        return self.model.score(x)


class DecayedCount:
    """A non-recurrent classifier with polynomial memory: z_k = Σ_{j≤k} (1 + j/50)^{-1} s(x_{k−j}), s the token
    sentiment (the negative control: the sentiment task solved by a map whose memory is not exponential)."""

    inputs = len(VOCAB)

    def score(self, x):
        s = np.asarray(x) @ SENTIMENT  # (B, T)
        T = s.shape[1]
        rho = (1.0 + np.arange(T) / 50.0) ** -1.0
        z = np.stack([np.convolve(row, rho)[:T] for row in s])
        return z[..., None]

    def __call__(self, x):
        z = self.score(x)
        return np.concatenate([-z / 2, z / 2], axis=-1)


def train_classifier(args):
    """Train one LSTM classifier; returns the model and its test accuracy."""
    seed, n_train, T, epochs = args
    gen = np.random.default_rng(seed)
    Xtr, ytr = sentiment_data(n_train, T, gen)
    Xte, yte = sentiment_data(1000, T, gen)
    model = LSTMClassifier(rm.LSTM.random(HIDDEN, len(VOCAB), 1, rng=gen), 0.3 * gen.standard_normal((2, HIDDEN)),
                           np.zeros(2))
    if epochs > 0:
        model = rm.fit(model, Xtr, ytr, loss="cross_entropy", epochs=epochs, lr=0.03, batch_size=50, rng=seed,
                       progress=False).model
    acc = float(np.mean(model(Xte)[:, -1].argmax(axis=1) == yte))
    return {"seed": seed, "model": model, "accuracy": acc, "Xte": Xte, "yte": yte}


def token_memory(model, T: int) -> dict:
    """Memory of the score under the repeated token (Heaviside input in the token's one-hot direction), with the
    exponential/power fits of its tail."""
    out = {}
    for name, tok in QUERIES.items():
        mf = rm.memory_function(Score(model), T, directions=np.eye(len(VOCAB))[[tok]], amplitudes=[1.0])
        keep = np.nonzero(mf.values > FLOOR * mf.values.max())[0]
        t_hi = mf.t[keep[-1]]
        fit = rm.fit_decay(mf.t, mf.values, window=(0.5 * t_hi, t_hi), floor=0.0)
        out[name] = {"t": mf.t, "M": mf.values, "kind": fit.kind, "rate": fit.rate, "r2": fit.r2_exponential,
                     "r2_pol": fit.r2_polynomial, "exponent": fit.exponent}
    return out


def criterion(accuracy: float, mem: dict) -> bool:
    return bool(accuracy >= ACC_MIN and all(m["kind"] == "exponential" and m["r2"] >= R2_MIN for m in mem.values()))


@check("appb-lstm-token", order=312,
       title="Memory of a trained LSTM queried by repeating one token decays exponentially (P1 App. B)",
       statement="[P1 App. B] The memory function of an LSTM trained on sentiment classification, evaluated by "
                 "repeating a single token ('good' or 'bad') as a Heaviside input, decays exponentially.")
def appb(ctx: Context) -> Result:
    n_seeds = ctx.pick(1, 3, 5)
    n_train, T_train, epochs = ctx.pick(600, 1000, 2000), 20, ctx.pick(12, 20, 30)
    T_query = ctx.pick(1500, 2000, 3000)
    seeds = [int(ctx.rng(40, i).integers(1 << 31)) for i in range(n_seeds)]
    trained = ctx.memo(("appb", n_train, epochs, tuple(seeds)),
                       lambda: ctx.map(train_classifier, [(s, n_train, T_train, epochs) for s in seeds]))
    runs, per_seed = [], {}
    for tr in trained:
        mem = token_memory(tr["model"], T_query)
        ok = criterion(tr["accuracy"], mem)
        per_seed[tr["seed"]] = ok
        runs.append({"seed": tr["seed"], "accuracy": tr["accuracy"], "memory": mem, "passed": ok})
    passed = all(per_seed.values())

    # controls: the same criterion (accuracy and exponential token memory) by the same code
    untrained = train_classifier((seeds[0], n_train, T_train, 0))
    mem_u = token_memory(untrained["model"], T_query)
    dc = DecayedCount()
    acc_dc = float(np.mean(dc(trained[0]["Xte"])[:, -1].argmax(axis=1) == trained[0]["yte"]))
    mem_dc = token_memory(dc, T_query)
    controls = [
        Control("untrained", "the LSTM is not trained (the same architecture at its random initialisation)",
                criterion(untrained["accuracy"], mem_u), f"accuracy {untrained['accuracy']:.2f}"),
        Control("polynomial-memory", "the LSTM replaced by a classifier with polynomial memory "
                "z_k = Σ_j (1 + j/50)^-1 s(x_{k−j})", criterion(acc_dc, mem_dc),
                f"accuracy {acc_dc:.2f}, 'good' tail {mem_dc['good']['kind']} (R² exp {mem_dc['good']['r2']:.3f}, "
                f"pol {mem_dc['good']['r2_pol']:.3f})"),
    ]

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    for r in runs:
        for name, style in (("good", "-"), ("bad", "--")):
            m = r["memory"][name]
            ax.semilogy(m["t"], m["M"], style, lw=1.1,
                        label=f"seed {r['seed'] % 1000}, '{name}': β = {m['rate']:.3f} (acc {r['accuracy']:.2f})")
    m = mem_dc["good"]
    ax.semilogy(m["t"], m["M"], ":", color="gray", label="control: polynomial-memory classifier")
    t_end = max(r["memory"][n]["t"][np.nonzero(r["memory"][n]["M"] > 1e-12)[0][-1]] for r in runs for n in QUERIES)
    ax.set_xlim(0, 1.2 * t_end)
    ax.set_xlabel("t (repetitions of the token)")
    ax.set_ylabel("memory M(t) of the score")
    ax.set_ylim(1e-12, None)
    ax.set_title("Trained LSTM, one token repeated (P1 App. B)", fontsize=10)
    ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    figs = [ctx.save_figure(fig, "appb-lstm-token.png")]

    rows = "\n".join(
        f"| {r['seed']} | {r['accuracy']:.3f} | " + " | ".join(
            f"{r['memory'][n]['kind']}, β = {r['memory'][n]['rate']:.4f} (1/β = {1 / r['memory'][n]['rate']:.0f}), "
            f"R² {r['memory'][n]['r2']:.4f} vs pol {r['memory'][n]['r2_pol']:.4f}" for n in QUERIES)
        + f" | {'yes' if r['passed'] else 'NO'} |" for r in runs)
    details = (
        f"Task (generated, no download): sequences of {T_train} tokens from an 8-word vocabulary (2 positive, 2 "
        "negative, 4 neutral words; probabilities 0.1 each for the sentiment words, 0.15 for the neutral ones); label "
        "= whether positive words outnumber negative ones (ties dropped). Model: `rm.LSTM` (1 layer, H = "
        f"{HIDDEN}, one-hot inputs) with a linear head on the last step, trained by `rm.fit` (Adam, lr 0.03, batch "
        f"50, {epochs} epochs, softmax cross-entropy) on {n_train} sequences; accuracy on 1000 fresh ones. Memory "
        f"query: the token repeated for {T_query} steps (a Heaviside input in its one-hot direction), "
        "`rm.memory_function` of the score z = logit(positive) − logit(negative). **Criterion** (per seed): "
        f"accuracy ≥ {ACC_MIN} and, for both 'good' and 'bad', the tail (second half of the range where "
        f"M > {FLOOR:g} max M) is exponential: the exponential fit beats the power fit and has R² ≥ {R2_MIN}.\n\n"
        "| seed | accuracy | 'good' | 'bad' | pass |\n|---|---|---|---|---|\n" + rows +
        "\n\nThe trained LSTMs count: the cell state integrates ±1 per sentiment word with a forget gate close to 1. "
        "Under a repeated token the memory stays high for some tens of steps, bends, and then decays exponentially "
        "with a time scale 1/β of the order of the training length; on a horizon of ~100 steps the plateau and "
        "the bend look like a power law, the exponential tail shows over a few hundred steps. (The fitted rate is "
        "not the slowest rate −log ρ(J) of the state Jacobian at the repeated token's fixed point, which is smaller: "
        "the score does not see the slowest mode.)")
    summary = (f"{sum(per_seed.values())}/{n_seeds} seeds: accuracy {min(r['accuracy'] for r in runs):.2f}+, "
               "token memories exponential, rates " + ", ".join(f"{r['memory']['good']['rate']:.3f}" for r in runs))
    data = {"runs": [{"seed": r["seed"], "accuracy": r["accuracy"],
                      **{f"{n}_{k}": r["memory"][n][k] for n in QUERIES for k in ("kind", "rate", "r2", "r2_pol")}}
                     for r in runs]}
    return Result(passed, summary, details, figs, data, controls=controls, seeds=per_seed)
