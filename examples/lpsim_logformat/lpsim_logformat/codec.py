"""Exact encode/decode of LogFormat, one element at a time (lpsim's exact-engine protocol).

Values. Magnitude code m >= 1 means v_m = the float64 nearest to 2**((m - bias) / 2**f),
computed exactly with integers (an integer 2**f-th root), so it is correctly rounded
and the same everywhere. v_0 = 0.

Rounding happens in the linear domain, between neighbouring values: |x| in
[v_m, v_{m+1}) sits at position t = m + (|x| - v_m) / (v_{m+1} - v_m), and t is
rounded to an integer magnitude code by lpsim's own rounding (``round_magnitude``), so
every lpsim mode means here what it means for fixed point and floats: nearest-even
picks the nearer value (a tie goes to the even magnitude code), directed modes pick
the neighbour in their direction (mirrored for negative x), stochastic rounding goes
up with probability t - floor(t), which makes it unbiased: E[q(x)] = x.
Above the largest value the next, unrepresentable value v_{M+1} is the upper
neighbour; a result past M is an overflow (saturate to +-max, or OverflowError).
NaN gives the NaN code; +-inf is an overflow; zero and results rounding to zero
give +0 (the format has no -0).
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction

from lpsim.exact import ElementRandom, round_magnitude
from lpsim.formats import Overflow, Rounding

from .format import LogFormat


@functools.lru_cache(maxsize=1 << 16)
def _pow2_fraction(k: int, frac_bits: int) -> Fraction:
    """The float64 nearest to 2**(k / 2**frac_bits), as an exact Fraction (k in float64's normal range)."""
    n = 1 << frac_bits
    q, r = divmod(k, n)
    if r == 0:
        return Fraction(2) ** q
    # c = floor(2**(52 + r/n)), the integer n-th root of 2**(52n + r), in [2**52, 2**53).
    target = 1 << (52 * n + r)
    c = int(math.ldexp(2.0 ** (r / n), 52))
    while c**n > target:
        c -= 1
    while (c + 1) ** n <= target:
        c += 1
    # 2**(r/n) is irrational here (0 < r < n), so it is never exactly halfway: compare (c + 1/2)**n.
    if (2 * c + 1) ** n < target << n:
        c += 1
    return Fraction(c) * Fraction(2) ** (q - 52)


def _grid(fmt: LogFormat, m: int) -> Fraction:
    """v_m: 0 for m = 0, else the (correctly rounded) value of magnitude code m; m may be max_code + 1."""
    return Fraction(0) if m == 0 else _pow2_fraction(m - fmt.bias, fmt.frac_bits)


def magnitude_value(fmt: LogFormat, m: int) -> float:
    return float(_grid(fmt, m))


def _floor_code(fmt: LogFormat, magnitude: Fraction, approx: float) -> int:
    """The largest m in [0, max_code + 1] with v_m <= magnitude."""
    top = fmt.max_code + 1
    guess = math.floor(math.log2(approx) * (1 << fmt.frac_bits)) + fmt.bias
    m = min(max(guess, 0), top)
    while m > 0 and _grid(fmt, m) > magnitude:
        m -= 1
    while m < top and _grid(fmt, m + 1) <= magnitude:
        m += 1
    return m


def _overflow(x: float, fmt: LogFormat, negative: bool) -> int:
    if fmt.overflow is Overflow.SATURATE:
        return (fmt.sign_mask if negative else 0) | fmt.max_code
    raise OverflowError(f"{x!r} overflows format {fmt.spec} (max {fmt.max!r})")


def encode_element(x: float, fmt: LogFormat, rounding: Rounding, random: ElementRandom | None) -> int:
    if math.isnan(x):
        return fmt.nan_code
    negative = math.copysign(1.0, x) < 0
    if math.isinf(x):
        return _overflow(x, fmt, negative)
    if x == 0:
        return 0
    magnitude = Fraction(abs(x))
    m = _floor_code(fmt, magnitude, abs(x))
    if m > fmt.max_code:  # at or beyond v_{M+1}: every mode rounds past the largest value
        return _overflow(x, fmt, negative)
    low, high = _grid(fmt, m), _grid(fmt, m + 1)
    position = m + (magnitude - low) / (high - low)
    code = round_magnitude(position, negative, rounding, random)
    if code > fmt.max_code:
        return _overflow(x, fmt, negative)
    if code == 0:
        return 0
    return (fmt.sign_mask if negative else 0) | code


def decode_element(code: int, fmt: LogFormat) -> float:
    if not 0 <= code < (1 << fmt.bits):
        raise ValueError(f"code {code} is outside [0, {(1 << fmt.bits) - 1}] of format {fmt.spec}")
    if code == fmt.nan_code:
        return math.nan
    value = magnitude_value(fmt, code & fmt.max_code)
    return -value if code & fmt.sign_mask else value
