"""Reference encode/decode for the built-in formats, one element at a time, exactly.

Each float64 input is turned into an exact Fraction; rounding happens once, by
``round_integer``/``round_magnitude``; overflow and specials follow the format's
documented policy. Slow by design: this is the oracle the fast engine must match.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Callable

import numpy as np

from ..formats.block import BlockCodes, BlockFormat, block_axis, checked_block_codes
from ..formats.fixed import FixedPoint
from ..formats.floating import FloatFormat, Specials
from ..formats.rounding import Overflow, Rounding, RoundingMode
from .rounding import ElementRandom, round_integer, round_magnitude

# -- fixed point ---------------------------------------------------------------


def fixed_scaled_value(x: float, fmt: FixedPoint) -> Fraction:
    """x / scale: exact for power-of-two scales; one float64 division otherwise."""
    if fmt.is_power_of_two_scale:
        return Fraction(x) / Fraction(fmt.step)
    return Fraction(x / fmt.step)


def apply_fixed_overflow(k: int, fmt: FixedPoint, what: str = "value") -> int:
    if fmt.code_min <= k <= fmt.code_max:
        return k
    if fmt.overflow is Overflow.SATURATE:
        return fmt.code_max if k > fmt.code_max else fmt.code_min
    if fmt.overflow is Overflow.WRAP:
        k %= 1 << fmt.bits
        if fmt.signed and k > fmt.code_max:
            k -= 1 << fmt.bits
        return k
    raise OverflowError(f"{what} rounds to code {k}, outside [{fmt.code_min}, {fmt.code_max}] of format {fmt.spec}")


def encode_fixed_element(x: float, fmt: FixedPoint, rounding: Rounding, random: ElementRandom | None) -> int:
    if math.isnan(x):
        raise ValueError(f"NaN has no code in fixed-point format {fmt.spec}")
    if math.isinf(x) or (not fmt.is_power_of_two_scale and math.isinf(x / fmt.step)):
        if fmt.overflow is Overflow.SATURATE:
            return fmt.code_max if x > 0 else fmt.code_min
        raise OverflowError(f"{x!r} cannot be represented in fixed-point format {fmt.spec} (overflow {fmt.overflow.value})")
    k = round_integer(fixed_scaled_value(x, fmt), rounding, random)
    return apply_fixed_overflow(k, fmt, what=repr(x))


def check_code(code: int, low: int, high: int, fmt) -> int:
    if not low <= code <= high:
        raise ValueError(f"code {code} is outside [{low}, {high}], the codes of format {fmt.spec}")
    return code


def decode_fixed_element(code: int, fmt: FixedPoint) -> float:
    code = check_code(int(code), fmt.code_min, fmt.code_max, fmt)
    return float(code * Fraction(fmt.step))


# -- floating point --------------------------------------------------------------


def floor_log2(magnitude: Fraction) -> int:
    """floor(log2(magnitude)) of a positive rational, exactly (no float conversion, any size)."""
    e = magnitude.numerator.bit_length() - magnitude.denominator.bit_length()  # e or e + 1 is the answer
    return e if Fraction(2) ** e <= magnitude else e - 1


def float_ulp_exponent(magnitude: Fraction, fmt: FloatFormat) -> int:
    """Exponent q of the grid step 2**q that holds ``magnitude`` (> 0) in ``fmt``, exponent unbounded above."""
    e = floor_log2(magnitude)
    if e < fmt.emin:
        return fmt.emin - fmt.man_bits if fmt.subnormals else fmt.emin
    return e - fmt.man_bits


def float_overflow_code(negative: bool, fmt: FloatFormat, rounding: Rounding, what: str) -> int:
    """Code for a result whose rounded magnitude exceeds fmt.max, by the overflow policy."""
    sign = fmt.sign_mask if negative else 0
    if fmt.overflow in (Overflow.SATURATE, Overflow.SAT_PROPAGATE):
        return sign | fmt.max_code
    if fmt.overflow is Overflow.ERROR:
        raise OverflowError(f"{what} overflows format {fmt.spec} (max {fmt.max!r})")
    mode = rounding.mode
    to_max = mode in (RoundingMode.TOWARD_ZERO, RoundingMode.TO_ODD) or (
        (mode is RoundingMode.TOWARD_POSITIVE and negative) or (mode is RoundingMode.TOWARD_NEGATIVE and not negative)
    )
    if to_max:
        return sign | fmt.max_code
    if fmt.has_inf:
        return sign | fmt.inf_code
    return nan_code(negative, fmt)


def nan_code(negative: bool, fmt: FloatFormat) -> int:
    if not fmt.has_nan:
        raise ValueError(f"NaN has no code in format {fmt.spec} (specials 'none')")
    if not fmt.has_negative_zero:  # FNUZ, P3109: the one NaN is the code a -0 would have
        return fmt.nan_code
    return (fmt.sign_mask if negative else 0) | fmt.nan_code


# With no mantissa bits, a tie between 2**e and 2**(e+1) sits at 1.5 * 2**e, and both neighbours
# have the significand 1: "even" can only mean the even code (the exponent field's last bit),
# which is how IEEE P3109 defines ties-to-even for every precision.
_TIE_WITHOUT_MANTISSA = Fraction(3, 2)


def encode_float_magnitude(
    magnitude: Fraction, negative: bool, fmt: FloatFormat, rounding: Rounding, random: ElementRandom | None, what: str
) -> int:
    """Round an exact non-negative magnitude with a sign into ``fmt``; returns the code."""
    sign = fmt.sign_mask if negative and fmt.has_negative_zero else 0
    if magnitude == 0:
        return sign
    if negative and not fmt.signed:  # an unsigned format has no negative numbers: NaN, before any rounding
        return fmt.nan_code
    q = float_ulp_exponent(magnitude, fmt)
    scaled = magnitude / Fraction(2) ** q
    k = round_magnitude(scaled, negative, rounding, random)
    if fmt.man_bits == 0 and scaled == _TIE_WITHOUT_MANTISSA and rounding.mode is RoundingMode.NEAREST_EVEN:
        k = 1 if float_magnitude_code(1, q, fmt) % 2 == 0 else 2
    if k == 0:
        return sign
    code = float_magnitude_code(k, q, fmt)
    if code > fmt.max_code:  # codes grow with the magnitude, past max too (the field is not truncated)
        return float_overflow_code(negative, fmt, rounding, what)
    return (fmt.sign_mask if negative else 0) | code


def float_magnitude_code(k: int, q: int, fmt: FloatFormat) -> int:
    """Code bits (sign clear) of the magnitude k * 2**q (k > 0) produced by rounding at step 2**q.

    The exponent field may exceed its width when the value is past ``max``: the result is
    then larger than ``fmt.max_code``, which is how the caller detects overflow.
    """
    m = fmt.man_bits
    if k == 1 << (m + 1):  # rounding carried into the next binade
        k, q = k >> 1, q + 1
    elif k < 1 << m and q > fmt.emin - m:  # no subnormals: k == 1 at step 2**emin is the smallest normal
        k, q = k << m, q - m
    if k < 1 << m:  # subnormal (q == emin - man_bits)
        return k
    return ((q + m + fmt.effective_bias) << m) | (k - (1 << m))


def encode_float_element(x: float, fmt: FloatFormat, rounding: Rounding, random: ElementRandom | None) -> int:
    negative = math.copysign(1.0, x) < 0
    if math.isnan(x):
        return nan_code(negative, fmt)
    if math.isinf(x):
        if negative and not fmt.signed:
            return fmt.nan_code
        sign = fmt.sign_mask if negative else 0
        if fmt.has_inf and fmt.overflow is not Overflow.SATURATE:
            return sign | fmt.inf_code
        if fmt.overflow is Overflow.SATURATE:
            return sign | fmt.max_code
        if fmt.overflow is Overflow.ERROR:
            raise OverflowError(f"{x!r} overflows format {fmt.spec}")
        return nan_code(negative, fmt)
    return encode_float_magnitude(abs(Fraction(x)), negative, fmt, rounding, random, repr(x))


def decode_float_element(code: int, fmt: FloatFormat) -> float:
    code = check_code(int(code), 0, fmt.n_codes - 1, fmt)
    negative = bool(code & fmt.sign_mask)
    field = (code >> fmt.man_bits) & ((1 << fmt.exp_bits) - 1)
    mantissa = code & ((1 << fmt.man_bits) - 1)
    top = (1 << fmt.exp_bits) - 1
    if fmt.specials is Specials.IEEE and field == top:
        return math.copysign(math.nan if mantissa else math.inf, -1.0 if negative else 1.0)
    if fmt.specials is Specials.FN and field == top and mantissa == (1 << fmt.man_bits) - 1:
        return math.copysign(math.nan, -1.0 if negative else 1.0)
    if fmt.specials in (Specials.FNUZ, Specials.P3109) and code == fmt.nan_code:
        return math.nan
    if fmt.specials is Specials.P3109 and code & ~fmt.sign_mask == fmt.inf_code:
        return -math.inf if negative else math.inf
    if field == 0:
        magnitude = Fraction(mantissa) * Fraction(2) ** (fmt.emin - fmt.man_bits) if fmt.subnormals else Fraction(0)
    else:
        magnitude = Fraction((1 << fmt.man_bits) | mantissa) * Fraction(2) ** (field - fmt.effective_bias - fmt.man_bits)
    value = float(magnitude)
    return -value if negative else value


# -- block formats ---------------------------------------------------------------


def block_exponent(block: np.ndarray, fmt: BlockFormat) -> int | None:
    """Shared exponent E of one block (None: the block holds NaN or inf)."""
    if not np.all(np.isfinite(block)):
        return None
    amax = max((abs(Fraction(float(v))) for v in block), default=Fraction(0))
    if amax == 0:
        return fmt.scale_emin
    e = math.frexp(float(amax))[1] - 1  # float(amax) is exact: amax is a float64 value
    return min(max(e - fmt.element_emax, fmt.scale_emin), fmt.scale_emax)


def encode_block_element(x: float, exponent: int, fmt: BlockFormat, rounding: Rounding, random) -> int:
    """Encode x / 2**exponent exactly into the element format (no float64 division)."""
    element = fmt.element
    scaled = Fraction(x) / Fraction(2) ** exponent
    if isinstance(element, FixedPoint):
        k = round_integer(scaled / Fraction(element.step), rounding, random)
        return apply_fixed_overflow(k, element)
    negative = math.copysign(1.0, x) < 0
    return encode_float_magnitude(abs(scaled), negative, element, rounding, random, repr(x))


def decode_block_element(code: int, exponent: int | None, fmt: BlockFormat) -> float:
    if exponent is None:
        return math.nan
    element = fmt.element
    if isinstance(element, FixedPoint):
        value = check_code(int(code), element.code_min, element.code_max, element) * Fraction(element.step)
    else:
        inner = decode_float_element(code, element)
        if not math.isfinite(inner):
            return inner
        value = Fraction(inner)
        if inner == 0:
            return math.copysign(0.0, inner)
    return float(value * Fraction(2) ** exponent)


def _block_slices(length: int, block_size: int):
    for start in range(0, length, block_size):
        yield start, min(start + block_size, length)


def encode_block(x: np.ndarray, fmt: BlockFormat, rounding: Rounding, random_for: Callable[[int], ElementRandom]):
    """Encode an array; ``random_for(flat_index)`` gives each element its random bits."""
    if x.ndim == 0:
        x = x.reshape(1)
        scalar = True
    else:
        scalar = False
    axis = block_axis(fmt, x.shape)
    flat_index = np.arange(x.size).reshape(x.shape)
    moved = np.moveaxis(x, axis, -1)
    moved_index = np.moveaxis(flat_index, axis, -1)
    n = moved.shape[-1]
    n_blocks = -(-n // fmt.block_size)
    elements = np.zeros(moved.shape, dtype=fmt.code_dtype)
    scales = np.zeros(moved.shape[:-1] + (n_blocks,), dtype=fmt.scale_dtype)
    for outer in np.ndindex(moved.shape[:-1]):
        row, row_index = moved[outer], moved_index[outer]
        for b, (lo, hi) in enumerate(_block_slices(n, fmt.block_size)):
            exponent = block_exponent(row[lo:hi], fmt)
            if exponent is None:
                scales[outer + (b,)] = fmt.scale_nan_code
                continue
            scales[outer + (b,)] = exponent + fmt.scale_bias
            for j in range(lo, hi):
                code = encode_block_element(float(row[j]), exponent, fmt, rounding, random_for(int(row_index[j])))
                elements[outer + (j,)] = code
    elements = np.moveaxis(elements, -1, axis)
    scales = np.moveaxis(scales, -1, axis)
    if scalar:
        elements, scales = elements.reshape(()), scales.reshape(())
    return BlockCodes(elements=elements, scales=scales)


def decode_block(codes: BlockCodes, fmt: BlockFormat) -> np.ndarray:
    elements, scales, scalar, axis = checked_block_codes(codes, fmt)
    moved = np.moveaxis(elements, axis, -1)
    moved_scales = np.moveaxis(scales, axis, -1)
    n = moved.shape[-1]
    out = np.empty(moved.shape, dtype=np.float64)
    for outer in np.ndindex(moved.shape[:-1]):
        for b, (lo, hi) in enumerate(_block_slices(n, fmt.block_size)):
            scale_code = check_code(int(moved_scales[outer + (b,)]), 0, fmt.scale_nan_code, fmt)
            exponent = None if scale_code == fmt.scale_nan_code else scale_code - fmt.scale_bias
            for j in range(lo, hi):
                out[outer + (j,)] = decode_block_element(moved[outer + (j,)], exponent, fmt)
    out = np.moveaxis(out, -1, axis)
    return out.reshape(()) if scalar else out
