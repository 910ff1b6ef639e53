"""Block formats with a scale of any format (NVFP4 and others) against an independent numpy + ml_dtypes reference.

The reference below is written from the rule in docs/formats.md: every rounding is chosen by
comparing exact rationals (fractions.Fraction) with the finite values of the target format,
which ml_dtypes enumerates (or, for fixed point, k * step), ties to the even code.
"""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lpsim
from lpsim.formats import BlockCodes, FixedPoint, FloatFormat, ScaledBlockFormat, get_format, parse_format
from lpsim.formats.floating import Specials

from .scaled_ref import finite_grid, nearest_even, nearest_float32

ml_dtypes = pytest.importorskip("ml_dtypes")

ENGINES = ("exact", "fast")
NVFP4 = ScaledBlockFormat.nvfp4()
E4M3_SAT = FloatFormat(exp_bits=4, man_bits=3, specials=Specials.FN, overflow="saturate")
E5M2_SAT = FloatFormat(exp_bits=5, man_bits=2, overflow="saturate")
E2M1 = FloatFormat(exp_bits=2, man_bits=1, specials=Specials.NONE)


@pytest.fixture(autouse=True)
def _quiet_fallback():
    # the fast engine runs scaled blocks on the exact engine; its one-time warning is tested elsewhere
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lpsim.codec.FastEngineFallbackWarning)
        yield


def reference(x: np.ndarray, element_dtype, scale_grid, block_size: int, axis: int, tensor: bool) -> np.ndarray:
    """Quantize by NVFP4's rule: t = fl32(amax / (elem_max * scale_max)); s = round(amax_b / (elem_max * t))
    (the smallest positive scale if that is 0); element = round(x / (s t)), saturating."""
    element_grid = finite_grid(element_dtype)
    elem_max = max(element_grid[1])
    scale_max = max(scale_grid[1])
    smallest_scale = min(v for v in scale_grid[1] if v > 0)
    finite = np.abs(x[np.isfinite(x)])
    t = Fraction(1)
    if tensor and finite.size and finite.max() > 0:
        t = nearest_float32(Fraction(float(finite.max())) / (elem_max * scale_max))
    moved = np.moveaxis(x, axis, -1)
    out = np.empty(moved.shape)
    for outer in np.ndindex(moved.shape[:-1]):
        row = moved[outer]
        for start in range(0, row.size, block_size):
            block = row[start:start + block_size]
            if not np.all(np.isfinite(block)):
                out[outer][start:start + block_size] = np.nan
                continue
            amax = max(Fraction(float(abs(v))) for v in block)
            s = nearest_even(amax / (elem_max * t), scale_grid) if amax else Fraction(0)
            if amax and s == 0:
                s = smallest_scale
            for j, v in enumerate(block):
                q = nearest_even(abs(Fraction(float(v))) / (s * t), element_grid) if s else Fraction(0)
                out[outer][start + j] = math.copysign(float(q * s * t), v)
    return np.moveaxis(out, -1, axis)


def assert_same_values(got: np.ndarray, want: np.ndarray) -> None:
    assert np.array_equal(got, want, equal_nan=True), (got, want)
    numbers = ~np.isnan(want)  # a NaN's sign is not part of the contract
    assert np.array_equal(np.signbit(got[numbers]), np.signbit(want[numbers]))


# -- properties against the reference ---------------------------------------------------------

magnitudes = st.floats(min_value=2.0**-40, max_value=2.0**40)
values = st.one_of(magnitudes, magnitudes.map(lambda v: -v), st.just(0.0), st.just(-0.0))


@st.composite
def arrays_and_axis(draw, max_dims=3):
    shape = tuple(draw(st.lists(st.integers(1, 20), min_size=1, max_size=max_dims)))
    if math.prod(shape) > 120:
        shape = shape[:1]
    flat = draw(st.lists(values, min_size=math.prod(shape), max_size=math.prod(shape)))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    return np.array(flat, dtype=np.float64).reshape(shape), axis


