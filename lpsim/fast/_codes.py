"""The integer codes kernels compare against, each read from the enum it stands for.

Kernels compile these module-level ints in as constants, so they must be plain ints here (not
looked up at run time); ``CODE_TABLE`` lists them all for the on-disk cache's digest
(lpsim/fast/_config.py), because renumbering an enum must recompile every kernel.
"""

from __future__ import annotations

from ..arith.accumulator import Order
from ..arith.registers import RegisterKind
from ..formats.floating import Specials
from ..formats.rounding import Overflow, RandomGenerator, RoundingMode

# rounding modes
NEAREST_EVEN = RoundingMode.NEAREST_EVEN.code
NEAREST_AWAY = RoundingMode.NEAREST_AWAY.code
TOWARD_ZERO = RoundingMode.TOWARD_ZERO.code
TOWARD_POSITIVE = RoundingMode.TOWARD_POSITIVE.code
TOWARD_NEGATIVE = RoundingMode.TOWARD_NEGATIVE.code
TO_ODD = RoundingMode.TO_ODD.code
STOCHASTIC = RoundingMode.STOCHASTIC.code

# random-bit generators (carried in the high bits of a kernel's stream word: lpsim/fast/_rng_kernels.py)
GEN_PHILOX10 = RandomGenerator.PHILOX10.code
GEN_PHILOX7 = RandomGenerator.PHILOX7.code
GEN_SPLITMIX64 = RandomGenerator.SPLITMIX64.code
GEN_HASH32 = RandomGenerator.HASH32.code
GEN_XOROSHIRO128AOX = RandomGenerator.XOROSHIRO128AOX.code

# overflow policies of fixed-point formats and integer registers
SATURATE = Overflow.SATURATE.code
WRAP = Overflow.WRAP.code
ERROR = Overflow.ERROR.code

# special values of float formats
IEEE = Specials.IEEE.code
FN = Specials.FN.code
FNUZ = Specials.FNUZ.code
P3109 = Specials.P3109.code

# register kinds and summation orders of an accumulator
KIND_EXACT = RegisterKind.EXACT.code
KIND_INT = RegisterKind.INT.code
KIND_FLOAT = RegisterKind.FLOAT.code
SEQUENTIAL = Order.SEQUENTIAL.code
PAIRWISE = Order.PAIRWISE.code
CHUNKED = Order.CHUNKED.code

CODE_TABLE = tuple(sorted((name, value) for name, value in globals().items() if name.isupper() and isinstance(value, int)))
