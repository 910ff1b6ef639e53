"""Compiled encode/decode of the built-in formats, the same bits as lpsim/exact/codec.py.

Kernels see flat C-contiguous arrays and the parameter tuples below (built by
lpsim/fast/codec.py from a format and a rounding); they never raise. A value the
format rejects (NaN into fixed point, overflow under 'error', ...) stops the kernel,
which returns its flat index; the Python side re-runs that one element through the
exact engine to raise the exact engine's own exception. Every other kernel returns -1.

Per element, encoding splits the float64 bit pattern into (sign, M, e), shifts the
exponent by the format's scale (and the block's shared exponent) and rounds once with
``round_scaled``: no float division, so nothing underflows on the way.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from ._config import jit
from ._round_kernels import (
    ABS_MASK,
    INF_BITS,
    U0,
    U1,
    bit_length,
    mul64,
    power_of_two,
    round_scaled,
    round_to_float64,
    split_float,
)

# overflow codes, equal to Overflow.code (checked by tests)
SATURATE = 0
WRAP = 1
ERROR = 2

# specials codes, equal to Specials.code (checked by tests)
IEEE = 0
FN = 1
FNUZ = 2

RoundParams = namedtuple("RoundParams", "mode random_bits seed stream offset")
RoundParams.__doc__ = """mode: RoundingMode.code; random_bits: r or 0 for None; seed, stream, offset: uint64."""

FixedParams = namedtuple(
    "FixedParams", "signed code_max neg_limit mask store_mask overflow pow2 frac_bits step significand step_exp"
)
FixedParams.__doc__ = """A FixedPoint for kernels. code_max / neg_limit: largest code and largest negative
magnitude (uint64); mask: the low ``bits`` bits; store_mask: the bits of the code dtype (kernels store
codes through an unsigned view of the output); pow2: step == 2**-frac_bits; step = significand * 2**step_exp."""

FloatParams = namedtuple(
    "FloatParams",
    "man_bits emin qmin qmax subnormals max_code sign_mask negative_zero "
    "overflow_error overflow_pos overflow_neg nan_ok nan_pos nan_neg inf_error inf_pos inf_neg",
)
FloatParams.__doc__ = """A FloatFormat under one rounding. qmin / qmax: exponents of the grid step in the
lowest / highest binade; overflow_*, nan_*, inf_*: codes (uint64) of overflowing results, NaN
and +-inf inputs for each sign, or the *_error / not nan_ok flags when the exact engine raises."""

FloatLayout = namedtuple("FloatLayout", "man_bits exp_bits bias emin subnormals specials sign_mask")
FloatLayout.__doc__ = "What decoding a FloatFormat code needs."

BlockParams = namedtuple("BlockParams", "block_size element_emax scale_emin scale_emax scale_bias scale_nan")


# -- fixed point -----------------------------------------------------------------


@jit(inline="always")
def fixed_code(negative, magnitude, big, P):
    """Two's-complement code bits of an integer result, by the overflow policy; (code, ok)."""
    value = (U0 - magnitude) if negative else magnitude
    if not big and magnitude <= (P.neg_limit if negative else P.code_max):
        return value, True
    if P.overflow == SATURATE:
        return ((U0 - P.neg_limit) if negative else P.code_max), True
    if P.overflow == WRAP:
        value &= P.mask
        if P.signed and value > P.code_max:
            value |= ~P.mask
        return value, True
    return U0, False


