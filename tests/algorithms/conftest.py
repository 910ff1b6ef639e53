import warnings

import pytest

from lpsim.data import make_dataset
from lpsim.models import make_model


@pytest.fixture(autouse=True)
def _quiet_fast_fallback():
    # Until the fast engine registers kernels for a format, "fast" runs the exact engine with a warning.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*has no fast-engine kernels.*")
        yield


@pytest.fixture(scope="session")
def easy_ls():
    """Well-conditioned, noise-free least squares: every f_i is minimized at w*, so SGD's own
    noise vanishes at w* and the low-precision floors are purely quantization."""
    ds = make_dataset("least_squares", n=64, d=4, condition_number=2.0, noise=0.0, seed=3)
    model = make_model("least_squares", ds)
    model.optimum()
    return model


@pytest.fixture(scope="session")
def tiny_ls():
    ds = make_dataset("least_squares", n=12, d=3, condition_number=3.0, noise=0.1, seed=1)
    return make_model("least_squares", ds)
