"""Optimizers: HALP's bit centering, low-precision grids, validation and the paper's behaviour on a tiny MLP."""

import numpy as np
import pytest

from lpsim import nn, quantize
from lpsim.nn.optim import bit_centered_step
from lpsim.nn.quant import Rounder

from .nets import blobs

TINY_MLP = nn.ModelConfig(hidden=(8,), activation="tanh")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_halp_8_bits_reaches_lower_loss_than_lp_sgd_8_bits(seed):
    """Bit centering shrinks HALP's grid with the gradient; LP-SGD's fixed grid leaves a noise floor."""
    data = blobs(64, 4, 3, seed=0)
    final = {}
    for opt in (nn.LPSGD(lr=0.5, bits=8), nn.HALP(lr=0.5, bits=8, mu=1.0)):
        result = nn.train(nn.TrainConfig(model=TINY_MLP, optimizer=opt, epochs=60, batch_size=16, seed=seed), data)
        assert result.status == "ok"
        final[opt.name] = result.history[-1]
    assert final["halp"].train_loss < final["lpsgd"].train_loss
    assert final["halp"].grad_norm < 0.5 * final["lpsgd"].grad_norm


def test_halp_offsets_stay_on_the_bit_centered_grid():
    rng = np.random.default_rng(0)
    params = {"linear0.W": rng.standard_normal((3, 2)), "linear0.b": np.zeros(2)}
    full = {"linear0.W": rng.standard_normal((3, 2)), "linear0.b": np.zeros(2)}  # b is at a stationary point
    opt, rounder = nn.HALP(lr=0.3, bits=4, mu=2.0), Rounder()
    params, state = opt.init(params, rounder)
    params, state = opt.anchor(params, full, state, rounder)
    step = state["steps"]["linear0.W"]
    assert step == pytest.approx(np.linalg.norm(full["linear0.W"]) / (2.0 * 7))
    assert state["steps"]["linear0.b"] == 0.0
    for _ in range(5):
        grads = {k: rng.standard_normal(v.shape) for k, v in params.items()}
        params, state = opt.update(params, grads, grads, state, rounder)
        codes = state["z"]["linear0.W"] / step
        np.testing.assert_allclose(codes, np.round(codes), atol=1e-9)
        assert codes.min() >= -8 and codes.max() <= 7
        np.testing.assert_array_equal(state["z"]["linear0.b"], 0.0)  # guarded: no division by ||g~|| = 0
        np.testing.assert_array_equal(params["linear0.W"], state["anchor"]["linear0.W"] + state["z"]["linear0.W"])


def test_bit_centered_step_is_zero_for_a_zero_gradient():
    assert bit_centered_step(np.zeros(4), 1.0, 8) == 0.0


def test_lp_sgd_keeps_weights_on_each_layers_grid():
    rng = np.random.default_rng(1)
    params = {"linear0.W": rng.standard_normal((4, 3)), "linear0.b": np.zeros(3)}
    opt, rounder = nn.LPSGD(lr=0.1, bits=6, headroom=2.0), Rounder()
    params, state = opt.init(params, rounder)
    params, state = opt.update(params, {k: rng.standard_normal(v.shape) for k, v in params.items()}, state, rounder)
    delta = state["steps"]["linear0.W"]
    assert state["steps"]["linear0.b"] == delta  # one grid per layer
    for value in params.values():
        np.testing.assert_allclose(value / delta, np.round(value / delta), atol=1e-9)


@pytest.mark.parametrize("opt", [nn.SGD(lr=0.2), nn.Momentum(lr=0.05), nn.Adam(lr=0.01), nn.SVRG(lr=0.2),
                                 nn.LPSVRG(lr=0.2, bits=10)], ids=lambda o: o.name)
def test_every_optimizer_lowers_the_training_loss(opt):
    data = blobs(48, 4, 3, seed=2)
    result = nn.train(nn.TrainConfig(model=TINY_MLP, optimizer=opt, epochs=8, batch_size=12), data)
    loss = result.column("train_loss")
    assert result.status == "ok" and loss[-1] < 0.5 * loss[0]


def test_optimizer_state_quantization_point_rounds_momentum():
    data = blobs(24, 3, 2, seed=4)
    quant = nn.QuantConfig(optimizer_state="e5m2")
    base = nn.TrainConfig(model=TINY_MLP, optimizer=nn.Momentum(lr=0.05), epochs=1, batch_size=8)
    plain = nn.train(base, data)
    rounded = nn.train(nn.TrainConfig(model=TINY_MLP, optimizer=nn.Momentum(lr=0.05), epochs=1, batch_size=8,
                                      quant=quant), data)
    assert any(not np.array_equal(plain.params[k], rounded.params[k]) for k in plain.params)


def test_epoch_length_sets_anchor_frequency():
    data = blobs(32, 3, 2, seed=4)
    runs = [nn.train(nn.TrainConfig(model=TINY_MLP, optimizer=nn.SVRG(lr=0.2), epochs=2, batch_size=8, epoch_length=T),
                     data) for T in (1, 4)]
    # T = 1: every step starts at a fresh anchor, so its direction is the full gradient: 8 steps of
    # gradient descent, as SGD takes with one full batch per epoch for 8 epochs
    sgd = nn.train(nn.TrainConfig(model=TINY_MLP, optimizer=nn.SGD(lr=0.2), epochs=8, batch_size=32), data)
    for key in sgd.params:
        np.testing.assert_allclose(runs[0].params[key], sgd.params[key], rtol=0, atol=1e-12)
    assert any(not np.allclose(runs[1].params[k], sgd.params[k]) for k in sgd.params)


def test_unknown_optimizer_lists_allowed_names():
    with pytest.raises(ValueError, match="allowed: sgd, momentum, adam, lpsgd, svrg, lpsvrg, halp"):
        nn.make_optimizer("rmsprop")


@pytest.mark.parametrize("kwargs, match", [
    (dict(lr=0.0), "lr must be a positive"), (dict(bits=1), r"bits must be an integer in \[2, 32\]"),
    (dict(mu=-1.0), "mu must be a positive"),
])
def test_halp_settings_are_validated(kwargs, match):
    with pytest.raises(ValueError, match=match):
        nn.HALP(**kwargs)


@pytest.mark.parametrize("cls", [nn.LPSGD, nn.LPSVRG])
def test_low_precision_weights_can_live_in_any_format(cls):
    data = blobs(24, 3, 2, seed=4)
    result = nn.train(nn.TrainConfig(model=TINY_MLP, optimizer=cls(lr=0.2, fmt="bfloat16"), epochs=2, batch_size=8),
                      data)
    assert result.status == "ok"
    for value in result.params.values():
        np.testing.assert_array_equal(value, quantize(value, "bfloat16"))
    assert result.history[-1].train_loss < result.history[0].train_loss
