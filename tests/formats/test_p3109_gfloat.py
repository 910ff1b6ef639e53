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
# (precision, signed): binary8p1..7 signed and binary8p1..8 unsigned
VARIANTS = [(p, True) for p in PRECISIONS] + [(p, False) for p in range(1, 9)]
VARIANT_IDS = [f"p{p}{'s' if signed else 'u'}" for p, signed in VARIANTS]
DOMAINS = ("extended", "finite")
ENGINES = ("exact", "fast")
MODES = {
    "nearest_even": gfloat.RoundMode.TiesToEven,
    "nearest_away": gfloat.RoundMode.TiesToAway,
    "toward_zero": gfloat.RoundMode.TowardZero,
    "toward_positive": gfloat.RoundMode.TowardPositive,
    "toward_negative": gfloat.RoundMode.TowardNegative,
}
OVERFLOWS = ("ieee", "saturate", "satpropagate")


def lpsim_format(precision: int, domain: str, overflow: str = "ieee", signed: bool = True) -> FloatFormat:
    suffix = ("s" if signed else "u") + ("e" if domain == "extended" else "f")
    fmt = get_format(f"p3109_k8p{precision}{suffix}")
    return attrs.evolve(fmt, overflow=overflow)


def gfloat_format(precision: int, domain: str, signed: bool = True):
    gdomain = gfloat.Domain.Extended if domain == "extended" else gfloat.Domain.Finite
    signedness = gfloat.Signedness.Signed if signed else gfloat.Signedness.Unsigned
    return gfloat_formats.format_info_p3109(8, precision, signedness, gdomain)


def gfloat_round(fi, v: float, mode, overflow: str) -> float:
    """gfloat's rounding under an lpsim overflow policy. gfloat has SatFinite (sat=True) and
    OvfInf (sat=False); SatPropagate is the first for finite inputs and the second for +-inf."""
    saturate = overflow == "saturate" or (overflow == "satpropagate" and math.isfinite(v))
    return gfloat.round_float(fi, v, mode, saturate)

def same_floats(a, b) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    both_nan = np.isnan(a) & np.isnan(b)
    same_sign = np.signbit(a) == np.signbit(b)
    return bool(np.all(both_nan | ((a == b) & same_sign)))


def rounding_inputs(fmt: FloatFormat, negatives: bool = True) -> np.ndarray:
    """Every finite value, the points a quarter, a half and three quarters of the way to its
    upper neighbour (the one past max included), values far out, +-inf and NaN; both signs
    unless ``negatives`` is False (gfloat does not define negative inputs of unsigned formats)."""
    values = lpsim.decode(np.arange(256, dtype=np.uint8), fmt, engine="exact")
    grid = np.unique(values[np.isfinite(values) & (values >= 0)])
    past_max = 2 * grid[-1] - grid[-2] if fmt.man_bits else 2 * grid[-1]
    upper = np.append(grid[1:], past_max)
    gaps = [grid + (upper - grid) * t for t in (0.25, 0.5, 0.75)]
    x = np.concatenate([grid, *gaps, [past_max, 4 * fmt.max, 1e300, np.inf, 1e-300]])
    return np.concatenate([x, -x, [np.nan]]) if negatives else np.append(x, np.nan)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("precision, signed", VARIANTS, ids=VARIANT_IDS)
def test_every_code_decodes_as_gfloat(precision, signed, domain, engine):
    fmt, fi = lpsim_format(precision, domain, signed=signed), gfloat_format(precision, domain, signed)
    codes = np.arange(256, dtype=np.uint8)
    ours = lpsim.decode(codes, fmt, engine=engine)
    theirs = [gfloat.decode_float(fi, int(c)).fval for c in codes]
    assert same_floats(ours, theirs)
    assert fmt.max == fi.max and fmt.smallest_subnormal == fi.smallest_subnormal and fmt.min == fi.min
    assert fmt.smallest_normal == fi.smallest_normal and fmt.has_inf == (domain == "extended")
    assert fmt.bits == fi.bits and fmt.effective_bias == fi.bias and fmt.nan_code == fi.code_of_nan
    assert fmt.max_code == fi.code_of_max and fmt.inf_code == (fi.code_of_posinf if fmt.has_inf else None)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("overflow", OVERFLOWS)
