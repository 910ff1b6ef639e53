"""Quantization points: where a network's tensors are rounded, one setting per tensor class.

Tensor classes (QPyTorch's names): ``weight`` (parameters as the forward and backward use
them), ``activation`` (the network input and every layer's output), ``error`` (the gradient
flowing backward into every layer), ``gradient`` (weight gradients), ``optimizer_state``
(momentum and moment estimates). Each defaults to no rounding (float64).

A ``Quantizer`` rounds values into a format with a scaling rule:

* ``none``: the format's own grid;
* ``tensor``: x / s is rounded, s = amax(|x|) / fmt.max, so the largest magnitude meets the
  format's largest value;
* ``channel``: as ``tensor`` with one s per index of ``axis``;
* ``delayed``: as ``tensor`` with amax the largest of the last ``history`` amaxes seen at this
  point (FP8 training's delayed scaling); values beyond it meet the format's overflow policy.

Stochastic rounding draws lpsim's counter-based random bits keyed by (seed, stream, offset):
the stream names the point (layer and tensor), the offset the pass, so a run replays bit for bit.
The bits come from the rounding's generator (``Rounding.generator``, lpsim.rng), or from the
Rounder's ``generator`` when it has one: that one then serves every stochastic rounding of the run.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import zlib

import attrs
import numpy as np

from ..codec import check_engine, check_format, quantize
from ..formats.base import Format
from ..formats.rounding import NEAREST_EVEN, RandomGenerator, Rounding, as_rounding, to_generator
from .errors import NonFiniteError

TENSOR_CLASSES = ("weight", "activation", "error", "gradient", "optimizer_state")
SCALINGS = ("none", "tensor", "channel", "delayed")
# a pass quantizes fewer than 2**32 elements per point, so the pass number times 2**32 keeps offsets apart
PASS_STRIDE = 1 << 32


class QuantizationRangeError(OverflowError):
    """A quantization point's format cannot hold a tensor's values under its scaling (overflow policy 'error')."""


def _to_format(value):
    return None if value is None else check_format(value)


def _check_scaling(instance, attribute, value):
    if value not in SCALINGS:
        raise ValueError(f"Quantizer: scaling must be one of {', '.join(SCALINGS)}, got {value!r}")


def _positive_int(instance, attribute, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"Quantizer: {attribute.name} must be an integer >= 1, got {value!r}")


@attrs.frozen(kw_only=True)
class Quantizer:
    """Round a tensor into ``fmt`` (a Format or a format name/spec; None: leave it in float64)."""

    fmt: Format | None = attrs.field(default=None, converter=_to_format)
    rounding: Rounding = attrs.field(default=NEAREST_EVEN, converter=as_rounding)
    scaling: str = attrs.field(default="none", validator=_check_scaling)
    axis: int = attrs.field(default=-1, validator=attrs.validators.instance_of(int))
    history: int = attrs.field(default=16, validator=_positive_int)

    @property
    def active(self) -> bool:
        return self.fmt is not None


FLOAT64 = Quantizer()


def _to_quantizer(value):
    if value is None:
        return FLOAT64
    if isinstance(value, Quantizer):
        return value
    if isinstance(value, (str, Format)):
        return Quantizer(fmt=value)
    if isinstance(value, dict):
        return Quantizer(**value)
    raise TypeError(f"QuantConfig: expected a Quantizer, a format, a format name or None, got {type(value).__name__}")


@attrs.frozen(kw_only=True)
class QuantConfig:
    """One Quantizer per tensor class (a format name is shorthand for Quantizer(fmt=name))."""

    weight: Quantizer = attrs.field(default=FLOAT64, converter=_to_quantizer)
    activation: Quantizer = attrs.field(default=FLOAT64, converter=_to_quantizer)
    error: Quantizer = attrs.field(default=FLOAT64, converter=_to_quantizer)
    gradient: Quantizer = attrs.field(default=FLOAT64, converter=_to_quantizer)
    optimizer_state: Quantizer = attrs.field(default=FLOAT64, converter=_to_quantizer)


def point_stream(layer: str, tensor: str) -> int:
    """The random stream of one quantization point: a stable 32-bit hash of its name."""
    return zlib.crc32(f"{layer}/{tensor}".encode())


def with_generator(rounding: Rounding, generator: RandomGenerator | None) -> Rounding:
    """``rounding`` drawing from ``generator`` if it is stochastic and a generator is given, else unchanged."""
    if generator is None or not rounding.is_stochastic or rounding.generator is generator:
        return rounding
    return _evolved(rounding, generator)


@functools.lru_cache(maxsize=64)
def _evolved(rounding: Rounding, generator: RandomGenerator) -> Rounding:
    # a training loop rounds thousands of times with the same few roundings: evolve (and validate) each once
    return attrs.evolve(rounding, generator=generator)


class Rounder:
    """Applies a QuantConfig during training: keys stochastic rounding and keeps delayed-amax history.

    Training passes and evaluation passes (``evaluating()``) count separately and draw from
    separate streams, so how often a run is evaluated does not change its training bits; an
    evaluation does not add to the delayed-scaling history.

    ``generator`` (None: each rounding's own): the random-bit generator of every stochastic rounding
    this rounder does, whatever generator its Rounding names.

    ``product_key()`` keys the random bits of a matrix product's stochastic registers (lpsim.nn.mac):
    seed the run's, offset 0, stream a 32-bit hash of (training or evaluation, pass, the product's
    position in the pass), so every product of a run draws its own bits."""

    def __init__(self, config: QuantConfig | None = None, seed: int = 0, engine: str = "fast",
                 generator: RandomGenerator | str | None = None):
        self.config = QuantConfig() if config is None else config
        self.seed = seed
        self.engine = check_engine(engine)
        self.generator = None if generator is None else to_generator(generator)
        self._passes = {True: 0, False: 0}  # training, evaluation
        self._products = 0  # matrix products so far in the current pass
        self.training = True
        self._amax_history: dict[tuple[str, str], collections.deque] = {}

    @property
    def pass_index(self) -> int:
        return self._passes[self.training]

    def next_pass(self) -> None:
        self._passes[self.training] += 1
        self._products = 0

    def product_key(self) -> dict:
        """seed, stream and offset for the next matrix product of this pass (see the class docstring)."""
        mode = "train" if self.training else "eval"
        stream = zlib.crc32(f"matmul/{mode}/{self.pass_index}/{self._products}".encode())
        self._products += 1
        return dict(seed=self.seed, stream=stream, offset=0)

    @contextlib.contextmanager
    def evaluating(self):
        """Round as in training, on the evaluation pass counter and streams, without recording history."""
        training, self.training = self.training, False
        products, self._products = self._products, 0
        try:
            yield self
        finally:
            self.training, self._products = training, products

    def __call__(self, tensor_class: str, layer: str, tensor: str, x: np.ndarray) -> np.ndarray:
        quantizer = getattr(self.config, tensor_class)
        if not quantizer.active:
            return x
        return self.round(quantizer, layer, f"{tensor_class}:{tensor}", x)

    def round(self, quantizer: Quantizer, layer: str, tensor: str, x: np.ndarray) -> np.ndarray:
        """Round ``x`` at the point (layer, tensor) by ``quantizer``; errors name the point."""
        fmt = quantizer.fmt
        stream = point_stream(layer, tensor if self.training else f"eval/{tensor}")
        key = dict(seed=self.seed, stream=stream, offset=self.pass_index * PASS_STRIDE, engine=self.engine)
        scale = self._scale(quantizer, layer, tensor, x)
        rounding = with_generator(quantizer.rounding, self.generator)
        try:
            if scale is None:
                return quantize(x, fmt, rounding, **key)
            return quantize(x / scale, fmt, rounding, **key) * scale
        except ValueError as exc:
            if np.isfinite(x).all():
                raise
            raise NonFiniteError(f"layer {layer!r}, tensor {tensor!r}: {exc}") from None
        except OverflowError as exc:
            if not np.isfinite(x).all():
                raise NonFiniteError(f"layer {layer!r}, tensor {tensor!r}: {exc}") from None
            amax = float(np.max(np.abs(x))) if x.size else 0.0
            raise QuantizationRangeError(
                f"layer {layer!r}, tensor {tensor!r}: format {fmt.spec} (max {fmt.max:g}) cannot hold the tensor "
                f"(amax {amax:g}) under scaling {quantizer.scaling!r}: {exc}"
            ) from None

    def _scale(self, quantizer: Quantizer, layer: str, tensor: str, x: np.ndarray):
        if quantizer.scaling == "none" or x.size == 0:
            return None
        top = quantizer.fmt.max
        if quantizer.scaling == "channel":
            axis = quantizer.axis % x.ndim if x.ndim else 0
            others = tuple(i for i in range(x.ndim) if i != axis)
            amax = np.max(np.abs(x), axis=others, keepdims=True)
        else:
            amax = np.max(np.abs(x))
            if quantizer.scaling == "delayed":
                seen = self._amax_history.setdefault((layer, tensor), collections.deque(maxlen=quantizer.history))
                current = amax
                amax = max(seen) if seen else current
                if self.training:
                    seen.append(current)
        # amax / top underflows to 0 for amax near float64's smallest subnormals: those tensors map amax to
        # 1.0 instead (a value of every format); an all-zero tensor (or channel) keeps scale 1
        scale = amax / top
        return np.where(scale > 0, scale, np.where(amax > 0, amax, 1.0))
