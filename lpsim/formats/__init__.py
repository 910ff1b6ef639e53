"""Number formats: immutable, validated, hashable descriptions of fixed point, floats and blocks."""

from .base import Format
from .block import BlockCodes, BlockFormat
from .fixed import FixedPoint
from .scaled_block import ScaledBlockFormat
from .floating import FloatFormat, Specials
from .rounding import (
    NEAREST_AWAY,
    NEAREST_EVEN,
    STOCHASTIC,
    TO_ODD,
    TOWARD_NEGATIVE,
    TOWARD_POSITIVE,
    TOWARD_ZERO,
    Overflow,
    RandomGenerator,
    Rounding,
    RoundingMode,
    as_rounding,
)
from .presets import BFLOAT16, BINARY16, BINARY32, BINARY64, E4M3, E4M3FNUZ, E5M2, E5M2FNUZ, PRESETS
from .registry import (
    BrokenPlugin,
    PluginWarning,
    available_formats,
    broken_plugins,
    get_format,
    parse_format,
    register_format,
    register_spec_parser,
    unregister_format,
)

__all__ = [
    "Format", "FixedPoint", "FloatFormat", "BlockFormat", "BlockCodes", "ScaledBlockFormat", "Specials", "Overflow",
    "Rounding", "RoundingMode", "RandomGenerator", "as_rounding",
    "NEAREST_EVEN", "NEAREST_AWAY", "TOWARD_ZERO", "TOWARD_POSITIVE", "TOWARD_NEGATIVE", "TO_ODD", "STOCHASTIC",
    "BINARY16", "BFLOAT16", "BINARY32", "BINARY64", "E4M3", "E5M2", "E4M3FNUZ", "E5M2FNUZ", "PRESETS",
    "get_format", "parse_format", "available_formats", "register_format", "unregister_format",
    "register_spec_parser", "broken_plugins", "PluginWarning", "BrokenPlugin",
]
