"""The format spec grammar: short readable strings <-> built-in format values.

``parse_format(fmt.spec) == fmt`` for every built-in format; besides the canonical
spellings that ``.spec`` writes, the grammar accepts the short forms people type
("q1.7", "int4", "bfp8x32", "mx_e2m1"). The grammar table is in docs/plugins.md,
section "Format names and specs". Names ("binary16", "e4m3", plugin names) are the
registry's business (lpsim.formats.registry), not the grammar's.
"""

from __future__ import annotations

import re

from ._validate import check_ascii
from .base import Format
from .block import BlockFormat
from .fixed import FixedPoint
from .floating import BARE_NAME_SPECIALS, FloatFormat, Specials
from .rounding import RoundingMode
from .scaled_block import ScaledBlockFormat

# The families a spec can start with: the leading letters of its first token.
SPEC_HEADS = ("e", "p", "fixed", "ufixed", "int", "uint", "q", "uq", "bfp", "mx", "block", "sblock")

SPEC_FORMS = (
    "e<E>m<M>[_ieee|_fn|_fnuz|_none|_p3109][_unsigned][_b<bias>][_nosub][_saturate|_satpropagate|_error]",
    "p3109_[k]<K>p<P>[s|u][e|f][_saturate|_satpropagate|_error]  (IEEE P3109 binary<K>p<P>, signed or unsigned, "
    "extended or finite domain)",
    "fixed<B>[_f<F>|_s<scale>][_saturate|_wrap|_error]  (ufixed<B> unsigned)",
    "int<B>, uint<B>, q<M>.<N>, uq<M>.<N>  [_saturate|_wrap|_error]",
    "block<K>_<element spec>_x<S>[_axis<A>]",
    "sblock<K>_<element spec>_by_<scale spec>[_scale<rounding mode>][_tensor][_axis<A>]",
    "bfp<M>x<K> or bfp<M>_b<K>  [_e<S>][_axis<A>]",
    "mx_<e4m3|e5m2|e3m2|e2m3|e2m1|int8>[_axis<A>]",
)

_FLOAT_SPECIALS = {s.value: s for s in Specials}
_FLOAT_OVERFLOWS = {"saturate": "saturate", "sat": "saturate", "satfinite": "saturate", "satpropagate": "satpropagate",
                    "error": "error"}
_FIXED_OVERFLOWS = {"saturate": "saturate", "sat": "saturate", "wrap": "wrap", "error": "error"}
_INT = r"(-?\d+)"


class _SpecError(ValueError):
    """A malformed spec; the message is completed with the spec text by ``parse_format``."""


def spec_head(text: str) -> str:
    """The leading letters of a spec or name ('e' for 'e4m3', 'log' for 'log8_f3')."""
    match = re.match(r"[a-z]*", text)
    return match.group(0)


def looks_like_spec(text: str) -> bool:
    """True if ``text`` starts like a built-in spec: a spec family, then a digit, '_' or nothing."""
    key = text.strip().lower()
    head = spec_head(key)
    rest = key[len(head):]
    return head in SPEC_HEADS and (rest[:1].isdigit() or rest[:1] in ("_", ""))


def parse_format(text: str) -> Format:
    """The built-in format a spec string describes; ValueError naming the offending part if malformed."""
    if not isinstance(text, str):
        raise TypeError(f"format spec must be a string, got {type(text).__name__}")
    key = text.strip().lower()
    if not key:
        raise ValueError("format spec is empty; forms: " + "; ".join(SPEC_FORMS))
    check_ascii(text.strip(), "format spec")
    try:
        return _parse(key)
    except _SpecError as err:
        raise ValueError(f"format spec {text!r}: {err}") from None
    except (ValueError, TypeError) as err:
        # A constructor rejected a value: its message names the parameter and the range.
        message = re.sub(r"^\w+(\.\w+)?: ", "", str(err))
        raise ValueError(f"format spec {text!r}: {message}") from err


