"""The spec grammar: parse(fmt.spec) == fmt for every built-in format, friendly forms, clear errors."""

from __future__ import annotations

import contextlib
import io
import itertools
import sys
import unicodedata

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import lpsim
from lpsim.formats import (
    BlockFormat, FixedPoint, FloatFormat, Overflow, Specials, as_rounding, get_format, parse_format,
)
from lpsim.formats.presets import PRESETS


def _build(cls, **kwargs):
    try:
        return cls(**kwargs)
    except (ValueError, TypeError):
        return None


@st.composite
def float_formats(draw, overflow=True):
    fmt = _build(
        FloatFormat,
        exp_bits=draw(st.integers(1, 11)),
        man_bits=draw(st.integers(0, 52)),
        bias=draw(st.none() | st.integers(-1100, 1100)),
        subnormals=draw(st.booleans()),
        specials=draw(st.sampled_from(Specials)),
        **({"overflow": draw(st.sampled_from([Overflow.IEEE, Overflow.SATURATE, Overflow.ERROR]))} if overflow else {}),
    )
    assume(fmt is not None)
    return fmt


@st.composite
def fixed_formats(draw):
    bits = draw(st.integers(1, 64))
    if draw(st.booleans()):
        scaling = {"frac_bits": draw(st.none() | st.integers(-1023, 1074))}
    else:
        scaling = {"scale": draw(st.floats(min_value=1e-300, max_value=1e300, allow_nan=False, allow_infinity=False))}
    fmt = _build(FixedPoint, bits=bits, signed=draw(st.booleans()),
                 overflow=draw(st.sampled_from([Overflow.SATURATE, Overflow.WRAP, Overflow.ERROR])), **scaling)
    assume(fmt is not None)
    return fmt


@st.composite
def block_formats(draw):
    if draw(st.booleans()):
        element = _build(FixedPoint, bits=draw(st.integers(2, 64)), frac_bits=draw(st.integers(-20, 80)))
    else:
        element = draw(float_formats(overflow=False))
        element = _build(FloatFormat, exp_bits=element.exp_bits, man_bits=element.man_bits, bias=element.bias,
                         subnormals=element.subnormals, specials=element.specials, overflow=Overflow.SATURATE)
    assume(element is not None)
    fmt = _build(BlockFormat, element=element, block_size=draw(st.integers(1, 1 << 20)),
                 axis=draw(st.integers(-64, 63)), scale_bits=draw(st.integers(1, 11)))
    assume(fmt is not None)
    return fmt


@settings(max_examples=300)
@given(fmt=float_formats() | fixed_formats() | block_formats())
def test_spec_round_trips(fmt):
    assert parse_format(fmt.spec) == fmt
    assert get_format(fmt.spec) == fmt
    assert get_format(fmt.spec.upper()) == fmt


def test_every_small_float_layout_round_trips():
    """Exhaustive over the small layouts, where the bare-name conventions (e4m3 = OCP fn) live."""
    count = 0
    for e, m, specials, subnormals, overflow in itertools.product(
        range(1, 6), range(0, 5), Specials, (True, False), (Overflow.IEEE, Overflow.SATURATE, Overflow.ERROR)
    ):
        fmt = _build(FloatFormat, exp_bits=e, man_bits=m, specials=specials, subnormals=subnormals, overflow=overflow)
        if fmt is not None:
            count += 1
            assert get_format(fmt.spec) == fmt, fmt.spec
    assert count > 200


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_round_trips(name):
    fmt = PRESETS[name]
    assert get_format(name) is fmt
    assert parse_format(fmt.spec) == fmt


@pytest.mark.parametrize("spec", [
    "fixed8_f6", "ufixed8_f0", "fixed16_s0.01_wrap", "e4m3_fn", "e5m2", "e8m7", "e5m2_fnuz", "e3m2_none",
    "e4m3_fn_saturate", "e5m10_nosub", "e4m3_ieee_b8", "block32_fixed8_f6_x8", "block32_e4m3_fn_saturate_x8_axis0",
    "fixed12_f-3_error", "e5m2_b-3", "fixed8_s1e-05", "block1_e2m1_none_x1_axis-64",
])
def test_canonical_specs_are_fixed_points(spec):
    assert parse_format(spec).spec == spec


