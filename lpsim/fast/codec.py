"""The fast engine's encode/decode for the built-in formats: validate, convert, call kernels.

Same signatures as the exact engine (lpsim/exact/registry.py):
encode(x: float64 ndarray, fmt, rounding, seed, stream, offset) -> codes (BlockCodes for
blocks); decode(codes, fmt) -> float64 ndarray. The kernels (``_codec_kernels``) see flat
arrays and parameter tuples built here once per format (and rounding). When a kernel
rejects an element, that element goes through the exact engine, which raises its own
exception: both engines fail alike, message included.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ..exact import codec as exact_codec
from ..exact.rounding import ElementRandom
from ..formats.block import BlockCodes, BlockFormat, block_axis, checked_block_codes
from ..formats.fixed import FixedPoint
from ..formats.floating import FloatFormat
from ..formats.rounding import Overflow, Rounding
from . import _codec_kernels as K
from ._memo import by_identity, by_identity2
from ._rng_kernels import source_word
from ._round_kernels import first_word_bits

_TABLE_MAX_BITS = 16  # decode formats up to this width through a table of every code


# -- parameters for kernels ------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def mode_and_bits(rounding: Rounding) -> tuple[int, int]:
    return rounding.mode.code, 0 if rounding.random_bits is None else int(rounding.random_bits)


def round_params(rounding: Rounding, seed: int, stream: int, offset: int) -> K.RoundParams:
    return call_round_params(None, *mode_and_bits(rounding), rounding.generator.code, seed, stream, offset)


# per-call conversions remembered: a numpy scalar costs as much as a short kernel's work
_seed_word = functools.lru_cache(maxsize=64)(np.uint64)
_stream_word = functools.lru_cache(maxsize=64)(source_word)
_new_tuple = tuple.__new__  # a namedtuple's own constructor is a Python function: slower


def call_round_params(R: K.RoundParams | None, mode: int, random_bits: int, generator: int, seed: int, stream: int,
                      offset: int) -> K.RoundParams:
    """``R`` (a deterministic rounding's, the same every call), or a stochastic rounding's RoundParams of this call."""
    if R is not None:
        return R
    return _new_tuple(K.RoundParams, (mode, random_bits, _seed_word(seed), _stream_word(stream, generator),
                                      np.uint64(offset)))


# -- calling kernels ---------------------------------------------------------------------

_ENTRY_POINTS: dict = {}


def call_kernel(kernel, key, *args):
    """``kernel(*args)``, skipping Numba's dispatch for argument types seen before.

    Numba's dispatcher types every argument on every call, and typing a namedtuple of
    parameters costs microseconds: more than a short array's whole kernel. ``key`` must
    determine the Numba types of ``args`` (the caller builds the tuples and arrays itself);
    the first call with a key goes through the dispatcher (compiling or loading that
    signature) and remembers the compiled entry point of exactly those types.
    """
    entry = _ENTRY_POINTS.get(key)
    if entry is not None:
        return entry(*args)
    result = kernel(*args)
    overloads = getattr(kernel, "overloads", None)  # absent when NUMBA_DISABLE_JIT=1 leaves plain functions
    if overloads is not None:
        compiled = overloads.get(tuple(kernel.typeof_pyval(a) for a in args))
        if compiled is not None:
            _ENTRY_POINTS[key] = compiled.entry_point
    return result


def array_key(a: np.ndarray) -> int:
    """What Numba's type of an array argument depends on, besides its dtype and rank: its flags
    (contiguity, writeable, aligned; the bit set holds a few more, which only split keys).
    block_layout returns the same key for the array it returns."""
    return a.flags.num


@functools.lru_cache(maxsize=512)
def fixed_params(fmt: FixedPoint) -> K.FixedParams:
    mantissa, exponent = math.frexp(fmt.step)
    pow2 = fmt.is_power_of_two_scale
    return K.FixedParams(
        signed=bool(fmt.signed),
        code_max=np.uint64(fmt.code_max),
        neg_limit=np.uint64(-fmt.code_min),
        mask=np.uint64((1 << fmt.bits) - 1),
        store_mask=np.uint64((1 << (8 * fmt.code_dtype.itemsize)) - 1),
        overflow=fmt.overflow.code,
        pow2=bool(pow2),
        frac_bits=int(1 - exponent) if pow2 else 0,  # step == 2**-frac_bits
        step=float(fmt.step),
        significand=np.uint64(int(mantissa * 2.0**53)),
        step_exp=int(exponent - 53),
    )


def _code_or_error(make_code, *errors) -> tuple[bool, int]:
    try:
        return False, int(make_code())
    except errors:
        return True, 0


@functools.lru_cache(maxsize=512)
def float_params(fmt: FloatFormat, rounding: Rounding) -> K.FloatParams:
    """Kernel parameters; special codes come from the exact engine's own functions."""
    overflow_error, overflow_pos = _code_or_error(lambda: exact_codec.float_overflow_code(False, fmt, rounding, ""), OverflowError)
    _, overflow_neg = _code_or_error(lambda: exact_codec.float_overflow_code(True, fmt, rounding, ""), OverflowError)
    nan_error, nan_pos = _code_or_error(lambda: exact_codec.nan_code(False, fmt), ValueError)
    _, nan_neg = _code_or_error(lambda: exact_codec.nan_code(True, fmt), ValueError)
    inf_error, inf_pos = _code_or_error(
        lambda: exact_codec.encode_float_element(math.inf, fmt, rounding, None), OverflowError, ValueError
    )
    _, inf_neg = _code_or_error(lambda: exact_codec.encode_float_element(-math.inf, fmt, rounding, None), OverflowError, ValueError)
    return K.FloatParams(
        man_bits=int(fmt.man_bits),
        emin=int(fmt.emin),
        qmin=int(fmt.emin - fmt.man_bits),
        qmax=int(fmt.emax - fmt.man_bits),
        subnormals=bool(fmt.subnormals),
        max_code=np.uint64(fmt.max_code),
        sign_mask=np.uint64(fmt.sign_mask),
        negative_zero=bool(fmt.has_negative_zero),
        overflow_error=overflow_error,
        overflow_pos=np.uint64(overflow_pos),
        overflow_neg=np.uint64(overflow_neg),
        nan_ok=not nan_error,
        nan_pos=np.uint64(nan_pos),
        nan_neg=np.uint64(nan_neg),
        inf_error=inf_error,
        inf_pos=np.uint64(inf_pos),
        inf_neg=np.uint64(inf_neg),
    )


@functools.lru_cache(maxsize=512)
def float_layout(fmt: FloatFormat) -> K.FloatLayout:
    return K.FloatLayout(
        man_bits=int(fmt.man_bits),
        exp_bits=int(fmt.exp_bits),
        bias=int(fmt.effective_bias),
        emin=int(fmt.emin),
        subnormals=bool(fmt.subnormals),
        specials=fmt.specials.code,
        sign_mask=np.uint64(fmt.sign_mask),
    )


@functools.lru_cache(maxsize=512)
def block_params(fmt: BlockFormat) -> K.BlockParams:
    return K.BlockParams(
        block_size=int(fmt.block_size),
        element_emax=int(fmt.element_emax),
        scale_emin=int(fmt.scale_emin),
        scale_emax=int(fmt.scale_emax),
        scale_bias=int(fmt.scale_bias),
        scale_nan=int(fmt.scale_nan_code),
    )


@functools.lru_cache(maxsize=64)
def _decode_table(fmt: FloatFormat) -> np.ndarray:
    codes = np.arange(1 << fmt.bits, dtype=np.uint64)
    table = np.empty(codes.size, dtype=np.float64)
    K.decode_float(codes, table, float_layout(fmt), np.uint64(fmt.n_codes - 1))
    table.setflags(write=False)
    return table


# -- helpers -------------------------------------------------------------------------


def _flat_float64(x) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.float64).reshape(-1)


