"""Which encode/decode implementation the exact engine uses for each format type.

Built-in formats are registered at import; plugins call ``register_codec``.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..formats.base import Format
from ..formats.block import BlockFormat
from ..formats.fixed import FixedPoint
from ..formats.floating import FloatFormat
from ..formats.rounding import Rounding
from .codec import (
    decode_block,
    decode_fixed_element,
    decode_float_element,
    encode_block,
    encode_fixed_element,
    encode_float_element,
)
from .rounding import ElementRandom
from .scaled_codec import decode_scaled_block, encode_scaled_block
from ..formats.scaled_block import ScaledBlockFormat

# encode(x: float64 ndarray, fmt, rounding, seed, stream, offset) -> codes
# decode(codes, fmt) -> float64 ndarray
_CODECS: dict[type, tuple[Callable, Callable]] = {}


def elementwise(encode_element: Callable, decode_element: Callable) -> tuple[Callable, Callable]:
    """Array codecs from per-element functions.

    encode_element(x: float, fmt, rounding, random: ElementRandom | None) -> int
    decode_element(code: int, fmt) -> float
    """

    def encode(x: np.ndarray, fmt, rounding: Rounding, seed: int, stream: int, offset: int) -> np.ndarray:
        out = np.empty(x.shape, dtype=fmt.code_dtype)
        flat_in, flat_out = x.reshape(-1), out.reshape(-1)
        for i in range(flat_in.size):
            random = ElementRandom(seed, stream, offset + i, rounding.generator) if rounding.is_stochastic else None
            flat_out[i] = encode_element(float(flat_in[i]), fmt, rounding, random)
        return out

    def decode(codes: np.ndarray, fmt) -> np.ndarray:
        codes = np.asarray(codes)
        out = np.empty(codes.shape, dtype=np.float64)
        flat_in, flat_out = codes.reshape(-1), out.reshape(-1)
        for i in range(flat_in.size):
            flat_out[i] = decode_element(int(flat_in[i]), fmt)
        return out

    return encode, decode


def register_codec(format_type: type, *, encode: Callable | None = None, decode: Callable | None = None,
                   encode_element: Callable | None = None, decode_element: Callable | None = None) -> None:
    """Register the exact engine's codec for a format type (array-level or element-level functions)."""
    if not (isinstance(format_type, type) and issubclass(format_type, Format)):
        raise TypeError(f"register_codec: format_type must be a subclass of lpsim.formats.Format, got {format_type!r}")
    if encode_element is not None or decode_element is not None:
        if encode_element is None or decode_element is None or encode is not None or decode is not None:
            raise ValueError("register_codec: give encode_element and decode_element together, or encode and decode")
        encode, decode = elementwise(encode_element, decode_element)
    if encode is None or decode is None:
        raise ValueError("register_codec: encode and decode are both required")
    _CODECS[format_type] = (encode, decode)


def codec_for(fmt: Format) -> tuple[Callable, Callable]:
    for cls in type(fmt).__mro__:
        if cls in _CODECS:
            return _CODECS[cls]
    raise TypeError(
        f"no exact codec is registered for format type {type(fmt).__name__}; "
        "a plugin must call lpsim.exact.register_codec (see docs/plugins.md)"
    )


def _encode_block(x, fmt, rounding, seed, stream, offset):
    def random_for(i):
        return ElementRandom(seed, stream, offset + i, rounding.generator) if rounding.is_stochastic else None

    return encode_block(x, fmt, rounding, random_for)


register_codec(FixedPoint, encode_element=encode_fixed_element, decode_element=decode_fixed_element)
register_codec(FloatFormat, encode_element=encode_float_element, decode_element=decode_float_element)
register_codec(BlockFormat, encode=_encode_block, decode=decode_block)
register_codec(ScaledBlockFormat, encode=encode_scaled_block, decode=decode_scaled_block)
