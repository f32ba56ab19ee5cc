"""matplotlib figures of memory functions, perturbation curves, lag weights, Gram matrices and memory capacities.

Every function draws into ``ax`` (a new figure with a constrained layout when ``ax`` is None), returns the Axes and
never calls ``show()``. Legends sit outside the data by default (``legend="outside"``: right of the axes; save with
``bbox_inches="tight"`` or use a constrained layout so they are not cut off), ``legend="inside"`` lets matplotlib
choose a place inside, ``legend="none"`` draws none (e.g. to make one legend for several panels from
``ax.get_legend_handles_labels()``). Inputs are validated like every public function of rnnmem: a wrong type raises
``TypeError``, a wrong value or shape ``ValueError``, naming the argument.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from rnnmem._validate import as_array, check_bool, check_choice, check_real

__all__ = ["plot_memory", "plot_perturbation", "plot_lag_weights", "plot_gram", "plot_memory_capacity", "LEGENDS"]

#: values of the ``legend`` argument of every plot function
LEGENDS = ("outside", "inside", "none")


# ------------------------------------------------------------------------------------------------ helpers
def _axes(ax, figsize: tuple[float, float]):
    """``ax`` checked, or a new Axes in a figure with a constrained layout (outside legends fit)."""
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes

    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
        return ax
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def _labels(labels, n: int, what: str) -> list[str] | None:
    """``labels`` as a list of ``n`` strings (or None), with errors that name the mismatch."""
    if labels is None:
        return None
    if isinstance(labels, (str, bytes)):
        raise TypeError(f"labels must be a sequence of strings, one per {what}; got the string {labels!r} "
                        f"(write [{labels!r}] for a single {what})")
    try:
        labels = list(labels)
    except TypeError:
        raise TypeError(f"labels must be a sequence of strings, one per {what}; got {type(labels).__name__}") from None
    if len(labels) != n:
        raise ValueError(f"labels has {len(labels)} entries for {n} {what}s; give one label per {what}")
    for i, lab in enumerate(labels):
        if not isinstance(lab, str):
            raise TypeError(f"labels[{i}] must be a string, got {type(lab).__name__} {lab!r}")
    return labels


def _per_curve(value, n: int, name: str, what: str) -> list:
    """A sequence with one entry per curve (entries may be None), with a clear error on a length mismatch."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(f"{name} must be a sequence with one entry per {what} (None for none), "
                        f"got {type(value).__name__}")
    if len(value) != n:
        raise ValueError(f"{name} has {len(value)} entries for {n} {what}s; give one per {what} (None for none)")
    return list(value)


