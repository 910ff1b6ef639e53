"""Figures from a results table (no training or sweeping here): error vs bits, convergence, bits needed.

Each function takes a ``lpsim.studies.Table`` and returns a matplotlib ``Figure`` (made
without pyplot, so it works headless and leaves no global state); ``plot_study`` draws a
study's declared ``[[plot]]`` figures and saves them as PNG and PDF.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ..studies.spec import PlotSpec, Study
from ..studies.table import Table
from ._common import save
from .cost import error_vs_cost
from .figures import bits_needed, convergence, error_vs_bits

FIGURE_FORMATS = ("png", "pdf", "svg")


def draw(spec: PlotSpec, table: Table, reference_settings: Sequence[str] = ()):
    """The Figure a ``[[plot]]`` entry describes, from ``table``. ``reference_settings`` (bits_needed):
    the parameters the study sets apart for the reference algorithm (its ``[overrides.ALGORITHM]``)."""
    if spec.where:
        table = table.where(keep_none=True, **spec.where)
    if not len(table):
        raise ValueError(f"plot {spec.stem!r}: no rows match where = {spec.where}")
    if spec.kind == "error_vs_bits":
        return error_vs_bits(table, metric=spec.metric, x=spec.x, lines=spec.lines, floor=spec.floor,
                             title=spec.title, logx=bool(spec.logx))
    if spec.kind == "convergence":
        return convergence(table, metric=spec.metric, lines=spec.lines, title=spec.title)
    if spec.kind == "bits_needed":
        return bits_needed(table, metric=spec.metric[0], x=spec.x, tolerance=spec.tolerance,
                           reference=spec.reference, roundoff=spec.roundoff, lines=spec.lines, title=spec.title,
                           reference_settings=reference_settings,
                           logx=True if spec.logx is None else spec.logx)
    if spec.kind == "error_vs_cost":
        return error_vs_cost(table, metric=spec.metric[0], x=spec.x, lines=spec.lines, title=spec.title)
    raise ValueError(f"unknown plot kind {spec.kind!r}")


def plot_study(study: Study, table: Table, folder: str | Path,
               formats: Sequence[str] = ("png", "pdf")) -> list[Path]:
    """Draw and save every ``[[plot]]`` of ``study`` into ``folder``; returns the files written."""
    for ext in formats:
        if ext not in FIGURE_FORMATS:
            raise ValueError(f"figure format must be one of {', '.join(FIGURE_FORMATS)}, got {ext!r}")
    paths: list[Path] = []
    for spec in study.plots:
        fig = draw(spec, table, tuple(study.overrides.get(spec.reference, {})))
        paths.extend(save(fig, Path(folder), spec.stem, formats))
    return paths


__all__ = ["error_vs_bits", "convergence", "bits_needed", "error_vs_cost", "draw", "plot_study", "FIGURE_FORMATS"]
