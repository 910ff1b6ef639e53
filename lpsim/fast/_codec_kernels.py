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

from ._codes import FN, FNUZ, IEEE, P3109, SATURATE, WRAP
from ._config import jit
from ._rng_kernels import GROUP, fill_group_words
from ._round_kernels import (
    ABS_MASK,
    FRACTION_MASK,
    HIDDEN_BIT,
    INF_BITS,
    NEAREST_EVEN,
    STOCHASTIC,
    U0,
    U1,
    bit_length,
    first_word_bits,
    mul64,
    power_of_two,
    round_scaled,
    round_shift_deterministic,
    round_shift_stochastic,
    round_to_float64,
    split_float,
)

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


@jit(inline="always")
def encode_fixed_value(x, b, P, R, index, scratch, scratch_bits):
    """Code of one value x (float64 bits b) with random-bit index ``index``: (code, ok)."""
    magnitude_bits = b & ABS_MASK
    if magnitude_bits > INF_BITS:
        return U0, False
    if P.pow2:
        if magnitude_bits == INF_BITS:
            return ((U0 - P.neg_limit) if (b >> np.uint64(63)) else P.code_max), P.overflow == SATURATE
        negative, M, e = split_float(b)
        e += P.frac_bits
    else:
        # a non-power-of-two step: one IEEE division, then exact rounding of its result
        v = x / P.step
        if math.isinf(v):
            return ((U0 - P.neg_limit) if v < 0 else P.code_max), P.overflow == SATURATE
        scratch[0] = v
        negative, M, e = split_float(scratch_bits[0])
    magnitude, big = round_scaled(negative, M, e, R.mode, True, R.random_bits, R.seed, R.stream, index)
    return fixed_code(negative, magnitude, big, P)


@jit
def encode_fixed(x, out, P, R):
    """out[i] = code of x[i] (flat arrays, out unsigned); returns the first rejected index or -1."""
    return encode_fixed_range(x, out, P, R, 0, x.shape[0])


# Fast paths process chunks of up to GROUP (256) elements in a branch-free loop that LLVM
# vectorizes, and redo a chunk element by element with the general code when one of its
# elements needs it (NaN, inf, a float64 subnormal input, an overflow that is not saturated,
# ...). Chunks end where the element index reaches a multiple of GROUP, so a stochastic
# chunk's random words come from one fill_group_words call.

@jit(inline="always")
def chunk_stop(n, start, offset):
    """End (exclusive) of the chunk of a length-n array that starts at ``start``."""
    lead = np.int64((np.uint64(offset) + np.uint64(start)) & np.uint64(GROUP - 1))
    return min(start + GROUP - lead, n)


@jit(inline="always")
def chunk_words(R, start, stop, words):
    """The first random word of elements start .. stop - 1 of the chunk (a view of ``words``)."""
    first = R.offset + np.uint64(start)
    fill_group_words(R.seed, R.stream, first >> np.uint64(8), 0, words)
    lead = np.int64(first & np.uint64(GROUP - 1))
    return words[lead:lead + stop - start]


@jit(inline="always")
def fixed_pow2_lane(b, P, mode, random_bits, stochastic, w):
    """One element of a power-of-two fixed-point format of at most 52 bits, branch-free.

    Returns (code, special); special: redo this element with encode_fixed_value.
    """
    negative = (b >> np.uint64(63)) != U0
    field = np.int64((b >> np.uint64(52)) & np.uint64(0x7FF))
    fraction = b & FRACTION_MASK
    M = fraction | (HIDDEN_BIT if field != 0 else U0)
    special = (field == 0x7FF) | ((field == 0) & (fraction != U0))
    d = 1075 - field - P.frac_bits  # |x| * 2**frac_bits = M * 2**-d
    if stochastic:
        magnitude, undecided = round_shift_stochastic(negative, M, max(d, 0), True, random_bits, w)
        special |= undecided
    else:
        magnitude = round_shift_deterministic(negative, M, max(d, 0), mode)
    # d <= 0 means |v| >= 2**52: past every code of these formats
    out_of_range = ((d <= 0) & (M != U0)) | (magnitude > (P.neg_limit if negative else P.code_max))
    special |= out_of_range & (P.overflow != SATURATE)
    saturated = (U0 - P.neg_limit) if negative else P.code_max
    code = saturated if out_of_range else ((U0 - magnitude) if negative else magnitude)
    return code & P.store_mask, special


