"""Batched matmul (numpy's matmul shapes): the fast engine gives the exact engine's codes and
exceptions for batch axes of any size (0 and 1 included), broadcast batches and 1-D operands;
independent oracles (numpy float32 sequential sums, Python integers); random indices follow
the flat output index, so a batch split into parts reproduces the whole."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lpsim import ops
from lpsim.exact import QArray
from lpsim.fast import threads
from lpsim.formats import BFLOAT16, BINARY16, BINARY32, E4M3, FixedPoint

from .strategies import Accumulator, FloatRegister, IntRegister, assert_engines_agree, qarrays
from .test_mac import KEYS, OPERANDS, float_accumulators, int_accumulators

INT8 = FixedPoint(bits=8, frac_bits=0)
UINT8 = FixedPoint(bits=8, signed=False, frac_bits=0)


@pytest.fixture(autouse=True)
def every_call_parallel(monkeypatch):
    """Let small test shapes use the requested threads (the kernels otherwise run small work on one)."""
    monkeypatch.setattr(threads, "SMALL_WORK", 0)


@st.composite
def batched_shapes(draw):
    """Shapes of a and b that matmul takes: batch axes that broadcast (sizes 0 to 2), 1-D operands."""
    m, n, p = draw(st.integers(0, 3)), draw(st.integers(0, 12)), draw(st.integers(0, 3))
    batch = draw(st.lists(st.integers(0, 2), max_size=2))
    a_batch = [size if draw(st.booleans()) else 1 for size in batch][draw(st.integers(0, len(batch))):]
    b_batch = [size if draw(st.booleans()) else 1 for size in batch][draw(st.integers(0, len(batch))):]
    a_shape = (n,) if draw(st.integers(0, 5)) == 0 else tuple(a_batch) + (m, n)
    b_shape = (n,) if draw(st.integers(0, 5)) == 0 else tuple(b_batch) + (n, p)
    return a_shape, b_shape


@settings(max_examples=40, deadline=None)
@given(data=st.data(), shapes=batched_shapes(), a_fmt=st.sampled_from(OPERANDS), b_fmt=st.sampled_from(OPERANDS),
       accumulator=float_accumulators(), n_threads=st.sampled_from([1, 2]), **KEYS)
def test_batched_float_registers_match_the_exact_engine(data, shapes, a_fmt, b_fmt, accumulator, n_threads, seed,
                                                         stream, offset):
    if accumulator is None:
        return
    a, b = data.draw(qarrays(a_fmt, shapes[0])), data.draw(qarrays(b_fmt, shapes[1]))
    out = data.draw(st.one_of(st.none(), st.just(BINARY16), st.just(INT8)))
    with threads.using_threads(n_threads):
        assert_engines_agree("matmul", a, b, accumulator, out, "stochastic", seed=seed, stream=stream, offset=offset)


@settings(max_examples=25, deadline=None)
@given(data=st.data(), shapes=batched_shapes(), a_fmt=st.sampled_from([INT8, UINT8]),
       b_fmt=st.sampled_from([INT8, UINT8]), accumulator=int_accumulators(), n_threads=st.sampled_from([1, 2]))
def test_batched_integer_registers_match_the_exact_engine(data, shapes, a_fmt, b_fmt, accumulator, n_threads):
    if accumulator is None:
        return
    a, b = data.draw(qarrays(a_fmt, shapes[0])), data.draw(qarrays(b_fmt, shapes[1]))
    with threads.using_threads(n_threads):
        assert_engines_agree("matmul", a, b, accumulator)


def _float_values(rng, shape, fmt):
    return QArray.from_float(rng.standard_normal(shape) * 8.0, fmt)


@settings(max_examples=25, deadline=None)
@given(fmt=st.sampled_from([E4M3, BFLOAT16, BINARY16]), batch=st.integers(1, 3), m=st.integers(1, 4),
       n=st.integers(1, 200), p=st.integers(1, 4), shared=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_batched_fp32_equals_numpy_float32_running_sums(fmt, batch, m, n, p, shared, seed):
    rng = np.random.default_rng(seed)
    a = _float_values(rng, (batch, m, n), fmt)
    b = _float_values(rng, (n, p) if shared else (batch, n, p), fmt)
    got = ops.to_float(ops.matmul(a, b, Accumulator(accumulator=FloatRegister(fmt=BINARY32))))
    bv = np.broadcast_to(ops.to_float(b), (batch, n, p))
    products = (ops.to_float(a)[:, :, :, None] * bv[:, None, :, :]).astype(np.float32)  # exact in float32
    expected = np.add.accumulate(products, axis=2, dtype=np.float32)[:, :, -1, :]
    np.testing.assert_array_equal(got.astype(np.float32).view(np.uint32), expected.view(np.uint32))


@settings(max_examples=25, deadline=None)
@given(batch=st.integers(0, 3), m=st.integers(1, 3), n=st.integers(0, 100), p=st.integers(1, 3),
       seed=st.integers(0, 2**32 - 1))
def test_batched_integer_paths_equal_python_integers(batch, m, n, p, seed):
    rng = np.random.default_rng(seed)
    a = QArray(codes=rng.integers(0, 256, (batch, m, n)).astype(np.uint8), fmt=UINT8)
    b = QArray(codes=rng.integers(-128, 128, (1, n, p)).astype(np.int8), fmt=INT8)
    saturating = Accumulator(accumulator=IntRegister(bits=20, overflow="saturate"))
    got = ops.matmul(a, b, saturating).codes
    assert got.shape == (batch, m, p)
    for t in range(batch):
        for i in range(m):
            for k in range(p):
                clamped = 0
                for j in range(n):
                    clamped = min(max(clamped + int(a.codes[t, i, j]) * int(b.codes[0, j, k]), -(1 << 19)), (1 << 19) - 1)
                assert int(got[t, i, k]) == clamped


@pytest.mark.parametrize("engine", ["fast", "exact"])
def test_batch_elements_draw_at_their_flat_output_index(engine):
    """A stochastic batched matmul equals its batch elements computed one by one, each passed
    offset = its first flat output index (batch element t of (m, p) outputs: offset + t * m * p)."""
    rng = np.random.default_rng(5)
    a, b = _float_values(rng, (3, 2, 9), E4M3), _float_values(rng, (3, 9, 4), E4M3)
    stochastic = Accumulator(accumulator=FloatRegister(fmt=BFLOAT16, rounding="stochastic"))
    whole = ops.matmul(a, b, stochastic, out=BINARY16, rounding="stochastic", seed=11, offset=7, engine=engine)
    for t in range(3):
        part = ops.matmul(a[t], b[t], stochastic, out=BINARY16, rounding="stochastic", seed=11, offset=7 + t * 8,
                          engine=engine)
        np.testing.assert_array_equal(whole.codes[t], part.codes)


def test_batch_results_do_not_depend_on_the_thread_count():
    rng = np.random.default_rng(9)
    a, b = _float_values(rng, (2, 17, 40), E4M3), _float_values(rng, (2, 40, 30), E4M3)
    stochastic = Accumulator(accumulator=FloatRegister(fmt=BFLOAT16, rounding="stochastic"))
    for accumulator in ("fp8_fp32", stochastic):
        runs = []
        for n_threads in (1, 2):
            with threads.using_threads(n_threads):
                runs.append(ops.matmul(a, b, accumulator, seed=3).codes)
        np.testing.assert_array_equal(runs[0], runs[1])


@pytest.mark.parametrize("a_shape, b_shape, message", [
    ((2, 3, 4), (2, 5, 6), r"inner dimensions differ: a \(e4m3_fn\) has shape \(2, 3, 4\), b \(e4m3_fn\) has shape "
                           r"\(2, 5, 6\) \(axis -1 of a has 4, axis -2 of b has 5\)"),
    ((3, 2, 4), (2, 4, 6), r"batch dimensions do not broadcast: a \(e4m3_fn\) has shape \(3, 2, 4\), b \(e4m3_fn\) "
                           r"has shape \(2, 4, 6\) \(axis -3 of a has 3, axis -3 of b has 2\)"),
    ((4,), (5,), r"inner dimensions differ.*axis -1 of a has 4, axis 0 of b has 5"),
    ((), (5,), r"operand a must have at least 1 dimension, got shape \(\)"),
])
def test_batched_shape_mismatch_names_both_shapes_and_the_axis(a_shape, b_shape, message):
    a, b = ops.from_float(np.ones(a_shape), E4M3), ops.from_float(np.ones(b_shape), E4M3)
    for engine in ("fast", "exact"):
        with pytest.raises(ValueError, match=message):
            ops.matmul(a, b, "fp8_fp32", engine=engine)


def test_batched_overflow_names_the_output_with_its_batch_index():
    a = QArray(codes=np.full((2, 2, 4), 1, dtype=np.int8), fmt=INT8)
    b = QArray(codes=np.full((2, 4, 3), 1, dtype=np.int8), fmt=INT8)
    b_codes = b.codes.copy()
    b_codes[1, :, 2] = 127
    a_codes = a.codes.copy()
    a_codes[1, 0, :] = 127
    a, b = QArray(codes=a_codes, fmt=INT8), QArray(codes=b_codes, fmt=INT8)
    tight = Accumulator(accumulator=IntRegister(bits=16, overflow="error"))
    for engine in ("fast", "exact"):
        with pytest.raises(OverflowError, match=r"output \(1, 0, 2\)"):
            ops.matmul(a, b, tight, engine=engine)


def test_nn_matmul_takes_a_batch_with_the_same_bits_as_its_elements():
    """lpsim.nn's one matrix product accepts batched operands (as numpy's @ does); each batch element
    gets the bits of its own 2-D product, so layers calling it in 2-D keep their results."""
    from lpsim.nn import Mac, matmul as nn_matmul

    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((3, 5, 16)), rng.standard_normal((16, 4))
    mac = Mac(accumulator=Accumulator(accumulator=FloatRegister(fmt=BFLOAT16)), inputs=(E4M3, E4M3))
    batched = nn_matmul(x, w, mac)
    assert batched.shape == (3, 5, 4)
    for t in range(3):
        np.testing.assert_array_equal(batched[t], nn_matmul(x[t], w, mac))
    np.testing.assert_array_equal(nn_matmul(x, w), x @ w)


@pytest.mark.parametrize("a_shape, b_shape", [((2, 3, 2), (2, 4)), ((2, 3, 2), (2, 2, 4)), ((2,), (2, 2, 4)),
                                              ((2, 1, 3, 2), (1, 3, 2, 2)), ((2, 3, 2), (2,))])
def test_batched_block_formats_match_the_exact_engine(a_shape, b_shape):
    """Block formats slice whole blocks: a batch of them folds or splits like any other format."""
    import attrs

    from .strategies import BLOCK_FORMATS

    rng = np.random.default_rng(2)
    for fmt in BLOCK_FORMATS:
        k = 2 * fmt.block_size  # the reduction axis holds whole blocks
        a_dims, b_dims = a_shape[:-1] + (k,), (b_shape[:-2] + (k, b_shape[-1])) if len(b_shape) > 1 else (k,)
        a = QArray.from_float(rng.standard_normal(a_dims), fmt)
        b = QArray.from_float(rng.standard_normal(b_dims), fmt if len(b_dims) == 1 else attrs.evolve(fmt, axis=-2))
        bf16 = Accumulator(accumulator=FloatRegister(fmt=BFLOAT16))
        assert assert_engines_agree("matmul", a, b, bf16, out=BINARY32)[0] == "ok"
