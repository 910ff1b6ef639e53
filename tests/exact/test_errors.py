"""Bad input gets a clear exception naming the operands and formats, from each engine."""

import numpy as np
import pytest

from lpsim.arith import (
    EXACT,
    Accumulator,
    FloatRegister,
    HardwareProfile,
    IntRegister,
    Summation,
    get_profile,
    plan_dot,
    register_profile,
)
from lpsim import ops
from lpsim.exact import QArray
from lpsim.formats import BINARY16, BINARY32, E4M3, FixedPoint, FloatFormat

I8 = FixedPoint.integer(8)
I4 = FixedPoint(bits=4, frac_bits=0)


def q(values, fmt):
    return QArray.from_float(values, fmt)


def test_mismatched_shapes(engine):
    with pytest.raises(ValueError, match=r"add: operand shapes do not broadcast: a \(e5m10, shape \(3,\)\), b \(e5m10, shape \(2,\)\)"):
        ops.add(q([1, 2, 3], BINARY16), q([1, 2], BINARY16), engine=engine)
    with pytest.raises(ValueError, match=r"dot: inner dimensions differ: a \(fixed8_f0\) has shape \(3,\), b \(fixed8_f0\) has shape \(2,\)"):
        ops.dot(q([1, 2, 3], I8), q([1, 2], I8), "vnni_int8_int32", engine=engine)
    with pytest.raises(ValueError, match=r"matvec: operand x must have 1 dimension"):
        ops.matvec(q(np.ones((2, 2)), I8), q(np.ones((2, 2)), I8), "vnni_int8_int32", engine=engine)
    with pytest.raises(ValueError, match=r"matmul: inner dimensions differ"):
        ops.matmul(q(np.ones((2, 3)), I8), q(np.ones((2, 2)), I8), "vnni_int8_int32", engine=engine)


# fast: a dot of non-power-of-two-step fixed point into out= falls back to the exact engine
@pytest.mark.filterwarnings("ignore::lpsim.fast.fallback.FastArithmeticFallbackWarning")
def test_incompatible_formats(engine):
    with pytest.raises(ValueError, match=r"operands have different formats \(a \(e5m10.*b \(e8m23.*pass out="):
        ops.add(q([1.0], BINARY16), q([1.0], BINARY32), engine=engine)
    with pytest.raises(TypeError, match=r"integer registers .* need fixed-point operands; got a \(e5m10\) x b \(e5m10\)"):
        ops.dot(q([1.0], BINARY16), q([1.0], BINARY16), "vnni_int8_int32", engine=engine)
    with pytest.raises(ValueError, match=r"exact accumulator with non-fixed-point operands \(e4m3_fn, e4m3_fn\).*pass out="):
        ops.dot(q([1.0], E4M3), q([1.0], E4M3), "exact", engine=engine)
    with pytest.raises(TypeError, match=r"operand b must be a QArray, got ndarray"):
        ops.multiply(q([1.0], BINARY16), np.ones(1), engine=engine)
    a01, a03 = q([1.0], FixedPoint(bits=8, scale=0.1)), q([1.0], FixedPoint(bits=8, scale=0.3))
    with pytest.raises(ValueError, match=r"product step .* is not a float64 number"):
        ops.dot(a01, a03, "vnni_int8_int32", engine=engine)
    with pytest.raises(ValueError, match=r"product step .* is not a float64 number"):
        ops.dot(a01, a03, "exact", engine=engine)  # the exact register's default storage is an integer count of that step
    # with an explicit output format it works: (10 * fl(0.1)) * (3 * fl(0.3)) is 0.9 up to float64 error: 14.4 sixteenths -> 14
    assert ops.dot(a01, a03, "exact", out=FixedPoint(bits=8, frac_bits=4), engine=engine).to_float() == 0.875


