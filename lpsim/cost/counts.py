"""What one training run costs in operations, random bits and memory traffic, counted from its structure.

The counts follow the algorithm as docs/algorithms.md defines it (docs/cost.md lists every
term): they are computed from n, d, the classes C, T, the epochs that ran, the batch B, the
loss, l2, and which parts run in which format, never by instrumenting an engine, so the fast
and the exact engine report the same counts for the same run. The per-epoch metrics the
recorder computes (loss, full gradient for the history) are measurement, not the algorithm,
and are not counted.

An operation is keyed by (kind, operand, register): ``kind`` one of KINDS, ``operand`` the
label of its inputs' format ("fp64", "int8", "fp8", ...), ``register`` the label of the format
its result lands in (a multiply-accumulate's accumulator, a rounding's target format). Memory
traffic is counted in bits per (level, direction): "dram" holds the data set and the per-row
values of the anchor (they grow with n), "sram" the model's vectors (z, w~, g~: they grow with d).
"""

from __future__ import annotations

from collections import Counter

import attrs

from ..formats.base import Format
from ..formats.fixed import FixedPoint

KINDS = ("add", "multiply", "fma", "compare", "exp", "divide")
LEVELS = ("dram", "sram")
DIRECTIONS = ("read", "write")
FP64 = "fp64"
WORD_BITS = 32  # stochastic rounding reads 32-bit Philox words per element (lpsim.rng)
INT32 = "int32"  # the integer loop's update lanes (v in int32)
INT64 = "int64"

# Scalar ops of the loss derivative l'(m, y) for one row, in float64 (C = classes).
#   least squares: m - y.
#   logistic: s = 2y - 1 (fma), t = -s m (multiply), the branch on t (compare), exp, 1 + e (add),
#             the quotient (divide), -s * sig (multiply).
#   softmax: the max over C margins (C - 1 compares), m_k - top and the sum (2C adds), C exps,
#            C quotients, and p_y - 1 (one add).
def loss_ops(kind: str, classes: int) -> dict[str, int]:
    if kind == "least_squares":
        return {"add": 1}
    if kind == "logistic":
        return {"fma": 1, "multiply": 2, "compare": 1, "exp": 1, "add": 1, "divide": 1}
    if kind == "softmax":
        return {"compare": classes - 1, "add": 2 * classes + 1, "exp": classes, "divide": classes}
    raise ValueError(f"cost: no loss-derivative count for model kind {kind!r} (least_squares, logistic, softmax)")


def format_label(fmt: Format | None) -> str:
    """A format's label in the counts: "int<bits>" for fixed point, "fp<bits>" for floating point,
    a block format by its element; None (float64) is "fp64"."""
    if fmt is None:
        return FP64
    element = getattr(fmt, "element", None)
    if element is not None:
        return format_label(element)
    return f"int{fmt.bits}" if isinstance(fmt, FixedPoint) else f"fp{fmt.bits}"


def label_bits(label: str) -> int:
    """The width in bits of a format label ("int8" -> 8, "fp64" -> 64)."""
    return int(label.lstrip("intfp"))


@attrs.frozen(kw_only=True)
class Cost:
    """The counts of one run.

    ops          ((kind, operand, register, count), ...) sorted, counts > 0
    random_bits  random bits drawn for stochastic rounding
    memory       ((level, direction, bits), ...) sorted, bits > 0
    """

    ops: tuple = ()
    random_bits: int = 0
    memory: tuple = ()

    def count(self, kind: str) -> int:
        """Operations of ``kind`` (one of KINDS), over every width."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
        return sum(n for k, _, _, n in self.ops if k == kind)

    def bytes(self, level: str, direction: str) -> float:
        """Bytes moved at ``level`` ("dram", "sram") in ``direction`` ("read", "write")."""
        if level not in LEVELS or direction not in DIRECTIONS:
            raise ValueError(f"level must be one of {LEVELS} and direction one of {DIRECTIONS}, got {level!r}, {direction!r}")
        return sum(bits for lv, dr, bits in self.memory if (lv, dr) == (level, direction)) / 8

    def columns(self) -> dict:
        """The counts as results-table columns (see COST_COLUMNS)."""
        out = {f"ops_{kind}": self.count(kind) for kind in KINDS}
        out["random_bits"] = self.random_bits
        for level in LEVELS:
            for direction in DIRECTIONS:
                out[f"bytes_{level}_{direction}"] = self.bytes(level, direction)
        out["bytes_moved"] = sum(bits for _, _, bits in self.memory) / 8
        return out

    def to_json(self) -> dict:
        return {"ops": [list(op) for op in self.ops], "random_bits": self.random_bits,
                "memory": [list(m) for m in self.memory]}

    @classmethod
    def from_json(cls, data: dict) -> "Cost":
        return cls(ops=tuple(tuple(op) for op in data["ops"]), random_bits=int(data["random_bits"]),
                   memory=tuple(tuple(m) for m in data["memory"]))


COST_COLUMNS = tuple(Cost().columns())


class Tally:
    """A running count, turned into a Cost by ``cost()``."""

    def __init__(self):
        self.ops: Counter = Counter()
        self.random_bits = 0
        self.memory: Counter = Counter()

    def op(self, kind: str, count: int, operand: str = FP64, register: str | None = None) -> None:
        self.ops[(kind, operand, register or operand)] += count

    def ops_of(self, counts: dict[str, int], times: int, label: str = FP64) -> None:
        for kind, count in counts.items():
            self.op(kind, count * times, label)

    def read(self, level: str, bits: int) -> None:
        self.memory[(level, "read")] += bits

    def write(self, level: str, bits: int) -> None:
        self.memory[(level, "write")] += bits

    def cost(self) -> Cost:
        return Cost(ops=tuple(sorted((*key, n) for key, n in self.ops.items() if n)), random_bits=self.random_bits,
                    memory=tuple(sorted((*key, n) for key, n in self.memory.items() if n)))
