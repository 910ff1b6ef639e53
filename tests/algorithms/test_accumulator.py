"""TrainConfig.accumulator: a hardware profile / Accumulator sums the integer loop's dot x_i . z."""

import numpy as np
import pytest

from lpsim.algorithms import TrainConfig, train
from lpsim.arith import Accumulator, IntRegister, Summation, get_profile
from lpsim.data import make_dataset
from lpsim.models import make_model

WRAP8 = Accumulator(accumulator=IntRegister(bits=8, overflow="wrap"))
SAT8 = Accumulator(accumulator=IntRegister(bits=8, overflow="saturate"))
SAT8_CHUNKED = Accumulator(accumulator=IntRegister(bits=8, overflow="saturate"),
                           summation=Summation.chunked(3, IntRegister(bits=9, overflow="saturate")))
WRAP16 = Accumulator(accumulator=IntRegister(bits=16, overflow="wrap"))
SAT16 = Accumulator(accumulator=IntRegister(bits=16, overflow="saturate"))
SAT18 = Accumulator(accumulator=IntRegister(bits=18, overflow="saturate"))


def _least_squares(n, d, condition_number, noise, seed):
    model = make_model("least_squares", make_dataset("least_squares", n=n, d=d, condition_number=condition_number,
                                                     noise=noise, seed=seed))
    model.optimum()
    return model


@pytest.fixture(scope="module")
def small():
    """4-bit features and iterate, so an 8-bit register (a product takes at most 64) overflows with d = 12."""
    return _least_squares(24, 12, 3.0, 0.2, 4)


def _small_config(model, algorithm, accumulator, engine):
    extra = {"scale": float(np.abs(model.optimum()[0]).max()) / 7} if algorithm == "lpsgd" else {}
    return TrainConfig(algorithm=algorithm, arithmetic="integer", data_fmt="fixed4_f0", fmt="fixed4_f0", epochs=3,
                       epoch_length=15, seed=7, step_size=2.0 / model.L, accumulator=accumulator, engine=engine,
                       **extra)


@pytest.mark.parametrize("algorithm, accumulator, acts", [
    ("lpsgd", WRAP8, True),
    ("lpsgd", SAT8, True),
    ("lpsgd", SAT8_CHUNKED, False),
    ("halp", WRAP8, False),
], ids=lambda v: getattr(v, "spec", str(v)))
def test_fast_and_exact_engines_agree_with_a_narrow_register(small, algorithm, accumulator, acts):
    fast = train(small, _small_config(small, algorithm, accumulator, "fast"))
    exact = train(small, _small_config(small, algorithm, accumulator, "exact"))
    assert fast.status == exact.status == "ok"
    np.testing.assert_array_equal(fast.w, exact.w)
    for key in ("grad_norm", "scale", "loss"):
        np.testing.assert_array_equal(fast.history[key], exact.history[key])
    default = train(small, _small_config(small, algorithm, None, "fast"))
    # the register overflowed and changed the run (else both engines may simply have run the exact sum)
    assert (not np.array_equal(fast.w, default.w)) == acts


@pytest.fixture(scope="module")
def wide():
    """d = 64 with LP-SGD's 8-bit grid nearly filled by w*: |x_i . w| in codes passes 2**15."""
    return _least_squares(128, 64, 4.0, 0.1, 0)


def _wide_run(model, algorithm, accumulator, seed):
    extra = {"scale": float(np.abs(model.optimum()[0]).max()) / 100} if algorithm == "lpsgd" else {}
    config = TrainConfig(algorithm=algorithm, arithmetic="integer", data_fmt="int8", epochs=8, seed=seed,
                         step_size=0.5 / model.L, accumulator=accumulator, **extra)
    result = train(model, config)
    assert result.status == "ok", result.message
    return result


@pytest.mark.parametrize("seed", [0, 1])
def test_a_wrapping_int16_register_ruins_lpsgd_and_wide_registers_change_nothing(wide, seed):
    exact = _wide_run(wide, "lpsgd", None, seed)
    floor = exact.history["grad_norm"][-3:].min()
    wrapped = _wide_run(wide, "lpsgd", WRAP16, seed)
    assert wrapped.history["grad_norm"][-3:].min() > 5 * floor  # measured 12x - 22x over seeds 0..3
    saturated = _wide_run(wide, "lpsgd", SAT16, seed)
    assert not np.array_equal(saturated.w, exact.w)  # clipping changes the bits, mildly
    for accumulator in (SAT18, "vnni_int8_int32_sat", "avx2_maddubs_int16"):
        np.testing.assert_array_equal(_wide_run(wide, "lpsgd", accumulator, seed).history["grad_norm"],
                                      exact.history["grad_norm"])


def test_bit_centering_keeps_halps_dots_inside_int16(wide):
    # HALP's z covers only ||w~ - w*||: its codes stay small, so the same int16 register never wraps
    exact = _wide_run(wide, "halp", None, 0)
    np.testing.assert_array_equal(_wide_run(wide, "halp", WRAP16, 0).w, exact.w)


def test_profile_names_profiles_and_accumulators_are_one_value():
    base = dict(algorithm="halp", arithmetic="integer", data_fmt="int8")
    by_name = TrainConfig(accumulator="vnni_int8_int32", **base)
    assert by_name.accumulator == get_profile("vnni_int8_int32").accumulator
    assert by_name == TrainConfig(accumulator=get_profile("vnni_int8_int32"), **base)
    assert TrainConfig(**base).accumulator is None


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(accumulator="fp64"), ValueError,
     r"cannot sum the dot x_i \. z .*the profiles it can run: avx2_maddubs_int16, exact, vnni_int8_int32"),
    (dict(accumulator="bf16_fp32"), ValueError, "integer or exact registers"),
    (dict(accumulator="vnni_int8_int32", arithmetic="float", data_fmt=None), ValueError,
     "accumulator applies to an integer inner loop"),
    (dict(accumulator=Accumulator(accumulator=IntRegister(bits=15, overflow="saturate"))), ValueError,
     r"int15_sat .* narrower than a single product of x_i \(data_fmt\)"),
    (dict(accumulator="no_such_profile"), ValueError, "TrainConfig: accumulator: unknown hardware profile"),
    (dict(accumulator=16), TypeError, "TrainConfig: accumulator: accumulator must be an Accumulator"),
])
def test_bad_accumulators_are_rejected_at_construction(kwargs, error, match):
    config = dict(algorithm="halp", arithmetic="integer", data_fmt="int8")
    config.update(kwargs)
    with pytest.raises(error, match=match):
        TrainConfig(**config)
