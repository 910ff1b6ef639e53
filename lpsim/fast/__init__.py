"""The fast engine: compiled Numba kernels with the exact engine's semantics, bit for bit.

Importing this package registers the built-in formats' kernels (lpsim/fast/codec.py);
a plugin format registers its own with ``register_kernels`` (see docs/plugins.md). What has
no kernel runs on the exact engine with one ``FastEngineFallbackWarning`` (lpsim/fast/fallback.py).
"""

from . import _codec_kernels, _config
from . import codec as _codec
from . import scaled_codec as _scaled_codec
from .fallback import FastArithmeticFallbackWarning, FastEngineFallbackWarning
from .registry import kernels_for, quantizer_for, register_kernels

_config.drop_stale_cache(_codec_kernels.encode_fixed)
_codec.register_builtin_kernels(register_kernels)
register_kernels(_scaled_codec.ScaledBlockFormat, encode=_scaled_codec.encode_scaled_block,
                 decode=_scaled_codec.decode_scaled_block, quantize=_scaled_codec.quantize_scaled_block)

__all__ = ["kernels_for", "quantizer_for", "register_kernels", "FastEngineFallbackWarning", "FastArithmeticFallbackWarning"]
