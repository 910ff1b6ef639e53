"""Rounding modes and overflow policies: small immutable values shared by every engine.

The precise definition of each mode (including which random bits stochastic rounding
compares with which fraction bits) is in docs/formats.md, section "Rounding".
"""

from __future__ import annotations

import functools
import re

import attrs

from ._validate import check_ascii, int_in_range, optional, to_int
from .coded_enum import CodedEnum, member_from_name


class RoundingMode(CodedEnum):
    NEAREST_EVEN = "nearest_even"
    NEAREST_AWAY = "nearest_away"
    TOWARD_ZERO = "toward_zero"
    TOWARD_POSITIVE = "toward_positive"
    TOWARD_NEGATIVE = "toward_negative"
    TO_ODD = "to_odd"
    STOCHASTIC = "stochastic"

_ALIASES = {
    "nearest": "nearest_even",
    "rne": "nearest_even",
    "even": "nearest_even",
    "rna": "nearest_away",
    "away": "nearest_away",
    "rz": "toward_zero",
    "trunc": "toward_zero",
    "truncate": "toward_zero",
    "ru": "toward_positive",
    "up": "toward_positive",
    "ceil": "toward_positive",
    "rd": "toward_negative",
    "down": "toward_negative",
    "floor": "toward_negative",
    "odd": "to_odd",
    "sr": "stochastic",
}

MAX_RANDOM_BITS = 64


class RandomGenerator(CodedEnum):
    """The counter-based generator of stochastic rounding's random bits (lpsim.rng defines each).

    PHILOX10 (Philox4x32-10) is the default and the only one whose name is never written out:
    specs and run ids that do not name a generator mean it, so they keep their meaning."""

    PHILOX10 = "philox10"
    PHILOX7 = "philox7"
    SPLITMIX64 = "splitmix64"
    HASH32 = "hash32"
    XOROSHIRO128AOX = "xoroshiro128aox"


DEFAULT_GENERATOR = RandomGenerator.PHILOX10
_GENERATOR_ALIASES = {"philox": "philox10", "philox4x32_10": "philox10", "philox4x32-10": "philox10",
                      "philox4x32_7": "philox7", "philox4x32-7": "philox7", "splitmix": "splitmix64",
                      "xoroshiro": "xoroshiro128aox", "aox": "xoroshiro128aox"}


def to_generator(value) -> RandomGenerator:
    """A RandomGenerator from itself or its name (or an alias such as 'philox' or 'splitmix')."""
    return member_from_name(RandomGenerator, value, aliases=_GENERATOR_ALIASES, what="generator", kind="a RandomGenerator")


def _to_mode(value):
    if isinstance(value, RoundingMode):
        return value
    if isinstance(value, str):
        key = _ALIASES.get(value.strip().lower(), value.strip().lower())
        try:
            return RoundingMode(key)
        except ValueError:
            allowed = ", ".join(m.value for m in RoundingMode)
            raise ValueError(f"Rounding: mode must be one of {allowed} (or an alias), got {value!r}") from None
    raise TypeError(f"Rounding: mode must be a RoundingMode or a string, got {type(value).__name__}")


