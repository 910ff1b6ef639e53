"""Input types and shapes of quantize / encode / decode."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lpsim
from lpsim.formats import BINARY16, BINARY64, E4M3, BlockCodes, BlockFormat, FixedPoint, FloatFormat

FORMATS = [BINARY16, E4M3, FixedPoint(bits=8, frac_bits=3), BlockFormat.mx("e2m1", block_size=4)]


@pytest.mark.parametrize("fmt", FORMATS, ids=str)
def test_float_dtypes_give_the_same_result(fmt):
    x64 = np.array([0.5, -1.25, 3.0, 0.1, -7.5, 2.0**-9])
    expected = lpsim.quantize(x64.astype(np.float16).astype(np.float64), fmt, engine="exact")
    for dtype in (np.float16, np.float32, np.float64):
        got = lpsim.quantize(x64.astype(np.float16).astype(dtype), fmt, engine="exact")
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("fmt", FORMATS, ids=str)
def test_scalar_in_scalar_out(fmt):
    q = lpsim.quantize(1.3, fmt, engine="exact")
    assert np.ndim(q) == 0 and isinstance(q, (float, np.floating))
    assert q == lpsim.quantize(np.array([1.3]), fmt, engine="exact")[0]
    assert lpsim.quantize(np.float32(1.3), fmt, engine="exact") == lpsim.quantize(float(np.float32(1.3)), fmt, engine="exact")
    c = lpsim.encode(1.3, fmt, engine="exact")
    if isinstance(fmt, BlockFormat):
        assert c.elements.shape == () and c.scales.shape == ()
    else:
        assert isinstance(c, np.integer) and c.dtype == fmt.code_dtype
        d = lpsim.decode(c, fmt, engine="exact")
        assert np.ndim(d) == 0 and d == q
        assert lpsim.decode(int(c), fmt, engine="exact") == q


@pytest.mark.parametrize("fmt", FORMATS, ids=str)
@pytest.mark.parametrize("shape", [(0,), (3, 0), (5,), (2, 3, 4), (1, 1, 1, 1)])
def test_any_shape(fmt, shape):
    x = np.linspace(-3, 3, int(np.prod(shape))).reshape(shape)
    q = lpsim.quantize(x, fmt, engine="exact")
    assert q.shape == shape and q.dtype == np.float64
    if x.size and not isinstance(fmt, BlockFormat):
        np.testing.assert_array_equal(q.reshape(-1), lpsim.quantize(x.reshape(-1), fmt, engine="exact"))


def test_integer_inputs_are_exact():
    fmt = FixedPoint(bits=64, frac_bits=0)
    for value in (2**53, -(2**53), 2**53 - 1, 12345):
        assert lpsim.encode(value, fmt, engine="exact") == value
        assert lpsim.encode(np.int64(value), fmt, engine="exact") == value
    assert lpsim.quantize(np.arange(-5, 5, dtype=np.int8), BINARY16, engine="exact").tolist() == list(range(-5, 5))
    assert lpsim.quantize(np.array([2**53], dtype=np.uint64), BINARY64, engine="exact").tolist() == [2.0**53]
    assert lpsim.quantize([1, 2, 3], BINARY16, engine="exact").tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("value", [2**53 + 1, -(2**53) - 1, 2**60, 2**100, np.int64(2**62), np.uint64(2**64 - 1), [1, 2**70]])
def test_integers_beyond_2_to_53_are_rejected(value):
    with pytest.raises(ValueError, match=r"integer inputs must lie in \[-2\*\*53, 2\*\*53\]"):
        lpsim.quantize(value, BINARY16, engine="exact")


@pytest.mark.parametrize("value", [True, np.array([True, False]), "1.0", 1 + 2j, np.array([1.0], dtype=np.complex128), None])
def test_non_numbers_are_rejected(value):
    with pytest.raises(TypeError, match="values must be|boolean"):
        lpsim.quantize(value, BINARY16, engine="exact")


def test_bad_call_arguments():
    with pytest.raises(ValueError, match="engine must be one of fast, exact"):
        lpsim.quantize(1.0, BINARY16, engine="turbo")
    with pytest.raises(TypeError, match="fmt must be an lpsim Format"):
        lpsim.quantize(1.0, 16, engine="exact")
    with pytest.raises(ValueError, match="offset must be an integer in"):
        lpsim.quantize(1.0, BINARY16, "stochastic", offset=-1, engine="exact")
    with pytest.raises(ValueError, match="exceeds the 2\\*\\*64 element indices"):
        lpsim.quantize(np.ones(3), BINARY16, "stochastic", offset=2**64 - 2, engine="exact")
    with pytest.raises(ValueError, match="seed must be in"):
        lpsim.quantize(1.0, BINARY16, "stochastic", seed=-3, engine="exact")
    with pytest.raises(ValueError, match="mode must be one of"):
        lpsim.quantize(1.0, BINARY16, "banker", engine="exact")
    with pytest.raises(TypeError, match="codes must be an integer array"):
        lpsim.decode(np.array([1.5]), BINARY16, engine="exact")


def test_format_names_are_accepted():
    assert lpsim.quantize(1.3, "e4m3", engine="exact") == lpsim.quantize(1.3, E4M3, engine="exact")


ENGINES = ["fast", "exact"]
MASK_FORMATS = [*FORMATS, FixedPoint(bits=8, frac_bits=3, overflow="error"), FloatFormat(exp_bits=4, man_bits=3, overflow="error")]


def _same_bits(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a.view(f"u{a.dtype.itemsize}"), b.view(f"u{b.dtype.itemsize}"))


@settings(max_examples=40)
@given(
    fmt=st.sampled_from(MASK_FORMATS),
    values=st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=12),
    data=st.data(),
    rounding=st.sampled_from(["nearest_even", "stochastic", "toward_zero"]),
)
def test_masked_arrays_keep_their_mask(fmt, values, data, rounding):
    """quantize, encode and decode return a masked array with the input's mask; masked entries are
    replaced by 0 before rounding, so their data (NaN, or a value past an ``_error`` format's range)
    neither raises nor sets a block's shared scale."""
    mask = data.draw(st.lists(st.booleans(), min_size=len(values), max_size=len(values)))
    x = np.ma.masked_array(values, mask=mask)
    plain = x.filled(0)
    for engine in ENGINES:
        try:
            expected = lpsim.quantize(plain, fmt, rounding, seed=5, engine=engine)
        except (ValueError, OverflowError):  # an unmasked value the format refuses: raised as for plain arrays
            with pytest.raises((ValueError, OverflowError)):
                lpsim.quantize(x, fmt, rounding, seed=5, engine=engine)
            continue
        q = lpsim.quantize(x, fmt, rounding, seed=5, engine=engine)
        assert isinstance(q, np.ma.MaskedArray) and np.array_equal(np.ma.getmaskarray(q), mask)
        assert _same_bits(q.data, expected)
        codes = lpsim.encode(x, fmt, rounding, seed=5, engine=engine)
        elements = codes.elements if isinstance(fmt, BlockFormat) else codes
        assert isinstance(elements, np.ma.MaskedArray) and np.array_equal(np.ma.getmaskarray(elements), mask)
        decoded = lpsim.decode(codes, fmt, engine=engine)
        assert isinstance(decoded, np.ma.MaskedArray) and np.array_equal(np.ma.getmaskarray(decoded), mask)
        assert _same_bits(decoded.data, expected)


@pytest.mark.parametrize("engine", ENGINES)
def test_masked_codes_outside_the_format_are_not_decoded(engine):
    codes = np.ma.masked_array(np.array([0x38, 0xFFFF, 0x3C], dtype=">u2"), mask=[False, True, False])
    values = lpsim.decode(codes, E4M3, engine=engine)
    assert values.mask.tolist() == [False, True, False] and values[0] == 1.0 and values[2] == 1.5
    with pytest.raises(ValueError, match="outside"):
        lpsim.decode(codes.data, E4M3, engine=engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_block_formats_decode_only_block_codes(engine):
    fmt = BlockFormat.bfp(8, 32)
    with pytest.raises(TypeError, match=r"codes of block format block32_fixed8_f6_x8 must be the BlockCodes .* got ndarray"):
        lpsim.decode(np.array([1, 2]), fmt, engine=engine)
    with pytest.raises(TypeError, match="got list"):
        lpsim.decode([1, 2], fmt, engine=engine)
    codes = lpsim.encode(np.array([1.0, 2.0]), fmt, engine=engine)
    with pytest.raises(TypeError, match="BlockCodes are the codes of a block format, not of FloatFormat e4m3_fn"):
        lpsim.decode(codes, E4M3, engine=engine)
    with pytest.raises(TypeError, match="block element codes must be an integer array"):
        lpsim.decode(BlockCodes(elements=np.array([1.0]), scales=codes.scales), fmt, engine=engine)
    with pytest.raises(TypeError, match="block scale codes cannot be masked"):
        lpsim.decode(BlockCodes(elements=codes.elements, scales=np.ma.masked_array(codes.scales)), fmt, engine=engine)
