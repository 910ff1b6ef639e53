"""The counts of one run of ``lpsim.algorithms.train``, term by term (docs/cost.md has the table).

``run_cost(model, config, result)`` reads the run's shape (n, d, C), its resolved T, the epochs
that ran and the parts of its recipe; nothing here looks at the iterate's values, so both
engines count alike. Phases:

setup   LP-SGD / LP-SVRG without a given scale: one float64 full gradient at w = 0 and its norm.
anchor  variance-reduced algorithms, once per epoch: the float64 full pass of ``make_anchor``
        (and, for HALP, the norm of g~ and w = w~ + z; for the integer loop's LP-SVRG on least
        squares, the reference dots X_i . W~; for the integer loop, the epoch's Gq).
step    T per epoch: the inner step of the run's arithmetic, "float" or an integer loop.

Epochs counted: those whose inner loop ran (a diverged run's last epoch in full), plus the
anchor pass of the epoch at which a "converged" run stopped.
"""

from __future__ import annotations

import attrs

from ..algorithms.config import TrainConfig
from ..algorithms.integer import INTEGER_ARITHMETICS, data_of
from ..algorithms.recipes import RECIPES, Storage
from ..algorithms.train import TrainResult, quantized_model, resolve_hyperparameters
from ..arith.integer_loop import ACC_EXACT, accumulator_kind, iterate_format, scalar_code_max, update_random_bits
from ..arith.plan import code_product_range, signed_bits_for
from .counts import FP64, INT32, INT64, WORD_BITS, Cost, Tally, format_label, label_bits, loss_ops


@attrs.frozen(kw_only=True)
class RunShape:
    """What the counts depend on, resolved from the model and the config."""

    kind: str  # model kind: least_squares, logistic, softmax
    n: int
    d: int  # features (with an intercept column, if any)
    classes: int
    batch: int
    T: int
    l2: bool
    inner_epochs: int
    anchors: int
    setup: bool
    variance_reduced: bool
    storage: Storage
    arithmetic: str
    z_label: str  # the iterate's format (fp64 in full precision)
    x_label: str  # the data's format
    word_bits: int  # random bits drawn per element of a stochastic rounding (0: not stochastic)

    @property
    def dim(self) -> int:
        return self.d * self.classes

    @property
    def centered(self) -> bool:
        return self.storage is Storage.BIT_CENTERED

    @property
    def steps(self) -> int:
        return self.T * self.inner_epochs


def run_shape(model, config: TrainConfig, result: TrainResult) -> RunShape:
    """The RunShape of ``result`` (a run of ``config`` on ``model``, the model given to train)."""
    _, T, _ = resolve_hyperparameters(model, config)
    recipe = RECIPES[config.algorithm]
    inner = result.epochs_run
    anchors = (inner + (result.status == "converged")) if recipe.variance_reduced else 0
    return RunShape(
        kind=model.kind, n=model.n, d=model.d, classes=model.dim // model.d, batch=config.batch_size, T=T,
        l2=bool(model.l2), inner_epochs=inner, anchors=anchors,
        setup=recipe.storage is Storage.FIXED_GRID and config.scale is None,
        variance_reduced=recipe.variance_reduced, storage=recipe.storage, arithmetic=config.arithmetic,
        z_label=format_label(config.fmt) if recipe.low_precision else FP64, x_label=format_label(config.data_fmt),
        word_bits=random_word_bits(config.rounding) if recipe.low_precision else 0)


