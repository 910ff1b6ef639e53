"""The fast engine's arithmetic on QArrays: the exact engine's signatures, checks and bits.

Every function validates exactly as lpsim.exact.arith (the same checks, in the same order,
so both engines raise the same exceptions), converts operands to arrays, and runs a
compiled kernel. Reductions first try the multiply-accumulate fast paths (``_mac``:
native float32/float64, integer tiles, a rounding kernel for other float registers;
docs/arithmetic.md, "The fast engine"); otherwise (``_arith_kernels``):

* fixed-point reductions whose registers are all integer or exact run on int64 codes
  (wrapping accumulators in sequential or pairwise order as one vectorizable sum);
* everything else with compiled support runs on exact *wide* values (see the kernels'
  docstring): float, block or fixed-point operands, float registers in every rounding
  mode, exact registers, and the rounding of results into fixed-point or float formats.

An output (or element) a kernel cannot settle, or that fails, is recomputed by the exact
engine: it then raises its own exception, message included, or supplies the exact value.
A combination without compiled support (block-format results, fixed-point formats whose
step is not a power of two where rounding needs it, integer accumulators feeding a float
final register, exact products wider than 127 bits) runs on the exact engine, with one
``FastArithmeticFallbackWarning`` per kind of combination.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ..arith.accumulator import Order
from ..arith.plan import DotPlan
from ..arith.registers import ExactRegister, FloatRegister, IntRegister
from ..exact import arith as exact_arith
from ..exact.accumulate import dot_one, register_value_as_exact
from ..exact.arith import _check_dims, _check_inner, _describe, _operand
from ..exact.qarray import MAX_INDEX, QArray, RandomKey
from ..exact.values import exact_add, exact_mul, exact_negate, round_exact
from ..formats.base import Format
from ..formats.block import BlockFormat
from ..formats.fixed import FixedPoint
from ..formats.floating import FloatFormat
from ..formats.presets import BINARY16
from ..formats.rounding import NEAREST_EVEN, Overflow, Rounding
from . import _arith_kernels as K
from . import _mac
from ._memo import by_identity
from ._rng_kernels import source_word
from .codec import fixed_params, float_layout, float_params
from .fallback import FastArithmeticFallbackWarning, warn_once
from .registry import kernels_for


def _fallback(reason: str, exact_function, *args, **kwargs):
    warn_once(reason, f"fast engine: {reason} has no compiled kernel; using the exact engine (slow)",
              FastArithmeticFallbackWarning, stacklevel=3)
    return exact_function(*args, **kwargs)


# -- kernel parameters -----------------------------------------------------------------------

_PLACEHOLDER_FIXED = FixedPoint.integer(8)
_PLACEHOLDER_FLOAT = BINARY16


@functools.lru_cache(maxsize=512)
def target(fmt: Format, rounding: Rounding) -> K.Target | None:
    """Kernel parameters for rounding into ``fmt``; None where no kernel rounds into it."""
    mode, r = rounding.mode.code, 0 if rounding.random_bits is None else int(rounding.random_bits)
    if isinstance(fmt, FloatFormat):
        return K.Target(is_float=True, fixed=fixed_params(_PLACEHOLDER_FIXED), frac_bits=0,
                        float_params=float_params(fmt, rounding), layout=float_layout(fmt), mode=mode, random_bits=r,
                        generator_bits=source_word(0, rounding.generator.code))
    if isinstance(fmt, FixedPoint) and fmt.is_power_of_two_scale and (fmt.signed or fmt.bits < 64):
        params = fixed_params(fmt)
        return K.Target(is_float=False, fixed=params, frac_bits=int(params.frac_bits),
                        float_params=float_params(_PLACEHOLDER_FLOAT, rounding), layout=float_layout(_PLACEHOLDER_FLOAT),
                        mode=mode, random_bits=r, generator_bits=source_word(0, rounding.generator.code))
    return None


def _exact_in_float64(fmt: Format) -> bool:
    element = fmt.element if isinstance(fmt, BlockFormat) else fmt
    return not (isinstance(element, FixedPoint) and not (element.is_power_of_two_scale and element.bits <= 53))


def _exact_float64(q: QArray) -> np.ndarray | None:
    """The operand's values as float64 where every one is exact, else None."""
    fmt = q.fmt
    if not _exact_in_float64(fmt):
        return None
    # float formats are float64 values; block values are inside float64's range by validation
    _, decode = kernels_for(fmt)
    return np.asarray(decode(q.codes, fmt), dtype=np.float64)


