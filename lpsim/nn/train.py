"""Train a network: a frozen config in, a per-epoch history and a status out (never an exception for divergence)."""

from __future__ import annotations

import math
import time

import attrs
import numpy as np

from ..codec import check_engine
from ..formats.rounding import DEFAULT_GENERATOR, RandomGenerator, as_rounding, to_generator
from .context import Arithmetic
from .data import NetData, load
from .errors import NonFiniteError
from .mac import as_mac
from .network import ModelConfig, Network, build_network
from .optim import OPTIMIZERS, SGD
from .quant import QuantConfig, QuantizationRangeError, Rounder

# full-data passes (loss, full gradient, accuracy) run in chunks of this many samples
EVAL_CHUNK = 512


def _to_params(value):
    return tuple(sorted(dict(value).items()))


def _check_optimizer(instance, attribute, value):
    if not isinstance(value, tuple(OPTIMIZERS.values())):
        raise TypeError(f"TrainConfig: optimizer must be one of the lpsim.nn optimizers ({', '.join(OPTIMIZERS)}), "
                        f"got {type(value).__name__}; use lpsim.nn.make_optimizer(name, ...)")


def _positive_int(instance, attribute, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"TrainConfig: {attribute.name} must be an integer >= 1, got {value!r}")


def _optional_positive_int(instance, attribute, value):
    if value is not None:
        _positive_int(instance, attribute, value)


