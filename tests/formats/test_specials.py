"""NaN, +-inf, -0.0 and out-of-range inputs: the documented result per format and overflow policy.

The tables here are the ones in docs/formats.md ("Special values and overflow").
"""

from __future__ import annotations

import math

import attrs
import numpy as np
import pytest

import lpsim
from lpsim.formats import BINARY16, E4M3, E4M3FNUZ, FixedPoint, FloatFormat
from lpsim.formats.presets import E2M1

NAN, INF = math.nan, math.inf
NEG_NAN = -math.nan
H_MAX = BINARY16.max  # 65504
E_MAX = E4M3.max  # 448

B16_SAT = attrs.evolve(BINARY16, overflow="saturate")
B16_ERR = attrs.evolve(BINARY16, overflow="error")
E4M3_SAT = attrs.evolve(E4M3, overflow="saturate")
E4M3_ERR = attrs.evolve(E4M3, overflow="error")
E2M1_ERR = attrs.evolve(E2M1, overflow="error")

# (format, input, expected under nearest_even): a float (NaN compared with its sign) or an exception type
FLOAT_TABLE = [
    (BINARY16, NAN, NAN), (BINARY16, NEG_NAN, NEG_NAN), (BINARY16, INF, INF), (BINARY16, -INF, -INF),
    (BINARY16, -0.0, -0.0), (BINARY16, 1e10, INF), (BINARY16, -1e10, -INF), (BINARY16, 65519.9, H_MAX),
    (BINARY16, 65520.0, INF), (BINARY16, 2.0**-26, 0.0), (BINARY16, -(2.0**-26), -0.0),
    (B16_SAT, NAN, NAN), (B16_SAT, INF, H_MAX), (B16_SAT, -INF, -H_MAX), (B16_SAT, 1e10, H_MAX), (B16_SAT, -0.0, -0.0),
    (B16_ERR, NAN, NAN), (B16_ERR, INF, INF), (B16_ERR, -INF, -INF), (B16_ERR, 1e10, OverflowError),
    (B16_ERR, 65520.0, OverflowError), (B16_ERR, 65519.9, H_MAX),
    (E4M3, NAN, NAN), (E4M3, NEG_NAN, NEG_NAN), (E4M3, INF, NAN), (E4M3, -INF, NEG_NAN), (E4M3, 1e10, NAN),
    (E4M3, -1e10, NEG_NAN), (E4M3, 464.0, E_MAX), (E4M3, 464.01, NAN), (E4M3, -0.0, -0.0),
    (E4M3_SAT, INF, E_MAX), (E4M3_SAT, -INF, -E_MAX), (E4M3_SAT, 1e10, E_MAX), (E4M3_SAT, NAN, NAN),
    (E4M3_ERR, INF, OverflowError), (E4M3_ERR, 1e10, OverflowError), (E4M3_ERR, 464.01, OverflowError), (E4M3_ERR, 460.0, E_MAX),
    (E4M3FNUZ, NAN, NAN), (E4M3FNUZ, NEG_NAN, NAN), (E4M3FNUZ, INF, NAN), (E4M3FNUZ, -INF, NAN),
    (E4M3FNUZ, -0.0, 0.0), (E4M3FNUZ, -(2.0**-20), 0.0), (E4M3FNUZ, 1e10, NAN),
    (E2M1, NAN, ValueError), (E2M1, INF, 6.0), (E2M1, -INF, -6.0), (E2M1, 1e10, 6.0), (E2M1, -0.0, -0.0),
    (E2M1_ERR, INF, OverflowError), (E2M1_ERR, 7.0, OverflowError), (E2M1_ERR, 6.9, 6.0),
]


def _check(engine, fmt, x, expected, rounding="nearest_even"):
    if isinstance(expected, type):
        with pytest.raises(expected) as info:
            lpsim.quantize(x, fmt, rounding, engine=engine)
        assert fmt.spec in str(info.value) or "NaN" in str(info.value)
        return
    got = lpsim.quantize(x, fmt, rounding, engine=engine)
    assert isinstance(got, float)
    if math.isnan(expected):
        assert math.isnan(got) and math.copysign(1, got) == math.copysign(1, expected), (got, expected)
    else:
        assert got == expected and math.copysign(1, got) == math.copysign(1, expected), (got, expected)


@pytest.mark.parametrize("fmt, x, expected", FLOAT_TABLE, ids=[f"{f}-{x}" for f, x, _ in FLOAT_TABLE])
def test_float_specials_and_overflow(fmt, x, expected, engine):
    _check(engine, fmt, x, expected)


# Overflow of finite values under 'ieee' by mode (IEEE 754 7.4): nearest and stochastic go to
# inf (NaN without inf); toward zero, to-odd and the direction pointing back to zero give max.
MODE_TABLE = [
    ("nearest_even", INF, -INF, NAN), ("nearest_away", INF, -INF, NAN), ("stochastic", INF, -INF, NAN),
    ("toward_zero", H_MAX, -H_MAX, E_MAX), ("to_odd", H_MAX, -H_MAX, E_MAX),
    ("toward_positive", INF, -H_MAX, NAN), ("toward_negative", H_MAX, -INF, E_MAX),
]


