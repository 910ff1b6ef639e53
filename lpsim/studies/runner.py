"""One run: from a resolved run spec to its history. Runs in whatever process the executor picks.

``run_one`` is a pure function of the spec: the data set comes from its own seed
(``data_seed``), sampling and stochastic rounding from the run's ``seed``. It never
raises for a failing run: the error comes back as status "error" with its message,
so one bad grid point cannot kill a sweep (such runs are not stored; a resume retries them).
"""

from __future__ import annotations

import functools
import json
import math
import time
import traceback

import numpy as np

from .run_config import nn_train_config, train_config
from .schema import ALL_DATASET_PARAMS, DATASET_PARAMS, NN_MODELS
from .table import HISTORY_COLUMNS

_DATA_ARGS = {"data_seed": "seed"}  # study parameter -> generator keyword
# The metrics that say how good a run's iterate is (epoch and the grid scale do not).
_QUALITY_METRICS = ("gap", "grad_norm", "dist", "loss", "train_acc", "test_acc")


@functools.lru_cache(maxsize=8)
def _problem(key: str):
    """(model, problem constants) for a problem spec, cached per process: a worker that runs
    many seeds and bit widths of one problem builds its data and optimum once."""
    from ..data import make_dataset
    from ..models import make_model

    p = json.loads(key)
    kwargs = {_DATA_ARGS.get(name, name): p[name] for name in DATASET_PARAMS[p["dataset"]]}
    dataset = make_dataset(p["dataset"], **kwargs)
    model = make_model(p["model"], dataset, l2=p["l2"], intercept=p["intercept"])
    w_star, _ = model.optimum()
    if model.kind == "least_squares":
        # tr(X^T X / n) + l2 * dim, without forming the Hessian
        trace = float(np.einsum("ij,ij->", model.X, model.X)) / model.n + model.l2 * model.dim
    elif model.dim <= 4096:
        trace = float(np.trace(model.hessian(w_star)))
    else:
        trace = math.nan
    constants = {"model_mu": float(model.mu), "model_L": float(model.L), "hessian_trace": trace,
                 "n_params": int(model.dim)}
    return model, constants


def problem_key(params: dict) -> str:
    names = ("dataset", "model", "l2", "intercept", *ALL_DATASET_PARAMS)
    return json.dumps({n: params[n] for n in names}, sort_keys=True)


def _resolved(model, config) -> dict:
    """The step size, epoch length and mu the algorithm used (defaults filled in), for plots."""
    from ..algorithms.train import resolve_hyperparameters

    alpha, T, mu = resolve_hyperparameters(model, config)
    return {"resolved_step_size": float(alpha), "resolved_epoch_length": int(T), "resolved_mu": float(mu)}


def run_status(status: str, message: str, history: dict) -> tuple[str, str]:
    """The status to store: training's, except that a run ending with no finite metric diverged.

    Training calls a run diverged when w holds NaN/inf or ||w - w*|| exceeds a bound; when
    the problem itself overflows (e.g. noise = 1e300) w* and the bound are inf and w stays
    finite, so that test passes (inf > inf is false) while every metric is inf or NaN.
    """
    final = {name: history[name][-1] for name in _QUALITY_METRICS if history.get(name)}
    if status == "ok" and final and not any(math.isfinite(value) for value in final.values()):
        epoch = history["epoch"][-1] if history.get("epoch") else "?"
        return "diverged", f"epoch {epoch}: every metric is NaN or inf ({', '.join(final)})"
    return status, message


def _failed(exc: Exception, start: float) -> dict:
    return {"status": "error", "message": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(), "seconds": time.perf_counter() - start}


@functools.lru_cache(maxsize=4)
def _network_data(key: str):
    """A network run's data set, cached per process like ``_problem``."""
    from ..nn import ModelConfig, TrainConfig

    p = json.loads(key)
    return TrainConfig(model=ModelConfig(kind=p["kind"]), dataset=p["dataset"], dataset_params=p["dataset_params"]).load_data()


def _run_network(params: dict, start: float) -> dict:
    """Train one network run (lpsim.nn): per epoch the training loss, full-gradient norm and test accuracy."""
    from ..nn import train

    try:
        config = nn_train_config(params)
        # the data depend on the model's kind only (a cnn reads images)
        key = json.dumps({"kind": config.model.kind, "dataset": config.dataset,
                          "dataset_params": dict(config.dataset_params)}, sort_keys=True)
        result = train(config, _network_data(key))
    except Exception as exc:  # a failing run must not stop the sweep: report it
        return _failed(exc, start)
    history = {"epoch": [int(r.epoch) for r in result.history],
               "loss": [float(r.train_loss) for r in result.history],
               "grad_norm": [float(r.grad_norm) for r in result.history],
               "test_acc": [float(r.test_accuracy) for r in result.history]}
    optimizer = config.optimizer
    steps = math.ceil(len(_network_data(key).y) / config.batch_size)
    constants = {"n_params": int(sum(np.size(v) for v in result.params.values())),
                 "resolved_step_size": float(optimizer.lr),
                 "resolved_epoch_length": int(config.epoch_length or steps) if optimizer.variance_reduced else None,
                 "resolved_mu": float(optimizer.mu) if hasattr(optimizer, "mu") else None}
    outcome = {"status": result.status, "history": history, "problem": {k: v for k, v in constants.items() if v is not None},
               "seconds": time.perf_counter() - start}
    if result.message:
        outcome["message"] = result.message
    return outcome


def run_one(params: dict) -> dict:
    """Train one run; return {"status", "history", "problem", "seconds"[, "message"]}."""
    from ..algorithms import train
    from ..cost import run_cost

    start = time.perf_counter()
    if params["model"] in NN_MODELS:
        return _run_network(params, start)
    try:
        model, constants = _problem(problem_key(params))
        config = train_config(params, model_mu=constants["model_mu"])
        result = train(model, config)
        constants = {**constants, **_resolved(model, config)}
        cost = run_cost(model, config, result)
    except Exception as exc:  # a failing run must not stop the sweep: report it
        return _failed(exc, start)
    history = {}
    for name in HISTORY_COLUMNS:
        values = result.history.get(name)
        if values is None:
            continue
        history[name] = [int(v) for v in values] if name == "epoch" else np.asarray(values, dtype=np.float64).ravel().tolist()
    status, message = run_status(str(result.status), result.message, history)
    outcome = {"status": status, "history": history, "problem": constants, "cost": cost.to_json(),
               "seconds": time.perf_counter() - start}
    if message:
        outcome["message"] = message
    return outcome
