"""Arithmetic on QArrays, exactly: each result is computed exactly and rounded once.

Elementwise ops (add, subtract, multiply, fma, axpy, requantize) compute the exact
result of every output element (IEEE 754 rules for NaN, inf and signed zeros) and
round it once into the output format. Reductions (dot, matvec, matmul) follow an
``Accumulator``: products into a product register, sums into an accumulator register
in a summation order, then an optional output requantization. Broadcasting follows
numpy. Random bits: see lpsim.exact.accumulate and docs/arithmetic.md.
"""

from __future__ import annotations

import functools
import math
from typing import Callable

import attrs
import numpy as np

from ..arith.plan import DotPlan, plan_dot
from ..arith.profiles import as_accumulator
from ..formats.base import Format
from ..formats.rounding import NEAREST_EVEN, as_rounding
from .accumulate import STREAM_OUTPUT, dot_one, register_value_as_exact
from .qarray import MAX_INDEX, QArray, RandomKey, check_qarray_format
from .values import exact_add, exact_mul, exact_negate


def _operand(x, name: str, op: str) -> QArray:
    if not isinstance(x, QArray):
        raise TypeError(f"{op}: operand {name} must be a QArray, got {type(x).__name__}")
    return x


def _describe(operands: dict[str, QArray]) -> str:
    return ", ".join(f"{name} ({q.fmt.spec}, shape {q.shape})" for name, q in operands.items())


def _output_format(out, operands: dict[str, QArray], op: str) -> Format:
    """``out`` if given, else the operands' common format."""
    if out is not None:
        return _checked_out(op, out)
    formats = {q.fmt for q in operands.values()}
    if len(formats) != 1:
        raise ValueError(f"{op}: operands have different formats ({_describe(operands)}); pass out= to choose the result format")
    return formats.pop()


def _checked_out(op: str, out) -> Format:
    """``out`` if a QArray can hold it; checked before any work, so that neither engine starts
    (nor the fast one warns of a fallback) on a result it must refuse."""
    if not isinstance(out, Format):
        raise TypeError(f"{op}: out must be an lpsim Format, got {type(out).__name__}")
    return check_qarray_format(out, f"{op}: output format")


def _broadcast_shape(operands: dict[str, QArray], op: str) -> tuple[int, ...]:
    try:
        return np.broadcast_shapes(*(q.shape for q in operands.values()))
    except ValueError:
        raise ValueError(f"{op}: operand shapes do not broadcast: {_describe(operands)}") from None


def prepare_elementwise(op: str, operands: dict[str, QArray], out, rounding, seed, stream, offset):
    """The checks of an elementwise op, shared with the fast engine: (rounding, key, format, shape)."""
    for name, q in operands.items():
        _operand(q, name, op)
    rounding = as_rounding(rounding)
    key = RandomKey.checked(seed, stream, offset)
    return rounding, key, _output_format(out, operands, op), _broadcast_shape(operands, op)


def _elementwise(op: str, compute: Callable, operands: dict[str, QArray], out, rounding, seed, stream, offset) -> QArray:
    """Apply ``compute`` to the exact values of every output element, then round once (index offset + flat i)."""
    rounding, key, fmt, shape = prepare_elementwise(op, operands, out, rounding, seed, stream, offset)
    values = [np.broadcast_to(q.exact_values(), shape) for q in operands.values()]
    results = np.empty(shape, dtype=object)
    for idx in np.ndindex(shape):
        results[idx] = compute(*(v[idx] for v in values))
    return QArray.from_exact(results, fmt, rounding, seed=key.seed, stream=key.stream, offset=key.offset,
                             what=f"{op} of {_describe(operands)} into {fmt.spec}")


def add(a: QArray, b: QArray, out: Format | None = None, rounding="nearest_even", *,
        seed: int = 0, stream: int = 0, offset: int = 0) -> QArray:
    """a + b, exact then rounded once into ``out`` (default: the operands' common format)."""
    rnd = as_rounding(rounding)
    return _elementwise("add", lambda x, y: exact_add(x, y, rnd), {"a": a, "b": b}, out, rnd, seed, stream, offset)


def subtract(a: QArray, b: QArray, out: Format | None = None, rounding="nearest_even", *,
             seed: int = 0, stream: int = 0, offset: int = 0) -> QArray:
    """a - b, exact then rounded once."""
    rnd = as_rounding(rounding)
    return _elementwise("subtract", lambda x, y: exact_add(x, exact_negate(y), rnd), {"a": a, "b": b}, out, rnd,
                        seed, stream, offset)