def _parse(key: str) -> Format:
    if re.search(r"\s", key):
        raise _SpecError("spaces are not allowed inside a spec; separate its parts with '_'")
    head = spec_head(key)
    if head == "block":
        return _parse_block(key)
    if head == "sblock":
        return _parse_scaled_block(key)
    if head == "bfp":
        return _parse_bfp(key)
    if head == "mx":
        return _parse_mx(key)
    if head == "p":
        return _parse_p3109(key)
    first, *options = key.split("_")
    if re.fullmatch(r"e\d+m\d+", first):
        return _parse_float(first, options)
    if head in ("fixed", "ufixed", "int", "uint", "q", "uq"):
        return _parse_fixed(first, options)
    raise _SpecError(f"unknown format family {first!r}; a spec has one of the forms: " + "; ".join(SPEC_FORMS))


def _parse_float(first: str, options: list[str]) -> FloatFormat:
    exp_bits, man_bits = (int(n) for n in re.fullmatch(r"e(\d+)m(\d+)", first).groups())
    args: dict = {}
    for token in options:
        if token in _FLOAT_SPECIALS:
            _once(args, "specials", _FLOAT_SPECIALS[token], token)
        elif token in _FLOAT_OVERFLOWS:
            _once(args, "overflow", _FLOAT_OVERFLOWS[token], token)
        elif token == "nosub":
            _once(args, "subnormals", False, token)
        elif token == "unsigned":
            _once(args, "signed", False, token)
        elif match := re.fullmatch(r"b" + _INT, token):
            _once(args, "bias", int(match.group(1)), token)
        else:
            raise _SpecError(
                f"unknown float option {token!r}; allowed: ieee, fn, fnuz, none, p3109 (specials), unsigned, b<bias>, "
                "nosub, saturate, satpropagate, error (overflow)"
            )
    args.setdefault("specials", BARE_NAME_SPECIALS.get((exp_bits, man_bits), Specials.IEEE))
    return FloatFormat(exp_bits=exp_bits, man_bits=man_bits, **args)


def _parse_p3109(key: str) -> FloatFormat:
    match = re.fullmatch(r"p3109_k?(\d+)p(\d+)([su]?)([ef]?)(?:_(saturate|sat|satfinite|satpropagate|error))?", key)
    if not match:
        raise _SpecError(
            "expected p3109_[k]<K>p<P>[s|u][e|f][_saturate|_satpropagate|_error], e.g. p3109_8p3 or p3109_k8p4uf "
            "(K bits, precision P, signed or unsigned, extended or finite domain)"
        )
    width, precision, signedness, domain, overflow = match.groups()
    width, precision = int(width), int(precision)
    signed = signedness != "u"
    top = width - 1 if signed else width
    if not 1 <= precision <= top:
        kind = "signed" if signed else "unsigned"
        raise _SpecError(f"precision P must be in [1, {top}] for a {kind} {width}-bit format, got {precision}")
    args: dict = {}
    if overflow is not None:
        args["overflow"] = _FLOAT_OVERFLOWS[overflow]
    return FloatFormat.p3109(width, precision, domain=("finite" if domain == "f" else "extended"), signed=signed, **args)


def _parse_fixed(first: str, options: list[str]) -> FixedPoint:
    args: dict = {}
    if match := re.fullmatch(r"(u?)(fixed|int)(\d+)", first):
        unsigned, kind, bits = match.groups()
        args.update(bits=int(bits), signed=not unsigned)
        if kind == "int":
            args["frac_bits"] = 0
    elif match := re.fullmatch(r"(u?)q(\d+)\.(\d+)", first):
        unsigned, int_bits, frac_bits = match.groups()
        args.update(bits=int(int_bits) + int(frac_bits), signed=not unsigned, frac_bits=int(frac_bits))
    else:
        raise _SpecError(
            f"malformed fixed-point head {first!r}; expected fixed<bits>, ufixed<bits>, int<bits>, uint<bits>, "
            "q<int bits>.<frac bits> or uq<int bits>.<frac bits>"
        )
    can_scale = "frac_bits" not in args
    for token in options:
        if token in _FIXED_OVERFLOWS:
            _once(args, "overflow", _FIXED_OVERFLOWS[token], token)
        elif can_scale and (match := re.fullmatch(r"f" + _INT, token)):
            _once(args, "frac_bits", int(match.group(1)), token, also="scale")
        elif can_scale and token.startswith("s") and _is_float(token[1:]):
            _once(args, "scale", float(token[1:]), token, also="frac_bits")
        else:
            allowed = "f<frac bits>, s<scale>, " if can_scale else ""
            raise _SpecError(f"unknown fixed-point option {token!r}; allowed: {allowed}saturate, wrap, error (overflow)")
    if "scale" not in args:
        args.setdefault("frac_bits", 0)
    return FixedPoint(**args)


