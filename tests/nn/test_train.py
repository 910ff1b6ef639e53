"""train(): history, divergence as a status, determinism, data and architectures."""

import math

import attrs
import numpy as np
import pytest

from lpsim import nn

from .nets import blobs


def test_history_has_one_record_per_epoch_plus_the_start():
    result = nn.train(nn.TrainConfig(model=nn.ModelConfig(hidden=(5,)), epochs=3, batch_size=8), blobs(24, 3, 2, 0))
    assert [r.epoch for r in result.history] == [0, 1, 2, 3]
    assert all(0.0 <= r.test_accuracy <= 1.0 and r.grad_norm >= 0 for r in result.history)
    assert result.column("train_loss")[-1] < result.column("train_loss")[0]


def test_nan_loss_ends_with_status_diverged_and_the_epoch():
    config = nn.TrainConfig(model=nn.ModelConfig(hidden=(5,)), optimizer=nn.SGD(lr=1e200), epochs=5, batch_size=8)
    result = nn.train(config, blobs(24, 3, 2, 0))
    assert result.status == "diverged"
    assert result.epoch in (1, 2) and len(result.history) == result.epoch
    assert "epoch" in result.message


def test_same_seed_same_bits_and_other_seed_other_run():
    data = blobs(24, 3, 2, 0)
    quant = nn.QuantConfig(activation=nn.Quantizer(fmt="bfloat16", rounding="stochastic"))

    def run(seed):
        return nn.train(nn.TrainConfig(model=nn.ModelConfig(hidden=(5,)), optimizer=nn.LPSGD(lr=0.2), epochs=2,
                                       batch_size=8, quant=quant, seed=seed), data).params

    a, b, c = run(4), run(4), run(5)
    assert all(a[k].tobytes() == b[k].tobytes() for k in a)
    assert any(a[k].tobytes() != c[k].tobytes() for k in a)


def test_config_is_a_frozen_hashable_value():
    config = nn.TrainConfig(optimizer=nn.HALP(bits=8), dataset_params={"seed": 1})
    assert config == nn.TrainConfig(optimizer=nn.HALP(bits=8), dataset_params={"seed": 1})
    assert hash(config) == hash(attrs.evolve(config))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        config.epochs = 3


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(epochs=0), ValueError, "epochs must be an integer >= 1"),
    (dict(optimizer="sgd"), TypeError, "optimizer must be one of the lpsim.nn optimizers"),
    (dict(engine="gpu"), ValueError, "engine must be one of fast, exact"),
    (dict(mac="tpu"), ValueError, "unknown hardware profile 'tpu'"),
    (dict(divergence_factor=1.0), ValueError, "divergence_factor must be a finite number > 1"),
    (dict(divergence_factor=math.inf), ValueError, "divergence_factor must be a finite number > 1"),
])
def test_bad_config_is_rejected_at_construction(kwargs, error, match):
    with pytest.raises(error, match=match):
        nn.TrainConfig(**kwargs)


def test_unknown_model_kind_lists_allowed():
    with pytest.raises(ValueError, match="allowed: mlp, cnn, rnn"):
        nn.ModelConfig(kind="transformer")


def test_digits_as_images_and_as_vectors():
    images, vectors = nn.load("digits", images=True), nn.load("digits")
    assert images.sample_shape == (1, 8, 8) and vectors.sample_shape == (64,)
    np.testing.assert_array_equal(images.X.reshape(len(images.y), -1), vectors.X)
    assert nn.load("breast_cancer").sample_shape == (30,)


def test_sequence_task_is_seeded_and_balanced():
    a, b = nn.sequence_task(n=400, seed=3), nn.sequence_task(n=400, seed=3)
    np.testing.assert_array_equal(a.X, b.X)
    assert a.sample_shape == (10, 2)
    assert np.all(a.X[:, :, 1].sum(axis=1) == 2)  # two marked steps per sequence
    labels = ((a.X[:, :, 0] * a.X[:, :, 1]).sum(axis=1) > 1).astype(int)
    np.testing.assert_array_equal(a.y, labels)
    assert 0.35 < a.y.mean() < 0.65
    assert not np.array_equal(a.X, nn.sequence_task(n=400, seed=4).X)


