"""Kernel variants and their run-time choice (rnnmem._calibrate): every variant equals the loop references, the
calibrated choice equals every variant, and the calibration cache survives corrupt and foreign files."""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import sys
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import naive
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import rnnmem as rm
from rnnmem import _calibrate as cal
from rnnmem import rnn as rnn_module
from rnnmem.testing import finite_floats, inputs_for, rnns

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                    HealthCheck.function_scoped_fixture])
#: relative (norm-wise) error allowed between two variants, and between a variant and the loop reference apart
#: from the tanh derivative (see gradient_tolerance): both accumulate O(T m ε) roundings, T m <= 800 here
TOL = 1e-12


def rel_err(a, b):
    a, b = np.asarray(a), np.asarray(b)
    scale = np.abs(b).max()
    return np.abs(a - b).max() / (scale if scale > 0 else 1.0)


@pytest.fixture
def three_threads(monkeypatch, tmp_path):
    """Pretend numba has 3 threads: the split variants then split rows over 3 Python threads on any machine. The
    calibration (used for the BLAS threads of the products outside the recurrence) goes to a private cache."""
    monkeypatch.setattr(rnn_module, "_plan_threads", lambda: 3)
    monkeypatch.setattr(rnn_module, "_threads", lambda: 3)
    monkeypatch.setenv("RNNMEM_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("RNNMEM_KERNEL", "static")  # no calibration needed: the variant is forced anyway
    cal.clear()
    yield
    cal.clear()


@pytest.fixture(params=rnn_module.VARIANTS)
def variant(request, monkeypatch, three_threads):
    monkeypatch.setattr(rnn_module, "_FORCE_VARIANT", request.param)
    return request.param


def gradient_tolerance(model, Z) -> float:
    """Error model of a gradient computed with the kernels' tanh (≤ 3 ulp) against one with numpy's (≤ 1 ulp).

    The derivative σ' = 1 − t² of a saturated tanh, t = 1 − δ, inherits the relative error of t amplified by
    t²/(1 − t²): 4 ulp of t give 8 ε t²/(1 − t²) relative in σ', and each of the T steps' σ' enters the gradient
    (a factor 2 of safety). Other activations have exact derivatives (0, 1 or Δt). On top: TOL for the different
    summation orders."""
    if model.activation != "tanh":
        return TOL
    t2 = np.tanh(Z) ** 2
    return TOL + 16.0 * np.finfo(float).eps * Z.shape[1] * float(np.max(t2 / np.maximum(1.0 - t2, 1e-300)))


def _reference_check(model, x, dy):
    args = (model.W, model.U, model.b, model.C, model.D)
    y_ref, h_ref, Z = naive.forward(*args, x, model.cell, model.activation, model.dt)
    assert rel_err(model(x), y_ref) <= TOL
    assert rel_err(model.states(x), h_ref) <= TOL
    g = model.vjp(x, dy)
    g_ref = naive.vjp(*args, x, dy, model.cell, model.activation, model.dt)
    tol = gradient_tolerance(model, Z)
    for name in ("W", "U", "b", "C", "D", "x"):
        if g_ref[name] is None:
            assert getattr(g, name) is None
        else:
            assert rel_err(getattr(g, name), g_ref[name]) <= tol, (name, tol)


# ----------------------------------------------------------------------------------------- every variant = loops
@settings(max_examples=25, **SETTINGS)
@given(data=st.data())
def test_every_variant_equals_reference(data, variant):
    """Hypothesis-drawn models (both cells, all activations, with and without D), batches of 1..7 rows (split over
    three threads by the split variants, so ranges of one and of several rows occur)."""
    model = data.draw(rnns(hidden=st.integers(1, 9)))
    x = data.draw(inputs_for(model, batch=st.integers(1, 7), time=st.integers(1, 9)))
    dy = data.draw(hnp.arrays(np.float64, x.shape[:2] + (model.outputs,), elements=finite_floats(2.0)))
    _reference_check(model, x, dy)


@pytest.mark.parametrize("cell", rm.rnn.CELLS)
@pytest.mark.parametrize("activation", rm.rnn.ACTIVATIONS)
def test_every_variant_on_wide_models(cell, activation, variant):
    rng = np.random.default_rng(7)
    for m in (3, 40, 70):
        model = rm.RNN.random(m, 2, 3, cell=cell, activation=activation, dt=0.2, bias=0.3, feedthrough=True,
                              sigma2=0.64, rng=int(rng.integers(1 << 30)))
        x = rng.normal(size=(5, 11, 2))
        _reference_check(model, x, rng.normal(size=(5, 11, 3)))


@pytest.mark.parametrize("m", [6, 40])
def test_every_variant_on_stacks_split_inside_a_model(variant, m):
    """simulate_stack of 4 models × 3 sequences = 12 rows; three threads cut the rows at 4 and 8, inside models
    (the row-split variants), or the 40 units into blocks of 8, 16 and 16 (blas-cols, one product per model)."""
    rng = np.random.default_rng(5)
    models = [rm.RNN.random(m, 2, 2, cell="euler", dt=0.3, bias=0.2, feedthrough=True, rng=s) for s in range(4)]
    x = rng.normal(size=(3, 15, 2))
    stack = {k: np.stack([getattr(mdl, k) for mdl in models]) for k in "WUbCD"}
    y = rm.rnn.simulate_stack(stack["W"], stack["U"], stack["b"], stack["C"], stack["D"], x, cell="euler", dt=0.3)
    for s, mdl in enumerate(models):
        y_ref, _, _ = naive.forward(mdl.W, mdl.U, mdl.b, mdl.C, mdl.D, x, "euler", "tanh", 0.3)
        assert rel_err(y[s], y_ref) <= TOL


@pytest.mark.parametrize("name", ["rows", "blas"])
def test_backward_kernels_on_stacks(name):
    """The backward kernels take a stack of W (one per model, rows n // nb): equal to each model's own BPTT."""
    from rnnmem import _kernels as K

    rng = np.random.default_rng(2)
    S, B, T, m = 3, 2, 7, 5
    W = rng.normal(size=(S, m, m)) * 0.4
    dz = rng.uniform(0.2, 1.0, size=(T, S * B, m))
    gd = rng.normal(size=(T, S * B, m))
    gz = gd.copy()
    getattr(K, f"backward_{name}")(W, dz, B, 1.0, gz, 0, S * B)
    for q in range(S):
        rows = slice(q * B, (q + 1) * B)
        g_next = np.zeros((B, m))
        for k in range(T - 1, -1, -1):  # g_k = gd_k + a g_{k+1} + Wᵀ gz_{k+1}, a = 1
            g = gd[k, rows] + (g_next + (gz[k + 1, rows] @ W[q] if k < T - 1 else 0.0))
            np.testing.assert_allclose(gz[k, rows], dz[k, rows] * g, rtol=1e-13, atol=1e-13)
            g_next = g


# ----------------------------------------------------------------------------------------- the calibrated choice
@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    """A real calibration into a fresh cache directory (module-scoped: it is timed once)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("RNNMEM_CACHE_DIR", str(tmp_path_factory.mktemp("calib")))
    mp.delenv("RNNMEM_KERNEL", raising=False)
    cal.clear()
    threads = rnn_module._plan_threads()
    data = cal.table(threads)
    yield threads, data
    cal.clear()
    mp.undo()


def test_real_calibration_is_valid_and_cached(calibrated):
    threads, data = calibrated
    assert data is not None, "the calibration failed"
    key = cal.machine_key(threads)
    assert cal.validate(data, key)
    path = cal.cache_file(key)
    assert path.is_file() and path.parent == cal.cache_dir()
    assert cal.load(path, key) == json.loads(path.read_text())
    assert data["seconds"] > 0  # the cost is recorded (and printed by python -m rnnmem._calibrate)
    assert not list(path.parent.glob("*.tmp"))  # written atomically, no temporary left behind


@pytest.mark.parametrize(("m", "B", "T"), [(1, 1, 30), (8, 1, 200), (16, 32, 60), (70, 5, 20), (130, 3, 6)])
def test_calibrated_choice_equals_every_variant(calibrated, monkeypatch, m, B, T):
    """Whatever the calibration picks equals (to 1e-12) every variant, and each variant equals the loop reference
    where the reference is affordable."""
    rng = np.random.default_rng(m * 1000 + B)
    model = rm.RNN.random(m, 2, 2, cell="euler", dt=0.3, bias=0.2, feedthrough=True, rng=m)
    x = rng.normal(size=(B, T, 2))
    dy = rng.normal(size=(B, T, 2))
    monkeypatch.setattr(rnn_module, "_FORCE_VARIANT", None)
    chosen = (rnn_module._pick_variant("forward", m, B, T), rnn_module._pick_variant("backward", m, B, T))
    assert set(chosen) <= set(rnn_module.VARIANTS)
    y0, g0 = model(x), model.vjp(x, dy)
    for v in rnn_module.VARIANTS:
        monkeypatch.setattr(rnn_module, "_FORCE_VARIANT", v)
        y, g = model(x), model.vjp(x, dy)
        assert rel_err(y, y0) <= TOL, (v, chosen)
        for name in ("W", "U", "b", "C", "D", "x"):
            assert rel_err(getattr(g, name), getattr(g0, name)) <= TOL, (v, chosen, name)


# ----------------------------------------------------------------------------------------- cache robustness
def _synthetic(threads: int, fast: str = "blas", split_overhead: float = 1e-5, layer: str = "rnn") -> dict:
    """A well-formed table of ``layer`` in which ``fast`` costs half of every other variant, per step ∝ rows·m²."""
    gm, gr = cal.grids(layer)

    def grid(factor, need_rows2=False, min_m=0):
        return [[None if (need_rows2 and r < 2) or m < min_m else factor * 1e-9 * r * m * m + 1e-8
                 for r in gr] for m in gm]

    tab = {}
    cols = cal.COLS if layer == "rnn" else ()
    for d in cal.DIRECTIONS:
        tab[d] = {v: grid(0.5 if v == fast else 1.0, v in cal.SPLIT, cal.COLS_MIN_M if v in cal.COLS else 0)
                  for v in cal.SERIAL + (cal.SPLIT + cols if threads > 1 else ())}
    tab.update(grid_m=list(gm), grid_rows=list(gr), split_overhead=split_overhead, seconds=0.01, created="now")
    return tab


@pytest.fixture
def fake_measure(monkeypatch, tmp_path):
    """A private cache directory and a synthetic, instant ``measure`` that counts its calls."""
    monkeypatch.setenv("RNNMEM_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("RNNMEM_KERNEL", raising=False)
    calls = []

    def measure(threads, layer="rnn"):
        calls.append(threads)
        return _synthetic(threads, layer=layer)

    monkeypatch.setattr(cal, "measure", measure)
    cal.clear()
    yield calls
    cal.clear()


CORRUPTIONS = {
    "not json": lambda path, good: path.write_text("{not json"),
    "binary": lambda path, good: path.write_bytes(b"\xff\xfe\x00garbage"),
    "empty": lambda path, good: path.write_text(""),
    "a list": lambda path, good: path.write_text("[1, 2, 3]"),
    "foreign machine": lambda path, good: path.write_text(json.dumps({**good, "key": {**good["key"], "cpu": "X"}})),
    "other thread count": lambda path, good: path.write_text(
        json.dumps({**good, "key": {**good["key"], "threads": good["key"]["threads"] + 1}})),
    "other kernel source": lambda path, good: path.write_text(
        json.dumps({**good, "key": {**good["key"], "kernels": "0" * 16}})),
    "negative time": lambda path, good: path.write_text(
        json.dumps({**good, "forward": {**good["forward"], "rows": [[-1.0] * len(cal.GRID_ROWS)] * len(cal.GRID_M)}})),
    "NaN time": lambda path, good: path.write_text(json.dumps(
        {**good, "backward": {**good["backward"], "blas": [[math.nan] * len(cal.GRID_ROWS)] * len(cal.GRID_M)}})),
    "missing variant": lambda path, good: path.write_text(
        json.dumps({**good, "backward": {"rows": good["backward"]["rows"]}})),
    "unknown variant": lambda path, good: path.write_text(
        json.dumps({**good, "forward": {**good["forward"], "gpu": good["forward"]["rows"]}})),
    "short grid": lambda path, good: path.write_text(
        json.dumps({**good, "forward": {**good["forward"], "blas": good["forward"]["blas"][:-1]}})),
    "other grid": lambda path, good: path.write_text(json.dumps({**good, "grid_m": [1, 2]})),
    "string overhead": lambda path, good: path.write_text(json.dumps({**good, "split_overhead": "0"})),
    "truncated": lambda path, good: path.write_text(json.dumps(good)[: len(json.dumps(good)) // 2]),
}


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_corrupt_or_foreign_cache_is_ignored_and_replaced(fake_measure, corruption):
    threads = 2
    key = cal.machine_key(threads)
    path = cal.cache_file(key)
    good = {**_synthetic(threads), "key": key}
    assert cal.validate(good, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    CORRUPTIONS[corruption](path, good)
    assert cal.load(path, key) is None
    data = cal.table(threads)  # ignores the bad file, calibrates again (here: the synthetic measure) and saves
    assert fake_measure == [threads]
    assert cal.validate(data, key)
    assert cal.load(path, key) is not None
    cal.clear()
    assert cal.table(threads) == data and fake_measure == [threads]  # the fresh file is used: no new measurement
    assert cal.choose("forward", 16, 32, 100, 1, threads) == "blas"


def test_cache_directory_that_is_a_file_or_unwritable(fake_measure, tmp_path, monkeypatch):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    monkeypatch.setenv("RNNMEM_CACHE_DIR", str(blocker / "sub"))
    data = cal.table(1)  # cannot be saved: kept in memory, the computation goes on
    assert data is not None and fake_measure == [1]
    assert cal.table(1) is data and fake_measure == [1]
    assert cal.save(blocker / "sub" / "x.json", data) is False


def test_cache_location_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("RNNMEM_CACHE_DIR", raising=False)
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "nb"))
    assert cal.cache_dir() == tmp_path / "nb" / "rnnmem"
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cal.cache_dir() == tmp_path / "xdg" / "rnnmem"
    monkeypatch.setenv("RNNMEM_CACHE_DIR", str(tmp_path / "own"))
    assert cal.cache_dir() == tmp_path / "own"


def test_failed_calibration_falls_back_to_the_static_rule(monkeypatch, tmp_path):
    monkeypatch.setenv("RNNMEM_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("RNNMEM_KERNEL", raising=False)

    def broken(threads):
        raise RuntimeError("timer exploded")

    monkeypatch.setattr(cal, "measure", broken)
    cal.clear()
    try:
        assert cal.table(2) is None
        assert cal.choose("forward", 8, 32, 100, 1, 2) == cal.static_choice(8) == "rows"
        assert cal.choose("forward", 100, 32, 100, 1, 2) == "blas"
        model = rm.RNN.random(5, rng=0)
        x = np.ones((2, 4, 1))
        assert np.isfinite(model(x)).all()
    finally:
        cal.clear()


# ----------------------------------------------------------------------------------------- the model and its choice
def _use(monkeypatch, threads, tab, layer="rnn"):
    """Make ``tab`` the calibration of ``layer`` for ``threads`` (measured afresh, replacing the cached file)."""
    monkeypatch.setattr(cal, "measure", lambda t, layer="rnn": tab)
    assert cal.table(threads, recalibrate=True, layer=layer) is tab


def test_choice_follows_the_measured_table(fake_measure, monkeypatch):
    threads = 2
    _use(monkeypatch, threads, _synthetic(threads, fast="rows"))
    assert cal.choose("forward", 16, 32, 100, 1, threads) == "rows"
    _use(monkeypatch, threads, _synthetic(threads, fast="blas-parallel", split_overhead=0.0))
    assert cal.choose("backward", 16, 32, 100, 1, threads) == "blas-parallel"
    assert cal.choose("backward", 16, 1, 100, 1, threads) not in cal.SPLIT  # one row cannot be split
    # a large hand-off cost makes the split variant lose on short sequences only
    _use(monkeypatch, threads, _synthetic(threads, fast="parallel", split_overhead=1e-3))
    assert cal.choose("forward", 16, 32, 10, 1, threads) in cal.SERIAL
    assert cal.choose("forward", 16, 32, 100_000, 1, threads) == "parallel"
    # one thread: only serial variants are measured and chosen
    _use(monkeypatch, 1, _synthetic(1, fast="parallel"))
    assert cal.choose("forward", 16, 32, 100, 1, 1) in cal.SERIAL


def test_gated_layers_follow_their_own_table(fake_measure, monkeypatch):
    """Each gated cell has its own table (its element-wise work per product differs from the RNN's), on its own grid,
    in its own file; the RNN's table does not decide for it, and a gated table is foreign to the RNN's key."""
    threads = 2
    _use(monkeypatch, threads, _synthetic(threads, fast="rows"))  # the RNN's table: loops everywhere
    for layer in ("gated-rnn", "gru", "lstm"):
        tab = _synthetic(threads, fast="blas-parallel", split_overhead=0.0, layer=layer)
        _use(monkeypatch, threads, tab, layer=layer)
        assert cal.choose("forward", 16, 32, 100, 1, threads, layer=layer) == "blas-parallel"
        assert cal.choose("forward", 16, 1, 100, 1, threads, layer=layer) in cal.SERIAL  # one row: no split
        key = cal.machine_key(threads, layer)
        assert cal.validate({**tab, "key": key}, key)
        assert not cal.validate({**tab, "key": key}, cal.machine_key(threads))
        assert cal.cache_file(key) != cal.cache_file(cal.machine_key(threads))
    assert cal.choose("forward", 16, 32, 100, 1, threads) == "rows"
    monkeypatch.setenv("RNNMEM_KERNEL", "blas-cols")  # forced: no column split in a gated layer
    assert cal.choose("forward", 64, 8, 100, 1, threads, layer="lstm") == "blas-parallel"
    assert cal.choose("forward", 64, 8, 100, 1, threads) == "blas-cols"
    monkeypatch.setenv("RNNMEM_KERNEL", "static")  # the static rule at the width of the same product size
    assert cal.choose("forward", 32, 8, 100, 1, threads, layer="lstm", static_m=64) == "blas"
    assert cal.choose("forward", 8, 8, 100, 1, threads, layer="lstm", static_m=16) == "rows"


def test_real_gated_calibration(tmp_path, monkeypatch):
    """A real calibration of the LSTM's kernels: valid for its key, cached, and the GRU then gives the numbers of
    every forced variant with whatever it chose."""
    monkeypatch.setenv("RNNMEM_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("RNNMEM_KERNEL", raising=False)
    cal.clear()
    try:
        threads = rnn_module._plan_threads()
        data = cal.table(threads, layer="lstm")
        assert data is not None, "the calibration failed"
        key = cal.machine_key(threads, "lstm")
        assert cal.validate(data, key) and cal.load(cal.cache_file(key), key) == data
        assert data["grid_m"] == list(cal.GATED_GRID_H) and not set(data["forward"]) & set(cal.COLS)
        net = rm.LSTM.random(12, 2, rng=0)
        rng = np.random.default_rng(1)
        x, dy = rng.normal(size=(6, 40, 2)), rng.normal(size=(6, 40, 12))
        ref = net.vjp(x, dy).state_dict()
        for v in ("rows", "parallel", "blas", "blas-parallel"):
            monkeypatch.setattr(rm.gated, "_FORCE_VARIANT", v)
            got = net.vjp(x, dy).state_dict()
            assert all(rel_err(got[k], ref[k]) <= TOL for k in ref), v
    finally:
        cal.clear()


def test_thread_margin(fake_measure, monkeypatch):
    """A threaded variant 5 % faster than the best serial one is not taken; 50 % faster is."""
    base = _synthetic(2)
    for gain, want in ((0.95, "blas"), (0.5, "parallel")):
        tab = json.loads(json.dumps(base))
        for d in cal.DIRECTIONS:
            tab[d]["parallel"] = [[None if v is None else gain * b for v, b in zip(row, brow, strict=True)]
                                  for row, brow in zip(tab[d]["parallel"], tab[d]["blas"], strict=True)]
        tab["split_overhead"] = 0.0
        _use(monkeypatch, 2, tab)
        assert cal.choose("forward", 16, 32, 100, 1, 2) == want


def test_per_step_model_interpolates_and_extrapolates():
    grid = [[1e-9 * r * m * m for r in cal.GRID_ROWS] for m in cal.GRID_M]
    for m in cal.GRID_M:
        for r in cal.GRID_ROWS:
            assert math.isclose(cal.per_step(grid, m, r), 1e-9 * r * m * m, rel_tol=1e-12)
    # between grid points, a power law is interpolated exactly in log-log; beyond the grid, m² and rows scaling
    for m, r in ((11.0, 5.0), (1000.0, 3.0), (20.0, 1000.0), (4000.0, 4000.0)):
        assert math.isclose(cal.per_step(grid, m, r), 1e-9 * r * m * m, rel_tol=1e-9)
    assert math.isclose(cal.per_step(grid, 1, 1), cal.per_step(grid, 2, 1))  # clamped below the grid
    holes = [row[:] for row in grid]
    holes[3][2] = None
    assert cal.per_step(holes, 16, 8) is None and cal.per_step(holes, 64, 8) is not None


def test_monotone_removes_spikes_only():
    grid = [[float(1 + i + j) for j in range(len(cal.GRID_ROWS))] for i in range(len(cal.GRID_M))]
    spiked = [row[:] for row in grid]
    spiked[2][1] = 100.0  # another process took the core during this point
    cal._monotone(spiked)
    assert spiked[2][1] == min(grid[3][1], grid[2][2])  # lowered to the cheapest larger problem
    spiked[2][1] = grid[2][1]
    assert spiked == grid  # nothing else changed
    dip = [row[:] for row in grid]
    dip[2][1] = 0.5  # a genuinely fast point is never raised
    cal._monotone(dip)
    assert dip[2][1] == 0.5


def test_kernel_environment_variable(monkeypatch):
    monkeypatch.setenv("RNNMEM_KERNEL", "blas-parallel")
    assert cal.choose("forward", 4, 2, 10, 1, 1) == "blas-parallel"
    monkeypatch.setenv("RNNMEM_KERNEL", "static")
    assert cal.choose("forward", 4, 2, 10, 1, 1) == "rows"
    assert cal.choose("forward", 64, 2, 10, 1, 1) == "blas"
    monkeypatch.setenv("RNNMEM_KERNEL", "gpu")
    with pytest.raises(ValueError, match="RNNMEM_KERNEL='gpu'"):
        cal.choose("forward", 4, 2, 10, 1, 1)


# ----------------------------------------------------------------------------------------- threads and BLAS state
def test_blas_thread_counts_are_restored_after_concurrent_calls(three_threads, monkeypatch):
    before = [lc.num_threads for lc in rnn_module._blas_controllers()]
    model = rm.RNN.random(40, rng=0)
    x = np.random.default_rng(0).normal(size=(6, 30, 1))
    errors = []

    def work(v):
        try:
            for _ in range(5):
                with rnn_module._blas_threads(v):
                    model(x)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    monkeypatch.setattr(rnn_module, "_FORCE_VARIANT", "blas-parallel")
    ts = [threading.Thread(target=work, args=(v,)) for v in ("blas", "blas-parallel", "blas", "rows")]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors
    assert [lc.num_threads for lc in rnn_module._blas_controllers()] == before


def _child_runs_split_variant(q):
    rnn_module._plan_threads = lambda: 3
    rnn_module._threads = lambda: 3
    rnn_module._FORCE_VARIANT = "parallel"
    model = rm.RNN.random(4, rng=1)
    x = np.ones((5, 6, 1))
    q.put(float(np.abs(model(x)).sum()))


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_split_variant_after_fork(three_threads, monkeypatch):
    """A forked child (whose copy of the parent's worker threads does not run) makes its own workers."""
    monkeypatch.setattr(rnn_module, "_FORCE_VARIANT", "parallel")
    model = rm.RNN.random(4, rng=1)
    x = np.ones((5, 6, 1))
    want = float(np.abs(model(x)).sum())  # the parent's pool now exists
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_child_runs_split_variant, args=(q,))
    p.start()
    p.join(60)
    if p.is_alive():  # pragma: no cover - a deadlocked child is the failure this test exists for
        p.kill()
        pytest.fail("the forked child hung running a split kernel")
    assert p.exitcode == 0 and q.get(timeout=5) == want
    assert os.getpid() == rnn_module._POOL_KEY[0]


def test_busy_calibration_expires(fake_measure):
    """A calibration measured under load (load average above the core count) is re-measured after BUSY_MAX_AGE;
    a quiet one is kept."""
    threads = 2
    key = cal.machine_key(threads)
    path = cal.cache_file(key)
    cores = os.cpu_count() or 1
    for load, age, remeasured in ((10.0 * cores, 2 * cal.BUSY_MAX_AGE, True), (10.0 * cores, 10.0, False),
                                  (0.5, 100 * cal.BUSY_MAX_AGE, False)):
        fake_measure.clear()
        cal.clear()
        old = {**_synthetic(threads), "key": key, "load": load, "timestamp": cal.time.time() - age}
        assert cal.save(path, old)
        cal.table(threads)
        assert fake_measure == ([threads] if remeasured else []), (load, age)


# ----------------------------------------------------------------------------------------- BLAS control (rnnmem._blas)
def _lib_fields(libs):
    return [(os.path.realpath(lc.filepath), lc.internal_api, lc.version, lc.architecture) for lc in libs]


def _two_blas_threads_possible() -> bool:
    """Whether this process has a controllable BLAS that runs 2 threads when asked (the counts are restored)."""
    from rnnmem import _blas

    libs = _blas.controllers()
    if not libs:
        return False
    before = [lc.num_threads for lc in libs]
    try:
        for lc in libs:
            lc.set_num_threads(2)
        return _blas.max_threads() >= 2
    finally:
        for lc, n in zip(libs, before, strict=True):
            lc.set_num_threads(n)


#: the tests of BLAS thread modes need a BLAS that rnnmem controls and that can run 2 threads
NEEDS_TWO_BLAS_THREADS = pytest.mark.skipif(not _two_blas_threads_possible(),
                                            reason="no controllable BLAS that runs 2 threads in this process")


@pytest.fixture
def two_blas_threads():
    """Every BLAS on 2 threads for the test (restored after); the tests using it carry NEEDS_TWO_BLAS_THREADS."""
    from rnnmem import _blas

    libs = _blas.controllers()
    before = [lc.num_threads for lc in libs]
    for lc in libs:
        lc.set_num_threads(2)
    assert libs and _blas.max_threads() >= 2
    yield libs
    for lc, n in zip(libs, before, strict=True):
        lc.set_num_threads(n)


def test_blas_found_without_threadpoolctl(monkeypatch):
    """threadpoolctl is optional: without it (the import fails) the same libraries are found and controlled."""
    from rnnmem import _blas

    with_tpc = _blas.discover()
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # `import threadpoolctl` now raises ImportError
    with pytest.raises(ImportError):
        import threadpoolctl  # noqa: F401
    without = _blas.discover()
    if sys.platform == "linux":
        assert without, "no OpenBLAS found in /proc/self/maps"
    assert _lib_fields(without) == _lib_fields(with_tpc)
    for lc in without:  # controllable
        n = lc.num_threads
        lc.set_num_threads(1)
        assert lc.num_threads == 1
        lc.set_num_threads(n)
        assert lc.num_threads == n


def _bits(variant):
    """An RNN gradient (blas variant, per-step BLAS products) and a GRU gradient (BLAS weight-gradient sums)."""
    rnn_module._FORCE_VARIANT = variant
    model = rm.RNN.random(70, 2, 3, bias=0.3, rng=0)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(9, 40, 2))
    g = model.vjp(x, rng.normal(size=(9, 40, 3)))
    gru = rm.GRU.random(8, rng=0)
    xg = rng.normal(size=(16, 400, 1))
    gg = gru.vjp(xg, rng.normal(size=(16, 400, 8))).state_dict()
    return [g.W, g.U, g.C, g.x, gg["weight_hh_l0"], gg["weight_ih_l0"]]


@NEEDS_TWO_BLAS_THREADS
def test_results_identical_with_and_without_threadpoolctl(monkeypatch, two_blas_threads, three_threads):
    from rnnmem import _blas

    monkeypatch.setattr(rnn_module, "_FORCE_VARIANT", None)
    ref = [_bits(v) for v in ("blas", "blas-threaded")]
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)
    monkeypatch.setattr(_blas, "_LIBS", _blas.discover())
    assert all(isinstance(lc, _blas.OpenBLAS) for lc in _blas.controllers())
    got = [_bits(v) for v in ("blas", "blas-threaded")]
    assert all(np.array_equal(a, b) for r, g in zip(ref, got, strict=True) for a, b in zip(r, g, strict=True))


