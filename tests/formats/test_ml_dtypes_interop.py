"""ml_dtypes arrays in and out: fmt.ml_dtype, ml_dtypes values into quantize/encode, ml_dtypes
arrays as codes into decode, and values returned in the input's dtype.

ml_dtypes is the oracle for the mapping: viewing every code of a format as its ml_dtype must
give, through ml_dtypes' own conversion to float64, the values lpsim decodes.
"""

from __future__ import annotations

import sys

import attrs
import numpy as np
import pytest

import lpsim
from lpsim.formats import BlockFormat, FixedPoint, FloatFormat, get_format
from lpsim.formats.ml_dtypes_map import ml_dtype

ml_dtypes = pytest.importorskip("ml_dtypes")

ENGINES = ("exact", "fast")
WITH_DTYPE = [
    "e4m3", "e5m2", "e4m3fnuz", "e5m2fnuz", "e3m2", "e2m3", "e2m1", "bfloat16", "binary16",
    "e4m3_ieee", "e3m4", "e4m3_fnuz_b11", "p3109_k8p4sf", "p3109_k8p3sf",
]
WITHOUT_DTYPE = [
    "int8", "mxfp4", "bfp8x32", "binary8p4", "e4m3_b9", "e5m2_nosub", "e6m1", "e4m3_none",
]


def every_code(fmt) -> np.ndarray:
    return np.arange(fmt.n_codes, dtype=np.int64).astype(fmt.code_dtype)


@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")  # NaN codes of bfloat16
@pytest.mark.parametrize("name", WITH_DTYPE)
def test_every_code_viewed_as_ml_dtype_has_lpsims_value(name):
    fmt = get_format(name)
    codes = every_code(fmt)
    viewed = codes.view(fmt.ml_dtype)
    assert np.array_equal(viewed.astype(np.float64), lpsim.decode(codes, fmt, engine="exact"), equal_nan=True)
    for engine in ENGINES if fmt.bits <= 8 else ("fast",):
        assert np.array_equal(lpsim.decode(viewed, fmt, engine=engine), viewed.astype(np.float64), equal_nan=True)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", [n for n in WITH_DTYPE if get_format(n).bits <= 8])
def test_round_trip_through_ml_dtypes_views(name, engine):
    """encode -> view as ml_dtype -> (as values) encode again and quantize in the input's dtype."""
    fmt = get_format(name)
    codes = every_code(fmt)
    values = lpsim.decode(codes, fmt, engine=engine)
    keep = ~np.isnan(values) & ~((values == 0) & np.signbit(values) & (codes != fmt.sign_mask))
    codes, values = codes[keep], values[keep]
    as_ml = lpsim.encode(values, fmt, engine=engine).view(fmt.ml_dtype)
    assert np.array_equal(as_ml.view(fmt.code_dtype), codes)
    assert np.array_equal(lpsim.encode(as_ml, fmt, engine=engine), codes)  # ml_dtypes array as values
    same = lpsim.quantize(as_ml, fmt, engine=engine, dtype="input")
    assert same.dtype == fmt.ml_dtype and np.array_equal(same.view(fmt.code_dtype), codes)
    assert np.array_equal(lpsim.decode(as_ml, fmt, engine=engine, dtype="input").view(fmt.code_dtype), codes)


@pytest.mark.parametrize("name", ["binary32", "binary64"])
def test_wide_ieee_formats_map_to_numpy_dtypes(name):
    fmt = get_format(name)
    x = np.random.default_rng(0).standard_normal(100).astype(fmt.ml_dtype)
    assert fmt.ml_dtype == x.dtype
    assert np.array_equal(lpsim.decode(x, fmt), x.astype(np.float64))


@pytest.mark.parametrize("name", WITHOUT_DTYPE)
def test_formats_without_a_dtype_say_none(name):
    assert get_format(name).ml_dtype is None


