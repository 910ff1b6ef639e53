"""Fast engine == exact engine: identical codes, values and exceptions for random formats of
every family, every rounding mode, random keys and shapes (hypothesis, small arrays: the
exact engine is slow Python)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lpsim import codec
from lpsim.formats import BlockCodes

from .fast_strategies import (
    arrays_of, block_formats, fixed_formats, fixed_values, float_formats, float_values, keys, roundings,
)


def outcome(function, *args, **kwargs):
    """The result, or the exception's type and message."""
    try:
        return function(*args, **kwargs)
    except (ValueError, OverflowError, TypeError) as error:
        return type(error), str(error)


def assert_same_arrays(fast, exact):
    fast, exact = np.asarray(fast), np.asarray(exact)
    assert fast.dtype == exact.dtype and fast.shape == exact.shape
    if fast.dtype == np.float64:  # values: bit for bit, NaN signs and -0.0 included
        fast, exact = fast.view(np.uint64), exact.view(np.uint64)
    assert np.array_equal(fast, exact)


def assert_same(fast, exact):
    if isinstance(exact, tuple):  # an exception
        assert fast == exact
    elif isinstance(exact, BlockCodes):
        assert isinstance(fast, BlockCodes)
        assert_same_arrays(fast.elements, exact.elements)
        assert_same_arrays(fast.scales, exact.scales)
    else:
        assert not isinstance(fast, tuple), fast
        assert_same_arrays(fast, exact)


def check_codec(x, fmt, rounding, key):
    """Encode with both engines; then decode the codes with both."""
    exact = outcome(codec.encode, x, fmt, rounding, engine="exact", **key)
    fast = outcome(codec.encode, x, fmt, rounding, engine="fast", **key)
    assert_same(fast, exact)
    if not isinstance(exact, tuple):
        assert_same(codec.decode(exact, fmt, engine="fast"), codec.decode(exact, fmt, engine="exact"))


@settings(max_examples=300)
@given(data=st.data(), fmt=fixed_formats(), rounding=roundings, key=keys)
def test_fixed_point(data, fmt, rounding, key):
    x = data.draw(arrays_of(fixed_values(fmt)))
    check_codec(x, fmt, rounding, key)


@settings(max_examples=300)
@given(data=st.data(), fmt=float_formats(), rounding=roundings, key=keys)
def test_floating_point(data, fmt, rounding, key):
    x = data.draw(arrays_of(float_values(fmt)))
    check_codec(x, fmt, rounding, key)


@settings(max_examples=150)
@given(data=st.data(), ndim=st.integers(1, 3), rounding=roundings, key=keys)
def test_block_formats(data, ndim, rounding, key):
    fmt = data.draw(block_formats(ndim=ndim))
    element_values = fixed_values(fmt.element) if fmt.element.family == "fixed" else float_values(fmt.element)
    # values spread over many binades, so that elements underflow within their block
    scaled = st.tuples(element_values, st.integers(-40, 40)).map(lambda t: scale_by_power_of_two(*t))
    x = data.draw(arrays_of(scaled, max_size=16).filter(lambda a: a.ndim == ndim))
    check_codec(x, fmt, rounding, key)


def scale_by_power_of_two(value, exponent):
    with np.errstate(over="ignore"):
        return float(np.ldexp(value, exponent))


def random_codes(data, low, high, dtypes):
    """A list of codes in [low, high] in one of the integer dtypes that hold them all."""
    values = data.draw(st.lists(st.integers(low, high), max_size=10))
    fits = [np.dtype(d) for d in dtypes if all(np.iinfo(d).min <= v <= np.iinfo(d).max for v in values)]
    return np.array(values, dtype=data.draw(st.sampled_from(fits)))


@settings(max_examples=100)
@given(data=st.data(), fmt=st.one_of(fixed_formats(), float_formats()))
def test_decoding_any_code(data, fmt):
    """Every code decodes alike; codes outside the format raise the same ValueError."""
    if fmt.family == "fixed":
        low, high = fmt.code_min, fmt.code_max
    else:
        low, high = 0, fmt.n_codes - 1
    invalid = data.draw(st.booleans())
    codes = random_codes(data, max(low - 3 * invalid, -(2**63)), min(high + 3 * invalid, 2**64 - 1),
                         [fmt.code_dtype, np.int64, np.uint64, np.int8])
    assert_same(outcome(codec.decode, codes, fmt, engine="fast"), outcome(codec.decode, codes, fmt, engine="exact"))