@jit
def encode_fixed(x, out, P, R):
    """out[i] = code of x[i] (flat arrays, out unsigned); returns the first rejected index or -1."""
    bits = x.view(np.uint64)
    scratch = np.empty(1, dtype=np.float64)
    scratch_bits = scratch.view(np.uint64)
    for i in range(x.shape[0]):
        b = bits[i]
        magnitude_bits = b & ABS_MASK
        if magnitude_bits > INF_BITS:
            return i
        if P.pow2:
            if magnitude_bits == INF_BITS:
                if P.overflow != SATURATE:
                    return i
                out[i] = ((U0 - P.neg_limit) if (b >> np.uint64(63)) else P.code_max) & P.store_mask
                continue
            negative, M, e = split_float(b)
            e += P.frac_bits
        else:
            # a non-power-of-two step: one IEEE division, then exact rounding of its result
            v = x[i] / P.step
            if math.isinf(v):
                if P.overflow != SATURATE:
                    return i
                out[i] = ((U0 - P.neg_limit) if v < 0 else P.code_max) & P.store_mask
                continue
            scratch[0] = v
            negative, M, e = split_float(scratch_bits[0])
        magnitude, big = round_scaled(
            negative, M, e, R.mode, True, R.random_bits, R.seed, R.stream, R.offset + np.uint64(i)
        )
        code, ok = fixed_code(negative, magnitude, big, P)
        if not ok:
            return i
        out[i] = code & P.store_mask
    return -1


@jit(inline="always")
def code_magnitude(code):
    """(negative, |code| as uint64) of an integer of any dtype."""
    negative = code < 0
    return negative, (U0 - np.uint64(code)) if negative else np.uint64(code)


@jit
def decode_fixed(codes, out, P):
    """out[i] = codes[i] * step, correctly rounded; returns the first code outside the format, or -1.

    The float64 product is exact (power-of-two step) or one correct rounding (|code| <= 2**53);
    a wider code times a general step rounds its 128-bit product once.
    """
    for i in range(codes.shape[0]):
        c = codes[i]
        negative, magnitude = code_magnitude(c)
        if magnitude > (P.neg_limit if negative else P.code_max):
            return i
        if P.pow2 or magnitude <= (U1 << np.uint64(53)):
            out[i] = np.float64(c) * P.step
        else:
            high, low = mul64(magnitude, P.significand)
            out[i] = round_to_float64(negative, high, low, P.step_exp)
    return -1


# -- floating point -----------------------------------------------------------------


@jit
def encode_float_scaled(negative, M, s, P, mode, random_bits, seed, stream, index):
    """Code of (-1)**negative * M * 2**s (M > 0) in the float format P: (code, ok).

    The shared step of float and block encoding (and of arithmetic results): the
    magnitude is rounded once at the grid step of its binade (exponent unbounded
    above), then overflow follows the format's policy as precomputed in P.
    """
    E = s + bit_length(M) - 1  # floor(log2(magnitude))
    if E < P.emin:
        q = P.qmin if P.subnormals else P.emin
    else:
        q = E - P.man_bits
    k, _ = round_scaled(negative, M, s - q, mode, False, random_bits, seed, stream, index)
    sign = P.sign_mask if negative else U0
    if k == U0:
        return (sign if P.negative_zero else U0), True
    if E < P.emin and not P.subnormals:
        return sign | (k << np.uint64(P.man_bits)), True  # k == 1: the smallest normal
    if q <= P.qmax:
        # in the IEEE layout, codes of k * 2**q run on contiguously across binades
        code = (np.uint64(q - P.qmin) << np.uint64(P.man_bits)) + k
        if code <= P.max_code:
            return sign | code, True
    if P.overflow_error:
        return U0, False
    return (P.overflow_neg if negative else P.overflow_pos), True


@jit
def encode_float(x, out, P, R):
    """out[i] = code of x[i] (flat arrays); returns the first rejected index or -1."""
    bits = x.view(np.uint64)
    for i in range(x.shape[0]):
        b = bits[i]
        negative = (b >> np.uint64(63)) != U0
        magnitude_bits = b & ABS_MASK
        if magnitude_bits >= INF_BITS:
            if magnitude_bits > INF_BITS:
                if not P.nan_ok:
                    return i
                out[i] = P.nan_neg if negative else P.nan_pos
            else:
                if P.inf_error:
                    return i
                out[i] = P.inf_neg if negative else P.inf_pos
            continue
        if magnitude_bits == U0:
            out[i] = P.sign_mask if (negative and P.negative_zero) else U0
            continue
        negative, M, e = split_float(b)
        code, ok = encode_float_scaled(
            negative, M, e, P, R.mode, R.random_bits, R.seed, R.stream, R.offset + np.uint64(i)
        )
        if not ok:
            return i
        out[i] = code
    return -1


