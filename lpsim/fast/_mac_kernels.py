"""Compiled multiply-accumulate fast paths (dot / matvec / matmul), bit-identical to lpsim.exact.

Each kernel computes C[i, j] = sum_k L[i, k] * R[k, j] (``R`` row-major, or its transpose
``Rt`` where a kernel walks one output at a time) with the summation order of
lpsim.exact.accumulate, and parallelizes over *tiles of outputs* only (numba prange): one
output is always summed by one thread in its stated order, so results never depend on the
thread count. The argument for each path's exactness is in docs/arithmetic.md
("Fast paths"); lpsim/fast/_mac.py chooses the path from the plan.

``plus`` is added to every product as it enters a sum: -0.0 (which changes nothing) for float
operands, +0.0 for fixed-point ones, whose products are integers without a signed zero.

* ``native_*``: float32 / float64 registers rounding to nearest-even whose products are
  exact in the register (or rounded into it by the same native type): native IEEE arithmetic,
  loop k outside and a row of outputs inside, so the compiler vectorizes across outputs while
  each output's sum stays sequential.
* ``int_tile``: integer registers (saturate / error / wrap, chunked) on int64 lanes.
* ``rounded_reduce``: any float register of at most 51 significant bits with subnormals, in
  every rounding mode and stochastic rounding: each add is formed exactly as an unevaluated
  float64 sum s + err (TwoSum) and rounded once into the register's grid. Cases it cannot
  settle cheaply (NaN/inf into a non-IEEE register, overflow outside IEEE nearest / stochastic,
  a stochastic tie at chance 2**-64) report NEEDS_EXACT and the Python side asks the exact
  engine for that output.
"""

from __future__ import annotations

import math
import types
from collections import namedtuple

import numpy as np
from numba import prange

from ._config import jit
from ._arith_kernels import wide_from_float
from ._rng_kernels import GROUP, chunk64, fill_group_words, first_bits
from ._round_kernels import NEAREST_AWAY, NEAREST_EVEN, STOCHASTIC, TO_ODD, TOWARD_NEGATIVE, TOWARD_POSITIVE

OK = 0
FAILED = 1
NEEDS_EXACT = 2

SEQUENTIAL = 0
PAIRWISE = 1
CHUNKED = 2

# integer register kinds and overflow codes (lpsim.formats.rounding.Overflow.code for the latter)
INT_EXACT = 0
INT_REGISTER = 1

TILE_ROWS = 4  # output rows sharing one pass over R (each R load feeds four accumulators)
TILE_COLS = 256  # outputs per row of a tile: the accumulators stay in L1
PAIRWISE_COLS = 32  # pairwise keeps all n products of a tile

RoundReg = namedtuple("RoundReg", "man_bits emin max_value neg_zero ieee mode random_bits generator_bits")
RoundReg.__doc__ = """A float register for ``rounded_reduce``: precision and range of its format, whether it
has -0, whether NaN/inf pass through as IEEE says (IEEE specials and overflow), its rounding
mode code, random bits (0: exact probabilities) and random-bit generator (its code << 32: the
high bits of the stream word, lpsim/fast/_rng_kernels.py)."""

IntTileReg = namedtuple("IntTileReg", "kind overflow bits code_min code_max")
IntTileReg.__doc__ = "An integer register for ``int_tile``: kind (exact or integer), overflow code, range."


