"""Checks that need the operand formats, and the formats that registers resolve to.

``plan_dot`` is called by both engines before a dot / matvec / matmul: it rejects an
accumulator that cannot hold a single product of the given operands (naming the
operands and formats), and records the scalars an engine needs (the product unit,
the range of code products, the format of the result).
"""

from __future__ import annotations

from fractions import Fraction

import attrs

from ..formats.base import Format
from ..formats.block import BlockFormat
from ..formats.fixed import FixedPoint
from ..formats.floating import FloatFormat
from ..formats.rounding import Overflow
from .accumulator import Accumulator, Order
from .registers import FloatRegister, IntRegister, Register


def code_product_range(a: FixedPoint, b: FixedPoint) -> tuple[int, int]:
    """Smallest and largest product code_a * code_b over the two formats' code ranges."""
    corners = [x * y for x in (a.code_min, a.code_max) for y in (b.code_min, b.code_max)]
    return min(corners), max(corners)


def fixed_point_for(bits: int, signed: bool, unit: Fraction, overflow: Overflow, what: str) -> FixedPoint:
    """The FixedPoint format of a ``bits``-bit integer counting units of ``unit``.

    A power-of-two unit becomes frac_bits; any other unit must be a float64 number
    (it is unless both operand steps are non-powers of two), else ValueError.
    """
    n, d = unit.numerator, unit.denominator
    if n & (n - 1) == 0 and d & (d - 1) == 0:
        frac_bits = d.bit_length() - n.bit_length()
        return FixedPoint(bits=bits, signed=signed, frac_bits=frac_bits, overflow=overflow)
    step = float(unit)
    if Fraction(step) != unit:
        raise ValueError(
            f"{what}: the product step {unit} is not a float64 number, so an integer register has no "
            f"FixedPoint format; give at least one operand a power-of-two step"
        )
    return FixedPoint(bits=bits, signed=signed, scale=step, overflow=overflow)


def signed_bits_for(low: int, high: int) -> int:
    """Smallest two's-complement width holding [low, high]."""
    bits = 2
    while not (-(1 << (bits - 1)) <= low and high <= (1 << (bits - 1)) - 1):
        bits += 1
    return bits


def product_format(a: FixedPoint, b: FixedPoint) -> FixedPoint:
    """The exact widened format of the products of two fixed-point formats (e.g. int8 x int8 -> 16 bits).

    Signed unless both operands are unsigned; the step is step(a) * step(b).
    """
    for name, fmt in (("a", a), ("b", b)):
        if not isinstance(fmt, FixedPoint):
            raise TypeError(f"product_format: {name} must be a FixedPoint, got {type(fmt).__name__} ({fmt})")
    low, high = code_product_range(a, b)
    if a.signed or b.signed:
        bits, signed = signed_bits_for(low, high), True
    else:
        bits, signed = max(high.bit_length(), 1), False
    if bits > 64:
        raise ValueError(f"product_format: products of {a.spec} and {b.spec} need {bits} bits, more than 64")
    unit = Fraction(a.step) * Fraction(b.step)
    return fixed_point_for(bits, signed, unit, Overflow.ERROR, f"product_format({a.spec}, {b.spec})")


@attrs.frozen(kw_only=True)
class DotPlan:
    """An accumulator checked against two operand formats, with the scalars engines need.

    ``unit``: step(a) * step(b) as an exact rational when both operands are fixed point
    (integer registers count this unit), else None. ``product_low``/``product_high``:
    the range of code products (fixed-point operands only).
    """

    accumulator: Accumulator
    a_fmt: Format
    b_fmt: Format
    op: str
    unit: Fraction | None = None
    product_low: int | None = None
    product_high: int | None = None

    @property
    def fixed_operands(self) -> bool:
        return self.unit is not None

    @property
    def result_register(self) -> Register:
        """The register holding a finished output: the final register if chunked, else the accumulator."""
        summation = self.accumulator.summation
        return summation.final if summation.order is Order.CHUNKED else self.accumulator.accumulator

    def register_format(self, register: Register) -> Format | None:
        """The storage format of a register's value (None for an exact register with float operands)."""
        if isinstance(register, IntRegister):
            return fixed_point_for(register.bits, register.signed, self.unit, register.overflow, self.op)
        if isinstance(register, FloatRegister):
            return register.fmt
        if self.fixed_operands:
            # exact sums of fixed-point products are integers in product units; 64 bits or an error
            return fixed_point_for(64, True, self.unit, Overflow.ERROR, self.op)
        return None

    @property
    def result_format(self) -> Format | None:
        return self.register_format(self.result_register)


def _describe(name: str, fmt: Format) -> str:
    return f"{name} ({fmt.spec})"


def plan_dot(accumulator: Accumulator, a_fmt: Format, b_fmt: Format, *, op: str = "dot",
             a_name: str = "a", b_name: str = "b") -> DotPlan:
    """Check ``accumulator`` against operand formats; raise naming operands and formats if it cannot work."""
    if not isinstance(accumulator, Accumulator):
        raise TypeError(f"{op}: accumulator must be an Accumulator, got {type(accumulator).__name__}")
    for name, fmt in ((a_name, a_fmt), (b_name, b_fmt)):
        if not isinstance(fmt, (FixedPoint, FloatFormat, BlockFormat)):
            raise TypeError(f"{op}: operand {name} has format type {type(fmt).__name__}, which the arithmetic does not support")
    operands = f"{_describe(a_name, a_fmt)} x {_describe(b_name, b_fmt)}"
    fixed = isinstance(a_fmt, FixedPoint) and isinstance(b_fmt, FixedPoint)
    if not fixed:
        if accumulator.uses_integer_registers:
            raise TypeError(
                f"{op}: integer registers count units of step(a) * step(b) and need fixed-point operands; "
                f"got {operands} with accumulator {accumulator.spec}"
            )
        return DotPlan(accumulator=accumulator, a_fmt=a_fmt, b_fmt=b_fmt, op=op)
    low, high = code_product_range(a_fmt, b_fmt)
    unit = Fraction(a_fmt.step) * Fraction(b_fmt.step)
    for role, register in (("product register", accumulator.product), ("accumulator", accumulator.accumulator),
                           ("final register", accumulator.summation.final)):
        if isinstance(register, IntRegister) and not register.holds(low, high):
            raise ValueError(
                f"{op}: {role} {register.spec} holds [{register.code_min}, {register.code_max}], narrower than a single "
                f"product of {operands}, whose code products span [{low}, {high}]"
            )
    plan = DotPlan(accumulator=accumulator, a_fmt=a_fmt, b_fmt=b_fmt, op=op, unit=unit, product_low=low, product_high=high)
    for register in accumulator.registers:
        if isinstance(register, IntRegister):
            plan.register_format(register)  # raises if the product step is not a float64 number
    return plan