@NEEDS_TWO_BLAS_THREADS
def test_one_blas_thread_from_any_python_thread(two_blas_threads):
    """The mode is set from worker threads too (threadpoolctl's own controller ignores every thread but the first
    that set a count: the cause of the concurrent calls' different bits)."""
    from rnnmem import _blas

    with rnn_module._one_blas_thread():  # a count set (and restored) from this thread first
        assert _blas.max_threads() == 1

    def inside(_):
        with rnn_module._one_blas_thread():
            one = _blas.max_threads()
        return one, _blas.max_threads()

    with ThreadPoolExecutor(1) as ex:  # one worker at a time: the count after leaving is the restored one
        assert list(ex.map(inside, range(3))) == [(1, 2)] * 3


@NEEDS_TWO_BLAS_THREADS
def test_concurrent_calls_give_the_same_bits(two_blas_threads, monkeypatch, tmp_path):
    """Same input, same bits, whatever other Python threads run meanwhile: one-thread calls (small products) beside
    calls on the BLAS's own threads (a threaded product whose rounding differs from one thread's)."""
    from rnnmem import gated

    monkeypatch.setenv("RNNMEM_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(cal, "split_min_work", lambda threads: math.inf)  # the GRU's products: one thread
    monkeypatch.setattr(gated, "_FORCE_VARIANT", "rows")
    cal.clear()
    gru = rm.GRU.random(8, rng=0)
    rng = np.random.default_rng(3)
    x, dy = rng.normal(size=(16, 400, 1)), rng.normal(size=(16, 400, 8))
    a, b = rng.normal(size=(6384, 24)), rng.normal(size=(6384, 8))

    def small(_):
        return gru.vjp(x, dy).state_dict()["weight_hh_l0"]

    def threaded(_):
        with rnn_module._own_blas_threads():
            return a.T @ b

    ref_small, ref_threaded = small(0), threaded(0)
    with rnn_module._one_blas_thread():
        one_threaded = a.T @ b
    with ThreadPoolExecutor(4) as ex:
        futures = [ex.submit(small if i % 2 else threaded, i) for i in range(16)]
        outs = [(i % 2, f.result()) for i, f in enumerate(futures)]
    assert all(np.array_equal(o, ref_small if s else ref_threaded) for s, o in outs)
    cal.clear()
    # whether the check could have failed here: on most BLAS builds a product's last bits depend on its thread count
    # (then a call that ran in the wrong mode would differ); where they do not, say so instead of claiming power
    if np.array_equal(one_threaded, ref_threaded):
        warnings.warn("this BLAS rounds the test product alike on 1 and 2 threads: the concurrency check above "
                      "could not have told the two modes apart here", stacklevel=1)


_DEADLOCK_SCRIPT = """
import sys, threading, time
sys.path.insert(0, sys.argv[1])
from rnnmem import _blas, _calibrate as cal, rnn
sys.path.insert(0, sys.argv[2])
from test_calibration import _synthetic

held, measuring = threading.Event(), threading.Event()

def slow_measure(threads):
    measuring.set()
    with _blas.blas_mode(_blas.OWN):  # waits until no thread holds the one-thread mode
        time.sleep(0.1)
    return _synthetic(threads)

cal.measure = slow_measure

def waiter():
    with rnn._one_blas_thread():
        held.set()
        measuring.wait(10)
        cal.table(2)  # waits for the calibrating thread, which waits for this thread's mode

w = threading.Thread(target=waiter, daemon=True)
w.start()
held.wait(10)
t = threading.Thread(target=cal.table, args=(2,), daemon=True)
t.start()
t.join(20)
w.join(20)
print("deadlock" if t.is_alive() or w.is_alive() else "ok", flush=True)
"""


def test_no_deadlock_when_a_call_waits_for_the_first_calibration(tmp_path):
    """A thread calibrating (on the BLAS's own threads) while another waits for the calibration inside a one-thread
    section: the waiter lets its section go while it waits (in a child process: a deadlock must not hang the
    suite)."""
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, RNNMEM_CACHE_DIR=str(tmp_path), RNNMEM_KERNEL="auto")
    proc = subprocess.run([sys.executable, "-c", _DEADLOCK_SCRIPT, str(root), str(Path(__file__).parent)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.stdout.split()[-1:] == ["ok"], proc.stdout + proc.stderr