def test_the_overflow_policy_does_not_change_the_dtype():
    fmt = get_format("e4m3")
    assert attrs.evolve(fmt, overflow="saturate").ml_dtype == fmt.ml_dtype


def test_ml_dtypes_inputs_are_values():
    x = np.array([0.1, -3.3, 500.0], dtype=ml_dtypes.bfloat16)
    for engine in ENGINES:
        assert np.array_equal(lpsim.quantize(x, "e5m2", engine=engine), lpsim.quantize(x.astype(np.float64), "e5m2"))
    ints = np.array([-8, 7, 3], dtype=ml_dtypes.int4)
    assert lpsim.quantize(ints, FixedPoint(bits=4, frac_bits=0)).tolist() == [-8.0, 7.0, 3.0]


def test_decode_refuses_an_array_of_another_formats_dtype():
    codes = np.array([1.5, 2.0], dtype=ml_dtypes.float8_e4m3fn)
    with pytest.raises(TypeError, match=r"float8_e4m3fn.*e5m2.*float8_e5m2"):
        lpsim.decode(codes, "e5m2")
    with pytest.raises(TypeError, match="no numpy or ml_dtypes dtype"):
        lpsim.decode(codes, "binary8p4")
    with pytest.raises(TypeError, match="BlockCodes"):
        lpsim.decode(codes, BlockFormat.mx("e4m3"))


def test_decode_reads_float_arrays_of_either_byte_order():
    x = np.array([1.5, -0.1, np.inf], dtype=">f2")
    assert np.array_equal(lpsim.decode(x, "binary16"), x.astype(np.float64))
    with pytest.raises(TypeError, match="float32"):
        lpsim.decode(np.array([1.0], dtype=np.float32), "binary16")


def test_dtype_input_returns_the_inputs_dtype_when_exact():
    x16 = np.array([0.1, 1000.0, -0.0], dtype=np.float16)
    q = lpsim.quantize(x16, "e4m3", dtype="input")
    assert q.dtype == np.float16 and np.signbit(q[2]) and q[0] == np.float16(0.1015625)
    assert lpsim.quantize(np.float32(0.3), "e5m2", dtype="input").dtype == np.float32
    explicit = lpsim.quantize([0.1, 3.0], "binary16", dtype=np.float16)
    assert explicit.dtype == np.float16 and explicit.tolist() == [float(np.float16(0.1)), 3.0]
    masked = lpsim.quantize(np.ma.masked_array(x16, mask=[0, 1, 0]), "e4m3", dtype="input")
    assert masked.dtype == np.float16 and masked.mask.tolist() == [False, True, False]


def test_dtype_that_cannot_hold_a_value_raises():
    with pytest.raises(ValueError, match=r"1 value\(s\) are not exactly representable in dtype float16"):
        lpsim.quantize([0.1, 0.5], "binary32", dtype=np.float16)
    with pytest.raises(ValueError, match="float8_e4m3fn"):  # e5m2's 57344 is past e4m3fn's range
        lpsim.quantize(np.array([50000.0], dtype=ml_dtypes.bfloat16).astype(np.float32), "e5m2",
                       dtype=ml_dtypes.float8_e4m3fn)
    with pytest.raises(TypeError, match="floating dtype"):
        lpsim.quantize(np.array([1, 2]), "e4m3", dtype="input")
    with pytest.raises(TypeError, match="floating dtype"):
        lpsim.quantize([1.0], "e4m3", dtype=np.int32)


def test_missing_ml_dtypes_is_a_clear_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "ml_dtypes", None)
    ml_dtype.cache_clear()
    try:
        with pytest.raises(ImportError, match=r"ml_dtypes\.float8_e4m3fn.*pip install ml_dtypes"):
            get_format("e4m3").ml_dtype
        assert get_format("binary16").ml_dtype == np.float16  # numpy's own: no ml_dtypes needed
        assert FloatFormat(exp_bits=6, man_bits=1).ml_dtype is None
    finally:
        ml_dtype.cache_clear()
