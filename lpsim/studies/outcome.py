"""What became of each run, judged against its float64 reference: reached, floor, stalled or diverged.

A run is compared with the runs of the reference algorithm (float64 SVRG by default) that share
its problem and training budget (every setting but the algorithm, the seed and the settings only
low-precision runs have), through one error metric that is zero at the optimum:

    target = max(tolerance x R, roundoff x start)

R is the median final value of those reference runs, ``start`` the run's own value at epoch 0.
The second term is the round-off allowance: once a run is ``roundoff`` (1e-10) below where it
started it is at float64 round-off for practical purposes, whatever the reference's last digits
(HALP at 3.4e-12 reached what SVRG's 1.5e-14 reached: both are at round-off).

    diverged  training said so (NaN/inf or a blown-up iterate), the final value is not finite, or it
              ended more than DIVERGED_GROWTH times above its start (blown up without tripping training's bound)
    stalled   never moved: the metric equals its starting value (relative STALL_RTOL) at every
              epoch: every update rounded to zero
    reached   final value <= target
    floor     moved, finite, and ended above the target: stuck at a floor, or too slow for its epochs

The reference's own runs are judged against the round-off allowance alone, so their outcome
says whether the reference converged: "reached" means it is at round-off, "floor" that it
ended above it (within its epochs). Where the reference did not converge, "reached" for the
others means "kept pace with the reference over the same epochs", not "converged".
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Iterable, Sequence

import attrs
import numpy as np

from .schema import ALGORITHMS, LOW_PRECISION_SETTINGS, PARAMS
from .table import Table

OUTCOMES = ("reached", "floor", "stalled", "diverged")  # best to worst
# Metrics that are zero at the optimum, so "how far below the start" and "as low as the reference" mean something.
OUTCOME_METRICS = ("gap", "grad_norm", "dist")
# A run whose metric never changes by more than this fraction of its start did not move (all its updates
# rounded to zero leave the metric bit for bit equal; the slack only absorbs summation-order noise).
STALL_RTOL = 1e-9
DEFAULT_ROUNDOFF = 1e-10
# A run that ends this many times above where it started has blown up, though not far enough to trip training's
# divergence bound (||w - w*|| beyond a multiple of ||w*||): calling that a floor would flatter it.
DIVERGED_GROWTH = 10.0
# The columns that do not tell a run's problem and budget apart from its reference's.
_COMPARED = ("algorithm", "seed", *LOW_PRECISION_SETTINGS)


def _check_metric(instance, attribute, value):
    if value not in OUTCOME_METRICS:
        raise ValueError(f"OutcomeRule: metric must be one of {', '.join(OUTCOME_METRICS)} (zero at the optimum), "
                         f"got {value!r}")


def _check_reference(instance, attribute, value):
    if value not in ALGORITHMS:
        raise ValueError(f"OutcomeRule: reference must be one of {', '.join(ALGORITHMS)}, got {value!r}")


def _check_tolerance(instance, attribute, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 1 or not math.isfinite(value):
        raise ValueError(f"OutcomeRule: tolerance must be a finite number >= 1 (factor over the reference's final "
                         f"value), got {value!r}")


def _check_roundoff(instance, attribute, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"OutcomeRule: roundoff must be a number in [0, 1) (fraction of the starting value), "
                         f"got {value!r}")


@attrs.frozen(kw_only=True)
class OutcomeRule:
    """How runs are judged: the metric, the reference algorithm, the tolerance over its final value and
    the round-off allowance (a fraction of the run's starting value)."""

    metric: str = attrs.field(default="grad_norm", validator=_check_metric)
    reference: str = attrs.field(default="svrg", validator=_check_reference)
    tolerance: float = attrs.field(default=10.0, validator=_check_tolerance)
    roundoff: float = attrs.field(default=DEFAULT_ROUNDOFF, validator=_check_roundoff)

    def target(self, start: float, reference_final: float | None) -> float:
        """The value a run must end at or below: the reference's times the tolerance, or round-off."""
        allowance = self.roundoff * start if math.isfinite(start) else 0.0
        if reference_final is None or not math.isfinite(reference_final):
            return allowance
        return max(self.tolerance * reference_final, allowance)


def run_outcome(values: Sequence[float | None], status: str, target: float) -> str:
    """The outcome of one run from its metric per epoch (epoch 0, the start, first), its status and target."""
    values = [math.nan if v is None else float(v) for v in values]
    if not values:
        raise ValueError("run_outcome needs the metric of at least one epoch")
    start, final = values[0], values[-1]
    if status == "diverged" or not math.isfinite(final) or final > DIVERGED_GROWTH * start:
        return "diverged"
    if len(values) > 1 and math.isfinite(start) and all(abs(v - start) <= STALL_RTOL * abs(start) for v in values):
        return "stalled"
    return "reached" if final <= target else "floor"


def point_outcome(outcomes: Sequence[str]) -> str:
    """The outcome of a point that pools several runs (seeds): the most common, a tie going to the worse."""
    if not outcomes:
        raise ValueError("point_outcome needs at least one outcome")
    counts = Counter(outcomes)
    return max(counts, key=lambda o: (counts[o], OUTCOMES.index(o)))


def most_reached(outcomes: Sequence[str]) -> bool:
    """Whether more than half of the runs at a point reached the target."""
    return sum(o == "reached" for o in outcomes) * 2 > len(outcomes)


def outcomes(table: Table, rule: OutcomeRule = OutcomeRule(),
             reference_settings: Iterable[str] = ()) -> dict[str, str | None]:
    """run_id -> outcome for every run in ``table`` (rows per epoch, as ``ResultsStore.table`` gives);
    None for every run when the table does not hold the rule's metric. ``reference_settings``: the
    parameters the reference runs set apart (a study's ``[overrides.svrg]``, e.g. the epochs that take
    SVRG to its float64 floor), which a run need not share with its reference."""
    run_ids = table.unique("run_id") if "run_id" in table.columns else []
    if rule.metric not in table.columns:
        return dict.fromkeys(run_ids)
    runs = table.group(["run_id"])
    free = set(_COMPARED) | set(reference_settings)
    key_columns = [c for c in PARAMS if c in table.columns and c not in free]
    references: dict[tuple, list[float]] = {}
    for run in runs.values():
        first = run.records()[0]
        if first.get("algorithm") == rule.reference:
            values = _history(run, rule.metric)
            references.setdefault(tuple(first[c] for c in key_columns), []).append(values[-1])
    medians = {key: _finite_median(finals) for key, finals in references.items()}
    result: dict[str, str | None] = {}
    for (run_id,), run in runs.items():
        first = run.records()[0]
        values = _history(run, rule.metric)
        reference = None if first.get("algorithm") == rule.reference else medians.get(tuple(first[c] for c in key_columns))
        start = values[0] if values[0] is not None else math.nan
        result[run_id] = run_outcome(values, first.get("status", "ok"), rule.target(start, reference))
    return result


def with_outcomes(table: Table, rule: OutcomeRule = OutcomeRule(), reference_settings: Iterable[str] = ()) -> Table:
    """``table`` with an ``outcome`` column (after ``status`` when there is one), set on every row of a run."""
    by_run = outcomes(table, rule, reference_settings)
    columns = [c for c in table.columns if c != "outcome"]
    at = columns.index("status") + 1 if "status" in columns else len(columns)
    columns.insert(at, "outcome")
    records = [dict(r, outcome=by_run.get(r.get("run_id"))) for r in table.records()]
    return Table.from_records(records, columns)


def outcome_summary(table: Table, rule: OutcomeRule) -> str:
    """One line counting the runs of each outcome in ``table`` (its ``outcome`` column), "" if none."""
    if "outcome" not in table.columns or not len(table):
        return ""
    counts = Counter(value for value in table.final().column("outcome") if value)
    if not counts:
        return ""
    return (f"outcomes ({rule.metric} against {rule.reference} within {rule.tolerance:g}x or {rule.roundoff:g} "
            f"of the start): " + ", ".join(f"{counts[o]} {o}" for o in OUTCOMES if counts[o]))


def _history(run: Table, metric: str) -> list[float | None]:
    """The run's metric in epoch order."""
    pairs = sorted(zip(run.column("epoch"), run.column(metric)), key=lambda p: (p[0] is None, p[0] or 0))
    return [value for _, value in pairs]


def _finite_median(values: Sequence[float | None]) -> float | None:
    finite = [float(v) for v in values if v is not None and math.isfinite(v)]
    return float(np.median(finite)) if finite else None


__all__ = ["OUTCOMES", "OUTCOME_METRICS", "STALL_RTOL", "DEFAULT_ROUNDOFF", "DIVERGED_GROWTH", "OutcomeRule", "run_outcome",
           "point_outcome", "most_reached", "outcomes", "with_outcomes", "outcome_summary"]
