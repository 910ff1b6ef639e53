"""Scaled tensors (lpsim.scaled): per-tensor and per-channel amax scaling, given scales, delayed scaling,
against an independent numpy + ml_dtypes reference; both engines bit for bit."""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lpsim
from lpsim import scaled
from lpsim.formats import FixedPoint, get_format

from .scaled_ref import finite_grid, ml_dtypes, nearest_even, nearest_float32

E4M3_SAT = get_format("e4m3_fn_saturate")
ENGINES = ("exact", "fast")


@pytest.fixture(autouse=True)
def _quiet_fallback():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lpsim.codec.FastEngineFallbackWarning)
        yield


def reference_scale(amax: float, power_of_two: bool) -> float:
    if not math.isfinite(amax) or amax == 0:
        return 1.0
    target = Fraction(amax) / 448
    if power_of_two:
        e = 0
        while Fraction(2) ** e < target:
            e += 1
        while Fraction(2) ** (e - 1) >= target:
            e -= 1
        return 2.0**e
    return float(nearest_float32(target))


def reference(x: np.ndarray, scales: np.ndarray, axis: int | None) -> np.ndarray:
    """round(x / s) into E4M3 (saturating, nearest even) times s, exactly."""
    grid = finite_grid(ml_dtypes.float8_e4m3fn)
    full = np.broadcast_to(scales if axis is None else scales.reshape((-1,) + (1,) * (x.ndim - 1 - axis)), x.shape)
    out = np.empty(x.shape)
    for index, v in np.ndenumerate(x):
        s = Fraction(float(full[index]))
        out[index] = math.copysign(float(nearest_even(abs(Fraction(float(v))) / s, grid) * s), v)
    return out


def reference_amax(x: np.ndarray, axis: int | None) -> np.ndarray:
    a = np.abs(np.where(np.isfinite(x), x, 0.0))
    return np.asarray(a.max()) if axis is None else np.moveaxis(a, axis, 0).reshape(a.shape[axis], -1).max(axis=1)


magnitudes = st.floats(min_value=2.0**-30, max_value=2.0**30)
values = st.one_of(magnitudes, magnitudes.map(lambda v: -v), st.just(0.0), st.just(-0.0))


@st.composite
def tensors(draw):
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    flat = draw(st.lists(values, min_size=math.prod(shape), max_size=math.prod(shape)))
    return np.array(flat).reshape(shape)


@given(tensors(), st.data(), st.booleans(), st.sampled_from(ENGINES))
def test_amax_scaling_matches_reference(x, data, power_of_two, engine):
    per_channel = data.draw(st.booleans())
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1)) if per_channel else None
    kwargs = dict(axis=axis, power_of_two=power_of_two, engine=engine)
    codes = scaled.encode(x, E4M3_SAT, "channel" if per_channel else "tensor", **kwargs)
    positive_axis = None if axis is None else axis % x.ndim
    assert np.array_equal(codes.amax, reference_amax(x, positive_axis))
    want_scales = np.vectorize(lambda a: reference_scale(float(a), power_of_two), otypes=[float])(codes.amax)
    assert np.array_equal(codes.scales, want_scales)
    got = scaled.decode(codes, E4M3_SAT)
    want = reference(x, want_scales, positive_axis)
    assert np.array_equal(got, want) and np.array_equal(np.signbit(got), np.signbit(want))
    other = "exact" if engine == "fast" else "fast"
    assert np.array_equal(scaled.encode(x, E4M3_SAT, "channel" if per_channel else "tensor",
                                        **{**kwargs, "engine": other}).codes, codes.codes)


@given(tensors(), st.sampled_from(["stochastic", "sr8", "toward_zero"]), st.booleans(), st.integers(0, 2**20))
def test_engines_agree_bit_for_bit_in_every_mode(x, rounding, power_of_two, seed):
    runs = [scaled.encode(x, E4M3_SAT, rounding=rounding, power_of_two=power_of_two, seed=seed, offset=7, engine=e)
            for e in ENGINES]
    assert np.array_equal(runs[0].codes, runs[1].codes)
    if power_of_two:  # x / s is exact: the same as encoding the divided values directly
        direct = lpsim.encode(x / runs[0].scales, E4M3_SAT, rounding, seed=seed, offset=7, engine="exact")
        assert np.array_equal(runs[0].codes, direct)


