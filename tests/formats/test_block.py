"""Block formats: shared exponent, all-zero and NaN/inf blocks, underflow, partial blocks, axes, MX, bfp."""

from __future__ import annotations

import math
from fractions import Fraction

import attrs
import numpy as np
import pytest

import lpsim
from lpsim.formats import E4M3, BlockCodes, BlockFormat, FixedPoint, FloatFormat

from .formats_ref import assert_same_floats, float_magnitudes, round_fixed_reference, round_float_reference

from lpsim.formats import RoundingMode

MX_E4M3 = BlockFormat.mx("e4m3", block_size=8)
MX_E2M1 = BlockFormat.mx("e2m1", block_size=8)
MX_INT8 = BlockFormat.mx("int8", block_size=8)
MX_E5M2 = BlockFormat.mx("e5m2", block_size=8)


def brute_floor_log2(a: float) -> int:
    """The e with 2**e <= a < 2**(e + 1), by search over Fractions."""
    e = 0
    a = Fraction(a)
    while Fraction(2) ** e > a:
        e -= 1
    while Fraction(2) ** (e + 1) <= a:
        e += 1
    return e


def brute_block(values: np.ndarray, fmt: BlockFormat) -> tuple[int | None, list[float]]:
    """OCP MX v1.0, written out: X = 2**(floor(log2 amax) - emax_elem) clamped to the scale's
    range; each element is round-to-nearest-even(v / X) in the element format, saturating."""
    if not np.all(np.isfinite(values)):
        return None, [math.nan] * len(values)
    amax = float(np.max(np.abs(values)))
    element = fmt.element
    emax_elem = brute_floor_log2(element.max)
    bias = 2 ** (fmt.scale_bits - 1) - 1
    lowest, highest = -bias, 2**fmt.scale_bits - 2 - bias
    exponent = lowest if amax == 0 else min(max(brute_floor_log2(amax) - emax_elem, lowest), highest)
    out = []
    for v in values:
        scaled = Fraction(float(v)) / Fraction(2) ** exponent
        if isinstance(element, FixedPoint):
            k = round_fixed_reference(float(scaled), element, RoundingMode.NEAREST_EVEN)
            k = min(max(k, element.code_min), element.code_max)
            r = k * Fraction(element.step)
        else:
            if abs(scaled) >= Fraction(element.max):
                r = Fraction(element.max) * (1 if scaled > 0 else -1)
            else:
                r = Fraction(round_float_reference(float(scaled), element, RoundingMode.NEAREST_EVEN, float_magnitudes(element)))
        value = float(r * Fraction(2) ** exponent)
        if value == 0 and math.copysign(1.0, float(v)) < 0 and isinstance(element, FloatFormat):
            value = -0.0
        out.append(value)
    return exponent, out


def random_blocks(gen, n_blocks: int, size: int) -> np.ndarray:
    """Blocks with varied spreads: each block scaled by its own power of two, some tiny elements."""
    x = gen.standard_normal((n_blocks, size)) * np.exp2(gen.integers(-30, 30, (n_blocks, 1)))
    x[gen.random((n_blocks, size)) < 0.2] *= 2.0**-12
    return x


@pytest.mark.parametrize("fmt", [MX_E4M3, MX_E2M1, MX_INT8, MX_E5M2, BlockFormat.bfp(6, 8, exponent_bits=5)], ids=str)
def test_mx_against_a_brute_force_definition(fmt):
    gen = np.random.default_rng(12)
    x = random_blocks(gen, 12, fmt.block_size)
    codes = lpsim.encode(x.reshape(-1), fmt, engine="exact")
    q = lpsim.decode(codes, fmt, engine="exact")
    for b in range(x.shape[0]):
        exponent, expected = brute_block(x[b], fmt)
        assert int(codes.scales[b]) == exponent + fmt.scale_bias
        assert_same_floats(q[b * fmt.block_size:(b + 1) * fmt.block_size], expected, f"{fmt} block {b}")


def test_shared_exponent_is_from_the_largest_magnitude():
    x = np.array([0.3, -5.0, 1.0, 0.001])  # amax 5: floor(log2 5) = 2, E4M3 emax 8 -> E = -6
    codes = lpsim.encode(x, BlockFormat.mx("e4m3", block_size=4), engine="exact")
    assert int(codes.scales[0]) - 127 == -6
    q = lpsim.decode(codes, BlockFormat.mx("e4m3", block_size=4), engine="exact")
    assert q[1] == -5.0 and q[2] == 1.0


def test_all_zero_block_and_negative_zeros():
    x = np.array([0.0, -0.0, 0.0, 0.0, -0.0, 1.0, -0.0, 0.0])
    fmt = BlockFormat(element=attrs.evolve(E4M3, overflow="saturate"), block_size=4)
    codes = lpsim.encode(x, fmt, engine="exact")
    assert codes.scales.tolist() == [0, 127 - 8]  # all-zero block: smallest scale code
    q = lpsim.decode(codes, fmt, engine="exact")
    assert_same_floats(q, x, "negative zeros kept by float elements")
    fixed = BlockFormat.bfp(8, 4)
    q = lpsim.quantize(x, fixed, engine="exact")
    assert_same_floats(q, np.abs(x), "fixed-point elements have one zero")