def _parse_block(key: str) -> BlockFormat:
    match = re.fullmatch(r"block(\d+)_(.+)_x(\d+)(?:_axis" + _INT + r")?", key)
    if not match:
        raise _SpecError("expected block<block size>_<element spec>_x<scale bits>[_axis<axis>], e.g. block32_e4m3_fn_saturate_x8")
    block_size, element, scale_bits, axis = match.groups()
    element_format = _parse(element)
    if not isinstance(element_format, (FixedPoint, FloatFormat)):
        raise _SpecError(f"block element {element!r} must be a fixed-point or float spec")
    return BlockFormat(
        element=element_format, block_size=int(block_size), scale_bits=int(scale_bits),
        axis=-1 if axis is None else int(axis),
    )


def _parse_scaled_block(key: str) -> ScaledBlockFormat:
    modes = "|".join(m.value for m in RoundingMode if m is not RoundingMode.STOCHASTIC)
    match = re.fullmatch(
        r"sblock(\d+)_(.+)_by_(.+?)(?:_scale(" + modes + r"))?(_tensor)?(?:_axis" + _INT + r")?", key
    )
    if not match:
        raise _SpecError(
            "expected sblock<block size>_<element spec>_by_<scale spec>[_scale<rounding mode>][_tensor][_axis<axis>], "
            "e.g. sblock16_e2m1_by_e4m3_saturate_tensor"
        )
    block_size, element, scale, scale_rounding, tensor, axis = match.groups()
    parts = {}
    for name, text in (("element", element), ("scale", scale)):
        parts[name] = _parse(text)
        if not isinstance(parts[name], (FixedPoint, FloatFormat)):
            raise _SpecError(f"scaled block {name} {text!r} must be a fixed-point or float spec")
    return ScaledBlockFormat(
        element=parts["element"], scale=parts["scale"], block_size=int(block_size),
        scale_rounding=scale_rounding or "nearest_even", tensor_scale=tensor is not None,
        axis=-1 if axis is None else int(axis),
    )


def _parse_bfp(key: str) -> BlockFormat:
    first, *options = key.split("_")
    match = re.fullmatch(r"bfp(\d+)(?:x(\d+))?", first)
    if not match:
        raise _SpecError(f"malformed block floating point head {first!r}; expected bfp<mantissa bits>x<block size> or bfp<mantissa bits>_b<block size>")
    args: dict = {"mantissa_bits": int(match.group(1))}
    if match.group(2) is not None:
        args["block_size"] = int(match.group(2))
    for token in options:
        if m := re.fullmatch(r"b(\d+)", token):
            _once(args, "block_size", int(m.group(1)), token)
        elif m := re.fullmatch(r"e(\d+)", token):
            _once(args, "exponent_bits", int(m.group(1)), token)
        elif m := re.fullmatch(r"axis" + _INT, token):
            _once(args, "axis", int(m.group(1)), token)
        else:
            raise _SpecError(f"unknown block floating point option {token!r}; allowed: b<block size>, e<shared exponent bits>, axis<axis>")
    if "block_size" not in args:
        raise _SpecError("block floating point needs a block size: bfp<mantissa bits>x<block size>, e.g. bfp8x32")
    return BlockFormat.bfp(**args)


def _parse_mx(key: str) -> BlockFormat:
    match = re.fullmatch(r"mx_([a-z0-9]+)(?:_axis" + _INT + r")?", key)
    if not match:
        raise _SpecError("expected mx_<element>[_axis<axis>] with element e4m3, e5m2, e3m2, e2m3, e2m1 or int8")
    element, axis = match.groups()
    return BlockFormat.mx(element, axis=-1 if axis is None else int(axis))


def _once(args: dict, name: str, value, token: str, also: str | None = None) -> None:
    for key in (name, also):
        if key is not None and key in args:
            raise _SpecError(f"option {token!r} conflicts with an earlier option setting {key}")
    args[name] = value


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