def multiply(a: QArray, b: QArray, out: Format | None = None, rounding="nearest_even", *,
             seed: int = 0, stream: int = 0, offset: int = 0) -> QArray:
    """a * b, exact then rounded once. For the exact widened fixed-point product pass
    ``out=lpsim.arith.product_format(a.fmt, b.fmt)``."""
    return _elementwise("multiply", exact_mul, {"a": a, "b": b}, out, rounding, seed, stream, offset)


def fma(a: QArray, b: QArray, c: QArray, out: Format | None = None, rounding="nearest_even", *,
        seed: int = 0, stream: int = 0, offset: int = 0) -> QArray:
    """Fused a * b + c: the exact product added exactly to c, rounded once."""
    rnd = as_rounding(rounding)
    return _elementwise("fma", lambda x, y, z: exact_add(exact_mul(x, y), z, rnd), {"a": a, "b": b, "c": c}, out, rnd,
                        seed, stream, offset)


def axpy(alpha: QArray, x: QArray, y: QArray, out: Format | None = None, rounding="nearest_even", *,
         seed: int = 0, stream: int = 0, offset: int = 0) -> QArray:
    """alpha * x + y, fused (one rounding per element) into ``out`` (default: y's format).

    ``alpha`` broadcasts (a shape-() QArray for the usual scalar). The unfused form is
    ``add(multiply(alpha, x, out=p), y)``.
    """
    rnd = as_rounding(rounding)
    _operand(y, "y", "axpy")
    return _elementwise("axpy", lambda s, u, v: exact_add(exact_mul(s, u), v, rnd), {"alpha": alpha, "x": x, "y": y},
                        y.fmt if out is None else out, rnd, seed, stream, offset)


def requantize(a: QArray, out: Format, rounding="nearest_even", *, seed: int = 0, stream: int = 0,
               offset: int = 0) -> QArray:
    """Round the exact values of ``a`` once into another format (or scale)."""
    if out is None:
        raise ValueError("requantize: out (the target format) is required")
    return _elementwise("requantize", lambda v: v, {"a": a}, out, rounding, seed, stream, offset)


# -- reductions -----------------------------------------------------------------------------------


def _terms(q: QArray, plan: DotPlan) -> np.ndarray:
    """What the products are made of: Python-int codes for fixed-point operands, exact values otherwise."""
    if plan.fixed_operands:
        return q.element_codes.astype(object)
    return q.exact_values()


@functools.lru_cache(maxsize=1024)
def _plan(accumulator, a_fmt: Format, b_fmt: Format, op: str) -> DotPlan:
    """plan_dot, remembered: descriptions are immutable and the checks cost more than a compiled
    dot of a thousand terms."""
    return plan_dot(accumulator, a_fmt, b_fmt, op=op)


@functools.lru_cache(maxsize=1024)
def _result_format(plan: DotPlan) -> Format | None:
    return plan.result_format


_CHECKED_PLANS: dict = {}


def _checked_plan(op: str, accumulator, a_fmt: Format, b_fmt: Format, out) -> tuple[DotPlan, Format]:
    """(plan, result format) after their checks, remembered by the identity of the arguments (which
    the entry keeps alive, so the ids stay theirs): hashing an accumulator and two formats costs more
    than a compiled dot of a thousand terms. Only combinations that passed the checks are remembered."""
    accumulator = as_accumulator(accumulator)  # by name on every call: a profile may be re-registered
    key = (op, id(accumulator), id(a_fmt), id(b_fmt), id(out))
    hit = _CHECKED_PLANS.get(key)
    if hit is not None:
        return hit[0]
    plan = _plan(accumulator, a_fmt, b_fmt, op)
    fmt = _result_format(plan) if out is None else out
    if fmt is None:
        raise ValueError(f"{op}: an exact accumulator with non-fixed-point operands ({a_fmt.spec}, {b_fmt.spec}) "
                         f"has no storage format; pass out=")
    _checked_out(op, fmt)
    if len(_CHECKED_PLANS) >= 1024:
        _CHECKED_PLANS.clear()
    _CHECKED_PLANS[key] = ((plan, fmt), (accumulator, a_fmt, b_fmt, out))
    return plan, fmt


