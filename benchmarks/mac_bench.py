"""Multiply-accumulate at network scale: the fast engine's matmul paths, side by side in one run.

    python benchmarks/mac_bench.py [--quick]

Shapes 256 x 1024 x 256 (``--quick``: 64 x 1024 x 64), one thread unless stated. Per case:
million multiply-accumulates per second of ``lpsim.ops.matmul`` (the whole call: checks,
operand decoding, kernel, result codes), the target of the issue, and the exact engine
timed on a slice of 2 x 1024 x 2 outputs with the fast / exact ratio per MAC. Every case is
first checked to give the exact engine's codes on that slice. The E4M3 case also prints
numpy's float32 matmul (BLAS, one thread, not order-exact) on the same shapes, and the
two-thread speedup. Timings are the best of three calls; the first run in a fresh checkout
compiles and caches the kernels.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from lpsim import ops  # noqa: E402
from lpsim.arith import Accumulator, FloatRegister  # noqa: E402
from lpsim.exact import QArray  # noqa: E402
from lpsim.fast import threads  # noqa: E402
from lpsim.formats import BFLOAT16, BINARY32, E4M3, FloatFormat, PRESETS, Rounding  # noqa: E402
from timing import best_time  # noqa: E402  (benchmarks/, the script's folder)

FP13 = FloatFormat(exp_bits=8, man_bits=12)
CASES = [
    # label, operand format, accumulator, M MAC/s target
    ("E4M3 x E4M3 -> fp32 sequential", E4M3, "fp8_fp32", 1000),
    ("bf16 x bf16 -> fp32 sequential", BFLOAT16, "bf16_fp32", 1000),
    ("int8 x int8 -> int32 wrap", PRESETS["int8"], "vnni_int8_int32", 2000),
    ("fp16 x fp16 -> fp16 nearest-even", PRESETS["binary16"], "fp16_fp16", 100),
    ("E4M3 x E4M3 -> 13-bit truncating", E4M3,
     Accumulator(accumulator=FloatRegister(fmt=FP13, rounding="toward_zero")), 100),
    ("E4M3 x E4M3 -> fp32 stochastic", E4M3,
     Accumulator(accumulator=FloatRegister(fmt=BINARY32, rounding=Rounding(mode="stochastic"))), 100),
]


def operands(rng, fmt, m, n, p):
    scale = 30.0 if fmt == PRESETS["int8"] else 1.0
    return (QArray.from_float(rng.standard_normal((m, n)) * scale, fmt),
            QArray.from_float(rng.standard_normal((n, p)) * scale, fmt))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="64 x 1024 x 64 instead of 256 x 1024 x 256")
    m, n, p = (64, 1024, 64) if parser.parse_args().quick else (256, 1024, 256)
    macs = m * n * p
    rng = np.random.default_rng(0)
    print(f"matmul {m} x {n} x {p} ({macs / 1e6:.0f} M MACs); one thread unless stated; best of 3 calls")
    print(f"{'case':<36} {'fast M MAC/s':>13} {'target':>7} {'met':>4} {'exact M MAC/s':>14} {'fast/exact':>11}")
    for label, fmt, accumulator, target in CASES:
        a, b = operands(rng, fmt, m, n, p)
        a_slice, b_slice = QArray(codes=a.codes[:2], fmt=fmt), QArray(codes=b.codes[:, :2], fmt=fmt)
        exact_result = ops.matmul(a_slice, b_slice, accumulator, engine="exact")
        assert np.array_equal(ops.matmul(a_slice, b_slice, accumulator).codes, exact_result.codes), label
        t_exact = best_time(lambda: ops.matmul(a_slice, b_slice, accumulator, engine="exact"), 1)
        exact_rate = 4 * n / t_exact
        with threads.using_threads(1):
            t_fast = best_time(lambda: ops.matmul(a, b, accumulator), 3)
        fast_rate = macs / t_fast
        print(f"{label:<36} {fast_rate / 1e6:13.0f} {target:7d} {'yes' if fast_rate / 1e6 >= target else 'no':>4} "
              f"{exact_rate / 1e6:14.3f} {fast_rate / exact_rate:10.0f}x")
        if accumulator == "fp8_fp32":
            af, bf = ops.to_float(a).astype(np.float32), ops.to_float(b).astype(np.float32)
            t_blas = best_time(lambda: af @ bf, 3)
            with threads.using_threads(2):
                t_two = best_time(lambda: ops.matmul(a, b, accumulator), 3)
            print(f"{'  numpy float32 matmul (BLAS)':<36} {macs / t_blas / 1e6:13.0f}   fast / BLAS = {t_blas / t_fast:.2f}")
            print(f"{'  same case, two threads':<36} {macs / t_two / 1e6:13.0f}   two / one thread = {t_fast / t_two:.2f}"
                  f" (target 1.7)")


if __name__ == "__main__":
    main()
