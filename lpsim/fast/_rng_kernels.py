"""Compiled twin of lpsim.rng: counter-based random bits for stochastic rounding.

Same definition as ``lpsim.rng`` (read its docstring): block ``k`` of counter c is
philox4x32_10(counter=(c mod 2**32, c >> 32, stream, k), key=(seed mod 2**32, seed >> 32));
element 256 a + 64 w + b owns word Ww of counter 64 a + b's blocks, so its bit string is
that word of block 0, then of block 1, ...

Words are uint32 and each product is widened to uint64 explicitly: in that form LLVM
vectorizes a loop of Philox calls over elements (AVX2 vpmuludq, 4 elements per
instruction), about 7x faster than the same rounds on uint64-held words here.

The generator (lpsim.formats.rounding.RandomGenerator) travels inside the ``stream``
argument every kernel already passes: bits 0..31 are the stream, bits 32 and up the
generator's code (``source_word``). Philox4x32-10 has code 0, so a plain stream means the
default generator and its bits are unchanged; no kernel signature had to grow.
"""

from __future__ import annotations

import numpy as np
from numba import types
from numba.extending import intrinsic

from .. import rng
from ._codes import GEN_HASH32, GEN_PHILOX7, GEN_PHILOX10, GEN_SPLITMIX64, GEN_XOROSHIRO128AOX
from ._config import jit

# the generators' constants are defined once, in lpsim.rng; here they take the kernels' widths
M0, M1, GAMMA, MIX_M1, MIX_M2 = (np.uint64(v) for v in (rng.PHILOX_M0, rng.PHILOX_M1, rng.SPLITMIX_GAMMA,
                                                         rng.SPLITMIX_M1, rng.SPLITMIX_M2))
KEY_STEP0, KEY_STEP1, FMIX_M1, FMIX_M2, HASH32_HIGH = (np.uint32(v) for v in (rng.PHILOX_W0, rng.PHILOX_W1,
                                                                              rng.FMIX32_M1, rng.FMIX32_M2,
                                                                              rng.HASH32_HIGH))
SHIFT32 = np.uint64(32)
MASK32 = np.uint64(rng.MASK32)
ROT_A, SHIFT_B, ROT_C = rng.XOROSHIRO_A, rng.XOROSHIRO_B, rng.XOROSHIRO_C
RUN = rng.XOROSHIRO_RUN


def source_word(stream: int, generator_code: int) -> np.uint64:
    """The kernels' ``stream`` argument: stream in bits 0..31, generator code above (0 = Philox4x32-10)."""
    return np.uint64((int(generator_code) << 32) | (int(stream) & 0xFFFFFFFF))


@jit(inline="always")
def philox4x32_10(c0, c1, c2, c3, k0, k1):
    """Ten Philox rounds; arguments are taken mod 2**32. Returns (W0, W1, W2, W3) as uint32."""
    return philox_rounds(c0, c1, c2, c3, k0, k1, 10)


@jit(inline="always")
def philox_rounds(c0, c1, c2, c3, k0, k1, rounds):
    """``rounds`` Philox4x32 rounds (a compile-time constant at every call site)."""
    # explicit casts: a Python int argument arrives as int64, and int64 op uint64 is float64 in Numba
    x0, x1, x2, x3 = np.uint32(c0), np.uint32(c1), np.uint32(c2), np.uint32(c3)
    a0, a1 = np.uint32(k0), np.uint32(k1)
    for _ in range(rounds):
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
def mix64(z):
    """SplitMix64's output function (a bijection of uint64)."""
    z = np.uint64(z)
    z = (z ^ (z >> np.uint64(30))) * MIX_M1
    z = (z ^ (z >> np.uint64(27))) * MIX_M2
    return z ^ (z >> np.uint64(31))


