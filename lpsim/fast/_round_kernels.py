"""Exact integer rounding on float64 bit patterns: the primitives every fast kernel shares.

A finite value is held as (negative, M, s) with |value| = M * 2**s, M a uint64 (the
53-bit significand of a float64, or a wider integer from an accumulator). Scaling by a
power of two is then exact exponent arithmetic: no float division, no underflow.
``round_scaled`` rounds such a value to an integer in any mode, with the exact
engine's definitions (lpsim/exact/rounding.py):

* nearest/directed/odd modes depend only on the magnitude's integer part q, its
  discarded fraction F / 2**sh and the sign;
* stochastic rounding compares random bits with the fraction of the value above its
  floor. Fixed point (two's complement) rounds the signed value, so for a negative
  value that fraction is 1 - F / 2**sh; floats round the magnitude (fraction F / 2**sh).

Shifts go through ``shl``/``shr``: LLVM leaves a shift by 64 or more undefined.
Mode codes are ``RoundingMode.code`` (read in lpsim/fast/_codes.py).
"""

from __future__ import annotations

import math

import numpy as np

from ._codes import NEAREST_AWAY, NEAREST_EVEN, STOCHASTIC, TO_ODD, TOWARD_NEGATIVE, TOWARD_POSITIVE, TOWARD_ZERO
from ._config import jit
from ._rng_kernels import chunk64, first_bits

U0 = np.uint64(0)
U1 = np.uint64(1)
ALL_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)
SIGN_BIT = np.uint64(1 << 63)
ABS_MASK = np.uint64((1 << 63) - 1)
INF_BITS = np.uint64(0x7FF0000000000000)
FRACTION_MASK = np.uint64((1 << 52) - 1)
HIDDEN_BIT = np.uint64(1 << 52)
MASK32 = np.uint64(0xFFFFFFFF)


@jit(inline="always")
def shl(x, n):
    """x << n mod 2**64 for n >= 0 (0 once n >= 64)."""
    if n >= 64:
        return U0
    return np.uint64(x) << np.uint64(n)


@jit(inline="always")
def shr(x, n):
    """x >> n for n >= 0 (0 once n >= 64)."""
    if n >= 64:
        return U0
    return np.uint64(x) >> np.uint64(n)


@jit(inline="always")
def low_mask(n):
    """The n lowest bits set, n in [0, inf) (all 64 once n >= 64)."""
    if n >= 64:
        return ALL_ONES
    return (U1 << np.uint64(n)) - U1


@jit
def bit_length(x):
    """Number of significant bits of a uint64 (0 for 0)."""
    x = np.uint64(x)
    n = 0
    for shift in (32, 16, 8, 4, 2, 1):
        if x >> np.uint64(shift):
            x >>= np.uint64(shift)
            n += shift
    return n + int(x != U0)


@jit(inline="always")
def split_float(bits):
    """(negative, M, e) with |x| = M * 2**e, from the bits of a finite float64 x."""
    bits = np.uint64(bits)
    negative = (bits >> np.uint64(63)) != U0
    field = np.int64((bits >> np.uint64(52)) & np.uint64(0x7FF))
    significand = bits & FRACTION_MASK
    if field == 0:
        return negative, significand, np.int64(-1074)
    return negative, significand | HIDDEN_BIT, field - 1075


@jit(inline="always")
def directed_away(mode, negative, floor):
    """Whether an inexact result leaves its floor (magnitude floor) in a directed mode or to-odd."""
    if mode == TOWARD_POSITIVE:
        return not negative
    if mode == TOWARD_NEGATIVE:
        return negative
    if mode == TO_ODD:
        return (floor & U1) == U0
    return False  # TOWARD_ZERO


