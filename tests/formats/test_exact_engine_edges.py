"""Edges of the exact engine found while testing it (each of these failed or was unchecked before).

The hand-computed expectations hold for each engine."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

import lpsim
from lpsim.exact.codec import floor_log2
from lpsim.formats import BlockFormat, FixedPoint, FloatFormat


@pytest.mark.parametrize(
    "value",
    [Fraction(1), Fraction(3, 4), Fraction(1, 2**2000), Fraction(2**5000 + 1), Fraction(2**1200 - 1, 2**2),
     Fraction(7, 3), Fraction(1, 3), Fraction(2**64, 3**40), Fraction(5e-324), Fraction(1.7976931348623157e308)],
)
def test_floor_log2_is_exact_at_any_size(value):
    e = floor_log2(value)
    assert Fraction(2) ** e <= value < Fraction(2) ** (e + 1)


def test_block_element_far_below_the_block_scale(engine):
    """x / 2**E below float64's range used to crash (math.log2 of a Fraction that converts to 0.0)."""
    fmt = BlockFormat.mx("e4m3", block_size=2)
    q = lpsim.quantize(np.array([2.0**200, 2.0**-1074]), fmt, engine=engine)
    assert q.tolist() == [448 * 2.0**127, 0.0]  # E clamps at 127: the big element saturates, the tiny one is 0
    q = lpsim.quantize(np.array([2.0**200, -(2.0**-1074)]), fmt, "toward_negative", engine=engine)
    assert q[1] == -(2.0**-9) * 2.0**127  # the smallest element subnormal, scaled, by direction


def test_fixed_power_of_two_scale_is_exact_beyond_float64(engine):
    """v = x * 2**frac_bits exactly, even where that product is outside float64's range."""
    big = FixedPoint(bits=16, frac_bits=1000)
    assert lpsim.encode(1e300, big, engine=engine) == big.code_max  # x * 2**1000 overflows float64; saturates
    coarse = FixedPoint(bits=8, frac_bits=-1000)  # step 2**1000
    assert lpsim.encode(5e-324, coarse, "toward_positive", engine=engine) == 1  # 2**-2074 rounds up to one step
    assert lpsim.encode(-5e-324, coarse, "toward_positive", engine=engine) == 0
    assert lpsim.encode(5e-324, coarse, "nearest_even", engine=engine) == 0


def test_subnormals_off_rounds_on_zero_and_the_smallest_normal(engine):
    fmt = FloatFormat(exp_bits=3, man_bits=2, subnormals=False)  # smallest normal 0.25
    x = np.array([0.1, 0.125, 0.126, 0.2, -0.2, 0.26])
    assert lpsim.quantize(x, fmt, engine=engine).tolist() == [0.0, 0.0, 0.25, 0.25, -0.25, 0.25]
    assert lpsim.quantize(x, fmt, "toward_positive", engine=engine).tolist() == [0.25, 0.25, 0.25, 0.25, -0.0, 0.3125]
    assert lpsim.quantize(x, fmt, "to_odd", engine=engine).tolist()[:2] == [0.25, 0.25]
    # codes with a zero exponent field decode to zero of their sign
    assert lpsim.decode(np.array([1, 2, 3, 0x21], dtype=np.uint8), fmt, engine=engine).tolist() == [0.0, 0.0, 0.0, -0.0]
    assert math.copysign(1, lpsim.decode(np.uint8(0x21), fmt, engine=engine)) == -1


def test_fn_without_mantissa_bits(engine):
    fmt = FloatFormat(exp_bits=3, man_bits=0, specials="fn")  # exponent field 7 is NaN
    assert fmt.max == 8.0 and fmt.nan_code == 7 and fmt.max_code == 6
    assert lpsim.quantize(11.9, fmt, engine=engine) == 8.0
    # 12 is the tie between max (code 6, even) and the overflow 16: it stays at max
    assert lpsim.quantize(12.0, fmt, engine=engine) == 8.0
    assert np.isnan(lpsim.quantize(np.array([12.1, 1e9]), fmt, engine=engine)).all()
    # With no mantissa bits both neighbours have significand 1; a tie goes to the even code
    # (docs/formats.md, "Rounding"): 3 between 2 (code 4) and 4 (code 5), 6 between 4 and 8 (code 6)
    assert lpsim.quantize(np.array([2.5, 3.0, 6.0]), fmt, engine=engine).tolist() == [2.0, 2.0, 8.0]
    assert lpsim.quantize(np.array([3.0, 12.0]), fmt, "toward_zero", engine=engine).tolist() == [2.0, 8.0]


def test_unsigned_fixed_and_wrap(engine):
    u = FixedPoint(bits=4, signed=False, frac_bits=1, overflow="wrap")
    assert lpsim.encode(np.array([-0.5, 7.5, 8.0, 8.5]), u, engine=engine).tolist() == [15, 15, 0, 1]
    s = FixedPoint(bits=4, signed=True, frac_bits=1, overflow="wrap")
    assert lpsim.encode(np.array([-4.5, 4.0, 3.75, -4.0]), s, engine=engine).tolist() == [7, -8, -8, -8]


def test_explicit_non_power_of_two_scale(engine):
    fmt = FixedPoint(bits=8, scale=0.1)
    codes = lpsim.encode(np.array([0.05, 0.15, 0.25, -0.05, 12.7, 12.8, 100.0]), fmt, engine=engine)
    # 0.05/0.1 = 0.5 (tie: even 0); 0.15/0.1 = 1.4999999999999998 -> 1; 0.25/0.1 = 2.5 -> 2
    assert codes.tolist() == [0, 1, 2, 0, 127, 127, 127]
    assert lpsim.decode(np.int8(3), fmt, engine=engine) == 3 * 0.1