def test_cnn_learns_digits():
    config = nn.TrainConfig(model=nn.ModelConfig(kind="cnn", channels=(4,)), epochs=2, dataset_params={"seed": 0})
    result = nn.train(config)
    assert result.status == "ok" and result.history[-1].test_accuracy > 0.8


def test_rnn_learns_the_sequence_task():
    config = nn.TrainConfig(model=nn.ModelConfig(kind="rnn", hidden=12), dataset="sequence",
                            dataset_params={"n": 500, "length": 6}, optimizer=nn.Adam(lr=0.02), epochs=8)
    result = nn.train(config)
    assert result.status == "ok" and result.history[-1].test_accuracy > 0.75


def test_cnn_on_flat_samples_names_the_shape():
    with pytest.raises(ValueError, match=r"a cnn needs \(channels, height, width\) samples, got shape \(3,\)"):
        nn.train(nn.TrainConfig(model=nn.ModelConfig(kind="cnn")), blobs(8, 3, 2, 0))


def test_evaluation_does_not_change_the_training_bits():
    """train() evaluates the initial network (a loss, gradient and accuracy pass) before its first step;
    one step after a different evaluation (a single forward) gives the same weights, because evaluation
    passes have their own counter and streams and do not feed delayed scaling."""
    data = blobs(16, 3, 2, 0)
    quant = nn.QuantConfig(activation=nn.Quantizer(fmt="e5m2", rounding="stochastic", scaling="delayed"),
                           error=nn.Quantizer(fmt="e5m2_saturate", rounding="stochastic", scaling="tensor"))
    model = nn.ModelConfig(hidden=(4,))
    one = nn.train(nn.TrainConfig(model=model, epochs=1, batch_size=16, quant=quant), data)
    network = nn.build_network(model, data.sample_shape, 2, np.random.default_rng([0, 0]))
    rounder = nn.Rounder(quant, seed=0)
    network.bind(nn.Arithmetic(None, rounder))
    with rounder.evaluating():
        network.predict(data.X)
    batch = np.random.default_rng([0, 1]).permutation(16)
    _, grads = network.loss_and_grads(data.X[batch], data.y[batch])
    for key, value in network.params.items():
        np.testing.assert_array_equal(one.params[key], value - 0.1 * grads[key])


@pytest.mark.parametrize("quant, mac", [
    (nn.QuantConfig(activation="int8"), None),      # fixed point has no code for NaN
    (nn.QuantConfig(error=nn.Quantizer(fmt="int8", scaling="tensor")), None),  # inf amax: NaN after scaling
])
def test_divergence_through_formats_without_nan_is_a_status(quant, mac):
    config = nn.TrainConfig(model=nn.ModelConfig(hidden=(5,)), optimizer=nn.SGD(lr=1e200), epochs=3, batch_size=8,
                            quant=quant, mac=mac)
    result = nn.train(config, blobs(24, 3, 2, 0))
    assert result.status == "diverged" and result.epoch == 1


def test_unknown_dataset_lists_the_known_ones_including_the_sequence_task():
    with pytest.raises(ValueError, match="known: .*digits.*sequence"):
        nn.load("cifar10")


@pytest.mark.parametrize("lr", [1e2, 1e4])
def test_finite_but_blown_up_loss_is_diverged_not_ok(lr):
    """Steps this large send the loss to 1e3 .. 1e30 times its start while it stays finite: blown up, not a result."""
    config = nn.TrainConfig(model=nn.ModelConfig(hidden=(5,)), optimizer=nn.SGD(lr=lr), epochs=3, batch_size=8)
    result = nn.train(config, blobs(24, 3, 2, 0))
    losses = result.column("train_loss")
    assert np.isfinite(losses).all()
    assert result.status == "diverged" and result.epoch == 1 and len(result.history) == 2
    assert losses[-1] > config.divergence_factor * losses[0]
    assert "epoch 1" in result.message and "divergence bound" in result.message


def test_a_loss_inside_the_divergence_bound_is_ok():
    config = nn.TrainConfig(model=nn.ModelConfig(hidden=(5,)), optimizer=nn.SGD(lr=1e2), epochs=3, batch_size=8,
                            divergence_factor=1e9)
    assert nn.train(config, blobs(24, 3, 2, 0)).status == "ok"
