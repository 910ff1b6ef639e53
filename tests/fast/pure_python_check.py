"""Run by test_fast_pure_python.py with NUMBA_DISABLE_JIT=1: the kernels as plain Python on tiny
inputs, compared with the exact engine (so that coverage sees the kernel code)."""

import numpy as np
import numba

from lpsim import codec
import attrs

from lpsim.formats import BINARY64, E4M3, BlockFormat, FixedPoint, FloatFormat, ScaledBlockFormat

assert numba.config.DISABLE_JIT, "run with NUMBA_DISABLE_JIT=1"

x = np.array([0.0, -0.0, 1.25, -1.375, 3.0e-310, -2.5, 7.75, 1e300, -1e-300, 0.3])
cases = [
    (FixedPoint(bits=8, frac_bits=4), ["nearest_even", "stochastic", "sr4", "toward_negative"]),
    (FixedPoint(bits=8, frac_bits=4, overflow="wrap"), ["nearest_away", "stochastic", "sr8:xoroshiro128aox"]),
    (FixedPoint(bits=64, scale=0.1), ["to_odd", "stochastic"]),
    (E4M3, ["nearest_even", "stochastic", "sr3", "toward_zero", "toward_positive"]),
    (FloatFormat(exp_bits=3, man_bits=2, subnormals=False), ["nearest_even", "stochastic"]),
    (BINARY64, ["nearest_even"]),
    (BlockFormat.mx("e4m3", 4), ["nearest_even", "stochastic"]),
    (BlockFormat.bfp(8, 3), ["stochastic", "sr2"]),
    (attrs.evolve(ScaledBlockFormat.nvfp4(), block_size=4), ["nearest_even", "stochastic", "sr3", "to_odd"]),
]
for fmt, roundings in cases:
    for rounding in roundings:
        fast = codec.encode(x, fmt, rounding, seed=1, stream=2, offset=3, engine="fast")
        exact = codec.encode(x, fmt, rounding, seed=1, stream=2, offset=3, engine="exact")
        # the one-call quantize kernels (block formats), on rows and along the first axis
        for values, axis_fmt in ((x, fmt), (x.reshape(5, 2), attrs.evolve(fmt, axis=0) if hasattr(fmt, "axis") else fmt)):
            quantized = codec.quantize(values, axis_fmt, rounding, seed=1, stream=2, offset=3)
            want = codec.decode(codec.encode(values, axis_fmt, rounding, seed=1, stream=2, offset=3, engine="exact"),
                                axis_fmt, engine="exact")
            assert np.array_equal(quantized.view(np.uint64), want.view(np.uint64)), (axis_fmt, rounding)
        if fmt.family in ("block", "scaled_block"):
            assert np.array_equal(fast.elements, exact.elements) and np.array_equal(fast.scales, exact.scales), fmt
        else:
            assert np.array_equal(fast, exact), (fmt, rounding, fast, exact)
        values = codec.decode(exact, fmt, engine="fast")
        assert np.array_equal(values.view(np.uint64), codec.decode(exact, fmt, engine="exact").view(np.uint64)), fmt
wide = np.array([2**62 + 1, -(2**63), 2**53 + 3], dtype=np.int64)
fmt = FixedPoint(bits=64, scale=0.1)
assert np.array_equal(codec.decode(wide, fmt).view(np.uint64), codec.decode(wide, fmt, engine="exact").view(np.uint64))
for bad, fmt in [(np.nan, FixedPoint(bits=8, frac_bits=0)), (1e3, FixedPoint(bits=8, frac_bits=0, overflow="error"))]:
    messages = []
    for engine in ("fast", "exact"):
        try:
            codec.encode(np.array([1.0, bad]), fmt, engine=engine)
        except (ValueError, OverflowError) as error:
            messages.append((type(error), str(error)))
    assert len(messages) == 2 and messages[0] == messages[1], messages
print("pure-python kernels agree")
