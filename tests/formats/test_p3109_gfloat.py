"""IEEE P3109 binary8pP formats against gfloat, an independent implementation of the standard.

Every code's value, and the rounding of every code value, every midpoint between neighbours
and quarter points of every gap, in every rounding mode both libraries define, with and
without saturation, on both engines. Stochastic rounding is compared bit for bit: lpsim
rounds a magnitude away from zero iff its first r random bits u satisfy u < floor(f * 2**r)
(f the discarded fraction), which is gfloat's StochasticFastest with srbits = 2**r - 1 - u.
"""

from __future__ import annotations

import math

import attrs
import numpy as np
import pytest

import lpsim
from lpsim import rng
from lpsim.formats import FloatFormat, Specials, get_format

gfloat = pytest.importorskip("gfloat")
gfloat_formats = pytest.importorskip("gfloat.formats")

PRECISIONS = range(1, 8)
DOMAINS = ("extended", "finite")
ENGINES = ("exact", "fast")
MODES = {
    "nearest_even": gfloat.RoundMode.TiesToEven,
    "nearest_away": gfloat.RoundMode.TiesToAway,
    "toward_zero": gfloat.RoundMode.TowardZero,
    "toward_positive": gfloat.RoundMode.TowardPositive,
    "toward_negative": gfloat.RoundMode.TowardNegative,
}
OVERFLOWS = {"ieee": False, "saturate": True}


def lpsim_format(precision: int, domain: str, overflow: str = "ieee") -> FloatFormat:
    suffix = "se" if domain == "extended" else "sf"
    fmt = get_format(f"p3109_k8p{precision}{suffix}")
    return attrs.evolve(fmt, overflow=overflow)


def gfloat_format(precision: int, domain: str):
    gdomain = gfloat.Domain.Extended if domain == "extended" else gfloat.Domain.Finite
    return gfloat_formats.format_info_p3109(8, precision, gfloat.Signedness.Signed, gdomain)


def same_floats(a, b) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    both_nan = np.isnan(a) & np.isnan(b)
    same_sign = np.signbit(a) == np.signbit(b)
    return bool(np.all(both_nan | ((a == b) & same_sign)))


