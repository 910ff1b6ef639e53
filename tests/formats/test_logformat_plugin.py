"""The example plugin's LogFormat: values against a decimal oracle, rounding against brute force, fast == exact."""

from __future__ import annotations

import bisect
import decimal
import functools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lpsim
import lpsim.fast
from lpsim.formats import Overflow, Rounding, RoundingMode

SMALL = [
    dict(bits=5, frac_bits=0),
    dict(bits=6, frac_bits=2),
    dict(bits=8, frac_bits=3),
    dict(bits=8, frac_bits=7),
    dict(bits=7, frac_bits=8),
    dict(bits=9, frac_bits=4, bias=10),
]


@pytest.fixture(params=SMALL, ids=lambda p: "_".join(f"{k}{v}" for k, v in p.items()))
def fmt(request, logformat):
    return logformat.LogFormat(**request.param)


def decimal_value(k: int, frac_bits: int) -> float:
    """2**(k / 2**frac_bits) to 60 digits, then to the nearest float64: an independent oracle."""
    with decimal.localcontext() as ctx:
        ctx.prec = 60
        return float(decimal.Decimal(2) ** (decimal.Decimal(k) / (1 << frac_bits)))


def all_codes(fmt) -> np.ndarray:
    return np.arange(fmt.n_codes, dtype=fmt.code_dtype)


@functools.lru_cache(maxsize=None)
def grid(fmt) -> tuple[float, ...]:
    """Every magnitude, ascending: 0, v_1, ..., v_M."""
    return (0.0,) + tuple(decimal_value(m - fmt.bias, fmt.frac_bits) for m in range(1, fmt.max_code + 1))


def test_decoded_values_are_correctly_rounded_powers_of_two(fmt):
    values = lpsim.decode(all_codes(fmt), fmt, engine="exact")
    magnitudes = grid(fmt)
    for code, value in enumerate(values):
        if code == fmt.nan_code:
            assert math.isnan(value)
        else:
            sign = -1.0 if code & fmt.sign_mask else 1.0
            assert value == sign * magnitudes[code & fmt.max_code], code
    assert fmt.max == magnitudes[-1] and fmt.smallest_normal == magnitudes[1]
    assert all(a < b for a, b in zip(magnitudes, magnitudes[1:]))


@pytest.mark.parametrize("mode", list(RoundingMode))
def test_every_code_round_trips(fmt, mode):
    codes = all_codes(fmt)
    values = lpsim.decode(codes, fmt, engine="exact")
    assert np.array_equal(lpsim.encode(values, fmt, Rounding(mode=mode), seed=3, engine="exact"), codes)


def reference_round(x: float, fmt, mode: RoundingMode) -> float:
    """Brute force: the representable neighbours of |x| by search over the whole value list."""
    magnitudes = grid(fmt)
    a = Fraction(abs(x))
    i = bisect.bisect_right(magnitudes, abs(x)) - 1  # float comparison is exact
    below = magnitudes[i]
    above = magnitudes[i] if magnitudes[i] == abs(x) else (magnitudes[i + 1] if i + 1 < len(magnitudes) else math.inf)
    negative = math.copysign(1.0, x) < 0
    if mode is RoundingMode.TOWARD_ZERO:
        pick = below
    elif mode is RoundingMode.TOWARD_POSITIVE:
        pick = below if negative else above
    elif mode is RoundingMode.TOWARD_NEGATIVE:
        pick = above if negative else below
    else:
        if above == math.inf:
            pick = below
        else:
            d_below, d_above = a - Fraction(below), Fraction(above) - a
            if d_below != d_above:
                pick = below if d_below < d_above else above
            elif mode is RoundingMode.NEAREST_AWAY:
                pick = above
            else:  # ties to the even magnitude code
                pick = below if i % 2 == 0 else above
    pick = min(pick, magnitudes[-1])
    return 0.0 if pick == 0 else (-pick if negative else pick)


def probe_values(fmt) -> np.ndarray:
    """Every value, every linear midpoint, one float64 step either side, and beyond the range."""
    magnitudes = np.array(grid(fmt))
    mids = (magnitudes[:-1] + magnitudes[1:]) / 2
    points = np.concatenate([magnitudes, mids, [fmt.max * 1.01, fmt.max * 7, fmt.smallest_normal / 3]])
    points = np.concatenate([points, np.nextafter(points, 0), np.nextafter(points, np.inf)])
    return np.concatenate([points, -points])


@pytest.mark.parametrize("mode", [RoundingMode.NEAREST_EVEN, RoundingMode.NEAREST_AWAY, RoundingMode.TOWARD_ZERO,
                                  RoundingMode.TOWARD_POSITIVE, RoundingMode.TOWARD_NEGATIVE])
def test_rounding_matches_brute_force(fmt, mode):
    x = probe_values(fmt)
    got = lpsim.quantize(x, fmt, Rounding(mode=mode), engine="exact")
    expected = np.array([reference_round(v, fmt, mode) for v in x])
    assert np.array_equal(got, expected)
    assert not np.any(np.signbit(got) & (got == 0))  # the format has no -0


