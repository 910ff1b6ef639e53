"""QArray: integer codes plus their format, the operand and result type of the exact arithmetic.

Codes live in ``fmt.code_dtype`` (the narrowest integer dtype that holds them), read-only.
Block formats carry ``BlockCodes`` (element codes + one scale code per block).
A value with a runtime scale (HALP's z on the grid of step s) is a QArray whose format is
``FixedPoint(bits=b, scale=s)``; formats are cheap immutable values, so a new scale per
epoch is ``attrs.evolve(fmt, scale=s)``.
"""

from __future__ import annotations

import math
import numbers
from fractions import Fraction

import attrs
import numpy as np

from ..formats.base import Format
from ..formats.block import BlockCodes, BlockFormat, block_scale_shape, iter_blocks
from ..formats.fixed import FixedPoint
from ..formats.floating import FloatFormat
from ..formats.rounding import Rounding, as_rounding
from ..rng import check_seed_stream
from .codec import check_code, floor_log2
from .registry import codec_for
from .rounding import ElementRandom
from .values import ExactValue, decode_exact, exact_from_fraction, round_exact

MAX_INDEX = (1 << 64) - 1


def check_offset(offset) -> int:
    if type(offset) is int and 0 <= offset <= MAX_INDEX:  # the common case: nothing to convert
        return offset
    if isinstance(offset, bool) or not isinstance(offset, numbers.Integral) or not 0 <= offset <= MAX_INDEX:
        raise ValueError(f"offset must be an integer in [0, 2**64), got {offset!r}")
    return int(offset)


@attrs.frozen(kw_only=True)
class RandomKey:
    """Where stochastic rounding takes its bits: Philox keyed by (seed, stream), element index offset + i."""

    seed: int = 0
    stream: int = 0
    offset: int = 0

    @classmethod
    def checked(cls, seed, stream, offset) -> "RandomKey":
        if type(seed) is int and type(stream) is int and type(offset) is int:
            # keys are immutable, so calls with the same plain ints (most often 0, 0, 0) share one
            hit = _RECENT_KEYS.get((seed, stream, offset))
            if hit is not None:
                return hit
        seed, stream = check_seed_stream(seed, stream)
        key = cls(seed=seed, stream=stream, offset=check_offset(offset))
        if len(_RECENT_KEYS) >= 256:
            _RECENT_KEYS.clear()
        _RECENT_KEYS[(seed, stream, key.offset)] = key
        return key

    def element(self, rounding: Rounding, index: int) -> ElementRandom | None:
        """Random bits of element ``index`` (counted from ``offset``), None unless rounding is stochastic."""
        if not rounding.is_stochastic:
            return None
        absolute = self.offset + index
        if absolute > MAX_INDEX:
            raise ValueError(f"random element index {absolute} exceeds 2**64 - 1; lower offset ({self.offset})")
        return ElementRandom(self.seed, self.stream, absolute, rounding.generator)


_RECENT_KEYS: dict[tuple[int, int, int], RandomKey] = {}


def _code_range(fmt: Format) -> tuple[int, int]:
    if isinstance(fmt, FixedPoint):
        return fmt.code_min, fmt.code_max
    return 0, fmt.n_codes - 1


def _checked_codes(codes, fmt: Format, what: str) -> np.ndarray:
    """A read-only copy of integer codes in fmt.code_dtype, after checking every code is in range."""
    arr = np.asarray(codes)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"QArray: {what} must be an integer array, got dtype {arr.dtype}")
    low, high = _code_range(fmt)
    if arr.size and (int(arr.min()) < low or int(arr.max()) > high):
        bad = int(arr.min()) if int(arr.min()) < low else int(arr.max())
        raise ValueError(f"QArray: {what} holds code {bad}, outside [{low}, {high}], the codes of format {fmt.spec}")
    out = arr.astype(fmt.code_dtype, copy=True)
    out.setflags(write=False)
    return out


