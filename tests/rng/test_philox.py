"""Philox4x32-10 known-answer vectors (Random123) and the documented random-bit layout."""

from __future__ import annotations

import numpy as np
import pytest

from lpsim import rng

M = 0xFFFFFFFF

# Random123's kat_vectors for philox4x32_10: (counter c0..c3, key k0 k1) -> output words.
KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((M, M, M, M), (M, M), (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    (
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
]


@pytest.mark.parametrize("counter, key, expected", KAT)
def test_philox_known_answers(counter, key, expected):
    assert tuple(int(w) for w in rng.philox4x32_10(*counter, *key)) == expected
    # the same counter and key as (counter, stream, k) and seed
    counter_value = counter[0] | (counter[1] << 32)
    seed = key[0] | (key[1] << 32)
    assert rng.philox_words(seed, counter[2], counter_value, counter[3]) == expected
    words = rng.random_block(seed, counter[2], np.array([counter_value], dtype=np.uint64), counter[3])
    assert tuple(int(w[0]) for w in words) == expected


def test_vectorized_and_scalar_philox_agree():
    seed, stream = 0x0123456789ABCDEF, 0xDEADBEEF
    index = np.array([0, 1, 2**32 - 1, 2**32, 2**40 + 7, 2**64 - 1], dtype=np.uint64)
    for k in (0, 1, 5):
        words = rng.random_block(seed, stream, index, k)
        for j, i in enumerate(index):
            assert rng.philox_words(seed, stream, int(i), k) == tuple(int(w[j]) for w in words)


def test_random_bit_string_layout():
    """Element 256 a + 64 w + b: word Ww of the blocks of counter 64 a + b, block 0 first, MSB first."""
    seed, stream = 42, 7
    for a, w, b in [(0, 0, 0), (0, 3, 63), (48, 1, 57), (2**40 + 3, 2, 5), (2**56 - 1, 3, 63)]:
        index, counter = 256 * a + 64 * w + b, 64 * a + b
        assert rng.element_counter(index) == (counter, w)
        blocks = [rng.philox_words(seed, stream, counter, k) for k in range(8)]
        string = 0
        for block in blocks:
            string = (string << 32) | block[w]
        for nbits in (1, 5, 31, 32, 33, 64, 100, 128, 129, 200, 256):
            assert rng.random_bits(seed, stream, index, nbits) == string >> (256 - nbits)
        for chunk in range(4):
            assert rng.random_chunk64(seed, stream, index, chunk) == (blocks[2 * chunk][w] << 32) | blocks[2 * chunk + 1][w]
        for k in (0, 1, 7):
            assert rng.element_word(seed, stream, index, k) == blocks[k][w]


def test_vectorized_element_words_match_the_scalar_ones():
    seed, stream = 0x0123456789ABCDEF, 5
    index = np.array([0, 1, 63, 64, 65, 255, 256, 2**32 + 70, 2**64 - 1], dtype=np.uint64)
    for k in (0, 3):
        words = rng.element_words(seed, stream, index, k)
        assert [int(v) for v in words] == [rng.element_word(seed, stream, int(i), k) for i in index]


def test_one_block_serves_four_elements():
    """The four words of a block go to four distinct elements, and every element gets exactly one word."""
    index = np.arange(4096, dtype=np.uint64)
    counter, word = rng.element_counter(index)
    pairs = set(zip(counter.tolist(), word.tolist()))
    assert len(pairs) == 4096 and set(counter.tolist()) == set(range(1024)) and set(word.tolist()) == {0, 1, 2, 3}


def test_bits_depend_on_every_key_part():
    base = rng.random_bits(1, 2, 3, 64)
    assert len({base, rng.random_bits(2, 2, 3, 64), rng.random_bits(1, 3, 3, 64), rng.random_bits(1, 2, 4, 64),
                rng.random_bits(1 + 2**32, 2, 3, 64), rng.random_bits(1, 2, 3 + 2**32, 64)}) == 6


def test_random_words_look_uniform():
    """Each of the 32 bit positions of W0 over 4096 consecutive indices: a fair coin.

    Binomial(4096, 1/2) has std 32; z = 5 allows |ones - 2048| <= 160.
    """
    words = rng.random_block(9, 0, np.arange(4096, dtype=np.uint64), 0)
    for w in words:
        bits = (w[:, None] >> np.arange(32, dtype=np.uint64)) & np.uint64(1)
        ones = bits.sum(axis=0).astype(np.int64)
        assert np.all(np.abs(ones - 2048) <= 160)


@pytest.mark.parametrize(
    "seed, stream, exc, words",
    [
        (-1, 0, ValueError, ["seed", "[0, 18446744073709551615]"]),
        (2**64, 0, ValueError, ["seed"]),
        (0, 2**32, ValueError, ["stream", "[0, 4294967295]"]),
        (1.5, 0, TypeError, ["seed", "integer"]),
        (True, 0, TypeError, ["seed"]),
        (0, "a", TypeError, ["stream"]),
    ],
)
def test_seed_and_stream_are_validated(seed, stream, exc, words):
    with pytest.raises(exc) as info:
        rng.check_seed_stream(seed, stream)
    for word in words:
        assert word in str(info.value)


def test_elements_sharing_a_block_round_independently():
    """Elements i and i + 64 read two words of one Philox block: their stochastic rounding
    decisions (probability 1/2 each) must agree about half the time, not always.
    16384 pairs: agreement ~ Binomial(16384, 1/2) / 16384, std 0.0039; z = 5 allows 0.0195."""
    import lpsim
    from lpsim.formats import FixedPoint

    codes = lpsim.encode(np.full(4 * 16384, 0.5), FixedPoint(bits=8, frac_bits=0), "stochastic", seed=11)
    groups = codes.reshape(-1, 4, 64)  # [a, w, b]: element 256 a + 64 w + b
    for w in (1, 2, 3):
        agreement = np.mean(groups[:, 0, :] == groups[:, w, :])
        assert abs(agreement - 0.5) < 0.0195
    assert abs(np.mean(codes) - 0.5) < 5 * 0.5 / np.sqrt(codes.size)
