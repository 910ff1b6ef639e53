"""Which numpy / ml_dtypes dtype stores a format's codes bit for bit, if one does.

ml_dtypes is an optional dependency: it is imported only when a format matches one of its
dtypes, and its absence then raises ImportError saying what to install.
"""

from __future__ import annotations

import functools

import numpy as np

# (exp_bits, man_bits, bias, specials) -> dtype name; the layouts are those ml_dtypes documents
# (its finfo values are checked against lpsim's in tests/formats/test_ml_dtypes_interop.py)
_NUMPY = {
    (5, 10, 15, "ieee"): "float16",
    (8, 23, 127, "ieee"): "float32",
    (11, 52, 1023, "ieee"): "float64",
}
_ML_DTYPES = {
    (8, 7, 127, "ieee"): "bfloat16",
    (4, 3, 7, "fn"): "float8_e4m3fn",
    (4, 3, 7, "ieee"): "float8_e4m3",
    (5, 2, 15, "ieee"): "float8_e5m2",
    (3, 4, 3, "ieee"): "float8_e3m4",
    (4, 3, 8, "fnuz"): "float8_e4m3fnuz",
    (5, 2, 16, "fnuz"): "float8_e5m2fnuz",
    (4, 3, 11, "fnuz"): "float8_e4m3b11fnuz",
    (3, 2, 3, "none"): "float6_e3m2fn",
    (2, 3, 1, "none"): "float6_e2m3fn",
    (2, 1, 1, "none"): "float4_e2m1fn",
}


def ml_dtypes_name(fmt) -> str | None:
    """'float8_e4m3fn', 'float16', ...: the dtype whose codes and values are ``fmt``'s, or None."""
    if getattr(fmt, "family", None) != "float" or not fmt.subnormals or not fmt.signed:  # FloatFormat, unimported
        return None
    key = (fmt.exp_bits, fmt.man_bits, fmt.effective_bias, fmt.specials.value)
    return _NUMPY.get(key) or _ML_DTYPES.get(key)


@functools.lru_cache(maxsize=256)
def ml_dtype(fmt) -> np.dtype | None:
    """The numpy dtype holding ``fmt``'s codes bit for bit (from ml_dtypes for the narrow floats).

    None if no such dtype exists (fixed point, block formats, custom layouts), or if the
    installed ml_dtypes is too old to have it. ImportError if ml_dtypes has it but is missing.
    """
    name = ml_dtypes_name(fmt)
    if name is None:
        return None
    if name in _NUMPY.values():
        return np.dtype(name)
    try:
        import ml_dtypes
    except ImportError as err:
        raise ImportError(
            f"format {fmt.spec} is ml_dtypes.{name}, but ml_dtypes is not installed (pip install ml_dtypes)"
        ) from err
    found = getattr(ml_dtypes, name, None)
    return None if found is None else np.dtype(found)


def is_ml_dtypes_dtype(dtype: np.dtype) -> bool:
    """Whether ``dtype`` is one of ml_dtypes' types (bfloat16, float8_*, int4, ...)."""
    return dtype.kind == "V" and getattr(dtype.type, "__module__", "").split(".")[0] == "ml_dtypes"