@attrs.frozen(kw_only=True)
class Rounding:
    """A rounding mode, plus the number of random bits and their generator for stochastic rounding.

    ``random_bits=None`` with stochastic rounding means exact probabilities: the
    value rounds away from its floor with probability equal to the discarded
    fraction, exactly. ``generator`` names the counter-based generator of the bits
    (default Philox4x32-10; see docs/formats.md, "Random bits").
    """

    mode: RoundingMode = attrs.field(converter=_to_mode)
    random_bits: int | None = attrs.field(
        default=None, converter=to_int, validator=optional(int_in_range(1, MAX_RANDOM_BITS))
    )

    @random_bits.validator
    def _only_for_stochastic(self, attribute, value):
        if value is not None and self.mode is not RoundingMode.STOCHASTIC:
            raise ValueError(
                f"Rounding: random_bits applies only to mode 'stochastic', got random_bits={value} "
                f"with mode {self.mode.value!r}"
            )

    generator: RandomGenerator = attrs.field(default=DEFAULT_GENERATOR, converter=to_generator)

    @generator.validator
    def _generator_only_for_stochastic(self, attribute, value):
        if value is not DEFAULT_GENERATOR and self.mode is not RoundingMode.STOCHASTIC:
            raise ValueError(f"Rounding: generator applies only to mode 'stochastic', got generator={value.value!r} "
                             f"with mode {self.mode.value!r}")

    @property
    def is_stochastic(self) -> bool:
        return self.mode is RoundingMode.STOCHASTIC

    @classmethod
    def parse(cls, text: str) -> "Rounding":
        """Parse 'nearest_even', 'rne', 'stochastic', 'stochastic:8' or 'sr8', optionally followed by
        ':GENERATOR' for stochastic rounding ('sr16:splitmix64', 'stochastic:hash32')."""
        if not isinstance(text, str):
            raise TypeError(f"Rounding.parse: text must be a string, got {type(text).__name__}")
        check_ascii(text, "Rounding.parse: rounding")
        match = re.fullmatch(r"\s*(stochastic|sr)\s*(?::?\s*(\d+))?\s*(?::\s*([a-z][a-z0-9_-]*))?\s*", text.lower())
        if match and (match.group(2) or match.group(3)):
            bits = match.group(2)
            generator = match.group(3) or DEFAULT_GENERATOR
            return cls(mode=RoundingMode.STOCHASTIC, random_bits=None if bits is None else int(bits), generator=generator)
        return cls(mode=text)

    def __str__(self) -> str:
        text = self.mode.value if self.random_bits is None else f"{self.mode.value}:{self.random_bits}"
        if self.generator is not DEFAULT_GENERATOR:
            text += f":{self.generator.value}"
        return text


@functools.lru_cache(maxsize=256)
def _parse_cached(text: str) -> Rounding:
    # a training loop names its rounding once per step; a Rounding is immutable, so one parse serves every call
    return Rounding.parse(text)


def as_rounding(value) -> Rounding:
    """Accept a Rounding, a RoundingMode or a string and return a Rounding."""
    if isinstance(value, Rounding):
        return value
    if isinstance(value, RoundingMode):
        return Rounding(mode=value)
    if isinstance(value, str):
        return _parse_cached(value)
    raise TypeError(f"rounding must be a Rounding, RoundingMode or string, got {type(value).__name__}")


NEAREST_EVEN = Rounding(mode=RoundingMode.NEAREST_EVEN)
NEAREST_AWAY = Rounding(mode=RoundingMode.NEAREST_AWAY)
TOWARD_ZERO = Rounding(mode=RoundingMode.TOWARD_ZERO)
TOWARD_POSITIVE = Rounding(mode=RoundingMode.TOWARD_POSITIVE)
TOWARD_NEGATIVE = Rounding(mode=RoundingMode.TOWARD_NEGATIVE)
TO_ODD = Rounding(mode=RoundingMode.TO_ODD)
STOCHASTIC = Rounding(mode=RoundingMode.STOCHASTIC)


class Overflow(CodedEnum):
    """What happens to a value beyond a format's range.

    SATURATE: clamp to the largest finite value of that sign.
    WRAP: two's-complement wrap-around (fixed point only).
    ERROR: raise OverflowError naming the format.
    IEEE: IEEE 754 rules (floats only): round-to-nearest and stochastic overflow to
        +-inf, directed modes to inf or the largest finite value by direction; in a
        format without inf the result is NaN (as OCP "fn"/"fnuz" non-saturating casts).
    SAT_PROPAGATE: IEEE P3109's SatPropagate (floats with inf or NaN only): finite values
        beyond the range clamp as SATURATE, infinite inputs stay infinite (NaN in a format
        without inf). SATURATE on a float is P3109's SatFinite (infinities clamp too).
    """

    SATURATE = "saturate"
    WRAP = "wrap"
    ERROR = "error"
    IEEE = "ieee"
    SAT_PROPAGATE = "satpropagate"


_OVERFLOW_ALIASES = {"sat_propagate": "satpropagate", "satfinite": "saturate", "sat_finite": "saturate"}


def to_overflow(value) -> Overflow:
    """An Overflow from itself or its name (or 'sat_propagate', 'satfinite')."""
    return member_from_name(Overflow, value, aliases=_OVERFLOW_ALIASES, what="overflow", kind="an Overflow")
