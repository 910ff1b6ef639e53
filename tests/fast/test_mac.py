"""The multiply-accumulate fast paths (lpsim/fast/_mac.py): the exact engine's codes and
exceptions for every path, any shape (0- and 1-sized axes too) and any thread count, and
independent oracles (numpy float32 sequential sums, Python integers)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lpsim import ops
from lpsim.arith import as_accumulator
from lpsim.exact import QArray
from lpsim.exact.arith import _checked_plan
from lpsim.fast import _mac, threads
from lpsim.formats import (
    BFLOAT16, BINARY16, BINARY32, BINARY64, E4M3, E4M3FNUZ, E5M2, FixedPoint, FloatFormat, Rounding,
)

from .strategies import (
    EXACT, Accumulator, FloatRegister, IntRegister, Summation, assert_engines_agree, build_or_none, qarrays,
)

INT8 = FixedPoint(bits=8, frac_bits=0)
UINT8 = FixedPoint(bits=8, signed=False, frac_bits=0)
Q4 = FixedPoint(bits=6, frac_bits=3)
FP13 = FloatFormat(exp_bits=8, man_bits=12)
OPERANDS = [E4M3, E5M2, E4M3FNUZ, BFLOAT16, BINARY16, INT8, UINT8, Q4, FloatFormat(exp_bits=3, man_bits=2)]
NARROW = [BINARY16, BFLOAT16, FP13, E5M2, FloatFormat(exp_bits=5, man_bits=4, overflow="saturate"), E4M3FNUZ]
MODES = ["nearest_even", "nearest_away", "toward_zero", "toward_positive", "toward_negative", "to_odd"]


@pytest.fixture(autouse=True)
def every_call_parallel(monkeypatch):
    """Let small test shapes use the requested threads (the kernels otherwise run small work on one)."""
    monkeypatch.setattr(threads, "SMALL_WORK", 0)


def roundings():
    stochastic = st.builds(Rounding, mode=st.just("stochastic"), random_bits=st.sampled_from([None, 1, 5, 23, 33, 64]),
                           generator=st.sampled_from(["philox10", "philox7", "splitmix64", "hash32"]))
    return st.one_of(st.builds(Rounding, mode=st.sampled_from(MODES)), stochastic)


def native_registers():
    return st.sampled_from([FloatRegister(fmt=BINARY32), FloatRegister(fmt=BINARY64)])


def fast_registers():
    return st.one_of(native_registers(), st.builds(FloatRegister, fmt=st.sampled_from(NARROW + [BINARY32]),
                                                   rounding=roundings()))


@st.composite
def float_accumulators(draw):
    product = draw(st.one_of(st.just(EXACT), fast_registers()))
    accumulator = draw(fast_registers())
    order = draw(st.sampled_from(["sequential", "pairwise", "chunked"]))
    if order == "chunked":
        summation = Summation.chunked(draw(st.integers(1, 5)), draw(fast_registers()))
    else:
        summation = Summation(order=order)
    return build_or_none(lambda: Accumulator(product=product, accumulator=accumulator, summation=summation))


@st.composite
def int_accumulators(draw):
    overflow = st.sampled_from(["wrap", "saturate", "error"])
    accumulator = draw(st.one_of(st.just(EXACT), st.builds(IntRegister, bits=st.integers(16, 34), overflow=overflow)))
    order = draw(st.sampled_from(["sequential", "chunked"]))
    if order == "chunked":
        final = draw(st.one_of(st.just(EXACT), st.builds(IntRegister, bits=st.integers(16, 40), overflow=overflow)))
        summation = Summation.chunked(draw(st.integers(1, 5)), final)
    else:
        summation = Summation()
    product = draw(st.sampled_from([EXACT, IntRegister(bits=16, overflow="error")]))
    return build_or_none(lambda: Accumulator(product=product, accumulator=accumulator, summation=summation))


@st.composite
def operands(draw, a_fmt, b_fmt):
    op = draw(st.sampled_from(["dot", "matvec", "matmul"]))
    m, n, p = draw(st.integers(0, 6)), draw(st.integers(0, 40)), draw(st.integers(0, 6))
    if op == "dot":
        return op, draw(qarrays(a_fmt, (n,))), draw(qarrays(b_fmt, (n,)))
    a = draw(qarrays(a_fmt, (m, n)))
    if op == "matvec":
        return op, a, draw(qarrays(b_fmt, (n,)))
    return op, a, draw(qarrays(b_fmt, (n, p)))


KEYS = dict(seed=st.integers(0, 2**64 - 1), stream=st.integers(0, 2**32 - 1), offset=st.integers(0, 2**20))


@settings(max_examples=300, deadline=None)
@given(data=st.data(), a_fmt=st.sampled_from(OPERANDS), b_fmt=st.sampled_from(OPERANDS),
       accumulator=float_accumulators(), n_threads=st.sampled_from([1, 2]), **KEYS)
def test_float_registers_match_the_exact_engine(data, a_fmt, b_fmt, accumulator, n_threads, seed, stream, offset):
    if accumulator is None:
        return
    op, a, b = data.draw(operands(a_fmt, b_fmt))
    out = data.draw(st.one_of(st.none(), st.just(BINARY16), st.just(INT8)))
    with threads.using_threads(n_threads):
        assert_engines_agree(op, a, b, accumulator, out, "stochastic", seed=seed, stream=stream, offset=offset)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), a_fmt=st.sampled_from([INT8, UINT8, Q4]), b_fmt=st.sampled_from([INT8, UINT8]),
       accumulator=int_accumulators(), n_threads=st.sampled_from([1, 2]))
def test_integer_registers_match_the_exact_engine(data, a_fmt, b_fmt, accumulator, n_threads):
    if accumulator is None:
        return
    op, a, b = data.draw(operands(a_fmt, b_fmt))
    with threads.using_threads(n_threads):
        assert_engines_agree(op, a, b, accumulator)


def _route(accumulator, a_fmt, b_fmt, integer):
    plan, _ = _checked_plan("matmul", as_accumulator(accumulator), a_fmt, b_fmt, None)
    chosen = _mac.recipe(plan, integer, None if not integer else _wrap(plan))
    return None if chosen is None else chosen[0]


def _wrap(plan):
    from lpsim.fast.arith import _wrap_recipe

    return _wrap_recipe(plan)


@pytest.mark.parametrize("accumulator, a_fmt, b_fmt, integer, path", [
    ("fp8_fp32", E4M3, E4M3, False, "native"),
    ("bf16_fp32", BFLOAT16, BFLOAT16, False, "native"),
    ("fp16_fp32", BINARY16, BINARY16, False, "native"),
    ("fp64", BINARY64, BINARY64, False, "native"),
    ("fp16_fp16", BINARY16, BINARY16, False, "narrow"),
    # stochastic registers (any random bits, any generator): the rounding kernel
    (Accumulator(accumulator=FloatRegister(fmt=BINARY32, rounding="stochastic:16")), E4M3, E4M3, False, "rounded"),
    (Accumulator(accumulator=FloatRegister(fmt=BINARY32, rounding="stochastic")), E4M3, E4M3, False, "rounded"),
    (Accumulator(accumulator=FloatRegister(fmt=BINARY32, rounding="sr16:splitmix64")), E4M3, E4M3, False, "rounded"),
    (Accumulator(accumulator=FloatRegister(fmt=FP13, rounding="toward_zero")), E4M3, E4M3, False, "narrow"),
    (Accumulator(accumulator=FloatRegister(fmt=FP13, rounding="toward_zero"), summation=Summation(order="pairwise")),
     E4M3, E4M3, False, "rounded"),
    ("vnni_int8_int32", INT8, INT8, True, "wrap32"),
    ("vnni_int8_int32_sat", UINT8, INT8, True, "int_tile"),
    ("avx2_maddubs_int16", UINT8, INT8, True, "int_tile"),
    # fp32 x fp32 exact products are not float32 numbers: no native path, the rounding kernel
    (Accumulator(accumulator=FloatRegister(fmt=BINARY32)), BINARY32, BINARY32, False, "narrow"),
    # binary64 registers in other modes than nearest-even: the general kernel
    (Accumulator(accumulator=FloatRegister(fmt=BINARY64, rounding="toward_zero")), E4M3, E4M3, False, None),
])
def test_paths_are_chosen_from_the_plan(accumulator, a_fmt, b_fmt, integer, path):
    assert _route(accumulator, a_fmt, b_fmt, integer) == path


def _values(rng, shape, fmt, scale=1.0):
    return QArray.from_float(rng.standard_normal(shape) * scale, fmt)


@settings(max_examples=40, deadline=None)
@given(fmt=st.sampled_from([E4M3, BFLOAT16, BINARY16]), m=st.integers(1, 5), n=st.integers(1, 300),
       p=st.integers(1, 5), seed=st.integers(0, 2**32 - 1), n_threads=st.sampled_from([1, 2]))
def test_fp32_sequential_equals_numpy_float32_running_sums(fmt, m, n, p, seed, n_threads):
    rng = np.random.default_rng(seed)
    a, b = _values(rng, (m, n), fmt, 8.0), _values(rng, (n, p), fmt, 8.0)
    with threads.using_threads(n_threads):
        got = ops.to_float(ops.matmul(a, b, Accumulator(accumulator=FloatRegister(fmt=BINARY32))))
    products = (ops.to_float(a)[:, :, None] * ops.to_float(b)[None, :, :]).astype(np.float32)  # exact in float32
    expected = np.add.accumulate(products, axis=1, dtype=np.float32)[:, -1, :]
    np.testing.assert_array_equal(got.astype(np.float32).view(np.uint32), expected.view(np.uint32))


@pytest.mark.parametrize("fmt", [E4M3, BFLOAT16])
def test_large_operands_decode_through_the_threaded_value_table(fmt):
    # beyond SMALL_WORK codes the value table is read by a parallel kernel, not numpy indexing
    codes = np.resize(np.arange(1 << fmt.bits).astype(fmt.code_dtype), (3, 5, threads.SMALL_WORK // 15 + 7))
    q = QArray(codes=codes, fmt=fmt)
    expected = ops.to_float(q).astype(np.float32)
    for n_threads in (1, 2):
        with threads.using_threads(n_threads):
            got = _mac.float_values(q, np.float32)
        assert got.shape == codes.shape
        np.testing.assert_array_equal(got.view(np.uint32), expected.view(np.uint32))


def test_large_fp32_matmul_equals_numpy_float32_running_sums():
    rng = np.random.default_rng(11)
    n = threads.SMALL_WORK // 2 + 9  # a's codes take the threaded decode
    a, b = _values(rng, (2, n), E4M3, 8.0), _values(rng, (n, 3), E4M3, 8.0)
    products = (ops.to_float(a)[:, :, None] * ops.to_float(b)[None, :, :]).astype(np.float32)
    expected = np.add.accumulate(products, axis=1, dtype=np.float32)[:, -1, :]
    for n_threads in (1, 2):
        with threads.using_threads(n_threads):
            got = ops.to_float(ops.matmul(a, b, "fp8_fp32")).astype(np.float32)
        np.testing.assert_array_equal(got.view(np.uint32), expected.view(np.uint32))


def _wrap_int(value, bits):
    return (value + (1 << (bits - 1))) % (1 << bits) - (1 << (bits - 1))


@settings(max_examples=40, deadline=None)
@given(m=st.integers(1, 4), n=st.integers(0, 200), p=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_integer_paths_equal_python_integers(m, n, p, seed):
    rng = np.random.default_rng(seed)
    a = QArray(codes=rng.integers(0, 256, (m, n)).astype(np.uint8), fmt=UINT8)
    b = QArray(codes=rng.integers(-128, 128, (n, p)).astype(np.int8), fmt=INT8)
    ai, bi = a.codes.astype(object), b.codes.astype(object)
    low, high = -(1 << 31), (1 << 31) - 1
    narrow = Accumulator(product=IntRegister(bits=16, overflow="error"), accumulator=IntRegister(bits=20))
    saturating = Accumulator(product=EXACT, accumulator=IntRegister(bits=20, overflow="saturate"))
    for i in range(m):
        for k in range(p):
            terms = [ai[i, j] * bi[j, k] for j in range(n)]
            wrapped = _wrap_int(sum(terms), 20)
            clamped, vnni = 0, 0
            for j, t in enumerate(terms):
                clamped = min(max(clamped + t, -(1 << 19)), (1 << 19) - 1)
            for start in range(0, n, 4):
                vnni = min(max(vnni + sum(terms[start:start + 4]), low), high)
            assert int(ops.matmul(a, b, narrow).codes[i, k]) == wrapped
            assert int(ops.matmul(a, b, saturating).codes[i, k]) == clamped
            assert int(ops.matmul(a, b, "vnni_int8_int32_sat").codes[i, k]) == vnni


def test_results_do_not_depend_on_the_thread_count():
    rng = np.random.default_rng(7)
    a, b = _values(rng, (33, 70), E4M3), _values(rng, (70, 300), E4M3)
    stochastic = Accumulator(accumulator=FloatRegister(fmt=BFLOAT16, rounding="stochastic"))
    for accumulator in ("fp8_fp32", stochastic, Accumulator(accumulator=FloatRegister(fmt=BINARY32),
                                                             summation=Summation(order="pairwise"))):
        runs = []
        for n_threads in (1, 2):
            with threads.using_threads(n_threads):
                runs.append(ops.matmul(a, b, accumulator, seed=3).codes)
        np.testing.assert_array_equal(runs[0], runs[1])


def test_nan_and_inf_follow_ieee_in_float_registers():
    a = ops.from_float(np.array([np.inf, 1.0, 2.0]), BINARY16)
    b = ops.from_float(np.array([1.0, 1.0, 1.0]), BINARY16)
    c = ops.from_float(np.array([-np.inf, 1.0, 1.0]), BINARY16)
    assert ops.to_float(ops.dot(a, b, "fp16_fp32")) == np.inf
    zero_times_inf = ops.dot(a, ops.from_float(np.array([0.0, 1.0, 1.0]), BINARY16), "fp16_fp32")
    assert np.isnan(ops.to_float(zero_times_inf))
    nan = ops.dot(ops.from_float(np.array([np.inf, -np.inf]), BINARY16), ops.from_float(np.ones(2), BINARY16),
                  "fp16_fp32")
    assert int(nan.codes) == 0x7FC00000  # the exact engine's (positive) NaN
    assert_engines_agree("dot", a, c, "fp16_fp16")


def test_shape_mismatch_names_both_shapes():
    a, b = ops.from_float(np.ones((2, 3)), E4M3), ops.from_float(np.ones((4, 5)), E4M3)
    with pytest.raises(ValueError, match=r"inner dimensions differ.*\(2, 3\).*\(4, 5\)"):
        ops.matmul(a, b, "fp8_fp32")


def test_overflow_under_error_names_the_output():
    a = QArray(codes=np.full((2, 4), 127, dtype=np.int8), fmt=INT8)
    b = QArray(codes=np.full((4, 3), 127, dtype=np.int8), fmt=INT8)
    tight = Accumulator(product=EXACT, accumulator=IntRegister(bits=16, overflow="error"))
    with pytest.raises(OverflowError, match=r"output \(0, 0\)"):
        ops.matmul(a, b, tight)


@pytest.mark.parametrize("bad, error", [(0, ValueError), (10**6, ValueError), (1.5, TypeError), (True, TypeError)])
def test_thread_setting_is_checked(bad, error):
    with pytest.raises(error, match="threads"):
        threads.set_threads(bad)


@pytest.mark.parametrize("offset", range(40))
def test_exact_probability_stochastic_accumulator_matches_exact(offset):
    """0 * 0 + 1 * 31 into an E5M2 accumulator with exact-probability stochastic rounding: 31 rounds
    up to 32 with probability 3/4. A regression case the hypothesis differential test found (the
    fast path decided 8 of these 40 offsets differently from the exact engine)."""
    from lpsim.arith.accumulator import Accumulator, Summation
    from lpsim.arith.registers import ExactRegister, FloatRegister
    from lpsim.formats.rounding import Rounding

    accumulator = Accumulator(product=ExactRegister(), summation=Summation(),
                              accumulator=FloatRegister(fmt=FloatFormat(exp_bits=5, man_bits=2),
                                                        rounding=Rounding.parse("stochastic")))
    a = QArray(codes=np.array([0, 1], dtype=np.uint8), fmt=FixedPoint(bits=2, signed=False, frac_bits=0))
    b = QArray(codes=np.array([0, 31], dtype=np.uint8), fmt=FixedPoint(bits=5, signed=False, frac_bits=0))
    fast = ops.dot(a, b, accumulator, offset=offset, engine="fast")
    exact = ops.dot(a, b, accumulator, offset=offset, engine="exact")
    assert int(fast.codes) == int(exact.codes)


@pytest.mark.parametrize("rounding", ["stochastic:64", "stochastic", "stochastic:64:splitmix64", "stochastic:hash32"])
def test_stochastic_thresholds_of_2_63_and_more_match_exact(rounding):
    """fp16 accumulators whose discarded fractions are often >= 1/2, so that t = floor(fraction * 2**r)
    reaches 2**63 with r = 64 or exact probabilities: the fast kernel once took that floor as an int64,
    which overflowed and rounded such sums down (the exact-probability case above, and 64 random bits
    into fp16, disagreed with the exact engine); other generators must keep their own bits."""
    rng = np.random.default_rng(5)
    a, b = _values(rng, (3, 200), BINARY16, 4.0), _values(rng, (200, 5), BINARY16, 4.0)
    accumulator = Accumulator(accumulator=FloatRegister(fmt=BINARY16, rounding=rounding))
    assert _route(accumulator, BINARY16, BINARY16, False) == "rounded"
    for offset in (0, 3):
        fast = ops.matmul(a, b, accumulator, seed=11, stream=4, offset=offset, engine="fast")
        exact = ops.matmul(a, b, accumulator, seed=11, stream=4, offset=offset, engine="exact")
        np.testing.assert_array_equal(fast.codes, exact.codes)


def _spread(rng, shape, fmt):
    """Values over many binades, so sums meet ties, discarded bits far below the register's grid,
    the register's subnormal range and exact cancellations."""
    return QArray.from_float(rng.standard_normal(shape) * np.exp2(rng.integers(-40, 14, shape)), fmt)


