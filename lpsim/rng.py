"""The counter-based random bits behind stochastic rounding (reference implementation).

Algorithm: Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
SC 2011), the generator of cuRAND, JAX and Random123. A computation keyed by ``seed``
(64-bit) and ``stream`` (32-bit) has, for each counter c and block k,

    (W0, W1, W2, W3) = philox4x32_10(counter=(c mod 2**32, c >> 32, stream, k),
                                     key=(seed mod 2**32, seed >> 32))

and one block serves four elements: element ``index`` = 256 a + 64 w + b (0 <= w < 4,
0 <= b < 64) owns word Ww of the blocks of counter c = 64 a + b. Its random bit string is
that word of block 0, then of block 1, ..., most significant bit first (32 bits per
block). Stochastic rounding with r random bits uses the first r bits of the string;
exact-probability rounding reads as many as it needs. Sharing a block four ways makes the
common case (r <= 32) cost a quarter of a Philox call per element; the 64-apart layout lets
a vectorized loop over 64 consecutive counters store the words of 256 consecutive elements
contiguously. The bits depend only on (seed, stream, index, k): not on array chunking,
thread count or engine. ``index`` is the element's flat (C-order) position plus the
``offset`` the caller passes, so a chunk quantized with its offset reproduces the
whole array's bits.

This module is the readable, numpy-vectorized reference; lpsim.fast has the
compiled twin, tested against this one and against Random123's known-answer vectors.
"""

from __future__ import annotations

import numpy as np

PHILOX_M0 = 0xD2511F53
PHILOX_M1 = 0xCD9E8D57
PHILOX_W0 = 0x9E3779B9
PHILOX_W1 = 0xBB67AE85
PHILOX_ROUNDS = 10

MASK32 = 0xFFFFFFFF
MAX_SEED = (1 << 64) - 1
MAX_STREAM = (1 << 32) - 1


def check_seed_stream(seed, stream) -> tuple[int, int]:
    """Validate and return (seed, stream) as Python ints."""
    if type(seed) is int and type(stream) is int and 0 <= seed <= MAX_SEED and 0 <= stream <= MAX_STREAM:
        return seed, stream
    for name, value, top in (("seed", seed, MAX_SEED), ("stream", stream, MAX_STREAM)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an integer in [0, {top}], got {value!r}")
        if not 0 <= int(value) <= top:
            raise ValueError(f"{name} must be in [0, {top}], got {value}")
    return int(seed), int(stream)


def philox4x32_10(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 on arrays (or scalars) of 32-bit words held in uint64. Returns 4 arrays."""
    c0, c1, c2, c3 = (np.asarray(c, dtype=np.uint64) & np.uint64(MASK32) for c in (c0, c1, c2, c3))
    k0 = np.asarray(k0, dtype=np.uint64) & np.uint64(MASK32)
    k1 = np.asarray(k1, dtype=np.uint64) & np.uint64(MASK32)
    m0, m1 = np.uint64(PHILOX_M0), np.uint64(PHILOX_M1)
    mask, shift = np.uint64(MASK32), np.uint64(32)
    for _ in range(PHILOX_ROUNDS):
        p0 = c0 * m0  # < 2**64: 32x32-bit product, no wrap
        p1 = c2 * m1
        c0, c1, c2, c3 = ((p1 >> shift) ^ c1 ^ k0), (p1 & mask), ((p0 >> shift) ^ c3 ^ k1), (p0 & mask)
        k0 = (k0 + np.uint64(PHILOX_W0)) & mask
        k1 = (k1 + np.uint64(PHILOX_W1)) & mask
    return c0, c1, c2, c3


def element_counter(index):
    """(counter, word) of element ``index`` (int or uint64 array): index = 256 a + 64 w + b with
    0 <= w < 4 and 0 <= b < 64 takes word w of the Philox blocks of counter 64 a + b."""
    if isinstance(index, np.ndarray):
        index = index.astype(np.uint64)
        return ((index >> np.uint64(8)) << np.uint64(6)) | (index & np.uint64(63)), (index >> np.uint64(6)) & np.uint64(3)
    return ((index >> 8) << 6) | (index & 63), (index >> 6) & 3


def random_block(seed: int, stream: int, counter, k: int = 0):
    """Block k of the counters ``counter`` (array of non-negative ints): four uint64 arrays W0..W3."""
    counter = np.asarray(counter, dtype=np.uint64)
    seed, stream = check_seed_stream(seed, stream)
    return philox4x32_10(
        counter & np.uint64(MASK32), counter >> np.uint64(32), np.uint64(stream), np.uint64(k),
        np.uint64(seed & MASK32), np.uint64(seed >> 32),
    )


def element_words(seed: int, stream: int, index, k: int = 0) -> np.ndarray:
    """Word k (bits 32k .. 32k + 31) of the random bit strings of the elements ``index``, as uint64."""
    counter, word = element_counter(np.asarray(index, dtype=np.uint64))
    block = np.stack(random_block(seed, stream, counter, k))
    return np.take_along_axis(block, word.astype(np.intp)[None], axis=0)[0]


def philox_words(seed: int, stream: int, counter: int, k: int) -> tuple[int, int, int, int]:
    """Block k of one counter as four Python ints (W0..W3).

    The same function as ``random_block`` for a single counter, on Python ints: the
    exact engine calls it once per element, where numpy scalar arithmetic would be slow.
    """
    c0, c1, c2, c3 = counter & MASK32, (counter >> 32) & MASK32, stream & MASK32, k & MASK32
    k0, k1 = seed & MASK32, (seed >> 32) & MASK32
    for _ in range(PHILOX_ROUNDS):
        p0 = c0 * PHILOX_M0
        p1 = c2 * PHILOX_M1
        c0, c1, c2, c3 = (p1 >> 32) ^ c1 ^ k0, p1 & MASK32, (p0 >> 32) ^ c3 ^ k1, p0 & MASK32
        k0 = (k0 + PHILOX_W0) & MASK32
        k1 = (k1 + PHILOX_W1) & MASK32
    return c0, c1, c2, c3


def element_word(seed: int, stream: int, index: int, k: int) -> int:
    """Word k (bits 32k .. 32k + 31) of one element's random bit string, as a Python int."""
    counter, word = element_counter(int(index))
    return philox_words(seed, stream, counter, k)[word]


def random_bits(seed: int, stream: int, index: int, nbits: int) -> int:
    """The first ``nbits`` random bits of one element, as a Python int (MSB first)."""
    seed, stream = check_seed_stream(seed, stream)
    value, have, k = 0, 0, 0
    while have < nbits:
        value = (value << 32) | element_word(seed, stream, index, k)
        have += 32
        k += 1
    return value >> (have - nbits)


def random_chunk64(seed: int, stream: int, index: int, chunk: int) -> int:
    """64-bit chunk ``chunk`` of one element's random bit string: words 2 chunk and 2 chunk + 1."""
    seed, stream = int(seed), int(stream)
    return (element_word(seed, stream, index, 2 * chunk) << 32) | element_word(seed, stream, index, 2 * chunk + 1)
