"""Choosing a multiply-accumulate fast path from a checked plan, and running it.

``register_values`` is the one entry point lpsim.fast.arith calls: it returns the result
register's values of every output (int64 for the integer family, wide values otherwise),
or None when no fast path applies and the general kernels should run. Outputs a fast path
cannot settle carry a status (NEEDS_EXACT, FAILED) that lpsim.fast.arith resolves with the
exact engine. The paths and why each is exact: docs/arithmetic.md, "Fast paths".
"""

from __future__ import annotations

import numpy as np

from ..arith.accumulator import Order
from ..arith.plan import DotPlan
from ..arith.registers import ExactRegister, FloatRegister, IntRegister
from ..exact.qarray import QArray, RandomKey
from ..formats.fixed import FixedPoint
from ..formats.floating import FloatFormat, Specials
from ..formats.presets import BINARY32, BINARY64
from ..formats.rounding import Overflow, RoundingMode
from . import _mac_kernels as M
from . import threads
from ._memo import by_identity
from ._rng_kernels import source_word
from .registry import kernels_for

_NATIVE = {BINARY32: np.float32, BINARY64: np.float64}
_INT64_SAFE = 1 << 61  # partial sums of int_tile stay below this, so int64 never wraps


# -- which values a format holds ---------------------------------------------------------------


def value_set(fmt) -> tuple[int, int, float] | None:
    """(significant bits, log2 of the grid step, largest magnitude) of a format's finite values:
    every one is k * 2**step with |k| < 2**bits. None for formats the fast paths do not take."""
    if isinstance(fmt, FloatFormat):
        return fmt.man_bits + 1, fmt.emin - fmt.man_bits, fmt.max
    if isinstance(fmt, FixedPoint) and fmt.is_power_of_two_scale and fmt.bits <= 53:
        magnitude = max(-fmt.code_min, fmt.code_max)
        return magnitude.bit_length(), -fmt.effective_frac_bits, magnitude * fmt.step
    return None


def product_set(a, b):
    if a is None or b is None:
        return None
    return a[0] + b[0], a[1] + b[1], a[2] * b[2]


def holds(fmt: FloatFormat, values) -> bool:
    """True if every value of the set is a value of the float format (no rounding, no overflow)."""
    return (values is not None and fmt.subnormals and values[0] <= fmt.man_bits + 1
            and values[1] >= fmt.emin - fmt.man_bits and values[2] <= fmt.max)


def exact_in_float64(values) -> bool:
    """Every value, and every sum rounding works on, stays away from float64's limits."""
    return values is not None and values[0] <= 53 and values[1] >= -400 and values[2] <= 2.0 ** 400


# -- recipes -------------------------------------------------------------------------------------


def _native_dtype(register):
    if isinstance(register, FloatRegister) and register.rounding.mode is RoundingMode.NEAREST_EVEN:
        return _NATIVE.get(register.fmt)
    return None


def _native_recipe(plan: DotPlan):
    accumulator = plan.accumulator
    dtype = _native_dtype(accumulator.accumulator)
    if dtype is None:
        return None
    fmt = accumulator.accumulator.fmt
    a_set, b_set = value_set(plan.a_fmt), value_set(plan.b_fmt)
    if not (holds(fmt, a_set) and holds(fmt, b_set)):
        return None
    product = accumulator.product
    if isinstance(product, FloatRegister):
        if product != accumulator.accumulator:
            return None
    elif not holds(fmt, product_set(a_set, b_set)):
        return None
    summation = accumulator.summation
    final = None
    if summation.order is Order.CHUNKED:
        final = _native_dtype(summation.final)
        if final is None or np.dtype(final).itemsize < np.dtype(dtype).itemsize:
            return None
    return ("native", dtype, summation.order, int(summation.chunk or 0), final)


def round_register(register) -> M.RoundReg | None:
    """A float register as rounded_reduce takes it, or None if it is outside that kernel's reach."""
    if not isinstance(register, FloatRegister):
        return None
    fmt = register.fmt
    if not (fmt.subnormals and fmt.man_bits <= 50 and fmt.emin - fmt.man_bits >= -400 and fmt.emax <= 400):
        return None
    rounding = register.rounding
    return M.RoundReg(man_bits=fmt.man_bits, emin=fmt.emin, max_value=fmt.max,
                      neg_zero=fmt.specials not in (Specials.FNUZ, Specials.P3109),
                      ieee=fmt.specials is Specials.IEEE and fmt.overflow is Overflow.IEEE,
                      mode=rounding.mode.code, random_bits=int(rounding.random_bits or 0),
                      generator_bits=source_word(0, rounding.generator.code))


