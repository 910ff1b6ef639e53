"""The integer inner loop: the fast epoch kernel gives the exact engine's step-by-step integers."""

import numpy as np
import pytest

from lpsim.algorithms import TrainConfig, train
from lpsim.algorithms.integer import register_integer_arithmetic
from lpsim.arith import Accumulator, IntRegister, Summation
from lpsim.data import make_dataset
from lpsim.models import make_model

WRAP16 = register_integer_arithmetic(
    "integer_test_wrap16", Accumulator(accumulator=IntRegister(bits=16, overflow="wrap")))
SAT_CHUNKED = register_integer_arithmetic(
    "integer_test_sat_chunked",
    Accumulator(accumulator=IntRegister(bits=16, overflow="saturate"),
                summation=Summation.chunked(2, IntRegister(bits=18, overflow="saturate"))))
K8 = register_integer_arithmetic("integer_test_k8", update_frac_bits=8)  # 8-bit random slots
ERR16 = register_integer_arithmetic(
    "integer_test_err16", Accumulator(accumulator=IntRegister(bits=16, overflow="error")))


@pytest.fixture(scope="module")
def ls():
    return make_model("least_squares", make_dataset("least_squares", n=16, d=5, condition_number=3.0, noise=0.2, seed=4))


@pytest.fixture(scope="module")
def ls_l2():
    return make_model("least_squares", make_dataset("least_squares", n=16, d=5, condition_number=3.0, noise=0.2, seed=5),
                      l2=0.05)


@pytest.fixture(scope="module")
def logistic():
    return make_model("logistic", make_dataset("logistic", n=16, d=4, seed=2), l2=0.1)


CASES = [
    # (model, algorithm, overrides)
    ("ls", "halp", {}),
    ("ls", "halp", {"rounding": "stochastic:5"}),
    ("ls", "halp", {"rounding": "nearest_even", "step_size": 2.0}),
    ("ls", "halp", {"rounding": "toward_zero", "batch_size": 3}),
    ("ls", "halp", {"rounding": "nearest_away", "step_size": 2.0}),
    ("ls", "halp", {"rounding": "to_odd", "fmt": "fixed6_f0_wrap"}),
    ("ls", "halp", {"fmt": "fixed12_f0", "data_fmt": "fixed10_f0", "batch_size": 2}),
    ("ls", "halp", {"arithmetic": "integer_test_wrap16", "step_size": 2.0}),
    ("ls", "halp", {"arithmetic": "integer_test_sat_chunked", "step_size": 2.0}),
    ("ls", "lpsvrg", {}),
    ("ls", "lpsvrg", {"rounding": "toward_positive", "batch_size": 2}),
    ("ls", "lpsgd", {"rounding": "stochastic:3"}),
    ("ls_l2", "halp", {"batch_size": 2}),
    ("ls_l2", "lpsvrg", {"fmt": "fixed4_f0"}),
    # the fused B = 1 loops with an l2 term: whole 16-bit slot (int8 range), nearest even, r < K (int16 range)
    ("ls_l2", "halp", {}),
    ("ls_l2", "halp", {"rounding": "nearest_even", "step_size": 2.0}),
    ("ls_l2", "halp", {"fmt": "int16", "data_fmt": "fixed10_f0"}),
    ("ls_l2", "lpsvrg", {"fmt": "int16", "rounding": "stochastic:12"}),
    # update_frac_bits = 8: K = 8, whole 8-bit slots; and fewer random bits than K
    ("ls", "halp", {"arithmetic": "integer_test_k8"}),
    ("ls_l2", "halp", {"arithmetic": "integer_test_k8", "step_size": 2.0}),
    ("ls_l2", "lpsvrg", {"arithmetic": "integer_test_k8", "rounding": "stochastic:5"}),
    ("logistic", "halp", {"arithmetic": "integer_test_k8"}),
    ("logistic", "halp", {}),
    ("logistic", "halp", {"rounding": "nearest_even", "batch_size": 2, "step_size": 2.0}),
    ("logistic", "lpsvrg", {}),
    ("logistic", "lpsgd", {"rounding": "toward_negative"}),
    # every random-bit generator: the fused loops (16- and 8-bit slots, r < K), the general loop, the scalars
    ("ls", "halp", {"rounding": "stochastic:philox7"}),
    ("ls", "halp", {"rounding": "stochastic:splitmix64", "batch_size": 2}),
    ("ls", "halp", {"rounding": "stochastic:hash32"}),
    ("ls_l2", "halp", {"arithmetic": "integer_test_k8", "rounding": "stochastic:hash32"}),
    ("ls_l2", "lpsvrg", {"fmt": "int16", "rounding": "stochastic:12:splitmix64"}),
    ("ls", "lpsgd", {"rounding": "stochastic:3:philox7"}),
    ("logistic", "halp", {"rounding": "stochastic:hash32", "data_rounding": "sr8:splitmix64"}),
    ("ls", "halp", {"rounding": "stochastic:xoroshiro128aox"}),
    ("ls_l2", "halp", {"arithmetic": "integer_test_k8", "rounding": "stochastic:xoroshiro128aox"}),
    ("logistic", "lpsvrg", {"rounding": "stochastic:5:xoroshiro128aox", "data_rounding": "sr8:xoroshiro128aox"}),
]


