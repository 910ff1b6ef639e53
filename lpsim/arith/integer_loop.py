"""The integer inner loop's problem and plan, shared by both engines (data only; they compute).

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

This module holds what both engines read: the codes of the features (IntegerData), the plan
of one epoch (EpochPlan, ``epoch_plan``), the random streams, status and loss codes, the
accumulator's description and the scalar loss derivatives. lpsim.exact.integer_loop runs an
epoch one exact operation at a time; lpsim.fast.integer_loop runs it in one compiled kernel;
lpsim.algorithms.integer chooses between them.
"""

from __future__ import annotations

import math
from typing import Callable

import attrs
import numpy as np

from ..formats.fixed import FixedPoint
from ..formats.rounding import Overflow, Rounding
from .accumulator import Accumulator, Order
from .plan import plan_dot
from .registers import ExactRegister, IntRegister

# Random streams of the integer loop (the float loop uses 1-3, see lpsim/algorithms/parts.py)
UPDATE_STREAM = 4  # packed slots: step g, element j -> call g * calls + j // per_call, slot j % per_call
SCALAR_STREAM = 5  # the scalar of batch row b, class c (of C) at step g: index (g * B + b) * C + c
GRADIENT_STREAM = 6  # alpha g~ / s_z: element j at index step0 * dim + j (step0: first step of the epoch)
# softmax: "element j" of streams 4 and 6 is the flat index j * C + c of the (d, C) iterate, dim = d * C

# status of an epoch: OK, or FAILED at the step where a NaN scalar or an 'error' overflow stopped it
OK = 0
FAILED = 1

# loss codes of the float scalar path
LEAST_SQUARES = 0
LOGISTIC = 1
SOFTMAX = 2
LOSS_CODES = {"least_squares": LEAST_SQUARES, "logistic": LOGISTIC, "softmax": SOFTMAX}

# accumulator kinds of the dot
ACC_EXACT = 0  # exact integer sum
ACC_WRAP = 1  # a wrapping register of acc_bits (associative: the exact sum wrapped once)
ACC_REGISTER = 2  # a saturating / erroring register, sequential (optionally chunked into a final register)

K_CAP = 16  # most fraction bits of the update: random slots stay <= 16 bits (the default cap)
V_BITS = 31  # |v| < 2**31: int32 lanes
MAX_CODE_BITS = 16
MULTIPLIER_BITS = 24  # the least-squares constant c = alpha u^2 / B as a 24-bit integer C * 2**-E


# -- the problem in codes -----------------------------------------------------------------------------


def code_dtype(bits: int):
    return np.int8 if bits <= 8 else np.int16


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


def iterate_format(fmt: FixedPoint) -> FixedPoint:
    """The format of the iterate's codes Z: fmt's bits and overflow policy, step 1."""
    return FixedPoint(bits=fmt.bits, frac_bits=0, overflow=fmt.overflow)


