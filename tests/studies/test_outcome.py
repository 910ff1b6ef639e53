"""Run outcomes against a float64 reference: reached, floor, stalled, diverged (hand-made histories,
then a tiny real study that shows all four)."""

import io
import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from lpsim.studies import PARAMS, Study, Table, run_study
from lpsim.studies.outcome import (DIVERGED_GROWTH, OUTCOMES, STALL_RTOL, OutcomeRule, most_reached, outcomes,
                                   point_outcome, run_outcome, with_outcomes)

starts = st.floats(1e-6, 1e6)
fractions = st.floats(1e-14, 0.9)


# -- one run's history -----------------------------------------------------------------------------
@given(start=starts, epochs=st.integers(1, 40), target=st.floats(0, 1e9))
def test_a_run_that_never_moved_stalled_whatever_the_target(start, epochs, target):
    assert run_outcome([start] * (epochs + 1), "ok", target) == "stalled"


@given(start=starts, wiggle=st.floats(-STALL_RTOL / 2, STALL_RTOL / 2))
def test_summation_noise_is_not_a_move(start, wiggle):
    assert run_outcome([start, start * (1 + wiggle), start], "ok", 0.0) == "stalled"


@given(start=starts, drop=fractions, slack=st.floats(1.0, 100.0))
def test_a_run_at_or_below_its_target_reached_it(start, drop, slack):
    final = start * drop
    assert run_outcome([start, (start + final) / 2, final], "ok", final * slack) == "reached"


@given(start=starts, drop=fractions, above=st.floats(1.001, 1e6))
def test_a_run_that_moved_and_ended_above_its_target_is_at_a_floor(start, drop, above):
    final = start * drop
    assume(final / above < final)
    assert run_outcome([start, (start + final) / 2, final], "ok", final / above) == "floor"


@given(start=starts, values=st.lists(st.floats(0, 1e3), min_size=1, max_size=5), target=st.floats(0, 1e9))
def test_diverged_status_wins(start, values, target):
    assert run_outcome([start, *values], "diverged", target) == "diverged"


@pytest.mark.parametrize("final", [math.nan, math.inf, None])
def test_a_final_value_that_is_not_finite_diverged(final):
    assert run_outcome([0.5, 0.1, final], "ok", 1.0) == "diverged"


@given(start=starts, growth=st.floats(1.0001, 1e6))
def test_ending_far_above_the_start_diverged(start, growth):
    final = start * DIVERGED_GROWTH * growth
    assume(final > DIVERGED_GROWTH * start)
    assert run_outcome([start, start / 2, final], "ok", math.inf) == "diverged"
    assert run_outcome([start, start / 2, start * DIVERGED_GROWTH], "ok", 0.0) == "floor"


def test_the_issues_example_halp6_and_svrg_both_at_round_off():
    rule = OutcomeRule()
    start = 0.68
    target = rule.target(start, 1.5e-14)  # SVRG's final gradient norm
    assert run_outcome([start, 1e-3, 3.4e-12], "ok", target) == "reached"  # HALP(6)
    assert run_outcome([start, 1e-3, 3.2e-7], "ok", target) == "floor"  # HALP(5): far from round-off
    # without the allowance 3.4e-12 is 227x SVRG's value: a failure under a bare 10x rule
    assert run_outcome([start, 1e-3, 3.4e-12], "ok", OutcomeRule(roundoff=0.0).target(start, 1.5e-14)) == "floor"


@given(start=starts, reference=st.floats(0, 1e3), tolerance=st.floats(1, 1e3), roundoff=st.floats(0, 0.99))
def test_target_is_the_larger_of_tolerance_over_the_reference_and_round_off(start, reference, tolerance, roundoff):
    rule = OutcomeRule(tolerance=tolerance, roundoff=roundoff)
    assert rule.target(start, reference) == max(tolerance * reference, roundoff * start)
    assert rule.target(start, None) == rule.target(start, math.nan) == roundoff * start


@pytest.mark.parametrize("field, value, message", [
    ("metric", "test_acc", "metric must be one of gap, grad_norm, dist"),
    ("reference", "adam", "reference must be one of"),
    ("tolerance", 0.5, "tolerance must be a finite number >= 1"),
    ("tolerance", math.inf, "tolerance must be a finite number >= 1"),
    ("roundoff", 1.0, r"roundoff must be a number in \[0, 1\)"),
    ("roundoff", -1e-3, r"roundoff must be a number in \[0, 1\)"),
])
def test_a_bad_rule_is_refused_naming_the_field(field, value, message):
    with pytest.raises(ValueError, match=message):
        OutcomeRule(**{field: value})


