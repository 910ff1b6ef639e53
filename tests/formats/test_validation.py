"""Bad parameters raise at construction, naming the parameter and the allowed range."""

from __future__ import annotations

import attrs
import numpy as np
import pytest

from lpsim.formats import (
    BINARY16,
    E4M3,
    BlockFormat,
    FixedPoint,
    FloatFormat,
    Overflow,
    Rounding,
    RoundingMode,
    Specials,
    as_rounding,
)

E4M3_SAT = attrs.evolve(E4M3, overflow="saturate")

INVALID = [
    # (constructor, kwargs, exception, words the message must contain)
    (FixedPoint, dict(bits=0), ValueError, ["bits", "[1, 64]", "0"]),
    (FixedPoint, dict(bits=65), ValueError, ["bits", "[1, 64]", "65"]),
    (FixedPoint, dict(bits=8.0), TypeError, ["bits", "integer"]),
    (FixedPoint, dict(bits=True), TypeError, ["bits", "integer"]),
    (FixedPoint, dict(bits=1, signed=True), ValueError, ["signed", "[2, 64]"]),
    (FixedPoint, dict(bits=8, signed=1), TypeError, ["signed", "bool"]),
    (FixedPoint, dict(bits=8, frac_bits=2000), ValueError, ["frac_bits", "[-1023, 1074]"]),
    (FixedPoint, dict(bits=8, frac_bits=-1024), ValueError, ["frac_bits", "[-1023, 1074]"]),
    (FixedPoint, dict(bits=8, frac_bits=2, scale=0.25), ValueError, ["frac_bits or scale"]),
    (FixedPoint, dict(bits=8, scale=0.0), ValueError, ["scale", "positive finite"]),
    (FixedPoint, dict(bits=8, scale=-0.5), ValueError, ["scale", "positive finite"]),
    (FixedPoint, dict(bits=8, scale=float("inf")), ValueError, ["scale", "positive finite"]),
    (FixedPoint, dict(bits=8, scale=float("nan")), ValueError, ["scale", "positive finite"]),
    (FixedPoint, dict(bits=8, scale="big"), TypeError, ["scale", "positive finite"]),
    (FixedPoint, dict(bits=8, scale=True), TypeError, ["scale"]),
    (FixedPoint, dict(bits=8, overflow="ieee"), ValueError, ["overflow", "saturate, wrap, error"]),
    (FixedPoint, dict(bits=8, overflow="clamp"), ValueError, ["overflow", "saturate"]),
    (FixedPoint, dict(bits=8, overflow=3), TypeError, ["overflow"]),
    (FixedPoint, dict(bits=64, frac_bits=-1000), ValueError, ["overflows float64", "frac_bits"]),
    (FixedPoint, dict(bits=64, scale=1e300), ValueError, ["overflows float64", "scale"]),
    (FloatFormat, dict(exp_bits=0, man_bits=3), ValueError, ["exp_bits", "[1, 11]"]),
    (FloatFormat, dict(exp_bits=12, man_bits=3), ValueError, ["exp_bits", "[1, 11]", "12"]),
    (FloatFormat, dict(exp_bits=5, man_bits=53), ValueError, ["man_bits", "[0, 52]", "53"]),
    (FloatFormat, dict(exp_bits=5, man_bits=-1), ValueError, ["man_bits", "[0, 52]"]),
    (FloatFormat, dict(exp_bits=5, man_bits=2.5), TypeError, ["man_bits", "integer"]),
    (FloatFormat, dict(exp_bits=5, man_bits=0), ValueError, ["IEEE", "man_bits", "[1, 52]"]),
    (FloatFormat, dict(exp_bits=1, man_bits=2), ValueError, ["IEEE", "exp_bits", "[2, 11]"]),
    (FloatFormat, dict(exp_bits=5, man_bits=2, specials="posit"), ValueError, ["specials", "ieee, fn, fnuz, none"]),
    (FloatFormat, dict(exp_bits=5, man_bits=2, overflow="wrap"), ValueError, ["overflow", "wrap is for fixed point"]),
    (FloatFormat, dict(exp_bits=3, man_bits=2, specials="none", overflow="ieee"), ValueError, ["overflow", "none"]),
    (FloatFormat, dict(exp_bits=5, man_bits=2, subnormals=0), TypeError, ["subnormals", "bool"]),
    (FloatFormat, dict(exp_bits=5, man_bits=2, bias=5000), ValueError, ["bias", "[-2000, 2000]"]),
    (FloatFormat, dict(exp_bits=11, man_bits=10, bias=0), ValueError, ["exponent", "1023", "bias"]),
    (FloatFormat, dict(exp_bits=11, man_bits=52, bias=1100), ValueError, ["2**-1074", "bias", "1023"]),
    # Without subnormals the smallest normal's grid step must still be a float64 value.
    (FloatFormat, dict(exp_bits=11, man_bits=52, bias=1075, subnormals=False), ValueError, ["2**-1126", "bias"]),
    (FloatFormat, dict(exp_bits=1, man_bits=0, specials="fn"), ValueError, ["no normal numbers"]),
    (BlockFormat, dict(element=E4M3_SAT, block_size=-4), ValueError, ["block_size", "[1, 1048576]", "-4"]),
    (BlockFormat, dict(element=E4M3_SAT, block_size=0), ValueError, ["block_size", "[1, 1048576]"]),
    (BlockFormat, dict(element=BINARY16, block_size=32), ValueError, ["element overflow", "saturate"]),
    (BlockFormat, dict(element=E4M3, block_size=32), ValueError, ["element overflow", "saturate", "ieee"]),
    (BlockFormat, dict(element="e4m3", block_size=32), TypeError, ["element", "FixedPoint or FloatFormat"]),
    (BlockFormat, dict(element=FixedPoint(bits=8, signed=False, frac_bits=4), block_size=8), ValueError, ["signed"]),
    (BlockFormat, dict(element=FixedPoint(bits=8, scale=0.3), block_size=8), ValueError, ["explicit scale"]),
    (BlockFormat, dict(element=FixedPoint(bits=8, frac_bits=6), block_size=8, scale_bits=0), ValueError, ["scale_bits", "[1, 11]"]),
    (BlockFormat, dict(element=E4M3_SAT, block_size=8, scale_bits=11), ValueError, ["scale_bits", "overflows float64"]),
    (BlockFormat, dict(element=FixedPoint(bits=8, frac_bits=6), block_size=8, axis=99), ValueError, ["axis", "[-64, 63]"]),
    (Rounding, dict(mode="nearest_odd"), ValueError, ["mode", "nearest_even", "'nearest_odd'"]),
    (Rounding, dict(mode=3), TypeError, ["mode"]),
    (Rounding, dict(mode="stochastic", random_bits=0), ValueError, ["random_bits", "[1, 64]"]),
    (Rounding, dict(mode="stochastic", random_bits=65), ValueError, ["random_bits", "[1, 64]"]),
    (Rounding, dict(mode="stochastic", random_bits=4.0), TypeError, ["random_bits", "integer"]),
    (Rounding, dict(mode="nearest_even", random_bits=8), ValueError, ["random_bits", "stochastic", "nearest_even"]),
]


