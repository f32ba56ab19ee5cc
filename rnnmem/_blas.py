"""The BLAS libraries' thread counts: discovery, control, and one count per rnnmem call under concurrency.

rnnmem runs small products (per-step recurrences, gradient sums of small models) on one BLAS thread and large
ones on the BLAS's own thread count (``rnnmem._calibrate`` measures where threads pay). OpenBLAS's thread count is
process-wide, and a product's rounding depends on it (the rows and columns are split between threads, and the
kernels at a block's edge sum in another order). So that the same call gives the same bits whatever runs beside it,
every rnnmem section that calls BLAS holds a *mode* (:func:`blas_mode`): one thread, or the library's own count.
Sections with the same mode run concurrently; a section wanting the other mode waits until the running ones leave
(then the counts are switched; when the last one leaves, the counts found before are restored). A nested section
with another mode releases the outer one for its duration (a thread never waits while holding a mode, so there is
no deadlock).

Discovery. With ``threadpoolctl`` installed (optional: the ``threadpoolctl`` extra), the BLAS libraries are the
ones it finds. Without it, the OpenBLAS libraries mapped into the process (``/proc/self/maps``, Linux) are used:
the same libraries as threadpoolctl finds for numpy's and scipy's wheels, so results are identical either way. In
both cases an OpenBLAS is controlled by direct calls of its ``openblas_set_num_threads`` (threadpoolctl's own
controller ignores calls from every thread but the first that used it, which would break the modes above under
concurrent calls). Where neither finds a BLAS (another OS or BLAS without threadpoolctl), nothing is controlled:
results are still exact to rounding but their last bits may depend on the BLAS's thread count; set
``OPENBLAS_NUM_THREADS=1`` (or install threadpoolctl) to pin it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading

__all__ = ["controllers", "max_threads", "blas_mode", "ONE", "OWN", "discover"]

#: the two modes: one BLAS thread, or the libraries' own counts (as found when no rnnmem section runs)
ONE = 1
OWN = 0


class OpenBLAS:
    """One loaded OpenBLAS, controlled by direct calls (``num_threads`` reads, ``set_num_threads`` writes)."""

    user_api = "blas"
    internal_api = "openblas"

    def __init__(self, filepath: str, lib: ctypes.CDLL, set_fn, get_fn):
        self.filepath = filepath
        self._set, self._get = set_fn, get_fn
        self.version = self._text(lib, "openblas_get_config", lambda s: s.split()[1] if s.startswith("OpenBLAS")
                                  and len(s.split()) > 1 else None)
        self.architecture = self._text(lib, "openblas_get_corename", lambda s: s)

    @staticmethod
    def _text(lib, name, parse):
        fn = _symbol(lib, name)
        if fn is None:
            return None
        fn.restype = ctypes.c_char_p
        raw = fn()
        return parse(raw.decode("utf-8", "replace").strip()) if raw else None

    @property
    def num_threads(self) -> int:
        return int(self._get())

    def get_num_threads(self) -> int:
        return self.num_threads

    def set_num_threads(self, n: int) -> None:
        self._set(int(n))


class Wrapped:
    """A non-OpenBLAS library as threadpoolctl controls it (MKL, BLIS, FlexiBLAS)."""

    def __init__(self, lc):
        self._lc = lc
        self.user_api, self.internal_api = lc.user_api, lc.internal_api
        self.filepath, self.version = lc.filepath, lc.version
        self.architecture = getattr(lc, "architecture", None)

    @property
    def num_threads(self) -> int:
        return int(self._lc.num_threads)

    def get_num_threads(self) -> int:
        return self.num_threads

    def set_num_threads(self, n: int) -> None:
        self._lc.set_num_threads(int(n))


def _symbol(lib, name: str):
    """``name`` in an OpenBLAS with any of the prefixes and suffixes of numpy's and scipy's builds."""
    for prefix in ("", "scipy_"):
        for suffix in ("", "64_", "_64", "64"):
            fn = getattr(lib, prefix + name + suffix, None)
            if fn is not None:
                return fn
    return None


def _openblas(path: str) -> OpenBLAS | None:
    try:
        lib = ctypes.CDLL(path)  # already mapped: the same library, not a second copy
    except OSError:
        return None
    set_fn, get_fn = _symbol(lib, "openblas_set_num_threads"), _symbol(lib, "openblas_get_num_threads")
    if set_fn is None or get_fn is None:
        return None
    set_fn.argtypes, set_fn.restype = [ctypes.c_int], None
    get_fn.argtypes, get_fn.restype = [], ctypes.c_int
    return OpenBLAS(path, lib, set_fn, get_fn)


def _mapped_openblas_paths() -> list[str]:
    """Paths of the OpenBLAS libraries mapped into this process (Linux; empty elsewhere)."""
    paths = []
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                parts = line.split(None, 5)
                if len(parts) < 6:
                    continue
                path = parts[5].strip()
                name = os.path.basename(path).lower()
                if "openblas" in name and ".so" in name and path not in paths:
                    paths.append(path)
    except OSError:
        pass
    return paths


def _load_blas() -> None:
    """Load the BLAS numba's ``np.dot`` calls (scipy's) and numpy's, so both are mapped before discovery."""
    import numpy  # noqa: F401
    import scipy.linalg.cython_blas  # noqa: F401