@attrs.frozen(kw_only=True, eq=False, repr=False)
class QArray:
    """Integer codes of a format (BlockCodes for block formats): an exact low-precision array."""

    codes: np.ndarray | BlockCodes = attrs.field()
    fmt: Format = attrs.field()

    @fmt.validator
    def _check(self, attribute, fmt):
        if not isinstance(fmt, Format):
            raise TypeError(f"QArray: fmt must be an lpsim Format, got {type(fmt).__name__}")
        if isinstance(fmt, BlockFormat):
            if not isinstance(self.codes, BlockCodes):
                raise TypeError(f"QArray: a block format ({fmt.spec}) needs BlockCodes, got {type(self.codes).__name__}")
            elements = _checked_codes(self.codes.elements, fmt.element, "block element codes")
            scales = np.asarray(self.codes.scales)
            expected = block_scale_shape(elements.shape, fmt)
            if scales.shape != expected:
                raise ValueError(f"QArray: block scales have shape {scales.shape}, expected {expected} for elements {elements.shape} in {fmt.spec}")
            scales = _checked_codes(scales, FixedPoint(bits=fmt.scale_bits, signed=False, frac_bits=0), "block scale codes")
            object.__setattr__(self, "codes", BlockCodes(elements=elements, scales=scales.astype(fmt.scale_dtype)))
        elif isinstance(fmt, (FixedPoint, FloatFormat)):
            object.__setattr__(self, "codes", _checked_codes(self.codes, fmt, "codes"))
        else:
            raise TypeError(unsupported_format_message("QArray", fmt))

    # -- shape ----------------------------------------------------------------------
    @property
    def element_codes(self) -> np.ndarray:
        return self.codes.elements if isinstance(self.codes, BlockCodes) else self.codes

    @property
    def shape(self) -> tuple[int, ...]:
        return self.element_codes.shape

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d QArray")
        return self.shape[0]

    def __repr__(self) -> str:
        values = np.array2string(self.to_float(), separator=", ", threshold=20, edgeitems=3)
        codes = np.array2string(self.element_codes, separator=", ", threshold=20, edgeitems=3)
        return f"QArray(fmt={self.fmt.spec}, shape={self.shape}, values={values}, codes={codes})"

    # -- array protocol: indexing, reshape, transpose, numpy interop ----------------------
    def __getitem__(self, key) -> "QArray":
        """Basic or advanced indexing of the codes; for a block format, only whole blocks along its axis."""
        if isinstance(self.fmt, BlockFormat):
            return block_getitem(self, key)
        return QArray(codes=self.codes[key], fmt=self.fmt)

    def reshape(self, *shape) -> "QArray":
        """The same codes in a new shape (numpy's rules). A block format must keep its block axis last
        and unchanged in length, so that every block keeps its elements and its scale."""
        shape = shape[0] if len(shape) == 1 and not isinstance(shape[0], numbers.Integral) else shape
        if not isinstance(self.fmt, BlockFormat):
            return QArray(codes=self.codes.reshape(shape), fmt=self.fmt)
        axis = self.fmt.axis % self.ndim if -self.ndim <= self.fmt.axis < self.ndim else None
        new = np.empty(self.shape, dtype=np.bool_).reshape(shape).shape
        if axis != self.ndim - 1 or not new or new[-1] != self.shape[-1]:
            raise TypeError(
                f"QArray.reshape: a block format ({self.fmt.spec}) can reshape only with its block axis last and "
                f"unchanged in length (shape {self.shape} to {new} would regroup blocks); decode and re-encode instead"
            )
        fmt = self.fmt if self.fmt.axis == -1 else attrs.evolve(self.fmt, axis=-1)
        scales = self.codes.scales.reshape(new[:-1] + self.codes.scales.shape[-1:])
        return QArray(codes=BlockCodes(elements=self.codes.elements.reshape(new), scales=scales), fmt=fmt)

    def transpose(self, *axes) -> "QArray":
        """Permuted axes (numpy's rules); a block format's scales move with their axis."""
        axes = axes[0] if len(axes) == 1 and not isinstance(axes[0], numbers.Integral) else axes
        if axes in ((), None):
            order = tuple(range(self.ndim))[::-1]
        else:
            for a in axes:
                if not -self.ndim <= a < self.ndim:
                    raise ValueError(f"QArray.transpose: axis {a} is out of range for shape {self.shape}")
            order = tuple(int(a) % self.ndim for a in axes)
        if sorted(order) != list(range(self.ndim)):
            raise ValueError(f"QArray.transpose: axes {axes!r} are not a permutation of the axes of shape {self.shape}")
        if not isinstance(self.fmt, BlockFormat):
            return QArray(codes=self.codes.transpose(order), fmt=self.fmt)
        if self.ndim == 0:
            return self
        new_axis = order.index(self.fmt.axis % self.ndim)
        wanted = new_axis if self.fmt.axis >= 0 else new_axis - self.ndim
        fmt = self.fmt if wanted == self.fmt.axis else attrs.evolve(self.fmt, axis=wanted)
        codes = BlockCodes(elements=self.codes.elements.transpose(order), scales=self.codes.scales.transpose(order))
        return QArray(codes=codes, fmt=fmt)

    @property
    def T(self) -> "QArray":
        return self.transpose()

    def __array__(self, dtype=None, copy=None):
        """The float64 values (``to_float``), a fresh array; numpy's ``copy=False`` is refused (values are computed)."""
        if copy is False:
            raise ValueError("QArray: its values are decoded into a new array, so copy=False is impossible")
        values = self.to_float()
        return values if dtype is None else values.astype(dtype)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        raise TypeError(
            f"numpy ufunc {ufunc.__name__} is not defined on a QArray ({self.fmt.spec}): its rounding would be "
            "numpy's, not the format's. Use lpsim.ops for exact low-precision arithmetic, or np.asarray(q) "
            "(float64 values) for ordinary numpy arithmetic."
        )

    def __array_function__(self, func, types, args, kwargs):
        if func in _SHAPE_FUNCTIONS:
            return _SHAPE_FUNCTIONS[func](*args, **kwargs)
        if func in _VALUE_FUNCTIONS:
            return func(*_as_values(args), **_as_values(kwargs))
        raise TypeError(
            f"numpy.{func.__name__} is not defined on a QArray ({self.fmt.spec}); call it on np.asarray(q), "
            f"the float64 values. Reductions ({', '.join(sorted(f.__name__ for f in _VALUE_FUNCTIONS))}) work on "
            "those values directly and return float64 results, never a QArray."
        )

    # -- conversions -------------------------------------------------------------------
    @classmethod
    def from_float(cls, x, fmt: Format, rounding="nearest_even", *, seed: int = 0, stream: int = 0,
                   offset: int = 0) -> "QArray":
        """Quantize float64 values with the format layer's reference codec (lpsim.exact)."""
        if not isinstance(fmt, Format):
            raise TypeError(f"QArray.from_float: fmt must be an lpsim Format, got {type(fmt).__name__}")
        values = np.asarray(x)
        if values.dtype.kind not in "fiu" or values.dtype.kind == "b":
            raise TypeError(f"QArray.from_float: values must be real numbers, got dtype {values.dtype}")
        values = values.astype(np.float64)
        key = RandomKey.checked(seed, stream, offset)
        encode, _ = codec_for(fmt)
        return cls(codes=encode(values, fmt, as_rounding(rounding), key.seed, key.stream, key.offset), fmt=fmt)

    @classmethod
    def from_exact(cls, values: np.ndarray, fmt: Format, rounding="nearest_even", *, seed: int = 0,
                   stream: int = 0, offset: int = 0, what: str = "value") -> "QArray":
        """Round an object array of exact values once into ``fmt``; element i (flat) uses random index offset + i."""
        rounding = as_rounding(rounding)
        key = RandomKey.checked(seed, stream, offset)
        values = np.asarray(values, dtype=object)
        if isinstance(fmt, BlockFormat):
            return cls(codes=encode_block_exact(values, fmt, rounding, key, what), fmt=fmt)
        if not isinstance(fmt, (FixedPoint, FloatFormat)):
            raise TypeError(unsupported_format_message(f"{what}: output format", fmt))
        flat = values.reshape(-1)
        codes = np.empty(flat.shape, dtype=object)
        for i, v in enumerate(flat):
            codes[i] = round_exact(v, fmt, rounding, key.element(rounding, i), f"{what} [{i}]")
        return cls(codes=codes.astype(fmt.code_dtype).reshape(values.shape), fmt=fmt)

    def to_float(self) -> np.ndarray:
        """float64 values (exact for float formats and power-of-two steps; fl(code * scale) otherwise)."""
        _, decode = codec_for(self.fmt)
        return decode(self.codes, self.fmt)

    def exact_values(self) -> np.ndarray:
        """An object array of exact values (Fraction, or float for zeros and specials), same shape."""
        if isinstance(self.fmt, BlockFormat):
            return block_exact_values(self.codes, self.fmt)
        out = np.empty(self.shape, dtype=object)
        flat_codes, flat_out = self.codes.reshape(-1), out.reshape(-1)
        for i in range(flat_codes.size):
            flat_out[i] = decode_exact(int(flat_codes[i]), self.fmt)
        return out


