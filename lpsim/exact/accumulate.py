"""The reference multiply-accumulate: products into a product register, sums into an accumulator
register, in a summation order; every step one visible operation.

Register values: an integer register holds a Python int counting units of step(a) * step(b);
float and exact registers hold exact values (lpsim.exact.values). With fixed-point operands
the products are the integers code_a * code_b, and they stay integers until a float register
rounds them (an exact register adds integers as integers).

Random bits for stochastic registers (documented contract, see docs/arithmetic.md): for the
output with flat index o of a reduction of length n, and the caller's (seed, stream, offset),

    product j                     stream + 1, index (offset + o) * n + j
    accumulator rounding event e  stream + 2, index (offset + o) * n + e   (e < n)
    final-register event c        stream + 3, index (offset + o) * n_chunks + c
    output requantization         stream,     index offset + o

streams taken modulo 2**32.
"""

from __future__ import annotations

from ..arith.accumulator import Order
from ..arith.plan import DotPlan
from ..arith.registers import FloatRegister, IntRegister, Register
from ..formats.rounding import DEFAULT_GENERATOR, NEAREST_EVEN, Overflow, RandomGenerator
from .qarray import MAX_INDEX
from .rounding import ElementRandom
from .values import ExactValue, decode_exact, exact_add, exact_from_fraction, exact_mul, round_exact

STREAM_OUTPUT, STREAM_PRODUCT, STREAM_ACCUMULATE, STREAM_FINAL = 0, 1, 2, 3

Value = int | ExactValue  # int: units of step(a) * step(b) (fixed-point operands only)


def int_register_overflow(k: int, register: IntRegister, what: str) -> int:
    """Bring an exact integer into an integer register by its overflow policy."""
    if register.code_min <= k <= register.code_max:
        return k
    if register.overflow is Overflow.SATURATE:
        return register.code_max if k > register.code_max else register.code_min
    if register.overflow is Overflow.WRAP:
        return (k - register.code_min) % (1 << register.bits) + register.code_min
    raise OverflowError(f"{what}: {k} is outside [{register.code_min}, {register.code_max}] of register {register.spec}")


class EventRandom:
    """Random bits of the rounding events of one register for one output: index base + event."""

    def __init__(self, seed: int, stream: int, base: int):
        self.seed, self.stream, self.base = seed, stream % (1 << 32), base

    def __call__(self, event: int, generator: RandomGenerator = DEFAULT_GENERATOR) -> ElementRandom:
        index = self.base + event
        if index > MAX_INDEX:
            raise ValueError(f"random event index {index} exceeds 2**64 - 1; lower the offset")
        return ElementRandom(self.seed, self.stream, index, generator)


class RegisterArith:
    """The two operations of a register for one output: enter R(x) and add R(x + y)."""

    def __init__(self, register: Register, plan: DotPlan, random: EventRandom, what: str):
        self.register, self.plan, self.random, self.what = register, plan, random, what

    def exact(self, v: Value) -> ExactValue:
        return register_value_as_exact(v, self.plan)

    def enter(self, v: Value, event: int) -> Value:
        """R(v): bring a value into the register (rounding once if it is a float register)."""
        register = self.register
        if isinstance(register, IntRegister):
            return int_register_overflow(_as_int(v), register, self.what)
        if isinstance(register, FloatRegister):
            return self._round_float(self.exact(v), event)
        return v

    def add(self, x: Value, y: Value, event: int) -> Value:
        """R(x + y): the exact sum brought into the register once."""
        register = self.register
        if isinstance(register, IntRegister):
            return int_register_overflow(_as_int(x) + _as_int(y), register, self.what)
        if isinstance(register, FloatRegister):
            return self._round_float(exact_add(self.exact(x), self.exact(y), register.rounding), event)
        if isinstance(x, int) and isinstance(y, int):
            return x + y
        return exact_add(self.exact(x), self.exact(y), NEAREST_EVEN)

    def _round_float(self, v: ExactValue, event: int) -> ExactValue:
        register = self.register
        random = self.random(event, register.rounding.generator) if register.rounding.is_stochastic else None
        code = round_exact(v, register.fmt, register.rounding, random, self.what)
        return decode_exact(code, register.fmt)