@jit(inline="always")
def tile_count(m, p):
    return ((m + TILE_ROWS - 1) // TILE_ROWS) * ((p + TILE_COLS - 1) // TILE_COLS)


@jit(inline="always")
def tile_bounds(t, m, p):
    """First row and column, and the number of rows and columns, of output tile t."""
    col_tiles = (p + TILE_COLS - 1) // TILE_COLS
    i0 = (t // col_tiles) * TILE_ROWS
    j0 = (t % col_tiles) * TILE_COLS
    return i0, j0, min(TILE_ROWS, m - i0), min(TILE_COLS, p - j0)


# -- native IEEE float paths ---------------------------------------------------------------------


@jit(inline="always")
def _sequential_products(L, R, acc, i0, j0, rows, cols, start, stop, plus):
    """acc[r, j] = sum of L[i0 + r, k] * R[k, j0 + j] for k in [start, stop), added sequentially
    in acc's dtype, the first product entered as p + plus. The inner loops run over 1-d row views
    (not 2-d indexing): only then does LLVM vectorize them (about 7x on this loop)."""
    first = R[start, j0:j0 + cols]
    for r in range(rows):
        a = L[i0 + r, start]
        row = acc[r]
        for j in range(cols):
            row[j] = a * first[j] + plus
    for k in range(start + 1, stop):
        Rk = R[k, j0:j0 + cols]
        for r in range(rows):
            a = L[i0 + r, k]
            row = acc[r]
            for j in range(cols):
                row[j] = row[j] + a * Rk[j]


@jit(parallel=True)
def native_sequential(L, R, out, plus):
    """Sequential order: acc = p_0, acc = acc + p_k in L's dtype (float32 or float64)."""
    m, n = L.shape
    p = R.shape[1]
    for t in prange(tile_count(m, p)):
        i0, j0, rows, cols = tile_bounds(t, m, p)
        acc = np.zeros((TILE_ROWS, TILE_COLS), dtype=out.dtype)
        if n > 0:
            _sequential_products(L, R, acc, i0, j0, rows, cols, 0, n, plus)
        for r in range(rows):
            out[i0 + r, j0:j0 + cols] = acc[r, :cols]


@jit(parallel=True)
def native_chunked(L, R, out, chunk, plus):
    """Chunked order: sequential inside chunks of ``chunk`` products in L's dtype, the chunk sums
    entered and added sequentially in out's dtype (as wide or wider)."""
    m, n = L.shape
    p = R.shape[1]
    for t in prange(tile_count(m, p)):
        i0, j0, rows, cols = tile_bounds(t, m, p)
        acc = np.zeros((TILE_ROWS, TILE_COLS), dtype=L.dtype)
        total = np.zeros((TILE_ROWS, TILE_COLS), dtype=out.dtype)
        for start in range(0, n, chunk):
            _sequential_products(L, R, acc, i0, j0, rows, cols, start, min(start + chunk, n), plus)
            for r in range(rows):
                row = acc[r]
                sums = total[r]
                if start == 0:
                    for j in range(cols):
                        sums[j] = row[j]
                else:
                    for j in range(cols):
                        sums[j] = sums[j] + row[j]
        for r in range(rows):
            out[i0 + r, j0:j0 + cols] = total[r, :cols]


@jit(parallel=True)
def native_pairwise(L, R, out, plus):
    """Pairwise order (levels of neighbour sums, an odd last element moving up), across a row of
    PAIRWISE_COLS outputs at once."""
    m, n = L.shape
    p = R.shape[1]
    col_tiles = (p + PAIRWISE_COLS - 1) // PAIRWISE_COLS
    for t in prange(m * col_tiles):
        i = t // col_tiles
        j0 = (t % col_tiles) * PAIRWISE_COLS
        cols = min(PAIRWISE_COLS, p - j0)
        level = np.zeros((max(n, 1), PAIRWISE_COLS), dtype=out.dtype)
        for k in range(n):
            a = L[i, k]
            Rk = R[k, j0:j0 + cols]
            row = level[k]
            for j in range(cols):
                row[j] = a * Rk[j] + plus
        count = n
        while count > 1:
            half = count // 2
            for h in range(half):
                left = level[2 * h]
                right = level[2 * h + 1]
                row = level[h]
                for j in range(cols):
                    row[j] = left[j] + right[j]
            if count % 2:
                level[half, :cols] = level[count - 1, :cols]
            count = half + count % 2
        out[i, j0:j0 + cols] = level[0, :cols]


# -- integer registers on int64 lanes ---------------------------------------------------------------


@jit(inline="always")
def _int_into(v, kind, overflow, bits, code_min, code_max):
    """v brought into an integer register: (value, overflowed under 'error')."""
    if kind == INT_EXACT:
        return v, False
    if overflow == 0:  # saturate
        return min(max(v, code_min), code_max), False
    if overflow == 1:  # wrap
        mask = (np.uint64(1) << np.uint64(bits)) - np.uint64(1) if bits < 64 else np.uint64(0xFFFFFFFFFFFFFFFF)
        return np.int64(((np.uint64(v) - np.uint64(code_min)) & mask) + np.uint64(code_min)), False
    return v, v < code_min or v > code_max


@jit(parallel=True)
def int_tile(L, R, out, status, A, F, chunk):
    """Integer codes: products exact in int64, added in register A (sequentially, or in chunks of
    ``chunk`` whose sums are added in register F; chunk = n for plain sequential order). The
    caller guarantees no partial sum leaves int64 (registers of at most 62 bits, bounded
    products). An overflow under 'error' marks the output FAILED (the exact engine then raises)."""
    m, n = L.shape
    p = R.shape[1]
    for t in prange(tile_count(m, p)):
        i0, j0, rows, cols = tile_bounds(t, m, p)
        acc = np.zeros((TILE_ROWS, TILE_COLS), dtype=np.int64)
        total = np.zeros((TILE_ROWS, TILE_COLS), dtype=np.int64)
        bad = np.zeros((TILE_ROWS, TILE_COLS), dtype=np.bool_)
        for start in range(0, n, chunk):
            stop = min(start + chunk, n)
            for k in range(start, stop):
                Rk = R[k, j0:j0 + cols]
                for r in range(rows):
                    a = np.int64(L[i0 + r, k])
                    row = acc[r]
                    flags = bad[r]
                    for j in range(cols):
                        v = a * np.int64(Rk[j])
                        if k > start:
                            v += row[j]
                        v, over = _int_into(v, A.kind, A.overflow, A.bits, A.code_min, A.code_max)
                        row[j] = v
                        flags[j] |= over
            for r in range(rows):
                row = acc[r]
                sums = total[r]
                flags = bad[r]
                for j in range(cols):
                    v = row[j]
                    if start > 0:
                        v += sums[j]
                    v, over = _int_into(v, F.kind, F.overflow, F.bits, F.code_min, F.code_max)
                    sums[j] = v
                    flags[j] |= over
        for r in range(rows):
            for j in range(cols):
                out[i0 + r, j0 + j] = total[r, j]
                status[i0 + r, j0 + j] = FAILED if bad[r, j] else OK


@jit(parallel=True)
def int_wrap32(L, Rt, out, bits, code_min):
    """A wrapping accumulator of at most 32 bits with narrow codes, sequential or pairwise: addition
    mod 2**bits is associative, so int32 lanes (sums mod 2**32) wrapped once give the same bits;
    the dot along k vectorizes (vpmaddwd). Parallel over output rows."""
    m, n = L.shape
    p = Rt.shape[0]
    mask = (np.uint64(1) << np.uint64(bits)) - np.uint64(1)
    for i in prange(m):
        for k in range(p):
            total = np.int32(0)
            for j in range(n):
                total = np.int32(total + np.int32(np.int32(L[i, j]) * np.int32(Rt[k, j])))
            out[i, k] = np.int64(((np.uint64(np.int64(total)) - np.uint64(code_min)) & mask) + np.uint64(code_min))


# -- any float register, exact sums rounded once -------------------------------------------------


@jit(inline="always")
def random64(seed, stream, index, two_words):
    """The first 64 random bits of element ``index`` (the second word only when needed)."""
    # compiled calls, shared with the general kernels: inlined here, every generator's code went in again
    if two_words:
        return chunk64(seed, stream, index, np.int64(0))
    return first_bits(seed, stream, index, np.int64(32)) << np.uint64(32)


@jit
def fill_random(buf, count, seed, stream, base, two_words):
    """buf[e] = the first 64 random bits of element base + e (the low word zero unless ``two_words``).

    Long runs take whole groups of 256 consecutive elements from one vectorized pass of 64
    counters (a quarter of a generator call per word); short runs call the generator per element."""
    if count < 32:
        for e in range(count):
            buf[e] = random64(seed, stream, base + np.uint64(e), two_words)
        return
    high = np.empty(GROUP, dtype=np.uint32)
    low = np.zeros(GROUP, dtype=np.uint32)
    e = 0
    while e < count:
        index = base + np.uint64(e)
        start = np.int64(index & np.uint64(GROUP - 1))
        take = min(GROUP - start, count - e)
        group = index >> np.uint64(8)
        for k in range(2 if two_words else 1):  # one inlined site, as in random64
            fill_group_words(seed, stream, group, k, low if k else high)
        for h in range(take):
            buf[e + h] = (np.uint64(high[start + h]) << np.uint64(32)) | np.uint64(low[start + h])
        e += take


MANTISSA = np.uint64((1 << 52) - 1)


@jit(inline="always")
def pow2(e):
    """2.0**e for -1022 <= e <= 1023, built from its bits (math.ldexp is a slow library call)."""
    return np.uint64(np.uint64(e + 1023) << np.uint64(52)).view(np.float64)


@jit(inline="always")
def to_u64(x):
    """A nonnegative integral float64 below 2**64 as uint64 (a direct cast goes through int64
    and breaks at 2**63)."""
    if x >= 9223372036854775808.0:
        return np.uint64(np.int64(x - 9223372036854775808.0)) + np.uint64(9223372036854775808)
    return np.uint64(np.int64(x))


@jit(inline="always")
def _stochastic_away(d, e1, q, random_bits, u):
    """Stochastic rounding of a magnitude whose discarded part is (d + e1) / 2**q in (0, 1):
    (away?, status). t = floor(fraction * 2**r) from the exact parts; r = 0 means exact
    probabilities (compare the first 64 random bits, undecided only on equality).

    Floors stay float64 (np.floor): math.floor gives int64 in compiled code, which overflows
    for thresholds of 2**63 and more (r = 64, or exact probabilities with a fraction >= 1/2)."""
    rr = random_bits if random_bits > 0 else 64
    scale = pow2(-q)
    D = d * scale * pow2(rr)  # exact: power-of-two scalings of float64 values far from the limits
    eps = e1 * scale * pow2(rr)
    F = np.floor(D)
    g = D - F
    integral = False
    if d == pow2(q):  # the fraction is 1 + e1 / 2**q with e1 < 0: t = 2**r + floor(eps)
        fe = np.floor(eps)
        t = (np.uint64(0xFFFFFFFFFFFFFFFF) >> np.uint64(64 - rr)) - to_u64(-(fe + 1.0))
        integral = eps == fe
    elif eps == 0.0:
        t = to_u64(F)
        integral = g == 0.0
    elif g == 0.0:
        fe = np.floor(eps)
        t = to_u64(F) + np.uint64(np.int64(fe))  # mod 2**64: fe may be negative
        integral = eps == fe
    else:
        t = to_u64(F)  # D's grid is finer than 1 only where |eps| is below half of it
    u = u >> np.uint64(64 - rr) if rr < 64 else u
    if random_bits > 0:
        return u < t, OK
    if u != t:
        return u < t, OK
    if integral:
        return False, OK
    return False, NEEDS_EXACT


@jit(inline="always")
def round_sum(s, err, R, u):
    """The exact value s + err (s = fl64(s + err), |err| <= ulp(s) / 2) rounded once into register R:
    (value, status). ``u``: the event's first 64 random bits (stochastic registers)."""
    if not math.isfinite(s):
        if R.ieee:
            return s, OK
        return 0.0, NEEDS_EXACT
    if s == 0.0:
        if not R.neg_zero:
            return 0.0, OK
        return s, OK
    negative = s < 0.0
    ms = -s if negative else s
    e1 = -err if negative else err
    bits = np.float64(ms).view(np.uint64)  # normal: the caller keeps every value above 2**-800
    E = np.int64(bits >> np.uint64(52)) - 1023
    if (bits & MANTISSA) == np.uint64(0) and e1 < 0.0:
        E -= 1  # just below a power of two: the finer binade's grid
    q = max(E, R.emin) - R.man_bits
    ulp = pow2(q)
    k = math.floor(ms * pow2(-q))
    lo = k * ulp
    d = ms - lo
    if d == 0.0 and e1 == 0.0:
        result = ms
    else:
        if d == 0.0 and e1 < 0.0:  # the magnitude lies just below lo (e1 > 0: just above it, d + e1 = e1)
            lo -= ulp
            k -= 1.0
            d = ulp
        mode = R.mode
        away = False
        if mode == NEAREST_EVEN or mode == NEAREST_AWAY:
            half = 0.5 * ulp
            if d > half:
                away = True
            elif d == half:
                if e1 > 0.0:
                    away = True
                elif e1 == 0.0:
                    away = mode == NEAREST_AWAY or (np.int64(k) & 1) != 0
        elif mode == TOWARD_POSITIVE:
            away = not negative
        elif mode == TOWARD_NEGATIVE:
            away = negative
        elif mode == TO_ODD:
            away = (np.int64(k) & 1) == 0
        elif mode == STOCHASTIC:
            away, st = _stochastic_away(d, e1, q, R.random_bits, u)
            if st != OK:
                return 0.0, st
        result = lo + ulp if away else lo
    if result > R.max_value:
        if R.ieee and (R.mode == NEAREST_EVEN or R.mode == NEAREST_AWAY or R.mode == STOCHASTIC):
            result = math.inf
        else:
            return 0.0, NEEDS_EXACT
    if result == 0.0:
        return (-0.0 if negative and R.neg_zero else 0.0), OK
    return (-result if negative else result), OK


@jit(inline="always")
def register_add(x, y, R, u):
    """R(x + y) for register values x, y (TwoSum makes the sum exact as s + err)."""
    s = x + y
    err = 0.0
    if s == 0.0 and math.isfinite(x) and math.isfinite(y):
        # IEEE's sign of an exact zero sum: -0 only for (-0) + (-0), or in every case but
        # (+0) + (+0) when rounding toward negative
        both_positive_zeros = x == 0.0 and y == 0.0 and math.copysign(1.0, x) > 0 and math.copysign(1.0, y) > 0
        both_negative_zeros = x == 0.0 and y == 0.0 and math.copysign(1.0, x) < 0 and math.copysign(1.0, y) < 0
        negative = both_negative_zeros or (R.mode == TOWARD_NEGATIVE and not both_positive_zeros)
        s = -0.0 if negative else 0.0
    elif math.isfinite(s):
        bb = s - x
        err = (x - (s - bb)) + (y - bb)
    return round_sum(s, err, R, u)  # one site: each inlined copy of round_sum adds seconds of compile time


def _twin(kernel, suffix, **options):
    """The same Python function compiled again with other options, under its own name so that the
    disk cache keeps the two apart."""
    f = kernel.py_func
    twin = types.FunctionType(f.__code__, f.__globals__, f.__name__ + suffix, f.__defaults__, f.__closure__)
    twin.__qualname__ = f.__qualname__ + suffix
    twin.__doc__ = f.__doc__
    return jit(twin, **options)


# Ordinary calls for every site but the sequential sum's inner loop (the speed of stochastic and
# other non-vectorized registers): inlined at all of them, rounded_reduce took minutes to compile.
round_sum_call = _twin(round_sum, "_call")
register_add_call = _twin(register_add, "_call")


@jit(inline="always")
def _is_stochastic(R):
    return R.mode == STOCHASTIC


BLOCK = 16  # outputs summed side by side: their independent dependency chains overlap in the CPU


@jit(parallel=True)
def rounded_reduce(L, Rt, out, status, P, A, F, product_rounds, order, chunk, seed, stream, offset, plus):
    """out[i, k] = the result register's value of sum_j L[i, j] * Rt[k, j] (float64 operand values;
    each product exact in float64), by product register P (rounded only if ``product_rounds``),
    accumulator A and final register F (chunked order). Random bits per lpsim.exact.accumulate:
    product j on stream + 1, accumulator event e on stream + 2 at (offset + o) * n + e, final
    event c on stream + 3 at (offset + o) * n_chunks + c."""
    outputs = L.shape[0] * Rt.shape[0]
    for b in prange((outputs + BLOCK - 1) // BLOCK):
        first = b * BLOCK
        reduce_block(first, min(BLOCK, outputs - first), L, Rt, out, status, P, A, F, product_rounds, order, chunk,
                     seed, stream, offset, plus)


@jit
def reduce_block(first, count, L, Rt, out, status, P, A, F, product_rounds, order, chunk, seed, stream, offset, plus):
    """Outputs first .. first + count - 1 (flat index) of rounded_reduce: a compiled function of its own,
    shared by the parallel kernel and its serial twin (compiled once), and the parallel compiler's
    passes never see these loops (they multiplied its compile time)."""
    m, n = L.shape
    p = Rt.shape[0]
    n_chunks = (n + chunk - 1) // chunk if order == CHUNKED else 0
    # each register draws from its own generator (its code in the stream word's high bits)
    s_product = ((stream + np.uint64(1)) & np.uint64(0xFFFFFFFF)) | P.generator_bits
    s_acc = ((stream + np.uint64(2)) & np.uint64(0xFFFFFFFF)) | A.generator_bits
    s_final = ((stream + np.uint64(3)) & np.uint64(0xFFFFFFFF)) | F.generator_bits
    two_p = P.random_bits == 0 or P.random_bits > 32
    two_a = A.random_bits == 0 or A.random_bits > 32
    two_f = F.random_bits == 0 or F.random_bits > 32
    width = max(n, 1)
    terms = np.zeros((BLOCK, width), dtype=np.float64)
    u_a = np.zeros((BLOCK, width), dtype=np.uint64)
    u_p = np.zeros(width, dtype=np.uint64)
    u_f = np.zeros(max(n_chunks, 1), dtype=np.uint64)
    sums = np.empty(max(n_chunks, 1), dtype=np.float64)
    states = np.zeros(BLOCK, dtype=np.int64)
    values = np.zeros(BLOCK, dtype=np.float64)
    for c in range(count):
        i = (first + c) // p
        k = (first + c) % p
        base = (np.uint64(offset) + np.uint64(first + c)) * np.uint64(n)
        if product_rounds and _is_stochastic(P):
            fill_random(u_p, n, seed, s_product, base, two_p)
        if _is_stochastic(A):
            fill_random(u_a[c], n, seed, s_acc, base, two_a)
        row = terms[c]
        for j in range(n):
            v = L[i, j] * Rt[k, j] + plus
            if product_rounds:
                v, st = round_sum_call(v, 0.0, P, u_p[j])
                if st != OK:
                    states[c] = st
                    break
            row[j] = v
    if n > 0 and order == SEQUENTIAL:
        for c in range(count):
            if states[c] == OK:
                values[c], states[c] = round_sum_call(terms[c, 0], 0.0, A, u_a[c, 0])
        for j in range(1, n):
            for c in range(count):
                if states[c] == OK:
                    values[c], states[c] = register_add(values[c], terms[c, j], A, u_a[c, j])
    elif n > 0:
        for c in range(count):
            st = states[c]
            if st != OK:
                continue
            row = terms[c]
            randoms = u_a[c]
            value = 0.0
            if order == PAIRWISE:
                if n == 1:
                    value, st = round_sum_call(row[0], 0.0, A, randoms[0])
                else:
                    size = n
                    event = 0
                    while size > 1 and st == OK:
                        half = size // 2
                        for h in range(half):
                            row[h], st = register_add_call(row[2 * h], row[2 * h + 1], A, randoms[event])
                            event += 1
                            if st != OK:
                                break
                        if size % 2:
                            row[half] = row[size - 1]
                        size = half + size % 2
                    value = row[0]
            else:
                o = np.uint64(offset) + np.uint64(first + c)
                if _is_stochastic(F):
                    fill_random(u_f, n_chunks, seed, s_final, o * np.uint64(n_chunks), two_f)
                for h in range(n_chunks):
                    start = h * chunk
                    total, st = round_sum_call(row[start], 0.0, A, randoms[start])
                    for j in range(start + 1, min(start + chunk, n)):
                        if st != OK:
                            break
                        total, st = register_add_call(total, row[j], A, randoms[j])
                    if st != OK:
                        break
                    sums[h] = total
                if st == OK:
                    value, st = round_sum_call(sums[0], 0.0, F, u_f[0])
                    for h in range(1, n_chunks):
                        if st != OK:
                            break
                        value, st = register_add_call(value, sums[h], F, u_f[h])
            values[c] = value
            states[c] = st
    for c in range(count):
        i = (first + c) // p
        k = (first + c) % p
        status[i, k] = states[c]
        out[i, k] = values[c] if states[c] == OK else 0.0


# -- deterministic narrow float registers, vectorized across outputs ---------------------------------


SIGN = np.uint64(1 << 63)
MAGNITUDE = np.uint64((1 << 63) - 1)
IMPLICIT = np.uint64(1 << 52)
TWO52_BITS = np.uint64(0x4330000000000000)  # 2.0**52: small integers OR-ed into its mantissa
TWO52 = 4503599627370496.0
U0 = np.uint64(0)
U1 = np.uint64(1)


@jit(inline="always")
def round_branch_free(s, err, zero_sign, man_bits, emin, max_value, neg_zero, nearest, tie_away, toward_positive,
                      toward_negative, to_odd):
    """The exact value s + err (s = fl64(s + err), TwoSum's pair) rounded once into a float register
    of man_bits <= 50 fraction bits (subnormals from 2**emin down) in a deterministic mode, without
    branches, so that a loop of these vectorizes: (value, bad). ``bad``: s is not finite or the
    result exceeds the register's largest value (the caller redoes those outputs).

    First s + err is rounded to odd in float64 (s itself if err is 0 or s's last bit is 1, else the
    float64 neighbour of s on err's side): with at least two more bits than the register, rounding
    that odd value to the register in any mode equals rounding s + err (docs/arithmetic.md). The
    register's grid step is 2**q, q = max(E, emin) - man_bits, so the significand of the odd value
    loses 52 - man_bits bits (more below 2**emin) by integer shifts. ``zero_sign``: the sign bit of an
    exact zero sum (IEEE: -0 from (-0) + (-0), or toward negative from any zero sum but (+0) + (+0))."""
    bits = np.float64(s).view(np.uint64)
    sign = bits & SIGN
    magnitude = bits & MAGNITUDE
    err_bits = np.float64(err).view(np.uint64)
    inexact_even = ((err_bits & MAGNITUDE) != U0) & ((magnitude & U1) == U0)
    outward = (err_bits & SIGN) == sign
    magnitude = magnitude + (U1 if inexact_even & outward else U0) - (U1 if inexact_even & (not outward) else U0)
    E = np.int64(magnitude >> np.uint64(52)) - 1023
    shift = min(52 - man_bits + max(emin - E, 0), 60)  # 60: everything is discarded, below half a step
    sh = np.uint64(shift)
    significand = (magnitude & MANTISSA) | IMPLICIT if magnitude != U0 else U0
    k = significand >> sh
    rest = significand & ((U1 << sh) - U1)
    half = U1 << (sh - U1)
    negative = sign != U0
    odd = (k & U1) != U0
    threshold = half if nearest else U0
    above_goes_up = nearest | (toward_positive & (not negative)) | (toward_negative & negative) | (to_odd & (not odd))
    at_goes_up = nearest & (tie_away | odd)
    up = ((rest > threshold) & above_goes_up) | ((rest == threshold) & at_goes_up)  # a tie: nearest only
    kept = k + (U1 if up else U0)
    value = (np.uint64(kept | TWO52_BITS).view(np.float64) - TWO52) * pow2(max(E, emin) - man_bits)
    bad = (E >= 1024) | (value > max_value)
    out_sign = zero_sign if magnitude == U0 else sign
    if value == 0.0 and not neg_zero:
        out_sign = U0
    return np.uint64(np.float64(value).view(np.uint64) | out_sign).view(np.float64), bad


@jit(parallel=True)
def narrow_sequential(L, R, out, bad_out, A, plus):
    """Sequential order into a float register A in a deterministic mode, products exact in float64:
    acc = A(p_0), acc = A(acc + p_k) with TwoSum and round_branch_free, k outside and a row of
    outputs inside (vectorized across outputs, as native_sequential). bad_out marks outputs that
    met inf, NaN or an overflow; the caller sums those again on the general rounding kernel."""
    m, n = L.shape
    p = R.shape[1]
    man_bits, emin, max_value, neg_zero = A.man_bits, A.emin, A.max_value, A.neg_zero
    mode = A.mode
    nearest = mode == NEAREST_EVEN or mode == NEAREST_AWAY
    tie_away = mode == NEAREST_AWAY
    toward_positive = mode == TOWARD_POSITIVE
    toward_negative = mode == TOWARD_NEGATIVE
    to_odd = mode == TO_ODD
    for t in prange(tile_count(m, p)):
        i0, j0, rows, cols = tile_bounds(t, m, p)
        acc = np.zeros((TILE_ROWS, TILE_COLS), dtype=np.float64)
        bad = np.zeros((TILE_ROWS, TILE_COLS), dtype=np.bool_)
        if n > 0:
            first = R[0, j0:j0 + cols]
            for r in range(rows):
                a = L[i0 + r, 0]
                row = acc[r]
                flags = bad[r]
                for j in range(cols):
                    s = a * first[j] + plus
                    row[j], flags[j] = round_branch_free(s, 0.0, np.float64(s).view(np.uint64) & SIGN, man_bits,
                                                         emin, max_value, neg_zero, nearest, tie_away,
                                                         toward_positive, toward_negative, to_odd)
        for k in range(1, n):
            Rk = R[k, j0:j0 + cols]
            for r in range(rows):
                a = L[i0 + r, k]
                row = acc[r]
                flags = bad[r]
                for j in range(cols):
                    x = row[j]
                    y = a * Rk[j] + plus
                    s = x + y
                    back = s - x
                    err = (x - (s - back)) + (y - back)
                    either = (np.float64(x).view(np.uint64) | np.float64(y).view(np.uint64)) & SIGN
                    zero_sign = either if toward_negative else np.float64(s).view(np.uint64) & SIGN
                    value, over = round_branch_free(s, err, zero_sign, man_bits, emin, max_value, neg_zero, nearest,
                                                    tie_away, toward_positive, toward_negative, to_odd)
                    row[j] = value
                    flags[j] = flags[j] | over
        for r in range(rows):
            out[i0 + r, j0:j0 + cols] = acc[r, :cols]
            bad_out[i0 + r, j0:j0 + cols] = bad[r, :cols]


@jit
def values_to_wide(values, cls, negative, hi, lo, e):
    """Float64 register values as the wide values lpsim.fast.arith rounds into result formats
    (every NaN becomes the class NaN, as in the exact engine)."""
    flat = values.reshape(-1)
    for i in range(flat.shape[0]):
        c, n, h, l, x = wide_from_float(flat[i])
        cls[i], negative[i], hi[i], lo[i], e[i] = c, n, h, l, x


@jit
def native_dot_tables(codes_a, codes_b, table_a, table_b, plus):
    """One short dot of the native sequential path, serial, reading the operands through their
    value tables: the sum native_sequential forms for one output (p_0 + plus, then acc + p_j in
    the tables' dtype), without building operand or output arrays (a length-32 dot's own cost)."""
    n = codes_a.shape[0]
    if n == 0:
        return plus - plus  # +0 in the tables' dtype: an empty sum
    acc = table_a[codes_a[0]] * table_b[codes_b[0]] + plus
    for j in range(1, n):
        acc = acc + table_a[codes_a[j]] * table_b[codes_b[j]]
    return acc


@jit(parallel=True)
def gather_values(table, codes, out):
    """out[i] = table[codes[i]] over flat arrays, split between threads: an operand's values read
    through its format's value table (done serially, this decode capped what a second thread gains
    on a large matmul at about 1.6x)."""
    for i in prange(codes.shape[0]):
        out[i] = table[codes[i]]


# -- serial twins for small work -------------------------------------------------------------------


def _serial_twin(kernel):
    """The same loops compiled without ``parallel=True`` (prange runs as range): waking the thread
    pool costs more than a short dot (lpsim.fast._mac runs work below lpsim.fast.threads.SMALL_WORK
    on these)."""
    return _twin(kernel, "_serial")


SERIAL = {kernel: _serial_twin(kernel) for kernel in
          (native_sequential, native_chunked, native_pairwise, int_tile, int_wrap32, rounded_reduce,
           narrow_sequential)}


# -- one short integer dot -------------------------------------------------------------------------


@jit
def int_dot_wrap32(codes_a, codes_b, bits, code_min):
    """One short dot of the wrap32 path, serial, over the element codes of two 1-D operands: the sum
    int_wrap32 forms for one output (int32 lanes, wrapped once into the register), without building
    the 2-D operand views or the output array (a length-32 dot's own cost)."""
    total = np.int32(0)
    for j in range(codes_a.shape[0]):
        total = np.int32(total + np.int32(np.int32(codes_a[j]) * np.int32(codes_b[j])))
    mask = (np.uint64(1) << np.uint64(bits)) - np.uint64(1)
    return np.int64(((np.uint64(np.int64(total)) - np.uint64(code_min)) & mask) + np.uint64(code_min))
