"""Work split over threads: the step barrier (rnnmem._sync), the column-split kernels (blas-cols) and the row-split
products outside the recurrence (rnnmem.rnn._dot). Equality of every variant with the loop reference is in
tests/test_calibration.py; here: the pieces that can hang, race or lose a failure."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rnnmem as rm
from rnnmem import _calibrate as cal
from rnnmem import _sync
from rnnmem import rnn as rnn_module
from rnnmem._jit import jit

pytestmark = pytest.mark.skipif(not _sync.AVAILABLE, reason="the step barrier needs sched_yield (POSIX)")


@jit
def _barrier_worker(sync, slots, me, nthreads, rounds, seen):
    """Each round: write the round number into this thread's slot, pass the barrier, then record the smallest
    slot value (every thread must have written this round's value before anybody passes). Returns False on abort."""
    for g in range(1, rounds + 1):
        slots[me * 8] = g  # slots 8 apart: one cache line each
        if not _sync.barrier(sync, nthreads, 2 * g - 1):  # barriers are numbered 1, 2, 3, ... in passing order
            return False
        low = g
        for t in range(nthreads):
            low = min(low, slots[t * 8])
        seen[me, g - 1] = low
        if not _sync.barrier(sync, nthreads, 2 * g):  # nobody writes round g + 1 before all have read
            return False
    return True


def _run_threads(fn, nthreads, timeout=60.0):
    results, errors = [None] * nthreads, []

    def run(i):
        try:
            results[i] = fn(i)
        except BaseException as exc:  # noqa: BLE001 - reported by the caller
            errors.append(exc)

    ts = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(nthreads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout)
    if any(t.is_alive() for t in ts):
        pytest.fail("threads still waiting at the barrier: deadlock")
    return results, errors


@pytest.mark.parametrize("nthreads", [1, 2, 3, 4])
def test_barrier_orders_every_round(nthreads):
    """More threads than cores too (4 on a 2-core machine): waiters give up their core, nobody passes early."""
    rounds = 2000
    sync = _sync.new_sync()
    slots = np.zeros(8 * nthreads, dtype=np.int64)
    seen = np.zeros((nthreads, rounds), dtype=np.int64)
    results, errors = _run_threads(lambda i: _barrier_worker(sync, slots, i, nthreads, rounds, seen), nthreads)
    assert not errors and all(results)
    np.testing.assert_array_equal(seen, np.broadcast_to(np.arange(1, rounds + 1), seen.shape))
    assert sync[0] == 2 * rounds * nthreads and sync[1] == 0


def test_barrier_abort_releases_the_waiters():
    sync = _sync.new_sync()
    released = []

    def waiter(_):
        released.append(_sync.barrier(sync, 3, 1))  # the third thread never arrives

    ts = [threading.Thread(target=waiter, args=(i,), daemon=True) for i in range(2)]
    for t in ts:
        t.start()
    _sync.abort(sync)
    for t in ts:
        t.join(30)
    assert not any(t.is_alive() for t in ts) and released == [False, False]


@given(m=st.integers(1, 300), threads=st.integers(1, 9))
@settings(max_examples=200, deadline=None)
def test_column_blocks_cover_the_units(m, threads):
    bounds = rnn_module._col_bounds(m, threads)
    k = len(bounds) - 1
    assert bounds[0] == 0 and bounds[-1] == m and 1 <= k <= threads
    assert all(b1 > b0 for b0, b1 in zip(bounds[:-1], bounds[1:], strict=True))  # no empty block
    assert all(b % rnn_module.COLS_ALIGN == 0 for b in bounds[:-1])  # aligned starts
    if m >= rnn_module.COLS_ALIGN * threads:
        assert k == threads


def _failing_kernel(fail_from: int):
    """A stand-in column kernel: the block starting at ``fail_from`` fails before its first step, the others wait
    at the first barrier (for ever, unless the failure aborts it)."""
    def fn(blocks, *args):
        bounds, p0, sync, nthreads = args[-5], args[-4], args[-2], args[-1]
        if bounds[p0] >= fail_from:
            raise MemoryError("injected")
        return _sync.barrier(sync, nthreads, 1)

    return fn


def test_a_failing_column_thread_raises_instead_of_hanging(monkeypatch):
    model = rm.RNN.random(40, rng=0)
    x = np.ones((2, 5, 1))
    monkeypatch.setattr(rnn_module, "_plan_threads", lambda: 3)
    monkeypatch.setattr(rnn_module, "_threads", lambda: 3)
    monkeypatch.setattr(rnn_module, "_FORCE_VARIANT", "blas-cols")
    monkeypatch.setitem(rnn_module._COLS_KERNELS, "forward", _failing_kernel(fail_from=8))
    _, errors = _run_threads(lambda _: model(x), 1)
    assert len(errors) == 1 and isinstance(errors[0], MemoryError)
    monkeypatch.setitem(rnn_module._COLS_KERNELS, "forward", _failing_kernel(fail_from=0))  # the caller's block too
    _, errors = _run_threads(lambda _: model(x), 1)
    assert len(errors) == 1 and isinstance(errors[0], MemoryError)


def test_blas_cols_with_more_threads_than_cores(monkeypatch):
    """Six column threads on any machine (two cores here): slower, never wrong or stuck."""
    model = rm.RNN.random(48, 2, 2, cell="euler", dt=0.3, bias=0.2, rng=3)
    rng = np.random.default_rng(0)
    x, dy = rng.normal(size=(3, 200, 2)), rng.normal(size=(3, 200, 2))
    monkeypatch.setattr(rnn_module, "_FORCE_VARIANT", "blas")
    y0, g0 = model(x), model.vjp(x, dy)
    monkeypatch.setattr(rnn_module, "_plan_threads", lambda: 6)
    monkeypatch.setattr(rnn_module, "_threads", lambda: 6)
    monkeypatch.setattr(rnn_module, "_FORCE_VARIANT", "blas-cols")
    (out,), errors = _run_threads(lambda _: (model(x), model.vjp(x, dy)), 1, timeout=120)
    assert not errors
    y, g = out
    assert np.abs(y - y0).max() <= 1e-12 * np.abs(y0).max()
    for name in ("W", "U", "b", "C", "x"):
        a, b = getattr(g, name), getattr(g0, name)
        assert np.abs(a - b).max() <= 1e-12 * np.abs(b).max(), name


def test_split_products_equal_unsplit(monkeypatch, tmp_path):
    """The products outside the recurrence split over threads (forced from size 0) give the gradients of the
    unsplit ones: each output row is the same one BLAS product over the whole inner dimension."""
    monkeypatch.setenv("RNNMEM_CACHE_DIR", str(tmp_path))
    model = rm.RNN.random(24, 3, 2, bias=0.2, feedthrough=True, rng=1)
    rng = np.random.default_rng(2)
    x, dy = rng.normal(size=(4, 50, 3)), rng.normal(size=(4, 50, 2))
    monkeypatch.setattr(cal, "split_min_work", lambda threads: math.inf)
    y0, g0 = model(x), model.vjp(x, dy)
    calls = []
    real = rnn_module._dot_split

    def spy(a, b, out, k, workers):
        calls.append((a.shape, b.shape, k))
        return real(a, b, out, k, workers)

    monkeypatch.setattr(cal, "split_min_work", lambda threads: 0.0)
    monkeypatch.setattr(rnn_module, "_plan_threads", lambda: 3)
    monkeypatch.setattr(rnn_module, "_threads", lambda: 3)
    monkeypatch.setattr(rnn_module, "_dot_split", spy)
    y, g = model(x), model.vjp(x, dy)
    assert {k for _, _, k in calls} == {3} and len(calls) >= 5  # U x, C h, Cᵀ dy, ∂W, ∂U, ∂x, ∂C were split
    np.testing.assert_allclose(y, y0, rtol=1e-13, atol=1e-13)
    for name in ("W", "U", "b", "C", "D", "x"):
        np.testing.assert_allclose(getattr(g, name), getattr(g0, name), rtol=1e-13, atol=1e-13)


def test_split_threshold_off_without_calibration(monkeypatch):
    monkeypatch.setenv("RNNMEM_KERNEL", "static")
    assert cal.split_min_work(4) == math.inf
    monkeypatch.setenv("RNNMEM_KERNEL", "auto")
    assert cal.split_min_work(1) == math.inf


@pytest.mark.parametrize("variant", ["parallel", "blas-parallel", "blas-cols"])
def test_same_bits_on_any_thread_count(monkeypatch, tmp_path, variant):
    """The work is cut for the planned thread count (the CPUs the process may use); numba's thread count only
    decides how many pieces run at once. So 1, 2 or 3 threads give the same bits (a process pool's or a Dask
    cluster's one-thread workers compute what the parent computes), while another plan may round differently."""
    monkeypatch.setenv("RNNMEM_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(cal, "split_min_work", lambda threads: 0.0)  # the products outside the recurrence split too
    monkeypatch.setattr(rnn_module, "_FORCE_VARIANT", variant)
    monkeypatch.setattr(rnn_module, "_plan_threads", lambda: 3)
    model = rm.RNN.random(44, 3, 2, cell="euler", dt=0.3, bias=0.2, feedthrough=True, rng=4)
    gru = rm.GRU.random(12, 3, rng=5)
    rng = np.random.default_rng(6)
    x, dy, dyg = rng.normal(size=(7, 60, 3)), rng.normal(size=(7, 60, 2)), rng.normal(size=(7, 60, 12))
    monkeypatch.setattr(rm.gated, "_FORCE_VARIANT", variant if variant != "blas-cols" else "blas-parallel")

    def run():
        g = model.vjp(x, dy)
        gg = gru.vjp(x, dyg)
        return [model(x), g.W, g.U, g.b, g.C, g.x, gru(x), *gg.state_dict().values(), gg.x]

    outs = {}
    for workers in (1, 2, 3):
        monkeypatch.setattr(rnn_module, "_threads", lambda workers=workers: workers)
        outs[workers] = run()
    for workers in (2, 3):
        assert all(np.array_equal(a, b) for a, b in zip(outs[1], outs[workers], strict=True)), workers


def test_blas_cols_falls_back_where_there_is_no_barrier(monkeypatch):
    """Without sched_yield (Windows) a forced blas-cols runs as blas-parallel instead of failing to link."""
    model = rm.RNN.random(40, rng=0)
    x = np.random.default_rng(0).normal(size=(3, 20, 1))
    monkeypatch.setattr(rnn_module, "_FORCE_VARIANT", "blas-parallel")
    want = model(x)
    monkeypatch.setattr(rnn_module, "_FORCE_VARIANT", "blas-cols")
    monkeypatch.setattr(_sync, "AVAILABLE", False)
    calls = []
    monkeypatch.setattr(rnn_module, "_run_cols", lambda *a: calls.append(a))
    assert np.array_equal(model(x), want) and not calls