@settings(max_examples=60, deadline=None)
@given(fmt=st.sampled_from([E4M3, BINARY16, BFLOAT16, INT8]), register=st.builds(
           FloatRegister, fmt=st.sampled_from(NARROW + [BINARY32]), rounding=st.builds(Rounding, mode=st.sampled_from(MODES))),
       m=st.integers(0, 4), n=st.integers(0, 60), p=st.integers(0, 5), seed=st.integers(0, 2**32 - 1),
       matvec=st.booleans(), n_threads=st.sampled_from([1, 2]))
def test_narrow_path_matches_the_exact_engine(fmt, register, m, n, p, seed, matvec, n_threads):
    """The branch-free, vectorized deterministic path (round to odd in float64, then once into the register)."""
    accumulator = build_or_none(lambda: Accumulator(product=EXACT, accumulator=register))
    if accumulator is None:
        return
    # path 1 instead, where every exact product is a float32 number (bf16 products reach 2**-266: not so)
    native = register.fmt == BINARY32 and register.rounding == Rounding(mode="nearest_even") and fmt != BFLOAT16
    assert _route(accumulator, fmt, fmt, False) == ("native" if native else "narrow")
    rng = np.random.default_rng(seed)
    a = _spread(rng, (m, n), fmt)
    b = _spread(rng, (n,) if matvec else (n, p), fmt)
    with threads.using_threads(n_threads):
        assert_engines_agree("matvec" if matvec else "matmul", a, b, accumulator)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("a_values, b_values", [
    ([1.0, 1.0], [2.0, -2.0]), ([-0.0, -0.0], [1.0, 1.0]), ([0.0, -0.0], [1.0, 1.0]), ([-1.0, 1.0], [0.0, 0.0]),
    ([2048.0, 1.0, 2.0**-30], [1.0, 1.0, 1.0]), ([2048.0, 1.0, -2.0**-30], [1.0, 1.0, 1.0]),
    ([1.0, -2.0**-30], [1.0, 1.0]), ([2.0**-14, -2.0**-24, 2.0**-40], [1.0, 1.0, 1.0]),
])
def test_narrow_path_signed_zeros_ties_and_grid_points(mode, a_values, b_values):
    """Exact zero sums (IEEE's sign rules per mode), ties broken by bits far below the grid, a grid
    point approached from below, and the register's subnormal range, into an fp16 accumulator."""
    accumulator = Accumulator(product=EXACT, accumulator=FloatRegister(fmt=BINARY16, rounding=mode))
    assert _route(accumulator, BINARY32, BINARY32, False) == "narrow"
    a, b = ops.from_float(np.array(a_values), BINARY32), ops.from_float(np.array(b_values), BINARY32)
    assert_engines_agree("dot", a, b, accumulator)


