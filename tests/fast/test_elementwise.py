"""add / subtract / multiply / fma / axpy / requantize: the fast engine gives the exact engine's codes and exceptions.

Operands of random fixed-point, float and block formats (every code, so NaN, inf,
subnormals and extremes occur), broadcasting shapes, output formats, every rounding
mode with random seeds, streams and offsets.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lpsim.exact import QArray
from lpsim.fast import _arith_kernels as K
from lpsim.fast import _rng_kernels
from lpsim.formats import BINARY16, FixedPoint, FloatFormat

from .strategies import BLOCK_FORMATS, assert_engines_agree, fixed_formats, float_formats, qarrays, roundings

KEYS = dict(seed=st.integers(0, 2**64 - 1), stream=st.integers(0, 2**32 - 1), offset=st.integers(0, 2**40))
SHAPES = st.sampled_from([((), ()), ((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 2)), ((4,), ()), ((0,), (0,))])


def operand_formats():
    return st.one_of(fixed_formats(max_bits=20), float_formats(), st.sampled_from(BLOCK_FORMATS))


def out_formats():
    return st.one_of(st.none(), fixed_formats(max_bits=20), float_formats())


def _shape_for(fmt, shape):
    return shape if shape else ((1,) if hasattr(fmt, "block_size") else shape)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), op=st.sampled_from(["add", "subtract", "multiply"]), a_fmt=operand_formats(),
       b_fmt=operand_formats(), shapes=SHAPES, rounding=roundings(), **KEYS)
def test_binary_ops(data, op, a_fmt, b_fmt, shapes, rounding, seed, stream, offset):
    a = data.draw(qarrays(a_fmt, _shape_for(a_fmt, shapes[0])))
    b = data.draw(qarrays(b_fmt, _shape_for(b_fmt, shapes[1])))
    out = data.draw(out_formats())
    assert_engines_agree(op, a, b, out, rounding, seed=seed, stream=stream, offset=offset)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), op=st.sampled_from(["fma", "axpy"]), formats=st.tuples(operand_formats(), operand_formats(),
       operand_formats()), shapes=SHAPES, rounding=roundings(), **KEYS)
def test_fused_ops(data, op, formats, shapes, rounding, seed, stream, offset):
    first_shape = () if op == "axpy" else shapes[1]
    a = data.draw(qarrays(formats[0], _shape_for(formats[0], first_shape)))
    b = data.draw(qarrays(formats[1], _shape_for(formats[1], shapes[0])))
    c = data.draw(qarrays(formats[2], _shape_for(formats[2], shapes[1])))
    out = data.draw(out_formats())
    assert_engines_agree(op, a, b, c, out, rounding, seed=seed, stream=stream, offset=offset)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), a_fmt=operand_formats(), out=st.one_of(fixed_formats(max_bits=24), float_formats()),
       rounding=roundings(), size=st.integers(0, 6), **KEYS)
def test_requantize(data, a_fmt, out, rounding, size, seed, stream, offset):
    a = data.draw(qarrays(a_fmt, (max(size, 1),) if hasattr(a_fmt, "block_size") else (size,)))
    assert_engines_agree("requantize", a, out, rounding, seed=seed, stream=stream, offset=offset)


def test_requantize_to_another_scale_like_halp():
    """Bit centering's rescale: fixed point of one power-of-two scale into a finer one, stochastic."""
    coarse, fine = FixedPoint(bits=8, frac_bits=2), FixedPoint(bits=8, frac_bits=5, overflow="saturate")
    a = QArray(codes=np.arange(-128, 128), fmt=coarse)
    b = QArray(codes=np.arange(-128, 128), fmt=fine)
    assert_engines_agree("requantize", a, fine, "stochastic", seed=3)
    assert_engines_agree("requantize", b, coarse, "stochastic", seed=3)
    assert_engines_agree("requantize", b, coarse, "stochastic:4", seed=3)


def test_exceptions_match():
    strict = FloatFormat(exp_bits=5, man_bits=10, overflow="error")
    big = QArray(codes=np.array([0x5BFF]), fmt=strict)  # 255.875
    assert_engines_agree("multiply", big, big)[0] == "raise"
    nan = QArray(codes=np.array([0x7E00]), fmt=BINARY16)
    assert assert_engines_agree("requantize", nan, FixedPoint.integer(8))[1] is ValueError
    four = QArray(codes=np.array([7, 7]), fmt=FixedPoint(bits=4, frac_bits=0, overflow="error"))
    assert assert_engines_agree("add", four, four)[1] is OverflowError
    assert assert_engines_agree("add", four, QArray(codes=np.array([1, 2, 3]), fmt=four.fmt))[1] is ValueError


def test_window_reports_undecidable_exact_probability():
    """With r = None and a sticky fraction whose known bits equal the random bits, the kernel asks
    for the exact engine instead of guessing; with different bits it decides."""
    seed, stream, index = np.uint64(5), np.uint64(7), np.uint64(11)
    u0 = _rng_kernels.chunk64(seed, stream, index, 0)
    decided, status = K.random_below_window(np.uint64(0), u0, 64, True, 0, seed, stream, index)
    assert status == K.NEEDS_EXACT
    decided, status = K.random_below_window(np.uint64(0), u0, 64, False, 0, seed, stream, index)
    assert status == K.OK and decided is False  # U >= frac when every bit of frac equals U's
    decided, status = K.random_below_window(np.uint64(0), u0 ^ np.uint64(1 << 63), 64, True, 0, seed, stream, index)
    assert status == K.OK and decided == bool(u0 >> np.uint64(63) == 0)
