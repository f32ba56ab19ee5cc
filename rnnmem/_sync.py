"""A step barrier for kernels that run on several threads at once (private).

The ``blas-cols`` kernel variant (``rnnmem._kernels``) splits each time step's columns (hidden units) between
threads: every thread computes its block of s_k from all of s_{k-1}, so the threads must wait for each other after
every step. A numba parallel region per step costs more than a step at the widths where this pays, so the threads
are long-lived (the worker threads of ``rnnmem.rnn``, each running one ``nogil`` kernel over all steps) and meet at
a barrier built from two atomic operations on a shared int64 array ``sync``:

* ``sync[0]`` counts arrivals. Barrier number g (1, 2, ...) is passed once it reaches g · nthreads; it is never
  reset, so no thread can confuse two barriers.
* ``sync[1]`` is an abort flag: a thread that failed before or during its kernel sets it (``abort``), and every
  waiting thread then returns instead of waiting for ever; the caller raises the failure.

The increment is a sequentially consistent read-modify-write and the waiting loads acquire, so each thread's
stores to step k happen-before every other thread's loads after the barrier. A waiting thread spins on the counter
for a short while (a step's wait is normally well under a microsecond on an idle core) and then gives up its core
(``sched_yield``) between polls, so that an over-subscribed machine does not lose whole scheduler time slices.
The yield exists on POSIX systems; elsewhere the variant is not offered (``AVAILABLE``).
"""

from __future__ import annotations

import sys

import numpy as np
from llvmlite import ir as llvm_ir
from numba.core import cgutils, types
from numba.extending import intrinsic

from rnnmem._jit import jit

#: whether the barrier can give up the core while it waits (POSIX sched_yield)
AVAILABLE = sys.platform != "win32"
#: polls of the counter before the waiting thread starts yielding its core between polls
SPINS = 2000


def _pointer(context, builder, arrty, arr, idx):
    ary = context.make_array(arrty)(context, builder, arr)
    return cgutils.get_item_pointer(context, builder, arrty, ary, [idx], wraparound=False)


@intrinsic
def _fetch_add(typingctx, arr, idx, val):
    """Atomically add ``val`` to ``arr[idx]`` (int64, C-contiguous 1-D); returns the previous value."""
    if not (isinstance(arr, types.Array) and arr.dtype == types.int64 and arr.ndim == 1):
        return None

    def codegen(context, builder, sig, args):
        ptr = _pointer(context, builder, sig.args[0], args[0], args[1])
        return builder.atomic_rmw("add", ptr, args[2], "seq_cst")

    return types.int64(arr, types.intp, types.int64), codegen


@intrinsic
def _load_acquire(typingctx, arr, idx):
    """``arr[idx]`` (int64) read with acquire ordering (never cached in a register across loop iterations)."""
    if not (isinstance(arr, types.Array) and arr.dtype == types.int64 and arr.ndim == 1):
        return None

    def codegen(context, builder, sig, args):
        ptr = _pointer(context, builder, sig.args[0], args[0], args[1])
        return builder.load_atomic(ptr, "acquire", 8)

    return types.int64(arr, types.intp), codegen


@intrinsic
def _sched_yield(typingctx):
    """POSIX ``sched_yield()``: let another runnable thread have this core."""

    def codegen(context, builder, sig, args):
        fnty = llvm_ir.FunctionType(llvm_ir.IntType(32), [])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "sched_yield")
        return builder.call(fn, [])

    return types.int32(), codegen


@jit
def barrier(sync, nthreads, generation):
    """Arrive at barrier number ``generation`` (1, 2, ...) of ``nthreads`` threads and wait for the others.
    Returns False (at once) if a thread aborted (``sync[1] != 0``)."""
    _fetch_add(sync, 0, 1)
    target = nthreads * generation
    spins = 0
    while _load_acquire(sync, 0) < target:
        if _load_acquire(sync, 1) != 0:
            return False
        spins += 1
        if spins > SPINS:
            _sched_yield()
    return _load_acquire(sync, 1) == 0


@jit
def abort(sync):
    """Set the abort flag: every thread waiting at a barrier of ``sync`` returns."""
    _fetch_add(sync, 1, 1)


def new_sync() -> np.ndarray:
    """A fresh barrier state (counter and abort flag, on their own cache line)."""
    return np.zeros(16, dtype=np.int64)
