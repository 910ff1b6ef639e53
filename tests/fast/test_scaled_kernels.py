"""The one-call scaled-block kernel (lpsim/fast/_scaled_kernels.py) against the exact engine, bit for bit.

Random formats (element, scale format, block size, axis, tensor scale, scale rounding), random
arrays with specials, every rounding mode (stochastic with seeds, random bits and generators):
the fast engine's codes, tensor scale and quantized values must be the exact engine's. Where the
kernel is expected to settle a call, the numpy path must not run, so these tests check the
kernel and not the path it falls back to.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from unittest import mock

import attrs
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import lpsim
from lpsim.fast import scaled_codec
from lpsim.formats import FixedPoint, FloatFormat, Rounding, RoundingMode, ScaledBlockFormat, Specials
from lpsim.formats.rounding import RandomGenerator

NVFP4 = ScaledBlockFormat.nvfp4()
ELEMENTS = [
    FloatFormat(exp_bits=2, man_bits=1, specials=Specials.NONE),
    FloatFormat(exp_bits=2, man_bits=3, specials=Specials.NONE),
    FloatFormat(exp_bits=3, man_bits=2, specials=Specials.NONE),
    FloatFormat(exp_bits=4, man_bits=3, specials=Specials.FN, overflow="saturate"),
    FloatFormat(exp_bits=5, man_bits=2, overflow="saturate"),
    FloatFormat(exp_bits=3, man_bits=1, bias=1, specials=Specials.NONE),
]
SCALES = [
    FloatFormat(exp_bits=4, man_bits=3, specials=Specials.FN, overflow="saturate"),
    FloatFormat(exp_bits=5, man_bits=2, overflow="saturate"),
    FloatFormat(exp_bits=3, man_bits=2, specials=Specials.NONE),
    FixedPoint(bits=8, signed=False, frac_bits=4),
    FixedPoint(bits=6, signed=False, frac_bits=-2),
]
DETERMINISTIC = [m for m in RoundingMode if m is not RoundingMode.STOCHASTIC]

formats = st.builds(
    lambda element, scale, size, tensor, scale_mode: ScaledBlockFormat(
        element=element, scale=scale, block_size=size, tensor_scale=tensor, scale_rounding=scale_mode),
    st.sampled_from(ELEMENTS), st.sampled_from(SCALES), st.integers(1, 20), st.booleans(), st.sampled_from(DETERMINISTIC),
)
roundings = st.one_of(
    st.sampled_from(DETERMINISTIC).map(lambda m: Rounding(mode=m)),
    st.builds(lambda bits, generator: Rounding(mode="stochastic", random_bits=bits, generator=generator),
              st.sampled_from([None, 1, 2, 3, 8, 16, 31, 32]), st.sampled_from(list(RandomGenerator))),
)
keys = st.fixed_dictionaries({"seed": st.integers(0, 2**64 - 1), "stream": st.integers(0, 2**32 - 1),
                              "offset": st.integers(0, 2**40)})


def _magnitudes(low: int, high: int):
    return st.builds(lambda m, e: m * 2.0**e, st.floats(1.0, 2.0, exclude_max=True), st.integers(low, high))


def _values(low: int, high: int, specials: bool):
    signed = st.builds(lambda v, negative: -v if negative else v, _magnitudes(low, high), st.booleans())
    extra = [0.0, -0.0] + ([math.nan, math.inf, -math.inf] if specials else [])
    return st.one_of(signed, signed, signed, st.sampled_from(extra))


@st.composite
def arrays_and_axis(draw, low=-40, high=40, specials=True):
    shape = tuple(draw(st.lists(st.integers(1, 9), min_size=1, max_size=3)))
    flat = draw(st.lists(_values(low, high, specials), min_size=math.prod(shape), max_size=math.prod(shape)))
    x = np.array(flat, dtype=np.float64).reshape(shape)
    return x, draw(st.integers(-x.ndim, x.ndim - 1))


@contextlib.contextmanager
def kernel_only(expected: bool):
    """Fail if the numpy path runs while ``expected`` (the kernel should settle every call)."""
    if not expected:
        yield
        return
    with mock.patch.object(scaled_codec, "_encode_vectorized", side_effect=AssertionError("the kernel fell back")):
        yield


def assert_same_values(got: np.ndarray, want: np.ndarray) -> None:
    assert np.array_equal(got, want, equal_nan=True), (got, want)
    assert np.array_equal(np.signbit(got[~np.isnan(want)]), np.signbit(want[~np.isnan(want)]))


def check(x: np.ndarray, fmt: ScaledBlockFormat, rounding: Rounding, key: dict, kernel_expected: bool) -> None:
    exact = lpsim.encode(x, fmt, rounding, engine="exact", **key)
    with kernel_only(kernel_expected):
        codes = lpsim.encode(x, fmt, rounding, **key)
        values = lpsim.quantize(x, fmt, rounding, **key)
    assert codes.elements.dtype == exact.elements.dtype and codes.scales.dtype == exact.scales.dtype
    assert np.array_equal(codes.scales, exact.scales), (codes.scales, exact.scales)
    assert np.array_equal(codes.elements, exact.elements), (codes.elements, exact.elements)
    assert codes.tensor_scale == exact.tensor_scale and type(codes.tensor_scale) is type(exact.tensor_scale)
    assert_same_values(values, lpsim.decode(exact, fmt, engine="exact"))


@settings(max_examples=150, deadline=None)
@given(data=arrays_and_axis(), fmt=formats, rounding=roundings, key=keys)
def test_kernel_encodes_and_quantizes_as_the_exact_engine(data, fmt, rounding, key):
    x, axis = data
    fmt = attrs.evolve(fmt, axis=axis)
    if not np.isfinite(x).all() and not fmt.scale.has_nan:
        x = np.nan_to_num(x, nan=1.0, posinf=2.0, neginf=-3.0)  # such blocks raise: tested elsewhere
    check(x, fmt, rounding, key, kernel_expected=True)


@settings(max_examples=60, deadline=None)
@given(data=arrays_and_axis(low=-1074, high=1023, specials=False), fmt=formats, rounding=roundings, key=keys)
def test_kernel_agrees_over_the_whole_float64_range(data, fmt, rounding, key):
    """Far-apart exponents reach products the kernel cannot prove exact: it hands them on, same bits."""
    x, axis = data
    check(x, attrs.evolve(fmt, axis=axis), rounding, key, kernel_expected=False)


# -- ties and edges, where a wrong rule shows --------------------------------------------------------------


def _grid(fmt) -> np.ndarray:
    return scaled_codec.grid(fmt)[0]


@settings(max_examples=40, deadline=None)
@given(element=st.sampled_from(ELEMENTS), scale=st.sampled_from(SCALES[:3]), exponent=st.integers(-20, 20),
       mode=st.sampled_from(DETERMINISTIC), nudge=st.sampled_from((-1, 0, 1)), key=keys)
def test_every_element_midpoint_under_a_power_of_two_tensor_scale(element, scale, exponent, mode, nudge, key):
    """Blocks whose largest value makes the tensor scale 2**exponent and the block scale the scale
    format's largest value, then every element midpoint times both scales (on it, or a float64 ulp either side),
    both signs, in every mode: each one a tie or a near-tie of the element rounding."""
    fmt = ScaledBlockFormat(element=element, scale=scale, block_size=8, tensor_scale=True, scale_rounding=mode)
    values = _grid(element)
    mids = (values[:-1] + values[1:]) / 2
    t, s = 2.0**exponent, scale.max
    top = element.max * s * t
    ties = mids * s * t  # exact: few bits each
    if nudge:
        ties = np.nextafter(ties, math.copysign(math.inf, nudge))
    body = np.concatenate([ties, -ties])
    rows = [np.concatenate([[top], body[i:i + 7]]) for i in range(0, body.size, 7)]
    x = np.array([np.pad(r, (0, 8 - r.size)) for r in rows])
    for rounding in (Rounding(mode=mode), Rounding(mode="stochastic"), Rounding(mode="stochastic", random_bits=4)):
        check(x, fmt, rounding, key, kernel_expected=True)


@given(mantissa=st.integers(1 << 23, (1 << 24) - 2), exponent=st.integers(-149, 100), nudge=st.sampled_from((-1, 0, 1)))
def test_the_tensor_scale_rounds_ties_to_even(mantissa, exponent, nudge):
    """amax / (element.max * scale.max) exactly halfway between two float32 values (or a float64 ulp off),
    normal and subnormal: the tensor scale is the even one (or the nearer)."""
    halfway = (mantissa + 0.5) * 2.0 ** (exponent - 23)
    if exponent - 23 < -149:  # subnormal float32: the step is 2**-149
        halfway = (mantissa % (1 << 10) + 0.5) * 2.0**-149
    amax = halfway * NVFP4.element.max * NVFP4.scale.max
    if nudge:
        amax = float(np.nextafter(amax, math.copysign(math.inf, nudge)))
    x = np.array([amax, -amax / 3, 0.0, amax / 7])
    check(x, NVFP4, Rounding(mode="nearest_even"), {}, kernel_expected=True)


def test_special_blocks_and_tensor_scale_edges():
    """Zero, NaN and inf blocks (amax zero or non-finite), the smallest and largest float64 magnitudes
    (the tensor scale's floor 2**-149 and saturation at float32's max), one value, and no values."""
    x = np.array([
        [0.0, -0.0, 0.0, -0.0],
        [1.0, math.nan, -2.0, 3.0],
        [math.inf, 1.0, 2.0, -0.0],
        [-math.inf, -math.inf, 0.0, 1.0],
        [5e-324, -5e-324, 0.0, 1e-310],
        [1.5, -0.75, 6.0, -6.0],
    ])
    small = attrs.evolve(NVFP4, block_size=4)
    for fmt in (small, attrs.evolve(small, tensor_scale=False), attrs.evolve(small, axis=0)):
        for rounding in (Rounding(mode="nearest_even"), Rounding(mode="toward_negative"), Rounding(mode="stochastic")):
            check(x, fmt, rounding, {"seed": 3}, kernel_expected=True)
            for rows in ([4], [1, 3], [5]):
                check(x[rows], fmt, rounding, {"seed": 3}, kernel_expected=True)
    for extreme in (5e-324, 1.7976931348623157e308, -1.7976931348623157e308):
        check(np.array([extreme, extreme / 3]), NVFP4, Rounding(mode="nearest_even"), {}, kernel_expected=False)
    check(np.array(2.5), NVFP4, Rounding(mode="nearest_even"), {}, kernel_expected=True)
    check(np.zeros((0, 3)), attrs.evolve(NVFP4, axis=0), Rounding(mode="nearest_even"), {}, kernel_expected=True)


@settings(max_examples=60, deadline=None)
@given(step=st.sampled_from([0.1, 1 / 3, 3.0, 0.3, 2.0**-3 * 5]), tensor=st.booleans(),
       x=st.lists(st.floats(-50, 50), min_size=1, max_size=12))
def test_a_scale_step_that_is_not_a_power_of_two_decodes_with_one_rounding(step, tensor, x):
    """A fixed-point scale k * step has as many significant bits as the step: element * scale is then not a
    float64 number, and multiplying it by the tensor scale would round twice. Decode and quantize must round the
    exact product once, as the exact engine does."""
    fmt = ScaledBlockFormat(element=ELEMENTS[0], scale=FixedPoint(bits=8, signed=False, scale=step), block_size=4,
                            tensor_scale=tensor)
    x = np.array(x)
    exact = lpsim.encode(x, fmt, engine="exact")
    want = lpsim.decode(exact, fmt, engine="exact")
    with warnings.catch_warnings():
        # scales that are not float64 numbers go to the exact engine on purpose, with its warning
        warnings.simplefilter("ignore", lpsim.codec.FastEngineFallbackWarning)
        assert_same_values(lpsim.decode(exact, fmt), want)
        assert_same_values(lpsim.quantize(x, fmt), want)