@given(st.lists(st.sampled_from(OUTCOMES), min_size=1, max_size=7))
def test_a_point_takes_its_most_common_outcome_ties_to_the_worse(seen):
    shown = point_outcome(seen)
    counts = {o: seen.count(o) for o in OUTCOMES}
    assert counts[shown] == max(counts.values())
    assert all(OUTCOMES.index(o) <= OUTCOMES.index(shown) for o in OUTCOMES if counts[o] == counts[shown])
    assert most_reached(seen) == (counts["reached"] * 2 > len(seen))


# -- a table of runs ---------------------------------------------------------------------------------
def run_rows(run_id, values, **params):
    base = dict.fromkeys(PARAMS)
    base.update(dataset="least_squares", model="least_squares", status="ok", **params)
    return [dict(base, run_id=run_id, epoch=epoch, grad_norm=value) for epoch, value in enumerate(values)]


def test_each_run_meets_the_reference_of_its_own_problem():
    rows = []
    for kappa, svrg_final in ((10.0, 1e-14), (1e4, 1e-3)):
        for seed in (0, 1):
            rows += run_rows(f"svrg{kappa}-{seed}", [0.5, 0.1, svrg_final * (1 + seed)], algorithm="svrg",
                             condition_number=kappa, seed=seed, arithmetic="float")
        # HALP at 5e-3: within 10x of SVRG at kappa 1e4 (median 1.5e-3), far above it at kappa 10
        rows += run_rows(f"halp{kappa}", [0.5, 0.1, 5e-3], algorithm="halp", bits=8, condition_number=kappa,
                         mu_factor=10.0, arithmetic="integer", family="fixed", rounding="stochastic")
    got = outcomes(Table.from_records(rows))
    assert got["halp10.0"] == "floor" and got["halp10000.0"] == "reached"
    # the reference's own runs are judged against round-off: converged at kappa 10, not at 1e4
    assert got["svrg10.0-0"] == got["svrg10.0-1"] == "reached"
    assert got["svrg10000.0-0"] == got["svrg10000.0-1"] == "floor"


def test_without_a_reference_runs_are_judged_against_round_off():
    rows = run_rows("a", [0.5, 1e-12], algorithm="halp") + run_rows("b", [0.5, 1e-6], algorithm="halp")
    assert outcomes(Table.from_records(rows)) == {"a": "reached", "b": "floor"}


def test_the_outcome_column_follows_status_and_needs_the_metric():
    table = Table.from_records(run_rows("a", [0.5, 0.5, 0.5], algorithm="halp"))
    judged = with_outcomes(table.drop("gap"))
    assert judged.columns.index("outcome") == judged.columns.index("status") + 1
    assert judged.column("outcome") == ["stalled"] * 3
    assert with_outcomes(table, OutcomeRule(metric="gap")).column("outcome") == [None] * 3


# -- a tiny real study ----------------------------------------------------------------------------
def test_a_tiny_study_shows_every_outcome(tmp_path):
    study = Study.create("tiny", problem={"n": 32, "d": 4, "noise": 0.01},
                         train={"epochs": 50, "batch_size": 4, "step_size": 0.3},
                         grid={"condition_number": [10.0, 1e4], "algorithm": ["svrg", "lpsgd", "halp"], "bits": [4, 8]},
                         plots=[{"kind": "bits_needed"}])
    log = io.StringIO()
    result = run_study(study, tmp_path, executor="serial", stream=log)
    final = {(r["condition_number"], r["algorithm"], r["bits"]): r for r in result.table.final().records()}
    # kappa 10: float64 SVRG reaches round-off, LP-SGD at 4 bits stops at its grid's floor, HALP at 8 bits reaches
    assert final[10.0, "svrg", None]["outcome"] == "reached"
    assert final[10.0, "lpsgd", 4]["outcome"] == "floor"
    assert final[10.0, "halp", 8]["outcome"] == "reached"
    # kappa 1e4: HALP's 4-bit grid is so coarse that every update rounds to zero; at 8 bits it blows up
    assert final[1e4, "halp", 4]["outcome"] == "stalled"
    assert final[1e4, "halp", 4]["grad_norm"] == result.table.where(run_id=final[1e4, "halp", 4]["run_id"],
                                                                    epoch=0).column("grad_norm")[0]
    assert final[1e4, "halp", 8]["outcome"] == "diverged"
    # the stored table carries the column and reads it back
    assert Table.read_csv(tmp_path / "results.csv").column("outcome") == result.table.column("outcome")
    # and the run's report counts them (10 runs: SVRG twice, LP-SGD and HALP at two widths, two kappas)
    counts = {o: list(result.table.final().column("outcome")).count(o) for o in OUTCOMES}
    assert sum(counts.values()) == 10 and all(counts[o] for o in OUTCOMES)
    expected = ", ".join(f"{counts[o]} {o}" for o in OUTCOMES)
    assert f"outcomes (grad_norm against svrg within 10x or 1e-10 of the start): {expected}\n" in log.getvalue()


