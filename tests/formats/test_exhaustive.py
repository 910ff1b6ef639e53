"""Every code of every format up to 12 bits: decode matches the layout, encode(decode(c)) == c."""

from __future__ import annotations

import numpy as np
import pytest

import lpsim
from lpsim.formats import FixedPoint, FloatFormat, Overflow, Specials

from .formats_ref import float_magnitudes

FLOATS = [
    FloatFormat(exp_bits=2, man_bits=1),
    FloatFormat(exp_bits=3, man_bits=2),
    FloatFormat(exp_bits=4, man_bits=3),
    FloatFormat(exp_bits=5, man_bits=2),
    FloatFormat(exp_bits=5, man_bits=6),
    FloatFormat(exp_bits=4, man_bits=7, bias=3),
    FloatFormat(exp_bits=3, man_bits=2, subnormals=False),
    FloatFormat(exp_bits=6, man_bits=5, subnormals=False, bias=40),
    FloatFormat(exp_bits=4, man_bits=3, specials="fn"),
    FloatFormat(exp_bits=3, man_bits=0, specials="fn"),
    FloatFormat(exp_bits=2, man_bits=3, specials="fn"),
    FloatFormat(exp_bits=5, man_bits=6, specials="fn", bias=-4),
    FloatFormat(exp_bits=4, man_bits=3, specials="fn", subnormals=False),
    FloatFormat(exp_bits=4, man_bits=3, specials="fnuz"),
    FloatFormat(exp_bits=5, man_bits=2, specials="fnuz"),
    FloatFormat(exp_bits=2, man_bits=0, specials="fnuz"),
    FloatFormat(exp_bits=3, man_bits=4, specials="fnuz", bias=11),
    FloatFormat(exp_bits=2, man_bits=1, specials="none"),
    FloatFormat(exp_bits=3, man_bits=2, specials="none"),
    FloatFormat(exp_bits=2, man_bits=3, specials="none"),
    FloatFormat(exp_bits=1, man_bits=2, specials="none"),
    FloatFormat(exp_bits=4, man_bits=7, specials="none", subnormals=False),
]

FIXED = (
    [FixedPoint(bits=b, signed=False, frac_bits=f) for b in range(1, 13) for f in (0, b // 2, -2)]
    + [FixedPoint(bits=b, signed=True, frac_bits=f) for b in range(2, 13) for f in (0, b - 1, 3)]
    + [FixedPoint(bits=6, frac_bits=2, overflow=Overflow.WRAP), FixedPoint(bits=6, signed=False, frac_bits=2, overflow="error")]
)


def _expected_float_decode(fmt: FloatFormat) -> np.ndarray:
    """Value of every code from the layout: magnitude table, sign bit, specials."""
    mags = float_magnitudes(fmt)
    n_half = 1 << (fmt.bits - 1)
    field = (np.arange(n_half) >> fmt.man_bits)
    table = np.full(n_half, np.nan)
    if fmt.subnormals:
        table[: len(mags)] = mags  # magnitude codes ascend with the value
    else:
        normal = field > 0
        table[~normal] = 0.0  # denormals-are-zero
        table[np.flatnonzero(normal)[: len(mags) - 1]] = mags[1:]
    if fmt.specials is Specials.IEEE:
        table[fmt.inf_code] = np.inf
    values = np.concatenate([table, -table])
    if fmt.specials is Specials.FNUZ:
        values[n_half] = np.nan  # the would-be -0 is the only NaN
    return values


@pytest.mark.parametrize("fmt", FLOATS, ids=str)
def test_float_codes_round_trip(fmt, engine):
    codes = np.arange(fmt.n_codes, dtype=np.int64).astype(fmt.code_dtype)
    values = lpsim.decode(codes, fmt, engine=engine)
    expected = _expected_float_decode(fmt)
    np.testing.assert_array_equal(values, expected)  # NaN positions must match too
    assert np.array_equal(np.signbit(values[~np.isnan(values)]), np.signbit(expected[~np.isnan(expected)]))

    n_nan = int(np.isnan(values).sum())
    assert n_nan == {Specials.IEEE: 2 * ((1 << fmt.man_bits) - 1), Specials.FN: 2, Specials.FNUZ: 1, Specials.NONE: 0}[fmt.specials]

    back = lpsim.encode(values[~np.isnan(values)], fmt, engine=engine).astype(np.int64)
    expected_codes = codes[~np.isnan(values)].astype(np.int64)
    if not fmt.subnormals:  # subnormal codes decode to signed zero, which encodes to the zero code
        field = (expected_codes >> fmt.man_bits) & ((1 << fmt.exp_bits) - 1)
        expected_codes = np.where(field == 0, expected_codes & fmt.sign_mask, expected_codes)
    np.testing.assert_array_equal(back, expected_codes)
    # Every rounding mode leaves grid values alone (a sample of them for the larger formats).
    step = 1 if fmt.bits <= 8 else 13
    for mode in ("toward_zero", "toward_positive", "to_odd", "stochastic", "sr3"):
        sample = values[~np.isnan(values)][::step]
        np.testing.assert_array_equal(lpsim.encode(sample, fmt, mode, engine=engine), back[::step])

    if fmt.has_nan:
        nan_codes = lpsim.encode(np.array([np.nan, -np.nan]), fmt, engine=engine).astype(np.int64)
        assert np.isnan(lpsim.decode(nan_codes.astype(fmt.code_dtype), fmt, engine=engine)).all()
        if fmt.specials is Specials.FNUZ:
            assert nan_codes.tolist() == [fmt.sign_mask] * 2
        else:
            assert nan_codes.tolist() == [fmt.nan_code, fmt.nan_code | fmt.sign_mask]


@pytest.mark.parametrize("fmt", FIXED, ids=str)
def test_fixed_codes_round_trip(fmt, engine):
    codes = np.arange(fmt.code_min, fmt.code_max + 1, dtype=np.int64)
    values = lpsim.decode(codes.astype(fmt.code_dtype), fmt, engine=engine)
    np.testing.assert_array_equal(values, codes * fmt.step)
    back = lpsim.encode(values, fmt, engine=engine)
    assert back.dtype == fmt.code_dtype
    np.testing.assert_array_equal(back.astype(np.int64), codes)


@pytest.mark.parametrize("fmt", [FloatFormat(exp_bits=4, man_bits=3), FixedPoint(bits=5, frac_bits=1)], ids=str)
def test_decode_rejects_codes_outside_the_format(fmt, engine):
    with pytest.raises(ValueError, match=f"outside .* the codes of format {fmt.spec}"):
        lpsim.decode(np.array([fmt.n_codes + 3]), fmt, engine=engine)
    with pytest.raises(ValueError, match="outside"):
        lpsim.decode(np.array([-(fmt.n_codes)]), fmt, engine=engine)
    with pytest.raises(TypeError, match="integer"):
        lpsim.decode(np.array([1.0]), fmt, engine=engine)
