"""The fast engine's fallback warning: what has no compiled kernel runs on the exact engine, slowly.

One warning per kind of fallback and process (a format type, an arithmetic combination), so a
loop over many calls warns once.
"""

from __future__ import annotations

import warnings
from typing import Hashable

_warned: set = set()


class FastEngineFallbackWarning(UserWarning):
    """The fast engine has no compiled kernel for something; the exact engine computes it (slowly)."""


class FastArithmeticFallbackWarning(FastEngineFallbackWarning):
    """An arithmetic combination has no compiled kernel; the exact engine computes it (slowly)."""


def warn_once(kind: Hashable, message: str, category: type[FastEngineFallbackWarning] = FastEngineFallbackWarning,
              stacklevel: int = 1) -> None:
    """Warn ``message`` the first time ``kind`` falls back in this process. ``stacklevel`` counts from
    the caller of ``warn_once``, as for ``warnings.warn``."""
    if kind not in _warned:
        _warned.add(kind)
        warnings.warn(message, category, stacklevel=stacklevel + 1)
