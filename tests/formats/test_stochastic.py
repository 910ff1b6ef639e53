"""Stochastic rounding: exact decisions from the documented random bits, probabilities, bias, chunking.

Statistical tolerance: the number of round-ups among N independent elements with
probability p is Binomial(N, p), with standard deviation sigma = sqrt(N p (1 - p)).
We accept |count - N p| <= 5 sigma (a correct implementation fails with probability
below 6e-7 by the normal approximation). The seeds are fixed, so each test is
deterministic; the bound says the fixed outcome is typical of the definition.
"""

from __future__ import annotations

import math
from fractions import Fraction

import attrs
import numpy as np
import pytest

import lpsim
from lpsim import rng
from lpsim.formats import BINARY16, E4M3, BlockFormat, FixedPoint, FloatFormat

Z = 5
FIXED = FixedPoint(bits=16, frac_bits=4)
FLOAT = FloatFormat(exp_bits=5, man_bits=4)


def neighbours_and_fractions(x: np.ndarray, fmt):
    """(lo, hi, fraction): the two grid values a stochastic result can take, the one it leaves
    with probability ``fraction``, and that fraction, exactly. Fixed point: floor-based on the
    signed value. Floats: on the magnitude (lo is the smaller magnitude). Built with the exact
    engine's directed modes; the stochastic results under test come from each engine."""
    if isinstance(fmt, FixedPoint):
        lo = lpsim.quantize(x, fmt, "toward_negative", engine="exact")
        hi = lpsim.quantize(x, fmt, "toward_positive", engine="exact")
        fractions = [(Fraction(float(v)) - Fraction(float(a))) / Fraction(fmt.step) for v, a in zip(x, lo)]
    else:
        lo = lpsim.quantize(x, fmt, "toward_zero", engine="exact")
        hi = np.where(x < 0, lpsim.quantize(x, fmt, "toward_negative", engine="exact"),
                      lpsim.quantize(x, fmt, "toward_positive", engine="exact"))
        fractions = [
            (abs(Fraction(float(v))) - abs(Fraction(float(a)))) / (abs(Fraction(float(b))) - abs(Fraction(float(a))))
            if a != b else Fraction(0)
            for v, a, b in zip(x, lo, hi)
        ]
    return lo, hi, fractions


def rounds_up_by_definition(fraction: Fraction, r: int | None, seed: int, stream: int, index: int) -> bool:
    """docs/formats.md: with r bits, up iff the first r random bits < floor(fraction * 2**r);
    with r = None, up iff U < fraction, U = 0.b1 b2 b3 ... (fraction is dyadic here, so
    comparing enough leading bits is exact)."""
    if r is not None:
        return rng.random_bits(seed, stream, index, r) < math.floor(fraction * 2**r)
    nbits = 256
    scaled = fraction * 2**nbits
    assert scaled.denominator == 1
    return rng.random_bits(seed, stream, index, nbits) < scaled


@pytest.mark.parametrize("fmt", [FIXED, FLOAT, BINARY16], ids=str)
@pytest.mark.parametrize("r", [None, 1, 3, 8, 23, 64])
def test_decisions_follow_the_random_bits_exactly(fmt, r, engine):
    seed, stream, offset = 20240601, 3, 1000
    gen = np.random.default_rng(5)
    x = gen.uniform(-fmt.max / 2, fmt.max / 2, 150) * np.exp2(-gen.integers(0, 8, 150))
    lo, hi, fractions = neighbours_and_fractions(x, fmt)
    rounding = lpsim.Rounding(mode="stochastic", random_bits=r)
    q = lpsim.quantize(x, fmt, rounding, seed=seed, stream=stream, offset=offset, engine=engine)
    expected = [
        b if rounds_up_by_definition(f, r, seed, stream, offset + i) else a
        for i, (a, b, f) in enumerate(zip(lo, hi, fractions))
    ]
    np.testing.assert_array_equal(q, expected)


def _count_up(fmt, x: float, n: int, rounding, engine: str, seed=11) -> int:
    q = lpsim.quantize(np.full(n, x), fmt, rounding, seed=seed, engine=engine)
    lo, hi, fractions = neighbours_and_fractions(np.array([x]), fmt)
    assert set(np.unique(q)) <= {lo[0], hi[0]}
    return int(np.sum(q == hi[0])), fractions[0]


def _within(count: int, n: int, p: float) -> bool:
    return abs(count - n * p) <= Z * math.sqrt(n * p * (1 - p)) + 1e-9


@pytest.mark.parametrize("fmt, x", [(FIXED, 2.3 / 16 + 1), (FIXED, -(2.3 / 16 + 1)), (FLOAT, 1.3), (FLOAT, -1.3)])
@pytest.mark.parametrize("r", [1, 2, 3, 6])
def test_probability_with_r_bits_is_floor_of_fraction_times_2_to_r(fmt, x, r, engine):
    n = 2000
    count, fraction = _count_up(fmt, x, n, lpsim.Rounding(mode="stochastic", random_bits=r), engine)
    assert fraction.denominator > 2**r  # more fraction bits than r, so truncation matters
    p = math.floor(fraction * 2**r) / 2**r
    assert _within(count, n, p), (count, n * p, float(fraction))


