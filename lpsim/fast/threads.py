"""How many threads the fast engine's multiply-accumulate kernels use.

Kernels split *outputs* between threads, never the terms of one output, so every result
is the same for any thread count (docs/arithmetic.md). The default is every core Numba
may use; ``set_threads(1)`` makes the kernels serial (for example inside a study that
already runs one job per core).

    >>> from lpsim.fast import threads
    >>> with threads.using_threads(1):
    ...     threads.get_threads()
    1
"""

from __future__ import annotations

import contextlib

import numba

_setting: int | None = None


def _check(n) -> int | None:
    if n is None:
        return None
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"threads: n must be an int or None (all cores), got {type(n).__name__}")
    limit = numba.config.NUMBA_NUM_THREADS
    if not 1 <= n <= limit:
        raise ValueError(f"threads: n must be in [1, {limit}] (Numba's thread limit on this machine), got {n}")
    return n


def set_threads(n: int | None) -> None:
    """Use ``n`` threads (1 .. Numba's limit), or every core with None."""
    global _setting
    _setting = _check(n)


def get_threads() -> int:
    """The thread count kernels run with now."""
    return numba.config.NUMBA_NUM_THREADS if _setting is None else _setting


@contextlib.contextmanager
def using_threads(n: int | None):
    """Run the body with ``n`` threads, then restore the previous setting."""
    global _setting
    previous = _setting
    set_threads(n)
    try:
        yield
    finally:
        _setting = previous


SMALL_WORK = 1 << 18  # multiply-accumulates below which waking other threads costs more than it saves


def apply(work: int) -> None:
    """Set Numba's thread count for the calling thread before a parallel kernel runs ``work``
    multiply-accumulates (one thread for small work: results do not depend on the count)."""
    numba.set_num_threads(1 if work < SMALL_WORK else get_threads())


__all__ = ["set_threads", "get_threads", "using_threads"]
