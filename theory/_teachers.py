"""Teachers, students and the stable-approximation filter shared by ``fig3-teacher`` and ``fig12-transformer-teacher``.

A *teacher* is a sequence relationship H (a random tanh RNN, a polynomial-memory linear functional or a small causal
transformer); *students* are euler-cell tanh RNNs of growing width trained on it by :func:`rnnmem.fit`
([P1] §4, Figs. 3 and 12; docs/math.md §4 and §7). One student job returns its error E_m(0) and its stability
radius; :func:`stable_filter` is the paper's filter "approximated with a positive stability radius".

Stability radius (docs/math.md §4, [P1] Def. 3.5 and the hypotheses of Thm. 3.9): the largest grid β below the
blow-up of the perturbation curve E_m(β) (:meth:`rnnmem.stability.PerturbationCurve.stability_radius`), and below
−α(W_m): Thm. 3.9 assumes that the perturbed models keep decaying memory, which the perturbation W_m + βI loses at
β = −α(W_m) (its linearisation at rest stops being Hurwitz). A bounded (tanh) model past that point need not blow
up on a finite horizon, so the curve alone would over-estimate the radius there (measured: students with
α(W_m) > 0 whose curves never blow up on the grid).
"""

from __future__ import annotations

import numpy as np

import rnnmem as rm
from theory._registry import Context

#: amplitudes |x|_∞ of the linear regime, where the memory of a tanh RNN decays at its linearised rate
LINEAR_REGIME = np.logspace(-3.0, 0.0, 7)
#: perturbation sizes: 0 and 1e-3 · 2^k
BETAS = np.concatenate([[0.0], 1e-3 * 2.0 ** np.arange(0, 13)])
#: spread σ of the clustered teachers' spectra, W = −aI + σG/√m. With a wide spread (σ = 0.2, or the W = σG/√m − I
#: of σ = 0.6, 0.9) the slowest mode can carry so little weight that students reaching E_m(0)/Var ≤ 2 % (MSE on
#: Gaussian inputs) never represent it, and their radius exceeds the teacher's memory rate (development run with
#: spread 0.2: rate 0.032 vs radius 0.128 at E_m(0)/Var = 0.25 %); Thm. 3.9's inequality is about E_m(0) → 0.
CLUSTER_SPREAD = 0.05
#: relative test error E_m(0)/Var(y) below which a teacher counts as approximated
APPROX_TOL = 0.02


def tail_fit(mf):
    """Exponential/power fits (:func:`rnnmem.fit_decay`) on the second half of the range where M > 1e-9 max M."""
    keep = np.nonzero(mf.values > 1e-9 * mf.values.max())[0]
    t_hi = mf.t[keep[-1]]
    return rm.fit_decay(mf.t, mf.values, window=(0.5 * t_hi, t_hi))


def decade_fit(mf, hi: float = 1e-4, lo: float = 1e-12):
    """Exponential/power fits (:func:`rnnmem.fit_decay`) of the memory's upper envelope max_{s ≥ t} M(s) on the
    decades from ``hi`` to ``lo`` of its peak — late enough for the slowest mode to dominate, above the rounding
    floor (~1e-15), and free of the dips of oscillating modes (complex eigenvalues). Falls back to :func:`tail_fit`
    when M does not fall through that range on the horizon (a slow or non-decaying memory)."""
    env = np.maximum.accumulate(mf.values[::-1])[::-1]
    peak = env.max()
    below_hi, below_lo = np.nonzero(env <= hi * peak)[0], np.nonzero(env <= lo * peak)[0]
    if below_hi.size == 0 or below_lo.size == 0 or below_lo[0] - below_hi[0] < 4:
        return tail_fit(mf)
    return rm.fit_decay(mf.t, env, window=(mf.t[below_hi[0]], mf.t[below_lo[0]]), margin=MARGIN)


#: ``fit_decay(margin=...)``: the verdict is "polynomial" only if the power fit explains log M this many times better
#: (residual sums of squares). Measured over 12 run seeds: Hurwitz teacher RNNs (sums of damped, partly oscillating
#: modes) gave RSS_exp/RSS_pow ≤ 3.1 on the decade window, polynomial teachers (1 + t)^−p ≥ 1e12 (exact power laws)
MARGIN = 10.0


