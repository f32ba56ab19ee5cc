"""Runs at scale: rnnmem.sweep, process pools and Dask, results that survive crashes, thread safety of the kernels.

The runner tests use small fake registries (``_runner.discover`` monkeypatched) so they are fast and independent of
the real checks; ``test_real_checks_match_in_process`` runs two quick real checks.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numba
import numpy as np
import pytest

import rnnmem as rm
import theory
from rnnmem.sweep import SweepError, SweepResult, SweepWarning
from theory import _registry, _runner

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]), MPLBACKEND="Agg")


# --------------------------------------------------------------------------------------- top-level (picklable)
def _draw(seed: int) -> float:
    """A cell that depends on its seed only (same bits in any process)."""
    return float(np.random.default_rng(seed).standard_normal(1000).sum())


def _perturbation(width: int, seed: int, beta: float) -> float:
    """A user's sweep cell: perturbation error of a random RNN at one β."""
    model = rm.RNN.random(width, rng=seed)
    x = rm.targets.sample_inputs(4, 50, rng=seed)
    return float(rm.perturbation_error(model, model, [beta], x=x, samples=2, rng=seed).errors[0])


FAIL_ON: set = set()  # in this process only (worker processes import their own copy)


def _maybe_fail(i: int) -> int:
    """Raises for i >= 90 (everywhere) and for i in FAIL_ON (in this process)."""
    if i >= 90 or i in FAIL_ON:
        raise ValueError(f"cell {i} is broken")
    return i * i


def _stop_at_3(i: int) -> int:
    if i == 3:
        raise KeyboardInterrupt  # as a Ctrl-C in the middle of a sweep
    return i * i


def _fake_checks(calls: list | None = None) -> dict:
    """Two deterministic checks whose heavy loops go through ctx.map, plus a FAIL and an ERROR."""

    def sums(ctx):
        if calls is not None:
            calls.append("sums")
        seeds = [int(ctx.rng(1, k).integers(2**31)) for k in range(6)]
        vals = ctx.map(_draw, seeds)
        return theory.Result(all(np.isfinite(vals)), f"sums {vals[0]:.6f} ... {vals[-1]:.6f}",
                             data={"vals": vals}, controls=[theory.Control("c", "none", False, "")])

    def squares(ctx):
        vals = ctx.map(_maybe_fail, range(5))
        return theory.Result(False, f"squares {vals}", data={"vals": vals},
                             controls=[theory.Control("c", "none", False, "")])

    def broken(ctx):
        return ctx.map(_maybe_fail, [1, 99, 2])  # 99 raises in the worker

    return {n: _registry.Check(n, f, n, "statement") for n, f in (("sums", sums), ("squares", squares),
                                                                    ("broken", broken))}


@pytest.fixture
def fake(monkeypatch):
    calls: list = []
    reg = _fake_checks(calls)
    monkeypatch.setattr(_runner, "discover", lambda: dict(reg))
    return calls


NO_DASK = "dask.distributed is not installed (the optional dask extra): the Dask part is skipped"


@pytest.fixture(scope="module")
def dask_client():
    """A 2-worker LocalCluster's client; the tests that ask for it exist only with the dask extra (importorskip)."""
    distributed = pytest.importorskip("dask.distributed", reason=NO_DASK)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def pool():
    ex = _runner.process_pool(2)
    yield ex
    ex.shutdown()


def _records(out: Path) -> dict:
    """results.json without what legitimately differs between runs (wall time)."""
    recs = json.loads((out / "results.json").read_text())
    for r in recs.values():
        r.pop("seconds")
        if r["status"] == "ERROR":  # the traceback names the executor's frames
            r.pop("details")
    return recs


# ------------------------------------------------------------------------------------------- runner + executors
def _serial_records(out: Path) -> dict:
    assert _runner.main(["--quick", "--out", str(out)]) == 2  # squares FAIL, broken ERROR
    serial = _records(out)
    assert {n: r["status"] for n, r in serial.items()} == {"sums": "PASS", "squares": "FAIL", "broken": "ERROR"}
    return serial


def test_workers_give_the_in_process_records(tmp_path, fake, capsys):
    serial = _serial_records(tmp_path / "serial")
    assert _runner.main(["--quick", "--out", str(tmp_path / "workers"), "--workers", "2"]) == 2
    assert _records(tmp_path / "workers") == serial
    # a worker's exception is an ERROR whose record carries the worker's traceback
    details = json.loads((tmp_path / "workers" / "results.json").read_text())["broken"]["details"]
    assert "ValueError: cell 99 is broken" in details and "_maybe_fail" in details


