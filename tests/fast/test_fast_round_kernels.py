"""The shared rounding primitives against the exact engine's definitions (lpsim/exact/rounding.py)."""

import math
from fractions import Fraction

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from lpsim.exact import codec as exact_codec
from lpsim.exact.rounding import ElementRandom, round_integer, round_magnitude
from lpsim.fast import _codec_kernels as K
from lpsim.fast import _round_kernels as RK
from lpsim.formats import Overflow, Rounding, RoundingMode, Specials

roundings = st.one_of(
    st.sampled_from([Rounding(mode=m) for m in RoundingMode]),
    st.integers(1, 64).map(lambda r: Rounding(mode="stochastic", random_bits=r)),
)
# significands from the tiny to the full 64 bits, exponents around and far beyond them
significands = st.one_of(st.integers(0, 2**64 - 1), st.integers(0, 2**12), st.integers(1, 3).map(lambda k: k << 50))
exponents = st.one_of(st.integers(-70, 70), st.integers(-2300, 100))


def test_kernel_constants_match_the_enums():
    for mode in RoundingMode:
        assert getattr(RK, mode.name) == mode.code
    assert (K.SATURATE, K.WRAP) == (Overflow.SATURATE.code, Overflow.WRAP.code)
    assert (K.IEEE, K.FN, K.FNUZ) == (Specials.IEEE.code, Specials.FN.code, Specials.FNUZ.code)


@settings(max_examples=400)
@given(negative=st.booleans(), M=significands, s=exponents, rounding=roundings, signed_floor=st.booleans(),
       seed=st.integers(0, 2**64 - 1), index=st.integers(0, 2**64 - 1))
@example(negative=True, M=3, s=-1, rounding=Rounding(mode="stochastic"), signed_floor=True, seed=1, index=2)
@example(negative=True, M=1, s=-2000, rounding=Rounding(mode="stochastic"), signed_floor=True, seed=1, index=2)
@example(negative=False, M=2**64 - 1, s=-64, rounding=Rounding(mode="stochastic", random_bits=64), signed_floor=True, seed=3, index=4)
def test_round_scaled_is_the_exact_rounding(negative, M, s, rounding, signed_floor, seed, index):
    value = Fraction(M) * Fraction(2) ** s
    random = ElementRandom(seed, 9, index)
    if signed_floor:
        expected = abs(round_integer(-value if negative else value, rounding, random))
    else:
        expected = round_magnitude(value, negative, rounding, random)
    r = 0 if rounding.random_bits is None else rounding.random_bits
    magnitude, big = RK.round_scaled(negative, np.uint64(M), s, rounding.mode.code, signed_floor, r,
                                     np.uint64(seed), np.uint64(9), np.uint64(index))
    assert bool(big) == (expected >= 2**64)
    assert int(magnitude) == expected % 2**64


@settings(max_examples=300)
@given(negative=st.booleans(), high=st.integers(0, 2**64 - 1) | st.just(0), low=st.integers(0, 2**64 - 1),
       e=st.integers(-1250, 1000) | st.integers(-1200, -1050))
@example(negative=False, high=0, low=3, e=-1076)  # 0.75 * 2**-1074: rounds up to the smallest subnormal
@example(negative=True, high=0, low=2**53 + 1, e=0)  # a tie between two float64 values
def test_round_to_float64_is_correct_rounding(negative, high, low, e):
    exact = Fraction(high * 2**64 + low) * Fraction(2) ** e
    try:
        expected = float(exact)
    except OverflowError:
        expected = math.inf
    expected = -expected if negative else expected
    actual = RK.round_to_float64(negative, np.uint64(high), np.uint64(low), e)
    assert math.copysign(1.0, actual) == math.copysign(1.0, expected)
    assert actual == expected


@given(a=st.integers(0, 2**64 - 1), b=st.integers(0, 2**64 - 1))
def test_mul64_and_bit_length(a, b):
    high, low = RK.mul64(np.uint64(a), np.uint64(b))
    assert (int(high) << 64) | int(low) == a * b
    assert RK.bit_length(np.uint64(a)) == a.bit_length()


@settings(max_examples=200)
@given(x=st.floats(allow_nan=False, allow_infinity=False))
def test_split_float(x):
    negative, M, e = RK.split_float(np.array([x]).view(np.uint64)[0])
    assert bool(negative) == (math.copysign(1.0, x) < 0)
    assert Fraction(int(M)) * Fraction(2) ** int(e) == abs(Fraction(x))


def test_float_encode_uses_the_exact_engines_special_codes():
    """encode_float_scaled's overflow goes to the codes the exact engine chooses per mode."""
    from lpsim.fast.codec import float_params
    from lpsim.formats import E4M3, E5M2

    for fmt in (E4M3, E5M2):
        for mode in RoundingMode:
            rounding = Rounding(mode=mode)
            P = float_params(fmt, rounding)
            for negative in (False, True):
                code, ok = K.encode_float_scaled(negative, np.uint64(1), 100, P, mode.code, 0, np.uint64(0), np.uint64(0), np.uint64(0))
                assert ok and int(code) == exact_codec.float_overflow_code(negative, fmt, rounding, "")
