"""Random-bit generators: nanoseconds per element, side by side in one run.

    NUMBA_NUM_THREADS=1 python benchmarks/rng_speed.py [--n 4194304] [--repeats 7]

Three consumers of random bits, one thread, each timed per generator:

* ``words``: fill_group_words, a 32-bit word per element (the codec's batched path);
* ``slots16``: fill_slots with 16-bit slots, the integer loop's update (8 elements per block);
* ``encode``: lpsim.encode of float64 into bfloat16 with 'sr16:GEN' (the whole codec).

Times are the fastest of ``--repeats`` runs (the machine is shared and noisy: rerun and compare
ranges); ratios to Philox4x32-10 are measured in this run. Buffers fit in L2 for ``words`` and
``slots16`` (so the generator, not memory, is timed); ``encode`` streams ``--n`` values.
"""

from __future__ import annotations

import argparse
import os
import sys

if "numba" not in sys.modules:  # run as a script; a test importing it keeps its process's thread pool
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import lpsim  # noqa: E402

from timing import best_time  # noqa: E402
from lpsim.fast import _halp_kernels as H  # noqa: E402  (benchmark code: times the private kernels directly)
from lpsim.fast import _rng_kernels as R  # noqa: E402
from lpsim.fast._config import jit  # noqa: E402
from lpsim.formats.rounding import RandomGenerator  # noqa: E402

GROUPS = 64  # 64 groups of 256 elements: 64 KiB of words per pass


@jit
def fill_many_groups(seed, stream, passes, words):
    for p in range(passes):
        for g in range(GROUPS):
            R.fill_group_words(seed, stream, np.uint64(p * GROUPS + g), 0, words[g * 256:(g + 1) * 256])
    return words[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1 << 22, help="elements per timed call")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    n = args.n
    seed = np.uint64(12345)
    words = np.empty(GROUPS * 256, dtype=np.uint32)
    passes = max(n // words.size, 1)
    slot_words = np.empty(4 * 1024, dtype=np.uint32)  # 1024 blocks: 8192 16-bit slots per call
    slot_calls = max(n // (8 * 1024), 1)
    x = np.random.default_rng(0).standard_normal(n)
    rows = {}
    for generator in RandomGenerator:
        stream = R.source_word(7, generator.code)

        def slots():
            for c in range(slot_calls):
                H.fill_slots(seed, stream, np.uint64(c * 1024), 1024, 16, slot_words)

        rows[generator] = (
            best_time(lambda: fill_many_groups(seed, stream, passes, words), args.repeats) / (passes * words.size),
            best_time(slots, args.repeats) / (slot_calls * 8 * 1024),
            best_time(lambda: lpsim.encode(x, "bfloat16", f"sr16:{generator.value}", seed=1), args.repeats) / n,
        )
    base = rows[RandomGenerator.PHILOX10]
    print(f"{'generator':<12}{'words ns/el':>13}{'slots16 ns/el':>15}{'encode ns/el':>14}   ratios to philox10")
    for generator, times in rows.items():
        ratios = " ".join(f"{b / t:5.2f}x" for t, b in zip(times, base))
        print(f"{generator.value:<12}" + "".join(f"{1e9 * t:{w}.3f}" for t, w in zip(times, (13, 15, 14))) + f"   {ratios}")


if __name__ == "__main__":
    main()
