"""The three figures of a study, each drawn from a results table alone.

error_vs_bits  final error vs bits, a line per algorithm (median over seeds, band = min..max),
               full-precision runs as horizontal dashed lines, LP-SGD's predicted floor dotted.
convergence    error vs epoch, a line per algorithm / precision setting.
bits_needed    final error vs condition number per (algorithm, bits), each point marked with its
               runs' outcome, and the fewest bits at which most runs reached the float64 reference.
"""

from __future__ import annotations

import math
from typing import Sequence

from ..studies.outcome import DEFAULT_ROUNDOFF, OutcomeRule, most_reached, outcomes, point_outcome
from ..studies.table import Table
from . import _common as c
from .reference import FLOOR_METRICS, FLOOR_MODELS, halp_bits_reference, lpsgd_floor


def _VIRIDIS(fraction: float):
    from matplotlib import colormaps

    return colormaps["viridis"](0.9 * fraction)


def _numeric_sorted(values) -> list:
    return sorted(v for v in values if v is not None)


def _band(ax, xs, lo, hi, color):
    if any(math.isfinite(a) and math.isfinite(b) and a != b for a, b in zip(lo, hi)):
        ax.fill_between(xs, lo, hi, color=color, alpha=0.18, linewidth=0)


def _by_x(table: Table, x: str) -> list[tuple[tuple, Table]]:
    """The rows of ``table`` grouped by ``x``, in increasing ``x``."""
    return sorted(table.group([x]).items(), key=lambda kv: kv[0][0])


def _series(group: Table, x: str, metric: str, prep) -> tuple[list, list, list, list]:
    """x values (sorted) with the median, min and max over the runs at each x (seeds)."""
    xs, med, lo, hi = [], [], [], []
    for value, sub in _by_x(group, x):
        m, a, b = c.seed_stats(sub.column(metric))
        xs.append(value[0])
        med.append(prep(m))
        lo.append(prep(a))
        hi.append(prep(b))
    return xs, med, lo, hi


def _unchanged(value):
    return value


def _metric_panels(metric: str | Sequence[str]):
    """A figure with one panel per metric, and for each panel (axes, metric, log y axis, how to
    prepare values for it: positive() on a log axis)."""
    metrics = [metric] if isinstance(metric, str) else list(metric)
    fig, axes = c.new_figure(len(metrics))
    panels = []
    for ax, name in zip(axes, metrics):
        logy = name in c.LOG_METRICS
        panels.append((ax, name, logy, c.positive if logy else _unchanged))
    return fig, panels


def _styled_lines(groups: dict, lines: list[str]):
    """(key, group, style) for each line; algorithm colours when the lines are the algorithms."""
    by_algorithm = lines == ["algorithm"] or lines == []
    for index, (key, group) in enumerate(groups.items()):
        yield key, group, c.line_style(lines, key, index, by_algorithm)


def _finish(ax, *, xlabel: str, ylabel: str, logy: bool, logx: bool = False, legend: bool = True):
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    ax.grid(True, which="major", alpha=0.3)
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small", framealpha=0.85)