@jit
def random_below(fraction_bits, sh, complement, random_bits, seed, stream, index):
    """Stochastic rounding's comparison U < frac, exactly as lpsim.exact.rounding.

    frac = F / 2**sh (0 < F < 2**sh), or 1 - F / 2**sh when ``complement``; U is the
    element's random bit string. With r = random_bits >= 1: first r bits < floor(frac * 2**r).
    With random_bits == 0 (r = None): 64-bit chunks of U against those of frac, to the
    first difference; equal all the way means U >= frac.
    """
    F = np.uint64(fraction_bits)
    r = random_bits
    if r > 0:
        if sh <= r:
            t = shl(F, r - sh)
            if complement:
                t = (U0 - t) & low_mask(r)
        else:
            d = sh - r
            t = shr(F, d)
            if complement:
                ceil = t + np.uint64((F & low_mask(d)) != U0)
                t = (U0 - ceil) & low_mask(r)
        return first_bits(seed, stream, index, r) < t
    n_chunks = (sh + 63) // 64
    for chunk in range(n_chunks):
        s = 64 * (chunk + 1) - sh
        if s >= 0:
            f = shl(F, s)
            if complement:
                f = U0 - f
        else:
            f = shr(F, -s)
            if complement:
                f = U0 - (f + np.uint64((F & low_mask(-s)) != U0))
        u = chunk64(seed, stream, index, chunk)
        if u != f:
            return u < f
    return False


@jit
def round_scaled(negative, M, s, mode, signed_floor, random_bits, seed, stream, index):
    """Round the exact value (-1)**negative * M * 2**s to an integer.

    Returns (magnitude mod 2**64, big) where big means the magnitude is at least 2**64.
    ``signed_floor`` selects fixed-point semantics for stochastic rounding (see module doc).
    ``random_bits`` is r, or 0 for exact-probability stochastic rounding.
    """
    M = np.uint64(M)
    if s >= 0:
        big = M != U0 and (s >= 64 or (s > 0 and (M >> np.uint64(64 - s)) != U0))
        return shl(M, s), big
    sh = -s
    q = shr(M, sh)
    F = M & low_mask(sh)
    if F == U0:
        return q, False
    if mode == NEAREST_EVEN or mode == NEAREST_AWAY:
        if sh > 64:
            away = False
        else:
            half = U1 << np.uint64(sh - 1)
            if F != half:
                away = F > half
            elif mode == NEAREST_EVEN:
                away = (q & U1) != U0
            else:
                away = True
    elif mode != STOCHASTIC:
        away = directed_away(mode, negative, q)
    else:
        # a negative fixed-point value moves toward +inf (smaller magnitude) iff U < 1 - F / 2**sh;
        # one call site with a run-time flag: a constant flag compiles random_below once per value
        complement = signed_floor and negative
        away = random_below(F, sh, complement, random_bits, seed, stream, index) != complement
    return q + np.uint64(away), False


@jit(inline="always")
def mul64(a, b):
    """Full 128-bit product of two uint64: (high, low)."""
    a = np.uint64(a)
    b = np.uint64(b)
    a0, a1 = a & MASK32, a >> np.uint64(32)
    b0, b1 = b & MASK32, b >> np.uint64(32)
    p00 = a0 * b0
    p01 = a0 * b1
    p10 = a1 * b0
    p11 = a1 * b1
    middle = (p00 >> np.uint64(32)) + (p01 & MASK32) + (p10 & MASK32)
    low = (middle << np.uint64(32)) | (p00 & MASK32)
    high = p11 + (p01 >> np.uint64(32)) + (p10 >> np.uint64(32)) + (middle >> np.uint64(32))
    return high, low


@jit
def round_to_float64(negative, high, low, e):
    """(-1)**negative * (high * 2**64 + low) * 2**e, correctly rounded (nearest-even) to float64."""
    high = np.uint64(high)
    low = np.uint64(low)
    if high != U0:
        # keep the top 64 bits and fold the rest into a sticky bit: rounding to at most
        # 53 bits then still sees "below / at / above half" correctly
        n = bit_length(high)
        sticky = (low & low_mask(n)) != U0
        low = (high << np.uint64(64 - n)) | (low >> np.uint64(n)) if n < 64 else high
        low |= np.uint64(sticky)
        e += n
    if low == U0:
        return -0.0 if negative else 0.0
    n = bit_length(low)
    ulp = max(e + n - 53, -1074)
    drop = ulp - e
    if drop <= 0:
        mantissa = low
        ulp = e
    else:
        mantissa = shr(low, drop)
        rest = low & low_mask(drop)
        if drop <= 64:
            half = U1 << np.uint64(drop - 1)
            if rest > half or (rest == half and (mantissa & U1) != U0):
                mantissa += U1
    value = math.ldexp(np.float64(mantissa), int(ulp))
    return -value if negative else value


