"""From a resolved run spec to the algorithms' TrainConfig: the one translation the runner
trains with and the study parser checks a profile with (so both agree by construction)."""

from __future__ import annotations

from typing import Any

import attrs

from ..formats.rounding import as_rounding
from .precision import resolve_format
from .schema import FULL_PRECISION, TENSOR_CLASSES

# The run parameters that map one to one onto TrainConfig fields.
_TRAIN_FIELDS = ("algorithm", "step_size", "epochs", "epoch_length", "mu", "batch_size", "seed", "engine",
                 "arithmetic", "rounding")


def train_config(params: dict, model_mu: float | None = None):
    """The algorithms' TrainConfig for a resolved run spec. ``model_mu``, the model's strong convexity,
    turns a ``mu_factor`` into mu (without it, as when a study is checked at load, mu keeps its default)."""
    from ..algorithms import TrainConfig

    kwargs: dict[str, Any] = {name: params[name] for name in _TRAIN_FIELDS if params.get(name) is not None}
    if params.get("mu_factor") is not None and model_mu is not None:
        kwargs["mu"] = params["mu_factor"] * model_mu
    if params["algorithm"] not in FULL_PRECISION:
        kwargs["fmt"] = resolve_format(params["family"], params["bits"], exp_bits=params["exp_bits"],
                                       block_size=params["block_size"] or 32, format=params["format"])
    if params.get("fixed_scale") is not None:
        kwargs["scale"] = params["fixed_scale"]
    if params.get("data_format") is not None:
        kwargs["data_fmt"] = params["data_format"]
        kwargs["data_rounding"] = params["data_rounding"]
    if params.get("profile") is not None:
        kwargs["accumulator"] = params["profile"]
    if params.get("generator") is not None:  # every stochastic rounding of the run draws from it
        for name in ("rounding", "data_rounding"):
            if name in kwargs and as_rounding(kwargs[name]).is_stochastic:
                kwargs[name] = attrs.evolve(as_rounding(kwargs[name]), generator=params["generator"])
    return TrainConfig(**kwargs)


def _widths(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(","))


def nn_model_config(params: dict):
    """The network architecture of a resolved network run."""
    from ..nn import ModelConfig

    given = {"hidden": _widths(params["hidden"]) if params["hidden"] else None, "activation": params["activation"],
             "channels": _widths(params["channels"]) if params["channels"] else None,
             "kernel_size": params["kernel_size"], "pool": params["pool"]}
    return ModelConfig(kind=params["model"], **{k: v for k, v in given.items() if v is not None})


def nn_dataset_params(params: dict) -> dict:
    """The keyword arguments of lpsim.nn.load for a resolved network run's data set."""
    from .schema import DATASET_PARAMS

    rename = {"data_seed": "seed", "sequence_length": "length"}
    return {rename.get(name, name): params[name] for name in DATASET_PARAMS[params["dataset"]]
            if params[name] is not None}


def nn_train_config(params: dict):
    """lpsim.nn's TrainConfig for a resolved network run: the algorithm names the optimizer, step_size is its
    learning rate, bits / rounding / mu / headroom its settings, profile the multiply-accumulate unit of every
    matrix product, the *_format / *_rounding / *_scaling triples the quantization points and generator the
    random bits of every stochastic rounding."""
    from ..nn import QuantConfig, Quantizer, TrainConfig, make_optimizer

    settings = {"lr": params["step_size"], "bits": params["bits"], "rounding": params["rounding"],
                "mu": params["mu"], "headroom": params["headroom"]}
    optimizer = make_optimizer(params["algorithm"], **{k: v for k, v in settings.items() if v is not None})
    points = {tensor: Quantizer(fmt=params[f"{tensor}_format"], rounding=params[f"{tensor}_rounding"],
                                scaling=params[f"{tensor}_scaling"])
              for tensor in TENSOR_CLASSES if params[f"{tensor}_format"] is not None}
    return TrainConfig(model=nn_model_config(params), dataset=params["dataset"],
                       dataset_params=nn_dataset_params(params), optimizer=optimizer, epochs=params["epochs"],
                       batch_size=params["batch_size"], epoch_length=params["epoch_length"], seed=params["seed"],
                       mac=params["profile"], engine=params["engine"], quant=QuantConfig(**points),
                       generator=params["generator"])
