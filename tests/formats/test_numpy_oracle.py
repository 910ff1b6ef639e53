"""binary16 / binary32 nearest-even agree bit for bit with numpy's float64 -> float16/float32 casts.

numpy's casts round once, to nearest even, with subnormals and overflow to inf
(docs/oracles.md), so they are an independent oracle at any float64 input.
Our NaN convention: encode(+-NaN) is the canonical quiet NaN with the input's sign,
which is what numpy produces for the canonical float64 NaN; other payloads are not
kept (we then compare NaN-ness and sign only).
"""

from __future__ import annotations

import numpy as np
import pytest

import lpsim
from lpsim.formats import BINARY16, BINARY32

from .formats_ref import assert_same_floats, midpoints

CASES = [(BINARY16, np.float16, np.uint16), (BINARY32, np.float32, np.uint32)]


def check_against_numpy(x: np.ndarray, fmt, ftype, utype, engine: str, via_quantize: bool = False):
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(over="ignore"):
        expected = x.astype(ftype)
    codes = lpsim.encode(x, fmt, "nearest_even", engine=engine)
    assert codes.dtype == np.dtype(utype)
    ours = codes.view(ftype)
    nan = np.isnan(expected)
    assert np.array_equal(np.isnan(ours), nan)
    np.testing.assert_array_equal(codes[~nan], expected.view(utype)[~nan], err_msg=f"{fmt} codes")
    assert np.array_equal(np.signbit(ours[nan]), np.signbit(expected[nan]))
    values = lpsim.quantize(x, fmt, engine=engine) if via_quantize else lpsim.decode(codes, fmt, engine=engine)
    assert_same_floats(values, expected.astype(np.float64), f"{fmt} values")


def specials_and_edges(ftype) -> np.ndarray:
    fi = np.finfo(ftype)
    big = float(fi.max)
    ulp_top = float(fi.max) - float(np.nextafter(fi.max, ftype(0)))
    tiny = float(fi.smallest_subnormal)
    normal = float(fi.smallest_normal)
    edges = [
        0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan,
        big, big + ulp_top / 2, np.nextafter(big + ulp_top / 2, 0), big + ulp_top, 1e300, 2.0**1023,
        tiny, tiny / 2, np.nextafter(tiny / 2, 1), np.nextafter(tiny / 2, 0), tiny * 1.5, tiny * 2.5, tiny / 4,
        normal, normal - tiny / 2, np.nextafter(normal - tiny / 2, 0), 5e-324, 1e-300,
        1.0, 1.0 + float(fi.eps) / 2, np.nextafter(1.0 + float(fi.eps) / 2, 2), 1.0 + 1.5 * float(fi.eps),
    ]
    edges = np.array(edges, dtype=np.float64)
    return np.concatenate([edges, -edges])


@pytest.mark.parametrize("fmt, ftype, utype", CASES, ids=["binary16", "binary32"])
def test_specials_edges_and_overflow(fmt, ftype, utype, engine):
    check_against_numpy(specials_and_edges(ftype), fmt, ftype, utype, engine, via_quantize=True)


def test_binary16_every_code_decodes_like_numpy(engine):
    codes = np.arange(1 << 16, dtype=np.uint16)
    assert_same_floats(lpsim.decode(codes, BINARY16, engine=engine), codes.view(np.float16).astype(np.float64), "decode")


def test_binary16_every_positive_code_and_midpoint(engine):
    """Every positive finite binary16 value and every exact midpoint between neighbours (ties)."""
    positive = np.arange(0, 0x7C00, dtype=np.uint16).view(np.float16).astype(np.float64)
    mids = midpoints(np.append(positive, 65536.0))  # the last midpoint, 65520, overflows to inf
    check_against_numpy(np.concatenate([positive, mids]), BINARY16, np.float16, np.uint16, engine)


def test_binary16_negative_and_near_midpoint_sample(engine):
    rng = np.random.default_rng(1)
    positive = np.arange(0, 0x7C00, dtype=np.uint16).view(np.float16).astype(np.float64)
    mids = midpoints(np.append(positive, 65536.0))
    pick = rng.choice(len(mids), 1500, replace=False)
    m = mids[pick]
    x = np.concatenate([-positive[pick], -m, np.nextafter(m, 0), np.nextafter(m, np.inf), -np.nextafter(m, np.inf)])
    check_against_numpy(x, BINARY16, np.float16, np.uint16, engine)


def test_binary32_sampled_codes_midpoints_and_random_inputs(engine):
    rng = np.random.default_rng(2)
    codes = np.concatenate([
        rng.integers(0, 0x7F800000, 1500, dtype=np.uint32),  # any positive finite
        np.arange(0, 300, dtype=np.uint32),  # smallest subnormals
        np.arange(0x00800000 - 150, 0x00800000 + 150, dtype=np.uint32),  # subnormal / normal boundary
        np.arange(0x7F7FFF00, 0x7F800000, dtype=np.uint32),  # up to max
    ])
    values = codes.view(np.float32).astype(np.float64)
    following = (codes + 1).view(np.float32).astype(np.float64)  # the next code up (inf after max)
    following[np.isinf(following)] = 2.0**128
    mids = values / 2 + following / 2
    signs = np.where(rng.random(len(codes)) < 0.5, -1.0, 1.0)
    random_inputs = rng.standard_normal(1500) * np.exp2(rng.integers(-160, 135, 1500))
    x = np.concatenate([values * signs, mids * signs, np.nextafter(mids, 0) * signs, np.nextafter(mids, np.inf), random_inputs])
    check_against_numpy(x, BINARY32, np.float32, np.uint32, engine)


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_narrow_float_inputs_are_exact(dtype, engine):
    """float16/float32 inputs convert to float64 exactly, so binary16/32 keep them unchanged."""
    x = np.arange(0, 0x7C00, 97, dtype=np.uint16).view(np.float16).astype(dtype)
    fmt = BINARY16 if dtype == np.float16 else BINARY32
    assert_same_floats(lpsim.quantize(x, fmt, engine=engine), x.astype(np.float64), "float inputs")