def _unsigned_view(codes: np.ndarray) -> np.ndarray:
    """Kernels write two's-complement code bits through an unsigned view of the output."""
    return codes.view(np.dtype(f"u{codes.dtype.itemsize}"))


def _check_index_range(size: int, rounding: Rounding, offset: int) -> None:
    if rounding.is_stochastic and offset + size > 1 << 64:
        raise ValueError(f"offset + size must be at most 2**64 (random-bit indices are 64-bit), got {offset} + {size}")


def _raise_as_exact(encode_element, value: float, fmt, rounding: Rounding, seed: int, stream: int, index: int):
    """Re-run one rejected element through the exact engine so that it raises its own exception."""
    random = ElementRandom(seed, stream, index, rounding.generator) if rounding.is_stochastic else None
    encode_element(float(value), fmt, rounding, random)
    raise AssertionError(f"the fast engine rejected {value!r} that the exact engine encodes in {fmt.spec}; please report")


def _raise_decode_as_exact(decode_element, code, *args):
    """Re-run one rejected code through the exact engine so that it raises its own exception."""
    decode_element(int(code), *args)
    raise AssertionError(f"the fast engine rejected code {int(code)} that the exact engine decodes; please report")


# -- fixed point -------------------------------------------------------------------


def _encode_elementwise(plan, exact_element, x, fmt, rounding, seed, stream, offset) -> np.ndarray:
    kernel, params, code_dtype, unsigned_dtype, mode, random_bits, R = plan
    flat = _flat_float64(x)
    out = np.empty(flat.size, dtype=code_dtype)
    if R is None:
        _check_index_range(flat.size, rounding, offset)
        R = call_round_params(R, mode, random_bits, rounding.generator.code, seed, stream, offset)
    # the parameter tuples' field types are fixed by the functions that build them
    key = (kernel, code_dtype, array_key(flat))
    bad = call_kernel(kernel, key, flat, out.view(unsigned_dtype), params, R)
    if bad >= 0:
        _raise_as_exact(exact_element, flat[bad], fmt, rounding, seed, stream, offset + bad)
    return out.reshape(np.shape(x))


