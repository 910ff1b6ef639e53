"""Shared pieces of every figure: which columns split lines, labels, colors, seed statistics, saving."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ..algorithms.recipes import RECIPES, algorithm_label
from ..studies.schema import FULL_PRECISION, PARAMS
from ..studies.table import Table

ALGORITHM_LABELS = {name: algorithm_label(name) for name in RECIPES}
# The paper's algorithms keep fixed colors across figures; others take the next palette color.
ALGORITHM_COLORS = {"sgd": "0.55", "svrg": "black", "lpsgd": "tab:orange", "lpsvrg": "tab:green", "halp": "tab:blue"}
METRIC_LABELS = {
    "gap": r"objective gap $f(w) - f^*$",
    "grad_norm": r"gradient norm $\|\nabla f(w)\|$",
    "dist": r"distance to optimum $\|w - w^*\|$",
    "scale": "quantization step",
    "loss": "training loss",
    "train_acc": "training accuracy",
    "test_acc": "test accuracy",
}
PARAM_LABELS = {"bits": "bits per model value", "condition_number": r"condition number $\kappa$",
                "epoch": "epoch", "step_size": r"step size $\alpha$"}
LOG_METRICS = ("gap", "grad_norm", "dist", "scale", "loss")  # a training loss spans decades too
# The seed never splits lines: the band summarizes it.
_NEVER_LINES = ("seed",)
_PALETTE = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink",
            "tab:olive", "tab:cyan", "0.4"]


def line_columns(table: Table, x: str, exclude: Iterable[str] = ()) -> list[str]:
    """Columns whose values tell the lines apart: every study parameter that still varies among the
    runs at one point of the ``x`` axis once the columns chosen before it are fixed. So every swept
    axis off the x axis splits lines (the formats of ``family = "format"`` included), while a column
    that follows from x and the others (``format`` from family and bits, ``exp_bits`` from bits,
    ``model`` from the data set) adds nothing. A run without an x value (the bits of float64 SGD)
    is drawn across the whole axis, so it meets the runs at every point."""
    exclude = set(exclude) | set(_NEVER_LINES) | {x}
    order = ["algorithm", "family", "rounding", "bits"] + [c for c in PARAMS if c not in ("algorithm", "family", "rounding", "bits")]
    records = table.records()
    if x in table.columns:
        everywhere = [v for v in table.unique(x) if v is not None] or [None]
        points = [[r[x]] if r[x] is not None else everywhere for r in records]
    else:
        points = [[None]] * len(records)
    chosen: list[str] = []
    for column in order:
        if column in exclude or column not in table.columns or len(table.unique(column)) < 2:
            continue
        values: dict[tuple, set] = {}
        for record, at in zip(records, points):
            line = tuple(record[name] for name in chosen)
            for point in at:
                values.setdefault((line, point), set()).add(record[column])
        if any(len(v) > 1 for v in values.values()):
            chosen.append(column)
    return chosen


def pooled_note(table: Table, lines: Sequence[str], x: str) -> str:
    """What each drawn point summarizes: the runs sharing its line and x value (one row each per
    ``x``), called seeds only when they differ by seed alone."""
    groups = table.group(list(lines) + ([x] if x in table.columns else [])).values()
    counts = sorted({len(g) for g in groups})
    if not counts or counts[-1] < 2:
        return ""
    by_seed = "seed" in table.columns and all(len(g.unique("seed")) == len(g) for g in groups)
    count = str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    return f"median of {count} {'seeds' if by_seed else 'runs per point'}, band = min..max"


def line_label(columns: Sequence[str], key: tuple) -> str:
    values = dict(zip(columns, key))
    head = ALGORITHM_LABELS.get(values.pop("algorithm", None), None)
    parts = []
    for name, value in values.items():
        if value is None:
            continue
        if name == "bits":
            parts.append(f"{value} bits")
        elif name in ("family", "rounding"):
            parts.append(str(value))
        else:
            parts.append(f"{name}={_short(value)}")
    if head is None:
        return ", ".join(parts) or "all runs"
    return f"{head} ({', '.join(parts)})" if parts else head


def _short(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def line_style(columns: Sequence[str], key: tuple, index: int, by_algorithm: bool) -> dict:
    values = dict(zip(columns, key))
    algorithm = values.get("algorithm")
    if by_algorithm and algorithm in ALGORITHM_COLORS:
        color = ALGORITHM_COLORS[algorithm]
    else:
        color = _PALETTE[index % len(_PALETTE)]
    style = {"color": color, "marker": "o", "markersize": 3.5, "linewidth": 1.6}
    if algorithm in FULL_PRECISION:
        style.update(linestyle="--", marker=None)
    return style


def seed_stats(values: Iterable) -> tuple[float, float, float]:
    """Median, min and max of the finite values (NaN if none): the line and its seed band."""
    finite = [float(v) for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return math.nan, math.nan, math.nan
    arr = np.asarray(finite)
    return float(np.median(arr)), float(arr.min()), float(arr.max())


def positive(value: float) -> float:
    """Log axes cannot show values <= 0 (an exact optimum): such points are left out."""
    return value if value > 0 else math.nan


def metric_label(metric: str, final: bool = False) -> str:
    label = METRIC_LABELS.get(metric, metric)
    return f"final {label}" if final else label


def save(fig, folder: Path, stem: str, formats: Sequence[str]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext in formats:
        path = folder / f"{stem}.{ext}"
        fig.savefig(path, dpi=150 if ext == "png" else None, bbox_inches="tight")
        paths.append(path)
    return paths


def new_figure(panels: int = 1, width: float = 6.4, height: float = 4.4, columns: int | None = None):
    """A figure outside pyplot's global state: no backend, no GUI, nothing to close; saving renders with Agg.
    Panels fill rows of ``columns`` (default: one row); the axes come back in reading order."""
    from matplotlib.figure import Figure

    columns = panels if columns is None else min(columns, panels)
    rows = -(-panels // columns)
    fig = Figure(figsize=(width * columns, height * rows), layout="constrained")
    axes = [ax for row in fig.subplots(rows, columns, squeeze=False) for ax in row]
    for spare in axes[panels:]:
        spare.remove()
    return fig, axes[:panels]