def _log2_unit(plan: DotPlan) -> int | None:
    unit = plan.unit
    n, d = unit.numerator, unit.denominator
    if n & (n - 1) == 0 and d & (d - 1) == 0:
        return n.bit_length() - d.bit_length()
    return None


# -- reductions -------------------------------------------------------------------------------

_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


def _int_register(register) -> K.IntReg | None:
    if isinstance(register, IntRegister):
        if not register.signed and register.bits == 64:
            return None  # its codes do not fit int64
        return K.IntReg(kind=K.KIND_INT, bits=register.bits, overflow=register.overflow.code,
                        code_min=register.code_min, code_max=register.code_max)
    return K.IntReg(kind=K.KIND_EXACT, bits=64, overflow=0, code_min=_INT64_MIN, code_max=_INT64_MAX)


def _wide_register(register) -> K.WideReg:
    if isinstance(register, FloatRegister):
        return K.WideReg(kind=K.KIND_FLOAT, target=target(register.fmt, register.rounding))
    # an integer product register always holds the exact product (plan_dot), so it acts as exact
    return K.WideReg(kind=K.KIND_EXACT, target=target(_PLACEHOLDER_FLOAT, NEAREST_EVEN))


def _integer_family(plan: DotPlan) -> bool:
    accumulator = plan.accumulator
    return (plan.fixed_operands and not any(isinstance(r, FloatRegister) for r in accumulator.registers)
            and _INT64_MIN <= plan.product_low and plan.product_high <= _INT64_MAX
            and all(_int_register(r) is not None for r in accumulator.registers))


def _wide_support(plan: DotPlan, a_fmt: Format, b_fmt: Format) -> str | None:
    """Why the wide kernel cannot run this reduction, or None if it can."""
    accumulator = plan.accumulator
    for register in (accumulator.accumulator, accumulator.summation.final):
        if isinstance(register, IntRegister):
            return "an integer accumulator with a float final register"
    if plan.fixed_operands:
        if _log2_unit(plan) is None:
            return "float registers over fixed-point operands whose product step is not a power of two"
        if max(a_fmt.bits, b_fmt.bits) > 63:
            return "fixed-point operands of 64 bits with float registers"
    elif not (_exact_in_float64(a_fmt) and _exact_in_float64(b_fmt)):
        return "fixed-point operands wider than 53 bits or with a step that is not a power of two"
    return None


def _wrap_recipe(plan: DotPlan):
    """(bits, code_min, int32 lanes possible?) of a wrapping integer accumulator not summed in chunks, else None."""
    acc = plan.accumulator.accumulator
    if plan.accumulator.summation.order is Order.CHUNKED or not (isinstance(acc, IntRegister) and acc.overflow is Overflow.WRAP):
        return None
    narrow = acc.bits <= 32 and plan.product_high < (1 << 31) and plan.product_low >= -(1 << 31)
    return acc.bits, acc.code_min, narrow


def _route(plan: DotPlan, a_fmt, b_fmt, fmt: Format, output_rounding: Rounding, default_out: bool):
    """(integer family?, result codes straight from the register?, fallback reason or None, fmt's code
    dtype, log2 of the product step, wrap recipe or None), remembered by the identity of plan, fmt
    and rounding (the exact engine caches plans, and a plan fixes its operand formats) so a short
    dot pays neither for the checks nor for hashing formats."""
    return by_identity(_plan_route, plan, fmt, output_rounding, default_out, extra=(a_fmt, b_fmt))


