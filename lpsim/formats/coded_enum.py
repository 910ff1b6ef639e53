"""Enums whose members carry a small integer ``code`` for compiled kernels."""

from __future__ import annotations

import enum
import functools


class CodedEnum(enum.Enum):
    """An enum whose member ``code`` is its position in definition order (0, 1, ...).

    Kernels compare these codes (lpsim/fast/_codes.py reads them from here), so the order is part
    of the contract: add new members at the end.
    """

    @property
    def code(self) -> int:
        """Small integer used by compiled kernels (the member's definition order)."""
        return _codes(type(self))[self]


@functools.cache
def _codes(cls: type[CodedEnum]) -> dict:
    return {member: i for i, member in enumerate(cls)}


def member_from_name(enum_cls: type[enum.Enum], value, *, aliases: dict, what: str, kind: str):
    """The member of ``enum_cls`` that ``value`` is or names (case-insensitive, ``aliases`` mapping
    other names to member values); ValueError listing the members, TypeError for other types.
    ``what`` names the parameter in messages, ``kind`` the enum with its article ('an Overflow')."""
    if isinstance(value, enum_cls):
        return value
    if isinstance(value, str):
        key = value.strip().lower()
        try:
            return enum_cls(aliases.get(key, key))
        except ValueError:
            allowed = ", ".join(m.value for m in enum_cls)
            raise ValueError(f"{what} must be one of {allowed}, got {value!r}") from None
    raise TypeError(f"{what} must be {kind} or a string, got {type(value).__name__}")
