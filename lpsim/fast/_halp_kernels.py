"""Compiled integer inner loop of HALP / LP-SVRG / LP-SGD for linear models (one whole epoch per call).

The semantics (what is quantized where, the random-bit mapping) are defined in
docs/algorithms.md, section "Integer inner loop", and implemented step by step on the
exact engine in lpsim/exact/integer_loop.py; this module computes the same integers.
lpsim/fast/integer_loop.py builds the parameter records below from an EpochPlan
(lpsim/arith/integer_loop.py) and is the only caller.

Per inner step t (global step g = step0 + t), with rows i_b = rows[t, b] and C classes
(C = 1 for least squares and logistic; the iterate is the flat (d, C) matrix in C order,
element p = j * C + c, so C = 1 is the vector case unchanged):

  D_bc = X[i_b] . Z[:, c]                   integer dot (accumulator: see ``row_dot``)
  A_bc = sat(round(a_bc * 2**K))             each scalar quantized to its own scale
        linear: a_b * 2**K = C * (D_b - Dref[i_b]) * 2**(K - E)        (exact integers; C = 1)
        float:  a_bc = fl(diff_c * kappa), diff = dl(m0_i + tau * D_b, y) - l0_i   (float64;
                softmax: dl is the C-vector p - e_y of the row's margins)
  v_p = Z_p * 2**K - sum_b A_bc X[i_b, j] - Gq_p - Lq * (Z_p - Zref_p)  (exact in int32)
  Z_p = overflow(round(v_p / 2**K))          rounding mode of the iterate

The plan (lpsim/arith/integer_loop.py) proves |v_j| < 2**31 for every input, so v is
computed in int32 lanes with the ``*32`` intrinsics below: Numba types every int32
operation as int64, and LLVM does not narrow the 64-bit lanes back (see
docs/performance.md, "HALP integer epoch"). Wrapping int32 arithmetic is exact here
because the true result fits.

Random bits of the update (stochastic rounding): one call of the rounding's generator
(block 0 of ``index``; Philox4x32-10 by default, lpsim.rng) gives 128 bits, cut into slots of ``slot_bits`` (8 or 16) bits, most
significant first. Element j of step g uses call index g * calls + j // per_call, slot
j % per_call (per_call = 128 // slot_bits, calls = ceil(dim / per_call), j the flat index
p of a softmax iterate, dim = d * C) on the update stream; the rounding compares the
slot's first r bits (r <= slot_bits). The scalars use the codec's mapping: index
(g * B + b) * C + c on the scalar stream (g * B + b when C = 1).

Kernels never raise: they return a status (OK, or FAILED with the step where a NaN
scalar or an overflow under the 'error' policy stopped them).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from ..arith.integer_loop import (
    ACC_REGISTER,
    ACC_WRAP,
    FAILED,
    OK,
    logistic_dloss,
    make_vector_dloss,
    softmax_dloss,
    squared_dloss,
)
from ._codes import NEAREST_EVEN, SATURATE, STOCHASTIC, TO_ODD, TOWARD_NEGATIVE, TOWARD_POSITIVE, TOWARD_ZERO, WRAP
from ._config import jit
from ._codes import GEN_HASH32, GEN_PHILOX7, GEN_PHILOX10, GEN_SPLITMIX64, GEN_XOROSHIRO128AOX
from ._rng_kernels import (
    SHIFT32,
    aox,
    fixed_width_binop,
    generator_code,
    hash32_block,
    philox7_block,
    philox10_block,
    splitmix64_block,
    stream_key,
    xoroshiro_lanes,
    xoroshiro_step4,
)
from ._round_kernels import round_scaled, split_float

AccParams = namedtuple("AccParams", "kind exact_chunk acc_bits acc_overflow acc_lo acc_hi chunk fin_bits fin_overflow "
                                    "fin_lo fin_hi")
AccParams.__doc__ = """The dot's accumulator (all int64): kind (ACC_*), exact_chunk (terms whose exact sum fits
int32), the accumulating register's bits / overflow code / code range, the chunk length (0: not
chunked) and the final register's bits / overflow code / code range."""

