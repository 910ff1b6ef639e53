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
"""

from __future__ import annotations

import collections
import contextlib
import zlib

import attrs
import numpy as np

from ..codec import check_engine, check_format, quantize
from ..formats.base import Format
from ..formats.rounding import NEAREST_EVEN, Rounding, as_rounding
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


class Rounder:
    """Applies a QuantConfig during training: keys stochastic rounding and keeps delayed-amax history.

    Training passes and evaluation passes (``evaluating()``) count separately and draw from
    separate streams, so how often a run is evaluated does not change its training bits; an
    evaluation does not add to the delayed-scaling history."""

    def __init__(self, config: QuantConfig | None = None, seed: int = 0, engine: str = "fast"):
        self.config = QuantConfig() if config is None else config
        self.seed = seed
        self.engine = check_engine(engine)
        self._passes = {True: 0, False: 0}  # training, evaluation
        self.training = True
        self._amax_history: dict[tuple[str, str], collections.deque] = {}

    @property
    def pass_index(self) -> int:
        return self._passes[self.training]

    def next_pass(self) -> None:
        self._passes[self.training] += 1

    @contextlib.contextmanager
    def evaluating(self):
        """Round as in training, on the evaluation pass counter and streams, without recording history."""
        training, self.training = self.training, False
        try:
            yield self
        finally:
            self.training = training

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
        try:
            if scale is None:
                return quantize(x, fmt, quantizer.rounding, **key)
            return quantize(x / scale, fmt, quantizer.rounding, **key) * scale
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
