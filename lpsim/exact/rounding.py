"""Rounding an exact rational to an integer, in every mode: the reference definition.

Everything here works on ``fractions.Fraction`` and Python ints, so each step is
exact and can be checked by hand. Formats build on ``round_integer``.
"""

from __future__ import annotations

import math
from fractions import Fraction

import attrs

from ..formats.rounding import DEFAULT_GENERATOR, RandomGenerator, Rounding, RoundingMode
from .. import rng

_HALF = Fraction(1, 2)


@attrs.frozen
class ElementRandom:
    """The random bit string of one element (seed, stream, index): its word of each block of its
    counter by ``generator``, as lpsim.rng defines."""

    seed: int
    stream: int
    index: int
    generator: RandomGenerator = DEFAULT_GENERATOR

    def first_bits(self, nbits: int) -> int:
        return rng.random_bits(self.seed, self.stream, self.index, nbits, self.generator)

    def uniform_below(self, fraction: Fraction) -> bool:
        """Exactly decide U < fraction, with U = 0.b1 b2 b3 ... the element's random bit string.

        Compares U with the fraction one 32-bit word at a time (word k of U is the element's
        word of Philox block k); stops at the first difference, or when the fraction's
        remaining bits are all zero (then U >= fraction).
        """
        rest = fraction
        k = 0
        while rest > 0:
            scaled = rest * (1 << 32)
            fraction_word = math.floor(scaled)
            random_word = rng.element_word(self.seed, self.stream, self.index, k, self.generator)
            if random_word != fraction_word:
                return random_word < fraction_word
            rest = scaled - fraction_word
            k += 1
        return False


def stochastic_rounds_up(fraction: Fraction, rounding: Rounding, random: ElementRandom) -> bool:
    """Stochastic rounding's decision for a discarded fraction in [0, 1).

    With r random bits: t = floor(fraction * 2**r) (the first r fraction bits) and u = the
    first r random bits; round away from the floor iff u < t, so P = t / 2**r.
    With r = None: round away iff U < fraction exactly, so P = fraction.
    """
    if fraction == 0:
        return False
    r = rounding.random_bits
    if r is None:
        return random.uniform_below(fraction)
    threshold = math.floor(fraction * (1 << r))
    return random.first_bits(r) < threshold


def round_integer(value: Fraction, rounding: Rounding, random: ElementRandom | None = None) -> int:
    """Round a signed rational to an integer (two's-complement semantics: floor-based).

    Used directly for fixed point. Stochastic rounding: floor(value) + 1 with the
    probability given by ``stochastic_rounds_up`` of value - floor(value).
    """
    floor = math.floor(value)
    fraction = value - floor
    if fraction == 0:
        return floor
    mode = rounding.mode
    if mode is RoundingMode.NEAREST_EVEN:
        if fraction != _HALF:
            return floor + (fraction > _HALF)
        return floor if floor % 2 == 0 else floor + 1
    if mode is RoundingMode.NEAREST_AWAY:
        if fraction != _HALF:
            return floor + (fraction > _HALF)
        return floor + 1 if value > 0 else floor
    if mode is RoundingMode.TOWARD_ZERO:
        return floor + 1 if value < 0 else floor
    if mode is RoundingMode.TOWARD_POSITIVE:
        return floor + 1
    if mode is RoundingMode.TOWARD_NEGATIVE:
        return floor
    if mode is RoundingMode.TO_ODD:
        return floor if floor % 2 else floor + 1
    if mode is RoundingMode.STOCHASTIC:
        if random is None:
            raise ValueError("stochastic rounding needs random bits (seed, stream, index)")
        return floor + stochastic_rounds_up(fraction, rounding, random)
    raise AssertionError(f"unhandled rounding mode {mode}")


_MIRROR = {
    RoundingMode.TOWARD_POSITIVE: RoundingMode.TOWARD_NEGATIVE,
    RoundingMode.TOWARD_NEGATIVE: RoundingMode.TOWARD_POSITIVE,
}


def round_magnitude(magnitude: Fraction, negative: bool, rounding: Rounding, random: ElementRandom | None = None) -> int:
    """Round a non-negative magnitude whose sign is ``negative``: sign-magnitude semantics.

    Directed modes are mirrored for negative numbers (toward +inf on a negative value
    shrinks its magnitude); nearest-away and stochastic act on the magnitude, so
    stochastic rounding moves the magnitude up with probability equal to its discarded fraction.
    """
    if negative and rounding.mode in _MIRROR:
        rounding = attrs.evolve(rounding, mode=_MIRROR[rounding.mode])
    return round_integer(magnitude, rounding, random)
