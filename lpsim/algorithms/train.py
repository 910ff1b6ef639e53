"""train(model, config): the one training loop the five algorithms share, and its per-epoch history."""

from __future__ import annotations

import math
import time

import attrs
import numpy as np

from ..codec import quantize
from .config import TrainConfig, grid_max
from .parts import (
    DATA_STREAM,
    EPOCH_RUNNERS,
    ITERATE_STREAM,
    TEST_DATA_STREAM,
    Grid,
    IterateState,
    StepFailed,
    bit_center,
    make_anchor,
)
from .integer import INTEGER_ARITHMETICS, code_anchor, moved_margins
from .recipes import FIXED_SCALE, RECIPES, Storage

STATUSES = ("ok", "diverged", "converged")
HISTORY_KEYS = ("epoch", "gap", "grad_norm", "dist", "loss", "scale", "seconds")
CLASSIFIER_KEYS = ("train_acc", "test_acc")


@attrs.frozen(kw_only=True, eq=False)
class TrainResult:
    """Outcome of one run.

    status   "ok" (all epochs ran), "diverged" (NaN/inf, overflow under an error policy, or
             ||w - w*|| past the divergence bound) or "converged" (the full gradient at an
             anchor was exactly zero; variance-reduced algorithms stop there).
    history  per-epoch 1-D float arrays, row 0 = the start point; rows stop at the epoch
             where the run ended (a diverged run's last row shows the diverged point).
    w        final iterate (float64, flat), message: why the run stopped early ("" if it did not).
    """

    status: str
    history: dict
    w: np.ndarray
    config: TrainConfig
    message: str = ""

    @property
    def epochs_run(self) -> int:
        return int(self.history["epoch"][-1]) if len(self.history["epoch"]) else 0

    def final(self, key: str) -> float:
        return float(self.history[key][-1])


def quantize_features(X: np.ndarray, config: TrainConfig, stream: int, scale: float) -> np.ndarray:
    q = quantize(X / scale, config.data_fmt, config.data_rounding, seed=config.seed, stream=stream, offset=0,
                 engine=config.engine)
    return scale * q


def quantized_model(model, config: TrainConfig):
    """The model over features quantized once by config.data_fmt (one scale for train and test).

    Cached on the original model (with its optimum), keyed by everything that changes the bits."""
    seed = config.seed if config.data_rounding.is_stochastic else None
    key = ("quantized", config.data_fmt, config.data_rounding, config.data_scale, seed)
    if key not in model._cache:
        model._cache[key] = _quantize_data(model, config)
    return model._cache[key]


def _quantize_data(model, config: TrainConfig):
    ds = model.dataset
    top = float(np.max(np.abs(ds.X)))
    scale = config.data_scale or (top / grid_max(config.data_fmt) if top > 0 else 1.0)
    X = quantize_features(ds.X, config, DATA_STREAM, scale)
    X_test = None if ds.X_test is None else quantize_features(ds.X_test, config, TEST_DATA_STREAM, scale)
    params = dict(ds.params, data_fmt=config.data_fmt.spec, data_scale=scale)
    qds = attrs.evolve(ds, X=X, X_test=X_test, params=params)
    return model.with_dataset(qds)


class _Recorder:
    """Per-epoch metrics in float64 on the model being trained."""

    def __init__(self, model, config: TrainConfig):
        self.model = model
        try:
            self.w_star, self.f_star = model.optimum()
        except ValueError:  # no finite minimizer: gap and distance are undefined
            self.w_star, self.f_star = None, math.nan
        self.rows = {k: [] for k in HISTORY_KEYS + (CLASSIFIER_KEYS if model.is_classifier else ())}
        self.bound = math.inf

    def record(self, epoch: int, w: np.ndarray, scale: float, seconds: float) -> None:
        m, rows = self.model, self.rows
        finite = bool(np.all(np.isfinite(w)))
        with np.errstate(all="ignore"):
            loss = m.loss(w) if finite else math.nan
            grad_norm = float(np.linalg.norm(m.full_grad(w))) if finite else math.nan
            if self.w_star is not None and finite:
                gap, dist = m.gap(w), float(np.linalg.norm(w - self.w_star))
            else:
                gap = loss - self.f_star if finite else math.nan
                dist = math.nan
        for key, value in (("epoch", epoch), ("gap", gap), ("grad_norm", grad_norm), ("dist", dist),
                           ("loss", loss), ("scale", scale), ("seconds", seconds)):
            rows[key].append(value)
        if m.is_classifier:
            rows["train_acc"].append(m.accuracy(w) if finite else math.nan)
            has_test = m.X_test is not None
            rows["test_acc"].append(m.accuracy(w, m.X_test, m.y_test) if has_test and finite else math.nan)

    def divergence(self, w: np.ndarray) -> str:
        """Why w counts as diverged, or "" if it does not."""
        if not np.all(np.isfinite(w)):
            return "w holds NaN or inf"
        if self.w_star is not None:
            dist = float(np.linalg.norm(w - self.w_star))
            if dist > self.bound:
                return f"||w - w*|| = {dist:.3g} exceeds the divergence bound {self.bound:.3g}"
        return ""

    def history(self) -> dict:
        return {k: np.asarray(v, dtype=np.float64) for k, v in self.rows.items()}