@jit(inline="always")
def power_of_two(p):
    """2.0**p for p in [-1074, 1023] (exact)."""
    return math.ldexp(1.0, int(p))


# -- branch-free twins of round_scaled, for loops that LLVM vectorizes -----------------
#
# Same results as round_scaled(negative, M, -d, ...) for d >= 0 (a value with d fraction
# bits), computed with selects instead of data-dependent branches. Callers handle d < 0
# (integers) themselves. Bitwise & and | on booleans avoid short-circuit branches.


@jit(inline="always")
def _split_at(M, d):
    """(q, F, inexact) with M = q * 2**d + F, for any d >= 0."""
    wide = d >= 64
    shift = np.uint64(min(d, 63))
    q = U0 if wide else (M >> shift)
    F = M if wide else (M & ((U1 << shift) - U1))
    return q, F, F != U0


@jit(inline="always")
def round_shift_deterministic(negative, M, d, mode):
    """The non-stochastic modes of round_scaled(negative, M, -d, mode, ...), branch-free."""
    q, F, inexact = _split_at(np.uint64(M), d)
    half = U1 << np.uint64(min(max(d - 1, 0), 63))
    in_reach = (d >= 1) & (d <= 64)  # beyond 64 fraction bits, F < half
    above = in_reach & (F > half)
    at_half = in_reach & (F == half)
    odd = (q & U1) != U0
    away = (
        ((mode == NEAREST_EVEN) & (above | (at_half & odd)))
        | ((mode == NEAREST_AWAY) & (above | at_half))
        | ((mode == TOWARD_POSITIVE) & inexact & (not negative))
        | ((mode == TOWARD_NEGATIVE) & inexact & negative)
        | ((mode == TO_ODD) & inexact & (not odd))
    )
    return q + np.uint64(away)


@jit(inline="always")
def first_word_bits(random_bits):
    """The random bits a fast path decides on from an element's first 32-bit word: r, or 32
    when r > 32 or r = None (random_bits 0). Where it differs from random_bits, the fast path
    decides unless the first 32 bits tie with the fraction's."""
    return 32 if random_bits == 0 or random_bits > 32 else random_bits


@jit(inline="always")
def round_shift_stochastic(negative, M, d, signed_floor, random_bits, w):
    """Stochastic round_scaled(negative, M, -d, STOCHASTIC, ...), branch-free.

    w: the element's first random word (32 bits). Returns (magnitude, undecided). With
    r <= 32 the decision is exact. With r > 32 or r = None it is decided on the first 32
    bits: u < t there implies it for r bits, and u > t its opposite; undecided (u == t,
    probability 2**-32) means the caller must use round_scaled.
    """
    q, F, inexact = _split_at(np.uint64(M), d)
    r = first_word_bits(random_bits)
    wide = r != random_bits
    u = np.uint64(w) >> np.uint64(32 - r)
    mask_r = (U1 << np.uint64(r)) - U1
    # floor and ceil of the fraction's first r bits, F * 2**(r - d)
    exact_part = F << np.uint64(min(max(r - d, 0), 63))
    down = d - r
    kept = U0 if down >= 64 else F >> np.uint64(min(max(down, 0), 63))
    rest = (F & low_mask(max(down, 0))) != U0
    floor_t = exact_part if down <= 0 else kept
    ceil_t = exact_part if down <= 0 else kept + np.uint64(rest)
    complement = signed_floor & negative  # fixed point rounds the signed value: fraction 1 - F / 2**d
    t = ((U0 - ceil_t) & mask_r) if complement else floor_t
    below = u < t
    away = inexact & (below ^ complement)
    undecided = wide & inexact & (u == t)
    return q + np.uint64(away), undecided
