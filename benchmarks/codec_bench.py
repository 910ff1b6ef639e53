"""Codec speed: the fast engine against the exact engine, numpy and ml_dtypes, side by side in one run.

    NUMBA_NUM_THREADS=1 python benchmarks/codec_bench.py [--n 10000000] [--repeats 5]

Single thread (Numba kernels are serial; numpy is single-threaded for these operations).
Every case checks that the compared implementations agree before timing. Times are the
fastest of ``--repeats`` runs; ratios compare numbers measured in this run. The exact
engine is timed on a small sample and extrapolated per value (it is pure Python, about
10^4-10^5 values/s). The last part starts fresh Python processes to time the first calls
with an empty Numba cache directory (compiling) and with that directory filled (loading).
The first run in a checkout compiles and caches the kernels before timing anything.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import warnings

if "numba" not in sys.modules:  # run as a script; a test importing it keeps its process's thread pool
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import ml_dtypes  # noqa: E402
import numpy as np  # noqa: E402

from lpsim import codec  # noqa: E402
from lpsim.formats import BFLOAT16, E4M3, FixedPoint, get_format  # noqa: E402
from timing import best_time  # noqa: E402  (benchmarks/, the script's folder)

FIXED8 = FixedPoint(bits=8, frac_bits=4)  # step 1/16, range [-8, 7.9375]
DELTA = FIXED8.step
EXACT_SAMPLE = 3000


def per_value_exact(x, fmt, rounding) -> float:
    sample = x[:EXACT_SAMPLE]
    start = time.perf_counter()
    codec.encode(sample, fmt, rounding, seed=1, engine="exact")
    return (time.perf_counter() - start) / sample.size


def row(label: str, seconds: float, n: int, reference: float | None = None, reference_label: str = "") -> None:
    rate = n / seconds
    text = f"  {label:<58} {seconds / n * 1e9:8.2f} ns/value  {rate / 1e6:8.1f} M values/s"
    if reference is not None:
        text += f"   fast is {reference / seconds:6.2f}x {reference_label}"
    print(text)


def numpy_fixed8_nearest(x):
    return np.clip(np.rint(x / DELTA), FIXED8.code_min, FIXED8.code_max).astype(np.int8)


def numpy_stochastic(x, clip: bool):
    """floor(x / delta + U) with numpy's own uniform draw; with clip + astype(int8) it is a code array."""
    v = np.floor(x / DELTA + np.random.default_rng(1).uniform(size=x.size))
    if clip:
        return np.clip(v, FIXED8.code_min, FIXED8.code_max).astype(np.int8)
    return v


def compare_nearest_even(x, fmt, title: str, name: str, label: str, reference, repeats: int, target: str = "") -> None:
    """Nearest-even encode of ``x`` on the fast engine against ``reference`` (called ``label`` in its
    row and ``name`` in the ratio line, with the ratio's ``target`` if any) and the exact engine,
    timed and printed."""
    n = x.size
    t_fast = best_time(lambda: codec.encode(x, fmt, "nearest_even"), repeats)
    t_reference = best_time(lambda: reference(x), repeats)
    t_exact = per_value_exact(x, fmt, "nearest_even") * n
    print(title)
    row("lpsim fast encode", t_fast, n)
    row(label, t_reference, n)
    row(f"lpsim exact encode (extrapolated from {EXACT_SAMPLE} values)", t_exact, n)
    target = f" (target >= {target})" if target else ""
    print(f"   -> fast vs {name} {t_reference / t_fast:.2f}x{target}, fast vs exact {t_exact / t_fast:,.0f}x")


