"""Fixtures shared by the studies, CLI and plots tests (each folder's conftest.py imports them): a small
real study (a tiny least-squares problem, a few epochs) and the checks every such test runs under."""

import contextlib
import os
import signal
import textwrap
import warnings
from pathlib import Path

import pytest

from .live_processes import children, needs_proc, wait_until_gone

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


@pytest.fixture(autouse=True)
def _no_process_left_behind():
    """Every process a test starts (worker pools, Dask clusters, CLI subprocesses) is gone when it
    ends; only multiprocessing's resource tracker, shared by the whole session, may stay."""
    yield
    if needs_proc:
        return
    from multiprocessing import resource_tracker

    tracker = getattr(resource_tracker._resource_tracker, "_pid", None)
    survivors = wait_until_gone(lambda: children(os.getpid()) - {tracker}, timeout=20)
    for pid in survivors:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert not survivors, f"processes left running by this test: {sorted(survivors)}"