def test_one_random_bit_is_not_the_fraction(engine):
    """fraction 0.9 with r = 1: P(up) = floor(1.8) / 2 = 0.5, far from 0.9."""
    n = 2000
    count, fraction = _count_up(FIXED, (5 + 0.9) / 16, n, lpsim.Rounding(mode="stochastic", random_bits=1), engine)
    assert _within(count, n, 0.5) and not _within(count, n, float(fraction))


@pytest.mark.parametrize("fmt, x", [(FIXED, 0.3 / 16), (FIXED, -3.7 / 16), (FLOAT, 1.3), (FLOAT, -0.01), (BINARY16, 1e-6)])
def test_exact_probability_and_unbiasedness(fmt, x, engine):
    """r = None: P(up) is the fraction exactly, so E[quantize(x)] = x."""
    n = 3000
    rounding = lpsim.Rounding(mode="stochastic")
    q = lpsim.quantize(np.full(n, x), fmt, rounding, seed=7, engine=engine)
    lo, hi, fractions = neighbours_and_fractions(np.array([x]), fmt)
    p = float(fractions[0])
    count = int(np.sum(q == hi[0]))
    assert _within(count, n, p)
    # unbiased: the mean of n draws has standard deviation |hi - lo| sqrt(p (1 - p) / n)
    tolerance = Z * abs(hi[0] - lo[0]) * math.sqrt(p * (1 - p) / n)
    assert abs(q.mean() - x) <= tolerance


def test_fixed_point_stochastic_is_floor_based_on_the_signed_value(engine):
    """-0.25 in steps of 1: floor -1, fraction 0.75, so it rounds to 0 with probability 0.75."""
    n = 2000
    q = lpsim.quantize(np.full(n, -0.25), FixedPoint(bits=8, frac_bits=0), "stochastic", seed=3, engine=engine)
    assert set(np.unique(q)) == {-1.0, 0.0}
    assert _within(int(np.sum(q == 0.0)), n, 0.75)


def test_float_stochastic_acts_on_the_magnitude(engine):
    """-1.25 in a format with step 0.5 near 1: magnitude fraction 0.5 toward -1.5."""
    fmt = FloatFormat(exp_bits=3, man_bits=1)
    n = 2000
    x = -1.0 - 2.0**-3  # magnitude 1.125 between 1.0 and 1.5: fraction 0.25
    q = lpsim.quantize(np.full(n, x), fmt, "stochastic", seed=3, engine=engine)
    assert set(np.unique(q)) == {-1.0, -1.5}
    assert _within(int(np.sum(q == -1.5)), n, 0.25)


@pytest.mark.parametrize(
    "fmt",
    [FIXED, FLOAT, BlockFormat(element=attrs.evolve(E4M3, overflow="saturate"), block_size=8), BlockFormat.bfp(6, 5, axis=0)],
    ids=str,
)
@pytest.mark.parametrize("rounding", ["stochastic", "sr5"])
def test_chunks_with_offsets_reproduce_the_whole_array(fmt, rounding, engine):
    gen = np.random.default_rng(8)
    x = gen.standard_normal((6, 20))
    whole = lpsim.encode(x, fmt, rounding, seed=99, stream=4, engine=engine)
    if isinstance(fmt, BlockFormat):
        # Row chunks keep blocks whole (blocks run along the rows, or the split is at a block
        # boundary of axis 0); each chunk's offset is its first element's flat index.
        splits = ((0, 5), (5, 6)) if fmt.axis == 0 else ((0, 1), (1, 4), (4, 6))
        parts = [lpsim.encode(x[a:b], fmt, rounding, seed=99, stream=4, offset=a * 20, engine=engine) for a, b in splits]
        np.testing.assert_array_equal(np.concatenate([p.elements for p in parts]), whole.elements)
        np.testing.assert_array_equal(np.concatenate([p.scales for p in parts]), whole.scales)
        return
    flat = x.reshape(-1)
    parts = [lpsim.encode(flat[a:b], fmt, rounding, seed=99, stream=4, offset=a, engine=engine) for a, b in ((0, 1), (1, 57), (57, 120))]
    np.testing.assert_array_equal(np.concatenate(parts), whole.reshape(-1))


@pytest.mark.parametrize("fmt", [FIXED, FLOAT], ids=str)
def test_different_seeds_and_streams_give_different_bits(fmt, engine):
    """At fraction 1/2 two independent keys disagree on each element with probability 1/2."""
    n = 1500
    lo = 1.0
    step = fmt.step if isinstance(fmt, FixedPoint) else 2.0**-fmt.man_bits
    x = np.full(n, lo + step / 2)
    base = lpsim.encode(x, fmt, "stochastic", seed=1, stream=0, engine=engine)
    for other in (dict(seed=2, stream=0), dict(seed=1, stream=1), dict(seed=1 + 2**32, stream=0)):
        codes = lpsim.encode(x, fmt, "stochastic", engine=engine, **other)
        assert _within(int(np.sum(codes != base)), n, 0.5), other
    same = lpsim.encode(x, fmt, "stochastic", seed=1, stream=0, engine=engine)
    np.testing.assert_array_equal(same, base)
    shifted = lpsim.encode(x[:-1], fmt, "stochastic", seed=1, stream=0, offset=1, engine=engine)
    np.testing.assert_array_equal(shifted, base[1:])
