"""The one matrix product of lpsim.nn: every forward and backward product of every layer runs here.

``mac=None`` is plain float64 numpy (the reference every low-precision run is compared with).
Anything else names a multiply-accumulate unit (an ``Accumulator``, a ``HardwareProfile`` or a
profile name, or a ``Mac``): the operands are rounded into the unit's input formats and the
product runs through ``lpsim.ops.matmul``, so every product and every add is rounded as that
hardware rounds it, on the chosen engine. A unit whose registers round stochastically draws
random bits keyed by ``key`` (seed, stream, offset: lpsim.nn.quant.Rounder.product_key gives each
product of a run its own stream); deterministic units ignore it.
"""

from __future__ import annotations

import attrs
import numpy as np

from .. import ops
from ..arith.accumulator import Accumulator
from ..arith.profiles import HardwareProfile, get_profile
from ..codec import check_engine, check_format
from ..formats.base import Format
from ..formats.presets import BINARY64
from .errors import NonFiniteError
from .quant import with_generator


def _to_inputs(value):
    if value is None:
        return None
    if not (isinstance(value, (tuple, list)) and len(value) == 2):
        raise TypeError(f"Mac: inputs must be a pair of formats (a, b) or None, got {value!r}")
    return tuple(check_format(f) for f in value)


def _check_engine(instance, attribute, value):
    check_engine(value)


@attrs.frozen(kw_only=True)
class Mac:
    """A multiply-accumulate unit for lpsim.nn: an accumulator, the formats its operands are
    rounded into (``None``: float64, which holds every float64 operand exactly, so only the
    accumulator rounds) and the engine that simulates it."""

    accumulator: Accumulator = attrs.field(validator=attrs.validators.instance_of(Accumulator))
    inputs: tuple[Format, Format] | None = attrs.field(default=None, converter=_to_inputs)
    engine: str = attrs.field(default="fast", validator=_check_engine)

    @property
    def stochastic(self) -> bool:
        """Whether a register of the unit rounds stochastically (so its products draw random bits)."""
        return any(getattr(r, "rounding", None) is not None and r.rounding.is_stochastic
                   for r in self.accumulator.registers)

    def with_generator(self, generator) -> "Mac":
        """The unit with every stochastic register drawing from ``generator`` (None: unchanged)."""
        if generator is None or not self.stochastic:
            return self

        def register(r):
            return attrs.evolve(r, rounding=with_generator(r.rounding, generator)) if hasattr(r, "rounding") else r

        acc = self.accumulator
        summation = acc.summation
        if summation.final is not None:
            summation = attrs.evolve(summation, final=register(summation.final))
        return attrs.evolve(self, accumulator=attrs.evolve(acc, product=register(acc.product),
                                                           accumulator=register(acc.accumulator), summation=summation))

    @property
    def spec(self) -> str:
        inputs = "float64" if self.inputs is None else " x ".join(f.spec for f in self.inputs)
        return f"{inputs} -> {self.accumulator.spec} ({self.engine})"


def as_mac(value, engine: str = "fast") -> Mac | None:
    """``None`` (float64 numpy), or a Mac from a Mac, a HardwareProfile, a profile name or an Accumulator.

    A profile brings its input formats (its operands are rounded into them, nearest-even);
    a bare Accumulator takes float64 operands."""
    if value is None or isinstance(value, Mac):
        return value
    if isinstance(value, str):
        value = get_profile(value)
    if isinstance(value, HardwareProfile):
        return Mac(accumulator=value.accumulator, inputs=value.inputs, engine=engine)
    if isinstance(value, Accumulator):
        return Mac(accumulator=value, engine=engine)
    raise TypeError(
        f"mac must be None, a Mac, an Accumulator, a HardwareProfile or a profile name, got {type(value).__name__}"
    )


def matmul(a: np.ndarray, b: np.ndarray, mac=None, key: dict | None = None) -> np.ndarray:
    """a @ b for float64 arrays, computed by ``mac`` (see the module docstring); float64 result.

    Shapes as numpy's matmul: leading batch axes broadcast (a stack of im2col matrices times one
    weight matrix is one call), and each batch element is the 2-D product it would be alone, with
    the random bits of a stochastic accumulator at the flat output index (docs/arithmetic.md);
    ``key`` (seed, stream, offset) places those bits."""
    mac = as_mac(mac)
    if mac is None:
        return a @ b
    fa, fb = mac.inputs or (BINARY64, BINARY64)
    a, b = np.ascontiguousarray(a, dtype=np.float64), np.ascontiguousarray(b, dtype=np.float64)
    try:
        qa, qb = ops.from_float(a, fa, engine=mac.engine), ops.from_float(b, fb, engine=mac.engine)
    except (ValueError, OverflowError) as exc:
        if np.isfinite(a).all() and np.isfinite(b).all():
            raise
        raise NonFiniteError(f"matmul operands hold NaN or inf that {mac.spec} cannot take: {exc}") from None
    # out=float64 holds every value a float accumulator of at most 64 bits produces, and gives an
    # exact accumulator (which has no storage format of its own) one final rounding
    product = ops.matmul(qa, qb, mac.accumulator, out=BINARY64, engine=mac.engine, **(key or {}))
    return ops.to_float(product, engine=mac.engine)
