"""An example lpsim plugin: a logarithmic number format.

Importing this package registers LogFormat's exact codec with lpsim; lpsim imports it
through the entry points in pyproject.toml the first time "log8", "log16" or a
"log<bits>_f<frac bits>" spec is looked up. ``import lpsim_logformat.fast`` also
registers fast-engine kernels (optional; without them engine="fast" falls back to
the exact engine with a warning).
"""

from lpsim.exact import register_codec

from .codec import decode_element, encode_element
from .format import LogFormat, parse_spec

register_codec(LogFormat, encode_element=encode_element, decode_element=decode_element)

LOG8 = LogFormat(bits=8, frac_bits=3)


def log16() -> LogFormat:
    """A zero-argument factory: lpsim calls it on first lookup of "log16"."""
    return LogFormat(bits=16, frac_bits=8)


__all__ = ["LogFormat", "LOG8", "log16", "parse_spec"]
