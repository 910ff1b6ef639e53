"""The integer inner loop as a TrainConfig arithmetic: configuration, and the runner that picks an engine.

``TrainConfig(arithmetic="integer")`` runs the inner steps of HALP, LP-SVRG and LP-SGD on
integer codes (docs/algorithms.md, "Integer inner loop"). The loop's plan and data live in
lpsim/arith/integer_loop.py, below both engines; ``engine="exact"`` runs each epoch with
lpsim.exact.integer_loop (one exact operation at a time, slowly), ``engine="fast"`` with
lpsim.fast.integer_loop (one compiled kernel per epoch). This module checks the configuration,
quantizes the model's features once, and runs an epoch on the chosen engine.
"""

from __future__ import annotations

import functools

import attrs
import numpy as np

from .. import codec
from ..arith.accumulator import EXACT_ACCUMULATOR, Accumulator
from ..arith.integer_loop import (
    K_CAP,
    LOSS_CODES,
    MAX_CODE_BITS,
    OK,
    IntegerData,
    accumulator_kind,
    check_accumulator,
    code_dtype,
    epoch_plan,
    iterate_format,
)
from ..arith.profiles import as_accumulator
from ..exact import integer_loop as exact_loop
from ..fast import integer_loop as fast_loop
from ..formats.fixed import FixedPoint
from . import config as _config
from .parts import EPOCH_RUNNERS, Anchor, IterateState, StepFailed
from .recipes import LOW_PRECISION

SUPPORTED_ALGORITHMS = LOW_PRECISION  # every algorithm whose iterate lives on a grid
SUPPORTED_KINDS = tuple(LOSS_CODES)
ENGINE_LOOPS = {"exact": exact_loop, "fast": fast_loop}  # each has run_epoch and reference_dots, same signatures
INTEGER_ARITHMETICS: dict = {}  # name -> IntegerArithmetic, filled by register_integer_arithmetic


# -- configuration -------------------------------------------------------------------------------


def _check_code_format(fmt, name: str) -> FixedPoint:
    if not (isinstance(fmt, FixedPoint) and fmt.signed and fmt.is_power_of_two_scale and 2 <= fmt.bits <= MAX_CODE_BITS):
        spec = getattr(fmt, "spec", fmt)
        raise ValueError(f"TrainConfig: arithmetic='integer' needs {name} to be a signed FixedPoint with a power-of-two "
                         f"step and 2..{MAX_CODE_BITS} bits (integer codes), got {spec}")
    return fmt


def check_integer_config(config) -> None:
    """Raise ValueError unless ``config`` can run the integer inner loop (checked at construction)."""
    if config.algorithm not in SUPPORTED_ALGORITHMS:
        raise ValueError(f"TrainConfig: arithmetic={config.arithmetic!r} runs {', '.join(SUPPORTED_ALGORITHMS)} "
                         f"(an iterate on a grid); got algorithm {config.algorithm!r}")
    _check_code_format(config.fmt, "fmt")
    if config.data_fmt is None:
        raise ValueError("TrainConfig: arithmetic='integer' needs data_fmt (the features' integer format, e.g. 'int8')")
    _check_code_format(config.data_fmt, "data_fmt")


@attrs.frozen
class IntegerArithmetic:
    """A named integer inner loop: the accumulator of its dot products and the cap on K, the fraction
    bits of the update's scale 2**-K (default 16; 8 halves the random bits per element, see
    docs/algorithms.md, "Integer inner loop")."""

    name: str
    accumulator: Accumulator = attrs.field(converter=as_accumulator)
    update_frac_bits: int = K_CAP

    def __attrs_post_init__(self) -> None:
        # not an attrs validator: attrs' generated __init__ looks up a global ``_config``, which this
        # module binds to lpsim.algorithms.config
        value = self.update_frac_bits
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= K_CAP:
            raise ValueError(f"update_frac_bits must be an int in 1..{K_CAP} (the most fraction bits K of the "
                             f"update's scale 2**-K), got {value!r}")

    def run_epoch(self, model, state, rows, alpha, grid) -> None:
        accumulator = self.accumulator if grid.accumulator is None else grid.accumulator
        integer_epoch(model, state, rows, alpha, grid, accumulator, self.update_frac_bits)


def register_integer_arithmetic(name: str, accumulator=EXACT_ACCUMULATOR,
                                update_frac_bits: int = K_CAP) -> IntegerArithmetic:
    """Make ``TrainConfig(arithmetic=name)`` run the integer loop with ``accumulator`` (an Accumulator,
    HardwareProfile or profile name, with integer or exact registers) and the update's fraction bits
    K capped at ``update_frac_bits`` (1..16)."""
    arithmetic = IntegerArithmetic(name=name, accumulator=accumulator, update_frac_bits=update_frac_bits)
    accumulator_kind(arithmetic.accumulator)  # reject unsupported registers now
    if name not in _config.ARITHMETICS:
        _config.ARITHMETICS.append(name)
    EPOCH_RUNNERS[name] = arithmetic.run_epoch
    INTEGER_ARITHMETICS[name] = arithmetic
    _config.ARITHMETIC_CHECKS[name] = check_integer_config
    _config.ACCUMULATOR_CHECKS[name] = accumulator_kind  # TrainConfig.accumulator overrides ``accumulator``
    return arithmetic


# -- the problem in codes -----------------------------------------------------------------------------


