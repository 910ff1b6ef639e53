"""Compiled encode (and quantize) of a ScaledBlockFormat in one call, the same bits as lpsim/exact/scaled_codec.py.

The kernel is the scalar form of lpsim/fast/scaled_codec.py's vectorized path: rounding a
quotient v / d (v >= 0, d > 0) onto a grid of a format's finite non-negative values needs only
exact comparisons of v with grid values and midpoints times d, and those products are float64
numbers when the factors have few enough significant bits and their lowest bits do not
underflow. The kernel checks that per block (the grids' bit counts come in ScaledParams) and,
where it cannot, or where a random word cannot decide a stochastic rounding, or where a block
holding NaN or inf meets a scale format without NaN, stops and returns FALLBACK: the caller then
runs the vectorized path, which finishes (or raises) as before. Overflowing products are
harmless: an infinite product compares above every finite v, as the exact product would.

Arrays are flat in C order; an array of shape (outer, n, inner) has its blocks along n, so
element (a, j, c) is at (a n + j) inner + c and needs no moved copy.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from ._codes import NEAREST_AWAY, NEAREST_EVEN, STOCHASTIC, TO_ODD, TOWARD_NEGATIVE, TOWARD_POSITIVE
from ._config import jit
from ._rng_kernels import first_bits
from ._round_kernels import U0, bit_length

ScaledParams = namedtuple(
    "ScaledParams",
    "grid codes element_count scale_count element_sign_mask element_negative_zero scale_nan block_size "
    "element_max tensor_divisor tensor "
    "scale_mode element_grid_bits element_grid_low scale_grid_bits scale_grid_low",
)
ScaledParams.__doc__ = """A ScaledBlockFormat for the kernel. grid: the element format's finite non-negative
values in increasing order (element_count of them), the midpoints between them, then the same two for the
scale format (scale_count values); codes: the element values' codes, then the scale values' (one array
each, not six: every array in the tuple costs a call time to unbox);
scale_nan: the scale format's NaN code, or -1 if it has none; tensor_divisor: element.max * scale.max
(exact); *_grid_bits, *_grid_low: the most significant bits of any value or midpoint of the grid and
the exponent of the lowest bit set in any of them (what the exactness checks of products need)."""

OK = 0
FALLBACK = 1  # the kernel could not settle this call: run the vectorized path

_FLOAT64_BITS = 53
_LOWEST_EXPONENT = -1074  # float64's smallest step is 2**-1074
_SPLITTER = 2.0**27 + 1  # Veltkamp's split of a float64 into two 26-bit halves
_SAFE_PRODUCT = 2.0**900  # splits and products of factors within this range neither overflow nor underflow
_FLOAT32_MAX = float(np.finfo(np.float32).max)
_FLOAT32_MIN_NORMAL = 2.0**-126
_FLOAT32_TINY = 2.0**-149


@jit(inline="always")
def bits_and_low(x):
    """(significant bits, exponent of the lowest set bit) of a positive finite float64."""
    m, e = math.frexp(x)
    M = np.uint64(m * 9007199254740992.0)  # m * 2**53: an integer, x = M * 2**(e - 53)
    lowest = M & (U0 - M)
    shift = bit_length(lowest) - 1
    return bit_length(M >> np.uint64(shift)), e - _FLOAT64_BITS + shift


@jit(inline="always")
def exact_with(bits, low, d):
    """Whether every product of d (> 0, finite) with numbers of at most ``bits`` significant bits, none with a
    set bit below 2**low, is a float64 number (or overflows, which comparisons treat as the exact product)."""
    d_bits, d_low = bits_and_low(d)
    return bits + d_bits <= _FLOAT64_BITS and low + d_low >= _LOWEST_EXPONENT


@jit(inline="always")
def exact_product(a, b):
    """Whether a * b (both > 0, finite) is a float64 number."""
    a_bits, a_low = bits_and_low(a)
    return exact_with(a_bits, a_low, b) and math.isfinite(a * b)


@jit(inline="always")
def floor_index(v, d, values):
    """The largest k with values[k] * d <= v (v >= 0, d > 0, values[0] == 0, the products exact)."""
    last = values.shape[0] - 1
    q = v / d  # within a step or two of the answer: a binary search for it, then exact comparisons
    low, high = 0, last
    while low < high:
        middle = (low + high + 1) // 2
        if values[middle] <= q:
            low = middle
        else:
            high = middle - 1
    k = low
    while k > 0 and values[k] * d > v:
        k -= 1
    while k < last and values[k + 1] * d <= v:
        k += 1
    return k


@jit(inline="always")
def rounded_index(v, d, values, codes, mids, mode, negative):
    """Index of v / d rounded onto the grid in a deterministic mode, saturating at the largest value
    (the scalar twin of scaled_codec.rounded_index; directed modes mirrored for a ``negative`` value)."""
    last = values.shape[0] - 1
    lo = floor_index(v, d, values)
    if lo >= last or values[lo] * d == v:
        return lo
    if mode == NEAREST_EVEN or mode == NEAREST_AWAY:
        mid = mids[lo] * d
        up = v > mid or (v == mid and (mode == NEAREST_AWAY or (codes[lo] & 1) == 1))
    elif mode == TO_ODD:
        up = (codes[lo] & 1) == 0
    elif mode == TOWARD_POSITIVE:
        up = not negative
    elif mode == TOWARD_NEGATIVE:
        up = negative
    else:  # TOWARD_ZERO
        up = False
    return lo + 1 if up else lo


@jit(inline="always")
def two_product(a, b):
    """(p, e) with p = fl(a * b) and p + e = a * b exactly (Dekker), for |a|, |b| within 1/_SAFE_PRODUCT .. _SAFE_PRODUCT."""
    t = _SPLITTER * a
    a_high = t - (t - a)
    a_low = a - a_high
    t = _SPLITTER * b
    b_high = t - (t - b)
    b_low = b - b_high
    p = a * b
    return p, ((a_high * b_high - p) + a_high * b_low + a_low * b_high) + a_low * b_low


@jit(inline="always")
def stochastic_index(v, d, values, word, random_bits):
    """(index, undecided) of v / d rounded stochastically as the exact engine does, from the element's first
    random word (the scalar twin of scaled_codec.stochastic_index, whose docstring has the argument)."""
    last = values.shape[0] - 1
    lo = floor_index(v, d, values)
    below = values[lo] * d
    if lo >= last or below == v:
        return lo, False
    r = 32 if random_bits == 0 else random_bits
    step = (values[lo + 1] - values[lo]) * d
    remainder = math.ldexp(v - below, r)  # f * 2**r * step, exactly
    guess = np.rint(remainder / step)
    if not (1 / _SAFE_PRODUCT < step < _SAFE_PRODUCT and remainder < _SAFE_PRODUCT and guess < _SAFE_PRODUCT):
        return lo, True
    product, error = two_product(guess, step)
    at_least = remainder > product or (remainder == product and error <= 0)  # f * 2**r >= guess
    floor = guess if at_least else guess - 1
    u = np.float64(word >> np.uint64(32 - r))
    if random_bits == 0 and u == floor and not (remainder == product and error == 0):
        return lo, True  # the exact engine reads further words
    return (lo + 1 if u < floor else lo), False


@jit(inline="always")
def float32_gap_above(v):
    """The distance from a float32 value v >= 0 to the next one."""
    if v < _FLOAT32_MIN_NORMAL:
        return _FLOAT32_TINY
    return math.ldexp(1.0, math.frexp(v)[1] - 24)


@jit(inline="always")
def float32_below(v):
    """The float32 value just below a positive float32 value v."""
    gap = float32_gap_above(v)
    if v > _FLOAT32_MIN_NORMAL and math.frexp(v)[0] == 0.5:  # a power of two: the binade below is finer
        return v - gap / 2
    return v - gap


@jit(inline="always")
def float32_scale(amax, divisor):
    """amax / divisor (both > 0, divisor with at most 28 significant bits) rounded to float32, nearest even,
    saturating, and never 0 (the smallest positive float32 instead), as exact.scaled_codec.tensor_scale_of."""
    lo = np.float64(np.float32(amax / divisor))
    lo = min(lo, _FLOAT32_MAX)
    while lo > 0 and lo * divisor > amax:
        lo = float32_below(lo)
    while lo < _FLOAT32_MAX and (lo + float32_gap_above(lo)) * divisor <= amax:
        lo += float32_gap_above(lo)
    t = lo
    if lo * divisor != amax and lo < _FLOAT32_MAX:
        gap = float32_gap_above(lo)
        middle = (lo + gap / 2) * divisor
        odd = (np.int64(lo / gap) & 1) == 1
        if amax > middle or (amax == middle and odd):
            t = lo + gap
    return t if t > 0 else _FLOAT32_TINY


@jit
def encode_scaled_blocks(x, outer, n, inner, values_out, element_out, scale_out, with_codes, with_values, P, R):
    """Codes (element_out, scale_out; if with_codes) and values (values_out; if with_values) of x, flat in C
    order with shape (outer, n, inner), blocks along n; returns (OK or FALLBACK, the tensor scale)."""
    ne, ns = P.element_count, P.scale_count
    element_values, element_mids = P.grid[:ne], P.grid[ne:2 * ne - 1]
    scale_values, scale_mids = P.grid[2 * ne - 1:2 * ne - 1 + ns], P.grid[2 * ne - 1 + ns:]
    element_codes, scale_codes = P.codes[:ne], P.codes[ne:]
    tensor = 1.0
    if P.tensor:
        amax = 0.0
        for i in range(x.shape[0]):
            a = abs(x[i])
            if a > amax and a != np.inf:  # NaN compares false
                amax = a
        if amax > 0:
            tensor = float32_scale(amax, P.tensor_divisor)
    divisor = P.element_max * tensor
    if not (exact_product(P.element_max, tensor) and exact_with(P.scale_grid_bits, P.scale_grid_low, divisor)):
        return FALLBACK, tensor
    size = P.block_size
    n_blocks = (n + size - 1) // size
    stochastic = R.mode == STOCHASTIC
    sign_mask = np.uint64(P.element_sign_mask)
    for a in range(outer):
        for b in range(n_blocks):
            start = b * size
            stop = min(start + size, n)
            for c in range(inner):
                first = (a * n + start) * inner + c
                last = (a * n + stop - 1) * inner + c
                finite = True
                block_max = 0.0
                for i in range(first, last + 1, inner):
                    magnitude = abs(x[i])
                    finite &= magnitude < np.inf
                    block_max = max(block_max, magnitude)
                scale_at = (a * n_blocks + b) * inner + c
                if not finite:
                    if P.scale_nan < 0:
                        return FALLBACK, tensor  # the vectorized path raises the exact engine's error
                    if with_codes:
                        scale_out[scale_at] = P.scale_nan
                    for i in range(first, last + 1, inner):
                        if with_codes:
                            element_out[i] = 0
                        if with_values:
                            values_out[i] = np.nan
                    continue
                k_scale = 0
                s = 1.0
                if block_max > 0:
                    k_scale = max(rounded_index(block_max, divisor, scale_values, scale_codes, scale_mids,
                                                P.scale_mode, False), 1)  # never the zero scale
                    s = scale_values[k_scale] * tensor
                    if not (exact_product(scale_values[k_scale], tensor)
                            and exact_with(P.element_grid_bits, P.element_grid_low, s)):
                        return FALLBACK, tensor
                if with_codes:
                    scale_out[scale_at] = scale_codes[k_scale]
                scale_value = scale_values[k_scale]
                for i in range(first, last + 1, inner):
                    v = x[i]
                    negative = v < 0 or (v == 0 and math.copysign(1.0, v) < 0)
                    k = 0
                    if block_max > 0 and v != 0:
                        if stochastic:
                            word = first_bits(R.seed, R.stream, R.offset + np.uint64(i), np.int64(32))
                            k, undecided = stochastic_index(abs(v), s, element_values, word, R.random_bits)
                            if undecided:
                                return FALLBACK, tensor
                        else:
                            k = rounded_index(abs(v), s, element_values, element_codes, element_mids, R.mode,
                                              negative)
                    negative &= P.element_negative_zero or k > 0
                    if with_codes:
                        code = np.uint64(element_codes[k])
                        element_out[i] = (code | sign_mask) if negative else code
                    if with_values:
                        # the element times the scale is exact (few bits), so this rounds once, as decoding does
                        element = -element_values[k] if negative else element_values[k]
                        values_out[i] = element * scale_value * tensor
    return OK, tensor
