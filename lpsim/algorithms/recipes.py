"""The algorithms by name: each is a ``Recipe`` of shared parts, and ``RECIPES`` is the one list.

Every other list of algorithm names derives from ``RECIPES``: TrainConfig's allowed values,
which algorithms are low precision, the study schema's choices, the figures' labels. Adding an
algorithm that is a new combination of the existing parts means adding one entry here.
"""

from __future__ import annotations

import enum

import attrs


class Storage(enum.Enum):
    FLOAT = "float"  # w in float64
    FIXED_GRID = "fixed_grid"  # w on one grid of step delta for the whole run
    BIT_CENTERED = "bit_centered"  # w = w~ + z, z on a grid rescaled every epoch


@attrs.frozen
class Recipe:
    variance_reduced: bool
    storage: Storage
    label: str = attrs.field(default="", kw_only=True)  # its name in figures and reports

    @property
    def low_precision(self) -> bool:
        return self.storage is not Storage.FLOAT


RECIPES = {
    "sgd": Recipe(variance_reduced=False, storage=Storage.FLOAT, label="SGD"),
    "svrg": Recipe(variance_reduced=True, storage=Storage.FLOAT, label="SVRG"),
    "lpsgd": Recipe(variance_reduced=False, storage=Storage.FIXED_GRID, label="LP-SGD"),
    "lpsvrg": Recipe(variance_reduced=True, storage=Storage.FIXED_GRID, label="LP-SVRG"),
    "halp": Recipe(variance_reduced=True, storage=Storage.BIT_CENTERED, label="HALP"),
}
ALGORITHMS = tuple(RECIPES)
LOW_PRECISION = tuple(name for name, recipe in RECIPES.items() if recipe.low_precision)
FULL_PRECISION = frozenset(name for name, recipe in RECIPES.items() if not recipe.low_precision)
# The algorithms whose iterate lives on one grid for the whole run: they take a fixed scale.
FIXED_SCALE = tuple(name for name, recipe in RECIPES.items() if recipe.storage is Storage.FIXED_GRID)


def algorithm_label(name: str) -> str:
    """How figures name an algorithm: its recipe's label, else the name itself."""
    recipe = RECIPES.get(name)
    return recipe.label if recipe is not None and recipe.label else name
