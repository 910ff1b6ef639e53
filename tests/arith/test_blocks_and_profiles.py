"""Block formats in the arithmetic, user-defined profiles, and small float formats against ml_dtypes
(on each engine, but for the exact engine's own block encoder checked against the codec)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lpsim.arith import (
    Accumulator,
    FloatRegister,
    HardwareProfile,
    available_profiles,
    get_profile,
    register_profile,
    unregister_profile,
)
from lpsim import ops
from lpsim.exact import QArray
from lpsim.exact.codec import encode_block
from lpsim.exact.qarray import RandomKey, encode_block_exact
from lpsim.exact.values import exact_from_float
from lpsim.formats import BINARY32, BINARY64, E4M3, E5M2, BlockFormat, FloatFormat
from lpsim.formats.rounding import as_rounding

MX = BlockFormat.mx("e4m3", block_size=4)
BFP = BlockFormat.bfp(6, block_size=3)

finite = st.floats(-1e4, 1e4, allow_nan=False, allow_subnormal=True)


@settings(max_examples=30)
@given(st.lists(finite, min_size=1, max_size=10), st.sampled_from([MX, BFP]), st.sampled_from(["nearest_even", "toward_zero", "stochastic"]))
def test_exact_block_encoding_agrees_with_the_codec_on_float64_values(values, fmt, mode):
    x = np.array(values)
    rounding = as_rounding(mode)
    codec = encode_block(x, fmt, rounding, lambda i: RandomKey(seed=4).element(rounding, i))
    ours = encode_block_exact(np.array([exact_from_float(v) for v in x], dtype=object), fmt, rounding,
                              RandomKey(seed=4), "test")
    assert np.array_equal(codec.elements, ours.elements) and np.array_equal(codec.scales, ours.scales)


# fast: add into a block format falls back to the exact engine
@pytest.mark.filterwarnings("ignore::lpsim.fast.fallback.FastArithmeticFallbackWarning")
def test_block_operands_dot_and_add_use_exact_element_values(engine):
    rng = np.random.default_rng(1)
    a = QArray.from_float(rng.normal(size=8), MX)
    b = QArray.from_float(rng.normal(size=8), MX)
    exact = float(np.dot(a.to_float(), b.to_float()))  # 8 products of 4-bit significands: exact in float64
    assert ops.dot(a, b, "exact", out=BINARY64, engine=engine).to_float() == exact
    summed = ops.add(a, b, out=BINARY64, engine=engine).to_float()
    assert np.array_equal(summed, a.to_float() + b.to_float())  # exact in float64, rounded once into binary64
    again = ops.add(a, b, engine=engine)  # into the block format: new shared scales from the exact sums
    assert again.fmt == MX and np.array_equal(again.to_float(), QArray.from_float(summed, MX).to_float())


def test_matmul_with_block_rows(engine):
    rng = np.random.default_rng(2)
    fmt = BlockFormat.mx("e4m3", block_size=2, axis=1)
    a = QArray.from_float(rng.normal(size=(2, 4)), fmt)
    b = QArray.from_float(rng.normal(size=(4, 3)), BlockFormat.mx("e4m3", block_size=2, axis=0))
    c = ops.matmul(a, b, "fp8_fp32", engine=engine)
    assert c.fmt == BINARY32
    assert np.allclose(c.to_float(), a.to_float() @ b.to_float(), rtol=1e-6)


def test_user_defined_profile_is_listed_and_used(engine):
    # an FP8 unit that keeps only 13 fraction bits in its accumulator and truncates
    narrow = FloatFormat(exp_bits=8, man_bits=13)
    profile = register_profile(HardwareProfile(
        name="test_fp8_acc13",
        accumulator=Accumulator(accumulator=FloatRegister(fmt=narrow, rounding="toward_zero")),
        inputs=(E4M3, E4M3),
        summary="FP8 with a 13-bit truncating accumulator",
    ), replace=True)
    try:
        assert available_profiles()["test_fp8_acc13"] is profile is get_profile("TEST_FP8_ACC13")
        a = QArray.from_float([1.0, 2.0**-9, 2.0**-9], E4M3)
        b = QArray.from_float([1.0, 2.0**-6, 2.0**-6], E4M3)
        assert ops.dot(a, b, "test_fp8_acc13", engine=engine).to_float() == 1.0  # 1 + 2**-15 truncates to 1 each time
        assert ops.dot(a, b, "fp8_fp32", engine=engine).to_float() == 1.0 + 2.0**-14
    finally:
        unregister_profile("test_fp8_acc13")
    assert "test_fp8_acc13" not in available_profiles()


ml_dtypes = pytest.importorskip("ml_dtypes")


@pytest.mark.parametrize("fmt, dtype", [(E4M3, ml_dtypes.float8_e4m3fn), (E5M2, ml_dtypes.float8_e5m2)])
def test_fp8_add_and_multiply_match_ml_dtypes(engine, fmt, dtype):
    """ml_dtypes computes fp8 ops in float32 (exact for one fp8 add or multiply) and rounds once."""
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 256, size=(2, 400)).astype(np.uint8)
    a, b = QArray(codes=codes[0], fmt=fmt), QArray(codes=codes[1], fmt=fmt)
    fa, fb = codes[0].view(dtype), codes[1].view(dtype)
    for ours, ref in ((ops.add(a, b, engine=engine), fa + fb), (ops.multiply(a, b, engine=engine), fa * fb)):
        ref_f = ref.astype(np.float64)
        ours_f = ours.codes.view(dtype).astype(np.float64)
        assert np.array_equal(np.isnan(ours_f), np.isnan(ref_f))
        ok = np.isnan(ref_f) | (ours.codes == ref.view(np.uint8))
        assert ok.all(), (fa[~ok][:5], fb[~ok][:5])


def test_requantize_between_float_formats_rounds_once(engine):
    # 1 + 2**-4 + 2**-20 (binary32) to e4m3: above the midpoint 1.0625, so up to 1.125 (one rounding);
    # going through binary16 first would land on the midpoint and round to even 1.0
    x = QArray.from_float([1 + 2.0**-4 + 2.0**-20], BINARY32)
    assert ops.requantize(x, E4M3, engine=engine).to_float()[0] == 1.125
