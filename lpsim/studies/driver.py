"""Run, resume and load studies: the study spec, an executor and the results store put together."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, Sequence, TextIO

import attrs

from .executors import make_executor, refuse_in_starting_worker
from .progress import Progress
from .outcome import outcome_summary
from .runner import run_one
from .spec import RunSpec, Study
from .store import DamagedRun, ResultsStore
from .table import Table

DEFAULT_RESULTS = Path("results")
# Draws a study's [[plot]] figures from its table into a folder and returns the files written,
# e.g. lpsim.plots.plot_study. Passed in by the caller: plots sit above studies (README layout).
FigureWriter = Callable[[Study, Table, Path], Sequence[Path]]


@attrs.frozen
class RunFailure:
    run_id: str
    params: dict
    message: str


@attrs.frozen
class StudyResult:
    """What a study session produced: where, the table, runs that failed, figures written, and
    damaged run files found at the start (their runs were rerun, so they count in ``ran``)."""

    folder: Path
    table: Table
    total: int
    ran: int
    skipped: int
    failures: tuple[RunFailure, ...]
    figures: tuple[Path, ...] = ()
    damaged: tuple[DamagedRun, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.failures and len(set(self.table.column("run_id"))) == self.total


def default_folder(study: Study) -> Path:
    return DEFAULT_RESULTS / study.name


def run_study(study: Study | str | Path, out: str | Path | None = None, *, executor: str = "processes",
              workers: int | None = None, scheduler: str | None = None, quiet: bool = False,
              plot: FigureWriter | None = None, stream: TextIO | None = None,
              _run: Callable[[dict], dict] = run_one) -> StudyResult:
    """Run every unfinished run of ``study`` into the results folder ``out`` (default results/NAME).

    Runs already in the folder are skipped, so running again (or ``resume_study``) after an
    interruption continues where it stopped. ``executor``: "processes" (default, one worker
    per core, or ``workers``), "serial", or "dask": the cluster at ``scheduler`` (an address), or
    without one a local Dask cluster of ``workers`` processes (default one per core).
    ``out`` must be new, empty or an lpsim results folder (else StoreError). A damaged run file
    (truncated, empty, not a complete run) is reported on ``stream`` and its run is rerun.
    ``plot``: what draws the study's figures into ``out/figures`` (``lpsim.plots.plot_study``);
    None (or False) draws none.
    """
    refuse_in_starting_worker("run_study")
    plot = _figure_writer(plot)
    if not isinstance(study, Study):
        study = Study.from_toml(study)
    runner = make_executor(executor, workers=workers, scheduler=scheduler)  # bad options: no folder made
    folder = Path(out) if out is not None else default_folder(study)
    store = ResultsStore(folder)
    store.prepare(study)
    with store.session():
        return _execute(study, store, runner, quiet=quiet, plot=plot, stream=stream, run=_run)


def resume_study(folder: str | Path, *, executor: str = "processes", workers: int | None = None,
                 scheduler: str | None = None, quiet: bool = False, plot: FigureWriter | None = None,
                 stream: TextIO | None = None, _run: Callable[[dict], dict] = run_one) -> StudyResult:
    """Finish the study saved in ``folder`` (after Ctrl-C, kill -9 or a crash)."""
    refuse_in_starting_worker("resume_study")
    plot = _figure_writer(plot)
    store = ResultsStore(folder)
    study = store.load_study()
    with store.session():
        return _execute(study, store, make_executor(executor, workers=workers, scheduler=scheduler),
                        quiet=quiet, plot=plot, stream=stream, run=_run)


def load_results(folder: str | Path) -> Table:
    """The tidy table of a results folder, rebuilt from its run files (so always current)."""
    store = ResultsStore(folder)
    return store.compact(store.load_study())


def _figure_writer(plot) -> FigureWriter | None:
    if plot is None or plot is False:
        return None
    if not callable(plot):
        raise TypeError(f"plot must be a figure writer such as lpsim.plots.plot_study, or None; got {plot!r}")
    return plot


def _execute(study: Study, store: ResultsStore, executor, *, quiet: bool, plot: FigureWriter | None,
             stream: TextIO | None, run: Callable[[dict], dict]) -> StudyResult:
    stream = sys.stderr if stream is None else stream
    runs = study.runs()
    finished, damaged = store.scan(runs)
    for bad in damaged:  # even when quiet: this is about the user's data, not progress
        stream.write(f"{bad.path}: damaged run file ({bad.reason}); rerunning it\n")
    todo = [spec for spec in runs if spec.id not in finished]
    skipped = len(runs) - len(todo)
    by_id: dict[str, RunSpec] = {spec.id: spec for spec in todo}
    progress = Progress(len(runs), done=skipped, quiet=quiet, stream=stream)
    if not quiet:
        stream.write(f"study {study.name}: {len(runs)} runs, {skipped} already done, {len(todo)} to run "
                     f"({executor.name}) -> {store.root}\n")
    progress.start()
    failures: list[RunFailure] = []
    ran = 0
    finished_runs = executor.map_unordered(run, [spec.params for spec in todo])
    try:
        for params, result in finished_runs:
            spec = by_id[RunSpec(params=params).id]
            if result.get("status") == "error":
                failures.append(RunFailure(spec.id, spec.params, result.get("message", "")))
                progress.update(failed=True)
                continue
            store.write_run(spec, result, study.name)
            ran += 1
            progress.update()
    finally:
        # However the loop ends (Ctrl-C, SIGTERM, an error storing a run), the executor
        # stops its workers now, before the table is rebuilt.
        finished_runs.close()
        progress.close()
        table = store.compact(study)
    figures: tuple[Path, ...] = ()
    if plot is not None and study.plots and len(table):
        figures = tuple(plot(study, table, store.figures_dir))
    if not quiet:
        for failure in failures[:5]:
            stream.write(f"run {failure.run_id} failed: {failure.message}\n")
        if len(failures) > 5:
            stream.write(f"... and {len(failures) - 5} more failed runs\n")
        stream.write(f"table: {store.table_file} ({len(table)} rows)\n")
        summary = outcome_summary(table, study.outcome_rule)
        if summary:
            stream.write(summary + "\n")
        for path in figures:
            stream.write(f"figure: {path}\n")
    return StudyResult(folder=store.root, table=table, total=len(runs), ran=ran, skipped=skipped,
                       failures=tuple(failures), figures=figures, damaged=damaged)
