"""Optimizers as small frozen values with pure pieces: ``init`` and ``update`` take state and return state.

Parameters and gradients are dicts ``{"<layer>.<tensor>": array}``. Plain optimizers update from a
minibatch gradient. Variance-reduced ones (SVRG, LP-SVRG, HALP) also take, every ``T`` steps, the
full gradient at an anchor point (``anchor``) and, each step, the minibatch gradient at that anchor
(the training loop computes both at ``anchor_params(state)``).

``rounder`` (an lpsim.nn.quant.Rounder) keys every stochastic rounding and applies the
``optimizer_state`` quantization point to momentum and moment estimates.
"""

from __future__ import annotations

import attrs
import numpy as np

from ..codec import check_format
from ..formats.base import Format
from ..formats.fixed import FixedPoint
from ..formats.rounding import Rounding, as_rounding
from .quant import Quantizer, Rounder

Params = dict[str, np.ndarray]


def _positive(instance, attribute, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or not np.isfinite(value):
        raise ValueError(f"{type(instance).__name__}: {attribute.name} must be a positive finite number, got {value!r}")


def _in_unit(instance, attribute, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"{type(instance).__name__}: {attribute.name} must be in [0, 1), got {value!r}")


def _bits(instance, attribute, value):
    if isinstance(value, bool) or not isinstance(value, int) or not 2 <= value <= 32:
        raise ValueError(f"{type(instance).__name__}: {attribute.name} must be an integer in [2, 32], got {value!r}")


def _layer(key: str) -> str:
    return key.split(".", 1)[0]


def _point(key: str, what: str) -> tuple[str, str]:
    """(layer, tensor) naming the rounding of ``what`` (e.g. momentum "v") of parameter ``key``."""
    layer, tensor = key.split(".", 1)
    return layer, f"{tensor}:{what}"


def _state_round(rounder: Rounder, key: str, name: str, x: np.ndarray) -> np.ndarray:
    return rounder("optimizer_state", *_point(key, name), x)


# -- low-precision weights on a fixed-point grid ------------------------------------------------------

def layer_grid_steps(params: Params, bits: int, headroom: float) -> dict[str, float]:
    """LP-SGD's fixed grids: one step per layer, so the grid spans ``headroom`` times the layer's initial
    largest weight (a layer of all-zero weights gets step 1 / (2^(b-1) - 1))."""
    top = (1 << (bits - 1)) - 1
    amax: dict[str, float] = {}
    for key, value in params.items():
        amax[_layer(key)] = max(amax.get(_layer(key), 0.0), float(np.max(np.abs(value))) if value.size else 0.0)
    return {key: (headroom * amax[_layer(key)] or 1.0) / top for key in params}


def round_to_grid(x: np.ndarray, step: float, bits: int, rounding: Rounding, rounder: Rounder, key: str,
                  tensor: str) -> np.ndarray:
    """x on the signed b-bit fixed-point grid of ``step`` (saturating), keyed per parameter and pass."""
    grid = FixedPoint(bits=bits, scale=step)
    return rounder.round(Quantizer(fmt=grid, rounding=rounding), *_point(key, tensor), x)


def bit_centered_step(full_gradient: np.ndarray, mu: float, bits: int) -> float:
    """HALP's per-tensor scale s = ||g~|| / (mu (2^(b-1) - 1)); 0 when g~ = 0 (the tensor is at a stationary
    point: its offset stays 0 for the epoch rather than dividing by zero)."""
    return float(np.linalg.norm(full_gradient)) / (mu * ((1 << (bits - 1)) - 1))


# -- plain optimizers ---------------------------------------------------------------------------------

@attrs.frozen(kw_only=True)
class SGD:
    lr: float = attrs.field(default=0.1, validator=_positive)
    name = "sgd"
    variance_reduced = False

    def init(self, params: Params, rounder: Rounder):
        return params, {}

    def update(self, params, grads, state, rounder):
        return {k: params[k] - self.lr * grads[k] for k in params}, state


@attrs.frozen(kw_only=True)
class Momentum:
    """Heavy ball: v <- beta v + g, w <- w - lr v (v at the optimizer_state point)."""

    lr: float = attrs.field(default=0.05, validator=_positive)
    beta: float = attrs.field(default=0.9, validator=_in_unit)
    name = "momentum"
    variance_reduced = False

    def init(self, params, rounder):
        return params, {"v": {k: np.zeros_like(v) for k, v in params.items()}}

    def update(self, params, grads, state, rounder):
        v = {k: _state_round(rounder, k, "v", self.beta * state["v"][k] + grads[k]) for k in params}
        return {k: params[k] - self.lr * v[k] for k in params}, {"v": v}


@attrs.frozen(kw_only=True)
class Adam:
    """Adam (Kingma and Ba) in float64; its moments pass the optimizer_state point."""

    lr: float = attrs.field(default=1e-3, validator=_positive)
    beta1: float = attrs.field(default=0.9, validator=_in_unit)
    beta2: float = attrs.field(default=0.999, validator=_in_unit)
    eps: float = attrs.field(default=1e-8, validator=_positive)
    name = "adam"
    variance_reduced = False

    def init(self, params, rounder):
        zeros = {k: np.zeros_like(v) for k, v in params.items()}
        return params, {"m": zeros, "v": dict(zeros), "t": 0}

    def update(self, params, grads, state, rounder):
        t = state["t"] + 1
        m = {k: _state_round(rounder, k, "m", self.beta1 * state["m"][k] + (1 - self.beta1) * grads[k]) for k in params}
        v = {k: _state_round(rounder, k, "v", self.beta2 * state["v"][k] + (1 - self.beta2) * grads[k] ** 2)
             for k in params}
        c1, c2 = 1 - self.beta1**t, 1 - self.beta2**t
        new = {k: params[k] - self.lr * (m[k] / c1) / (np.sqrt(v[k] / c2) + self.eps) for k in params}
        return new, {"m": m, "v": v, "t": t}


def _to_format(value):
    return None if value is None else check_format(value)


def _weight_storage(opt, params):
    """LP-SGD's and LP-SVRG's state: the per-layer grid steps (None when the weights live in ``opt.fmt``)."""
    return None if opt.fmt is not None else layer_grid_steps(params, opt.bits, opt.headroom)


def _store_weights(opt, params, steps, rounder):
    """Weights rounded into their low-precision storage: ``opt.fmt`` if given, else each layer's fixed grid."""
    if opt.fmt is not None:
        quantizer = Quantizer(fmt=opt.fmt, rounding=opt.rounding)
        return {k: rounder.round(quantizer, *_point(k, "w"), v) for k, v in params.items()}
    return {k: round_to_grid(v, steps[k], opt.bits, opt.rounding, rounder, k, "w") for k, v in params.items()}


@attrs.frozen(kw_only=True)
class LPSGD:
    """SGD with low-precision weights: w <- Q(w - lr g). The weights live in ``fmt`` (any lpsim format) or,
    by default, on a b-bit fixed-point grid per layer (see ``layer_grid_steps``); the initial weights are
    rounded into it."""

    lr: float = attrs.field(default=0.1, validator=_positive)
    bits: int = attrs.field(default=8, validator=_bits)
    headroom: float = attrs.field(default=2.0, validator=_positive)
    rounding: Rounding = attrs.field(default="stochastic", converter=as_rounding)
    fmt: Format | None = attrs.field(default=None, converter=_to_format)
    name = "lpsgd"
    variance_reduced = False

    def init(self, params, rounder):
        steps = _weight_storage(self, params)
        return _store_weights(self, params, steps, rounder), {"steps": steps}

    def update(self, params, grads, state, rounder):
        moved = {k: params[k] - self.lr * grads[k] for k in params}
        return _store_weights(self, moved, state["steps"], rounder), state


# -- variance-reduced optimizers ------------------------------------------------------------------------

def _svrg_direction(grads, anchor_grads, full_grads):
    return {k: grads[k] - anchor_grads[k] + full_grads[k] for k in grads}


@attrs.frozen(kw_only=True)
class SVRG:
    """w <- w - lr (g_i(w) - g_i(w~) + g~), with w~ and g~ = grad f(w~) refreshed every T steps."""

    lr: float = attrs.field(default=0.1, validator=_positive)
    name = "svrg"
    variance_reduced = True

    def init(self, params, rounder):
        return params, {"anchor": params, "full": None}

    def anchor_params(self, state):
        return state["anchor"]

    def anchor(self, params, full_grads, state, rounder):
        return params, {**state, "anchor": params, "full": full_grads}

    def update(self, params, grads, anchor_grads, state, rounder):
        v = _svrg_direction(grads, anchor_grads, state["full"])
        return {k: params[k] - self.lr * v[k] for k in params}, state


@attrs.frozen(kw_only=True)
class LPSVRG(SVRG):
    """SVRG with low-precision weights stored as LP-SGD stores them: every step is rounded."""

    bits: int = attrs.field(default=8, validator=_bits)
    headroom: float = attrs.field(default=2.0, validator=_positive)
    rounding: Rounding = attrs.field(default="stochastic", converter=as_rounding)
    fmt: Format | None = attrs.field(default=None, converter=_to_format)
    name = "lpsvrg"

    def init(self, params, rounder):
        steps = _weight_storage(self, params)
        params = _store_weights(self, params, steps, rounder)
        return params, {"anchor": params, "full": None, "steps": steps}

    def update(self, params, grads, anchor_grads, state, rounder):
        v = _svrg_direction(grads, anchor_grads, state["full"])
        return _store_weights(self, {k: params[k] - self.lr * v[k] for k in params}, state["steps"], rounder), state


@attrs.frozen(kw_only=True)
class HALP(SVRG):
    """SVRG with bit centering per parameter tensor (the paper's reference code: one scale per tensor).

    At each anchor: w~ <- w~ + z, g~ = grad f(w~), s_l = ||g~_l|| / (mu (2^(b-1) - 1)), z = 0.
    Each step: z_l <- Q_(s_l, b)(z_l - lr (g_i(w~ + z) - g_i(w~) + g~)_l), w = w~ + z."""

    bits: int = attrs.field(default=8, validator=_bits)
    mu: float = attrs.field(default=1.0, validator=_positive)
    rounding: Rounding = attrs.field(default="stochastic", converter=as_rounding)
    name = "halp"

    def init(self, params, rounder):
        zeros = {k: np.zeros_like(v) for k, v in params.items()}
        return params, {"anchor": params, "full": None, "z": zeros, "steps": {k: 0.0 for k in params}}

    def anchor(self, params, full_grads, state, rounder):
        steps = {k: bit_centered_step(g, self.mu, self.bits) for k, g in full_grads.items()}
        zeros = {k: np.zeros_like(v) for k, v in params.items()}
        return params, {"anchor": params, "full": full_grads, "z": zeros, "steps": steps}

    def update(self, params, grads, anchor_grads, state, rounder):
        v = _svrg_direction(grads, anchor_grads, state["full"])
        z = {}
        for k in params:
            step = state["steps"][k]
            z[k] = state["z"][k] if step == 0.0 else round_to_grid(
                state["z"][k] - self.lr * v[k], step, self.bits, self.rounding, rounder, k, "z")
        return {k: state["anchor"][k] + z[k] for k in params}, {**state, "z": z}


OPTIMIZERS = {cls.name: cls for cls in (SGD, Momentum, Adam, LPSGD, SVRG, LPSVRG, HALP)}


def make_optimizer(name: str, **params):
    """An optimizer by name (``OPTIMIZERS`` lists them) with its settings."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; allowed: {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[name](**params)