def test_local_cluster_gives_the_in_process_records(tmp_path, fake, capsys):
    pytest.importorskip("dask.distributed", reason=NO_DASK)
    serial = _serial_records(tmp_path / "serial")
    assert _runner.main(["--quick", "--out", str(tmp_path / "dask"), "--dask", "local:2"]) == 2
    assert _records(tmp_path / "dask") == serial
    details = json.loads((tmp_path / "dask" / "results.json").read_text())["broken"]["details"]
    assert "ValueError: cell 99 is broken" in details and "_maybe_fail" in details


REAL = ["mc-exact-vs-sampled", "fig10-impulse-vs-heaviside"]


@pytest.fixture(scope="module")
def serial_real(tmp_path_factory):
    """Two quick real checks whose loops use ctx.map, run in-process: the reference of the executor tests."""
    _registry.clear_memo()
    return theory.run(REAL, quick=True, out=tmp_path_factory.mktemp("serial"), stream=sys.stderr)


def _same_real_records(serial, executor, out):
    _registry.clear_memo()
    got = theory.run(REAL, quick=True, out=out, executor=executor, stream=sys.stderr)
    for n in REAL:
        a, b = serial[n], got[n]
        assert (a["status"], a["summary"], a["data"]) == (b["status"], b["summary"], b["data"]), n


def test_real_checks_on_a_process_pool_match_in_process(tmp_path, pool, serial_real):
    """Same states, key figures and data on 2 spawned worker processes as in-process."""
    _same_real_records(serial_real, pool, tmp_path / "pool")


def test_real_checks_on_a_local_cluster_match_in_process(tmp_path, dask_client, serial_real):
    """... and on a 2-worker Dask LocalCluster."""
    _same_real_records(serial_real, dask_client.get_executor(), tmp_path / "dask")


_KILL_SCRIPT = """
import os, sys, time
from theory import _registry, _runner, Result, Control

def make(name):
    def fn(ctx):
        with open(os.path.join(sys.argv[1], "calls"), "a") as fh:
            fh.write(name + "\\n")
        if name == "c" and os.environ.get("HANG"):
            open(os.path.join(sys.argv[1], "hanging"), "w").close()
            time.sleep(600)
        return Result(True, name + " done", data={"x": [1.5, 2.5]}, controls=[Control("k", "none", False)])
    return fn

reg = {n: _registry.Check(n, make(n), n, "s") for n in ("a", "b", "c", "d")}
_runner.discover = lambda: dict(reg)
sys.exit(_runner.main(["--quick", "--out", sys.argv[1]]))
"""


