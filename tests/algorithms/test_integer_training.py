"""The integer inner loop inside train(): convergence at 8 bits, and clear errors for what it cannot run."""

import numpy as np
import pytest

from lpsim.algorithms import TrainConfig, train
from lpsim.data import make_dataset
from lpsim.models import make_model


@pytest.fixture(scope="module")
def well_conditioned():
    ds = make_dataset("least_squares", n=256, d=8, condition_number=4.0, noise=0.1, seed=0)
    model = make_model("least_squares", ds)
    return model


def _final(model, **kw):
    config = TrainConfig(epochs=20, data_fmt="int8", seed=1, step_size=0.5 / model.L, **kw)
    result = train(model, config)
    assert result.status == "ok", result.message
    return result


def test_halp_integer_8_bits_reaches_svrg_accuracy(well_conditioned):
    model = well_conditioned
    svrg = _final(model, algorithm="svrg")
    halp = _final(model, algorithm="halp", arithmetic="integer")
    lpsgd = _final(model, algorithm="lpsgd", arithmetic="integer")
    g_svrg, g_halp, g_lp = (r.history["grad_norm"][-1] for r in (svrg, halp, lpsgd))
    assert g_svrg < 1e-8
    assert g_halp < 10 * g_svrg  # within a small factor of full-precision SVRG
    assert g_halp < 1e-6 * g_lp  # far below the fixed grid's floor
    scales = halp.history["scale"][1:]
    assert scales[-1] < 1e-6 * scales[0]  # bit centering shrinks the grid geometrically


def test_halp_integer_logistic_converges():
    model = make_model("logistic", make_dataset("logistic", n=256, d=6, seed=1), l2=0.1)
    result = train(model, TrainConfig(algorithm="halp", arithmetic="integer", epochs=15, data_fmt="int8", seed=1,
                                      step_size=0.5 / model.L))
    assert result.status == "ok"
    assert result.history["grad_norm"][-1] < 1e-9 * result.history["grad_norm"][0]


def test_same_seed_same_history_and_a_new_seed_differs(well_conditioned):
    config = TrainConfig(algorithm="halp", arithmetic="integer", epochs=2, data_fmt="int8", seed=3)
    a, b = train(well_conditioned, config), train(well_conditioned, config)
    np.testing.assert_array_equal(a.w, b.w)
    c = train(well_conditioned, TrainConfig(algorithm="halp", arithmetic="integer", epochs=2, data_fmt="int8", seed=4))
    assert not np.array_equal(a.w, c.w)


@pytest.mark.parametrize("kwargs, match", [
    (dict(algorithm="halp"), "needs data_fmt"),
    (dict(algorithm="svrg", data_fmt="int8"), "algorithm 'svrg'"),
    (dict(algorithm="halp", data_fmt="int8", fmt="e4m3"), "fmt to be a signed FixedPoint"),
    (dict(algorithm="halp", data_fmt="fixed20_f0"), "data_fmt to be a signed FixedPoint"),
    (dict(algorithm="lpsgd", data_fmt="int8", fmt="fixed8_s0.3"), "power-of-two"),
])
def test_config_errors_name_the_field(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(arithmetic="integer", **kwargs)


def test_model_errors():
    ds = make_dataset("logistic", n=20, d=3, seed=0)
    with pytest.raises(ValueError, match="intercept=False"):
        train(make_model("logistic", ds, l2=0.1, intercept=True),
              TrainConfig(algorithm="halp", arithmetic="integer", data_fmt="int8", epochs=1))
