"""The fast engine's ScaledBlockFormat codec: vectorized numpy, bit for bit the exact engine's.

Rounding a quotient v / d onto a grid needs only exact comparisons of v with the grid's values
and midpoints times d; when those and d have few enough significant bits, every such product is
a float64 number, so numpy decides each rounding exactly in every deterministic mode
(``rounded_index``) and stochastic rounding with the exact engine's random bits
(``stochastic_index``). What this path cannot prove exact (more than 32 random bits, a scale
format that raises on overflow, wide formats, products that could lose
bits) runs on the exact engine, with one FastEngineFallbackWarning per kind.
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction

import numpy as np

from .. import rng
from ..exact import scaled_codec as exact
from ..exact.codec import decode_fixed_element, decode_float_element
from ..exact.rounding import ElementRandom
from ..exact.values import round_exact
from ..formats.block import BlockCodes, block_axis, checked_block_codes
from ..formats.fixed import FixedPoint
from ..formats.floating import FloatFormat
from ..formats.rounding import Overflow, Rounding, RoundingMode
from ..formats.scaled_block import ScaledBlockFormat
from . import _scaled_kernels as SK
from ._memo import by_identity2
from .codec import (block_layout, call_kernel, call_round_params, decode_fixed, decode_float,
                    deterministic_round_params, mode_and_bits)
from .fallback import warn_once

_TABLE_MAX_BITS = 12
_FLOAT64_BITS = 53
_SMALLEST_FLOAT64 = 2.0**-1074


@functools.lru_cache(maxsize=64)
def grid(fmt) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values, codes, midpoints) of fmt's finite non-negative values in increasing order."""
    decode = decode_fixed_element if isinstance(fmt, FixedPoint) else decode_float_element
    low = fmt.code_min if isinstance(fmt, FixedPoint) else 0
    high = fmt.code_max if isinstance(fmt, FixedPoint) else fmt.n_codes - 1
    pairs = sorted((v, c) for c in range(max(low, 0), high + 1)
                   if math.isfinite(v := decode(c, fmt)) and math.copysign(1.0, v) > 0)
    values = np.array([v for v, _ in pairs])
    codes = np.array([c for _, c in pairs], dtype=np.int64)
    mids = (values[:-1] + values[1:]) / 2  # exact: the values are fmt's, with a bit to spare
    for a in (values, codes, mids):
        a.setflags(write=False)
    return values, codes, mids


def significant_bits(a: np.ndarray) -> int:
    """The most significant bits any nonzero finite value of ``a`` has (0 if none)."""
    a = np.abs(a[np.isfinite(a) & (a != 0)])
    if not a.size:
        return 0
    mantissa = (np.frexp(a)[0] * 2.0**_FLOAT64_BITS).astype(np.int64)
    lowest = mantissa & -mantissa
    return int(_FLOAT64_BITS - np.log2(lowest.astype(np.float64)).min())


