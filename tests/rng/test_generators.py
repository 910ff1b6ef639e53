"""The random-bit generators: known answers, an independent reimplementation, statistics, and the
same bits on both engines for every generator."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lpsim
from lpsim import rng
from lpsim.formats.rounding import DEFAULT_GENERATOR, RandomGenerator, Rounding
from lpsim.fast import _rng_kernels as R

GENERATORS = list(RandomGenerator)
M32, M64 = 2**32 - 1, 2**64 - 1


# -- an independent reimplementation, written from the definitions in lpsim/rng.py's docstring ------


def ref_philox(counter, key, rounds):
    """Philox4x32-R on a list of four words (the Random123 round: two 32x32 -> 64 products)."""
    x = list(counter)
    k = list(key)
    for r in range(rounds):
        if r:
            k = [(k[0] + 0x9E3779B9) % 2**32, (k[1] + 0xBB67AE85) % 2**32]
        hi0, lo0 = divmod(0xD2511F53 * x[0], 2**32)
        hi1, lo1 = divmod(0xCD9E8D57 * x[2], 2**32)
        x = [hi1 ^ x[1] ^ k[0], lo1, hi0 ^ x[3] ^ k[1], lo0]
    return tuple(x)


def ref_splitmix_output(state):
    z = state % 2**64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % 2**64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % 2**64
    return z ^ (z >> 31)


def ref_murmur_finalizer(h):
    h ^= h >> 16
    h = (h * 0x85EBCA6B) % 2**32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) % 2**32
    return h ^ (h >> 16)


def ref_rotl(x, r):
    return ((x << r) | (x >> (64 - r))) % 2**64


def ref_xoroshiro128aox(s0, s1, n):
    """n outputs of the published next(): output AOX(s0, s1), then the xoroshiro128 (55, 14, 36) step."""
    out = []
    for _ in range(n):
        sx, sa = s0 ^ s1, s0 & s1
        out.append(sx ^ (ref_rotl(sa, 1) | ref_rotl(sa, 2)))
        s0, s1 = ref_rotl(s0, 55) ^ sx ^ ((sx << 14) % 2**64), ref_rotl(sx, 36)
    return out


def ref_block(generator, seed, stream, counter, k):
    if generator in (RandomGenerator.PHILOX10, RandomGenerator.PHILOX7):
        rounds = 10 if generator is RandomGenerator.PHILOX10 else 7
        return ref_philox([counter % 2**32, counter >> 32, stream, k], [seed % 2**32, seed >> 32], rounds)
    key = ref_splitmix_output(seed ^ ref_splitmix_output(stream * 2**32 + k))
    if generator is RandomGenerator.SPLITMIX64:
        z = [ref_splitmix_output(key + (2 * counter + j) * 0x9E3779B97F4A7C15) for j in (1, 2)]
        return divmod(z[0], 2**32) + divmod(z[1], 2**32)
    if generator is RandomGenerator.XOROSHIRO128AOX:
        group, b = divmod(counter, 64)
        words = []
        for lane in range(4 * group, 4 * group + 4):
            state = [ref_splitmix_output(key + (2 * lane + j) * 0x9E3779B97F4A7C15) for j in (1, 2)]
            high, low = divmod(ref_xoroshiro128aox(*state, b // 2 + 1)[-1], 2**32)
            words.append(low if b % 2 else high)
        return tuple(words)
    high = ((counter >> 30) % 2**32 * 0x27D4EB2F) % 2**32
    return tuple(ref_murmur_finalizer(ref_murmur_finalizer((4 * counter + w + key) % 2**32) ^ (key >> 32) ^ high)
                 for w in range(4))


def ref_element_bits(generator, seed, stream, index, nbits):
    """The first nbits of an element: 256 a + 64 w + b owns word w of counter 64 a + b's blocks."""
    a, rest = divmod(index, 256)
    w, b = divmod(rest, 64)
    words = [ref_block(generator, seed, stream, 64 * a + b, k)[w] for k in range(-(-nbits // 32))]
    value = int("".join(f"{x:032b}" for x in words), 2)
    return value >> (32 * len(words) - nbits)


# -- known answers ---------------------------------------------------------------------------------

# Random123's kat_vectors for philox4x32 with 7 rounds: (counter, key) -> output
PHILOX7_KNOWN = [
    ((0, 0, 0, 0), (0, 0), (0x5F6FB709, 0x0D893F64, 0x4F121F81, 0x4F730A48)),
    ((M32,) * 4, (M32,) * 2, (0x5207DDC2, 0x45165E59, 0x4D8EE751, 0x8C52F662)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0x4DFCCABA, 0x190A87F0, 0xC47362BA, 0xB6B5242A)),
]
# the reference SplitMix64 generator's first outputs from seed 1234567 (state += gamma, then output)
SPLITMIX_SEED_1234567 = [6457827717110365317, 3203168211198807973, 9817491932198370423, 4593380528125082431,
                         16408922859458223821]


# xoroshiro128aox: a C transcription of the next() in Hanlon's note on the IPU generator (compiled with
# gcc, uint64_t arithmetic), from state (1, 2): its first six outputs, and output 1001 from a second state
XOROSHIRO128AOX_FROM_1_2 = [0x3, 0x008000300000C003, 0x013840E038000363, 0xA080FED030C4C36E, 0x1AC0684F18388404,
                            0x0310283837B21945]
XOROSHIRO128AOX_1001ST = ((0x0123456789ABCDEF, 0xFEDCBA9876543210), 0xA897D22EE23AADA7)


def test_xoroshiro128aox_known_answers():
    assert ref_xoroshiro128aox(1, 2, 6) == XOROSHIRO128AOX_FROM_1_2
    (s0, s1), expected = XOROSHIRO128AOX_1001ST
    assert ref_xoroshiro128aox(s0, s1, 1001)[-1] == expected
    outputs, fast_outputs, state, fast_state = [], [], (1, 2), (np.uint64(1), np.uint64(2))
    for _ in range(6):
        outputs.append(rng.aox(*state))
        fast_outputs.append(int(R.aox(*fast_state)))
        state = rng.xoroshiro_step(*state)
        fast_state = tuple(np.uint64(s) for s in R.xoroshiro_step(*fast_state))
    assert outputs == fast_outputs == XOROSHIRO128AOX_FROM_1_2


@pytest.mark.parametrize("counter, key, expected", PHILOX7_KNOWN)
def test_philox7_known_answers(counter, key, expected):
    assert ref_philox(counter, key, 7) == expected
    assert tuple(int(w) for w in rng.philox4x32_10(*counter, *key, rounds=7)) == expected
    assert tuple(int(w) for w in R.philox_rounds(*counter, *key, 7)) == expected


def test_splitmix_known_answers():
    outputs = [ref_splitmix_output(1234567 + i * 0x9E3779B97F4A7C15) for i in range(1, 6)]
    assert outputs == SPLITMIX_SEED_1234567
    assert [rng.mix64(1234567 + i * rng.SPLITMIX_GAMMA) for i in range(1, 6)] == SPLITMIX_SEED_1234567
    assert [int(R.mix64(np.uint64((1234567 + i * rng.SPLITMIX_GAMMA) % 2**64))) for i in range(1, 6)] == \
        SPLITMIX_SEED_1234567


def test_murmur_finalizer_is_a_bijection_on_a_sample():
    words = np.arange(1 << 16, dtype=np.uint64) * np.uint64(65537)
    assert len({rng.fmix32(int(w)) for w in words}) == words.size


# known-answer blocks of every generator, computed by the reimplementation above
@pytest.mark.parametrize("generator", GENERATORS)
@pytest.mark.parametrize("seed, stream, counter, k", [(0, 0, 0, 0), (M64, M32, M64, 3), (0x0123456789ABCDEF, 17, 2**40 + 5, 1)])
def test_blocks_match_the_reimplementation(generator, seed, stream, counter, k):
    expected = ref_block(generator, seed, stream, counter, k)
    assert rng.block_words(seed, stream, counter, k, generator) == expected
    assert tuple(int(w[0]) for w in rng.random_block(seed, stream, [counter], k, generator)) == expected
    out = np.empty((1, 4), dtype=np.uint32)
    R.fill_blocks(np.uint64(seed), R.source_word(stream, generator.code), np.uint64(counter), np.uint64(k), out)
    assert tuple(int(w) for w in out[0]) == expected


@settings(max_examples=25, deadline=None)
@given(generator=st.sampled_from(GENERATORS), seed=st.integers(0, M64), stream=st.integers(0, M32),
       index=st.integers(0, M64), nbits=st.integers(1, 64))
def test_element_bits_match_the_reimplementation_on_both_engines(generator, seed, stream, index, nbits):
    expected = ref_element_bits(generator, seed, stream, index, nbits)
    assert rng.random_bits(seed, stream, index, nbits, generator) == expected
    assert int(R.first_bits(np.uint64(seed), R.source_word(stream, generator.code), np.uint64(index), nbits)) == expected


@settings(max_examples=20, deadline=None)
@given(generator=st.sampled_from(GENERATORS), seed=st.integers(0, M64), stream=st.integers(0, M32),
       group=st.integers(0, 2**56 - 1), k=st.integers(0, 3))
def test_group_words_match_the_reference(generator, seed, stream, group, k):
    out = np.empty(256, dtype=np.uint32)
    R.fill_group_words(np.uint64(seed), R.source_word(stream, generator.code), np.uint64(group), k, out)
    index = np.arange(256, dtype=np.uint64) + np.uint64(256 * group)
    assert np.array_equal(out, rng.element_words(seed, stream, index, k, generator).astype(np.uint32))


def test_the_default_generator_is_philox10_with_unchanged_bits():
    assert DEFAULT_GENERATOR is RandomGenerator.PHILOX10 and RandomGenerator.PHILOX10.code == 0
    # a plain stream word names the default generator
    assert int(R.source_word(9, DEFAULT_GENERATOR.code)) == 9
    assert rng.random_bits(3, 9, 1000, 40) == ref_element_bits(RandomGenerator.PHILOX10, 3, 9, 1000, 40)


def test_generators_give_different_bits():
    words = {g: tuple(rng.element_words(1, 2, np.arange(64, dtype=np.uint64), 0, g).tolist()) for g in GENERATORS}
    assert len(set(words.values())) == len(GENERATORS)


# -- statistics (fixed seeds; thresholds far in the chi-square tails: a failure is a real defect) ---

N = 1 << 16


def chi_square(counts):
    expected = counts.sum() / counts.size
    return float(((counts - expected) ** 2 / expected).sum())


def chi_square_limit(bins):
    """Mean + 6 standard deviations of chi-square with bins - 1 degrees of freedom."""
    dof = bins - 1
    return dof + 6 * np.sqrt(2 * dof)


def words_of(generator, stream=0, k=0, seed=2024, start=0):
    return rng.element_words(seed, stream, np.arange(start, start + N, dtype=np.uint64), k, generator)


@pytest.mark.parametrize("generator", GENERATORS)
def test_words_are_uniform(generator):
    w = words_of(generator)
    for shift in (24, 16, 0):  # the top byte, a middle byte and the bottom byte
        counts = np.bincount(((w >> np.uint64(shift)) & np.uint64(255)).astype(np.int64), minlength=256)
        assert chi_square(counts) < chi_square_limit(256), shift


@pytest.mark.parametrize("generator", GENERATORS)
def test_neighbouring_elements_are_independent(generator):
    top = (words_of(generator) >> np.uint64(28)).astype(np.int64)  # 16 bins per element
    for lag in (1, 64, 256):  # neighbours, the next counter's same word, the next group
        pairs = top[:-lag] * 16 + top[lag:]
        assert chi_square(np.bincount(pairs, minlength=256)) < chi_square_limit(256), lag


@pytest.mark.parametrize("generator", GENERATORS)
def test_streams_and_blocks_are_independent(generator):
    base = (words_of(generator) >> np.uint64(28)).astype(np.int64)
    for other in (words_of(generator, stream=1), words_of(generator, k=1), words_of(generator, seed=2025)):
        pairs = base * 16 + (other >> np.uint64(28)).astype(np.int64)
        assert chi_square(np.bincount(pairs, minlength=256)) < chi_square_limit(256)
    # the bits xored between neighbouring streams are balanced (no shared low-order structure)
    bits = np.unpackbits((words_of(generator) ^ words_of(generator, stream=1)).astype(">u4").view(np.uint8))
    assert abs(bits.mean() - 0.5) < 6 * 0.5 / np.sqrt(bits.size)


@pytest.mark.parametrize("generator", GENERATORS)
@pytest.mark.parametrize("rounding", ["sr8", "stochastic"])
def test_stochastic_rounding_is_unbiased(generator, rounding):
    """q4.4 has step 1/16: 0.3 lies 0.8 of a step above 0.25, so the mean of many roundings is 0.3
    (with r = 8 bits the probability is floor(0.8 * 256) / 256 exactly)."""
    x = np.full(N, 0.3)
    q = lpsim.quantize(x, "q4.4", f"{rounding}:{generator.value}", seed=11)
    p_up = np.floor(0.8 * 256) / 256 if rounding == "sr8" else 0.8
    expected = 0.25 + p_up / 16
    sd = np.sqrt(p_up * (1 - p_up) / N) / 16
    assert abs(q.mean() - expected) < 6 * sd


# -- naming: specs, and every place stochastic rounding runs ---------------------------------------


@pytest.mark.parametrize("text, generator, bits", [
    ("sr16:splitmix64", RandomGenerator.SPLITMIX64, 16), ("stochastic:8:hash32", RandomGenerator.HASH32, 8),
    ("sr:philox7", RandomGenerator.PHILOX7, None), ("stochastic:philox4x32-7", RandomGenerator.PHILOX7, None),
    ("sr12:splitmix", RandomGenerator.SPLITMIX64, 12), ("sr8", DEFAULT_GENERATOR, 8),
])
def test_rounding_specs_name_the_generator(text, generator, bits):
    r = Rounding.parse(text)
    assert (r.generator, r.random_bits, r.is_stochastic) == (generator, bits, True)
    assert Rounding.parse(str(r)) == r


def test_the_default_generator_is_never_written():
    assert str(Rounding.parse("sr8:philox10")) == "stochastic:8"
    assert str(Rounding.parse("stochastic:philox")) == "stochastic"
    assert str(Rounding(mode="stochastic", random_bits=4, generator="hash32")) == "stochastic:4:hash32"


def test_bad_generators_are_rejected_by_name():
    with pytest.raises(ValueError, match="generator must be one of philox10, philox7, splitmix64, hash32"):
        Rounding(mode="stochastic", generator="mt19937")
    with pytest.raises(ValueError, match="generator applies only to mode 'stochastic'"):
        Rounding(mode="nearest_even", generator="hash32")
    with pytest.raises(ValueError, match="generator must be one of"):
        Rounding.parse("sr8:bogus")


FORMATS = ["q4.4", "fixed12_f6", "bfloat16", "e4m3fn", "e5m2"]


@pytest.mark.parametrize("generator", GENERATORS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_encode_is_the_same_on_both_engines(generator, fmt):
    x = np.random.default_rng(1).standard_normal(300) * 3
    for rounding in (f"sr5:{generator.value}", f"stochastic:{generator.value}"):
        fast = lpsim.encode(x, fmt, rounding, seed=5, stream=3, offset=250, engine="fast")
        exact = lpsim.encode(x, fmt, rounding, seed=5, stream=3, offset=250, engine="exact")
        assert np.array_equal(np.asarray(fast), np.asarray(exact)), rounding


@pytest.mark.parametrize("generator", GENERATORS)
def test_chunks_reproduce_the_whole_array(generator):
    x = np.random.default_rng(2).standard_normal(1000)
    rounding = f"sr8:{generator.value}"
    whole = lpsim.encode(x, "bfloat16", rounding, seed=8, stream=1)
    parts = [lpsim.encode(x[a:a + 300], "bfloat16", rounding, seed=8, stream=1, offset=a) for a in range(0, 1000, 300)]
    assert np.array_equal(np.asarray(whole), np.concatenate([np.asarray(p) for p in parts]))


@pytest.mark.parametrize("generator", [g for g in GENERATORS if g is not DEFAULT_GENERATOR])
def test_a_generator_changes_the_rounding(generator):
    x = np.random.default_rng(3).standard_normal(2000)
    default = lpsim.quantize(x, "bfloat16", "sr8", seed=4)
    other = lpsim.quantize(x, "bfloat16", f"sr8:{generator.value}", seed=4)
    assert not np.array_equal(default, other)