@jit(inline="always")
def encode_by_chunks(x, out, P, R, lane, redo):
    """The chunked encode loop of encode_fixed_pow2 and encode_float_chunked: ``lane(b, P, mode,
    random_bits, stochastic, w)`` gives (code, special) for each element of a chunk, branch-free;
    a chunk with a special element is redone by ``redo(x, out, P, R, start, stop)``, which
    returns the first rejected index or -1. Returns as encode_fixed."""
    bits = x.view(np.uint64)
    words = np.empty(GROUP, dtype=np.uint32)
    stochastic = R.mode == STOCHASTIC
    n = x.shape[0]
    start = 0
    while start < n:
        stop = chunk_stop(n, start, R.offset)
        # loops from 0 over slices: LLVM did not vectorize the same loops over range(start, stop)
        chunk_bits, chunk_out = bits[start:stop], out[start:stop]
        special = False
        if stochastic:
            w = chunk_words(R, start, stop, words)
            for j in range(chunk_bits.shape[0]):
                chunk_out[j], flag = lane(chunk_bits[j], P, R.mode, R.random_bits, True, w[j])
                special |= flag
        elif R.mode == NEAREST_EVEN:  # the common mode as a constant: its selects fold away
            for j in range(chunk_bits.shape[0]):
                chunk_out[j], flag = lane(chunk_bits[j], P, NEAREST_EVEN, 0, False, 0)
                special |= flag
        else:
            for j in range(chunk_bits.shape[0]):
                chunk_out[j], flag = lane(chunk_bits[j], P, R.mode, 0, False, 0)
                special |= flag
        if special:
            bad = redo(x, out, P, R, start, stop)
            if bad >= 0:
                return bad
        start = stop
    return -1


@jit(inline="always")
def encode_fixed_range(x, out, P, R, start, stop):
    """Elements start .. stop - 1 of encode_fixed; returns the first rejected index or -1."""
    bits = x.view(np.uint64)
    scratch = np.empty(1, dtype=np.float64)
    scratch_bits = scratch.view(np.uint64)
    for i in range(start, stop):
        code, ok = encode_fixed_value(x[i], bits[i], P, R, R.offset + np.uint64(i), scratch, scratch_bits)
        if not ok:
            return i
        out[i] = code & P.store_mask
    return -1


@jit
def encode_fixed_pow2(x, out, P, R):
    """encode_fixed for a power-of-two step and at most 52 bits, vectorized by chunks."""
    return encode_by_chunks(x, out, P, R, fixed_pow2_lane, encode_fixed_range)


@jit(inline="always")
def fixed_stochastic_lane(x, up, inv_scale, low, high, shift, wide, w):
    """Stochastic rounding of v = x * 2**frac_bits into codes [low, high], saturating, in
    float64 arithmetic, branch-free, for formats with bits + r1 <= 52 (r1 random bits, see
    encode_fixed_stochastic). Returns (code, special) as fixed_pow2_lane.

    The exact engine rounds up iff u < t, with u the first r1 random bits and t = floor(f *
    2**r1), f = v - floor(v): so iff t + u' >= 2**r1, with u' = 2**r1 - 1 - u (the top r1 bits
    of ~w). With V = x * up, up = 2**(frac_bits + r1) (exact: a power-of-two scaling up),
    floor(V) = floor(v) * 2**r1 + t, so the result is floor((floor(V) + u') / 2**r1). The sum
    is exact while |V| < 2**(bits + r1) <= 2**52; past that |v| >= 2**bits and the (rounded,
    still monotone) result saturates either way. With r > 32 (wide) the first 32 bits decide
    unless u == t, i.e. floor(V) + u' + 1 is a multiple of 2**32: those elements, and NaN,
    are special.
    """
    # int32 to float64 converts in SIMD (unsigned does not): flip the top bit, add it back
    u_complement = np.float64(np.int32(np.uint32(~w >> shift) ^ np.uint32(0x80000000))) + 2147483648.0
    s = np.floor(x * up) + u_complement
    k = np.floor(s * inv_scale)
    special = (x != x) | (wide & (np.floor((s + 1.0) * inv_scale) != k))
    k = min(high, max(low, k))  # NaN: low (the element is redone anyway)
    return np.uint64(np.int64(np.int32(k))), special


