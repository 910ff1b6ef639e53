"""FP8 / FP6 / FP4 / bfloat16 agree with ml_dtypes casts at every code and every midpoint.

ml_dtypes casts from float64 went through float32 up to version 0.6 (double rounding) and
round once from 0.7 on, so ml_dtypes is used as an oracle only where the input is exact in
float32, where every version agrees: every code value and every midpoint between
neighbouring codes of these formats is. The last test asserts lpsim's single rounding of
float64 inputs that are not float32 numbers on its own, and compares with ml_dtypes only
where the installed version rounds once.
"""

from __future__ import annotations

import numpy as np
import pytest

import lpsim
from lpsim.formats import FloatFormat, presets

from .formats_ref import midpoints

ml_dtypes = pytest.importorskip("ml_dtypes")

ORACLES = [
    (presets.E4M3, "float8_e4m3fn"),
    (presets.E5M2, "float8_e5m2"),
    (presets.E4M3FNUZ, "float8_e4m3fnuz"),
    (presets.E5M2FNUZ, "float8_e5m2fnuz"),
    (FloatFormat(exp_bits=4, man_bits=3, specials="fnuz", bias=11), "float8_e4m3b11fnuz"),
    (FloatFormat(exp_bits=4, man_bits=3), "float8_e4m3"),
    (FloatFormat(exp_bits=3, man_bits=4), "float8_e3m4"),
    (presets.E3M2, "float6_e3m2fn"),
    (presets.E2M3, "float6_e2m3fn"),
    (presets.E2M1, "float4_e2m1fn"),
]


def _dtype(name):
    if not hasattr(ml_dtypes, name):
        pytest.skip(f"ml_dtypes has no {name}")
    return getattr(ml_dtypes, name)


def oracle_codes(x: np.ndarray, dtype, fmt) -> np.ndarray:
    assert np.array_equal(x.astype(np.float32).astype(np.float64), x, equal_nan=True), "oracle inputs must be exact in float32"
    return x.astype(np.float32).astype(dtype).view(np.uint8).astype(np.int64) & (fmt.n_codes - 1)


def inputs_for(fmt) -> np.ndarray:
    """Every finite code value, every midpoint between neighbours (including the one past max,
    where nearest-even decides between max and overflow), +-inf, values far beyond max, -0.0."""
    codes = np.arange(fmt.n_codes, dtype=np.int64).astype(fmt.code_dtype)
    values = lpsim.decode(codes, fmt, engine="exact")  # only builds the inputs; the tests check both engines
    finite = np.unique(values[np.isfinite(values)])  # ascending; 0.0 and -0.0 merge
    past_max = fmt.max + (fmt.max - finite[-2])  # the next grid value after max, unbounded exponent
    positive = finite[finite >= 0]
    mids = midpoints(np.append(positive, past_max))
    beyond = np.array([past_max, fmt.max * 4, 2.0**100, np.inf])
    x = np.concatenate([positive, mids, beyond])
    return np.concatenate([x, -x, [-0.0]])


@pytest.mark.parametrize("fmt, name", ORACLES, ids=[n for _, n in ORACLES])
def test_every_code_and_midpoint_matches_ml_dtypes(fmt, name, engine):
    dtype = _dtype(name)
    x = inputs_for(fmt)
    ours = lpsim.encode(x, fmt, engine=engine).astype(np.int64)
    expected = oracle_codes(x, dtype, fmt)
    ours_values = lpsim.decode(ours.astype(fmt.code_dtype), fmt, engine=engine)
    theirs_values = expected.astype(np.uint8).view(dtype).astype(np.float64)
    both_nan = np.isnan(ours_values) & np.isnan(theirs_values)
    mismatch = (ours != expected) & ~both_nan
    assert not mismatch.any(), f"{name}: {x[mismatch][:8]} -> ours {ours[mismatch][:8]}, ml_dtypes {expected[mismatch][:8]}"
    # decode agrees with ml_dtypes at every code (NaN-ness compared for NaN codes)
    codes = np.arange(fmt.n_codes, dtype=np.uint8)
    ours = lpsim.decode(codes, fmt, engine=engine)
    theirs = codes.view(dtype).astype(np.float64)
    assert np.array_equal(np.isnan(ours), np.isnan(theirs))
    np.testing.assert_array_equal(ours[~np.isnan(ours)], theirs[~np.isnan(theirs)])
    assert np.array_equal(np.signbit(ours[~np.isnan(ours)]), np.signbit(theirs[~np.isnan(theirs)]))


def test_nan_codes_match_ml_dtypes(engine):
    for fmt, name in [(presets.E4M3, "float8_e4m3fn"), (presets.E5M2, "float8_e5m2"), (presets.E4M3FNUZ, "float8_e4m3fnuz")]:
        dtype = _dtype(name)
        x = np.array([np.nan, -np.nan])
        assert lpsim.encode(x, fmt, engine=engine).tolist() == oracle_codes(x, dtype, fmt).tolist()


def test_bfloat16_every_code_and_a_sample_of_midpoints(engine):
    dtype = _dtype("bfloat16")
    fmt = presets.BFLOAT16
    codes = np.arange(1 << 16, dtype=np.uint16)
    ours = lpsim.decode(codes, fmt, engine=engine)
    with np.errstate(invalid="ignore"):
        theirs = codes.view(dtype).astype(np.float64)
    assert np.array_equal(np.isnan(ours), np.isnan(theirs))
    np.testing.assert_array_equal(ours[~np.isnan(ours)], theirs[~np.isnan(theirs)])
    positive = ours[: 0x7F80]
    rng = np.random.default_rng(3)
    pick = np.sort(rng.choice(len(positive) - 1, 1500, replace=False))
    pick = np.concatenate([np.arange(0, 40), pick, np.arange(len(positive) - 41, len(positive) - 1)])
    mids = positive[pick] / 2 + positive[pick + 1] / 2
    x = np.concatenate([positive[pick], mids, -mids, [fmt.max + 2.0**(127 - 8), np.inf, -np.inf, -0.0]])
    assert np.array_equal(x.astype(np.float32).astype(np.float64), x)
    expected = x.astype(np.float32).astype(dtype).view(np.uint16)
    np.testing.assert_array_equal(lpsim.encode(x, fmt, engine=engine), expected)


@pytest.mark.parametrize(
    "fmt, name, x, correct",
    [
        # 1.0625 is the midpoint of 1.0 and 1.125 in E4M3; 2**-40 above it must round up.
        (presets.E4M3, "float8_e4m3fn", 1.0625 + 2.0**-40, 1.125),
        # 1 + 2**-8 is the midpoint of 1.0 and 1.0078125 in bfloat16.
        (presets.BFLOAT16, "bfloat16", 1 + 2.0**-8 + 2.0**-30, 1.0078125),
    ],
)
def test_lpsim_rounds_float64_inputs_once(fmt, name, x, correct, engine):
    """Inputs not exact in float32, where rounding through float32 first would tie and go to
    the even neighbour. lpsim's answer is asserted on its own (each engine); ml_dtypes is only
    compared where it rounds once (0.7 and later; up to 0.6 it went through float32), so the
    test holds whatever version is installed."""
    assert lpsim.quantize(x, fmt, engine=engine) == correct
    assert lpsim.quantize(-x, fmt, engine=engine) == -correct
    dtype = _dtype(name)
    theirs = float(np.array([x]).astype(dtype).astype(np.float64)[0])
    through_float32 = float(np.array([x], dtype=np.float32).astype(dtype).astype(np.float64)[0])
    if theirs != through_float32:  # this ml_dtypes rounds float64 once: it must agree with lpsim
        assert theirs == correct
