"""Map a function over a grid of settings on any executor, with a resumable on-disk store.

``rnnmem.sweep(fn, grid, *, executor=None, store=None, progress=True)`` runs ``fn`` on every cell of ``grid`` —
in this process, on any :class:`concurrent.futures.Executor` (threads, a spawn process pool, a Dask cluster's
``client.get_executor()``) — and returns the results in grid order:

* a **grid** is either a mapping ``{name: values}``, whose cells are the points of the Cartesian product (row-major:
  the last name varies fastest) and are called as ``fn(**cell)``, or any other iterable of items, called as
  ``fn(item)``;
* a **store** (a folder) receives each finished cell as soon as it finishes, as one file written atomically; a
  rerun of the same sweep reads the finished cells back and computes only the others, so an interrupted sweep (a
  crash, ``kill -9``, a lost cluster) loses at most the cells that were running;
* a cell whose ``fn`` raises is an **error cell**: it is recorded in :attr:`SweepResult.errors` with the exception
  and its traceback, never stored as a result (a rerun retries it), the other cells go on, and the sweep reports
  every error cell at the end (a :class:`SweepWarning`).

Processes and threads. Numba's OpenMP threading layer is not fork-safe, so process pools must use the ``spawn``
(or ``forkserver``) start method: ``ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"))``;
:func:`sweep` refuses a fork-based pool once OpenMP threads have started in this process (its workers would
abort). Thread pools are safe under every numba threading layer (see ``rnnmem._jit``). Process pools pickle
``fn`` by reference: define it at module top level (Dask pickles lambdas and local functions by value).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import pickle
import sys
import time
import traceback
import types
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

__all__ = ["sweep", "SweepResult", "CellError", "SweepError", "SweepWarning"]

#: pickle protocol of the store's cell files (readable by every supported Python)
STORE_PROTOCOL = 4


class SweepError(RuntimeError):
    """Raised by :meth:`SweepResult.raise_errors` (and :meth:`SweepResult.array`) when some cells raised.

    ``errors`` holds the error cells ({index: :class:`CellError`}).
    """

    def __init__(self, message: str, errors: Mapping[int, CellError] | None = None):
        super().__init__(message)
        self.errors = dict(errors or {})


class SweepWarning(RuntimeWarning):
    """Emitted at the end of a sweep in which some cells raised; the message lists them."""


@dataclass(frozen=True)
class CellError:
    """A cell whose ``fn`` raised: its position, the cell, the exception's type, message and formatted traceback.

    ``exception`` is the exception object itself when the cell ran in this process (None after a process pool,
    Dask or unpickling: the traceback text is then the record).
    """

    index: int
    cell: Any
    type: str
    message: str
    traceback: str
    exception: BaseException | None = field(default=None, repr=False, compare=False)

    def __str__(self) -> str:
        return f"cell {self.index} {self.cell!r}: {self.type}: {self.message}"

    def __reduce__(self):  # exceptions do not always pickle: keep the text record
        return (CellError, (self.index, self.cell, self.type, self.message, self.traceback))


@dataclass(frozen=True)
class SweepResult(Sequence):
    """The results of :func:`sweep` in grid order (a sequence of values: ``res[i]``, ``list(res)``).

    Attributes
    ----------
    cells : list
        The cells in grid order (dicts for a mapping grid, the items otherwise).
    values : list
        ``fn(cell)`` in grid order; None where the cell raised (see ``errors``).
    errors : dict[int, CellError]
        The error cells by index; empty when every cell finished.
    names : tuple of str or None
        The axis names of a mapping grid.
    shape : tuple of int
        The grid's shape: one length per axis of a mapping grid, ``(len(items),)`` otherwise.
    stored : int
        How many cells were read back from the store instead of computed.
    """

    cells: list
    values: list
    errors: dict[int, CellError]
    names: tuple[str, ...] | None
    shape: tuple[int, ...]
    stored: int = 0

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, i):
        return self.values[i]

    @property
    def ok(self) -> bool:
        """True when no cell raised."""
        return not self.errors

    def raise_errors(self) -> None:
        """Raise :class:`SweepError` listing the error cells (no-op when every cell finished)."""
        if self.errors:
            raise SweepError(_error_report(self.errors, len(self.values)), self.errors)

    def array(self):
        """The values as one float array of shape ``shape + value.shape`` (a value may be a scalar or an array).

        Raises :class:`SweepError` when some cells raised (their values do not exist).
        """
        import numpy as np

        self.raise_errors()
        if not self.values:
            return np.empty(self.shape)
        vals = np.asarray([np.asarray(v, dtype=np.float64) for v in self.values])
        return vals.reshape(self.shape + vals.shape[1:])


def _error_report(errors: Mapping[int, CellError], n: int, limit: int = 5) -> str:
    lines = [f"{len(errors)} of {n} cells raised (error cells are never stored; a rerun retries them):"]
    lines += [f"  {e}" for e in list(errors.values())[:limit]]
    if len(errors) > limit:
        lines.append(f"  ... and {len(errors) - limit} more (SweepResult.errors)")
    first = next(iter(errors.values()))
    lines.append(f"traceback of cell {first.index}:\n{first.traceback.rstrip()}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------------ grid
def _cells(grid) -> tuple[list, tuple[str, ...] | None, tuple[int, ...]]:
    if isinstance(grid, Mapping):
        names = tuple(grid)
        axes = []
        for name in names:
            vals = grid[name]
            if isinstance(vals, (str, bytes)) or not isinstance(vals, Iterable):
                raise TypeError(f"grid[{name!r}] must be a sequence of values, got {type(vals).__name__} {vals!r}; "
                                f"wrap a single value in a list: {{{name!r}: [{vals!r}]}}")
            axes.append(list(vals))
        for name in names:
            if not isinstance(name, str) or not name.isidentifier():
                raise TypeError(f"grid keys are fn's keyword names; got {name!r}")
        cells = [dict(zip(names, point, strict=True)) for point in itertools.product(*axes)]
        return cells, names, tuple(len(a) for a in axes)
    if isinstance(grid, (str, bytes)) or not isinstance(grid, Iterable):
        raise TypeError(f"grid must be a mapping {{name: values}} or an iterable of items, got "
                        f"{type(grid).__name__} {grid!r}")
    cells = list(grid)
    return cells, None, (len(cells),)


# ----------------------------------------------------------------------------------------------------- store
def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a temporary file beside it, flushed to disk, then renamed over it.

    A reader (or a rerun after ``kill -9``) sees the old file or the new one, never a truncated one.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def move_aside(path: Path) -> Path:
    """Rename an unreadable file ``path`` to a free ``<name>.bad-<date>-<time>[-k]`` beside it; return the new path."""
    path = Path(path)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for k in itertools.count():
        backup = path.with_name(f"{path.name}.bad-{stamp}" + (f"-{k}" if k else ""))
        if not backup.exists():
            os.replace(path, backup)
            return backup
    raise AssertionError("unreachable")


def _code_digest(code: types.CodeType, h) -> None:
    h.update(code.co_code)
    h.update(repr(code.co_names).encode())
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            _code_digest(c, h)
        else:
            h.update(repr(c).encode())


def _fn_fingerprint(fn) -> bytes:
    """Identity of ``fn`` for the store: its pickle (name, bound arguments) and its bytecode, so editing fn's body
    invalidates the stored cells (edits of the functions it calls are not seen)."""
    h = hashlib.sha256()
    try:
        h.update(pickle.dumps(fn, protocol=STORE_PROTOCOL))
    except Exception:  # lambdas and local functions (fine in-process, on threads and on Dask)
        h.update(f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', type(fn).__qualname__)}".encode())
    target = fn
    while isinstance(target, partial):
        target = target.func
    code = getattr(target, "__code__", None)
    if code is None:  # a callable object: the code of its class's __call__
        call = next((vars(k)["__call__"] for k in type(target).__mro__ if "__call__" in vars(k)), None)
        code = getattr(call, "__code__", None)
    if isinstance(code, types.CodeType):
        _code_digest(code, h)
    return h.digest()


class _Store:
    """One file per finished cell, ``<key>.pkl``, key = hash of (fn fingerprint, pickled cell)."""

    def __init__(self, path, fn):
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise ValueError(f"store={str(path)!r} is a file; a sweep store is a folder (one file per cell): pass a "
                             "folder path (it is created)")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OSError(f"store={str(path)!r}: cannot create the folder ({exc.strerror}); pass a writable "
                          "folder") from exc
        if not os.access(self.path, os.W_OK):
            raise OSError(f"store={str(path)!r} is not writable; pass a writable folder")
        self.fn_id = _fn_fingerprint(fn)

    def key(self, cell) -> tuple[str, bytes]:
        try:
            blob = pickle.dumps(cell, protocol=STORE_PROTOCOL)
        except Exception as exc:
            raise TypeError(f"a store needs picklable grid cells; cell {cell!r} does not pickle ({exc})") from exc
        return hashlib.sha256(self.fn_id + blob).hexdigest()[:32], blob

    def load(self, cell) -> tuple[bool, Any]:
        """(True, value) for a finished cell, else (False, None); an unreadable file is moved aside and reported."""
        key, blob = self.key(cell)
        path = self.path / f"{key}.pkl"
        if not path.exists():
            return False, None
        try:
            with open(path, "rb") as fh:
                rec = pickle.load(fh)
            if not (isinstance(rec, dict) and rec.get("cell") == blob and "value" in rec):
                raise ValueError("not a cell record of this sweep")
        except Exception as exc:
            backup = move_aside(path)
            warnings.warn(f"sweep store {self.path}: cell file {path.name} is unreadable ({type(exc).__name__}: "
                          f"{exc}); moved to {backup.name}, the cell {cell!r} is computed again", SweepWarning,
                          stacklevel=4)
            return False, None
        return True, rec["value"]

    def save(self, cell, value, seconds: float) -> None:
        key, blob = self.key(cell)
        data = pickle.dumps({"cell": blob, "value": value, "seconds": seconds}, protocol=STORE_PROTOCOL)
        atomic_write(self.path / f"{key}.pkl", data)


# --------------------------------------------------------------------------------------------------- running
def _run_cell(fn, cell, star: bool):
    """Run one cell (in a worker or in-process); an exception becomes a ("error", ...) record, never a result."""
    t0 = time.perf_counter()
    try:
        value = fn(**cell) if star else fn(cell)
    except Exception as exc:
        return ("error", type(exc).__qualname__, str(exc), traceback.format_exc(), time.perf_counter() - t0)
    return ("ok", value, time.perf_counter() - t0)


class _Progress:
    """tqdm when installed, else a line on stderr at every 10 % of the cells."""

    def __init__(self, total: int, initial: int, enabled: bool, leave: bool, desc: str):
        self.total, self.n, self.errors, self.desc = total, initial, 0, desc
        self.enabled = enabled and total > 0
        self.bar = None
        self.t0 = time.perf_counter()
        self.next_line = initial + max(1, total // 10)
        if not self.enabled:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            print(f"{desc}: {total} cells ({initial} from the store)", file=sys.stderr, flush=True)
            return
        self.bar = tqdm(total=total, initial=initial, desc=desc, unit="cell", leave=leave)

    def update(self, error: bool) -> None:
        self.n += 1
        self.errors += error
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(1)
            if error:
                self.bar.set_postfix(errors=self.errors)
        elif self.n >= self.next_line or self.n == self.total:
            self.next_line = self.n + max(1, self.total // 10)
            print(f"{self.desc}: {self.n}/{self.total} cells, {self.errors} errors, "
                  f"{time.perf_counter() - self.t0:.0f} s", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _as_executor(executor):
    if executor is None or isinstance(executor, Executor):
        return executor
    if callable(getattr(executor, "get_executor", None)):  # a dask.distributed Client
        return executor.get_executor()
    raise TypeError("executor must be None or a concurrent.futures.Executor (ThreadPoolExecutor, a spawn "
                    "ProcessPoolExecutor, a Dask client's get_executor()), got " + type(executor).__name__)


def _check_process_pool(executor: ProcessPoolExecutor, fn) -> None:
    from rnnmem._jit import threading_layer

    try:
        pickle.dumps(fn)
    except Exception as exc:
        raise TypeError(f"fn={fn!r} cannot be sent to a process pool ({type(exc).__name__}: {exc}); define it at "
                        "module top level (not a lambda or a local function), or use a thread pool or Dask") from exc
    ctx = getattr(executor, "_mp_context", None)
    started = bool(getattr(executor, "_processes", None))
    if ctx is not None and ctx.get_start_method() == "fork" and not started and threading_layer() == "omp":
        raise ValueError("executor is a fork-based ProcessPoolExecutor, but numba's OpenMP threads already run in "
                         "this process: its forked workers would abort ('fork() called from a process already "
                         "using GNU OpenMP'). Create it with mp_context=multiprocessing.get_context('spawn')")


def sweep(fn: Callable, grid, *, executor: Executor | None = None, store: str | os.PathLike | None = None,
          progress: bool = True) -> SweepResult:
    """Run ``fn`` on every cell of ``grid`` (module docstring) and return the results in grid order.

    Parameters
    ----------
    fn : callable
        ``fn(**cell)`` for a mapping grid, ``fn(item)`` otherwise. On a process pool it must pickle (a top-level
        function, or a ``functools.partial`` of one); on Dask lambdas and local functions work too.
    grid : mapping {name: values} or iterable of items
        A mapping's cells are the points of the Cartesian product of its value lists, last name fastest.
    executor : concurrent.futures.Executor, optional
        Where the cells run: None runs them here, one after the other; a ``ThreadPoolExecutor``; a
        ``ProcessPoolExecutor`` with the ``spawn`` start method; a Dask client (or its ``get_executor()``). The
        executor is used, never shut down.
    store : path of a folder, optional
        Each finished cell is written there as it finishes (one file per cell, written atomically); cells found
        there are read back instead of computed. Cells are keyed by ``fn`` (its pickle and its bytecode: editing
        ``fn``'s body recomputes; edits of the functions it calls are not seen — use a new store) and the cell
        itself, so extending a grid reuses the cells already done. The files are pickles: read only stores you
        wrote. An unreadable cell file is moved aside (``*.bad-<time>``) with a warning and its cell recomputed.
    progress : bool
        A tqdm progress bar when tqdm is installed, else a line on stderr at every 10 % of the cells.

    Returns
    -------
    SweepResult
        Values in grid order (a sequence), the cells, the error cells, the grid's names and shape;
        ``result.array()`` stacks scalar or array values into one array of shape ``grid shape + value shape``.

    Warns
    -----
    SweepWarning
        When some cells raised, listing them (their values are None and they are not stored).

    Examples
    --------
    >>> import rnnmem as rm
    >>> res = rm.sweep(pow, {"base": [2, 3], "exp": [0, 1, 2]}, progress=False)
    >>> res.array().tolist()
    [[1.0, 2.0, 4.0], [1.0, 3.0, 9.0]]
    """
    from rnnmem._validate import check_bool

    progress = check_bool(progress, "progress")
    if store is not None and not isinstance(store, (str, os.PathLike)):
        raise TypeError(f"store must be None or the path of a folder (str or os.PathLike), got "
                        f"{type(store).__name__} {store!r:.60}")
    return _sweep(fn, grid, executor=executor, store=store, progress=progress)


def _sweep(fn, grid, *, executor=None, store=None, progress=True, fail_fast=False, leave=True,
           desc="sweep") -> SweepResult:
    """:func:`sweep`; ``fail_fast`` stops at the first error cell (cancelling the cells not started) and returns
    without the end-of-sweep warning — ``theory.Context.map`` raises it."""
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__} {fn!r}")
    executor = _as_executor(executor)
    cells, names, shape = _cells(grid)
    star = names is not None
    n = len(cells)
    st = _Store(store, fn) if store is not None else None
    values: list = [None] * n
    errors: dict[int, CellError] = {}
    pending = []
    for i, cell in enumerate(cells):
        found, value = st.load(cell) if st is not None else (False, None)
        if found:
            values[i] = value
        else:
            pending.append(i)
    stored = n - len(pending)
    bar = _Progress(n, stored, progress, leave, desc)

    def record(i: int, outcome, exc: BaseException | None = None) -> bool:
        """Store a finished cell or record an error cell; True for an error."""
        if outcome[0] == "ok":
            values[i] = outcome[1]
            if st is not None:
                try:
                    st.save(cells[i], outcome[1], outcome[2])
                except Exception as err:  # a value that does not pickle cannot be stored: an error, not a result
                    values[i] = None
                    errors[i] = CellError(i, cells[i], type(err).__qualname__,
                                          f"the result could not be written to the store: {err}",
                                          traceback.format_exc(), err)
        else:
            errors[i] = CellError(i, cells[i], outcome[1], outcome[2], outcome[3], exc)
        bar.update(i in errors)
        return i in errors

    try:
        if executor is None:
            for i in pending:
                t0 = time.perf_counter()
                try:
                    value = fn(**cells[i]) if star else fn(cells[i])
                except Exception as exc:
                    failed = record(i, ("error", type(exc).__qualname__, str(exc), traceback.format_exc(), 0.0), exc)
                else:
                    failed = record(i, ("ok", value, time.perf_counter() - t0))
                if failed and fail_fast:
                    break
        elif pending:
            if isinstance(executor, ProcessPoolExecutor):
                _check_process_pool(executor, fn)
            futures = {executor.submit(_run_cell, fn, cells[i], star): i for i in pending}
            try:
                for fut in as_completed(futures):
                    i = futures[fut]
                    try:
                        outcome = fut.result()
                    except Exception as exc:  # the executor failed (a broken pool, a lost worker): an error cell
                        outcome = ("error", type(exc).__qualname__, str(exc) or repr(exc),
                                   "".join(traceback.format_exception(exc)), 0.0)
                    if record(i, outcome) and fail_fast:
                        break
            finally:
                for fut in futures:  # after an interrupt or a fail-fast stop: drop the cells not started
                    fut.cancel()
    finally:
        bar.close()
    res = SweepResult(cells, values, dict(sorted(errors.items())), names, shape, stored)
    if errors and not fail_fast:
        warnings.warn("sweep: " + _error_report(res.errors, n), SweepWarning, stacklevel=3)
    return res