@jit
def decode_float_code(code, L):
    """Value of one valid code (uint64)."""
    man_mask = (U1 << np.uint64(L.man_bits)) - U1
    top = np.int64((1 << L.exp_bits) - 1)
    negative = (code & L.sign_mask) != U0
    field = np.int64((code >> np.uint64(L.man_bits)) & np.uint64(top))
    mantissa = code & man_mask
    sign = -1.0 if negative else 1.0
    if L.specials == IEEE and field == top:
        return math.copysign(np.nan if mantissa != U0 else np.inf, sign)
    if L.specials == FN and field == top and mantissa == man_mask:
        return math.copysign(np.nan, sign)
    if L.specials == FNUZ and code == L.sign_mask:
        return np.nan
    if field == 0:
        if not L.subnormals:
            return math.copysign(0.0, sign)
        significand = mantissa
        p = L.emin - L.man_bits
    else:
        significand = mantissa | (U1 << np.uint64(L.man_bits))
        p = field - L.bias - L.man_bits
    # exact: significand < 2**53 and validation keeps p >= -1074 and the value finite
    return math.copysign(np.float64(significand) * power_of_two(p), sign)


@jit
def decode_float(codes, out, L, code_max):
    """out[i] = value of codes[i]; returns the first code outside [0, code_max], or -1."""
    for i in range(codes.shape[0]):
        c = codes[i]
        negative, magnitude = code_magnitude(c)
        if negative or magnitude > code_max:
            return i
        out[i] = decode_float_code(magnitude, L)
    return -1


@jit
def decode_by_table(codes, out, table):
    """out[i] = table[codes[i]] (a table of every code's value); returns the first code outside it, or -1."""
    last = np.uint64(table.shape[0] - 1)
    for i in range(codes.shape[0]):
        c = codes[i]
        negative, magnitude = code_magnitude(c)
        if negative or magnitude > last:
            return i
        out[i] = table[magnitude]
    return -1


# -- block formats -----------------------------------------------------------------


NO_EXPONENT = np.iinfo(np.int64).min  # marks a block holding NaN or inf


@jit
def block_scales(x_bits, scales, exponents, B):
    """Shared exponent E of every block of every row (rows of float64 bit patterns).

    E = floor(log2(amax)) - element_emax clamped to the scale range (all-zero block: the
    smallest E); a block holding NaN or inf gets the NaN scale code and NO_EXPONENT.
    """
    n = x_bits.shape[1]
    for row in range(x_bits.shape[0]):
        for b, lo in enumerate(range(0, n, B.block_size)):
            largest = U0
            for j in range(lo, min(lo + B.block_size, n)):
                largest = max(largest, x_bits[row, j] & ABS_MASK)
            if largest >= INF_BITS:
                scales[row, b] = B.scale_nan
                exponents[row, b] = NO_EXPONENT
                continue
            E = B.scale_emin
            if largest != U0:
                _, M, e = split_float(largest)
                E = min(max(e + bit_length(M) - 1 - B.element_emax, B.scale_emin), B.scale_emax)
            scales[row, b] = E + B.scale_bias
            exponents[row, b] = E


@jit(inline="always")
def block_element_index(R, row_first_index, row, j, axis_stride):
    """Random-bit index of element (row, j): its flat index in the caller's array, plus offset."""
    return R.offset + np.uint64(row_first_index[row]) + np.uint64(j) * np.uint64(axis_stride)


