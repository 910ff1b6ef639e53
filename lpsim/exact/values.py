"""Exact values of codes, the IEEE 754 rules of exact add and multiply, and rounding an exact value into a format.

An *exact value* is a ``Fraction`` (finite and nonzero) or a Python float for what a
Fraction cannot carry: +0.0, -0.0, +-inf and NaN. Every arithmetic result of the
exact engine is computed as an exact value first and rounded once, here.
"""

from __future__ import annotations

import math
from fractions import Fraction

from ..formats.fixed import FixedPoint
from ..formats.floating import FloatFormat
from ..formats.rounding import Overflow, Rounding, RoundingMode
from .codec import (
    apply_fixed_overflow,
    check_code,
    decode_float_element,
    encode_float_element,
    encode_float_magnitude,
)
from .rounding import ElementRandom, round_integer

ExactValue = Fraction | float


def exact_from_float(x: float) -> ExactValue:
    """The exact value of a float64 number (zeros and specials stay floats)."""
    x = float(x)
    if x == 0 or not math.isfinite(x):
        return x
    return Fraction(x)


def exact_from_fraction(q: Fraction) -> ExactValue:
    """A rational as an exact value (an exact zero is +0.0)."""
    return q if q != 0 else 0.0


def is_nan(v: ExactValue) -> bool:
    return isinstance(v, float) and math.isnan(v)


def is_negative(v: ExactValue) -> bool:
    """Sign bit of an exact value (True for -0.0 and -inf; False for NaN)."""
    if isinstance(v, float):
        return not math.isnan(v) and math.copysign(1.0, v) < 0
    return v < 0


def exact_negate(v: ExactValue) -> ExactValue:
    if is_nan(v):
        return v
    return -v


def exact_mul(x: ExactValue, y: ExactValue) -> ExactValue:
    """x * y exactly; IEEE rules for NaN, inf (0 * inf is NaN) and the sign of zero (xor of signs)."""
    if is_nan(x) or is_nan(y):
        return math.nan
    negative = is_negative(x) != is_negative(y)
    x_inf = isinstance(x, float) and math.isinf(x)
    y_inf = isinstance(y, float) and math.isinf(y)
    if x_inf or y_inf:
        if x == 0 or y == 0:
            return math.nan
        return -math.inf if negative else math.inf
    if x == 0 or y == 0:
        return -0.0 if negative else 0.0
    return x * y


def exact_add(x: ExactValue, y: ExactValue, rounding: Rounding) -> ExactValue:
    """x + y exactly, with IEEE 754 section 6.3 signs of zero.

    inf + -inf is NaN. A sum of two zeros of the same sign keeps that sign; any other
    exact zero sum (opposite zeros, or x + (-x)) is +0, or -0 when rounding toward
    negative. ``rounding`` only decides that sign; the caller rounds the result.
    """
    if is_nan(x) or is_nan(y):
        return math.nan
    x_inf = isinstance(x, float) and math.isinf(x)
    y_inf = isinstance(y, float) and math.isinf(y)
    if x_inf and y_inf:
        return x if x == y else math.nan
    if x_inf or y_inf:
        return x if x_inf else y
    if x == 0 and y == 0:
        if is_negative(x) and is_negative(y):
            return -0.0
        return -0.0 if rounding.mode is RoundingMode.TOWARD_NEGATIVE and is_negative(x) != is_negative(y) else 0.0
    if x == 0:
        return y
    if y == 0:
        return x
    total = x + y
    if total == 0:
        return -0.0 if rounding.mode is RoundingMode.TOWARD_NEGATIVE else 0.0
    return total


# -- codes <-> exact values ---------------------------------------------------------


def decode_exact(code: int, fmt: FixedPoint | FloatFormat) -> ExactValue:
    """The exact value of one code of a fixed-point or float format."""
    if isinstance(fmt, FixedPoint):
        code = check_code(int(code), fmt.code_min, fmt.code_max, fmt)
        return exact_from_fraction(code * Fraction(fmt.step))
    # every value of a FloatFormat is a float64 number, so the float64 decode is exact
    return exact_from_float(decode_float_element(int(code), fmt))


def round_exact(value: ExactValue, fmt: FixedPoint | FloatFormat, rounding: Rounding,
                random: ElementRandom | None, what: str) -> int:
    """Round an exact value once into ``fmt`` and return its code; ``what`` names it in errors.

    Fixed point: code = round(value / step), the quotient exact (also for a scale that is
    not a power of two), then the format's overflow policy; NaN raises ValueError, +-inf
    saturates or raises. Floats: as lpsim's float encoding (round the exact magnitude,
    then the overflow policy); a NaN result is the format's positive NaN.
    """
    if isinstance(fmt, FixedPoint):
        return _round_exact_fixed(value, fmt, rounding, random, what)
    if isinstance(value, float):  # zeros, infinities, NaN: exact in float64
        try:
            return encode_float_element(math.nan if math.isnan(value) else value, fmt, rounding, random)
        except (ValueError, OverflowError) as err:
            raise type(err)(f"{what}: {err}") from None
    return encode_float_magnitude(abs(value), value < 0, fmt, rounding, random, what)


def _round_exact_fixed(value: ExactValue, fmt: FixedPoint, rounding: Rounding, random, what: str) -> int:
    if isinstance(value, float):
        if math.isnan(value):
            raise ValueError(f"{what} is NaN, which has no code in fixed-point format {fmt.spec}")
        if math.isinf(value):
            if fmt.overflow is Overflow.SATURATE:
                return fmt.code_max if value > 0 else fmt.code_min
            raise OverflowError(f"{what} is {value!r}, which overflows fixed-point format {fmt.spec} (overflow {fmt.overflow.value})")
        return 0
    k = round_integer(value / Fraction(fmt.step), rounding, random)
    return apply_fixed_overflow(k, fmt, what=what)