def _floor_index(v: np.ndarray, d: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The largest k with values[k] * d <= v (v >= 0, d > 0), by exact comparisons after a float64 guess.

    The caller guarantees every values[k] * d is a float64 number; the float64 quotient v / d puts
    the guess within one step of its place, and the comparisons then settle it.
    """
    last = values.size - 1
    with np.errstate(over="ignore", invalid="ignore"):
        k = np.clip(np.searchsorted(values, v / d, side="right") - 1, 0, last)
        for _ in range(2):
            k = k - ((k > 0) & (values[k] * d > v))
            k = k + ((k < last) & (values[np.minimum(k + 1, last)] * d <= v))
    return k


def rounded_index(v: np.ndarray, d: np.ndarray, fmt, mode: RoundingMode,
                  negative: np.ndarray | bool = False) -> np.ndarray:
    """Index into ``grid(fmt)`` of v / d (v >= 0, d > 0) rounded in a deterministic ``mode``, saturating at the largest.

    ``negative`` is the sign of the value v is the magnitude of: directed modes are mirrored for it,
    as the exact engine does. The caller guarantees every midpoint * d is exact in float64 (so
    every grid value * d is too). Past the largest value every mode gives the largest, because
    element and (fast-path) scale formats saturate.
    """
    values, codes, mids = grid(fmt)
    last = values.size - 1
    lo = _floor_index(v, d, values)
    inside = lo < last
    hi = np.minimum(lo + 1, last)
    with np.errstate(over="ignore", invalid="ignore"):
        inexact = inside & (values[lo] * d != v)
        if mode in (RoundingMode.NEAREST_EVEN, RoundingMode.NEAREST_AWAY):
            mid = mids[np.minimum(lo, last - 1)] * d
            tie_up = (codes[lo] & 1) == 1 if mode is RoundingMode.NEAREST_EVEN else True
            up = (v > mid) | ((v == mid) & tie_up)
        elif mode is RoundingMode.TO_ODD:
            up = (codes[lo] & 1) == 0
        elif mode is RoundingMode.TOWARD_ZERO:
            up = False
        elif mode is RoundingMode.TOWARD_POSITIVE:
            up = ~np.asarray(negative)
        elif mode is RoundingMode.TOWARD_NEGATIVE:
            up = np.asarray(negative)
        else:
            raise AssertionError(f"rounded_index takes deterministic modes, got {mode}")
    return np.where(inexact & up, hi, lo)


_SPLITTER = 2.0**27 + 1  # Veltkamp's split of a float64 into two 26-bit halves
_SAFE_PRODUCT = 2.0**900  # splits and products of factors within this range neither overflow nor underflow


def _two_product(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(p, e) with p = fl(a * b) and p + e = a * b exactly (Dekker), for |a|, |b| within 1/_SAFE_PRODUCT .. _SAFE_PRODUCT."""
    def split(c):
        t = _SPLITTER * c
        high = t - (t - c)
        return high, c - high
    (a_high, a_low), (b_high, b_low) = split(a), split(b)
    p = a * b
    return p, ((a_high * b_high - p) + a_high * b_low + a_low * b_high) + a_low * b_low


def stochastic_index(v: np.ndarray, d: np.ndarray, fmt, words: np.ndarray,
                     random_bits: int | None) -> tuple[np.ndarray, np.ndarray]:
    """(index into ``grid(fmt)``, undecided) of v / d (v >= 0, d > 0) rounded stochastically as the exact engine does.

    With ``words`` each element's first 32-bit random word: r random bits (r <= 32) round up iff
    their integer u < floor(f * 2**r), f the discarded fraction; exact probabilities (r None) round
    up iff the word is below f * 2**32, and leave a word equal to its floor to the next words
    unless f * 2**32 is that integer. The remainder v - grid value * d is exact (Sterbenz: the
    value is at least half of v); the float64 quotient f * 2**r is within one of its floor, and an
    exact product (Dekker) of that integer with the step settles which. Undecided words, and
    factors too large or too small for the product (out of reach of the formats this path takes,
    a guard should its limits grow), come back as undecided, for the exact engine.
    """
    values = grid(fmt)[0]
    last = values.size - 1
    lo = _floor_index(v, d, values)
    hi = np.minimum(lo + 1, last)
    r = 32 if random_bits is None else random_bits
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        below = values[lo] * d
        inexact = (lo < last) & (below != v)
        step = (values[hi] - values[lo]) * d
        remainder = np.ldexp(v - below, r)  # f * 2**r * step, exactly
        guess = np.rint(remainder / step)
        product, error = _two_product(guess, step)
        at_least = (remainder > product) | ((remainder == product) & (error <= 0))  # f * 2**r >= guess
        on = (remainder == product) & (error == 0)
        floor = np.where(at_least, guess, guess - 1)
        safe = ((step > 1 / _SAFE_PRODUCT) & (step < _SAFE_PRODUCT) & (remainder < _SAFE_PRODUCT)
                & (guess < _SAFE_PRODUCT))
    undecided = inexact & ~safe
    u = words if random_bits is None else words >> np.uint64(32 - random_bits)
    if random_bits is None:
        undecided |= inexact & (u == floor) & ~on
    return np.where(inexact & (u < floor), hi, lo), undecided


def nearest_even_index(v: np.ndarray, d: np.ndarray, fmt) -> np.ndarray:
    """Index into ``grid(fmt)`` of v / d (v >= 0, d > 0) rounded to nearest even, saturating at the largest."""
    return rounded_index(v, d, fmt, RoundingMode.NEAREST_EVEN)


def _static_fast(fmt: ScaledBlockFormat, rounding: Rounding) -> str | None:
    """Why this path cannot run the format and rounding, or None if it can."""
    element, scale = fmt.element, fmt.scale
    if rounding.is_stochastic and (rounding.random_bits or 0) > 32:
        return "stochastic rounding with more than 32 random bits"
    if not isinstance(element, FloatFormat) or element.man_bits < 1 or not element.subnormals:
        return "fixed-point elements, or float elements without subnormals or mantissa bits"
    if scale.overflow is not Overflow.SATURATE:
        return "scale formats that raise on overflow"
    if element.bits > _TABLE_MAX_BITS or scale.bits > _TABLE_MAX_BITS:
        return f"element or scale formats wider than {_TABLE_MAX_BITS} bits"
    if isinstance(scale, FloatFormat) and (scale.man_bits < 1 or not scale.subnormals):
        return "float scales without subnormals or mantissa bits"
    if isinstance(scale, FixedPoint) and _value_bits(scale)[0] > _FLOAT64_BITS:
        return "fixed-point scales whose values (code times step) are not float64 numbers"
    return None


def _fallback(reason: str, fmt):
    warn_once(("scaled_block", reason), f"ScaledBlockFormat {fmt.spec}: the fast engine has no path for {reason}; "
              "using the exact engine (slow).", stacklevel=4)


def _exact_products(a_bits: int, b_bits: int, smallest_unit: float) -> bool:
    """Whether products of an a_bits and a b_bits number are float64 numbers: few enough bits, and every
    product a multiple of ``smallest_unit`` (the product of the two factors' lowest bits) >= 2**-1074."""
    return a_bits + b_bits <= _FLOAT64_BITS and smallest_unit >= _SMALLEST_FLOAT64


def _value_bits(fmt) -> tuple[int, int]:
    """(significant bits enough for every value of fmt, exponent of the lowest bit any value can have): a float's
    precision and grid step; a fixed point's code bits plus its step's bits, and its step's lowest bit."""
    if isinstance(fmt, FloatFormat):
        return fmt.man_bits + 1, fmt.emin - fmt.man_bits
    step = float(fmt.step)
    return fmt.bits + significant_bits(np.array([step])), _lowest_bit_exponent(step)


def _exact_value_products(element, scale) -> bool:
    """Whether every element value times every scale value is a float64 number (so that decoding, which then
    multiplies by the tensor scale, rounds the exact product once)."""
    (element_bits, element_low), (scale_bits, scale_low) = _value_bits(element), _value_bits(scale)
    return element_bits + scale_bits <= _FLOAT64_BITS and element_low + scale_low >= -1074


def exact_midpoint_products(fmt, d: np.ndarray) -> bool:
    """Whether every midpoint of ``grid(fmt)`` times every positive d is a float64 number."""
    mids = grid(fmt)[2]
    d = d[d > 0]
    if not d.size:
        return True
    lowest_d = float(d.min()) * 2.0**-_FLOAT64_BITS  # no factor's lowest bit is below this
    return _exact_products(significant_bits(mids), significant_bits(d), float(mids[0]) * lowest_d)


def encode_scaled_block(x: np.ndarray, fmt: ScaledBlockFormat, rounding: Rounding, seed: int, stream: int,
                        offset: int) -> BlockCodes:
    params = by_identity2(_kernel_params, fmt, rounding)
    if params is not None:
        done = _run_kernel(params, x, fmt, rounding, seed, stream, offset, True)
        if done is not None:
            return done
    return _encode_vectorized(x, fmt, rounding, seed, stream, offset)


def quantize_scaled_block(x: np.ndarray, fmt: ScaledBlockFormat, rounding: Rounding, seed: int, stream: int,
                          offset: int) -> np.ndarray:
    """decode_scaled_block(encode_scaled_block(...)), in one kernel call where the kernel settles it."""
    params = by_identity2(_kernel_params, fmt, rounding)
    if params is not None:
        done = _run_kernel(params, x, fmt, rounding, seed, stream, offset, False)
        if done is not None:
            return done
    return decode_scaled_block(_encode_vectorized(x, fmt, rounding, seed, stream, offset), fmt)


def _grid_bits(fmt) -> tuple[int, int]:
    """(most significant bits, exponent of the lowest set bit) over the positive values and midpoints of grid(fmt)."""
    values, _, mids = grid(fmt)
    both = np.concatenate([values[values > 0], mids])
    lowest = min(_lowest_bit_exponent(v) for v in both)
    return significant_bits(both), lowest


def _lowest_bit_exponent(v) -> int:
    """The exponent of the lowest set bit of a positive float64 (v is an odd integer times 2**that)."""
    fraction, exponent = math.frexp(float(v))
    mantissa = int(fraction * 2.0**_FLOAT64_BITS)
    return exponent - _FLOAT64_BITS + (mantissa & -mantissa).bit_length() - 1


@functools.lru_cache(maxsize=64)
def _kernel_params_by_value(fmt: ScaledBlockFormat, rounding: Rounding) -> SK.ScaledParams | None:
    if _static_fast(fmt, rounding) is not None:
        return None
    element, scale = fmt.element, fmt.scale
    if not _exact_value_products(element, scale):  # quantize decodes as decode_scaled_block does
        return None
    tensor_divisor = Fraction(element.max) * Fraction(scale.max)
    if fmt.tensor_scale:
        # the kernel rounds amax / divisor to float32 by comparing amax with float32 values and midpoints
        # (25 bits, lowest bit >= 2**-150) times the divisor: those products must be float64 numbers
        if float(tensor_divisor) != tensor_divisor:
            return None
        bits, low = significant_bits(np.array([float(tensor_divisor)])), _lowest_bit_exponent(tensor_divisor)
        if bits + 25 > _FLOAT64_BITS or low - 150 < -1074:
            return None
    element_values, element_codes, element_mids = grid(element)
    scale_values, scale_codes, scale_mids = grid(scale)
    scale_nan = exact.nan_scale_code(fmt) if scale.has_nan else -1
    (element_bits, element_low), (scale_bits, scale_low) = _grid_bits(element), _grid_bits(scale)
    values = np.concatenate([element_values, element_mids, scale_values, scale_mids])
    codes = np.concatenate([element_codes, scale_codes])
    for a in (values, codes):
        a.setflags(write=False)
    return SK.ScaledParams(
        grid=values, codes=codes, element_count=int(element_values.size), scale_count=int(scale_values.size),
        element_sign_mask=int(element.sign_mask), element_negative_zero=bool(element.has_negative_zero),
        scale_nan=int(scale_nan), block_size=int(fmt.block_size), element_max=float(element.max),
        tensor_divisor=float(tensor_divisor), tensor=bool(fmt.tensor_scale), scale_mode=int(fmt.scale_rounding.mode.code),
        element_grid_bits=element_bits, element_grid_low=element_low, scale_grid_bits=scale_bits, scale_grid_low=scale_low,
    )


def _kernel_params(fmt: ScaledBlockFormat, rounding: Rounding):
    """(ScaledParams, RoundParams of a deterministic rounding or None, mode code, random bits, generator code),
    or None where the kernel does not run."""
    params = _kernel_params_by_value(fmt, rounding)
    if params is None:
        return None
    return params, deterministic_round_params(rounding), *mode_and_bits(rounding), rounding.generator.code


_NO_VALUES = np.empty(0, dtype=np.float64)
_NO_CODES = np.empty(0, dtype=np.uint16)


def _run_kernel(plan, x: np.ndarray, fmt: ScaledBlockFormat, rounding: Rounding, seed: int, stream: int, offset: int,
                codes: bool):
    """BlockCodes (``codes``) or values of x from the compiled kernel, or None where it cannot settle them."""
    params, R, mode, random_bits, generator = plan
    flat, flags, shape, axis, outer, n, inner = block_layout(x, fmt)
    n_blocks = -(-n // fmt.block_size)
    R = call_round_params(R, mode, random_bits, generator, seed, stream, offset)
    if codes:
        values = _NO_VALUES
        elements, scales = np.empty(flat.size, dtype=np.uint16), np.empty(outer * n_blocks * inner, dtype=np.uint16)
    else:
        values, elements, scales = np.empty(flat.size, dtype=np.float64), _NO_CODES, _NO_CODES
    kernel = SK.encode_scaled_blocks
    status, tensor = call_kernel(kernel, (kernel, flags), flat, outer, n, inner, values, elements, scales, codes,
                                 not codes, params, R)
    if status != SK.OK:
        return None
    if not codes:
        return values if x.ndim == 1 else values.reshape(x.shape)
    scale_shape = shape[:axis] + (n_blocks,) + shape[axis + 1:] if x.ndim else ()
    return BlockCodes(elements=elements.astype(fmt.code_dtype).reshape(x.shape),
                      scales=scales.astype(fmt.scale_dtype).reshape(scale_shape),
                      tensor_scale=np.float32(tensor) if fmt.tensor_scale else None)


def _encode_vectorized(x: np.ndarray, fmt: ScaledBlockFormat, rounding: Rounding, seed: int, stream: int,
                       offset: int) -> BlockCodes:
    """The numpy path: what the kernel leaves (undecided random words, products it cannot prove exact)."""
    reason = _static_fast(fmt, rounding)
    if reason is not None:
        _fallback(reason, fmt)
        return exact.encode_scaled_block(x, fmt, rounding, seed, stream, offset)
    x = np.asarray(x, dtype=np.float64)
    scalar = x.ndim == 0
    if scalar:
        x = x.reshape(1)
    tensor = float(exact.tensor_scale_of(x, fmt)) if fmt.tensor_scale else 1.0
    axis = block_axis(fmt, x.shape)
    moved = np.moveaxis(x, axis, -1)
    n, size = moved.shape[-1], fmt.block_size
    n_blocks = -(-n // size)
    blocks = _padded_blocks(x, axis, size)
    finite = np.isfinite(blocks).all(axis=-1)
    amax = np.where(finite, np.abs(np.where(np.isfinite(blocks), blocks, 0.0)).max(axis=-1), 0.0)

    element, scale = fmt.element, fmt.scale
    scale_values, scale_codes, _ = grid(scale)
    _, element_codes, _ = grid(element)
    divisor = element.max * tensor  # exact: element.max has few bits, the tensor scale 24
    positive = amax > 0
    # midpoints of the scale grid times the divisor, then midpoints of the element grid times s * t
    if not (exact_midpoint_products(scale, np.array([divisor]))
            and _exact_products(significant_bits(scale_values), significant_bits(np.array([tensor])),
                                float(scale_values[1]) * tensor * 2.0**-_FLOAT64_BITS)):
        _fallback("scales whose products with the tensor scale are not float64 numbers", fmt)
        return exact.encode_scaled_block(x, fmt, rounding, seed, stream, offset)
    k_scale = np.zeros(amax.shape, dtype=np.int64)
    k_scale[positive] = rounded_index(amax[positive], np.full(int(positive.sum()), divisor), scale,
                                      fmt.scale_rounding.mode)
    k_scale[positive & (k_scale == 0)] = 1  # a scale rounding to zero: the smallest positive one
    s = scale_values[k_scale] * tensor
    if not exact_midpoint_products(element, s):
        _fallback("block scales whose products with element midpoints are not float64 numbers", fmt)
        return exact.encode_scaled_block(x, fmt, rounding, seed, stream, offset)

    scales = scale_codes[k_scale].astype(fmt.scale_dtype)
    if not finite.all():
        scales[~finite] = exact.nan_scale_code(fmt)
    magnitudes = np.abs(blocks)
    live = np.broadcast_to((positive & finite)[..., None], blocks.shape)
    k = np.zeros(blocks.shape, dtype=np.int64)
    d = np.broadcast_to(s[..., None], blocks.shape)
    if rounding.is_stochastic:
        index = _padded_blocks(np.arange(x.size, dtype=np.uint64).reshape(x.shape), axis, size)[live] + np.uint64(offset)
        k[live], undecided = stochastic_index(magnitudes[live], d[live], element,
                                              rng.element_words(seed, stream, index, generator=rounding.generator),
                                              rounding.random_bits)
    else:
        k[live] = rounded_index(magnitudes[live], d[live], element, rounding.mode, np.signbit(blocks[live]))
    negative = np.signbit(blocks) & (element.has_negative_zero | (k > 0)) & finite[..., None]
    codes = element_codes[k] | np.where(negative, element.sign_mask, 0)
    if rounding.is_stochastic and undecided.any():
        codes[live] = _exact_elements(codes[live], undecided, blocks[live], d[live], index, fmt, rounding, seed, stream)
    elements = codes.reshape(moved.shape[:-1] + (n_blocks * size,))[..., :n].astype(fmt.code_dtype)
    elements = np.moveaxis(elements, -1, axis)
    scales = np.moveaxis(scales, -1, axis)
    if scalar:
        elements, scales = elements.reshape(()), scales.reshape(())
    return BlockCodes(elements=elements, scales=scales,
                      tensor_scale=np.float32(tensor) if fmt.tensor_scale else None)


def _padded_blocks(a: np.ndarray, axis: int, size: int) -> np.ndarray:
    """``a`` with ``axis`` moved last, zero-padded to whole blocks and split into (..., n_blocks, size)."""
    moved = np.moveaxis(a, axis, -1)
    n = moved.shape[-1]
    n_blocks = -(-n // size)
    padded = np.zeros(moved.shape[:-1] + (n_blocks * size,), dtype=a.dtype)
    padded[..., :n] = moved
    return padded.reshape(moved.shape[:-1] + (n_blocks, size))


def _exact_elements(codes: np.ndarray, undecided: np.ndarray, x: np.ndarray, d: np.ndarray, index: np.ndarray,
                    fmt: ScaledBlockFormat, rounding: Rounding, seed: int, stream: int) -> np.ndarray:
    """``codes`` with the undecided elements' codes from the exact engine (x / d exact, d a float64 number)."""
    codes = codes.copy()
    for j in np.flatnonzero(undecided):
        quotient = Fraction(float(x[j])) / Fraction(float(d[j]))
        random = ElementRandom(seed, stream, int(index[j]), rounding.generator)
        codes[j] = round_exact(quotient, fmt.element, rounding, random, f"element {int(index[j])} of {fmt.spec}")
    return codes


def decode_scaled_block(codes: BlockCodes, fmt: ScaledBlockFormat) -> np.ndarray:
    element, scale = fmt.element, fmt.scale
    tensor = float(exact.checked_tensor_scale(codes, fmt))
    if not _exact_value_products(element, scale):
        _fallback("element and scale products that are not float64 numbers", fmt)
        return exact.decode_scaled_block(codes, fmt)
    elements, scales, scalar, axis = checked_block_codes(codes, fmt)
    decode_element = decode_fixed if isinstance(element, FixedPoint) else decode_float
    decode_scale = decode_fixed if isinstance(scale, FixedPoint) else decode_float
    values = decode_element(elements, element)
    scale_values = np.repeat(decode_scale(scales, scale), fmt.block_size, axis=axis)
    scale_values = np.take(scale_values, np.arange(elements.shape[axis]), axis=axis)
    with np.errstate(invalid="ignore"):
        # the first product is exact, so the second is the exact product rounded once
        out = values * scale_values * tensor
    out[np.isnan(scale_values)] = np.nan
    return out.reshape(()) if scalar else out
