"""Hypothesis strategies and the differential check shared by the fast-arithmetic tests."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import strategies as st

from lpsim import exact
from lpsim.arith import EXACT, Accumulator, FloatRegister, IntRegister, Summation
from lpsim.exact import QArray
from lpsim.fast import arith as fast
from lpsim.formats import (
    BFLOAT16, BINARY16, BINARY32, E4M3, E4M3FNUZ, E5M2, BlockFormat, FixedPoint, FloatFormat, Rounding, Specials,
)
from lpsim.formats.rounding import RandomGenerator

MODES = ["nearest_even", "nearest_away", "toward_zero", "toward_positive", "toward_negative", "to_odd", "stochastic"]


@st.composite
def roundings(draw):
    mode = draw(st.sampled_from(MODES))
    if mode != "stochastic":
        return Rounding(mode=mode)
    return Rounding(mode=mode, random_bits=draw(st.sampled_from([None, 1, 3, 8, 23, 64])),
                    generator=draw(st.sampled_from(list(RandomGenerator))))


@st.composite
def fixed_formats(draw, max_bits=16):
    bits = draw(st.integers(2, max_bits))
    signed = draw(st.booleans())
    return FixedPoint(bits=bits, signed=signed, frac_bits=draw(st.integers(-3, 6)),
                      overflow=draw(st.sampled_from(["saturate", "wrap", "error"])))


SMALL_FLOATS = [
    FloatFormat(exp_bits=3, man_bits=2),
    FloatFormat(exp_bits=3, man_bits=2, subnormals=False),
    FloatFormat(exp_bits=3, man_bits=2, specials=Specials.NONE, overflow="saturate"),
    FloatFormat(exp_bits=4, man_bits=2, overflow="saturate"),
    FloatFormat(exp_bits=3, man_bits=3, overflow="error"),
    FloatFormat(exp_bits=2, man_bits=1, specials=Specials.NONE, overflow="error"),
]
INPUT_FLOATS = [E4M3, E5M2, E4M3FNUZ, BINARY16, BFLOAT16] + SMALL_FLOATS
REGISTER_FLOATS = [BINARY16, BFLOAT16, BINARY32, E5M2] + SMALL_FLOATS


def float_formats():
    return st.sampled_from(INPUT_FLOATS)


BLOCK_FORMATS = [BlockFormat.bfp(6, 4, exponent_bits=5), BlockFormat(element=FloatFormat(exp_bits=5, man_bits=2, overflow="saturate"), block_size=3, scale_bits=6)]


def qarrays(fmt, shape):
    """QArrays of random valid codes (every special, subnormal and extreme code included)."""
    if isinstance(fmt, BlockFormat):
        values = st.lists(st.one_of(st.floats(-1e3, 1e3, allow_subnormal=True), st.sampled_from([0.0, -0.0, 1e-30])),
                          min_size=int(np.prod(shape)), max_size=int(np.prod(shape)))
        return values.map(lambda v: QArray.from_float(np.array(v, dtype=np.float64).reshape(shape), fmt))
    low, high = (fmt.code_min, fmt.code_max) if isinstance(fmt, FixedPoint) else (0, fmt.n_codes - 1)
    size = int(np.prod(shape))
    edge = st.sampled_from([low, high, low + 1 if low < high else low, (low + high) // 2])
    codes = st.lists(st.one_of(st.integers(low, high), edge), min_size=size, max_size=size)
    return codes.map(lambda c: QArray(codes=np.array(c, dtype=fmt.code_dtype).reshape(shape), fmt=fmt))


@st.composite
def int_registers(draw, min_bits):
    bits = draw(st.integers(min(max(min_bits, 2), 64), min(max(min_bits, 2) + 6, 64)))
    return IntRegister(bits=bits, overflow=draw(st.sampled_from(["wrap", "saturate", "error"])))


def float_registers():
    return st.builds(FloatRegister, fmt=st.sampled_from(REGISTER_FLOATS), rounding=roundings())


def build_or_none(factory):
    try:
        return factory()
    except (ValueError, TypeError):
        return None


def outcome(function, *args, **kwargs):
    """('ok', fmt, codes) or ('raise', type, message) of a call, with fallback warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fast.FastArithmeticFallbackWarning)
        try:
            result = function(*args, **kwargs)
        except (ValueError, TypeError, OverflowError) as err:
            return ("raise", type(err), str(err))
    codes = result.codes
    if hasattr(codes, "elements"):
        codes = (codes.elements.tolist(), codes.scales.tolist())
    else:
        codes = (codes.dtype.str, codes.tolist())
    return ("ok", result.fmt, codes)


def assert_engines_agree(name, *args, **kwargs):
    """Both engines give the same codes in the same format, or raise the same exception."""
    expected = outcome(getattr(exact, name), *args, **kwargs)
    got = outcome(getattr(fast, name), *args, **kwargs)
    assert got == expected, f"{name}: fast {got!r} != exact {expected!r}"
    return expected


__all__ = [
    "EXACT", "Accumulator", "Summation", "IntRegister", "FloatRegister", "roundings", "fixed_formats", "float_formats",
    "qarrays", "int_registers", "float_registers", "build_or_none", "assert_engines_agree", "BLOCK_FORMATS",
]
