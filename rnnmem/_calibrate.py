"""Which RNN kernel variant is fastest on this machine: a short calibration on first use, cached on disk.

The kernel variants of :mod:`rnnmem.rnn` (``VARIANTS``) compute the same recurrence, equal to rounding, in
different ways: plain loops or one BLAS product per step; on one thread, with the rows (sequences) split over
threads, or with each step's columns (hidden units) split over threads that meet at a barrier after every step
(``blas-cols``). Which is fastest depends on the CPU (vector width, cache sizes, BLAS call overhead, how fast an idle
thread wakes), on the thread count and on the shape (hidden width m, rows = models × batch, steps T). No crossover
is hard-coded: on first use this module times every variant on a grid of (m, rows), forward and backward
separately, and models a call as

    time_v(m, rows, T) = o_v + T · p_v(m, rows),

with p_v the measured time per step, interpolated bilinearly in (log m, log rows) between grid points (and
scaled by m² and rows beyond the grid), and o_v the measured fixed cost of handing work to the worker threads
(0 for single-thread variants; the median of paired trials, 25–250 µs on the development VM). Where threaded
variants are timed, every call lasts at least ``CALL_SECONDS`` (more steps where one step is short), and a threaded
call is charged only the least hand-off cost seen, so that its per-step time is not lost in, or flattered by, the
subtraction. Every variant is timed by its best of a few calls (noise only adds), the single-thread ones
interleaved, then the threaded ones interleaved after an untimed call (a worker thread and its core idle since the
last threaded call wake slowly, which a long computation never sees). The chosen variant minimises the model; a
multi-threaded variant must beat the best single-thread one by 10 % (threads cost CPU time that other work on a
shared machine could use). Each cell
of the gated layers (``rnnmem.gated``: Elman, GRU, LSTM) has a table of its own on a coarser grid (``LAYERS``,
``GATED_GRID_H``, ``GATED_GRID_ROWS``), measured on the cell's first use, without the column split.

The same calibration times the products outside the recurrence (input projection, readout, gradient sums: tall
(m × K)(K × m) products, ``rnnmem.rnn._dot``) on one thread and with their rows split over the threads, and records
from which size the split pays; smaller products run on one thread. These products never use the BLAS's own
threads: a multi-threaded OpenBLAS keeps its idle workers spinning for about 0.1 s after each product, and on a
machine with few cores they take the cores the next recurrence needs (the ``blas-threaded`` variant therefore
exists for forced use only, ``RNNMEM_KERNEL=blas-threaded``, and is not timed).

The table is stored as JSON beside the numba cache (``$RNNMEM_CACHE_DIR``, else ``$NUMBA_CACHE_DIR/rnnmem``, else
``$XDG_CACHE_HOME/rnnmem`` or ``~/.cache/rnnmem``), one file per key: CPU model, LLVM's CPU name, core count,
planned thread count (``rnnmem.rnn._plan_threads``: the CPUs the process may run on), the BLAS libraries, and the
versions of rnnmem, numba, numpy and
of the kernel source. It is written atomically (temporary file, then rename). A file that cannot be read, does
not parse, has another key (a foreign machine's file) or holds malformed numbers is ignored and replaced. A
calibration started while the load average exceeded the core count (other processes take every core) times the
single-thread variants only — extra threads would only wait for a core — and is used for an hour, then measured
again.
The calibration takes 1.8–2.2 s at 2 threads on the 2-core development VM (0.3 s at 1 thread), a gated cell's
0.5 s; ``python -m rnnmem._calibrate [--layer lstm]`` reruns it and prints the table, its cost and the choices for
some sizes.

``RNNMEM_KERNEL`` overrides the choice: ``auto`` (default, calibrated), ``static`` (no calibration: per-step BLAS
from m >= 64, loops below, one thread; also the fallback if calibration fails), or a variant name.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

SCHEMA = 3
#: grid of the calibration: hidden widths and rows (models × batch)
GRID_M = (2, 4, 8, 16, 32, 64, 128, 256)
GRID_ROWS = (1, 2, 8, 32, 128)
#: the layers with a table of their own: the RNN's kernels (``rnnmem._kernels``) and, measured on first use of each,
#: the torch-layout layers' (``rnnmem._kernels_gated``: Elman, GRU, LSTM cells), whose per-step element-wise work
#: differs from the RNN's at the same product size
LAYERS = ("rnn", "gated-rnn", "gru", "lstm")
#: grid of the gated layers' tables: hidden widths H and rows
GATED_GRID_H = (2, 8, 32, 128)
GATED_GRID_ROWS = (1, 4, 16, 64)
#: multiply-adds of the recurrent products per timed call (the step count follows, MIN_STEPS..MAX_STEPS): enough
#: that a threaded call lasts several times the cost of handing work to a thread (50-130 us measured on a VM)
TARGET_WORK = 1 << 17
MAX_STEPS = 2048
#: seconds a timed call lasts at least where threaded variants are timed (up to MAX_STEPS steps): handing work to
#: a thread costs 25-250 us on a VM, and a per-step time is what remains after subtracting it
CALL_SECONDS = 1e-3
#: fewest steps per timed call (more where a threaded call would be short: CALL_SECONDS)
MIN_STEPS = 4
REPEATS = 5
#: seconds of timed calls per grid point after which fewer repetitions are made (at least 2)
BUDGET_PER_POINT = 0.05
#: a multi-threaded variant is chosen only when its modelled time is below this fraction of the best serial one
THREAD_MARGIN = 0.9
DIRECTIONS = ("forward", "backward")
SERIAL = ("rows", "blas")
SPLIT = ("parallel", "blas-parallel")
COLS = ("blas-cols",)
#: smallest hidden width at which the column-split variant is timed and used (below it one step is too small to share)
COLS_MIN_M = 32
#: seconds after which a calibration measured on a busy machine (see :func:`busy`) is measured again
BUSY_MAX_AGE = 3600.0
#: width of the (m × K)(K × m) products timed for the split threshold of the products outside the recurrence
GEMM_M = 128

_LOCK = threading.Lock()
_TABLES: dict[tuple, dict | None] = {}
_CHOICES: dict[tuple, str] = {}
_KERNEL_SOURCE_HASH: str | None = None


# ----------------------------------------------------------------------------------------------- key and cache file
def cache_dir() -> Path:
    """Directory of the calibration files (module docstring)."""
    own = os.environ.get("RNNMEM_CACHE_DIR")
    if own:
        return Path(own)
    numba_dir = os.environ.get("NUMBA_CACHE_DIR")
    if numba_dir:
        return Path(numba_dir) / "rnnmem"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "rnnmem"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _kernel_hash() -> str:
    global _KERNEL_SOURCE_HASH
    if _KERNEL_SOURCE_HASH is None:
        from rnnmem import _kernels, _kernels_gated

        try:
            digest = hashlib.sha256()
            for mod in (_kernels, _kernels_gated):
                digest.update(Path(mod.__file__).read_bytes())
            _KERNEL_SOURCE_HASH = digest.hexdigest()[:16]
        except OSError:
            _KERNEL_SOURCE_HASH = "unknown"
    return _KERNEL_SOURCE_HASH


def _blas_libs() -> list[str]:
    from rnnmem.rnn import _blas_controllers

    # not their thread counts: rnnmem's products run on one BLAS thread whatever the count (rnnmem.rnn._products),
    # and a worker process whose count was lowered must find the same calibration as its parent
    return sorted(f"{lc.internal_api} {lc.version} {getattr(lc, 'architecture', '')}" for lc in _blas_controllers())


def machine_key(threads: int, layer: str = "rnn") -> dict:
    """What a calibration is valid for (module docstring)."""
    import llvmlite.binding as llvm
    import numba

    import rnnmem

    return {"schema": SCHEMA, "rnnmem": rnnmem.__version__, "kernels": _kernel_hash(), "numba": numba.__version__,
            "numpy": np.__version__, "cpu": _cpu_model(), "llvm_cpu": llvm.get_host_cpu_name(),
            "cores": os.cpu_count(), "threads": int(threads), "blas": _blas_libs(), "layer": layer}


def cache_file(key: dict) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return cache_dir() / f"calibration-{digest}.json"


def grids(layer: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The (widths, rows) grid of ``layer``'s table."""
    return (GRID_M, GRID_ROWS) if layer == "rnn" else (GATED_GRID_H, GATED_GRID_ROWS)


