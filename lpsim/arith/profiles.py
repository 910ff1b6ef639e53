"""Named hardware profiles: accumulator descriptions of real multiply-accumulate units.

A profile is an ``Accumulator`` plus a name, the operand formats the hardware takes
and a description of the behaviour it models. The operand formats are informative
(listed by the CLI, used in examples); the engines check only what the accumulator
needs (``plan_dot``). Users register their own with ``register_profile``.
"""

from __future__ import annotations

import re

import attrs

from ..formats.base import Format
from ..formats.presets import BFLOAT16, BINARY16, BINARY32, BINARY64, E4M3, PRESETS
from ..formats.rounding import Overflow
from .accumulator import Accumulator, Summation
from .registers import EXACT, FloatRegister, IntRegister

_NAME = re.compile(r"[a-z][a-z0-9_]*")


def _check_name(instance, attribute, value):
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise ValueError(f"HardwareProfile: name must be lower-case letters, digits and '_', starting with a letter; got {value!r}")


def _check_inputs(instance, attribute, value):
    if not (isinstance(value, tuple) and len(value) == 2 and all(isinstance(f, Format) for f in value)):
        raise TypeError(f"HardwareProfile: inputs must be a pair of formats (a, b), got {value!r}")


def _check_accumulator(instance, attribute, value):
    if not isinstance(value, Accumulator):
        raise TypeError(f"HardwareProfile: accumulator must be an Accumulator, got {type(value).__name__}")


@attrs.frozen(kw_only=True)
class HardwareProfile:
    """A named accumulator: what a piece of hardware does in a dot product."""

    name: str = attrs.field(validator=_check_name)
    accumulator: Accumulator = attrs.field(validator=_check_accumulator)
    inputs: tuple[Format, Format] = attrs.field(validator=_check_inputs)
    summary: str = attrs.field(validator=attrs.validators.instance_of(str))
    models: str = attrs.field(default="", validator=attrs.validators.instance_of(str))


_PROFILES: dict[str, HardwareProfile] = {}


def register_profile(profile: HardwareProfile, *, replace: bool = False) -> HardwareProfile:
    """Add a profile to the registry (``replace=True`` to overwrite a name)."""
    if not isinstance(profile, HardwareProfile):
        raise TypeError(f"register_profile: expected a HardwareProfile, got {type(profile).__name__}")
    if profile.name in _PROFILES and not replace and _PROFILES[profile.name] != profile:
        raise ValueError(f"register_profile: a profile named {profile.name!r} exists; pass replace=True to overwrite it")
    _PROFILES[profile.name] = profile
    return profile


def unregister_profile(name: str) -> None:
    """Remove a profile by name (for tests and interactive sessions); unknown names raise ValueError."""
    get_profile(name)
    del _PROFILES[name.strip().lower()]


def get_profile(name: str) -> HardwareProfile:
    if not isinstance(name, str):
        raise TypeError(f"profile name must be a string, got {type(name).__name__}")
    key = name.strip().lower()
    if key not in _PROFILES:
        raise ValueError(f"unknown hardware profile {name!r}; known profiles: {', '.join(sorted(_PROFILES))}")
    return _PROFILES[key]


def available_profiles() -> dict[str, HardwareProfile]:
    """Every registered profile by name (built-ins and user-registered)."""
    return dict(sorted(_PROFILES.items()))


def as_accumulator(value) -> Accumulator:
    """Accept an Accumulator, a HardwareProfile or a profile name."""
    if isinstance(value, Accumulator):
        return value
    if isinstance(value, HardwareProfile):
        return value.accumulator
    if isinstance(value, str):
        return get_profile(value).accumulator
    raise TypeError(f"accumulator must be an Accumulator, a HardwareProfile or a profile name, got {type(value).__name__}")


INT8, UINT8 = PRESETS["int8"], PRESETS["uint8"]
_U8_S8 = (UINT8, INT8)  # the operand pair of x86's u8 x s8 dot instructions
_INT8_PRODUCT = IntRegister(bits=16, overflow=Overflow.ERROR)  # any 8 x 8 product is exact in 16 bits
_FP32 = FloatRegister(fmt=BINARY32)

VNNI_INT8_INT32 = register_profile(HardwareProfile(
    name="vnni_int8_int32",
    accumulator=Accumulator(product=_INT8_PRODUCT, accumulator=IntRegister(bits=32, overflow=Overflow.WRAP)),
    inputs=_U8_S8,
    summary="8-bit products, exact in 16 bits, summed in a wrapping int32",
    models=(
        "x86 AVX-512 VNNI / AVX-VNNI vpdpbusd (u8 x s8; vpdpbssd of AVX-VNNI-INT8 for s8 x s8): each 8 x 8 product is "
        "exact in 16 bits; four adjacent products are added to the int32 lane and the result wraps modulo 2**32. "
        "Wrapping addition is associative modulo 2**32, so the grouping by four gives the same bits as this "
        "sequential sum in a wrapping int32 register."
    ),
))