def deterministic_round_params(rounding: Rounding) -> K.RoundParams | None:
    """The RoundParams of every call in a deterministic mode (which ignores seed, stream and
    offset), or None for stochastic rounding, whose parameters change with each call."""
    if rounding.is_stochastic:
        return None
    return K.RoundParams(*mode_and_bits(rounding), np.uint64(0), np.uint64(0), np.uint64(0))


def _encode_plan(kernel, params, fmt, rounding: Rounding) -> tuple:
    """(kernel, params, code dtype, its unsigned twin, mode code, random bits, RoundParams or None)."""
    code_dtype = fmt.code_dtype
    return (kernel, params, code_dtype, np.dtype(f"u{code_dtype.itemsize}"), *mode_and_bits(rounding),
            deterministic_round_params(rounding))


def stochastic_fast_path(fmt: FixedPoint, rounding: Rounding) -> bool:
    """Whether K.encode_fixed_stochastic handles this format and rounding (its docstring says why)."""
    if not (rounding.is_stochastic and fmt.is_power_of_two_scale and fmt.overflow is Overflow.SATURATE):
        return False
    r1 = first_word_bits(rounding.random_bits or 0)
    frac_bits = fixed_params(fmt).frac_bits  # also for a power-of-two ``scale``
    return fmt.bits <= 31 and fmt.bits + r1 <= 52 and 0 <= frac_bits and frac_bits + r1 <= 1023


