"""Small real studies for the studies tests: tiny least-squares problems, a few epochs."""

import textwrap
import warnings
from pathlib import Path

import pytest

SMALL_STUDY = textwrap.dedent(
    """\
    [study]
    name = "small"
    description = "a tiny sweep for tests"

    [problem]
    dataset = "least_squares"
    n = 32
    d = 4
    condition_number = 4.0

    [train]
    epochs = 3

    [grid]
    algorithm = ["svrg", "lpsgd", "halp"]
    bits = [4, 8]
    seed = [0, 1]

    [[plot]]
    kind = "error_vs_bits"
    metric = "grad_norm"
    """
)


@pytest.fixture(scope="session")
def small_study_text() -> str:
    return SMALL_STUDY


@pytest.fixture
def small_study_file(tmp_path) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(SMALL_STUDY)
    return path


@pytest.fixture(autouse=True)
def _quiet_fallback_warnings():
    # Until every format has fast kernels the codec warns once per format; not what these tests check.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*no fast-engine kernels.*")
        yield