def _rounded_recipe(plan: DotPlan):
    accumulator = plan.accumulator
    if not exact_in_float64(product_set(value_set(plan.a_fmt), value_set(plan.b_fmt))):
        return None
    A = round_register(accumulator.accumulator)
    if A is None:
        return None
    product = accumulator.product
    P = round_register(product) if isinstance(product, FloatRegister) else A
    summation = accumulator.summation
    F = round_register(summation.final) if summation.order is Order.CHUNKED else A
    if P is None or F is None:
        return None
    # a product register with IEEE specials holding every product leaves each product as it is
    product_rounds = isinstance(product, FloatRegister) and not (P.ieee and holds(product.fmt, product_set(
        value_set(plan.a_fmt), value_set(plan.b_fmt))))
    kind = "rounded"
    if summation.order is Order.SEQUENTIAL and not product_rounds and not accumulator.accumulator.rounding.is_stochastic:
        kind = "narrow"  # vectorized across outputs; outputs meeting inf, NaN or overflow go to "rounded"
    return (kind, P, A, F, product_rounds, summation.order.code, int(summation.chunk or 1))


def _int_tile_register(register) -> M.IntTileReg | None:
    if isinstance(register, ExactRegister):
        return M.IntTileReg(kind=M.INT_EXACT, overflow=0, bits=64, code_min=0, code_max=0)
    if isinstance(register, IntRegister) and register.bits <= 62:
        return M.IntTileReg(kind=M.INT_REGISTER, overflow=register.overflow.code, bits=register.bits,
                            code_min=register.code_min, code_max=register.code_max)
    return None


def _int_recipe(plan: DotPlan, wrap):
    accumulator = plan.accumulator
    if wrap is not None:
        bits, code_min, narrow = wrap
        if narrow and all(value_set(f) is not None and value_set(f)[0] <= 16 for f in (plan.a_fmt, plan.b_fmt)):
            return ("wrap32", bits, code_min)
        return None
    summation = accumulator.summation
    if summation.order is Order.PAIRWISE:
        return None
    A = _int_tile_register(accumulator.accumulator)
    F = _int_tile_register(summation.final) if summation.order is Order.CHUNKED else _int_tile_register(ExactRegister())
    if A is None or F is None:
        return None
    return ("int_tile", A, F, int(summation.chunk or 0), max(abs(plan.product_low), abs(plan.product_high)))


def recipe(plan: DotPlan, integer: bool, wrap):
    """The fast path for a plan (remembered by the plan's identity; ``wrap`` follows from the plan)."""
    return by_identity(_choose_recipe, plan, integer, extra=(wrap,))


def _choose_recipe(plan: DotPlan, integer: bool, wrap):
    if integer:
        return _int_recipe(plan, wrap)
    return _native_recipe(plan) or _rounded_recipe(plan)


def _log2(unit) -> int:
    return unit.numerator.bit_length() - unit.denominator.bit_length()


# -- running them --------------------------------------------------------------------------------


def float_values(q: QArray, dtype=np.float64) -> np.ndarray:
    """The exact float64 values of q's elements, as ``dtype`` (callers pass float32 only where every
    value is a float32 number). Formats of at most 16 bits use a lookup table in ``dtype``,
    remembered by the format's identity: decoding, hashing and casting cost more than a short dot."""
    fmt = q.fmt
    table = by_identity(_value_table, fmt, dtype)
    if table is not None:
        codes = q.codes
        if codes.size < threads.SMALL_WORK:
            return table[codes]
        out = np.empty(codes.shape, dtype=table.dtype)
        threads.apply(codes.size)
        M.gather_values(table, np.ascontiguousarray(codes).reshape(-1), out.reshape(-1))
        return out
    if isinstance(fmt, FixedPoint):
        return (q.codes.astype(np.float64) * fmt.step).astype(dtype, copy=False)
    _, decode = kernels_for(fmt)
    return np.asarray(decode(q.codes, fmt), dtype=np.float64).astype(dtype, copy=False)


def _value_table(fmt, dtype) -> np.ndarray | None:
    """The values of every code of a float format of at most 16 bits, as ``dtype``; None for others."""
    if not (isinstance(fmt, FloatFormat) and fmt.bits <= 16):
        return None
    _, decode = kernels_for(fmt)
    return np.asarray(decode(np.arange(1 << fmt.bits, dtype=fmt.code_dtype), fmt), dtype=np.float64).astype(dtype)