@settings(max_examples=60)
@given(data=st.data(), fmt=block_formats(ndim=2))
def test_decoding_any_block_codes(data, fmt):
    shape = data.draw(st.tuples(st.integers(1, 3), st.integers(1, 7)))
    axis = fmt.axis % 2
    n_blocks = -(-shape[axis] // fmt.block_size)
    scale_shape = (n_blocks, shape[1]) if axis == 0 else (shape[0], n_blocks)
    element = fmt.element
    low, high = (element.code_min, element.code_max) if element.family == "fixed" else (0, element.n_codes - 1)
    invalid = data.draw(st.booleans())
    int64 = np.iinfo(np.int64)  # the codes array below is int64: a 64-bit element has no invalid code beyond it
    low, high = max(low - invalid, int64.min), min(high + invalid, int64.max)
    elements = np.array(data.draw(st.lists(st.integers(low, high), min_size=shape[0] * shape[1],
                                           max_size=shape[0] * shape[1])), dtype=np.int64).reshape(shape)
    scales = np.array(data.draw(st.lists(st.integers(0, fmt.scale_nan_code + invalid), min_size=int(np.prod(scale_shape)),
                                         max_size=int(np.prod(scale_shape)))), dtype=np.int64).reshape(scale_shape)
    codes = BlockCodes(elements=elements, scales=scales)
    assert_same(outcome(codec.decode, codes, fmt, engine="fast"), outcome(codec.decode, codes, fmt, engine="exact"))


# Byte orders: codes or values read from a file or another machine may be big- or little-endian; both
# engines take either (the fast engine's compiled kernels see them converted to native order).
byte_orders = st.sampled_from(["<", ">", "="])


def in_byte_order(a: np.ndarray, order: str) -> np.ndarray:
    return a.astype(a.dtype.newbyteorder(order))


@settings(max_examples=100)
@given(data=st.data(), fmt=st.one_of(fixed_formats(), float_formats()), order=byte_orders)
def test_decoding_codes_in_any_byte_order(data, fmt, order):
    low, high = (fmt.code_min, fmt.code_max) if fmt.family == "fixed" else (0, fmt.n_codes - 1)
    codes = random_codes(data, low, high, [fmt.code_dtype, np.int64, np.uint64, np.uint16, np.int32])
    expected = codec.decode(codes, fmt, engine="exact")
    for engine in ("fast", "exact"):
        assert_same(codec.decode(in_byte_order(codes, order), fmt, engine=engine), expected)


def test_decoding_big_endian_codes():
    codes = np.array([1, 2], dtype=">u2")
    assert codec.decode(codes, "binary16", engine="fast").tolist() == [2.0**-24, 2.0**-23]
    assert codec.decode(codes, "binary16", engine="exact").tolist() == [2.0**-24, 2.0**-23]


@settings(max_examples=40)
@given(data=st.data(), fmt=block_formats(), order=byte_orders, key=keys)
def test_decoding_block_codes_in_any_byte_order(data, fmt, order, key):
    element_values = fixed_values(fmt.element) if fmt.element.family == "fixed" else float_values(fmt.element)
    x = data.draw(arrays_of(element_values).filter(lambda a: a.ndim == 1))
    codes = codec.encode(x, fmt, engine="exact", **key)
    expected = codec.decode(codes, fmt, engine="exact")
    swapped = BlockCodes(elements=in_byte_order(codes.elements.astype(np.int64), order),
                         scales=in_byte_order(codes.scales.astype(np.uint32), order))
    for engine in ("fast", "exact"):
        assert_same(codec.decode(swapped, fmt, engine=engine), expected)


@settings(max_examples=60)
@given(data=st.data(), fmt=st.one_of(fixed_formats(), float_formats()), order=byte_orders,
       dtype=st.sampled_from(["f2", "f4", "f8", "i4", "u8"]), rounding=roundings, key=keys)
def test_encoding_values_in_any_byte_order(data, fmt, order, dtype, rounding, key):
    values = data.draw(arrays_of(fixed_values(fmt) if fmt.family == "fixed" else float_values(fmt)))
    with np.errstate(all="ignore"):  # to f2, f4 or an integer type: what the value becomes does not matter here
        x = values.astype(dtype)
    swapped = in_byte_order(x, order)
    for function in (codec.encode, codec.quantize):
        expected = outcome(function, x, fmt, rounding, engine="exact", **key)
        for engine in ("fast", "exact"):
            assert_same(outcome(function, swapped, fmt, rounding, engine=engine, **key), expected)
