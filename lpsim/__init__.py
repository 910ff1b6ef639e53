"""lpsim: bit-exact simulation of low-precision arithmetic for low-precision training research."""

from . import scaled
from .codec import decode, encode, quantize
from .formats import (
    BFLOAT16,
    BINARY16,
    BINARY32,
    BINARY64,
    E4M3,
    E5M2,
    BlockCodes,
    BlockFormat,
    FixedPoint,
    FloatFormat,
    Overflow,
    Rounding,
    RoundingMode,
    ScaledBlockFormat,
    Specials,
)

__version__ = "0.1.0"

__all__ = [
    "quantize", "encode", "decode", "scaled",
    "FixedPoint", "FloatFormat", "BlockFormat", "BlockCodes", "ScaledBlockFormat", "Specials", "Overflow", "Rounding", "RoundingMode",
    "BINARY16", "BFLOAT16", "BINARY32", "BINARY64", "E4M3", "E5M2",
]