def _legend(ax, legend: str, handles=None, labels=None) -> None:
    if legend == "none":
        return
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return
    if legend == "outside":
        ax.legend(handles, labels, fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    else:
        ax.legend(handles, labels, fontsize=8)


# ------------------------------------------------------------------------------------------------ memory
def plot_memory(mf_or_list, ax=None, logy: bool = True, labels=None, fits: bool = False, exact=None,
                legend: str = "outside", **kwargs):
    """Plot memory functions M(t) (docs/math.md §3) against t, on a log y-axis by default.

    Parameters
    ----------
    mf_or_list : MemoryFunction or sequence of MemoryFunction
        From :func:`rnnmem.memory_function` or :func:`rnnmem.memory.exact_memory`.
    ax : matplotlib Axes, optional
        Drawn into; a new figure (constrained layout) is made when None.
    logy : bool
        Logarithmic y-axis (exponential decay is a straight line). Zeros are not drawn on a log axis.
    labels : sequence of str, optional
        Legend labels, one per memory function (default: ``kind (method)`` of each curve).
    fits : bool
        Overlay the better :func:`rnnmem.fit_decay` fit of each curve (dashed) with its rate or exponent.
    exact : callable or sequence of callables/None, optional
        Exact memory t ↦ M(t) (e.g. ``target.memory``) per curve, drawn as black dotted lines.
    legend : {"outside", "inside", "none"}
        Where the legend goes (module docstring).
    **kwargs
        Passed to ``ax.plot``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    from rnnmem.memory import MemoryFunction, fit_decay

    if isinstance(mf_or_list, MemoryFunction):
        mfs = [mf_or_list]
    elif isinstance(mf_or_list, (str, bytes)) or not isinstance(mf_or_list, Sequence):
        raise TypeError(f"mf_or_list must be a MemoryFunction or a non-empty sequence of them, "
                        f"got {type(mf_or_list).__name__} (from rm.memory_function or rm.memory.exact_memory)")
    else:
        mfs = list(mf_or_list)
    if not mfs or not all(isinstance(m, MemoryFunction) for m in mfs):
        bad = next((type(m).__name__ for m in mfs if not isinstance(m, MemoryFunction)), "nothing (empty)")
        raise TypeError(f"mf_or_list must be a MemoryFunction or a non-empty sequence of them, got a sequence "
                        f"holding {bad} (from rm.memory_function or rm.memory.exact_memory)")
    logy = check_bool(logy, "logy")
    fits = check_bool(fits, "fits")
    legend = check_choice(legend, "legend", LEGENDS)
    labels = _labels(labels, len(mfs), "memory function")
    if exact is not None:
        exact = [exact] * len(mfs) if callable(exact) else _per_curve(exact, len(mfs), "exact", "memory function")
        for i, e in enumerate(exact):
            if e is not None and not callable(e):
                raise TypeError(f"exact[{i}] must be a callable t -> M(t) or None, got {type(e).__name__}")
    ax = _axes(ax, (6.5, 4))
    for i, mf in enumerate(mfs):
        lab = labels[i] if labels is not None else f"{mf.kind} ({mf.method})"
        v = np.where(mf.values > 0, mf.values, np.nan) if logy else mf.values
        (line,) = ax.plot(mf.t, v, label=lab, **kwargs)
        if exact is not None and exact[i] is not None:
            ex = np.asarray(exact[i](mf.t))
            if ex.shape != mf.t.shape or not np.issubdtype(ex.dtype, np.number) or np.iscomplexobj(ex):
                raise ValueError(f"exact[{i}] must map the {mf.t.shape[0]} times t to real memory values of shape "
                                 f"{mf.t.shape}, got {ex.dtype} values of shape {ex.shape}: write it vectorised, "
                                 f"e.g. exact=lambda t: 0.9 ** t")
            ax.plot(mf.t, ex, ":", color="k", lw=1, label="exact" if i == 0 else None)
        if fits:
            try:
                f = fit_decay(mf.t, mf.values)
            except ValueError:
                continue
            tw = mf.t[(mf.t >= f.window[0]) & (mf.t <= f.window[1])]
            if f.kind == "exponential":
                ax.plot(tw, f.exponential(tw), "--", color=line.get_color(), lw=1,
                        label=f"fit: exp, β = {f.rate:.3g}")
            else:
                ax.plot(tw, f.polynomial(tw), "--", color=line.get_color(), lw=1,
                        label=f"fit: power, p = {f.exponent:.3g}")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("t")
    ax.set_ylabel("memory M(t)")
    _legend(ax, legend)
    return ax


# ------------------------------------------------------------------------------------------------ perturbation
def _broken_log_axis(ax, lo: float, hi: float) -> float:
    """Make room left of ``lo`` on a log x-axis for the β = 0 values; return the x where they are drawn.

    Layout in decades: the data span [lo, hi]; the β = 0 column sits at lo / 10^g with a tick labelled "0", in a
    grey band that ends at an axis break ("//" marks) at lo / 10^(g/2). Log ticks inside the band are dropped, so no
    tick there pretends to be a value of β.
    """
    from matplotlib.ticker import LogFormatterSciNotation, LogLocator

    span = math.log10(hi / lo) if hi > lo else 1.0
    g = max(0.12 * span, 0.3)
    x0 = lo / 10 ** g
    xb = lo / 10 ** (g / 2)
    left = lo / 10 ** (1.6 * g)
    right = hi * 10 ** (0.04 * span)

    class _Filtered(LogLocator):
        def __init__(self, *args, add_zero: bool, **kw):
            super().__init__(*args, **kw)
            self._add_zero = add_zero

        def tick_values(self, vmin, vmax):
            ticks = [t for t in super().tick_values(vmin, vmax) if t >= xb]
            return np.array(([x0] if self._add_zero else []) + ticks)

    class _Formatter(LogFormatterSciNotation):
        def __call__(self, x, pos=None):
            return "0" if math.isclose(x, x0, rel_tol=1e-9) else super().__call__(x, pos)

    ax.set_xscale("log")  # before the locators: set_xscale resets them
    ax.set_xlim(left, right)
    ax.xaxis.set_major_locator(_Filtered(base=10.0, add_zero=True))
    ax.xaxis.set_major_formatter(_Formatter())
    ax.xaxis.set_minor_locator(_Filtered(base=10.0, subs="auto", add_zero=False))
    ax.axvspan(left, xb, color="0.93", lw=0, zorder=0)
    trans = ax.get_xaxis_transform()  # x in data, y in axes coordinates
    for y in (0.0, 1.0):
        ax.plot([xb / 10 ** (0.02 * g), xb * 10 ** (0.02 * g)], [y, y], ls="none", marker=[(-1, -2), (1, 2)],
                ms=7, mew=1, color="k", transform=trans, clip_on=False, label="_break")
    return x0


def plot_perturbation(curves, ax=None, labels=None, radius: bool = False, ymax: float | None = None,
                      legend: str = "outside", **kwargs):
    """Log–log perturbation curves E(β) (docs/math.md §4, [P1] Fig. 1) with blow-ups and E(0) marked.

    * **β = 0** cannot sit on a log axis. When a curve has β = 0 on its grid, its unperturbed error E(0) is drawn
      as a hollow circle in a separate grey column left of an axis break ("//"), at a tick labelled ``0``; the
      log ticks inside that column are removed, so its position says nothing about a β value.
    * **Blow-ups.** Errors above ``ymax`` are drawn as "^" markers on the top edge of the axes, non-finite errors
      (a perturbed model exploded, E = ∞) as "x" markers there; each curve's line stops at its last point below
      ``ymax``. The legend explains both markers (so no note is written over the data).

    Parameters
    ----------
    curves : PerturbationCurve, sequence of them, or dict label -> PerturbationCurve
        From :func:`rnnmem.perturbation_error`.
    ax : matplotlib Axes, optional
        Drawn into; a new figure (constrained layout) is made when None. The function sets the x-limits.
    labels : sequence of str, optional
        Legend labels, one per curve. Default: the dict keys; otherwise each curve's stability radius
        (``"radius 0.002"``; with several curves numbered ``"1: radius 0.002"``).
    radius : bool
        Mark each curve's :meth:`~rnnmem.PerturbationCurve.stability_radius` by a dotted vertical line.
    ymax : float, optional
        Top of the data range (> 0). Default: 1e3 × the largest error of any curve at or below its stability radius.
    legend : {"outside", "inside", "none"}
        Where the legend goes (module docstring).
    **kwargs
        Passed to ``ax.plot`` for the curves (e.g. ``marker="."``).

    Returns
    -------
    matplotlib.axes.Axes
    """
    from rnnmem.stability import PerturbationCurve

    if isinstance(curves, PerturbationCurve):
        items = [(None, curves)]
    elif isinstance(curves, Mapping):
        items = [(str(k), v) for k, v in curves.items()]
    elif isinstance(curves, (str, bytes)) or not isinstance(curves, Sequence):
        raise TypeError(f"curves must be a PerturbationCurve, a sequence or a dict of them, "
                        f"got {type(curves).__name__} (from rm.perturbation_error)")
    else:
        items = [(None, c) for c in curves]
    if not items or not all(isinstance(c, PerturbationCurve) for _, c in items):
        bad = next((type(c).__name__ for _, c in items if not isinstance(c, PerturbationCurve)), "nothing (empty)")
        raise TypeError(f"curves must be a PerturbationCurve, a non-empty sequence or a dict of them, got one "
                        f"holding {bad} (from rm.perturbation_error)")
    radius = check_bool(radius, "radius")
    legend = check_choice(legend, "legend", LEGENDS)
    if ymax is not None:
        ymax = check_real(ymax, "ymax", minimum=0.0, strict_minimum=True)
    given = _labels(labels, len(items), "curve")
    if given is not None:
        items = [(lab, c) for lab, (_, c) in zip(given, items, strict=True)]
    else:  # unnamed curves are labelled by their stability radius (numbered when there are several)
        prefix = (lambda i: f"{i + 1}: ") if len(items) > 1 else (lambda i: "")
        items = [(lab if lab is not None else f"{prefix(i)}radius {c.stability_radius():.3g}", c)
                 for i, (lab, c) in enumerate(items)]
    ax = _axes(ax, (6.5, 4))

    pos = [c.betas[c.betas > 0] for _, c in items]
    lo = min((p.min() for p in pos if p.size), default=1.0)
    hi = max((p.max() for p in pos if p.size), default=1.0)
    if ymax is None:
        ctrl = [c.errors[(c.betas <= c.stability_radius()) & np.isfinite(c.errors)] for _, c in items]
        top = float(np.concatenate(ctrl + [np.zeros(1)]).max())
        ymax = 1e3 * top if top > 0 else 1.0
    has_zero = any((c.betas == 0).any() for _, c in items)
    x0 = _broken_log_axis(ax, lo, hi) if has_zero else None

    big_any = inf_any = zero_any = False
    for lab, c in items:
        keep = c.betas > 0
        b, e = c.betas[keep], c.errors[keep]
        ok = np.isfinite(e) & (e <= ymax)
        (line,) = ax.plot(b[ok], np.where(e[ok] > 0, e[ok], np.nan), label=lab, **kwargs)
        color = line.get_color()
        big = np.isfinite(e) & (e > ymax)
        inf = ~np.isfinite(e)
        if big.any():
            ax.plot(b[big], np.full(big.sum(), ymax), "^", color=color, ms=4, clip_on=False)
            big_any = True
        if inf.any():
            ax.plot(b[inf], np.full(inf.sum(), ymax), "x", color=color, clip_on=False)
            inf_any = True
        if x0 is not None and (c.betas == 0).any():
            e0 = float(c.errors[c.betas == 0][0])
            if np.isfinite(e0) and 0 < e0 <= ymax:
                ax.plot([x0], [e0], "o", mfc="none", color=color)
                zero_any = True
            elif not np.isfinite(e0) or e0 > ymax:
                ax.plot([x0], [ymax], "x" if not np.isfinite(e0) else "^", color=color, clip_on=False)
        if radius:
            ax.axvline(c.stability_radius(), ls=":", lw=1, color=color)
    if x0 is None:
        ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(top=ymax * 1.5)
    ax.set_xlabel("perturbation β")
    ax.set_ylabel("perturbation error E(β)")

    # the marker key as empty labelled lines: part of ax.get_legend_handles_labels(), so a legend made from them
    # elsewhere (one legend for several panels) explains the markers too
    key = dict(ls="none", color="0.35")
    if zero_any:
        ax.plot([], [], marker="o", mfc="none", label="E(0): unperturbed, β = 0", **key)
    if big_any:
        ax.plot([], [], marker="^", ms=4, label=f"E > {ymax:.2g} (off scale)", **key)
    if inf_any:
        ax.plot([], [], marker="x", label="E = ∞ (a perturbed model exploded)", **key)
    _legend(ax, legend)
    return ax


# ------------------------------------------------------------------------------------------------ NTK
def plot_lag_weights(sigma2s, lags, ax=None, nu_C: float = 1.0, nu_U: float = 1.0, parameterization: str = "ntk",
                     empirical=None, logy: bool = True, legend: str = "outside"):
    """Plot the NTK lag weights ρ_j² (:func:`rnnmem.ntk.lag_weights`, docs/math.md §7b) against the lag j.

    Parameters
    ----------
    sigma2s : sequence of float
        Values of σ² ≥ 0, one curve each.
    lags : int or array of int
        Lags (an int J means 0..J-1).
    ax : matplotlib Axes, optional
        Drawn into; a new figure (constrained layout) is made when None.
    nu_C, nu_U, parameterization :
        Passed to :func:`rnnmem.ntk.lag_weights`.
    empirical : sequence of (mean, sd) pairs or None, optional
        Monte-Carlo diagonals of :func:`rnnmem.ntk.empirical`, one pair of arrays (one value per lag) or None per
        σ², drawn as error bars.
    logy : bool
        Log y-axis (geometric decay/growth is a straight line).
    legend : {"outside", "inside", "none"}
        Where the legend goes (module docstring).

    Returns
    -------
    matplotlib.axes.Axes
    """
    from rnnmem.ntk import _lags, lag_weights

    if isinstance(sigma2s, (str, bytes)) or not isinstance(sigma2s, (Sequence, np.ndarray)):
        raise TypeError(f"sigma2s must be a sequence of variances σ², got {type(sigma2s).__name__}")
    s2s = [check_real(s, f"sigma2s[{i}]", minimum=0.0) for i, s in enumerate(sigma2s)]
    if not s2s:
        raise ValueError("sigma2s is empty; give at least one σ²")
    logy = check_bool(logy, "logy")
    legend = check_choice(legend, "legend", LEGENDS)
    j = _lags(lags)
    if empirical is not None:
        empirical = _per_curve(empirical, len(s2s), "empirical", "σ²")
        for i, e in enumerate(empirical):
            if e is None:
                continue
            if isinstance(e, np.ndarray) or len(e) != 2:
                raise TypeError(f"empirical[{i}] must be a (mean, sd) pair of arrays or None")
            empirical[i] = (as_array(e[0], f"empirical[{i}] mean", shape=j.shape),
                            as_array(e[1], f"empirical[{i}] sd", shape=j.shape))
    ax = _axes(ax, (6.5, 4))
    for i, s2 in enumerate(s2s):
        line, = ax.plot(j, lag_weights(j, s2, nu_C, nu_U, parameterization), "-", label=f"σ² = {s2:g}")
        if empirical is not None and empirical[i] is not None:
            mean, sd = empirical[i]
            ax.errorbar(j, mean, yerr=sd, fmt="o", ms=3, color=line.get_color(), capsize=2)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("lag j")
    ax.set_ylabel("lag weight ρ_j²")
    _legend(ax, legend)
    return ax


def plot_gram(G, ax=None, normalize: bool = True):
    """Show a Markov-parameter Gram matrix (:func:`rnnmem.ntk.empirical`) as an image.

    With ``normalize`` the correlation form G_ij / sqrt(G_ii G_jj) is shown (on a fixed colour scale [−1, 1]); the
    n → ∞ limit is then the identity. A zero diagonal entry G_ii (a lag whose gradient vanishes; for a Gram
    matrix its whole row and column are then zero) has no correlation: its row and column are drawn as 0, never
    as NaN.

    Parameters
    ----------
    G : array (J, J)
        A real, finite, square matrix; with ``normalize`` its diagonal must be ≥ 0 (a Gram matrix's is).
    ax : matplotlib Axes, optional
        Drawn into; a new figure (constrained layout) is made when None.
    normalize : bool
        Show the correlation form instead of G itself.

    Returns
    -------
    matplotlib.axes.Axes
    """
    G = as_array(G, "G", ndim=2)
    if G.shape[0] != G.shape[1]:
        raise ValueError(f"G must be a square (J, J) matrix, got shape {G.shape}")
    normalize = check_bool(normalize, "normalize")
    ax = _axes(ax, (4.5, 3.8))
    if normalize:
        diag = np.diag(G).copy()
        if (diag < 0).any():
            i = int(np.argmax(diag < 0))
            raise ValueError(f"G is not a Gram matrix: G[{i}, {i}] = {diag[i]:.3g} < 0, so G_ij / sqrt(G_ii G_jj) "
                             "is undefined; pass normalize=False to show G itself")
        d = np.sqrt(diag)
        zero = d == 0
        d[zero] = 1.0
        G = G / np.outer(d, d)
        G[zero, :] = 0.0
        G[:, zero] = 0.0
    im = ax.imshow(G, cmap="RdBu_r", vmin=-1 if normalize else None, vmax=1 if normalize else None)
    cb = ax.figure.colorbar(im, ax=ax)
    cb.set_label("G_ij / sqrt(G_ii G_jj)" if normalize else "G_ij")
    ax.set_xlabel("lag j")
    ax.set_ylabel("lag i")
    return ax


# ------------------------------------------------------------------------------------------------ memory capacity
def plot_memory_capacity(curves, ax=None, labels=None, errors=None, legend: str = "outside"):
    """Plot memory-capacity curves MC_k (:func:`rnnmem.linear.memory_capacity`) against the delay k.

    Parameters
    ----------
    curves : sequence of arrays (k_max,)
        One curve of MC_0..MC_{k_max-1} each (a single 1-D array is one curve).
    ax : matplotlib Axes, optional
        Drawn into; a new figure (constrained layout) is made when None.
    labels : sequence of str, optional
        Legend labels, one per curve.
    errors : sequence of arrays or None, optional
        Error bars, one entry per curve (an array of the curve's shape, or None for a plain line).
    legend : {"outside", "inside", "none"}
        Where the legend goes (module docstring); only drawn when ``labels`` are given.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if isinstance(curves, np.ndarray) and curves.ndim == 1:
        curves = [curves]
    if isinstance(curves, (str, bytes)) or not isinstance(curves, (Sequence, np.ndarray)):
        raise TypeError(f"curves must be a sequence of 1-D arrays (one memory-capacity curve each), "
                        f"got {type(curves).__name__}")
    cs = [as_array(c, f"curves[{i}]", ndim=1) for i, c in enumerate(curves)]
    if not cs:
        raise ValueError("curves is empty; give at least one memory-capacity curve")
    labels = _labels(labels, len(cs), "curve")
    legend = check_choice(legend, "legend", LEGENDS)
    if errors is not None:
        errors = _per_curve(errors, len(cs), "errors", "curve")
        errors = [None if e is None else as_array(e, f"errors[{i}]", shape=cs[i].shape)
                  for i, e in enumerate(errors)]
    ax = _axes(ax, (6.5, 4))
    handles = []
    for i, c in enumerate(cs):
        k = np.arange(c.size)
        lab = None if labels is None else labels[i]
        if errors is not None and errors[i] is not None:
            handles.append(ax.errorbar(k, c, yerr=errors[i], fmt="o", ms=3, capsize=2, label=lab))
        else:
            handles.append(ax.plot(k, c, "-", label=lab)[0])
    ax.set_xlabel("delay k")
    ax.set_ylabel("memory capacity MC_k")
    if labels is not None:
        _legend(ax, legend, handles, labels)  # in the order of the curves (matplotlib lists error bars last)
    return ax
