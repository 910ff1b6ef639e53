"""TrainConfig: one validated, immutable description of a training run."""

from __future__ import annotations

import math
import numbers

import attrs

from ..arith.accumulator import Accumulator
from ..arith.plan import plan_dot
from ..arith.profiles import as_accumulator, available_profiles
from ..codec import ENGINES, check_format
from ..formats.base import Format
from ..formats.fixed import FixedPoint
from ..formats.rounding import Rounding, as_rounding
from .recipes import ALGORITHMS, FIXED_SCALE, LOW_PRECISION, RECIPES, Storage

# Inner-loop arithmetic. "float": gradients in float64, only stored numbers are quantized.
# The integer inner loop of the spec (integer x_i . z, scalar and axpy) registers as "integer".
ARITHMETICS = ["float"]
# Cross-field checks of an arithmetic (name -> check(config)), run at construction; lpsim.algorithms.integer adds its own.
ARITHMETIC_CHECKS: dict = {}
# Arithmetics whose dot x_i . z takes TrainConfig.accumulator (name -> check(accumulator), raising
# TypeError / ValueError for an accumulator its kernels cannot run); lpsim.algorithms.integer adds its own.
ACCUMULATOR_CHECKS: dict = {}

DEFAULT_FORMAT = FixedPoint(bits=8, frac_bits=0)


def _positive_or_none(name):
    def check(instance, attribute, value):
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
            raise ValueError(f"TrainConfig: {name} must be a finite number > 0 or None, got {value!r}")

    return check


def _int_at_least(name, low, allow_none=False):
    def check(instance, attribute, value):
        if value is None and allow_none:
            return
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
            extra = " or None" if allow_none else ""
            raise ValueError(f"TrainConfig: {name} must be an integer >= {low}{extra}, got {value!r}")

    return check


def _format_or_none(value):
    return None if value is None else check_format(value)


def _accumulator_or_none(value):
    if value is None:
        return None
    try:
        return as_accumulator(value)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"TrainConfig: accumulator: {exc}") from None


def _one_of(name, allowed):
    def check(instance, attribute, value):
        if value not in allowed:
            raise ValueError(f"TrainConfig: {name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")

    return check


def _float_or_none(value):
    if value is None or isinstance(value, bool):
        return value
    return float(value) if isinstance(value, numbers.Real) else value


@attrs.frozen(kw_only=True)
class TrainConfig:
    """What to run: the algorithm, its hyperparameters, and where numbers are low precision.

    step_size      alpha; None -> 1 / (4 L), L the per-sample smoothness ``model.L``.
    epochs         number of epochs (history has epochs + 1 rows: epoch 0 is the start point w = 0).
    epoch_length   inner steps T per epoch; None -> 2 * ceil(n / batch_size), about 2N samples.
                   SGD and LP-SGD use the same T, so one "epoch" is comparable across algorithms.
    mu             strong convexity used by HALP's scale and the LP grids; None -> model.mu.
    batch_size     minibatch size B (rows sampled uniformly with replacement).
    seed           drives the row sampler (numpy Generator) and stochastic rounding (lpsim.rng).
    fmt            format of the low-precision iterate (w for LP-SGD / LP-SVRG, z for HALP),
                   used as a grid in units of a scale s: Q(v) = s * quantize(v / s, fmt).
    rounding       rounding of the iterate (stochastic, as in the paper, by default).
    scale          LP-SGD / LP-SVRG fixed s; None -> ||grad f(0)|| / (mu * M), M the format's
                   largest (element) value: strong convexity bounds ||w*|| by ||grad f(0)|| / mu.
    data_fmt       None: float64 data. Else the features are quantized once:
                   X_q = s_x * quantize(X / s_x, data_fmt, data_rounding), s_x = data_scale or
                   max|X| / M(data_fmt); training and every metric then use the quantized problem.
    engine         "fast" or "exact": the lpsim engine for every quantization.
    arithmetic     inner-loop arithmetic: "float" (float64 gradients, only stored numbers are
                   quantized) or "integer" (the integer inner loop, lpsim.algorithms.integer).
    accumulator    None: the arithmetic's own accumulator (an exact sum for "integer"). Else a
                   hardware profile name (``lpsim profiles``), HardwareProfile or Accumulator
                   (lpsim.arith) that sums the integer dot x_i . z of an integer arithmetic;
                   its registers must be integer or exact. Stored as the Accumulator.
    divergence_factor  a run is "diverged" when ||w - w*|| exceeds this factor times
                   max(||w0 - w*||, ||w*||), or w holds NaN / inf.
    margin_update  HALP with an integer arithmetic only: each epoch's full gradient takes the
                   margins x_i . w~ from the previous epoch's plus the exact integer dot X_i . Z
                   times the data unit and s_z (w~ moved by s_z Z), instead of a float pass
                   X @ w~; the same gradient up to round-off (docs/algorithms.md). Default False.
    """

    algorithm: str = attrs.field(validator=_one_of("algorithm", ALGORITHMS))
    step_size: float | None = attrs.field(default=None, converter=_float_or_none, validator=_positive_or_none("step_size"))
    epochs: int = attrs.field(default=20, validator=_int_at_least("epochs", 0))
    epoch_length: int | None = attrs.field(default=None, validator=_int_at_least("epoch_length", 1, allow_none=True))
    mu: float | None = attrs.field(default=None, converter=_float_or_none, validator=_positive_or_none("mu"))
    batch_size: int = attrs.field(default=1, validator=_int_at_least("batch_size", 1))
    seed: int = attrs.field(default=0, validator=_int_at_least("seed", 0))
    fmt: Format = attrs.field(default=DEFAULT_FORMAT, converter=check_format)
    rounding: Rounding = attrs.field(default="stochastic", converter=as_rounding)
    scale: float | None = attrs.field(default=None, converter=_float_or_none, validator=_positive_or_none("scale"))
    data_fmt: Format | None = attrs.field(default=None, converter=_format_or_none)
    data_rounding: Rounding = attrs.field(default="nearest_even", converter=as_rounding)
    data_scale: float | None = attrs.field(default=None, converter=_float_or_none,
                                           validator=_positive_or_none("data_scale"))
    engine: str = attrs.field(default="fast", validator=_one_of("engine", ENGINES))
    arithmetic: str = attrs.field(default="float")
    accumulator: Accumulator | None = attrs.field(default=None, converter=_accumulator_or_none)
    divergence_factor: float = attrs.field(default=1e6, converter=float)
    margin_update: bool = attrs.field(default=False)

    @margin_update.validator
    def _check_margin_update(self, attribute, value):
        if not isinstance(value, bool):
            raise TypeError(f"TrainConfig: margin_update must be True or False, got {value!r}")
        if value and (RECIPES[self.algorithm].storage is not Storage.BIT_CENTERED
                      or self.arithmetic not in ACCUMULATOR_CHECKS):
            raise ValueError(f"TrainConfig: margin_update needs a bit-centered algorithm (halp) and an integer "
                             f"arithmetic ({', '.join(accumulator_arithmetics())}), got algorithm {self.algorithm!r} "
                             f"and arithmetic {self.arithmetic!r}")

    @arithmetic.validator
    def _check_arithmetic(self, attribute, value):
        _one_of("arithmetic", tuple(ARITHMETICS))(self, attribute, value)

    @divergence_factor.validator
    def _check_divergence(self, attribute, value):
        if not value > 1 or not math.isfinite(value):
            raise ValueError(f"TrainConfig: divergence_factor must be a finite number > 1, got {value!r}")

    def __attrs_post_init__(self):
        if self.seed >= 2**64:
            raise ValueError(f"TrainConfig: seed must be below 2**64, got {self.seed}")
        if self.scale is not None and self.algorithm not in FIXED_SCALE:
            rescales = RECIPES[self.algorithm].storage is Storage.BIT_CENTERED
            raise ValueError(
                f"TrainConfig: scale is the fixed grid step of {' / '.join(FIXED_SCALE)}; {self.algorithm!r} "
                + ("computes its scale every epoch" if rescales else "does not quantize its iterate")
            )
        if self.low_precision:
            check_grid_format(self.fmt, "fmt")
        if self.data_fmt is not None:
            check_grid_format(self.data_fmt, "data_fmt")
        if self.arithmetic in ARITHMETIC_CHECKS:
            ARITHMETIC_CHECKS[self.arithmetic](self)
        if self.accumulator is not None:
            check_accumulator(self)

    @property
    def low_precision(self) -> bool:
        return self.algorithm in LOW_PRECISION


