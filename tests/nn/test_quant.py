"""Quantization points: scalings, keyed stochastic rounding, range errors naming the layer and tensor."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lpsim import nn, quantize
from lpsim.formats import E4M3
from lpsim.nn.quant import Quantizer, Rounder

from .nets import blobs

finite = st.floats(-1e3, 1e3, allow_nan=False, width=64)


def _rounder(**points):
    return Rounder(nn.QuantConfig(**points), seed=3)


@given(arrays(np.float64, (3, 5), elements=finite))
def test_tensor_scaling_maps_amax_to_the_formats_largest_value(x):
    out = _rounder(weight=Quantizer(fmt="e4m3", scaling="tensor"))("weight", "linear0", "W", x)
    amax = np.max(np.abs(x))
    if amax > 0:
        s = amax / E4M3.max or amax  # amax near the smallest subnormal: amax maps to 1.0
        np.testing.assert_array_equal(out, quantize(x / s, E4M3) * s)
        assert np.max(np.abs(out)) == pytest.approx(amax, rel=1e-12)
    else:
        np.testing.assert_array_equal(out, 0.0)


@given(arrays(np.float64, (4, 3), elements=finite))
def test_channel_scaling_scales_each_index_of_the_axis(x):
    out = _rounder(weight=Quantizer(fmt="int8", scaling="channel", axis=1))("weight", "l", "W", x)
    for j in range(3):
        col = x[:, j]
        amax = np.max(np.abs(col))
        s = amax / 127 or amax  # amax near the smallest subnormal: amax maps to 1.0
        expected = quantize(col / s, "int8") * s if amax > 0 else col * 0
        np.testing.assert_allclose(out[:, j], expected, rtol=1e-15, atol=0)


def test_delayed_scaling_uses_the_history_window():
    rounder = _rounder(activation=Quantizer(fmt="int8", scaling="delayed", history=2))
    point = lambda x: rounder("activation", "relu1", "out", np.asarray(x, dtype=float))  # noqa: E731
    np.testing.assert_array_equal(point([127.0, 1.0]), [127.0, 1.0])    # first call: its own amax
    np.testing.assert_array_equal(point([1.0, 0.5]), [1.0, 0.0])        # scale from amax 127: step 1
    np.testing.assert_array_equal(point([2.0, 0.0]), [2.0, 0.0])        # window {127, 1}: still step 1
    step = 2 / 127                                                       # window {1, 2}: amax 2
    np.testing.assert_allclose(point([0.5, 0.25]), np.round(np.array([0.5, 0.25]) / step) * step, rtol=1e-12)


def test_stochastic_rounding_replays_and_differs_by_point_and_pass():
    x = np.linspace(-1, 1, 101)
    q = Quantizer(fmt="e4m3", rounding="stochastic", scaling="none")

    def draw(rounder, layer):
        return rounder("error", layer, "in", x * 0.0137)

    a, b = _rounder(error=q), _rounder(error=q)
    first = draw(a, "linear0")
    np.testing.assert_array_equal(first, draw(b, "linear0"))           # same seed, point and pass: same bits
    assert not np.array_equal(first, draw(a, "linear2"))               # another layer: another stream
    a.next_pass()
    assert not np.array_equal(first, draw(a, "linear0"))               # another pass: other random bits


def test_format_that_cannot_hold_the_tensor_names_layer_and_tensor():
    rounder = _rounder(activation=Quantizer(fmt="e4m3_error"))
    with pytest.raises(nn.QuantizationRangeError, match=r"layer 'relu3', tensor 'activation:out'.*e4m3"):
        rounder("activation", "relu3", "out", np.array([1.0, 1e4]))
    # per-tensor scaling brings the same tensor into range
    _rounder(activation=Quantizer(fmt="e4m3_error", scaling="tensor"))("activation", "relu3", "out", np.array([1.0, 1e4]))


def test_training_reports_range_error_as_status_naming_the_point():
    data = blobs(16, 3, 2, seed=1)
    data = nn.NetData(X=data.X * 1e4, y=data.y, X_test=data.X_test, y_test=data.y_test, n_classes=2)
    config = nn.TrainConfig(model=nn.ModelConfig(hidden=(4,)), epochs=1, batch_size=8,
                            quant=nn.QuantConfig(activation="e4m3_error"))
    result = nn.train(config, data)
    assert result.status == "overflow" and "layer 'input', tensor 'activation:x'" in result.message


def test_quantizer_rejects_bad_settings():
    with pytest.raises(ValueError, match="scaling must be one of none, tensor, channel, delayed"):
        Quantizer(fmt="e4m3", scaling="amax")
    with pytest.raises(ValueError, match="history must be an integer >= 1"):
        Quantizer(fmt="e4m3", scaling="delayed", history=0)
    with pytest.raises(ValueError, match="unknown"):
        Quantizer(fmt="e9m9x")


def test_default_config_rounds_nothing():
    x = np.random.default_rng(0).standard_normal(7) / 3
    rounder = Rounder()
    for tensor_class in nn.TENSOR_CLASSES:
        assert rounder(tensor_class, "linear0", "W", x) is x


def test_block_formats_quantize_along_their_axis():
    from lpsim.formats import BlockFormat

    x = np.random.default_rng(2).standard_normal((4, 64)) * np.logspace(-3, 3, 64)
    along_rows = BlockFormat.mx("e4m3", block_size=32, axis=0)
    out = _rounder(weight=Quantizer(fmt=along_rows))("weight", "linear0", "W", x)
    np.testing.assert_array_equal(out, quantize(x, along_rows))
    assert not np.array_equal(out, quantize(x, BlockFormat.mx("e4m3", block_size=32, axis=-1)))


def _small_gru(steps=4, seed=0):
    """A GRU whose hidden state stays inside (-0.5, 0.5): on the integer grid of int8 every carried h rounds to 0."""
    rng = np.random.default_rng(seed)
    gru = nn.GRU(2, 3, rng)
    gru.params = {k: 0.1 * v for k, v in gru.params.items()}
    return gru, 0.5 * rng.standard_normal((5, steps, 2))


def test_gru_rounds_the_hidden_state_of_every_step_at_the_activation_point():
    """Each step's h is an activation: rounded to 0 on the integer grid, the last step starts from h = 0, so the
    output is the GRU's output on the last step alone."""
    gru, x = _small_gru()
    gru.arithmetic = nn.Arithmetic(rounder=_rounder(activation="int8"))
    full, last_only = gru.forward(x), gru.forward(x[:, -1:])
    assert np.max(np.abs(full)) > 0
    np.testing.assert_array_equal(full, last_only)
    unrounded, _ = _small_gru()
    assert not np.array_equal(unrounded.forward(x), full)


def test_gru_rounds_the_error_carried_back_through_time_at_the_error_point():
    """dL/dh passed from step t to step t - 1 is an error: rounded to 0 on the integer grid, only the last step's
    input gets a gradient."""
    gru, x = _small_gru()
    gru.arithmetic = nn.Arithmetic(rounder=_rounder(error="int8"))
    gru.forward(x)
    dx = gru.backward(np.full((5, 3), 0.1))
    assert np.all(dx[:, :-1] == 0) and np.any(dx[:, -1] != 0)
    plain, _ = _small_gru()
    plain.forward(x)
    assert np.any(plain.backward(np.full((5, 3), 0.1))[:, :-1] != 0)

