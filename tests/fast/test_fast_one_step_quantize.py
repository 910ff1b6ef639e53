"""lpsim.quantize's short path (one kernel call for narrow floats, no generic wrapper) gives
what encode then decode give, raises what they raise, for every input layout it accepts."""

from __future__ import annotations

import math

import attrs
import numpy as np
import pytest

import lpsim
from lpsim import fast
from lpsim.formats import BFLOAT16, BINARY32, E4M3, E5M2, FixedPoint, FloatFormat

FORMATS = [E4M3, E5M2, BFLOAT16, BINARY32, FloatFormat.p3109(8, 1), FloatFormat.p3109(8, 4, signed=False),
           FixedPoint(bits=8, frac_bits=4, overflow="saturate"), FixedPoint(bits=6, frac_bits=2, overflow="wrap"),
           FixedPoint(bits=12, scale=0.3), FixedPoint(bits=8, signed=False, frac_bits=3)]
ROUNDINGS = ["nearest_even", "toward_negative", "stochastic", "stochastic:5"]


def layouts():
    x = np.random.default_rng(5).standard_normal(48) * 3.0
    x[[3, 7]] = [np.nan, -0.0]
    return {
        "1-d": x[:16],
        "2-d": x.reshape(6, 8),
        "strided": x[::3],
        "big-endian": x.astype(">f8"),
        "float32": x.astype(np.float32),
        "0-d": np.array(1.3),
        "empty": x[:0],
    }


@pytest.mark.parametrize("rounding", ROUNDINGS)
@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.spec)
def test_short_path_equals_encode_then_decode(fmt, rounding):
    for name, x in layouts().items():
        if isinstance(fmt, FixedPoint):
            x = np.nan_to_num(x)
        got = lpsim.quantize(x, fmt, rounding, seed=4, offset=9)
        expected = lpsim.decode(lpsim.encode(x, fmt, rounding, seed=4, offset=9, engine="exact"), fmt, engine="exact")
        assert np.shape(got) == np.shape(x), name
        assert np.array_equal(got, expected, equal_nan=True), name
        assert np.array_equal(np.signbit(got), np.signbit(expected)), name
    assert isinstance(lpsim.quantize(np.array(1.3), E4M3), np.floating)  # 0-d in, scalar out


def test_short_path_raises_as_the_exact_engine():
    strict = attrs.evolve(E4M3, overflow="error")
    with pytest.raises(OverflowError, match="overflows format e4m3_fn_error"):
        lpsim.quantize(np.array([1.0, 1e6]), strict)
    with pytest.raises(ValueError, match="NaN has no code"):
        lpsim.quantize(np.array([math.nan]), FloatFormat(exp_bits=3, man_bits=2, specials="none"))
    with pytest.raises(ValueError, match="NaN has no code in fixed-point format fixed8_f4"):
        lpsim.quantize(np.array([1.0, math.nan]), FixedPoint(bits=8, frac_bits=4))
    with pytest.raises(OverflowError, match=r"outside \[-128, 127\] of format fixed8_f4_error"):
        lpsim.quantize(np.array([1.0, 9.0]), FixedPoint(bits=8, frac_bits=4, overflow="error"), "stochastic")
    with pytest.raises(ValueError, match="offset"):
        lpsim.quantize(np.zeros(4), E4M3, "stochastic", offset=-1)
    with pytest.raises(ValueError, match="seed"):
        lpsim.quantize(np.zeros(4), E4M3, seed=-1)


def test_short_path_serves_exactly_the_registered_types():
    assert fast.quantizer_for(E4M3) is not None and fast.quantizer_for(FixedPoint(bits=4)) is not None
    assert fast.quantizer_for(lpsim.formats.BlockFormat.mx("e4m3")) is not None
    assert fast.quantizer_for(lpsim.formats.ScaledBlockFormat.nvfp4()) is not None
    assert fast.quantizer_for("e4m3") is None


BLOCK_FORMATS = [lpsim.formats.get_format(name) for name in ("mxfp8_e4m3", "mxint8", "nvfp4")] + [
    attrs.evolve(lpsim.formats.BlockFormat.mx("e2m1", block_size=5), axis=0),
    attrs.evolve(lpsim.formats.ScaledBlockFormat.nvfp4(), block_size=5, axis=0, tensor_scale=False),
]


@pytest.mark.parametrize("rounding", ROUNDINGS)
@pytest.mark.parametrize("fmt", BLOCK_FORMATS, ids=lambda f: f.spec)
def test_block_short_path_equals_encode_then_decode(fmt, rounding):
    """Block formats quantize in one kernel call, which reads every layout in place (no moved copy)."""
    cases = layouts()
    cases["read-only"] = cases["2-d"].copy()
    cases["read-only"].setflags(write=False)
    for name, x in cases.items():
        got = lpsim.quantize(x, fmt, rounding, seed=4, offset=9)
        expected = lpsim.decode(lpsim.encode(x, fmt, rounding, seed=4, offset=9, engine="exact"), fmt, engine="exact")
        assert np.shape(got) == np.shape(x), name
        assert np.array_equal(got, expected, equal_nan=True), name
        assert np.array_equal(np.signbit(got), np.signbit(expected)), name


@pytest.mark.parametrize("axis", [-1, 0])
def test_block_calls_agree_with_exact_for_every_layout(axis):
    """Block kernels skip Numba's dispatch for argument types seen before: read-only, strided and
    differently shaped inputs must each reach a kernel compiled for their own types."""
    fmt = attrs.evolve(lpsim.formats.get_format("mxfp8_e4m3"), axis=axis)
    cases = dict(layouts())
    frozen = cases["2-d"].copy()
    frozen.setflags(write=False)
    cases["read-only"] = frozen
    for name, x in cases.items():
        if x.ndim == 0:
            continue
        for rounding in ("nearest_even", "stochastic"):
            fast_codes = lpsim.encode(x, fmt, rounding, seed=2, offset=5)
            exact_codes = lpsim.encode(x, fmt, rounding, seed=2, offset=5, engine="exact")
            assert np.array_equal(fast_codes.elements, exact_codes.elements), name
            assert np.array_equal(fast_codes.scales, exact_codes.scales), name
            codes = attrs.evolve(exact_codes, elements=exact_codes.elements.copy())
            codes.elements.setflags(write=False)
            assert np.array_equal(lpsim.decode(codes, fmt), lpsim.decode(codes, fmt, engine="exact"), equal_nan=True), name


@pytest.mark.parametrize("rounding", ["nearest_even", "stochastic"])
@pytest.mark.parametrize("fmt", BLOCK_FORMATS, ids=lambda f: f.spec)
def test_block_short_path_reads_blocks_along_a_middle_axis(fmt, rounding):
    """Blocks along axis 1 of a 3-d array (outer and inner dimensions both > 1), in place and transposed."""
    x = np.random.default_rng(6).standard_normal((3, 11, 4)) * np.exp2(np.arange(4) * 7.0)
    x[1, 2, 3] = np.nan
    for name, values in {"C order": x, "transposed": x.transpose(2, 1, 0)}.items():
        middle = attrs.evolve(fmt, axis=1)
        got = lpsim.quantize(values, middle, rounding, seed=4, offset=9)
        codes = lpsim.encode(values, middle, rounding, seed=4, offset=9, engine="exact")
        expected = lpsim.decode(codes, middle, engine="exact")
        assert np.array_equal(got, expected, equal_nan=True), name
        assert np.array_equal(np.signbit(got), np.signbit(expected)), name
