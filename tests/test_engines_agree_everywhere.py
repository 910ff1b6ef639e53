"""Every engine gives the same codes, values and exceptions on one shared input set, for every
format family, every rounding mode (stochastic with each width of random bits) and the
elementwise operations: the cross-engine check next to the per-engine oracle tests.

The inputs are fixed (no hypothesis): signed zeros, infinities, the extremes of float64, each
format's own edges (its max and the values just past it, its smallest subnormal), ties and
quarter points between neighbouring grid values at odd and even codes, and a seeded spread of
magnitudes. Engines are compared with each other pairwise, so a third engine added to
``lpsim.codec.ENGINES`` joins the comparison by itself.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import lpsim
from lpsim import codec, ops
from lpsim.exact import QArray
from lpsim.formats import PRESETS, BlockFormat, FixedPoint, FloatFormat, Rounding, RoundingMode, Specials

from .fast.strategies import assert_engines_agree, outcome

ROUNDINGS = [Rounding(mode=m) for m in RoundingMode if m is not RoundingMode.STOCHASTIC] + [
    Rounding(mode="stochastic", random_bits=r) for r in (None, 1, 3, 8, 23, 64)
]
ROUNDING_IDS = [r.mode.value if r.mode is not RoundingMode.STOCHASTIC else f"sr{r.random_bits}" for r in ROUNDINGS]

FORMATS = list(dict.fromkeys(PRESETS.values())) + [  # presets once each, then shapes no preset has
    FloatFormat(exp_bits=3, man_bits=2, subnormals=False),
    FloatFormat(exp_bits=3, man_bits=0, specials="fn"),
    FloatFormat(exp_bits=2, man_bits=3, specials=Specials.NONE, overflow="saturate"),
    FloatFormat(exp_bits=5, man_bits=10, overflow="saturate"),
    FixedPoint(bits=6, frac_bits=2, overflow="wrap"),
    FixedPoint(bits=7, signed=False, frac_bits=-2),
    FixedPoint(bits=8, scale=0.1),
    BlockFormat.bfp(8, 16, exponent_bits=5),
]
PAIRS = list(itertools.combinations(codec.ENGINES, 2))
KEY = dict(seed=20261207, stream=15, offset=2**40 + 3)


def between_neighbours(fmt) -> np.ndarray:
    """Midpoints (ties) and quarter points between neighbouring grid values of ``fmt`` (the element
    format of a block format) near 1, near its smallest and its largest values; the grid is read
    with the exact engine, as input only."""
    tiny, biggest = fmt.smallest_subnormal, fmt.max
    anchors = np.array([1.0, 1.0 + fmt.eps, 0.3, 7.7, 2 * tiny, 3 * tiny, biggest / 3, biggest / 2])
    low = lpsim.encode(anchors, fmt, "toward_zero", engine="exact").astype(np.int64)
    top = fmt.code_max if isinstance(fmt, FixedPoint) else fmt.max_code
    high = np.minimum(low + 1, top)
    below = lpsim.decode(low.astype(fmt.code_dtype), fmt, engine="exact")
    above = lpsim.decode(high.astype(fmt.code_dtype), fmt, engine="exact")
    return np.concatenate([below / 2 + above / 2, below * 0.75 + above * 0.25, below * 0.25 + above * 0.75])


def shared_inputs(fmt) -> np.ndarray:
    """Finite and infinite inputs (NaN goes on its own: formats without NaN raise on it)."""
    spread = np.random.default_rng(15)
    random = spread.standard_normal(96) * np.exp2(spread.integers(-40, 40, 96))
    common = [0.0, -0.0, np.inf, -np.inf, 5e-324, 2.0**-1022, 1.0, 1.5, 2.5, -2.5, 1.0 + 2.0**-52, 1e300, -1e300]
    element = getattr(fmt, "element", fmt)  # block formats (power-of-two or any scale) round their elements
    tiny, biggest = element.smallest_subnormal, element.max
    own = [biggest, biggest * (1 + 2.0**-4), biggest * (1 + 2.0**-30), biggest * 2, tiny, tiny / 2, tiny * 1.5,
           tiny * 2.5, np.nextafter(tiny / 2, 0), np.nextafter(tiny / 2, 1)]
    x = np.concatenate([common, own, between_neighbours(element), random])
    x = np.concatenate([x, -x])
    block = getattr(fmt, "block_size", 1)
    return x[: len(x) // block * block]  # whole blocks only


def assert_same_values(values: list[np.ndarray]) -> None:
    """Bit for bit, so NaN signs and -0.0 count."""
    first = values[0].view(np.uint64)
    for other in values[1:]:
        assert np.array_equal(other.view(np.uint64), first)


def calls(fmt) -> list[tuple[np.ndarray, int]]:
    """(inputs, offset) of each call: the whole shared set, then short slices of it at their own
    offsets. A fast kernel may treat a chunk that holds a special value (inf, NaN, a float64
    subnormal, an overflow) on another path than a chunk without one; short slices reach both."""
    x = shared_inputs(fmt)
    step = getattr(fmt, "block_size", 8)
    slices = [(x[i:i + step], KEY["offset"] + i) for i in range(0, len(x), step)]
    nan = np.array([np.nan, -np.nan] * getattr(fmt, "block_size", 1))
    return [(x, KEY["offset"])] + slices + [(nan, KEY["offset"])]


@pytest.mark.parametrize("rounding", ROUNDINGS, ids=ROUNDING_IDS)
@pytest.mark.parametrize("fmt", FORMATS, ids=str)
def test_codec_agrees_on_the_shared_inputs(fmt, rounding):
    for x, offset in calls(fmt):
        key = {**KEY, "offset": offset}
        results = {e: outcome(ops.from_float, x, fmt, rounding, engine=e, **key) for e in codec.ENGINES}
        for a, b in PAIRS:
            assert results[a] == results[b], f"{fmt} {rounding}: {a} {results[a]!r} != {b} {results[b]!r}"
        if results[codec.ENGINES[0]][0] == "ok":
            codes = ops.from_float(x, fmt, rounding, engine="exact", **key)
            assert_same_values([np.asarray(ops.to_float(codes, engine=e)) for e in codec.ENGINES])


def every_code(fmt) -> QArray:
    low, high = (fmt.code_min, fmt.code_max) if isinstance(fmt, FixedPoint) else (0, fmt.n_codes - 1)
    return QArray(codes=np.arange(low, high + 1).astype(fmt.code_dtype), fmt=fmt)


# Small operands, all pairs of their codes; outputs narrow enough that every mode rounds.
E2M1 = PRESETS["e2m1"]
E3M2 = PRESETS["e3m2"]
INT4 = FixedPoint(bits=4, frac_bits=1)
OPERANDS = [(E2M1, E2M1, PRESETS["e4m3"]), (E3M2, E2M1, E2M1), (INT4, E2M1, FixedPoint(bits=5, frac_bits=0)),
            (FloatFormat(exp_bits=3, man_bits=1), E3M2, FloatFormat(exp_bits=3, man_bits=1, overflow="saturate"))]


@pytest.mark.parametrize("rounding", ROUNDINGS, ids=ROUNDING_IDS)
@pytest.mark.parametrize("a_fmt, b_fmt, out", OPERANDS, ids=[f"{a}-{b}-{o}" for a, b, o in OPERANDS])
def test_elementwise_ops_agree_on_every_code_pair(a_fmt, b_fmt, out, rounding):
    a_all, b_all = every_code(a_fmt), every_code(b_fmt)
    a = QArray(codes=np.repeat(a_all.codes, len(b_all.codes)), fmt=a_fmt)
    b = QArray(codes=np.tile(b_all.codes, len(a_all.codes)), fmt=b_fmt)
    for op in ("add", "subtract", "multiply"):
        assert_engines_agree(op, a, b, out, rounding, **KEY)
    assert_engines_agree("fma", a, b, b, out, rounding, **KEY)
    assert_engines_agree("requantize", a, out, rounding, **KEY)
