"""mu_factor: HALP's mu (and the LP grids') as a multiple of the model's strong convexity."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lpsim.studies import Study, StudyError
from lpsim.studies.runner import run_one

PROBLEM = {"n": 32, "d": 4, "condition_number": 100.0, "noise": 0.01}
TRAIN = {"epochs": 3, "batch_size": 4, "step_size": 0.3}


def runs(grid, train=None):
    return Study.create("m", problem=PROBLEM, train={**TRAIN, **(train or {})}, grid=grid).runs()


def test_a_factor_of_one_is_the_default_mu_and_keeps_the_run_id():
    plain = runs({"algorithm": ["halp", "lpsgd"]})
    one = runs({"algorithm": ["halp", "lpsgd"], "mu_factor": [1.0]})
    assert [r.id for r in one] == [r.id for r in plain]
    assert all(r["mu_factor"] is None for r in one)


def test_other_factors_are_other_runs_and_full_precision_ignores_them():
    halp = runs({"algorithm": ["halp"], "mu_factor": [1.0, 10.0, 100.0]})
    assert len({r.id for r in halp}) == 3
    svrg = runs({"algorithm": ["svrg"], "mu_factor": [1.0, 10.0, 100.0]})
    assert len(svrg) == 1 and svrg[0]["mu_factor"] is None
    assert svrg[0].id == runs({"algorithm": ["svrg"]})[0].id


def test_mu_and_mu_factor_together_are_refused_naming_mu_factor():
    with pytest.raises(StudyError, match=r"\[grid\] mu_factor.*set mu .* or mu_factor .*not both"):
        Study.create("m", problem=PROBLEM, train={**TRAIN, "mu": 0.1}, grid={"mu_factor": [10.0]})


@pytest.mark.parametrize("bad", [0.0, -1.0, "ten"])
def test_a_factor_must_be_a_positive_number(bad):
    with pytest.raises(StudyError, match=r"mu_factor: expected a number > 0"):
        Study.create("m", train={"mu_factor": bad})


def test_a_factor_of_a_zero_strong_convexity_is_still_refused():
    with pytest.raises(StudyError, match=r"l2 = 0 for a logistic model \(mu_factor multiplies it, so it stays 0\)"):
        Study.create("m", problem={"dataset": "logistic"}, train={"mu_factor": 10.0})


@settings(max_examples=6, deadline=None)
@given(factor=st.sampled_from([0.5, 3.0, 10.0, 100.0]), algorithm=st.sampled_from(["halp", "lpsvrg"]),
       kappa=st.sampled_from([10.0, 1e3]))
def test_a_factor_trains_exactly_as_the_mu_it_stands_for(factor, algorithm, kappa):
    problem = {**PROBLEM, "condition_number": kappa}
    by_factor = Study.create("m", problem=problem, train={**TRAIN, "algorithm": algorithm, "mu_factor": factor}).runs()[0]
    first = run_one(by_factor.params)
    model_mu = first["problem"]["model_mu"]
    assert model_mu == pytest.approx(1.0 / kappa, rel=1e-6)  # the generator's L = 1: mu_model = 1 / kappa
    assert first["problem"]["resolved_mu"] == factor * model_mu
    by_value = Study.create("m", problem=problem,
                            train={**TRAIN, "algorithm": algorithm, "mu": factor * model_mu}).runs()[0]
    second = run_one(by_value.params)
    assert by_value.id != by_factor.id  # two spellings of one mu are stored apart, but train alike:
    for name, values in first["history"].items():
        np.testing.assert_array_equal(values, second["history"][name], err_msg=name)


def test_a_larger_factor_makes_halps_grid_finer():
    scales = {}
    for factor in (1.0, 10.0):
        spec = Study.create("m", problem=PROBLEM, train={**TRAIN, "mu_factor": factor}).runs()[0]
        scales[factor] = run_one(spec.params)["history"]["scale"]
    # epoch 1's scale is ||g~(0)|| / (mu M), the same g~ in both runs: a tenth at ten times mu
    assert scales[10.0][1] == pytest.approx(scales[1.0][1] / 10.0, rel=1e-12)