@pytest.mark.parametrize("text, expected", [
    ("e4m3", FloatFormat(exp_bits=4, man_bits=3, specials=Specials.FN)),
    ("E4M3", FloatFormat(exp_bits=4, man_bits=3, specials=Specials.FN)),
    ("e4m3_ieee", FloatFormat(exp_bits=4, man_bits=3)),
    ("e4m3_b8", FloatFormat(exp_bits=4, man_bits=3, specials=Specials.FN, bias=8)),
    ("e2m1", FloatFormat(exp_bits=2, man_bits=1, specials=Specials.NONE)),
    ("e6m9", FloatFormat(exp_bits=6, man_bits=9)),
    ("e5m2_sat", FloatFormat(exp_bits=5, man_bits=2, overflow=Overflow.SATURATE)),
    ("e5m2_nosub_fnuz", FloatFormat(exp_bits=5, man_bits=2, specials=Specials.FNUZ, subnormals=False)),
    ("q1.7", FixedPoint(bits=8, frac_bits=7)),
    ("q2.14", FixedPoint(bits=16, frac_bits=14)),
    ("uq0.8_wrap", FixedPoint(bits=8, signed=False, frac_bits=8, overflow=Overflow.WRAP)),
    ("fixed8", FixedPoint(bits=8, frac_bits=0)),
    ("ufixed4", FixedPoint(bits=4, signed=False, frac_bits=0)),
    ("int4", FixedPoint(bits=4, frac_bits=0)),
    ("uint12_error", FixedPoint(bits=12, signed=False, frac_bits=0, overflow=Overflow.ERROR)),
    ("  fixed16_s0.01_wrap ", FixedPoint(bits=16, scale=0.01, overflow=Overflow.WRAP)),
    ("bfp8x32", BlockFormat.bfp(8, 32)),
    ("bfp8_b32", BlockFormat.bfp(8, 32)),
    ("bfp4x16_e5_axis0", BlockFormat.bfp(4, 16, exponent_bits=5, axis=0)),
    ("mx_e2m1", BlockFormat.mx("e2m1")),
    ("mx_int8_axis0", BlockFormat.mx("int8", axis=0)),
    ("block32_e4m3_fn_saturate_x8", BlockFormat.mx("e4m3")),
    ("block16_q1.7_x8", BlockFormat(element=FixedPoint(bits=8, frac_bits=7), block_size=16)),
])
def test_friendly_forms(text, expected):
    assert parse_format(text) == expected
    assert get_format(text) == expected


def test_bare_names_agree_with_presets():
    for name in ("e4m3", "e5m2", "e3m2", "e2m3", "e2m1"):
        assert parse_format(name) == PRESETS[name]


@pytest.mark.parametrize("text, fragments", [
    ("e4m99", ["'e4m99'", "man_bits must be in [0, 52], got 99"]),
    ("e0m3", ["exp_bits must be in [1, 11], got 0"]),
    ("e4m3_foo", ["unknown float option 'foo'", "fn, fnuz, none", "nosub"]),
    ("e4m3_fn_fnuz", ["'fnuz' conflicts", "specials"]),
    ("e5m2_wrap", ["unknown float option 'wrap'"]),
    ("e3m2_none_ieee", ["'ieee' conflicts"]),
    ("fixed0", ["bits must be in [1, 64], got 0"]),
    ("fixed65_f3", ["bits must be in [1, 64], got 65"]),
    ("fixed8_f2_s0.5", ["'s0.5' conflicts", "frac_bits"]),
    ("fixed8_s-1", ["scale must be a positive finite number"]),
    ("fixed8_snan", ["scale must be a positive finite number"]),
    ("fixed8_ieee", ["unknown fixed-point option 'ieee'", "wrap"]),
    ("int8_f3", ["unknown fixed-point option 'f3'"]),
    ("q1.x", ["malformed fixed-point head 'q1.x'", "q<int bits>.<frac bits>"]),
    ("q0.0", ["bits must be in [1, 64], got 0"]),
    ("bfp8", ["needs a block size", "bfp8x32"]),
    ("bfp1x32", ["mantissa_bits must be in [2, 64], got 1"]),
    ("bfp8x0", ["block_size must be in [1, 1048576], got 0"]),
    ("bfp8x32_q3", ["unknown block floating point option 'q3'"]),
    ("mx_e9m9", ["element must be one of e4m3, e5m2, e3m2, e2m3, e2m1, int8, got 'e9m9'"]),
    ("mx", ["mx_<element>"]),
    ("block32_e4m3_x", ["block<block size>_<element spec>_x<scale bits>"]),
    ("block32_e4m3_fn_saturate_x12", ["scale_bits must be in [1, 11], got 12"]),
    ("block32_e4m3_x8", ["element overflow must be saturate"]),
    ("block32_mx_e4m3_x8", ["must be a fixed-point or float spec"]),
    ("block32_ufixed8_f0_x8", ["signed"]),
    ("e11m52_b5000", ["bias must be in [-2000, 2000], got 5000"]),
    ("e4m3 fn", ["spaces", "'_'"]),
])
def test_malformed_specs_name_the_problem(text, fragments):
    with pytest.raises(ValueError) as info:
        get_format(text)
    message = str(info.value)
    assert f"{text!r}" in message
    for fragment in fragments:
        assert fragment in message