VNNI_INT8_INT32_SAT = register_profile(HardwareProfile(
    name="vnni_int8_int32_sat",
    accumulator=Accumulator(
        product=_INT8_PRODUCT, accumulator=EXACT,
        summation=Summation.chunked(4, IntRegister(bits=32, overflow=Overflow.SATURATE)),
    ),
    inputs=_U8_S8,
    summary="groups of four 8-bit products added exactly, then into a saturating int32",
    models=(
        "x86 AVX-512 VNNI vpdpbusds: the sum of four adjacent u8 x s8 products is added to the int32 lane with signed "
        "saturation, once per group of four (so saturation depends on the grouping: chunks of 4, exact inside, "
        "a saturating int32 across)."
    ),
))

AVX2_MADDUBS_INT16 = register_profile(HardwareProfile(
    name="avx2_maddubs_int16",
    accumulator=Accumulator(
        product=_INT8_PRODUCT,
        accumulator=IntRegister(bits=16, overflow=Overflow.SATURATE),
        summation=Summation.chunked(2, IntRegister(bits=32, overflow=Overflow.WRAP)),
    ),
    inputs=_U8_S8,
    summary="pairs of u8 x s8 products summed in a saturating int16, then widened and summed in int32",
    models=(
        "x86 AVX2 vpmaddubsw + vpmaddwd(ones) + vpaddd, the int8 dot of CPUs without VNNI (as in HALP's AVX2 code): "
        "vpmaddubsw multiplies u8 by s8 (each product exact in 16 bits) and adds adjacent pairs with signed "
        "saturation to int16 (255*127 + 255*127 saturates to 32767); vpmaddwd by ones widens the int16 pair sums "
        "into int32 exactly and vpaddd accumulates them, wrapping."
    ),
))

FP8_FP32 = register_profile(HardwareProfile(
    name="fp8_fp32",
    accumulator=Accumulator(product=EXACT, accumulator=_FP32),
    inputs=(E4M3, E4M3),
    summary="FP8 (E4M3/E5M2) products exact, float32 accumulation rounded to nearest-even at every add",
    models=(
        "Tensor-core style FP8 matrix multiply, idealized: the product of two FP8 values is exact (it has at most "
        "8 significant bits and fits float32's range), and each product is added to a float32 accumulator with one "
        "nearest-even rounding per add (a fused multiply-add per term). Real units may keep fewer accumulator bits "
        "(the DeepSeek-V3 report, arXiv 2412.19437, describes about 14 bits on H800); model that with a custom "
        "FloatRegister (see docs/arithmetic.md)."
    ),
))

BF16_FP32 = register_profile(HardwareProfile(
    name="bf16_fp32",
    accumulator=Accumulator(product=_FP32, accumulator=_FP32),
    inputs=(BFLOAT16, BFLOAT16),
    summary="bfloat16 products rounded to float32, float32 accumulation (nearest-even)",
    models=(
        "bfloat16 multiply with float32 accumulate (x86 AVX512_BF16 vdpbf16ps, Arm BFDOT, tensor cores): the product "
        "of two bfloat16 values is formed in float32 (exact unless it leaves float32's range) and added to the "
        "float32 accumulator with nearest-even. Not modelled: vdpbf16ps also flushes subnormal inputs and outputs to "
        "zero; approximate that with FloatFormat(..., subnormals=False) registers."
    ),
))

FP16_FP16 = register_profile(HardwareProfile(
    name="fp16_fp16",
    accumulator=Accumulator(product=EXACT, accumulator=FloatRegister(fmt=BINARY16)),
    inputs=(BINARY16, BINARY16),
    summary="binary16 fused multiply-add into a binary16 accumulator (nearest-even at every add)",
    models=(
        "Half-precision FMA accumulation (GPU HFMA, Arm FMLA on fp16, tensor cores in fp16-accumulate mode): each "
        "step is acc = fl16(acc + a*b) with the exact product; the accumulator overflows to inf past 65504 and "
        "loses small products once it is large (its step at 2048 is 2)."
    ),
))

FP16_FP32 = register_profile(HardwareProfile(
    name="fp16_fp32",
    accumulator=Accumulator(product=EXACT, accumulator=_FP32),
    inputs=(BINARY16, BINARY16),
    summary="binary16 inputs, exact products, float32 accumulation (mixed precision)",
    models="Mixed-precision tensor-core style: fp16 products exact, float32 fused accumulation with nearest-even.",
))

FP64_SEQUENTIAL = register_profile(HardwareProfile(
    name="fp64",
    accumulator=Accumulator(product=FloatRegister(fmt=BINARY64), accumulator=FloatRegister(fmt=BINARY64)),
    inputs=(BINARY64, BINARY64),
    summary="float64 products and a sequential float64 sum (a plain C loop without FMA)",
    models="A scalar float64 loop: s += a[i] * b[i], product and sum each rounded to nearest-even.",
))

EXACT_PROFILE = register_profile(HardwareProfile(
    name="exact",
    accumulator=Accumulator(product=EXACT, accumulator=EXACT),
    inputs=(BINARY64, BINARY64),
    summary="exact products and exact sum (round only at the output): the mathematical dot product",
    models="No hardware: the reference that every rounding error is measured against.",
))