@functools.lru_cache(maxsize=512)
def _fixed_encoder(fmt: FixedPoint, rounding: Rounding) -> tuple:
    # vectorized kernels need exact float64 codes with room to spare: power-of-two steps, <= 52 bits
    params = fixed_params(fmt)
    kernel = K.encode_fixed
    if fmt.is_power_of_two_scale and fmt.bits <= 52:
        kernel = K.encode_fixed_pow2
        if stochastic_fast_path(fmt, rounding):
            kernel = K.encode_fixed_stochastic
    return _encode_plan(kernel, params, fmt, rounding)


def encode_fixed(x: np.ndarray, fmt: FixedPoint, rounding: Rounding, seed: int, stream: int, offset: int) -> np.ndarray:
    plan = by_identity2(_fixed_encoder, fmt, rounding)
    return _encode_elementwise(plan, exact_codec.encode_fixed_element, x, fmt, rounding, seed, stream, offset)


def _fixed_decoder(fmt: FixedPoint) -> tuple:
    return fixed_params(fmt), fmt.bits <= 53


def decode_fixed(codes: np.ndarray, fmt: FixedPoint) -> np.ndarray:
    params, narrow = by_identity(_fixed_decoder, fmt)
    flat = np.ascontiguousarray(codes).reshape(-1)
    out = np.empty(flat.size, dtype=np.float64)
    key = (K.decode_fixed, flat.dtype, array_key(flat))
    bad = call_kernel(K.decode_fixed, key, flat, out, params, narrow)
    if bad >= 0:
        _raise_decode_as_exact(exact_codec.decode_fixed_element, flat[bad], fmt)
    return out.reshape(np.shape(codes))


_ALL_BITS = np.uint64(0xFFFF_FFFF_FFFF_FFFF)


def _fixed_quantizer(fmt: FixedPoint, rounding: Rounding) -> tuple:
    """The one-step plan of a fixed-point format (see _quantize_one_step)."""
    kernel, params, _, _, mode, random_bits, R = _fixed_encoder(fmt, rounding)
    encoder = {K.encode_fixed_stochastic: K.FIXED_STOCHASTIC, K.encode_fixed_pow2: K.FIXED_POW2}.get(kernel, K.FIXED_GENERAL)
    # codes stay 64-bit two's complement inside the kernel (read back as int64 to decode)
    before = (params._replace(store_mask=_ALL_BITS),)
    return K.quantize_fixed_one_step, before, (encoder, fmt.bits <= 53), R, mode, random_bits


def quantize_fixed(x: np.ndarray, fmt: FixedPoint, rounding: Rounding, seed: int, stream: int, offset: int) -> np.ndarray:
    """decode_fixed(encode_fixed(...)) in one kernel call: the codes made there need no checks."""
    plan = by_identity2(_fixed_quantizer, fmt, rounding)
    return _quantize_one_step(plan, exact_codec.encode_fixed_element, x, fmt, rounding, seed, stream, offset)


def _quantize_one_step(plan, exact_element, x, fmt, rounding: Rounding, seed: int, stream: int, offset: int) -> np.ndarray:
    """Run a one-step quantize kernel ``kernel(x, out, *before, R, *after)`` on x's values.

    plan: (kernel, before, after, RoundParams or None when they change with each call, mode,
    random bits); the arguments' Numba types depend on the kernel alone.
    """
    kernel, before, after, R, mode, random_bits = plan
    one_dimensional = x.ndim == 1 and x.flags.c_contiguous  # the common case needs no reshaping
    flat = x if one_dimensional else _flat_float64(x)
    if R is None:
        _check_index_range(flat.size, rounding, offset)
        R = call_round_params(R, mode, random_bits, rounding.generator.code, seed, stream, offset)
    out = np.empty(flat.size, dtype=np.float64)
    bad = call_kernel(kernel, (kernel, array_key(flat)), flat, out, *before, R, *after)
    if bad >= 0:
        _raise_as_exact(exact_element, flat[bad], fmt, rounding, seed, stream, offset + bad)
    return out if one_dimensional else out.reshape(x.shape)