def _layout(a: QArray, b: QArray, a_terms: np.ndarray, b_terms: np.ndarray):
    """(L, R, transposed): the outputs as C = L @ R with R row-major and outputs along R's rows;
    a matvec runs as x @ A.T so that its outputs form one vectorizable row (transposed=True)."""
    if a.ndim == 1:
        return a_terms[None, :], b_terms[:, None], False
    if b.ndim == 1:
        return b_terms[None, :], np.ascontiguousarray(a_terms.T), True
    return a_terms, b_terms, False


def _terms_rt(a: QArray, b: QArray, a_terms, b_terms):
    """(L, Rt): the outputs as C[i, k] = sum_j L[i, j] * Rt[k, j], both C-contiguous."""
    L = np.ascontiguousarray(np.atleast_2d(a_terms))
    Rt = np.ascontiguousarray(b_terms.reshape(1, -1) if b.ndim == 1 else b_terms.T)
    return L, Rt


def _read_only(x: np.ndarray) -> np.ndarray:
    """x as a read-only view (no copy): codes arrive read-only or not depending on the layout, and
    Numba compiles a kernel once per mix of the two."""
    view = x.view()
    view.flags.writeable = False
    return view


def _kernel(kernel, work: int):
    """``kernel`` on lpsim.fast.threads' thread count, or its serial twin for ``work`` (multiply-
    accumulates) below threads.SMALL_WORK: the same loops, so the same bits, without the pool's wake-up."""
    if work < threads.SMALL_WORK:
        return M.SERIAL[kernel]
    threads.apply(work)
    return kernel


_NAN_CODES = {np.float32: np.uint32(0x7FC00000), np.float64: np.uint64(0x7FF8000000000000)}
_CODE_VIEWS = {np.float32: np.uint32, np.float64: np.uint64}


def _native_values(chosen, plan: DotPlan, a: QArray, b: QArray, m: int, p: int) -> np.ndarray:
    """The register values (in the register's numpy dtype) of a native recipe, shape (m, p)."""
    _, dtype, order, chunk, final = chosen
    L, R, _ = _layout(a, b, float_values(a, dtype), float_values(b, dtype))
    if not L.flags.c_contiguous:
        L = np.ascontiguousarray(L)
    if not R.flags.c_contiguous:
        R = np.ascontiguousarray(R)
    out = np.zeros((L.shape[0], R.shape[1]), dtype=final or dtype)
    if out.size:
        plus = dtype(0.0 if plan.fixed_operands else -0.0)
        work = out.size * L.shape[1]
        if order is Order.SEQUENTIAL:
            _kernel(M.native_sequential, work)(L, R, out, plus)
        elif order is Order.PAIRWISE:
            _kernel(M.native_pairwise, work)(L, R, out, plus)
        else:
            _kernel(M.native_chunked, work)(L, R, out, chunk, plus)
    return out.reshape(m, p)


def _short_dot(chosen, a: QArray, b: QArray) -> np.ndarray | None:
    """The register value of a sequential native dot of two float formats with value tables, as a
    1-element array: one serial kernel call through the tables; None where it does not apply."""
    _, dtype, order, _, _ = chosen
    if order is not Order.SEQUENTIAL or a.shape[0] >= threads.SMALL_WORK:
        return None
    table_a, table_b = by_identity(_value_table, a.fmt, dtype), by_identity(_value_table, b.fmt, dtype)
    if table_a is None or table_b is None:
        return None
    # float operands: the first product enters as p + (-0.0), as in native_sequential
    return np.array([M.native_dot_tables(a.codes, b.codes, table_a, table_b, dtype(-0.0))], dtype=dtype)


def _short_int_dot(chosen, a: QArray, b: QArray) -> np.ndarray | None:
    """The register value of a wrap32 dot of two 1-D operands shorter than threads.SMALL_WORK, as a
    1-element int64 array: one serial kernel call over the element codes; None where it does not apply."""
    codes_a, codes_b = a.element_codes, b.element_codes
    if codes_a.ndim != 1 or codes_b.ndim != 1 or codes_a.shape[0] >= threads.SMALL_WORK:
        return None
    return np.array([M.int_dot_wrap32(codes_a, codes_b, chosen[1], chosen[2])], dtype=np.int64)