@jit
def encode_block_fixed(x_bits, exponents, elements, row_first_index, axis_stride, P, B, R):
    """Element codes of fixed-point elements, x / 2**E rounded exactly (elements saturate).

    Element (row, j) draws the random bits of its flat index in the caller's array
    (row_first_index[row] + j * axis_stride): the exact engine's bits, whatever the axis.
    """
    for row in range(x_bits.shape[0]):
        for j in range(x_bits.shape[1]):
            E = exponents[row, j // B.block_size]
            if E != NO_EXPONENT:
                negative, M, e = split_float(x_bits[row, j])
                index = block_element_index(R, row_first_index, row, j, axis_stride)
                magnitude, big = round_scaled(
                    negative, M, e - E + P.frac_bits, R.mode, True, R.random_bits, R.seed, R.stream, index
                )
                code, _ = fixed_code(negative, magnitude, big, P)
                elements[row, j] = code & P.store_mask


@jit
def encode_block_float(x_bits, exponents, elements, row_first_index, axis_stride, P, B, R):
    """As encode_block_fixed, for floating-point elements (which saturate by validation)."""
    for row in range(x_bits.shape[0]):
        for j in range(x_bits.shape[1]):
            E = exponents[row, j // B.block_size]
            negative, M, e = split_float(x_bits[row, j])
            if E == NO_EXPONENT or M == U0:
                if E != NO_EXPONENT and negative and P.negative_zero:
                    elements[row, j] = P.sign_mask
                continue
            index = block_element_index(R, row_first_index, row, j, axis_stride)
            elements[row, j], _ = encode_float_scaled(negative, M, e - E, P, R.mode, R.random_bits, R.seed, R.stream, index)


BAD_SCALE = 1
BAD_ELEMENT = 2
INVALID_EXPONENT = np.iinfo(np.int64).max  # marks a scale code outside the format


@jit
def decode_scales(scales, exponents, B):
    """Shared exponent of every block from its scale code (NO_EXPONENT: NaN; INVALID_EXPONENT)."""
    for row in range(scales.shape[0]):
        for b in range(scales.shape[1]):
            negative, s = code_magnitude(scales[row, b])
            if negative or s > np.uint64(B.scale_nan):
                exponents[row, b] = INVALID_EXPONENT
            elif s == np.uint64(B.scale_nan):
                exponents[row, b] = NO_EXPONENT
            else:
                exponents[row, b] = np.int64(s) - B.scale_bias


@jit
def decode_block_fixed(elements, exponents, out, P, B):
    """Block values of fixed-point elements (rows x n; exponents from decode_scales).

    Returns (0, 0, 0), or the first invalid code in the exact engine's order (each
    block's scale, then its elements): (BAD_SCALE, row, block) or (BAD_ELEMENT, row, j).
    """
    for row in range(elements.shape[0]):
        for j in range(elements.shape[1]):
            b = j // B.block_size
            E = exponents[row, b]
            if E == INVALID_EXPONENT:
                return BAD_SCALE, row, b
            c = elements[row, j]
            negative, magnitude = code_magnitude(c)
            if E == NO_EXPONENT:
                out[row, j] = np.nan
            elif magnitude > (P.neg_limit if negative else P.code_max):
                return BAD_ELEMENT, row, j
            else:
                # validation keeps E - frac_bits >= -1074, so c * 2**(E - frac_bits) is a float64 for
                # |c| <= 2**53; a wider c rounds once in float(c), and the product is then normal
                out[row, j] = np.float64(c) * power_of_two(E - P.frac_bits)
    return 0, 0, 0


@jit
def decode_block_float(elements, exponents, out, L, code_max, B):
    """Block values of floating-point elements; returns as decode_block_fixed."""
    for row in range(elements.shape[0]):
        for j in range(elements.shape[1]):
            b = j // B.block_size
            E = exponents[row, b]
            if E == INVALID_EXPONENT:
                return BAD_SCALE, row, b
            negative, magnitude = code_magnitude(elements[row, j])
            if E == NO_EXPONENT:
                out[row, j] = np.nan
            elif negative or magnitude > code_max:
                return BAD_ELEMENT, row, j
            else:
                inner = decode_float_code(magnitude, L)
                # one correctly rounded multiplication (the exact engine rounds value * 2**E once);
                # NaN and inf pass through unchanged, sign included
                out[row, j] = inner * power_of_two(E) if math.isfinite(inner) else inner
    return 0, 0, 0
