"""Hypothesis strategies for the fast-vs-exact differential tests: formats drawn within each
family's limits, roundings, and values that hit the hard cases (ties, grid points, range
ends, subnormals, NaN, +-inf, -0.0)."""

import math

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from lpsim.formats import BlockFormat, FixedPoint, FloatFormat, Rounding, RoundingMode, Specials

roundings = st.one_of(
    st.sampled_from([Rounding(mode=m) for m in RoundingMode]),
    st.sampled_from([1, 2, 3, 8, 23, 32, 52, 53, 63, 64]).map(lambda r: Rounding(mode="stochastic", random_bits=r)),
    st.integers(1, 64).map(lambda r: Rounding(mode="stochastic", random_bits=r)),
)
stochastic_roundings = st.one_of(st.just(Rounding(mode="stochastic")), st.integers(1, 64).map(lambda r: Rounding(mode="stochastic", random_bits=r)))
keys = st.fixed_dictionaries({
    "seed": st.integers(0, 2**64 - 1), "stream": st.integers(0, 2**32 - 1), "offset": st.integers(0, 2**62),
})

SPECIAL_VALUES = [0.0, -0.0, math.nan, -math.nan, math.inf, -math.inf, 5e-324, -5e-324, 2.2250738585072014e-308,
                  1.7976931348623157e308, -1.7976931348623157e308, 1.0, -1.0, 0.5, -0.5, 1.5, -2.5]


def _build(cls, **kwargs):
    try:
        return cls(**kwargs)
    except ValueError:
        assume(False)


@st.composite
def fixed_formats(draw, overflows=("saturate", "wrap", "error"), signed=None):
    bits = draw(st.integers(1, 64))
    is_signed = draw(st.booleans()) if signed is None else signed
    if bits < 2:
        assume(not is_signed)
    overflow = draw(st.sampled_from(overflows))
    if draw(st.integers(0, 3)):
        frac_bits = draw(st.one_of(st.integers(-8, 70), st.integers(-1023, 1074)))
        return _build(FixedPoint, bits=bits, signed=is_signed, frac_bits=frac_bits, overflow=overflow)
    scale = draw(st.one_of(
        st.sampled_from([0.1, 0.3, 3.0, 1 / 3, 2.0**-10, 2.0**-1074 * 3, 1e-300, 1e250]),
        st.floats(min_value=5e-324, max_value=1e300, allow_subnormal=True),
    ))
    return _build(FixedPoint, bits=bits, signed=is_signed, scale=scale, overflow=overflow)


@st.composite
def float_formats(draw, overflows=None):
    exp_bits = draw(st.integers(1, 11))
    man_bits = draw(st.one_of(st.integers(0, 10), st.integers(0, 52)))
    specials = draw(st.sampled_from(list(Specials)))
    subnormals = draw(st.booleans())
    top = (1 << exp_bits) - 1
    # any bias that keeps the format inside float64 (largest exponent <= 1023, smallest grid step >= 2**-1074)
    valid_biases = st.integers(top - 1023, 1075 - man_bits) if top - 1023 <= 1075 - man_bits else st.none()
    bias = draw(st.one_of(st.none(), st.integers(-3, 3).map(lambda d: (1 << (exp_bits - 1)) - 1 + d), valid_biases))
    allowed = ["saturate", "error"] + ([] if specials is Specials.NONE else ["ieee"])
    if overflows is not None:
        allowed = [o for o in allowed if o in overflows]
        assume(allowed)
    overflow = draw(st.sampled_from(allowed))
    return _build(FloatFormat, exp_bits=exp_bits, man_bits=man_bits, specials=specials, subnormals=subnormals,
                  bias=bias, overflow=overflow)


@st.composite
def block_formats(draw, ndim=1):
    if draw(st.booleans()):
        element = draw(fixed_formats(overflows=("saturate",), signed=True))
        assume(element.scale is None)
    else:
        element = draw(float_formats(overflows=("saturate",)))
        assume(element.exp_bits <= 6)
    return _build(BlockFormat, element=element, block_size=draw(st.integers(1, 9)),
                  axis=draw(st.integers(-ndim, ndim - 1)), scale_bits=draw(st.integers(1, 11)))


def _exact_float(value: float) -> float:
    return value if math.isfinite(value) else 0.0


@st.composite
def fixed_values(draw, fmt: FixedPoint):
    """Grid points, ties and near-ties, values past both ends, and general floats."""
    k = draw(st.integers(fmt.code_min - 4, fmt.code_max + 4))
    half = draw(st.sampled_from([0.0, 0.5, 0.25, 0.75, -0.5]))
    with np.errstate(all="ignore"):
        near = float(np.float64(k) + half) * fmt.step
    return draw(st.one_of(st.just(_exact_float(near)), st.sampled_from(SPECIAL_VALUES), st.floats()))


@st.composite
def float_values(draw, fmt: FloatFormat):
    """Grid points and midpoints of fmt (m odd: a midpoint) around its whole range, and general floats."""
    extra = 1 if fmt.man_bits < 52 else 0
    m = draw(st.integers(0, (1 << (fmt.man_bits + 1 + extra)) - 1))
    e = draw(st.integers(fmt.emin - fmt.man_bits - 3, fmt.emax + 2))
    with np.errstate(over="ignore"):
        grid = float(np.ldexp(float(m), e - fmt.man_bits - extra))  # past float64's range: inf
    grid = math.copysign(grid, draw(st.sampled_from([1.0, -1.0])))
    return draw(st.one_of(st.just(grid), st.sampled_from(SPECIAL_VALUES), st.floats()))


def arrays_of(elements, max_size=12):
    """Arrays of any shape up to 3-D with the given element strategy."""
    return st.lists(elements, min_size=0, max_size=max_size).flatmap(
        lambda values: st.sampled_from(_shapes(len(values))).map(lambda shape: np.array(values, dtype=np.float64).reshape(shape))
    )


def _shapes(n):
    shapes = [(n,)]
    if n == 1:
        shapes.append(())
    for a in range(1, n + 1):
        if n % a == 0:
            shapes.append((a, n // a))
            for b in range(1, n // a + 1):
                if (n // a) % b == 0:
                    shapes.append((a, b, n // a // b))
    return shapes