def _plan_route(plan: DotPlan, fmt: Format, output_rounding: Rounding, default_out: bool, a_fmt, b_fmt):
    integer = _integer_family(plan)
    direct = integer and default_out  # the result register's integers are the result codes
    reason = None
    if not direct:
        if target(fmt, output_rounding) is None:
            reason = f"into {type(fmt).__name__} {fmt.spec}"
        elif plan.fixed_operands and _log2_unit(plan) is None:
            reason = "of fixed-point operands with a step that is not a power of two into out="
    if reason is None and not integer:
        why = _wide_support(plan, a_fmt, b_fmt)
        reason = None if why is None else f"with {why}"
    route = (integer, direct, reason)
    if reason is None:
        shift = _log2_unit(plan) if plan.fixed_operands else 0
        route += (fmt.code_dtype, shift, _wrap_recipe(plan) if integer else None)
    return route


def _reduce(op, a: QArray, b: QArray, items, pairs, out_shape, accumulator, out, rounding, seed, stream, offset):
    """The reductions' common path: route, sum every output in a kernel, patch what the kernel left
    to the exact engine, then take the register's integers as codes or round into the result format.

    ``items``: a callable giving the kernels' problems, a list of (a, b, first output): 1-D or
    2-D operands whose outputs, in order, are the result's outputs (flat C order) from ``first output``
    on; one problem for dot, matvec and a plain matmul, one per batch element for a batched matmul."""
    rounding, key, plan, fmt = exact_arith.prepare_reduction(op, a, b, out_shape, accumulator, out, rounding, seed,
                                                             stream, offset)
    output_rounding = rounding if out is not None else NEAREST_EVEN
    route = _route(plan, a.fmt, b.fmt, fmt, output_rounding, out is None)
    if route[2] is not None:
        exact_call = functools.partial(getattr(exact_arith, op), a, b, accumulator, out, rounding,
                                       seed=seed, stream=stream, offset=offset)
        return _fallback(f"{op} {route[2]}", exact_call)
    integer, direct, _, code_dtype, shift, wrap = route
    problems = items()
    if out is None and problems:
        native = _mac.native_codes(plan, problems[0][0], problems[0][1], wrap)
        if native is not None:
            if len(problems) > 1:
                native = _joined([native] + [_mac.native_codes(plan, ia, ib, wrap) for ia, ib, _ in problems[1:]])
            return _result(native, out_shape, fmt, code_dtype)
    parts = [_register_values(plan, ia, ib, _b_rows(ib), _shifted(key, first), integer, wrap)
             for ia, ib, first in problems]
    values = None if not parts or parts[0][0] is None else _joined([part[0] for part in parts])
    wide = None if not parts or parts[0][1] is None else tuple(_joined([part[1][i] for part in parts])
                                                                for i in range(5))
    status = _joined([part[2] for part in parts])
    patched = _patch_unsettled(op, status, _ExactOutputs(op, a, b, plan, pairs, out_shape, key)) \
        if np.count_nonzero(status) else {}
    what = functools.partial(_what, op, a.fmt, b.fmt, fmt)  # the message prefix, built only where an output needs it
    if direct:
        codes = np.zeros(0, dtype=np.int64) if values is None else values
        for o, value in patched.items():
            # an exact sum beyond int64: the exact engine's rounding into the 64-bit result format raises
            codes[o] = round_exact(register_value_as_exact(value, plan), fmt, NEAREST_EVEN, None, f"{what()} [{o}]")
        return _result(codes, out_shape, fmt, code_dtype)
    if integer:
        wide = _integer_as_wide(np.zeros(0, dtype=np.int64) if values is None else values)
    elif wide is None:
        wide = _integer_as_wide(np.zeros(0, dtype=np.int64))
    codes = _round_wide(op, wide, patched, plan, shift, fmt, output_rounding, key, what)
    return _result(codes, out_shape, fmt, code_dtype)


def _what(op, a_fmt: Format, b_fmt: Format, fmt: Format) -> str:
    return f"{op} of {a_fmt.spec} x {b_fmt.spec} into {fmt.spec}"


