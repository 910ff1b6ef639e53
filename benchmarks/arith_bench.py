"""Fast vs exact arithmetic, measured side by side in one run (single thread).

    NUMBA_NUM_THREADS=1 python benchmarks/arith_bench.py [--quick]

Prints, per case, the time of one call on each engine and their ratio (the issue-4 target
is fast >= 100x exact on int8 dot products of length 1024), then matvec throughput in
multiply-accumulates per second, and the compiled integer dot kernel alone (no Python
wrapper) against numpy's int64 dot for scale. Both engines are checked to agree on every
case before timing. The first run in a fresh checkout compiles and caches the kernels.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

if "numba" not in sys.modules:  # run as a script; a test importing it keeps its process's thread pool
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from lpsim import ops  # noqa: E402
from lpsim.arith import Accumulator, FloatRegister, IntRegister  # noqa: E402
from lpsim.fast import _arith_kernels as K  # noqa: E402
from lpsim.formats import BINARY16, BINARY32, E4M3, PRESETS  # noqa: E402


def per_call(function, min_time: float) -> float:
    """Seconds per call: repeat until min_time has passed (at least twice), keep the best of 3 rounds."""
    function()
    best = float("inf")
    for _ in range(3):
        calls, start = 0, time.perf_counter()
        while True:
            function()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_time and calls >= 2:
                break
        best = min(best, elapsed / calls)
    return best


def compare(label, op, args, kwargs, macs, min_time):
    fast = getattr(ops, op)
    fast_result = fast(*args, **kwargs, engine="fast")
    exact_result = fast(*args, **kwargs, engine="exact")
    assert np.array_equal(fast_result.codes, exact_result.codes), label
    t_fast = per_call(lambda: fast(*args, **kwargs, engine="fast"), min_time)
    t_exact = per_call(lambda: fast(*args, **kwargs, engine="exact"), min_time)
    print(f"{label:<44} fast {t_fast * 1e6:10.1f} us  exact {t_exact * 1e3:9.2f} ms  "
          f"ratio {t_exact / t_fast:9.0f}x  fast {macs / t_fast / 1e6:9.1f} MMAC/s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter timing windows")
    min_time = 0.05 if parser.parse_args().quick else 0.3
    rng = np.random.default_rng(0)
    i8, u8 = PRESETS["int8"], PRESETS["uint8"]
    n = 1024
    a_u8 = ops.from_float(rng.integers(0, 256, n), u8)
    a_i8 = ops.from_float(rng.integers(-128, 128, n), i8)
    b_i8 = ops.from_float(rng.integers(-128, 128, n), i8)
    h = [ops.from_float(rng.normal(size=n), BINARY16) for _ in range(2)]
    f8 = [ops.from_float(rng.normal(size=n), E4M3) for _ in range(2)]

    print(f"dot products of length {n} (one call each; ratio = exact time / fast time)")
    compare("int8 x int8, int32 wrap (vnni_int8_int32)", "dot", (a_i8, b_i8, "vnni_int8_int32"), {}, n, min_time)
    compare("u8 x s8, int16 sat pairs (avx2_maddubs_int16)", "dot", (a_u8, b_i8, "avx2_maddubs_int16"), {}, n, min_time)
    compare("int8, saturating int32", "dot",
            (a_i8, b_i8, Accumulator(product=IntRegister(bits=16), accumulator=IntRegister(bits=32, overflow="saturate"))),
            {}, n, min_time)
    compare("fp16 x fp16, fp32 accumulate (fp16_fp32)", "dot", (h[0], h[1], "fp16_fp32"), {}, n, min_time)
    compare("fp16 x fp16, fp16 accumulate (fp16_fp16)", "dot", (h[0], h[1], "fp16_fp16"), {}, n, min_time)
    compare("e4m3 x e4m3, fp32 accumulate (fp8_fp32)", "dot", (f8[0], f8[1], "fp8_fp32"), {}, n, min_time)
    stochastic = Accumulator(accumulator=FloatRegister(fmt=BINARY16, rounding="stochastic"))
    compare("fp16, fp16 stochastic accumulate", "dot", (h[0], h[1], stochastic), {"seed": 1}, n, min_time)

    m = 64
    A_i8 = ops.from_float(rng.integers(-128, 128, (m, n)), i8)
    A_h = ops.from_float(rng.normal(size=(m, n)), BINARY16)
    print(f"\nmatvec ({m} x {n}) throughput")
    compare("int8 matvec, int32 wrap", "matvec", (A_i8, b_i8, "vnni_int8_int32"), {}, m * n, min_time)
    compare("int8 matvec, int32 wrap, out e4m3 stochastic", "matvec", (A_i8, b_i8, "vnni_int8_int32"),
            {"out": E4M3, "rounding": "stochastic", "seed": 2}, m * n, min_time)
    compare("fp16 matvec, fp32 accumulate", "matvec", (A_h, h[1], "fp16_fp32"), {}, m * n, min_time)

    print("\nelementwise (length 1024)")
    compare("axpy fp16, nearest-even", "axpy", (ops.from_float(np.array(0.5), BINARY16), h[0], h[1]), {}, n, min_time)
    compare("requantize fp32 -> int8, stochastic", "requantize",
            (ops.from_float(rng.normal(size=n) * 30, BINARY32), i8, "stochastic"), {"seed": 3}, n, min_time)

    print("\ncompiled integer dot kernel alone (no wrapper), 1024 x 1024 int8 matvec")
    A = rng.integers(-128, 128, (1024, 1024)).astype(np.int8)
    x = rng.integers(-128, 128, (1, 1024)).astype(np.int8)
    out = np.zeros((1024, 1), dtype=np.int64)
    t32 = per_call(lambda: K.int_dot_wrap32(A, x, out, 32, -(2**31)), min_time)
    t64 = per_call(lambda: K.int_dot_wrap(A, x, out, 32, -(2**31)), min_time)
    A64, x64 = A.astype(np.int64), x.astype(np.int64).ravel()
    tnp = per_call(lambda: A64 @ x64, min_time)
    for label, t in (("int32 lanes (int_dot_wrap32)", t32), ("int64 lanes (int_dot_wrap)", t64),
                     ("numpy int64 A @ x (pre-widened)", tnp)):
        print(f"{label:<44} {t * 1e6:10.1f} us  {2**20 / t / 1e9:6.2f} GMAC/s")


if __name__ == "__main__":
    main()
