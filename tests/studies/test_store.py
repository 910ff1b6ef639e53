"""The results store and tidy table: atomic files, resume bookkeeping, CSV round trips, progress."""

import io
import json
import math
import os

import pytest

from lpsim.studies import ResultsStore, StoreError, Study, Table, run_study
from lpsim.studies.progress import Progress
from lpsim.studies.store import atomic_write


def fake_run(params):
    """A deterministic stand-in for training (the store does not care what produced a history)."""
    e = params["epochs"]
    base = 1.0 / (1 + params["seed"]) / (params["bits"] or 64)
    history = {"epoch": list(range(e + 1)), "grad_norm": [base * 0.5 ** k for k in range(e + 1)],
               "gap": [0.1 / 3 ** k for k in range(e + 1)], "scale": [math.nan] * (e + 1)}
    return {"status": "ok", "history": history, "problem": {"n_params": 4, "hessian_trace": 2.5}, "seconds": 0.0}


def study(**grid):
    return Study.create("store", problem={"n": 32, "d": 4}, train={"epochs": 2},
                        grid=grid or {"algorithm": ["sgd", "lpsgd"], "bits": [4, 8], "seed": [0, 1]})


def test_atomic_write_replaces_whole_and_leaves_no_temp(tmp_path):
    path = tmp_path / "f.txt"
    atomic_write(path, "old")
    atomic_write(path, "new" * 1000)
    assert path.read_text() == "new" * 1000
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_atomic_write_failure_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "f.txt"
    atomic_write(path, "old")

    def boom(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        atomic_write(path, "new")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_store_runs_each_run_once_and_resumes(tmp_path):
    s = study()
    calls = []

    def counting(params):
        calls.append(params["seed"])
        return fake_run(params)

    first = run_study(s, tmp_path, executor="serial", quiet=True, plot=False, _run=counting)
    assert first.ran == len(s.runs()) == 6 and first.skipped == 0 and first.complete
    again = run_study(s, tmp_path, executor="serial", quiet=True, plot=False, _run=counting)
    assert again.ran == 0 and again.skipped == 6 and len(calls) == 6
    assert again.table == first.table


def test_crash_leftovers_are_ignored_and_removed(tmp_path):
    s = study()
    store = ResultsStore(tmp_path)
    store.prepare(s)
    spec = s.runs()[0]
    # a crash between writing the temporary file and renaming it leaves only this behind:
    leftover = store.runs_dir / f".{spec.id}.json.123.abcd1234.tmp"
    leftover.write_text('{"id": "trunc')
    assert store.finished_ids() == set()
    result = run_study(s, tmp_path, executor="serial", quiet=True, plot=False, _run=fake_run)
    assert result.ran == 6 and not leftover.exists()


def test_table_is_tidy_in_grid_order_whatever_the_finishing_order(tmp_path):
    s = study()
    store = ResultsStore(tmp_path)
    store.prepare(s)
    for spec in reversed(s.runs()):  # finish in reverse order
        store.write_run(spec, fake_run(spec.params), s.name)
    table = store.compact(s)
    runs = s.runs()
    assert len(table) == len(runs) * 3  # epochs 0..2
    assert table.column("run_id")[::3] == [r.id for r in runs]
    assert table.column("epoch")[:3] == [0, 1, 2]
    # spec columns, metrics and problem constants are all columns
    for column in ("algorithm", "bits", "seed", "format", "grad_norm", "gap", "hessian_trace", "status", "seconds"):
        assert column in table.columns


def test_csv_round_trip_is_exact(tmp_path):
    s = study()
    run_study(s, tmp_path, executor="serial", quiet=True, plot=False, _run=fake_run)
    store = ResultsStore(tmp_path)
    table = store.table(s)
    back = Table.read_csv(store.table_file)
    assert back == table
    assert math.isnan(back.column("scale")[0])
    assert back.column("gap")[1] == 0.1 / 3  # floats read back bit for bit (written with repr)


def test_csv_readable_without_lpsim(tmp_path):
    import csv

    run_study(study(), tmp_path, executor="serial", quiet=True, plot=False, _run=fake_run)
    with open(tmp_path / "results.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["algorithm"] == "sgd" and rows[0]["bits"] == "" and float(rows[0]["grad_norm"]) > 0


def test_to_pandas(tmp_path):
    pd = pytest.importorskip("pandas")
    run_study(study(), tmp_path, executor="serial", quiet=True, plot=False, _run=fake_run)
    frame = Table.read_csv(tmp_path / "results.csv").to_pandas()
    assert isinstance(frame, pd.DataFrame) and len(frame) == 18


def test_failed_runs_are_reported_not_stored(tmp_path):
    s = study()

    def flaky(params):
        if params["seed"] == 1:
            return {"status": "error", "message": "ValueError: boom", "seconds": 0.0}
        return fake_run(params)

    result = run_study(s, tmp_path, executor="serial", quiet=True, plot=False, _run=flaky)
    assert len(result.failures) == 3 and result.ran == 3 and not result.complete
    assert "boom" in result.failures[0].message
    resumed = run_study(s, tmp_path, executor="serial", quiet=True, plot=False, _run=fake_run)
    assert resumed.ran == 3 and resumed.complete


def test_changed_study_reuses_matching_runs(tmp_path):
    run_study(study(), tmp_path, executor="serial", quiet=True, plot=False, _run=fake_run)
    bigger = study(algorithm=["sgd", "lpsgd"], bits=[4, 8], seed=[0, 1, 2])
    result = run_study(bigger, tmp_path, executor="serial", quiet=True, plot=False, _run=fake_run)
    assert result.skipped == 6 and result.ran == 3
    assert ResultsStore(tmp_path).load_study().to_json() == bigger.to_json()


def test_not_a_results_folder(tmp_path):
    with pytest.raises(StoreError, match="no study.json"):
        ResultsStore(tmp_path).load_study()


def test_run_file_holds_spec_and_versions(tmp_path):
    s = study()
    run_study(s, tmp_path, executor="serial", quiet=True, plot=False, _run=fake_run)
    spec = s.runs()[0]
    record = json.loads((tmp_path / "runs" / f"{spec.id}.json").read_text())
    assert record["id"] == spec.id and record["params"] == spec.params
    assert record["semantics"] == 1 and record["lpsim_version"]


def test_table_helpers():
    t = Table.from_records([{"run_id": "a", "epoch": 0, "x": 1.0}, {"run_id": "a", "epoch": 1, "x": 0.5},
                            {"run_id": "b", "epoch": 0, "x": 2.0}])
    assert t.final().column("x") == [0.5, 2.0]
    assert t.where(run_id="b").column("x") == [2.0]
    assert list(t.group(["run_id"])) == [("a",), ("b",)]
    nan = Table.from_records([{"x": float("nan")}])
    assert nan == Table.from_records([{"x": float("nan")}]) and nan != Table.from_records([{"x": 1.0}])
    with pytest.raises(KeyError, match="no column 'y'"):
        t.column("y")


# -- progress --------------------------------------------------------------------------------------
class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_progress_counts_and_eta():
    clock, out = FakeClock(), io.StringIO()
    progress = Progress(10, done=4, stream=out, clock=clock)
    progress.start()
    assert "4/10 runs" in out.getvalue() and "ETA ?" in out.getvalue()
    clock.now = 6.0
    progress.update()
    progress.update()  # 2 runs in 6 s this session -> 3 s a run, 4 left -> 12 s
    assert progress.eta() == pytest.approx(12.0)
    assert "ETA 0:12" in progress.text() and "6/10 runs" in progress.text()


def test_progress_quiet_prints_nothing():
    out = io.StringIO()
    progress = Progress(3, quiet=True, stream=out)
    progress.start()
    for _ in range(3):
        progress.update()
    progress.close()
    assert out.getvalue() == ""


def test_progress_in_a_log_prints_few_lines():
    clock, out = FakeClock(), io.StringIO()
    progress = Progress(1000, stream=out, clock=clock)
    for _ in range(1000):
        progress.update()
    lines = out.getvalue().splitlines()
    assert 10 <= len(lines) <= 12 and lines[-1].startswith("[########################] 1000/1000")


def test_progress_survives_a_closed_stream():
    class Closed(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

    progress = Progress(3, stream=Closed())
    progress.start()
    progress.update()
    assert progress.quiet and progress.done == 1


def test_profile_axis_reaches_training_and_is_recorded(tmp_path):
    # the profile is the integer loop's accumulator: float64 SVRG has none (one run, not two)
    s = Study.create("prof", problem={"n": 32, "d": 4}, train={"epochs": 2, "arithmetic": "integer"},
                     precision={"data_format": "int8"},
                     grid={"algorithm": ["svrg", "lpsgd"], "profile": ["exact", "vnni_int8_int32"]})
    assert len(s.runs()) == 3
    result = run_study(s, tmp_path, executor="serial", quiet=True, plot=False)
    assert result.complete and result.table.unique("profile") == [None, "exact", "vnni_int8_int32"]