def error_vs_bits(table: Table, *, metric: str | Sequence[str] = "grad_norm", x: str = "bits",
                  lines: Sequence[str] | None = None, floor: bool = True, title: str | None = None,
                  logx: bool = False):
    """Final ``metric`` against ``x`` (bits); returns a matplotlib Figure."""
    final = table.final()
    lines = list(lines) if lines is not None else c.line_columns(final, x)
    fig, panels = _metric_panels(metric)
    xs_all = _numeric_sorted(final.unique(x))  # the low-precision x values (full precision has None)
    groups = final.group(lines)
    for ax, name, logy, prep in panels:
        for key, group, style in _styled_lines(groups, lines):
            label = c.line_label(lines, key)
            if all(v is None for v in group.column(x)):  # full precision: no bits axis
                med, lo, hi = (prep(v) for v in c.seed_stats(group.column(name)))
                if xs_all and math.isfinite(med):
                    ax.plot([xs_all[0], xs_all[-1]], [med, med], label=label, **style)
                    _band(ax, [xs_all[0], xs_all[-1]], [lo, lo], [hi, hi], style["color"])
                continue
            xs, med, lo, hi = _series(group, x, name, prep)
            ax.plot(xs, med, label=label, **style)
            _band(ax, xs, lo, hi, style["color"])
            _mark_diverged(ax, group, x, xs, med)
            if floor and name in FLOOR_METRICS and dict(zip(lines, key)).get("algorithm") == "lpsgd":
                _draw_floor(ax, group, name, x, style["color"], f"{label} predicted floor")
        _finish(ax, xlabel=c.PARAM_LABELS.get(x, x), ylabel=c.metric_label(name, final=True), logy=logy, logx=logx)
        if x == "bits" and xs_all:
            ax.set_xticks(xs_all if len(xs_all) <= 16 else xs_all[:: max(1, len(xs_all) // 12)])
    _title(fig, title, c.pooled_note(final, lines, x))
    return fig


def _mark_diverged(ax, group: Table, x: str, xs: list, med: list) -> None:
    """A cross on points where most seeds diverged: their value is where the run blew up."""
    if "status" not in group.columns:
        return
    status = {v[0]: sub.column("status") for v, sub in group.group([x]).items()}
    bad = [(a, m) for a, m in zip(xs, med)
           if math.isfinite(m) and sum(s == "diverged" for s in status[a]) * 2 > len(status[a])]
    if bad:
        seen = any(h.get_label() == "diverged (most seeds)" for h in ax.collections)
        ax.scatter([a for a, _ in bad], [m for _, m in bad], marker="x", s=60, color="crimson", zorder=5,
                   label=None if seen else "diverged (most seeds)")


def _draw_floor(ax, group: Table, metric: str, x: str, color: str, label: str):
    """LP-SGD's predicted floor from each run's own grid step (recorded as ``scale``), where its
    derivation holds: unbiased (stochastic) rounding to a uniform grid (fixed point) on a loss
    with a constant Hessian (least squares; a logistic or softmax loss's curvature vanishes away
    from w*)."""
    step = "resolved_step_size" if "resolved_step_size" in group.columns else "step_size"
    needed = ("scale", step, "hessian_trace", "n_params", "rounding", "model", "family")
    if any(col not in group.columns for col in needed):
        return
    if (any(r != "stochastic" for r in group.unique("rounding")) or group.unique("family") != ["fixed"]
            or any(m not in FLOOR_MODELS for m in group.unique("model"))):
        return
    xs, ys = [], []
    for value, sub in _by_x(group, x):
        predictions = [lpsgd_floor(metric, r["scale"], r[step], r["hessian_trace"], r["n_params"])
                       for r in sub.records()]
        m, _, _ = c.seed_stats(predictions)
        if math.isfinite(m):
            xs.append(value[0])
            ys.append(m)
    if xs:
        ax.plot(xs, ys, color=color, linestyle=":", linewidth=1.4, label=label)


def convergence(table: Table, *, metric: str | Sequence[str] = "grad_norm", lines: Sequence[str] | None = None,
                title: str | None = None):
    """``metric`` against epoch, one panel per metric; returns a matplotlib Figure."""
    lines = list(lines) if lines is not None else c.line_columns(table, "epoch")
    fig, panels = _metric_panels(metric)
    groups = table.group(lines)
    for ax, name, logy, prep in panels:
        for key, group, style in _styled_lines(groups, lines):
            style.update(marker=None)
            xs, med, lo, hi = _series(group, "epoch", name, prep)
            if any(math.isfinite(v) for v in med):
                ax.plot(xs, med, label=c.line_label(lines, key), **style)
                _band(ax, xs, lo, hi, style["color"])
        _finish(ax, xlabel="epoch", ylabel=c.metric_label(name), logy=logy)
    _title(fig, title, c.pooled_note(table, lines, "epoch"))
    return fig


# How each outcome of lpsim.studies.outcome is marked on a point (the line's colour, this shape).
OUTCOME_MARKERS = {
    "reached": {"marker": "o", "filled": True},
    "floor": {"marker": "o", "filled": False},
    "stalled": {"marker": "s", "filled": False},
    "diverged": {"marker": "X", "filled": True},
}
OUTCOME_LABELS = {"reached": "reached", "floor": "floor (ended above the target)",
                  "stalled": "stalled (never moved)", "diverged": "diverged"}


def bits_needed(table: Table, *, metric: str = "grad_norm", x: str = "condition_number", tolerance: float = 10.0,
                reference: str = "svrg", roundoff: float = DEFAULT_ROUNDOFF, lines: Sequence[str] | None = None,
                title: str | None = None, logx: bool = True, reference_settings: Sequence[str] = ()):
    """Final ``metric`` vs ``x`` per (algorithm, bits), each point marked with the outcome of most of its
    seeds (lpsim.studies.outcome: reached, floor, stalled, diverged); a panel per value of any other
    swept setting (e.g. mu_factor). Last panel: the fewest bits at which most seeds reached the target,
    max(``tolerance`` x the ``reference`` algorithm's final value, ``roundoff`` x the run's start).
    ``reference_settings``: parameters the reference runs set apart (e.g. more epochs), not matched."""
    metric = metric if isinstance(metric, str) else metric[0]
    rule = OutcomeRule(metric=metric, reference=reference, tolerance=tolerance, roundoff=roundoff)
    judged = outcomes(table, rule, reference_settings)
    final = table.final()
    lines = list(lines) if lines is not None else c.line_columns(final, x)
    if "bits" not in lines and len(final.unique("bits")) > 1:
        lines.append("bits")
    facet_columns = [col for col in lines if col not in ("algorithm", "bits")]
    facets = _facets(final, facet_columns)
    fig, axes = c.new_figure(len(facets) + 1, columns=2)
    panels, right = axes[:-1], axes[-1]
    _draw_outcome_panels(fig, panels, facets, facet_columns or None, lines, judged, metric=metric, x=x, logx=logx)
    fp_label = c.ALGORITHM_LABELS.get(reference, reference)
    if _draw_bits_needed(right, final, judged, x, lines, reference):
        if "n_params" in final.columns and x == "condition_number":
            d = final.unique("n_params")[0]
            kappas = _numeric_sorted(final.unique(x))
            right.plot(kappas, [halp_bits_reference(k, d) for k in kappas], color="0.5", linestyle=":",
                       label=r"$2^{b-1}-1 = \kappa\sqrt{d}$ (rough sufficient condition)")
        # bits needed rise to the right: the legend goes where the line is not
        right.legend(fontsize="small", framealpha=0.85, loc="lower right")
    else:
        right.text(0.5, 0.5, f"no {fp_label} reference runs in the table", ha="center", va="center",
                   transform=right.transAxes)
    _finish(right, xlabel=c.PARAM_LABELS.get(x, x), ylabel="bits needed (most seeds reached)", logy=False,
            logx=logx, legend=False)
    right.set_title(f"reached: final within {tolerance:g}x of {fp_label}'s, or {roundoff:g} x its start",
                    fontsize="small")
    _title(fig, title, c.pooled_note(final, lines, x))
    return fig


def _draw_outcome_panels(fig, panels, facets: dict, facet_columns: list[str] | None, lines: list[str],
                         judged: dict, *, metric: str, x: str, logx: bool) -> None:
    """Each facet's final metric vs ``x``, a line per (algorithm, bits) with its points' outcome markers;
    with facets, titled panels on one y range and a single legend below them."""
    line_keys = ["algorithm", "bits"] if facet_columns else lines
    bit_widths = _numeric_sorted({b for rows in facets.values() if "bits" in rows.columns for b in rows.unique("bits")})
    drawn: set[str] = set()
    for ax, (facet, rows) in zip(panels, facets.items()):
        for index, (key, group) in enumerate(rows.group([k for k in line_keys if k in rows.columns]).items()):
            values = dict(zip(line_keys, key))
            style = c.line_style(line_keys, key, index, line_keys == ["algorithm"])
            if values.get("bits") is not None and len(bit_widths) > 1 and line_keys == ["algorithm", "bits"]:
                # one algorithm at many widths: a sequential colour scale reads as "more bits"
                style["color"] = _VIRIDIS(bit_widths.index(values["bits"]) / (len(bit_widths) - 1))
            elif values.get("algorithm") in c.FULL_PRECISION:  # the reference keeps its colour in every figure
                style["color"] = c.ALGORITHM_COLORS.get(values["algorithm"], style["color"])
            style.pop("marker", None)
            xs, med, lo, hi = _series(group, x, metric, c.positive)
            ax.plot(xs, med, label=c.line_label(line_keys, key), **style)
            _band(ax, xs, lo, hi, style["color"])
            drawn |= _mark_outcomes(ax, group, x, xs, med, judged, style["color"])
        if ax is panels[-1]:
            _outcome_legend(ax, drawn)
        _finish(ax, xlabel=c.PARAM_LABELS.get(x, x), ylabel=c.metric_label(metric, final=True), logy=True,
                logx=logx, legend=not facet_columns)
        if facet_columns:
            ax.set_title(c.line_label(facet_columns, facet), fontsize="medium")
    if facet_columns:  # the panels share their lines and markers: one y range, one legend below them all
        _share_y(panels)
        seen: dict = {}
        for ax in panels:
            for handle, label in zip(*ax.get_legend_handles_labels()):
                seen.setdefault(label, handle)
        fig.legend(list(seen.values()), list(seen), loc="outside lower center", ncol=min(len(seen), 7),
                   fontsize="small", framealpha=0.85)


def _facets(final: Table, columns: list[str]) -> dict[tuple, Table]:
    """The rows of each panel: one per value of ``columns``, runs without a value (the float64 reference
    has no mu_factor) in every panel."""
    if not columns:
        return {(): final}
    keys = [key for key in final.group(columns) if any(v is not None for v in key)] or [tuple([None] * len(columns))]
    return {key: final.where(keep_none=True, **{col: value for col, value in zip(columns, key) if value is not None})
            for key in keys}


def _mark_outcomes(ax, group: Table, x: str, xs: list, med: list, judged: dict, color) -> set[str]:
    """A marker per point for the outcome of most of its runs (seeds); returns the outcomes drawn."""
    at = {}
    for value, sub in group.group([x]).items():
        seen = [judged[r] for r in sub.column("run_id") if judged.get(r)]
        if seen:  # none when the table lacks the metric the outcome needs
            at[value[0]] = point_outcome(seen)
    drawn = set()
    for outcome, look in OUTCOME_MARKERS.items():
        points = [(a, m) for a, m in zip(xs, med) if at.get(a) == outcome and math.isfinite(m)]
        if points:
            ax.scatter([a for a, _ in points], [m for _, m in points], marker=look["marker"], s=36, zorder=4,
                       facecolors=color if look["filled"] else "none", edgecolors=color, linewidths=1.3)
            drawn.add(outcome)
    return drawn


def _outcome_legend(ax, drawn: set[str]) -> None:
    """Grey stand-ins for the outcome markers, so the legend names each shape once, apart from the colours."""
    for outcome, look in OUTCOME_MARKERS.items():
        if outcome in drawn:
            ax.scatter([], [], marker=look["marker"], s=36, facecolors="0.35" if look["filled"] else "none",
                       edgecolors="0.35", linewidths=1.3, label=OUTCOME_LABELS[outcome])


def _share_y(axes) -> None:
    """One y range across the panels, so that they compare at a glance."""
    if len(axes) < 2:
        return
    low = min(ax.get_ylim()[0] for ax in axes)
    high = max(ax.get_ylim()[1] for ax in axes)
    for ax in axes:
        ax.set_ylim(low, high)


def _draw_bits_needed(ax, final: Table, judged: dict, x: str, lines: list[str], reference: str) -> bool:
    """Per low-precision line (bits folded in): the fewest bits at which most runs reached, a triangle
    above the widest width where none did. False if the table has no reference runs."""
    if not final.where(algorithm=reference).rows:
        return False
    needed_lines = [col for col in lines if col != "bits"]
    lp = final.where(algorithm=[a for a in final.unique("algorithm") if a not in c.FULL_PRECISION])
    for index, (key, group) in enumerate(lp.group(needed_lines).items()):
        xs, ys, beyond = [], [], []
        widest = max(_numeric_sorted(group.unique("bits")), default=None)
        for value, sub in _by_x(group, x):
            ok = [b for (b,), runs in sub.group(["bits"]).items()
                  if most_reached([judged.get(r) for r in runs.column("run_id")])]
            xs.append(value[0])
            ys.append(min(ok) if ok else math.nan)
            if not ok:
                beyond.append(value[0])
        if xs:
            style = c.line_style(needed_lines, key, index, needed_lines == ["algorithm"])
            ax.plot(xs, ys, label=c.line_label(needed_lines, key), **style)
            if beyond and widest is not None:
                label = f"more than {widest} bits"
                # lines without any width that reaches would share one spot: each its own step up
                ax.scatter(beyond, [widest + 1 + 0.6 * index] * len(beyond), marker="^", s=50, color=style["color"],
                           label=None if label in {h.get_label() for h in ax.collections} else label)
    return True


def _title(fig, title: str | None, note: str) -> None:
    if title:
        fig.suptitle(title + (f"\n{note}" if note else ""), fontsize="medium")
    elif note:
        fig.suptitle(note, fontsize="small")