def _joined(arrays: list) -> np.ndarray:
    """The arrays flattened and joined end to end (no copy for one array)."""
    if len(arrays) == 1:
        return arrays[0].reshape(-1)
    if not arrays:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate([x.reshape(-1) for x in arrays])


def _shifted(key: RandomKey, first: int) -> RandomKey:
    """The key of a problem whose outputs start at output ``first`` (prepare_reduction has checked
    that every output's random indices stay below 2**64)."""
    return key if first == 0 else RandomKey(seed=key.seed, stream=key.stream, offset=key.offset + first)


def _register_values(plan: DotPlan, a: QArray, b: QArray, b_rows, key: RandomKey, integer: bool, wrap):
    """(int64 values or None, wide values or None, status) of every output of one 1-D or 2-D problem."""
    a_codes = a.element_codes
    if a_codes.ndim == 1:
        a_codes = a_codes[None, :]
    m = a_codes.shape[0]
    p = b_rows.shape[0]
    status = np.zeros((m, p), dtype=np.int64)
    fast_path = _mac.register_values(plan, a, b, status, key, integer, wrap)
    if fast_path is not None:
        values, wide = fast_path
    elif integer:
        values = _integer_reduce(plan, a_codes, b_rows, status, wrap)
        wide = None
    else:
        wide = _wide_reduce(plan, a, b, b_rows, status, key)
        values = None
    return values, wide, status


class _ExactOutputs:
    """The exact engine's register value of one output (it raises where the exact engine raises);
    the operands' exact terms are computed on the first call only."""

    def __init__(self, op, a: QArray, b: QArray, plan: DotPlan, pairs, out_shape, key: RandomKey):
        self.op, self.a, self.b, self.plan, self.pairs, self.out_shape, self.key = op, a, b, plan, pairs, out_shape, key
        self.terms = None

    def __call__(self, o: int):
        a, b, plan = self.a, self.b, self.plan
        if self.terms is None:
            self.terms = (exact_arith._terms(a, plan), exact_arith._terms(b, plan))
        idx = np.unravel_index(o, self.out_shape) if self.out_shape else ()
        idx = tuple(int(i) for i in idx)
        row, col = self.pairs(self.terms[0], self.terms[1], idx)
        what = f"{self.op} output {idx} of {a.fmt.spec} x {b.fmt.spec} with {plan.accumulator.spec}"
        return dot_one(list(row), list(col), plan, self.key.seed, self.key.stream, self.key.offset + o, what)


def _patch_unsettled(op, status: np.ndarray, exact_output) -> dict[int, object]:
    """{output: exact register value} of every output the kernel did not settle (status != OK)."""
    patched: dict[int, object] = {}
    flat_status = status.reshape(-1)
    for o in np.flatnonzero(flat_status) if np.count_nonzero(flat_status) else ():
        value = exact_output(int(o))
        if flat_status[o] == K.FAILED:
            raise AssertionError(f"fast {op}: output {o} failed in the kernel but not in the exact engine; please report")
        patched[int(o)] = value
    return patched


def _integer_as_wide(flat: np.ndarray) -> tuple:
    """int64 register values as the wide kernels' (class, negative, hi, lo, exponent) arrays."""
    cls = np.where(flat == 0, K.ZERO, K.FINITE).astype(np.int64)
    negative = flat < 0
    lo = np.abs(flat).astype(np.uint64)  # abs(-2**63) wraps to itself, which is its magnitude as uint64
    return cls, negative, np.zeros_like(lo), lo, np.zeros(flat.shape, dtype=np.int64)


