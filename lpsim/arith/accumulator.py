"""How a dot product is accumulated: product register, accumulator register, summation order.

The model of one output of a dot / matvec / matmul (see docs/arithmetic.md):

1. product:     p_j = P(a_j * b_j)          the exact product brought into the product register P
2. accumulate:  acc = A(acc + p_j)           the exact sum brought into the accumulator register A,
                                             in the order given by ``Summation``
3. output:      y = Q(acc)                   optional requantization into an output format

Everything here is a frozen, validated, hashable description; the engines compute.
"""

from __future__ import annotations

import attrs

from ..formats._validate import int_in_range, optional, to_int
from ..formats.coded_enum import CodedEnum
from .registers import EXACT, ExactRegister, FloatRegister, IntRegister, Register, check_register


class Order(CodedEnum):
    """Summation order of the products of one output, with stable integer codes for kernels.

    SEQUENTIAL: acc = A(p_0); acc = A(acc + p_j) for j = 1 .. n-1.
    PAIRWISE:   a balanced tree: each level adds neighbours (x_0 + x_1), (x_2 + x_3), ...
                into A; an odd last element moves up unchanged.
    CHUNKED:    sequential inside chunks of ``chunk`` consecutive products in A, then the
                chunk sums are added sequentially in the (wider) ``final`` register.
    """

    SEQUENTIAL = "sequential"
    PAIRWISE = "pairwise"
    CHUNKED = "chunked"



def _to_order(value):
    if isinstance(value, Order):
        return value
    if isinstance(value, str):
        try:
            return Order(value.strip().lower())
        except ValueError:
            allowed = ", ".join(o.value for o in Order)
            raise ValueError(f"Summation: order must be one of {allowed}, got {value!r}") from None
    raise TypeError(f"Summation: order must be an Order or a string, got {type(value).__name__}")


@attrs.frozen(kw_only=True)
class Summation:
    """The order in which the products of one output are added (see ``Order``)."""

    order: Order = attrs.field(default=Order.SEQUENTIAL, converter=_to_order)
    chunk: int | None = attrs.field(default=None, converter=to_int, validator=optional(int_in_range(1, 1 << 30)))
    final: Register | None = attrs.field(default=None)

    @final.validator
    def _check_chunked_fields(self, attribute, value):
        if self.order is Order.CHUNKED:
            if self.chunk is None or value is None:
                raise ValueError("Summation: order 'chunked' needs chunk (products per chunk) and final (the register summing the chunks)")
            check_register(value, "Summation: final")
        elif self.chunk is not None or value is not None:
            raise ValueError(f"Summation: chunk and final apply only to order 'chunked', got order {self.order.value!r}")

    @classmethod
    def chunked(cls, chunk: int, final: Register) -> "Summation":
        return cls(order=Order.CHUNKED, chunk=chunk, final=final)

    @property
    def spec(self) -> str:
        if self.order is Order.CHUNKED:
            return f"chunked{self.chunk}->{self.final.spec}"
        return self.order.value

    def __str__(self) -> str:
        return self.spec


SEQUENTIAL = Summation()
PAIRWISE = Summation(order=Order.PAIRWISE)


def _check_product(instance, attribute, value):
    check_register(value, "Accumulator: product")


@attrs.frozen(kw_only=True)
class Accumulator:
    """A multiply-accumulate description: product register, accumulator register, summation order.

    ``product``: ``EXACT`` (fused: the exact product goes into the add, as an FMA),
    an ``IntRegister`` (exact widening of fixed-point code products, e.g. 8 x 8 -> 16 bits;
    it must hold every product of the operands), or a ``FloatRegister`` (the product is
    rounded into that format before the add).
    ``accumulator``: ``IntRegister`` (wrap / saturate / error at its width),
    ``FloatRegister`` (rounded at every add) or ``EXACT``.
    Checks that need the operand formats (a register narrower than a single product)
    run in ``lpsim.arith.plan_dot``.
    """

    product: Register = attrs.field(default=EXACT, validator=_check_product)
    accumulator: Register = attrs.field()
    summation: Summation = attrs.field(default=SEQUENTIAL)

    @accumulator.validator
    def _check_accumulator(self, attribute, value):
        check_register(value, "Accumulator: accumulator")
        product = self.product
        if isinstance(value, IntRegister):
            if isinstance(product, FloatRegister):
                raise ValueError(
                    f"Accumulator: an integer accumulator ({value.spec}) needs an integer or exact product register, "
                    f"got the float product register {product.spec}"
                )
            if isinstance(product, IntRegister) and not value.holds(product.code_min, product.code_max):
                raise ValueError(
                    f"Accumulator: accumulator {value.spec} is narrower than a single product "
                    f"(product register {product.spec} holds [{product.code_min}, {product.code_max}])"
                )
        if isinstance(value, FloatRegister) and isinstance(product, FloatRegister):
            if not value.holds_every_value_of(product.fmt):
                raise ValueError(
                    f"Accumulator: accumulator {value.fmt.spec} is narrower than a single product "
                    f"(product format {product.fmt.spec} has values it cannot hold)"
                )

    @summation.validator
    def _check_summation(self, attribute, value):
        if not isinstance(value, Summation):
            raise TypeError(f"Accumulator: summation must be a Summation, got {type(value).__name__}")
        chain = [r for r in (self.product, self.accumulator, value.final) if r is not None]
        for i, register in enumerate(chain):
            if isinstance(register, IntRegister) and any(isinstance(r, FloatRegister) for r in chain[:i]):
                raise ValueError(
                    f"Accumulator: integer register {register.spec} comes after a float register "
                    f"({' -> '.join(r.spec for r in chain)}); rounded float values are not integer product units"
                )
        if value.order is not Order.CHUNKED:
            return
        inner, final = self.accumulator, value.final
        if isinstance(final, IntRegister):
            if isinstance(inner, FloatRegister):
                raise ValueError(f"Accumulator: an integer final register ({final.spec}) cannot sum float chunk sums ({inner.spec})")
            if isinstance(inner, IntRegister) and not final.holds(inner.code_min, inner.code_max):
                raise ValueError(
                    f"Accumulator: final register {final.spec} is narrower than the chunk accumulator {inner.spec}"
                )
        if isinstance(final, FloatRegister) and isinstance(inner, FloatRegister):
            if not final.holds_every_value_of(inner.fmt):
                raise ValueError(
                    f"Accumulator: final register {final.fmt.spec} is narrower than the chunk accumulator {inner.fmt.spec}"
                )

    @property
    def registers(self) -> tuple[Register, ...]:
        """Every register this description uses (product, accumulator, and final if chunked)."""
        regs = (self.product, self.accumulator)
        return regs + ((self.summation.final,) if self.summation.final is not None else ())

    @property
    def uses_integer_registers(self) -> bool:
        return any(isinstance(r, IntRegister) for r in self.registers)

    @property
    def spec(self) -> str:
        return f"{self.product.spec} -> {self.accumulator.spec} [{self.summation.spec}]"

    def __str__(self) -> str:
        return self.spec


EXACT_ACCUMULATOR = Accumulator(product=EXACT, accumulator=EXACT)

__all__ = [
    "Order", "Summation", "SEQUENTIAL", "PAIRWISE", "Accumulator", "EXACT_ACCUMULATOR",
    "ExactRegister", "FloatRegister", "IntRegister",
]
