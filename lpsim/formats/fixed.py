"""Fixed-point formats: integer codes k with value k * scale."""

from __future__ import annotations

import math

import attrs
import numpy as np

from ._validate import int_in_range, member_of, optional, signed_flag, to_int
from .base import Format, IntegerCodes, signed_dtype_for, unsigned_dtype_for
from .rounding import Overflow, to_overflow

_FIXED_OVERFLOWS = (Overflow.SATURATE, Overflow.WRAP, Overflow.ERROR)


def _to_scale(value):
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


@attrs.frozen(kw_only=True, eq=False)
class FixedPoint(IntegerCodes, Format):
    """A fixed-point format of ``bits`` bits: value = code * scale.

    The scale is ``2**-frac_bits`` or an explicit positive ``scale`` (any positive
    finite float, not only powers of two). Signed formats are two's complement:
    codes in [-2**(bits-1), 2**(bits-1) - 1]; unsigned in [0, 2**bits - 1].

    Quantizing x rounds v = x / scale to an integer code in the chosen mode, then
    applies the overflow policy. For a power-of-two scale v is the exact rational
    x * 2**frac_bits (never rounded, whatever its magnitude). For any other scale v is
    the float64 quotient fl(x / scale) (one IEEE division), and decoding gives
    fl(code * scale): such grid points are usually not float64 numbers, so re-quantizing
    a decoded value in a directed or stochastic mode can move it by one code. Rounding is
    on the signed value (floor-based, as two's-complement hardware): stochastic rounding
    goes from floor(v) to floor(v) + 1 with probability set by v - floor(v).

    Decoding gives the float64 nearest to code * scale: exact for a power-of-two scale
    while the code has at most 53 significant bits and the value is not below float64's
    normal range; wider codes (bits > 53) decode to the nearest float64.

    Overflow (the rounded code outside the code range): ``saturate`` clamps to the
    nearest end, ``wrap`` reduces the code modulo 2**bits into the range, ``error``
    raises OverflowError naming the format.
    NaN has no code: quantizing NaN raises ValueError. +-inf (and, for a non-power-of-two
    scale, a quotient x / scale that overflows float64) saturates under SATURATE and
    raises OverflowError under WRAP and ERROR. -0.0 becomes code 0.
    """

    family = "fixed"

    bits: int = attrs.field(converter=to_int, validator=int_in_range(1, 64))
    signed: bool = attrs.field(default=True, validator=signed_flag)
    frac_bits: int | None = attrs.field(default=None, converter=to_int, validator=optional(int_in_range(-1023, 1074)))
    scale: float | None = attrs.field(default=None, converter=_to_scale)
    overflow: Overflow = attrs.field(
        default=Overflow.SATURATE, converter=to_overflow, validator=member_of(_FIXED_OVERFLOWS)
    )

    @scale.validator
    def _check_scale(self, attribute, value):
        if value is None:
            return
        if self.frac_bits is not None:
            raise ValueError("FixedPoint: give frac_bits or scale, not both")
        if not isinstance(value, float):
            raise TypeError(f"FixedPoint: scale must be a positive finite number, got {value!r}")
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"FixedPoint: scale must be a positive finite number, got {value!r}")

    @overflow.validator
    def _check_range(self, attribute, value):
        top = abs(self.code_min) if self.signed else self.code_max
        if not math.isfinite(top * self.step):
            raise ValueError(
                f"FixedPoint: the largest value {top} * {self.step!r} overflows float64; "
                f"choose a larger frac_bits (now {self.frac_bits}) or a smaller scale"
            )

    def _value_key(self) -> tuple:
        frac_bits = self.effective_frac_bits if self.scale is None else None
        return (self.bits, self.signed, frac_bits, self.scale, self.overflow)

    # -- named constructors ------------------------------------------------
    @classmethod
    def q(cls, int_bits: int, frac_bits: int, **kwargs) -> "FixedPoint":
        """Signed Qm.n: ``int_bits`` integer bits (sign included) and ``frac_bits`` fraction bits."""
        return cls(bits=int_bits + frac_bits, signed=True, frac_bits=frac_bits, **kwargs)

    @classmethod
    def integer(cls, bits: int, signed: bool = True, **kwargs) -> "FixedPoint":
        return cls(bits=bits, signed=signed, frac_bits=0, **kwargs)

    # -- derived properties (finfo-like) -------------------------------------
    @property
    def step(self) -> float:
        """The grid step (value of one code unit)."""
        if self.scale is not None:
            return self.scale
        return math.ldexp(1.0, -self.effective_frac_bits)

    @property
    def effective_frac_bits(self) -> int:
        return 0 if self.frac_bits is None else self.frac_bits

    @property
    def is_power_of_two_scale(self) -> bool:
        return self.scale is None or math.frexp(self.scale)[0] == 0.5

    @property
    def eps(self) -> float:
        return self.step

    @property
    def max(self) -> float:
        return float(self.code_max) * self.step

    @property
    def min(self) -> float:
        return float(self.code_min) * self.step

    @property
    def smallest_normal(self) -> float:
        return self.step

    @property
    def smallest_subnormal(self) -> float:
        return self.step

    @property
    def tiny(self) -> float:
        return self.step

    @property
    def has_nan(self) -> bool:
        return False

    @property
    def has_inf(self) -> bool:
        return False

    @property
    def code_dtype(self) -> np.dtype:
        return signed_dtype_for(self.bits) if self.signed else unsigned_dtype_for(self.bits)

    @property
    def spec(self) -> str:
        head = f"{'fixed' if self.signed else 'ufixed'}{self.bits}"
        body = f"s{self.scale!r}" if self.scale is not None else f"f{self.effective_frac_bits}"
        tail = "" if self.overflow is Overflow.SATURATE else f"_{self.overflow.value}"
        return f"{head}_{body}{tail}"
