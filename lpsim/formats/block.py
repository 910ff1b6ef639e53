"""Block formats: elements of a fixed-point or float format sharing one power-of-two scale per block.

Covers classic block floating point (integer mantissas sharing an exponent) and the
OCP Microscaling (MX) family (E8M0 scale over FP8/FP6/FP4/INT8 elements, block 32).
"""

from __future__ import annotations

import math

import attrs
import numpy as np

from ._validate import int_in_range, to_int
from .base import Format, unsigned_dtype_for
from .fixed import FixedPoint
from .floating import FloatFormat, Specials
from .rounding import Overflow


def _check_element(instance, attribute, value):
    if not isinstance(value, (FixedPoint, FloatFormat)):
        raise TypeError(f"BlockFormat: element must be a FixedPoint or FloatFormat, got {type(value).__name__}")
    if isinstance(value, FixedPoint) and (not value.signed or value.scale is not None):
        raise ValueError("BlockFormat: a fixed-point element must be signed with frac_bits (no explicit scale)")
    if isinstance(value, FloatFormat) and not value.signed:
        raise ValueError(f"BlockFormat: a float element must be signed (block values have both signs), got {value.spec}")
    if value.overflow is not Overflow.SATURATE:
        raise ValueError(
            f"BlockFormat: element overflow must be saturate (values rounding past the element's max clamp, "
            f"as in the OCP MX spec), got {value.overflow.value!r}"
        )


class BlockElementProperties:
    """What every block format derives from its element format alone (codes are element codes)."""

    @property
    def bits(self) -> int:
        """Storage bits per element, not counting the scales."""
        return self.element.bits

    @property
    def min(self) -> float:
        return -self.max

    @property
    def has_inf(self) -> bool:
        return False

    @property
    def code_dtype(self) -> np.dtype:
        return self.element.code_dtype


@attrs.frozen(kw_only=True)
class BlockFormat(BlockElementProperties, Format):
    """Blocks of ``block_size`` consecutive values along ``axis`` share one scale 2**E.

    The scale is stored as an unsigned ``scale_bits``-bit exponent code (E8M0-style):
    code c means E = c - (2**(scale_bits-1) - 1); the all-ones code is NaN. Element i
    of a block has value decode(element_code) * 2**E.

    Choosing E (as OCP MX v1.0): E = floor(log2(amax)) - emax_element, where amax is
    the block's largest magnitude and emax_element = floor(log2(element.max)), clamped
    to the scale's range. Elements are then x / 2**E rounded into the element format
    in the chosen rounding mode (saturating at the element's max). Elements far below
    amax underflow to the element's subnormals or to zero, as the element format rounds.
    An all-zero block gets the smallest scale code (0) and zero elements (float elements
    keep -0.0; fixed-point elements have one zero).
    A block containing NaN or +-inf gets the NaN scale code and element codes 0: every
    element of that block decodes to NaN; other blocks are unaffected.
    The last block along the axis may be shorter than ``block_size``; it gets its own scale.
    Stochastic rounding keys each element's random bits by its flat index in the input
    (plus ``offset``), as for the other formats.
    """

    family = "block"

    element: FixedPoint | FloatFormat = attrs.field(validator=_check_element)
    block_size: int = attrs.field(converter=to_int, validator=int_in_range(1, 1 << 20))
    axis: int = attrs.field(default=-1, converter=to_int, validator=int_in_range(-64, 63))
    scale_bits: int = attrs.field(default=8, converter=to_int, validator=int_in_range(1, 11))

    @scale_bits.validator
    def _check_range(self, attribute, value):
        if self.max > 1.7976931348623157e308 or math.isinf(self.max):
            raise ValueError(
                f"BlockFormat: element max {self.element.max} * 2**{self.scale_emax} overflows float64; "
                f"use fewer scale_bits (now {value})"
            )
        if math.log2(self.element.smallest_subnormal) + self.scale_emin < -1074:
            raise ValueError(
                f"BlockFormat: element step {self.element.smallest_subnormal} * 2**{self.scale_emin} is below "
                f"float64's smallest value; use fewer scale_bits (now {value})"
            )

    # -- named constructors ------------------------------------------------
    @classmethod
    def bfp(cls, mantissa_bits: int, block_size: int, exponent_bits: int = 8, axis: int = -1) -> "BlockFormat":
        """Classic block floating point: signed ``mantissa_bits``-bit integers (two's complement,
        ``mantissa_bits - 2`` fraction bits, so the largest magnitude in a block lies in [1, 2))."""
        if isinstance(mantissa_bits, int) and not isinstance(mantissa_bits, bool) and not 2 <= mantissa_bits <= 64:
            raise ValueError(f"BlockFormat.bfp: mantissa_bits must be in [2, 64], got {mantissa_bits}")
        element = FixedPoint(bits=mantissa_bits, signed=True, frac_bits=mantissa_bits - 2)
        return cls(element=element, block_size=block_size, axis=axis, scale_bits=exponent_bits)

    @classmethod
    def mx(cls, element: str, block_size: int = 32, axis: int = -1) -> "BlockFormat":
        """An OCP MX format: element in {'e4m3', 'e5m2', 'e3m2', 'e2m3', 'e2m1', 'int8'}, E8M0 scale."""
        elements = {
            "e4m3": FloatFormat(exp_bits=4, man_bits=3, specials=Specials.FN, overflow=Overflow.SATURATE),
            "e5m2": FloatFormat(exp_bits=5, man_bits=2, specials=Specials.IEEE, overflow=Overflow.SATURATE),
            "e3m2": FloatFormat(exp_bits=3, man_bits=2, specials=Specials.NONE),
            "e2m3": FloatFormat(exp_bits=2, man_bits=3, specials=Specials.NONE),
            "e2m1": FloatFormat(exp_bits=2, man_bits=1, specials=Specials.NONE),
            "int8": FixedPoint(bits=8, signed=True, frac_bits=6),
        }
        key = element.lower() if isinstance(element, str) else element
        if key not in elements:
            raise ValueError(f"BlockFormat.mx: element must be one of {', '.join(elements)}, got {element!r}")
        return cls(element=elements[key], block_size=block_size, axis=axis, scale_bits=8)

    # -- derived properties ------------------------------------------------
    @property
    def bits_per_value(self) -> float:
        """Average storage per value, the shared scale amortized over a full block."""
        return self.element.bits + self.scale_bits / self.block_size

    @property
    def scale_bias(self) -> int:
        return (1 << (self.scale_bits - 1)) - 1

    @property
    def scale_emin(self) -> int:
        return -self.scale_bias

    @property
    def scale_emax(self) -> int:
        # the all-ones code is NaN
        return (1 << self.scale_bits) - 2 - self.scale_bias

    @property
    def scale_nan_code(self) -> int:
        return (1 << self.scale_bits) - 1

    @property
    def element_emax(self) -> int:
        """floor(log2(element.max)): the exponent subtracted from the block's."""
        return math.frexp(self.element.max)[1] - 1

    @property
    def max(self) -> float:
        try:
            return math.ldexp(self.element.max, self.scale_emax)
        except OverflowError:
            return math.inf

    @property
    def has_nan(self) -> bool:
        return True

    @property
    def scale_dtype(self) -> np.dtype:
        return unsigned_dtype_for(self.scale_bits)

    @property
    def spec(self) -> str:
        text = f"block{self.block_size}_{self.element.spec}_x{self.scale_bits}"
        if self.axis != -1:
            text += f"_axis{self.axis}"
        return text


