"""Which compiled encode/decode kernels the fast engine uses for each format type.

The built-in formats register theirs when lpsim.fast is imported (lpsim/fast/codec.py), a
plugin format with ``register_kernels`` (docs/plugins.md); the most specific registered
class of a format's type wins. A format without kernels runs on the exact engine, with one
``FastEngineFallbackWarning`` per format type (lpsim/codec.py).
"""

from __future__ import annotations

from typing import Callable

from ..formats.base import Format

_KERNELS: dict[type, tuple[Callable, Callable]] = {}
_QUANTIZERS: dict[type, Callable] = {}


def register_kernels(format_type: type, *, encode: Callable, decode: Callable, quantize: Callable | None = None) -> None:
    """Register fast array-level encode/decode for a format type (same signatures as the exact engine's).

    ``quantize`` (optional, same arguments as ``encode``): decode(encode(...)) in fewer steps, for
    short arrays, whose cost is the calls. It serves formats of exactly ``format_type``.
    """
    if not (isinstance(format_type, type) and issubclass(format_type, Format)):
        raise TypeError(f"register_kernels: format_type must be a subclass of lpsim.formats.Format, got {format_type!r}")
    _KERNELS[format_type] = (encode, decode)
    if quantize is None:
        _QUANTIZERS.pop(format_type, None)
    else:
        _QUANTIZERS[format_type] = quantize


def quantizer_for(fmt) -> Callable | None:
    """The registered one-step quantize of ``type(fmt)`` itself, or None."""
    return _QUANTIZERS.get(type(fmt))


def kernels_for(fmt: Format) -> tuple[Callable, Callable] | None:
    for cls in type(fmt).__mro__:
        if cls in _KERNELS:
            return _KERNELS[cls]
    return None
