"""Public quantize / encode / decode: validate and convert inputs, then run the chosen engine."""

from __future__ import annotations

import numbers

import attrs
import numpy as np

from . import exact, fast
from .fast._memo import by_identity2
from .fast.fallback import FastEngineFallbackWarning, warn_once  # noqa: F401 (the warning's public home is here too)
from .formats.base import Format
from .formats.block import BlockCodes, BlockFormat
from .formats.ml_dtypes_map import is_ml_dtypes_dtype
from .formats.rounding import as_rounding
from .formats.scaled_block import ScaledBlockFormat
from .rng import check_seed_stream

ENGINES = ("fast", "exact")

def check_engine(engine: str) -> str:
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    return engine


def check_format(fmt) -> Format:
    if isinstance(fmt, str):
        from .formats.registry import get_format

        return get_format(fmt)
    if not isinstance(fmt, Format):
        raise TypeError(f"fmt must be an lpsim Format or a format spec string, got {type(fmt).__name__}")
    return fmt


MAX_EXACT_INT = 2**53
_FLOAT64 = np.dtype(np.float64)


def as_float64(x) -> np.ndarray:
    """Convert input values to a float64 array, exactly, or raise.

    Accepted: float16/32/64 arrays and scalars, ml_dtypes arrays (bfloat16, float8_*, int4, ...),
    Python floats, and integers (numpy or Python) with |value| <= 2**53, the range where every
    integer is a float64 value.
    """
    if type(x) is np.ndarray and x.dtype is _FLOAT64:  # the common case, returned as is
        return x
    if isinstance(x, numbers.Integral) and not isinstance(x, (bool, np.bool_)):
        _check_int_range(np.array([int(x)], dtype=object))
        return np.asarray(float(int(x)))
    arr = np.asarray(x)
    if arr.dtype == np.float64:
        return arr
    if arr.dtype.kind == "f" and arr.dtype.itemsize <= 8:
        return arr.astype(np.float64)
    if arr.dtype.kind in "iu":
        _check_int_range(arr)
        return arr.astype(np.float64)
    if is_ml_dtypes_dtype(arr.dtype):  # every ml_dtypes value is a float64 value
        return arr.astype(np.float64)
    if arr.dtype.kind == "b":
        raise TypeError("boolean input is not a number to quantize; convert it explicitly")
    if arr.dtype.kind == "O" and all(
        isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)) for v in arr.flat
    ):
        _check_int_range(arr)
        return arr.astype(np.float64)
    raise TypeError(f"values must be float16/32/64, ml_dtypes or integer arrays or scalars, got dtype {arr.dtype}")


def _check_int_range(arr: np.ndarray) -> None:
    if arr.size and (arr.max() > MAX_EXACT_INT or arr.min() < -MAX_EXACT_INT):
        raise ValueError(
            "integer inputs must lie in [-2**53, 2**53] (where float64 holds every integer); pass floats "
            "to quantize larger values"
        )


def _select(fmt: Format, engine: str):
    if check_engine(engine) == "fast":
        kernels = fast.kernels_for(fmt)
        if kernels is not None:
            return kernels
        warn_once(type(fmt), f"format type {type(fmt).__name__} has no fast-engine kernels; using the exact engine "
                             "(slow). See docs/plugins.md to supply kernels.", stacklevel=3)
    return exact.codec_for(fmt)


def _check_offset(offset, size: int) -> int:
    if type(offset) is int and 0 <= offset and offset + size <= 2**64:  # the common case: nothing to convert
        return offset
    if isinstance(offset, bool) or not isinstance(offset, numbers.Integral) or not 0 <= offset < 2**64:
        raise ValueError(f"offset must be an integer in [0, 2**64), got {offset!r}")
    if int(offset) + size > 2**64:
        raise ValueError(f"offset {offset} + {size} elements exceeds the 2**64 element indices of the random stream")
    return int(offset)


def _native(arr: np.ndarray) -> np.ndarray:
    # compiled kernels take native byte order only; the exact engine reads any order, so convert for both
    return arr if arr.dtype.isnative else arr.astype(arr.dtype.newbyteorder("="))


