"""Hypothesis properties of quantize on random small fixed and float formats, on each engine.

Each example draws a format and a batch of values placed on, between and at the
midpoints of the format's grid points, then checks, for every deterministic mode:
on the grid, idempotent, monotone, within half a step (nearest) or within one step in
the right direction (directed), odd codes for to-odd, and equality with a brute-force
rounding on the enumerated grid (tests/formats/formats_ref.py).
"""

from __future__ import annotations

import math
from fractions import Fraction

import attrs
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import lpsim
from lpsim.formats import FixedPoint, FloatFormat, Overflow, RoundingMode, Specials

from .formats_ref import (
    DETERMINISTIC_MODES,
    NEAREST_MODES,
    assert_same_floats,
    float_magnitudes,
    round_fixed_reference,
    round_float_reference,
)

EXAMPLES = settings(max_examples=100, deadline=None)


def _float_format(exp_bits, man_bits, specials, subnormals, bias_shift, saturate):
    if specials is Specials.IEEE and man_bits == 0:
        man_bits = 1
    default = FloatFormat(exp_bits=exp_bits, man_bits=man_bits, specials=specials)
    overflow = Overflow.SATURATE if saturate or specials is Specials.NONE else Overflow.IEEE
    return FloatFormat(
        exp_bits=exp_bits, man_bits=man_bits, specials=specials, subnormals=subnormals,
        bias=default.effective_bias + bias_shift, overflow=overflow,
    )


float_formats = st.builds(
    _float_format,
    exp_bits=st.integers(2, 5),
    man_bits=st.integers(0, 4),
    specials=st.sampled_from(list(Specials)),
    subnormals=st.booleans(),
    bias_shift=st.integers(-3, 3),
    saturate=st.booleans(),
)


@st.composite
def fixed_formats(draw, power_of_two=True):
    bits = draw(st.integers(1, 10))
    signed = draw(st.booleans()) if bits >= 2 else False
    if power_of_two:
        return FixedPoint(bits=bits, signed=signed, frac_bits=draw(st.integers(-3, 8)))
    scale = draw(st.sampled_from([0.1, 0.3, 1 / 3, 0.75, 1.7, 5.0, 1e-3]))
    return FixedPoint(bits=bits, signed=signed, scale=scale)


def grid_of(fmt) -> np.ndarray:
    """All finite values of a small format, ascending (one zero)."""
    if isinstance(fmt, FixedPoint):
        return np.arange(fmt.code_min, fmt.code_max + 1) * fmt.step
    mags = float_magnitudes(fmt)
    return np.concatenate([-mags[:0:-1], mags])


@st.composite
def values_on_grid(draw, grid: np.ndarray, beyond: bool = False, n: int = 12):
    """Values at grid points, between them (midpoints, near-midpoints, random) and optionally beyond."""
    out = []
    for _ in range(n):
        i = draw(st.integers(0, len(grid) - 2)) if len(grid) > 1 else 0
        lo, hi = grid[i], grid[min(i + 1, len(grid) - 1)]
        where = draw(st.sampled_from(["grid", "mid", "below_mid", "above_mid", "random"]))
        mid = lo / 2 + hi / 2
        x = {
            "grid": lo,
            "mid": mid,
            "below_mid": np.nextafter(mid, -np.inf),
            "above_mid": np.nextafter(mid, np.inf),
            "random": lo + draw(st.floats(0, 1)) * (hi - lo),
        }[where]
        out.append(float(min(max(x, grid[0]), grid[-1])))
    if beyond:
        top = max(abs(grid[0]), abs(grid[-1]), 1.0)
        out += [draw(st.floats(-4 * top, 4 * top, allow_nan=False)) for _ in range(3)]
    if draw(st.booleans()):
        out.append(-0.0)
    return np.array(out)


def neighbours(x: float, grid: np.ndarray) -> tuple[Fraction, Fraction]:
    """Grid points lo <= x <= hi (exact)."""
    i = int(np.searchsorted(grid, x, side="right")) - 1
    lo = grid[max(i, 0)]
    hi = lo if lo == x else grid[min(i + 1, len(grid) - 1)]
    return Fraction(float(lo)), Fraction(float(hi))


def check_mode_properties(fmt, xs, mode, grid, engine):
    q = lpsim.quantize(xs, fmt, mode, engine=engine)
    # on the grid, and idempotent
    assert np.all(np.isin(q, grid)), f"{fmt} {mode}: off-grid results {q[~np.isin(q, grid)]}"
    assert_same_floats(lpsim.quantize(q, fmt, mode, engine=engine), q, f"{fmt} {mode.value} idempotent")
    # monotone (non-decreasing)
    order = np.argsort(xs, kind="stable")
    assert np.all(np.diff(q[order]) >= 0), f"{fmt} {mode}: not monotone"
    for x, r in zip(xs, q):
        lo, hi = neighbours(x, grid)
        fx, fr = Fraction(float(x)), Fraction(float(r))
        assert fr in (lo, hi), f"{fmt} {mode}: {x!r} -> {r!r} is not a neighbour in [{lo}, {hi}]"
        if mode in NEAREST_MODES:
            assert abs(fr - fx) <= (hi - lo) / 2
        elif mode is RoundingMode.TOWARD_POSITIVE:
            assert fr >= fx
        elif mode is RoundingMode.TOWARD_NEGATIVE:
            assert fr <= fx
        elif mode is RoundingMode.TOWARD_ZERO:
            assert abs(fr) <= abs(fx)
    return q