@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("precision, signed", VARIANTS, ids=VARIANT_IDS)
def test_rounding_matches_gfloat(precision, signed, domain, overflow, engine):
    fmt, fi = lpsim_format(precision, domain, overflow, signed), gfloat_format(precision, domain, signed)
    x = rounding_inputs(fmt, negatives=signed)
    for mode, gmode in MODES.items():
        expected = np.array([gfloat_round(fi, v, gmode, overflow) for v in x])
        assert same_floats(lpsim.quantize(x, fmt, mode, engine=engine), expected), mode
        expected_codes = np.array([gfloat.encode_float(fi, v) for v in expected])
        assert np.array_equal(lpsim.encode(x, fmt, mode, engine=engine), expected_codes), mode


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("overflow", OVERFLOWS)
@pytest.mark.parametrize("precision", [1, 4, 8])
def test_unsigned_formats_give_nan_for_every_negative_input(precision, overflow, engine):
    """gfloat leaves negative inputs of unsigned formats undefined; lpsim defines them as NaN
    (there is no negative number to round to), whatever the mode, and -0.0 as +0."""
    fmt = lpsim_format(precision, "extended", overflow, signed=False)
    x = -rounding_inputs(fmt, negatives=False)
    x = x[~np.isnan(x) & (x != 0)]
    for mode in (*MODES, "to_odd", "stochastic"):
        assert np.all(lpsim.encode(x, fmt, mode, engine=engine) == fmt.nan_code), mode
        assert np.all(np.isnan(lpsim.quantize(x, fmt, mode, engine=engine))), mode
    zero = lpsim.quantize(np.array([-0.0]), fmt, engine=engine)
    assert zero[0] == 0 and not np.signbit(zero[0])


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("precision, signed", VARIANTS, ids=VARIANT_IDS)
def test_stochastic_rounding_matches_gfloat_bit_for_bit(precision, signed, domain, engine):
    nbits, seed, stream = 6, 11, 3
    fmt, fi = lpsim_format(precision, domain, signed=signed), gfloat_format(precision, domain, signed)
    grid = rounding_inputs(fmt, negatives=signed)
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
    for p in range(1, 9):
        fmt = get_format(f"binary8p{p}u")
        assert fmt == get_format(f"p3109_k8p{p}ue") == FloatFormat.p3109(8, p, signed=False)
        assert (fmt.exp_bits, fmt.man_bits, fmt.signed, fmt.bits) == (9 - p, p - 1, False, 8)
        assert get_format(fmt.spec) == fmt and fmt.p3109_name == f"binary8p{p}u" and fmt.ml_dtype is None
        finite = get_format(f"p3109_k8p{p}uf")
        assert get_format(finite.spec) == finite and finite.p3109_name == f"binary8p{p}uf"
        assert fmt.nan_code == finite.nan_code == 0xFF and fmt.inf_code == 0xFE and finite.inf_code is None
    propagate = get_format("p3109_k8p4se_satpropagate")
    assert propagate.overflow.value == "satpropagate" and get_format(propagate.spec) == propagate
    assert get_format("e4m3_fnuz_unsigned_satpropagate").signed is False


@pytest.mark.parametrize(
    "spec, words",
    [
        ("p3109_k8p9ue", ["precision", "[1, 8]", "unsigned"]),
        ("p3109_8p8", ["precision", "[1, 7]", "signed"]),
        ("e4m3_fn_unsigned", ["unsigned", "p3109", "fnuz"]),
        ("e4m3_none_satpropagate", ["satpropagate", "inf or NaN"]),
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
    with pytest.raises(ValueError, match=r"precision must be an integer in \[1, 8\] for unsigned"):
        FloatFormat.p3109(8, 9, signed=False)
    with pytest.raises(TypeError, match="signed must be a bool"):
        FloatFormat(exp_bits=4, man_bits=3, specials="fnuz", signed=0)
    with pytest.raises(ValueError, match="satpropagate"):
        lpsim.formats.FixedPoint(bits=8, frac_bits=2, overflow="satpropagate")
    assert math.isinf(float(lpsim.decode(np.uint8(0xFF), FloatFormat.p3109(8, 5))))