def test_given_scales_and_delayed_scaling():
    x = np.array([[1.0, -3.0], [300.0, 0.5]])
    given_scale = scaled.encode(x, E4M3_SAT, scale=0.5)
    assert given_scale.scales == 0.5 and scaled.decode(given_scale, E4M3_SAT).tolist() == [[1.0, -3.0], [224.0, 0.5]]
    per_row = scaled.quantize(x, E4M3_SAT, "channel", axis=0, scale=[1.0, 2.0])
    assert per_row.tolist() == [[1.0, -3.0], [288.0, 0.5]]           # 300 / 2 = 150 -> 144
    # delayed: the scale comes from the largest amax of the history, not from x
    delayed = scaled.encode(x, E4M3_SAT, history=[448.0, 896.0, np.inf], power_of_two=True)
    assert delayed.scales == 2.0 and delayed.amax == 300.0
    channel = scaled.encode(x, E4M3_SAT, "channel", axis=1, history=[[448.0, 0.0], [224.0, 0.0]], power_of_two=True)
    assert channel.scales.tolist() == [1.0, 1.0]                     # a zero amax gives scale 1
    zero = scaled.encode(np.zeros(3), E4M3_SAT)
    assert zero.scales == 1.0 and scaled.decode(zero, E4M3_SAT).tolist() == [0.0, 0.0, 0.0]


def test_fixed_point_format():
    fmt = FixedPoint(bits=8, frac_bits=0)
    codes = scaled.encode(np.array([1.0, -254.0, 100.0]), fmt, power_of_two=True)
    assert codes.scales == 2.0 and codes.codes.tolist() == [0, -127, 50]


def test_bad_input_names_the_problem():
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match=r"axis 2 is out of range for an array of shape \(2, 3\)"):
        scaled.encode(x, E4M3_SAT, "channel", axis=2)
    with pytest.raises(ValueError, match="scaling must be one of tensor, channel"):
        scaled.encode(x, E4M3_SAT, "block")
    with pytest.raises(ValueError, match="needs the channel axis"):
        scaled.encode(x, E4M3_SAT, "channel")
    with pytest.raises(ValueError, match=r"scale must have shape \(3,\)"):
        scaled.encode(x, E4M3_SAT, "channel", axis=1, scale=[1.0, 2.0])
    with pytest.raises(ValueError, match="positive and finite"):
        scaled.encode(x, E4M3_SAT, scale=0.0)
    with pytest.raises(ValueError, match="not both"):
        scaled.encode(x, E4M3_SAT, scale=1.0, history=[1.0])
    with pytest.raises(ValueError, match=r"history must be .* shape \(steps,\)"):
        scaled.encode(x, E4M3_SAT, history=[])
    with pytest.raises(TypeError, match="FloatFormat or FixedPoint"):
        scaled.encode(x, "mxfp4")
    with pytest.raises(TypeError, match="masked"):
        scaled.encode(np.ma.masked_array(x), E4M3_SAT)
    with pytest.raises(OverflowError, match="e4m3_fn_error"):
        scaled.encode(np.array([1000.0]), "e4m3_fn_error", scale=1.0)


@pytest.mark.parametrize("seed", range(3))
def test_float32_scales_stay_on_the_fast_engine_and_agree(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(6, 9)) * np.exp2(rng.integers(-40, 40, size=(6, 1)))
    for kwargs in (dict(), dict(scaling="channel", axis=0), dict(scaling="channel", axis=-1)):
        with warnings.catch_warnings():
            warnings.simplefilter("error", lpsim.codec.FastEngineFallbackWarning)
            fast = scaled.encode(x, E4M3_SAT, engine="fast", **kwargs)
        exact = scaled.encode(x, E4M3_SAT, engine="exact", **kwargs)
        assert np.array_equal(fast.codes, exact.codes) and np.array_equal(fast.scales, exact.scales)


@given(tensors(), st.data(), st.sampled_from(ENGINES))
def test_decode_inverts_encode_exactly(x, data, engine):
    """decode gives code value * scale exactly, and encoding those values with the same scales
    gives the same codes back."""
    per_channel = data.draw(st.booleans())
    kwargs = dict(scaling="channel", axis=data.draw(st.integers(0, x.ndim - 1))) if per_channel else {}
    codes = scaled.encode(x, E4M3_SAT, engine=engine, **kwargs)
    values = scaled.decode(codes, E4M3_SAT, engine=engine)
    elements = lpsim.decode(codes.codes, E4M3_SAT)
    scales = codes.scales if not per_channel else codes.scales.reshape((-1,) + (1,) * (x.ndim - 1 - kwargs["axis"]))
    full = np.broadcast_to(scales, x.shape)
    for index, v in np.ndenumerate(values):
        assert v == float(Fraction(float(elements[index])) * Fraction(float(full[index])))
    again = scaled.encode(values, E4M3_SAT, scale=codes.scales, engine=engine, **kwargs)
    assert np.array_equal(again.codes, codes.codes)