def native_codes(plan: DotPlan, a: QArray, b: QArray, wrap) -> np.ndarray | None:
    """Result codes of a path whose register is the result format (out=None): the IEEE bits of the
    float32 / float64 register values of a native float path, every NaN as the format's positive NaN
    (as the exact engine rounds NaN); for an integer plan with a wrapping accumulator (``wrap``: its
    wrap recipe, else None), the register's integers of a short wrap32 dot. None otherwise."""
    if wrap is not None:
        chosen = recipe(plan, True, wrap)
        return None if chosen is None else _short_int_dot(chosen, a, b)
    chosen = recipe(plan, False, None)  # None for integer-only plans (no float register to round)
    if chosen is None or chosen[0] != "native":
        return None
    a_shape, b_shape = a.shape, b.shape
    values = _short_dot(chosen, a, b) if len(a_shape) == 1 and len(b_shape) == 1 else None
    if values is None:
        m = a_shape[0] if len(a_shape) == 2 else 1
        p = b_shape[1] if len(b_shape) == 2 else 1
        values = _native_values(chosen, plan, a, b, m, p).reshape(-1)
    dtype = values.dtype.type
    codes = values.view(_CODE_VIEWS[dtype])
    if values.size == 1:
        if values[0] != values[0]:
            codes = np.full(1, _NAN_CODES[dtype])
        return codes
    nan = values != values
    if nan.any():
        codes = np.where(nan, _NAN_CODES[dtype], codes)
    return codes


def _narrow_values(a: QArray, b: QArray, A, plus: float, m: int, p: int, work: int) -> np.ndarray | None:
    """The register values of a "narrow" recipe, shape (m, p), or None if some output met inf,
    NaN or an overflow (the rounding kernel then sums every output)."""
    L, R, _ = _layout(a, b, float_values(a), float_values(b))
    L, R = np.ascontiguousarray(L), np.ascontiguousarray(R)
    values = np.zeros((L.shape[0], R.shape[1]), dtype=np.float64)
    bad = np.zeros(values.shape, dtype=np.bool_)
    if values.size:
        _kernel(M.narrow_sequential, work)(L, R, values, bad, A, plus)
        if bad.any():
            return None
    return values.reshape(m, p)


def register_values(plan: DotPlan, a: QArray, b: QArray, status: np.ndarray, key: RandomKey, integer: bool, wrap):
    """(int64 values, None) or (None, wide values) of every output's result register, or None."""
    chosen = recipe(plan, integer, wrap)
    if chosen is None:
        return None
    m, p = status.shape
    kind = chosen[0]
    work = m * p * a.shape[-1]
    if kind == "wrap32":
        short = _short_int_dot(chosen, a, b)
        if short is not None:
            return short.reshape(1, 1), None
        out = np.zeros((m, p), dtype=np.int64)
        L, Rt = _terms_rt(a, b, a.element_codes, b.element_codes)
        if L.shape[1] and m and p:
            _kernel(M.int_wrap32, work)(_read_only(L), _read_only(Rt), out, chosen[1], chosen[2])
        return out, None
    if kind == "int_tile":
        _, A, F, chunk, largest = chosen
        n = a.shape[-1]
        if largest * max(n, 1) > _INT64_SAFE:
            return None
        L, R, transposed = _layout(a, b, a.element_codes, b.element_codes)
        out = np.zeros((L.shape[0], R.shape[1]), dtype=np.int64)
        tile_status = np.zeros_like(out)
        if out.size:
            _kernel(M.int_tile, work)(_read_only(np.ascontiguousarray(L)), _read_only(np.ascontiguousarray(R)), out,
                                      tile_status, A, F, chunk or max(n, 1))
        status[...] = tile_status.reshape(status.shape)
        return out.reshape(m, p), None
    plus = 0.0 if plan.fixed_operands else -0.0
    if kind == "native":
        values = _native_values(chosen, plan, a, b, m, p).astype(np.float64)
    else:
        _, P, A, F, product_rounds, order, chunk = chosen
        values = _narrow_values(a, b, A, plus, m, p, work) if kind == "narrow" else None
    if values is None:
        L, Rt = _terms_rt(a, b, float_values(a), float_values(b))
        values = np.zeros((m, p), dtype=np.float64)
        if values.size:
            _kernel(M.rounded_reduce, work)(L, Rt, values, status, P, A, F, product_rounds, order, chunk,
                                            np.uint64(key.seed), np.uint64(key.stream), np.uint64(key.offset), plus)
    size = values.size
    wide = (np.zeros(size, dtype=np.int64), np.zeros(size, dtype=np.bool_), np.zeros(size, dtype=np.uint64),
            np.zeros(size, dtype=np.uint64), np.zeros(size, dtype=np.int64))
    M.values_to_wide(np.ascontiguousarray(values), *wide)
    if plan.fixed_operands:
        wide[4][:] -= _log2(plan.unit)  # lpsim.fast.arith rounds fixed-point results counted in product units
    return None, tuple(w.reshape(m, p) for w in wide)
