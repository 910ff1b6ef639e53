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

Other generators (``generator=``, a lpsim.formats.rounding.RandomGenerator) replace only
the block function, a keyed map from (seed, stream, counter, k) to four 32-bit words; the
element layout above is the same for all of them, so every generator is counter-based,
chunking- and engine-independent in the same way:

- ``philox7``: Philox4x32 with 7 rounds (Random123 counts 7 as the fewest rounds that pass
  BigCrush) on the same counter and key words.
- ``splitmix64``: the SplitMix64 output function (Steele, Lea and Flood, OOPSLA 2014) applied
  to a keyed Weyl sequence: with base = mix64(seed ^ mix64(stream * 2**32 + k)) and
  z_j = mix64(base + (2 counter + j + 1) * GAMMA) for j = 0, 1, the block is
  (hi z_0, lo z_0, hi z_1, lo z_1).
- ``hash32``: a 32-bit multiply-xorshift hash (MurmurHash3's finalizer, applied twice) of a
  32-bit counter: with key = mix64(seed ^ mix64(stream * 2**32 + k)) and n = 4 counter + w,
  word w is fmix32(fmix32(lo32(n) + lo32(key)) ^ hi32(key) ^ lo32(n >> 32) * ODD32). Cheapest;
  each (seed, stream, k, n >> 32) key sees a permutation of 2**32 words.
- ``xoroshiro128aox``: the generator of the Graphcore IPU's stochastic rounding (Hanlon and
  Felix, IEEE Trans. Computers 72(5), 2023): the xoroshiro128 linear-feedback shift register
  (Blackman and Vigna; rotations 55, 36 and shift 14) with the multiplier-free AOX output
  x = (s0 ^ s1) ^ (rotl(s0 & s1, 1) | rotl(s0 & s1, 2)). Hardware runs one register per lane
  and steps it once per output; here each block k of a group of 64 counters (c >> 6 = g) has
  four lanes w = 0..3, lane w seeded with (s0, s1) = (z_0, z_1) of SplitMix64 at lane counter
  4 g + w (the ``splitmix64`` pair above, so the state is never all zero) and stepped 32 times:
  its outputs x_0 .. x_31 give word w of counter 64 g + b as hi32(x_(b >> 1)) for even b and
  lo32(x_(b >> 1)) for odd b. Element 256 g + 64 w + b so reads lane w's outputs in order.
  Random access to one counter costs up to 31 steps; a sequential fill, one step per two counters.

This module is the readable, numpy-vectorized reference; lpsim.fast has the
compiled twin, tested against this one and against Random123's known-answer vectors.
"""

from __future__ import annotations

import functools

import numpy as np

from .formats.rounding import DEFAULT_GENERATOR, RandomGenerator, to_generator

PHILOX_M0 = 0xD2511F53
PHILOX_M1 = 0xCD9E8D57
PHILOX_W0 = 0x9E3779B9
PHILOX_W1 = 0xBB67AE85
PHILOX_ROUNDS = 10
PHILOX7_ROUNDS = 7

SPLITMIX_GAMMA = 0x9E3779B97F4A7C15
SPLITMIX_M1 = 0xBF58476D1CE4E5B9
SPLITMIX_M2 = 0x94D049BB133111EB
FMIX32_M1 = 0x85EBCA6B
FMIX32_M2 = 0xC2B2AE35
HASH32_HIGH = 0x27D4EB2F  # odd: folds the counter's high word into the second round
MASK64 = (1 << 64) - 1
# xoroshiro128 (the 2016 parameters, as in the IPU): s0' = rotl(s0, A) ^ t ^ (t << B), s1' = rotl(t, C)
XOROSHIRO_A, XOROSHIRO_B, XOROSHIRO_C = 55, 14, 36
XOROSHIRO_RUN = 32  # outputs of one lane per group of 64 counters (two 32-bit words each)

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


def philox4x32_10(c0, c1, c2, c3, k0, k1, rounds: int = PHILOX_ROUNDS):
    """Philox4x32-10 (or ``rounds`` rounds) on arrays (or scalars) of 32-bit words held in uint64.
    Returns 4 arrays."""
    c0, c1, c2, c3 = (np.asarray(c, dtype=np.uint64) & np.uint64(MASK32) for c in (c0, c1, c2, c3))
    k0 = np.asarray(k0, dtype=np.uint64) & np.uint64(MASK32)
    k1 = np.asarray(k1, dtype=np.uint64) & np.uint64(MASK32)
    m0, m1 = np.uint64(PHILOX_M0), np.uint64(PHILOX_M1)
    mask, shift = np.uint64(MASK32), np.uint64(32)
    for _ in range(rounds):
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


def mix64(z: int) -> int:
    """SplitMix64's output function on a Python int (mod 2**64): a bijection of 64-bit words."""
    z &= MASK64
    z = ((z ^ (z >> 30)) * SPLITMIX_M1) & MASK64
    z = ((z ^ (z >> 27)) * SPLITMIX_M2) & MASK64
    return z ^ (z >> 31)


