"""Input types and shapes of quantize / encode / decode."""

from __future__ import annotations

import numpy as np
import pytest

import lpsim
from lpsim.formats import BINARY16, BINARY64, E4M3, BlockFormat, FixedPoint

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