@pytest.mark.parametrize("mode, pos, neg, fn", MODE_TABLE, ids=[m[0] for m in MODE_TABLE])
def test_ieee_overflow_by_rounding_mode(mode, pos, neg, fn, engine):
    _check(engine, BINARY16, 1e10, pos, mode)
    _check(engine, BINARY16, -1e10, neg, mode)
    _check(engine, E4M3, 1e10, fn, mode)
    # infinite inputs are not an overflow in a format with inf: they stay, whatever the mode
    _check(engine, BINARY16, INF, INF, mode)
    _check(engine, BINARY16, -INF, -INF, mode)
    # saturate ignores the mode
    _check(engine, B16_SAT, -1e10, -H_MAX, mode)


FIXED = FixedPoint(bits=8, frac_bits=4)
FIXED_WRAP = attrs.evolve(FIXED, overflow="wrap")
FIXED_ERR = attrs.evolve(FIXED, overflow="error")
UFIXED = FixedPoint(bits=8, signed=False, frac_bits=4)
UFIXED_WRAP = attrs.evolve(UFIXED, overflow="wrap")
TINY_SCALE = FixedPoint(bits=8, scale=3e-300)

FIXED_TABLE = [
    (FIXED, NAN, ValueError), (FIXED, INF, 127 / 16), (FIXED, -INF, -8.0), (FIXED, 1e300, 127 / 16),
    (FIXED, -0.0, 0.0), (FIXED, 8.0, 127 / 16), (FIXED, -8.03, -8.0),
    (FIXED_WRAP, NAN, ValueError), (FIXED_WRAP, INF, OverflowError), (FIXED_WRAP, 8.0, -8.0),
    (FIXED_WRAP, 9.5, -6.5), (FIXED_WRAP, -8.0625, 127 / 16), (FIXED_WRAP, 2.0**60, 0.0),
    (FIXED_ERR, 8.0, OverflowError), (FIXED_ERR, -8.04, OverflowError), (FIXED_ERR, INF, OverflowError),
    (FIXED_ERR, 7.96, 127 / 16), (FIXED_ERR, -8.03, -8.0),
    (UFIXED, -1.0, 0.0), (UFIXED, -INF, 0.0), (UFIXED, 16.0, 255 / 16), (UFIXED, -0.0, 0.0),
    (UFIXED_WRAP, -1 / 16, 255 / 16), (UFIXED_WRAP, 16.0, 0.0), (UFIXED_WRAP, 17.5, 1.5),
    (TINY_SCALE, 1e300, TINY_SCALE.max), (attrs.evolve(TINY_SCALE, overflow="error"), 1e300, OverflowError),
]


@pytest.mark.parametrize("fmt, x, expected", FIXED_TABLE, ids=[f"{f}-{x}" for f, x, _ in FIXED_TABLE])
def test_fixed_specials_and_overflow(fmt, x, expected, engine):
    _check(engine, fmt, x, expected)


def test_negative_zero_codes(engine):
    assert lpsim.encode(-0.0, BINARY16, engine=engine) == 0x8000
    assert lpsim.encode(-0.0, E4M3FNUZ, engine=engine) == 0
    assert lpsim.encode(-0.0, FIXED, engine=engine) == 0
    assert lpsim.encode(-1e-30, FIXED, "toward_zero", engine=engine) == 0
    assert lpsim.encode(-1e-30, BINARY16, "toward_zero", engine=engine) == 0x8000  # sign of a zero result kept
    assert lpsim.encode(-1e-30, FloatFormat(exp_bits=5, man_bits=2, subnormals=False), engine=engine) == 0x80


def test_overflow_error_names_the_format(engine):
    with pytest.raises(OverflowError, match="fixed8_f4_error"):
        lpsim.encode(np.array([1.0, 100.0]), FIXED_ERR, engine=engine)
    with pytest.raises(OverflowError, match="e5m10_error"):
        lpsim.encode(np.array([1e6]), B16_ERR, engine=engine)
    with pytest.raises(ValueError, match="NaN has no code in fixed-point format fixed8_f4"):
        lpsim.encode(np.array([np.nan]), FIXED, engine=engine)
    with pytest.raises(ValueError, match="NaN has no code in format e2m1_none"):
        lpsim.encode(np.array([np.nan]), E2M1, engine=engine)


def test_nan_codes_decode_with_their_sign(engine):
    assert math.copysign(1, lpsim.decode(np.uint16(0xFE00), BINARY16, engine=engine)) == -1
    assert math.copysign(1, lpsim.decode(np.uint8(0xFF), E4M3, engine=engine)) == -1
    assert math.copysign(1, lpsim.decode(np.uint8(0x7F), E4M3, engine=engine)) == 1
    assert math.isnan(lpsim.decode(np.uint8(0x80), E4M3FNUZ, engine=engine))
    assert lpsim.decode(np.uint8(0x80), E4M3, engine=engine) == 0.0  # -0 in fn formats