def _mix64_array(z):
    z = (z ^ (z >> np.uint64(30))) * np.uint64(SPLITMIX_M1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(SPLITMIX_M2)
    return z ^ (z >> np.uint64(31))


def fmix32(h: int) -> int:
    """MurmurHash3's 32-bit finalizer on a Python int: a bijection of 32-bit words."""
    h &= MASK32
    h = ((h ^ (h >> 16)) * FMIX32_M1) & MASK32
    h = ((h ^ (h >> 13)) * FMIX32_M2) & MASK32
    return h ^ (h >> 16)


def _fmix32_array(h):
    mask = np.uint64(MASK32)
    h = ((h ^ (h >> np.uint64(16))) * np.uint64(FMIX32_M1)) & mask
    h = ((h ^ (h >> np.uint64(13))) * np.uint64(FMIX32_M2)) & mask
    return h ^ (h >> np.uint64(16))


def rotl64(x: int, r: int) -> int:
    return ((x << r) | (x >> (64 - r))) & MASK64


def aox(s0: int, s1: int) -> int:
    """xoroshiro128aox's output of the state (s0, s1): and, or and xor only (no adder, no multiplier)."""
    both = s0 & s1
    return s0 ^ s1 ^ (rotl64(both, 1) | rotl64(both, 2))


def xoroshiro_step(s0: int, s1: int) -> tuple[int, int]:
    """One step of the xoroshiro128 linear engine (a linear map of the 128-bit state over GF(2))."""
    t = s0 ^ s1
    return rotl64(s0, XOROSHIRO_A) ^ t ^ ((t << XOROSHIRO_B) & MASK64), rotl64(t, XOROSHIRO_C)


def splitmix_pair(key: int, counter: int) -> tuple[int, int]:
    """SplitMix64's two outputs z_0, z_1 of ``counter`` under ``key``: mix64(key + (2 counter + j + 1) GAMMA)."""
    return mix64(key + (2 * counter + 1) * SPLITMIX_GAMMA), mix64(key + (2 * counter + 2) * SPLITMIX_GAMMA)


@functools.lru_cache(maxsize=4096)
def xoroshiro_run(seed: int, stream: int, k: int, lane: int) -> tuple[int, ...]:
    """The 32 outputs of xoroshiro128aox lane ``lane`` (= 4 group + w) of block k.

    Cached: the exact engine asks for neighbouring elements one at a time, and they share a run."""
    s0, s1 = splitmix_pair(stream_key(seed, stream, k), lane)
    outputs = []
    for _ in range(XOROSHIRO_RUN):
        outputs.append(aox(s0, s1))
        s0, s1 = xoroshiro_step(s0, s1)
    return tuple(outputs)


def xoroshiro_word(seed: int, stream: int, counter: int, w: int, k: int) -> int:
    """Word w of block k of ``counter`` by xoroshiro128aox, as a Python int."""
    b = counter & 63
    x = xoroshiro_run(seed, stream, k, 4 * (counter >> 6) + w)[b >> 1]
    return x & MASK32 if b & 1 else x >> 32


def _aox_array(s0, s1):
    both = s0 & s1
    return s0 ^ s1 ^ (_rotl64_array(both, 1) | _rotl64_array(both, 2))


def _rotl64_array(x, r):
    return (x << np.uint64(r)) | (x >> np.uint64(64 - r))


def _xoroshiro_block_array(key, counter):
    """xoroshiro128aox block of each counter (uint64 array): every lane runs all 32 steps and each
    counter keeps the output at its own step."""
    lane0 = (counter >> np.uint64(6)) << np.uint64(2)
    step = ((counter & np.uint64(63)) >> np.uint64(1)).astype(np.int64)
    odd = (counter & np.uint64(1)).astype(bool)
    words = []
    for w in range(4):
        lane = lane0 + np.uint64(w)
        s0 = _mix64_array(key + (np.uint64(2) * lane + np.uint64(1)) * np.uint64(SPLITMIX_GAMMA))
        s1 = _mix64_array(key + (np.uint64(2) * lane + np.uint64(2)) * np.uint64(SPLITMIX_GAMMA))
        out = np.zeros_like(counter)
        for j in range(int(step.max(initial=0)) + 1):
            out = np.where(step == j, _aox_array(s0, s1), out)
            t = s0 ^ s1
            s0, s1 = _rotl64_array(s0, XOROSHIRO_A) ^ t ^ (t << np.uint64(XOROSHIRO_B)), _rotl64_array(t, XOROSHIRO_C)
        words.append(np.where(odd, out & np.uint64(MASK32), out >> np.uint64(32)))
    return tuple(words)


def stream_key(seed: int, stream: int, k: int) -> int:
    """The 64-bit key of the hash generators for (seed, stream, block k)."""
    return mix64(seed ^ mix64(((stream & MASK32) << 32) | (k & MASK32)))


def random_block(seed: int, stream: int, counter, k: int = 0, generator=DEFAULT_GENERATOR):
    """Block k of the counters ``counter`` (array of non-negative ints): four uint64 arrays W0..W3."""
    counter = np.asarray(counter, dtype=np.uint64)
    seed, stream = check_seed_stream(seed, stream)
    generator = to_generator(generator)
    if generator in (RandomGenerator.PHILOX10, RandomGenerator.PHILOX7):
        return philox4x32_10(
            counter & np.uint64(MASK32), counter >> np.uint64(32), np.uint64(stream), np.uint64(k),
            np.uint64(seed & MASK32), np.uint64(seed >> 32), _ROUNDS[generator],
        )
    key = np.uint64(stream_key(seed, stream, k))
    mask = np.uint64(MASK32)
    with np.errstate(over="ignore"):
        if generator is RandomGenerator.XOROSHIRO128AOX:
            return _xoroshiro_block_array(key, counter)
        if generator is RandomGenerator.SPLITMIX64:
            z0 = _mix64_array(key + (np.uint64(2) * counter + np.uint64(1)) * np.uint64(SPLITMIX_GAMMA))
            z1 = _mix64_array(key + (np.uint64(2) * counter + np.uint64(2)) * np.uint64(SPLITMIX_GAMMA))
            return z0 >> np.uint64(32), z0 & mask, z1 >> np.uint64(32), z1 & mask
        n = counter << np.uint64(2)
        high = (((counter >> np.uint64(30)) & mask) * np.uint64(HASH32_HIGH)) & mask
        return tuple(
            _fmix32_array(_fmix32_array(((n + np.uint64(w)) + key) & mask) ^ (key >> np.uint64(32)) ^ high)
            for w in range(4)
        )


def element_words(seed: int, stream: int, index, k: int = 0, generator=DEFAULT_GENERATOR) -> np.ndarray:
    """Word k (bits 32k .. 32k + 31) of the random bit strings of the elements ``index``, as uint64."""
    counter, word = element_counter(np.asarray(index, dtype=np.uint64))
    block = np.stack(random_block(seed, stream, counter, k, generator))
    return np.take_along_axis(block, word.astype(np.intp)[None], axis=0)[0]


def block_words(seed: int, stream: int, counter: int, k: int,
                generator: RandomGenerator = DEFAULT_GENERATOR) -> tuple[int, int, int, int]:
    """Block k of one counter as four Python ints (W0..W3), by ``generator``.

    The same function as ``random_block`` for a single counter, on Python ints: the
    exact engine calls it once per element, where numpy scalar arithmetic would be slow.
    """
    if generator is RandomGenerator.PHILOX10 or generator is RandomGenerator.PHILOX7:
        return philox_words(seed, stream, counter, k, _ROUNDS[generator])
    key = stream_key(seed, stream, k)
    if generator is RandomGenerator.SPLITMIX64:
        z0, z1 = splitmix_pair(key, counter)
        return z0 >> 32, z0 & MASK32, z1 >> 32, z1 & MASK32
    if generator is RandomGenerator.XOROSHIRO128AOX:
        return tuple(xoroshiro_word(seed, stream, counter, w, k) for w in range(4))
    if generator is RandomGenerator.HASH32:
        n = counter << 2
        high = (((counter >> 30) & MASK32) * HASH32_HIGH) & MASK32
        return tuple(fmix32(fmix32(n + w + key) ^ (key >> 32) ^ high) for w in range(4))
    raise TypeError(f"generator must be a RandomGenerator, got {generator!r}")


_ROUNDS = {RandomGenerator.PHILOX10: PHILOX_ROUNDS, RandomGenerator.PHILOX7: PHILOX7_ROUNDS}


def philox_words(seed: int, stream: int, counter: int, k: int, rounds: int = PHILOX_ROUNDS) -> tuple[int, int, int, int]:
    """Philox4x32 block k of one counter (``rounds`` rounds) as four Python ints (W0..W3)."""
    c0, c1, c2, c3 = counter & MASK32, (counter >> 32) & MASK32, stream & MASK32, k & MASK32
    k0, k1 = seed & MASK32, (seed >> 32) & MASK32
    for _ in range(rounds):
        p0 = c0 * PHILOX_M0
        p1 = c2 * PHILOX_M1
        c0, c1, c2, c3 = (p1 >> 32) ^ c1 ^ k0, p1 & MASK32, (p0 >> 32) ^ c3 ^ k1, p0 & MASK32
        k0 = (k0 + PHILOX_W0) & MASK32
        k1 = (k1 + PHILOX_W1) & MASK32
    return c0, c1, c2, c3


def element_word(seed: int, stream: int, index: int, k: int, generator: RandomGenerator = DEFAULT_GENERATOR) -> int:
    """Word k (bits 32k .. 32k + 31) of one element's random bit string, as a Python int."""
    counter, word = element_counter(int(index))
    if generator is RandomGenerator.XOROSHIRO128AOX:  # only the element's own lane
        return xoroshiro_word(seed, stream, counter, word, k)
    return block_words(seed, stream, counter, k, generator)[word]


def random_bits(seed: int, stream: int, index: int, nbits: int, generator=DEFAULT_GENERATOR) -> int:
    """The first ``nbits`` random bits of one element, as a Python int (MSB first)."""
    seed, stream = check_seed_stream(seed, stream)
    generator = to_generator(generator)
    value, have, k = 0, 0, 0
    while have < nbits:
        value = (value << 32) | element_word(seed, stream, index, k, generator)
        have += 32
        k += 1
    return value >> (have - nbits)


def random_chunk64(seed: int, stream: int, index: int, chunk: int, generator=DEFAULT_GENERATOR) -> int:
    """64-bit chunk ``chunk`` of one element's random bit string: words 2 chunk and 2 chunk + 1."""
    seed, stream, generator = int(seed), int(stream), to_generator(generator)
    return ((element_word(seed, stream, index, 2 * chunk, generator) << 32)
            | element_word(seed, stream, index, 2 * chunk + 1, generator))