def section_throughput(x: np.ndarray, repeats: int) -> None:
    n = x.size
    print(f"\nThroughput on {n:,} float64 values (standard normal times 2), single thread, encode to codes:")

    # fixed point, nearest-even: numpy's rint is round-half-even, so the two agree exactly
    assert np.array_equal(codec.encode(x, FIXED8, "nearest_even"), numpy_fixed8_nearest(x))
    compare_nearest_even(x, FIXED8, f" {FIXED8.spec} nearest-even", "numpy", "numpy clip(rint(x / delta)).astype(int8)",
                         numpy_fixed8_nearest, repeats)

    # E4M3 nearest-even against ml_dtypes' cast (which rounds through float32: see docs/performance.md)
    y = x * 64.0
    agree = np.mean(codec.encode(y, E4M3, "nearest_even") == y.astype(ml_dtypes.float8_e4m3fn).view(np.uint8))
    compare_nearest_even(y, E4M3, f" E4M3 nearest-even (values times 64; codes agree with ml_dtypes on {agree:.6%} of them)",
                         "ml_dtypes", "x.astype(ml_dtypes.float8_e4m3fn)", lambda v: v.astype(ml_dtypes.float8_e4m3fn),
                         repeats, target="2x")

    # fixed point, stochastic rounding, random bits included
    t_none = best_time(lambda: codec.encode(x, FIXED8, "stochastic", seed=7), repeats)
    t_r8 = best_time(lambda: codec.encode(x, FIXED8, "stochastic:8", seed=7), repeats)
    t_plain = best_time(lambda: numpy_stochastic(x, clip=False), repeats)
    t_clip = best_time(lambda: numpy_stochastic(x, clip=True), repeats)
    t_exact = per_value_exact(x, FIXED8, "stochastic") * n
    codes = codec.encode(x, FIXED8, "stochastic", seed=7)
    bias = float(np.mean(codes[np.abs(x) < 7.5] * DELTA - x[np.abs(x) < 7.5]))
    print(f" {FIXED8.spec} stochastic (mean error inside the range {bias:+.1e}, ~0 as it should)")
    row("lpsim fast encode, exact probabilities (r = None)", t_none, n)
    row("lpsim fast encode, r = 8 random bits", t_r8, n)
    row("numpy floor(x / delta + uniform)", t_plain, n)
    row("numpy floor(x / delta + uniform), clip, astype(int8)", t_clip, n)
    row(f"lpsim exact encode (extrapolated from {EXACT_SAMPLE} values)", t_exact, n)
    print(f"   -> fast (r = None) vs numpy: {t_plain / t_none:.2f}x without clip, {t_clip / t_none:.2f}x with clip + astype "
          f"(target >= 3x); fast vs exact {t_exact / t_none:,.0f}x")

    # decoding (codes to float64)
    codes8 = codec.encode(x, FIXED8)
    codes_e4m3 = codec.encode(y, E4M3)
    t_fixed = best_time(lambda: codec.decode(codes8, FIXED8), repeats)
    t_fixed_np = best_time(lambda: codes8 * DELTA, repeats)
    t_e4m3 = best_time(lambda: codec.decode(codes_e4m3, E4M3), repeats)
    t_e4m3_ml = best_time(lambda: codes_e4m3.view(ml_dtypes.float8_e4m3fn).astype(np.float64), repeats)
    print(" decode")
    row(f"lpsim fast decode {FIXED8.spec} (vs numpy codes * delta)", t_fixed, n, t_fixed_np, "numpy")
    row("lpsim fast decode E4M3 (vs ml_dtypes astype(float64))", t_e4m3, n, t_e4m3_ml, "ml_dtypes")


FIRST_CALLS = """
import time
start = time.perf_counter()
import numpy as np
import lpsim
from lpsim import codec
from lpsim.formats import E4M3, BlockFormat, FixedPoint
imported = time.perf_counter()
x = np.linspace(-3, 3, 1000)
codec.quantize(x, FixedPoint(bits=8, frac_bits=4), "stochastic", seed=1)
codec.quantize(x, E4M3, "nearest_even")
codec.quantize(x.reshape(10, 100), BlockFormat.mx("e4m3"), "nearest_even")
done = time.perf_counter()
print(imported - start, done - imported)
"""


def first_calls(cache_dir: str) -> tuple[float, float]:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir, "NUMBA_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", FIRST_CALLS], env=env, capture_output=True, text=True, check=True)
    import_s, calls_s = (float(v) for v in out.stdout.split())
    return import_s, calls_s


def section_compile_latency() -> None:
    print("\nFirst calls in a fresh process (import lpsim, then quantize fixed8 stochastic, E4M3, MX-E4M3 blocks):")
    with tempfile.TemporaryDirectory() as cache_dir:
        cold = first_calls(cache_dir)
        warm = first_calls(cache_dir)
    print(f"  empty Numba cache (compiles):  import {cold[0]:5.2f} s, first calls {cold[1]:6.2f} s")
    print(f"  warm Numba cache (loads):      import {warm[0]:5.2f} s, first calls {warm[1]:6.2f} s"
          f"   -> the disk cache saves {cold[1] - warm[1]:.1f} s ({cold[1] / warm[1]:.0f}x)")


