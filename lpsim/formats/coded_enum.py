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