def _round_wide(op, wide: tuple, patched: dict, plan: DotPlan, shift: int, fmt: Format, output_rounding: Rounding,
                key: RandomKey, what) -> np.ndarray:
    """Codes of the wide values rounded into fmt; the patched outputs and those the kernel cannot
    round are rounded by the exact engine."""
    n_outputs = wide[0].shape[0]
    for o in patched:
        wide[0][o] = K.ZERO  # a placeholder the kernel rounds without failing; the exact value replaces it
    codes = np.zeros(n_outputs, dtype=np.int64)
    out_status = np.zeros(n_outputs, dtype=np.int64)
    T = target(fmt, output_rounding)
    first = 0
    while first < n_outputs:
        stop = K.round_wide_array(*wide, shift, codes, out_status, T, np.uint64(key.seed), np.uint64(key.stream),
                                  np.uint64(key.offset), first)
        end = n_outputs if stop < 0 else stop + 1
        # only the outputs the kernel left, in order: a Python loop over every output cost more than
        # the kernels for the matrix products of a small network
        unsettled = (first + np.flatnonzero(out_status[first:end] != K.OK)).tolist()
        for o in sorted(set(unsettled).union(o for o in patched if first <= o < end)):
            if o in patched:
                value = register_value_as_exact(patched[o], plan)
            else:
                value = _wide_exact(tuple(w[o] for w in wide), shift)
            codes[o] = round_exact(value, fmt, output_rounding, key.element(output_rounding, o), f"{what()} [{o}]")
            if o == stop:
                raise AssertionError(f"fast {op}: rounding output {o} failed in the kernel but not in the exact engine; please report")
        first = end
    return codes


def _wide_exact(value, shift: int):
    """The exact value (Fraction or float) of one wide value in units of 2**shift."""
    from fractions import Fraction

    cls, negative, hi, lo, e = (int(v) for v in value)
    if cls == K.NAN:
        return math.nan
    if cls == K.INF:
        return -math.inf if negative else math.inf
    if cls == K.ZERO:
        return -0.0 if negative else 0.0
    magnitude = Fraction((hi << 64) | lo) * Fraction(2) ** (e + shift)
    return -magnitude if negative else magnitude


def _result(codes: np.ndarray, shape, fmt: Format, code_dtype=None) -> QArray:
    """A QArray of codes the kernels produced in fmt's range, without QArray's range check (a
    dtype cast and a read-only flag are all it would add). ``code_dtype``: fmt.code_dtype, if known."""
    result = object.__new__(QArray)
    # no copy where the dtype is already right: the codes are the kernels' own arrays, or views of
    # an operand's read-only codes
    codes = codes.astype(fmt.code_dtype if code_dtype is None else code_dtype, copy=False).reshape(shape)
    codes.setflags(write=False)
    object.__setattr__(result, "codes", codes)
    object.__setattr__(result, "fmt", fmt)
    return result


def _integer_reduce(plan: DotPlan, a_codes: np.ndarray, b_rows: np.ndarray, status: np.ndarray, wrap) -> np.ndarray:
    """``wrap``: _wrap_recipe(plan)."""
    accumulator = plan.accumulator
    m, n = a_codes.shape
    out = np.zeros((m, b_rows.shape[0]), dtype=np.int64)
    if m == 0 or b_rows.shape[0] == 0:
        return out
    if wrap is not None and n > 0:
        bits, code_min, narrow = wrap
        narrow = narrow and a_codes.dtype.itemsize <= 2 and b_rows.dtype.itemsize <= 2
        (K.int_dot_wrap32 if narrow else K.int_dot_wrap)(a_codes, b_rows, out, bits, code_min)
        return out
    order = accumulator.summation.order
    acc = accumulator.accumulator
    bound = max(abs(plan.product_low), abs(plan.product_high)) * max(n, 1)
    if order is not Order.CHUNKED and n > 0:
        if isinstance(acc, ExactRegister) and bound <= _INT64_MAX:
            # no partial sum leaves int64, so the exact sum is the plain sum
            K.int_dot_wrap(a_codes, b_rows, out, 64, _INT64_MIN)
            return out
    registers = [_int_register(r) for r in (accumulator.product, acc, accumulator.summation.final or acc)]
    K.int_reduce(np.ascontiguousarray(a_codes), np.ascontiguousarray(b_rows), out, status, *registers,
                 order.code, int(accumulator.summation.chunk or 1))
    return out


