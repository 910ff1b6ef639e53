"""binary16 / binary32 add, subtract, multiply and fma with nearest-even agree bit for bit with
IEEE hardware (numpy), and with an exact Fraction reference for binary32 fma, on each engine."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lpsim import ops
from lpsim.exact import QArray
from lpsim.formats import BINARY16, BINARY32


def float_codes(exp_bits: int, man_bits: int, n: int):
    """Codes with extra weight on edges: zeros, subnormals, powers of two (ties in sums),
    all-ones mantissas, the largest exponents (overflow), inf and NaN."""
    top = (1 << exp_bits) - 1
    uniform = st.integers(0, (1 << (1 + exp_bits + man_bits)) - 1)
    exponent = st.one_of(st.integers(0, top), st.sampled_from([0, 1, top - 1, top - 2, top]))
    mantissa = st.one_of(st.integers(0, (1 << man_bits) - 1), st.sampled_from([0, 1, 1 << (man_bits - 1), (1 << man_bits) - 1]))
    edges = st.builds(lambda s, e, m: (s << (exp_bits + man_bits)) | (e << man_bits) | m, st.integers(0, 1), exponent, mantissa)
    return st.lists(st.one_of(uniform, edges), min_size=n, max_size=n)


def same_bits(ours: np.ndarray, reference: np.ndarray) -> bool:
    """Equal codes, NaNs of any sign or payload counted equal (NaN results are canonical in lpsim)."""
    ours_f = ours.view(reference.dtype)
    both_nan = np.isnan(ours_f) & np.isnan(reference)
    return bool(np.all(both_nan | (ours == reference.view(ours.dtype))))


N = 12
H = BINARY16
S = BINARY32


def qa(codes, fmt, dtype):
    return QArray(codes=np.array(codes, dtype=dtype), fmt=fmt)


@pytest.mark.parametrize("fmt, code_dtype, float_dtype", [(H, np.uint16, np.float16), (S, np.uint32, np.float32)],
                         ids=["binary16", "binary32"])
@settings(max_examples=60)
@given(data=st.data())
def test_add_subtract_multiply_match_numpy(engine, fmt, code_dtype, float_dtype, data):
    codes = float_codes(fmt.exp_bits, fmt.man_bits, N)
    a, b = qa(data.draw(codes), fmt, code_dtype), qa(data.draw(codes), fmt, code_dtype)
    fa, fb = a.codes.view(float_dtype), b.codes.view(float_dtype)
    with np.errstate(all="ignore"):
        assert same_bits(ops.add(a, b, engine=engine).codes, fa + fb)
        assert same_bits(ops.subtract(a, b, engine=engine).codes, fa - fb)
        assert same_bits(ops.multiply(a, b, engine=engine).codes, fa * fb)


@settings(max_examples=40)
@given(float_codes(5, 10, N), float_codes(5, 10, N), float_codes(5, 10, N))
def test_binary16_fma_matches_float64_reference(engine, ca, cb, cc):
    a, b, c = qa(ca, H, np.uint16), qa(cb, H, np.uint16), qa(cc, H, np.uint16)
    fa, fb, fc = (q.codes.view(np.float16).astype(np.float64) for q in (a, b, c))
    with np.errstate(all="ignore"):
        reference = (fa * fb + fc).astype(np.float16)  # exact enough: see docs/oracles in the brief
    assert same_bits(ops.fma(a, b, c, engine=engine).codes, reference)


def binary32_fma_reference(a: np.float32, b: np.float32, c: np.float32) -> np.float32:
    """fl32(a*b + c) from the exact rational, nearest-even, written independently of lpsim."""
    if not (np.isfinite(a) and np.isfinite(b) and np.isfinite(c)):
        with np.errstate(all="ignore"):
            return np.float32(np.float64(a) * np.float64(b) + np.float64(c))  # specials: float64 rules suffice
    exact = Fraction(float(a)) * Fraction(float(b)) + Fraction(float(c))
    if exact == 0:
        product_negative = (np.signbit(a) != np.signbit(b)) and a * np.float64(b) == 0
        if float(a) * float(b) == 0 and c == 0:
            negative = product_negative and np.signbit(c)
        else:
            negative = False
        return np.float32(-0.0 if negative else 0.0)
    m = abs(exact)
    e = m.numerator.bit_length() - m.denominator.bit_length()
    if Fraction(2) ** e > m:
        e -= 1
    q = max(e, -126) - 23  # grid step: normal binade, or the subnormal step 2**-149
    scaled = m / Fraction(2) ** q
    k, rem = divmod(scaled.numerator, scaled.denominator)
    if 2 * rem > scaled.denominator or (2 * rem == scaled.denominator and k % 2):
        k += 1
    value = k * Fraction(2) ** q
    if value >= Fraction(2) ** 128:
        result = np.float32(np.inf)
    else:
        result = np.float32(float(value))
    return -result if exact < 0 else result


@settings(max_examples=40)
@given(float_codes(8, 23, N), float_codes(8, 23, N), float_codes(8, 23, N))
def test_binary32_fma_matches_exact_reference(engine, ca, cb, cc):
    a, b, c = qa(ca, S, np.uint32), qa(cb, S, np.uint32), qa(cc, S, np.uint32)
    fa, fb, fc = (q.codes.view(np.float32) for q in (a, b, c))
    reference = np.array([binary32_fma_reference(x, y, z) for x, y, z in zip(fa, fb, fc)], dtype=np.float32)
    assert same_bits(ops.fma(a, b, c, engine=engine).codes, reference)


def test_binary32_fma_rounds_once_where_two_roundings_differ(engine):
    # a*b = 1 + 2**-11 + 2**-24: rounding the product first is a tie broken to even (1 + 2**-11),
    # so unfused a*b - 1 = 2**-11; fused keeps the 2**-24 (2**-11 + 2**-24 is a float32 number).
    a = np.float32(1 + 2**-12)
    b = np.float32(1 + 2**-12)
    c = np.float32(-1.0)
    fused = ops.fma(*(QArray(codes=np.array([x]).view(np.uint32), fmt=S) for x in (a, b, c)), engine=engine)
    unfused = np.float32(a * b) + c
    assert fused.codes.view(np.float32)[0] == binary32_fma_reference(a, b, c) == np.float32(2**-11 + 2**-24)
    assert unfused != fused.codes.view(np.float32)[0]


@pytest.mark.parametrize("fmt, dtype, big", [(H, np.float16, 65504.0), (S, np.float32, 3.4028234663852886e38)])
def test_overflow_and_ties_crafted(engine, fmt, dtype, big):
    x = QArray.from_float([big, 1.0, -0.0, 1.0], fmt)
    y = QArray.from_float([big, 2.0 ** -(fmt.man_bits + 1), 0.0, -1.0], fmt)
    got = ops.add(x, y, engine=engine).codes.view(dtype)
    assert np.isinf(got[0]) and got[0] > 0  # overflow to +inf
    assert got[1] == 1.0  # 1 + half an ulp: a tie, rounds to even (1.0)
    assert got[2] == 0 and not np.signbit(got[2])  # -0 + +0 = +0
    assert got[3] == 0 and not np.signbit(got[3])  # x - x = +0
    down = ops.add(x, y, rounding="toward_negative", engine=engine).codes.view(dtype)
    assert down[3] == 0 and np.signbit(down[3])  # x - x = -0 when rounding toward -inf
    assert down[0] == big  # directed overflow stops at the largest finite value


def test_every_e3m2_sum_and_product_is_the_nearest_value_exhaustively(engine):
    """All 64 x 64 operand pairs of E3M2 (no inf/NaN, saturating): the result is the nearest
    representable value, ties to the even code, found by brute force over the format's values."""
    from lpsim.formats.presets import E3M2

    codes = np.arange(64, dtype=np.uint8)
    values = QArray(codes=codes, fmt=E3M2).to_float()
    finite = sorted({(v, c) for c, v in zip(codes.tolist(), values.tolist()) if not (v == 0 and c >= 32)})

    def nearest(x: float) -> float:
        x = min(max(x, -E3M2.max), E3M2.max)  # saturate
        best = min(finite, key=lambda vc: (abs(vc[0] - x), vc[1] & 1))  # nearest, then even mantissa
        return best[0]

    a = QArray(codes=np.repeat(codes, 64), fmt=E3M2)
    b = QArray(codes=np.tile(codes, 64), fmt=E3M2)
    for op, ref in ((ops.add, lambda x, y: x + y), (ops.multiply, lambda x, y: x * y)):
        got = op(a, b, engine=engine).to_float()
        want = np.array([nearest(ref(x, y)) for x, y in zip(a.to_float(), b.to_float())])
        assert np.array_equal(got, want), op.__name__
