"""Public low-precision arithmetic on QArrays, on either engine.

Every function takes the arguments of its lpsim.exact.arith twin plus ``engine``:
``"fast"`` (default, compiled kernels; combinations without a kernel run on the exact
engine with one FastArithmeticFallbackWarning) or ``"exact"`` (the readable reference).
Both engines return the same codes and raise the same exceptions (tests/fast).

    >>> import numpy as np
    >>> from lpsim import ops
    >>> from lpsim.formats import PRESETS
    >>> a = ops.from_float(np.full(1024, 2.0), PRESETS["uint8"])
    >>> b = ops.from_float(np.full(1024, -3.0), PRESETS["int8"])
    >>> int(ops.dot(a, b, "vnni_int8_int32").codes)
    -6144
"""

from __future__ import annotations

from . import codec
from .exact import arith as _exact
from .exact.qarray import QArray, check_qarray_format
from .fast import arith as _fast
from .fast.arith import FastArithmeticFallbackWarning
from .formats.rounding import NEAREST_EVEN


def _engine(engine: str):
    return _fast if codec.check_engine(engine) == "fast" else _exact


def from_float(x, fmt, rounding=NEAREST_EVEN, *, seed: int = 0, stream: int = 0, offset: int = 0,
               engine: str = "fast") -> QArray:
    """Quantize float values into a QArray with the chosen engine's codec (same codes either way);
    ``fmt`` is a Format or a name or spec string, as in lpsim.codec."""
    # refused before encoding: a scaled block format would be encoded (slowly, with a fallback warning) for nothing
    fmt = check_qarray_format(codec.check_format(fmt), "QArray")
    return QArray(codes=codec.encode(x, fmt, rounding, seed=seed, stream=stream, offset=offset, engine=engine), fmt=fmt)


def to_float(q: QArray, *, engine: str = "fast"):
    """The float64 values of a QArray."""
    if not isinstance(q, QArray):
        raise TypeError(f"to_float: q must be a QArray, got {type(q).__name__}")
    return codec.decode(q.codes, q.fmt, engine=engine)


def add(a, b, out=None, rounding=NEAREST_EVEN, *, seed=0, stream=0, offset=0, engine="fast") -> QArray:
    """a + b, exact then rounded once into ``out`` (default: the operands' common format)."""
    return _engine(engine).add(a, b, out, rounding, seed=seed, stream=stream, offset=offset)


def subtract(a, b, out=None, rounding=NEAREST_EVEN, *, seed=0, stream=0, offset=0, engine="fast") -> QArray:
    """a - b, exact then rounded once."""
    return _engine(engine).subtract(a, b, out, rounding, seed=seed, stream=stream, offset=offset)


def multiply(a, b, out=None, rounding=NEAREST_EVEN, *, seed=0, stream=0, offset=0, engine="fast") -> QArray:
    """a * b, exact then rounded once (``out=lpsim.arith.product_format(a.fmt, b.fmt)`` keeps it exact)."""
    return _engine(engine).multiply(a, b, out, rounding, seed=seed, stream=stream, offset=offset)


def fma(a, b, c, out=None, rounding=NEAREST_EVEN, *, seed=0, stream=0, offset=0, engine="fast") -> QArray:
    """Fused a * b + c, rounded once."""
    return _engine(engine).fma(a, b, c, out, rounding, seed=seed, stream=stream, offset=offset)


def axpy(alpha, x, y, out=None, rounding=NEAREST_EVEN, *, seed=0, stream=0, offset=0, engine="fast") -> QArray:
    """alpha * x + y, fused (one rounding per element) into ``out`` (default: y's format)."""
    return _engine(engine).axpy(alpha, x, y, out, rounding, seed=seed, stream=stream, offset=offset)


def requantize(a, out, rounding=NEAREST_EVEN, *, seed=0, stream=0, offset=0, engine="fast") -> QArray:
    """Round the exact values of ``a`` once into another format (or scale)."""
    return _engine(engine).requantize(a, out, rounding, seed=seed, stream=stream, offset=offset)


def dot(a, b, accumulator, out=None, rounding=NEAREST_EVEN, *, seed=0, stream=0, offset=0, engine="fast") -> QArray:
    """sum_j a_j * b_j by ``accumulator`` (an Accumulator, a HardwareProfile or a profile name)."""
    return _engine(engine).dot(a, b, accumulator, out, rounding, seed=seed, stream=stream, offset=offset)


def matvec(a, x, accumulator, out=None, rounding=NEAREST_EVEN, *, seed=0, stream=0, offset=0, engine="fast") -> QArray:
    """y_i = sum_j a_ij * x_j; output index o = i."""
    return _engine(engine).matvec(a, x, accumulator, out, rounding, seed=seed, stream=stream, offset=offset)


def matmul(a, b, accumulator, out=None, rounding=NEAREST_EVEN, *, seed=0, stream=0, offset=0, engine="fast") -> QArray:
    """c[..., i, k] = sum_j a[..., i, j] * b[..., j, k] with numpy's matmul shapes (batch axes
    broadcast, 1-D operands); output index o = the flat C index of the result (i * p + k in 2-D)."""
    return _engine(engine).matmul(a, b, accumulator, out, rounding, seed=seed, stream=stream, offset=offset)


__all__ = [
    "QArray", "FastArithmeticFallbackWarning", "from_float", "to_float", "add", "subtract", "multiply", "fma", "axpy",
    "requantize", "dot", "matvec", "matmul",
]
