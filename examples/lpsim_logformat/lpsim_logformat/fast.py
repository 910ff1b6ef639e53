"""Optional fast-engine kernels for LogFormat: vectorized numpy, bit for bit with the exact codec.

``import lpsim_logformat.fast`` registers them. They cover what is common and cheap
(nearest-even, saturating overflow, up to 16 bits: a table of every value); every
other case runs the exact codec, so results never differ from it.

Nearest-even without rounding error: for |x| in [v_m, v_{m+1}] with v_m >= v_{m+1} / 2
(neighbours differ by the factor 2**(1/2**f) <= 2), the differences |x| - v_m and
v_{m+1} - |x| are exact in float64 (Sterbenz's lemma), so comparing them decides
"nearer" exactly. Below the smallest value (v_0 = 0) we compare 2|x| with v_1, exact too.
"""

from __future__ import annotations

import functools

import numpy as np

from lpsim.exact import codec_for
from lpsim.fast import register_kernels
from lpsim.formats import Overflow, RoundingMode

from .codec import magnitude_value
from .format import LogFormat

MAX_TABLE_BITS = 16


@functools.lru_cache(maxsize=32)
def _magnitudes(fmt: LogFormat) -> np.ndarray:
    """v_0 = 0, v_1, ..., v_M: the value of every magnitude code, ascending."""
    return np.array([magnitude_value(fmt, m) for m in range(fmt.max_code + 1)], dtype=np.float64)


def encode(x, fmt: LogFormat, rounding, seed, stream, offset):
    if rounding.mode is not RoundingMode.NEAREST_EVEN or fmt.overflow is not Overflow.SATURATE or fmt.bits > MAX_TABLE_BITS:
        return codec_for(fmt)[0](x, fmt, rounding, seed, stream, offset)
    table = _magnitudes(fmt)
    top = fmt.max_code
    a = np.abs(x)
    m = np.clip(np.searchsorted(table, a, side="right") - 1, 0, top)
    low = table[m]
    high = table[np.minimum(m + 1, top)]
    below = np.where(m == 0, 2 * a - high, (a - low) - (high - a))  # sign says which neighbour is nearer
    up = (below > 0) | ((below == 0) & (m % 2 == 1))
    magnitude = np.where(a >= table[top], top, m + up)  # at or above the largest value: saturate
    codes = np.where(np.signbit(x) & (magnitude > 0), fmt.sign_mask | magnitude, magnitude)
    codes = np.where(np.isnan(x), fmt.nan_code, codes)
    return codes.astype(fmt.code_dtype)


def decode(codes, fmt: LogFormat):
    if fmt.bits > MAX_TABLE_BITS:
        return codec_for(fmt)[1](codes, fmt)
    codes = np.asarray(codes).astype(np.int64)
    if codes.size and (codes.min() < 0 or codes.max() >= 1 << fmt.bits):
        raise ValueError(f"codes must lie in [0, {(1 << fmt.bits) - 1}] for format {fmt.spec}")
    values = _magnitudes(fmt)[codes & fmt.max_code]
    values = np.where(codes & fmt.sign_mask, -values, values)
    return np.where(codes == fmt.nan_code, np.nan, values)


register_kernels(LogFormat, encode=encode, decode=decode)
