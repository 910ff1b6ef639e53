"""The whitelist of study parameters: every key a study file may use, its type, range and default.

A study file is pure data. Nothing in it is evaluated: each value is checked against
the declaration below (type, range or list of allowed names) and anything unknown is
rejected. Adding a parameter means adding one ``Param`` here.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable

import attrs

from ..algorithms.recipes import ALGORITHMS, FIXED_SCALE, FULL_PRECISION, LOW_PRECISION
from ..codec import ENGINES
from ..data import DATASETS as _DATASET_BUILDERS
from ..models import MODEL_KINDS as LINEAR_MODELS
from ..nn.network import ACTIVATIONS, MODELS as NN_MODELS, POOLS
from ..nn.optim import OPTIMIZERS as NN_OPTIMIZERS
from ..nn.quant import SCALINGS, TENSOR_CLASSES

# The names come from the layers that implement them (one list each); what a study adds is
# below: each dataset's default model and the generator parameters it takes.
DATASETS = tuple(_DATASET_BUILDERS) + ("sequence",)
MODELS = tuple(LINEAR_MODELS) + tuple(NN_MODELS)
DEFAULT_MODEL = {
    "least_squares": "least_squares",
    "logistic": "logistic",
    "digits": "softmax",
    "breast_cancer": "logistic",
    "mnist": "softmax",
    "svmlight": "logistic",
    "sequence": "rnn",
}
# The generator parameters each dataset takes; others are cleared for that dataset so that
# they neither split runs nor change run ids.
DATASET_PARAMS = {
    "least_squares": ("n", "d", "condition_number", "noise", "n_test", "data_seed"),
    "logistic": ("n", "d", "separable", "signal", "margin", "n_test", "data_seed"),
    "digits": ("test_fraction", "data_seed"),
    "breast_cancer": ("test_fraction", "data_seed"),
    "mnist": ("path", "n", "n_test"),
    "svmlight": ("path", "test_path"),
    "sequence": ("n", "n_test", "sequence_length", "data_seed"),
}
# The labels each data set has (None: known only once the file is read) and the labels each model
# fits: a model that cannot fit its data set's labels would fail every run, so a study refuses it.
DATASET_LABELS = {
    "least_squares": "real-valued targets",
    "logistic": "2 classes",
    "digits": "10 classes",
    "breast_cancer": "2 classes",
    "mnist": "10 classes",
    "svmlight": None,
    "sequence": "2 classes",
}
MODEL_LABELS = {
    "least_squares": ("real-valued targets",),
    "logistic": ("2 classes",),
    "softmax": ("2 classes", "10 classes"),
}
# The data sets each network trains on (the sequence task is for linear models no data set:
# it exists for the networks). A cnn needs images, an rnn sequences.
NN_DATASETS = {
    "mlp": ("digits", "breast_cancer", "mnist", "sequence"),
    "cnn": ("digits", "mnist"),
    "rnn": ("sequence",),
}
# The side of the square images a cnn reads (each convolution stage halves it).
NN_IMAGE_SIDE = {"digits": 8, "mnist": 28}
# The optimizers a network trains with: the study's algorithm names, mapped onto lpsim.nn's. Momentum
# and Adam (float64 baselines) exist for networks only.
# lpsim.nn's optimizers by name: the five recipes plus the network-only ones (momentum, adam)
NN_ALGORITHMS = tuple(name for name in ALGORITHMS if name in NN_OPTIMIZERS) + tuple(
    name for name in NN_OPTIMIZERS if name not in ALGORITHMS)
NN_ONLY_ALGORITHMS = tuple(name for name in NN_ALGORITHMS if name not in ALGORITHMS)
STUDY_ALGORITHMS = tuple(ALGORITHMS) + NN_ONLY_ALGORITHMS
# Architecture parameters: which model kind reads each, and its default there.
NN_ARCHITECTURE = {
    "mlp": {"hidden": "64", "activation": "relu"},
    "cnn": {"channels": "8,16", "kernel_size": 3, "pool": "max"},
    "rnn": {"hidden": "16"},
}
NN_ONLY = ("hidden", "activation", "channels", "kernel_size", "pool", "headroom",
           *(f"{tensor}_{part}" for tensor in TENSOR_CLASSES for part in ("format", "rounding", "scaling")))
# Parameters of the linear models only: cleared for network runs.
LINEAR_ONLY = ("l2", "intercept", "arithmetic", "family", "exp_bits", "block_size", "format", "fixed_scale",
               "data_format", "data_rounding")
# What ``path`` names for the data sets that read one.
DATASET_PATH = {"mnist": 'path = "FOLDER" (the folder holding the four MNIST IDX files)',
                "svmlight": 'path = "FILE" (an svmlight / LIBSVM text file)'}
ALL_DATASET_PARAMS = tuple(dict.fromkeys(name for names in DATASET_PARAMS.values() for name in names))
FAMILIES = ("fixed", "float", "bfp", "format")
METRICS = ("gap", "grad_norm", "dist", "loss", "scale", "train_acc", "test_acc")
PLOT_KINDS = ("error_vs_bits", "convergence", "bits_needed", "error_vs_cost")


class SchemaError(ValueError):
    """A value that the schema rejects; the study parser adds the file, line and key.

    ``param`` names the study parameter at fault when the check spans several (a grid point
    that cannot run), so that the parser can point at the line that sets it.
    """

    def __init__(self, message: str, param: str | None = None):
        super().__init__(message)
        self.param = param


@attrs.frozen
class Param:
    name: str
    section: str
    kind: type  # int, float, str or bool
    default: Any = None
    low: float | None = None
    high: float | None = None
    choices: tuple | None = None
    optional: bool = False  # None (key absent) is a legal value
    positive: bool = False  # strictly greater than zero
    doc: str = ""
    normalize: Callable[[Any], Any] | None = None  # canonical form (e.g. rounding aliases)

    def allowed(self) -> str:
        if self.choices is not None:
            return "one of " + ", ".join(map(str, self.choices))
        kind = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}[self.kind]
        if self.positive:
            kind += " > 0"
        elif self.low is not None or self.high is not None:
            lo = "-inf" if self.low is None else f"{self.low:g}"
            hi = "inf" if self.high is None else f"{self.high:g}"
            kind += f" in [{lo}, {hi}]"
        return kind

    def check(self, value: Any) -> Any:
        """Return the canonical value or raise SchemaError saying what is allowed."""
        if value is None:
            if self.optional:
                return None
            raise SchemaError(f"a value is required: {self.allowed()}")
        if self.kind is bool:
            if not isinstance(value, bool):
                raise SchemaError(f"expected true or false, got {value!r}")
            return value
        if self.kind is int:
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                else:
                    raise SchemaError(f"expected {self.allowed()}, got {value!r}")
            value = int(value)
        elif self.kind is float:
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise SchemaError(f"expected {self.allowed()}, got {value!r}")
            value = float(value)
            if not math.isfinite(value):
                raise SchemaError(f"expected a finite number, got {value!r}")
        elif self.kind is str:
            if not isinstance(value, str):
                raise SchemaError(f"expected {self.allowed()}, got {value!r} ({type(value).__name__})")
        if self.normalize is not None:
            value = self.normalize(value)
        if self.choices is not None and value not in self.choices:
            raise SchemaError(f"expected {self.allowed()}, got {value!r}")
        if self.positive and value <= 0:
            raise SchemaError(f"expected {self.allowed()}, got {value!r}")
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            raise SchemaError(f"expected {self.allowed()}, got {value!r}")
        return value


def _generator(value: str) -> str:
    from ..formats.rounding import RandomGenerator, to_generator

    try:
        return to_generator(value).value
    except (ValueError, TypeError):
        raise SchemaError(f"expected a generator: one of {', '.join(g.value for g in RandomGenerator)}") from None


def _rounding(value: str) -> str:
    from ..formats.rounding import as_rounding

    try:
        return str(as_rounding(value))
    except (TypeError, ValueError) as exc:
        raise SchemaError(
            "expected a rounding mode: nearest_even, nearest_away, toward_zero, toward_positive, "
            f"toward_negative, to_odd, stochastic (or stochastic:R with R random bits); got {value!r}"
        ) from exc


def _format_spec(value: str) -> str:
    """The format's canonical spec: every spelling of one format (int8, INT8, fixed8_f0, q8.0)
    is one value, so it is one run with one id, and re-spelling it keeps stored results."""
    from ..formats.registry import get_format

    try:
        return get_format(value).spec
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"expected a format spec string (see `lpsim formats`): {exc}") from exc


def _arithmetic(value: str) -> str:
    from ..algorithms import ARITHMETICS

    if value not in ARITHMETICS:
        raise SchemaError(f"expected one of {', '.join(ARITHMETICS)}, got {value!r}")
    return value


def _profile(value: str) -> str:
    profiles = available_profiles()
    if value not in profiles:
        raise SchemaError(f"expected one of {', '.join(sorted(profiles))} (see `lpsim profiles`), got {value!r}")
    return value


def _widths(value: str) -> str:
    """Layer widths as a comma-separated list of positive integers ("64" or "64,32"), canonical form."""
    parts = [part.strip() for part in value.split(",")]
    if not all(part.isdigit() and int(part) > 0 for part in parts):
        raise SchemaError(f'expected positive integers separated by commas (e.g. "64" or "64,32"), got {value!r}')
    return ",".join(str(int(part)) for part in parts)


def _quantization_points():
    """Three parameters per tensor class of lpsim.nn: its format, rounding and scaling."""
    for tensor in TENSOR_CLASSES:
        yield _P(f"{tensor}_format", "precision", str, None, optional=True, normalize=_format_spec,
                 doc=f"format of the {tensor.replace('_', ' ')} tensors (networks; default float64)")
        yield _P(f"{tensor}_rounding", "precision", str, None, optional=True, normalize=_rounding,
                 doc=f"rounding into {tensor}_format (default nearest_even)")
        yield _P(f"{tensor}_scaling", "precision", str, None, optional=True, choices=SCALINGS,
                 doc=f"scaling of {tensor}_format (default none)")


def available_profiles() -> list[str]:
    """The hardware profile names (lpsim.arith) a study's ``profile`` may take."""
    from ..arith import available_profiles as profiles

    return list(profiles())


