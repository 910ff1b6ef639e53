"""Descriptions of low-precision arithmetic shared by both engines: registers, accumulators,
summation orders and named hardware profiles; and the integer inner loop's plan
(integer_loop.py: what both engines' epochs compute from, and the scalar loss derivatives they
share). lpsim.exact and lpsim.fast compute."""

from .accumulator import EXACT_ACCUMULATOR, PAIRWISE, SEQUENTIAL, Accumulator, Order, Summation
from .plan import DotPlan, code_product_range, plan_dot, product_format
from .profiles import (
    HardwareProfile,
    as_accumulator,
    available_profiles,
    get_profile,
    register_profile,
    unregister_profile,
)
from .registers import EXACT, ExactRegister, FloatRegister, IntRegister, Register, RegisterKind

__all__ = [
    "IntRegister", "FloatRegister", "ExactRegister", "EXACT", "Register", "RegisterKind",
    "Order", "Summation", "SEQUENTIAL", "PAIRWISE", "Accumulator", "EXACT_ACCUMULATOR",
    "DotPlan", "plan_dot", "product_format", "code_product_range",
    "HardwareProfile", "register_profile", "unregister_profile", "get_profile", "available_profiles", "as_accumulator",
]