ScalarParams = namedtuple("ScalarParams", "linear C c_shift Dref loss m0 l0 y tau kappa lo hi")
ScalarParams.__doc__ = """The scalars A: linear (least squares, variance reduced): C (D - Dref[i]) 2**c_shift;
else fl(kappa * (dl(m0_i + tau D, y[i]) - l0_i)) 2**K per class (loss: LOSS_CODES), m0 / l0 flat
(n * classes,) float64; [lo, hi]: the scalars' code range."""

UpdateParams = namedtuple("UpdateParams", "K Gq Lq Zref lo hi overflow")
UpdateParams.__doc__ = """The update: K fraction bits; Gq (dim,) int32 and Lq, the g~ and l2 terms (units 2**-K);
Zref (dim,) the l2 reference codes; [lo, hi] and overflow code: the iterate's codes and policy."""

RandomParams = namedtuple("RandomParams", "mode rbits slot_bits seed scalar_stream update_stream step0")
RandomParams.__doc__ = """Rounding of the scalars and the update: mode (RoundingMode.code), rbits (0 = exact),
slot_bits (8 or 16); seed and the two streams (uint64); step0, the epoch's first global step."""

Scratch = namedtuple("Scratch", "words slots acc32 A_buf column margins dl")
Scratch.__doc__ = """Work arrays: words (uint32) and slots (its view of slot_bits), acc32 (dim,) int32,
A_buf (B * classes,) int64, column (d,) like Z, margins and dl (classes,) float64."""


# -- int32 arithmetic that stays int32 (Numba would widen every int32 operation to int64) -----------


def _int32_binop(name):
    return fixed_width_binop(name, types.int32)


add32 = _int32_binop("add")  # wraps mod 2**32
sub32 = _int32_binop("sub")
mul32 = _int32_binop("mul")  # low 32 bits of the product
shl32 = _int32_binop("shl")  # shift count must be in [0, 31]
sar32 = _int32_binop("ashr")  # arithmetic (floor) shift, count in [0, 31]
shr32 = _int32_binop("lshr")
and32 = _int32_binop("and_")


