"""The common interface of every number format, built-in or plugin.

A format is an immutable, hashable description. It does no arithmetic: engines
(``lpsim.exact``, ``lpsim.fast``) implement encode/decode for each format type,
and plugins register their own implementations (see docs/plugins.md).
"""

from __future__ import annotations

import attrs
import numpy as np


class Format:
    """Base class of all formats. Subclasses are ``@attrs.frozen(kw_only=True)``.

    Required of every subclass:
      * ``bits``: storage bits per element;
      * ``spec``: the short string that ``lpsim.formats.get_format`` turns back into an equal format;
      * ``code_dtype``: the numpy dtype that holds one code;
      * ``max`` / ``min``: largest and smallest finite values;
      * ``has_nan`` / ``has_inf``.
    """

    family: str = "format"

    @property
    def n_codes(self) -> int:
        return 1 << self.bits

    # Equality and hashing by value: two descriptions of the same format (say an explicit
    # default bias and bias=None) are equal and hash alike, so they key caches and tables
    # as one format, and a spec string parsed back compares equal. Built-in subclasses
    # use ``attrs.frozen(eq=False)`` to inherit these and override ``_value_key``.
    def _value_key(self) -> tuple:
        return attrs.astuple(self, recurse=False)

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return self._value_key() == other._value_key()

    def __hash__(self) -> int:
        return hash((type(self), self._value_key()))

    def __str__(self) -> str:
        return self.spec

    @property
    def ml_dtype(self):
        """The numpy dtype that holds this format's codes bit for bit: ``np.float16`` for
        binary16, ``ml_dtypes.float8_e4m3fn`` for E4M3, ...; None where none exists. Only the
        layout counts (not the overflow policy). ImportError if the dtype is ml_dtypes' and
        ml_dtypes is not installed. ``lpsim.encode(x, fmt).view(fmt.ml_dtype)`` is then an
        ml_dtypes array of the same values."""
        from .ml_dtypes_map import ml_dtype

        return ml_dtype(self)


def unsigned_dtype_for(bits: int) -> np.dtype:
    """The narrowest unsigned integer dtype with at least ``bits`` bits."""
    for dt in (np.uint8, np.uint16, np.uint32, np.uint64):
        if bits <= np.dtype(dt).itemsize * 8:
            return np.dtype(dt)
    raise ValueError(f"bits must be in [1, 64], got {bits}")


def signed_dtype_for(bits: int) -> np.dtype:
    """The narrowest signed integer dtype with at least ``bits`` bits."""
    for dt in (np.int8, np.int16, np.int32, np.int64):
        if bits <= np.dtype(dt).itemsize * 8:
            return np.dtype(dt)
    raise ValueError(f"bits must be in [1, 64], got {bits}")


def integer_code_range(bits: int, signed: bool) -> tuple[int, int]:
    """The smallest and largest integer a ``bits``-bit code holds: two's complement when signed,
    [0, 2**bits - 1] when not (fixed-point codes and integer registers alike)."""
    if signed:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


class IntegerCodes:
    """``code_min`` and ``code_max`` of a value with ``bits`` and ``signed`` (fixed-point formats
    and integer registers)."""

    __slots__ = ()

    @property
    def code_min(self) -> int:
        return integer_code_range(self.bits, self.signed)[0]

    @property
    def code_max(self) -> int:
        return integer_code_range(self.bits, self.signed)[1]