# -- floating point ------------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def _float_encoder(fmt: FloatFormat, rounding: Rounding) -> tuple:
    return _encode_plan(K.encode_float_chunked, float_params(fmt, rounding), fmt, rounding)


def encode_float(x: np.ndarray, fmt: FloatFormat, rounding: Rounding, seed: int, stream: int, offset: int) -> np.ndarray:
    plan = by_identity2(_float_encoder, fmt, rounding)
    return _encode_elementwise(plan, exact_codec.encode_float_element, x, fmt, rounding, seed, stream, offset)


def _table_if_narrow(fmt: FloatFormat) -> np.ndarray | None:
    return _decode_table(fmt) if fmt.bits <= _TABLE_MAX_BITS else None


def decode_float(codes: np.ndarray, fmt: FloatFormat) -> np.ndarray:
    flat = np.ascontiguousarray(codes).reshape(-1)
    out = np.empty(flat.size, dtype=np.float64)
    table = by_identity(_table_if_narrow, fmt)
    if table is not None:
        key = (K.decode_by_table, flat.dtype, array_key(flat))
        bad = call_kernel(K.decode_by_table, key, flat, out, table)
    else:
        bad = K.decode_float(flat, out, float_layout(fmt), np.uint64(fmt.n_codes - 1))
    if bad >= 0:
        _raise_decode_as_exact(exact_codec.decode_float_element, flat[bad], fmt)
    return out.reshape(np.shape(codes))


def _float_quantizer(fmt: FloatFormat, rounding: Rounding) -> tuple | None:
    """The one-step plan of a float format (see _quantize_one_step), or None when the format is
    too wide for a decode table."""
    table = _table_if_narrow(fmt)
    if table is None:
        return None
    return (K.quantize_float_by_table, (table, float_params(fmt, rounding)), (), deterministic_round_params(rounding),
            *mode_and_bits(rounding))


def quantize_float(x: np.ndarray, fmt: FloatFormat, rounding: Rounding, seed: int, stream: int, offset: int) -> np.ndarray:
    """decode_float(encode_float(...)) in one kernel call where a decode table exists."""
    plan = by_identity2(_float_quantizer, fmt, rounding)
    if plan is None:
        return decode_float(encode_float(x, fmt, rounding, seed, stream, offset), fmt)
    return _quantize_one_step(plan, exact_codec.encode_float_element, x, fmt, rounding, seed, stream, offset)


# -- block formats -------------------------------------------------------------------


def _moved_shape(shape: tuple[int, ...], axis: int) -> tuple[int, ...]:
    """``shape`` with ``axis`` moved last."""
    return shape[:axis] + shape[axis + 1:] + (shape[axis],)


def _rows(a: np.ndarray, axis: int) -> np.ndarray:
    """a with ``axis`` moved last, as a C-contiguous 2-D array of rows."""
    moved = a if axis == a.ndim - 1 else np.moveaxis(a, axis, -1)  # the last axis: no move (a per-call cost)
    return np.ascontiguousarray(moved).reshape(math.prod(moved.shape[:-1]), moved.shape[-1])


def _row_first_index(shape: tuple[int, ...], axis: int) -> np.ndarray:
    """Flat C-order index of element 0 of every row (rows as in ``_rows``)."""
    if axis == len(shape) - 1 and shape[-1] > 0:
        return np.arange(0, math.prod(shape), shape[-1], dtype=np.int64)
    strides = [math.prod(shape[d + 1:]) for d in range(len(shape))]
    outer = [d for d in range(len(shape)) if d != axis]
    first = np.zeros(tuple(shape[d] for d in outer), dtype=np.int64)
    for position, d in enumerate(outer):
        along = [1] * len(outer)
        along[position] = shape[d]
        first += (np.arange(shape[d], dtype=np.int64) * strides[d]).reshape(along)
    return first.reshape(-1)


