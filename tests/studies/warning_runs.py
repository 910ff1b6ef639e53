"""A run function for executor tests that warns inside every run, as the fast engine does when a
format has no compiled kernels, and then does the real run. Importable by spawned workers."""

import warnings

from lpsim.studies.runner import run_one

WARNING_TEXT = "a warning from inside a run"


def run_with_a_warning(params: dict) -> dict:
    warnings.warn(WARNING_TEXT, UserWarning, stacklevel=1)
    return run_one(params)