@pytest.mark.parametrize("mode, terms", [
    ("toward_zero", [-14776.0, -2.0**-40]), ("toward_positive", [14776.0, 2.0**-40]),
    ("to_odd", [14776.0, 2.0**-40]), ("stochastic:64", [14776.0, 2.0**-40]),
])
def test_scalar_rounding_kernel_with_a_tiny_addend_beyond_a_grid_point(mode, terms):
    """A sum whose float64 value is a grid point of the register and whose TwoSum error points away
    from zero: the scalar kernel once treated it as lying just below the grid point (-14768 instead
    of -14776 toward zero; the narrow path's differential test found it)."""
    accumulator = Accumulator(product=EXACT, accumulator=FloatRegister(fmt=BINARY16, rounding=mode),
                              summation=Summation(order="pairwise"))
    assert _route(accumulator, BINARY32, BINARY32, False) == "rounded"
    a, b = ops.from_float(np.array(terms), BINARY32), ops.from_float(np.ones(2), BINARY32)
    for offset in range(4):
        assert_engines_agree("dot", a, b, accumulator, seed=1, offset=offset)


@pytest.mark.parametrize("register", [
    FloatFormat.p3109(8, 4), FloatFormat.p3109(8, 3, domain="finite"), FloatFormat.p3109(8, 4, signed=False),
    FloatFormat.p3109(8, 3, signed=False, overflow="satpropagate"),
], ids=str)
@pytest.mark.parametrize("mode", ["nearest_even", "toward_negative", "stochastic:13"])
@pytest.mark.parametrize("a_values", [[1.0, -1.0], [-0.5, 0.25], [-0.0, -0.0], [3.0, -40.0, 2.0], [1e3, 1e3, -1.0]])
def test_p3109_registers_match_the_exact_engine(register, mode, a_values):
    """P3109 accumulators: no -0 (an exact zero or a negative value rounded to zero is +0), an
    unsigned register turns negative sums into NaN, SatPropagate keeps finite sums at +-max."""
    accumulator = Accumulator(product=EXACT, accumulator=FloatRegister(fmt=register, rounding=mode))
    a = ops.from_float(np.array(a_values), BINARY32)
    b = ops.from_float(np.ones(len(a_values)), BINARY32)
    assert_engines_agree("dot", a, b, accumulator)
