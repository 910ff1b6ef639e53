"""Registers: where a product or a running sum lives inside a multiply-accumulate.

A register is a *description*: what values it holds and how a value that does not
fit is brought into it. Three kinds:

* ``IntRegister``: a two's-complement (or unsigned) integer of ``bits`` bits that
  counts units of the products' least significant bit, i.e. of step(a) * step(b)
  for fixed-point operands a and b. Holds code products exactly (8 x 8 -> 16) and
  their sums; a sum beyond its range wraps, saturates or raises, by ``overflow``.
* ``FloatRegister``: a floating-point format plus a rounding; every value entering
  it (a product, or the exact sum of the register and a product) is rounded once.
* ``ExactRegister`` (the constant ``EXACT``): holds any value exactly.

The engines (lpsim.exact, lpsim.fast) implement the arithmetic; this module holds
no computation.
"""

from __future__ import annotations

import attrs

from ..formats._validate import int_in_range, member_of, signed_flag, to_int
from ..formats.base import IntegerCodes
from ..formats.coded_enum import CodedEnum
from ..formats.floating import FloatFormat
from ..formats.rounding import NEAREST_EVEN, Overflow, Rounding, as_rounding, to_overflow


class RegisterKind(CodedEnum):
    """The kind of a register, with a small stable integer code for compiled kernels."""

    EXACT = "exact"
    INT = "int"
    FLOAT = "float"


_INT_OVERFLOWS = (Overflow.WRAP, Overflow.SATURATE, Overflow.ERROR)
_OVERFLOW_SHORT = {Overflow.WRAP: "wrap", Overflow.SATURATE: "sat", Overflow.ERROR: "err"}


@attrs.frozen(kw_only=True)
class IntRegister(IntegerCodes):
    """An integer register of ``bits`` bits counting units of step(a) * step(b).

    Signed registers hold [-2**(bits-1), 2**(bits-1) - 1], unsigned ones [0, 2**bits - 1].
    ``overflow``: ``wrap`` (two's complement, the default of integer SIMD adds),
    ``saturate`` (clamp to the nearest end) or ``error`` (raise OverflowError).
    """

    kind = RegisterKind.INT

    bits: int = attrs.field(converter=to_int, validator=int_in_range(1, 64))
    signed: bool = attrs.field(default=True, validator=signed_flag)
    overflow: Overflow = attrs.field(default=Overflow.WRAP, converter=to_overflow, validator=member_of(_INT_OVERFLOWS))

    def holds(self, low: int, high: int) -> bool:
        """True if every integer in [low, high] fits without overflow."""
        return self.code_min <= low and high <= self.code_max

    @property
    def spec(self) -> str:
        return f"{'int' if self.signed else 'uint'}{self.bits}_{_OVERFLOW_SHORT[self.overflow]}"

    def __str__(self) -> str:
        return self.spec


@attrs.frozen(kw_only=True)
class FloatRegister:
    """A floating-point register: values entering it are rounded once into ``fmt`` by ``rounding``.

    Overflow and special values follow ``fmt`` (its ``overflow`` policy and ``specials``).
    """

    kind = RegisterKind.FLOAT

    fmt: FloatFormat = attrs.field()
    rounding: Rounding = attrs.field(default=NEAREST_EVEN, converter=as_rounding)

    @fmt.validator
    def _check_fmt(self, attribute, value):
        if not isinstance(value, FloatFormat):
            raise TypeError(f"FloatRegister: fmt must be a FloatFormat, got {type(value).__name__}")

    def holds_every_value_of(self, other: FloatFormat) -> bool:
        """True if every finite value of ``other`` is a value of this register's format."""
        mine = self.fmt
        lowest_mine = mine.emin - (mine.man_bits if mine.subnormals else 0)
        lowest_other = other.emin - (other.man_bits if other.subnormals else 0)
        return (
            mine.man_bits >= other.man_bits
            and mine.max >= other.max
            and mine.emin <= other.emin
            and lowest_mine <= lowest_other
        )

    @property
    def spec(self) -> str:
        return f"{self.fmt.spec}/{self.rounding}"

    def __str__(self) -> str:
        return self.spec


@attrs.frozen
class ExactRegister:
    """A register that holds every value exactly (unbounded width, no rounding)."""

    kind = RegisterKind.EXACT

    @property
    def spec(self) -> str:
        return "exact"

    def __str__(self) -> str:
        return self.spec


EXACT = ExactRegister()

Register = IntRegister | FloatRegister | ExactRegister
REGISTER_TYPES = (IntRegister, FloatRegister, ExactRegister)


def check_register(value, what: str):
    """Raise TypeError unless ``value`` is a register; ``what`` names the parameter."""
    if not isinstance(value, REGISTER_TYPES):
        raise TypeError(f"{what} must be an IntRegister, FloatRegister or EXACT, got {type(value).__name__}")
    return value