def _wide_reduce(plan: DotPlan, a: QArray, b: QArray, b_rows, status, key: RandomKey):
    accumulator = plan.accumulator
    m = status.shape[0]
    p = status.shape[1]
    empty_int = np.zeros((1, 1), dtype=np.int64)
    empty_float = np.zeros((1, 1), dtype=np.float64)
    if plan.fixed_operands:
        A = np.ascontiguousarray(np.atleast_2d(a.element_codes), dtype=np.int64)
        B = np.ascontiguousarray(b_rows, dtype=np.int64)
        Af, Bf = empty_float, empty_float
        shift = _log2_unit(plan)
    else:
        values_a, values_b = _exact_float64(a), _exact_float64(b)
        Af = np.ascontiguousarray(np.atleast_2d(values_a))
        Bf = np.ascontiguousarray(values_b.reshape(1, -1) if b.ndim == 1 else values_b.T)
        A, B = empty_int, empty_int
        shift = 0
    shape = (m, p)
    cls = np.zeros(shape, dtype=np.int64)
    negative = np.zeros(shape, dtype=np.bool_)
    hi = np.zeros(shape, dtype=np.uint64)
    lo = np.zeros(shape, dtype=np.uint64)
    e = np.zeros(shape, dtype=np.int64)
    if m and p:
        registers = [_wide_register(r) for r in (accumulator.product, accumulator.accumulator,
                                                      accumulator.summation.final or accumulator.accumulator)]
        summation = accumulator.summation
        K.wide_reduce(A, B, Af, Bf, plan.fixed_operands, cls, negative, hi, lo, e, status, *registers,
                      summation.order.code, int(summation.chunk or 1), np.uint64(key.seed), np.uint64(key.stream),
                      np.uint64(key.offset), shift)
    return cls, negative, hi, lo, e


def dot(a: QArray, b: QArray, accumulator, out: Format | None = None, rounding=NEAREST_EVEN, *,
        seed: int = 0, stream: int = 0, offset: int = 0) -> QArray:
    """As lpsim.exact.dot, compiled."""
    if not (type(a) is QArray and type(b) is QArray and a.ndim == 1 and b.ndim == 1 and a.shape == b.shape):
        # the exact engine's checks, which raise its exceptions (the test above only lets valid operands skip them)
        _check_dims("dot", {"a": a, "b": b}, {"a": 1, "b": 1})
        _check_inner("dot", "a", a, "b", b, 0, 0)
    return _reduce("dot", a, b, lambda: [(a, b, 0)], lambda at, bt, idx: (at, bt), (),
                   accumulator, out, rounding, seed, stream, offset)


def matvec(a: QArray, x: QArray, accumulator, out: Format | None = None, rounding=NEAREST_EVEN, *,
           seed: int = 0, stream: int = 0, offset: int = 0) -> QArray:
    """As lpsim.exact.matvec, compiled."""
    _check_dims("matvec", {"a": a, "x": x}, {"a": 2, "x": 1})
    _check_inner("matvec", "a", a, "x", x, 1, 0)
    return _reduce("matvec", a, x, lambda: [(a, x, 0)],
                   lambda at, xt, idx: (at[idx[0]], xt), (a.shape[0],), accumulator, out, rounding, seed, stream, offset)


def matmul(a: QArray, b: QArray, accumulator, out: Format | None = None, rounding=NEAREST_EVEN, *,
           seed: int = 0, stream: int = 0, offset: int = 0) -> QArray:
    """As lpsim.exact.matmul (numpy's matmul shapes, batches included), compiled."""
    shape = exact_arith.matmul_shape(a, b)
    return _reduce("matmul", a, b, lambda: _matmul_problems(shape, a, b), exact_arith.matmul_pairs(shape, a, b),
                   shape.out_shape, accumulator, out, rounding, seed, stream, offset)


