"""The one Numba decorator configuration used by every private kernel module.

``jit`` is for serial kernels (compiled once, cached on disk next to the module); ``jit_fma`` the same with
floating-point contraction allowed (a·b + c may become one fused multiply-add, rounded once instead of twice;
for the inner products and polynomials of the hot loops); ``jit_sum`` also lets sums be reassociated, so that
LLVM vectorises a dot product with several partial sums (the rounding of a sum changes within its usual error
bound γ_n Σ|terms|); ``jit_parallel`` for kernels
with ``prange`` (never cached: a cached parallel kernel can crash when the thread count changes).
"""

from __future__ import annotations

import numba

jit = numba.njit(cache=True, nogil=True, error_model="numpy")
jit_fma = numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
jit_sum = numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract", "reassoc"})


def jit_parallel(fn):
    """Compile ``fn`` with ``parallel=True`` (no disk cache, see module docstring)."""
    return numba.njit(parallel=True, nogil=True, error_model="numpy")(fn)
