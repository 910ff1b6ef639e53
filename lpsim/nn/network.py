"""A sequential network: layers in order, their quantization points, and the standard architectures."""

from __future__ import annotations

import attrs
import numpy as np

from .context import Arithmetic
from .layers import GRU, AvgPool2d, Conv2d, Flatten, Layer, Linear, MaxPool2d, ReLU, Tanh
from .loss import softmax_cross_entropy


class Network:
    """Layers applied in order. Parameters are addressed as ``"<layer>.<tensor>"`` (e.g. ``"linear0.W"``).

    Quantization points (through ``arithmetic``): ``activation`` on the input and every layer's output,
    ``error`` on the loss gradient and every gradient passed back to a layer, ``gradient`` on every
    weight gradient; layers round their own weights. Rounding is treated as the identity in backward
    (the straight-through estimator)."""

    def __init__(self, layers: list[Layer], arithmetic: Arithmetic | None = None):
        self.layers = list(layers)
        for i, layer in enumerate(self.layers):
            layer.name = f"{layer.kind}{i}"
        self.bind(Arithmetic() if arithmetic is None else arithmetic)  # its own pass counters

    def bind(self, arithmetic: Arithmetic) -> None:
        self.arithmetic = arithmetic
        for layer in self.layers:
            layer.arithmetic = arithmetic

    @property
    def params(self) -> dict[str, np.ndarray]:
        return {f"{layer.name}.{k}": v for layer in self.layers for k, v in layer.params.items()}

    def set_params(self, params: dict[str, np.ndarray]) -> None:
        for layer in self.layers:
            for k in layer.params:
                layer.params[k] = params[f"{layer.name}.{k}"]

    def forward(self, x: np.ndarray) -> np.ndarray:
        act = self.arithmetic.round
        x = act("activation", "input", "x", x)
        for layer in self.layers:
            x = act("activation", layer.name, "out", layer.forward(x))
        return x

    def loss_and_grads(self, x: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        """Mean softmax cross-entropy of a batch and its gradient for every parameter (one pass)."""
        rnd = self.arithmetic.round
        loss, d = softmax_cross_entropy(self.forward(x), y)
        d = rnd("error", "loss", "in", d)
        grads = {}
        for i in reversed(range(len(self.layers))):
            layer = self.layers[i]
            d = layer.backward(d)
            for k, g in layer.grads.items():
                grads[f"{layer.name}.{k}"] = rnd("gradient", layer.name, k, g)
            if i:
                d = rnd("error", layer.name, "in", d)
        self.arithmetic.rounder.next_pass()
        return loss, {k: grads[k] for k in self.params}

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Logits of x (one forward pass; rounding keyed as the rounder's current mode)."""
        logits = self.forward(x)
        self.arithmetic.rounder.next_pass()
        return logits


MODELS = ("mlp", "cnn", "rnn")
ACTIVATIONS = {"relu": ReLU, "tanh": Tanh}
POOLS = {"max": MaxPool2d, "avg": AvgPool2d}


def _int_tuple(value):
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,)
    return tuple(value)


def _positive_ints(instance, attribute, value):
    if any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in value):
        raise ValueError(f"ModelConfig: {attribute.name} must be positive integers, got {value!r}")


def _one_of(allowed):
    def check(instance, attribute, value):
        if value not in allowed:
            raise ValueError(f"ModelConfig: unknown {attribute.name} {value!r}; allowed: {', '.join(allowed)}")
    return check


@attrs.frozen(kw_only=True)
class ModelConfig:
    """An architecture. ``mlp``: Linear layers of widths ``hidden`` with ``activation`` between.
    ``cnn``: per entry of ``channels`` a padded ``kernel_size`` convolution, ReLU and a 2 x 2 ``pool``,
    then Flatten and Linear. ``rnn``: a GRU of width hidden[0] read at the last step, then Linear."""

    kind: str = attrs.field(default="mlp", validator=_one_of(MODELS))
    hidden: tuple[int, ...] = attrs.field(default=(64,), converter=_int_tuple, validator=_positive_ints)
    activation: str = attrs.field(default="relu", validator=_one_of(tuple(ACTIVATIONS)))
    channels: tuple[int, ...] = attrs.field(default=(8, 16), converter=_int_tuple, validator=_positive_ints)
    kernel_size: int = attrs.field(default=3, validator=attrs.validators.and_(attrs.validators.instance_of(int),
                                                                            attrs.validators.ge(1)))
    pool: str = attrs.field(default="max", validator=_one_of(tuple(POOLS)))


def build_network(config: ModelConfig, sample_shape: tuple, n_classes: int, rng: np.random.Generator) -> Network:
    """The network of ``config`` for samples of ``sample_shape``, initialized from ``rng``."""
    init = "he" if config.activation == "relu" else "glorot"
    if config.kind == "mlp":
        width = int(np.prod(sample_shape))
        layers: list[Layer] = [Flatten()] if len(sample_shape) > 1 else []
        for h in config.hidden:
            layers += [Linear(width, h, rng, init=init), ACTIVATIONS[config.activation]()]
            width = h
        return Network(layers + [Linear(width, n_classes, rng, init="glorot")])
    if config.kind == "cnn":
        if len(sample_shape) != 3:
            raise ValueError(f"ModelConfig: a cnn needs (channels, height, width) samples, got shape {sample_shape}")
        c, h, w = sample_shape
        layers = []
        for out in config.channels:
            layers += [Conv2d(c, out, config.kernel_size, rng, padding=config.kernel_size // 2), ReLU(),
                       POOLS[config.pool](2)]
            c, h, w = out, h // 2, w // 2
            if h == 0 or w == 0:
                raise ValueError(f"ModelConfig: {len(config.channels)} pooling stages shrink {sample_shape} to nothing")
        return Network(layers + [Flatten(), Linear(c * h * w, n_classes, rng, init="glorot")])
    if len(sample_shape) != 2:
        raise ValueError(f"ModelConfig: an rnn needs (steps, features) samples, got shape {sample_shape}")
    return Network([GRU(sample_shape[1], config.hidden[0], rng), Linear(config.hidden[0], n_classes, rng, init="glorot")])
