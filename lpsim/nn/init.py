"""Standard weight initializers, drawn from a seeded numpy Generator."""

from __future__ import annotations

import numpy as np

INITIALIZERS = ("he", "glorot")


def initialize(rng: np.random.Generator, shape: tuple, fan_in: int, fan_out: int, scheme: str) -> np.ndarray:
    """He normal (std sqrt(2 / fan_in), for ReLU nets) or Glorot uniform (limit sqrt(6 / (fan_in + fan_out)))."""
    if scheme == "he":
        return rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
    if scheme == "glorot":
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, size=shape)
    raise ValueError(f"init must be one of {', '.join(INITIALIZERS)}, got {scheme!r}")