def fixed_width_binop(name, width_type):
    """An intrinsic: the LLVM instruction ``name`` on both arguments cast to ``width_type``, typed
    ``width_type`` (Numba itself would widen a 32-bit operation to 64 bits)."""
    @intrinsic
    def op(typingctx, a, b):
        def codegen(context, builder, signature, args):
            x, y = (context.cast(builder, v, t, width_type) for v, t in zip(args, signature.args))
            return getattr(builder, name)(x, y)

        return width_type(a, b), codegen

    return op


# uint32 operations that stay 32-bit: Numba widens uint32 arithmetic to 64 bits, which halves the
# lanes per vector and has no AVX2 multiply, and LLVM does not narrow it back (the hash ran ~4x slower)
mul_u32 = fixed_width_binop("mul", types.uint32)  # low 32 bits of the product
add_u32 = fixed_width_binop("add", types.uint32)  # wraps mod 2**32
xor_u32 = fixed_width_binop("xor", types.uint32)
shr_u32 = fixed_width_binop("lshr", types.uint32)  # shift count in [0, 31]


@jit(inline="always")
def fmix32(h):
    """MurmurHash3's 32-bit finalizer (a bijection of uint32)."""
    h = np.uint32(h)
    h = mul_u32(xor_u32(h, shr_u32(h, 16)), FMIX_M1)
    h = mul_u32(xor_u32(h, shr_u32(h, 13)), FMIX_M2)
    return xor_u32(h, shr_u32(h, 16))


@jit(inline="always")
def stream_key(seed, stream, block):
    """The hash generators' 64-bit key of (seed, stream mod 2**32, block)."""
    return mix64(np.uint64(seed) ^ mix64(((np.uint64(stream) & MASK32) << SHIFT32) | (np.uint64(block) & MASK32)))


@jit(inline="always")
def philox10_block(seed, stream, counter, block):
    seed = np.uint64(seed)
    counter = np.uint64(counter)
    return philox_rounds(counter, counter >> SHIFT32, np.uint64(stream) & MASK32, block, seed, seed >> SHIFT32, 10)


@jit(inline="always")
def philox7_block(seed, stream, counter, block):
    seed = np.uint64(seed)
    counter = np.uint64(counter)
    return philox_rounds(counter, counter >> SHIFT32, np.uint64(stream) & MASK32, block, seed, seed >> SHIFT32, 7)


@jit(inline="always")
def splitmix_pair(key, counter):
    """SplitMix64's outputs z_0, z_1 of ``counter`` under ``key`` (uint64)."""
    n = np.uint64(counter) << np.uint64(1)
    return mix64(key + (n + np.uint64(1)) * GAMMA), mix64(key + (n + np.uint64(2)) * GAMMA)


@jit(inline="always")
def splitmix64_block(seed, stream, counter, block):
    z0, z1 = splitmix_pair(stream_key(seed, stream, block), counter)
    return np.uint32(z0 >> SHIFT32), np.uint32(z0), np.uint32(z1 >> SHIFT32), np.uint32(z1)


# -- xoroshiro128aox: four lanes per group of 64 counters, each a 32-step run (lpsim.rng) -----------


@jit(inline="always")
def rotl64(x, r):
    return (x << np.uint64(r)) | (x >> np.uint64(64 - r))


@jit(inline="always")
def aox(s0, s1):
    s0, s1 = np.uint64(s0), np.uint64(s1)  # a Python int arrives as int64
    both = s0 & s1
    return s0 ^ s1 ^ (rotl64(both, 1) | rotl64(both, 2))


@jit(inline="always")
def xoroshiro_step(s0, s1):
    s0, s1 = np.uint64(s0), np.uint64(s1)
    t = s0 ^ s1
    return rotl64(s0, ROT_A) ^ t ^ (t << np.uint64(SHIFT_B)), rotl64(t, ROT_C)