def accumulator_arithmetics() -> tuple[str, ...]:
    """The arithmetics that take TrainConfig.accumulator."""
    return tuple(name for name in ARITHMETICS if name in ACCUMULATOR_CHECKS)


def profiles_for(arithmetic: str) -> list[str]:
    """Names of the hardware profiles whose accumulator ``arithmetic`` can run."""
    check = ACCUMULATOR_CHECKS[arithmetic]
    names = []
    for name, profile in available_profiles().items():
        try:
            check(profile.accumulator)
        except (TypeError, ValueError):
            continue
        names.append(name)
    return names


def check_accumulator(config: "TrainConfig") -> None:
    """Raise ValueError unless ``config.arithmetic`` can sum x_i . z with ``config.accumulator``."""
    arithmetic, accumulator = config.arithmetic, config.accumulator
    check = ACCUMULATOR_CHECKS.get(arithmetic)
    if check is None:
        raise ValueError(
            f"TrainConfig: accumulator applies to an integer inner loop (arithmetic one of "
            f"{', '.join(map(repr, accumulator_arithmetics()))}); arithmetic={arithmetic!r} computes its dot "
            "products in float64"
        )
    try:
        check(accumulator)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"TrainConfig: accumulator {accumulator.spec} cannot sum the dot x_i . z of arithmetic={arithmetic!r} "
            f"({exc}); the profiles it can run: {', '.join(profiles_for(arithmetic))}"
        ) from None
    plan_dot(accumulator, config.data_fmt, config.fmt, op=f"TrainConfig: accumulator of arithmetic={arithmetic!r}",
             a_name="x_i (data_fmt)", b_name="z (fmt)")


def check_grid_format(fmt: Format, name: str) -> None:
    if isinstance(fmt, FixedPoint) and not fmt.signed:
        raise ValueError(f"TrainConfig: {name} must be a signed format (weights and updates have both signs), got {fmt.spec}")
    top = grid_max(fmt)
    if not (math.isfinite(top) and top > 0):
        raise ValueError(f"TrainConfig: {name} {fmt.spec} has no finite positive largest value to scale a grid with")


def grid_max(fmt: Format) -> float:
    """The largest value M of one element of ``fmt``: a scale s makes the grid span [-s M, s M].
    For block formats this is the element format's max (the shared exponent rescales blocks)."""
    element = getattr(fmt, "element", None)
    return float(element.max if element is not None else fmt.max)
