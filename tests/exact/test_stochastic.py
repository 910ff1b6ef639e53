"""Stochastic rounding in the arithmetic: seeded, unbiased, and keyed by documented indices
(so results do not depend on how the outputs are split into calls), on each engine."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lpsim.arith import Accumulator, FloatRegister
from lpsim import ops
from lpsim.exact import QArray
from lpsim.formats import BINARY16, FixedPoint, FloatFormat

FINE = FixedPoint(bits=16, frac_bits=10)
COARSE = FixedPoint(bits=8, frac_bits=2)


def test_stochastic_requantize_is_deterministic_for_a_seed(engine):
    x = QArray.from_float(np.linspace(-3, 3, 64), FINE)
    first = ops.requantize(x, COARSE, "stochastic", seed=7, stream=1, engine=engine)
    again = ops.requantize(x, COARSE, "stochastic", seed=7, stream=1, engine=engine)
    other = ops.requantize(x, COARSE, "stochastic", seed=8, stream=1, engine=engine)
    assert np.array_equal(first.codes, again.codes)
    assert not np.array_equal(first.codes, other.codes)


def test_stochastic_requantize_is_unbiased(engine):
    # 0.30078125 on a grid of 0.25 rounds up with probability 0.203125; 8000 draws
    n = 8000
    x = QArray.from_float(np.full(n, 0.30078125), FINE)  # 308 / 1024, exact in FINE
    q = ops.requantize(x, COARSE, "stochastic", seed=11, engine=engine)
    p_up = float(np.mean(q.to_float() == 0.5))
    expected = (0.30078125 - 0.25) / 0.25
    assert abs(p_up - expected) < 4 * np.sqrt(expected * (1 - expected) / n)
    assert abs(q.to_float().mean() - 0.30078125) < 4 * 0.25 * np.sqrt(expected * (1 - expected) / n)


@settings(max_examples=20)
@given(seed=st.integers(0, 2**64 - 1), offset=st.integers(0, 2**40), split=st.integers(0, 16))
def test_requantize_matches_the_codec_and_does_not_depend_on_splitting(engine, seed, offset, split):
    values = np.linspace(-1.7, 2.3, 16)
    x = QArray.from_float(values, BINARY16)  # every binary16 value is a float64: the codec sees the same value
    whole = ops.requantize(x, COARSE, "stochastic", seed=seed, stream=3, offset=offset, engine=engine)
    codec = QArray.from_float(x.to_float(), COARSE, "stochastic", seed=seed, stream=3, offset=offset)
    assert np.array_equal(whole.codes, codec.codes)
    head = QArray(codes=x.codes[:split], fmt=BINARY16)
    tail = QArray(codes=x.codes[split:], fmt=BINARY16)
    parts = np.concatenate([
        ops.requantize(head, COARSE, "stochastic", seed=seed, stream=3, offset=offset, engine=engine).codes,
        ops.requantize(tail, COARSE, "stochastic", seed=seed, stream=3, offset=offset + split, engine=engine).codes,
    ])
    assert np.array_equal(whole.codes, parts)


def test_reductions_split_by_output_offset_give_the_same_bits(engine):
    """Row i of a matvec computed alone with offset=i equals row i of the whole (stochastic everywhere)."""
    rng = np.random.default_rng(0)
    small = FloatFormat(exp_bits=5, man_bits=4)
    a = QArray.from_float(rng.normal(size=(4, 9)), small)
    x = QArray.from_float(rng.normal(size=9), small)
    acc = Accumulator(product=FloatRegister(fmt=small, rounding="stochastic"),
                      accumulator=FloatRegister(fmt=small, rounding="stochastic:8"))
    kwargs = dict(out=COARSE, rounding="stochastic", seed=5, stream=9)
    whole = ops.matvec(a, x, acc, **kwargs, engine=engine)
    for i in range(4):
        row = QArray(codes=a.codes[i:i + 1], fmt=small)
        assert ops.matvec(row, x, acc, offset=i, **kwargs, engine=engine).codes[0] == whole.codes[i]


# fast: axpy into a non-power-of-two-step fixed point falls back to the exact engine
@pytest.mark.filterwarnings("ignore::lpsim.fast.fallback.FastArithmeticFallbackWarning")
def test_axpy_is_one_stochastic_rounding_per_element(engine):
    """HALP's integer update z <- Q_s(z - c * x): fused, stochastic, saturating in z's format."""
    s = 0.013  # a runtime scale that is not a power of two
    z_fmt = FixedPoint(bits=8, scale=s)
    x = QArray.from_float([1.0, -0.5, 0.25, 4.0], FixedPoint(bits=8, frac_bits=4))
    z = QArray.from_float([0.1, -0.2, 0.0, 1.6], z_fmt)
    c = QArray.from_float(-s * 2.0**-3, FixedPoint(bits=8, scale=s * 2.0**-3))  # a scale power-of-two apart from s
    first = ops.axpy(c, x, z, rounding="stochastic", seed=1, engine=engine)
    assert first.fmt == z_fmt
    assert np.array_equal(first.codes, ops.axpy(c, x, z, rounding="stochastic", seed=1, engine=engine).codes)
    exact = z.codes + (-s / 8) * x.to_float() / s  # c * x in code units of s: -x / 8
    assert np.all(np.abs(first.codes - exact) < 1)  # one of the two neighbouring codes
    assert not np.array_equal(first.codes, np.round(exact))  # some element rounded the other way (seed 1)
