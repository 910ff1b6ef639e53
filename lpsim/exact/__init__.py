"""The exact bit-level reference engine: integer codes, exact rationals, every step visible."""

from .arith import add, axpy, dot, fma, matmul, matvec, multiply, requantize, subtract
from .qarray import QArray
from .registry import codec_for, register_codec
from .rounding import ElementRandom, round_integer, round_magnitude

__all__ = [
    "codec_for", "register_codec", "ElementRandom", "round_integer", "round_magnitude",
    "QArray", "add", "subtract", "multiply", "fma", "axpy", "requantize", "dot", "matvec", "matmul",
]
