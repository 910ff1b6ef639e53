"""An independent reference for scaled formats: exact rationals rounded onto value grids that
ml_dtypes enumerates, ties to the even code (written from docs/formats.md, not from lpsim)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

ml_dtypes = pytest.importorskip("ml_dtypes")


def finite_grid(dtype) -> tuple[np.ndarray, list[Fraction]]:
    """Codes and exact values of every finite non-negative value of an 8-bit-or-less ml_dtypes type."""
    codes = np.arange(256, dtype=np.uint8)
    values = codes.view(dtype).astype(np.float64)
    keep = np.isfinite(values) & (np.signbit(values) == 0)
    if np.dtype(dtype).itemsize * 8 > ml_dtypes.finfo(dtype).bits:  # float4 / float6 types use the low bits
        keep &= codes < (1 << ml_dtypes.finfo(dtype).bits)
    return codes[keep], [Fraction(float(v)) for v in values[keep]]


def nearest_even(r: Fraction, grid: tuple[np.ndarray, list[Fraction]]) -> Fraction:
    """The grid value nearest to r >= 0 (the largest past the end), a tie to the even code."""
    codes, values = grid
    best = min(range(len(values)), key=lambda i: (abs(values[i] - r), int(codes[i]) & 1))
    return values[best]


def nearest_float32(r: Fraction) -> Fraction:
    """r > 0 rounded to the nearest float32 (ties to even), by comparing the neighbours of numpy's guess."""
    guess = np.float32(float(r))
    candidates = {guess, np.nextafter(guess, np.float32(0)), np.nextafter(guess, np.float32(np.inf))}
    candidates = [c for c in candidates if np.isfinite(c)]
    best = min(candidates, key=lambda c: (abs(Fraction(float(c)) - r), int(np.array(c).view(np.uint32)) & 1))
    return Fraction(float(best))