def _matmul_problems(shape, a: QArray, b: QArray) -> list:
    """A matmul as the kernels' 1-D / 2-D problems (see _reduce): one where the batch folds into the
    rows of ``a`` (b without batch axes: the flat output order is then the rows' order), else one
    per batch element, each starting at its first flat output."""
    if a.ndim <= 2 and b.ndim <= 2:
        if a.ndim == 1 and b.ndim == 2:
            a = _reshaped(a, (1, shape.n))
        return [(a, b, 0)]
    if b.ndim <= 2:
        folded = _reshaped(a, (math.prod(a.shape[:-1]), shape.n), allow_fail=True)
        if folded is not None:
            return [(folded, b, 0)]
    size = shape.m * shape.p
    a_batch, b_batch = a.shape[:-2], b.shape[:-2]
    problems = []
    for t, batch in enumerate(np.ndindex(shape.batch)):
        ia = a if a.ndim == 1 else _item(a, shape.item(a_batch, batch))
        ib = b if b.ndim == 1 else _item(b, shape.item(b_batch, batch))
        if ia.ndim == 1:
            ia = _reshaped(ia, (1, shape.n))
        problems.append((ia, ib, t * size))
    return problems


def _b_rows(b: QArray) -> np.ndarray:
    """b's element codes with one row per output column (the integer and wide kernels' layout; the
    native float paths never need this copy, so it is made only here)."""
    codes = b.element_codes
    return codes[None, :] if codes.ndim == 1 else np.ascontiguousarray(codes.T)


def _item(q: QArray, index: tuple) -> QArray:
    """q[index] (codes already checked: no range check again, except for block formats' own slicing)."""
    if isinstance(q.fmt, BlockFormat):
        return q[index]
    return _result(q.codes[index], q.codes[index].shape, q.fmt)


def _reshaped(q: QArray, shape: tuple, allow_fail: bool = False) -> QArray | None:
    if isinstance(q.fmt, BlockFormat):
        try:
            return q.reshape(shape)
        except TypeError:
            if allow_fail:
                return None  # the block axis is not last: the caller splits the batch instead
            raise
    codes = q.codes.reshape(shape)
    return _result(codes, codes.shape, q.fmt)


# -- elementwise ----------------------------------------------------------------------------------

_EXACT_OPS = {
    K.OP_ADD: lambda rnd: (lambda x, y: exact_add(x, y, rnd)),
    K.OP_SUBTRACT: lambda rnd: (lambda x, y: exact_add(x, exact_negate(y), rnd)),
    K.OP_MULTIPLY: lambda rnd: exact_mul,
    K.OP_FMA: lambda rnd: (lambda x, y, z: exact_add(exact_mul(x, y), z, rnd)),
    K.OP_IDENTITY: lambda rnd: (lambda v: v),
}


def _elementwise(op: str, code: int, operands: dict, out, rounding, seed, stream, offset, exact_call) -> QArray:
    rounding, key, fmt, shape = exact_arith.prepare_elementwise(op, operands, out, rounding, seed, stream, offset)
    size = math.prod(shape)
    T = target(fmt, rounding)
    if T is None:
        return _fallback(f"{op} into {type(fmt).__name__} {fmt.spec}", exact_call)
    values = [_exact_float64(q) for q in operands.values()]
    if any(v is None for v in values):
        return _fallback(f"{op} of fixed-point operands wider than 53 bits or with a step that is not a power of two",
                         exact_call)
    if rounding.is_stochastic and size and key.offset + size - 1 > MAX_INDEX:
        return exact_call()  # the exact engine raises at the first index past 2**64 - 1
    flat = [np.ascontiguousarray(np.broadcast_to(v, shape)).reshape(-1) for v in values]
    flat += [flat[0]] * (3 - len(flat))
    codes = np.zeros(size, dtype=np.int64)
    status = np.zeros(size, dtype=np.int64)
    stop = K.elementwise(code, flat[0], flat[1], flat[2], codes, status, T, np.uint64(key.seed),
                         np.uint64(key.stream), np.uint64(key.offset))
    redo = np.flatnonzero(status)
    if redo.size:
        exact_values = [np.broadcast_to(q.exact_values(), shape).reshape(-1) for q in operands.values()]
        compute = _EXACT_OPS[code](rounding)
        what = f"{op} of {_describe(operands)} into {fmt.spec}"
        for i in redo:
            i = int(i)
            value = compute(*(v[i] for v in exact_values))
            codes[i] = round_exact(value, fmt, rounding, key.element(rounding, i), f"{what} [{i}]")
            if i == stop:
                raise AssertionError(f"fast {op}: element {i} failed in the kernel but not in the exact engine; please report")
    return _result(codes, shape, fmt)


