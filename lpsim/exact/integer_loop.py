"""The integer inner loop on the exact engine: each step one exact operation at a time.

``run_epoch`` is the readable reference for lpsim.fast.integer_loop.run_epoch (same integers for
the same seed); the plan and its meaning are in lpsim/arith/integer_loop.py.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..arith.accumulator import Accumulator
from ..arith.integer_loop import (
    FAILED,
    OK,
    SCALAR_STREAM,
    UPDATE_STREAM,
    EpochPlan,
    IntegerData,
    check_accumulator,
    slot_layout,
    vector_dloss,
)
from ..formats.fixed import FixedPoint
from ..formats.rounding import DEFAULT_GENERATOR, Rounding, RoundingMode
from ..rng import block_words
from .arith import dot, fma, multiply, requantize, subtract
from .codec import apply_fixed_overflow
from .qarray import QArray
from .rounding import round_integer

_INT64 = FixedPoint(bits=64, frac_bits=0)


class PackedRandom:
    """The random bits of one element of the update: a slot of ``slot_bits`` bits of a generator
    block (four words, by ``rounding.generator``).

    Quacks like lpsim.exact.rounding.ElementRandom for ``round_integer`` (r <= slot_bits)."""

    def __init__(self, seed: int, step: int, j: int, dim: int, slot_bits: int, generator=DEFAULT_GENERATOR):
        per_call, calls = slot_layout(dim, slot_bits)
        words = block_words(seed, UPDATE_STREAM, step * calls + j // per_call, 0, generator)
        block = (words[0] << 96) | (words[1] << 64) | (words[2] << 32) | words[3]
        slot = j % per_call
        self.slot_bits = slot_bits
        self.value = (block >> (128 - slot_bits * (slot + 1))) & ((1 << slot_bits) - 1)

    def first_bits(self, nbits: int) -> int:
        if nbits > self.slot_bits:
            raise AssertionError(f"a {self.slot_bits}-bit slot cannot give {nbits} bits")
        return self.value >> (self.slot_bits - nbits)


def run_epoch(data: IntegerData, plan: EpochPlan, Z: np.ndarray, rows: np.ndarray, step0: int, seed: int,
              accumulator: Accumulator) -> tuple[int, int]:
    """Run the epoch's len(rows) steps on the codes Z (in place); returns (status, steps done)."""
    check_accumulator(accumulator, data, plan.z_fmt)
    x_fmt = FixedPoint(bits=data.fmt.bits, frac_bits=0)
    z_fmt, K, classes = plan.z_fmt, plan.K, plan.classes
    d = data.codes.shape[1]
    wide = FixedPoint(bits=62, frac_bits=K)  # holds every v exactly (|v| < 2**31)
    gradient = _reshaped(requantize(QArray(codes=plan.Gq, fmt=plan.gradient_format), wide), d, classes)
    l2 = QArray(codes=np.int64(plan.Lq), fmt=plan.l2_format)
    z_ref = _reshaped(QArray(codes=plan.Zref, fmt=z_fmt), d, classes)
    update_rounding = _update_rounding(plan)
    for t in range(rows.shape[0]):
        g = step0 + t
        Zq = QArray(codes=Z.reshape(d, classes), fmt=z_fmt)  # the (d, C) matrix; C = 1: a column
        total = gradient  # alpha g~ / s_z, then + sum_b x_b A_b^T
        for b in range(plan.batch):
            i = int(rows[t, b])
            x = QArray(codes=data.codes[i], fmt=x_fmt)
            try:
                dots = [int(dot(x, QArray(codes=Zq.codes[:, c], fmt=z_fmt), accumulator).codes) for c in range(classes)]
            except OverflowError:
                return FAILED, t
            A = _scalars(plan, i, dots, seed, (g * plan.batch + b) * classes)
            if A is None:
                return FAILED, t
            total = fma(_reshaped(A, 1, classes), _reshaped(x, d, 1), total, out=wide)
        if plan.Lq:
            diff = subtract(Zq, z_ref, out=FixedPoint(bits=z_fmt.bits + 1, frac_bits=0))
            total = fma(l2, diff, total, out=wide)
        v = _reshaped(subtract(Zq, total, out=wide), -1)
        try:
            Z[:] = round_update(v, z_fmt, update_rounding, seed, g, plan.slot_bits)
        except OverflowError:
            return FAILED, t
    return OK, rows.shape[0]


def _update_rounding(plan: EpochPlan) -> Rounding:
    """The update's rounding: stochastic with the plan's r random bits, or the iterate's own mode."""
    if plan.rounding.is_stochastic and plan.K > 0:
        return Rounding(mode=RoundingMode.STOCHASTIC, random_bits=plan.r_eff, generator=plan.rounding.generator)
    return plan.rounding


def _scalars(plan: EpochPlan, i: int, dots: list[int], seed: int, index: int) -> QArray | None:
    """The quantized scalars A of row i (one per class) from its dots; None if one is NaN / inf.
    ``index``: the first scalar's index on the scalar stream (class c: index + c)."""
    if plan.linear:
        dd = QArray(codes=np.int64(dots[0] - int(plan.Dref[i])), fmt=_INT64)
        multiplier = QArray(codes=np.int64(plan.C), fmt=plan.multiplier_format)
        return multiply(dd, multiplier, out=plan.a_fmt, rounding=plan.rounding, seed=seed, stream=SCALAR_STREAM,
                        offset=index)
    classes = plan.classes
    margins, dl = np.empty(classes), np.empty(classes)
    for c in range(classes):
        margins[c] = plan.m0[i * classes + c] + plan.tau * float(dots[c])
    vector_dloss(plan.loss, margins, plan.y[i], dl)
    values = (dl - plan.l0[i * classes:(i + 1) * classes]) * plan.kappa
    if not np.all(np.isfinite(values)):
        return None
    return QArray.from_float(values, plan.a_fmt, plan.rounding, seed=seed, stream=SCALAR_STREAM, offset=index)


def _reshaped(q: QArray, *shape: int) -> QArray:
    return QArray(codes=q.codes.reshape(shape), fmt=q.fmt)


def round_update(v: QArray, z_fmt: FixedPoint, rounding: Rounding, seed: int, step: int, slot_bits: int):
    """Z = overflow(round(v)) with the update's packed random slots (requantize when not stochastic)."""
    if not rounding.is_stochastic:
        return requantize(v, z_fmt, rounding).codes
    dim, K = v.size, v.fmt.frac_bits
    out = np.empty(dim, dtype=np.int64)
    for j, code in enumerate(v.codes.tolist()):
        k = round_integer(Fraction(code, 1 << K), rounding, PackedRandom(seed, step, j, dim, slot_bits, rounding.generator))
        out[j] = apply_fixed_overflow(k, z_fmt)
    return out


def reference_dots(data: IntegerData, z_ref: np.ndarray, z_fmt: FixedPoint, accumulator: Accumulator) -> np.ndarray | None:
    """Dref_i = X_i . W~ by the loop's accumulator (int64), or None if a dot overflowed an 'error' register."""
    check_accumulator(accumulator, data, z_fmt)
    x_fmt = FixedPoint(bits=data.fmt.bits, frac_bits=0)
    w = QArray(codes=z_ref, fmt=z_fmt)
    out = np.empty(data.codes.shape[0], dtype=np.int64)
    try:
        for i in range(out.size):
            out[i] = int(dot(QArray(codes=data.codes[i], fmt=x_fmt), w, accumulator).codes)
    except OverflowError:
        return None
    return out
