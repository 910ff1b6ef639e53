"""The compiled Philox4x32-10 twin: Random123 known answers, and the same bits as lpsim.rng."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lpsim import rng
from lpsim.fast import _rng_kernels as R

# Random123 kat_vectors, philox4x32 with 10 rounds: (counter, key) -> output
KNOWN_ANSWERS = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0), (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]

seeds = st.integers(0, 2**64 - 1)
streams = st.integers(0, 2**32 - 1)
indices = st.integers(0, 2**64 - 1)


def test_known_answer_vectors():
    for counter, key, expected in KNOWN_ANSWERS:
        words = R.philox4x32_10(*counter, *key)
        assert tuple(int(w) for w in words) == expected
        assert tuple(int(w) for w in rng.philox4x32_10(*counter, *key)) == expected


@settings(max_examples=60)
@given(seed=seeds, stream=streams, first=st.integers(0, 2**64 - 40), block=st.integers(0, 2**32 - 1))
def test_blocks_match_the_reference(seed, stream, first, block):
    """Blocks of counters first .. first + 32."""
    out = np.empty((33, 4), dtype=np.uint32)
    R.fill_blocks(np.uint64(seed), np.uint64(stream), np.uint64(first), np.uint64(block), out)
    reference = rng.random_block(seed, stream, np.arange(33, dtype=np.uint64) + np.uint64(first), block)
    for w in range(4):
        assert np.array_equal(out[:, w], reference[w].astype(np.uint32))


@settings(max_examples=60)
@given(seed=seeds, stream=streams, index=indices, nbits=st.integers(1, 64), chunk=st.integers(0, 9))
def test_first_bits_and_chunks_match_the_reference(seed, stream, index, nbits, chunk):
    s, i = np.uint64(seed), np.uint64(index)
    assert int(R.first_bits(s, np.uint64(stream), i, nbits)) == rng.random_bits(seed, stream, index, nbits)
    assert int(R.chunk64(s, np.uint64(stream), i, chunk)) == rng.random_chunk64(seed, stream, index, chunk)


@settings(max_examples=40)
@given(seed=seeds, stream=streams, group=st.integers(0, 2**56 - 1), k=st.integers(0, 5))
def test_group_words_match_the_reference(seed, stream, group, k):
    """fill_group_words: word k of the 256 elements of a group, in element order."""
    out = np.empty(256, dtype=np.uint32)
    R.fill_group_words(np.uint64(seed), np.uint64(stream), np.uint64(group), k, out)
    index = np.arange(256, dtype=np.uint64) + np.uint64(256 * group)
    assert np.array_equal(out, rng.element_words(seed, stream, index, k).astype(np.uint32))
