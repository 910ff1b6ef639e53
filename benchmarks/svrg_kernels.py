"""Compiled float SVRG for least squares: the full-precision baselines of benchmarks/halp_speed.py,
and the float64 full-gradient pass over integer feature codes that its integer HALP epochs use.
Benchmark code, not part of lpsim (lpsim trains through lpsim.algorithms); it borrows the fast
engine's JIT options and row prefetch.

These kernels are float arithmetic, not lpsim's bit-exact rounding: they use the one documented
exception to the no-fastmath rule, ``reassoc`` + ``contract``, so LLVM may split a dot product
into vector partial sums and fuse multiply-adds (a plain ordered float sum does not vectorize).
Results agree with numpy to rounding error, not bit for bit.

SVRG inner step for f_i(w) = (x_i . w - y_i)^2 / 2 + (l2 / 2) ||w||^2, with the anchor's margins
m~_i = x_i . w~ and g~ = grad f(w~) stored by the full pass:

    w <- w - alpha * ( x_i (x_i . w - m~_i) + l2 (w - w~) + g~ )

The full passes have ``*_parts`` twins that split the rows into a fixed number of ranges run
in parallel (``prange``); the ranges' partial gradients are added in range order, so a result
depends on the number of ranges only, never on the thread count or scheduling.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from lpsim.fast._config import jit
from lpsim.fast._halp_kernels import dot_int32, prefetch_row

FLOAT_SUMS = {"fastmath": {"reassoc", "contract"}}  # vectorized float reductions (see the module doc)


@jit(**FLOAT_SUMS)
def full_gradient(X, y, w, l2, margins, grad):
    """margins[i] = x_i . w; grad = X^T (margins - y) / n + l2 w (accumulated in w's dtype)."""
    grad[:] = 0
    gradient_rows(X, y, w, 0, X.shape[0], margins, grad)
    finish_mean(grad, X.shape[0], l2, w)


@jit(parallel=True, **FLOAT_SUMS)
def full_gradient_parts(X, y, w, l2, margins, grad, partial):
    """full_gradient with the rows cut into partial.shape[0] equal ranges, one per thread, each
    summing into its own row of ``partial``; the ranges' sums are then added in range order. The
    result depends on the number of ranges, not on the threads that run them (the same bits on 1
    or 2 threads); it differs from full_gradient's by round-off (the n-term sum is split)."""
    parts, n = partial.shape[0], X.shape[0]
    for p in prange(parts):
        partial[p, :] = 0
        gradient_rows(X, y, w, p * n // parts, (p + 1) * n // parts, margins, partial[p])
    add_parts(partial, grad)
    finish_mean(grad, n, l2, w)


@jit(inline="always")
def gradient_rows(X, y, w, start, stop, margins, acc):
    """margins[i] = x_i . w and acc += (margins[i] - y[i]) x_i for rows start .. stop - 1.

    Four rows at a time: w and acc are loaded once per four rows, which made the float64 pass
    1.2-1.9x faster (the same blocking slowed full_gradient_codes, whose int8 -> float64
    conversions dominate, so that one stays row by row)."""
    d = X.shape[1]
    zero = w[0] * 0
    stop4 = stop - (stop - start) % 4
    for i in range(start, stop4, 4):
        x0, x1, x2, x3 = X[i], X[i + 1], X[i + 2], X[i + 3]
        m0 = m1 = m2 = m3 = zero
        for j in range(d):
            wj = w[j]
            m0 += x0[j] * wj
            m1 += x1[j] * wj
            m2 += x2[j] * wj
            m3 += x3[j] * wj
        margins[i], margins[i + 1], margins[i + 2], margins[i + 3] = m0, m1, m2, m3
        r0, r1, r2, r3 = m0 - y[i], m1 - y[i + 1], m2 - y[i + 2], m3 - y[i + 3]
        for j in range(d):
            acc[j] += (r0 * x0[j] + r1 * x1[j]) + (r2 * x2[j] + r3 * x3[j])
    for i in range(stop4, stop):
        m = zero
        for j in range(d):
            m += X[i, j] * w[j]
        margins[i] = m
        r = m - y[i]
        for j in range(d):
            acc[j] += r * X[i, j]


@jit(inline="always")
def finish_mean(grad, n, l2, w):
    inv_n = (w[0] * 0 + 1) / n
    for j in range(grad.shape[0]):
        grad[j] = grad[j] * inv_n + l2 * w[j]


@jit(inline="always")
def add_parts(partial, grad):
    """grad = partial[0] + partial[1] + ..., in that order (a fixed order: reproducible)."""
    grad[:] = partial[0]
    for p in range(1, partial.shape[0]):
        for j in range(grad.shape[0]):
            grad[j] += partial[p, j]


@jit(**FLOAT_SUMS)
def svrg_epoch(X, w, w_anchor, margins, g_anchor, rows, alpha, l2):
    """T SVRG steps (rows[t] the sampled row) on w in place; all arithmetic in w's dtype
    (pass alpha and l2 as scalars of that dtype)."""
    d = w.shape[0]
    zero = w[0] * 0
    ag = np.empty_like(w)
    for j in range(d):
        ag[j] = alpha * g_anchor[j]
    T = rows.shape[0]
    for t in range(T):
        i = rows[t]
        if t + 1 < T:
            prefetch_row(X[rows[t + 1]])  # the next sampled row: hides DRAM latency of short rows
        x = X[i]
        m = zero
        for j in range(d):
            m += x[j] * w[j]
        a = alpha * (m - margins[i])
        if l2 != 0:
            c = alpha * l2
            for j in range(d):
                w[j] = w[j] - a * x[j] - ag[j] - c * (w[j] - w_anchor[j])
        else:
            for j in range(d):
                w[j] = w[j] - a * x[j] - ag[j]


@jit(**FLOAT_SUMS)
def full_gradient_codes(X, unit, y, w, l2, margins, grad):
    """The float64 full-gradient pass over integer feature codes (x_i = unit * X_i):
    margins[i] = x_i . w, grad = X^T (margins - y) / n + l2 w."""
    grad[:] = 0.0
    codes_gradient_rows(X, unit, y, w, 0, X.shape[0], margins, grad)
    finish_gradient(grad, X.shape[0], l2, w)


@jit(parallel=True, **FLOAT_SUMS)
def full_gradient_codes_parts(X, unit, y, w, l2, margins, grad, partial):
    """full_gradient_codes over partial.shape[0] row ranges in parallel (as full_gradient_parts)."""
    parts, n = partial.shape[0], X.shape[0]
    for p in prange(parts):
        partial[p, :] = 0.0
        codes_gradient_rows(X, unit, y, w, p * n // parts, (p + 1) * n // parts, margins, partial[p])
    add_parts(partial, grad)
    finish_gradient(grad, n, l2, w)


@jit(inline="always")
def codes_gradient_rows(X, unit, y, w, start, stop, margins, acc):
    for i in range(start, stop):
        m = 0.0
        for j in range(X.shape[1]):
            m += np.float64(X[i, j]) * w[j]
        m *= unit
        margins[i] = m
        add_scaled_codes(acc, (m - y[i]) * unit, X[i])


@jit(inline="always")
def add_scaled_codes(grad, r, x):
    """grad += r x for a row of integer codes x."""
    for j in range(grad.shape[0]):
        grad[j] += r * np.float64(x[j])


@jit(inline="always")
def finish_gradient(grad, n, l2, w):
    """grad = grad / n + l2 w: the mean data term plus the l2 term."""
    for j in range(grad.shape[0]):
        grad[j] = grad[j] / n + l2 * w[j]


@jit(**FLOAT_SUMS)
def svrg_epoch_folded(X, w, w_anchor, margins, g_anchor, rows, alpha, l2):
    """svrg_epoch with the anchor terms folded once per epoch: b = alpha (g~ - l2 w~), so each step is
    w <- (1 - alpha l2) w - a x_i - b (one multiply-add fewer per element than svrg_epoch's step)."""
    d = w.shape[0]
    zero = w[0] * 0
    b = np.empty_like(w)
    for j in range(d):
        b[j] = alpha * (g_anchor[j] - l2 * w_anchor[j])
    shrink = (zero + 1) - alpha * l2
    T = rows.shape[0]
    for t in range(T):
        i = rows[t]
        if t + 1 < T:
            prefetch_row(X[rows[t + 1]])
        x = X[i]
        m = zero
        for j in range(d):
            m += x[j] * w[j]
        a = alpha * (m - margins[i])
        for j in range(d):
            w[j] = shrink * w[j] - a * x[j] - b[j]


@jit(**FLOAT_SUMS)
def full_gradient_moved_margins(X, unit, y, Z, step, w, l2, margins, grad):
    """The full pass of an integer HALP epoch from the previous margins: margins[i] += step (X_i . Z),
    the exact integer dot in int32 lanes (|X_i . Z| < 2**31 for int8 codes and d <= 2**17), then
    grad = X^T (margins - y) unit / n + l2 w."""
    grad[:] = 0.0
    moved_gradient_rows(X, unit, y, Z, step, 0, X.shape[0], margins, grad)
    finish_gradient(grad, X.shape[0], l2, w)


@jit(parallel=True, **FLOAT_SUMS)
def full_gradient_moved_margins_parts(X, unit, y, Z, step, w, l2, margins, grad, partial):
    """full_gradient_moved_margins over partial.shape[0] row ranges in parallel (as full_gradient_parts;
    the margins are the same bits for any number of ranges: each is one row's exact dot)."""
    parts, n = partial.shape[0], X.shape[0]
    for p in prange(parts):
        partial[p, :] = 0.0
        moved_gradient_rows(X, unit, y, Z, step, p * n // parts, (p + 1) * n // parts, margins, partial[p])
    add_parts(partial, grad)
    finish_gradient(grad, n, l2, w)


@jit(inline="always")
def moved_gradient_rows(X, unit, y, Z, step, start, stop, margins, acc):
    for i in range(start, stop):
        m = margins[i] + step * np.float64(dot_int32(X[i], Z))
        margins[i] = m
        add_scaled_codes(acc, (m - y[i]) * unit, X[i])