def _as_int(v: Value) -> int:
    if isinstance(v, int):
        return v
    raise AssertionError(f"integer register received the non-integer value {v!r}")  # excluded by Accumulator's checks


def products(a_terms, b_terms, plan: DotPlan, random: EventRandom, what: str) -> list[Value]:
    """p_j = P(a_j * b_j). Fixed-point operands: the exact integer code_a * code_b; else the exact product."""
    product = RegisterArith(plan.accumulator.product, plan, random, f"{what}: product register")
    out = []
    for j, (a, b) in enumerate(zip(a_terms, b_terms)):
        exact_product = a * b if plan.fixed_operands else exact_mul(a, b)
        out.append(product.enter(exact_product, j))
    return out


def sum_sequential(terms: list[Value], acc: RegisterArith) -> Value:
    """acc = R(p_0); acc = R(acc + p_j), event j."""
    if not terms:
        return 0 if acc.plan.fixed_operands else 0.0
    total = acc.enter(terms[0], 0)
    for j in range(1, len(terms)):
        total = acc.add(total, terms[j], j)
    return total


def sum_pairwise(terms: list[Value], acc: RegisterArith) -> Value:
    """Balanced tree: each level adds neighbours; an odd last element moves up unchanged.

    Events are numbered in the order the adds happen (level by level, left to right);
    a single term is entered with event 0.
    """
    if len(terms) <= 1:
        return sum_sequential(terms, acc)
    level, event = list(terms), 0
    while len(level) > 1:
        parents = []
        for i in range(0, len(level) - 1, 2):
            parents.append(acc.add(level[i], level[i + 1], event))
            event += 1
        if len(level) % 2:
            parents.append(level[-1])
        level = parents
    return level[0]


def accumulate(terms: list[Value], plan: DotPlan, acc_random: EventRandom, final_random: EventRandom, what: str) -> Value:
    """Sum one output's products in the accumulator's order; returns the value of the result register."""
    accumulator = plan.accumulator
    acc = RegisterArith(accumulator.accumulator, plan, acc_random, f"{what}: accumulator")
    summation = accumulator.summation
    if summation.order is Order.SEQUENTIAL:
        return sum_sequential(terms, acc)
    if summation.order is Order.PAIRWISE:
        return sum_pairwise(terms, acc)
    # chunked: sequential inside each chunk (events keep the term index j), then across chunks in `final`
    k = summation.chunk
    chunk_sums = []
    for start in range(0, len(terms), k):
        chunk = terms[start:start + k]
        total = acc.enter(chunk[0], start)
        for j in range(1, len(chunk)):
            total = acc.add(total, chunk[j], start + j)
        chunk_sums.append(total)
    final = RegisterArith(summation.final, plan, final_random, f"{what}: final register")
    return sum_sequential(chunk_sums, final)


def dot_one(a_terms, b_terms, plan: DotPlan, seed: int, stream: int, output_index: int, what: str) -> ExactValue | int:
    """One output of a reduction: products, then accumulation. ``output_index`` is offset + o."""
    n = len(a_terms)
    n_chunks = -(-n // plan.accumulator.summation.chunk) if plan.accumulator.summation.chunk else 0
    terms = products(a_terms, b_terms, plan, EventRandom(seed, stream + STREAM_PRODUCT, output_index * n), what)
    return accumulate(
        terms, plan,
        EventRandom(seed, stream + STREAM_ACCUMULATE, output_index * n),
        EventRandom(seed, stream + STREAM_FINAL, output_index * n_chunks),
        what,
    )


def register_value_as_exact(v: Value, plan: DotPlan) -> ExactValue:
    """The exact value of a register value (integers count units of step(a) * step(b))."""
    if isinstance(v, int):
        return exact_from_fraction(v * plan.unit)
    return v
