"""Compiled twin of lpsim.rng: Philox4x32-10 random bits for stochastic rounding.

Same definition as ``lpsim.rng`` (read its docstring): block ``k`` of element ``index``
is philox4x32_10(counter=(index mod 2**32, index >> 32, stream, k), key=(seed mod 2**32,
seed >> 32)); the element's bit string is W0 W1 W2 W3 of block 0, then block 1, ...

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
def element_block(seed, stream, index, block):
    """Block ``block`` of element ``index``'s random bits (seed, index: uint64): (W0, W1, W2, W3) uint32."""
    seed = np.uint64(seed)
    index = np.uint64(index)
    return philox4x32_10(index, index >> SHIFT32, stream, block, seed, seed >> SHIFT32)


@jit
def first_bits(seed, stream, index, nbits):
    """The first ``nbits`` (1..64) random bits of element ``index``, as a uint64."""
    w0, w1, _, _ = element_block(seed, stream, index, 0)
    head = (np.uint64(w0) << SHIFT32) | np.uint64(w1)
    return head >> np.uint64(64 - nbits)


@jit
def chunk64(seed, stream, index, chunk):
    """64-bit chunk ``chunk`` of element ``index``'s bit string: W0:W1 (even) or W2:W3 (odd) of block chunk // 2."""
    w0, w1, w2, w3 = element_block(seed, stream, index, chunk >> 1)
    if chunk & 1:
        return (np.uint64(w2) << SHIFT32) | np.uint64(w3)
    return (np.uint64(w0) << SHIFT32) | np.uint64(w1)


@jit
def fill_blocks(seed, stream, first_index, block, out):
    """out[i, :] = block ``block`` of element first_index + i, as uint32 (a batch for tests and benchmarks)."""
    for i in range(out.shape[0]):
        w0, w1, w2, w3 = element_block(seed, stream, np.uint64(first_index) + np.uint64(i), block)
        out[i, 0] = w0
        out[i, 1] = w1
        out[i, 2] = w2
        out[i, 3] = w3