@pytest.mark.parametrize("cls, kwargs, exc, words", INVALID, ids=[f"{c.__name__}-{i}" for i, (c, _, _, _) in enumerate(INVALID)])
def test_invalid_parameters_raise_with_a_clear_message(cls, kwargs, exc, words):
    with pytest.raises(exc) as info:
        cls(**kwargs)
    message = str(info.value)
    for word in words:
        assert word in message, f"{word!r} missing from {message!r}"


@pytest.mark.parametrize(
    "fmt, change, words",
    [
        (BINARY16, dict(man_bits=60), ["man_bits", "[0, 52]"]),
        (BINARY16, dict(overflow="wrap"), ["wrap"]),
        (FixedPoint(bits=8, frac_bits=4), dict(bits=0), ["bits", "[1, 64]"]),
        (FixedPoint(bits=8, frac_bits=4), dict(scale=0.5), ["frac_bits or scale"]),
        (BlockFormat.mx("e4m3"), dict(block_size=-1), ["block_size"]),
        (Rounding(mode="stochastic", random_bits=8), dict(mode="nearest_even"), ["random_bits"]),
    ],
)
def test_evolve_revalidates(fmt, change, words):
    with pytest.raises(ValueError) as info:
        attrs.evolve(fmt, **change)
    for word in words:
        assert word in str(info.value)


