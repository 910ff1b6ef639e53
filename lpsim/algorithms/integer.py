"""The integer inner loop for linear models: integer dot, quantized scalar, integer update.

``TrainConfig(arithmetic="integer")`` runs the inner steps of HALP, LP-SVRG and LP-SGD on
integer codes (docs/algorithms.md, "Integer inner loop", has the full definition):
the features are the codes X of ``data_fmt`` (x_i = u X_i), the iterate the codes Z of
``fmt`` (z = s_z Z, s_z = scale * fmt.step), and one inner step is

1. D_b = X_i . Z, an integer dot with the arithmetic's accumulator (default: exact sum);
2. the scalar a_b = alpha (l'(m) - l'(m~)) u / (s_z B), in Z units per X unit, quantized to
   its own scale 2**-K: A_b = sat(round(a_b 2**K)). Least squares with variance reduction
   needs no float at all: a_b = c (D_b - Dref_i), c = alpha u^2 / B held as a 24-bit integer
   C 2**-E. Logistic (and LP-SGD's least squares, which needs y) computes l' in float64 from
   the integer D_b, one scalar per row. Softmax has C classes: the iterate is the flat (d, C)
   matrix (the model's layout), a row takes C dots X_i . Z[:, c], l' = p - e_y is a C-vector
   computed in float64 from them, and each of its C scalars is quantized like logistic's one;
3. alpha g~ / s_z quantized once per epoch to the same scale 2**-K (Gq), alpha l2 too (Lq);
4. v_j = Z_j 2**K - sum_b A_b X_ij - Gq_j - Lq (Z_j - Zref_j), exact in int32, and
   Z_j = round(v_j / 2**K) in the iterate's rounding mode and overflow policy (softmax: over the
   flat index p = j * C + c, with A_bc in place of A_b).

Two engines, the same integers for the same seed: ``engine="exact"`` runs each step with
lpsim.exact (QArray dot / multiply / fma / subtract and the reference rounding), slowly;
``engine="fast"`` runs a whole epoch in one Numba kernel (lpsim/fast/_halp_kernels.py).
"""

from __future__ import annotations

import math
from fractions import Fraction

import attrs
import numpy as np

from .. import exact
from ..arith.accumulator import EXACT_ACCUMULATOR, Accumulator, Order
from ..arith.plan import plan_dot
from ..arith.profiles import as_accumulator
from ..arith.registers import ExactRegister, IntRegister
from ..codec import check_format, encode
from ..exact.codec import apply_fixed_overflow
from ..exact.rounding import round_integer
from ..fast import _halp_kernels as kernels
from ..formats.fixed import FixedPoint
from ..formats.rounding import Overflow, Rounding, RoundingMode
from ..rng import philox_words
from . import config as _config
from .parts import EPOCH_RUNNERS, IterateState, StepFailed

# Random streams of the integer loop (the float loop uses 1-3, see parts.py)
UPDATE_STREAM = 4  # packed slots: step g, element j -> call g * calls + j // per_call, slot j % per_call
SCALAR_STREAM = 5  # the scalar of batch row b, class c (of C) at step g: index (g * B + b) * C + c
GRADIENT_STREAM = 6  # alpha g~ / s_z: element j at index step0 * dim + j (step0: first step of the epoch)
# softmax: "element j" of streams 4 and 6 is the flat index j * C + c of the (d, C) iterate, dim = d * C

K_CAP = 16  # most fraction bits of the update: random slots stay <= 16 bits (the default cap)
V_BITS = 31  # |v| < 2**31: int32 lanes
MAX_CODE_BITS = 16
MULTIPLIER_BITS = 24  # the least-squares constant c = alpha u^2 / B as a 24-bit integer C * 2**-E
SUPPORTED_ALGORITHMS = ("halp", "lpsvrg", "lpsgd")
SUPPORTED_KINDS = ("least_squares", "logistic", "softmax")


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
    _config.ARITHMETIC_CHECKS[name] = check_integer_config
    _config.ACCUMULATOR_CHECKS[name] = accumulator_kind  # TrainConfig.accumulator overrides ``accumulator``
    return arithmetic


# -- the problem in codes -----------------------------------------------------------------------------