def discover(use_threadpoolctl: bool = True) -> list:
    """The BLAS libraries of this process as controllers (module docstring); ``use_threadpoolctl=False`` forces the
    fallback."""
    _load_blas()
    found, seen = [], set()
    tpc = None
    if use_threadpoolctl:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            ThreadpoolController = None
        if ThreadpoolController is not None:
            try:
                tpc = [lc for lc in ThreadpoolController().lib_controllers if lc.user_api == "blas"]
            except Exception:  # a broken threadpoolctl must not break a computation: fall back
                tpc = None
    if tpc is not None:
        for lc in tpc:
            real = os.path.realpath(lc.filepath)
            if real in seen:
                continue
            ctl = _openblas(lc.filepath) if lc.internal_api == "openblas" else None
            found.append(ctl if ctl is not None else Wrapped(lc))
            seen.add(real)
    else:
        for path in _mapped_openblas_paths():
            real = os.path.realpath(path)
            ctl = _openblas(path) if real not in seen else None
            if ctl is not None:
                found.append(ctl)
                seen.add(real)
    return sorted(found, key=lambda lc: os.path.realpath(lc.filepath))


_STATE_LOCK = threading.Lock()
_LIBS: list | None = None


def controllers() -> list:
    """The BLAS controllers of this process (discovered once)."""
    global _LIBS
    if _LIBS is None:
        with _STATE_LOCK:
            if _LIBS is None:
                _LIBS = discover()
    return _LIBS


def reset(libs: list | None = None) -> None:
    """Forget (or replace, for tests) the discovered libraries."""
    global _LIBS
    with _STATE_LOCK:
        _LIBS = libs


def max_threads() -> int:
    """The largest thread count of the loaded BLAS libraries (1 if none is found)."""
    return max((lc.num_threads for lc in controllers()), default=1)


# --------------------------------------------------------------------------------------------------------- modes
class _Modes:
    """Shared holds of one BLAS thread-count mode at a time (module docstring)."""

    def __init__(self):
        self.cv = threading.Condition()
        self.mode = OWN
        self.active = 0  # threads holding the current mode
        self.pending = 0  # threads waiting (for the other mode, or behind such a thread)
        self.saved: list[int] | None = None
        self.local = threading.local()

    def _acquire(self, mode: int) -> None:
        with self.cv:
            while True:
                if self.active == 0:
                    libs = controllers()
                    if mode == ONE:
                        self.saved = [lc.num_threads for lc in libs]
                        for lc in libs:
                            lc.set_num_threads(1)
                    self.mode, self.active = mode, 1
                    return
                if self.mode == mode and self.pending == 0:
                    self.active += 1
                    return
                self.pending += 1  # no new holders of the running mode while someone waits: no starvation
                try:
                    self.cv.wait()
                finally:
                    self.pending -= 1

    def _release(self) -> None:
        with self.cv:
            self.active -= 1
            if self.active == 0:
                if self.mode == ONE and self.saved is not None:
                    for lc, n in zip(controllers(), self.saved, strict=True):
                        lc.set_num_threads(n)
                self.saved = None
                self.cv.notify_all()

    @contextlib.contextmanager
    def hold(self, mode: int):
        stack = getattr(self.local, "stack", None)
        if stack is None:
            stack = self.local.stack = []
        if stack and stack[-1] == mode:
            stack.append(mode)  # nested, same mode: nothing to do
        else:
            if stack:
                self._release()  # nested, other mode: leave the outer one for the duration (never wait holding one)
            try:
                self._acquire(mode)
            except BaseException:
                if stack:
                    self._acquire(stack[-1])
                raise
            stack.append(mode)
        try:
            yield
        finally:
            stack.pop()
            if not (stack and stack[-1] == mode):
                self._release()
                if stack:
                    self._acquire(stack[-1])

    @contextlib.contextmanager
    def released(self):
        stack = getattr(self.local, "stack", None)
        if not stack:
            yield
            return
        self._release()
        self.local.stack = []
        try:
            yield
        finally:
            self.local.stack = stack
            self._acquire(stack[-1])


_MODES = _Modes()


def _after_fork_in_child() -> None:
    """A forked child has only the forking thread: the other threads' holds are gone (their BLAS counts restored)."""
    global _MODES
    old = _MODES
    if old.active and old.mode == ONE and old.saved is not None and not getattr(old.local, "stack", None):
        try:
            for lc, n in zip(controllers(), old.saved, strict=True):
                lc.set_num_threads(n)
        except Exception:  # pragma: no cover - best effort in a child
            pass
    _MODES = _Modes()
    if getattr(old.local, "stack", None):  # the forking thread itself holds a mode: keep its hold in the child
        _MODES.mode, _MODES.active, _MODES.saved = old.mode, 1, old.saved
        _MODES.local.stack = list(old.local.stack)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def blas_mode(mode: int):
    """Context: the BLAS products inside run with one thread (``ONE``) or the libraries' own counts (``OWN``),
    whatever other threads do meanwhile (module docstring)."""
    return _MODES.hold(mode)


def released():
    """Context: this thread's mode (if any) is let go for the duration; wrap anything that may wait for another
    thread (a lock) inside a held section, so that no thread waits while holding a mode."""
    return _MODES.released()
