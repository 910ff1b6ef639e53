"""Reference encode/decode of ScaledBlockFormat (a block scale of any format), exactly.

Every scale and every element quotient is an exact rational rounded once; the rules are
the ScaledBlockFormat docstring's and docs/formats.md's "Block scales of any format".
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from ..formats.block import BlockCodes, block_scale_shape, checked_block_codes, iter_blocks
from ..formats.rounding import NEAREST_EVEN, TOWARD_POSITIVE, Rounding
from ..formats.scaled_block import TENSOR_SCALE_FORMAT, ScaledBlockFormat
from .codec import nan_code
from .rounding import ElementRandom
from .values import decode_exact, exact_from_fraction, is_nan, round_exact

# far below any format's smallest step: rounding it up gives a format's smallest positive value
_TINY = Fraction(1, 1 << 4000)


def finite_amax(values: np.ndarray) -> Fraction:
    """The largest finite magnitude of ``values`` (float64), exactly; 0 if there is none."""
    finite = np.abs(values[np.isfinite(values)])
    return Fraction(float(finite.max())) if finite.size else Fraction(0)


def round_scale(target: Fraction, fmt, rounding: Rounding, what: str) -> int:
    """The code of ``target`` (> 0) rounded once into the scale format ``fmt``. A result of zero becomes
    fmt's smallest positive value, so that a block of tiny values keeps what its elements can hold."""
    code = round_exact(exact_from_fraction(target), fmt, rounding, None, what)
    if isinstance(decode_exact(code, fmt), float):  # rounded to zero
        code = round_exact(_TINY, fmt, TOWARD_POSITIVE, None, what)
    return code


def tensor_scale_of(x: np.ndarray, fmt: ScaledBlockFormat) -> Fraction:
    """NVFP4's second-level scale: amax(x) / (element.max * scale.max) in float32 (nearest even, saturating);
    1 when x has no nonzero finite value."""
    amax = finite_amax(x)
    if amax == 0:
        return Fraction(1)
    target = amax / (Fraction(fmt.element.max) * Fraction(fmt.scale.max))
    return float32_scale(target, f"tensor scale of {fmt.spec}")


def float32_scale(target: Fraction, what: str) -> Fraction:
    """``target`` (> 0) rounded once to float32 (nearest even, saturating, never 0), exactly."""
    return decode_exact(round_scale(target, TENSOR_SCALE_FORMAT, NEAREST_EVEN, what), TENSOR_SCALE_FORMAT)


def block_scale_code(block: list[float], tensor: Fraction, fmt: ScaledBlockFormat, what: str) -> int:
    """The scale code of one block of float64 values (the scale format's NaN if any is NaN or inf)."""
    if not all(math.isfinite(v) for v in block):
        return nan_scale_code(fmt)
    amax = max(abs(Fraction(v)) for v in block)
    if amax == 0:
        return round_exact(0.0, fmt.scale, fmt.scale_rounding, None, what)
    target = amax / (Fraction(fmt.element.max) * tensor)
    return round_scale(target, fmt.scale, fmt.scale_rounding, f"{what} (block amax {float(amax)!r})")


def nan_scale_code(fmt: ScaledBlockFormat) -> int:
    """The scale code of a block holding NaN or inf; ValueError naming the scale format if it has no NaN."""
    if not fmt.scale.has_nan:
        raise ValueError(
            f"a block holding NaN or inf needs a NaN scale code, and scale format {fmt.scale.spec} of {fmt.spec} has none"
        )
    return nan_code(False, fmt.scale)


def scale_value(code: int, fmt: ScaledBlockFormat):
    """The exact value of a scale code (Fraction, 0.0, or NaN)."""
    return decode_exact(int(code), fmt.scale)


def encode_scaled_block(x: np.ndarray, fmt: ScaledBlockFormat, rounding: Rounding, seed: int, stream: int,
                        offset: int) -> BlockCodes:
    scalar = x.ndim == 0
    if scalar:
        x = x.reshape(1)
    tensor = tensor_scale_of(x, fmt) if fmt.tensor_scale else Fraction(1)
    elements = np.zeros(x.shape, dtype=fmt.code_dtype)
    scales = np.zeros(block_scale_shape(x.shape, fmt), dtype=fmt.scale_dtype)
    for scale_index, members in iter_blocks(x.shape, fmt):
        block = [float(x[idx]) for idx in members]
        what = f"block scale {scale_index} of {fmt.spec}"
        code = block_scale_code(block, tensor, fmt, what)
        scales[scale_index] = code
        scale = scale_value(code, fmt)
        if is_nan(scale):
            continue
        for idx, v in zip(members, block):
            i = int(np.ravel_multi_index(idx, x.shape))
            random = ElementRandom(seed, stream, offset + i, rounding.generator) if rounding.is_stochastic else None
            quotient = v if v == 0 or scale == 0 else exact_from_fraction(Fraction(v) / (scale * tensor))
            elements[idx] = round_exact(quotient, fmt.element, rounding, random, f"element {i} of {fmt.spec}")
    if scalar:
        elements, scales = elements.reshape(()), scales.reshape(())
    return BlockCodes(elements=elements, scales=scales,
                      tensor_scale=np.float32(float(tensor)) if fmt.tensor_scale else None)


def checked_tensor_scale(codes: BlockCodes, fmt: ScaledBlockFormat) -> Fraction:
    """The tensor scale of ``codes`` as an exact value; TypeError/ValueError if it is missing, extra or not float32."""
    t = codes.tensor_scale
    if not fmt.tensor_scale:
        if t is not None:
            raise ValueError(f"{fmt.spec} has no tensor scale, but the codes carry tensor_scale={t!r}")
        return Fraction(1)
    if t is None:
        raise ValueError(f"{fmt.spec} needs the codes' float32 tensor_scale, got None")
    value = float(t)
    if not math.isfinite(value) or value <= 0 or float(np.float32(value)) != value:
        raise ValueError(f"tensor_scale of {fmt.spec} must be a positive finite float32 value, got {t!r}")
    return Fraction(value)


def decode_scaled_block(codes: BlockCodes, fmt: ScaledBlockFormat) -> np.ndarray:
    tensor = checked_tensor_scale(codes, fmt)
    elements, scales, scalar, _ = checked_block_codes(codes, fmt)
    out = np.empty(elements.shape, dtype=np.float64)
    for scale_index, members in iter_blocks(elements.shape, fmt):
        scale = scale_value(scales[scale_index], fmt)
        for idx in members:
            element = decode_exact(int(elements[idx]), fmt.element)
            if is_nan(scale):
                out[idx] = math.nan
            elif isinstance(element, float) or isinstance(scale, float):
                # a zero, NaN or inf factor: float64's product gives the IEEE sign (-0 scale codes included)
                out[idx] = float(element) * float(scale)
            else:
                out[idx] = float(element * scale * tensor)
    return out.reshape(()) if scalar else out