@jit
def encode_fixed_stochastic(x, out, P, R):
    """encode_fixed for stochastic rounding into saturating formats of at most 31 bits with a
    step 2**-frac_bits, frac_bits >= 0, where bits + r1 <= 52 and frac_bits + r1 <= 1023 (r1 =
    first_word_bits(r)).

    Per chunk, one vectorized loop draws the random words and a second one rounds.
    """
    words = np.empty(GROUP, dtype=np.uint32)
    r1 = first_word_bits(R.random_bits)
    up = power_of_two(P.frac_bits + r1)
    inv_scale = 1.0 / power_of_two(r1)
    low = -np.float64(P.neg_limit)
    high = np.float64(P.code_max)
    shift = np.uint32(32 - r1)
    wide = r1 != R.random_bits
    n = x.shape[0]
    start = 0
    while start < n:
        stop = chunk_stop(n, start, R.offset)
        chunk_x, chunk_out = x[start:stop], out[start:stop]
        w = chunk_words(R, start, stop, words)
        special = False
        for j in range(chunk_x.shape[0]):
            code, flag = fixed_stochastic_lane(chunk_x[j], up, inv_scale, low, high, shift, wide, w[j])
            chunk_out[j] = code & P.store_mask
            special |= flag
        if special:
            bad = encode_fixed_range(x, out, P, R, start, stop)
            if bad >= 0:
                return bad
        start = stop
    return -1


@jit(inline="always")
def code_magnitude(code):
    """(negative, |code| as uint64) of an integer of any dtype."""
    negative = code < 0
    return negative, (U0 - np.uint64(code)) if negative else np.uint64(code)


@jit
def decode_fixed(codes, out, P, narrow):
    """out[i] = codes[i] * step, correctly rounded; returns the first code outside the format, or -1.

    The float64 product is exact (power-of-two step) or one correct rounding (|code| <= 2**53);
    a wider code times a general step rounds its 128-bit product once. ``narrow`` (at most
    53 bits) allows a first vectorized pass: every valid code is then exact in float64.
    """
    if narrow:
        low = -np.float64(P.neg_limit)
        high = np.float64(P.code_max)
        invalid = False
        for i in range(codes.shape[0]):
            c = np.float64(codes[i])
            invalid |= (c < low) | (c > high)
            out[i] = c * P.step
        if not invalid:
            return -1
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


FIXED_GENERAL = 0  # the encode kernel quantize_fixed_one_step runs: encode_fixed
FIXED_POW2 = 1  # encode_fixed_pow2
FIXED_STOCHASTIC = 2  # encode_fixed_stochastic


@jit
def quantize_fixed_one_step(x, out, P, R, encoder, narrow):
    """out[i] = value of the code of x[i]: one of the encode kernels (``encoder``), then
    decode_fixed, in one call, for short arrays whose cost is the calls. P.store_mask must keep
    all 64 bits, so that the uint64 codes read as int64 are the signed codes. Returns as encode_fixed."""
    codes = np.empty(x.shape[0], dtype=np.uint64)
    if encoder == FIXED_STOCHASTIC:
        bad = encode_fixed_stochastic(x, codes, P, R)
    elif encoder == FIXED_POW2:
        bad = encode_fixed_pow2(x, codes, P, R)
    else:
        bad = encode_fixed(x, codes, P, R)
    if bad >= 0:
        return bad
    decode_fixed(codes.view(np.int64), out, P, narrow)  # codes made here are valid: it returns -1
    return -1


# -- floating point -----------------------------------------------------------------


U2 = np.uint64(2)
TIE_FRACTION = np.uint64(1) << np.uint64(51)  # the float64 fraction bits of 1.5 * 2**E


@jit(inline="always")
def is_one_and_a_half(M):
    """Whether M (> 0) is 3 * 2**n: a tie of rounding to a power of two."""
    length = bit_length(M)
    return length >= 2 and M == (np.uint64(3) << np.uint64(length - 2))


