"""Named formats used in practice (IEEE 754, bfloat16, OCP FP8, MX, common fixed point)."""

from .block import BlockFormat
from .fixed import FixedPoint
from .floating import FloatFormat, Specials
from .scaled_block import ScaledBlockFormat

BINARY16 = FloatFormat(exp_bits=5, man_bits=10)
BFLOAT16 = FloatFormat(exp_bits=8, man_bits=7)
BINARY32 = FloatFormat(exp_bits=8, man_bits=23)
BINARY64 = FloatFormat(exp_bits=11, man_bits=52)
E4M3 = FloatFormat(exp_bits=4, man_bits=3, specials=Specials.FN)
E5M2 = FloatFormat(exp_bits=5, man_bits=2)
E4M3FNUZ = FloatFormat(exp_bits=4, man_bits=3, specials=Specials.FNUZ)
E5M2FNUZ = FloatFormat(exp_bits=5, man_bits=2, specials=Specials.FNUZ)
E3M2 = FloatFormat(exp_bits=3, man_bits=2, specials=Specials.NONE)
E2M3 = FloatFormat(exp_bits=2, man_bits=3, specials=Specials.NONE)
E2M1 = FloatFormat(exp_bits=2, man_bits=1, specials=Specials.NONE)

P3109_BINARY8: dict[int, FloatFormat] = {}

PRESETS = {
    "binary16": BINARY16,
    "float16": BINARY16,
    "half": BINARY16,
    "bfloat16": BFLOAT16,
    "binary32": BINARY32,
    "float32": BINARY32,
    "binary64": BINARY64,
    "float64": BINARY64,
    "e4m3": E4M3,
    "e4m3fn": E4M3,
    "e5m2": E5M2,
    "e4m3fnuz": E4M3FNUZ,
    "e5m2fnuz": E5M2FNUZ,
    "e3m2": E3M2,
    "e2m3": E2M3,
    "e2m1": E2M1,
    "int8": FixedPoint(bits=8, frac_bits=0),
    "int16": FixedPoint(bits=16, frac_bits=0),
    "int32": FixedPoint(bits=32, frac_bits=0),
    "uint8": FixedPoint(bits=8, signed=False, frac_bits=0),
    "mxfp8_e4m3": BlockFormat.mx("e4m3"),
    "mxfp8_e5m2": BlockFormat.mx("e5m2"),
    "mxfp6_e3m2": BlockFormat.mx("e3m2"),
    "mxfp6_e2m3": BlockFormat.mx("e2m3"),
    "mxfp4": BlockFormat.mx("e2m1"),
    "mxint8": BlockFormat.mx("int8"),
    "nvfp4": ScaledBlockFormat.nvfp4(),
}

# IEEE P3109 binary8pP, P = 1..7 (signed, extended domain: the standard's default variant), and
# the unsigned binary8pPu, P = 1..8; other widths, the finite domain and overflow options come
# from the spec grammar (p3109_k8p4sf, p3109_k8p4uf_satpropagate, ...)
for _precision in range(1, 8):
    P3109_BINARY8[_precision] = FloatFormat.p3109(8, _precision)
    PRESETS[f"binary8p{_precision}"] = PRESETS[f"p3109_8p{_precision}"] = P3109_BINARY8[_precision]
for _precision in range(1, 9):
    PRESETS[f"binary8p{_precision}u"] = FloatFormat.p3109(8, _precision, signed=False)
