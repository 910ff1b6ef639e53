"""Every JIT option of the fast engine, in one place.

Rounding and integer kernels must be bit exact, so fastmath is off everywhere
(it licenses reassociation and ignores NaN/inf, which changes results). Compiled
machine code is cached on disk (``cache=True``) so a fresh process loads it
instead of recompiling; Numba keys the cache on the source file and the CPU.
Kernels are serial: their random bits depend only on the element index, so the
results would not change with threads, but serial kernels leave the parallelism
to the caller (studies run many independent jobs at once). The exception is the
multiply-accumulate kernels (_mac_kernels.py, ``parallel=True``), which split outputs,
never one output's sum, over ``lpsim.fast.threads`` threads.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numba

from ._codes import CODE_TABLE  # the enums' codes: kernels compile them in as constants

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


def kernel_sources() -> list[Path]:
    """The files whose code compiled kernels may contain: this one, every ``_*kernels.py``, the kernel
    constants (``_codes.py``) and the integer loop's scalar loss derivatives, which the integer epoch
    kernel compiles in (lpsim/arith/integer_loop.py)."""
    here = Path(__file__).resolve().parent
    shared = here.parent / "arith" / "integer_loop.py"
    return sorted([Path(__file__).resolve(), here / "_codes.py", shared, *here.glob("_*kernels.py")])


def drop_stale_cache(dispatcher) -> bool:
    """Delete this package's cached machine code if any kernel source changed since it was cached.

    Numba checks only the source file of the cached function itself, so a kernel would
    keep the old code of a helper it inlined from another module (or a constant it read
    from an enum). A digest of every kernel source and constant, stamped next to the
    cache, catches that. Returns True if it dropped files.
    """
    cache_dir = getattr(getattr(dispatcher, "_cache", None), "_cache_path", None)
    if cache_dir is None:
        return False
    sources = b"".join(p.read_bytes() for p in kernel_sources())
    digest = hashlib.sha256(sources + repr(CODE_TABLE).encode()).hexdigest()
    stamp = Path(cache_dir) / "lpsim-kernel-sources.sha256"
    try:
        if stamp.read_text() == digest:
            return False
    except OSError:
        pass
    try:
        for cached in Path(cache_dir).glob("*.nb[ic]"):
            cached.unlink(missing_ok=True)
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(digest)
    except OSError:  # a read-only install: Numba then compiles in memory anyway
        return False
    return True