# -- numpy interop ------------------------------------------------------------------------

# numpy functions that QArray answers with float64 results computed from its values (numpy's
# float64 arithmetic, not the format's): reductions and comparisons of values
_VALUE_FUNCTIONS = frozenset({
    np.sum, np.mean, np.average, np.std, np.var, np.max, np.min, np.amax, np.amin, np.argmax, np.argmin,
    np.median, np.prod, np.cumsum, np.allclose, np.isclose, np.array_equal,
    np.all, np.any, np.nonzero, np.count_nonzero, np.linalg.norm, np.sort,
})
_SHAPE_FUNCTIONS = {
    np.shape: lambda q: q.shape,
    np.ndim: lambda q: q.ndim,
    np.size: lambda q: q.size,
    np.transpose: lambda q, axes=None: q.transpose(axes),
    np.reshape: lambda q, shape=None, **kw: q.reshape(kw.get("newshape", shape)),
}


def check_qarray_format(fmt: Format, what: str) -> Format:
    """``fmt`` if a QArray can hold it (FixedPoint, FloatFormat, BlockFormat), else the TypeError of
    unsupported_format_message: for callers that must refuse before doing any work."""
    if not isinstance(fmt, (FixedPoint, FloatFormat, BlockFormat)):
        raise TypeError(unsupported_format_message(what, fmt))
    return fmt