@attrs.frozen(eq=False)
class IntegerData:
    """Features as integer codes X (n, d) with x_i = unit * X_i, and the bounds the plan needs."""

    codes: np.ndarray
    unit: float
    fmt: FixedPoint
    x_max: int  # max |code|
    x_l1max: int  # max_i sum_j |X_ij|

    @classmethod
    def from_codes(cls, codes: np.ndarray, unit: float, fmt: FixedPoint) -> "IntegerData":
        codes = np.ascontiguousarray(codes, dtype=code_dtype(fmt.bits))
        wide = np.abs(codes.astype(np.int64))
        return cls(codes=codes, unit=float(unit), fmt=fmt, x_max=int(wide.max(initial=0)),
                   x_l1max=int(wide.sum(axis=1).max(initial=0)))


def code_dtype(bits: int):
    return np.int8 if bits <= 8 else np.int16


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
    fmt = check_format(params["data_fmt"])
    unit = float(params["data_scale"]) * fmt.step
    codes = np.rint(model.X / unit)
    if not np.array_equal(codes * unit, model.X):
        raise AssertionError("quantized features are not integer multiples of their unit")
    data = IntegerData.from_codes(codes, unit, fmt)
    model._cache["integer_data"] = data
    return data


# -- the accumulator ---------------------------------------------------------------------------------

_INT64 = (64, Overflow.ERROR.code, -(1 << 63), (1 << 63) - 1)


def _register_fields(register) -> tuple[int, int, int, int]:
    if isinstance(register, ExactRegister):
        return _INT64
    if isinstance(register, IntRegister):
        return register.bits, register.overflow.code, register.code_min, register.code_max
    raise TypeError(f"the integer loop needs integer or exact registers, got {register.spec}")


def accumulator_kind(accumulator: Accumulator) -> tuple:
    """(kind, acc fields, chunk, final fields) of an accumulator the kernel supports."""
    for register in accumulator.registers:
        _register_fields(register)
    inner = accumulator.accumulator
    order = accumulator.summation.order
    if order is Order.CHUNKED:
        return (kernels.ACC_REGISTER, _register_fields(inner), accumulator.summation.chunk,
                _register_fields(accumulator.summation.final))
    if isinstance(inner, ExactRegister):
        return kernels.ACC_EXACT, _INT64, 0, _INT64
    if inner.overflow is Overflow.WRAP:
        return kernels.ACC_WRAP, _register_fields(inner), 0, _INT64
    if order is Order.PAIRWISE:
        raise ValueError(f"the integer loop sums a saturating / erroring accumulator sequentially; got {accumulator.spec}")
    return kernels.ACC_REGISTER, _register_fields(inner), 0, _INT64