@given(arrays_and_axis(), st.booleans(), st.sampled_from(ENGINES))
def test_nvfp4_matches_reference(data, tensor, engine):
    x, axis = data
    fmt = ScaledBlockFormat.nvfp4(axis=axis, tensor_scale=tensor)
    want = reference(x, ml_dtypes.float4_e2m1fn, finite_grid(ml_dtypes.float8_e4m3fn), 16, axis, tensor)
    assert_same_values(lpsim.quantize(x, fmt, engine=engine), want)


@given(arrays_and_axis(max_dims=2), st.sampled_from(ENGINES))
def test_e4m3_elements_with_e5m2_scales_match_reference(data, engine):
    x, axis = data
    fmt = ScaledBlockFormat(element=attrs.evolve(lpsim.E4M3, overflow="saturate"), scale=E5M2_SAT,
                            block_size=8, axis=axis)
    want = reference(x, ml_dtypes.float8_e4m3fn, finite_grid(ml_dtypes.float8_e5m2), 8, axis, False)
    assert_same_values(lpsim.quantize(x, fmt, engine=engine), want)


@given(arrays_and_axis(max_dims=2), st.sampled_from(ENGINES))
def test_fixed_point_scale_matches_reference(data, engine):
    x, axis = data
    scale = FixedPoint(bits=8, signed=False, frac_bits=4)      # scales 1/16 .. 255/16
    fmt = ScaledBlockFormat(element=E2M1, scale=scale, block_size=4, axis=axis)
    codes = np.arange(256, dtype=np.uint8)
    grid = (codes, [Fraction(int(k), 16) for k in codes])
    assert_same_values(lpsim.quantize(x, fmt, engine=engine), reference(x, ml_dtypes.float4_e2m1fn, grid, 4, axis, False))


# -- exhaustive over small formats ------------------------------------------------------------


def test_every_element_and_scale_code_decodes_as_their_product():
    elements = np.arange(16, dtype=np.uint8)
    fmt = attrs.evolve(NVFP4, block_size=1, tensor_scale=False)
    for scale in range(256):
        codes = BlockCodes(elements=elements, scales=np.full(16, scale, dtype=np.uint8))
        s = np.array([scale], dtype=np.uint8).view(ml_dtypes.float8_e4m3fn).astype(np.float64)[0]
        want = elements.view(ml_dtypes.float4_e2m1fn).astype(np.float64) * s
        for engine in ENGINES:
            assert_same_values(lpsim.decode(codes, fmt, engine=engine), want)


def test_every_scale_and_element_round_trips_and_midpoints_tie_to_even():
    """A block s * (every E2M1 value) gets scale s exactly and its elements back; s * (every midpoint)
    rounds to even, for every positive E4M3 scale s."""
    fmt = attrs.evolve(NVFP4, tensor_scale=False)
    grid = np.arange(8, dtype=np.uint8).view(ml_dtypes.float4_e2m1fn).astype(np.float64)  # 0 .. 6
    mids = (grid[:-1] + grid[1:]) / 2
    even_mids = np.where((np.arange(7) & 1) == 0, grid[:-1], grid[1:])
    for scale_code in range(1, 0x7F):
        s = float(np.array([scale_code], dtype=np.uint8).view(ml_dtypes.float8_e4m3fn).astype(np.float64)[0])
        block = np.concatenate([grid, -grid[1:], [6.0]]) * s           # 16 values, amax 6 s
        ties = np.concatenate([mids, [6.0] * 9]) * s
        for engine in ENGINES:
            codes = lpsim.encode(block, fmt, engine=engine)
            assert codes.scales.tolist() == [scale_code]
            assert_same_values(lpsim.decode(codes, fmt, engine=engine), block)
            assert lpsim.quantize(ties, fmt, engine=engine)[:7].tolist() == (even_mids * s).tolist()