def test_evolve_builds_a_valid_variant():
    assert attrs.evolve(BINARY16, man_bits=7, exp_bits=8) == FloatFormat(exp_bits=8, man_bits=7)
    assert attrs.evolve(FixedPoint(bits=8, frac_bits=4), bits=16).max == (2**15 - 1) / 16


@pytest.mark.parametrize(
    "text, expected",
    [
        ("rne", Rounding(mode=RoundingMode.NEAREST_EVEN)),
        ("Nearest", Rounding(mode=RoundingMode.NEAREST_EVEN)),
        ("floor", Rounding(mode=RoundingMode.TOWARD_NEGATIVE)),
        ("sr8", Rounding(mode=RoundingMode.STOCHASTIC, random_bits=8)),
        ("stochastic:13", Rounding(mode=RoundingMode.STOCHASTIC, random_bits=13)),
        ("stochastic", Rounding(mode=RoundingMode.STOCHASTIC)),
    ],
)
def test_rounding_names_parse(text, expected):
    assert Rounding.parse(text) == expected == as_rounding(text)
    assert Rounding.parse(str(expected)) == expected


@pytest.mark.parametrize("bad, exc", [("sr0", ValueError), ("stochastic:99", ValueError), ("nearest_up", ValueError), (7, TypeError)])
def test_bad_rounding_names(bad, exc):
    with pytest.raises(exc, match="random_bits|mode|rounding"):
        as_rounding(bad)


def test_formats_are_hashable_and_equal_by_value():
    a = FloatFormat(exp_bits=5, man_bits=10)
    b = FloatFormat(exp_bits=5, man_bits=10, bias=15, specials="ieee", overflow="ieee", subnormals=True)
    assert a == b == BINARY16 and hash(a) == hash(b) == hash(BINARY16)
    assert FloatFormat(exp_bits=5, man_bits=10, bias=14) != BINARY16
    assert FloatFormat(exp_bits=5, man_bits=10, subnormals=False) != BINARY16
    assert FloatFormat(exp_bits=4, man_bits=3, specials=Specials.FNUZ) == FloatFormat(exp_bits=4, man_bits=3, specials="fnuz", bias=8)
    assert FixedPoint(bits=8) == FixedPoint(bits=8, frac_bits=0)
    assert FixedPoint(bits=8, frac_bits=3) != FixedPoint(bits=8, frac_bits=4)
    assert FixedPoint(bits=8, frac_bits=3) != FixedPoint(bits=8, frac_bits=3, signed=False)
    assert FixedPoint(bits=8, frac_bits=3) != FixedPoint(bits=8, frac_bits=3, overflow=Overflow.WRAP)
    assert FixedPoint(bits=8, frac_bits=np.int64(3)) == FixedPoint(bits=8, frac_bits=3)
    assert BlockFormat.mx("e4m3") == BlockFormat.mx("E4M3") and hash(BlockFormat.mx("e4m3")) == hash(BlockFormat.mx("e4m3"))
    assert BlockFormat.mx("e4m3") != BlockFormat.mx("e4m3", block_size=16)
    assert BINARY16 != FixedPoint(bits=16)
    table = {BINARY16: "half", FixedPoint(bits=8, frac_bits=4): "q", BlockFormat.bfp(8, 16): "bfp"}
    assert table[FloatFormat(exp_bits=5, man_bits=10, bias=15)] == "half"
    assert table[FixedPoint(bits=8, frac_bits=4)] == "q"
    assert table[BlockFormat.bfp(8, 16)] == "bfp"
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        BINARY16.man_bits = 3


def test_named_constructors_validate():
    with pytest.raises(ValueError, match="mantissa_bits"):
        BlockFormat.bfp(1, 16)
    with pytest.raises(ValueError, match="element must be one of"):
        BlockFormat.mx("e9m9")
    assert FixedPoint.q(4, 4) == FixedPoint(bits=8, frac_bits=4)
    assert FixedPoint.integer(16, signed=False).max == 65535
