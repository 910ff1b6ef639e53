"""From a study's (family, bits) to a number format: the one mapping every study uses.

family "fixed"  -> FixedPoint(bits=b, frac_bits=0): the integer grid {-2^(b-1) .. 2^(b-1)-1};
                   the algorithm sets its step (LP-SGD's fixed delta, HALP's s per epoch).
family "float"  -> a finite-only saturating minifloat with b bits: 1 sign bit, E exponent
                   bits and b-1-E mantissa bits, E = exp_bits or min(5, max(1, b // 2))
                   (so 4 bits -> e2m1, 6 -> e3m2, 8 -> e4m3, 16 -> e5m10); no inf or NaN,
                   as the OCP FP6/FP4 elements, so an overflow clamps like fixed point does.
family "bfp"    -> BlockFormat.bfp(mantissa_bits=b, block_size): b-bit two's-complement
                   mantissas sharing an 8-bit exponent per block of block_size values.
family "format" -> any registered format spec string (``format = "e4m3"``); bits is then
                   the format's own width.
"""

from __future__ import annotations

from ..formats import BlockFormat, FixedPoint, FloatFormat, Specials
from ..formats.base import Format
from ..formats.rounding import Overflow
from .schema import SchemaError


def default_exp_bits(bits: int) -> int:
    return min(5, max(1, bits // 2))


def resolve_format(family: str, bits: int, *, exp_bits: int | None = None, block_size: int = 32,
                   format: str | None = None) -> Format:
    """The format of one run's model values. Raises SchemaError for an impossible combination."""
    if family == "fixed":
        return FixedPoint(bits=bits, frac_bits=0)
    if family == "float":
        e = default_exp_bits(bits) if exp_bits is None else exp_bits
        if not 1 <= e <= bits - 1:
            raise SchemaError(f"exp_bits must be in [1, bits - 1] = [1, {bits - 1}] for a {bits}-bit float, got {e}")
        return FloatFormat(exp_bits=e, man_bits=bits - 1 - e, specials=Specials.NONE, overflow=Overflow.SATURATE)
    if family == "bfp":
        return BlockFormat.bfp(mantissa_bits=bits, block_size=block_size)
    if family == "format":
        if format is None:
            raise SchemaError('family "format" needs a format spec string, e.g. format = "e4m3"')
        from ..formats.registry import get_format

        return get_format(format)
    raise SchemaError(f"family must be one of fixed, float, bfp, format; got {family!r}")
