"""Every layer's backward agrees with finite differences of its forward, in float64."""

import numpy as np
import pytest

from lpsim.nn import gradcheck, layers
from lpsim.nn.loss import softmax_cross_entropy

TOL = 1e-7


def _cases(rng):
    return [
        (layers.Linear(5, 4, rng), rng.standard_normal((3, 5))),
        (layers.Linear(5, 4, rng, init="glorot"), rng.standard_normal((2, 5))),
        (layers.Conv2d(2, 3, 3, rng), rng.standard_normal((2, 2, 5, 5))),
        (layers.Conv2d(2, 3, 3, rng, stride=2, padding=1), rng.standard_normal((2, 2, 5, 6))),
        (layers.ReLU(), rng.standard_normal((4, 6)) + 0.01),
        (layers.Tanh(), rng.standard_normal((4, 6))),
        (layers.MaxPool2d(2), rng.standard_normal((2, 3, 5, 4))),
        (layers.AvgPool2d(2), rng.standard_normal((2, 3, 5, 4))),
        (layers.Flatten(), rng.standard_normal((2, 3, 2, 2))),
        (layers.GRU(3, 4, rng), rng.standard_normal((2, 5, 3))),
    ]


@pytest.mark.parametrize("index", range(10))
def test_backward_matches_finite_differences(index):
    rng = np.random.default_rng(index)
    layer, x = _cases(rng)[index]
    layer.params = {k: v + 0.1 * rng.standard_normal(v.shape) for k, v in layer.params.items()}  # nonzero biases
    errors = gradcheck.check_layer(layer, x, rng)
    assert set(errors) == {"x", *layer.params}
    assert max(errors.values()) < TOL, errors


def test_every_registered_layer_is_checked():
    rng = np.random.default_rng(0)
    assert {type(layer) for layer, _ in _cases(rng)} == set(layers.LAYERS.values())


def test_softmax_cross_entropy_gradient():
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((4, 5)) * 3
    labels = np.array([0, 4, 2, 2])
    _, grad = softmax_cross_entropy(logits, labels)
    numeric = gradcheck.numerical_gradient(lambda: softmax_cross_entropy(logits, labels)[0], logits)
    np.testing.assert_allclose(grad, numeric, atol=1e-9)


def test_softmax_cross_entropy_is_stable_for_large_logits():
    loss, grad = softmax_cross_entropy(np.array([[1000.0, 0.0]]), np.array([1]))
    assert loss == pytest.approx(1000.0) and np.all(np.isfinite(grad))


def test_maxpool_routes_gradient_to_one_maximum_on_ties():
    pool = layers.MaxPool2d(2)
    pool.forward(np.ones((1, 1, 2, 2)))
    assert pool.backward(np.ones((1, 1, 1, 1))).sum() == 1.0


@pytest.mark.parametrize("layer, x, shapes", [
    (layers.Linear(5, 4, np.random.default_rng(0)), np.zeros((3, 6)), ("(3, 6)", "(N, 5)")),
    (layers.Conv2d(2, 3, 3, np.random.default_rng(0)), np.zeros((1, 1, 5, 5)), ("(1, 1, 5, 5)", "(N, 2, *, *)")),
    (layers.GRU(3, 4, np.random.default_rng(0)), np.zeros((2, 5)), ("(2, 5)", "(N, *, 3)")),
])
def test_shape_mismatch_names_layer_and_both_shapes(layer, x, shapes):
    layer.name = "probe7"
    with pytest.raises(layers.ShapeError, match="probe7") as info:
        layer.forward(x)
    for shape in shapes:
        assert shape in str(info.value)


def test_unknown_layer_lists_allowed():
    with pytest.raises(ValueError, match="allowed: linear, conv2d"):
        layers.make_layer("dense")
