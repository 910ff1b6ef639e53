"""dot / matvec / matmul: the fast engine gives the exact engine's codes and exceptions.

Random operand formats, registers (integer of any width with wrap / saturate / error, float
in every rounding mode, exact), summation orders, output formats, seeds and shapes; codes
drawn over each format's whole range, so NaN, inf, subnormals and extremes all occur.
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lpsim.arith import available_profiles, code_product_range
from lpsim.arith.plan import signed_bits_for
from lpsim.exact import QArray
from lpsim.fast import arith as fast
from lpsim.fast import fallback
from lpsim.formats import BINARY16, BINARY32, FixedPoint, FloatFormat

from .strategies import (
    BLOCK_FORMATS, EXACT, Accumulator, FloatRegister, IntRegister, Summation, assert_engines_agree, build_or_none,
    fixed_formats, float_formats, float_registers, int_registers, qarrays, roundings,
)


@st.composite
def reduction(draw, a_fmt, b_fmt):
    """(op, a, b) with small shapes; n may be 0."""
    op = draw(st.sampled_from(["dot", "matvec", "matmul"]))
    n = draw(st.integers(0, 9))
    m, p = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    if isinstance(a_fmt, type(BLOCK_FORMATS[0])) or isinstance(b_fmt, type(BLOCK_FORMATS[0])):
        n = max(n, 1)  # block values come from floats; keep at least one
    a_shape = {"dot": (n,), "matvec": (m, n), "matmul": (m, n)}[op]
    b_shape = {"dot": (n,), "matvec": (n,), "matmul": (n, p)}[op]
    return op, draw(qarrays(a_fmt, a_shape)), draw(qarrays(b_fmt, b_shape))


@st.composite
def summations(draw, final_registers):
    order = draw(st.sampled_from(["sequential", "pairwise", "chunked"]))
    if order != "chunked":
        return Summation(order=order)
    return Summation.chunked(draw(st.integers(1, 4)), draw(final_registers))


def outputs(draw):
    return draw(st.one_of(st.none(), fixed_formats(), float_formats(), st.just(BINARY32)))


KEYS = dict(seed=st.integers(0, 2**64 - 1), stream=st.integers(0, 2**32 - 1), offset=st.integers(0, 2**20))


@settings(max_examples=150, deadline=None)
@given(data=st.data(), a_fmt=fixed_formats(max_bits=12), b_fmt=fixed_formats(max_bits=12), rounding=roundings(), **KEYS)
def test_fixed_point_operands(data, a_fmt, b_fmt, rounding, seed, stream, offset):
    low, high = code_product_range(a_fmt, b_fmt)
    need = signed_bits_for(low, high)
    product = data.draw(st.one_of(st.just(EXACT), int_registers(need)))
    acc = data.draw(st.one_of(st.just(EXACT), int_registers(need), float_registers()))
    finals = st.one_of(st.just(EXACT), int_registers(need + 2), float_registers())
    summation = data.draw(summations(finals))
    accumulator = build_or_none(lambda: Accumulator(product=product, accumulator=acc, summation=summation))
    assume(accumulator is not None)
    op, a, b = data.draw(reduction(a_fmt, b_fmt))
    assert_engines_agree(op, a, b, accumulator, outputs(data.draw), rounding, seed=seed, stream=stream, offset=offset)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), a_fmt=st.one_of(float_formats(), st.sampled_from(BLOCK_FORMATS)), b_fmt=float_formats(),
       rounding=roundings(), **KEYS)
def test_float_and_block_operands(data, a_fmt, b_fmt, rounding, seed, stream, offset):
    product = data.draw(st.one_of(st.just(EXACT), float_registers()))
    acc = data.draw(st.one_of(float_registers(), st.just(EXACT)))
    summation = data.draw(summations(st.one_of(float_registers(), st.just(EXACT))))
    accumulator = build_or_none(lambda: Accumulator(product=product, accumulator=acc, summation=summation))
    assume(accumulator is not None)
    op, a, b = data.draw(reduction(a_fmt, b_fmt))
    out = data.draw(st.one_of(st.none(), float_formats(), fixed_formats()))
    assert_engines_agree(op, a, b, accumulator, out, rounding, seed=seed, stream=stream, offset=offset)


@pytest.mark.parametrize("name", sorted(available_profiles()))
@settings(max_examples=12, deadline=None)
@given(data=st.data(), seed=st.integers(0, 2**32))
def test_every_profile(name, data, seed):
    profile = available_profiles()[name]
    a_fmt, b_fmt = profile.inputs
    op, a, b = data.draw(reduction(a_fmt, b_fmt))
    out = None if profile.accumulator.accumulator is not EXACT else BINARY32
    assert_engines_agree(op, a, b, name, out, "stochastic", seed=seed)


def test_avx2_pairs_saturate_in_int16():
    u8, i8 = FixedPoint.integer(8, signed=False), FixedPoint.integer(8)
    a = QArray(codes=np.array([255, 255, 255, 255, 1, 1]), fmt=u8)
    b = QArray(codes=np.array([127, 127, -128, -128, 5, 7]), fmt=i8)
    result = fast.dot(a, b, "avx2_maddubs_int16")
    # each pair saturates to the int16 range before the int32 sum: 32767 - 32768 + 12
    assert int(result.codes) == 32767 - 32768 + 12
    assert int(result.codes) != 255 * 127 * 2 - 255 * 128 * 2 + 12
    assert_engines_agree("dot", a, b, "avx2_maddubs_int16")


@pytest.mark.parametrize("overflow", ["wrap", "saturate", "error"])
def test_int_accumulator_overflow(overflow):
    i8 = FixedPoint.integer(8)
    ones = QArray(codes=np.full(5, 127), fmt=i8)
    acc = Accumulator(product=IntRegister(bits=16), accumulator=IntRegister(bits=16, overflow=overflow))
    expected = assert_engines_agree("dot", ones, ones, acc)
    brute = 5 * 127 * 127
    if overflow == "wrap":
        assert expected[2][1] == (brute + 2**15) % 2**16 - 2**15
    elif overflow == "saturate":
        assert expected[2][1] == 2**15 - 1
    else:
        assert expected[0] == "raise" and expected[1] is OverflowError


@pytest.mark.parametrize("bits", [63, 64])
def test_64_bit_registers_wrap_and_saturate_past_int64(bits):
    big = FixedPoint(bits=32, frac_bits=0)
    a = QArray(codes=np.full(8, -(2**31)), fmt=big)
    for overflow in ["wrap", "saturate", "error"]:
        acc = Accumulator(accumulator=IntRegister(bits=bits, overflow=overflow))
        assert_engines_agree("dot", a, a, acc)
        assert_engines_agree("dot", a, a, Accumulator(accumulator=IntRegister(bits=bits, overflow=overflow),
                                                       summation=Summation(order="pairwise")))
    # an exact accumulator past int64: the 64-bit result format raises in both engines
    kind = assert_engines_agree("dot", a, a, Accumulator(accumulator=EXACT))
    assert kind[0] == "raise" and kind[1] is OverflowError


def test_float16_accumulator_ties_overflow_and_subnormals():
    h = BINARY16
    acc16 = Accumulator(accumulator=FloatRegister(fmt=h))
    values = np.array([2048.0, 1.0, 1.0, 65504.0, 32.0, 6e-8, -6e-8, 1e-7])
    a = QArray.from_float(values, h)
    ones = QArray.from_float(np.ones(values.size), h)
    for order in ["sequential", "pairwise"]:
        accumulator = Accumulator(accumulator=acc16.accumulator, summation=Summation(order=order))
        assert_engines_agree("dot", a, ones, accumulator)
        assert_engines_agree("dot", QArray.from_float(values[:3], h),
                             QArray.from_float(np.ones(3), h), accumulator)


def test_fallback_warns_once_and_matches():
    scaled = FixedPoint(bits=8, scale=0.3)
    a = QArray(codes=np.arange(-4, 4), fmt=scaled)
    acc = Accumulator(accumulator=FloatRegister(fmt=BINARY32))
    fallback._warned.clear()
    with pytest.warns(fast.FastArithmeticFallbackWarning, match="not a power of two"):
        fast.dot(a, a, acc)
    assert_engines_agree("dot", a, a, acc)


def test_results_do_not_depend_on_splitting_outputs():
    """matvec rows computed one by one with offset = row index give the whole matvec's bits."""
    rng = np.random.default_rng(1)
    a = QArray.from_float(rng.normal(size=(5, 7)), BINARY16)
    x = QArray.from_float(rng.normal(size=7), BINARY16)
    acc = Accumulator(accumulator=FloatRegister(fmt=BINARY16, rounding="stochastic"))
    whole = fast.matvec(a, x, acc, out=FloatFormat(exp_bits=4, man_bits=3), rounding="stochastic", seed=9, stream=4)
    for i in range(5):
        row = QArray(codes=a.codes[i], fmt=BINARY16)
        one = fast.dot(row, x, acc, out=FloatFormat(exp_bits=4, man_bits=3), rounding="stochastic", seed=9, stream=4,
                       offset=i)
        assert int(one.codes) == int(whole.codes[i])
