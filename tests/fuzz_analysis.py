"""Fuzz entry points of the analysis modules (see tests/fuzz.py for the contract, tests/test_fuzz.py for the runner).

Modules: ``rnnmem.stability`` (and its top-level re-exports), ``rnnmem.linear``, ``rnnmem.ntk``, ``rnnmem.approx``
and ``rnnmem.plot``. Every valid call is small (widths <= 4, a few dozen time steps) so the default profile of these
entry points stays well under 30 s.

Models are passed to the calls through :class:`Same`, a box that ``copy.deepcopy`` returns unchanged: the models
are immutable (read-only arrays), and the harness compares an argument before and after a call by equality, which
a copied model (compared by identity) would fail although nothing was mutated. A bad value for a model argument
replaces the box itself.

Documented non-finite results: ``perturbation_error`` reports E(β) = +inf for a perturbed model that explodes
([P1] Definition 3.4; its docstring), and ``PerturbationCurve.blowup_bracket`` returns hi = +inf when E never blows
up on the grid. The calls registered for them map exactly that +inf to -1 (NaN stays NaN, so a NaN still breaks the
contract); every other entry point must return finite numbers.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from fuzz import EntryPoint, bad_arrays, bad_counts, bad_flags, bad_names, bad_numbers  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import rnnmem as rm  # noqa: E402
from rnnmem import approx, linear, ntk, plot, stability  # noqa: E402


class Same:
    """An immutable argument passed by reference: ``deepcopy`` returns it unchanged (see the module docstring)."""

    def __init__(self, value):
        self.value = value

    def __deepcopy__(self, memo):
        return self

    def __repr__(self) -> str:
        return f"Same({type(self.value).__name__})"


def _v(obj):
    return obj.value if isinstance(obj, Same) else obj


def _unbox(kw: dict) -> dict:
    return {k: _v(v) for k, v in kw.items()}


# --------------------------------------------------------------------------------------------------- bad values
def bad_models() -> st.SearchStrategy:
    """Values that a model argument must refuse: non-models, a matrix where a model is expected, strings."""
    return st.sampled_from([None, "rnn", 3.0, True, np.eye(2), [[1.0, 0.0], [0.0, 1.0]], object(), [object()]])


def bad_rngs() -> st.SearchStrategy:
    return st.sampled_from([-1, "0", 2.5, True, object(), np.random.RandomState(0), [1, 2]])


def bad_steps() -> st.SearchStrategy:
    return st.sampled_from([[0, 50], [-9], 2.5, "1", [[1]], True, [], np.array([0.5]), slice(None, None, 0),
                            slice("a", None), object()])


def bad_lags() -> st.SearchStrategy:
    return st.sampled_from([None, "3", True, 0, -1, 2.5, [], [-1, 2], [0.5], [[1, 2]], 10**15, [10**15], object()])


def bad_callables() -> st.SearchStrategy:
    return st.sampled_from([None, "f", 3.0, np.ones(3), object(),
                            lambda t: np.full(np.shape(t), np.nan), lambda t: "x", lambda t: np.ones((2, 2, 2)),
                            lambda t: np.exp(1000.0 * np.asarray(t))])


def either(*strategies) -> st.SearchStrategy:
    return st.one_of(*strategies)


# --------------------------------------------------------------------------------------------------- models
def _linear_rnn(cell="euler", dt=0.5, m=3, seed=0):
    gen = np.random.default_rng(seed)
    W = -np.eye(m) + 0.3 * gen.standard_normal((m, m)) if cell == "euler" else 0.5 * np.eye(m)
    return rm.RNN(W, gen.standard_normal((m, 1)), np.zeros(m), gen.standard_normal((1, m)), cell=cell,
                  activation="linear", dt=dt)


_RNN = _linear_rnn()
_ELMAN = _linear_rnn("elman", 1.0)
_TANH = rm.RNN.random(3, cell="euler", dt=0.5, rng=1)
_X = np.random.default_rng(2).standard_normal((1, 12, 1))
_Y = _RNN(_X)
_EXPLODING = rm.RNN(3.0 * np.eye(2), np.ones((2, 1)), np.zeros(2), np.ones((1, 2)), activation="linear")
_WIDE = ntk.init(4, 0.8, rng=0)
_SCNN = ntk.SCNN(ntk.lag_weights(4, 0.8), np.ones(4))
_XD = ntk.lagged_design(np.random.default_rng(3).standard_normal((2, 5)), 4)
_YD = np.random.default_rng(4).standard_normal(_XD.shape[0])
_T = np.linspace(0.0, 20.0, 21)
_FIT = approx.exponential_fit(lambda t: 0.8 ** t, 1, t=_T, starts=1)
_W3 = 0.5 * np.eye(3) + 0.1 * np.triu(np.ones((3, 3)), 1)
_U3, _C3 = np.ones((3, 1)), np.ones((1, 3))
_CURVE = rm.perturbation_error(_RNN, _Y, [0.0, 0.1, 1.0], x=_X, samples=1, rng=0)


def _curve_view(curve):
    """The fields of a PerturbationCurve, +inf (a documented exploded perturbation) replaced by -1."""
    def fix(a):
        a = np.array(a, dtype=float)
        a[np.isposinf(a)] = -1.0
        return a
    return {"betas": curve.betas, "errors": fix(curve.errors), "sample_errors": fix(curve.sample_errors),
            "worst_errors": fix(curve.worst_errors), "nominal": float(fix([curve.nominal])[0])}


def _finite_hi(bracket):
    """(lo, hi) of blowup_bracket with hi = +inf (documented: no blow-up on the grid) replaced by -1."""
    lo, hi = bracket
    return lo, (-1.0 if hi == float("inf") else hi)


def _plotted(fn):
    def call(**kw):
        import matplotlib.pyplot as plt

        try:
            fn(**_unbox(kw))
        finally:
            plt.close("all")
        return None
    return call


_SYS = dict(W=lambda: _W3.copy(), U=lambda: _U3.copy(), C=lambda: _C3.copy())
_BAD_SYS = {"W": either(bad_arrays((3, 3)), bad_models()), "U": bad_arrays((3, 1)), "C": bad_arrays((1, 3)),
            "cell": bad_names(("elman", "euler")), "dt": bad_numbers()}


def _system_kwargs(**extra):
    def valid():
        kw = {k: f() for k, f in _SYS.items()}
        kw.update(extra)
        return kw
    return valid


ENTRY_POINTS: list[EntryPoint] = [
    # ------------------------------------------------------------------ stability
    EntryPoint(
        "rnnmem.stability.perturbation_error",
        lambda **kw: _curve_view(stability.perturbation_error(**_unbox(kw))),
        lambda: dict(model=Same(_RNN), target=_Y.copy(), betas=[0.0, 0.1], x=_X.copy(), samples=2, rng=0),
        {"model": either(bad_models(), st.just(Same(_EXPLODING))), "target": bad_arrays((1, 12, 1)),
         "betas": either(bad_numbers(), bad_arrays((2,))), "samples": bad_counts(), "x": bad_arrays((1, 12, 1)),
         "norm": bad_names(stability.NORMS), "error": bad_names(stability.ERRORS), "rng": bad_rngs(),
         "worst_case": bad_flags(), "blocks": bad_names(("W", "U", "b", "C")), "running_max": bad_flags(),
         "power": bad_numbers(), "steps": bad_steps(), "T": bad_counts(), "batch": bad_counts()},
        names={"target": ("target",), "model": ("model",)},
    ),
    EntryPoint("rnnmem.stability.spectral_abscissa", lambda **kw: stability.spectral_abscissa(**_unbox(kw)),
               lambda: dict(W=_W3.copy()), {"W": either(bad_arrays((3, 3)), bad_models())}),
    EntryPoint("rnnmem.stability.spectral_radius", lambda **kw: stability.spectral_radius(**_unbox(kw)),
               lambda: dict(A=_W3.copy()), {"A": either(bad_arrays((3, 3)), bad_models())}),
    EntryPoint("rnnmem.stability.state_jacobian", lambda **kw: stability.state_jacobian(**_unbox(kw)),
               lambda: dict(model=Same(_TANH), h=np.zeros(3), x=np.zeros(1)),
               {"model": bad_models(), "h": bad_arrays((3,)), "x": bad_arrays((1,))}),
    EntryPoint("rnnmem.stability.distance_to_instability",
               lambda **kw: stability.distance_to_instability(**_unbox(kw)),
               lambda: dict(W=_W3.copy(), cell="elman", tol=1e-8, return_argmin=True),
               {"W": either(bad_arrays((3, 3)), bad_models()), "cell": bad_names(("elman", "euler")),
                "tol": bad_numbers(), "return_argmin": bad_flags()}),
    EntryPoint("rnnmem.stability.PerturbationCurve", lambda **kw: _curve_view(stability.PerturbationCurve(**kw)),
               lambda: dict(betas=np.array([0.0, 0.1]), errors=np.array([0.1, 0.2]), sample_errors=np.ones((2, 1)),
                            worst_errors=np.ones((2, 0)), nominal=0.1),
               {"betas": bad_arrays((2,)), "errors": bad_arrays((2,)), "sample_errors": bad_arrays((2, 1)),
                "worst_errors": bad_arrays((2, 1)), "nominal": bad_numbers(), "error": bad_names(stability.ERRORS),
                "norm": bad_names(stability.NORMS)}),
    EntryPoint("rnnmem.stability.PerturbationCurve.blowup_bracket",
               lambda **kw: _finite_hi(_CURVE.blowup_bracket(**kw)),
               lambda: dict(max_slope=4.0, limit=10.0), {"max_slope": bad_numbers(), "limit": bad_numbers()}),
    EntryPoint("rnnmem.stability.PerturbationCurve.stability_radius", lambda **kw: _CURVE.stability_radius(**kw),
               lambda: dict(max_slope=4.0, limit=10.0), {"max_slope": bad_numbers(), "limit": bad_numbers()}),
    # ------------------------------------------------------------------ linear
    EntryPoint("rnnmem.linear.markov_parameters", lambda **kw: linear.markov_parameters(**_unbox(kw)),
               _system_kwargs(n=5, D=np.zeros((1, 1))),
               {**_BAD_SYS, "n": bad_counts(), "D": bad_arrays((1, 1))}),
    EntryPoint("rnnmem.linear.gramians", lambda **kw: linear.gramians(**_unbox(kw)), _system_kwargs(), _BAD_SYS),
    EntryPoint("rnnmem.linear.h2_norm", lambda **kw: linear.h2_norm(**_unbox(kw)),
               _system_kwargs(D=np.zeros((1, 1))), {**_BAD_SYS, "D": bad_arrays((1, 1))}),
    EntryPoint("rnnmem.linear.hankel_singular_values", lambda **kw: linear.hankel_singular_values(**_unbox(kw)),
               _system_kwargs(), _BAD_SYS),
    EntryPoint("rnnmem.linear.controllability_rank", lambda **kw: linear.controllability_rank(**_unbox(kw)),
               lambda: dict(W=_W3.copy(), u=np.ones(3), rtol=1e-10),
               {"W": either(bad_arrays((3, 3)), bad_models()), "u": bad_arrays((3,)), "rtol": bad_numbers()}),
    EntryPoint("rnnmem.linear.memory_capacity", lambda **kw: linear.memory_capacity(**_unbox(kw)),
               lambda: dict(W=_W3.copy(), u=np.ones(3), n=6, method="exact", rng=0),
               {"W": either(bad_arrays((3, 3)), bad_models()), "u": bad_arrays((3,)), "n": bad_counts(),
                "method": bad_names(("exact", "sampled")), "rng": bad_rngs(), "samples": bad_counts(),
                "washout": bad_counts(), "ridge": bad_numbers(), "test_fraction": bad_numbers(),
                "rtol": bad_numbers()}),
    EntryPoint("rnnmem.linear.fisher_memory", lambda **kw: linear.fisher_memory(**_unbox(kw)),
               lambda: dict(W=_W3.copy(), u=np.ones(3), n=6, noise=1.0),
               {"W": either(bad_arrays((3, 3)), bad_models()), "u": bad_arrays((3,)), "n": bad_counts(),
                "noise": bad_numbers()}),
    EntryPoint("rnnmem.linear.bptt_gain", lambda **kw: linear.bptt_gain(**_unbox(kw)),
               lambda: dict(W=_W3.copy(), n=6, cell="elman", dt=1.0),
               {"W": either(bad_arrays((3, 3)), bad_models(), st.just(2.0 * np.eye(3))), "n": bad_counts(),
                "cell": bad_names(("elman", "euler")), "dt": bad_numbers()}),
    EntryPoint("rnnmem.linear.trajectory_gain", lambda **kw: linear.trajectory_gain(**_unbox(kw)),
               lambda: dict(rnn=Same(_TANH), x=_X[0].copy(), n=5),
               {"rnn": either(bad_models(), st.just(Same(_EXPLODING))), "x": bad_arrays((12, 1)),
                "n": bad_counts()}),
    EntryPoint("rnnmem.linear.lyapunov_exponents", lambda **kw: linear.lyapunov_exponents(**_unbox(kw)),
               lambda: dict(rnn=Same(_TANH), x=_X[0].copy(), k=2, washout=1, rng=0),
               {"rnn": either(bad_models(), st.just(Same(_EXPLODING))), "x": bad_arrays((12, 1)),
                "k": bad_counts(), "washout": bad_counts(), "rng": bad_rngs()}),
    EntryPoint("rnnmem.linear.top_lyapunov_exponent", lambda **kw: linear.top_lyapunov_exponent(**_unbox(kw)),
               lambda: dict(rnn=Same(_TANH), x=_X[0].copy(), washout=1, rng=0),
               {"rnn": bad_models(), "x": bad_arrays((12, 1)), "washout": bad_counts(), "rng": bad_rngs()}),
    # ------------------------------------------------------------------ ntk
    EntryPoint("rnnmem.ntk.lag_weights", lambda **kw: ntk.lag_weights(**kw),
               lambda: dict(lags=5, sigma2=0.8, nu_C=1.0, nu_U=1.0, parameterization="ntk", lr_W=1.0, lr_U=1.0,
                            lr_C=1.0),
               {"lags": bad_lags(), "sigma2": bad_numbers(), "nu_C": bad_numbers(), "nu_U": bad_numbers(),
                "parameterization": bad_names(ntk.PARAMETERIZATIONS), "lr_W": bad_numbers(),
                "lr_U": bad_numbers(), "lr_C": bad_numbers()}),
    EntryPoint("rnnmem.ntk.prior_variance", lambda **kw: ntk.prior_variance(**kw),
               lambda: dict(lags=5, sigma2=0.8, nu_C=1.0, nu_U=1.0),
               {"lags": bad_lags(), "sigma2": bad_numbers(), "nu_C": bad_numbers(), "nu_U": bad_numbers()}),
    EntryPoint("rnnmem.ntk.WideLinearRNN", lambda **kw: ntk.WideLinearRNN(**kw).markov(3),
               lambda: dict(W=_WIDE.W.copy(), U=_WIDE.U.copy(), C=_WIDE.C.copy(), sigma2=0.8, nu_C=1.0, nu_U=1.0,
                            parameterization="ntk", lr_W=1.0, lr_U=1.0, lr_C=1.0),
               {"W": bad_arrays((4, 4)), "U": bad_arrays((4,)), "C": bad_arrays((4,)), "sigma2": bad_numbers(),
                "nu_C": bad_numbers(), "nu_U": bad_numbers(), "parameterization": bad_names(ntk.PARAMETERIZATIONS),
                "lr_W": bad_numbers(), "lr_U": bad_numbers(), "lr_C": bad_numbers()}),
    EntryPoint("rnnmem.ntk.WideLinearRNN.replace", lambda **kw: _WIDE.replace(**kw).markov(3), dict,
               {"W": bad_arrays((4, 4)), "sigma2": bad_numbers(), "nu_U": bad_numbers(), "lr_C": bad_numbers(),
                "parameterization": bad_names(ntk.PARAMETERIZATIONS)}),
    EntryPoint("rnnmem.ntk.WideLinearRNN.markov", lambda **kw: _v(kw.pop("model")).markov(**kw),
               lambda: dict(model=Same(_WIDE), n=5),
               {"n": bad_counts()}),
    EntryPoint("rnnmem.ntk.WideLinearRNN.kernel", lambda **kw: _WIDE.kernel(**kw), lambda: dict(lags=4),
               {"lags": bad_lags()}),
    EntryPoint("rnnmem.ntk.WideLinearRNN.limit", lambda **kw: _WIDE.limit(**kw), lambda: dict(lags=4),
               {"lags": bad_lags()}),
    EntryPoint("rnnmem.ntk.init", lambda **kw: ntk.init(**kw).markov(3),
               lambda: dict(hidden=4, sigma2=0.8, nu_C=1.0, nu_U=1.0, parameterization="standard", rng=0),
               {"hidden": bad_counts(), "sigma2": bad_numbers(), "nu_C": bad_numbers(), "nu_U": bad_numbers(),
                "parameterization": bad_names(ntk.PARAMETERIZATIONS), "rng": bad_rngs(), "lr_W": bad_numbers()}),
    EntryPoint("rnnmem.ntk.empirical", lambda **kw: ntk.empirical(**_unbox(kw)),
               lambda: dict(model=Same(_WIDE), lags=4, parameterization="ntk", lr_W=1.0, blocks=False),
               {"model": either(bad_models(), st.just(Same(_TANH))), "lags": bad_lags(),
                "parameterization": bad_names(ntk.PARAMETERIZATIONS), "lr_W": bad_numbers(), "lr_U": bad_numbers(),
                "lr_C": bad_numbers(), "blocks": bad_flags()}),
    EntryPoint("rnnmem.ntk.SCNN", lambda **kw: ntk.SCNN(**kw).markov(),
               lambda: dict(rho2=np.ones(4), theta=np.zeros(4)),
               {"rho2": bad_arrays((4,)), "theta": bad_arrays((4,))}),
    EntryPoint("rnnmem.ntk.SCNN.from_response", lambda **kw: ntk.SCNN.from_response(**kw).markov(),
               lambda: dict(L=np.ones(4), rho2=np.ones(4)), {"L": bad_arrays((4,)), "rho2": bad_arrays((4,))}),
    EntryPoint("rnnmem.ntk.SCNN.markov", lambda **kw: _SCNN.markov(**kw), lambda: dict(n=6), {"n": bad_counts()}),
    EntryPoint("rnnmem.ntk.SCNN.__call__", lambda **kw: _SCNN(**kw), lambda: dict(x=np.ones((2, 6))),
               {"x": bad_arrays((2, 6))}),
    EntryPoint("rnnmem.ntk.lagged_design", lambda **kw: ntk.lagged_design(**kw),
               lambda: dict(x=np.ones((2, 6)), n=3, last_only=False),
               {"x": bad_arrays((2, 6)), "n": bad_counts(), "last_only": bad_flags()}),
    EntryPoint("rnnmem.ntk.interpolant", lambda **kw: ntk.interpolant(**kw),
               lambda: dict(X=_XD.copy(), y=_YD.copy(), rho2=np.ones(4), L0=np.zeros(4)),
               {"X": bad_arrays(_XD.shape), "y": bad_arrays(_YD.shape), "rho2": bad_arrays((4,)),
                "L0": bad_arrays((4,))}),
    EntryPoint("rnnmem.ntk.stable_lr", lambda **kw: ntk.stable_lr(**kw),
               lambda: dict(X=_XD.copy(), rho2=np.ones(4), fraction=0.5),
               {"X": either(bad_arrays(_XD.shape), st.just(np.zeros(_XD.shape))), "rho2": bad_arrays((4,)),
                "fraction": bad_numbers()}),
    EntryPoint("rnnmem.ntk.gd", lambda **kw: ntk.gd(**_unbox(kw)).train_loss,
               lambda: dict(model=Same(_SCNN), X=_XD.copy(), y=_YD.copy(), lr=0.01, steps=3, record_every=1),
               {"model": bad_models(), "X": bad_arrays(_XD.shape), "y": bad_arrays(_YD.shape),
                "lr": bad_numbers(), "steps": bad_counts(), "X_test": bad_arrays(_XD.shape),
                "y_test": bad_arrays(_YD.shape), "record_every": bad_counts()},
               names={"X_test": ("X_test", "y_test"), "y_test": ("X_test", "y_test")}),
    # ------------------------------------------------------------------ approx
    EntryPoint("rnnmem.approx.ExponentialFit", lambda **kw: approx.ExponentialFit(**kw)(1.0),
               lambda: dict(rates=np.array([0.2]), weights=np.array([1.0]), t=_T.copy(), residual=0.0, width=1),
               {"rates": bad_arrays((1,)), "weights": bad_arrays((1,)), "t": bad_arrays((21,)),
                "residual": bad_numbers(), "width": bad_counts()}),
    EntryPoint("rnnmem.approx.ExponentialFit.__call__", lambda **kw: _FIT(**kw), lambda: dict(t=_T.copy()),
               {"t": either(bad_arrays((21,)), st.just(np.array([-1e4])))}),
    EntryPoint("rnnmem.approx.ExponentialFit.to_rnn", lambda **kw: _FIT.to_rnn(**kw).markov(3),
               lambda: dict(cell="euler", dt=1.0, balance=True),
               {"cell": bad_names(("euler", "elman")), "dt": bad_numbers(), "balance": bad_flags()}),
    EntryPoint("rnnmem.approx.exponential_fit", lambda **kw: approx.exponential_fit(**kw).weights,
               lambda: dict(rho=lambda t: 0.8 ** t, m=2, t=_T.copy(), starts=1, max_nfev=20),
               {"rho": bad_callables(), "m": bad_counts(), "t": bad_arrays((21,)), "weights": bad_arrays((21,)),
                "rate_bounds": either(bad_numbers(), st.just((1.0, 0.5)), st.just(("a", 1.0))),
                "starts": bad_counts(), "prune": bad_numbers(), "merge": bad_numbers(), "max_nfev": bad_counts()}),
    EntryPoint("rnnmem.approx.fixed_basis_fit", lambda **kw: approx.fixed_basis_fit(**kw).weights,
               lambda: dict(rho=lambda t: 0.8 ** t, rates=np.array([0.1, 1.0]), t=_T.copy(), rcond=1e-12),
               {"rho": bad_callables(), "rates": bad_arrays((2,)), "t": bad_arrays((21,)),
                "weights": bad_arrays((21,)), "rcond": bad_numbers()}),
    EntryPoint("rnnmem.approx.uniform_rates", lambda **kw: approx.uniform_rates(**kw), lambda: dict(m=3, dt=1.0),
               {"m": bad_counts(), "dt": bad_numbers()}),
    EntryPoint("rnnmem.approx.linear_rnn", lambda **kw: approx.linear_rnn(**kw).markov(3),
               lambda: dict(rho=lambda t: 0.8 ** t, m=1, cell="euler", dt=1.0, balance=True, t=_T.copy(), starts=1),
               {"rho": bad_callables(), "m": bad_counts(), "cell": bad_names(("euler", "elman")),
                "dt": bad_numbers(), "balance": bad_flags()}),
    EntryPoint("rnnmem.approx.fit_grid", lambda **kw: approx.fit_grid(**kw),
               lambda: dict(window=10.0, horizon=100.0, n_tail=5, dt=1.0),
               {"window": bad_numbers(), "horizon": bad_numbers(), "n_tail": bad_counts(), "dt": bad_numbers()}),
]

#: public names of these modules that are not fuzzed, each with the reason
EXEMPT: dict[str, str] = {
    "rnnmem.ntk.GDResult": "a result record returned by ntk.gd (its fields are gd's own outputs)",
    "rnnmem.ntk.WideLinearRNN.to_rnn": "takes no arguments (its result is fuzzed through the constructor)",
}

#: every entry point of rnnmem.plot with all its bad arguments (rnnmem.plot belongs to the docs helper)
PLOT_ENTRY_POINTS: list[EntryPoint] = [
    EntryPoint("rnnmem.plot.plot_perturbation", _plotted(plot.plot_perturbation),
               lambda: dict(curves=Same(_CURVE), labels=["a"], radius=True, ymax=10.0),
               {"curves": bad_models(), "labels": st.sampled_from([[], ["a", "b"], "ab", [None], 3]),
                "radius": bad_flags(), "ymax": bad_numbers()}, seconds=30.0),
    EntryPoint("rnnmem.plot.plot_lag_weights", _plotted(plot.plot_lag_weights),
               lambda: dict(sigma2s=[0.5, 1.0], lags=5, nu_C=1.0, nu_U=1.0, parameterization="ntk", logy=True),
               {"sigma2s": either(bad_numbers(), bad_arrays((2,))), "lags": bad_lags(), "nu_C": bad_numbers(),
                "nu_U": bad_numbers(), "parameterization": bad_names(ntk.PARAMETERIZATIONS),
                "empirical": st.sampled_from([[None], 3, "x", [(np.ones(2), np.ones(2))] * 2]),
                "logy": bad_flags()}, names={"sigma2s": ("sigma2",)}, seconds=30.0),
    EntryPoint("rnnmem.plot.plot_gram", _plotted(plot.plot_gram),
               lambda: dict(G=np.eye(3) + 0.1, normalize=True),
               {"G": either(bad_arrays((3, 3)), st.just(np.zeros((3, 3)))), "normalize": bad_flags()},
               seconds=30.0),
    EntryPoint("rnnmem.plot.plot_memory_capacity", _plotted(plot.plot_memory_capacity),
               lambda: dict(curves=[np.linspace(1, 0, 5)], labels=["a"], errors=[np.full(5, 0.1)]),
               {"curves": either(bad_arrays((1, 5)), bad_models()),
                "labels": st.sampled_from([[], ["a", "b"], "ab", 3, [None]]),
                "errors": either(bad_arrays((1, 5)), st.just([]))}, names={"curves": ("errors",)}, seconds=30.0),
    EntryPoint("rnnmem.plot.plot_memory", _plotted(plot.plot_memory),
               lambda: dict(mf_or_list=Same(rm.memory_function(_TANH, 20)), logy=True, labels=["a"], fits=False),
               {"mf_or_list": bad_models(), "logy": bad_flags(), "labels": st.sampled_from([[], ["a", "b"], "ab", 3]),
                "fits": bad_flags(), "exact": st.sampled_from([3, "x", [None, None], lambda t: "x"])},
               seconds=30.0),
]

ENTRY_POINTS += PLOT_ENTRY_POINTS