# -- edge cases and bad input ------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_zero_nan_and_tiny_blocks(engine):
    fmt = attrs.evolve(NVFP4, block_size=4)
    x = np.array([0.0, -0.0, 0.0, 0.0, 1.0, np.nan, 2.0, 3.0, 1e-300, -1e-300, 0, 0, 5.0])
    codes = lpsim.encode(x, fmt, engine=engine)
    assert codes.scales[0] == 0 and codes.scales[1] == 0x7F          # zero scale; E4M3's NaN
    q = lpsim.decode(codes, fmt, engine=engine)
    assert_same_values(q[:4], x[:4])
    t = nearest_float32(Fraction(5, 6 * 448))                        # from the finite values only
    assert codes.tensor_scale == float(t)
    assert np.isnan(q[4:8]).all() and q[12] == float(6 * 448 * t)     # other blocks unaffected; 5 -> 6 s t
    assert_same_values(q[8:12], np.array([0.0, -0.0, 0.0, 0.0]))    # the smallest scale, elements underflow


def test_scale_overflow_saturates_or_raises_naming_the_scale_format():
    sat = attrs.evolve(NVFP4, tensor_scale=False)
    assert lpsim.quantize(np.array([1e6]), sat, engine="exact").tolist() == [6 * 448]
    error = attrs.evolve(sat, scale=attrs.evolve(E4M3_SAT, overflow="error"))
    with pytest.raises(OverflowError, match="e4m3_fn_error"):
        lpsim.encode(np.array([1e6]), error, engine="exact")
    big = 6 * 448 * 2.0**10                                     # a tensor scale of 2**10 brings it in range
    assert lpsim.quantize(np.array([big]), attrs.evolve(error, tensor_scale=True), engine="exact").tolist() == [big]


def test_bad_formats_and_codes_are_refused():
    with pytest.raises(ValueError, match="scale overflow must be saturate or error"):
        ScaledBlockFormat(element=E2M1, scale=lpsim.E4M3, block_size=16)
    with pytest.raises(ValueError, match="scale_rounding must be a deterministic mode"):
        attrs.evolve(NVFP4, scale_rounding="stochastic")
    with pytest.raises(TypeError, match="scale must be a FixedPoint or FloatFormat"):
        ScaledBlockFormat(element=E2M1, scale=NVFP4, block_size=16)
    no_nan = ScaledBlockFormat(element=E2M1, scale=FixedPoint(bits=8, signed=False, frac_bits=4), block_size=2)
    with pytest.raises(ValueError, match="fixed8_f4.*has none|ufixed8_f4.*has none"):
        lpsim.encode(np.array([1.0, np.inf]), no_nan, engine="exact")
    codes = lpsim.encode(np.ones(16), NVFP4, engine="exact")
    with pytest.raises(ValueError, match="tensor_scale, got None"):
        lpsim.decode(attrs.evolve(codes, tensor_scale=None), NVFP4)
    for engine in ENGINES:
        with pytest.raises(ValueError, match=r"axis 1 is out of range for an array with 1 dimensions of shape \(4,\)"):
            lpsim.encode(np.ones(4), attrs.evolve(NVFP4, axis=1), engine=engine)


def test_spec_and_names():
    assert get_format("nvfp4") == NVFP4 and parse_format(NVFP4.spec) == NVFP4
    for fmt in (attrs.evolve(NVFP4, axis=0, tensor_scale=False, scale_rounding="toward_positive"),
                ScaledBlockFormat(element=FixedPoint(bits=8, frac_bits=6), scale=FixedPoint(bits=8, signed=False, frac_bits=2),
                                  block_size=32)):
        assert parse_format(fmt.spec) == fmt
    assert NVFP4.bits == 4 and NVFP4.bits_per_value == 4.5


# -- the fast engine's own path ------------------------------------------------------------------

