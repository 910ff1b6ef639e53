"""Final error against a run's cost (estimated energy or bytes moved), with the Pareto front marked."""

from __future__ import annotations

import math
from typing import Sequence

from ..studies.table import Table
from . import _common as c

COST_LABELS = {
    "energy_pj": "estimated energy per run",
    "energy_ops_pj": "estimated energy of the operations",
    "energy_memory_pj": "estimated energy of memory traffic",
    "energy_random_pj": "estimated energy of the random bits",
    "bytes_moved": "bytes moved per run (DRAM + SRAM, read + write)",
}
# energy columns are in pJ; a run's totals read better in microjoules
_UNITS = {"pj": (1e-6, "uJ")}


def _unit(x: str) -> tuple[float, str]:
    factor, unit = _UNITS.get(x.rsplit("_", 1)[-1], (1.0, ""))
    return factor, unit


def pareto_front(points: Sequence[tuple[float, float, object]]) -> list[tuple[float, float, object]]:
    """The points no other point beats on both coordinates (lower is better), sorted by x; NaNs left out."""
    finite = sorted((p for p in points if math.isfinite(p[0]) and math.isfinite(p[1])), key=lambda p: (p[0], p[1]))
    front, best = [], math.inf
    for point in finite:
        if point[1] < best:
            front.append(point)
            best = point[1]
    return front


def error_vs_cost(table: Table, *, metric: str = "grad_norm", x: str = "energy_pj",
                  lines: Sequence[str] | None = None, title: str | None = None):
    """Final ``metric`` against the cost column ``x``: a point per (line, bits), the median over seeds of
    both coordinates, joined in order of bits and labelled with them; the Pareto front over every
    point drawn as a grey staircase with the points on it ringed. Returns a matplotlib Figure."""
    metric = metric if isinstance(metric, str) else metric[0]
    final = table.final()
    if x not in final.columns:
        raise ValueError(f"error_vs_cost: the table has no column {x!r} (cost columns need runs recorded with cost counts)")
    lines = list(lines) if lines is not None else ["algorithm"]
    fig, (ax,) = c.new_figure(1, width=7.2, height=5.0)
    factor, unit = _unit(x)
    by_algorithm = lines == ["algorithm"]
    everything = []
    for index, (key, group) in enumerate(final.group(lines).items()):
        style = c.line_style(lines, key, index, by_algorithm)
        label = c.line_label(lines, key)
        xs, ys, bits = [], [], []
        for (b,), sub in sorted(group.group(["bits"]).items(), key=lambda kv: (kv[0][0] is not None, kv[0][0] or 0)):
            cost = c.seed_stats(sub.column(x))[0] * factor
            error = c.positive(c.seed_stats(sub.column(metric))[0])
            xs.append(cost)
            ys.append(error)
            bits.append(b)
            everything.append((cost, error, (label, b)))
        if style.get("linestyle") == "--":  # full precision: one point per run setting
            style.update(linestyle="none", marker="s", markersize=7)
        ax.plot(xs, ys, label=label, **style)
        for cost, error, b in zip(xs, ys, bits):
            if b is not None and math.isfinite(cost) and math.isfinite(error):
                ax.annotate(str(b), (cost, error), textcoords="offset points", xytext=(3, 3), fontsize=6,
                            color=style["color"])
    front = pareto_front(everything)
    if front:
        fx, fy = [p[0] for p in front], [p[1] for p in front]
        ax.step(fx, fy, where="post", color="crimson", linewidth=1.0, linestyle=":", zorder=2, label="Pareto front")
        ax.scatter(fx, fy, s=90, facecolors="none", edgecolors="crimson", linewidths=1.2, zorder=6,
                   label="on the front")
    ax.set_xlabel(COST_LABELS.get(x, x) + (f" ({unit})" if unit else "") + "; numbers: bits")
    ax.set_ylabel(c.metric_label(metric, final=True))
    spread = [v for v, *_ in everything if math.isfinite(v) and v > 0]
    if spread and max(spread) > 10 * min(spread):  # a log axis only where costs span a decade
        ax.set_xscale("log")
    if metric in c.LOG_METRICS:
        ax.set_yscale("log")
    ax.grid(True, which="major", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small", framealpha=0.85)
    note = c.pooled_note(final, lines, "bits")
    if title:
        fig.suptitle(title + (f"\n{note}" if note else ""), fontsize="medium")
    elif note:
        fig.suptitle(note, fontsize="small")
    return fig