@jit
def encode_float_scaled(negative, M, s, P, mode, random_bits, seed, stream, index):
    """Code of (-1)**negative * M * 2**s (M > 0) in the float format P: (code, ok).

    The shared step of float and block encoding (and of arithmetic results): the
    magnitude is rounded once at the grid step of its binade (exponent unbounded
    above), then overflow follows the format's policy as precomputed in P. An unsigned
    format (sign_mask 0) has no negative numbers: their code is its NaN.
    """
    if negative and P.sign_mask == U0:
        return P.nan_pos, P.nan_ok
    E = s + bit_length(M) - 1  # floor(log2(magnitude))
    if E < P.emin:
        q = P.qmin if P.subnormals else P.emin
    else:
        q = E - P.man_bits
    k, _ = round_scaled(negative, M, s - q, mode, False, random_bits, seed, stream, index)
    if P.man_bits == 0 and mode == NEAREST_EVEN and E >= P.emin and k == U2 and is_one_and_a_half(M):
        # a tie with no mantissa bits goes to the even code (lpsim/exact/codec.py says why); the
        # code of 2**E is q - qmin + 1
        k = U1 if (q - P.qmin) % 2 == 1 else U2
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


@jit(inline="always")
def encode_float_value(b, P, R, index):
    """Code of one value (float64 bits b) with random-bit index ``index``: (code, ok)."""
    negative = (b >> np.uint64(63)) != U0
    magnitude_bits = b & ABS_MASK
    if magnitude_bits > INF_BITS:
        return (P.nan_neg if negative else P.nan_pos), P.nan_ok
    if magnitude_bits == INF_BITS:
        return (P.inf_neg if negative else P.inf_pos), not P.inf_error
    if magnitude_bits == U0:
        return (P.sign_mask if (negative and P.negative_zero) else U0), True
    negative, M, e = split_float(b)
    return encode_float_scaled(negative, M, e, P, R.mode, R.random_bits, R.seed, R.stream, index)


@jit
def encode_float(x, out, P, R):
    """out[i] = code of x[i] (flat arrays); returns the first rejected index or -1."""
    return encode_float_range(x, out, P, R, 0, x.shape[0])


@jit(inline="always")
def float_lane(b, P, mode, random_bits, stochastic, w):
    """One element of encode_float_scaled, branch-free: (code, special) as fixed_pow2_lane."""
    negative = (b >> np.uint64(63)) != U0
    field = np.int64((b >> np.uint64(52)) & np.uint64(0x7FF))
    fraction = b & FRACTION_MASK
    M = fraction | (HIDDEN_BIT if field != 0 else U0)  # zero: M = 0 rounds to 0 at any d
    special = (field == 0x7FF) | ((field == 0) & (fraction != U0))
    special |= negative & (P.sign_mask == U0) & (M != U0)  # unsigned formats: negative numbers are NaN
    # ties of formats without mantissa bits go by code parity: encode_float_scaled decides those
    special |= (P.man_bits == 0) & (mode == NEAREST_EVEN) & (fraction == TIE_FRACTION)
    E = field - 1023
    low = E < P.emin
    q = (P.qmin if P.subnormals else P.emin) if low else E - P.man_bits
    d = q - (field - 1075)  # >= 0: the grid step is never finer than x's last bit
    if stochastic:
        k, undecided = round_shift_stochastic(negative, M, d, False, random_bits, w)
        special |= undecided
    else:
        k = round_shift_deterministic(negative, M, d, mode)
    flush = low & (not P.subnormals)
    code = (np.uint64(max(q - P.qmin, 0)) << np.uint64(P.man_bits)) + k
    overflow = (not flush) & ((q > P.qmax) | (code > P.max_code))
    code = (k << np.uint64(P.man_bits)) if flush else code
    sign = P.sign_mask if negative else U0
    zero = (P.sign_mask if (negative & P.negative_zero) else U0)
    result = zero if k == U0 else ((P.overflow_neg if negative else P.overflow_pos) if overflow else (sign | code))
    special |= overflow & P.overflow_error
    return result, special


@jit(inline="always")
def encode_float_range(x, out, P, R, start, stop):
    """Elements start .. stop - 1 of encode_float; returns the first rejected index or -1."""
    bits = x.view(np.uint64)
    for i in range(start, stop):
        code, ok = encode_float_value(bits[i], P, R, R.offset + np.uint64(i))
        if not ok:
            return i
        out[i] = code
    return -1


@jit
def encode_float_chunked(x, out, P, R):
    """encode_float, vectorized by chunks."""
    return encode_by_chunks(x, out, P, R, float_lane, encode_float_range)


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
    if L.sign_mask == U0:  # unsigned (P3109 or FNUZ): NaN at the all-ones code, +inf just below under P3109
        all_ones = (U1 << np.uint64(L.exp_bits + L.man_bits)) - U1
        if code == all_ones:
            return np.nan
        if L.specials == P3109 and code == all_ones - U1:
            return np.inf
    elif (L.specials == FNUZ or L.specials == P3109) and code == L.sign_mask:
        return np.nan
    elif L.specials == P3109 and (code | L.sign_mask) == (L.sign_mask << U1) - U1:
        return math.copysign(np.inf, sign)
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