def slot_layout(dim: int, slot_bits: int) -> tuple[int, int]:
    """(slots per Philox call, calls per step) of the update's random slots over ``dim`` elements."""
    per_call = 128 // slot_bits
    return per_call, -(-dim // per_call)


# -- the accumulator ---------------------------------------------------------------------------------

INT64_FIELDS = (64, Overflow.ERROR.code, -(1 << 63), (1 << 63) - 1)


def register_fields(register) -> tuple[int, int, int, int]:
    """(bits, overflow code, code_min, code_max) of an integer register; an exact one as int64."""
    if isinstance(register, ExactRegister):
        return INT64_FIELDS
    if isinstance(register, IntRegister):
        return register.bits, register.overflow.code, register.code_min, register.code_max
    raise TypeError(f"the integer loop needs integer or exact registers, got {register.spec}")


def accumulator_kind(accumulator: Accumulator) -> tuple:
    """(kind, acc fields, chunk, final fields) of an accumulator the integer loop supports."""
    for register in accumulator.registers:
        register_fields(register)
    inner = accumulator.accumulator
    order = accumulator.summation.order
    if order is Order.CHUNKED:
        return ACC_REGISTER, register_fields(inner), accumulator.summation.chunk, register_fields(accumulator.summation.final)
    if isinstance(inner, ExactRegister):
        return ACC_EXACT, INT64_FIELDS, 0, INT64_FIELDS
    if inner.overflow is Overflow.WRAP:
        return ACC_WRAP, register_fields(inner), 0, INT64_FIELDS
    if order is Order.PAIRWISE:
        raise ValueError(f"the integer loop sums a saturating / erroring accumulator sequentially; got {accumulator.spec}")
    return ACC_REGISTER, register_fields(inner), 0, INT64_FIELDS


def check_accumulator(accumulator: Accumulator, data: IntegerData, z_fmt: FixedPoint) -> None:
    """Raise unless ``accumulator`` can sum x_i . z for these operand formats on both engines."""
    plan_dot(accumulator, data.fmt, z_fmt, op="integer loop dot", a_name="x_i", b_name="z")
    accumulator_kind(accumulator)


def dot_bound(accumulator: Accumulator, data: IntegerData, z_bits: int) -> int:
    """A bound on |D - Dref| (an exact dot, or a value of the result register)."""
    exact_bound = data.x_l1max << z_bits
    kind, acc_fields, _, final_fields = accumulator_kind(accumulator)
    if kind == ACC_EXACT:
        return exact_bound
    bits = final_fields[0] if accumulator.summation.order is Order.CHUNKED else acc_fields[0]
    return min(exact_bound, 1 << bits)


# -- the scalar loss derivatives (plain Python: the exact engine runs these, the kernel compiles them) --


def logistic_dloss(m, y):
    """d/dm log(1 + exp(-s m)), s = 2y - 1: -s * sigmoid(-s m), from math.exp (both engines call
    the C library's exp)."""
    s = 2.0 * y - 1.0
    t = -s * m
    if t >= 0.0:
        sig = 1.0 / (1.0 + math.exp(-t))
    else:
        e = math.exp(t)
        sig = e / (1.0 + e)
    return -s * sig


def squared_dloss(m, y):
    """d/dm (m - y)^2 / 2."""
    return m - y


def softmax_dloss(m, y, out):
    """out = softmax(m) - e_y for the K class margins m (y the class index, a float), summed in
    class order."""
    top = m[0]
    for k in range(1, m.shape[0]):
        if m[k] > top:
            top = m[k]
    total = 0.0
    for k in range(m.shape[0]):
        e = math.exp(m[k] - top)
        out[k] = e
        total += e
    for k in range(m.shape[0]):
        out[k] = out[k] / total
    out[int(y)] -= 1.0


def make_vector_dloss(logistic, squared, softmax):
    """vector_dloss over the given scalar derivatives (the kernel passes their compiled twins)."""
    def vector_dloss(loss, m, y, out):
        """out[:] = l'(m, y) for a row's margins m (one per class; one margin unless softmax)."""
        if loss == SOFTMAX:
            softmax(m, y, out)
        elif loss == LOGISTIC:
            out[0] = logistic(m[0], y)
        else:
            out[0] = squared(m[0], y)

    return vector_dloss


vector_dloss = make_vector_dloss(logistic_dloss, squared_dloss, softmax_dloss)


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

    @property
    def gradient_format(self) -> FixedPoint:
        """The format of Gq's codes (alpha g~ / s_z in units 2**-K)."""
        return gradient_format(self.z_fmt.bits, self.K)

    @property
    def multiplier_format(self) -> FixedPoint:
        """The format of the least-squares multiplier C 2**-E."""
        return FixedPoint(bits=MULTIPLIER_BITS + 2, frac_bits=self.E)

    @property
    def l2_format(self) -> FixedPoint:
        """The format of Lq (alpha l2 in units 2**-K)."""
        return l2_format(self.K)


def gradient_format(z_bits: int, K: int) -> FixedPoint:
    return FixedPoint(bits=z_bits + 2 + K, frac_bits=K)


def l2_format(K: int) -> FixedPoint:
    return FixedPoint(bits=K + 3, frac_bits=K)


Encode = Callable  # lpsim.codec.encode bound to an engine: encode(x, fmt, rounding, *, seed, stream, offset)


def epoch_plan(data: IntegerData, kind: str, y: np.ndarray, l2: float, state, alpha: float,
               batch: int, fmt: FixedPoint, rounding: Rounding, seed: int, accumulator: Accumulator,
               encode: Encode, z_ref: np.ndarray | None = None, d_ref: np.ndarray | None = None,
               k_cap: int = K_CAP) -> EpochPlan:
    """Scales and quantized constants of one epoch (see the module docstring).

    ``state``: the iterate (lpsim.algorithms.parts.IterateState: z, scale, step, anchor, center);
    ``encode``: the codec that quantizes the epoch's constants (lpsim.codec.encode on the run's engine).
    K is the largest value <= k_cap (1..K_CAP) with every term of v inside int32 for every input:
    |Z 2**K| + |Gq| + |Lq (Z - Zref)| + bias < 2**(K + b + 3) <= 2**30, and |sum_b A_b X_ij| <= 2**30
    (A saturates at 2**30 / (B max|X|)); and K leaves A room for its largest possible value.
    """
    if not 1 <= k_cap <= K_CAP:
        raise ValueError(f"epoch_plan: k_cap must be in 1..{K_CAP}, got {k_cap}")
    b = fmt.bits
    n, features = data.codes.shape
    classes = state.z.size // features
    s_z = float(state.scale) * fmt.step
    anchor = state.anchor
    linear = kind == "least_squares" and anchor is not None
    dd_max = dot_bound(accumulator, data, b)
    a_code_max = scalar_code_max(batch, data.x_max)
    tau = data.unit * s_z
    kappa = alpha * data.unit / s_z / batch
    c = alpha * data.unit * data.unit / batch
    a_max = largest_scalar(kind, linear, c, tau, kappa, dd_max, y)
    K = update_frac_bits(a_max, a_code_max, k_cap, b)
    C, E = linear_multiplier(c, dd_max, encode) if linear else (0, 0)
    dim = state.z.size
    if anchor is not None:
        Gq = encode(alpha * anchor.grad / s_z, gradient_format(b, K), rounding, seed=seed, stream=GRADIENT_STREAM,
                    offset=state.step * dim).astype(np.int32)
    else:
        Gq = np.zeros(dim, dtype=np.int32)
    Lq = int(encode(alpha * l2, l2_format(K), "nearest_even")) if l2 > 0 else 0
    zeros = np.zeros(n * classes)
    m0 = anchor.margins if (anchor is not None and state.center is not None) else zeros
    l0 = anchor.dloss if anchor is not None else zeros
    r_eff = update_random_bits(rounding, K)
    return EpochPlan(
        z_fmt=iterate_format(fmt), s_z=s_z, K=K, classes=classes,
        a_fmt=FixedPoint(bits=a_code_max.bit_length() + 1, frac_bits=K),
        linear=linear, C=C, E=E, tau=tau, kappa=kappa, loss=LOSS_CODES[kind], Gq=np.ascontiguousarray(Gq),
        Lq=Lq, Zref=np.zeros(dim, dtype=code_dtype(b)) if z_ref is None else z_ref,
        Dref=np.zeros(n, dtype=np.int64) if d_ref is None else d_ref,
        m0=np.ascontiguousarray(m0, dtype=np.float64).reshape(-1), l0=np.ascontiguousarray(l0, dtype=np.float64).reshape(-1),
        y=np.ascontiguousarray(y, dtype=np.float64), rounding=rounding, r_eff=r_eff,
        slot_bits=8 if r_eff <= 8 else 16, batch=batch,
    )


def scalar_code_max(batch: int, x_max: int) -> int:
    """The scalar's largest code: 2**k - 1 with B * max|X| * 2**k <= 2**30, so |sum_b A_b X_ij| <= 2**30."""
    return (1 << ((2**30 // (batch * max(x_max, 1))).bit_length() - 1)) - 1


def largest_scalar(kind: str, linear: bool, c: float, tau: float, kappa: float, dd_max: int, y: np.ndarray) -> float:
    """A bound on |a_b| (before quantization) over every step of the epoch."""
    if linear:
        return c * dd_max
    if kind == "least_squares":
        return kappa * (tau * dd_max / 2 + float(np.max(np.abs(y), initial=0.0)))
    if kind == "softmax":
        # |dp_c / dm . e| = p_c |e_c - p . e| <= 2 p_c (1 - p_c) |e|_inf <= |e|_inf / 2, and |p_c - [c = y]| <= 1
        return kappa * min(0.5 * tau * dd_max, 1.0)
    return kappa * min(0.25 * tau * dd_max, 1.0)


def update_frac_bits(a_max: float, a_code_max: int, k_cap: int, z_bits: int) -> int:
    """K: at most k_cap, every term of v inside int32, and room in the scalar's codes for a_max 2**K."""
    k_room = math.floor(math.log2(a_code_max / a_max)) if a_max > 0 else K_CAP
    return max(0, min(k_cap, V_BITS - 4 - z_bits, k_room))


def linear_multiplier(c: float, dd_max: int, encode: Encode) -> tuple[int, int]:
    """(C, E) with c ~ C * 2**-E, C of up to MULTIPLIER_BITS bits and |C * dd_max| < 2**62."""
    precision = min(MULTIPLIER_BITS, 62 - dd_max.bit_length())
    if precision < 8:
        raise ValueError(f"integer loop: |D| up to {dd_max} leaves the least-squares multiplier under 8 bits")
    E = precision - 1 - math.floor(math.log2(c))
    return int(encode(c, FixedPoint(bits=precision + 2, frac_bits=E), "nearest_even")), E


def update_random_bits(rounding: Rounding, K: int) -> int:
    """r: the random bits the update's stochastic rounding compares (0 unless stochastic and K > 0)."""
    if rounding.is_stochastic and K > 0:
        return K if rounding.random_bits is None else min(rounding.random_bits, K)
    return 0