def prepare_reduction(op: str, a: QArray, b: QArray, out_shape, accumulator, out, rounding, seed, stream, offset):
    """The checks of dot / matvec / matmul, shared with the fast engine: (rounding, key, plan, format)."""
    rounding = as_rounding(rounding)
    key = RandomKey.checked(seed, stream, offset)
    plan, fmt = _checked_plan(op, accumulator, a.fmt, b.fmt, out)
    n_outputs = math.prod(out_shape)
    n = a.shape[-1]
    if (key.offset + n_outputs) * max(n, 1) > MAX_INDEX:
        raise ValueError(f"{op}: random indices (offset + outputs) * n = ({key.offset} + {n_outputs}) * {n} exceed 2**64 - 1")
    return rounding, key, plan, fmt


def _reduce(op: str, a: QArray, b: QArray, pairs, out_shape, accumulator, out, rounding, seed, stream, offset) -> QArray:
    """Shared body of dot / matvec / matmul. ``pairs(a_terms, b_terms, index)`` gives the two rows of output ``index``."""
    rounding, key, plan, fmt = prepare_reduction(op, a, b, out_shape, accumulator, out, rounding, seed, stream, offset)
    a_terms, b_terms = _terms(a, plan), _terms(b, plan)
    results = np.empty(out_shape, dtype=object)
    for o, idx in enumerate(np.ndindex(out_shape)):
        row, col = pairs(a_terms, b_terms, idx)
        what = f"{op} output {idx} of {a.fmt.spec} x {b.fmt.spec} with {plan.accumulator.spec}"
        value = dot_one(list(row), list(col), plan, key.seed, key.stream, key.offset + o, what)
        results[idx] = register_value_as_exact(value, plan)
    # the result register's values are exact in its own format, so the default (out=None) rounds nothing
    return QArray.from_exact(results, fmt, rounding if out is not None else NEAREST_EVEN, seed=key.seed,
                             stream=(key.stream + STREAM_OUTPUT) % (1 << 32), offset=key.offset,
                             what=f"{op} of {a.fmt.spec} x {b.fmt.spec} into {fmt.spec}")


def _check_dims(op: str, operands: dict[str, QArray], ndims: dict[str, int]) -> None:
    for name, q in operands.items():
        _operand(q, name, op)
        if q.ndim != ndims[name]:
            raise ValueError(f"{op}: operand {name} must have {ndims[name]} dimension(s), got shape {q.shape} ({q.fmt.spec})")


def _check_inner(op: str, a_name: str, a: QArray, b_name: str, b: QArray, a_axis: int, b_axis: int) -> None:
    if a.shape[a_axis] != b.shape[b_axis]:
        raise ValueError(f"{op}: inner dimensions differ: {a_name} ({a.fmt.spec}) has shape {a.shape}, "
                         f"{b_name} ({b.fmt.spec}) has shape {b.shape} (axis {a_axis} of {a_name} has "
                         f"{a.shape[a_axis]}, axis {b_axis} of {b_name} has {b.shape[b_axis]})")


@attrs.frozen
class MatmulShape:
    """How ``matmul`` pairs rows and columns, numpy's rules: a (..., m, n) @ b (..., n, p) gives
    (..., m, p) with the leading (batch) axes broadcast; a 1-D ``a`` acts as (1, n) and a 1-D ``b``
    as (n, 1), the added axis then dropped from the result. Output o is the flat C index of the
    result, so its random bits do not depend on how the batch is split (docs/arithmetic.md)."""

    batch: tuple[int, ...]  # the broadcast batch shape
    m: int
    n: int
    p: int
    a_vector: bool
    b_vector: bool

    @property
    def out_shape(self) -> tuple[int, ...]:
        return self.batch + ((), (self.m,))[not self.a_vector] + ((), (self.p,))[not self.b_vector]

    def item(self, shape: tuple[int, ...], batch_index: tuple[int, ...]) -> tuple[int, ...]:
        """The index into an operand's own batch axes (``shape``: the operand's shape without its
        last two axes) of the broadcast batch element ``batch_index``."""
        tail = batch_index[len(batch_index) - len(shape):]
        return tuple(0 if size == 1 else i for size, i in zip(shape, tail))

    def split(self, idx: tuple[int, ...]) -> tuple[tuple[int, ...], int, int]:
        """(batch index, i, k) of the result index ``idx``."""
        if not self.b_vector:
            idx, k = idx[:-1], idx[-1]
        else:
            k = 0
        if not self.a_vector:
            idx, i = idx[:-1], idx[-1]
        else:
            i = 0
        return idx, i, k


