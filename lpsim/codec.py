"""Public quantize / encode / decode: validate and convert inputs, then run the chosen engine."""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from . import exact, fast
from .formats.base import Format
from .formats.block import BlockCodes
from .formats.rounding import as_rounding
from .rng import check_seed_stream

ENGINES = ("fast", "exact")
_warned_fallback: set[type] = set()


class FastEngineFallbackWarning(UserWarning):
    """A format has no fast kernels; the exact engine computes it instead (slowly)."""


def check_engine(engine: str) -> str:
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    return engine


def check_format(fmt) -> Format:
    if isinstance(fmt, str):
        from .formats.registry import get_format

        return get_format(fmt)
    if not isinstance(fmt, Format):
        raise TypeError(f"fmt must be an lpsim Format or a format spec string, got {type(fmt).__name__}")
    return fmt


def as_float64(x) -> np.ndarray:
    """Convert input values to a float64 array, exactly, or raise."""
    arr = np.asarray(x)
    if arr.dtype == np.float64:
        return arr
    if arr.dtype.kind == "f" and arr.dtype.itemsize <= 8:
        return arr.astype(np.float64)
    if arr.dtype.kind in "iu":
        converted = arr.astype(np.float64)
        if arr.size and np.any(converted.astype(arr.dtype) != arr) or np.any(np.abs(converted) >= 2.0**63) and arr.dtype.kind == "i":
            raise ValueError("integer input beyond 2**53 cannot be converted to float64 exactly; pass floats")
        return converted
    if arr.dtype.kind == "b":
        raise TypeError("boolean input is not a number to quantize; convert it explicitly")
    raise TypeError(f"values must be float16/32/64 or integer arrays or scalars, got dtype {arr.dtype}")


def _select(fmt: Format, engine: str):
    if check_engine(engine) == "fast":
        kernels = fast.kernels_for(fmt)
        if kernels is not None:
            return kernels
        if type(fmt) not in _warned_fallback:
            _warned_fallback.add(type(fmt))
            warnings.warn(
                f"format type {type(fmt).__name__} has no fast-engine kernels; using the exact engine (slow). "
                "See docs/plugins.md to supply kernels.",
                FastEngineFallbackWarning,
                stacklevel=3,
            )
    return exact.codec_for(fmt)


def _check_offset(offset) -> int:
    if isinstance(offset, bool) or not isinstance(offset, numbers.Integral) or not 0 <= offset < 2**64:
        raise ValueError(f"offset must be an integer in [0, 2**64), got {offset!r}")
    return int(offset)


def encode(x, fmt, rounding="nearest_even", *, seed: int = 0, stream: int = 0, offset: int = 0, engine: str = "fast"):
    """Round values into ``fmt`` and return their integer codes (BlockCodes for block formats).

    ``seed``, ``stream`` and ``offset`` key stochastic rounding's random bits: element i
    (flat C order) uses index ``offset + i`` (see lpsim.rng).
    """
    fmt = check_format(fmt)
    rounding = as_rounding(rounding)
    seed, stream = check_seed_stream(seed, stream)
    offset = _check_offset(offset)
    values = as_float64(x)
    encoder, _ = _select(fmt, engine)
    return encoder(values, fmt, rounding, seed, stream, offset)


def decode(codes, fmt, *, engine: str = "fast"):
    """Values (float64) of integer codes of ``fmt``."""
    fmt = check_format(fmt)
    if not isinstance(codes, BlockCodes):
        codes = np.asarray(codes)
        if codes.dtype.kind not in "iu":
            raise TypeError(f"codes must be an integer array, got dtype {codes.dtype}")
    _, decoder = _select(fmt, engine)
    return decoder(codes, fmt)


def quantize(x, fmt, rounding="nearest_even", *, seed: int = 0, stream: int = 0, offset: int = 0, engine: str = "fast"):
    """Round values onto the grid of ``fmt``; returns float64 values of the same shape."""
    fmt = check_format(fmt)
    codes = encode(x, fmt, rounding, seed=seed, stream=stream, offset=offset, engine=engine)
    out = decode(codes, fmt, engine=engine)
    return out[()] if np.ndim(out) == 0 else out
