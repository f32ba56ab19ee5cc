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
(0 for single-thread variants). Each timed call runs at least ``MIN_STEPS`` steps, so that fixed costs do not pass
for per-step ones at the large widths. Single-thread variants are timed by their best of a few interleaved calls
(noise only adds), multi-threaded ones by their median after an untimed call (a worker thread idle since the last
threaded call wakes slowly, which a long computation never sees; on a busy machine a worker often waits for a core,
and the typical cost is what a long computation pays). The chosen variant minimises the model; a multi-threaded
variant must beat the best single-thread one by 10 % (threads cost CPU time that other work on a shared machine
could use). The gated layers (``rnnmem.gated``) use the same table at the width m = √(H·G) whose recurrent product
has their size, without the column split.

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
The calibration takes 1–1.5 s at 2 threads on the 2-core development VM (0.5 s at 1 thread);
``python -m rnnmem._calibrate`` reruns it and prints the table, its cost and the choices for some sizes.

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

SCHEMA = 2
#: grid of the calibration: hidden widths and rows (models × batch)
GRID_M = (2, 4, 8, 16, 32, 64, 128, 256)
GRID_ROWS = (1, 2, 8, 32, 128)
#: multiply-adds of the recurrent products per timed call (the step count follows, MIN_STEPS..256)
TARGET_WORK = 1 << 17
#: fewest steps per timed call: enough that a call's fixed costs (thread wake-up, copying the column blocks of
#: ``blas-cols``, the first barrier) do not pass for a per-step cost at the large widths
MIN_STEPS = 16
REPEATS = 5
#: seconds of timed calls per grid point after which fewer repetitions are made (at least 2)
BUDGET_PER_POINT = 0.02
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
        from rnnmem import _kernels

        try:
            _KERNEL_SOURCE_HASH = hashlib.sha256(Path(_kernels.__file__).read_bytes()).hexdigest()[:16]
        except OSError:
            _KERNEL_SOURCE_HASH = "unknown"
    return _KERNEL_SOURCE_HASH


def _blas_libs() -> list[str]:
    from rnnmem.rnn import _blas_controllers

    # not their thread counts: rnnmem's products run on one BLAS thread whatever the count (rnnmem.rnn._products),
    # and a worker process whose count was lowered must find the same calibration as its parent
    return sorted(f"{lc.internal_api} {lc.version} {getattr(lc, 'architecture', '')}" for lc in _blas_controllers())


def machine_key(threads: int) -> dict:
    """What a calibration is valid for (module docstring)."""
    import llvmlite.binding as llvm
    import numba

    import rnnmem

    return {"schema": SCHEMA, "rnnmem": rnnmem.__version__, "kernels": _kernel_hash(), "numba": numba.__version__,
            "numpy": np.__version__, "cpu": _cpu_model(), "llvm_cpu": llvm.get_host_cpu_name(),
            "cores": os.cpu_count(), "threads": int(threads), "blas": _blas_libs()}


def cache_file(key: dict) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return cache_dir() / f"calibration-{digest}.json"


def _valid_grid(grid, required: bool) -> bool:
    if not isinstance(grid, list) or len(grid) != len(GRID_M):
        return False
    for row in grid:
        if not isinstance(row, list) or len(row) != len(GRID_ROWS):
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
    if data.get("grid_m") != list(GRID_M) or data.get("grid_rows") != list(GRID_ROWS):
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
                or not set(tab) <= set(SERIAL + SPLIT + COLS)):
            return False
        for v, grid in tab.items():
            if not _valid_grid(grid, required=v in SERIAL):
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