# not inlined (here and in the group fill): every kernel that reads random bits contains the
# generator dispatch, and a call keeps the xoroshiro loops out of their compiled code
@jit
def xoroshiro_word(seed, stream, counter, lane, block):
    """Word ``lane`` of block ``block`` of ``counter`` (random access: up to 31 steps), as uint32."""
    counter = np.uint64(counter)
    s0, s1 = splitmix_pair(stream_key(seed, stream, block), ((counter >> np.uint64(6)) << np.uint64(2)) | np.uint64(lane))
    for _ in range((counter & np.uint64(63)) >> np.uint64(1)):
        s0, s1 = xoroshiro_step(s0, s1)
    x = aox(s0, s1)
    return np.uint32(x) if counter & np.uint64(1) else np.uint32(x >> SHIFT32)


@jit(inline="always")
def xoroshiro_block(seed, stream, counter, block):
    return (xoroshiro_call(seed, stream, counter, 0, block), xoroshiro_call(seed, stream, counter, 1, block),
            xoroshiro_call(seed, stream, counter, 2, block), xoroshiro_call(seed, stream, counter, 3, block))


@jit(inline="always")
def xoroshiro_call(seed, stream, counter, lane, block):
    """xoroshiro_word with its arguments at one type: a constant lane or block would compile a
    version of it for each value."""
    return xoroshiro_word(np.uint64(seed), np.uint64(stream), np.uint64(counter), np.uint64(lane), np.int64(block))


@jit(inline="always")
def xoroshiro_lanes(key, group):
    """The four lanes' first states (a0, a1, b0, b1, c0, c1, d0, d1) of ``group`` (64 counters)."""
    lane = np.uint64(group) << np.uint64(2)
    a0, a1 = splitmix_pair(key, lane)
    b0, b1 = splitmix_pair(key, lane + np.uint64(1))
    c0, c1 = splitmix_pair(key, lane + np.uint64(2))
    d0, d1 = splitmix_pair(key, lane + np.uint64(3))
    return a0, a1, b0, b1, c0, c1, d0, d1


@jit(inline="always")
def xoroshiro_step4(a0, a1, b0, b1, c0, c1, d0, d1):
    """One step of all four lanes (independent chains: the CPU overlaps them)."""
    a0, a1 = xoroshiro_step(a0, a1)
    b0, b1 = xoroshiro_step(b0, b1)
    c0, c1 = xoroshiro_step(c0, c1)
    d0, d1 = xoroshiro_step(d0, d1)
    return a0, a1, b0, b1, c0, c1, d0, d1


@jit
def _fill_group_xoroshiro(seed, stream, group, k, words):
    a0, a1, b0, b1, c0, c1, d0, d1 = xoroshiro_lanes(stream_key(seed, stream, k), group)
    for j in range(RUN):
        xa, xb, xc, xd = aox(a0, a1), aox(b0, b1), aox(c0, c1), aox(d0, d1)
        words[2 * j], words[2 * j + 1] = np.uint32(xa >> SHIFT32), np.uint32(xa)
        words[64 + 2 * j], words[65 + 2 * j] = np.uint32(xb >> SHIFT32), np.uint32(xb)
        words[128 + 2 * j], words[129 + 2 * j] = np.uint32(xc >> SHIFT32), np.uint32(xc)
        words[192 + 2 * j], words[193 + 2 * j] = np.uint32(xd >> SHIFT32), np.uint32(xd)
        a0, a1, b0, b1, c0, c1, d0, d1 = xoroshiro_step4(a0, a1, b0, b1, c0, c1, d0, d1)


@jit(inline="always")
def hash32_block(seed, stream, counter, block):
    key = stream_key(seed, stream, block)
    low, high_key = np.uint32(key), np.uint32(key >> SHIFT32)
    counter = np.uint64(counter)
    n = np.uint32(counter << np.uint64(2))
    high = xor_u32(mul_u32(np.uint32(counter >> np.uint64(30)), HASH32_HIGH), high_key)
    first = add_u32(n, low)
    return (fmix32(xor_u32(fmix32(first), high)),
            fmix32(xor_u32(fmix32(add_u32(first, 1)), high)),
            fmix32(xor_u32(fmix32(add_u32(first, 2)), high)),
            fmix32(xor_u32(fmix32(add_u32(first, 3)), high)))