def resolve_hyperparameters(model, config: TrainConfig) -> tuple[float, int, float]:
    """(step size, epoch length T, mu) with TrainConfig's documented defaults filled in from ``model``
    (the model as given to ``train``, before any data quantization)."""
    alpha = config.step_size if config.step_size is not None else 1.0 / (4.0 * model.L)
    T = config.epoch_length if config.epoch_length is not None else 2 * -(-model.n // config.batch_size)
    mu = config.mu if config.mu is not None else model.mu
    return alpha, T, mu



def _need_mu(mu: float, config: TrainConfig, why: str) -> None:
    if not mu > 0:
        raise ValueError(
            f"{config.algorithm}: {why} needs mu > 0, but the model's strong convexity is {mu} "
            "(no l2 term on a logistic/softmax model, or a rank-deficient least-squares problem); "
            "pass TrainConfig(mu=...)" + (" or scale=..." if config.algorithm in FIXED_SCALE else "")
        )


def train(model, config: TrainConfig) -> TrainResult:
    """Run ``config.algorithm`` on ``model`` from w = 0 and record a per-epoch history.

    The five algorithms share this loop; they differ only by their Recipe (plain or
    variance-reduced gradient; iterate in float64, on a fixed grid, or bit-centered).
    Divergence ends the run with status "diverged"; it never raises.
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    alpha, T, mu = resolve_hyperparameters(model, config)
    if config.data_fmt is not None:
        model = quantized_model(model, config)
    recipe = RECIPES[config.algorithm]
    run_epoch = EPOCH_RUNNERS[config.arithmetic]
    grid = None
    if recipe.storage is not Storage.FLOAT:
        grid = Grid(fmt=config.fmt, rounding=config.rounding, seed=config.seed, stream=ITERATE_STREAM,
                    engine=config.engine, accumulator=config.accumulator)

    state = IterateState(z=np.zeros(model.dim))
    if recipe.storage is Storage.FIXED_GRID:
        if config.scale is not None:
            state.scale = config.scale
        else:
            _need_mu(mu, config, "the default grid scale ||grad f(0)|| / (mu M)")
            radius = float(np.linalg.norm(model.full_grad(state.z))) / mu
            state.scale = grid.covering_scale(radius) if radius > 0 else 1.0
    elif recipe.storage is Storage.BIT_CENTERED:
        _need_mu(mu, config, "HALP's scale ||g~|| / (mu M)")

    recorder = _Recorder(model, config)
    sampler = np.random.default_rng(config.seed)
    seconds = 0.0
    recorder.record(0, state.w, state.scale if recipe.storage is Storage.FIXED_GRID else math.nan, seconds)
    if recorder.w_star is not None:
        reference = max(float(np.linalg.norm(state.w - recorder.w_star)), float(np.linalg.norm(recorder.w_star)))
        recorder.bound = config.divergence_factor * (reference if reference > 0 else 1.0)

    status, message = "ok", ""
    # the integer loop's features are codes: its full pass reads them, not the float64 copy
    anchor_of = code_anchor if config.arithmetic in INTEGER_ARITHMETICS else make_anchor
    for epoch in range(1, config.epochs + 1):
        start = time.perf_counter()
        if recipe.variance_reduced:
            margins = moved_margins(model, state, grid) if config.margin_update and state.anchor is not None else None
            state.anchor = anchor_of(model, state.w, margins)
            if state.anchor.grad_norm == 0.0:
                status, message = "converged", f"epoch {epoch}: the full gradient at the anchor is exactly 0"
                break
            if recipe.storage is Storage.BIT_CENTERED:
                bit_center(state, state.anchor, grid, mu)
        rows = sampler.integers(0, model.n, size=(T, config.batch_size))
        failed = None
        try:
            run_epoch(model, state, rows, alpha, grid)
        except StepFailed as exc:
            failed = str(exc)
        seconds += time.perf_counter() - start
        w = state.w
        recorder.record(epoch, w, state.scale, seconds)
        failed = failed or recorder.divergence(w)
        if failed:
            status, message = "diverged", f"epoch {epoch}: {failed}"
            break
    return TrainResult(status=status, history=recorder.history(), w=state.w.copy(), config=config, message=message)