def data_of(model) -> IntegerData:
    """The integer codes behind a model whose features were quantized by train() (cached on the model)."""
    if "integer_data" in model._cache:
        return model._cache["integer_data"]
    if model.kind not in SUPPORTED_KINDS:
        raise ValueError(f"arithmetic='integer' supports {', '.join(SUPPORTED_KINDS)} models, got {model.kind}")
    if model.intercept:
        raise ValueError("arithmetic='integer' needs intercept=False: the intercept column 1.0 is not a data code; "
                         "add a constant feature to the dataset instead")
    params = model.dataset.params
    if "data_fmt" not in params:
        raise ValueError("arithmetic='integer' needs quantized features (TrainConfig.data_fmt)")
    fmt = codec.check_format(params["data_fmt"])
    unit = float(params["data_scale"]) * fmt.step
    codes = np.rint(model.X / unit)
    if not np.array_equal(codes * unit, model.X):
        raise AssertionError("quantized features are not integer multiples of their unit")
    data = IntegerData.from_codes(codes, unit, fmt)
    model._cache["integer_data"] = data
    return data


# -- the epoch runner ------------------------------------------------------------------------------------


def integer_epoch(model, state: IterateState, rows: np.ndarray, alpha: float, grid, accumulator: Accumulator,
                  k_cap: int = K_CAP) -> None:
    """EPOCH_RUNNERS entry: T inner steps of the integer loop on ``model`` (features quantized by train)."""
    data = data_of(model)
    fmt = _check_code_format(grid.fmt, "fmt")
    z_fmt = iterate_format(fmt)
    check_accumulator(accumulator, data, z_fmt)
    engine = ENGINE_LOOPS[grid.engine]
    s_z = state.scale * fmt.step
    dtype = code_dtype(fmt.bits)
    Z = _codes_of(state.z, s_z, dtype, "iterate")
    z_ref = d_ref = None
    if state.anchor is not None and state.center is None:  # LP-SVRG: w~ is on the grid too
        z_ref = _codes_of(state.anchor.w, s_z, dtype, "anchor")
        if model.kind == "least_squares":
            # Dref_i = X_i . W~ by the loop's accumulator, so D - Dref is exactly 0 at w = w~
            d_ref = engine.reference_dots(data, z_ref, z_fmt, accumulator)
            if d_ref is None:
                raise StepFailed("the anchor's reference dot overflowed the accumulator (overflow 'error')")
    encode = functools.partial(codec.encode, engine=grid.engine)
    plan = epoch_plan(data, model.kind, model.y, model.l2, state, alpha, rows.shape[1], fmt, grid.rounding,
                      grid.seed, accumulator, encode, z_ref, d_ref, k_cap)
    status, done = engine.run_epoch(data, plan, Z, rows, state.step, grid.seed, accumulator)
    state.z = s_z * Z.astype(np.float64)
    state.step += done
    if status != OK:
        raise StepFailed(f"step {state.step}: a scalar was NaN/inf or the iterate overflowed its format "
                         f"{fmt.spec} (overflow 'error')")


def code_anchor(model, w: np.ndarray, margins: np.ndarray | None = None) -> Anchor:
    """make_anchor for a run of the integer loop: the same float64 full pass, read from the data codes.

    The features are unit X_i with X_i integer codes (1-2 bytes each), so x_i . w and X^T l' are
    computed from the codes in one compiled pass each, not from the float64 copy of X (8 bytes per
    element, read twice by numpy): the train() epoch then costs what the benchmark's epoch does.
    The sums are reassociated like BLAS's, so they agree with make_anchor to round-off, not bit
    for bit; both engines use this pass, so they stay identical."""
    data = data_of(model)
    per_row = (model.n,) + tuple(model.shape[1:])
    if margins is None:
        margins = fast_loop.code_margins(data, np.reshape(w, (model.d, -1))).reshape(per_row)
    dloss = model.loss_fn.derivative(margins, model.y)
    grad = fast_loop.code_gradient(data, np.reshape(dloss, (model.n, -1))).reshape(-1) / model.n + model.l2 * w
    return Anchor(w=w.copy(), grad=grad, margins=margins, dloss=dloss)


def moved_margins(model, state: IterateState, grid) -> np.ndarray:
    """x_i . w for the bit-centered iterate w = w~ + s_z Z after an integer epoch: the anchor's margins
    x_i . w~ plus (u s_z) (X_i . Z), X_i . Z the exact integer dot of the codes (u the data unit).

    The float pass X @ w reads n d float64; this reads the n d data codes (1-2 bytes each) once."""
    data = data_of(model)
    fmt = _check_code_format(grid.fmt, "fmt")
    s_z = state.scale * fmt.step
    d = data.codes.shape[1]
    Z = _codes_of(state.z, s_z, code_dtype(fmt.bits), "iterate").reshape(d, -1)
    engine = ENGINE_LOOPS[grid.engine]
    dots = np.empty((data.codes.shape[0], Z.shape[1]), dtype=np.float64)
    for c in range(Z.shape[1]):
        # the exact accumulator: these are the true margins, whatever register the inner loop models
        dots[:, c] = engine.reference_dots(data, np.ascontiguousarray(Z[:, c]), iterate_format(fmt), EXACT_ACCUMULATOR)
    return state.anchor.margins + (data.unit * s_z) * dots.reshape(state.anchor.margins.shape)


def _codes_of(values: np.ndarray, unit: float, dtype, what: str) -> np.ndarray:
    codes = np.rint(values / unit)
    if not np.array_equal(codes * unit, values):
        raise AssertionError(f"the {what} is not on the integer grid of step {unit}")
    return np.ascontiguousarray(codes.astype(dtype))


INTEGER = register_integer_arithmetic("integer", EXACT_ACCUMULATOR)