def _unrows(rows: np.ndarray, moved_shape: tuple[int, ...], axis: int) -> np.ndarray:
    shaped = rows.reshape(moved_shape)
    return shaped if axis == len(moved_shape) - 1 else np.moveaxis(shaped, -1, axis)


def _block_encoder(fmt: BlockFormat, rounding: Rounding) -> tuple:
    """(BlockParams, element kernel, element parameters) of a block format under a rounding."""
    if isinstance(fmt.element, FixedPoint):
        return block_params(fmt), K.encode_block_fixed, fixed_params(fmt.element)
    return block_params(fmt), K.encode_block_float, float_params(fmt.element, rounding)


def encode_block(x: np.ndarray, fmt: BlockFormat, rounding: Rounding, seed: int, stream: int, offset: int) -> BlockCodes:
    x = np.asarray(x, dtype=np.float64)
    scalar = x.ndim == 0
    if scalar:
        x = x.reshape(1)
    _check_index_range(x.size, rounding, offset)
    axis = block_axis(fmt, x.shape)
    B, element_kernel, P = by_identity2(_block_encoder, fmt, rounding)
    rows = _rows(x, axis)
    n = rows.shape[1]
    n_blocks = -(-n // fmt.block_size)
    rows = rows.view(np.uint64)
    scales = np.empty((rows.shape[0], n_blocks), dtype=fmt.scale_dtype)
    exponents = np.empty(scales.shape, dtype=np.int64)
    # keys: the input rows' flags (read-only input stays read-only), the output dtypes; the rest is fresh
    call_kernel(K.block_scales, (K.block_scales, scales.dtype, array_key(rows)), rows, scales, exponents, B)
    elements = np.zeros(rows.shape, dtype=fmt.code_dtype)
    first = _row_first_index(x.shape, axis)
    stride = math.prod(x.shape[axis + 1:])
    R = round_params(rounding, seed, stream, offset)
    target = _unsigned_view(elements) if element_kernel is K.encode_block_fixed else elements
    call_kernel(element_kernel, (element_kernel, target.dtype, array_key(rows)), rows, exponents, target, first, stride,
                P, B, R)
    moved_shape = _moved_shape(x.shape, axis)
    elements = _unrows(elements, moved_shape, axis)
    scales = _unrows(scales, moved_shape[:-1] + (n_blocks,), axis)
    if scalar:
        elements, scales = elements.reshape(()), scales.reshape(())
    return BlockCodes(elements=elements, scales=scales)


def block_layout(x: np.ndarray, fmt) -> tuple[np.ndarray, int, tuple[int, ...], int, int, int, int]:
    """(x flat in C order and writeable, its array_key, x's shape with a 0-d array as one value, block axis,
    outer, n, inner): x as an (outer, n, inner) array with its blocks along n, as the one-call block kernels
    read it."""
    shape = x.shape if x.ndim else (1,)
    ndim, axis = len(shape), fmt.axis
    if not -ndim <= axis < ndim:
        block_axis(fmt, shape)  # raises, naming the axis and the shape
    axis %= ndim
    # kernels take writeable arrays only: a read-only input would need its own compiled copy of each
    flags = x.flags
    if flags.c_contiguous and flags.writeable:
        flat = x if x.ndim == 1 else x.reshape(-1)  # the common short call: x itself, no new view
    else:
        flat = np.array(x, order="C").reshape(-1)
        flags = flat.flags
    if ndim == 1:
        return flat, flags.num, shape, 0, 1, shape[0], 1
    return flat, flags.num, shape, axis, math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1:])


@functools.lru_cache(maxsize=16)
def _empty_of(dtype: np.dtype) -> np.ndarray:
    """An empty array that tells a kernel a dtype (Numba compiles the dtype in)."""
    return np.empty(0, dtype=dtype)