@EXAMPLES
@given(data=st.data(), fmt=float_formats)
def test_float_quantize_properties(data, fmt, engine):
    grid = grid_of(fmt)
    xs = data.draw(values_on_grid(grid))
    mags = float_magnitudes(fmt)
    for mode in DETERMINISTIC_MODES:
        q = check_mode_properties(fmt, xs, mode, grid, engine)
        expected = [round_float_reference(float(x), fmt, mode, mags) for x in xs]
        assert_same_floats(q, expected, f"{fmt} {mode.value} vs brute force")
        if mode is RoundingMode.TO_ODD and fmt.man_bits > 0:  # with no mantissa bits the significand is always 1
            codes = lpsim.encode(xs, fmt, mode, engine=engine).astype(np.int64)
            inexact = q != xs
            in_gap = np.abs(xs) < fmt.smallest_normal  # without subnormals this gap is {0, smallest normal}
            check = inexact & (fmt.subnormals | ~in_gap)
            assert np.all(codes[check] % 2 == 1), f"{fmt}: even codes {codes[check]} from to_odd"


@settings(max_examples=60, deadline=None)
@given(data=st.data(), fmt=fixed_formats())
def test_fixed_quantize_properties(data, fmt, engine):
    grid = grid_of(fmt)
    xs = data.draw(values_on_grid(grid))
    for mode in DETERMINISTIC_MODES:
        q = check_mode_properties(fmt, xs, mode, grid, engine)
        codes = lpsim.encode(xs, fmt, mode, engine=engine).astype(np.int64)
        expected = [min(max(round_fixed_reference(float(x), fmt, mode), fmt.code_min), fmt.code_max) for x in xs]
        assert codes.tolist() == expected
        if mode is RoundingMode.TO_ODD:
            inexact = q != xs
            assert np.all(codes[inexact] % 2 != 0)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), fmt=st.one_of(float_formats.map(lambda f: attrs.evolve(f, overflow="saturate")), fixed_formats()))
def test_monotone_and_idempotent_beyond_the_range_when_saturating(data, fmt, engine):
    grid = grid_of(fmt)
    xs = data.draw(values_on_grid(grid, beyond=True, n=6))
    for mode in DETERMINISTIC_MODES:
        q = lpsim.quantize(xs, fmt, mode, engine=engine)
        assert np.all((q >= fmt.min) & (q <= fmt.max))
        order = np.argsort(xs, kind="stable")
        assert np.all(np.diff(q[order]) >= 0)
        assert_same_floats(lpsim.quantize(q, fmt, mode, engine=engine), q, "idempotent")


@settings(max_examples=60, deadline=None)
@given(data=st.data(), fmt=fixed_formats(power_of_two=False))
def test_fixed_with_a_non_power_of_two_scale(data, fmt, engine):
    """v = fl(x / scale), decode fl(k * scale): monotone in every mode, idempotent for nearest modes."""
    codes = np.arange(fmt.code_min, fmt.code_max + 1)
    grid = lpsim.decode(codes.astype(fmt.code_dtype), fmt, engine=engine)
    assert np.array_equal(grid, codes * fmt.step)  # fl(k * scale), one rounding
    xs = data.draw(values_on_grid(grid, beyond=True, n=8))
    for mode in DETERMINISTIC_MODES:
        k = lpsim.encode(xs, fmt, mode, engine=engine).astype(np.int64)
        expected = [min(max(round_fixed_reference(float(x) / fmt.step, FixedPoint(bits=64, frac_bits=0), mode),
                            fmt.code_min), fmt.code_max) for x in xs]
        assert k.tolist() == expected
        order = np.argsort(xs, kind="stable")
        assert np.all(np.diff(k[order]) >= 0)
        if mode in NEAREST_MODES:
            assert np.array_equal(lpsim.encode(grid, fmt, mode, engine=engine).astype(np.int64), codes)


def test_non_power_of_two_scale_directed_rounding_is_on_the_float64_quotient(engine):
    """The documented caveat: decode gives fl(k * scale), and directed modes see fl(x / scale)."""
    fmt = FixedPoint(bits=8, scale=0.1)
    assert lpsim.encode(0.3, fmt, "toward_zero", engine=engine) == 2  # 0.3 / 0.1 == 2.9999999999999996
    assert lpsim.encode(0.7, fmt, "toward_positive", engine=engine) == 7  # 0.7 / 0.1 == 6.999999999999999
    assert lpsim.encode(0.7, fmt, "toward_negative", engine=engine) == 6
    assert math.isclose(lpsim.quantize(0.3, fmt, engine=engine), 0.30000000000000004)
