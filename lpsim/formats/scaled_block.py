"""Block formats whose per-block scale is a number of any format (NVFP4's E4M3 scales, say).

``BlockFormat`` keeps OCP MX's power-of-two E8M0 scales (a shared exponent). A
``ScaledBlockFormat`` stores each block's scale as a code of a FloatFormat or FixedPoint,
chosen from the block's largest magnitude, and optionally a second, per-tensor float32
scale above the block scales (NVFP4's global scale).
"""

from __future__ import annotations

import attrs
import numpy as np

from ._validate import int_in_range, to_int
from .base import Format
from .block import BlockElementProperties, _check_element
from .fixed import FixedPoint
from .floating import FloatFormat, Specials
from .rounding import NEAREST_EVEN, Overflow, Rounding, as_rounding

# the format of the per-tensor scale: IEEE binary32, as NVFP4's global scale
TENSOR_SCALE_FORMAT = FloatFormat(exp_bits=8, man_bits=23, overflow=Overflow.SATURATE)


def _check_scale(instance, attribute, value):
    if not isinstance(value, (FixedPoint, FloatFormat)):
        raise TypeError(f"ScaledBlockFormat: scale must be a FixedPoint or FloatFormat, got {type(value).__name__}")
    if value.overflow not in (Overflow.SATURATE, Overflow.ERROR):
        raise ValueError(
            f"ScaledBlockFormat: scale overflow must be saturate or error (a block scale past the scale "
            f"format's max clamps or raises), got {value.overflow.value!r} for scale {value.spec}"
        )
    if value.max <= 0:
        raise ValueError(f"ScaledBlockFormat: scale format {value.spec} has no positive values")


def _check_scale_rounding(instance, attribute, value):
    if value.is_stochastic:
        raise ValueError("ScaledBlockFormat: scale_rounding must be a deterministic mode, got stochastic")


@attrs.frozen(kw_only=True, eq=False)
class ScaledBlockFormat(BlockElementProperties, Format):
    """Blocks of ``block_size`` consecutive values along ``axis`` share one scale, a code of ``scale``.

    Scale rule (NVFP4's): with amax the block's largest magnitude and t the tensor scale
    (1 unless ``tensor_scale``), the block scale s is amax / (element.max * t) rounded once
    into ``scale`` with ``scale_rounding``. Elements are x / (s * t), the quotient exact,
    rounded once into ``element`` in the caller's rounding (saturating at element.max).
    A value decodes to element * s * t. Edge cases are in docs/formats.md.
    """

    family = "scaled_block"

    element: FixedPoint | FloatFormat = attrs.field(validator=_check_element)
    block_size: int = attrs.field(converter=to_int, validator=int_in_range(1, 1 << 20))
    scale: FixedPoint | FloatFormat = attrs.field(validator=_check_scale)
    axis: int = attrs.field(default=-1, converter=to_int, validator=int_in_range(-64, 63))
    tensor_scale: bool = attrs.field(default=False)
    scale_rounding: Rounding = attrs.field(default=NEAREST_EVEN, converter=as_rounding,
                                           validator=_check_scale_rounding)

    @tensor_scale.validator
    def _check_tensor_scale(self, attribute, value):
        if not isinstance(value, bool):
            raise TypeError(f"ScaledBlockFormat: tensor_scale must be a bool, got {value!r}")

    @classmethod
    def nvfp4(cls, axis: int = -1, tensor_scale: bool = True) -> "ScaledBlockFormat":
        """NVFP4: E2M1 elements in blocks of 16, an E4M3 (saturating) scale per block, a float32 tensor scale."""
        return cls(
            element=FloatFormat(exp_bits=2, man_bits=1, specials=Specials.NONE),
            block_size=16,
            scale=FloatFormat(exp_bits=4, man_bits=3, specials=Specials.FN, overflow=Overflow.SATURATE),
            axis=axis, tensor_scale=tensor_scale,
        )

    @property
    def bits_per_value(self) -> float:
        """Average storage per value, the block scale amortized over a full block (tensor scale not counted)."""
        return self.element.bits + self.scale.bits / self.block_size

    @property
    def max(self) -> float:
        """The largest finite value a block can hold (element.max * scale.max * the largest tensor scale)."""
        top = self.element.max * self.scale.max
        return top * TENSOR_SCALE_FORMAT.max if self.tensor_scale else top

    @property
    def has_nan(self) -> bool:
        return self.scale.has_nan

    @property
    def scale_dtype(self) -> np.dtype:
        return self.scale.code_dtype

    @property
    def spec(self) -> str:
        text = f"sblock{self.block_size}_{self.element.spec}_by_{self.scale.spec}"
        if self.scale_rounding != NEAREST_EVEN:
            text += f"_scale{self.scale_rounding.mode.value}"
        if self.tensor_scale:
            text += "_tensor"
        if self.axis != -1:
            text += f"_axis{self.axis}"
        return text