def test_nan_or_inf_makes_its_block_nan():
    fmt = BlockFormat.mx("e4m3", block_size=3)
    x = np.array([1.0, np.nan, 2.0, 3.0, 4.0, 5.0, -np.inf, 0.5, 1.0])
    codes = lpsim.encode(x, fmt, engine="exact")
    assert codes.scales.tolist()[0] == fmt.scale_nan_code == codes.scales.tolist()[2]
    q = lpsim.decode(codes, fmt, engine="exact")
    assert np.isnan(q[:3]).all() and np.isnan(q[6:]).all()
    assert q[3:6].tolist() == [3.0, 4.0, 5.0]


def test_underflow_within_a_block():
    fmt = BlockFormat.mx("e4m3", block_size=4)
    # amax 1000 -> E = 9 - 8 = 1: element grid step near zero is 2**-9 * 2 = 2**-8
    x = np.array([1000.0, 2.0**-8, 2.0**-9, 3 * 2.0**-10])
    q = lpsim.quantize(x, fmt, engine="exact")
    assert q[0] == 896.0  # 1000 / 2 = 500 rounds to 512 > 448: the element saturates (OCP MX), 448 * 2
    assert q.tolist()[1:] == [2.0**-8, 0.0, 2.0**-8]  # subnormal kept; tie to even -> 0; 0.75 step -> 1 step


def test_partial_last_block_and_scales_shape():
    fmt = BlockFormat.mx("int8", block_size=4)
    x = np.array([[1.0, 2.0, 3.0, 4.0, 100.0, 0.5], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]])
    codes = lpsim.encode(x, fmt, engine="exact")
    assert codes.elements.shape == (2, 6) and codes.scales.shape == (2, 2)
    assert int(codes.scales[0, 1]) - 127 == 6 - 0  # the last block [100, 0.5]: floor(log2 100) = 6
    q = lpsim.decode(codes, fmt, engine="exact")
    for row in range(2):
        for lo, hi in ((0, 4), (4, 6)):
            _, expected = brute_block(x[row, lo:hi], fmt)
            assert_same_floats(q[row, lo:hi], expected, "partial blocks")


def test_axis_handling():
    gen = np.random.default_rng(4)
    x = gen.standard_normal((5, 7, 3))
    along_rows = BlockFormat.mx("e2m1", block_size=3, axis=0)
    along_last = BlockFormat.mx("e2m1", block_size=3, axis=-1)
    along_mid = BlockFormat.mx("e2m1", block_size=3, axis=1)
    q0 = lpsim.quantize(x, along_rows, engine="exact")
    np.testing.assert_array_equal(q0, np.moveaxis(lpsim.quantize(np.moveaxis(x, 0, -1), along_last, engine="exact"), -1, 0))
    q1 = lpsim.quantize(x, along_mid, engine="exact")
    np.testing.assert_array_equal(q1, np.moveaxis(lpsim.quantize(np.moveaxis(x, 1, -1), along_last, engine="exact"), -1, 1))
    assert lpsim.encode(x, along_mid, engine="exact").scales.shape == (5, 3, 3)
    with pytest.raises(ValueError, match="axis 5 is out of range .* 3 dimensions"):
        lpsim.encode(x, BlockFormat.mx("e2m1", block_size=3, axis=5), engine="exact")


def test_scale_range_clamps():
    fmt = BlockFormat.bfp(8, 2, exponent_bits=4)  # E in [-7, 7]
    q = lpsim.quantize(np.array([1e6, 1.0, 1e-6, 0.0]), fmt, engine="exact")
    assert q[0] == 127 / 64 * 2.0**7  # E clamped to 7, element saturates
    assert q[1] == 0.0
    assert q[2] == 0.0  # alone it would get E = -20; its pair's E = 7 makes it underflow
    assert q[3] == 0.0
    q = lpsim.quantize(np.array([1e-6, 0.0]), fmt, engine="exact")
    assert q[0] == 0.0  # E clamped to -7: element step 2**-6 * 2**-7 = 2**-13, 1e-6 rounds to 0
    q = lpsim.quantize(np.array([3 * 2.0**-14, 0.0]), fmt, engine="exact")
    assert q[0] == 2.0**-12  # 1.5 steps of 2**-13 -> 2 steps (ties to even)


def test_bfp_named_constructor():
    fmt = BlockFormat.bfp(8, 16)
    assert fmt.element == FixedPoint(bits=8, signed=True, frac_bits=6) and fmt.scale_bits == 8 and fmt.axis == -1
    gen = np.random.default_rng(6)
    x = gen.standard_normal((4, 16))
    q = lpsim.quantize(x, fmt, engine="exact")
    for b in range(4):
        exponent = brute_floor_log2(float(np.max(np.abs(x[b]))))
        scaled = np.abs(q[b]) / 2.0**exponent
        assert 1.0 <= scaled.max() < 2.0  # the block's largest magnitude sits in [1, 2) after scaling
        assert np.all(np.abs(q[b] - x[b]) <= 2.0**exponent * 2.0**-7)  # half a step of 2**-6


def test_block_scalars_and_bad_scales():
    assert lpsim.quantize(3.0, MX_E4M3, engine="exact") == 3.0
    codes = lpsim.encode(np.ones(10), MX_E4M3, engine="exact")
    with pytest.raises(ValueError, match="block scales have shape"):
        lpsim.decode(BlockCodes(elements=codes.elements, scales=codes.scales[:1]), MX_E4M3, engine="exact")
    with pytest.raises(ValueError, match="outside"):
        lpsim.decode(BlockCodes(elements=codes.elements, scales=np.array([256, 3], dtype=np.uint16)), MX_E4M3, engine="exact")