FAST_PATH_FORMATS = (
    NVFP4,
    attrs.evolve(NVFP4, tensor_scale=False, block_size=5, axis=0),
    ScaledBlockFormat(element=attrs.evolve(lpsim.E4M3, overflow="saturate"), scale=E5M2_SAT, block_size=8),
    ScaledBlockFormat(element=E2M1, scale=FixedPoint(bits=8, signed=False, frac_bits=4), block_size=4, tensor_scale=True),
)


@pytest.mark.parametrize("fmt", FAST_PATH_FORMATS, ids=lambda f: f.spec)
@pytest.mark.parametrize("seed", range(4))
def test_fast_path_runs_without_fallback_and_agrees_with_exact(fmt, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(6, 20)) * np.exp2(rng.integers(-60, 60, size=(6, 20)) * rng.integers(0, 2, size=(6, 1)))
    x[0, :3] = [0.0, -0.0, np.nan if seed % 2 else np.inf]
    x[1] = 0.0
    if not fmt.scale.has_nan:
        x[0, 2] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", lpsim.codec.FastEngineFallbackWarning)
        fast = lpsim.encode(x, fmt, engine="fast")
        fast_values = lpsim.decode(fast, fmt, engine="fast")
    exact = lpsim.encode(x, fmt, engine="exact")
    assert np.array_equal(fast.elements, exact.elements) and np.array_equal(fast.scales, exact.scales)
    assert fast.tensor_scale == exact.tensor_scale
    assert_same_values(fast_values, lpsim.decode(exact, fmt, engine="exact"))


DETERMINISTIC_MODES = ("nearest_even", "nearest_away", "toward_zero", "toward_positive", "toward_negative", "to_odd")
E2M1_GRID = [float(v) for v in finite_grid(ml_dtypes.float4_e2m1fn)[1]]
E4M3_GRID = [float(v) for v in finite_grid(ml_dtypes.float8_e4m3fn)[1]][1:]
FIXED_SCALE = FixedPoint(bits=8, signed=False, frac_bits=4)
FIXED_GRID = [k / 16 for k in range(1, 256)]


def _grid_points(grid):
    """Values and midpoints of a grid, where rounding modes part ways."""
    return grid + [(a + b) / 2 for a, b in zip(grid, grid[1:])]


def _nudged(v: float, step: int) -> float:
    """v moved ``step`` (-1, 0, 1) float64 ulps: just below, on, or just above a value or midpoint."""
    return float(np.nextafter(v, math.copysign(math.inf, step))) if step else v


@st.composite
def blocks_near_ties(draw, block_size: int, scale_grid: list[float], max_exponent: int):
    """A (2, n) array whose blocks have maxima near element.max * (a scale value or midpoint), times a power
    of two, and elements near element values and midpoints times that scale: both roundings at their edges."""
    n_blocks = draw(st.integers(1, 3))
    rows = []
    for _ in range(2):
        row = []
        for _ in range(n_blocks):
            scale = draw(st.sampled_from(_grid_points(scale_grid))) * 2.0 ** draw(st.integers(-max_exponent, max_exponent))
            amax = _nudged(6.0 * scale, draw(st.integers(-1, 1)))
            block = [amax * draw(st.sampled_from((1.0, -1.0)))]
            for _ in range(block_size - 1):
                v = _nudged(draw(st.sampled_from(_grid_points(E2M1_GRID))) * scale, draw(st.integers(-1, 1)))
                block.append(v * draw(st.sampled_from((1.0, -1.0))))
            row += block
        rows.append(row)
    return np.array(rows)


@settings(max_examples=60)
@given(data=st.data(), mode=st.sampled_from(DETERMINISTIC_MODES), scale_mode=st.sampled_from(DETERMINISTIC_MODES),
       axis=st.sampled_from((0, -1)), tensor=st.booleans(), fixed_scale=st.booleans())
