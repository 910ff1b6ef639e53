"""Floating-point formats of any exponent and mantissa width, IEEE/OCP bit layouts."""

from __future__ import annotations

import math

import attrs
import numpy as np

from ._validate import int_in_range, optional, to_int
from .base import Format, unsigned_dtype_for
from .coded_enum import CodedEnum
from .rounding import Overflow, to_overflow


class Specials(CodedEnum):
    """Which codes are special.

    IEEE: exponent field all ones is reserved: mantissa 0 is +-inf, others NaN.
    FN:   finite, with NaN: only the codes with every exponent and mantissa bit set
          are NaN (OCP E4M3, ml_dtypes ``*fn``); no inf; all-ones exponents are normal.
    FNUZ: finite, unsigned zero: the code 1000...0 (negative zero) is the only NaN; no
          inf, no -0 (ml_dtypes ``*fnuz``).
    NONE: finite only, no NaN and no inf (OCP FP6/FP4 elements); every code is a number.
    P3109: IEEE P3109's extended domain: the code 1000...0 is the only NaN, the two codes
          with every exponent and mantissa bit set are +-inf, no -0; all other codes are
          numbers. (P3109's finite domain is FNUZ.)
    """

    IEEE = "ieee"
    FN = "fn"
    FNUZ = "fnuz"
    NONE = "none"
    P3109 = "p3109"


def _to_specials(value):
    if isinstance(value, Specials):
        return value
    if isinstance(value, str):
        try:
            return Specials(value.strip().lower())
        except ValueError:
            allowed = ", ".join(s.value for s in Specials)
            raise ValueError(f"FloatFormat: specials must be one of {allowed}, got {value!r}") from None
    raise TypeError(f"FloatFormat: specials must be a Specials or string, got {type(value).__name__}")


# The specials a bare "eXmY" name means: the OCP FP8/FP6/FP4 conventions for these shapes
# ("e4m3" is OCP E4M3, finite with NaN), IEEE for every other shape. The spec of an
# IEEE-style format of these shapes therefore says "_ieee", so specs stay unambiguous.
BARE_NAME_SPECIALS = {(4, 3): Specials.FN, (3, 2): Specials.NONE, (2, 3): Specials.NONE, (2, 1): Specials.NONE}


def _default_bias(exp_bits: int, specials: Specials) -> int:
    base = (1 << (exp_bits - 1)) - 1
    return base + 1 if specials in (Specials.FNUZ, Specials.P3109) else base


def _default_overflow(self) -> Overflow:
    return Overflow.SATURATE if self.specials is Specials.NONE else Overflow.IEEE


