"""HALP's full gradient from integer margins (TrainConfig.margin_update)."""

import sys

import numpy as np
import pytest

from lpsim.algorithms import TrainConfig, train
from lpsim.algorithms import integer as integer_module
from lpsim.data import make_dataset
from lpsim.models import make_model

from ..fast.test_fast_integer_softmax import three_classes


@pytest.fixture(scope="module", params=["least_squares", "logistic", "softmax"])
def model(request):
    kind = request.param
    if kind == "softmax":
        return make_model("softmax", three_classes(80, 6, seed=3), l2=0.05)
    if kind == "logistic":
        return make_model(kind, make_dataset("logistic", n=80, d=7, seed=3), l2=0.05)
    return make_model(kind, make_dataset("least_squares", n=80, d=7, condition_number=5.0, noise=0.1, seed=3), l2=0.05)


def config(**overrides):
    base = dict(algorithm="halp", epochs=4, epoch_length=40, data_fmt="int8", arithmetic="integer", seed=5)
    return TrainConfig(**{**base, **overrides})


def test_margins_follow_the_iterate_exactly_up_to_round_off(model, monkeypatch):
    """Each epoch's moved margins equal X @ w~ computed afresh, to float64 round-off."""
    seen = []
    original = integer_module.moved_margins

    def check(m, state, grid):
        margins = original(m, state, grid)
        fresh = m.margins(state.w)
        seen.append(float(np.max(np.abs(margins - fresh)) / max(np.max(np.abs(fresh)), 1e-300)))
        return margins

    monkeypatch.setattr(sys.modules["lpsim.algorithms.train"], "moved_margins", check)
    train(model, config(margin_update=True))
    assert len(seen) == 3 and max(seen) < 1e-12


def test_the_gradient_norm_history_matches_the_float_pass(model):
    plain = train(model, config())
    moved = train(model, config(margin_update=True))
    assert plain.status == moved.status == "ok"
    np.testing.assert_allclose(moved.history["grad_norm"], plain.history["grad_norm"], rtol=1e-9)


def test_both_engines_agree_with_margin_update(model):
    fast = train(model, config(margin_update=True, epochs=2, epoch_length=8))
    exact = train(model, config(margin_update=True, epochs=2, epoch_length=8, engine="exact"))
    np.testing.assert_array_equal(fast.w, exact.w)


@pytest.mark.parametrize("overrides, message", [
    ({"algorithm": "lpsvrg"}, "needs a bit-centered algorithm"),
    ({"arithmetic": "float"}, "and an integer arithmetic"),
])
def test_margin_update_needs_halp_on_an_integer_loop(overrides, message):
    with pytest.raises(ValueError, match=message):
        config(margin_update=True, **overrides)
    with pytest.raises(TypeError, match="margin_update must be True or False"):
        config(margin_update=1)


def test_the_integer_loops_full_pass_reads_the_codes_and_matches_make_anchor(model, monkeypatch):
    """train() with an integer arithmetic takes each anchor from the data codes (code_anchor): the
    margins, loss derivatives and gradient of make_anchor on the float64 features, to round-off."""
    from lpsim.algorithms.parts import make_anchor
    from lpsim.algorithms.train import quantized_model

    train_module = sys.modules["lpsim.algorithms.train"]
    quantized = quantized_model(model, config())
    w = np.random.default_rng(0).standard_normal(model.dim)
    ours, reference = integer_module.code_anchor(quantized, w), make_anchor(quantized, w)
    for key in ("margins", "dloss", "grad"):
        a, b = getattr(ours, key), getattr(reference, key)
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12 * np.max(np.abs(b)))
    calls = []

    def spy(*args):
        calls.append(1)
        return integer_module.code_anchor(*args)

    monkeypatch.setattr(train_module, "code_anchor", spy)
    train(model, config(epochs=2))
    assert len(calls) == 2
