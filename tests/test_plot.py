"""rnnmem.plot: what each figure draws, where its legend and β = 0 go, and its input validation."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import rnnmem as rm  # noqa: E402
from rnnmem import ntk  # noqa: E402
from rnnmem.plot import (  # noqa: E402
    plot_gram,
    plot_lag_weights,
    plot_memory,
    plot_memory_capacity,
    plot_perturbation,
)
from rnnmem.stability import PerturbationCurve  # noqa: E402


@pytest.fixture(autouse=True)
def _no_show_and_close(monkeypatch):
    def show(*_, **__):
        raise AssertionError("a plot function called show()")

    monkeypatch.setattr(plt, "show", show)
    yield
    plt.close("all")


def curve(betas, errors):
    b, e = np.asarray(betas, float), np.asarray(errors, float)
    return PerturbationCurve(b, e, e[:, None], np.zeros((b.size, 0)), float(e[0]))


def _inside(inner, outer, tol=1.0):
    return (inner.x0 >= outer.x0 - tol and inner.y0 >= outer.y0 - tol and inner.x1 <= outer.x1 + tol
            and inner.y1 <= outer.y1 + tol)


def _overlap(a, b):
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


B = [0.0, 1e-3, 2e-3, 4e-3, 8e-3, 1.6e-2]


# ------------------------------------------------------------------------------------------------ perturbation
def test_perturbation_beta0_sits_in_a_separate_column_with_a_zero_tick():
    ax = plot_perturbation({"a": curve(B, [1e-3, 1e-3, 2e-3, 1e5, np.inf, np.inf]),
                            "b": curve(B, [1e-4, 2e-4, 4e-4, 8e-4, 1.6e-3, 3.2e-3])})
    ax.figure.canvas.draw()
    left, _ = ax.get_xlim()
    zero_pts = [ln for ln in ax.get_lines() if ln.get_marker() == "o" and len(ln.get_xdata())]
    assert len(zero_pts) == 2 and {float(ln.get_ydata()[0]) for ln in zero_pts} == {1e-3, 1e-4}
    x0 = float(zero_pts[0].get_xdata()[0])
    assert left < x0 <= 1e-3 / 10 ** 0.3 * (1 + 1e-12)  # left of the break, >= 0.3 decades below the smallest β
    ticks = ax.get_xticks()
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[list(ticks).index(x0)] == "0"
    # no log tick inside the β = 0 column: every other visible tick is at or right of the break
    visible = [t for t in ticks if left <= t <= ax.get_xlim()[1]]
    assert all(t == x0 or t > x0 * 10 ** 0.15 for t in visible)
    assert all(t > x0 * 10 ** 0.15 for t in ax.xaxis.get_minorticklocs() if t >= left)


def test_perturbation_blowup_markers_are_explained_in_the_legend_not_over_the_data():
    ax = plot_perturbation({"a": curve(B, [1e-3, 1e-3, 2e-3, 1e5, np.inf, np.inf])}, ymax=10.0)
    markers = [ln.get_marker() for ln in ax.get_lines()]
    assert "x" in markers and "^" in markers
    assert not ax.texts                                   # no note written into the axes
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts[0] == "a" and any("E = ∞" in t for t in texts) and any("E > 10" in t for t in texts)
    assert any("β = 0" in t for t in texts)
    # the key is part of the axes' handles, so one legend for several panels explains the markers too
    assert "E = ∞ (a perturbed model exploded)" in ax.get_legend_handles_labels()[1]


def test_perturbation_default_labels_say_something_and_legend_is_outside():
    ax = plot_perturbation([curve(B, [1e-3, 1e-3, 2e-3, 4e-3, 8e-3, 1e5]), curve(B, [1e-4] * 6)])
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts[:2] == ["1: radius 0.008", "2: radius 0.016"]
    assert not any("curve" in t for t in texts)
    fig = ax.figure
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    leg, box = ax.get_legend().get_window_extent(r), ax.get_window_extent(r)
    assert not _overlap(leg, box)
    # nothing clipped: labels and legend inside the figure
    figbox = fig.bbox
    for artist in (ax.xaxis.label, ax.yaxis.label, ax.get_legend()):
        assert _inside(artist.get_window_extent(r), figbox), artist
    single = plot_perturbation(curve(B, [1e-3] * 6))
    assert [t.get_text() for t in single.get_legend().get_texts()][0] == "radius 0.016"


def test_perturbation_without_beta0_is_a_plain_log_axis_and_legend_choices():
    ax = plot_perturbation(curve(B[1:], [1e-3] * 5), legend="none")
    assert ax.get_xscale() == "log" and ax.get_legend() is None
    assert not [ln for ln in ax.get_lines() if ln.get_marker() == "o"]       # no E(0) marker, no key for it
    ax = plot_perturbation(curve(B, [1e-3] * 6), legend="inside")
    assert _overlap(ax.get_legend().get_window_extent(ax.figure.canvas.get_renderer()),
                    ax.get_window_extent(ax.figure.canvas.get_renderer()))


def test_perturbation_validation():
    c = curve(B, [1e-3] * 6)
    with pytest.raises(TypeError, match="PerturbationCurve"):
        plot_perturbation([1, 2])
    with pytest.raises(TypeError, match="PerturbationCurve"):
        plot_perturbation("abc")
    with pytest.raises(TypeError, match="PerturbationCurve"):
        plot_perturbation([])
    with pytest.raises(ValueError, match="labels has 1 entries for 2 curves"):
        plot_perturbation([c, c], labels=["a"])
    with pytest.raises(TypeError, match="sequence of strings"):
        plot_perturbation(c, labels="a")
    with pytest.raises(TypeError, match="radius must be True or False"):
        plot_perturbation(c, radius="yes")
    with pytest.raises(ValueError, match="ymax"):
        plot_perturbation(c, ymax=-1.0)
    with pytest.raises(ValueError, match="unknown legend"):
        plot_perturbation(c, legend="left")
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        plot_perturbation(c, ax="ax")


def test_perturbation_draws_into_a_given_axes_and_marks_radius():
    fig, ax = plt.subplots()
    c = curve(B, [1e-3, 1e-3, 2e-3, 4e-3, 1e5, np.inf])
    out = plot_perturbation(c, ax=ax, radius=True)
    assert out is ax
    assert any(ln.get_linestyle() == ":" and np.allclose(ln.get_xdata(), c.stability_radius())
               for ln in ax.get_lines())


# ------------------------------------------------------------------------------------------------ memory
def test_plot_memory_labels_fits_and_validation():
    f = rm.targets.polynomial(1.5)
    mf = rm.memory_function(f, 60)
    ax = plot_memory([mf, rm.memory_function(rm.targets.exponential(0.1), 60)], labels=["pol", "exp"], fits=True,
                     exact=[f.memory, None])
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts[:2] == ["pol", "exact"] and any(t.startswith("fit: power") for t in texts)
    assert ax.get_ylabel() == "memory M(t)" and ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="labels has 1 entries for 2 memory functions"):
        plot_memory([mf, mf], labels=["a"])
    with pytest.raises(TypeError, match="logy must be True or False"):
        plot_memory(mf, logy="no")
    with pytest.raises(TypeError, match="fits must be True or False"):
        plot_memory(mf, fits=1)
    with pytest.raises(ValueError, match="exact has 1 entries"):
        plot_memory([mf, mf], exact=[f.memory])
    with pytest.raises(TypeError, match="exact\\[0\\] must be a callable"):
        plot_memory(mf, exact=[3.0])
    with pytest.raises(TypeError, match="MemoryFunction"):
        plot_memory("mf")


# ------------------------------------------------------------------------------------------------ NTK
def test_plot_lag_weights_draws_the_closed_form_and_validates():
    m = ntk.init(30, 1.0, rng=0)
    ax = plot_lag_weights((0.5, 1.0), 6, empirical=[(np.diag(m.kernel(6)), np.zeros(6)), None])
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), ntk.lag_weights(6, 0.5))
    assert ax.get_ylabel() == "lag weight ρ_j²"
    with pytest.raises(ValueError, match="empirical has 1 entries for 2"):
        plot_lag_weights((0.5, 1.0), 6, empirical=[None])
    with pytest.raises(ValueError, match="empirical\\[0\\] mean has shape"):
        plot_lag_weights((0.5,), 6, empirical=[(np.ones(5), np.ones(5))])
    with pytest.raises(ValueError, match="sigma2s\\[1\\] must be >= 0"):
        plot_lag_weights((0.5, -1.0), 6)
    with pytest.raises(TypeError, match="sigma2s\\[0\\] must be a real number"):
        plot_lag_weights(("a",), 6)
    with pytest.raises(TypeError, match="sigma2s must be a sequence"):
        plot_lag_weights(0.5, 6)


def test_plot_gram_zero_diagonal_draws_no_nan_and_bad_input_is_refused():
    m = ntk.init(30, 1.0, rng=0)
    G = m.kernel(6)
    ax = plot_gram(G)
    img = np.asarray(ax.images[0].get_array())
    np.testing.assert_allclose(np.diag(img), 1.0)
    G0 = np.array(G)
    G0[2, :] = G0[:, 2] = 0.0                             # a lag whose gradient vanishes
    before = G0.copy()
    img = np.asarray(plot_gram(G0).images[0].get_array())
    assert np.isfinite(img).all() and (img[2] == 0).all() and (img[:, 2] == 0).all()
    np.testing.assert_array_equal(G0, before)             # the caller's array is untouched
    raw = np.asarray(plot_gram(G0, normalize=False).images[0].get_array())
    np.testing.assert_array_equal(raw, G0)
    with pytest.raises(TypeError, match="G must be an array of real numbers"):
        plot_gram([["a", "b"], ["c", "d"]])
    with pytest.raises(TypeError, match="complex"):
        plot_gram(np.eye(2) * 1j)
    with pytest.raises(ValueError, match="NaN or inf"):
        plot_gram(np.array([[1.0, np.nan], [np.nan, 1.0]]))
    with pytest.raises(ValueError, match="square"):
        plot_gram(np.ones((2, 3)))
    with pytest.raises(ValueError, match="not a Gram matrix"):
        plot_gram(np.diag([1.0, -1.0]))
    with pytest.raises(TypeError, match="normalize must be True or False"):
        plot_gram(np.eye(2), normalize="yes")


# ------------------------------------------------------------------------------------------------ memory capacity
def test_plot_memory_capacity_mismatches_are_value_errors_not_index_errors():
    c = np.linspace(1, 0, 5)
    ax = plot_memory_capacity([c, c], labels=["a", "b"], errors=[np.full(5, 0.1), None])
    assert ax.get_xlabel() == "delay k" and [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    assert plot_memory_capacity(c).get_legend() is None   # one 1-D array is one curve, no labels: no legend
    with pytest.raises(ValueError, match="labels has 1 entries for 2 curves"):
        plot_memory_capacity([c, c], labels=["a"])
    with pytest.raises(ValueError, match="errors has 1 entries for 2 curves"):
        plot_memory_capacity([c, c], errors=[None])
    with pytest.raises(ValueError, match="errors\\[0\\] has shape"):
        plot_memory_capacity([c], errors=[np.ones(4)])
    with pytest.raises(TypeError, match="sequence of strings"):
        plot_memory_capacity([c], labels="a")
    with pytest.raises(ValueError, match="curves is empty"):
        plot_memory_capacity([])
    with pytest.raises(ValueError, match="NaN or inf"):
        plot_memory_capacity([np.array([1.0, np.nan])])
