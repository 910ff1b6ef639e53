"""Scaled tensors: values divided by a per-tensor or per-channel scale, then rounded into a format.

The scale comes from the tensor's amax (the largest finite magnitude), from the caller, or
from a history of past amax values (delayed scaling, as fp8 training recipes do). The rules,
the edge cases and examples are in docs/formats.md, section "Scaled tensors".
"""

from __future__ import annotations

import math
import numbers
from fractions import Fraction

import attrs
import numpy as np

from .codec import as_float64, check_engine, check_format, decode as decode_codes, encode as encode_codes
from .exact.codec import floor_log2
from .exact.rounding import ElementRandom
from .exact.scaled_codec import finite_amax, float32_scale
from .exact.values import exact_from_fraction, round_exact
from .fast.fallback import warn_once
from .formats.fixed import FixedPoint
from .formats.floating import FloatFormat
from .formats.rounding import Overflow, RoundingMode, as_rounding
from .fast.scaled_codec import exact_midpoint_products, grid, nearest_even_index
from .rng import check_seed_stream

SCALINGS = ("tensor", "channel")


@attrs.frozen(kw_only=True, eq=False)
class ScaledCodes:
    """Codes of a scaled tensor: ``codes`` of the format (x's shape), ``scales`` (float64 values;
    shape () per tensor, (x.shape[axis],) per channel), ``axis`` (None per tensor), and ``amax``
    (this tensor's, per tensor or per channel: append it to a delayed-scaling history)."""

    codes: np.ndarray
    scales: np.ndarray
    axis: int | None
    amax: np.ndarray


def check_axis(axis, shape: tuple[int, ...]) -> int:
    """``axis`` as a non-negative index into ``shape``; ValueError naming the axis and the shape otherwise."""
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"axis must be an integer, got {axis!r}")
    if not -len(shape) <= axis < len(shape):
        raise ValueError(f"axis {axis} is out of range for an array of shape {shape}")
    return int(axis) % len(shape)


def amax(x, scaling: str = "tensor", axis: int | None = None) -> np.ndarray:
    """The largest finite magnitude of x (0 if none): a 0-d array per tensor, one per index of ``axis``
    per channel."""
    x = as_float64(x)
    if _check_scaling(scaling, axis, x.shape) is None:
        return np.asarray(float(finite_amax(x)))
    axis = check_axis(axis, x.shape)
    moved = np.moveaxis(x, axis, 0).reshape(x.shape[axis], -1)
    return np.array([float(finite_amax(row)) for row in moved])


def scales_from_amax(amax_values, fmt, power_of_two: bool = False) -> np.ndarray:
    """Scales for amax values: amax / fmt.max rounded once to float32 (nearest even, saturating; a result
    of 0 becomes float32's smallest subnormal), or with ``power_of_two`` the smallest power of two at
    least amax / fmt.max. A zero or non-finite amax gives the scale 1."""
    fmt = _checked_element_format(check_format(fmt))
    amax_values = np.asarray(amax_values, dtype=np.float64)
    out = np.empty(amax_values.shape)
    for index, a in np.ndenumerate(amax_values):
        if not math.isfinite(a) or a <= 0:
            out[index] = 1.0
            continue
        target = Fraction(float(a)) / Fraction(fmt.max)
        if power_of_two:
            e = floor_log2(target)
            out[index] = math.ldexp(1.0, e if Fraction(2) ** e == target else e + 1)
        else:
            out[index] = float(float32_scale(target, "scale amax / fmt.max"))
    return out


def encode(x, fmt, scaling: str = "tensor", *, axis: int | None = None, scale=None, history=None,
           power_of_two: bool = False, rounding="nearest_even", seed: int = 0, stream: int = 0, offset: int = 0,
           engine: str = "fast") -> ScaledCodes:
    """Round x / scale into ``fmt`` (a FloatFormat or FixedPoint, its own overflow policy applying).

    The scale (per tensor, or per channel along ``axis``) is ``scale`` if given, else comes from the
    largest amax in ``history`` (delayed scaling: past amax values, shape (steps,) per tensor or
    (steps, channels) per channel), else from x's own amax (``scales_from_amax``). x / scale is exact
    and rounded once; element i (flat C order) takes stochastic rounding's bits at offset + i.
    """
    fmt = _checked_element_format(check_format(fmt))
    check_engine(engine)
    if isinstance(x, np.ma.MaskedArray):
        raise TypeError("lpsim.scaled does not take masked arrays (a masked entry would still set the amax); "
                        "fill them first, e.g. x.filled(0)")
    x = as_float64(x)
    per_channel = _check_scaling(scaling, axis, x.shape) is not None
    axis = check_axis(axis, x.shape) if per_channel else None
    width = x.shape[axis] if per_channel else None
    current = amax(x, scaling, axis)
    if scale is not None and history is not None:
        raise ValueError("give scale or history, not both")
    if scale is not None:
        scales = _checked_scales(scale, width)
    elif history is not None:
        scales = scales_from_amax(_history_amax(history, width), fmt, power_of_two)
    else:
        scales = scales_from_amax(current, fmt, power_of_two)
    broadcast = scales if axis is None else scales.reshape((-1,) + (1,) * (x.ndim - 1 - axis))
    codes = _encode_divided(x, broadcast, fmt, as_rounding(rounding), seed, stream, offset, engine)
    return ScaledCodes(codes=codes, scales=scales, axis=axis, amax=current)