def test_accumulator_narrower_than_one_product(engine):
    with pytest.raises(ValueError, match=r"accumulator int12_wrap holds \[-2048, 2047\], narrower than a single product "
                                         r"of a \(fixed8_f0\) x b \(fixed8_f0\), whose code products span \[-16256, 16384\]"):
        ops.dot(q([1], I8), q([1], I8), Accumulator(product=EXACT, accumulator=IntRegister(bits=12)), engine=engine)
    with pytest.raises(ValueError, match=r"product register int8_wrap .* narrower than a single product of a \(fixed8_f0\)"):
        plan_dot(Accumulator(product=IntRegister(bits=8), accumulator=IntRegister(bits=32)), I8, I8)
    with pytest.raises(ValueError, match=r"accumulator int16_wrap is narrower than a single product \(product register int32_wrap"):
        Accumulator(product=IntRegister(bits=32), accumulator=IntRegister(bits=16))
    with pytest.raises(ValueError, match=r"accumulator e5m10 is narrower than a single product \(product format e8m23"):
        Accumulator(product=FloatRegister(fmt=BINARY32), accumulator=FloatRegister(fmt=BINARY16))
    with pytest.raises(ValueError, match=r"final register int16_wrap is narrower than the chunk accumulator int32_wrap"):
        Accumulator(product=IntRegister(bits=16), accumulator=IntRegister(bits=32),
                    summation=Summation.chunked(4, IntRegister(bits=16)))
    with pytest.raises(ValueError, match=r"integer register int32_wrap comes after a float register"):
        Accumulator(product=FloatRegister(fmt=BINARY32), accumulator=EXACT,
                    summation=Summation.chunked(4, IntRegister(bits=32)))


def test_overflow_under_error_policy(engine):
    acc = Accumulator(product=IntRegister(bits=16), accumulator=IntRegister(bits=16, overflow="error"))
    ones = q([127, 127, 127], I8)
    with pytest.raises(OverflowError, match=r"dot output \(\) of fixed8_f0 x fixed8_f0 .*accumulator: 48387 is outside \[-32768, 32767\] of register int16_err"):
        ops.dot(ones, ones, acc, engine=engine)
    with pytest.raises(OverflowError, match=r"add of a \(fixed4_f0_error.*into fixed4_f0_error \[0\] rounds to code 14, outside \[-8, 7\]"):
        x = q([7], FixedPoint(bits=4, frac_bits=0, overflow="error"))
        ops.add(x, x, engine=engine)
    strict16 = FloatFormat(exp_bits=5, man_bits=10, overflow="error")
    with pytest.raises(OverflowError, match=r"multiply .* overflows format e5m10_error"):
        big = q([300.0], strict16)
        ops.multiply(big, big, engine=engine)
    with pytest.raises(ValueError, match=r"requantize .* is NaN, which has no code in fixed-point format fixed8_f0"):
        ops.requantize(q([np.nan], BINARY16), I8, engine=engine)


def test_bad_descriptions(engine):
    with pytest.raises(ValueError, match=r"IntRegister: bits must be in \[1, 64\], got 65"):
        IntRegister(bits=65)
    with pytest.raises(ValueError, match=r"IntRegister: overflow must be one of wrap, saturate, error, got 'ieee'"):
        IntRegister(bits=8, overflow="ieee")
    with pytest.raises(TypeError, match=r"FloatRegister: fmt must be a FloatFormat, got FixedPoint"):
        FloatRegister(fmt=I8)
    with pytest.raises(ValueError, match=r"order 'chunked' needs chunk"):
        Summation(order="chunked")
    with pytest.raises(ValueError, match=r"Summation: order must be one of sequential, pairwise, chunked, got 'tree'"):
        Summation(order="tree")
    with pytest.raises(ValueError, match=r"unknown hardware profile 'tpu'; known profiles: .*vnni_int8_int32"):
        get_profile("tpu")
    with pytest.raises(ValueError, match=r"a profile named 'fp16_fp16' exists"):
        register_profile(HardwareProfile(name="fp16_fp16", accumulator=Accumulator(accumulator=EXACT),
                                         inputs=(BINARY16, BINARY16), summary="clash"))
    with pytest.raises(ValueError, match=r"QArray: codes holds code 128, outside \[-128, 127\]"):
        QArray(codes=np.array([128]), fmt=I8)
    with pytest.raises(TypeError, match=r"QArray: codes must be an integer array, got dtype float64"):
        QArray(codes=np.array([1.0]), fmt=I8)
    with pytest.raises(ValueError, match=r"offset must be an integer in \[0, 2\*\*64\)"):
        ops.requantize(q([1.0], BINARY16), I4, offset=-1, engine=engine)
