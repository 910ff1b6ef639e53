"""Brute-force references for the format tests, written from the definitions in docs/formats.md.

Nothing here calls lpsim's engines: the grids are enumerated from the format's
parameters, and rounding picks a neighbour on the enumerated grid with exact rationals.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from lpsim.formats import FixedPoint, FloatFormat, RoundingMode, Specials

DETERMINISTIC_MODES = [m for m in RoundingMode if m is not RoundingMode.STOCHASTIC]
NEAREST_MODES = [RoundingMode.NEAREST_EVEN, RoundingMode.NEAREST_AWAY]


def float_magnitudes(fmt: FloatFormat) -> np.ndarray:
    """Every finite non-negative value of ``fmt``, ascending, from the layout rules alone.

    float64 holds each value exactly (lpsim formats live inside float64). Position i is
    the magnitude code i when the format has subnormals (codes grow with magnitude).
    """
    assert fmt.bits <= 16, "enumerate small formats only"
    m, top, bias = fmt.man_bits, (1 << fmt.exp_bits) - 1, fmt.effective_bias
    emin = 1 - bias
    significand = np.arange(1 << m, dtype=np.float64) / (1 << m)  # 0.j in binary
    parts = [np.zeros(1)]
    if fmt.subnormals:
        parts.append(np.ldexp(significand[1:], emin))
    for field in range(1, top + 1):
        if fmt.specials is Specials.IEEE and field == top:
            break
        binade = np.ldexp(1 + significand, field - bias)
        if fmt.specials in (Specials.FN, Specials.P3109) and field == top:
            binade = binade[:-1]  # the all-ones code is NaN (fn) or inf (p3109)
        parts.append(binade)
    values = np.concatenate(parts)
    assert np.all(np.diff(values) > 0)
    return values


def significand_is_even(value: Fraction, fmt: FloatFormat) -> bool:
    """Whether a grid magnitude has an even integer significand (0 counts as even).

    The significand of v in binade 2**e (e >= emin) is v / 2**(e - man_bits); below the
    smallest normal it is v / 2**(emin - man_bits). This is the code's last bit when
    man_bits >= 1 (to_odd's parity); see ``code_is_even`` for nearest_even's.
    """
    if value == 0:
        return True
    e = max(math.floor(math.log2(value)), 1 - fmt.effective_bias)
    significand = value / Fraction(2) ** (e - fmt.man_bits)
    assert significand.denominator == 1
    return significand.numerator % 2 == 0


def code_is_even(value: Fraction, fmt: FloatFormat) -> bool:
    """Whether a grid magnitude's code ends in 0: nearest_even's tie-break. With man_bits = 0
    every normal significand is 1 and the code of 2**e is its exponent field e + bias."""
    if fmt.man_bits > 0 or value == 0:
        return significand_is_even(value, fmt)
    return (math.floor(math.log2(value)) + fmt.effective_bias) % 2 == 0


def _pick(lo_value, hi_value, lo_is_even: bool, x: Fraction, mode: RoundingMode):
    """The choice for lo < x < hi in the modes that need no sign: lo, hi, 'away' or the mode itself."""
    if mode is RoundingMode.NEAREST_EVEN or mode is RoundingMode.NEAREST_AWAY:
        d_lo, d_hi = x - lo_value, hi_value - x
        if d_lo != d_hi:
            return lo_value if d_lo < d_hi else hi_value
        if mode is RoundingMode.NEAREST_EVEN:
            return lo_value if lo_is_even else hi_value
        return "away"
    if mode is RoundingMode.TO_ODD:
        return hi_value if lo_is_even else lo_value
    return mode


def round_float_reference(x: float, fmt: FloatFormat, mode: RoundingMode, magnitudes=None) -> float:
    """Brute-force rounding of a finite x with |x| <= fmt.max into ``fmt`` (sign-magnitude grid)."""
    magnitudes = float_magnitudes(fmt) if magnitudes is None else magnitudes
    negative = math.copysign(1.0, x) < 0
    a = abs(Fraction(x))
    assert a <= Fraction(float(magnitudes[-1])), "the reference handles in-range inputs only"
    i = int(np.searchsorted(magnitudes, abs(x), side="left"))
    if Fraction(float(magnitudes[i])) == a:
        result = a
    else:
        lo, hi = Fraction(float(magnitudes[i - 1])), Fraction(float(magnitudes[i]))
        # Without subnormals the gap [0, smallest_normal] is one step: lo = 0 is the even end.
        lo_is_even = code_is_even(lo, fmt) if mode is RoundingMode.NEAREST_EVEN else significand_is_even(lo, fmt)
        choice = _pick(lo, hi, lo_is_even, a, mode)
        if choice == "away":
            choice = hi
        elif choice is RoundingMode.TOWARD_ZERO:
            choice = lo
        elif choice is RoundingMode.TOWARD_POSITIVE:
            choice = lo if negative else hi
        elif choice is RoundingMode.TOWARD_NEGATIVE:
            choice = hi if negative else lo
        result = choice
    value = float(result)
    if negative and (value != 0 or fmt.has_negative_zero):  # FNUZ and P3109 have no -0
        return -value
    return value


def round_fixed_reference(x: float, fmt: FixedPoint, mode: RoundingMode) -> int:
    """Brute-force code of a finite x in ``fmt`` (power-of-two scale), before overflow handling."""
    v = Fraction(x) / Fraction(fmt.step)
    lo = math.floor(v)
    if lo == v:
        return lo
    hi = lo + 1
    choice = _pick(lo, hi, lo % 2 == 0, v, mode)
    if choice == "away":
        return hi if v > 0 else lo
    if choice is RoundingMode.TOWARD_ZERO:
        return lo if v > 0 else hi
    if choice is RoundingMode.TOWARD_POSITIVE:
        return hi
    if choice is RoundingMode.TOWARD_NEGATIVE:
        return lo
    return choice


def float_bits(values: np.ndarray) -> np.ndarray:
    """float64 bit patterns, for bit-for-bit comparisons (distinguishes -0.0 from 0.0)."""
    return np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)


def assert_same_floats(actual, expected, what: str = "") -> None:
    """Equal bit for bit, except that any NaN matches a NaN of the same sign."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape
    nan_a, nan_e = np.isnan(actual), np.isnan(expected)
    bad = nan_a != nan_e
    both = ~nan_a & ~nan_e
    bad |= both & (float_bits(actual) != float_bits(expected))
    if bad.any():
        idx = np.flatnonzero(bad)[:10]
        raise AssertionError(
            f"{what}: {bad.sum()} mismatches; first: "
            + ", ".join(f"[{i}] {actual.flat[i]!r} != {expected.flat[i]!r}" for i in idx)
        )


def midpoints(sorted_values: np.ndarray) -> np.ndarray:
    """Exact midpoints of consecutive float64 values (exact when both share a binade-scale grid)."""
    a, b = sorted_values[:-1], sorted_values[1:]
    mid = a / 2 + b / 2
    assert all((Fraction(float(p)) + Fraction(float(q))) / 2 == Fraction(float(m)) for p, q, m in zip(a, b, mid))
    return mid