@jit
def quantize_float_by_table(x, out, table, P, R):
    """out[i] = value of the code of x[i] (encode_float_chunked, then a table of every code's
    value): quantize in one call, for short arrays whose cost is the calls. Returns as encode_float."""
    codes = np.empty(x.shape[0], dtype=np.uint64)
    bad = encode_float_chunked(x, codes, P, R)
    if bad >= 0:
        return bad
    for i in range(x.shape[0]):
        out[i] = table[codes[i]]
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


# -- block formats in one call: quantize -------------------------------------------------


@jit(inline="always")
def block_rows(x, out, outer, n, inner):
    """(float64 bit patterns of x as rows of n, each row's first flat index, rows for the values): x and out
    flat in C order with shape (outer, n, inner), blocks along n; row a * inner + c holds elements (a, :, c).
    With inner == 1 the rows are x and out themselves (x must then be writeable, as a copy would be, so that
    both cases have one Numba type); otherwise copies, which scatter_rows writes back to out."""
    first = np.empty(outer * inner, dtype=np.int64)
    if inner == 1:
        for a in range(outer):
            first[a] = a * n
        return x.view(np.uint64).reshape((outer, n)), first, out.reshape((outer, n))
    rows = np.empty(outer * inner * n, dtype=np.float64)
    for a in range(outer):
        for c in range(inner):
            row = a * inner + c
            first[row] = a * n * inner + c
            for j in range(n):
                rows[row * n + j] = x[first[row] + j * inner]
    return rows.view(np.uint64).reshape((outer * inner, n)), first, np.empty((outer * inner, n), dtype=np.float64)


@jit(inline="always")
def scatter_rows(values, first, inner, out):
    """out[first[row] + j * inner] = values[row, j]: rows back to x's layout (nothing to do when inner == 1)."""
    if inner == 1:
        return
    for row in range(values.shape[0]):
        for j in range(values.shape[1]):
            out[first[row] + j * inner] = values[row, j]


@jit(inline="always")
def block_exponents(bits, n, scales_like, B):
    """Each block's shared exponent (block_scales, its scale codes as ``scales_like``)."""
    n_blocks = (n + B.block_size - 1) // B.block_size
    scales = np.empty((bits.shape[0], n_blocks), dtype=scales_like.dtype)
    exponents = np.empty((bits.shape[0], n_blocks), dtype=np.int64)
    block_scales(bits, scales, exponents, B)
    return exponents


@jit
def quantize_block_float(x, out, outer, n, inner, codes_like, scales_like, P, L, code_max, B, R):
    """out = decode_block_float(encode_block_float(x)) of a block format with float elements in one call, for short
    arrays whose cost is the calls (x, out flat with shape (outer, n, inner), blocks along n). Codes and scale
    codes have the dtypes of ``codes_like`` and ``scales_like`` (empty arrays), the format's own, so the block
    kernels run with the argument types lpsim.encode and lpsim.decode give them: compiled once, not twice."""
    bits, first, values = block_rows(x, out, outer, n, inner)
    exponents = block_exponents(bits, n, scales_like, B)
    elements = np.zeros(bits.shape, dtype=codes_like.dtype)
    encode_block_float(bits, exponents, elements, first, inner, P, B, R)
    decode_block_float(elements, exponents, values, L, code_max, B)  # valid codes: nothing to report
    scatter_rows(values, first, inner, out)


@jit
def quantize_block_fixed(x, out, outer, n, inner, codes_like, unsigned_like, scales_like, P, B, R):
    """As quantize_block_float for fixed-point elements: the codes (signed, as ``codes_like``) are written through
    an unsigned view (as ``unsigned_like``), as encode_block does."""
    bits, first, values = block_rows(x, out, outer, n, inner)
    exponents = block_exponents(bits, n, scales_like, B)
    elements = np.zeros(bits.shape, dtype=codes_like.dtype)
    encode_block_fixed(bits, exponents, elements.view(unsigned_like.dtype), first, inner, P, B, R)
    decode_block_fixed(elements, exponents, values, P, B)
    scatter_rows(values, first, inner, out)
