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


def __getattr__(name):
    # lpsim.ops (the arithmetic on either engine) loads the compiled engine, so it is imported on first use
    if name == "ops":
        import importlib

        return importlib.import_module(".ops", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "quantize", "encode", "decode", "scaled", "ops",
    "FixedPoint", "FloatFormat", "BlockFormat", "BlockCodes", "ScaledBlockFormat", "Specials", "Overflow", "Rounding", "RoundingMode",
    "BINARY16", "BFLOAT16", "BINARY32", "BINARY64", "E4M3", "E5M2",
]
