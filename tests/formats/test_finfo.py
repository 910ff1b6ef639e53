"""Derived properties (max, smallest normal/subnormal, eps, emin/emax, codes) against numpy / ml_dtypes finfo."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lpsim.formats import BlockFormat, FixedPoint, FloatFormat, Specials
from lpsim.formats import presets

from .formats_ref import float_magnitudes

ml_dtypes = pytest.importorskip("ml_dtypes")

ORACLES = [
    (presets.BINARY16, np.float16, np.finfo),
    (presets.BINARY32, np.float32, np.finfo),
    (presets.BINARY64, np.float64, np.finfo),
    (presets.BFLOAT16, "bfloat16", ml_dtypes.finfo),
    (presets.E4M3, "float8_e4m3fn", ml_dtypes.finfo),
    (presets.E5M2, "float8_e5m2", ml_dtypes.finfo),
    (presets.E4M3FNUZ, "float8_e4m3fnuz", ml_dtypes.finfo),
    (presets.E5M2FNUZ, "float8_e5m2fnuz", ml_dtypes.finfo),
    (FloatFormat(exp_bits=4, man_bits=3), "float8_e4m3", ml_dtypes.finfo),
    (FloatFormat(exp_bits=3, man_bits=4), "float8_e3m4", ml_dtypes.finfo),
    (FloatFormat(exp_bits=4, man_bits=3, specials="fnuz", bias=11), "float8_e4m3b11fnuz", ml_dtypes.finfo),
    (presets.E3M2, "float6_e3m2fn", ml_dtypes.finfo),
    (presets.E2M3, "float6_e2m3fn", ml_dtypes.finfo),
    (presets.E2M1, "float4_e2m1fn", ml_dtypes.finfo),
]


def _dtype(name):
    if isinstance(name, str):
        if not hasattr(ml_dtypes, name):
            pytest.skip(f"ml_dtypes has no {name}")
        return getattr(ml_dtypes, name)
    return name


@pytest.mark.parametrize("fmt, dtype, finfo", ORACLES, ids=[str(o[1]) for o in ORACLES])
def test_float_properties_match_finfo(fmt, dtype, finfo):
    dtype = _dtype(dtype)
    fi = finfo(dtype)
    assert fmt.bits == fi.bits
    assert fmt.max == float(fi.max)
    assert fmt.min == float(fi.min)
    assert fmt.smallest_normal == float(fi.smallest_normal) == fmt.tiny
    assert fmt.smallest_subnormal == float(fi.smallest_subnormal)
    assert fmt.eps == float(fi.eps)
    assert fmt.emin == fi.minexp
    assert fmt.emax == fi.maxexp - 1  # finfo's maxexp is the first exponent that overflows
    assert fmt.man_bits == fi.nmant and fmt.exp_bits == fi.nexp
    assert fmt.n_codes == 2**fmt.bits
    assert fmt.code_dtype == np.dtype(f"uint{max(8, 1 << (fmt.bits - 1).bit_length())}")
    # The derived properties agree with the grid enumerated from the layout alone.
    if fmt.bits > 16:
        return
    mags = float_magnitudes(fmt)
    assert mags[-1] == fmt.max
    assert mags[1] == fmt.smallest_subnormal
    assert mags[mags >= 2.0**fmt.emin].min() == fmt.smallest_normal


def test_specials_flags():
    assert presets.BINARY16.has_inf and presets.BINARY16.has_nan and presets.BINARY16.has_negative_zero
    assert not presets.E4M3.has_inf and presets.E4M3.has_nan and presets.E4M3.has_negative_zero
    assert not presets.E4M3FNUZ.has_inf and presets.E4M3FNUZ.has_nan and not presets.E4M3FNUZ.has_negative_zero
    assert not presets.E2M1.has_inf and not presets.E2M1.has_nan
    assert presets.BINARY16.inf_code == 0x7C00 and presets.BINARY16.nan_code == 0x7E00
    assert presets.E4M3.nan_code == 0x7F and presets.E4M3.max_code == 0x7E
    assert presets.E4M3FNUZ.nan_code == 0x80 and presets.E4M3FNUZ.inf_code is None
    assert presets.E2M1.nan_code is None


@pytest.mark.parametrize(
    "fmt, smallest_subnormal, smallest_normal, max_",
    [
        (FloatFormat(exp_bits=3, man_bits=2, subnormals=False), 0.25, 0.25, 14.0),
        (FloatFormat(exp_bits=3, man_bits=0, specials="fn"), 0.25, 0.25, 8.0),  # FN, no mantissa: top code is NaN
        (FloatFormat(exp_bits=3, man_bits=0, specials="fnuz"), 0.125, 0.125, 8.0),
        (FloatFormat(exp_bits=2, man_bits=1, specials="none", bias=0), 1.0, 2.0, 12.0),
        (FloatFormat(exp_bits=11, man_bits=52, bias=1023, subnormals=False), 2.0**-1022, 2.0**-1022, float(np.finfo(np.float64).max)),
    ],
)
def test_float_properties_of_unusual_layouts(fmt, smallest_subnormal, smallest_normal, max_):
    assert fmt.smallest_subnormal == smallest_subnormal
    assert fmt.smallest_normal == smallest_normal
    assert fmt.max == max_
    if fmt.bits > 16:
        return
    mags = float_magnitudes(fmt)
    assert mags[-1] == max_ and mags[1] == smallest_subnormal


@pytest.mark.parametrize(
    "fmt, step, lo, hi, dtype",
    [
        (FixedPoint(bits=8, frac_bits=4), 1 / 16, -8.0, 127 / 16, np.int8),
        (FixedPoint(bits=8, signed=False, frac_bits=4), 1 / 16, 0.0, 255 / 16, np.uint8),
        (FixedPoint(bits=9, frac_bits=0), 1.0, -256.0, 255.0, np.int16),
        (FixedPoint(bits=12, frac_bits=-2), 4.0, -8192.0, 8188.0, np.int16),
        (FixedPoint(bits=33, signed=False, scale=0.1), 0.1, 0.0, (2**33 - 1) * 0.1, np.uint64),
        (FixedPoint(bits=64, frac_bits=63), 2.0**-63, -1.0, (2**63 - 1) * 2.0**-63, np.int64),
        (FixedPoint(bits=1, signed=False, frac_bits=1), 0.5, 0.0, 0.5, np.uint8),
    ],
)
def test_fixed_properties(fmt, step, lo, hi, dtype):
    assert fmt.step == fmt.eps == fmt.smallest_normal == fmt.smallest_subnormal == step
    assert fmt.min == lo and fmt.max == hi
    assert fmt.code_dtype == np.dtype(dtype)
    assert fmt.n_codes == 2**fmt.bits == fmt.code_max - fmt.code_min + 1
    assert not fmt.has_nan and not fmt.has_inf


def test_block_properties():
    mx = BlockFormat.mx("e4m3")
    assert mx.block_size == 32 and mx.scale_bits == 8 and mx.bits == 8
    assert mx.bits_per_value == 8 + 8 / 32
    assert (mx.scale_emin, mx.scale_emax, mx.scale_nan_code) == (-127, 127, 255)
    assert mx.element_emax == 8  # OCP MX: emax_elem of E4M3 is 8
    assert mx.max == 448 * 2.0**127
    assert BlockFormat.mx("e2m1").element_emax == 2
    assert BlockFormat.mx("e5m2").element_emax == 15
    assert BlockFormat.mx("int8").element_emax == 0
    bfp = BlockFormat.bfp(8, 16, exponent_bits=5)
    assert bfp.element == FixedPoint(bits=8, frac_bits=6) and bfp.scale_bits == 5
    assert bfp.scale_dtype == np.uint8 and bfp.code_dtype == np.int8
    assert math.isclose(bfp.bits_per_value, 8 + 5 / 16)
    assert BlockFormat.mx("e4m3").element.specials is Specials.FN
