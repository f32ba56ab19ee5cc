"""matplotlib figures (each returns the Figure/Axes; never calls show())"""

from __future__ import annotations

import numpy as np


def plot_memory(mf_or_list, ax=None, logy: bool = True, labels=None, fits: bool = False, exact=None,
                **kwargs):
    """Plot memory functions M(t) (docs/math.md §3) against t, on a log y-axis by default.

    Parameters
    ----------
    mf_or_list : MemoryFunction or sequence of MemoryFunction
        From :func:`rnnmem.memory_function` or :func:`rnnmem.memory.exact_memory`.
    ax : matplotlib Axes, optional
        Drawn into; a new figure is made when None.
    logy : bool
        Logarithmic y-axis (exponential decay is a straight line). Zeros are not drawn on a log axis.
    labels : sequence of str, optional
        Legend labels (default: ``kind``/``method`` of each curve).
    fits : bool
        Overlay the better :func:`rnnmem.fit_decay` fit of each curve (dashed) with its rate or exponent.
    exact : callable or sequence of callables/None, optional
        Exact memory t ↦ M(t) (e.g. ``target.memory``) per curve, drawn as black dotted lines.
    **kwargs
        Passed to ``ax.plot``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    from rnnmem.memory import MemoryFunction, fit_decay

    mfs = [mf_or_list] if isinstance(mf_or_list, MemoryFunction) else list(mf_or_list)
    if not mfs or not all(isinstance(m, MemoryFunction) for m in mfs):
        raise TypeError("plot_memory needs a MemoryFunction or a non-empty sequence of them")
    if labels is not None and len(labels) != len(mfs):
        raise ValueError(f"labels has {len(labels)} entries for {len(mfs)} memory functions")
    if exact is not None:
        exact = [exact] * len(mfs) if callable(exact) else list(exact)
        if len(exact) != len(mfs):
            raise ValueError(f"exact has {len(exact)} entries for {len(mfs)} memory functions")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    for i, mf in enumerate(mfs):
        lab = labels[i] if labels is not None else f"{mf.kind} ({mf.method})"
        v = np.where(mf.values > 0, mf.values, np.nan) if logy else mf.values
        (line,) = ax.plot(mf.t, v, label=lab, **kwargs)
        if exact is not None and exact[i] is not None:
            ax.plot(mf.t, exact[i](mf.t), ":", color="k", lw=1)
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
    ax.legend(fontsize=8)
    return ax


def plot_perturbation(curves, ax=None, labels=None, radius: bool = False, ymax: float | None = None,
                      **kwargs):
    """Log–log perturbation curves E(β) (docs/math.md §4, [P1] Fig. 1) with blow-ups marked.

    β = 0 cannot sit on a log axis: E(0) is drawn as a hollow marker at β_min / 2. Errors above ``ymax`` are
    drawn as "^" markers on the top edge, non-finite errors (a perturbed model exploded, E = ∞) as "x" markers
    there; the line stops at the last point below ``ymax``.

    Parameters
    ----------
    curves : PerturbationCurve, sequence of them, or dict label -> PerturbationCurve
        From :func:`rnnmem.perturbation_error`.
    ax : matplotlib Axes, optional
        Drawn into; a new figure is made when None.
    labels : sequence of str, optional
        Legend labels (default: the dict keys, or "curve i").
    radius : bool
        Mark each curve's :meth:`~rnnmem.PerturbationCurve.stability_radius` by a dotted vertical line.
    ymax : float, optional
        Top of the y-axis. Default: 1e3 × the largest error of any curve at or below its stability radius.
    **kwargs
        Passed to ``ax.plot``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    from rnnmem.stability import PerturbationCurve

    if isinstance(curves, PerturbationCurve):
        items = [("curve 0", curves)]
    elif isinstance(curves, dict):
        items = [(str(k), v) for k, v in curves.items()]
    else:
        items = [(f"curve {i}", c) for i, c in enumerate(curves)]
    if not items or not all(isinstance(c, PerturbationCurve) for _, c in items):
        raise TypeError("plot_perturbation needs a PerturbationCurve, a sequence or a dict of them")
    if labels is not None:
        if len(labels) != len(items):
            raise ValueError(f"labels has {len(labels)} entries for {len(items)} curves")
        items = [(str(lab), c) for lab, (_, c) in zip(labels, items, strict=True)]
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    pos = [c.betas[c.betas > 0] for _, c in items]
    bmin = min(p.min() for p in pos if p.size) if any(p.size for p in pos) else 1.0
    if ymax is None:
        ctrl = [c.errors[(c.betas <= c.stability_radius()) & np.isfinite(c.errors)] for _, c in items]
        ctrl = np.concatenate(ctrl + [np.zeros(1)])
        ymax = 1e3 * ctrl.max() if ctrl.max() > 0 else 1.0
    blown = False
    for lab, c in items:
        keep = c.betas > 0
        b, e = c.betas[keep], c.errors[keep]
        ok = np.isfinite(e) & (e <= ymax)
        (line,) = ax.plot(b[ok], np.where(e[ok] > 0, e[ok], np.nan), label=lab, **kwargs)
        big = np.isfinite(e) & (e > ymax)
        inf = ~np.isfinite(e)
        if big.any():
            ax.plot(b[big], np.full(big.sum(), ymax), "^", color=line.get_color(), ms=4, clip_on=False)
        if inf.any():
            ax.plot(b[inf], np.full(inf.sum(), ymax), "x", color=line.get_color(), clip_on=False)
        blown |= bool(big.any() or inf.any())
        if np.isfinite(c.nominal) and c.nominal > 0 and (c.betas == 0).any():
            ax.plot([bmin / 2], [c.nominal], "o", mfc="none", color=line.get_color())
        if radius:
            ax.axvline(c.stability_radius(), ls=":", lw=1, color=line.get_color())
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(top=ymax * 1.5)
    if blown:
        ax.text(0.01, 0.99, f"^: E > {ymax:.2g}   x: E = ∞", transform=ax.transAxes, ha="left", va="top",
                fontsize=7)
    ax.set_xlabel("perturbation β")
    ax.set_ylabel("perturbation error E(β)")
    ax.legend(fontsize=8)
    return ax