def run_both_engines(model, algorithm, overrides, epoch_length=10):
    """(fast, exact) TrainResults of one integer-loop config, asserted identical; overrides' step_size is in 1 / L."""
    base = dict(algorithm=algorithm, epochs=2, epoch_length=epoch_length, data_fmt="int8", arithmetic="integer",
                seed=7, step_size=0.5 / model.L)
    base.update(overrides)
    if "step_size" in overrides:
        base["step_size"] = overrides["step_size"] / model.L
    fast = train(model, TrainConfig(engine="fast", **base))
    exact = train(model, TrainConfig(engine="exact", **base))
    assert fast.status == exact.status
    np.testing.assert_array_equal(fast.w, exact.w)
    for key in ("grad_norm", "scale", "loss"):
        np.testing.assert_array_equal(fast.history[key], exact.history[key])
    return fast, exact


@pytest.mark.parametrize("model_name, algorithm, overrides", CASES, ids=[f"{m}-{a}-{o}" for m, a, o in CASES])
def test_fast_equals_exact(request, model_name, algorithm, overrides):
    model = request.getfixturevalue(model_name)
    fast, _ = run_both_engines(model, algorithm, overrides)
    # the run did something: the iterate moved off w = 0
    assert np.any(fast.w != 0)


@pytest.mark.parametrize("generator", ["philox7", "splitmix64", "hash32", "xoroshiro128aox"])
def test_the_generator_changes_the_run(ls, generator):
    """A named generator reaches the loop: its run differs from the default generator's."""
    default, _ = run_both_engines(ls, "halp", {})
    other, _ = run_both_engines(ls, "halp", {"rounding": f"stochastic:{generator}"})
    assert not np.array_equal(default.w, other.w)


def test_overflow_error_policy_ends_the_run_as_diverged(ls):
    config = dict(algorithm="lpsvrg", epochs=2, epoch_length=10, data_fmt="int8", arithmetic="integer",
                  fmt="fixed3_f0_error", step_size=8.0 / ls.L, scale=1e-3)
    fast = train(ls, TrainConfig(engine="fast", **config))
    exact = train(ls, TrainConfig(engine="exact", **config))
    assert fast.status == exact.status == "diverged"
    np.testing.assert_array_equal(fast.w, exact.w)


def test_reference_dot_overflow_ends_the_run_as_diverged_on_both_engines(ls):
    """LP-SVRG's per-epoch reference dots X_i . W~ run over every row, so they can overflow an 'error'
    register that the sampled rows' dots did not: both engines end the run as diverged, nothing raises."""
    config = dict(algorithm="lpsvrg", epochs=3, epoch_length=2, data_fmt="int8", arithmetic="integer_test_err16",
                  fmt="int8", step_size=4.0 / ls.L, scale=1e-3, seed=0)
    fast = train(ls, TrainConfig(engine="fast", **config))
    exact = train(ls, TrainConfig(engine="exact", **config))
    assert fast.status == exact.status == "diverged"
    assert "reference dot overflowed" in fast.message and fast.message == exact.message
    np.testing.assert_array_equal(fast.w, exact.w)
    np.testing.assert_array_equal(fast.history["loss"], exact.history["loss"])
