"""Training algorithms: SGD, SVRG, LP-SGD, LP-SVRG and HALP from shared pieces (see docs/algorithms.md)."""

from .config import ALGORITHMS, ARITHMETICS, DEFAULT_FORMAT, TrainConfig, grid_max
from .parts import RECIPES, Anchor, Grid, IterateState, Recipe, Storage, bit_center, float_epoch, make_anchor
from .train import HISTORY_KEYS, STATUSES, TrainResult, train
from . import integer  # registers arithmetic="integer" (the integer inner loop)

__all__ = [
    "TrainConfig", "TrainResult", "train", "ALGORITHMS", "ARITHMETICS", "DEFAULT_FORMAT", "HISTORY_KEYS", "STATUSES",
    "RECIPES", "Recipe", "Storage", "Grid", "Anchor", "IterateState", "bit_center", "make_anchor", "float_epoch",
    "grid_max",
]
