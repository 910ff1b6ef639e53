"""Multiply-accumulate at network scale: the fast engine's matmul paths, side by side in one run.

    python benchmarks/mac_bench.py [--quick] [--calls] [--threads]

Shapes 256 x 1024 x 256 (``--quick``: 64 x 1024 x 64), one thread unless stated. Per case:
million multiply-accumulates per second of ``lpsim.ops.matmul`` (the whole call: checks,
operand decoding, kernel, result codes), the target of the issue, and the exact engine
timed on a slice of 2 x 1024 x 2 outputs with the fast / exact ratio per MAC. Every case is
first checked to give the exact engine's codes on that slice. The E4M3 case also prints
numpy's float32 matmul (BLAS, one thread, not order-exact) on the same shapes, and the
two-thread speedup. Timings are the best of three calls; the first run in a fresh checkout
compiles and caches the kernels.

Last, the per-call cost of a length-32 ``lpsim.ops.dot`` (the whole call) next to numpy's
float32 ``np.dot`` of the same 32 values, best of 7 x 200 calls (numpy: 7 x 2000), the two timings
interleaved so that both see the same machine load. ``--threads``: only the two-thread ratio of
the E4M3 case, repeated, next to the same ratio of a loop of pure arithmetic (what two threads
can gain on the machine at that moment), with the load average.
"""

from __future__ import annotations

import argparse
import os
import time

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
    parser.add_argument("--calls", action="store_true", help="only the per-call rows (length-32 dots)")
    parser.add_argument("--threads", action="store_true", help="only two / one thread next to a control loop")
    args = parser.parse_args()
    m, n, p = (64, 1024, 64) if args.quick else (256, 1024, 256)
    macs = m * n * p
    rng = np.random.default_rng(0)
    if args.calls:
        short_dots(rng)
        return
    if args.threads:
        thread_ratios(rng)
        return
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
            paired = _alternating_best(lambda: ops.matmul(a, b, accumulator))
            print(f"{'  numpy float32 matmul (BLAS)':<36} {macs / t_blas / 1e6:13.0f}   fast / BLAS = {t_blas / t_fast:.2f}")
            print(f"{'  same case, two threads':<36} {macs / paired[2] / 1e6:13.0f}   two / one thread = "
                  f"{paired[1] / paired[2]:.2f} (target 1.7; the two alternated call by call)")
    short_dots(rng)


def _control_kernel():
    """A ``prange`` loop of pure arithmetic, no memory traffic: the best two threads can do on this
    machine at this moment, printed next to the kernel's two-thread ratio (compiled on first use)."""
    import numba
    from numba import prange

    @numba.njit(parallel=True)
    def control(out, reps):
        for t in prange(out.shape[0]):
            x = np.float32(t + 1)
            for _ in range(reps):
                x = x * np.float32(0.9999999) + np.float32(1e-7)
            out[t] = x

    return control


def _alternating_best(function, calls: int = 7) -> dict:
    """Seconds of the fastest call of ``function`` on one and on two threads, the two counts
    alternated call by call, so both see the same moments of a shared machine (one block of
    calls per count let the second vCPU's availability differ between the blocks)."""
    best = {1: float("inf"), 2: float("inf")}
    for n_threads in (1, 2):  # untimed: loads the kernels and wakes the pool
        with threads.using_threads(n_threads):
            function()
    for _ in range(calls):
        for n_threads in (1, 2):
            with threads.using_threads(n_threads):
                start = time.perf_counter()
                function()
                best[n_threads] = min(best[n_threads], time.perf_counter() - start)
    return best


def thread_ratios(rng, repeats: int = 4):
    """Two / one thread on the E4M3 -> fp32 case next to the control loop, interleaved, with the load."""
    a, b = operands(rng, E4M3, 256, 1024, 256)
    control, buffer = _control_kernel(), np.zeros(64, dtype=np.float32)

    def control_call():
        threads.apply(1 << 62)  # the control loop runs on the same thread count
        control(buffer, 100_000)

    print("two / one thread, E4M3 -> fp32 256 x 1024 x 256, next to a pure-arithmetic prange loop")
    print("(whole ops.matmul calls, fastest of 7, one and two threads alternated call by call)")
    print(f"{'load':>5} {'one M MAC/s':>12} {'two M MAC/s':>12} {'two/one':>8} {'control two/one':>16}")
    for _ in range(repeats):
        load = os.getloadavg()[0]
        kernel = _alternating_best(lambda: ops.matmul(a, b, "fp8_fp32"))
        loop = _alternating_best(control_call, 3)
        macs = 256 * 1024 * 256
        print(f"{load:5.1f} {macs / kernel[1] / 1e6:12.0f} {macs / kernel[2] / 1e6:12.0f} "
              f"{kernel[1] / kernel[2]:8.2f} {loop[1] / loop[2]:16.2f}")


def per_call(function, calls: int = 2000) -> float:
    """Seconds per call of the fastest of 7 runs of ``calls`` calls (short runs: fewer interruptions on a busy machine)."""
    return best_time(lambda: [function() for _ in range(calls)], 7) / calls


def short_dots(rng):
    print("\nper call, length-32 dot (whole call) next to numpy float32 np.dot of the same values")
    print(f"{'case':<36} {'lpsim us':>9} {'np.dot us':>10} {'ratio':>6} {'target':>7}")
    for label, fmt, accumulator in (("E4M3 . E4M3 -> fp32 (fp8_fp32)", E4M3, "fp8_fp32"),
                                    ("int8 . int8 -> int32 (vnni_int8_int32)", PRESETS["int8"], "vnni_int8_int32")):
        scale = 30.0 if fmt == PRESETS["int8"] else 1.0
        a = QArray.from_float(rng.standard_normal(32) * scale, fmt)
        b = QArray.from_float(rng.standard_normal(32) * scale, fmt)
        af, bf = ops.to_float(a).astype(np.float32), ops.to_float(b).astype(np.float32)
        t_lpsim, t_numpy = float("inf"), float("inf")
        for _ in range(3):  # interleaved: both timings see the same load
            t_lpsim = min(t_lpsim, per_call(lambda: ops.dot(a, b, accumulator), 200))
            t_numpy = min(t_numpy, per_call(lambda: np.dot(af, bf)))
        print(f"{label:<36} {t_lpsim * 1e6:9.1f} {t_numpy * 1e6:10.2f} {t_lpsim / t_numpy:5.0f}x {'10 us':>7}")


if __name__ == "__main__":
    main()