@attrs.frozen(kw_only=True, eq=False)
class FloatFormat(Format):
    """A binary floating-point format: 1 sign bit, ``exp_bits``, ``man_bits``.

    Codes are unsigned integers with the IEEE layout sign | exponent | mantissa, so
    encoded arrays view as numpy float16/float32 or ml_dtypes float8 types.
    Values are exact in float64 (exp_bits <= 11, man_bits <= 52, and the bias must keep
    the largest value and the grid step of the smallest normal binade inside float64).

    Rounding: the exact magnitude |x| is rounded once, in the chosen mode, onto the
    grid of the format with its exponent unbounded above (directed modes mirrored for
    negative x, stochastic rounding on the magnitude); a result above ``max`` is an
    overflow, resolved by ``overflow``:

    * ``ieee``: nearest and stochastic modes give +-inf (IEEE specials) or NaN (fn/fnuz);
      toward zero, to-odd and the directed mode pointing back to zero give +-max.
    * ``saturate``: +-max.  ``error``: OverflowError naming the format.

    Special inputs. NaN gives the format's NaN (the input's sign kept where the format
    has signed NaNs, payload not kept); a format without NaN (specials 'none') raises
    ValueError. +-inf gives +-inf in a format with inf unless overflow is 'saturate'
    (then +-max); in a format without inf it is an overflow: NaN under 'ieee', +-max
    under 'saturate', OverflowError under 'error'. -0.0 stays -0.0, except in FNUZ
    formats, which have only +0 (as does any result rounding to zero there).

    With ``subnormals=False`` the representable set is {+-0} and the normal numbers;
    magnitudes below the smallest normal round on the grid {0, smallest_normal} in the
    chosen mode, and codes with a zero exponent field and a nonzero mantissa decode to
    zero of their sign (denormals-are-zero).

    Decoding gives NaN with the code's sign bit for NaN codes of IEEE and FN formats,
    +NaN for the FNUZ NaN. Codes must lie in [0, 2**bits); others raise ValueError.
    """

    family = "float"

    exp_bits: int = attrs.field(converter=to_int, validator=int_in_range(1, 11))
    man_bits: int = attrs.field(converter=to_int, validator=int_in_range(0, 52))
    bias: int | None = attrs.field(default=None, converter=to_int, validator=optional(int_in_range(-2000, 2000)))
    subnormals: bool = attrs.field(default=True)
    specials: Specials = attrs.field(default=Specials.IEEE, converter=_to_specials)
    overflow: Overflow = attrs.field(
        default=attrs.Factory(_default_overflow, takes_self=True), converter=to_overflow
    )

    @subnormals.validator
    def _check_subnormals(self, attribute, value):
        if not isinstance(value, bool):
            raise TypeError(f"FloatFormat: subnormals must be a bool, got {value!r}")

    @specials.validator
    def _check_specials(self, attribute, value):
        if value is Specials.IEEE:
            if self.exp_bits < 2:
                raise ValueError(f"FloatFormat: IEEE specials need exp_bits in [2, 11], got {self.exp_bits}")
            if self.man_bits < 1:
                raise ValueError(f"FloatFormat: IEEE specials need man_bits in [1, 52] (NaN needs a mantissa bit), got {self.man_bits}")

    @overflow.validator
    def _check_overflow(self, attribute, value):
        if value is Overflow.WRAP:
            raise ValueError("FloatFormat: overflow must be one of ieee, saturate, error (wrap is for fixed point)")
        if value is Overflow.IEEE and self.specials is Specials.NONE:
            raise ValueError("FloatFormat: overflow 'ieee' needs inf or NaN; with specials 'none' use saturate or error")
        # The format must fit inside float64 so that every value is exact in float64.
        if self.emax > 1023:
            raise ValueError(f"FloatFormat: largest exponent {self.emax} exceeds float64's 1023; raise bias (now {self.effective_bias})")
        # Even without subnormals the normal numbers of the lowest binade are multiples of
        # 2**(emin - man_bits), which must be a float64 value for them to be exact.
        if self.emin - self.man_bits < -1074:
            raise ValueError(
                f"FloatFormat: grid step 2**{self.emin - self.man_bits} of the smallest normal binade is below "
                f"float64's 2**-1074; lower bias (now {self.effective_bias}) to at most {1075 - self.man_bits}"
            )
        if self.emax < self.emin:
            raise ValueError("FloatFormat: this layout has no normal numbers")

    def _value_key(self) -> tuple:
        return (self.exp_bits, self.man_bits, self.effective_bias, self.subnormals, self.specials, self.overflow)

    # -- named constructors ------------------------------------------------
    @classmethod
    def ieee(cls, exp_bits: int, man_bits: int, **kwargs) -> "FloatFormat":
        return cls(exp_bits=exp_bits, man_bits=man_bits, specials=Specials.IEEE, **kwargs)

    @classmethod
    def p3109(cls, width: int, precision: int, *, domain: str = "extended", **kwargs) -> "FloatFormat":
        """IEEE P3109 binary<width>p<precision>, signed: ``precision`` significand bits including the
        hidden bit, bias 2**(width - precision - 1), one NaN (the code 1000...0), no -0; the
        'extended' domain has +-inf at the two all-ones codes, the 'finite' domain (FNUZ) does not."""
        width, precision = to_int(width), to_int(precision)
        if not isinstance(width, int) or not 2 <= width <= 64:
            raise ValueError(f"FloatFormat.p3109: width must be an integer in [2, 64], got {width!r}")
        if not isinstance(precision, int) or not 1 <= precision <= width - 1:
            raise ValueError(f"FloatFormat.p3109: precision must be an integer in [1, {width - 1}] for width {width}, got {precision!r}")
        if domain not in ("extended", "finite"):
            raise ValueError(f"FloatFormat.p3109: domain must be 'extended' or 'finite', got {domain!r}")
        specials = Specials.P3109 if domain == "extended" else Specials.FNUZ
        return cls(exp_bits=width - precision, man_bits=precision - 1, specials=specials, **kwargs)

    @property
    def p3109_name(self) -> str | None:
        """'binary<K>p<P>' (extended domain) or 'binary<K>p<P>f' (finite) if this is an IEEE P3109
        format with its default bias and subnormals, else None."""
        if self.specials not in (Specials.P3109, Specials.FNUZ) or not self.subnormals or self.bias not in (
            None, _default_bias(self.exp_bits, self.specials)
        ):
            return None
        return f"binary{self.bits}p{self.man_bits + 1}" + ("" if self.specials is Specials.P3109 else "f")

    # -- layout -------------------------------------------------------------
    @property
    def bits(self) -> int:
        return 1 + self.exp_bits + self.man_bits

    @property
    def effective_bias(self) -> int:
        return _default_bias(self.exp_bits, self.specials) if self.bias is None else self.bias

    @property
    def sign_mask(self) -> int:
        return 1 << (self.exp_bits + self.man_bits)

    @property
    def exp_field_max(self) -> int:
        """Largest exponent field that holds finite numbers."""
        top = (1 << self.exp_bits) - 1
        if self.specials is Specials.IEEE:
            return top - 1
        if self.specials in (Specials.FN, Specials.P3109) and self.man_bits == 0:
            return top - 1
        return top

    @property
    def max_code(self) -> int:
        """Code (sign bit clear) of the largest finite value."""
        field = self.exp_field_max
        mant = (1 << self.man_bits) - 1
        if self.specials in (Specials.FN, Specials.P3109) and self.man_bits > 0:
            mant -= 1
        return (field << self.man_bits) | mant

    @property
    def nan_code(self) -> int | None:
        """Canonical positive NaN code (None if the format has no NaN)."""
        top = (1 << self.exp_bits) - 1
        if self.specials is Specials.IEEE:
            return (top << self.man_bits) | (1 << (self.man_bits - 1))
        if self.specials is Specials.FN:
            return (top << self.man_bits) | ((1 << self.man_bits) - 1)
        if self.specials in (Specials.FNUZ, Specials.P3109):
            return self.sign_mask
        return None

    @property
    def inf_code(self) -> int | None:
        """Code of +inf (None if the format has no inf)."""
        if self.specials is Specials.IEEE:
            return ((1 << self.exp_bits) - 1) << self.man_bits
        if self.specials is Specials.P3109:
            return self.sign_mask - 1
        return None

    # -- derived properties (finfo-like) -------------------------------------
    @property
    def emin(self) -> int:
        """Exponent of the smallest normal number."""
        return 1 - self.effective_bias

    @property
    def emax(self) -> int:
        """Exponent of the largest finite number."""
        return self.exp_field_max - self.effective_bias

    @property
    def max(self) -> float:
        mant = self.max_code & ((1 << self.man_bits) - 1)
        return math.ldexp(1.0 + mant / (1 << self.man_bits), self.emax)

    @property
    def min(self) -> float:
        return -self.max

    @property
    def smallest_normal(self) -> float:
        return math.ldexp(1.0, self.emin)

    @property
    def smallest_subnormal(self) -> float:
        if self.subnormals and self.man_bits > 0:
            return math.ldexp(1.0, self.emin - self.man_bits)
        return self.smallest_normal

    @property
    def tiny(self) -> float:
        return self.smallest_normal

    @property
    def eps(self) -> float:
        return math.ldexp(1.0, -self.man_bits)

    @property
    def has_nan(self) -> bool:
        return self.specials is not Specials.NONE

    @property
    def has_inf(self) -> bool:
        return self.specials in (Specials.IEEE, Specials.P3109)

    @property
    def has_negative_zero(self) -> bool:
        return self.specials not in (Specials.FNUZ, Specials.P3109)

    @property
    def code_dtype(self) -> np.dtype:
        return unsigned_dtype_for(self.bits)

    @property
    def spec(self) -> str:
        text = f"e{self.exp_bits}m{self.man_bits}"
        if self.specials is not Specials.IEEE or (self.exp_bits, self.man_bits) in BARE_NAME_SPECIALS:
            text += f"_{self.specials.value}"
        if self.effective_bias != _default_bias(self.exp_bits, self.specials):
            text += f"_b{self.effective_bias}"
        if not self.subnormals:
            text += "_nosub"
        if self.overflow is not _default_overflow(self):
            text += f"_{self.overflow.value}"
        return text