def test_fast_path_rounds_every_deterministic_mode_like_the_exact_engine(data, mode, scale_mode, axis, tensor,
                                                                          fixed_scale):
    """Every deterministic element and scale rounding runs on the fast path, bit for bit the exact engine's,
    for values on, just below and just above the element and scale grids' values and midpoints."""
    block_size = 4
    scale = FIXED_SCALE if fixed_scale else NVFP4.scale
    x = data.draw(blocks_near_ties(block_size, FIXED_GRID if fixed_scale else E4M3_GRID, 2 if fixed_scale else 20))
    if axis == 0:
        x = x.T.copy()
    fmt = ScaledBlockFormat(element=NVFP4.element, scale=scale, block_size=block_size, axis=axis,
                            tensor_scale=tensor, scale_rounding=scale_mode)
    with warnings.catch_warnings():
        warnings.simplefilter("error", lpsim.codec.FastEngineFallbackWarning)
        fast = lpsim.encode(x, fmt, mode, engine="fast")
    exact = lpsim.encode(x, fmt, mode, engine="exact")
    assert np.array_equal(fast.scales, exact.scales), (fast.scales, exact.scales)
    assert np.array_equal(fast.elements, exact.elements), (fast.elements, exact.elements)
    assert fast.tensor_scale == exact.tensor_scale


@pytest.mark.parametrize("mode", DETERMINISTIC_MODES)
def test_fast_path_rounds_every_element_and_scale_tie_like_the_exact_engine(mode):
    """For every positive E4M3 scale s: blocks of s * (every E2M1 midpoint), on, just below and just above,
    both signs; and blocks whose maximum is 6 * (every E4M3 midpoint), on and beside it."""
    e2m1 = np.array(E2M1_GRID)
    mids = (e2m1[:-1] + e2m1[1:]) / 2
    scales = np.array(E4M3_GRID)[:, None]
    rows = []
    for toward in (None, 0.0, np.inf):
        ties = mids * scales if toward is None else np.nextafter(mids * scales, toward)
        rows.append(np.concatenate([6 * scales, ties, -ties, -6 * scales], axis=1))
    scale_mids = (scales[:-1] + scales[1:]) / 2
    for toward in (None, 0.0, np.inf):
        amax = 6 * scale_mids if toward is None else np.nextafter(6 * scale_mids, toward)
        rows.append(np.concatenate([amax, -amax * e2m1[None, 1:] / 6, amax * mids[None, :] / 6, -amax], axis=1))
    x = np.concatenate(rows)
    fmt = attrs.evolve(NVFP4, tensor_scale=False, scale_rounding=mode)  # the scales round in the same mode
    with warnings.catch_warnings():
        warnings.simplefilter("error", lpsim.codec.FastEngineFallbackWarning)
        fast = lpsim.encode(x, fmt, mode, engine="fast")
    exact = lpsim.encode(x, fmt, mode, engine="exact")
    assert np.array_equal(fast.scales, exact.scales)
    assert np.array_equal(fast.elements, exact.elements)


@settings(max_examples=40)
@given(data=st.data(), random_bits=st.sampled_from((None, 1, 2, 5, 16, 32)), axis=st.sampled_from((0, -1)),
       tensor=st.booleans(), seed=st.integers(0, 2**64 - 1), offset=st.integers(0, 2**40))
def test_fast_path_rounds_stochastically_with_the_exact_engines_random_bits(data, random_bits, axis, tensor, seed,
                                                                            offset):
    """Stochastic element rounding on the fast path draws each element's bits at its index, as the exact
    engine does, and decides exactly, for values on and beside grid values and midpoints."""
    x = data.draw(blocks_near_ties(4, E4M3_GRID, 20))
    if axis == 0:
        x = x.T.copy()
    fmt = attrs.evolve(NVFP4, block_size=4, axis=axis, tensor_scale=tensor)
    rounding = lpsim.Rounding(mode="stochastic", random_bits=random_bits)
    with warnings.catch_warnings():
        warnings.simplefilter("error", lpsim.codec.FastEngineFallbackWarning)
        fast = lpsim.encode(x, fmt, rounding, seed=seed, stream=5, offset=offset, engine="fast")
    exact = lpsim.encode(x, fmt, rounding, seed=seed, stream=5, offset=offset, engine="exact")
    assert np.array_equal(fast.scales, exact.scales)
    assert np.array_equal(fast.elements, exact.elements), (fast.elements, exact.elements)


