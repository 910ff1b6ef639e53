"""Short reductions take the serial shortcuts (serial kernel twins, a dot read through the operand
value tables): the exact engine's codes for every code of the operand formats (NaN, inf, signed
zeros, subnormals), and numpy's float32 running sums as an independent oracle."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lpsim import ops
from lpsim.exact import QArray
from lpsim.formats import BFLOAT16, BINARY16, BINARY32, BINARY64, E4M3, E4M3FNUZ, E5M2

from .strategies import Accumulator, FloatRegister, Summation, assert_engines_agree, qarrays

SHORT_FORMATS = [E4M3, E5M2, E4M3FNUZ, BINARY16, BFLOAT16]
NATIVE = [Accumulator(accumulator=FloatRegister(fmt=BINARY32)), Accumulator(accumulator=FloatRegister(fmt=BINARY64)),
          Accumulator(accumulator=FloatRegister(fmt=BINARY32), summation=Summation(order="pairwise"))]


@settings(max_examples=60, deadline=None)
@given(data=st.data(), a_fmt=st.sampled_from(SHORT_FORMATS), b_fmt=st.sampled_from(SHORT_FORMATS),
       accumulator=st.sampled_from(NATIVE), n=st.integers(0, 40))
def test_short_dots_match_the_exact_engine(data, a_fmt, b_fmt, accumulator, n):
    a, b = data.draw(qarrays(a_fmt, (n,))), data.draw(qarrays(b_fmt, (n,)))
    assert_engines_agree("dot", a, b, accumulator)


@settings(max_examples=30, deadline=None)
@given(fmt=st.sampled_from([E4M3, BFLOAT16, BINARY16]), n=st.integers(1, 64), seed=st.integers(0, 2**32 - 1))
def test_short_fp32_dot_equals_numpy_float32_running_sum(fmt, n, seed):
    rng = np.random.default_rng(seed)
    a = QArray.from_float(rng.standard_normal(n) * 8.0, fmt)
    b = QArray.from_float(rng.standard_normal(n) * 8.0, fmt)
    got = ops.to_float(ops.dot(a, b, NATIVE[0]))
    products = (ops.to_float(a) * ops.to_float(b)).astype(np.float32)  # exact in float32
    expected = np.add.accumulate(products, dtype=np.float32)[-1]
    assert np.float32(got).view(np.uint32) == expected.view(np.uint32)