# -- the study's rule ---------------------------------------------------------------------------------
def test_the_table_judges_as_the_first_bits_needed_plot_or_by_the_defaults():
    assert Study.create("s").outcome_rule == OutcomeRule()
    study = Study.create("s", plots=[{"kind": "convergence"},
                                     {"kind": "bits_needed", "metric": "gap", "tolerance": 3, "roundoff": 1e-8},
                                     {"kind": "bits_needed", "name": "other", "reference": "sgd"}])
    assert study.outcome_rule == OutcomeRule(metric="gap", reference="svrg", tolerance=3.0, roundoff=1e-8)


@pytest.mark.parametrize("plot, message", [
    ({"kind": "bits_needed", "metric": "test_acc"}, r"\[\[plot\]\] #1 metric: bits_needed judges runs by an error"),
    ({"kind": "bits_needed", "roundoff": 1.0}, r"\[\[plot\]\] #1 roundoff: expected a number in \[0, 1\)"),
    ({"kind": "bits_needed", "roundoff": True}, r"\[\[plot\]\] #1 roundoff: expected a number"),
])
def test_a_bad_bits_needed_plot_is_refused_at_load(plot, message):
    from lpsim.studies import StudyError

    with pytest.raises(StudyError, match=message):
        Study.create("s", plots=[plot])


def test_the_table_shows_the_default_mu_as_a_factor_of_one(tmp_path):
    study = Study.create("s", problem={"n": 16, "d": 2}, train={"epochs": 1},
                         grid={"algorithm": ["svrg", "halp"], "mu_factor": [1.0, 10.0]})
    table = run_study(study, tmp_path, executor="serial", quiet=True).table.final()
    shown = {(r["algorithm"], r["mu_factor"]) for r in table.records()}
    assert shown == {("svrg", None), ("halp", 1.0), ("halp", 10.0)}
    assert [r["mu_factor"] for r in study.runs() if r["algorithm"] == "halp"] == [None, 10.0]  # the spec keeps None


# -- a reference run to its float64 floor ----------------------------------------------------------
def test_a_reference_with_its_own_epochs_is_matched_when_they_are_set_apart():
    rows = (run_rows("svrg", [0.5, 1e-3, 1e-6], algorithm="svrg", epochs=60)
            + run_rows("halp", [0.5, 1e-3, 5e-6], algorithm="halp", bits=8, epochs=10))
    table = Table.from_records(rows)
    assert outcomes(table)["halp"] == "floor"  # no reference shares its 10 epochs: judged against round-off
    assert outcomes(table, reference_settings=("epochs",))["halp"] == "reached"  # within 10x of SVRG's 1e-6


def test_svrg_run_to_its_floor_turns_keeping_pace_into_not_converged(tmp_path):
    base = dict(problem={"n": 32, "d": 4, "noise": 0.01, "condition_number": 10.0},
                train={"epochs": 6, "batch_size": 4, "step_size": 0.3},
                grid={"algorithm": ["svrg", "halp"], "bits": [8]}, plots=[{"kind": "bits_needed"}])
    same_budget = Study.create("pace", **base)
    to_floor = Study.create("floor", overrides={"svrg": {"epochs": 60}}, **base)
    assert same_budget.reference_settings == () and to_floor.reference_settings == ("epochs",)

    def halp_and_svrg(study):
        table = run_study(study, tmp_path / study.name, executor="serial", quiet=True).table.final()
        return {r["algorithm"]: r for r in table.records()}

    pace, floor = halp_and_svrg(same_budget), halp_and_svrg(to_floor)
    # after 6 epochs HALP(8) is where SVRG is after 6 epochs, far from where SVRG gets in 60
    assert pace["halp"]["grad_norm"] == floor["halp"]["grad_norm"] > 1e-8
    assert pace["svrg"]["outcome"] == "floor" and floor["svrg"]["outcome"] == "reached"
    assert pace["halp"]["outcome"] == "reached" and floor["halp"]["outcome"] == "floor"
