"""QArray and BlockCodes behave as arrays: shape, indexing, reshape, transpose, __array__, numpy functions.

Every property is checked against the same numpy operation on the codes and the float64 values.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lpsim
from lpsim.exact import QArray
from lpsim.formats import E4M3, BlockCodes, BlockFormat, FixedPoint

FORMATS = (E4M3, FixedPoint(bits=8, frac_bits=4))


@st.composite
def qarrays(draw, fmt=None):
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    fmt = fmt or draw(st.sampled_from(FORMATS))
    x = np.array(draw(st.lists(st.floats(-8, 8), min_size=int(np.prod(shape)), max_size=int(np.prod(shape)))))
    return QArray.from_float(x.reshape(shape), fmt)


@given(qarrays(), st.data())
def test_indexing_matches_numpy_on_codes_and_values(q, data):
    key = tuple(data.draw(st.one_of(st.integers(-n, n - 1), st.slices(n))) for n in q.shape)
    key = key[: data.draw(st.integers(1, len(key)))]
    part = q[key]
    assert isinstance(part, QArray) and part.fmt == q.fmt
    assert np.array_equal(part.codes, q.codes[key])
    assert np.array_equal(np.asarray(part), np.asarray(q)[key])


@given(qarrays(), st.data())
def test_reshape_transpose_and_shape(q, data):
    assert (q.shape, q.ndim, len(q)) == (q.codes.shape, q.codes.ndim, q.codes.shape[0])
    assert np.array_equal(q.T.codes, q.codes.T) and np.array_equal(np.transpose(q).codes, q.codes.T)
    order = data.draw(st.permutations(range(q.ndim)))
    assert np.array_equal(q.transpose(order).codes, q.codes.transpose(order))
    assert np.array_equal(q.reshape(-1).codes, q.codes.reshape(-1))
    assert np.array_equal(np.reshape(q, (q.size,)).codes, q.codes.reshape(-1))
    values = np.asarray(q)
    assert values.dtype == np.float64 and np.array_equal(values, q.to_float())


@given(qarrays())
def test_reductions_give_float64_results_never_the_qarray(q):
    values = q.to_float()
    for func in (np.sum, np.mean, np.max, np.min, np.prod, np.std):
        result = func(q)
        assert not isinstance(result, QArray)
        assert result == func(values)
    assert np.array_equal(np.sum(q, axis=0), np.sum(values, axis=0))


def test_other_numpy_functions_and_ufuncs_raise_type_error():
    q = QArray.from_float([1.0, 2.0], E4M3)
    with pytest.raises(TypeError, match="numpy.concatenate is not defined on a QArray"):
        np.concatenate([q, q])
    with pytest.raises(TypeError, match="numpy ufunc add is not defined on a QArray"):
        np.add(q, 1)
    with pytest.raises(TypeError, match="ufunc multiply"):
        np.ones(2) * q
    with pytest.raises(TypeError, match="0-d"):
        len(q[0])
    with pytest.raises(ValueError, match="axis 2 is out of range for shape"):
        q.transpose(2)
    assert "values=[1., 2.]" in repr(q) and "e4m3_fn" in repr(q)


MX = BlockFormat.mx("e4m3", block_size=4)


def block_qarray(shape, fmt=MX, seed=0):
    x = np.random.default_rng(seed).normal(size=shape) * np.exp(np.random.default_rng(seed + 1).normal(size=shape) * 3)
    return QArray.from_float(x, fmt)


@pytest.mark.parametrize("axis", [-1, 0, 1, -2])
def test_block_slices_keep_whole_blocks_and_their_scales(axis):
    fmt = BlockFormat.mx("e4m3", block_size=4, axis=axis)
    q = block_qarray((8, 10), fmt)
    block_axis = axis % 2
    whole = [slice(4, 8), slice(0, 4), slice(8, None), slice(None), slice(4, 10)]
    for along in whole:
        if along.start is not None and along.start >= q.shape[block_axis]:
            continue
        for other in (slice(None), slice(1, 3), 2):
            key = (other, along) if block_axis == 1 else (along, other)
            part = q[key]
            assert np.array_equal(np.asarray(part), np.asarray(q)[key])
            # the part's codes re-encode its values to themselves (same blocks, same scales)
            again = lpsim.encode(np.asarray(part), part.fmt, engine="exact")
            assert np.array_equal(again.scales, part.codes.scales)
    for bad in (slice(1, 5), slice(0, 8, 2), 3):
        key = (slice(None), bad) if block_axis == 1 else (bad, slice(None))
        with pytest.raises(IndexError, match="block"):
            q[key]


def test_block_transpose_and_reshape_move_the_scales():
    q = block_qarray((3, 2, 8))
    t = q.T
    assert t.fmt.axis == -3 and np.array_equal(np.asarray(t), np.asarray(q).T)
    assert np.array_equal(t.codes.scales, q.codes.scales.T)
    r = q.reshape(6, 8)
    assert np.array_equal(np.asarray(r), np.asarray(q).reshape(6, 8)) and r.codes.scales.shape == (6, 2)
    with pytest.raises(TypeError, match="regroup blocks"):
        q.reshape(3, 16)
    with pytest.raises(TypeError, match="regroup blocks"):
        t.reshape(8, 6)


def test_block_codes_have_a_shape_and_refuse_indexing_without_a_format():
    codes = lpsim.encode(np.ones((3, 8)), MX)
    assert (codes.shape, codes.ndim, codes.size, len(codes)) == ((3, 8), 2, 24, 3)
    with pytest.raises(TypeError, match="BlockCodes cannot be indexed on their own"):
        codes[0]
    with pytest.raises(TypeError, match="lpsim.decode"):
        np.asarray(codes)
    assert isinstance(BlockCodes(elements=codes.elements, scales=codes.scales).shape, tuple)