def decode(scaled: ScaledCodes, fmt, *, engine: str = "fast") -> np.ndarray:
    """Values of scaled codes: decode(codes) * scale, the product rounded once to float64."""
    if not isinstance(scaled, ScaledCodes):
        raise TypeError(f"decode takes the ScaledCodes that lpsim.scaled.encode returns, got {type(scaled).__name__}")
    fmt = _checked_element_format(check_format(fmt))
    values = np.asarray(decode_codes(scaled.codes, fmt, engine=engine), dtype=np.float64)
    scales = np.asarray(scaled.scales, dtype=np.float64)
    if scaled.axis is not None:
        scales = scales.reshape((-1,) + (1,) * (values.ndim - 1 - scaled.axis))
    return values * scales  # one IEEE multiplication: the exact product rounded once


def quantize(x, fmt, scaling: str = "tensor", **kwargs) -> np.ndarray:
    """``decode(encode(x, fmt, scaling, **kwargs))``: float64 values on the scaled grid."""
    return decode(encode(x, fmt, scaling, **kwargs), fmt, engine=kwargs.get("engine", "fast"))


# -- helpers ----------------------------------------------------------------------------------


def _check_scaling(scaling: str, axis, shape) -> int | None:
    if scaling not in SCALINGS:
        raise ValueError(f"scaling must be one of {', '.join(SCALINGS)}, got {scaling!r}")
    if scaling == "tensor":
        if axis is not None:
            raise ValueError("axis applies only to scaling='channel'")
        return None
    if axis is None:
        raise ValueError("scaling='channel' needs the channel axis")
    return axis


def _checked_element_format(fmt):
    if not isinstance(fmt, (FixedPoint, FloatFormat)):
        raise TypeError(f"a scaled tensor's format must be a FloatFormat or FixedPoint, got {type(fmt).__name__} {fmt.spec}")
    if fmt.max <= 0:
        raise ValueError(f"format {fmt.spec} has no positive values to scale into")
    return fmt


def _checked_scales(scale, width: int | None) -> np.ndarray:
    scales = np.asarray(scale, dtype=np.float64)
    expected = () if width is None else (width,)
    if scales.shape != expected:
        raise ValueError(f"scale must have shape {expected} (one per {'tensor' if width is None else 'channel'}), got {scales.shape}")
    if not np.all(np.isfinite(scales) & (scales > 0)):
        raise ValueError(f"scale must be positive and finite, got {scale!r}")
    return scales


def _history_amax(history, width: int | None) -> np.ndarray:
    past = np.asarray(history, dtype=np.float64)
    expected = "(steps,)" if width is None else f"(steps, {width})"
    if past.ndim != (1 if width is None else 2) or past.shape[0] == 0 or (width is not None and past.shape[1] != width):
        raise ValueError(f"history must be past amax values of shape {expected} with at least one step, got {past.shape}")
    finite = np.where(np.isfinite(past), np.abs(past), 0.0)  # non-finite entries are ignored
    return finite.max(axis=0)


def _encode_divided(x: np.ndarray, scales: np.ndarray, fmt, rounding, seed, stream, offset, engine) -> np.ndarray:
    """Codes of x / scales (broadcast), the quotient exact and rounded once."""
    quotient = x / scales
    with np.errstate(invalid="ignore", over="ignore"):
        exact = np.all(_is_power_of_two(scales)) and np.all((quotient * scales == x) | ~np.isfinite(x))
    if exact:  # dividing by a power of two lost nothing: the quotient is the exact value
        return np.asarray(encode_codes(quotient, fmt, rounding, seed=seed, stream=stream, offset=offset, engine=engine))
    if engine == "fast" and _nearest_even_fast(x, scales, fmt, rounding):
        k = nearest_even_index(np.abs(x).reshape(-1), np.broadcast_to(scales, x.shape).reshape(-1), fmt)
        negative = np.signbit(x).reshape(-1) & (fmt.has_negative_zero | (k > 0))
        codes = grid(fmt)[1][k] | np.where(negative, fmt.sign_mask, 0)
        return codes.astype(fmt.code_dtype).reshape(x.shape)
    if engine == "fast":
        warn_once(("scaled", "non power-of-two"), "lpsim.scaled: with scales that are not powers of two the fast "
                  "engine covers only nearest-even rounding into saturating float formats of finite values; the "
                  "exact engine divides and rounds (slow). power_of_two=True keeps the fast engine.", stacklevel=3)
    seed, stream = check_seed_stream(seed, stream)
    full = np.broadcast_to(scales, x.shape)
    out = np.empty(x.shape, dtype=fmt.code_dtype)
    flat_x, flat_s, flat_out = x.reshape(-1), full.reshape(-1), out.reshape(-1)
    for i in range(flat_x.size):
        v = float(flat_x[i])
        value = v if v == 0 or not math.isfinite(v) else exact_from_fraction(Fraction(v) / Fraction(float(flat_s[i])))
        random = ElementRandom(seed, stream, offset + i, rounding.generator) if rounding.is_stochastic else None
        flat_out[i] = round_exact(value, fmt, rounding, random, f"element {i} / scale")
    return out


def _nearest_even_fast(x: np.ndarray, scales: np.ndarray, fmt, rounding) -> bool:
    """Whether the fast engine's exact-comparison rounding (lpsim.fast.scaled_codec) covers this call."""
    return (rounding.mode is RoundingMode.NEAREST_EVEN and isinstance(fmt, FloatFormat) and fmt.signed and fmt.man_bits >= 1
            and fmt.subnormals and fmt.bits <= 12 and fmt.overflow is Overflow.SATURATE
            and bool(np.isfinite(x).all()) and exact_midpoint_products(fmt, np.asarray(scales).reshape(-1)))


def _is_power_of_two(a: np.ndarray) -> np.ndarray:
    mantissa, _ = np.frexp(a)
    return mantissa == 0.5