# ----------------------------------------------------------------------------------------------- teachers
class CausalAttention:
    """A random single-head causal self-attention teacher written in NumPy ([P1] Fig. 12).

    Tokens e_t = W_in x_t + p_t with the sinusoidal positional encoding p_{t,2i} = sin(t ω_i),
    p_{t,2i+1} = cos(t ω_i), ω_i = 10000^{−2i/D}; queries, keys and values q = W_q e, k = W_k e, v = W_v e;
    output y_t = W_o Σ_{s ≤ t} a_ts v_s with a_ts = softmax_{s ≤ t}(q_t·k_s/√D) (the causal mask: y_t depends on
    x_0..x_t only). Entries: W_in ~ N(0, 1), W_q, W_k, W_v ~ N(0, scale²/D), W_o ~ N(0, 1/D). Any callable
    (B, T, d) → (B, T, p) works with :func:`rnnmem.memory_function`; this one is one.
    """

    def __init__(self, d_model: int = 16, inputs: int = 1, outputs: int = 1, *, scale: float = 2.0, rng=None):
        gen = np.random.default_rng(rng)
        self.d_model, self.inputs, self.outputs = d_model, inputs, outputs
        self.W_in = gen.standard_normal((d_model, inputs))
        self.W_q, self.W_k, self.W_v = (scale * gen.standard_normal((d_model, d_model)) / np.sqrt(d_model)
                                        for _ in range(3))
        self.W_o = gen.standard_normal((outputs, d_model)) / np.sqrt(d_model)

    def positions(self, T: int) -> np.ndarray:
        """Sinusoidal positional encoding (T, D)."""
        w = 1.0 / 10000.0 ** (2.0 * np.arange(self.d_model // 2) / self.d_model)
        P = np.zeros((T, self.d_model))
        P[:, 0::2] = np.sin(np.arange(T)[:, None] * w)
        P[:, 1::2] = np.cos(np.arange(T)[:, None] * w)
        return P

    def __call__(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        T = x.shape[1]
        e = x @ self.W_in.T + self.positions(T)[None]
        q, k, v = e @ self.W_q.T, e @ self.W_k.T, e @ self.W_v.T
        s = np.einsum("btd,bsd->bts", q, k) / np.sqrt(self.d_model)
        s = np.where(np.tril(np.ones((T, T), dtype=bool))[None], s, -np.inf)
        a = np.exp(s - s.max(axis=2, keepdims=True))
        a /= a.sum(axis=2, keepdims=True)
        return np.einsum("bts,bsd->btd", a, v) @ self.W_o.T


def make_teacher(spec: tuple):
    """A teacher from a picklable spec:

    ``("rnn", σ, seed, m, α)``: euler tanh RNN of width m, W = σG/√m − I (``rnnmem.RNN.random``, b ~ N(0, 0.2²),
    Δt = 0.5), then shifted so that α(W) = α when α is not None (a non-decaying teacher for α ≥ 0);
    ``("cluster", a, seed, m)``: euler tanh RNN of width m with W = −aI + 0.05G/√m (its modes cluster within
    ≈ 0.05 of the decay rate a, so no mode slower than the rest carries a negligible weight), b ~ N(0, 0.2²),
    Δt = 0.5;
    ``("pol", p)``: the linear functional ρ(t) = (1 + t)^{−p} (``rnnmem.targets.polynomial``);
    ``("attention", seed, scale)``: :class:`CausalAttention` of width 16.
    """
    kind = spec[0]
    if kind == "rnn":
        _, sigma, seed, m, alpha = spec
        t = rm.RNN.random(m, 1, 1, cell="euler", activation="tanh", dt=0.5, sigma2=sigma**2, bias=0.2, rng=seed)
        if alpha is not None:
            t = t.replace(W=t.W - (rm.spectral_abscissa(t.W) - alpha) * np.eye(m))
        return t
    if kind == "cluster":
        _, a, seed, m = spec
        return rm.RNN.random(m, 1, 1, cell="euler", activation="tanh", dt=0.5, sigma2=CLUSTER_SPREAD**2, shift=a,
                             bias=0.2, rng=seed)
    if kind == "pol":
        return rm.targets.polynomial(spec[1])
    if kind == "attention":
        return CausalAttention(scale=spec[2], rng=spec[1])
    raise ValueError(f"unknown teacher spec {spec!r}")


def teacher_outputs(teacher, x, dt):
    return teacher(x, dt=dt) if isinstance(teacher, rm.targets.LinearFunctional) else teacher(x)


def student_settings(ctx: Context) -> dict:
    return {"dt": 0.5, "T": ctx.pick(40, 60, 100), "T_eval": ctx.pick(160, 240, 400),
            "n_train": ctx.pick(128, 256, 1024), "n_test": 32, "epochs": ctx.pick(60, 60, 200), "batch": 32,
            "lr": 0.02, "widths": ctx.pick([4, 8], [4, 8, 16], [4, 8, 16, 32, 64]), "samples": 5}


def student_job(args) -> dict:
    """Train one student of width m on a teacher and measure its perturbation curve (picklable)."""
    spec, m, seed, S = args
    teacher = make_teacher(spec)
    dt = S["dt"]
    gen = np.random.default_rng(seed)
    x = gen.standard_normal((S["n_train"], S["T"], 1))
    x_test = gen.standard_normal((S["n_test"], S["T_eval"], 1))
    y = teacher_outputs(teacher, x, dt)
    y_test = teacher_outputs(teacher, x_test, dt)
    student = rm.RNN.random(m, 1, 1, cell="euler", activation="tanh", dt=dt, sigma2=0.25, bias=0.1, rng=gen)
    res = rm.fit(student, x, y, epochs=S["epochs"], lr=S["lr"], batch_size=S["batch"], clip=1.0, rng=gen,
                 progress=False)
    model = res.model
    curve = rm.perturbation_error(model, y_test, BETAS, x=x_test, samples=S["samples"], error="mse", rng=gen)
    alpha = float(rm.spectral_abscissa(model.W))
    r_curve = float(curve.stability_radius())
    below = BETAS[(BETAS > 0) & (BETAS < -alpha)]
    r_alpha = float(below.max()) if below.size else 0.0
    return {"m": m, "train_loss": float(res.history["loss"][-1]), "E0": float(curve.nominal),
            "rel_E0": float(curve.nominal / y_test.var()), "errors": curve.errors.tolist(), "radius_curve": r_curve,
            "radius": min(r_curve, r_alpha), "abscissa": alpha}


def students(ctx: Context, spec: tuple, key: int) -> list[dict]:
    """The students of one teacher (all widths), computed once per run and shared between checks (``ctx.memo``)."""
    S = student_settings(ctx)

    def compute():
        jobs = [(spec, m, int(ctx.rng(4, key, j).integers(1 << 31)), S) for j, m in enumerate(S["widths"])]
        return ctx.map(student_job, jobs)

    return ctx.memo(("students", spec, key), compute)


def teacher_memory(ctx: Context, spec: tuple, key: int):
    """Linear-regime Heaviside memory of a teacher on the evaluation horizon and its tail fit."""
    S = student_settings(ctx)

    def compute():
        mf = rm.memory_function(make_teacher(spec), S["T_eval"], dt=S["dt"], amplitudes=LINEAR_REGIME,
                                rng=int(ctx.rng(5, key).integers(1 << 31)))
        return mf, decade_fit(mf)

    return ctx.memo(("teacher-memory", spec, key), compute)


def stable_filter(rows: list[dict]) -> dict:
    """The paper's filter: approximated (the best student's E_m(0)/Var(y) ≤ APPROX_TOL) with a positive stability
    radius (every student that approximates has radius > 0); β₀ = the smallest radius among those students."""
    approx = [r for r in rows if r["rel_E0"] <= APPROX_TOL]
    best = min(r["rel_E0"] for r in rows)
    beta0 = min((r["radius"] for r in approx), default=0.0)
    return {"approximated": bool(approx), "best_rel_E0": float(best), "beta0": float(beta0),
            "stable": bool(approx) and beta0 > 0, "passes": bool(approx) and beta0 > 0}


def memory_decays_at_rate(fit, beta0: float) -> dict:
    """Thm. 3.9's conclusion for a filtered teacher: exponential memory at a rate ≥ β₀. Exponential: the verdict of
    :func:`rnnmem.fit_decay` on :func:`decade_fit`'s window (``margin = MARGIN``: a near-tie counts as exponential)
    and an exponential fit with R² > 0.9 (a straight line on a semilog plot)."""
    exponential = fit.kind == "exponential" and fit.r2_exponential > 0.9
    return {"exponential": bool(exponential), "bound": bool(fit.rate >= beta0),
            "holds": bool(exponential and fit.rate >= beta0)}


def memory_persists(mf) -> dict:
    """Whether a memory function does not decay on its horizon: the maximum over the last half is at least 1/4 of
    the maximum over the second quarter and at least 1e-3 of the overall peak (above the rounding floor)."""
    M = np.asarray(mf.values)
    n = M.size
    peak, mid, late = float(M.max()), float(M[n // 4:n // 2].max()), float(M[n // 2:].max())
    return {"peak": peak, "mid": mid, "late": late,
            "persists": bool(late >= 0.25 * mid and late >= 1e-3 * peak)}
