"""One table-driven suite every algorithm passes, plus config validation and run statuses."""

import math

import attrs
import numpy as np
import pytest

from lpsim import FixedPoint
from lpsim.algorithms import ALGORITHMS, HISTORY_KEYS, TrainConfig, train
from lpsim.data import Dataset, make_dataset
from lpsim.models import make_model

LOW_PRECISION = ("lpsgd", "lpsvrg", "halp")


def _same_history(a, b):
    assert a.history.keys() == b.history.keys()
    for key in a.history:
        if key != "seconds":
            np.testing.assert_array_equal(a.history[key], b.history[key], err_msg=key)
    np.testing.assert_array_equal(a.w, b.w)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_converges_on_an_easy_problem(easy_ls, algorithm):
    res = train(easy_ls, TrainConfig(algorithm=algorithm, epochs=8, step_size=0.5 / easy_ls.L))
    h = res.history
    assert res.status == "ok" and res.epochs_run == 8
    assert set(HISTORY_KEYS) <= set(h) and all(len(v) == 9 for v in h.values())
    np.testing.assert_array_equal(h["epoch"], np.arange(9))
    assert h["gap"][-1] < 1e-3 * h["gap"][0]
    assert h["dist"][0] == pytest.approx(np.linalg.norm(easy_ls.optimum()[0]))
    assert np.all(np.diff(h["seconds"]) >= 0)
    np.testing.assert_allclose(h["gap"], h["loss"] - easy_ls.optimum()[1], atol=1e-14)
    assert res.w.shape == (easy_ls.dim,) and easy_ls.gap(res.w) == h["gap"][-1]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_deterministic_for_a_seed(tiny_ls, algorithm):
    config = TrainConfig(algorithm=algorithm, epochs=3, seed=11)
    _same_history(train(tiny_ls, config), train(tiny_ls, config))
    other = train(tiny_ls, attrs.evolve(config, seed=12))
    assert not np.array_equal(other.w, train(tiny_ls, config).w)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("rounding", ["stochastic", "nearest_even"])
def test_exact_and_fast_engines_agree(tiny_ls, algorithm, rounding):
    config = TrainConfig(algorithm=algorithm, epochs=2, epoch_length=15, batch_size=2, seed=5, rounding=rounding,
                         fmt=FixedPoint(bits=6, frac_bits=0), data_fmt=FixedPoint(bits=5, frac_bits=0))
    _same_history(train(tiny_ls, attrs.evolve(config, engine="exact")), train(tiny_ls, attrs.evolve(config, engine="fast")))


def _three_classes():
    rng = np.random.default_rng(8)
    X, X_test = rng.standard_normal((90, 3)), rng.standard_normal((30, 3))
    W = rng.standard_normal((3, 3)) * 2
    y = (X @ W + rng.gumbel(size=(90, 3))).argmax(axis=1)
    y_test = (X_test @ W).argmax(axis=1)
    return Dataset(X=X, y=y, X_test=X_test, y_test=y_test, n_classes=3, name="three")


CLASSIFIERS = {
    "logistic": lambda: make_model("logistic", make_dataset("logistic", n=80, d=3, seed=4, n_test=40), l2=0.05),
    "softmax": lambda: make_model("softmax", _three_classes(), l2=0.3),
}


@pytest.mark.parametrize("kind", CLASSIFIERS)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_converges_with_minibatches_on_classifiers(algorithm, kind):
    model = CLASSIFIERS[kind]()
    res = train(model, TrainConfig(algorithm=algorithm, epochs=6, batch_size=4, step_size=1.0 / model.L))
    h = res.history
    assert res.status == "ok" and h["epoch"].size == 7 and h["epoch"][-1] == 6
    # Constant-step SGD stalls at its gradient-noise floor, LP-SVRG at its 8-bit grid's; SVRG and HALP go on.
    reduction = {"sgd": 0.2, "lpsgd": 0.2, "lpsvrg": 1e-2, "svrg": 1e-4, "halp": 1e-4}[algorithm]
    assert h["gap"][-1] < reduction * h["gap"][0]
    assert h["train_acc"][-1] > 0.6 and 0.0 <= h["test_acc"][-1] <= 1.0
    assert h["train_acc"][-1] == model.accuracy(res.w)


@pytest.mark.parametrize("algorithm", ["sgd", "svrg"])
def test_float_divergence_is_a_status_not_an_exception(easy_ls, algorithm):
    res = train(easy_ls, TrainConfig(algorithm=algorithm, epochs=5, step_size=20 / easy_ls.L))
    assert res.status == "diverged" and "epoch 1" in res.message
    assert res.history["epoch"][-1] == 1 and len(res.history["gap"]) == 2


@pytest.mark.parametrize("algorithm", LOW_PRECISION)
def test_overflow_under_an_error_policy_is_divergence(easy_ls, algorithm):
    fmt = FixedPoint(bits=8, frac_bits=0, overflow="error")
    res = train(easy_ls, TrainConfig(algorithm=algorithm, epochs=5, step_size=20 / easy_ls.L, fmt=fmt))
    assert res.status == "diverged" and "outside [-128, 127]" in res.message


def test_halp_with_a_huge_step_diverges_past_the_bound(easy_ls):
    res = train(easy_ls, TrainConfig(algorithm="halp", epochs=60, step_size=20 / easy_ls.L, divergence_factor=100))
    assert res.status == "diverged" and "divergence bound" in res.message
    assert res.history["dist"][-1] > 100 * res.history["dist"][0]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_zero_gradient_at_the_start(algorithm):
    ds = make_dataset("least_squares", n=10, d=2, seed=0)
    zero = Dataset(X=ds.X, y=np.zeros(10), name="zeros")  # w* = 0 = w0, and every gradient there is 0
    res = train(make_model("least_squares", zero), TrainConfig(algorithm=algorithm, epochs=3, mu=1.0, scale=None))
    if algorithm in ("svrg", "lpsvrg", "halp"):
        assert res.status == "converged" and "exactly 0" in res.message and res.history["epoch"].tolist() == [0.0]
    else:
        assert res.status == "ok" and np.all(res.history["gap"] == 0)
    assert np.all(res.w == 0)


