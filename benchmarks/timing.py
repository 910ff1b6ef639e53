"""The one timer the benchmark scripts share: the fastest of several runs after a warm-up call."""

from __future__ import annotations

import time


def best_time(function, repeats: int) -> float:
    """Seconds of the fastest of ``repeats`` calls; a first untimed call compiles or loads kernels and warms caches."""
    function()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best
