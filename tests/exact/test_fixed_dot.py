"""Fixed-point reductions against brute-force Python-int references written here, independently
of lpsim: wrap and saturate at chosen widths, in every summation order, on each engine."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lpsim.arith import EXACT, PAIRWISE, Accumulator, IntRegister, Summation
from lpsim import ops
from lpsim.exact import QArray
from lpsim.formats import FixedPoint


def wrap(k, bits):
    """Two's complement wrap of an integer into ``bits`` bits."""
    k &= (1 << bits) - 1
    return k - (1 << bits) if k >> (bits - 1) else k


def saturate(k, bits):
    return max(-(1 << (bits - 1)), min((1 << (bits - 1)) - 1, k))


def reference_sequential(products, bring):
    total = 0
    for p in products:
        total = bring(total + p)
    return total


def reference_pairwise(products, bring):
    level = list(products)
    if len(level) == 1:
        return bring(level[0])
    while len(level) > 1:
        paired = [bring(level[i] + level[i + 1]) for i in range(0, len(level) - 1, 2)]
        level = paired + ([level[-1]] if len(level) % 2 else [])
    return level[0] if level else 0


def reference_chunked(products, k, bring_chunk, bring_final):
    sums = [reference_sequential(products[i:i + k], bring_chunk) for i in range(0, len(products), k)]
    return reference_sequential(sums, bring_final)


POLICIES = {"wrap": wrap, "saturate": saturate}
I8 = FixedPoint.integer(8)
U8 = FixedPoint.integer(8, signed=False)


def draw_codes(data, fmt: FixedPoint, n: int) -> list[int]:
    """``n`` codes of ``fmt``, anywhere in its range."""
    return data.draw(st.lists(st.integers(fmt.code_min, fmt.code_max), min_size=n, max_size=n))


def dot_of_codes(a: list[int], a_fmt, b: list[int], b_fmt, acc: Accumulator, engine: str):
    return ops.dot(QArray(codes=np.array(a, dtype=np.int64), fmt=a_fmt),
                   QArray(codes=np.array(b, dtype=np.int64), fmt=b_fmt), acc, engine=engine)


@settings(max_examples=60)
@given(
    data=st.data(),
    n=st.integers(0, 24),
    acc_bits=st.integers(16, 20),
    policy=st.sampled_from(["wrap", "saturate"]),
    order=st.sampled_from(["sequential", "pairwise"]),
)
def test_int8_dot_matches_reference(engine, data, n, acc_bits, policy, order):
    a, b = draw_codes(data, I8, n), draw_codes(data, I8, n)
    acc = Accumulator(product=IntRegister(bits=16, overflow="error"),
                      accumulator=IntRegister(bits=acc_bits, overflow=policy),
                      summation=PAIRWISE if order == "pairwise" else Summation())
    got = dot_of_codes(a, I8, b, I8, acc, engine)
    bring = lambda k: POLICIES[policy](k, acc_bits)  # noqa: E731
    products = [x * y for x, y in zip(a, b)]
    expected = reference_pairwise(products, bring) if order == "pairwise" else reference_sequential(products, bring)
    assert int(got.codes) == expected
    assert got.fmt == FixedPoint(bits=acc_bits, frac_bits=0, overflow=policy)


@settings(max_examples=40)
@given(
    data=st.data(),
    n=st.integers(1, 20),
    k=st.integers(1, 5),
    policy=st.sampled_from(["wrap", "saturate"]),
)
def test_chunked_dot_matches_reference(engine, data, n, k, policy):
    a, b = draw_codes(data, U8, n), draw_codes(data, I8, n)
    acc = Accumulator(product=IntRegister(bits=16, overflow="error"),
                      accumulator=IntRegister(bits=16, overflow=policy),
                      summation=Summation.chunked(k, IntRegister(bits=18, overflow=policy)))
    got = dot_of_codes(a, U8, b, I8, acc, engine)
    expected = reference_chunked([x * y for x, y in zip(a, b)], k,
                                 lambda v: POLICIES[policy](v, 16), lambda v: POLICIES[policy](v, 18))
    assert int(got.codes) == expected


@settings(max_examples=25)
@given(data=st.data(), m=st.integers(1, 3), n=st.integers(1, 6), p=st.integers(1, 3))
def test_matmul_and_matvec_are_rows_of_dots(engine, data, m, n, p):
    """Every output of matmul / matvec equals the dot of its row and column (same accumulator)."""
    ints = st.integers(-8, 7)
    a = np.array(data.draw(st.lists(ints, min_size=m * n, max_size=m * n))).reshape(m, n)
    b = np.array(data.draw(st.lists(ints, min_size=n * p, max_size=n * p))).reshape(n, p)
    i4 = FixedPoint(bits=4, frac_bits=2)
    acc = Accumulator(product=IntRegister(bits=8), accumulator=IntRegister(bits=8, overflow="wrap"))
    qa, qb = QArray(codes=a, fmt=i4), QArray(codes=b, fmt=i4)
    c = ops.matmul(qa, qb, acc, engine=engine)
    for i in range(m):
        for k in range(p):
            expected = reference_sequential([int(x) * int(y) for x, y in zip(a[i], b[:, k])], lambda v: wrap(v, 8))
            assert int(c.codes[i, k]) == expected
    v = ops.matvec(qa, QArray(codes=b[:, 0], fmt=i4), acc, engine=engine)
    assert np.array_equal(v.codes, c.codes[:, 0])
    assert c.fmt == FixedPoint(bits=8, frac_bits=4, overflow="wrap")  # units of 2**-2 * 2**-2


def test_output_requantization_of_an_integer_dot(engine):
    """int32 accumulation, then one rounding to a narrower output format (value semantics)."""
    a = QArray.from_float([0.5, 0.25, -0.75], FixedPoint(bits=8, frac_bits=4))
    b = QArray.from_float([1.5, 3.0, 0.5], FixedPoint(bits=8, frac_bits=2))
    out = FixedPoint(bits=8, frac_bits=1)
    exact_sum = 0.5 * 1.5 + 0.25 * 3.0 - 0.75 * 0.5  # 1.125: between 1.0 and 1.5 on a 0.5 grid
    assert ops.dot(a, b, "vnni_int8_int32", engine=engine).to_float() == exact_sum
    assert ops.dot(a, b, "vnni_int8_int32", out=out, engine=engine).to_float() == 1.0
    assert ops.dot(a, b, "vnni_int8_int32", out=out, rounding="toward_positive", engine=engine).to_float() == 1.5
    assert ops.dot(a, b, Accumulator(accumulator=EXACT), out=out, engine=engine).to_float() == 1.0


@pytest.mark.parametrize("policy, expected", [("wrap", wrap(4 * 127 * 127, 16)), ("saturate", 32767)])
def test_crafted_overflow_of_a_16_bit_accumulator(engine, policy, expected):
    a = QArray(codes=np.full(4, 127), fmt=I8)
    acc = Accumulator(product=IntRegister(bits=16), accumulator=IntRegister(bits=16, overflow=policy))
    assert int(ops.dot(a, a, acc, engine=engine).codes) == expected