def _block_quantizer(fmt: BlockFormat, rounding: Rounding) -> tuple:
    """(one-call kernel, its call key, its format arguments, RoundParams or None, mode, random bits, generator)."""
    element = fmt.element
    codes_like, scales_like = _empty_of(fmt.code_dtype), _empty_of(fmt.scale_dtype)
    if isinstance(element, FixedPoint):
        kernel = K.quantize_block_fixed
        format_args = (codes_like, _empty_of(np.dtype(f"u{fmt.code_dtype.itemsize}")), scales_like, fixed_params(element))
    else:
        kernel = K.quantize_block_float
        format_args = (codes_like, scales_like, float_params(element, rounding), float_layout(element),
                       np.uint64(element.n_codes - 1))
    return (kernel, (kernel, fmt.code_dtype, fmt.scale_dtype), (*format_args, block_params(fmt)),
            deterministic_round_params(rounding), *mode_and_bits(rounding), rounding.generator.code)


def quantize_block(x: np.ndarray, fmt: BlockFormat, rounding: Rounding, seed: int, stream: int, offset: int) -> np.ndarray:
    """decode_block(encode_block(...)) in one kernel call."""
    kernel, key, format_args, R, mode, random_bits, generator = by_identity2(_block_quantizer, fmt, rounding)
    flat, flags, _, _, outer, n, inner = block_layout(x, fmt)
    R = call_round_params(R, mode, random_bits, generator, seed, stream, offset)
    out = np.empty(flat.size, dtype=np.float64)
    call_kernel(kernel, (key, flags), flat, out, outer, n, inner, *format_args, R)
    return out if x.ndim == 1 else out.reshape(x.shape)


def _block_decoder(fmt: BlockFormat) -> tuple:
    """(BlockParams, element kernel, its element arguments) of a block format."""
    element = fmt.element
    if isinstance(element, FixedPoint):
        return block_params(fmt), K.decode_block_fixed, (fixed_params(element),)
    return block_params(fmt), K.decode_block_float, (float_layout(element), np.uint64(element.n_codes - 1))


def decode_block(codes: BlockCodes, fmt: BlockFormat) -> np.ndarray:
    elements, scales, scalar, axis = checked_block_codes(codes, fmt)
    moved_shape = _moved_shape(elements.shape, axis)
    element_rows = _rows(elements, axis)
    scale_rows = _rows(scales, axis)
    out = np.empty(element_rows.shape, dtype=np.float64)
    B, element_kernel, element_args = by_identity(_block_decoder, fmt)
    exponents = np.empty(scale_rows.shape, dtype=np.int64)
    call_kernel(K.decode_scales, (K.decode_scales, scale_rows.dtype, array_key(scale_rows)), scale_rows, exponents, B)
    key = (element_kernel, element_rows.dtype, array_key(element_rows))
    bad, row, position = call_kernel(element_kernel, key, element_rows, exponents, out, *element_args, B)
    if bad == K.BAD_SCALE:
        exact_codec.check_code(int(scale_rows[row, position]), 0, fmt.scale_nan_code, fmt)
    if bad:
        exponent = int(scale_rows[row, position // fmt.block_size]) - fmt.scale_bias
        _raise_decode_as_exact(exact_codec.decode_block_element, element_rows[row, position], exponent, fmt)
    out = _unrows(out, moved_shape, axis)
    return out.reshape(()) if scalar else out


def register_builtin_kernels(register) -> None:
    """Register the fast codecs of FixedPoint, FloatFormat and BlockFormat with ``register``."""
    register(FixedPoint, encode=encode_fixed, decode=decode_fixed, quantize=quantize_fixed)
    register(FloatFormat, encode=encode_float, decode=decode_float, quantize=quantize_float)
    register(BlockFormat, encode=encode_block, decode=decode_block, quantize=quantize_block)


__all__ = [
    "block_layout", "call_kernel", "call_round_params", "decode_block", "decode_fixed", "decode_float", "encode_block", "encode_fixed", "encode_float",
    "fixed_params", "float_layout", "float_params", "quantize_block", "quantize_fixed", "quantize_float", "register_builtin_kernels", "round_params",
]