def random_word_bits(rounding) -> int:
    """Random bits one stochastic rounding draws per element: its r bits in whole 32-bit Philox words
    (lpsim.rng); exact probabilities (r = None) read the first word (and a further one only when the
    discarded fraction agrees with it in all 32 bits, which is not counted). 0 unless stochastic."""
    if not rounding.is_stochastic:
        return 0
    return WORD_BITS * -(-(rounding.random_bits or WORD_BITS) // WORD_BITS)


def run_cost(model, config: TrainConfig, result: TrainResult) -> Cost:
    """The operation, random-bit and memory counts of ``result``, a run of ``train(model, config)``."""
    shape = run_shape(model, config, result)
    tally = Tally()
    if shape.setup:
        full_pass(tally, shape)
        tally.op("fma", shape.dim)  # ||grad f(0)||
    integer = None if shape.arithmetic == "float" else integer_shape(model, config, shape)
    for _ in range(shape.anchors):
        # the integer loop's least squares reads no per-row anchor values (its scalar is c (D - Dref))
        anchor_pass(tally, shape, keep_rows=integer is None or not integer.linear)
    if integer is None:
        float_steps(tally, shape, shape.steps)
    else:
        for _ in range(shape.inner_epochs):
            integer_epoch_start(tally, shape, integer)
        integer_steps(tally, shape, integer, shape.steps)
    return tally.cost()


# -- float64 passes over the data -------------------------------------------------------------------


def full_pass(tally: Tally, s: RunShape) -> None:
    """grad f(w) = X^T l'(X w) / n + l2 w in float64: per row a dot, the derivative, an axpy."""
    x_bits, z_bits = s.d * label_bits(s.x_label), label_bits(s.z_label)
    tally.op("fma", s.n * s.dim)  # margins
    tally.ops_of(loss_ops(s.kind, s.classes), s.n)
    tally.op("fma", s.n * s.dim)  # X^T l'
    tally.op("multiply", s.dim)  # / n
    if s.l2:
        tally.op("fma", s.dim)
    tally.read("dram", s.n * (x_bits + 64))  # x_i and y_i
    tally.read("sram", s.n * s.dim * z_bits)  # w for every row's dot


def anchor_pass(tally: Tally, s: RunShape, keep_rows: bool = True) -> None:
    """make_anchor: the full pass, keeping l'(x_i . w~) per row (and HALP's margins x_i . w~) when the
    inner loop reads them (``keep_rows``)."""
    z_bits, per_row = label_bits(s.z_label), s.n * s.classes * 64
    if s.centered:
        tally.op("add", s.dim)  # w = w~ + z
    full_pass(tally, s)
    if keep_rows:
        tally.write("dram", per_row * (2 if s.centered else 1))  # l0 (and m0)
    tally.write("sram", s.dim * 64)  # g~
    if s.centered:
        tally.op("fma", s.dim)  # ||g~|| for the scale
        tally.write("sram", s.dim * (64 + z_bits))  # center w~ (float64), z = 0
    else:
        tally.write("sram", s.dim * z_bits)  # w~


# -- the float inner loop (arithmetic "float") -------------------------------------------------------


def float_steps(tally: Tally, s: RunShape, steps: int) -> None:
    """``steps`` inner steps of lpsim.algorithms.parts.float_epoch."""
    rows, dim, C = steps * s.batch, s.dim, s.classes
    x_bits, z_bits = s.d * label_bits(s.x_label), label_bits(s.z_label)
    tally.op("fma", rows * dim)  # x_i . z
    tally.ops_of(loss_ops(s.kind, C), rows)
    if s.centered:
        tally.op("add", rows * C)  # m~ + x_i . z
    if s.variance_reduced:
        tally.op("add", rows * C)  # l'(m) - l'(m~)
    tally.op("fma", rows * dim)  # X_b^T r
    tally.op("multiply", steps * dim)  # / B
    if s.variance_reduced:
        tally.op("add", steps * dim)  # + g~
    if s.l2:
        tally.op("fma", steps * dim)
        if s.variance_reduced and not s.centered:
            tally.op("add", steps * dim)  # z - w~
    tally.op("fma", steps * dim)  # z - alpha g
    if s.storage is not Storage.FLOAT:
        quantize_iterate(tally, s, steps)
    # memory: x_i and y_i per row, the anchor's per-row values, z per dot and per update
    tally.read("dram", rows * (x_bits + 64))
    if s.variance_reduced:
        tally.read("dram", rows * C * 64 * (2 if s.centered else 1))  # l0 (and m0)
        tally.read("sram", steps * dim * 64)  # g~
    if s.l2 and s.variance_reduced and not s.centered:
        tally.read("sram", steps * dim * z_bits)  # w~
    tally.read("sram", (rows + steps) * dim * z_bits)
    tally.write("sram", steps * dim * z_bits)


def quantize_iterate(tally: Tally, s: RunShape, steps: int) -> None:
    """Q(v) = s quantize(v / s): a multiply each way and a rounding (an add and a saturation compare)
    into the iterate's format, drawing random words when stochastic."""
    n = steps * s.dim
    tally.op("multiply", 2 * n)
    round_into(tally, n, FP64, s.z_label)
    tally.random_bits += n * s.word_bits


def round_into(tally: Tally, count: int, source: str, target: str) -> None:
    """Rounding ``count`` values of ``source`` into ``target``: an add (the random bits or the half)
    and a compare (saturation)."""
    tally.op("add", count, source, target)
    tally.op("compare", count, source, target)


# -- the integer inner loop ------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class IntegerShape:
    """The integer loop's widths: data and iterate codes, accumulator, the scalar A, the update's random slot."""

    x_bits: int
    z_bits: int
    acc_label: str
    a_bits: int
    linear: bool  # least squares with variance reduction: no float in the scalar
    slot_bits: int  # random bits per element of the update (0: not stochastic)


def integer_shape(model, config: TrainConfig, s: RunShape) -> IntegerShape:
    arithmetic = INTEGER_ARITHMETICS[config.arithmetic]
    accumulator = config.accumulator or arithmetic.accumulator
    kind, (acc_bits, *_), _, _ = accumulator_kind(accumulator)
    if kind == ACC_EXACT:  # an exact sum is priced at the width that holds every sum of d products
        low, high = code_product_range(iterate_format(config.data_fmt), iterate_format(config.fmt))
        acc_bits = signed_bits_for(s.d * low, s.d * high)
    data = data_of(quantized_model(model, config))
    r = update_random_bits(config.rounding, arithmetic.update_frac_bits)
    return IntegerShape(
        x_bits=config.data_fmt.bits, z_bits=config.fmt.bits, acc_label=f"int{acc_bits}",
        a_bits=scalar_code_max(s.batch, data.x_max).bit_length() + 1,
        linear=s.kind == "least_squares" and s.variance_reduced,
        slot_bits=0 if r == 0 else (8 if r <= 8 else 16))


def integer_epoch_start(tally: Tally, s: RunShape, q: IntegerShape) -> None:
    """The epoch's constants: Gq = Q(alpha g~ / s_z) and, for LP-SVRG on least squares, Dref_i = X_i . W~."""
    if not s.variance_reduced:
        return
    tally.op("multiply", s.dim)
    round_into(tally, s.dim, FP64, INT32)
    tally.random_bits += s.dim * s.word_bits
    tally.write("sram", s.dim * 32)
    if q.linear and not s.centered:
        dot(tally, s, q, s.n)
        tally.read("dram", s.n * s.d * q.x_bits)
        tally.read("sram", s.n * s.dim * q.z_bits)
        tally.write("dram", s.n * 64)


def dot(tally: Tally, s: RunShape, q: IntegerShape, rows: int) -> None:
    """``rows`` x C integer dots of length d, summed in the accumulator."""
    tally.op("multiply", rows * s.dim, f"int{max(q.x_bits, q.z_bits)}", q.acc_label)
    tally.op("add", rows * s.dim, q.acc_label)


def integer_steps(tally: Tally, s: RunShape, q: IntegerShape, steps: int) -> None:
    """``steps`` inner steps of the integer loop (lpsim/arith/integer_loop.py, steps 1-4)."""
    rows, dim, C = steps * s.batch, s.dim, s.classes
    a_label, z_label = f"int{q.a_bits}", f"int{q.z_bits}"
    dot(tally, s, q, rows)  # 1. D_b = X_i . Z
    if q.linear:  # 2. A_b = round(c (D_b - Dref_i)), Dref = 0 for HALP
        if not s.centered:
            tally.op("add", rows, INT64)
        tally.op("multiply", rows, INT64)
        round_into(tally, rows, INT64, a_label)
    else:  # 2. A_b = round(kappa (l'(m~ + tau D_b) - l'(m~))) in float64
        tally.op("fma" if s.centered else "multiply", rows * C)
        tally.ops_of(loss_ops(s.kind, C), rows)
        if s.variance_reduced:
            tally.op("add", rows * C)
        tally.op("multiply", rows * C)
        round_into(tally, rows * C, FP64, a_label)
    tally.random_bits += rows * C * s.word_bits
    # 4. v = Z 2**K - sum_b A_b X_i - Gq - Lq (Z - Zref), then Z = round(v)
    tally.op("multiply", rows * dim, f"int{max(q.a_bits, q.x_bits)}", INT32)
    tally.op("add", rows * dim, INT32)
    if s.variance_reduced:
        tally.op("add", steps * dim, INT32)
    if s.l2:
        tally.op("add", steps * dim, z_label, f"int{q.z_bits + 1}")
        tally.op("multiply", steps * dim, INT32)
        tally.op("add", steps * dim, INT32)
    tally.op("add", steps * dim, INT32)
    round_into(tally, steps * dim, INT32, z_label)
    tally.random_bits += steps * dim * q.slot_bits
    # memory
    tally.read("dram", rows * s.d * q.x_bits)
    if q.linear:
        if not s.centered:
            tally.read("dram", rows * 64)  # Dref_i
    else:
        tally.read("dram", rows * 64)  # y_i
        if s.variance_reduced:
            tally.read("dram", rows * C * 64 * (2 if s.centered else 1))  # l0 (and m0)
    if s.variance_reduced:
        tally.read("sram", steps * dim * 32)  # Gq
    if s.l2:
        tally.read("sram", steps * dim * q.z_bits)  # Zref
    tally.read("sram", (rows + steps) * dim * q.z_bits)
    tally.write("sram", steps * dim * q.z_bits)
