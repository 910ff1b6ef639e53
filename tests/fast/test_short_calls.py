"""Short reductions take the serial shortcuts (serial kernel twins, a dot read through the operand
value tables, a wrapping integer dot over the element codes): the exact engine's codes for every
code of the operand formats (NaN, inf, signed zeros, subnormals, extreme integers), and numpy's
float32 running sums and Python integers as independent oracles."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lpsim import ops
from lpsim.arith import as_accumulator
from lpsim.exact import QArray
from lpsim.fast import _mac
from lpsim.formats import BFLOAT16, BINARY16, BINARY32, BINARY64, E4M3, E4M3FNUZ, E5M2, FixedPoint

from .strategies import EXACT, Accumulator, FloatRegister, IntRegister, Summation, assert_engines_agree, qarrays

SHORT_FORMATS = [E4M3, E5M2, E4M3FNUZ, BINARY16, BFLOAT16]
NATIVE = [Accumulator(accumulator=FloatRegister(fmt=BINARY32)), Accumulator(accumulator=FloatRegister(fmt=BINARY64)),
          Accumulator(accumulator=FloatRegister(fmt=BINARY32), summation=Summation(order="pairwise"))]


@settings(max_examples=60, deadline=None)
@given(data=st.data(), a_fmt=st.sampled_from(SHORT_FORMATS), b_fmt=st.sampled_from(SHORT_FORMATS),
       accumulator=st.sampled_from(NATIVE), n=st.integers(0, 40))
def test_short_dots_match_the_exact_engine(data, a_fmt, b_fmt, accumulator, n):
    a, b = data.draw(qarrays(a_fmt, (n,))), data.draw(qarrays(b_fmt, (n,)))
    assert_engines_agree("dot", a, b, accumulator)


@settings(max_examples=30, deadline=None)
@given(fmt=st.sampled_from([E4M3, BFLOAT16, BINARY16]), n=st.integers(1, 64), seed=st.integers(0, 2**32 - 1))
def test_short_fp32_dot_equals_numpy_float32_running_sum(fmt, n, seed):
    rng = np.random.default_rng(seed)
    a = QArray.from_float(rng.standard_normal(n) * 8.0, fmt)
    b = QArray.from_float(rng.standard_normal(n) * 8.0, fmt)
    got = ops.to_float(ops.dot(a, b, NATIVE[0]))
    products = (ops.to_float(a) * ops.to_float(b)).astype(np.float32)  # exact in float32
    expected = np.add.accumulate(products, dtype=np.float32)[-1]
    assert np.float32(got).view(np.uint32) == expected.view(np.uint32)


INT8, UINT8, INT16 = (FixedPoint(bits=8, frac_bits=0), FixedPoint(bits=8, signed=False, frac_bits=0),
                      FixedPoint(bits=16, frac_bits=0))


def _wrapped(value, register):
    """value brought into the register by wrapping modulo 2**bits, in Python integers."""
    return (value - register.code_min) % (1 << register.bits) + register.code_min


@st.composite
def _wrapping_accumulators(draw, a_fmt, b_fmt):
    """A wrapping integer register of at most 32 bits that holds one product of the two formats."""
    products = [x * y for x in (a_fmt.code_min, a_fmt.code_max) for y in (b_fmt.code_min, b_fmt.code_max)]
    signed = min(products) < 0 or draw(st.booleans())
    least = max(max(products).bit_length() + signed, (-min(products) - 1).bit_length() + 1)
    register = IntRegister(bits=draw(st.integers(least, 32)), signed=signed, overflow="wrap")
    return Accumulator(product=EXACT, accumulator=register,
                       summation=draw(st.sampled_from([Summation(), Summation(order="pairwise")])))


@settings(max_examples=50, deadline=None)
@given(data=st.data(), a_fmt=st.sampled_from([INT8, UINT8, INT16]), b_fmt=st.sampled_from([INT8, UINT8, INT16]),
       n=st.integers(0, 40))
def test_short_wrapping_int_dot_equals_the_exact_engine_and_python_integers(data, a_fmt, b_fmt, n):
    a, b = data.draw(qarrays(a_fmt, (n,))), data.draw(qarrays(b_fmt, (n,)))
    vnni_holds_a_product = INT8 in (a_fmt, b_fmt) and INT16 not in (a_fmt, b_fmt)  # its product register is int16
    accumulator = data.draw(st.one_of(_wrapping_accumulators(a_fmt, b_fmt), st.just("vnni_int8_int32"))) \
        if vnni_holds_a_product else data.draw(_wrapping_accumulators(a_fmt, b_fmt))
    expected = assert_engines_agree("dot", a, b, accumulator)
    register = as_accumulator(accumulator).accumulator
    exact_sum = sum(int(x) * int(y) for x, y in zip(a.codes, b.codes))
    assert int(ops.dot(a, b, accumulator).codes) == _wrapped(exact_sum, register), expected


@pytest.mark.parametrize(("fmt", "code_a", "code_b", "n", "register"), [
    (INT16, -32768, -32768, 3, IntRegister(bits=32, overflow="wrap")),  # int16 products: past 2**31 in a few terms
    (INT16, 32767, -32768, 5, IntRegister(bits=32, overflow="wrap")),
    (INT8, -128, -128, 40, IntRegister(bits=20, overflow="wrap")),  # int8 products: past narrower registers
    (UINT8, 255, 255, 40, IntRegister(bits=17, signed=False, overflow="wrap")),
    (INT8, -128, -128, 140_000, IntRegister(bits=32, overflow="wrap")),  # past 2**31, still below SMALL_WORK terms
])
def test_short_wrapping_int_dot_wraps_on_overflow(fmt, code_a, code_b, n, register):
    accumulator = Accumulator(product=EXACT, accumulator=register)
    a = QArray(codes=np.full(n, code_a, dtype=fmt.code_dtype), fmt=fmt)
    b = QArray(codes=np.full(n, code_b, dtype=fmt.code_dtype), fmt=fmt)
    exact_sum = n * code_a * code_b
    assert exact_sum != _wrapped(exact_sum, register)  # the case really overflows
    assert int(ops.dot(a, b, accumulator).codes) == _wrapped(exact_sum, register)
    if n <= 40:  # the exact engine's Python loop is slow for the long case
        assert_engines_agree("dot", a, b, accumulator)


@pytest.mark.parametrize("n", [0, 1, 32])
def test_short_int_dot_takes_the_serial_code_kernel(monkeypatch, n):
    """A 1-D x 1-D wrap32 dot is one call of the serial kernel over the element codes, with or without out=."""
    calls = []
    kernel = _mac.M.int_dot_wrap32

    def counted(*args):
        calls.append(args[0].shape)
        return kernel(*args)

    monkeypatch.setattr(_mac.M, "int_dot_wrap32", counted)
    rng = np.random.default_rng(n)
    a = QArray(codes=rng.integers(-128, 128, n).astype(np.int8), fmt=INT8)
    b = QArray(codes=rng.integers(-128, 128, n).astype(np.int8), fmt=INT8)
    expected = sum(int(x) * int(y) for x, y in zip(a.codes, b.codes))
    assert int(ops.dot(a, b, "vnni_int8_int32").codes) == expected
    assert int(ops.to_float(ops.dot(a, b, "vnni_int8_int32", out=BINARY64))) == expected
    assert calls == [(n,), (n,)]