_P = Param
PARAMS: dict[str, Param] = {
    p.name: p
    for p in (
        # -- problem: data set and model ------------------------------------------------------
        _P("dataset", "problem", str, "least_squares", choices=DATASETS, doc="data set generator or loader"),
        _P("model", "problem", str, None, choices=MODELS, optional=True, doc="loss (default: by data set)"),
        _P("l2", "problem", float, 0.0, low=0.0, doc="L2 regularization strength lambda"),
        _P("intercept", "problem", bool, False, doc="append a constant feature (regularized like the others)"),
        _P("n", "problem", int, 1000, low=1, high=10_000_000, doc="number of samples (synthetic data; mnist: first n)"),
        _P("d", "problem", int, 10, low=1, high=1_000_000, doc="dimension (synthetic data)"),
        _P("condition_number", "problem", float, 10.0, low=1.0, doc="condition number kappa (least_squares)"),
        _P("noise", "problem", float, 0.1, low=0.0, doc="label noise standard deviation (least_squares)"),
        _P("separable", "problem", bool, False, doc="linearly separable labels (logistic)"),
        _P("signal", "problem", float, 2.0, low=0.0, doc="label signal strength (logistic, not separable)"),
        _P("margin", "problem", float, 0.0, low=0.0, doc="margin pushed around the plane (logistic, separable)"),
        _P("n_test", "problem", int, 0, low=0, high=10_000_000, doc="held-out samples (synthetic data, mnist)"),
        _P("test_fraction", "problem", float, 0.2, low=0.0, high=0.9, doc="held-out fraction (digits, breast_cancer)"),
        _P("data_seed", "problem", int, 0, low=0, high=2**63 - 1, doc="seed of the data set (fixed across run seeds)"),
        _P("path", "problem", str, None, optional=True, doc="data file or folder (mnist, svmlight)"),
        _P("test_path", "problem", str, None, optional=True, doc="held-out data file (svmlight)"),
        _P("sequence_length", "problem", int, None, low=2, high=100_000, optional=True, doc="steps per sequence (sequence; default 10)"),
        _P("hidden", "problem", str, None, optional=True, normalize=_widths, doc='hidden widths, e.g. "64,32" (mlp; rnn: one width)'),
        _P("activation", "problem", str, None, optional=True, choices=tuple(ACTIVATIONS), doc="activation between layers (mlp)"),
        _P("channels", "problem", str, None, optional=True, normalize=_widths, doc='convolution channels per stage, e.g. "8,16" (cnn)'),
        _P("kernel_size", "problem", int, None, low=1, high=31, optional=True, doc="convolution kernel size (cnn)"),
        _P("pool", "problem", str, None, optional=True, choices=tuple(POOLS), doc="2 x 2 pooling after each convolution (cnn)"),
        # -- training ---------------------------------------------------------------------------
        _P("algorithm", "train", str, "halp", choices=STUDY_ALGORITHMS, doc="optimizer (momentum, adam: networks only)"),
        _P("step_size", "train", float, None, positive=True, optional=True, doc="step size alpha (default: 1 / (4 L), L the per-sample smoothness)"),
        _P("epochs", "train", int, 10, low=1, high=100_000, doc="number of epochs"),
        _P("epoch_length", "train", int, None, low=1, optional=True, doc="inner steps per epoch T (default: by algorithm)"),
        _P("mu", "train", float, None, positive=True, optional=True, doc="mu of HALP's scale and the LP grids (default: the model's)"),
        _P("mu_factor", "train", float, None, positive=True, optional=True, doc="mu as a multiple of the model's strong convexity (least_squares: mu = mu_factor / condition_number); not with mu"),
        _P("batch_size", "train", int, 1, low=1, doc="minibatch size"),
        _P("seed", "train", int, 0, low=0, high=2**63 - 1, doc="seed of sampling and stochastic rounding"),
        _P("engine", "train", str, "fast", choices=ENGINES, doc="simulation engine"),
        _P("arithmetic", "train", str, "float", normalize=_arithmetic, doc="inner-loop arithmetic (lpsim.algorithms.ARITHMETICS)"),
        # -- precision --------------------------------------------------------------------------
        _P("family", "precision", str, "fixed", choices=FAMILIES, doc="number format family of the model (w or z)"),
        _P("bits", "precision", int, 8, low=2, high=32, doc="bits per model value"),
        _P("exp_bits", "precision", int, None, low=1, high=8, optional=True, doc="exponent bits (family float)"),
        _P("block_size", "precision", int, 32, low=1, high=65536, doc="values sharing one exponent (family bfp)"),
        _P("format", "precision", str, None, optional=True, normalize=_format_spec, doc="explicit format spec (family format)"),
        _P("rounding", "precision", str, "stochastic", normalize=_rounding, doc="rounding mode of the model"),
        _P("fixed_scale", "precision", float, None, positive=True, optional=True, doc="grid step of LP-SGD/LP-SVRG (default: chosen by the algorithm)"),
        _P("data_format", "precision", str, None, optional=True, normalize=_format_spec, doc="format of the data x_i (default: float64)"),
        _P("data_rounding", "precision", str, "nearest_even", normalize=_rounding, doc="rounding of the data (with data_format)"),
        _P("generator", "precision", str, None, optional=True, normalize=_generator, doc="random-bit generator of stochastic rounding (default: philox10, never written)"),
        _P("profile", "precision", str, None, optional=True, normalize=_profile, doc="hardware profile summing the integer loop's dot x_i . z (arithmetic integer); networks: every matrix product"),
        _P("headroom", "precision", float, None, positive=True, optional=True, doc="LP-SGD/LP-SVRG grid span over the initial largest weight per layer (networks; default 2)"),
        *_quantization_points(),
    )
}
SECTIONS = ("problem", "train", "precision")
# Parameters a full-precision algorithm ignores: cleared so that SGD and SVRG run once per grid
# point of the other axes instead of once per bit width.
PRECISION_ONLY = ("family", "bits", "exp_bits", "block_size", "format", "rounding", "fixed_scale", "profile",
                  "generator")
# The settings a full-precision run does not have (it has no grid, so no mu, and computes in float64):
# resolve_run clears them (arithmetic becomes "float"), and a low-precision run is compared with the
# float64 reference that shares all its other settings.
LOW_PRECISION_SETTINGS = ("mu", "mu_factor", "arithmetic", *PRECISION_ONLY)


def params_in(section: str) -> list[str]:
    return [name for name, p in PARAMS.items() if p.section == section]


def defaults() -> dict[str, Any]:
    return {name: p.default for name, p in PARAMS.items()}
