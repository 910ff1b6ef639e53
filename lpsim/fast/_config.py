"""Every JIT option of the fast engine, in one place.

Rounding and integer kernels must be bit exact, so fastmath is off everywhere
(it licenses reassociation and ignores NaN/inf, which changes results). Compiled
machine code is cached on disk (``cache=True``) so a fresh process loads it
instead of recompiling; Numba keys the cache on the source file and the CPU.
Kernels are serial: their random bits depend only on the element index, so the
results would not change with threads, but serial kernels leave the parallelism
to the caller (studies run many independent jobs at once).
"""

from __future__ import annotations

import numba

JIT_OPTIONS = {
    "cache": True,
    "fastmath": False,
    "nogil": True,
    # numpy semantics for division by zero instead of a Python exception check per division
    "error_model": "numpy",
    "boundscheck": False,
}


def jit(function=None, **overrides):
    """``numba.njit`` with the project's options (``overrides`` for a documented exception only)."""
    options = {**JIT_OPTIONS, **overrides}
    if function is None:
        return lambda f: numba.njit(**options)(f)
    return numba.njit(**options)(function)