def test_recorded_scales(easy_ls):
    fmt = FixedPoint(bits=8, frac_bits=0)
    g0 = np.linalg.norm(easy_ls.full_grad(np.zeros(easy_ls.dim)))
    lp = train(easy_ls, TrainConfig(algorithm="lpsgd", epochs=2, fmt=fmt))
    assert np.all(lp.history["scale"] == g0 / (easy_ls.mu * 127))
    fixed = train(easy_ls, TrainConfig(algorithm="lpsvrg", epochs=2, scale=0.125))
    assert np.all(fixed.history["scale"] == 0.125)
    assert np.all(np.isnan(train(easy_ls, TrainConfig(algorithm="svrg", epochs=2)).history["scale"]))
    # LP iterates sit on their grid: w / delta is an integer in [-128, 127].
    k = fixed.w / 0.125
    assert np.all(k == np.round(k)) and np.all(np.abs(k) <= 128)


def test_defaults_are_documented_values(easy_ls):
    config = TrainConfig(algorithm="sgd")
    assert (config.epochs, config.batch_size, config.seed, config.engine, config.arithmetic) == (20, 1, 0, "fast", "float")
    assert config.fmt == FixedPoint(bits=8, frac_bits=0) and config.rounding.mode.value == "stochastic"
    # Default step 1/(4L) and T = 2 ceil(n / B): identical to passing them explicitly.
    explicit = TrainConfig(algorithm="svrg", epochs=2, step_size=0.25 / easy_ls.L, epoch_length=2 * 64)
    _same_history(train(easy_ls, TrainConfig(algorithm="svrg", epochs=2)), train(easy_ls, explicit))
    by_batch = TrainConfig(algorithm="sgd", epochs=1, batch_size=5, epoch_length=2 * 13, seed=2)
    _same_history(train(easy_ls, attrs.evolve(by_batch, epoch_length=None)), train(easy_ls, by_batch))


@pytest.mark.parametrize("kwargs,match", [
    (dict(algorithm="adam"), "algorithm must be one of"),
    (dict(algorithm="sgd", step_size=0), "step_size"),
    (dict(algorithm="sgd", step_size=math.inf), "step_size"),
    (dict(algorithm="sgd", epochs=-1), "epochs"),
    (dict(algorithm="sgd", epoch_length=0), "epoch_length"),
    (dict(algorithm="sgd", batch_size=1.5), "batch_size"),
    (dict(algorithm="sgd", seed=-3), "seed"),
    (dict(algorithm="halp", mu=-1.0), "mu"),
    (dict(algorithm="halp", scale=0.1), "computes its scale"),
    (dict(algorithm="sgd", scale=0.1), "does not quantize"),
    (dict(algorithm="halp", fmt=FixedPoint(bits=8, signed=False, frac_bits=0)), "signed"),
    (dict(algorithm="halp", fmt=3), "fmt must be"),
    (dict(algorithm="halp", rounding="sideways"), "mode must be one of"),
    (dict(algorithm="sgd", engine="gpu"), "engine must be one of"),
    (dict(algorithm="halp", arithmetic="analog"), "arithmetic must be one of"),
    (dict(algorithm="sgd", divergence_factor=1.0), "divergence_factor"),
])
def test_config_rejects_bad_values(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        TrainConfig(**kwargs)


def test_config_accepts_format_specs_and_rounding_strings():
    config = TrainConfig(algorithm="halp", fmt="int8", rounding="sr8", data_fmt="int8")
    assert config.fmt == FixedPoint(bits=8, frac_bits=0) and config.rounding.random_bits == 8
    assert hash(config) == hash(TrainConfig(algorithm="halp", fmt="int8", rounding="sr8", data_fmt="int8"))


def test_halp_needs_a_strong_convexity_constant():
    model = make_model("logistic", make_dataset("logistic", n=30, d=2, seed=1))  # l2 = 0: mu = 0
    with pytest.raises(ValueError, match="pass TrainConfig\\(mu=...\\)"):
        train(model, TrainConfig(algorithm="halp", epochs=1))
    with pytest.raises(ValueError, match="or scale="):
        train(model, TrainConfig(algorithm="lpsgd", epochs=1))
    assert train(model, TrainConfig(algorithm="halp", epochs=1, mu=0.1)).status == "ok"
    with pytest.raises(TypeError, match="TrainConfig"):
        train(model, {"algorithm": "sgd"})


def test_quantized_data_lies_on_its_grid_and_is_what_training_sees(tiny_ls):
    from lpsim.algorithms.train import quantized_model

    config = TrainConfig(algorithm="halp", epochs=3, data_fmt=FixedPoint(bits=4, frac_bits=0))
    qm = quantized_model(tiny_ls, config)
    s = np.max(np.abs(tiny_ls.X)) / 7
    k = qm.X / s
    assert np.all(np.abs(k - np.round(k)) < 1e-9) and np.all(np.abs(np.round(k)) <= 7)
    assert np.max(np.abs(qm.X - tiny_ls.X)) <= s / 2 * (1 + 1e-12)  # nearest rounding
    res = train(tiny_ls, config)
    assert res.history["gap"][-1] == pytest.approx(qm.gap(res.w), rel=1e-12, abs=1e-300)
