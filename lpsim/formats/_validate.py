"""Range validators for attrs fields that name the parameter and the allowed range."""

from __future__ import annotations

import numbers


def int_in_range(low: int | None, high: int | None):
    """An attrs validator: the value is an int (not bool) with low <= value <= high."""

    def check(instance, attribute, value):
        name = attribute.name
        cls = type(instance).__name__
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{cls}: {name} must be an integer, got {value!r} ({type(value).__name__})")
        if (low is not None and value < low) or (high is not None and value > high):
            lo = "-inf" if low is None else str(low)
            hi = "inf" if high is None else str(high)
            raise ValueError(f"{cls}: {name} must be in [{lo}, {hi}], got {value}")

    return check


def optional(validator):
    def check(instance, attribute, value):
        if value is not None:
            validator(instance, attribute, value)

    return check


def to_int(value):
    """Converter: accept numpy integers but keep bools and floats for the validator to reject."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    return value


def signed_flag(instance, attribute, value):
    """An attrs validator for a ``signed`` flag next to a ``bits`` field: a bool, and a sign needs 2+ bits."""
    cls = type(instance).__name__
    if not isinstance(value, bool):
        raise TypeError(f"{cls}: {attribute.name} must be a bool, got {value!r}")
    if value and instance.bits < 2:
        raise ValueError(f"{cls}: a signed {cls} needs bits in [2, 64] (one sign bit plus one), got {instance.bits}")


def member_of(allowed: tuple):
    """An attrs validator: the (enum) value is one of ``allowed``; the message lists them in order."""

    def check(instance, attribute, value):
        if value not in allowed:
            names = ", ".join(getattr(a, "value", a) for a in allowed)
            raise ValueError(
                f"{type(instance).__name__}: {attribute.name} must be one of {names}, got {getattr(value, 'value', value)!r}"
            )

    return check


def check_ascii(text: str, what: str) -> None:
    """ValueError naming the first non-ASCII character of ``text``: specs and names take ASCII digits only
    (Python's int() and str.isdigit() would also read Arabic-Indic or full-width digits)."""
    if text.isascii():
        return
    position, char = next((i, c) for i, c in enumerate(text) if not c.isascii())
    raise ValueError(
        f"{what} {text!r}: character {char!r} (U+{ord(char):04X}) at position {position} is not ASCII; "
        "use ASCII letters and the digits 0-9"
    )
