"""Pieces of the integer epoch and the benchmark baselines, each against an independent reference."""

import importlib.util
import sys
from functools import partial
from pathlib import Path

import numba
import numpy as np
import pytest

import lpsim
from lpsim import exact
from lpsim.algorithms.integer import IntegerArithmetic
from lpsim.algorithms.parts import Anchor, IterateState
from lpsim.arith import EXACT_ACCUMULATOR, Accumulator, IntRegister, Summation, get_profile
from lpsim.arith.integer_loop import K_CAP, IntegerData, epoch_plan
from lpsim.exact import integer_loop as exact_loop
from lpsim.exact.integer_loop import PackedRandom
from lpsim.fast import _halp_kernels as hk
from lpsim.fast import integer_loop as fast_loop
from lpsim.formats import FixedPoint
from lpsim.formats.rounding import as_rounding


@pytest.mark.parametrize("slot_bits", [8, 16])
@pytest.mark.parametrize("dim", [1, 7, 16, 33])
def test_random_slots_follow_the_documented_philox_mapping(slot_bits, dim):
    seed, step = 123456789012345, 5
    per_call = 128 // slot_bits
    calls = -(-dim // per_call)
    words = np.zeros(4 * calls, dtype=np.uint32)
    hk.fill_slots(np.uint64(seed), np.uint64(4), np.uint64(step * calls), calls, slot_bits, words)
    slots = words.view(np.uint8 if slot_bits == 8 else np.uint16)
    expected = [PackedRandom(seed, step, j, dim, slot_bits).value for j in range(dim)]
    assert slots[:dim].tolist() == expected
    assert len(set(expected)) > dim // 2  # not a constant


@pytest.mark.parametrize("k_cap, K, slot_bits", [(K_CAP, 16, 16), (8, 8, 8), (12, 12, 16), (3, 3, 8)])
def test_update_frac_bits_caps_K_and_picks_the_slot_width(k_cap, K, slot_bits):
    rng = np.random.default_rng(3)
    data = IntegerData.from_codes(rng.integers(-127, 128, (32, 16)), 2.0**-5, FixedPoint(bits=8, frac_bits=0))
    anchor = Anchor(w=np.zeros(16), grad=rng.standard_normal(16), margins=np.zeros(32), dloss=np.zeros(32))
    state = IterateState(z=np.zeros(16), center=anchor.w, scale=0.01, anchor=anchor, step=0)
    plan = epoch_plan(data, "least_squares", np.zeros(32), 0.1, state, 0.01, 1, FixedPoint(bits=8, frac_bits=0),
                      as_rounding("stochastic"), 0, EXACT_ACCUMULATOR, partial(lpsim.encode, engine="fast"), k_cap=k_cap)
    assert (plan.K, plan.slot_bits, plan.r_eff) == (K, slot_bits, K)
    assert plan.a_fmt.frac_bits == K
    target = 0.01 * anchor.grad / 0.01 * 2.0**K  # alpha g~ / s_z in units 2**-K, stochastically rounded
    assert np.all(np.abs(plan.Gq - target) < 1) and np.any(plan.Gq != 0)


@pytest.mark.parametrize("bad", [0, 17, True, 8.0])
def test_update_frac_bits_out_of_range_is_rejected(bad):
    with pytest.raises(ValueError, match="update_frac_bits must be an int in 1..16"):
        IntegerArithmetic(name="x", accumulator=EXACT_ACCUMULATOR, update_frac_bits=bad)


ACCUMULATORS = [
    EXACT_ACCUMULATOR,
    Accumulator(accumulator=IntRegister(bits=20, overflow="wrap")),
    Accumulator(accumulator=IntRegister(bits=20, overflow="saturate")),
    Accumulator(accumulator=IntRegister(bits=20, overflow="saturate"),
                summation=Summation.chunked(3, IntRegister(bits=22, overflow="saturate"))),
    get_profile("avx2_maddubs_int16").accumulator,
    get_profile("vnni_int8_int32").accumulator,
]


@pytest.mark.parametrize("accumulator", ACCUMULATORS, ids=lambda a: a.spec)
@pytest.mark.parametrize("bits", [8, 12])
def test_row_dot_matches_the_exact_engine(accumulator, bits):
    rng = np.random.default_rng(bits)
    x_fmt, z_fmt = FixedPoint(bits=8, frac_bits=0), FixedPoint(bits=bits, frac_bits=0)
    X = rng.integers(-128, 128, size=(40, 24)).astype(np.int8)
    X[0] = 127  # large same-sign sums: registers wrap / saturate
    Z = rng.integers(z_fmt.code_min, z_fmt.code_max + 1, size=24).astype(np.int8 if bits == 8 else np.int16)
    Z[:] = np.where(np.arange(24) < 12, z_fmt.code_max, Z)
    data = IntegerData.from_codes(X, 1.0, x_fmt)
    product_bits = 8 + bits  # the widest int8 x int<bits> code product needs this many signed bits
    narrowest = min(getattr(r, "bits", 64) for r in (accumulator.product, accumulator.accumulator))
    if narrowest < product_bits:
        # an accumulator narrower than one product is refused, by both engines, naming the formats
        for engine in (fast_loop, exact_loop):
            with pytest.raises(ValueError, match="narrower|product"):
                engine.reference_dots(data, Z, z_fmt, accumulator)
        with pytest.raises(ValueError, match="narrower|product"):
            exact.dot(exact.QArray(codes=X[0], fmt=x_fmt), exact.QArray(codes=Z, fmt=z_fmt), accumulator)
        return
    out = fast_loop.reference_dots(data, Z, z_fmt, accumulator)
    zq = exact.QArray(codes=Z, fmt=z_fmt)
    expected = [int(exact.dot(exact.QArray(codes=X[i], fmt=x_fmt), zq, accumulator).codes) for i in range(40)]
    assert out.tolist() == expected
    assert exact_loop.reference_dots(data, Z, z_fmt, accumulator).tolist() == expected


def test_exact_dot_in_int32_chunks_of_wide_codes():
    """16-bit data x 8-bit values: products up to 2**22, so int32 chunks of up to 511 terms are exact;
    the sum over 1000 terms is not an int32."""
    rng = np.random.default_rng(0)
    x = rng.integers(-32768, 32768, 1000).astype(np.int16)
    z = rng.integers(-128, 128, 1000).astype(np.int16)
    x[:600], z[:600] = -32768, -128
    exact_sum = int(np.dot(x.astype(object), z.astype(object)))
    assert exact_sum > 2**31
    for chunk in (1, 16, 100, (2**31 - 1) // 2**22):
        assert hk.dot_exact(x, z, chunk) == exact_sum


# -- the float baselines of benchmarks/halp_speed.py ------------------------------------------------


def numpy_svrg_epoch(X, y, w, rows, alpha, l2):
    anchor = w.copy()
    margins = X @ anchor
    grad = X.T @ (margins - y) / X.shape[0] + l2 * anchor
    for i in rows:
        g = X[i] * (X[i] @ w - margins[i]) + l2 * (w - anchor) + grad
        w = w - alpha * g
    return w


@pytest.fixture(scope="module")
def sk():
    """The benchmark's float SVRG kernels (benchmarks/svrg_kernels.py, imported by halp_speed.py)."""
    return _benchmark_module().sk


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 2e-4)])
@pytest.mark.parametrize("l2", [0.0, 0.3])
def test_svrg_baseline_is_an_svrg_epoch(sk, dtype, rtol, l2):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((50, 20))
    y = rng.standard_normal(50)
    w0 = rng.standard_normal(20) * 0.1
    rows = rng.integers(0, 50, 100)
    alpha = 0.25 / np.max(np.sum(X * X, axis=1))
    expected = numpy_svrg_epoch(X, y, w0.copy(), rows, alpha, l2)
    Xd, yd, w = X.astype(dtype), y.astype(dtype), w0.astype(dtype)
    margins, grad = np.empty(50, dtype=dtype), np.empty(20, dtype=dtype)
    sk.full_gradient(Xd, yd, w, dtype(l2), margins, grad)
    sk.svrg_epoch(Xd, w, w.copy(), margins, grad, rows, dtype(alpha), dtype(l2))
    np.testing.assert_allclose(w, expected, rtol=rtol, atol=rtol * np.abs(expected).max())
    assert not np.allclose(w, w0)