def per_call(function, calls: int = 5000, rounds: int = 5) -> float:
    """Seconds per call of a short call: the best of ``rounds`` loops of ``calls`` calls."""
    function()
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            function()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def section_small_arrays() -> None:
    """What a training loop pays per step: one quantize of a few values is mostly Python around the kernel."""
    print("\nPer call on small arrays (quantize = encode + decode, fast engine; exact engine for scale):")
    rng = np.random.default_rng(1)
    for n in (10, 100):
        x = rng.standard_normal(n) * 2.0
        for label, fmt, rounding in ((f"{FIXED8.spec} stochastic", FIXED8, "stochastic"),
                                     (f"{FIXED8.spec} nearest-even", FIXED8, "nearest_even"),
                                     ("E4M3 nearest-even", E4M3, "nearest_even")):
            fast = codec.quantize(x, fmt, rounding, seed=1, offset=3)
            exact = codec.quantize(x, fmt, rounding, seed=1, offset=3, engine="exact")
            assert np.array_equal(fast, exact), label
            t_fast = per_call(lambda: codec.quantize(x, fmt, rounding, seed=1, offset=3))
            t_exact = per_call(lambda: codec.quantize(x, fmt, rounding, seed=1, offset=3, engine="exact"), calls=50)
            print(f"  quantize {n:>3} values, {label:<26} fast {t_fast * 1e6:7.2f} us/call   "
                  f"exact {t_exact * 1e6:9.1f} us/call   fast is {t_exact / t_fast:6.1f}x exact")


def section_per_call_vs_ml_dtypes() -> None:
    """The issue-16 target: quantize of 16 values with a format object, next to ml_dtypes' casts."""
    print("\nPer call, 16 values, format object, fast engine, next to ml_dtypes astype (to the type and back):")
    x = np.random.default_rng(2).standard_normal(16) * 2.0
    for label, dtype, rounding in (("e4m3", ml_dtypes.float8_e4m3fn, "nearest_even"),
                                   ("bfloat16", ml_dtypes.bfloat16, "nearest_even"),
                                   ("e4m3", None, "stochastic"),
                                   (FIXED8.spec, None, "nearest_even"),
                                   (FIXED8.spec, None, "stochastic"),
                                   ("binary8p4u", None, "nearest_even"),
                                   ("mxfp8_e4m3", None, "nearest_even"),
                                   ("mxfp8_e4m3", None, "stochastic"),
                                   ("mxint8", None, "nearest_even"),
                                   ("nvfp4", None, "nearest_even"),
                                   ("nvfp4", None, "stochastic")):
        fmt = get_format(label)  # the object: the row times a format object, not a name
        calls = {"block": 5000, "scaled_block": 2000}.get(fmt.family, 20000)
        with warnings.catch_warnings():  # scaled blocks may run on the exact engine
            warnings.simplefilter("ignore", codec.FastEngineFallbackWarning)
            t_lpsim = per_call(lambda: codec.quantize(x, fmt, rounding), calls=calls)
        line = f"  quantize 16 values, {label:<12} {rounding:<13} {t_lpsim * 1e6:7.2f} us/call"
        if dtype is not None:
            assert np.array_equal(codec.quantize(x, fmt, rounding), x.astype(dtype).astype(np.float64))
            t_ml = per_call(lambda: x.astype(dtype).astype(np.float64), calls=20000)
            line += f"   ml_dtypes astype {t_ml * 1e6:6.2f} us/call   lpsim / ml_dtypes {t_lpsim / t_ml:5.1f}x"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10**7, help="number of float64 values (default 10^7)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per case (the fastest is kept)")
    parser.add_argument("--skip-latency", action="store_true", help="skip the fresh-process compile timing")
    args = parser.parse_args()
    print(f"lpsim codec benchmark: NUMBA_NUM_THREADS={os.environ['NUMBA_NUM_THREADS']}, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    x = np.random.default_rng(0).standard_normal(args.n) * 2.0
    section_throughput(x, args.repeats)
    section_small_arrays()
    section_per_call_vs_ml_dtypes()
    if not args.skip_latency:
        section_compile_latency()


if __name__ == "__main__":
    main()
