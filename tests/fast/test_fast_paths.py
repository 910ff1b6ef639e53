"""The vectorized fast paths give the general kernels' codes (and reject the same first
element) on large arrays: random formats, every rounding, values of every kind mixed in.
The general kernels themselves are checked against the exact engine elsewhere."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lpsim
from lpsim.fast import _codec_kernels as K
from lpsim.fast import codec as fc
from lpsim.formats import FixedPoint, Rounding

from .fast_strategies import float_formats, roundings

SPECIALS = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 5e-324, -2.5e-310, 1e308, -1e308, 0.5, -0.5, 1.5, -2.5])


def mixed_values(seed: int, step: float, size: int = 3000) -> np.ndarray:
    """Values around the grid (ties included), tiny and huge ones, and a few specials."""
    rng = np.random.default_rng(seed)
    grid = rng.integers(-300, 300, size) * 0.25 * step
    spread = rng.standard_normal(size) * step * 2.0 ** rng.integers(-70, 70, size)
    x = np.where(rng.random(size) < 0.5, grid, spread)
    specials = rng.random(size) < 0.002
    x[specials] = rng.choice(SPECIALS, specials.sum())
    return x


def run(kernel, x, fmt, params, rounding, seed, code_dtype=None):
    out = np.zeros(x.size, dtype=fmt.code_dtype if code_dtype is None else code_dtype)
    bad = kernel(x, fc._unsigned_view(out), params, fc.round_params(rounding, seed, 7, 11))
    return bad, (out if bad < 0 else out[:bad])


def check_fixed(fmt, rounding, seed):
    x = mixed_values(seed, fmt.step)
    params = fc.fixed_params(fmt)
    expected = run(K.encode_fixed, x, fmt, params, rounding, seed)
    kernels = [K.encode_fixed_pow2] + ([K.encode_fixed_stochastic] if fc.stochastic_fast_path(fmt, rounding) else [])
    for kernel in kernels:
        bad, codes = run(kernel, x, fmt, params, rounding, seed)
        assert bad == expected[0]
        assert np.array_equal(codes, expected[1])


@st.composite
def fast_path_fixed_formats(draw):
    bits = draw(st.integers(2, 52))
    return FixedPoint(bits=bits, signed=draw(st.booleans()), frac_bits=draw(st.integers(-40, 80)),
                      overflow=draw(st.sampled_from(["saturate", "wrap", "error"])))


@settings(max_examples=80)
@given(fmt=fast_path_fixed_formats(), rounding=roundings, seed=st.integers(0, 2**32))
def test_fixed_point_fast_paths(fmt, rounding, seed):
    check_fixed(fmt, rounding, seed)


@pytest.mark.parametrize("random_bits", [1, 2, 8, 31, 32, 33, 64, None])
@pytest.mark.parametrize("fmt", [FixedPoint(bits=8, frac_bits=4), FixedPoint(bits=12, signed=False, frac_bits=6),
                                 FixedPoint(bits=20, frac_bits=10), FixedPoint(bits=31, frac_bits=20),
                                 FixedPoint(bits=12, frac_bits=6, overflow="wrap"), FixedPoint(bits=8, scale=2.0**-4),
                                 FixedPoint(bits=8, scale=2.0**-1000), FixedPoint(bits=2, signed=False, scale=2.0**-1074)],
                         ids=lambda f: f.spec)
def test_fixed_point_stochastic_fast_path(fmt, random_bits):
    rounding = Rounding(mode="stochastic", random_bits=random_bits)
    if fmt.bits == 8 and fmt.step == 2.0**-4:  # the benchmarked case takes the stochastic kernel
        assert fc.stochastic_fast_path(fmt, rounding)
    if fmt.step == 2.0**-1000:  # frac_bits + r <= 1023 decides (a power-of-two scale counts as frac_bits)
        assert fc.stochastic_fast_path(fmt, rounding) == (random_bits is not None and random_bits <= 23)
    if fmt.step == 2.0**-1074:
        assert not fc.stochastic_fast_path(fmt, rounding)
    x = np.array([fmt.step, 3 * fmt.step, 0.5 * fmt.step, -fmt.step, fmt.step * 1.75])
    assert np.array_equal(lpsim.encode(x, fmt, rounding, seed=4), lpsim.encode(x, fmt, rounding, seed=4, engine="exact"))
    check_fixed(fmt, rounding, seed=random_bits or 0)


@settings(max_examples=60)
@given(fmt=float_formats(), rounding=roundings, seed=st.integers(0, 2**32))
def test_float_fast_path(fmt, rounding, seed):
    binade = np.random.default_rng(seed).integers(fmt.emin - fmt.man_bits, fmt.emax + 1)
    x = mixed_values(seed, 2.0 ** float(binade) * fmt.eps)
    params = fc.float_params(fmt, rounding)
    # The element-by-element reference writes 64-bit codes: one compiled specialization of it
    # instead of one per code width (the chunked kernel under test still runs at every width).
    expected = run(K.encode_float, x, fmt, params, rounding, seed, code_dtype=np.uint64)
    bad, codes = run(K.encode_float_chunked, x, fmt, params, rounding, seed)
    assert bad == expected[0]
    assert np.array_equal(codes.astype(np.uint64), expected[1])