@pytest.mark.parametrize("random_bits", [None, 3])
def test_fast_stochastic_rounding_agrees_on_many_seeds_of_random_values(random_bits):
    """Over many seeds the fast path takes each element's own up/down decision, not only the likely one."""
    x = np.random.default_rng(0).normal(size=64) * 3
    rounding = lpsim.Rounding(mode="stochastic", random_bits=random_bits)
    for seed in range(8):
        fast = lpsim.encode(x, NVFP4, rounding, seed=seed, engine="fast")
        exact = lpsim.encode(x, NVFP4, rounding, seed=seed, engine="exact")
        assert np.array_equal(fast.elements, exact.elements), seed


def test_stochastic_index_leaves_a_word_equal_to_the_fraction_undecided():
    """With exact probabilities a first word equal to the fraction's first 32 bits cannot decide (the exact
    engine reads on) unless no bits follow; words either side of it round up or down. 1.25 is the
    midpoint of 1 and 1.5."""
    from lpsim.fast.scaled_codec import grid, stochastic_index

    values = grid(NVFP4.element)[0].tolist()
    v, d = np.full(3, 1.25), np.ones(3)
    words = np.array([2**31 - 1, 2**31, 2**31 + 1], dtype=np.uint64)
    k, undecided = stochastic_index(v, d, NVFP4.element, words, None)
    assert not undecided.any() and [values[i] for i in k] == [1.5, 1.0, 1.0]  # f * 2**32 is 2**31 exactly
    k, undecided = stochastic_index(np.nextafter(v, 2), d, NVFP4.element, words, None)
    assert undecided.tolist() == [False, True, False] and [values[i] for i in k[[0, 2]]] == [1.5, 1.0]
    k, undecided = stochastic_index(v, d, NVFP4.element, words, 1)  # u = the first bit: 0, 1, 1 against 1
    assert not undecided.any() and [values[i] for i in k] == [1.5, 1.0, 1.0]


def test_undecided_elements_are_finished_as_the_exact_engine_rounds_them():
    """The exact finish of undecided elements (rare with real random words) gives the exact engine's codes."""
    from lpsim.fast.scaled_codec import _exact_elements

    x = np.random.default_rng(4).normal(size=16)
    fmt = attrs.evolve(NVFP4, tensor_scale=False)
    rounding = lpsim.Rounding(mode="stochastic")
    want = lpsim.encode(x, fmt, rounding, seed=3, stream=1, offset=9, engine="exact")
    s = float(lpsim.decode(want.scales, fmt.scale)[0])
    index = np.arange(16, dtype=np.uint64) + np.uint64(9)
    got = _exact_elements(np.zeros(16, dtype=np.int64), np.ones(16, dtype=bool), x, np.full(16, s), index, fmt,
                          rounding, 3, 1)
    assert got.tolist() == want.elements.tolist()


def test_modes_without_a_fast_path_run_on_the_exact_engine_and_agree():
    x = np.linspace(-3, 3, 40)
    fast = lpsim.encode(x, NVFP4, "stochastic:40", seed=3, engine="fast")
    exact = lpsim.encode(x, NVFP4, "stochastic:40", seed=3, engine="exact")
    assert np.array_equal(fast.elements, exact.elements) and np.array_equal(fast.scales, exact.scales)


# -- the MX family (power-of-two E8M0 scales) against the same reference -------------------------

