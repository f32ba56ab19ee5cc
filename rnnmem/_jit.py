"""The one Numba decorator configuration used by every private kernel module.

``jit`` is for serial kernels (compiled once, cached on disk next to the module); ``jit_fma`` the same with
floating-point contraction allowed (a·b + c may become one fused multiply-add, rounded once instead of twice;
for the inner products and polynomials of the hot loops); ``jit_sum`` also lets sums be reassociated, so that
LLVM vectorises a dot product with several partial sums (the rounding of a sum changes within its usual error
bound γ_n Σ|terms|); ``jit_parallel`` for kernels
with ``prange`` (never cached: a cached parallel kernel can crash when the thread count changes).

Thread safety. Serial kernels are reentrant (``nogil``, explicit outputs). Parallel kernels run on the threading
layer numba picks at their first launch (``NUMBA_THREADING_LAYER``; by default TBB, else OpenMP, else its own
``workqueue``). TBB and OpenMP may be entered from several Python threads at once; ``workqueue`` may not (numba
aborts the whole process with "Concurrent access has been detected"). :func:`jit_parallel` therefore returns a
:class:`ParallelKernel` that serialises its launches behind one lock when, and only when, the layer in use is not
thread-safe — so ``ThreadPoolExecutor`` maps over models are safe under every layer, at full speed under TBB and
OpenMP. Parallel kernels are entry points called from Python (never from another jitted function).

Process safety. The OpenMP layer is not fork-safe (a ``fork()`` child of a process that has launched OpenMP threads
aborts); process pools must use the ``spawn`` or ``forkserver`` start method (see :mod:`rnnmem.sweep`).
"""

from __future__ import annotations

import functools
import threading

import numba

jit = numba.njit(cache=True, nogil=True, error_model="numpy")
jit_fma = numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
jit_sum = numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract", "reassoc"})

#: numba threading layers that may be entered from several Python threads at the same time
THREADSAFE_LAYERS = ("tbb", "omp")

_LAUNCH_LOCK = threading.Lock()
#: None until the first parallel launch has made numba pick its layer; then whether launches must be serialised
_serialise: bool | None = None


def threading_layer() -> str | None:
    """The numba threading layer in use, or None before the first parallel launch of this process."""
    try:
        return numba.threading_layer()
    except ValueError:  # no parallel region launched yet
        return None


class ParallelKernel:
    """A ``parallel=True`` numba dispatcher that is safe to call from several Python threads (module docstring).

    The first launch always holds the lock (numba picks its layer then); later launches hold it only when the layer
    is not in :data:`THREADSAFE_LAYERS`. ``dispatcher`` is the numba dispatcher itself.
    """

    def __init__(self, fn):
        self.dispatcher = numba.njit(parallel=True, nogil=True, error_model="numpy")(fn)
        functools.update_wrapper(self, fn)

    def __call__(self, *args, **kwargs):
        global _serialise
        if _serialise is False:
            return self.dispatcher(*args, **kwargs)
        with _LAUNCH_LOCK:
            out = self.dispatcher(*args, **kwargs)
            if _serialise is None:
                layer = threading_layer()
                if layer is not None:
                    _serialise = layer not in THREADSAFE_LAYERS
        return out

    def __getattr__(self, name):  # signatures, py_func, inspect_types... of the dispatcher
        if name == "dispatcher":  # not set yet (copy, unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.dispatcher, name)


def jit_parallel(fn) -> ParallelKernel:
    """Compile ``fn`` with ``parallel=True`` (no disk cache) behind a :class:`ParallelKernel` (module docstring)."""
    return ParallelKernel(fn)
