"""Studies: declarative sweeps (TOML or Python), executors, a crash-safe results store, tidy tables.

    from lpsim.studies import Study, run_study, load_results
    study = Study.from_toml("studies/error_vs_bits.toml")
    result = run_study(study, "results/error_vs_bits")   # resumable; processes by default
    table = load_results("results/error_vs_bits")        # tidy: one row per run and epoch

See docs/studies.md.
"""

from .driver import RunFailure, StudyResult, load_results, resume_study, run_study
from .executors import EXECUTORS, DaskExecutor, ProcessExecutor, SerialExecutor, make_executor
from .outcome import OUTCOMES, OutcomeRule, outcomes, run_outcome, with_outcomes
from .precision import resolve_format
from .schema import PARAMS, available_profiles
from .spec import SEMANTICS_VERSION, PlotSpec, RunSpec, Study, StudyError
from .store import ResultsStore, StoreError
from .table import Table

__all__ = [
    "Study", "StudyError", "RunSpec", "PlotSpec", "SEMANTICS_VERSION", "PARAMS", "available_profiles",
    "run_study", "resume_study", "load_results", "StudyResult", "RunFailure",
    "EXECUTORS", "SerialExecutor", "ProcessExecutor", "DaskExecutor", "make_executor",
    "ResultsStore", "StoreError", "Table", "resolve_format",
    "OUTCOMES", "OutcomeRule", "run_outcome", "outcomes", "with_outcomes",
]