def test_full_gradient_over_codes(sk):
    rng = np.random.default_rng(2)
    codes = rng.integers(-127, 128, (30, 17)).astype(np.int8)
    y, w, unit = rng.standard_normal(30), rng.standard_normal(17), 2.0**-5
    margins, grad = np.empty(30), np.empty(17)
    sk.full_gradient_codes(codes, unit, y, w, 0.2, margins, grad)
    X = codes * unit
    np.testing.assert_allclose(margins, X @ w, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad, X.T @ (X @ w - y) / 30 + 0.2 * w, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("parts", [2, 3])
def test_parallel_full_passes_depend_on_the_ranges_not_the_threads(sk, parts):
    """The benchmark's *_parts passes: the same bits on 1 and 2 threads (the row ranges and the order
    their sums are added are fixed by ``parts``), and the serial pass's result up to round-off."""
    rng = np.random.default_rng(4)
    n, d, unit, l2 = 61, 19, 2.0**-5, 0.2
    codes = rng.integers(-127, 128, (n, d)).astype(np.int8)
    X, y, w = codes * unit, rng.standard_normal(n), rng.standard_normal(d)
    Z = rng.integers(-127, 128, d).astype(np.int8)
    start_margins = rng.standard_normal(n)
    serial = {}
    m, g = np.empty(n), np.empty(d)
    sk.full_gradient(X, y, w, l2, m, g)
    serial["float"] = (m, g)
    m, g = np.empty(n), np.empty(d)
    sk.full_gradient_codes(codes, unit, y, w, l2, m, g)
    serial["codes"] = (m, g)
    m, g = start_margins.copy(), np.empty(d)
    sk.full_gradient_moved_margins(codes, unit, y, Z, 0.01, w, l2, m, g)
    serial["moved"] = (m, g)

    def parallel(kind):
        m, g, partial = (start_margins.copy() if kind == "moved" else np.empty(n)), np.empty(d), np.empty((parts, d))
        if kind == "float":
            sk.full_gradient_parts(X, y, w, l2, m, g, partial)
        elif kind == "codes":
            sk.full_gradient_codes_parts(codes, unit, y, w, l2, m, g, partial)
        else:
            sk.full_gradient_moved_margins_parts(codes, unit, y, Z, 0.01, w, l2, m, g, partial)
        return m, g

    previous = numba.get_num_threads()
    try:
        for kind, (m_serial, g_serial) in serial.items():
            results = []
            for threads in sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)}):
                numba.set_num_threads(threads)
                results.append(parallel(kind))
            for m, g in results[1:]:
                assert np.array_equal(m, results[0][0]) and np.array_equal(g, results[0][1]), kind
            np.testing.assert_array_equal(results[0][0], m_serial)  # margins: each row's own dot, the same code
            np.testing.assert_allclose(results[0][1], g_serial, rtol=1e-12, atol=1e-13)
    finally:
        numba.set_num_threads(previous)


