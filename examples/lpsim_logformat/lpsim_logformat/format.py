"""LogFormat: a logarithmic number format as an immutable, validated lpsim Format."""

from __future__ import annotations

import math
import numbers
import re

import attrs
import numpy as np

from lpsim.formats import Format, Overflow


def _int_in(low: int, high: int):
    def check(instance, attribute, value):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"LogFormat: {attribute.name} must be an integer, got {value!r}")
        if not low <= value <= high:
            raise ValueError(f"LogFormat: {attribute.name} must be in [{low}, {high}], got {value}")

    return check


def _default_bias(self) -> int:
    valid_bits = isinstance(self.bits, int) and self.bits >= 2
    return 1 << (self.bits - 2) if valid_bits else 0  # invalid bits: the bits validator reports it


def _to_overflow(value):
    if isinstance(value, str):
        try:
            return Overflow(value.strip().lower())
        except ValueError:
            raise ValueError(f"LogFormat: overflow must be saturate or error, got {value!r}") from None
    return value


@attrs.frozen(kw_only=True)
class LogFormat(Format):
    """Sign bit + ``bits - 1``-bit magnitude code m; |value| = 2**((m - bias) / 2**frac_bits).

    Magnitude code 0 is zero; the code with the sign bit set and magnitude 0 is NaN
    (so zero is unsigned). Nonzero values are the float64 numbers nearest to
    2**((m - bias) / 2**frac_bits), correctly rounded: that set of float64 values *is*
    the format, identical on every machine. The default bias puts 1.0 at the middle
    magnitude code, 2**(bits - 2).

    ``overflow``: 'saturate' (results above max become +-max; +-inf too) or 'error'
    (OverflowError). Rounding is defined in ``lpsim_logformat.codec``.
    """

    family = "log"

    bits: int = attrs.field(validator=_int_in(2, 32))
    # The exact value computation takes an integer 2**frac_bits-th root: cost grows as 2**frac_bits.
    frac_bits: int = attrs.field(validator=_int_in(0, 8))
    bias: int = attrs.field(default=attrs.Factory(_default_bias, takes_self=True), validator=_int_in(-(1 << 40), 1 << 40))
    overflow: Overflow = attrs.field(default=Overflow.SATURATE, converter=_to_overflow)

    @overflow.validator
    def _check(self, attribute, value):
        if value not in (Overflow.SATURATE, Overflow.ERROR):
            raise ValueError(f"LogFormat: overflow must be saturate or error, got {value!r}")
        # Every value must be a normal float64 so that rounding to it is exact.
        if self.max_log2 >= 1024:
            raise ValueError(f"LogFormat: largest value 2**{self.max_log2} overflows float64; raise bias (now {self.bias})")
        if self.min_log2 < -1022:
            raise ValueError(f"LogFormat: smallest value 2**{self.min_log2} is below float64's normal range; lower bias (now {self.bias})")

    @property
    def max_code(self) -> int:
        """Largest magnitude code."""
        return (1 << (self.bits - 1)) - 1

    @property
    def sign_mask(self) -> int:
        return 1 << (self.bits - 1)

    @property
    def nan_code(self) -> int:
        return self.sign_mask

    @property
    def max_log2(self) -> float:
        return (self.max_code - self.bias) / (1 << self.frac_bits)

    @property
    def min_log2(self) -> float:
        return (1 - self.bias) / (1 << self.frac_bits)

    @property
    def max(self) -> float:
        from .codec import magnitude_value

        return magnitude_value(self, self.max_code)

    @property
    def min(self) -> float:
        return -self.max

    @property
    def smallest_normal(self) -> float:
        from .codec import magnitude_value

        return magnitude_value(self, 1)

    smallest_subnormal = smallest_normal
    tiny = smallest_normal

    @property
    def eps(self) -> float:
        """Relative gap between neighbouring values: 2**(1 / 2**frac_bits) - 1."""
        return 2.0 ** (1.0 / (1 << self.frac_bits)) - 1.0

    @property
    def has_nan(self) -> bool:
        return True

    @property
    def has_inf(self) -> bool:
        return False

    @property
    def code_dtype(self) -> np.dtype:
        for dtype in (np.uint8, np.uint16, np.uint32):
            if self.bits <= np.dtype(dtype).itemsize * 8:
                return np.dtype(dtype)
        raise AssertionError("bits <= 32 by validation")

    @property
    def spec(self) -> str:
        text = f"log{self.bits}_f{self.frac_bits}"
        if self.bias != _default_bias(self):
            text += f"_b{self.bias}"
        if self.overflow is not Overflow.SATURATE:
            text += f"_{self.overflow.value}"
        return text


def parse_spec(text: str) -> LogFormat:
    """``log<bits>_f<frac bits>[_b<bias>][_error|_saturate]``, the inverse of ``LogFormat.spec``."""
    match = re.fullmatch(r"log(\d+)_f(\d+)((?:_b-?\d+)?)((?:_saturate|_error)?)", text.strip().lower())
    if not match:
        raise ValueError(f"log format spec {text!r}: expected log<bits>_f<frac bits>[_b<bias>][_error], e.g. log8_f3")
    bits, frac_bits, bias, overflow = match.groups()
    args = {"bits": int(bits), "frac_bits": int(frac_bits)}
    if bias:
        args["bias"] = int(bias[2:])
    if overflow:
        args["overflow"] = overflow[1:]
    try:
        return LogFormat(**args)
    except (TypeError, ValueError) as err:
        raise ValueError(f"log format spec {text!r}: {err}") from err
