"""lpsim.ops: one call, either engine; the module's example runs."""

import doctest

import numpy as np
import pytest

import lpsim.ops
from lpsim import ops
from lpsim.formats import BINARY16, PRESETS


def test_module_example_runs():
    result = doctest.testmod(lpsim.ops)
    assert result.attempted > 0 and result.failed == 0


def test_engines_give_the_same_qarray():
    x = ops.from_float(np.linspace(-3, 3, 12).reshape(3, 4), BINARY16)
    v = ops.from_float(np.linspace(1, 2, 4), BINARY16)
    for call in (lambda e: ops.matvec(x, v, "fp16_fp16", engine=e),
                 lambda e: ops.axpy(ops.from_float(np.array(0.5), BINARY16), v, v, engine=e),
                 lambda e: ops.requantize(x, PRESETS["int8"], "stochastic", seed=3, engine=e)):
        fast, exact = call("fast"), call("exact")
        assert fast.fmt == exact.fmt and np.array_equal(fast.codes, exact.codes)
    assert np.array_equal(ops.to_float(x), ops.to_float(x, engine="exact"))


def test_bad_engine():
    x = ops.from_float(np.ones(2), BINARY16)
    with pytest.raises(ValueError, match="engine must be one of fast, exact"):
        ops.add(x, x, engine="gpu")


@pytest.mark.parametrize("engine", ["fast", "exact"])
@pytest.mark.parametrize("name", ["e4m3", "fixed8", "p3109_k8p3se"])
def test_from_float_takes_a_format_name_or_spec(engine, name):
    from lpsim.formats import get_format

    x = np.linspace(-2.0, 2.0, 9)
    by_name = ops.from_float(x, name, "toward_zero", engine=engine)
    by_object = ops.from_float(x, get_format(name), "toward_zero", engine=engine)
    assert by_name.fmt == get_format(name)
    np.testing.assert_array_equal(by_name.codes, by_object.codes)
    with pytest.raises(ValueError, match="no_such_format"):
        ops.from_float(x, "no_such_format", engine=engine)