def unsupported_format_message(what: str, fmt: Format) -> str:
    """Why a format cannot hold a QArray (arithmetic operand or result), naming the format."""
    text = (f"{what}: format {fmt.spec} ({type(fmt).__name__}) is not supported by QArray arithmetic, which takes "
            "FixedPoint, FloatFormat and BlockFormat")
    if getattr(fmt, "family", None) == "scaled_block":
        # a result would need a block scale rounded from its own amax (and a tensor scale): no exact rule defines one
        text += ("; a scaled block format's codes carry scales computed from the values' amax: quantize with "
                 "lpsim.quantize / lpsim.encode (or lpsim.scaled) and do arithmetic on the decoded values or on "
                 "a QArray of the element format")
    return text


def _as_values(obj):
    """Arguments with every QArray replaced by its float64 values (in tuples, lists and dicts too)."""
    if isinstance(obj, QArray):
        return obj.to_float()
    if isinstance(obj, (tuple, list)):
        return type(obj)(_as_values(o) for o in obj)
    if isinstance(obj, dict):
        return {k: _as_values(v) for k, v in obj.items()}
    return obj


def block_getitem(q: QArray, key) -> QArray:
    """Index a block-format QArray: ints and slices on any axis except the block axis, where only a
    step-1 slice of whole blocks (or running to the end) is allowed; the scales follow."""
    fmt, shape = q.fmt, q.shape
    if not shape:
        raise IndexError("a 0-d QArray cannot be indexed")
    key = key if isinstance(key, tuple) else (key,)
    if any(k is Ellipsis for k in key):
        at = key.index(Ellipsis)
        key = key[:at] + (slice(None),) * (len(shape) - len(key) + 1) + key[at + 1:]
    if len(key) > len(shape):
        raise IndexError(f"too many indices ({len(key)}) for a QArray of shape {shape}")
    key = key + (slice(None),) * (len(shape) - len(key))
    axis = fmt.axis % len(shape)
    for k in key:
        if not isinstance(k, (slice, numbers.Integral)) or isinstance(k, bool):
            raise TypeError(
                f"a block-format QArray ({fmt.spec}) takes only integers and slices as indices, got {k!r}; "
                "index np.asarray(q) for the values"
            )
    along = key[axis]
    n, size = shape[axis], fmt.block_size
    if isinstance(along, numbers.Integral):
        raise IndexError(
            f"an integer index on the block axis {fmt.axis} of {fmt.spec} would split a block; "
            f"slice whole blocks of {size} instead"
        )
    start, stop, step = along.indices(n)
    stop = max(stop, start)
    if step != 1 or start % size or (stop % size and stop != n):
        raise IndexError(
            f"the block axis {fmt.axis} of {fmt.spec} (length {n}) can be sliced only in whole blocks of {size} "
            f"with step 1, got {along!r}"
        )
    scale_key = key[:axis] + (slice(start // size, -(-stop // size)),) + key[axis + 1:]
    dropped_before = sum(isinstance(k, numbers.Integral) for k in key[:axis])
    new_ndim = len(shape) - sum(isinstance(k, numbers.Integral) for k in key)
    new_axis = axis - dropped_before
    wanted = new_axis if fmt.axis >= 0 else new_axis - new_ndim
    out_fmt = fmt if wanted == fmt.axis else attrs.evolve(fmt, axis=wanted)
    codes = BlockCodes(elements=q.codes.elements[key], scales=q.codes.scales[scale_key])
    return QArray(codes=codes, fmt=out_fmt)


# -- block formats: exact values and exact encoding --------------------------------------


def block_exact_values(codes: BlockCodes, fmt: BlockFormat) -> np.ndarray:
    """Exact values of block codes: element value * 2**E; every element of a NaN-scale block is NaN."""
    out = np.empty(codes.elements.shape, dtype=object)
    for scale_index, members in iter_blocks(codes.elements.shape, fmt):
        scale_code = check_code(int(codes.scales[scale_index]), 0, fmt.scale_nan_code, fmt)
        for idx in members:
            if scale_code == fmt.scale_nan_code:
                out[idx] = math.nan
                continue
            element = decode_exact(int(codes.elements[idx]), fmt.element)
            if isinstance(element, float):  # zeros and specials do not scale
                out[idx] = element
            else:
                out[idx] = element * Fraction(2) ** (scale_code - fmt.scale_bias)
    return out


def block_exponent_exact(block: list[ExactValue], fmt: BlockFormat) -> int | None:
    """The shared exponent of exact values, by the codec's rule E = floor(log2 amax) - emax_element, clamped."""
    if any(isinstance(v, float) and not math.isfinite(v) for v in block):
        return None
    magnitudes = [abs(v) for v in block if not isinstance(v, float)]
    if not magnitudes:
        return fmt.scale_emin
    return min(max(floor_log2(max(magnitudes)) - fmt.element_emax, fmt.scale_emin), fmt.scale_emax)


def encode_block_exact(values: np.ndarray, fmt: BlockFormat, rounding: Rounding, key: RandomKey, what: str) -> BlockCodes:
    """Encode exact values into a block format (the codec's rule, on exact values instead of float64)."""
    shape = values.shape
    elements = np.zeros(shape, dtype=fmt.code_dtype)
    scales = np.zeros(block_scale_shape(shape, fmt), dtype=fmt.scale_dtype)
    flat_index = np.arange(values.size).reshape(shape)
    for scale_index, members in iter_blocks(shape, fmt):
        exponent = block_exponent_exact([values[idx] for idx in members], fmt)
        if exponent is None:
            scales[scale_index] = fmt.scale_nan_code
            continue
        scales[scale_index] = exponent + fmt.scale_bias
        for idx in members:
            v = values[idx]
            scaled = v if isinstance(v, float) else exact_from_fraction(v / Fraction(2) ** exponent)
            i = int(flat_index[idx])
            elements[idx] = round_exact(scaled, fmt.element, rounding, key.element(rounding, i), f"{what} [{i}]")
    return BlockCodes(elements=elements, scales=scales)
