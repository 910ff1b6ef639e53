"""Compiled twin of lpsim.rng: Philox4x32-10 random bits for stochastic rounding.

Same definition as ``lpsim.rng`` (read its docstring): block ``k`` of counter c is
philox4x32_10(counter=(c mod 2**32, c >> 32, stream, k), key=(seed mod 2**32, seed >> 32));
element 256 a + 64 w + b owns word Ww of counter 64 a + b's blocks, so its bit string is
that word of block 0, then of block 1, ...

Words are uint32 and each product is widened to uint64 explicitly: in that form LLVM
vectorizes a loop of Philox calls over elements (AVX2 vpmuludq, 4 elements per
instruction), about 7x faster than the same rounds on uint64-held words here.
"""

from __future__ import annotations

import numpy as np

from ._config import jit

M0 = np.uint64(0xD2511F53)
M1 = np.uint64(0xCD9E8D57)
KEY_STEP0 = np.uint32(0x9E3779B9)
KEY_STEP1 = np.uint32(0xBB67AE85)
SHIFT32 = np.uint64(32)


@jit(inline="always")
def philox4x32_10(c0, c1, c2, c3, k0, k1):
    """Ten Philox rounds; arguments are taken mod 2**32. Returns (W0, W1, W2, W3) as uint32."""
    # explicit casts: a Python int argument arrives as int64, and int64 op uint64 is float64 in Numba
    x0, x1, x2, x3 = np.uint32(c0), np.uint32(c1), np.uint32(c2), np.uint32(c3)
    a0, a1 = np.uint32(k0), np.uint32(k1)
    for _ in range(10):
        p0 = np.uint64(x0) * M0
        p1 = np.uint64(x2) * M1
        x0, x1, x2, x3 = (
            np.uint32(np.uint32(p1 >> SHIFT32) ^ x1 ^ a0),
            np.uint32(p1),
            np.uint32(np.uint32(p0 >> SHIFT32) ^ x3 ^ a1),
            np.uint32(p0),
        )
        # Numba widens uint32 + uint32 to 64 bits: wrap back to 32 explicitly
        a0 = np.uint32(a0 + KEY_STEP0)
        a1 = np.uint32(a1 + KEY_STEP1)
    return x0, x1, x2, x3


@jit(inline="always")
def counter_block(seed, stream, counter, block):
    """Block ``block`` of ``counter`` (seed, counter: uint64): (W0, W1, W2, W3) uint32."""
    seed = np.uint64(seed)
    counter = np.uint64(counter)
    return philox4x32_10(counter, counter >> SHIFT32, stream, block, seed, seed >> SHIFT32)


@jit(inline="always")
def element_word(seed, stream, index, k):
    """Word ``k`` (bits 32k .. 32k + 31) of element ``index``'s random bit string, as uint32."""
    index = np.uint64(index)
    counter = ((index >> np.uint64(8)) << np.uint64(6)) | (index & np.uint64(63))
    w0, w1, w2, w3 = counter_block(seed, stream, counter, k)
    word = (index >> np.uint64(6)) & np.uint64(3)
    return w0 if word == 0 else (w1 if word == 1 else (w2 if word == 2 else w3))


@jit
def first_bits(seed, stream, index, nbits):
    """The first ``nbits`` (1..64) random bits of element ``index``, as a uint64."""
    head = np.uint64(element_word(seed, stream, index, 0))
    if nbits <= 32:
        return head >> np.uint64(32 - nbits)
    head = (head << SHIFT32) | np.uint64(element_word(seed, stream, index, 1))
    return head >> np.uint64(64 - nbits)


@jit
def chunk64(seed, stream, index, chunk):
    """64-bit chunk ``chunk`` of element ``index``'s bit string: its words 2 chunk and 2 chunk + 1."""
    k = 2 * chunk
    return (np.uint64(element_word(seed, stream, index, k)) << SHIFT32) | np.uint64(element_word(seed, stream, index, k + 1))


GROUP = 256  # elements served by one run of 64 consecutive counters


@jit(inline="always")
def fill_group_words(seed, stream, group, k, words):
    """words[0:256] = word k of elements 256 group .. 256 group + 255 (uint32): one Philox call
    per 4 elements, stored as 4 contiguous runs of 64, so the loop vectorizes."""
    base = np.uint64(group) << np.uint64(6)
    for b in range(64):
        w0, w1, w2, w3 = counter_block(seed, stream, base + np.uint64(b), k)
        words[b] = w0
        words[64 + b] = w1
        words[128 + b] = w2
        words[192 + b] = w3


@jit
def fill_blocks(seed, stream, first_counter, block, out):
    """out[i, :] = block ``block`` of counter first_counter + i, as uint32 (a batch for tests and benchmarks)."""
    for i in range(out.shape[0]):
        w0, w1, w2, w3 = counter_block(seed, stream, np.uint64(first_counter) + np.uint64(i), block)
        out[i, 0] = w0
        out[i, 1] = w1
        out[i, 2] = w2
        out[i, 3] = w3