def _valid_grid(grid, required: bool, shape: tuple[int, int]) -> bool:
    if not isinstance(grid, list) or len(grid) != shape[0]:
        return False
    for row in grid:
        if not isinstance(row, list) or len(row) != shape[1]:
            return False
        for v in row:
            if v is None:
                if required:
                    return False
            elif isinstance(v, bool) or not isinstance(v, (int, float)) or not (math.isfinite(v) and v > 0):
                return False
    return True


def validate(data, key: dict) -> bool:
    """Whether ``data`` (parsed JSON) is a well-formed calibration for ``key``."""
    if not isinstance(data, dict) or data.get("key") != key:
        return False
    layer = key.get("layer", "rnn")
    if layer not in LAYERS:
        return False
    gm, gr = grids(layer)
    if data.get("grid_m") != list(gm) or data.get("grid_rows") != list(gr):
        return False
    for name in ("load", "timestamp"):
        v = data.get(name, 0.0)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            return False
    gmin = data.get("split_min_work")
    if gmin is not None and (isinstance(gmin, bool) or not isinstance(gmin, (int, float)) or not math.isfinite(gmin)
                             or gmin <= 0):
        return False
    over = data.get("split_overhead")
    if isinstance(over, bool) or not isinstance(over, (int, float)) or not (math.isfinite(over) and over >= 0):
        return False
    for direction in DIRECTIONS:
        tab = data.get(direction)
        if (not isinstance(tab, dict) or not set(SERIAL) <= set(tab)
                or not set(tab) <= set(SERIAL + SPLIT + (COLS if layer == "rnn" else ()))):
            return False
        for v, grid in tab.items():
            if not _valid_grid(grid, v in SERIAL, (len(gm), len(gr))):
                return False
    return True