@attrs.frozen(kw_only=True)
class BlockCodes:
    """Encoded block data: element codes (same shape as the input) and one scale code per block.

    ``scales`` has the input's shape with ``axis`` replaced by ceil(n / block_size).
    ``tensor_scale`` is the per-tensor float32 scale of a ScaledBlockFormat that has one, else None.
    """

    elements: np.ndarray
    scales: np.ndarray
    tensor_scale: float | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of the encoded array (of ``elements``)."""
        return np.shape(self.elements)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.size(self.elements))

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of 0-d BlockCodes")
        return self.shape[0]

    def __getitem__(self, key):
        # which axis holds the blocks, and how long they are, is the format's: only a QArray knows both
        raise TypeError(
            "BlockCodes cannot be indexed on their own (the block axis and size belong to the format); "
            "index lpsim.exact.QArray(codes=codes, fmt=fmt), which slices whole blocks, or index "
            ".elements and .scales yourself"
        )

    def __array__(self, dtype=None, copy=None):
        raise TypeError("BlockCodes have no values without their format: use lpsim.decode(codes, fmt)")


def block_axis(fmt, ndim_or_shape) -> int:
    """The block axis of ``fmt`` (any format with ``axis``) as a non-negative index for an array of
    ``ndim_or_shape`` (a number of dimensions, or a shape, which the error message then names)."""
    shape = tuple(ndim_or_shape) if isinstance(ndim_or_shape, tuple) else None
    ndim = len(shape) if shape is not None else ndim_or_shape
    if not -ndim <= fmt.axis < ndim:
        of_shape = "" if shape is None else f" of shape {shape}"
        raise ValueError(
            f"block axis {fmt.axis} is out of range for an array with {ndim} dimensions{of_shape} (format {fmt.spec})"
        )
    return fmt.axis % ndim


def block_scale_shape(shape: tuple[int, ...], fmt) -> tuple[int, ...]:
    """Shape of the scales of an array of ``shape``: ``axis`` replaced by its number of blocks."""
    if len(shape) == 0:
        return ()
    axis = block_axis(fmt, tuple(shape))
    return shape[:axis] + (-(-shape[axis] // fmt.block_size),) + shape[axis + 1:]


def iter_blocks(shape: tuple[int, ...], fmt):
    """Yield (scale index, list of element indices) for every block of an array of ``shape``."""
    if len(shape) == 0:
        yield (), [()]
        return
    axis = block_axis(fmt, tuple(shape))
    n = shape[axis]
    outer_shape = shape[:axis] + shape[axis + 1:]
    for outer in np.ndindex(outer_shape):
        for b, start in enumerate(range(0, n, fmt.block_size)):
            scale_index = outer[:axis] + (b,) + outer[axis:]
            members = [outer[:axis] + (j,) + outer[axis:] for j in range(start, min(start + fmt.block_size, n))]
            yield scale_index, members


def checked_block_codes(codes: BlockCodes, fmt) -> tuple[np.ndarray, np.ndarray, bool, int]:
    """Element and scale arrays of ``codes`` (0-d inputs as 1-d), whether they were 0-d, and the block axis.

    Raises ValueError when the scales do not have one entry per block of the elements.
    """
    elements = np.asarray(codes.elements)
    scales = np.asarray(codes.scales)
    scalar = elements.ndim == 0
    if scalar:
        elements, scales = elements.reshape(1), scales.reshape(1)
    axis = block_axis(fmt, elements.shape)
    moved_shape = np.moveaxis(elements, axis, -1).shape
    n_blocks = -(-moved_shape[-1] // fmt.block_size)
    expected = moved_shape[:-1] + (n_blocks,)
    if np.moveaxis(scales, axis, -1).shape != expected:
        raise ValueError(
            f"block scales have shape {scales.shape}, expected {np.moveaxis(np.empty(expected), -1, axis).shape} "
            f"for elements of shape {elements.shape} and block_size {fmt.block_size}"
        )
    return elements, scales, scalar, axis