def _benchmark_module():
    if "halp_speed" in sys.modules:
        return sys.modules["halp_speed"]
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "halp_speed.py"
    spec = importlib.util.spec_from_file_location("halp_speed", path)
    module = importlib.util.module_from_spec(spec)
    # registered before it runs: Numba's disk cache re-imports a compiled function's module by name
    sys.modules["halp_speed"] = module
    spec.loader.exec_module(module)
    return module


def test_benchmark_runners_solve_the_problem():
    """The benchmark's SVRG and integer HALP drivers reduce the same problem's gradient."""
    bench = _benchmark_module()
    p = bench.Problem(256, 16)
    rng = np.random.default_rng(0)
    draws = [rng.integers(0, 256, 256) for _ in range(4)]
    start = p.grad_norm(np.zeros(16))
    _, w64 = bench.run_svrg_numba(p, np.float64, draws)
    _, w_halp = bench.run_integer(p, draws, 8, "halp", "stochastic")
    _, w_lp = bench.run_integer(p, draws, 8, "lpsvrg", "stochastic")
    _, w_k8 = bench.run_integer(p, draws, 8, "halp", "stochastic", k_cap=8)
    assert p.grad_norm(w64) < 1e-2 * start
    assert p.grad_norm(w_halp) < 10 * p.grad_norm(w64) + 1e-9 * start
    assert p.grad_norm(w_lp) < 0.5 * start
    assert p.grad_norm(w_k8) < 1e-3 * start
