"""From a resolved run spec to the algorithms' TrainConfig: the one translation the runner
trains with and the study parser checks a profile with (so both agree by construction)."""

from __future__ import annotations

from typing import Any

import attrs

from ..formats.rounding import as_rounding
from .precision import resolve_format
from .schema import FULL_PRECISION

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
