"""The three figures of a study, each drawn from a results table alone.

error_vs_bits  final error vs bits, a line per algorithm (median over seeds, band = min..max),
               full-precision runs as horizontal dashed lines, LP-SGD's predicted floor dotted.
convergence    error vs epoch, a line per algorithm / precision setting.
bits_needed    final error vs condition number per (algorithm, bits), and the fewest bits whose
               final error is within ``tolerance`` x the full-precision reference's.
"""

from __future__ import annotations

import math
from typing import Sequence

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
    metrics = [metric] if isinstance(metric, str) else list(metric)
    final = table.final()
    lines = list(lines) if lines is not None else c.line_columns(final, x)
    fig, axes = c.new_figure(len(metrics))
    xs_all = _numeric_sorted(final.unique(x))  # the low-precision x values (full precision has None)
    by_algorithm = lines == ["algorithm"] or lines == []
    groups = final.group(lines)
    for ax, name in zip(axes, metrics):
        logy = name in c.LOG_METRICS
        prep = c.positive if logy else (lambda v: v)
        for index, (key, group) in enumerate(groups.items()):
            style = c.line_style(lines, key, index, by_algorithm)
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
    metrics = [metric] if isinstance(metric, str) else list(metric)
    lines = list(lines) if lines is not None else c.line_columns(table, "epoch")
    fig, axes = c.new_figure(len(metrics))
    by_algorithm = lines == ["algorithm"] or lines == []
    groups = table.group(lines)
    for ax, name in zip(axes, metrics):
        logy = name in c.LOG_METRICS
        prep = c.positive if logy else (lambda v: v)
        for index, (key, group) in enumerate(groups.items()):
            style = c.line_style(lines, key, index, by_algorithm)
            style.update(marker=None)
            xs, med, lo, hi = _series(group, "epoch", name, prep)
            if any(math.isfinite(v) for v in med):
                ax.plot(xs, med, label=c.line_label(lines, key), **style)
                _band(ax, xs, lo, hi, style["color"])
        _finish(ax, xlabel="epoch", ylabel=c.metric_label(name), logy=logy)
    _title(fig, title, c.pooled_note(table, lines, "epoch"))
    return fig


def bits_needed(table: Table, *, metric: str = "grad_norm", x: str = "condition_number", tolerance: float = 10.0,
                reference: str = "svrg", lines: Sequence[str] | None = None, title: str | None = None,
                logx: bool = True):
    """Left: final ``metric`` vs ``x`` per (algorithm, bits). Right: fewest bits whose median final
    ``metric`` is within ``tolerance`` x the full-precision ``reference`` algorithm's at that ``x``."""
    metric = metric if isinstance(metric, str) else metric[0]
    final = table.final()
    lines = list(lines) if lines is not None else c.line_columns(final, x)
    if "bits" not in lines and len(final.unique("bits")) > 1:
        lines.append("bits")
    fig, (left, right) = c.new_figure(2)
    by_algorithm = lines == ["algorithm"]
    groups = final.group(lines)
    bit_widths = _numeric_sorted(final.unique("bits")) if "bits" in final.columns else []
    for index, (key, group) in enumerate(groups.items()):
        style = c.line_style(lines, key, index, by_algorithm)
        bits = dict(zip(lines, key)).get("bits")
        if bits is not None and len(bit_widths) > 1 and lines == ["algorithm", "bits"]:
            # one algorithm at many widths: a sequential colour scale reads as "more bits"
            style["color"] = _VIRIDIS(bit_widths.index(bits) / (len(bit_widths) - 1))
        xs, med, lo, hi = _series(group, x, metric, c.positive)
        left.plot(xs, med, label=c.line_label(lines, key), **style)
        _band(left, xs, lo, hi, style["color"])
        _mark_diverged(left, group, x, xs, med)
    _finish(left, xlabel=c.PARAM_LABELS.get(x, x), ylabel=c.metric_label(metric, final=True), logy=True, logx=logx)

    # fewest bits within tolerance of the reference, per low-precision line (bits folded in)
    ref = final.where(algorithm=reference)
    ref_median = {v[0]: c.seed_stats(g.column(metric))[0] for v, g in ref.group([x]).items()}
    needed_lines = [col for col in lines if col != "bits"]
    lp = final.where(algorithm=[a for a in final.unique("algorithm") if a not in c.FULL_PRECISION])
    drawn = False
    for index, (key, group) in enumerate(lp.group(needed_lines).items()):
        xs, ys, beyond = [], [], []
        widest = max(_numeric_sorted(group.unique("bits")), default=None)
        for value, sub in _by_x(group, x):
            target = ref_median.get(value[0], math.nan)
            if not math.isfinite(target):
                continue
            ok = [b for b_key, g in sub.group(["bits"]).items() for b in b_key
                  if c.seed_stats(g.column(metric))[0] <= tolerance * max(target, 0.0)]
            xs.append(value[0])
            ys.append(min(ok) if ok else math.nan)
            if not ok:
                beyond.append(value[0])
        if xs:
            style = c.line_style(needed_lines, key, index, needed_lines == ["algorithm"])
            right.plot(xs, ys, label=c.line_label(needed_lines, key), **style)
            if beyond and widest is not None:
                right.scatter(beyond, [widest + 1] * len(beyond), marker="^", s=50, color=style["color"],
                              label=f"more than {widest} bits")
            drawn = True
    if drawn and "n_params" in final.columns and x == "condition_number":
        d = final.unique("n_params")[0]
        kappas = _numeric_sorted(final.unique(x))
        right.plot(kappas, [halp_bits_reference(k, d) for k in kappas], color="0.5", linestyle=":",
                   label=r"$2^{b-1}-1 = \kappa\sqrt{d}$ (rough sufficient condition)")
    fp_label = c.ALGORITHM_LABELS.get(reference, reference)
    _finish(right, xlabel=c.PARAM_LABELS.get(x, x),
            ylabel=f"bits needed (final error within {tolerance:g}x of {fp_label})", logy=False, logx=logx)
    if not drawn:
        right.text(0.5, 0.5, f"no {fp_label} reference runs in the table", ha="center", va="center",
                   transform=right.transAxes)
    _title(fig, title, c.pooled_note(final, lines, x))
    return fig


def _title(fig, title: str | None, note: str) -> None:
    if title:
        fig.suptitle(title + (f"\n{note}" if note else ""), fontsize="medium")
    elif note:
        fig.suptitle(note, fontsize="small")