def add(a: QArray, b: QArray, out: Format | None = None, rounding=NEAREST_EVEN, *,
        seed: int = 0, stream: int = 0, offset: int = 0) -> QArray:
    """As lpsim.exact.add, compiled."""
    call = functools.partial(exact_arith.add, a, b, out, rounding, seed=seed, stream=stream, offset=offset)
    return _elementwise("add", K.OP_ADD, {"a": a, "b": b}, out, rounding, seed, stream, offset, call)


def subtract(a: QArray, b: QArray, out: Format | None = None, rounding=NEAREST_EVEN, *,
             seed: int = 0, stream: int = 0, offset: int = 0) -> QArray:
    """As lpsim.exact.subtract, compiled."""
    call = functools.partial(exact_arith.subtract, a, b, out, rounding, seed=seed, stream=stream, offset=offset)
    return _elementwise("subtract", K.OP_SUBTRACT, {"a": a, "b": b}, out, rounding, seed, stream, offset, call)


def multiply(a: QArray, b: QArray, out: Format | None = None, rounding=NEAREST_EVEN, *,
             seed: int = 0, stream: int = 0, offset: int = 0) -> QArray:
    """As lpsim.exact.multiply, compiled."""
    call = functools.partial(exact_arith.multiply, a, b, out, rounding, seed=seed, stream=stream, offset=offset)
    return _elementwise("multiply", K.OP_MULTIPLY, {"a": a, "b": b}, out, rounding, seed, stream, offset, call)


def fma(a: QArray, b: QArray, c: QArray, out: Format | None = None, rounding=NEAREST_EVEN, *,
        seed: int = 0, stream: int = 0, offset: int = 0) -> QArray:
    """As lpsim.exact.fma, compiled."""
    call = functools.partial(exact_arith.fma, a, b, c, out, rounding, seed=seed, stream=stream, offset=offset)
    return _elementwise("fma", K.OP_FMA, {"a": a, "b": b, "c": c}, out, rounding, seed, stream, offset, call)


def axpy(alpha: QArray, x: QArray, y: QArray, out: Format | None = None, rounding=NEAREST_EVEN, *,
         seed: int = 0, stream: int = 0, offset: int = 0) -> QArray:
    """As lpsim.exact.axpy, compiled: alpha * x + y rounded once."""
    call = functools.partial(exact_arith.axpy, alpha, x, y, out, rounding, seed=seed, stream=stream, offset=offset)
    _operand(y, "y", "axpy")
    return _elementwise("axpy", K.OP_FMA, {"alpha": alpha, "x": x, "y": y}, y.fmt if out is None else out, rounding,
                        seed, stream, offset, call)


def requantize(a: QArray, out: Format, rounding=NEAREST_EVEN, *, seed: int = 0, stream: int = 0,
               offset: int = 0) -> QArray:
    """As lpsim.exact.requantize, compiled."""
    if out is None:
        raise ValueError("requantize: out (the target format) is required")
    call = functools.partial(exact_arith.requantize, a, out, rounding, seed=seed, stream=stream, offset=offset)
    return _elementwise("requantize", K.OP_IDENTITY, {"a": a}, out, rounding, seed, stream, offset, call)


__all__ = ["FastArithmeticFallbackWarning", "add", "subtract", "multiply", "fma", "axpy", "requantize", "dot",
           "matvec", "matmul", "target"]