def matmul_shape(a: QArray, b: QArray) -> MatmulShape:
    """The checks of ``matmul``'s operands, shared with the fast engine."""
    for name, q in (("a", a), ("b", b)):
        _operand(q, name, "matmul")
        if q.ndim == 0:
            raise ValueError(f"matmul: operand {name} must have at least 1 dimension, got shape () ({q.fmt.spec}); "
                             f"use multiply for scalars")
    _check_inner("matmul", "a", a, "b", b, -1, 0 if b.ndim == 1 else -2)
    a_batch, b_batch = a.shape[:-2], b.shape[:-2]
    for axis in range(1, min(len(a_batch), len(b_batch)) + 1):
        x, y = a_batch[-axis], b_batch[-axis]
        if x != y and x != 1 and y != 1:
            raise ValueError(f"matmul: batch dimensions do not broadcast: a ({a.fmt.spec}) has shape {a.shape}, "
                             f"b ({b.fmt.spec}) has shape {b.shape} (axis {-axis - 2} of a has {x}, "
                             f"axis {-axis - 2} of b has {y})")
    batch = np.broadcast_shapes(a_batch, b_batch)
    return MatmulShape(batch=batch, m=1 if a.ndim == 1 else a.shape[-2], n=a.shape[-1],
                       p=1 if b.ndim == 1 else b.shape[-1], a_vector=a.ndim == 1, b_vector=b.ndim == 1)


def matmul_pairs(shape: MatmulShape, a: QArray, b: QArray):
    """``pairs(a_terms, b_terms, idx)``: the row of ``a`` and the column of ``b`` of result index ``idx``."""
    a_batch, b_batch = a.shape[:-2], b.shape[:-2]

    def pairs(a_terms, b_terms, idx):
        batch, i, k = shape.split(idx)
        row = a_terms if shape.a_vector else a_terms[shape.item(a_batch, batch) + (i,)]
        column = b_terms if shape.b_vector else b_terms[shape.item(b_batch, batch) + (slice(None), k)]
        return row, column

    return pairs


def dot(a: QArray, b: QArray, accumulator, out: Format | None = None, rounding="nearest_even", *,
        seed: int = 0, stream: int = 0, offset: int = 0) -> QArray:
    """sum_j a_j * b_j of two vectors by ``accumulator`` (Accumulator, HardwareProfile or profile name).

    Returns a shape-() QArray in ``out`` (rounded once by ``rounding``), or, with out=None,
    in the result register's format (FixedPoint counting step(a) * step(b) for integer registers).
    """
    _check_dims("dot", {"a": a, "b": b}, {"a": 1, "b": 1})
    _check_inner("dot", "a", a, "b", b, 0, 0)
    return _reduce("dot", a, b, lambda at, bt, idx: (at, bt), (), accumulator, out, rounding, seed, stream, offset)


def matvec(a: QArray, x: QArray, accumulator, out: Format | None = None, rounding="nearest_even", *,
           seed: int = 0, stream: int = 0, offset: int = 0) -> QArray:
    """y_i = sum_j a_ij * x_j for a (m, n) matrix and an (n,) vector; output index o = i."""
    _check_dims("matvec", {"a": a, "x": x}, {"a": 2, "x": 1})
    _check_inner("matvec", "a", a, "x", x, 1, 0)
    return _reduce("matvec", a, x, lambda at, xt, idx: (at[idx[0]], xt), (a.shape[0],), accumulator, out, rounding,
                   seed, stream, offset)


def matmul(a: QArray, b: QArray, accumulator, out: Format | None = None, rounding="nearest_even", *,
           seed: int = 0, stream: int = 0, offset: int = 0) -> QArray:
    """c[..., i, k] = sum_j a[..., i, j] * b[..., j, k], numpy's matmul shapes: the leading (batch)
    axes broadcast, a 1-D operand is a row (a) or a column (b). Output index o = the flat C index
    of the result: for (m, n) @ (n, p), o = i * p + k; for a batch, o = batch_flat * m * p + i * p + k."""
    shape = matmul_shape(a, b)
    return _reduce("matmul", a, b, matmul_pairs(shape, a, b), shape.out_shape, accumulator, out, rounding,
                   seed, stream, offset)


__all__ = ["add", "subtract", "multiply", "fma", "axpy", "requantize", "dot", "matvec", "matmul"]