def plot_lag_weights(sigma2s, lags, ax=None, nu_C: float = 1.0, nu_U: float = 1.0, parameterization: str = "ntk",
                     empirical=None, logy: bool = True):
    """Plot the NTK lag weights ρ_j² (:func:`rnnmem.ntk.lag_weights`, docs/math.md §7b) against the lag j.

    Parameters
    ----------
    sigma2s : sequence of float
        Values of σ², one curve each.
    lags : int or array of int
        Lags (an int J means 0..J-1).
    ax : matplotlib Axes, optional
    nu_C, nu_U, parameterization :
        Passed to :func:`rnnmem.ntk.lag_weights`.
    empirical : sequence of (mean, sd) arrays or None, optional
        Monte-Carlo diagonals of :func:`rnnmem.ntk.empirical`, one pair per σ², drawn as error bars.
    logy : bool
        Log y-axis (geometric decay/growth is a straight line).

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    from rnnmem.ntk import _lags, lag_weights

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    j = _lags(lags)
    for i, s2 in enumerate(sigma2s):
        line, = ax.plot(j, lag_weights(j, s2, nu_C, nu_U, parameterization), "-", label=f"σ² = {s2:g}")
        if empirical is not None and empirical[i] is not None:
            mean, sd = empirical[i]
            ax.errorbar(j, mean, yerr=sd, fmt="o", ms=3, color=line.get_color(), capsize=2)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("lag j")
    ax.set_ylabel("ρ_j²")
    ax.legend(fontsize=8)
    return ax


def plot_gram(G, ax=None, normalize: bool = True):
    """Show a Markov-parameter Gram matrix (:func:`rnnmem.ntk.empirical`) as an image; with ``normalize`` the
    correlation form G_ij / sqrt(G_ii G_jj), on which the n → ∞ limit is the identity. Returns the Axes."""
    import matplotlib.pyplot as plt

    G = np.asarray(G, dtype=float)
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 3.5))
    if normalize:
        d = np.sqrt(np.abs(np.diag(G)))
        G = G / np.outer(d, d)
    im = ax.imshow(G, cmap="RdBu_r", vmin=-1 if normalize else None, vmax=1 if normalize else None)
    ax.figure.colorbar(im, ax=ax)
    ax.set_xlabel("lag j")
    ax.set_ylabel("lag i")
    return ax


def plot_memory_capacity(curves, ax=None, labels=None, errors=None):
    """Plot memory-capacity curves MC_k (:func:`rnnmem.linear.memory_capacity`) against the delay k.

    ``curves``: sequence of arrays (k_max,); ``errors``: matching sequence of error-bar arrays or None.
    Returns the Axes.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    for i, c in enumerate(curves):
        c = np.asarray(c, dtype=float)
        k = np.arange(c.size)
        lab = None if labels is None else labels[i]
        if errors is not None and errors[i] is not None:
            ax.errorbar(k, c, yerr=errors[i], fmt="o", ms=3, capsize=2, label=lab)
        else:
            ax.plot(k, c, "-", label=lab)
    ax.set_xlabel("delay k")
    ax.set_ylabel("memory capacity MC_k")
    if labels is not None:
        ax.legend(fontsize=8)
    return ax
