"""The one Numba decorator configuration used by every private kernel module.

``jit`` is for serial kernels (compiled once, cached on disk next to the module); ``jit_parallel`` for kernels
with ``prange`` (never cached: a cached parallel kernel can crash when the thread count changes).
"""

from __future__ import annotations

import numba

jit = numba.njit(cache=True, nogil=True, error_model="numpy")


def jit_parallel(fn):
    """Compile ``fn`` with ``parallel=True`` (no disk cache, see module docstring)."""
    return numba.njit(parallel=True, nogil=True, error_model="numpy")(fn)
