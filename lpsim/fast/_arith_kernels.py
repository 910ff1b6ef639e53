"""Compiled arithmetic with the exact engine's semantics (lpsim/exact/arith.py, accumulate.py).

Two kinds of numbers flow through these kernels:

* integers (int64) counting units of step(a) * step(b): the codes of fixed-point operands,
  their products and sums in integer or exact registers (the "integer family");
* *wide* values ``(cls, negative, hi, lo, e)``: a class (finite, zero, inf, NaN), a sign
  and, when finite, the magnitude (hi * 2**64 + lo) * 2**e, exact. A sum of two wide
  values is exact up to 127 significant bits; beyond that it keeps the top bits and a
  *sticky* flag (the value lies strictly above the kept bits, below the next unit), which
  is enough to round to any format of at most 53 significant bits in every mode, and
  enough for stochastic rounding with r <= 64 random bits.

The one case a window cannot settle is stochastic rounding with exact probabilities
(r = None) when the random bits equal the fraction's bits over the whole window (chance
2**-64 or less), or a value that must stay exact in an exact register but needs more than
127 bits. Kernels then report ``NEEDS_EXACT`` for that output and the Python side computes
it with the exact engine. A result the format rejects (overflow under 'error', NaN into
fixed point, ...) reports ``FAILED``; the Python side re-runs that output through the exact
engine, which raises its own exception. Kernels never raise.

Shifts go through helpers: LLVM leaves a shift by 64 or more undefined. A constant passed to a
compiled (not inlined) helper is written np.int64(0) or np.bool_(False): a bare constant arrives
as a literal type, and Numba would compile the helper, and every helper it calls, once per value.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from ._codec_kernels import decode_float_code, encode_float_scaled, fixed_code
from ._codes import CHUNKED, KIND_EXACT, KIND_FLOAT, KIND_INT, PAIRWISE, SATURATE, SEQUENTIAL, WRAP
from ._config import jit
from ._rng_kernels import chunk64, first_bits
from ._round_kernels import (
    NEAREST_AWAY,
    NEAREST_EVEN,
    STOCHASTIC,
    TOWARD_NEGATIVE,
    TOWARD_ZERO,
    U0,
    U1,
    bit_length,
    directed_away,
    low_mask,
    mul64,
    shl,
    shr,
)

# value classes
FINITE = 0
ZERO = 1
INF = 2
NAN = 3

# per-output status
OK = 0
FAILED = 1  # the exact engine raises here
NEEDS_EXACT = 2  # the window cannot decide; compute this output exactly

MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)

Target = namedtuple("Target", "is_float fixed frac_bits float_params layout mode random_bits generator_bits")
Target.__doc__ = """A format values are rounded into: a FixedPoint with a power-of-two step (``fixed``:
FixedParams, ``frac_bits``) or a FloatFormat (``float_params`` for the rounding, ``layout``),
and the rounding mode, r and the random-bit generator (its code << 32, uint64: the high bits of
the stream word, lpsim/fast/_rng_kernels.py); the unused half holds placeholders."""

IntReg = namedtuple("IntReg", "kind bits overflow code_min code_max")
IntReg.__doc__ = "A register of the integer family: kind, and for integer registers width, overflow code, range."

WideReg = namedtuple("WideReg", "kind target")
WideReg.__doc__ = "A register of the wide family: kind, and for float registers the Target it rounds into."


# -- 128-bit helpers -----------------------------------------------------------------------


@jit(inline="always")
def bitlen128(hi, lo):
    if hi != U0:
        return 64 + bit_length(hi)
    return bit_length(lo)


@jit(inline="always")
def shl128(hi, lo, n):
    """(hi:lo) << n mod 2**128, n >= 0."""
    if n == 0:
        return hi, lo
    if n >= 64:
        return shl(lo, n - 64), U0
    return (hi << np.uint64(n)) | (lo >> np.uint64(64 - n)), lo << np.uint64(n)


@jit(inline="always")
def shr128(hi, lo, n):
    """(hi:lo) >> n, n >= 0."""
    if n == 0:
        return hi, lo
    if n >= 64:
        return U0, shr(hi, n - 64)
    return hi >> np.uint64(n), (lo >> np.uint64(n)) | (hi << np.uint64(64 - n))


@jit(inline="always")
def low128(hi, lo, n):
    """(hi:lo) mod 2**n."""
    if n >= 128:
        return hi, lo
    if n >= 64:
        return hi & low_mask(n - 64), lo
    return U0, lo & low_mask(n)


@jit(inline="always")
def shr128_sticky(hi, lo, n):
    """(hi:lo) >> n and whether any bit shifted out was set."""
    rh, rl = low128(hi, lo, n)
    qh, ql = shr128(hi, lo, n)
    return qh, ql, (rh | rl) != U0


@jit(inline="always")
def add128(ah, al, bh, bl):
    lo = al + bl
    return ah + bh + np.uint64(lo < al), lo


@jit(inline="always")
def sub128(ah, al, bh, bl):
    """(a - b) mod 2**128."""
    return ah - bh - np.uint64(al < bl), al - bl


@jit(inline="always")
def less128(ah, al, bh, bl):
    return ah < bh or (ah == bh and al < bl)


# -- rounding a window ------------------------------------------------------------------------


@jit
def fraction_chunk(fh, fl, sh, c):
    """64-bit chunk c of the fraction (fh:fl) / 2**sh, and how many of its bits the window holds."""
    bottom = sh - 64 * (c + 1)  # window bit position of the chunk's last bit
    if bottom >= 0:
        _, value = shr128(fh, fl, bottom)
        return value, 64
    _, value = shl128(fh, fl, -bottom)
    return value, 64 + bottom


@jit
def random_below_window(fh, fl, sh, sticky, random_bits, seed, stream, index):
    """Stochastic rounding's comparison U < frac for frac = (F + eps) / 2**sh, 0 <= eps < 1 (eps > 0
    iff sticky); returns (decision, status). See lpsim.exact.rounding.stochastic_rounds_up."""
    r = random_bits
    if r > 0:
        if sh <= r:
            if sticky:
                return False, NEEDS_EXACT
            _, t = shl128(fh, fl, r - sh)
        else:
            _, t = shr128(fh, fl, sh - r)  # eps cannot carry into the first r bits
        return first_bits(seed, stream, index, r) < t, OK
    n_chunks = (sh + 63) // 64
    for c in range(n_chunks):
        f, known = fraction_chunk(fh, fl, sh, c)
        u = chunk64(seed, stream, index, c)
        if known < 64 and sticky:
            drop = np.uint64(64 - known)
            if (u >> drop) != (f >> drop):
                return (u >> drop) < (f >> drop), OK
            return False, NEEDS_EXACT
        if u != f:
            return u < f, OK
    if sticky:
        return False, NEEDS_EXACT
    return False, OK


@jit
def stochastic_away(fh, fl, sh, sticky, complement, random_bits, seed, stream, index):
    """Whether stochastic rounding moves the magnitude up: (away, status).

    Magnitude semantics (floats, nonnegative fixed point): away iff U < frac. Two's complement
    for a negative fixed-point value (``complement``): the value moves toward +inf, i.e. its
    magnitude down, iff U < 1 - frac. frac = (F + eps) / 2**sh as in random_below_window.
    """
    if not complement:
        return random_below_window(fh, fl, sh, sticky, random_bits, seed, stream, index)
    r = random_bits
    if r > 0:
        # floor((1 - frac) * 2**r) = 2**r - ceil(frac * 2**r), ceil >= 1 as frac > 0
        if sh <= r:
            if sticky:
                return False, NEEDS_EXACT
            _, ceil = shl128(fh, fl, r - sh)
        else:
            _, ceil = shr128(fh, fl, sh - r)
            rh, rl = low128(fh, fl, sh - r)
            if rh != U0 or rl != U0 or sticky:
                ceil += U1
        t = shl(U1, r) - ceil  # mod 2**64 when r == 64, as the comparison below needs
        below = first_bits(seed, stream, index, r) < t
        return not below, OK
    if sh > 128:
        return False, NEEDS_EXACT
    # 1 - (F + eps) / 2**sh = ((2**sh - F - [eps > 0]) + (1 - eps)) / 2**sh
    ch, cl = sub128(U0, U0, fh, fl)
    if sticky:
        ch, cl = sub128(ch, cl, U0, U1)
    ch, cl = low128(ch, cl, sh)
    below, status = random_below_window(ch, cl, sh, sticky, np.int64(0), seed, stream, index)
    return not below, status


@jit
def round_window(negative, hi, lo, sh, sticky, mode, signed_floor, random_bits, seed, stream, index):
    """Round (-1)**negative * (hi:lo + eps) / 2**sh to an integer (eps as in random_below_window).

    Returns (magnitude mod 2**64, big, status): big when the magnitude is 2**64 or more.
    ``signed_floor``: fixed-point (two's complement) semantics for stochastic rounding.
    """
    if sh < 0:
        if sticky:
            return U0, False, NEEDS_EXACT
        big = bitlen128(hi, lo) - sh > 64
        _, k = shl128(hi, lo, -sh)
        return k, big, OK
    qh, k = shr128(hi, lo, sh)
    big = qh != U0
    fh, fl = low128(hi, lo, sh)
    if fh == U0 and fl == U0 and not sticky:
        return k, big, OK
    away = False
    if mode == NEAREST_EVEN or mode == NEAREST_AWAY:
        if sh == 0:
            return U0, False, NEEDS_EXACT  # only eps is known to be in (0, 1)
        if sh - 1 < 128:
            hh, hl = shl128(U0, U1, sh - 1)
            if less128(hh, hl, fh, fl) or (fh == hh and fl == hl and sticky):
                away = True
            elif fh == hh and fl == hl:
                away = (k & U1) != U0 if mode == NEAREST_EVEN else True
    elif mode != STOCHASTIC:
        away = directed_away(mode, negative, k)
    else:
        away, status = stochastic_away(fh, fl, sh, sticky, signed_floor and negative, random_bits, seed, stream, index)
        if status != OK:
            return U0, False, status
    if away:
        k += U1
        if k == U0:
            big = True
    return k, big, OK


@jit(inline="always")
def is_tie(hi, lo, sh, sticky):
    """Whether (hi:lo + eps) / 2**sh lies exactly halfway between two integers."""
    if sticky or sh < 1 or sh > 128:
        return False
    fh, fl = low128(hi, lo, sh)
    hh, hl = shl128(U0, U1, sh - 1)
    return fh == hh and fl == hl


@jit
def encode_wide(cls, negative, hi, lo, e, sticky, T, seed, stream, index):
    """Code of a wide value rounded once into the target T: (code as int64, status).

    Mirrors lpsim.exact.values.round_exact: NaN becomes the float format's positive NaN
    (fixed point: FAILED); +-inf follows the format's policy; a zero keeps its sign where
    the format has -0.
    """
    stream = (np.uint64(stream) & np.uint64(0xFFFFFFFF)) | T.generator_bits  # this rounding's own generator
    if T.is_float:
        P = T.float_params
        if cls == NAN:
            if not P.nan_ok:
                return 0, FAILED
            return np.int64(P.nan_pos), OK
        if cls == INF:
            if P.inf_error:
                return 0, FAILED
            return np.int64(P.inf_neg if negative else P.inf_pos), OK
        zero_code = P.sign_mask if (negative and P.negative_zero) else U0
        if cls == ZERO:
            return np.int64(zero_code), OK
        E = e + bitlen128(hi, lo) - 1
        if E < P.emin:
            q = P.qmin if P.subnormals else P.emin
        else:
            q = E - P.man_bits
        k, _, status = round_window(negative, hi, lo, q - e, sticky, T.mode, np.bool_(False), T.random_bits, seed,
                                    stream, index)
        if status != OK:
            return 0, status
        if P.man_bits == 0 and T.mode == NEAREST_EVEN and E >= P.emin and is_tie(hi, lo, q - e, sticky):
            # no mantissa bits: a tie goes to the even code, and the code of 2**q is q - qmin + 1
            k = U1 if (q - P.qmin) % 2 == 1 else np.uint64(2)
        if k == U0:
            return np.int64(zero_code), OK
        code, ok = encode_float_scaled(negative, k, q, P, np.int64(TOWARD_ZERO), np.int64(0), U0, U0, U0)
        if not ok:
            return 0, FAILED
        return np.int64(code), OK
    F = T.fixed
    if cls == NAN:
        return 0, FAILED
    if cls == INF:
        if F.overflow != SATURATE:
            return 0, FAILED
        return np.int64((U0 - F.neg_limit) if negative else F.code_max), OK
    if cls == ZERO:
        return 0, OK
    k, big, status = round_window(negative, hi, lo, -(e + T.frac_bits), sticky, T.mode, np.bool_(True), T.random_bits,
                                  seed, stream, index)
    if status != OK:
        return 0, status
    code, ok = fixed_code(negative, k, big, F)
    if not ok:
        return 0, FAILED
    return np.int64(code), OK


# -- exact wide arithmetic (IEEE 754 rules of lpsim.exact.values) ------------------------------


@jit(inline="always")
def wide_from_float(x):
    """The exact wide value of a float64 (frexp's fraction times 2**53 is an exact integer)."""
    if x != x:
        return NAN, False, U0, U0, 0
    negative = math.copysign(1.0, x) < 0
    if x == 0:
        return ZERO, negative, U0, U0, 0
    if abs(x) == np.inf:
        return INF, negative, U0, U0, 0
    fraction, exponent = math.frexp(abs(x))
    return FINITE, negative, U0, np.uint64(fraction * 9007199254740992.0), np.int64(exponent - 53)


@jit(inline="always")
def wide_from_int(k, e):
    """The wide value k * 2**e of an int64 k."""
    if k == 0:
        return ZERO, False, U0, U0, 0
    negative = k < 0
    return FINITE, negative, U0, (U0 - np.uint64(k)) if negative else np.uint64(k), e


@jit(inline="always")
def wide_mul(xc, xn, xh, xl, xe, yc, yn, yh, yl, ye):
    """x * y exactly (significands of at most 64 bits: xh == yh == 0)."""
    negative = xn != yn
    if xc == NAN or yc == NAN:
        return NAN, False, U0, U0, 0
    if xc == INF or yc == INF:
        if xc == ZERO or yc == ZERO:
            return NAN, False, U0, U0, 0
        return INF, negative, U0, U0, 0
    if xc == ZERO or yc == ZERO:
        return ZERO, negative, U0, U0, 0
    hi, lo = mul64(xl, yl)
    return FINITE, negative, hi, lo, xe + ye


@jit
def wide_add(xc, xn, xh, xl, xe, yc, yn, yh, yl, ye, mode):
    """x + y of exact wide values (at most 127 significant bits each): (cls, neg, hi, lo, e, sticky).

    ``mode`` only decides the sign of an exact zero sum (-0 when rounding toward negative).
    """
    if xc == NAN or yc == NAN:
        return NAN, False, U0, U0, 0, False
    if xc == INF and yc == INF:
        if xn == yn:
            return INF, xn, U0, U0, 0, False
        return NAN, False, U0, U0, 0, False
    if xc == INF:
        return INF, xn, U0, U0, 0, False
    if yc == INF:
        return INF, yn, U0, U0, 0, False
    if xc == ZERO and yc == ZERO:
        if xn and yn:
            return ZERO, True, U0, U0, 0, False
        return ZERO, mode == TOWARD_NEGATIVE and xn != yn, U0, U0, 0, False
    if xc == ZERO:
        return yc, yn, yh, yl, ye, False
    if yc == ZERO:
        return xc, xn, xh, xl, xe, False
    # normalize both to the most significant bit at position 126 (room for a carry)
    bx = bitlen128(xh, xl)
    xh, xl = shl128(xh, xl, 127 - bx)
    xe -= 127 - bx
    by = bitlen128(yh, yl)
    yh, yl = shl128(yh, yl, 127 - by)
    ye -= 127 - by
    if ye > xe or (ye == xe and less128(xh, xl, yh, yl)):
        xn, xh, xl, xe, yn, yh, yl, ye = yn, yh, yl, ye, xn, xh, xl, xe
    d = xe - ye
    sticky = False
    if xn == yn:
        yh, yl, sticky = shr128_sticky(yh, yl, d)
        rh, rl = add128(xh, xl, yh, yl)
        return FINITE, xn, rh, rl, xe, sticky
    if d <= 1:
        # |x| >= |y| and the shifted x still fits: the difference is exact
        xh, xl = shl128(xh, xl, d)
        rh, rl = sub128(xh, xl, yh, yl)
        if rh == U0 and rl == U0:
            return ZERO, mode == TOWARD_NEGATIVE, U0, U0, 0, False
        return FINITE, xn, rh, rl, ye, False
    yh, yl, sticky = shr128_sticky(yh, yl, d)
    rh, rl = sub128(xh, xl, yh, yl)
    if sticky:
        rh, rl = sub128(rh, rl, U0, U1)  # x - (y' + eps) = (x - y' - 1) + (1 - eps)
    return FINITE, xn, rh, rl, xe, sticky


@jit(inline="always")
def wide_decode(code, T):
    """The exact wide value of a code of a float target (decode, then split)."""
    return wide_from_float(decode_float_code(np.uint64(code), T.layout))


@jit
def wide_round_float(c, n, h, l, e, sticky, T, seed, stream, index, shift):
    """A value in units of 2**shift rounded into the float target T, back in the same units:
    (cls, neg, hi, lo, e, status)."""
    code, status = encode_wide(c, n, h, l, e + shift, sticky, T, seed, stream, index)
    if status != OK:
        return NAN, False, U0, U0, 0, status
    c, n, h, l, e = wide_decode(code, T)
    return c, n, h, l, e - shift, OK


# -- the integer family: fixed-point operands, integer and exact registers ----------------------


@jit(inline="always")
def int_enter(v, R):
    """An exact int64 into register R: (value, status). Exact registers take any int64."""
    if R.kind == KIND_EXACT or (R.code_min <= v and v <= R.code_max):
        return v, OK
    if R.overflow == SATURATE:
        return (R.code_max if v > R.code_max else R.code_min), OK
    if R.overflow == WRAP:
        u = (np.uint64(v) - np.uint64(R.code_min)) & low_mask(R.bits)
        return np.int64(u + np.uint64(R.code_min)), OK
    return 0, FAILED


@jit(inline="always")
def int_add(x, y, R):
    """R(x + y) with the true sum even where it leaves int64."""
    s = np.int64(np.uint64(x) + np.uint64(y))  # wraps mod 2**64
    if (x >= 0) == (y >= 0) and (s >= 0) != (x >= 0):
        # the true sum is beyond int64, so beyond every register of at most 64 bits
        if R.kind == KIND_EXACT:
            return 0, NEEDS_EXACT
        if R.overflow == SATURATE:
            return (R.code_max if x > 0 else R.code_min), OK
        if R.overflow == WRAP:
            return int_enter(s, R)  # wrapping commutes with reduction mod 2**64
        return 0, FAILED
    return int_enter(s, R)


@jit
def int_sum_sequential(terms, start, stop, R):
    if stop == start:
        return 0, OK
    total, status = int_enter(terms[start], R)
    for j in range(start + 1, stop):
        if status != OK:
            break
        total, status = int_add(total, terms[j], R)
    return total, status


@jit
def int_sum_pairwise(terms, R):
    n = terms.shape[0]
    if n <= 1:
        return int_sum_sequential(terms, 0, n, R)
    while n > 1:
        half = n // 2
        for i in range(half):
            value, status = int_add(terms[2 * i], terms[2 * i + 1], R)
            if status != OK:
                return 0, status
            terms[i] = value
        if n % 2:
            terms[half] = terms[n - 1]
        n = half + n % 2
    return terms[0], OK


@jit
def int_reduce(A, B, out, status, Rp, Ra, Rf, order, chunk):
    """out[i, k] = the result register's value of sum_j A[i, j] * B[k, j] (codes as int64 units).

    Products are exact in int64 (the caller checks the product range); an integer product
    register always holds them (plan_dot), so it changes nothing.
    """
    n = A.shape[1]
    terms = np.empty(n, dtype=np.int64)
    n_chunks = (n + chunk - 1) // chunk if order == CHUNKED else 0
    sums = np.empty(n_chunks, dtype=np.int64)
    for i in range(A.shape[0]):
        for k in range(B.shape[0]):
            for j in range(n):
                terms[j] = np.int64(A[i, j]) * np.int64(B[k, j])
            if order == SEQUENTIAL:
                value, st = int_sum_sequential(terms, 0, n, Ra)
            elif order == PAIRWISE:
                value, st = int_sum_pairwise(terms, Ra)
            else:
                st = OK
                for c in range(n_chunks):
                    sums[c], st = int_sum_sequential(terms, c * chunk, min(c * chunk + chunk, n), Ra)
                    if st != OK:
                        break
                if st == OK:
                    value, st = int_sum_sequential(sums, 0, n_chunks, Rf)
            status[i, k] = st
            out[i, k] = value if st == OK else 0


@jit
def int_dot_wrap(A, B, out, bits, code_min):
    """The same as int_reduce for a wrapping integer accumulator in sequential or pairwise order:
    wrapping is addition mod 2**bits, associative, so the plain int64 sum (mod 2**64) wrapped once
    gives the same bits. A loop LLVM can vectorize."""
    mask = low_mask(bits)
    n = A.shape[1]
    for i in range(A.shape[0]):
        for k in range(B.shape[0]):
            total = np.int64(0)
            for j in range(n):
                total += np.int64(A[i, j]) * np.int64(B[k, j])
            out[i, k] = np.int64(((np.uint64(total) - np.uint64(code_min)) & mask) + np.uint64(code_min))


@jit
def int_dot_wrap32(A, B, out, bits, code_min):
    """int_dot_wrap for narrow codes and a register of at most 32 bits: int32 lanes (sums mod 2**32).

    Numba types int32 op int32 as int64; truncating every step back to int32 lets LLVM keep
    32-bit lanes, and it then forms vpmaddwd (AVX2) from the widened 16-bit products: about
    8x the int64 loop on int8 codes (docs/performance.md).
    """
    mask = low_mask(bits)
    n = A.shape[1]
    for i in range(A.shape[0]):
        for k in range(B.shape[0]):
            total = np.int32(0)
            for j in range(n):
                total = np.int32(total + np.int32(np.int32(A[i, j]) * np.int32(B[k, j])))
            out[i, k] = np.int64(((np.uint64(np.int64(total)) - np.uint64(code_min)) & mask) + np.uint64(code_min))


# -- the wide family: float registers, float or block operands ----------------------------------


@jit
def _register_enter(c, n, h, l, e, R, seed, stream, index, shift):
    if R.kind == KIND_FLOAT:
        return wide_round_float(c, n, h, l, e, np.bool_(False), R.target, seed, stream, index, shift)
    return c, n, h, l, e, OK


@jit
def _register_add(xc, xn, xh, xl, xe, yc, yn, yh, yl, ye, R, seed, stream, index, shift):
    if R.kind == KIND_FLOAT:
        c, n, h, l, e, sticky = wide_add(xc, xn, xh, xl, xe, yc, yn, yh, yl, ye, R.target.mode)
        return wide_round_float(c, n, h, l, e, sticky, R.target, seed, stream, index, shift)
    c, n, h, l, e, sticky = wide_add(xc, xn, xh, xl, xe, yc, yn, yh, yl, ye, np.int64(NEAREST_EVEN))
    if c == FINITE and bitlen128(h, l) > 127:
        # keep the 127-bit bound of wide_add's inputs; a set last bit would be lost
        sticky = sticky or (l & U1) != U0
        h, l = shr128(h, l, 1)
        e += 1
    if sticky:
        return NAN, False, U0, U0, 0, NEEDS_EXACT  # an exact register cannot keep a window
    return c, n, h, l, e, OK


@jit
def wide_sum_sequential(tc, tn, th, tl, te, start, stop, R, seed, stream, base, event0, shift):
    """acc = R(t_start); acc = R(acc + t_j): events event0 + (j - start)."""
    if stop == start:
        return ZERO, False, U0, U0, 0, OK
    c, n, h, l, e, st = _register_enter(tc[start], tn[start], th[start], tl[start], te[start], R, seed, stream,
                                        base + np.uint64(event0), shift)
    for j in range(start + 1, stop):
        if st != OK:
            break
        c, n, h, l, e, st = _register_add(c, n, h, l, e, tc[j], tn[j], th[j], tl[j], te[j], R, seed, stream,
                                          base + np.uint64(event0 + j - start), shift)
    return c, n, h, l, e, st


@jit
def wide_sum_pairwise(tc, tn, th, tl, te, count, R, seed, stream, base, shift):
    if count <= 1:
        return wide_sum_sequential(tc, tn, th, tl, te, np.int64(0), count, R, seed, stream, base, np.int64(0), shift)
    event = 0
    while count > 1:
        half = count // 2
        for i in range(half):
            a, b = 2 * i, 2 * i + 1
            c, n, h, l, e, st = _register_add(tc[a], tn[a], th[a], tl[a], te[a], tc[b], tn[b], th[b], tl[b], te[b],
                                              R, seed, stream, base + np.uint64(event), shift)
            if st != OK:
                return c, n, h, l, e, st
            tc[i], tn[i], th[i], tl[i], te[i] = c, n, h, l, e
            event += 1
        if count % 2:
            last = count - 1
            tc[half], tn[half], th[half], tl[half], te[half] = tc[last], tn[last], th[last], tl[last], te[last]
        count = half + count % 2
    return tc[0], tn[0], th[0], tl[0], te[0], OK


@jit
def wide_reduce(Aint, Bint, Af, Bf, fixed, oc, on, oh, ol, oe, status, Rp, Ra, Rf, order, chunk, seed, stream, offset,
                shift):
    """Results of sum_j A[i, j] * B[k, j] by the registers Rp, Ra, Rf, as wide values per output.

    Fixed-point operands (``fixed``): Aint/Bint hold codes, values count units of 2**shift.
    Otherwise Af/Bf hold the operands' exact float64 values (shift 0). Random indices and
    streams follow lpsim.exact.accumulate (the caller passes stream, the kernel adds 1, 2, 3).
    """
    m = Aint.shape[0] if fixed else Af.shape[0]
    p = Bint.shape[0] if fixed else Bf.shape[0]
    n = Aint.shape[1] if fixed else Af.shape[1]
    tc = np.empty(n, dtype=np.int64)
    tn = np.empty(n, dtype=np.bool_)
    th = np.empty(n, dtype=np.uint64)
    tl = np.empty(n, dtype=np.uint64)
    te = np.empty(n, dtype=np.int64)
    n_chunks = (n + chunk - 1) // chunk if order == CHUNKED else 0
    sc = np.empty(n_chunks, dtype=np.int64)
    sn = np.empty(n_chunks, dtype=np.bool_)
    sh = np.empty(n_chunks, dtype=np.uint64)
    sl = np.empty(n_chunks, dtype=np.uint64)
    se = np.empty(n_chunks, dtype=np.int64)
    s_product = (stream + np.uint64(1)) & np.uint64(0xFFFFFFFF)
    s_acc = (stream + np.uint64(2)) & np.uint64(0xFFFFFFFF)
    s_final = (stream + np.uint64(3)) & np.uint64(0xFFFFFFFF)
    for i in range(m):
        for k in range(p):
            o = np.uint64(offset) + np.uint64(i * p + k)
            base = o * np.uint64(n)
            st = OK
            for j in range(n):
                if fixed:
                    x = wide_from_int(np.int64(Aint[i, j]), 0)
                    y = wide_from_int(np.int64(Bint[k, j]), 0)
                else:
                    x = wide_from_float(Af[i, j])
                    y = wide_from_float(Bf[k, j])
                c, sgn, h, l, e = wide_mul(x[0], x[1], x[2], x[3], x[4], y[0], y[1], y[2], y[3], y[4])
                if fixed and c == ZERO:
                    sgn = False  # an integer product of codes has no signed zero
                c, sgn, h, l, e, st = _register_enter(c, sgn, h, l, e, Rp, seed, s_product, base + np.uint64(j), shift)
                if st != OK:
                    break
                tc[j], tn[j], th[j], tl[j], te[j] = c, sgn, h, l, e
            if st == OK:
                if order == SEQUENTIAL:
                    c, sgn, h, l, e, st = wide_sum_sequential(tc, tn, th, tl, te, np.int64(0), n, Ra, seed, s_acc, base,
                                                              np.int64(0), shift)
                elif order == PAIRWISE:
                    c, sgn, h, l, e, st = wide_sum_pairwise(tc, tn, th, tl, te, n, Ra, seed, s_acc, base, shift)
                else:
                    for b in range(n_chunks):
                        lo_j = b * chunk
                        c, sgn, h, l, e, st = wide_sum_sequential(tc, tn, th, tl, te, lo_j, min(lo_j + chunk, n), Ra,
                                                                  seed, s_acc, base, lo_j, shift)
                        if st != OK:
                            break
                        sc[b], sn[b], sh[b], sl[b], se[b] = c, sgn, h, l, e
                    if st == OK:
                        c, sgn, h, l, e, st = wide_sum_sequential(sc, sn, sh, sl, se, np.int64(0), n_chunks, Rf, seed,
                                                                  s_final, o * np.uint64(n_chunks), np.int64(0), shift)
            status[i, k] = st
            if st == OK:
                oc[i, k], on[i, k], oh[i, k], ol[i, k], oe[i, k] = c, sgn, h, l, e


# -- rounding results into a format, and elementwise operations -----------------------------------


@jit
def round_wide_array(c, n, h, l, e, shift, codes, status, T, seed, stream, offset, first):
    """codes[i] = wide value i (in units of 2**shift) rounded into T; element i uses random index
    offset + i. Stops at the first failure (status FAILED) from ``first`` on; NEEDS_EXACT marks
    and continues. Returns the index where it stopped, or -1."""
    for i in range(first, c.shape[0]):
        code, st = encode_wide(c[i], n[i], h[i], l[i], e[i] + shift, np.bool_(False), T, seed, stream,
                               np.uint64(offset) + np.uint64(i))
        status[i] = st
        codes[i] = code
        if st == FAILED:
            return i
    return -1


OP_ADD = 0
OP_SUBTRACT = 1
OP_MULTIPLY = 2
OP_FMA = 3  # x * y + z (axpy: alpha * x + y)
OP_IDENTITY = 4


@jit
def elementwise(op, X, Y, Z, codes, status, T, seed, stream, offset):
    """codes[i] = op(X[i], Y[i], Z[i]) computed exactly on float64 values and rounded once into T.

    Random index offset + i; stops at the first FAILED element (returns its index, else -1).
    """
    for i in range(X.shape[0]):
        x = wide_from_float(X[i])
        sticky = False
        if op == OP_IDENTITY:
            c, sgn, h, l, e = x
        elif op == OP_MULTIPLY:
            y = wide_from_float(Y[i])
            c, sgn, h, l, e = wide_mul(x[0], x[1], x[2], x[3], x[4], y[0], y[1], y[2], y[3], y[4])
        elif op == OP_FMA:
            y = wide_from_float(Y[i])
            z = wide_from_float(Z[i])
            pc, pn, ph, pl, pe = wide_mul(x[0], x[1], x[2], x[3], x[4], y[0], y[1], y[2], y[3], y[4])
            c, sgn, h, l, e, sticky = wide_add(pc, pn, ph, pl, pe, z[0], z[1], z[2], z[3], z[4], T.mode)
        else:
            y = wide_from_float(Y[i])
            yn = y[1]
            if op == OP_SUBTRACT and y[0] != NAN:
                yn = not yn
            c, sgn, h, l, e, sticky = wide_add(x[0], x[1], x[2], x[3], x[4], y[0], yn, y[2], y[3], y[4], T.mode)
        code, st = encode_wide(c, sgn, h, l, e, sticky, T, seed, stream, np.uint64(offset) + np.uint64(i))
        status[i] = st
        codes[i] = code
        if st == FAILED:
            return i
    return -1