@intrinsic
def prefetch(typingctx, array, index):
    """Hint the CPU to load the cache line of array[index] (llvm.prefetch: read, high locality);
    no effect on results. Rows are sampled at random, so the hardware prefetcher cannot guess the
    next one; requesting it one step ahead hides the memory latency of short rows."""
    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        address = builder.bitcast(builder.gep(data, [args[1]]), ir.IntType(8).as_pointer())
        i32 = ir.IntType(32)
        function = builder.module.declare_intrinsic(
            "llvm.prefetch", [address.type], ir.FunctionType(ir.VoidType(), [address.type, i32, i32, i32]))
        builder.call(function, [address, i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.none(array, index), codegen


@jit(inline="always")
def prefetch_row(row):
    """prefetch every cache line of a contiguous 1-d array."""
    step = max(64 // row.itemsize, 1)
    for j in range(0, row.shape[0], step):
        prefetch(row, j)


# -- random slots ------------------------------------------------------------------------------------


@jit(inline="always")
def _bswap32(w):
    w = np.uint32(w)
    return np.uint32((w >> np.uint32(24)) | ((w >> np.uint32(8)) & np.uint32(0xFF00))
                     | ((w << np.uint32(8)) & np.uint32(0xFF0000)) | (w << np.uint32(24)))


@jit(inline="always")
def _rot16(w):
    w = np.uint32(w)
    return np.uint32((w >> np.uint32(16)) | (w << np.uint32(16)))


@jit
def fill_slots(seed, stream, first_call, n_calls, slot_bits, words):
    """words[4c:4c+4] = block 0 of counter first_call + c (by the generator in ``stream``'s high bits),
    stored so that the uint8 (slot_bits 8), uint16 (16) or uint32 (32) view of ``words`` lists the
    slots in order, most significant first (little-endian storage: bytes swapped for 8-bit slots,
    halves swapped for 16-bit slots)."""
    # one loop per generator, so that each vectorizes
    code = generator_code(stream)
    if code == GEN_PHILOX10:
        _fill_slots(philox10_block, seed, stream, first_call, n_calls, slot_bits, words)
    elif code == GEN_PHILOX7:
        _fill_slots(philox7_block, seed, stream, first_call, n_calls, slot_bits, words)
    elif code == GEN_SPLITMIX64:
        _fill_slots(splitmix64_block, seed, stream, first_call, n_calls, slot_bits, words)
    elif code == GEN_HASH32:
        _fill_slots(hash32_block, seed, stream, first_call, n_calls, slot_bits, words)
    elif code == GEN_XOROSHIRO128AOX:
        _fill_slots_xoroshiro(seed, stream, first_call, n_calls, slot_bits, words)


@jit(inline="always")
def _fill_slots(block_of, seed, stream, first_call, n_calls, slot_bits, words):
    base = np.uint64(first_call)
    for c in range(n_calls):
        w0, w1, w2, w3 = block_of(seed, stream, base + np.uint64(c), 0)
        _store_block(words, c, w0, w1, w2, w3, slot_bits)


@jit(inline="always")
def _store_block(words, c, w0, w1, w2, w3, slot_bits):
    """words[4c:4c+4] = the block, in the slot order of ``fill_slots``."""
    if slot_bits == 8:
        w0, w1, w2, w3 = _bswap32(w0), _bswap32(w1), _bswap32(w2), _bswap32(w3)
    elif slot_bits == 16:
        w0, w1, w2, w3 = _rot16(w0), _rot16(w1), _rot16(w2), _rot16(w3)
    words[4 * c] = w0
    words[4 * c + 1] = w1
    words[4 * c + 2] = w2
    words[4 * c + 3] = w3


@jit(inline="always")
def _fill_slots_xoroshiro(seed, stream, first_call, n_calls, slot_bits, words):
    """xoroshiro128aox blocks of consecutive counters, run by run: each group of 64 counters seeds its
    four lanes once and steps them once per two counters (random access would step up to 31 times
    per counter)."""
    key = stream_key(seed, stream, 0)
    counter = np.uint64(first_call)
    end = counter + np.uint64(n_calls)
    c = 0
    while counter < end:
        group = counter >> np.uint64(6)
        a0, a1, b0, b1, c0, c1, d0, d1 = xoroshiro_lanes(key, group)
        for _ in range((counter & np.uint64(63)) >> np.uint64(1)):
            a0, a1, b0, b1, c0, c1, d0, d1 = xoroshiro_step4(a0, a1, b0, b1, c0, c1, d0, d1)
        stop = min(end, (group + np.uint64(1)) << np.uint64(6))
        while counter < stop:
            xa, xb, xc, xd = aox(a0, a1), aox(b0, b1), aox(c0, c1), aox(d0, d1)
            if counter & np.uint64(1) == 0:  # even counters take the high halves, odd ones the low
                _store_block(words, c, np.uint32(xa >> SHIFT32), np.uint32(xb >> SHIFT32),
                             np.uint32(xc >> SHIFT32), np.uint32(xd >> SHIFT32), slot_bits)
                c += 1
                counter += np.uint64(1)
            if counter < stop:
                _store_block(words, c, np.uint32(xa), np.uint32(xb), np.uint32(xc), np.uint32(xd), slot_bits)
                c += 1
                counter += np.uint64(1)
            a0, a1, b0, b1, c0, c1, d0, d1 = xoroshiro_step4(a0, a1, b0, b1, c0, c1, d0, d1)


# -- the dot ---------------------------------------------------------------------------------------


@jit(inline="always")
def dot_int32(x, z):
    """sum x[j] z[j] where the caller proved every partial sum fits int32, accumulated in int32
    lanes through the intrinsics: LLVM turns this into vpmaddwd (8- and 16-bit codes). The loop
    runs over whole arrays from 0: the same loop over [start, stop) of a longer array ran ~10x
    slower (not vectorized), so chunks are passed as slices."""
    acc = np.int32(0)
    for j in range(x.shape[0]):
        acc = add32(acc, mul32(x[j], z[j]))
    return np.int64(acc)


@jit(inline="always")
def dot_exact(x, z, chunk):
    """The exact integer dot product, in int32 chunks of ``chunk`` terms (each chunk's sum fits int32)."""
    n = x.shape[0]
    if chunk >= n:
        return dot_int32(x, z)
    total = np.int64(0)
    if chunk >= 16:
        for start in range(0, n, chunk):
            stop = min(start + chunk, n)
            total += dot_int32(x[start:stop], z[start:stop])
    else:
        for j in range(n):
            total += np.int64(x[j]) * np.int64(z[j])
    return total


@jit(inline="always")
def register_enter(v, bits, overflow, lo, hi):
    """(value, ok): an exact integer brought into an integer register of ``bits`` bits."""
    if lo <= v and v <= hi:
        return v, True
    if overflow == SATURATE:
        return (hi if v > hi else lo), True
    if overflow == WRAP:
        mask = np.uint64(0xFFFFFFFFFFFFFFFF) if bits >= 64 else (np.uint64(1) << np.uint64(bits)) - np.uint64(1)
        return np.int64(((np.uint64(v) - np.uint64(lo)) & mask) + np.uint64(lo)), True
    return v, False


@jit
def dot_register(x, z, acc_bits, acc_overflow, acc_lo, acc_hi, chunk, fin_bits, fin_overflow, fin_lo, fin_hi):
    """A sequential sum in an integer register (chunk > 0: sequential inside chunks of ``chunk``
    products, then the chunk sums sequentially in the final register). Products are exact.
    Returns (value, ok)."""
    n = x.shape[0]
    size = chunk if chunk > 0 else max(n, 1)
    total = np.int64(0)
    for start in range(0, n, size):
        part = np.int64(0)
        for j in range(start, min(start + size, n)):
            p = np.int64(x[j]) * np.int64(z[j])
            if j == start:
                part, ok = register_enter(p, acc_bits, acc_overflow, acc_lo, acc_hi)
            else:
                part, ok = register_enter(part + p, acc_bits, acc_overflow, acc_lo, acc_hi)
            if not ok:
                return np.int64(0), False
        if chunk <= 0:
            return part, True
        if start == 0:
            total, ok = register_enter(part, fin_bits, fin_overflow, fin_lo, fin_hi)
        else:
            total, ok = register_enter(total + part, fin_bits, fin_overflow, fin_lo, fin_hi)
        if not ok:
            return np.int64(0), False
    return total, True


@jit(inline="always")
def row_dot(x, z, acc):
    """(D, ok) of one row by the accumulator ``acc`` (AccParams)."""
    kind, exact_chunk, acc_bits, acc_overflow, acc_lo, acc_hi, chunk, fin_bits, fin_overflow, fin_lo, fin_hi = acc
    if kind == ACC_REGISTER:
        return dot_register(x, z, acc_bits, acc_overflow, acc_lo, acc_hi, chunk, fin_bits, fin_overflow, fin_lo, fin_hi)
    total = dot_exact(x, z, exact_chunk)
    if kind == ACC_WRAP:
        return register_enter(total, acc_bits, WRAP, acc_lo, acc_hi)
    return total, True


# -- the scalar ------------------------------------------------------------------------------------


# the compiled twins of lpsim/arith/integer_loop.py's derivatives (the exact engine runs those)
vector_dloss_jit = jit(inline="always")(make_vector_dloss(jit(inline="always")(logistic_dloss),
                                                          jit(inline="always")(squared_dloss),
                                                          jit(inline="always")(softmax_dloss)))


@jit(inline="always")
def saturate_code(negative, magnitude, big, lo, hi):
    """The signed code of a rounded magnitude, clamped to [lo, hi] (the scalar format saturates)."""
    if negative:
        if big or magnitude > np.uint64(-lo):
            return lo
        return -np.int64(magnitude)
    if big or magnitude > np.uint64(hi):
        return hi
    return np.int64(magnitude)


@jit(inline="always")
def scalar_linear(dd, C, shift, mode, rbits, seed, stream, index, lo, hi):
    """round(C * dd * 2**shift) saturated to [lo, hi] (|C * dd| < 2**63, checked by the plan)."""
    product = np.int64(C) * dd
    negative = product < 0
    magnitude = np.uint64(-product) if negative else np.uint64(product)
    q, big = round_scaled(negative, magnitude, shift, mode, True, rbits, seed, stream, index)
    return saturate_code(negative, q, big, lo, hi)


@jit(inline="always")
def scalar_float(value, K, mode, rbits, seed, stream, index, lo, hi, scratch):
    """round(value * 2**K) saturated to [lo, hi], the codec's fixed-point rounding of a float64; (code, ok)."""
    scratch[0] = value
    bits = scratch.view(np.uint64)[0]
    if (bits & np.uint64(0x7FF0000000000000)) == np.uint64(0x7FF0000000000000):
        return np.int64(0), False  # NaN or inf: the step failed
    negative, M, e = split_float(bits)
    q, big = round_scaled(negative, M, e + K, mode, True, rbits, seed, stream, index)
    return saturate_code(negative, q, big, lo, hi), True


# -- the update ------------------------------------------------------------------------------------


@jit(inline="always")
def _finish(t, K, lo, hi, overflow):
    """(code, ok) of t = v + bias: floor(t / 2**K) brought into [lo, hi]."""
    q = np.int64(sar32(t, K))
    if q < lo or q > hi:
        if overflow == SATURATE:
            return (lo if q < lo else hi), True
        if overflow == WRAP:
            span = hi - lo + 1
            return (q - lo) % span + lo, True
        return q, False
    return q, True


@jit(inline="always")
def update_stochastic_row(Z, x, A, Gc, Lq, K, keep, up, down, lo, hi, slots):
    """B = 1, saturating iterate, stochastic rounding: the fused loop of the common case.

    Z_j 2**K is a multiple of 2**K, so floor((Z_j 2**K + w) / 2**K) = Z_j + floor(w / 2**K): with
    w = Gc_j - A x_j - Lq Z_j - (first r slot bits, at fraction bit K - 1 down), where
    Gc_j = c1 - Gq_j + Lq Zref_j is folded once per epoch, the new code is clamp(Z_j + (w >> K), lo, hi)
    -- the same integer as saturating round((Z_j 2**K - A x_j - Gq_j - Lq (Z_j - Zref_j)) / 2**K)."""
    for j in range(Z.shape[0]):
        z = Z[j]
        w = sub32(sub32(Gc[j], mul32(A, x[j])), mul32(Lq, z))
        w = sub32(w, shr32(shl32(and32(slots[j], keep), up), down))
        Z[j] = min(max(add32(z, sar32(w, K)), lo), hi)


@jit(inline="always")
def update_stochastic_row_full(Z, x, A, Gc, Lq, K, lo, hi, slots):
    """update_stochastic_row with r = K = slot width (the slot is the whole bias)."""
    for j in range(Z.shape[0]):
        z = Z[j]
        w = sub32(sub32(sub32(Gc[j], mul32(A, x[j])), mul32(Lq, z)), slots[j])
        Z[j] = min(max(add32(z, sar32(w, K)), lo), hi)


@jit(inline="always")
def update_nearest_row(Z, x, A, Gc, Lq, K, half1, lo, hi):
    """As update_stochastic_row with nearest-even rounding (Gc_j = Lq Zref_j - Gq_j): the bias
    2**(K-1) - 1 + (floor(v / 2**K) & 1), where floor(v / 2**K) = Z_j + (w >> K)."""
    one = np.int32(1)
    for j in range(Z.shape[0]):
        z = Z[j]
        w = sub32(sub32(Gc[j], mul32(A, x[j])), mul32(Lq, z))
        odd = and32(add32(z, sar32(w, K)), one)
        Z[j] = min(max(add32(z, sar32(add32(add32(w, half1), odd), K)), lo), hi)


@jit(inline="always")
def accumulate_update(acc32, x, A):
    """acc32 += A x (int32 lanes)."""
    for j in range(acc32.shape[0]):
        acc32[j] = add32(acc32[j], mul32(A, x[j]))


@jit(inline="always")
def accumulate_outer(acc32, x, A, classes):
    """acc32 += x A^T for the flat (d, classes) iterate: element j * classes + c gets A[c] x[j]."""
    for j in range(x.shape[0]):
        for c in range(classes):
            p = j * classes + c
            acc32[p] = add32(acc32[p], mul32(np.int32(A[c]), x[j]))


@jit(inline="always")
def class_column(Z, c, classes, column):
    """Z itself when classes == 1, else column c of the flat (d, classes) Z gathered into ``column``."""
    if classes == 1:
        return Z
    for j in range(column.shape[0]):
        column[j] = Z[j * classes + c]
    return column


@jit(inline="always")
def add_l2(acc32, Z, Zref, Lq):
    """acc32 += Lq (Z - Zref)."""
    for j in range(acc32.shape[0]):
        acc32[j] = add32(acc32[j], mul32(Lq, sub32(Z[j], Zref[j])))


@jit(inline="always")
def generic_bias(mode, v, K, slot_value, keep, c1, up, down):
    """bias so that floor((v + bias) / 2**K) is v / 2**K rounded by ``mode`` (K >= 1); to_odd is
    handled by the caller."""
    half = np.int32(1) << np.int32(K - 1)
    full = sub32(shl32(np.int32(1), K), np.int32(1))
    negative = v < 0
    if mode == STOCHASTIC:
        return sub32(c1, shr32(shl32(and32(slot_value, keep), up), down))
    if mode == NEAREST_EVEN:
        return add32(half - 1, and32(sar32(v, K), np.int32(1)))
    if mode == TOWARD_NEGATIVE:
        return np.int32(0)
    if mode == TOWARD_POSITIVE:
        return full
    if mode == TOWARD_ZERO:
        return full if negative else np.int32(0)
    # NEAREST_AWAY: ties move away from zero
    return half if not negative else np.int32(half - 1)


@jit(inline="always")
def update_general(Z, acc32, K, mode, slots, keep, c1, up, down, lo, hi, overflow):
    """Z_j = overflow(round((Z_j * 2**K - acc32_j) / 2**K)) for any mode and policy; returns ok."""
    vlo = np.int32(lo << K)
    vhi = np.int32(((hi + 1) << K) - 1)
    if overflow == SATURATE and mode == STOCHASTIC:
        for j in range(Z.shape[0]):
            v = sub32(shl32(Z[j], K), acc32[j])
            bias = sub32(c1, shr32(shl32(and32(slots[j], keep), up), down))
            t = min(max(add32(v, bias), vlo), vhi)
            Z[j] = sar32(t, K)
        return True
    if overflow == SATURATE and mode == NEAREST_EVEN and K > 0:
        half1 = np.int32((1 << (K - 1)) - 1)
        for j in range(Z.shape[0]):
            v = sub32(shl32(Z[j], K), acc32[j])
            t = min(max(add32(add32(v, half1), and32(sar32(v, K), np.int32(1))), vlo), vhi)
            Z[j] = sar32(t, K)
        return True
    mask = sub32(shl32(np.int32(1), K), np.int32(1))
    for j in range(Z.shape[0]):
        v = sub32(shl32(Z[j], K), acc32[j])
        if K == 0:
            t = v
        elif mode == TO_ODD:
            t = v if (sar32(v, K) & 1) == 1 or and32(v, mask) == 0 else add32(v, shl32(np.int32(1), K))
        else:
            t = add32(v, generic_bias(mode, v, K, slots[j] if mode == STOCHASTIC else np.int32(0), keep, c1, up, down))
        q, ok = _finish(t, K, lo, hi, overflow)
        if not ok:
            return False
        Z[j] = q
    return True


# -- the epoch -----------------------------------------------------------------------------------


@jit
def integer_epoch(X, Z, rows, classes, acc, scalar, update, random, scratch):
    """Run len(rows) inner steps on the codes Z in place. Returns (status, steps done).

    X (n, d) data codes; Z (d * classes,) iterate codes (a flat (d, classes) matrix); rows (T, B) int64;
    acc: AccParams; scalar: ScalarParams (linear only when classes == 1); update: UpdateParams;
    random: RandomParams; scratch: Scratch.
    """
    linear, C, c_shift, Dref, loss, m0, l0, y, tau, kappa, A_lo, A_hi = scalar
    K, Gq, Lq, Zref, lo, hi, overflow = update
    mode, rbits, slot_bits, seed, scalar_stream, update_stream, step0 = random
    words, slots, acc32, A_buf, column, margins, dl = scratch
    T, B = rows.shape
    d = Z.shape[0]  # dim = features * classes: the update runs over the flat iterate
    stochastic = mode == STOCHASTIC and K > 0
    per_call = 128 // slot_bits
    calls = (d + per_call - 1) // per_call
    r = K if rbits == 0 else min(rbits, K)
    keep = np.int32(((1 << r) - 1) << (slot_bits - r)) if stochastic else np.int32(0)
    c1 = np.int32(((1 << r) - 1) << (K - r)) if stochastic else np.int32(0)
    up = np.int32(K - slot_bits) if K > slot_bits else np.int32(0)
    down = np.int32(slot_bits - K) if K < slot_bits else np.int32(0)
    K32 = np.int32(K)
    fused = B == 1 and classes == 1 and overflow == SATURATE and K > 0 and (mode == STOCHASTIC or mode == NEAREST_EVEN)
    half1 = np.int32((1 << (K - 1)) - 1) if K > 0 else np.int32(0)
    Lq32 = np.int32(Lq)
    lo32, hi32 = np.int32(lo), np.int32(hi)
    whole_slot = stochastic and r == K and K == slot_bits  # the slot is the bias: keep/up/down are no-ops
    if fused:  # Gc = c1 - Gq + Lq Zref in acc32, once per epoch
        for j in range(d):
            acc32[j] = add32(sub32(c1, Gq[j]), mul32(Lq32, Zref[j]))
    scratch = np.empty(1, dtype=np.float64)
    for t in range(T):
        g = np.uint64(step0 + t)
        if t + 1 < T:
            for b in range(B):
                prefetch_row(X[rows[t + 1, b]])
        for b in range(B):
            i = rows[t, b]
            index = (g * np.uint64(B) + np.uint64(b)) * np.uint64(classes)
            for c in range(classes):
                D, ok = row_dot(X[i], class_column(Z, c, classes, column), acc)
                if not ok:
                    return FAILED, t
                if linear:
                    A_buf[b] = scalar_linear(D - Dref[i], C, c_shift, mode, rbits, seed, scalar_stream, index, A_lo,
                                             A_hi)
                else:
                    margins[c] = m0[i * classes + c] + tau * np.float64(D)
            if linear:
                continue
            vector_dloss_jit(loss, margins, y[i], dl)
            for c in range(classes):
                diff = dl[c] - l0[i * classes + c]
                A_buf[b * classes + c], ok = scalar_float(diff * kappa, K, mode, rbits, seed, scalar_stream,
                                                          index + np.uint64(c), A_lo, A_hi, scratch)
                if not ok:
                    return FAILED, t
        if stochastic:
            fill_slots(seed, update_stream, g * np.uint64(calls), calls, slot_bits, words)
        if fused:
            x = X[rows[t, 0]]
            A = np.int32(A_buf[0])
            # constant bounds of a full int8 / int16 range let LLVM turn clamp + truncate into
            # saturating packs (vpackssdw / vpacksswb), ~1.5x faster than vpmaxsd/vpminsd + shuffles
            if whole_slot and lo == -128 and hi == 127:
                update_stochastic_row_full(Z, x, A, acc32, Lq32, K32, np.int32(-128), np.int32(127), slots)
            elif whole_slot:
                update_stochastic_row_full(Z, x, A, acc32, Lq32, K32, lo32, hi32, slots)
            elif stochastic and lo == -32768 and hi == 32767:
                update_stochastic_row(Z, x, A, acc32, Lq32, K32, keep, up, down, np.int32(-32768), np.int32(32767),
                                      slots)
            elif stochastic:
                update_stochastic_row(Z, x, A, acc32, Lq32, K32, keep, up, down, lo32, hi32, slots)
            elif lo == -128 and hi == 127:
                update_nearest_row(Z, x, A, acc32, Lq32, K32, half1, np.int32(-128), np.int32(127))
            else:
                update_nearest_row(Z, x, A, acc32, Lq32, K32, half1, lo32, hi32)
            continue
        for j in range(d):
            acc32[j] = Gq[j]
        for b in range(B):
            if classes == 1:
                accumulate_update(acc32, X[rows[t, b]], np.int32(A_buf[b]))
            else:
                accumulate_outer(acc32, X[rows[t, b]], A_buf[b * classes:(b + 1) * classes], classes)
        if Lq != 0:
            add_l2(acc32, Z, Zref, np.int32(Lq))
        if not update_general(Z, acc32, K32, mode, slots, keep, c1, up, down, lo, hi, overflow):
            return FAILED, t
    return OK, T


@jit
def row_dots(X, Z, acc, out):
    """out[i] = X[i] . Z by the accumulator (LP-SVRG's per-epoch reference dots); returns ok."""
    for i in range(X.shape[0]):
        out[i], ok = row_dot(X[i], Z, acc)
        if not ok:
            return False
    return True


# -- the anchor's float64 full pass over the data codes ------------------------------------------------
# Float arithmetic outside the simulated hardware (HALP's full-precision pass), so the one documented
# exception to the no-fastmath rule applies: ``reassoc`` lets LLVM split each dot into vector
# partial sums, as BLAS does (an ordered float sum runs at one add latency per element). Results
# agree with numpy's X @ w to round-off, and are the same bits on every run of this machine.
FLOAT_SUMS = {"fastmath": {"reassoc", "contract"}}


@jit(**FLOAT_SUMS)
def code_margins(X, W, unit, out):
    """out[i, c] = unit * sum_j X[i, j] W[j, c] (X: integer codes, W: (d, C) float64)."""
    n, d = X.shape
    for i in range(n):
        x = X[i]
        for c in range(W.shape[1]):
            m = 0.0
            for j in range(d):
                m += np.float64(x[j]) * W[j, c]
            out[i, c] = m * unit


@jit(**FLOAT_SUMS)
def code_gradient(X, R, unit, out):
    """out[j, c] = unit * sum_i X[i, j] R[i, c]: the data term X^T R of the gradient, one pass over the codes."""
    n, d = X.shape
    out[:] = 0.0
    column = np.empty(d)
    for c in range(R.shape[1]):
        column[:] = 0.0
        for i in range(n):
            r = R[i, c] * unit
            x = X[i]
            for j in range(d):
                column[j] += r * np.float64(x[j])
        for j in range(d):
            out[j, c] = column[j]
