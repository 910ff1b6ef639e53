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

    Unsigned formats (``signed=False``, P3109's unsigned variants) have no sign bit and take
    P3109 or FNUZ only: the all-ones code is the NaN, and under P3109 the code below it is +inf.
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


_UNSIGNED_SPECIALS = (Specials.P3109, Specials.FNUZ)


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
    * ``saturate``: +-max, infinite inputs included (P3109's SatFinite).
    * ``satpropagate``: finite values past max give +-max, infinite inputs stay +-inf (NaN in a
      format without inf): P3109's SatPropagate.
    * ``error``: OverflowError naming the format.

    Unsigned formats (``signed=False``): every negative input (-inf included, -0.0 excepted,
    which gives +0) has no value and gives the NaN, whatever the rounding and overflow policy.

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
    signed: bool = attrs.field(default=True)
    overflow: Overflow = attrs.field(
        default=attrs.Factory(_default_overflow, takes_self=True), converter=to_overflow
    )

    @subnormals.validator
    def _check_subnormals(self, attribute, value):
        if not isinstance(value, bool):
            raise TypeError(f"FloatFormat: subnormals must be a bool, got {value!r}")

    @signed.validator
    def _check_signed(self, attribute, value):
        if not isinstance(value, bool):
            raise TypeError(f"FloatFormat: signed must be a bool, got {value!r}")
        if not value and self.specials not in _UNSIGNED_SPECIALS:
            raise ValueError(
                f"FloatFormat: an unsigned format (signed=False) needs specials 'p3109' or 'fnuz' (P3109's unsigned "
                f"layouts: NaN at the all-ones code), got {self.specials.value!r}"
            )

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
        if value in (Overflow.IEEE, Overflow.SAT_PROPAGATE) and self.specials is Specials.NONE:
            raise ValueError(f"FloatFormat: overflow {value.value!r} needs inf or NaN; with specials 'none' use saturate or error")
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
        return (self.exp_bits, self.man_bits, self.effective_bias, self.subnormals, self.specials, self.overflow, self.signed)

    # -- named constructors ------------------------------------------------
    @classmethod
    def ieee(cls, exp_bits: int, man_bits: int, **kwargs) -> "FloatFormat":
        return cls(exp_bits=exp_bits, man_bits=man_bits, specials=Specials.IEEE, **kwargs)

    @classmethod
    def p3109(cls, width: int, precision: int, *, domain: str = "extended", signed: bool = True, **kwargs) -> "FloatFormat":
        """IEEE P3109 binary<width>p<precision>: ``precision`` significand bits including the hidden
        bit, no -0, one NaN. Signed: bias 2**(width - precision - 1), the NaN is the code 1000...0,
        and the 'extended' domain has +-inf at the two all-ones codes. Unsigned (no sign bit,
        precision up to ``width``): bias 2**(width - precision), the NaN is the all-ones code and the
        extended domain's +inf the code below it. The 'finite' domain has no inf."""
        width, precision = to_int(width), to_int(precision)
        if not isinstance(width, int) or not 2 <= width <= 64:
            raise ValueError(f"FloatFormat.p3109: width must be an integer in [2, 64], got {width!r}")
        if not isinstance(signed, bool):
            raise TypeError(f"FloatFormat.p3109: signed must be a bool, got {signed!r}")
        top = width - 1 if signed else width
        if not isinstance(precision, int) or not 1 <= precision <= top:
            kind = "signed" if signed else "unsigned"
            raise ValueError(f"FloatFormat.p3109: precision must be an integer in [1, {top}] for {kind} width {width}, got {precision!r}")
        if domain not in ("extended", "finite"):
            raise ValueError(f"FloatFormat.p3109: domain must be 'extended' or 'finite', got {domain!r}")
        specials = Specials.P3109 if domain == "extended" else Specials.FNUZ
        exp_bits = width - precision + (0 if signed else 1)
        return cls(exp_bits=exp_bits, man_bits=precision - 1, specials=specials, signed=signed, **kwargs)

    @property
    def p3109_name(self) -> str | None:
        """'binary<K>p<P>' (signed, extended domain), with 'u' for unsigned and 'f' for the finite
        domain ('binary8p4uf'), if this is an IEEE P3109 format with its default bias and
        subnormals, else None."""
        if self.specials not in (Specials.P3109, Specials.FNUZ) or not self.subnormals or self.bias not in (
            None, _default_bias(self.exp_bits, self.specials)
        ):
            return None
        return (f"binary{self.bits}p{self.man_bits + 1}" + ("" if self.signed else "u")
                + ("" if self.specials is Specials.P3109 else "f"))

    # -- layout -------------------------------------------------------------
    @property
    def bits(self) -> int:
        return int(self.signed) + self.exp_bits + self.man_bits

    @property
    def effective_bias(self) -> int:
        return _default_bias(self.exp_bits, self.specials) if self.bias is None else self.bias

    @property
    def sign_mask(self) -> int:
        """The sign bit (0 for an unsigned format)."""
        return (1 << (self.exp_bits + self.man_bits)) if self.signed else 0

    @property
    def exp_field_max(self) -> int:
        """Largest exponent field that holds finite numbers."""
        if not self.signed:
            return self.max_code >> self.man_bits
        top = (1 << self.exp_bits) - 1
        if self.specials is Specials.IEEE:
            return top - 1
        if self.specials in (Specials.FN, Specials.P3109) and self.man_bits == 0:
            return top - 1
        return top

    @property
    def max_code(self) -> int:
        """Code (sign bit clear) of the largest finite value."""
        if not self.signed:  # below the NaN (all ones) and, in the extended domain, +inf
            return self.n_codes - (3 if self.specials is Specials.P3109 else 2)
        field = self.exp_field_max
        mant = (1 << self.man_bits) - 1
        if self.specials in (Specials.FN, Specials.P3109) and self.man_bits > 0:
            mant -= 1
        return (field << self.man_bits) | mant

    @property
    def nan_code(self) -> int | None:
        """Canonical positive NaN code (None if the format has no NaN)."""
        if not self.signed:
            return self.n_codes - 1
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
        if not self.signed:
            return self.n_codes - 2 if self.specials is Specials.P3109 else None
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
        """Smallest finite value: -max, or 0.0 for an unsigned format."""
        return -self.max if self.signed else 0.0

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
        return self.signed and self.specials not in (Specials.FNUZ, Specials.P3109)

    @property
    def code_dtype(self) -> np.dtype:
        return unsigned_dtype_for(self.bits)

    @property
    def spec(self) -> str:
        text = f"e{self.exp_bits}m{self.man_bits}"
        if self.specials is not Specials.IEEE or (self.exp_bits, self.man_bits) in BARE_NAME_SPECIALS:
            text += f"_{self.specials.value}"
        if not self.signed:
            text += "_unsigned"
        if self.effective_bias != _default_bias(self.exp_bits, self.specials):
            text += f"_b{self.effective_bias}"
        if not self.subnormals:
            text += "_nosub"
        if self.overflow is not _default_overflow(self):
            text += f"_{self.overflow.value}"
        return text
