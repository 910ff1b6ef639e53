"""The arithmetic a layer computes with: the matrix-product unit and the quantization points."""

from __future__ import annotations

import numpy as np

from .mac import as_mac, matmul
from .quant import Rounder


class Arithmetic:
    """What layers call for every matrix product (``matmul``) and rounding (``round``).

    The default (no arguments) is float64 numpy with no rounding: the reference arithmetic."""

    def __init__(self, mac=None, rounder: Rounder | None = None, engine: str = "fast"):
        self.mac = as_mac(mac, engine)
        self.rounder = Rounder() if rounder is None else rounder

    def matmul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return matmul(a, b, self.mac)

    def round(self, tensor_class: str, layer: str, tensor: str, x: np.ndarray) -> np.ndarray:
        return self.rounder(tensor_class, layer, tensor, x)


FLOAT64 = Arithmetic()