def _integer_codes(codes, what: str, fmt: Format | None = None) -> np.ndarray:
    codes = np.asarray(codes)
    if codes.dtype.kind not in "iu":
        if fmt is not None and (codes.dtype.kind == "f" or is_ml_dtypes_dtype(codes.dtype)):
            return _native(_view_as_codes(codes, fmt))
        raise TypeError(f"{what} must be an integer array, got dtype {codes.dtype}")
    return _native(codes)


def _view_as_codes(array: np.ndarray, fmt: Format) -> np.ndarray:
    """The codes of an array of ``fmt``'s own floating dtype (its ml_dtype): its bits, reinterpreted."""
    own = fmt.ml_dtype
    if own is None or array.dtype.newbyteorder("=") != own:
        has = f"whose own dtype is {own}" if own is not None else "which has no numpy or ml_dtypes dtype"
        raise TypeError(
            f"codes must be an integer array, or an array of the format's own dtype; got dtype {array.dtype} for format "
            f"{fmt.spec}, {has}"
        )
    code_dtype = fmt.code_dtype if array.dtype.isnative else fmt.code_dtype.newbyteorder(array.dtype.byteorder)
    return array.view(code_dtype)


def _checked_codes(codes, fmt: Format):
    """Unmasked codes in native byte order: BlockCodes for a block format, an integer array otherwise."""
    if isinstance(fmt, (BlockFormat, ScaledBlockFormat)):
        if not isinstance(codes, BlockCodes):
            raise TypeError(
                f"codes of block format {fmt.spec} must be the BlockCodes (element codes and scale codes) "
                f"that encode returns, got {type(codes).__name__}"
            )
        if isinstance(codes.scales, np.ma.MaskedArray):
            raise TypeError("block scale codes cannot be masked; mask the element codes instead")
        return attrs.evolve(codes, elements=_integer_codes(codes.elements, "block element codes"),
                            scales=_integer_codes(codes.scales, "block scale codes"))
    if isinstance(codes, BlockCodes):
        raise TypeError(f"BlockCodes are the codes of a block format, not of {type(fmt).__name__} {fmt.spec}")
    return _integer_codes(codes, "codes", fmt)


def _split_mask(values):
    """(values, None), or for a masked array (or BlockCodes with masked elements) the data with masked
    entries set to 0, so they can neither raise nor set a block's scale, and the mask to put back."""
    if isinstance(values, BlockCodes):
        if not isinstance(values.elements, np.ma.MaskedArray):
            return values, None
        elements, mask = _split_mask(values.elements)
        return attrs.evolve(values, elements=elements), mask
    if not isinstance(values, np.ma.MaskedArray):
        return values, None
    return values.filled(0), np.ma.getmaskarray(values).copy()


def _restore_mask(result, mask):
    if mask is None:
        return result
    if isinstance(result, BlockCodes):
        return attrs.evolve(result, elements=np.ma.masked_array(result.elements, mask=mask))
    return np.ma.masked_array(result, mask=mask)


def _scalar_if_0d(out):
    return out[()] if isinstance(out, np.ndarray) and out.ndim == 0 else out


def encode(x, fmt, rounding="nearest_even", *, seed: int = 0, stream: int = 0, offset: int = 0, engine: str = "fast"):
    """Round values into ``fmt`` and return their integer codes (BlockCodes for block formats).

    ``seed``, ``stream`` and ``offset`` key stochastic rounding's random bits: element i
    (flat C order) uses index ``offset + i`` (see lpsim.rng). A masked array gives masked codes.
    """
    x, mask = _split_mask(x)
    return _scalar_if_0d(_restore_mask(_encode(x, check_format(fmt), rounding, seed, stream, offset, engine), mask))


def _encode(x, fmt: Format, rounding, seed, stream, offset, engine: str):
    rounding = as_rounding(rounding)
    seed, stream = check_seed_stream(seed, stream)
    values = as_float64(x)
    offset = _check_offset(offset, values.size)
    encoder, _ = _select(fmt, engine)
    return encoder(values, fmt, rounding, seed, stream, offset)