MX_ELEMENTS = {
    "mxfp8_e4m3": ml_dtypes.float8_e4m3fn, "mxfp8_e5m2": ml_dtypes.float8_e5m2,
    "mxfp6_e3m2": ml_dtypes.float6_e3m2fn, "mxfp6_e2m3": ml_dtypes.float6_e2m3fn, "mxfp4": ml_dtypes.float4_e2m1fn,
}


@pytest.mark.parametrize("name", MX_ELEMENTS)
@given(data=arrays_and_axis(max_dims=2), engine=st.sampled_from(ENGINES))
def test_mx_presets_match_an_e8m0_reference(name, data, engine):
    """OCP MX: scale 2**(floor(log2 amax) - emax_elem) as an E8M0 code (ml_dtypes float8_e8m0fnu),
    elements rounded to nearest even and saturating; decode = element * scale."""
    x, axis = data
    fmt = attrs.evolve(get_format(name), axis=axis, block_size=8)
    element_grid = finite_grid(MX_ELEMENTS[name])
    emax_elem = math.frexp(float(max(element_grid[1])))[1] - 1
    codes = lpsim.encode(x, fmt, engine=engine)
    scale_values = codes.scales.view(ml_dtypes.float8_e8m0fnu).astype(np.float64)
    moved, moved_scales = np.moveaxis(x, axis, -1), np.moveaxis(scale_values, axis, -1)
    want = np.empty(moved.shape)
    for outer in np.ndindex(moved.shape[:-1]):
        for b, start in enumerate(range(0, moved.shape[-1], 8)):
            block = moved[outer][start:start + 8]
            amax = float(np.max(np.abs(block)))
            exponent = min(max(math.frexp(amax)[1] - 1 - emax_elem, -127), 127) if amax else -127
            assert moved_scales[outer][b] == 2.0**exponent
            for j, v in enumerate(block):
                q = nearest_even(abs(Fraction(float(v))) / Fraction(2) ** exponent, element_grid)
                want[outer][start + j] = math.copysign(float(q * Fraction(2) ** exponent), v)
    assert_same_values(lpsim.decode(codes, fmt, engine=engine), np.moveaxis(want, -1, axis))


@pytest.mark.parametrize("engine", ENGINES)
def test_masked_arrays_keep_their_mask_and_the_tensor_scale(engine):
    x = np.ma.masked_array([1.0, 1e30, -3.0, 0.5], mask=[False, True, False, False])
    codes = lpsim.encode(x, NVFP4, engine=engine)
    assert codes.elements.mask.tolist() == [False, True, False, False]
    assert codes.tensor_scale == float(nearest_float32(Fraction(3, 6 * 448)))   # the masked 1e30 set nothing
    q = lpsim.decode(codes, NVFP4, engine=engine)
    assert q.mask.tolist() == [False, True, False, False]
    assert_same_values(q.data[[0, 2, 3]], lpsim.quantize(np.array([1.0, -3.0, 0.5]), NVFP4, engine=engine))


@pytest.mark.parametrize("engine", ENGINES)
def test_qarray_arithmetic_refuses_scaled_block_formats_by_name(engine):
    """QArray has no rule for a result's block and tensor scales: a clear TypeError naming the
    format, as operand and as result, never an answer."""
    from lpsim import ops
    from lpsim.exact import QArray

    x = np.linspace(-3.0, 3.0, 16)
    codes = lpsim.encode(x, NVFP4, engine=engine)
    with pytest.raises(TypeError, match=f"format {NVFP4.spec} \\(ScaledBlockFormat\\) is not supported by QArray"):
        QArray(codes=codes, fmt=NVFP4)
    with pytest.raises(TypeError, match=NVFP4.spec):
        QArray.from_float(x, NVFP4)
    a = ops.from_float(x, E4M3_SAT, engine=engine)
    with warnings.catch_warnings():
        # refused before any work: no fallback warning announces an engine that will not run
        warnings.simplefilter("error", lpsim.ops.FastArithmeticFallbackWarning)
        for call in (lambda: ops.add(a, a, NVFP4, engine=engine), lambda: ops.multiply(a, a, NVFP4, engine=engine),
                     lambda: ops.requantize(a, NVFP4, engine=engine), lambda: ops.dot(a, a, "fp8_fp32", NVFP4, engine=engine),
                     lambda: ops.matmul(a[None, :], a[:, None], "fp8_fp32", NVFP4, engine=engine)):
            with pytest.raises(TypeError, match=f"{NVFP4.spec} \\(ScaledBlockFormat\\) is not supported"):
                call()
        # nor is x encoded first: the fast encoder would fall back (and warn) for 64 random bits
        warnings.simplefilter("error", lpsim.codec.FastEngineFallbackWarning)
        with pytest.raises(TypeError, match=f"{NVFP4.spec} \\(ScaledBlockFormat\\) is not supported"):
            ops.from_float(x, NVFP4, lpsim.Rounding(mode="stochastic", random_bits=64), engine=engine)