def measure(threads: int) -> dict:
    """Time every variant on the grid (module docstring); returns the table without its key."""
    from rnnmem import _kernels as K
    from rnnmem import _sync
    from rnnmem.rnn import _launch

    load0 = _load()
    rng = np.random.default_rng(0)
    # on a machine whose cores are all taken by other processes, extra threads only wait for a core: single-thread
    # variants only (the calibration is repeated after BUSY_MAX_AGE, when the machine may be quiet)
    quiet = load0 <= (os.cpu_count() or 1)
    cols_ok = quiet and threads > 1 and _sync.AVAILABLE
    variants = SERIAL + (SPLIT if threads > 1 and quiet else ()) + (COLS if cols_ok else ())

    def run(direction, variant, P, rows):
        if direction == "forward":
            _launch("forward", variant, (P["wt"], P["uxb"], P["b"], rows, 0.0, 1.0, K.TANH, P["s"], P["dz"], True),
                    rows, threads, threads)
        else:
            np.copyto(P["gz"], P["gd"])
            _launch("backward", variant, (P["w"], P["dz"], rows, 0.0, P["gz"]), rows, threads, threads)

    t_compile = time.perf_counter()
    P = _problem(4, 2 * threads, 4, rng)
    for v in variants:  # compile (on a cold numba cache) and warm every kernel once; not counted as calibration
        for direction in DIRECTIONS:
            run(direction, v, P, 2 * threads)
    t_start = time.perf_counter()
    # fixed cost of handing rows to the worker threads: a short split call against the same call on one thread, the
    # median of paired trials (the typical cost, not the luckiest: on a busy machine a worker may wait for a core)
    over = 0.0
    if threads > 1 and quiet:
        diffs = []
        for _ in range(4 * REPEATS):
            t0 = time.perf_counter()
            run("forward", "parallel", P, 2 * threads)
            t1 = time.perf_counter()
            run("forward", "rows", P, 2 * threads)
            diffs.append((t1 - t0) - (time.perf_counter() - t1))
        over = max(float(np.median(diffs)), 0.0)

    out = {d: {v: [[None] * len(GRID_ROWS) for _ in GRID_M] for v in variants} for d in DIRECTIONS}
    out["split_min_work"] = _split_threshold(rng, threads) if threads > 1 and quiet else None
    for i, m in enumerate(GRID_M):
        for j, rows in enumerate(GRID_ROWS):
            T = int(min(256, max(MIN_STEPS, TARGET_WORK // (rows * m * m))))
            P = _problem(m, rows, T, rng)
            combos = [(v, d) for v in variants for d in DIRECTIONS
                      if not (v in SPLIT and rows < 2) and not (v in COLS and m < COLS_MIN_M)]
            times = {c: [] for c in combos}
            spent = 0.0
            for rep in range(REPEATS):  # repetitions interleaved over the variants: load bursts hit all of them
                for v, d in combos:
                    if v not in SERIAL:  # an untimed call first: a worker thread (and its core) idle since the
                        run(d, v, P, rows)  # last threaded call wakes slowly, which a long computation never sees
                    t0 = time.perf_counter()
                    run(d, v, P, rows)
                    t = time.perf_counter() - t0
                    times[v, d].append(t)
                    spent += t
                if rep >= 2 and spent > BUDGET_PER_POINT:
                    break
            for (v, d), ts in times.items():
                # one thread: the best time (noise only adds); several threads: the median (their typical time)
                t = min(ts) if v in SERIAL else float(np.median(ts))
                out[d][v][i][j] = max(t - (over if v in SPLIT + COLS else 0.0), 1e-9) / T
    for d in DIRECTIONS:
        for grid in out[d].values():
            _monotone(grid)
    out.update(grid_m=list(GRID_M), grid_rows=list(GRID_ROWS), split_overhead=over,
               seconds=time.perf_counter() - t_start, compile_seconds=t_start - t_compile,
               created=time.strftime("%Y-%m-%d %H:%M:%S"),
               timestamp=time.time(), load=max(load0, _load()))
    return out


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
            rnn._dot_split(a, b, out, threads, threads)
            t_split, t_one = [], math.inf
            for _ in range(REPEATS):  # interleaved; split: the median (typical), one thread: the best
                t0 = time.perf_counter()
                rnn._dot_split(a, b, out, threads, threads)
                t_split.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                np.dot(a, b, out=out)
                t_one = min(t_one, time.perf_counter() - t0)
            ok.append(float(np.median(t_split)) <= THREAD_MARGIN * t_one)
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
def table(threads: int, *, recalibrate: bool = False) -> dict | None:
    """The calibration for ``threads``: from memory, else from the cache file, else measured now (and saved).
    None if the calibration failed (the static rule is used then)."""
    key_t = (threads,)
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
            key = machine_key(threads)
            path = cache_file(key)
            data = None if recalibrate else load(path, key)
            if data is not None and busy(data) and time.time() - data.get("timestamp", 0.0) > BUSY_MAX_AGE:
                data = None  # measured on a busy machine: good for a while, then measured again
            if data is None:
                data = measure(threads)
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


def per_step(grid, m: float, rows: float) -> float | None:
    """p_v(m, rows) from a grid of per-step times: bilinear in (log m, log rows), scaled by m² and rows beyond the
    largest grid point (clamped below the smallest); None where a needed grid point is missing."""
    i, wi, em = _axis(GRID_M, m)
    j, wj, er = _axis(GRID_ROWS, rows)
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
    if variant == "rows" or variant == "parallel" or nmodels <= 1:
        p = per_step(grid, m, rows)
    else:
        p = per_step(grid, m, max(rows / nmodels, 1.0))
        p = None if p is None else p * nmodels
    if p is None:
        return None
    return (data["split_overhead"] if variant in SPLIT + COLS else 0.0) + T * p


def choose(direction: str, m: int, rows: int, T: int, nmodels: int, threads: int, cols: bool = True) -> str:
    """The variant for one call (module docstring); remembered per shape (training repeats the same shapes).
    ``cols=False``: a layer without a column-split kernel (the gated layers), whose choice is among the others
    (a forced ``blas-cols`` becomes ``blas-parallel`` there)."""
    mode = os.environ.get("RNNMEM_KERNEL", "auto")
    key = (mode, direction, m, rows, T, nmodels, threads, cols)
    got = _CHOICES.get(key)
    if got is None:
        got = _choose(mode, direction, m, rows, T, nmodels, threads, cols)
        if len(_CHOICES) > 8192:
            _CHOICES.clear()
        _CHOICES[key] = got
    return got


def _choose(mode: str, direction: str, m: int, rows: int, T: int, nmodels: int, threads: int, cols: bool) -> str:
    if mode == "static":
        return static_choice(m)
    if mode != "auto":
        from rnnmem.rnn import VARIANTS

        if mode in VARIANTS:
            return mode if cols or mode not in COLS else "blas-parallel"
        raise ValueError(f"RNNMEM_KERNEL={mode!r} is not understood; expected 'auto', 'static' or one of {VARIANTS}")
    data = table(threads)
    if data is None:
        return static_choice(m)
    best_v, best_t = None, math.inf
    for v in SERIAL:
        t = model_time(data, direction, v, m, rows, T, nmodels)
        if t is not None and t < best_t:
            best_v, best_t = v, t
    if threads > 1:
        bound = THREAD_MARGIN * best_t
        for v in SPLIT + (COLS if cols else ()):
            t = model_time(data, direction, v, m, rows, T, nmodels)
            if t is not None and t < bound:
                best_v, bound = v, t
    return best_v or static_choice(m)


def report(data: dict, threads: int) -> str:
    """The calibration as text: key, cost, per-step tables and the choices for some sizes."""
    key = data["key"]
    for name in ("load", "timestamp"):
        v = data.get(name, 0.0)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            return False
    gmin = data.get("split_min_work")
    lines = [f"cpu: {key['cpu']} ({key['llvm_cpu']}), {key['cores']} cores; planned threads {threads}; "
             f"blas: {'; '.join(key['blas'])}",
             f"file: {cache_file(key)}",
             f"calibration took {data['seconds']:.2f} s; thread hand-off {data['split_overhead'] * 1e6:.0f} us; "
             "products outside the recurrence split over the threads from "
             + ("(never)" if gmin is None else f"{gmin:.0f} multiply-adds")]
    for direction in DIRECTIONS:
        lines.append(f"{direction}: time per step (us); m down, rows across {list(GRID_ROWS)}")
        for v, grid in data[direction].items():
            lines.append(f"  {v}")
            for m, row in zip(GRID_M, grid, strict=True):
                cells = "".join(f"{'-':>9}" if x is None else f"{x * 1e6:9.2f}" for x in row)
                lines.append(f"    m={m:<4}{cells}")
    lines.append("choices (forward / backward):")
    for m, B, T in [(8, 1, 10000), (16, 32, 1000), (64, 32, 1000), (256, 32, 1000), (8, 32, 100), (16, 32, 256),
                    (512, 1, 1000)]:
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
    args = p.parse_args()
    threads = args.threads or _plan_threads()
    data = table(threads, recalibrate=True)
    print("calibration failed; the static rule is used" if data is None else report(data, threads))


if __name__ == "__main__":
    _main()