def test_stochastic_rounding_is_unbiased_in_the_linear_domain(logformat):
    fmt = logformat.LOG8
    lo, hi = 1.0, lpsim.decode(np.array([65]), fmt, engine="exact")[0]
    x = lo + 0.3 * (hi - lo)
    n = 4000
    q = lpsim.quantize(np.full(n, x), fmt, "stochastic", seed=11, engine="exact")
    assert set(np.unique(q)) == {lo, hi}
    p = (x - lo) / (hi - lo)
    sigma = (hi - lo) * math.sqrt(p * (1 - p) / n)
    assert abs(q.mean() - x) < 4.5 * sigma
    # With r random bits the probability is floor(p * 2**r) / 2**r: r = 1 gives 0 here (p < 1/2).
    q1 = lpsim.quantize(np.full(200, x), fmt, Rounding(mode="stochastic", random_bits=1), seed=11, engine="exact")
    assert np.all(q1 == lo)


def test_specials_and_overflow(logformat):
    fmt = logformat.LOG8
    x = np.array([np.nan, np.inf, -np.inf, 1e300, -1e300, -0.0, 0.0, -1e-300])
    codes = lpsim.encode(x, fmt, engine="exact")
    assert list(codes) == [fmt.nan_code, 127, 255, 127, 255, 0, 0, 0]
    strict = logformat.LogFormat(bits=8, frac_bits=3, overflow="error")
    with pytest.raises(OverflowError, match="log8_f3_error"):
        lpsim.encode(np.array([300.0]), strict, engine="exact")
    assert lpsim.encode(np.array([fmt.max * 1.01]), strict, "toward_zero", engine="exact")[0] == 127
    with pytest.raises(ValueError, match=r"outside \[0, 255\]"):
        lpsim.decode(np.array([256]), fmt, engine="exact")


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(bits=1, frac_bits=0), ValueError, r"bits must be in \[2, 32\], got 1"),
    (dict(bits=33, frac_bits=0), ValueError, r"bits must be in \[2, 32\], got 33"),
    (dict(bits=8, frac_bits=9), ValueError, r"frac_bits must be in \[0, 8\], got 9"),
    (dict(bits=8.0, frac_bits=3), TypeError, "bits must be an integer"),
    (dict(bits=16, frac_bits=0), ValueError, "overflows float64"),
    (dict(bits=16, frac_bits=0, bias=0), ValueError, "overflows float64"),
    (dict(bits=16, frac_bits=0, bias=32000), ValueError, "below float64's normal range"),
    (dict(bits=8, frac_bits=3, overflow="wrap"), ValueError, "overflow must be saturate or error"),
    (dict(bits=8, frac_bits=3, overflow="sideways"), ValueError, "overflow must be saturate or error"),
])
def test_bad_parameters_raise(logformat, kwargs, error, message):
    with pytest.raises(error, match=message):
        logformat.LogFormat(**kwargs)


@settings(max_examples=60)
@given(bits=st.integers(2, 32), frac_bits=st.integers(0, 8), bias_shift=st.integers(-40, 40),
       overflow=st.sampled_from(["saturate", "error"]))
def test_log_spec_round_trips(logformat, bits, frac_bits, bias_shift, overflow):
    try:
        fmt = logformat.LogFormat(bits=bits, frac_bits=frac_bits, bias=(1 << (bits - 2)) + bias_shift, overflow=overflow)
    except ValueError:
        return
    assert logformat.parse_spec(fmt.spec) == fmt
    assert 0 < fmt.smallest_normal <= fmt.max < math.inf  # every valid format's range is inside float64


@pytest.mark.parametrize("bad", ["log8", "log8_f3_wrap", "log1_f0", "lg8_f3"])
def test_bad_log_specs(logformat, bad):
    with pytest.raises(ValueError, match=repr(bad)):
        logformat.parse_spec(bad)


def test_fast_kernels_agree_with_exact(fmt, logformat):
    import lpsim_logformat.fast as fast  # registers the kernels

    assert lpsim.fast.kernels_for(fmt) == (fast.encode, fast.decode)

    rng = np.random.default_rng(5)
    x = np.concatenate([probe_values(fmt), rng.standard_normal(500) * fmt.max / 4, [np.nan, np.inf, -np.inf, -0.0]])
    for rounding in ("nearest_even", "toward_zero", "stochastic"):
        assert np.array_equal(lpsim.encode(x, fmt, rounding, engine="fast"), lpsim.encode(x, fmt, rounding, engine="exact"))
    codes = all_codes(fmt)
    assert np.array_equal(lpsim.decode(codes, fmt, engine="fast"), lpsim.decode(codes, fmt, engine="exact"), equal_nan=True)
    strict = logformat.LogFormat(bits=fmt.bits, frac_bits=fmt.frac_bits, bias=fmt.bias, overflow=Overflow.ERROR)
    with pytest.raises(OverflowError):
        lpsim.encode(np.array([np.inf]), strict, engine="fast")