@pytest.mark.parametrize("text", ["", "   ", "zzz", "float8", "fp8", "binary 16"])
def test_unknown_text_lists_names_and_forms(text):
    with pytest.raises(ValueError, match="not a format name and not a spec") as info:
        get_format(text)
    assert "binary16" in str(info.value) and "e<E>m<M>" in str(info.value)


def test_parse_format_knows_only_the_grammar():
    with pytest.raises(ValueError, match="unknown format family 'binary16'"):
        parse_format("binary16")


@pytest.mark.parametrize("bad", [None, 8, b"e4m3", ["e4m3"]])
def test_non_strings_raise_type_error(bad):
    with pytest.raises(TypeError, match="string"):
        parse_format(bad)
    with pytest.raises(TypeError, match="string"):
        get_format(bad)


def test_cli_shows_one_format(capsys):
    from lpsim.cli import main

    assert main(["formats", "--spec", "Q1.7"]) == 0
    out = capsys.readouterr().out
    assert "Q1.7 = fixed8_f7" in out and "3.14159 -> 0.992188" in out
    assert main(["formats", "--spec", "e4m99"]) == 2
    assert "man_bits must be in [0, 52], got 99" in capsys.readouterr().err


# Every non-ASCII decimal digit (Arabic-Indic, Devanagari, full-width, ...) by its value: int() reads them all.
UNICODE_DIGITS = {
    value: [c for c in map(chr, range(128, sys.maxunicode + 1)) if unicodedata.category(c) == "Nd"
            and unicodedata.decimal(c) == value]
    for value in range(10)
}


@settings(max_examples=200)
@given(fmt=float_formats() | fixed_formats() | block_formats(), data=st.data())
def test_non_ascii_digits_are_refused(fmt, data):
    spec = fmt.spec
    position = data.draw(st.sampled_from([i for i, c in enumerate(spec) if c.isdigit()]))
    digit = data.draw(st.sampled_from(UNICODE_DIGITS[int(spec[position])]))
    text = spec[:position] + digit + spec[position + 1:]  # the same number, spelled with another script's digit
    for lookup in (get_format, parse_format):
        with pytest.raises(ValueError, match=rf"character '{digit}' \(U\+{ord(digit):04X}\) at position {position} is not ASCII"):
            lookup(text)


@pytest.mark.parametrize("text", ["sr\uff18", "stochastic:\u0668", "stochastic_\u0968"])
def test_non_ascii_digits_are_refused_in_roundings(text):
    with pytest.raises(ValueError, match="is not ASCII"):
        as_rounding(text)


@settings(max_examples=60)
@given(fmt=float_formats() | fixed_formats())
def test_cli_shows_the_error_an_example_value_raises(fmt):
    """``lpsim formats --spec`` of any format, ``_error`` ones included: every example value shows its
    quantized value or the exception the format raises for it, and the command succeeds."""
    from lpsim.cli import _EXAMPLE_VALUES, main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["formats", "--spec", fmt.spec]) == 0
    shown = []
    first_error = None
    for value in _EXAMPLE_VALUES:
        try:
            shown.append(f"{value:g} -> {lpsim.quantize(value, fmt, engine='exact'):g}")
        except (OverflowError, ValueError) as err:
            shown.append(f"{value:g} -> {type(err).__name__}")
            first_error = first_error or f"{type(err).__name__}: {err}"
    lines = out.getvalue().splitlines()
    assert lines[2] == "nearest-even: " + ", ".join(shown)
    assert lines[3:] == ([] if first_error is None else [f"  ({first_error})"])


def test_cli_shows_an_overflow_error_format():
    from lpsim.cli import main

    for spec, error in [("e4m3_error", "1000.0 overflows format e4m3_fn_error (max 448.0)"),
                        ("int8_error", "1000.0 rounds to code 1000, outside [-128, 127] of format fixed8_f0_error")]:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["formats", "--spec", spec]) == 0
        assert "1000 -> OverflowError" in out.getvalue() and f"(OverflowError: {error})" in out.getvalue()