def test_kill_9_mid_run_then_resume_keeps_every_finished_check(tmp_path):
    script = tmp_path / "run.py"
    script.write_text(_KILL_SCRIPT)
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.Popen([sys.executable, str(script), str(out)], env=dict(ENV, HANG="1"), cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not (out / "hanging").exists():
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        proc.kill()
        proc.communicate()
    assert set(json.loads((out / "results.json").read_text())) == {"a", "b"}
    before = (out / "results.json").read_text()
    done = subprocess.run([sys.executable, str(script), str(out)], env=ENV, cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (out / "calls").read_text().split() == ["a", "b", "c", "c", "d"]  # a, b resumed; c rerun
    after = json.loads((out / "results.json").read_text())
    assert {n: after[n] for n in ("a", "b")} == {n: r for n, r in json.loads(before).items()}
    assert [ln.split()[0] for ln in done.stdout.splitlines() if ln.endswith("(resumed)")] == ["a", "b"]


# ---------------------------------------------------------------------------------------- damaged results.json
def _checks_ok(calls):
    def make(name):
        def fn(ctx):
            calls.append(name)
            return theory.Result(True, name, controls=[theory.Control("k", "none", False)])
        return fn
    return {n: _registry.Check(n, make(n), n, "s") for n in ("a", "b", "c")}


@pytest.fixture
def abc(monkeypatch):
    calls: list = []
    reg = _checks_ok(calls)
    monkeypatch.setattr(_runner, "discover", lambda: dict(reg))
    return calls


def _backups(out: Path) -> list[Path]:
    return sorted(out.glob("results.json.bad-*"))


def test_truncated_results_json_is_moved_aside_not_overwritten(tmp_path, abc, capsys):
    assert _runner.main(["--quick", "--out", str(tmp_path)]) == 0
    good = (tmp_path / "results.json").read_bytes()
    (tmp_path / "results.json").write_bytes(good[: len(good) // 2])  # a crash of an older, non-atomic writer
    abc.clear()
    assert _runner.main(["--quick", "--out", str(tmp_path), "--only", "a"]) == 0
    err = capsys.readouterr().err
    assert "results.json is not valid JSON" in err and "truncated?" in err and "moved to results.json.bad-" in err
    [backup] = _backups(tmp_path)
    assert backup.read_bytes() == good[: len(good) // 2]  # the damaged file is kept as it was
    assert abc == ["a"] and set(json.loads((tmp_path / "results.json").read_text())) == {"a"}


@pytest.mark.parametrize("content", ["[]", '"x"', "null", "\xff\xfe"])
def test_results_json_of_another_shape_is_moved_aside(tmp_path, abc, capsys, content):
    (tmp_path / "results.json").write_bytes(content.encode("latin-1"))
    assert _runner.main(["--quick", "--out", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "results.json is " in err and "moved to results.json.bad-" in err and "Traceback" not in err
    assert _backups(tmp_path)[0].read_bytes() == content.encode("latin-1")
    assert abc == ["a", "b", "c"]


def test_malformed_records_are_dropped_and_the_valid_ones_kept(tmp_path, abc, capsys):
    assert _runner.main(["--quick", "--out", str(tmp_path)]) == 0
    recs = json.loads((tmp_path / "results.json").read_text())
    del recs["b"]["status"]
    recs["c"] = ["not", "a", "record"]
    recs["old-check"] = recs["a"]  # a check that no longer exists: kept
    original = json.dumps(recs)
    (tmp_path / "results.json").write_text(original)
    abc.clear()
    assert _runner.main(["--quick", "--out", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "2 malformed record(s) (b: no 'status'; c: a list, not a record)" in err and "2 valid record(s)" in err
    assert abc == ["b", "c"]  # a resumed
    assert _backups(tmp_path)[0].read_text() == original
    assert set(json.loads((tmp_path / "results.json").read_text())) == {"a", "b", "c", "old-check"}


def test_results_are_written_atomically(tmp_path, abc, monkeypatch):
    """A crash while writing results.json leaves the previous complete file (never a truncated one)."""
    assert _runner.main(["--quick", "--out", str(tmp_path), "--only", "a"]) == 0
    before = (tmp_path / "results.json").read_bytes()

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        _runner.main(["--quick", "--out", str(tmp_path), "--only", "b"])
    assert (tmp_path / "results.json").read_bytes() == before
    assert not list(tmp_path.glob(".*tmp"))


# --------------------------------------------------------------------------------------------- thread safety
_THREADS_SCRIPT = """
import numpy as np, numba
from concurrent.futures import ThreadPoolExecutor
import rnnmem as rm
from rnnmem import _jit, gated, rnn, ssm
from rnnmem import _kernels_ssm as KS

# the RNN's and GRU's row-split variants (rnnmem's worker threads over the rows) and the SSM's prange scan
rnn._FORCE_VARIANT = "parallel"
gated._FORCE_VARIANT = "parallel"
ssm.PARALLEL_MIN_ROWS, ssm.PARALLEL_MIN_WORK = 1, 0
m = rm.RNN.random(8, rng=0)
g = rm.GRU.random(8, rng=0)
d = rm.DiagonalSSM.random(8, rng=0)
x = np.random.default_rng(1).standard_normal((16, 400, 1))
dy = np.random.default_rng(2).standard_normal((16, 400, 1))
dyg = np.random.default_rng(3).standard_normal((16, 400, 8))
def work(_):
    return (m(x), m.vjp(x, dy).W, g(x), g.vjp(x, dyg).state_dict()["weight_hh_l0"], d(x, method="scan"))
ref = work(0)
with ThreadPoolExecutor(4) as ex:
    outs = list(ex.map(work, range(8)))
parallel = [k for k in vars(KS).values() if isinstance(k, _jit.ParallelKernel)]
assert parallel and all(k.signatures for k in parallel), "parallel kernels not used"
# outputs and gradients are bit-identical across concurrent calls: the GRU's weight gradients are BLAS sums over
# steps, and rnnmem's BLAS modes (rnnmem/_blas.py) keep a concurrent call from changing their thread count
assert all(all(np.array_equal(a, b) for a, b in zip(o, ref)) for o in outs)
print(numba.threading_layer(), _jit._serialise)
"""


def test_parallel_kernels_are_thread_safe_under_the_workqueue_layer():
    """The issue's case: NUMBA_THREADING_LAYER=workqueue + a thread pool aborted the process."""
    env = dict(ENV, NUMBA_NUM_THREADS="2", NUMBA_THREADING_LAYER="workqueue")
    proc = subprocess.run([sys.executable, "-c", _THREADS_SCRIPT], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.split() == ["workqueue", "True"]  # serialised


def _launch_parallel_kernel() -> str:
    from rnnmem import _jit, ssm
    from rnnmem import _kernels_ssm as KS

    old = ssm.PARALLEL_MIN_ROWS, ssm.PARALLEL_MIN_WORK
    ssm.PARALLEL_MIN_ROWS, ssm.PARALLEL_MIN_WORK = 1, 0
    try:
        rm.DiagonalSSM.random(8, rng=0)(np.ones((16, 400, 1)), method="scan")
    finally:
        ssm.PARALLEL_MIN_ROWS, ssm.PARALLEL_MIN_WORK = old
    assert any(k.signatures for k in vars(KS).values() if isinstance(k, _jit.ParallelKernel))
    return _jit.threading_layer()


NEEDS_TWO_THREADS = pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2,
                                       reason="one numba thread (a 1-CPU machine): the parallel kernels are not used")


@NEEDS_TWO_THREADS
def test_parallel_kernels_are_not_serialised_under_a_threadsafe_layer():
    from rnnmem import _jit

    layer = _launch_parallel_kernel()
    assert _jit._serialise is (layer not in _jit.THREADSAFE_LAYERS)  # a lock only where the layer needs one
    m, x = rm.RNN.random(8, rng=0), np.random.default_rng(1).standard_normal((16, 400, 1))
    with ThreadPoolExecutor(4) as ex:
        assert all(np.array_equal(y, m(x)) for y in ex.map(lambda _: m(x), range(8)))


@pytest.mark.parametrize("layer", ["omp", "tbb", "workqueue"])
def test_a_fork_pool_is_refused_exactly_under_openmp(monkeypatch, layer):
    """The guard itself, for every layer numba may pick: refused under OpenMP (its forked workers would abort),
    accepted under the fork-safe layers (no process is started here)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from rnnmem import _jit

    monkeypatch.setattr(_jit, "threading_layer", lambda: layer)
    fork = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork"))
    try:
        if layer == "omp":
            with pytest.raises(ValueError, match=r"fork-based ProcessPoolExecutor.*get_context\('spawn'\)"):
                rm.sweep(abs, [-1, 2], executor=fork, progress=False)
        else:
            sys.modules["rnnmem.sweep"]._check_process_pool(fork, abs)  # no error (rnnmem.sweep is also the function)
    finally:
        fork.shutdown()


@NEEDS_TWO_THREADS
def test_a_fork_pool_after_a_real_parallel_kernel():
    """After a real parallel kernel: refused where numba picked OpenMP; where it picked another layer, the fork pool
    runs the sweep."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    layer = _launch_parallel_kernel()
    fork = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork"))  # no process is started yet
    try:
        if layer == "omp":
            with pytest.raises(ValueError, match=r"fork-based ProcessPoolExecutor.*get_context\('spawn'\)"):
                rm.sweep(abs, [-1, 2], executor=fork, progress=False)
        else:
            assert list(rm.sweep(abs, [-1, 2], executor=fork, progress=False)) == [1, 2]
    finally:
        fork.shutdown()


# ---------------------------------------------------------------------------------------------------- sweep
GRID = {"width": [2, 4], "seed": [0, 1, 2], "beta": [0.0, 0.05]}


def test_sweep_grid_order_names_and_array():
    res = rm.sweep(_perturbation, GRID, progress=False)
    assert isinstance(res, SweepResult) and res.ok and res.names == ("width", "seed", "beta")
    assert res.shape == (2, 3, 2) and len(res) == 12 and res.stored == 0
    assert res.cells[1] == {"width": 2, "seed": 0, "beta": 0.05}  # last name fastest
    assert res.cells[-1] == {"width": 4, "seed": 2, "beta": 0.05}
    assert list(res) == [_perturbation(**c) for c in res.cells]
    arr = res.array()
    assert arr.shape == (2, 3, 2) and arr[1, 2, 1] == _perturbation(4, 2, 0.05) and np.all(arr[:, :, 0] == 0.0)
    items = rm.sweep(_draw, range(4), progress=False)
    assert items.names is None and items.shape == (4,) and list(items) == [_draw(s) for s in range(4)]
    empty = rm.sweep(_draw, [], progress=False)
    assert len(empty) == 0 and empty.array().shape == (0,)


def test_sweep_on_any_executor_gives_the_same_bits(pool):
    ref = rm.sweep(_perturbation, GRID, progress=False)
    with ThreadPoolExecutor(3) as threads:
        runs = {"threads": rm.sweep(_perturbation, GRID, executor=threads, progress=False)}
    runs["processes"] = rm.sweep(_perturbation, GRID, executor=pool, progress=False)
    for label, res in runs.items():
        assert res.array().tobytes() == ref.array().tobytes(), label


def test_sweep_on_a_dask_cluster_gives_the_same_bits(dask_client):
    ref = rm.sweep(_perturbation, GRID, progress=False)
    runs = {"dask": rm.sweep(_perturbation, GRID, executor=dask_client, progress=False),  # a Client works too
            "dask-lambda": rm.sweep(lambda width, seed, beta: _perturbation(width, seed, beta), GRID,
                                    executor=dask_client.get_executor(), progress=False)}  # by value
    for label, res in runs.items():
        assert res.array().tobytes() == ref.array().tobytes(), label


def test_sweep_resumes_after_an_interruption(tmp_path):
    store = tmp_path / "store"
    with pytest.raises(KeyboardInterrupt):
        rm.sweep(_stop_at_3, range(6), store=store, progress=False)
    assert len(list(store.glob("*.pkl"))) == 3  # cells 0, 1, 2 finished and were written at once
    done = []

    def count(i):
        done.append(i)
        return _stop_at_3(i) if i != 3 else 9

    # same store, another fn: nothing is shared (cells are keyed by fn)
    assert rm.sweep(count, range(6), store=store, progress=False).stored == 0
    done.clear()
    res = rm.sweep(_maybe_fail, range(6), store=store, progress=False)  # _stop_at_3's body differs: recomputed
    assert res.stored == 0
    res = rm.sweep(_maybe_fail, range(6), store=store, progress=False)
    assert res.stored == 6 and list(res) == [i * i for i in range(6)]


def test_sweep_resumes_after_an_interruption_on_a_process_pool(tmp_path, pool):
    store = tmp_path / "store"
    first = rm.sweep(_draw, [3, 1, 4], store=store, executor=pool, progress=False)
    res = rm.sweep(_draw, [3, 1, 4, 1, 5, 9], store=store, executor=pool, progress=False)  # an extended grid
    assert first.stored == 0 and res.stored == 4  # 3, 1, 4 and the repeated 1
    assert list(res) == [_draw(s) for s in [3, 1, 4, 1, 5, 9]]
    assert res[:3] == list(first)


def test_sweep_records_a_raising_cell_as_an_error_and_reports_it(tmp_path, monkeypatch, pool):
    store = tmp_path / "store"
    for executor in (None, pool):
        with pytest.warns(SweepWarning, match=r"1 of 5 cells raised") as rec:
            res = rm.sweep(_maybe_fail, [0, 1, 95, 3, 4], executor=executor, store=store, progress=False)
        msg = str(rec[0].message)
        assert "cell 2 95: ValueError: cell 95 is broken" in msg and "_maybe_fail" in msg  # with the traceback
        assert not res.ok and list(res.errors) == [2] and res.values == [0, 1, None, 9, 16]
        assert res.errors[2].type == "ValueError" and "raise ValueError" in res.errors[2].traceback
        with pytest.raises(SweepError, match="cell 95 is broken"):
            res.array()
        assert len(list(store.glob("*.pkl"))) == 4  # never stored as a result
    # a rerun retries the error cells only
    monkeypatch.setattr(sys.modules[__name__], "FAIL_ON", {2})
    with pytest.warns(SweepWarning, match="cell 2 is broken"):
        res = rm.sweep(_maybe_fail, range(5), store=store, progress=False)
    assert res.stored == 4 and list(res.errors) == [2]  # items 0, 1, 3, 4 come from the store
    monkeypatch.setattr(sys.modules[__name__], "FAIL_ON", set())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = rm.sweep(_maybe_fail, range(5), store=store, progress=False)
    assert res.ok and res.stored == 4 and list(res) == [0, 1, 4, 9, 16]  # only the error cell reran


def test_damaged_store_files_are_moved_aside_and_recomputed(tmp_path):
    store = tmp_path / "store"
    rm.sweep(_draw, range(3), store=store, progress=False)
    victim = sorted(store.glob("*.pkl"))[0]
    victim.write_bytes(victim.read_bytes()[:10])
    with pytest.warns(SweepWarning, match="is unreadable .* moved to .*bad-"):
        res = rm.sweep(_draw, range(3), store=store, progress=False)
    assert res.stored == 2 and list(res) == [_draw(s) for s in range(3)]
    assert len(list(store.glob("*.bad-*"))) == 1 and len(list(store.glob("*.pkl"))) == 3
    other = sorted(store.glob("*.pkl"))[1]
    other.write_bytes(pickle.dumps({"cell": b"another cell", "value": 1.0}))  # a file that is not this cell's
    with pytest.warns(SweepWarning, match="not a cell record of this sweep"):
        assert list(rm.sweep(_draw, range(3), store=store, progress=False)) == [_draw(s) for s in range(3)]


def test_editing_fn_recomputes_the_store(tmp_path):
    def f(i):
        return i + 1

    first = f

    def f(i):  # noqa: F811  (the same name, another body)
        return i + 2

    store = tmp_path / "s"
    assert list(rm.sweep(first, range(3), store=store, progress=False)) == [1, 2, 3]
    res = rm.sweep(f, range(3), store=store, progress=False)
    assert res.stored == 0 and list(res) == [2, 3, 4]


def test_sweep_bad_arguments(tmp_path, pool):
    afile = tmp_path / "file"
    afile.write_text("")
    with pytest.raises(ValueError, match="store=.* is a file"):
        rm.sweep(_draw, [1], store=afile)
    with pytest.raises(TypeError, match=r"grid\['beta'\] must be a sequence .* \{'beta': \[0.5\]\}"):
        rm.sweep(_perturbation, {"width": [2], "seed": [0], "beta": 0.5})
    with pytest.raises(TypeError, match="grid must be a mapping"):
        rm.sweep(_draw, 5)
    with pytest.raises(TypeError, match="fn must be callable"):
        rm.sweep(3, [1])
    with pytest.raises(TypeError, match="executor must be None or a concurrent.futures.Executor"):
        rm.sweep(_draw, [1], executor="dask")
    with pytest.raises(TypeError, match="cannot be sent to a process pool .* top level"):
        rm.sweep(lambda s: s, [1, 2], executor=pool)


def test_progress_bar_or_plain_lines(monkeypatch, capsys):
    pytest.importorskip("tqdm")
    rm.sweep(_draw, range(4))
    assert "sweep" in capsys.readouterr().err  # tqdm's bar
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # tqdm not installed
    rm.sweep(_draw, range(20))
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "sweep: 20 cells (0 from the store)" and lines[-1].startswith("sweep: 20/20 cells, 0 errors")
    assert len(lines) == 11  # every 10 %
    rm.sweep(_draw, range(20), progress=False)
    assert capsys.readouterr().err == ""


def test_context_map_raises_the_first_error(pool):
    ctx = theory.Context()
    assert ctx.map(_maybe_fail, [1, 2]) == [1, 4]
    with pytest.raises(ValueError, match="cell 97 is broken"):  # in-process: the original exception
        ctx.map(_maybe_fail, [1, 97, 2])
    with pytest.raises(SweepError, match=r"(?s)raised on item 1 97: ValueError: cell 97 is broken.*_maybe_fail"):
        theory.Context(executor=pool).map(_maybe_fail, [1, 97, 2])
    assert theory.Context(executor=pool).map(_maybe_fail, iter([3, 4])) == [9, 16]


def test_docs_scale_page_commands_exist():
    text = (ROOT / "docs" / "scale.md").read_text()
    assert "python -m theory --dask local:2" in text and "rm.sweep(" in text
