"""The exact bit-level reference engine: integer codes, exact rationals, every step visible."""

from .registry import codec_for, register_codec
from .rounding import ElementRandom, round_integer, round_magnitude

__all__ = ["codec_for", "register_codec", "ElementRandom", "round_integer", "round_magnitude"]