def accumulator_tuple(accumulator: Accumulator, data: IntegerData, z_fmt: FixedPoint) -> tuple:
    """The kernel's accumulator tuple; also checks the registers against the operand formats."""
    plan_dot(accumulator, data.fmt, z_fmt, op="integer loop dot", a_name="x_i", b_name="z")
    kind, (a_bits, a_ovf, a_lo, a_hi), chunk, (f_bits, f_ovf, f_lo, f_hi) = accumulator_kind(accumulator)
    max_product = max(data.x_max, 1) * max(-z_fmt.code_min, z_fmt.code_max)
    exact_chunk = min((2**31 - 1) // max_product, 1 << 24)
    return tuple(np.int64(v) for v in (kind, exact_chunk, a_bits, a_ovf, a_lo, a_hi, chunk, f_bits, f_ovf, f_lo, f_hi))


def dot_bound(accumulator: Accumulator, data: IntegerData, z_bits: int) -> int:
    """A bound on |D - Dref| (an exact dot, or a value of the result register)."""
    exact_bound = data.x_l1max << z_bits
    kind, acc_fields, _, final_fields = accumulator_kind(accumulator)
    if kind == kernels.ACC_EXACT:
        return exact_bound
    bits = final_fields[0] if accumulator.summation.order is Order.CHUNKED else acc_fields[0]
    return min(exact_bound, 1 << bits)


_LOSS_CODES = {"least_squares": kernels.LEAST_SQUARES, "logistic": kernels.LOGISTIC, "softmax": kernels.SOFTMAX}


# -- the plan of one epoch ------------------------------------------------------------------------------


@attrs.frozen(eq=False)
class EpochPlan:
    """Everything an epoch's inner steps need, identical for both engines."""

    z_fmt: FixedPoint  # codes of the iterate (step 1, the format's overflow policy)
    s_z: float  # z = s_z * Z
    K: int  # fraction bits of the update (units 2**-K of a Z code)
    classes: int  # C: columns of the (d, C) iterate (1 unless softmax)
    a_fmt: FixedPoint  # the scalar A (frac_bits K, saturating)
    linear: bool
    C: int  # linear: c ~ C * 2**-E
    E: int
    tau: float  # float path: margin of D is tau * D
    kappa: float  # float path: a = kappa * (l'(m) - l0)
    loss: int
    Gq: np.ndarray  # int32 codes of alpha g~ / s_z, frac_bits K
    Lq: int  # alpha * l2, frac_bits K
    Zref: np.ndarray  # codes the l2 term is measured from
    Dref: np.ndarray  # linear LP-SVRG: X_i . W~ (int64), else zeros
    m0: np.ndarray  # flat (n * C): margins x_i . w~ (HALP), else zeros
    l0: np.ndarray  # flat (n * C): l'(x_i . w~) (variance reduced), else zeros
    y: np.ndarray
    rounding: Rounding
    r_eff: int  # random bits the update's stochastic rounding uses (<= K)
    slot_bits: int
    batch: int


def epoch_plan(data: IntegerData, kind: str, y: np.ndarray, l2: float, state: IterateState, alpha: float,
               batch: int, fmt: FixedPoint, rounding: Rounding, seed: int, accumulator: Accumulator,
               engine: str, z_ref: np.ndarray | None = None, d_ref: np.ndarray | None = None,
               k_cap: int = K_CAP) -> EpochPlan:
    """Scales and quantized constants of one epoch (see the module docstring).

    K is the largest value <= k_cap (1..K_CAP) with every term of v inside int32 for every input:
    |Z 2**K| + |Gq| + |Lq (Z - Zref)| + bias < 2**(K + b + 3) <= 2**30, and |sum_b A_b X_ij| <= 2**30
    (A saturates at 2**30 / (B max|X|)); and K leaves A room for its largest possible value.
    """
    b = fmt.bits
    n, features = data.codes.shape
    classes = state.z.size // features
    z_fmt = FixedPoint(bits=b, frac_bits=0, overflow=fmt.overflow)
    s_z = float(state.scale) * fmt.step
    u = data.unit
    anchor = state.anchor
    linear = kind == "least_squares" and anchor is not None
    dd_max = dot_bound(accumulator, data, b)
    a_code_max = (1 << ((2**30 // (batch * max(data.x_max, 1))).bit_length() - 1)) - 1
    tau = u * s_z
    kappa = alpha * u / s_z / batch
    if linear:
        c = alpha * u * u / batch
        a_max = c * dd_max
    elif kind == "least_squares":
        a_max = kappa * (tau * dd_max / 2 + float(np.max(np.abs(y), initial=0.0)))
    elif kind == "softmax":
        # |dp_c / dm . e| = p_c |e_c - p . e| <= 2 p_c (1 - p_c) |e|_inf <= |e|_inf / 2, and |p_c - [c = y]| <= 1
        a_max = kappa * min(0.5 * tau * dd_max, 1.0)
    else:
        a_max = kappa * min(0.25 * tau * dd_max, 1.0)
    if not 1 <= k_cap <= K_CAP:
        raise ValueError(f"epoch_plan: k_cap must be in 1..{K_CAP}, got {k_cap}")
    k_room = math.floor(math.log2(a_code_max / a_max)) if a_max > 0 else K_CAP
    K = max(0, min(k_cap, V_BITS - 4 - b, k_room))
    a_fmt = FixedPoint(bits=a_code_max.bit_length() + 1, frac_bits=K)
    C = E = 0
    if linear:
        precision = min(MULTIPLIER_BITS, 62 - dd_max.bit_length())
        if precision < 8:
            raise ValueError(f"integer loop: |D| up to {dd_max} leaves the least-squares multiplier under 8 bits")
        E = precision - 1 - math.floor(math.log2(c))
        C = int(encode(c, FixedPoint(bits=precision + 2, frac_bits=E), "nearest_even"))
    dim = state.z.size
    if anchor is not None:
        g_fmt = FixedPoint(bits=b + 2 + K, frac_bits=K)
        Gq = encode(alpha * anchor.grad / s_z, g_fmt, rounding, seed=seed, stream=GRADIENT_STREAM,
                    offset=state.step * dim, engine=engine).astype(np.int32)
    else:
        Gq = np.zeros(dim, dtype=np.int32)
    Lq = int(encode(alpha * l2, FixedPoint(bits=K + 3, frac_bits=K), "nearest_even")) if l2 > 0 else 0
    zeros = np.zeros(n * classes)
    centered = state.center is not None
    m0 = anchor.margins if (anchor is not None and centered) else zeros
    l0 = anchor.dloss if anchor is not None else zeros
    if rounding.is_stochastic and K > 0:
        r_eff = K if rounding.random_bits is None else min(rounding.random_bits, K)
    else:
        r_eff = 0
    return EpochPlan(
        z_fmt=z_fmt, s_z=s_z, K=K, classes=classes, a_fmt=a_fmt, linear=linear, C=C, E=E, tau=tau, kappa=kappa,
        loss=_LOSS_CODES[kind], Gq=np.ascontiguousarray(Gq),
        Lq=Lq, Zref=np.zeros(dim, dtype=code_dtype(b)) if z_ref is None else z_ref,
        Dref=np.zeros(n, dtype=np.int64) if d_ref is None else d_ref,
        m0=np.ascontiguousarray(m0, dtype=np.float64).reshape(-1), l0=np.ascontiguousarray(l0, dtype=np.float64).reshape(-1),
        y=np.ascontiguousarray(y, dtype=np.float64), rounding=rounding, r_eff=r_eff,
        slot_bits=8 if r_eff <= 8 else 16, batch=batch,
    )


# -- the fast engine --------------------------------------------------------------------------------


def fast_epoch(data: IntegerData, plan: EpochPlan, Z: np.ndarray, rows: np.ndarray, step0: int, seed: int,
               acc: tuple) -> tuple[int, int]:
    """Run the compiled epoch on the codes Z (in place); returns (status, steps done)."""
    d = Z.shape[0]
    per_call = 128 // plan.slot_bits
    calls = -(-d // per_call)
    words = np.zeros(4 * calls, dtype=np.uint32)
    slots = words.view(np.uint8 if plan.slot_bits == 8 else np.uint16)
    rounding = plan.rounding
    classes = plan.classes
    status, done = kernels.integer_epoch(
        data.codes, Z, np.ascontiguousarray(rows, dtype=np.int64), acc, np.int64(classes), plan.linear,
        np.int64(plan.C),
        np.int64(plan.K - plan.E), plan.Dref, np.int64(plan.loss), plan.m0, plan.l0, plan.y, plan.tau,
        plan.kappa, np.int64(plan.a_fmt.code_min), np.int64(plan.a_fmt.code_max), np.int64(plan.K), plan.Gq,
        np.int64(plan.Lq), plan.Zref, np.int64(plan.z_fmt.code_min), np.int64(plan.z_fmt.code_max),
        np.int64(plan.z_fmt.overflow.code), np.int64(rounding.mode.code),
        np.int64(rounding.random_bits or 0) if plan.r_eff else np.int64(0), np.int64(plan.slot_bits),
        np.uint64(seed), np.uint64(SCALAR_STREAM), np.uint64(UPDATE_STREAM), np.int64(step0),
        words, slots, np.empty(d, dtype=np.int32), np.empty(rows.shape[1] * classes, dtype=np.int64),
        np.empty(data.codes.shape[1], dtype=Z.dtype), np.empty(classes), np.empty(classes),
    )
    return int(status), int(done)


# -- the exact engine, step by step -----------------------------------------------------------------


class PackedRandom:
    """The random bits of one element of the update: a slot of ``slot_bits`` bits of a Philox call.

    Quacks like lpsim.exact.rounding.ElementRandom for ``round_integer`` (r <= slot_bits)."""

    def __init__(self, seed: int, step: int, j: int, dim: int, slot_bits: int):
        per_call = 128 // slot_bits
        calls = -(-dim // per_call)
        words = philox_words(seed, UPDATE_STREAM, step * calls + j // per_call, 0)
        block = (words[0] << 96) | (words[1] << 64) | (words[2] << 32) | words[3]
        slot = j % per_call
        self.slot_bits = slot_bits
        self.value = (block >> (128 - slot_bits * (slot + 1))) & ((1 << slot_bits) - 1)

    def first_bits(self, nbits: int) -> int:
        if nbits > self.slot_bits:
            raise AssertionError(f"a {self.slot_bits}-bit slot cannot give {nbits} bits")
        return self.value >> (self.slot_bits - nbits)


def exact_epoch(data: IntegerData, plan: EpochPlan, Z: np.ndarray, rows: np.ndarray, step0: int, seed: int,
                accumulator: Accumulator) -> tuple[int, int]:
    """The same epoch as ``fast_epoch``, one lpsim.exact operation at a time (readable, slow)."""
    x_fmt = FixedPoint(bits=data.fmt.bits, frac_bits=0)
    z_fmt, K, B, rounding = plan.z_fmt, plan.K, plan.batch, plan.rounding
    wide = FixedPoint(bits=62, frac_bits=K)  # holds every v exactly (|v| < 2**31)
    g_fmt = FixedPoint(bits=z_fmt.bits + 2 + K, frac_bits=K)
    Gq = exact.QArray(codes=plan.Gq, fmt=g_fmt)
    Cq = exact.QArray(codes=np.int64(plan.C), fmt=FixedPoint(bits=MULTIPLIER_BITS + 2, frac_bits=plan.E))
    Lq = exact.QArray(codes=np.int64(plan.Lq), fmt=FixedPoint(bits=K + 3, frac_bits=K))
    Zref = exact.QArray(codes=plan.Zref, fmt=z_fmt)
    int64 = FixedPoint(bits=64, frac_bits=0)
    classes = plan.classes
    d = data.codes.shape[1]
    margins, dl = np.empty(classes), np.empty(classes)
    stochastic = rounding.is_stochastic and K > 0
    update_rounding = Rounding(mode=RoundingMode.STOCHASTIC, random_bits=plan.r_eff) if stochastic else rounding
    for t in range(rows.shape[0]):
        g = step0 + t
        Zq = exact.QArray(codes=Z.reshape(d, classes), fmt=z_fmt)  # the (d, C) matrix; C = 1: a column
        total = _reshaped(exact.requantize(Gq, wide), d, classes)  # alpha g~ / s_z, then + sum_b x_b A_b^T
        for b in range(B):
            i = int(rows[t, b])
            x = exact.QArray(codes=data.codes[i], fmt=x_fmt)
            index = (g * B + b) * classes  # class c: index + c
            dots = []
            for c in range(classes):
                try:
                    column = exact.QArray(codes=Zq.codes[:, c], fmt=z_fmt)
                    dots.append(int(exact.dot(x, column, accumulator).codes))
                except OverflowError:
                    return kernels.FAILED, t
            if plan.linear:
                dd = exact.QArray(codes=np.int64(dots[0] - int(plan.Dref[i])), fmt=int64)
                A = exact.multiply(dd, Cq, out=plan.a_fmt, rounding=rounding, seed=seed, stream=SCALAR_STREAM,
                                   offset=index)
            else:
                for c in range(classes):
                    margins[c] = plan.m0[i * classes + c] + plan.tau * float(dots[c])
                kernels.vector_dloss(plan.loss, margins, plan.y[i], dl)
                values = (dl - plan.l0[i * classes:(i + 1) * classes]) * plan.kappa
                if not np.all(np.isfinite(values)):
                    return kernels.FAILED, t
                A = exact.QArray.from_float(values, plan.a_fmt, rounding, seed=seed, stream=SCALAR_STREAM, offset=index)
            total = exact.fma(_reshaped(A, 1, classes), _reshaped(x, d, 1), total, out=wide)
        if plan.Lq:
            diff = exact.subtract(Zq, _reshaped(Zref, d, classes), out=FixedPoint(bits=z_fmt.bits + 1, frac_bits=0))
            total = exact.fma(Lq, diff, total, out=wide)
        v = _reshaped(exact.subtract(Zq, total, out=wide), -1)
        try:
            Z[:] = round_update(v, z_fmt, update_rounding, seed, g, plan.slot_bits)
        except OverflowError:
            return kernels.FAILED, t
    return kernels.OK, rows.shape[0]


def _reshaped(q: exact.QArray, *shape: int) -> exact.QArray:
    return exact.QArray(codes=q.codes.reshape(shape), fmt=q.fmt)


def round_update(v: exact.QArray, z_fmt: FixedPoint, rounding: Rounding, seed: int, step: int, slot_bits: int):
    """Z = overflow(round(v)) with the update's packed random slots (lpsim.exact.requantize when not stochastic)."""
    if not rounding.is_stochastic:
        return exact.requantize(v, z_fmt, rounding).codes
    dim, K = v.size, v.fmt.frac_bits
    out = np.empty(dim, dtype=np.int64)
    for j, code in enumerate(v.codes.tolist()):
        k = round_integer(Fraction(code, 1 << K), rounding, PackedRandom(seed, step, j, dim, slot_bits))
        out[j] = apply_fixed_overflow(k, z_fmt)
    return out


# -- the epoch runner ------------------------------------------------------------------------------------


def integer_epoch(model, state: IterateState, rows: np.ndarray, alpha: float, grid, accumulator: Accumulator,
                  k_cap: int = K_CAP) -> None:
    """EPOCH_RUNNERS entry: T inner steps of the integer loop on ``model`` (features quantized by train)."""
    data = data_of(model)
    fmt = _check_code_format(grid.fmt, "fmt")
    z_fmt = FixedPoint(bits=fmt.bits, frac_bits=0, overflow=fmt.overflow)
    acc = accumulator_tuple(accumulator, data, z_fmt)
    s_z = state.scale * fmt.step
    dtype = code_dtype(fmt.bits)
    Z = _codes_of(state.z, s_z, dtype, "iterate")
    z_ref = d_ref = None
    if state.anchor is not None and state.center is None:  # LP-SVRG: w~ is on the grid too
        z_ref = _codes_of(state.anchor.w, s_z, dtype, "anchor")
        if model.kind == "least_squares":
            d_ref = reference_dots(data, z_ref, acc, accumulator, grid.engine, z_fmt)
    plan = epoch_plan(data, model.kind, model.y, model.l2, state, alpha, rows.shape[1], fmt, grid.rounding,
                      grid.seed, accumulator, grid.engine, z_ref, d_ref, k_cap)
    if grid.engine == "exact":
        status, done = exact_epoch(data, plan, Z, rows, state.step, grid.seed, accumulator)
    else:
        status, done = fast_epoch(data, plan, Z, rows, state.step, grid.seed, acc)
    state.z = s_z * Z.astype(np.float64)
    state.step += done
    if status != kernels.OK:
        raise StepFailed(f"step {state.step}: a scalar was NaN/inf or the iterate overflowed its format "
                         f"{fmt.spec} (overflow 'error')")


def reference_dots(data: IntegerData, z_ref: np.ndarray, acc: tuple, accumulator: Accumulator, engine: str,
                   z_fmt: FixedPoint) -> np.ndarray:
    """Dref_i = X_i . W~ by the loop's accumulator, so D - Dref is exactly 0 at w = w~."""
    out = np.empty(data.codes.shape[0], dtype=np.int64)
    if engine == "exact":
        x_fmt = FixedPoint(bits=data.fmt.bits, frac_bits=0)
        w = exact.QArray(codes=z_ref, fmt=z_fmt)
        for i in range(out.size):
            out[i] = int(exact.dot(exact.QArray(codes=data.codes[i], fmt=x_fmt), w, accumulator).codes)
        return out
    if not kernels.row_dots(data.codes, z_ref, acc, out):
        raise StepFailed("the anchor's reference dot overflowed the accumulator (overflow 'error')")
    return out


def _codes_of(values: np.ndarray, unit: float, dtype, what: str) -> np.ndarray:
    codes = np.rint(values / unit)
    if not np.array_equal(codes * unit, values):
        raise AssertionError(f"the {what} is not on the integer grid of step {unit}")
    return np.ascontiguousarray(codes.astype(dtype))


INTEGER = register_integer_arithmetic("integer", EXACT_ACCUMULATOR)
