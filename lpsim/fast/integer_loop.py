"""The integer inner loop on the fast engine: one compiled kernel call per epoch.

``run_epoch`` computes the same integers as lpsim.exact.integer_loop.run_epoch (the plan and
its meaning: lpsim/arith/integer_loop.py); it turns an EpochPlan into the kernel's parameter
records (lpsim/fast/_halp_kernels.py) and allocates the kernel's scratch.
"""

from __future__ import annotations

import numpy as np

from ..arith.accumulator import Accumulator
from ..arith.integer_loop import (
    SCALAR_STREAM,
    UPDATE_STREAM,
    EpochPlan,
    IntegerData,
    accumulator_kind,
    check_accumulator,
    slot_layout,
)
from ..formats.fixed import FixedPoint
from . import _halp_kernels as K
from ._rng_kernels import source_word


def accumulator_params(accumulator: Accumulator, data: IntegerData, z_fmt: FixedPoint) -> K.AccParams:
    """The kernel's description of the dot's accumulator (checked against the operand formats)."""
    check_accumulator(accumulator, data, z_fmt)
    kind, (a_bits, a_ovf, a_lo, a_hi), chunk, (f_bits, f_ovf, f_lo, f_hi) = accumulator_kind(accumulator)
    max_product = max(data.x_max, 1) * max(-z_fmt.code_min, z_fmt.code_max)
    exact_chunk = min((2**31 - 1) // max_product, 1 << 24)  # terms whose exact sum stays inside int32
    return K.AccParams(*(np.int64(v) for v in (kind, exact_chunk, a_bits, a_ovf, a_lo, a_hi, chunk, f_bits, f_ovf,
                                               f_lo, f_hi)))


def run_epoch(data: IntegerData, plan: EpochPlan, Z: np.ndarray, rows: np.ndarray, step0: int, seed: int,
              accumulator: Accumulator) -> tuple[int, int]:
    """Run the epoch's len(rows) steps on the codes Z (in place); returns (status, steps done)."""
    acc = accumulator_params(accumulator, data, plan.z_fmt)
    rounding = plan.rounding
    scalar = K.ScalarParams(
        linear=plan.linear, C=np.int64(plan.C), c_shift=np.int64(plan.K - plan.E), Dref=plan.Dref,
        loss=np.int64(plan.loss), m0=plan.m0, l0=plan.l0, y=plan.y, tau=plan.tau, kappa=plan.kappa,
        lo=np.int64(plan.a_fmt.code_min), hi=np.int64(plan.a_fmt.code_max))
    update = K.UpdateParams(
        K=np.int64(plan.K), Gq=plan.Gq, Lq=np.int64(plan.Lq), Zref=plan.Zref, lo=np.int64(plan.z_fmt.code_min),
        hi=np.int64(plan.z_fmt.code_max), overflow=np.int64(plan.z_fmt.overflow.code))
    random = K.RandomParams(
        mode=np.int64(rounding.mode.code), rbits=np.int64(rounding.random_bits or 0) if plan.r_eff else np.int64(0),
        slot_bits=np.int64(plan.slot_bits), seed=np.uint64(seed), scalar_stream=source_word(SCALAR_STREAM, rounding.generator.code),
        update_stream=source_word(UPDATE_STREAM, rounding.generator.code), step0=np.int64(step0))
    status, done = K.integer_epoch(data.codes, Z, np.ascontiguousarray(rows, dtype=np.int64), np.int64(plan.classes),
                                   acc, scalar, update, random, _scratch(data, plan, Z, rows))
    return int(status), int(done)


def _scratch(data: IntegerData, plan: EpochPlan, Z: np.ndarray, rows: np.ndarray) -> K.Scratch:
    _, calls = slot_layout(Z.shape[0], plan.slot_bits)
    words = np.zeros(4 * calls, dtype=np.uint32)
    classes = plan.classes
    return K.Scratch(words=words, slots=words.view(np.uint8 if plan.slot_bits == 8 else np.uint16),
                     acc32=np.empty(Z.shape[0], dtype=np.int32), A_buf=np.empty(rows.shape[1] * classes, dtype=np.int64),
                     column=np.empty(data.codes.shape[1], dtype=Z.dtype), margins=np.empty(classes),
                     dl=np.empty(classes))


def reference_dots(data: IntegerData, z_ref: np.ndarray, z_fmt: FixedPoint, accumulator: Accumulator) -> np.ndarray | None:
    """Dref_i = X_i . W~ by the loop's accumulator (int64), or None if a dot overflowed an 'error' register."""
    out = np.empty(data.codes.shape[0], dtype=np.int64)
    if not K.row_dots(data.codes, z_ref, accumulator_params(accumulator, data, z_fmt), out):
        return None
    return out


def code_margins(data: IntegerData, W: np.ndarray) -> np.ndarray:
    """x_i . w for every row, in float64 from the data codes (x_i = unit X_i): (n, C) for W of shape (d, C)."""
    out = np.empty((data.codes.shape[0], W.shape[1]))
    K.code_margins(data.codes, np.ascontiguousarray(W, dtype=np.float64), float(data.unit), out)
    return out


def code_gradient(data: IntegerData, R: np.ndarray) -> np.ndarray:
    """X^T R in float64 from the data codes, (d, C) for R of shape (n, C): the data term of the full gradient."""
    out = np.empty((data.codes.shape[1], R.shape[1]))
    K.code_gradient(data.codes, np.ascontiguousarray(R, dtype=np.float64), float(data.unit), out)
    return out