def rounding_inputs(fmt: FloatFormat) -> np.ndarray:
    """Every finite value, the points a quarter, a half and three quarters of the way to its
    upper neighbour (the one past max included), values far out, +-inf and NaN, both signs."""
    values = lpsim.decode(np.arange(256, dtype=np.uint8), fmt, engine="exact")
    grid = np.unique(values[np.isfinite(values) & (values >= 0)])
    past_max = 2 * grid[-1] - grid[-2] if fmt.man_bits else 2 * grid[-1]
    upper = np.append(grid[1:], past_max)
    gaps = [grid + (upper - grid) * t for t in (0.25, 0.5, 0.75)]
    x = np.concatenate([grid, *gaps, [past_max, 4 * fmt.max, 1e300, np.inf, 1e-300]])
    return np.concatenate([x, -x, [np.nan]])


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("precision", PRECISIONS)
def test_every_code_decodes_as_gfloat(precision, domain, engine):
    fmt, fi = lpsim_format(precision, domain), gfloat_format(precision, domain)
    codes = np.arange(256, dtype=np.uint8)
    ours = lpsim.decode(codes, fmt, engine=engine)
    theirs = [gfloat.decode_float(fi, int(c)).fval for c in codes]
    assert same_floats(ours, theirs)
    assert fmt.max == fi.max and fmt.smallest_subnormal == fi.smallest_subnormal
    assert fmt.smallest_normal == fi.smallest_normal and fmt.has_inf == (domain == "extended")


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("overflow", OVERFLOWS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("precision", PRECISIONS)
def test_rounding_matches_gfloat(precision, domain, mode, overflow, engine):
    fmt, fi = lpsim_format(precision, domain, overflow), gfloat_format(precision, domain)
    x = rounding_inputs(fmt)
    expected = np.array([gfloat.round_float(fi, v, MODES[mode], OVERFLOWS[overflow]) for v in x])
    assert same_floats(lpsim.quantize(x, fmt, mode, engine=engine), expected)
    expected_codes = np.array([gfloat.encode_float(fi, v) for v in expected])
    assert np.array_equal(lpsim.encode(x, fmt, mode, engine=engine), expected_codes)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("precision", PRECISIONS)
def test_stochastic_rounding_matches_gfloat_bit_for_bit(precision, domain, engine):
    nbits, seed, stream = 6, 11, 3
    fmt, fi = lpsim_format(precision, domain), gfloat_format(precision, domain)
    grid = rounding_inputs(fmt)
    grid = grid[np.isfinite(grid)]
    # points at every sixteenth of the gaps: the discarded fraction has few bits, so gfloat's
    # float64 sum delta + srbits * 2**-n is exact
    x = np.concatenate([grid + (np.roll(grid, -1) - grid) * t / 16 for t in range(16)])
    x = x[np.isfinite(x)]
    ours = lpsim.quantize(x, fmt, f"stochastic:{nbits}", seed=seed, stream=stream, engine=engine)
    srbits = [(1 << nbits) - 1 - rng.random_bits(seed, stream, i, nbits) for i in range(x.size)]
    expected = [
        gfloat.round_float(fi, v, gfloat.RoundMode.StochasticFastest, False, s, nbits) for v, s in zip(x, srbits)
    ]
    assert same_floats(ours, expected)


def test_no_mantissa_ties_go_to_the_even_code():
    """binary8p1: 1.5 * 2**e lies halfway between 2**e and 2**(e+1); the even code wins."""
    fmt = get_format("binary8p1")
    for code in range(1, 0x7E):
        low = float(lpsim.decode(np.uint8(code), fmt, engine="exact"))
        for engine in ENGINES:
            result = int(lpsim.encode(1.5 * low, fmt, engine=engine))
            assert result == (code if code % 2 == 0 else code + 1)


def test_names_and_specs():
    for p in PRECISIONS:
        fmt = get_format(f"binary8p{p}")
        assert fmt == get_format(f"p3109_8p{p}") == get_format(f"p3109_k8p{p}se") == FloatFormat.p3109(8, p)
        assert (fmt.exp_bits, fmt.man_bits, fmt.specials) == (8 - p, p - 1, Specials.P3109)
        assert get_format(fmt.spec) == fmt and fmt.p3109_name == f"binary8p{p}"
        finite = get_format(f"p3109_k8p{p}sf")
        assert finite.specials is Specials.FNUZ and finite.p3109_name == f"binary8p{p}f"
        assert not fmt.has_negative_zero and fmt.nan_code == 0x80 and fmt.inf_code == 0x7F
    assert get_format("p3109_k8p4sf") == get_format("e4m3fnuz")
    assert get_format("p3109_k8p3se_saturate").overflow.value == "saturate"
    assert get_format("binary16").p3109_name is None


@pytest.mark.parametrize(
    "spec, words",
    [
        ("p3109_k8p4ue", ["unsigned"]),
        ("p3109_8p8", ["precision", "[1, 7]"]),
        ("p3109_8p0", ["precision", "[1, 7]"]),
        ("p3109_8", ["p3109_[k]<K>p<P>"]),
    ],
)
def test_bad_p3109_specs_name_the_problem(spec, words):
    with pytest.raises(ValueError) as err:
        get_format(spec)
    for word in words:
        assert word in str(err.value)


def test_p3109_constructor_rejects_bad_parameters():
    with pytest.raises(ValueError, match="domain"):
        FloatFormat.p3109(8, 3, domain="huge")
    with pytest.raises(ValueError, match=r"precision must be an integer in \[1, 7\]"):
        FloatFormat.p3109(8, 9)
    with pytest.raises(ValueError, match="width"):
        FloatFormat.p3109(1, 1)
    assert math.isinf(float(lpsim.decode(np.uint8(0xFF), FloatFormat.p3109(8, 5))))