def test_unsigned_p3109_formats_as_scales_and_in_scaled_tensors():
    """An unsigned P3109 format holds block scales (always positive) alike on both engines; it
    cannot be a block element (block values have both signs); as a scaled tensor's format,
    negative values give its NaN on both engines, never a magnitude."""
    unsigned = attrs.evolve(get_format("binary8p4u"), overflow="saturate")
    with pytest.raises(ValueError, match="element must be signed.*e5m3_p3109_unsigned_saturate"):
        ScaledBlockFormat(element=unsigned, block_size=4, scale=E4M3_SAT)
    fmt = ScaledBlockFormat(element=E2M1, block_size=4, scale=unsigned)
    x = np.concatenate([np.linspace(-3.0, 5.0, 8), [0.0, 1e-3, -2e-3, 7.0]])
    codes = {engine: lpsim.encode(x, fmt, engine=engine) for engine in ENGINES}
    assert np.array_equal(codes["fast"].elements, codes["exact"].elements)
    assert np.array_equal(codes["fast"].scales, codes["exact"].scales)
    assert np.array_equal(lpsim.decode(codes["exact"], fmt, engine="fast"), lpsim.decode(codes["exact"], fmt, engine="exact"))
    for engine in ENGINES:
        out = lpsim.scaled.quantize(x, get_format("binary8p4u"), "tensor", engine=engine)
        assert np.array_equal(np.isnan(out), x < 0) and np.all(out[x >= 0] >= 0)


@pytest.mark.parametrize("generator", ["hash32", "xoroshiro128aox"])
def test_scaled_formats_draw_stochastic_bits_from_the_named_generator(generator):
    """A generator named in the rounding reaches scaled blocks (both engines, the fast one without
    falling back) and lpsim.scaled's exact path: other bits than the default's, same on both engines."""
    x = np.random.default_rng(7).normal(size=256) * 3
    named, default = lpsim.Rounding(mode="stochastic", generator=generator), lpsim.Rounding(mode="stochastic")
    with warnings.catch_warnings():
        warnings.simplefilter("error", lpsim.codec.FastEngineFallbackWarning)
        fast = lpsim.encode(x, NVFP4, named, seed=2, engine="fast")
    exact = lpsim.encode(x, NVFP4, named, seed=2, engine="exact")
    assert np.array_equal(fast.elements, exact.elements) and np.array_equal(fast.scales, exact.scales)
    assert not np.array_equal(exact.elements, lpsim.encode(x, NVFP4, default, seed=2, engine="exact").elements)
    fp8 = FloatFormat(exp_bits=4, man_bits=3, specials=Specials.FN)
    scale = np.float64(0.37)  # not a power of two: lpsim.scaled divides exactly on the exact engine
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lpsim.codec.FastEngineFallbackWarning)
        codes = {g: lpsim.scaled.encode(x, fp8, scale=scale, rounding=r, seed=2).codes for g, r in
                 (("named", named), ("default", default))}
    assert not np.array_equal(codes["named"], codes["default"])
