"""Stochastic rounding does not depend on chunking: an array encoded whole, or in pieces each
given its offset, gets the same bits (random bits are keyed by the element's flat index)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lpsim import codec
from lpsim.formats import E4M3, BlockFormat, FixedPoint, FloatFormat

from .fast_strategies import stochastic_roundings

FORMATS = [FixedPoint(bits=8, frac_bits=5), FixedPoint(bits=12, scale=0.01), E4M3, FloatFormat(exp_bits=5, man_bits=4)]

cuts = st.lists(st.integers(0, 300), max_size=6).map(sorted)


@settings(max_examples=40)
@given(fmt=st.sampled_from(FORMATS), rounding=stochastic_roundings, seed=st.integers(0, 2**64 - 1),
       stream=st.integers(0, 2**32 - 1), offset=st.integers(0, 2**63), cuts=cuts)
def test_pieces_with_offsets_give_the_whole(fmt, rounding, seed, stream, offset, cuts):
    x = np.random.default_rng(seed % 1000).standard_normal(300)
    whole = codec.encode(x, fmt, rounding, seed=seed, stream=stream, offset=offset)
    bounds = [0, *cuts, x.size]
    pieces = [codec.encode(x[a:b], fmt, rounding, seed=seed, stream=stream, offset=offset + a)
              for a, b in zip(bounds[:-1], bounds[1:])]
    assert np.array_equal(np.concatenate(pieces), whole)
    other_stream = codec.encode(x, fmt, rounding, seed=seed, stream=stream ^ 1, offset=offset)
    assert not np.array_equal(other_stream, whole)  # the key matters (8-bit formats: ~300 stochastic values)


@settings(max_examples=25)
@given(rounding=stochastic_roundings, seed=st.integers(0, 2**64 - 1), axis=st.sampled_from([0, -1]),
       split=st.integers(0, 4), element=st.sampled_from(["e4m3", "int8", "e2m1"]))
def test_block_rows_with_offsets_give_the_whole(rounding, seed, axis, split, element):
    fmt = BlockFormat.mx(element, block_size=4, axis=axis)
    x = np.random.default_rng(seed % 1000).standard_normal((16, 12))
    whole = codec.encode(x, fmt, rounding, seed=seed)
    # contiguous pieces of whole rows; along axis 0 cut only at block boundaries
    cut = split * 4 if axis == 0 else split * 3
    head = codec.encode(x[:cut], fmt, rounding, seed=seed)
    tail = codec.encode(x[cut:], fmt, rounding, seed=seed, offset=cut * x.shape[1])
    assert np.array_equal(np.concatenate([head.elements, tail.elements]), whole.elements)
    assert np.array_equal(np.concatenate([head.scales, tail.scales]), whole.scales)
