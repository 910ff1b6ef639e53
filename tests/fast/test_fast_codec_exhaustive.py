"""Every code, every midpoint between codes and values past the range ends of small formats,
in every rounding mode: fast == exact. Then independent oracles (numpy and ml_dtypes casts)."""

import math

import numpy as np
import pytest

from lpsim import codec
from lpsim.formats import (
    BFLOAT16, BINARY16, BINARY32, E4M3, E4M3FNUZ, E5M2, E5M2FNUZ, BlockFormat, FixedPoint, FloatFormat, Rounding,
    RoundingMode,
)
from lpsim.formats.presets import E2M1, E2M3, E3M2

ROUNDINGS = [Rounding(mode=m) for m in RoundingMode] + [Rounding(mode="stochastic", random_bits=r) for r in (1, 3, 64)]
SMALL_FIXED = [
    FixedPoint(bits=6, frac_bits=2),
    FixedPoint(bits=5, signed=False, frac_bits=1, overflow="wrap"),
    FixedPoint(bits=4, frac_bits=-2, overflow="wrap"),
    FixedPoint(bits=5, scale=0.3),
]
SMALL_FLOATS = [
    E4M3, E5M2, E4M3FNUZ, E5M2FNUZ, E2M1, E2M3, E3M2,
    FloatFormat(exp_bits=3, man_bits=2, subnormals=False),
    FloatFormat(exp_bits=3, man_bits=1, specials="fn", bias=1, overflow="saturate"),
    FloatFormat(exp_bits=1, man_bits=2, specials="none", subnormals=False),
    FloatFormat(exp_bits=2, man_bits=0, specials="fnuz", overflow="ieee"),
    FloatFormat.p3109(8, 1),  # IEEE P3109: ties without mantissa bits go to the even code
    FloatFormat.p3109(8, 4, overflow="saturate"),
    FloatFormat.p3109(6, 3),
    FloatFormat(exp_bits=3, man_bits=0, specials="p3109", subnormals=False),
]


def grid_and_midpoints(values: np.ndarray) -> np.ndarray:
    """Sorted finite values, their midpoints, quarter points, and points past both ends."""
    v = np.unique(values[np.isfinite(values)])
    mids = (v[:-1] + v[1:]) / 2
    quarters = (v[:-1] + mids) / 2
    step = v[-1] - v[-2]
    ends = [v[-1] + step / 2, v[-1] + step, v[0] - step / 2, v[0] - step, 1e300, -1e300, 5e-324, -5e-324]
    return np.concatenate([v, -v, mids, quarters, ends, [0.0, -0.0, math.inf, -math.inf]])


def all_values(fmt) -> np.ndarray:
    if fmt.family == "fixed":
        codes = np.arange(fmt.code_min, fmt.code_max + 1, dtype=np.int64)
    else:
        codes = np.arange(fmt.n_codes, dtype=np.int64)
    return codec.decode(codes, fmt, engine="exact")


@pytest.mark.parametrize("fmt", SMALL_FIXED + SMALL_FLOATS, ids=lambda f: f.spec)
def test_every_code_and_midpoint_in_every_mode(fmt):
    x = grid_and_midpoints(all_values(fmt))
    for rounding in ROUNDINGS:
        try:
            expected = codec.encode(x, fmt, rounding, seed=3, engine="exact")
        except OverflowError:  # inf under 'wrap'/'error': the element-by-element tests compare messages
            x_finite = x[np.isfinite(x) & (np.abs(x) < 2 * fmt.max)]
            if fmt.family == "fixed" and fmt.overflow.value == "error":
                x_finite = x_finite[(x_finite <= fmt.max) & (x_finite >= fmt.min)]
            expected = codec.encode(x_finite, fmt, rounding, seed=3, engine="exact")
            x = x_finite
        actual = codec.encode(x, fmt, rounding, seed=3, engine="fast")
        assert np.array_equal(actual, expected), (rounding, x[actual != expected])
        assert np.array_equal(codec.decode(actual, fmt).view(np.uint64), codec.decode(expected, fmt, engine="exact").view(np.uint64))


@pytest.mark.parametrize("fmt", [BlockFormat.mx("e4m3", 4), BlockFormat.mx("e2m1", 3), BlockFormat.bfp(5, 4, exponent_bits=5)],
                         ids=lambda f: f.spec)
def test_blocks_over_every_element_value(fmt):
    x = grid_and_midpoints(all_values(fmt.element))
    x = x[np.isfinite(x) & (np.abs(x) < 1e10)]
    x = np.concatenate([x, x * 2.0**-20])[: (x.size * 2 // 12) * 12].reshape(-1, 12)
    for rounding in ROUNDINGS:
        expected = codec.encode(x, fmt, rounding, seed=5, engine="exact")
        actual = codec.encode(x, fmt, rounding, seed=5, engine="fast")
        assert np.array_equal(actual.elements, expected.elements) and np.array_equal(actual.scales, expected.scales)


@pytest.mark.parametrize("fmt, dtype", [(BINARY16, np.float16), (BINARY32, np.float32)], ids=["binary16", "binary32"])
def test_numpy_casts_are_an_oracle_for_nearest_even(fmt, dtype):
    rng = np.random.default_rng(1)
    x = np.concatenate([
        rng.standard_normal(20000) * 10.0 ** rng.integers(-45, 40, 20000),
        grid_and_midpoints(np.arange(0, 0x7C00, 7, dtype=np.uint16).view(np.float16).astype(np.float64)),
    ])
    with np.errstate(over="ignore"):
        expected = x.astype(dtype)
    codes = codec.encode(x, fmt)
    assert np.array_equal(codes, expected.view(codes.dtype))


@pytest.mark.parametrize("fmt, name", [(E4M3, "float8_e4m3fn"), (E5M2, "float8_e5m2"), (E4M3FNUZ, "float8_e4m3fnuz"),
                                       (E5M2FNUZ, "float8_e5m2fnuz"), (BFLOAT16, "bfloat16")])
def test_ml_dtypes_casts_are_an_oracle_at_codes_and_midpoints(fmt, name):
    """ml_dtypes rounds through float32 first, which is exact at codes and midpoints of these formats."""
    ml_dtypes = pytest.importorskip("ml_dtypes")
    dtype = getattr(ml_dtypes, name)
    x = grid_and_midpoints(all_values(fmt) if fmt.bits <= 8 else np.arange(0, 0x7F80, 3, dtype=np.uint16).view(dtype).astype(np.float64))
    x = x[np.abs(x) <= fmt.max]  # ml_dtypes' fn types turn overflow into NaN, lpsim follows its overflow policy
    codes = codec.encode(x, fmt)
    expected = x.astype(dtype).view(codes.dtype)
    assert np.array_equal(codes, expected)
