"""The cost of a run: operation, random-bit and memory counts from the algorithm's structure, and an
energy estimate from a per-operation table (docs/cost.md)."""

from .counts import COST_COLUMNS, KINDS, LEVELS, Cost, format_label
from .energy import (
    DEFAULT_TABLE_NAME,
    ENERGY_COLUMNS,
    EnergyTable,
    EnergyTableError,
    ENERGY_TABLES_GROUP,
    default_table,
    energy_table,
    load_energy_table,
    plugin_tables,
)
from .runs import run_cost

__all__ = ["COST_COLUMNS", "KINDS", "LEVELS", "Cost", "format_label", "DEFAULT_TABLE_NAME", "ENERGY_COLUMNS",
           "EnergyTable", "EnergyTableError", "ENERGY_TABLES_GROUP", "default_table", "energy_table",
           "load_energy_table", "plugin_tables", "run_cost"]