def load(path: Path, key: dict) -> dict | None:
    """The calibration stored at ``path`` if it is valid for ``key``; None otherwise (never raises)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return data if validate(data, key) else None


def save(path: Path, data: dict) -> bool:
    """Write ``data`` atomically (temporary file in the same directory, then rename); False if not writable."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        return True
    except OSError:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        return False


# ----------------------------------------------------------------------------------------------- measurement
def _load() -> float:
    """The 1-minute load average (runnable processes; 0 where the OS does not tell)."""
    try:
        return float(os.getloadavg()[0])
    except (AttributeError, OSError):
        return 0.0


def busy(data: dict) -> bool:
    """Whether a calibration was measured while other processes competed for the cores (load average above the
    core count, this process included)."""
    return data.get("load", 0.0) > (os.cpu_count() or 1)


def _best(fn, repeats: int, budget: float = 2e-3) -> float:
    """Best wall time of ``fn()`` over ``repeats`` calls (fewer once ``budget`` seconds are spent, at least 2)."""
    best, spent = math.inf, 0.0
    for i in range(repeats):
        t0 = time.perf_counter()
        fn()
        t = time.perf_counter() - t0
        best, spent = min(best, t), spent + t
        if i >= 1 and spent > budget:
            break
    return best


def _problem(m: int, rows: int, T: int, rng):
    W = 0.9 * rng.standard_normal((1, m, m)) / math.sqrt(m)
    wt = np.ascontiguousarray(W.transpose(0, 2, 1))
    W.flags.writeable = False  # as RNN passes its read-only W: the same compiled kernel
    return {"wt": wt, "w": W, "uxb": rng.standard_normal((T, rows, m)), "b": rng.standard_normal((1, m)),
            "s": np.empty((T, rows, m)),
            "dz": np.empty((T, rows, m)), "gz": np.empty((T, rows, m)), "gd": rng.standard_normal((T, rows, m))}


