"""What accumulators do to a dot product: float16 vs float32 accumulation, summation order,
saturation in the AVX2 int16 profile, rounded vs exact products, stochastic accumulation; on each engine."""

import numpy as np
import pytest

from lpsim.arith import (
    EXACT,
    PAIRWISE,
    Accumulator,
    FloatRegister,
    IntRegister,
    Summation,
    available_profiles,
    get_profile,
)
from lpsim import ops
from lpsim.exact import QArray
from lpsim.formats import BINARY16, BINARY32, BINARY64, FixedPoint, FloatFormat

I8 = FixedPoint.integer(8)
U8 = FixedPoint.integer(8, signed=False)


def test_float16_accumulator_differs_from_float32(engine):
    # 2100 products of 1: a float16 accumulator stops at 2048 (2048 + 1 is a tie, rounds to even 2048)
    ones = QArray.from_float(np.ones(2100), BINARY16)
    assert ops.dot(ones, ones, "fp16_fp16", engine=engine).to_float() == 2048.0
    assert ops.dot(ones, ones, "fp16_fp32", engine=engine).to_float() == 2100.0
    # the same products summed pairwise in float16 are exact (partial sums stay small or even)
    pairwise16 = Accumulator(accumulator=FloatRegister(fmt=BINARY16), summation=PAIRWISE)
    assert ops.dot(ones, ones, pairwise16, engine=engine).to_float() == 2100.0


def test_summation_order_changes_a_float_sum(engine):
    # [1, u, u, u, u] with u = 2**-11 (half an ulp of 1 in binary16): sequentially each 1 + u ties back
    # to 1; pairwise, u + u = 2**-10 and the partial sums survive.
    x = QArray.from_float([1.0] + [2.0**-11] * 4, BINARY16)
    one = QArray.from_float(np.ones(5), BINARY16)
    sequential = Accumulator(accumulator=FloatRegister(fmt=BINARY16))
    pairwise = Accumulator(accumulator=FloatRegister(fmt=BINARY16), summation=PAIRWISE)
    assert ops.dot(x, one, sequential, engine=engine).to_float() == 1.0
    assert ops.dot(x, one, pairwise, engine=engine).to_float() == 1.0 + 2.0**-9
    # the exact sum, for the record
    assert ops.dot(x, one, "exact", out=BINARY64, engine=engine).to_float() == 1.0 + 2.0**-9


def test_avx2_maddubs_profile_saturates_pairs_in_int16(engine):
    a = QArray(codes=np.array([255, 255, 255, 255, 1, 1], dtype=np.uint8), fmt=U8)
    b = QArray(codes=np.array([127, 127, -128, -128, 5, 7], dtype=np.int8), fmt=I8)
    got = int(ops.dot(a, b, "avx2_maddubs_int16", engine=engine).codes)
    # pairs: 255*127*2 = 64770 -> 32767; 255*-128*2 = -65280 -> -32768; 5 + 7 = 12; then int32 sum
    assert got == 32767 - 32768 + 12
    exact = sum(int(x) * int(y) for x, y in zip(a.codes, b.codes))
    assert got != exact
    assert int(ops.dot(a, b, "vnni_int8_int32", engine=engine).codes) == exact


def test_vnni_saturating_profile_saturates_once_per_group_of_four(engine):
    a = QArray(codes=np.full(8, 255, dtype=np.uint8), fmt=U8)
    b = QArray(codes=np.array([127, 127, -127, -127] * 2, dtype=np.int8), fmt=I8)
    assert int(ops.dot(a, b, "vnni_int8_int32_sat", engine=engine).codes) == 0
    # the grouping matters once the register can saturate: with an int16 register, groups of four
    # sum to 0 exactly, while saturating after every product loses 2*255*127 - 32767 on the way up
    grouped = Accumulator(product=IntRegister(bits=16), accumulator=EXACT,
                          summation=Summation.chunked(4, IntRegister(bits=16, overflow="saturate")))
    per_product = Accumulator(product=IntRegister(bits=16), accumulator=IntRegister(bits=16, overflow="saturate"))
    assert int(ops.dot(a, b, grouped, engine=engine).codes) == 0
    p = 255 * 127
    # p, 2p -> 32767 (saturated), 32767 - p, 32767 - 2p; then +p, +p back to 32767 exactly, -p, -p
    assert int(ops.dot(a, b, per_product, engine=engine).codes) == 32767 - 2 * p


