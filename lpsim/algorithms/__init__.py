"""Training algorithms: SGD, SVRG, LP-SGD, LP-SVRG and HALP from shared pieces (see docs/algorithms.md)."""

from .config import ARITHMETICS, DEFAULT_FORMAT, TrainConfig, grid_max
from .parts import Anchor, Grid, IterateState, bit_center, float_epoch, make_anchor
from .recipes import ALGORITHMS, FULL_PRECISION, LOW_PRECISION, RECIPES, Recipe, Storage, algorithm_label
from .train import HISTORY_KEYS, STATUSES, TrainResult, train
from . import integer  # registers arithmetic="integer" (the integer inner loop)

__all__ = [
    "TrainConfig", "TrainResult", "train", "ALGORITHMS", "ARITHMETICS", "DEFAULT_FORMAT", "HISTORY_KEYS", "STATUSES",
    "RECIPES", "Recipe", "Storage", "Grid", "Anchor", "IterateState", "bit_center", "make_anchor", "float_epoch",
    "grid_max", "LOW_PRECISION", "FULL_PRECISION", "algorithm_label",
]