def measure(threads: int, layer: str = "rnn") -> dict:
    """Time every variant of ``layer``'s kernels on its grid (module docstring); returns the table without its key."""
    load0 = _load()
    rng = np.random.default_rng(0)
    # on a machine whose cores are all taken by other processes, extra threads only wait for a core: single-thread
    # variants only (the calibration is repeated after BUSY_MAX_AGE, when the machine may be quiet)
    quiet = load0 <= (os.cpu_count() or 1)
    if layer == "rnn":
        from rnnmem import _sync

        cols_ok = quiet and threads > 1 and _sync.AVAILABLE
        variants = SERIAL + (SPLIT if threads > 1 and quiet else ()) + (COLS if cols_ok else ())
        problem, run, work = _rnn_timing(threads)
    else:
        variants = SERIAL + (SPLIT if threads > 1 and quiet else ())
        problem, run, work = _gated_timing(threads, layer)
    gm, gr = grids(layer)

    t_compile = time.perf_counter()
    P = problem(4, 2 * threads, 4, rng)
    for v in variants:  # compile (on a cold numba cache) and warm every kernel once; not counted as calibration
        for direction in DIRECTIONS:
            run(direction, v, P, 2 * threads)
    t_start = time.perf_counter()
    # fixed cost of handing rows to the worker threads: a short split call against the same call on one thread, the
    # median of paired trials (the typical cost, not the luckiest: on a busy machine a worker may wait for a core).
    # Each timed split call follows an untimed one, as in the grid below, so that the two agree on how awake the
    # workers are (a worker idle for a while can take 100-250 us to wake on a VM)
    # The model charges the median; a timed call is charged only the least hand-off seen (subtracting the median
    # would make a threaded variant look faster than it is whenever its call was lucky)
    over = over_min = 0.0
    if threads > 1 and quiet:
        diffs = []
        for _ in range(4 * REPEATS):
            run("forward", "parallel", P, 2 * threads)
            t0 = time.perf_counter()
            run("forward", "parallel", P, 2 * threads)
            t1 = time.perf_counter()
            run("forward", "rows", P, 2 * threads)
            diffs.append((t1 - t0) - (time.perf_counter() - t1))
        over = max(float(np.median(diffs)), 0.0)
        over_min = max(float(np.min(diffs)), 0.0)

    out = {d: {v: [[None] * len(gr) for _ in gm] for v in variants} for d in DIRECTIONS}
    if layer == "rnn":
        out["split_min_work"] = _split_threshold(rng, threads) if threads > 1 and quiet else None
    for i, m in enumerate(gm):
        for j, rows in enumerate(gr):
            T = int(min(MAX_STEPS, max(MIN_STEPS, TARGET_WORK // work(m, rows))))
            P = problem(m, rows, T, rng)
            combos = [(v, d) for v in variants for d in DIRECTIONS
                      if not (v in SPLIT and rows < 2) and not (v in COLS and m < COLS_MIN_M)]
            if any(v not in SERIAL for v, _ in combos):
                # a threaded call must last well beyond the hand-off, or its per-step time is lost in the noise of
                # the subtraction: more steps where one step is short (a pilot call of a serial kernel)
                t0 = time.perf_counter()
                run("forward", "blas", P, rows)
                p0 = (time.perf_counter() - t0) / T
                t_need = int(min(MAX_STEPS, math.ceil(CALL_SECONDS / max(p0, 1e-9))))
                if t_need > T:
                    T = t_need
                    P = problem(m, rows, T, rng)
            times = {c: [] for c in combos}
            # the single-thread variants, then the threaded ones, each group's repetitions interleaved over its
            # variants (load bursts hit all of them); threaded calls back to back after one untimed call, so that the
            # second core is as awake as in a long computation (after a serial call it idles, and an idle core of a
            # VM can take a millisecond to run at full speed again)
            for group in ([c for c in combos if c[0] in SERIAL], [c for c in combos if c[0] not in SERIAL]):
                if group and group[0][0] not in SERIAL:
                    run(group[0][1], group[0][0], P, rows)
                spent = 0.0
                for rep in range(REPEATS):
                    for v, d in group:
                        t0 = time.perf_counter()
                        run(d, v, P, rows)
                        t = time.perf_counter() - t0
                        times[v, d].append(t)
                        spent += t
                    if rep >= 2 and spent > BUDGET_PER_POINT:
                        break
            for (v, d), ts in times.items():
                # the best time (noise only adds), for the threaded variants too: a median against a best would
                # favour one thread by the noise of a shared machine (the cores are known to be free: ``quiet``)
                t = min(ts)
                out[d][v][i][j] = max(t - (over_min if v in SPLIT + COLS else 0.0), 1e-9) / T
    for d in DIRECTIONS:
        for grid in out[d].values():
            _monotone(grid)
    out.update(grid_m=list(gm), grid_rows=list(gr), split_overhead=over,
               seconds=time.perf_counter() - t_start, compile_seconds=t_start - t_compile,
               created=time.strftime("%Y-%m-%d %H:%M:%S"),
               timestamp=time.time(), load=max(load0, _load()))
    return out


def _rnn_timing(threads: int):
    """(problem, run, work) of the RNN kernels for :func:`measure`: a problem of width m, rows and T steps; one
    timed call of a variant in a direction; the multiply-adds of one step's recurrent product."""
    from rnnmem import _kernels as K
    from rnnmem.rnn import _launch

    def run(direction, variant, P, rows):
        if direction == "forward":
            _launch("forward", variant, (P["wt"], P["uxb"], P["b"], rows, 0.0, 1.0, K.TANH, P["s"], P["dz"], True),
                    rows, threads, threads)
        else:
            np.copyto(P["gz"], P["gd"])
            _launch("backward", variant, (P["w"], P["dz"], rows, 0.0, P["gz"]), rows, threads, threads)

    return _problem, run, lambda m, rows: rows * m * m


def _gated_timing(threads: int, layer: str):
    """(problem, run, work) of a gated layer's kernels (``rnnmem._kernels_gated``) for :func:`measure`; the backward
    calls reuse the forward pass made when the problem was built."""
    from rnnmem import _kernels as K
    from rnnmem import _kernels_gated as KG
    from rnnmem.rnn import _run_kernels

    kind = {"gated-rnn": "rnn", "gru": "gru", "lstm": "lstm"}[layer]
    code, gates = KG.KINDS[kind], KG.GATES[KG.KINDS[kind]]

    def problem(H, rows, T, rng):
        G = gates * H
        w = 0.5 * rng.standard_normal((G, H)) / math.sqrt(H)
        # the forward pass overwrites the pre-activations gi with the gates, so repeated calls see bounded values:
        # the timings do not depend on them (branch-free kernels)
        P = {"gi": rng.standard_normal((T, rows, G)), "whht": np.ascontiguousarray(w.T),
             "whh": w, "bhh": 0.1 * rng.standard_normal(G), "h0": np.zeros((rows, H)), "c0": np.zeros((rows, H)),
             "h": np.empty((T, rows, H)), "aux": np.empty((T, rows, H)),
             "aux2": np.empty((T, rows, H)) if kind == "lstm" else np.empty((1, 1, 1)),
             "dh": rng.standard_normal((T, rows, H)), "dgi": np.empty((T, rows, G)),
             "dghn": np.empty((T, rows, H)) if kind == "gru" else np.empty((1, 1, 1)),
             "dh0": np.empty((rows, H)), "dc0": np.empty((rows, H))}
        run("forward", "rows", P, rows)  # the saved gates and states the backward calls read
        return P

    def run(direction, variant, P, rows):
        if direction == "forward":
            args = (code, K.TANH, P["gi"], P["whht"], P["bhh"], P["h0"], P["c0"], P["h"], P["aux"], P["aux2"])
            _run_kernels(KG.FORWARD, variant, args, rows, threads, threads)
        else:
            args = (code, P["gi"], P["aux"], P["aux2"], P["h"], P["h0"], P["c0"], P["whh"], P["dh"], P["dgi"],
                    P["dghn"], P["dh0"], P["dc0"])
            _run_kernels(KG.BACKWARD, variant, args, rows, threads, threads)

    return problem, run, lambda H, rows: rows * H * gates * H


def _monotone(grid) -> None:
    """Make a grid of per-step times non-decreasing in m and rows (in place): p(m, r) <- min over the grid points
    (m', r') >= (m, r). The true cost is monotone, and timing noise only ever inflates a measurement, so this
    removes isolated spikes (another process taking the core) without ever lowering a time below a measured one."""
    for i in range(len(grid) - 1, -1, -1):
        for j in range(len(grid[i]) - 1, -1, -1):
            v = grid[i][j]
            if v is None:
                continue
            for u in (grid[i + 1][j] if i + 1 < len(grid) else None, grid[i][j + 1] if j + 1 < len(grid[i]) else None):
                if u is not None and u < v:
                    v = u
            grid[i][j] = v


def _split_threshold(rng, threads: int):
    """Smallest size (multiply-adds) from which a product outside the recurrence (input projection, readout,
    gradient sums: tall (m × K)(K × m) shapes) split over ``threads`` threads (``rnnmem.rnn._dot``) runs at least
    10 % faster than on one thread, for every larger size of the sweep too; None if it never does."""
    from rnnmem import rnn

    m = GEMM_M
    sizes = [1 << e for e in range(16, 29, 2)]
    ok = []
    with rnn._one_blas_thread():
        for work in sizes:
            K = max(1, work // (m * m))
            a, b = rng.standard_normal((K, m)).T, rng.standard_normal((K, m))
            out = np.empty((m, m))
            t_split = t_one = math.inf
            for _ in range(REPEATS):  # interleaved, each by its best call; the split after an untimed one (measure)
                t0 = time.perf_counter()
                np.dot(a, b, out=out)
                t_one = min(t_one, time.perf_counter() - t0)
                rnn._dot_split(a, b, out, threads, threads)
                t0 = time.perf_counter()
                rnn._dot_split(a, b, out, threads, threads)
                t_split = min(t_split, time.perf_counter() - t0)
            ok.append(t_split <= THREAD_MARGIN * t_one)
    for i, work in enumerate(sizes):
        if all(ok[i:]):
            return float(work)
    return None


def split_min_work(threads: int) -> float:
    """Calibrated size (multiply-adds) from which the products outside the recurrence are split over ``threads``
    threads (``rnnmem.rnn._dot``); ``math.inf`` (never) on one thread, without a calibration
    (``RNNMEM_KERNEL`` not ``auto``, or a failed one) or where splitting never paid."""
    if threads <= 1 or os.environ.get("RNNMEM_KERNEL", "auto") != "auto":
        return math.inf
    data = table(threads)
    if data is None:
        return math.inf
    v = data.get("split_min_work")
    return math.inf if v is None else float(v)


# ----------------------------------------------------------------------------------------------- table and choice
def table(threads: int, *, recalibrate: bool = False, layer: str = "rnn") -> dict | None:
    """The calibration of ``layer`` (``LAYERS``) for ``threads``: from memory, else from the cache file, else measured
    now (and saved). None if the calibration failed (the static rule is used then)."""
    key_t = (threads, layer)
    if not recalibrate and key_t in _TABLES:
        return _TABLES[key_t]
    from rnnmem import _blas

    # a caller inside a BLAS section lets it go while it waits for the lock or measures (rnnmem._blas: nobody
    # waits holding a BLAS mode, so a measuring thread never waits for a thread that waits for it)
    with _blas.released(), _LOCK:
        if not recalibrate and key_t in _TABLES:
            return _TABLES[key_t]
        data = None
        try:
            key = machine_key(threads, layer)
            path = cache_file(key)
            data = None if recalibrate else load(path, key)
            if data is not None and busy(data) and time.time() - data.get("timestamp", 0.0) > BUSY_MAX_AGE:
                data = None  # measured on a busy machine: good for a while, then measured again
            if data is None:
                data = measure(threads, layer)
                data["key"] = key
                if not validate(data, key):
                    raise RuntimeError("calibration produced a malformed table")
                save(path, data)
        except Exception:  # never let a timing problem break a computation: fall back to the static rule
            data = None
        _TABLES[key_t] = data
        _CHOICES.clear()
        return data


def clear() -> None:
    """Forget the calibrations loaded in this process (the files stay)."""
    with _LOCK:
        _TABLES.clear()
        _CHOICES.clear()


def static_choice(m: int) -> str:
    """The rule used without calibration (``RNNMEM_KERNEL=static`` or a failed calibration)."""
    from rnnmem.rnn import BLAS_MIN_HIDDEN

    return "blas" if m >= BLAS_MIN_HIDDEN else "rows"


def _axis(grid, x):
    """Index i and weight w of x between grid[i] and grid[i+1] in log scale, and the log-scale excess beyond the
    ends (negative below the first point, positive above the last)."""
    lg = [math.log(g) for g in grid]
    lx = math.log(max(x, 1e-300))
    if lx <= lg[0]:
        return 0, 0.0, lx - lg[0]
    if lx >= lg[-1]:
        return len(grid) - 2, 1.0, lx - lg[-1]
    i = max(k for k in range(len(grid) - 1) if lg[k] <= lx)
    return i, (lx - lg[i]) / (lg[i + 1] - lg[i]), 0.0


def per_step(grid, m: float, rows: float, grid_m=GRID_M, grid_rows=GRID_ROWS) -> float | None:
    """p_v(m, rows) from a grid of per-step times at widths ``grid_m`` and rows ``grid_rows``: bilinear in (log m,
    log rows), scaled by m² and rows beyond the largest grid point (clamped below the smallest); None where a needed
    grid point is missing."""
    i, wi, em = _axis(grid_m, m)
    j, wj, er = _axis(grid_rows, rows)
    acc = 0.0
    for di, wm in ((0, 1.0 - wi), (1, wi)):
        for dj, wr in ((0, 1.0 - wj), (1, wj)):
            if wm * wr == 0.0:
                continue
            v = grid[i + di][j + dj]
            if v is None:
                return None
            acc += wm * wr * math.log(v)
    return math.exp(acc + 2.0 * max(em, 0.0) + max(er, 0.0))


def model_time(data: dict, direction: str, variant: str, m: int, rows: int, T: int, nmodels: int = 1):
    """Modelled seconds of one call (module docstring); None where the variant does not apply. A stack of
    ``nmodels`` models with rows/nmodels rows each costs one BLAS product per model and step."""
    grid = data[direction].get(variant)
    if grid is None:
        return None
    if variant in SPLIT and rows < 2:
        return None
    if variant in COLS and m < COLS_MIN_M:
        return None
    gm, gr = data["grid_m"], data["grid_rows"]
    if variant == "rows" or variant == "parallel" or nmodels <= 1:
        p = per_step(grid, m, rows, gm, gr)
    else:
        p = per_step(grid, m, max(rows / nmodels, 1.0), gm, gr)
        p = None if p is None else p * nmodels
    if p is None:
        return None
    return (data["split_overhead"] if variant in SPLIT + COLS else 0.0) + T * p


def choose(direction: str, m: int, rows: int, T: int, nmodels: int, threads: int, layer: str = "rnn",
           static_m: int | None = None) -> str:
    """The variant for one call (module docstring); remembered per shape (training repeats the same shapes).
    ``layer``: whose table (``LAYERS``; m is then the hidden width H of a gated layer, which has no column split: a
    forced ``blas-cols`` becomes ``blas-parallel`` there). ``static_m``: the width for the static rule (default m)."""
    mode = os.environ.get("RNNMEM_KERNEL", "auto")
    key = (mode, direction, m, rows, T, nmodels, threads, layer, static_m)
    got = _CHOICES.get(key)
    if got is None:
        got = _choose(mode, direction, m, rows, T, nmodels, threads, layer, m if static_m is None else static_m)
        if len(_CHOICES) > 8192:
            _CHOICES.clear()
        _CHOICES[key] = got
    return got


def _choose(mode: str, direction: str, m: int, rows: int, T: int, nmodels: int, threads: int, layer: str,
            static_m: int) -> str:
    if mode == "static":
        return static_choice(static_m)
    if mode != "auto":
        from rnnmem.rnn import VARIANTS

        if mode in VARIANTS:
            return mode if layer == "rnn" or mode not in COLS else "blas-parallel"
        raise ValueError(f"RNNMEM_KERNEL={mode!r} is not understood; expected 'auto', 'static' or one of {VARIANTS}")
    data = table(threads, layer=layer)
    if data is None:
        return static_choice(static_m)
    best_v, best_t = None, math.inf
    for v in SERIAL:
        t = model_time(data, direction, v, m, rows, T, nmodels)
        if t is not None and t < best_t:
            best_v, best_t = v, t
    if threads > 1:
        bound = THREAD_MARGIN * best_t
        for v in SPLIT + COLS:
            t = model_time(data, direction, v, m, rows, T, nmodels)
            if t is not None and t < bound:
                best_v, bound = v, t
    return best_v or static_choice(static_m)


def report(data: dict, threads: int) -> str:
    """The calibration as text: key, cost, per-step tables and, for the RNN's table, the choices for some sizes."""
    key = data["key"]
    layer = key.get("layer", "rnn")
    gmin = data.get("split_min_work")
    lines = [f"{layer} kernels; cpu: {key['cpu']} ({key['llvm_cpu']}), {key['cores']} cores; planned threads "
             f"{threads}; blas: {'; '.join(key['blas'])}",
             f"file: {cache_file(key)}",
             f"calibration took {data['seconds']:.2f} s; thread hand-off {data['split_overhead'] * 1e6:.0f} us"
             + ("" if layer != "rnn" else "; products outside the recurrence split over the threads from "
                + ("(never)" if gmin is None else f"{gmin:.0f} multiply-adds"))]
    width = "m" if layer == "rnn" else "H"
    for direction in DIRECTIONS:
        lines.append(f"{direction}: time per step (us); {width} down, rows across {data['grid_rows']}")
        for v, grid in data[direction].items():
            lines.append(f"  {v}")
            for m, row in zip(data["grid_m"], grid, strict=True):
                cells = "".join(f"{'-':>9}" if x is None else f"{x * 1e6:9.2f}" for x in row)
                lines.append(f"    {width}={m:<4}{cells}")
    if layer == "rnn":
        lines.append("choices (forward / backward):")
        for m, B, T in [(8, 1, 10000), (16, 32, 1000), (64, 32, 1000), (256, 32, 1000), (8, 32, 100),
                        (16, 32, 256), (512, 1, 1000)]:
            lines.append(f"  m={m}, rows={B}, T={T}: {choose('forward', m, B, T, 1, threads)} / "
                         f"{choose('backward', m, B, T, 1, threads)}")
    return "\n".join(lines)


def _main() -> None:
    import argparse

    from rnnmem.rnn import _plan_threads

    p = argparse.ArgumentParser(description="Rerun the kernel calibration of rnnmem (replacing the cached one) and "
                                            "print it.")
    p.add_argument("--threads", type=int, default=None,
                   help="the planned thread count (default: the CPUs this process may run on)")
    p.add_argument("--layer", choices=LAYERS, default="rnn", help="whose kernels (default: the RNN's)")
    args = p.parse_args()
    threads = args.threads or _plan_threads()
    data = table(threads, recalibrate=True, layer=args.layer)
    print("calibration failed; the static rule is used" if data is None else report(data, threads))


if __name__ == "__main__":
    _main()