def test_rounded_products_differ_from_fused_products(engine):
    # -1 + (1 + 2**-12)**2 in float32: rounding the product loses 2**-24 that a fused add keeps
    # (the first product enters the register rounded either way, so the -1 goes first)
    a = QArray.from_float([-1.0, 1 + 2.0**-12], BINARY32)
    b = QArray.from_float([1.0, 1 + 2.0**-12], BINARY32)
    fused = Accumulator(product=EXACT, accumulator=FloatRegister(fmt=BINARY32))
    unfused = Accumulator(product=FloatRegister(fmt=BINARY32), accumulator=FloatRegister(fmt=BINARY32))
    assert ops.dot(a, b, fused, engine=engine).to_float() == 2.0**-11 + 2.0**-24
    assert ops.dot(a, b, unfused, engine=engine).to_float() == 2.0**-11


def test_float_accumulator_overflow_and_nan_propagate(engine):
    big = QArray.from_float([60000.0, 60000.0, -60000.0], BINARY16)
    one = QArray.from_float([1.0, 1.0, 1.0], BINARY16)
    assert ops.dot(big, one, "fp16_fp16", engine=engine).to_float() == np.inf  # 120000 overflows binary16
    assert ops.dot(big, one, "fp16_fp32", engine=engine).to_float() == 60000.0
    nan = QArray.from_float([np.inf, 0.0], BINARY16)
    assert np.isnan(ops.dot(nan, QArray.from_float([0.0, 1.0], BINARY16), "fp16_fp32", engine=engine).to_float())  # inf * 0


def test_stochastic_accumulator_is_seeded_and_unbiased(engine):
    # e5m3 has 4 significant bits: with nearest-even, 16 + 1 is a tie that rounds back to 16
    e5m3 = FloatFormat(exp_bits=5, man_bits=3)
    ones = QArray.from_float(np.ones(200), e5m3)
    nearest = Accumulator(accumulator=FloatRegister(fmt=e5m3))
    stochastic = Accumulator(accumulator=FloatRegister(fmt=e5m3, rounding="stochastic"))
    assert ops.dot(ones, ones, nearest, engine=engine).to_float() == 16.0
    runs = [float(ops.dot(ones, ones, stochastic, seed=s, engine=engine).to_float()) for s in range(6)]
    assert float(ops.dot(ones, ones, stochastic, seed=0, engine=engine).to_float()) == runs[0]
    assert len(set(runs)) > 1
    assert abs(np.mean(runs) - 200) < 40  # unbiased sum, far from the stalled 16


def test_every_builtin_profile_runs_on_its_inputs(engine):
    for name, profile in available_profiles().items():
        fa, fb = profile.inputs
        a = QArray.from_float([1.0, 2.0, 3.0], fa)
        b = QArray.from_float([1.0, -1.0, 2.0], fb)
        out = BINARY64 if profile.accumulator.accumulator is EXACT and not isinstance(fa, FixedPoint) else None
        assert ops.dot(a, b, name, out=out, engine=engine).to_float() == 5.0, name
        assert get_profile(name) is profile
        assert profile.summary and profile.models


@pytest.mark.parametrize("name", ["fp8_fp32", "bf16_fp32"])
def test_low_precision_float_profiles_accumulate_in_float32(engine, name):
    # 1 + 2**-12: a float32 accumulator keeps it, a float16 one would not
    profile = get_profile(name)
    fa, _ = profile.inputs
    a = QArray.from_float([1.0, 2.0**-6], fa)
    assert ops.dot(a, a, name, engine=engine).to_float() == 1.0 + 2.0**-12
    assert ops.dot(QArray.from_float(a.to_float(), BINARY16), QArray.from_float(a.to_float(), BINARY16), "fp16_fp16", engine=engine).to_float() == 1.0
