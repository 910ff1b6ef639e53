"""The arithmetic a layer computes with: the matrix-product unit and the quantization points."""

from __future__ import annotations

import numpy as np

from .mac import as_mac, matmul
from .quant import Rounder


class Arithmetic:
    """What layers call for every matrix product (``matmul``) and rounding (``round``).

    The default (no arguments) is float64 numpy with no rounding: the reference arithmetic. The
    rounder's generator, if it has one, also serves the matrix unit's stochastic registers."""

    def __init__(self, mac=None, rounder: Rounder | None = None, engine: str = "fast"):
        self.rounder = Rounder() if rounder is None else rounder
        mac = as_mac(mac, engine)
        self.mac = None if mac is None else mac.with_generator(self.rounder.generator)

    def matmul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        key = self.rounder.product_key() if self.mac is not None and self.mac.stochastic else None
        return matmul(a, b, self.mac, key)

    def round(self, tensor_class: str, layer: str, tensor: str, x: np.ndarray) -> np.ndarray:
        return self.rounder(tensor_class, layer, tensor, x)


FLOAT64 = Arithmetic()