def _divergence_factor(instance, attribute, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 1 < value < math.inf:
        raise ValueError(f"TrainConfig: divergence_factor must be a finite number > 1, got {value!r}")


def _to_generator(value):
    return None if value is None else to_generator(value)


def _seed(instance, attribute, value):
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise ValueError(f"TrainConfig: seed must be an integer in [0, 2**63), got {value!r}")


@attrs.frozen(kw_only=True)
class TrainConfig:
    """Everything a training run depends on (a value: hashable, comparable, ready for study files).

    ``epochs``: passes over the training data, each ``ceil(n / batch_size)`` minibatch steps in a fresh
    seeded order. ``epoch_length`` (T): steps between the anchors of variance-reduced optimizers
    (default: one pass). ``mac``: None (float64 numpy), a profile name, an Accumulator or a Mac, for
    every matrix product forward and backward. ``engine`` computes the quantization points and a
    profile's or Accumulator's products (a Mac names its own). ``quant``: the quantization points.
    ``divergence_factor``: a run whose training loss (over the whole training set, after an epoch) exceeds
    this factor times its loss at epoch 0 has blown up and ends with status "diverged", like one whose
    loss is NaN or inf (a cross-entropy of 1e3 times the start means logits of that order: no result).
    ``generator`` (None: each rounding's own, Philox4x32-10 unless it names another): the random-bit
    generator of every stochastic rounding of the run: quantization points, the optimizer's grids and
    the matrix unit's stochastic registers (a rounding naming a different generator is refused)."""

    model: ModelConfig = attrs.field(factory=ModelConfig, validator=attrs.validators.instance_of(ModelConfig))
    dataset: str = "digits"
    dataset_params: tuple = attrs.field(default=(), converter=_to_params)
    optimizer: object = attrs.field(factory=SGD, validator=_check_optimizer)
    epochs: int = attrs.field(default=10, validator=_positive_int)
    batch_size: int = attrs.field(default=32, validator=_positive_int)
    epoch_length: int | None = attrs.field(default=None, validator=_optional_positive_int)
    seed: int = attrs.field(default=0, validator=_seed)
    mac: object = attrs.field(default=None)
    engine: str = attrs.field(default="fast")
    quant: QuantConfig = attrs.field(factory=QuantConfig, validator=attrs.validators.instance_of(QuantConfig))
    divergence_factor: float = attrs.field(default=1e3, validator=_divergence_factor)
    generator: RandomGenerator | None = attrs.field(default=None, converter=_to_generator)

    @generator.validator
    def _check_generator(self, attribute, value):
        if value is None:
            return
        named = [(f"quant.{name}", getattr(self.quant, name).rounding) for name in attrs.fields_dict(QuantConfig)]
        if hasattr(self.optimizer, "rounding"):
            named.append(("optimizer rounding", as_rounding(self.optimizer.rounding)))
        for where, rounding in named:
            if rounding.generator not in (DEFAULT_GENERATOR, value):
                raise ValueError(f"TrainConfig: generator is {value.value!r} but {where} ({rounding}) names "
                                 f"generator {rounding.generator.value!r}")

    @engine.validator
    def _check_engine(self, attribute, value):
        check_engine(value)

    @mac.validator
    def _check_mac(self, attribute, value):
        as_mac(value)

    def load_data(self) -> NetData:
        params = dict(self.dataset_params)
        if self.dataset != "sequence":
            params.setdefault("images", self.model.kind == "cnn")
        return load(self.dataset, **params)


@attrs.frozen
class EpochRecord:
    epoch: int
    train_loss: float
    test_accuracy: float
    grad_norm: float
    seconds: float


@attrs.frozen
class TrainResult:
    """``status``: "ok", "diverged" (a non-finite loss or gradient, or a training loss past the divergence bound;
    ``epoch`` says when) or "overflow" (a quantization
    point under overflow policy 'error' met a value its format cannot hold; ``message`` names it)."""

    status: str
    epoch: int | None
    history: tuple[EpochRecord, ...]
    params: dict
    message: str = ""

    def column(self, name: str) -> np.ndarray:
        return np.array([getattr(r, name) for r in self.history])


def batch_order(n: int, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """One pass: a permutation of the n samples cut into minibatches (the last may be smaller)."""
    order = rng.permutation(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def full_loss_and_gradient(network: Network, X: np.ndarray, y: np.ndarray) -> tuple[float, dict]:
    """Mean loss and gradient over all samples, chunks weighted by their sizes."""
    total_loss, total = 0.0, None
    for start in range(0, len(y), EVAL_CHUNK):
        xs, ys = X[start:start + EVAL_CHUNK], y[start:start + EVAL_CHUNK]
        loss, grads = network.loss_and_grads(xs, ys)
        w = len(ys) / len(y)
        total_loss += w * loss
        total = {k: w * g for k, g in grads.items()} if total is None else {k: total[k] + w * g for k, g in grads.items()}
    return total_loss, total


def accuracy(network: Network, X: np.ndarray, y: np.ndarray) -> float:
    right = sum(int(np.sum(np.argmax(network.predict(X[s:s + EVAL_CHUNK]), axis=1) == y[s:s + EVAL_CHUNK]))
                for s in range(0, len(y), EVAL_CHUNK))
    return right / len(y)


class _Diverged(Exception):
    """Training blew up; the message (if any) says how."""


def train(config: TrainConfig, data: NetData | None = None) -> TrainResult:
    """Train ``config.model`` on ``data`` (default: ``config.load_data()``) and record each epoch
    (epoch 0 is the initial network): training loss and full-gradient norm over the training set,
    test accuracy."""
    data = config.load_data() if data is None else data
    init_rng = np.random.default_rng([config.seed, 0])
    batch_rng = np.random.default_rng([config.seed, 1])
    network = build_network(config.model, data.sample_shape, data.n_classes, init_rng)
    rounder = Rounder(config.quant, seed=config.seed, engine=config.engine, generator=config.generator)
    network.bind(Arithmetic(config.mac, rounder, engine=config.engine))
    opt = config.optimizer
    history: list[EpochRecord] = []
    epoch = 0
    params = network.params
    # divergence is reported by the status, so numpy's overflow warnings would only repeat it
    with np.errstate(over="ignore", invalid="ignore"):
        try:
            params, state = opt.init(params, rounder)
            network.set_params(params)
            started = time.perf_counter()
            history.append(_record(network, data, 0, started))
            bound = config.divergence_factor * (history[0].train_loss or 1.0)
            steps_per_anchor = config.epoch_length or math.ceil(len(data.y) / config.batch_size)
            step = 0
            for epoch in range(1, config.epochs + 1):
                started = time.perf_counter()
                for batch in batch_order(len(data.y), config.batch_size, batch_rng):
                    if opt.variance_reduced and step % steps_per_anchor == 0:
                        params, state = _anchor(network, opt, params, state, data, rounder)
                    params, state = _step(network, opt, params, state, data.X[batch], data.y[batch], rounder)
                    step += 1
                network.set_params(params)
                record = _record(network, data, epoch, started)
                history.append(record)
                if not math.isfinite(record.train_loss):
                    raise _Diverged
                if record.train_loss > bound:
                    raise _Diverged(f"epoch {epoch}: training loss {record.train_loss:.3g} exceeds the divergence "
                                    f"bound {bound:.3g} ({config.divergence_factor:g} x the loss at epoch 0)")
        except (_Diverged, NonFiniteError) as exc:
            message = str(exc) if isinstance(exc, _Diverged) and exc.args else f"non-finite loss or gradient in epoch {epoch}"
            return TrainResult("diverged", epoch, tuple(history), network.params, message)
        except QuantizationRangeError as exc:
            return TrainResult("overflow", epoch, tuple(history), network.params, str(exc))
    return TrainResult("ok", None, tuple(history), network.params)


def _anchor(network, opt, params, state, data, rounder):
    """A variance-reduced optimizer's new anchor: the full gradient at the current weights."""
    network.set_params(params)
    _, full = full_loss_and_gradient(network, data.X, data.y)
    if not _all_finite(full):
        raise _Diverged
    return opt.anchor(params, full, state, rounder)


def _step(network, opt, params, state, x, y, rounder):
    """One minibatch step (with the same batch's gradient at the anchor for variance-reduced optimizers)."""
    network.set_params(params)
    loss, grads = network.loss_and_grads(x, y)
    if not (math.isfinite(loss) and _all_finite(grads)):
        raise _Diverged
    if not opt.variance_reduced:
        return opt.update(params, grads, state, rounder)
    network.set_params(opt.anchor_params(state))
    _, anchor_grads = network.loss_and_grads(x, y)
    if not _all_finite(anchor_grads):
        raise _Diverged
    return opt.update(params, grads, anchor_grads, state, rounder)


def _all_finite(arrays: dict) -> bool:
    return all(np.isfinite(a).all() for a in arrays.values())


def _record(network: Network, data: NetData, epoch: int, started: float) -> EpochRecord:
    with network.arithmetic.rounder.evaluating():
        return _evaluate(network, data, epoch, started)


def _evaluate(network: Network, data: NetData, epoch: int, started: float) -> EpochRecord:
    loss, grads = full_loss_and_gradient(network, data.X, data.y)
    norm = math.sqrt(sum(float(np.sum(g * g)) for g in grads.values()))
    return EpochRecord(epoch, loss, accuracy(network, data.X_test, data.y_test), norm, time.perf_counter() - started)