def decode(codes, fmt, *, engine: str = "fast", dtype=None):
    """Values (float64) of integer codes of ``fmt``; an array of the format's own dtype
    (``fmt.ml_dtype``, e.g. an ml_dtypes float8_e4m3fn array for E4M3) is read as its codes.
    ``dtype``: see ``quantize`` ('input' is the codes' dtype, when it is a floating one)."""
    fmt = check_format(fmt)
    source = _source_dtype(codes, dtype)
    codes, mask = _split_mask(codes)
    codes = _checked_codes(codes, fmt)
    _, decoder = _select(fmt, engine)
    return _scalar_if_0d(_restore_mask(_cast_exactly(decoder(codes, fmt), dtype, source), mask))


def quantize(x, fmt, rounding="nearest_even", *, seed: int = 0, stream: int = 0, offset: int = 0, engine: str = "fast",
             dtype=None):
    """Round values onto the grid of ``fmt``; returns values of the same shape (masked if x is).

    ``dtype``: None gives float64; ``'input'`` gives the input's floating dtype (float16, an
    ml_dtypes dtype, ...); any other numpy dtype is used as given. A value that the chosen dtype
    does not hold exactly raises ValueError (nothing is rounded twice).
    """
    if engine == "fast" and dtype is None and type(x) is np.ndarray:
        plan = by_identity2(_one_step_plan, fmt, rounding)  # None for a format name: it takes the general path
        if plan is not None:  # the short path of a training loop: only the checks its inputs need
            one_step, rounding = plan
            seed, stream = check_seed_stream(seed, stream)
            values = as_float64(x)
            out = one_step(values, fmt, rounding, seed, stream, _check_offset(offset, values.size))
            return out if out.ndim else out[()]
    fmt = check_format(fmt)
    source = _source_dtype(x, dtype)
    x, mask = _split_mask(x)
    codes = _encode(x, fmt, rounding, seed, stream, offset, engine)
    _, decoder = _select(fmt, engine)  # the encoder's engine: codes it made need no re-checking
    return _scalar_if_0d(_restore_mask(_cast_exactly(decoder(codes, fmt), dtype, source), mask))


def _one_step_plan(fmt, rounding):
    """(the fast engine's one-step quantize of fmt's type, the Rounding), or None if it has none."""
    one_step = fast.quantizer_for(fmt)
    return None if one_step is None else (one_step, as_rounding(rounding))


def _source_dtype(x, dtype):
    """The input's dtype when ``dtype='input'`` asks for it (checked to be a floating dtype), else None."""
    if not (isinstance(dtype, str) and dtype == "input"):
        return None
    source = x.dtype if isinstance(x, (np.ndarray, np.generic)) else np.asarray(x).dtype
    if not _is_floating(source):
        raise TypeError(f"dtype='input' needs input of a floating dtype, got dtype {source}")
    return source


def _is_floating(dtype: np.dtype) -> bool:
    """numpy's floats and ml_dtypes' floats (not its int4 / uint4 ...)."""
    if dtype.kind == "f":
        return True
    if not is_ml_dtypes_dtype(dtype):
        return False
    import ml_dtypes  # installed: dtype is one of its types

    try:
        ml_dtypes.finfo(dtype)
    except (TypeError, ValueError):
        return False
    return True


def _cast_exactly(values: np.ndarray, dtype, source):
    """``values`` (float64) in the requested dtype, or ValueError if a value would change."""
    if dtype is None:
        return values
    target = source if source is not None else np.dtype(dtype)
    if target == _FLOAT64:
        return values
    if not _is_floating(target):
        raise TypeError(f"dtype must be None, 'input' or a floating dtype, got {dtype!r}")
    with np.errstate(over="ignore", invalid="ignore"):
        cast = np.asarray(values).astype(target)
    back = cast.astype(np.float64)
    nan = np.isnan(values)
    same = (nan & np.isnan(back)) | ((back == values) & (np.signbit(back) == np.signbit(values)))
    if not np.all(same):
        where = np.flatnonzero(~np.asarray(same))
        first = np.asarray(values).reshape(-1)[where[0]]
        raise ValueError(
            f"{where.size} value(s) are not exactly representable in dtype {target} (first: {first!r} at flat "
            f"index {where[0]}); pass dtype=None for float64 values"
        )
    return cast