@jit(inline="always")
def generator_code(stream):
    return np.int64(np.uint64(stream) >> SHIFT32)


@jit(inline="always")
def counter_block(seed, stream, counter, block):
    """Block ``block`` of ``counter`` (seed, counter: uint64) by the generator named in ``stream``'s
    high bits: (W0, W1, W2, W3) uint32."""
    code = generator_code(stream)
    if code == GEN_PHILOX10:
        return philox10_block(seed, stream, counter, block)
    if code == GEN_PHILOX7:
        return philox7_block(seed, stream, counter, block)
    if code == GEN_SPLITMIX64:
        return splitmix64_block(seed, stream, counter, block)
    if code == GEN_HASH32:
        return hash32_block(seed, stream, counter, block)
    if code == GEN_XOROSHIRO128AOX:
        return xoroshiro_block(seed, stream, counter, block)
    return philox10_block(seed, stream, counter, block)  # unreachable: source_word checks the code


@jit(inline="always")
def element_word(seed, stream, index, k):
    """Word ``k`` (bits 32k .. 32k + 31) of element ``index``'s random bit string, as uint32."""
    index = np.uint64(index)
    counter = ((index >> np.uint64(8)) << np.uint64(6)) | (index & np.uint64(63))
    word = (index >> np.uint64(6)) & np.uint64(3)
    if generator_code(stream) == GEN_XOROSHIRO128AOX:  # only the element's own lane
        return xoroshiro_call(seed, stream, counter, word, k)
    w0, w1, w2, w3 = counter_block(seed, stream, counter, k)
    return w0 if word == 0 else (w1 if word == 1 else (w2 if word == 2 else w3))


@jit
def first_bits(seed, stream, index, nbits):
    """The first ``nbits`` (1..64) random bits of element ``index``, as a uint64."""
    words = 1 if nbits <= 32 else 2
    head = np.uint64(0)
    for k in range(words):  # one call site: each inlines every generator (seconds of compile time)
        head = (head << SHIFT32) | np.uint64(element_word(seed, stream, index, k))
    return head >> np.uint64(32 * words - nbits)


@jit
def chunk64(seed, stream, index, chunk):
    """64-bit chunk ``chunk`` of element ``index``'s bit string: its words 2 chunk and 2 chunk + 1."""
    head = np.uint64(0)
    for k in range(2 * chunk, 2 * chunk + 2):  # one call site, as in first_bits
        head = (head << SHIFT32) | np.uint64(element_word(seed, stream, index, k))
    return head


GROUP = 256  # elements served by one run of 64 consecutive counters


@jit(inline="always")
def fill_group_words(seed, stream, group, k, words):
    """words[0:256] = word k of elements 256 group .. 256 group + 255 (uint32): one block call
    per 4 elements, stored as 4 contiguous runs of 64, so the loop vectorizes (xoroshiro128aox:
    its four lanes' runs, stepped together)."""
    base = np.uint64(group) << np.uint64(6)
    # one loop per generator: a branch inside the loop would keep it from vectorizing
    code = generator_code(stream)
    if code == GEN_PHILOX10:
        _fill_group(philox10_block, seed, stream, base, k, words)
    elif code == GEN_PHILOX7:
        _fill_group(philox7_block, seed, stream, base, k, words)
    elif code == GEN_SPLITMIX64:
        _fill_group(splitmix64_block, seed, stream, base, k, words)
    elif code == GEN_HASH32:
        _fill_group(hash32_block, seed, stream, base, k, words)
    elif code == GEN_XOROSHIRO128AOX:
        _fill_group_xoroshiro(seed, stream, group, np.int64(k), words)  # one version for every k


@jit(inline="always")
def _fill_group(block_of, seed, stream, base, k, words):
    for b in range(64):
        w0, w1, w2, w3 = block_of(seed, stream, base + np.uint64(b), k)
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
