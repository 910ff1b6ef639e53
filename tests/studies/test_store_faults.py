"""The results folder under faults: damaged run files, concurrent lpsim processes on one folder,
a results folder pointed at someone else's files, runs whose every metric overflowed."""

import io
import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lpsim.studies import ResultsStore, StoreError, Study, Table, load_results, resume_study, run_study
from lpsim.studies.runner import run_status
from lpsim.studies.store import run_record_problem

from ..cli.test_cli import lpsim
from .test_store import fake_run, study

# The ways a run file can be damaged: cut short by a failing disk or a copy, emptied, overwritten
# with binary data, or replaced by JSON that is not a complete run.
DAMAGES = {
    "truncated": lambda text: text[: len(text) // 2],
    "empty": lambda text: "",
    "binary": lambda text: b"\x00\xff\xfe\x89PNG\r\n\x1a\n".decode("latin-1") * 4,
    "missing_keys": lambda text: '{"id": "x"}',
    "only_its_id": lambda text: json.dumps({"id": json.loads(text)["id"]}),
    "not_an_object": lambda text: "[1, 2, 3]",
    "ragged_history": lambda text: _edit(text, lambda r: r["history"]["grad_norm"].pop()),
    "other_params": lambda text: _edit(text, lambda r: r["params"].update(seed=99)),
}


def _edit(text, change):
    record = json.loads(text)
    change(record)
    return json.dumps(record)


def damage(path, how):
    text = path.read_text()
    path.write_bytes(DAMAGES[how](text).encode("latin-1"))


def finished_study(tmp_path):
    s = study()
    first = run_study(s, tmp_path, executor="serial", quiet=True, plot=False, _run=fake_run)
    assert first.complete
    return s, first.table


# -- damaged run files are rerun and reported --------------------------------------------------------
@pytest.mark.parametrize("how", sorted(DAMAGES))
@pytest.mark.parametrize("again", ["run", "resume"])
def test_damaged_run_file_is_reported_and_rerun(tmp_path, how, again):
    s, reference = finished_study(tmp_path)
    victim = s.runs()[2]
    path = tmp_path / "runs" / f"{victim.id}.json"
    damage(path, how)

    calls, out = [], io.StringIO()

    def counting(params):
        calls.append(params)
        return fake_run(params)

    options = dict(executor="serial", quiet=True, plot=False, stream=out, _run=counting)
    result = run_study(s, tmp_path, **options) if again == "run" else resume_study(tmp_path, **options)
    assert calls == [victim.params] and result.ran == 1 and result.skipped == len(s.runs()) - 1
    assert f"{path}: damaged run file" in out.getvalue() and "rerunning it" in out.getvalue()
    assert [d.path for d in result.damaged] == [path]
    assert result.complete and result.table.drop("seconds") == reference.drop("seconds")
    assert Table.read_csv(tmp_path / "results.csv") == result.table  # the CSV is current, not stale
    assert json.loads(path.read_text())["id"] == victim.id  # the file is whole again

    quiet = io.StringIO()
    settled = resume_study(tmp_path, executor="serial", quiet=True, plot=False, stream=quiet, _run=counting)
    assert settled.ran == 0 and not settled.damaged and quiet.getvalue() == ""


def test_a_real_run_record_is_valid_and_every_prefix_of_it_is_damaged(tmp_path):
    s = Study.create("real", problem={"n": 32, "d": 4}, train={"epochs": 2}, grid={"algorithm": ["halp"]})
    run_study(s, tmp_path, executor="serial", quiet=True, plot=False)
    (spec,) = s.runs()
    text = (tmp_path / "runs" / f"{spec.id}.json").read_text()
    assert run_record_problem(json.loads(text), spec.id) == ""
    store = ResultsStore(tmp_path)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(cut=st.integers(0, len(text) - 1))
    def check(cut):
        (tmp_path / "runs" / f"{spec.id}.json").write_text(text[:cut])
        done, damaged = store.scan(s.runs())
        assert done == set() and len(damaged) == 1

    check()


def test_load_results_leaves_a_damaged_run_out_with_a_warning_not_a_key_error(tmp_path):
    s, reference = finished_study(tmp_path)
    victim = s.runs()[0]
    (tmp_path / "runs" / f"{victim.id}.json").write_text('{"id": "x"}')
    with pytest.warns(UserWarning, match=rf"{victim.id}\.json: damaged run file .*lpsim resume"):
        table = load_results(tmp_path)
    assert victim.id not in table.column("run_id")
    assert len(table) == len(reference) - 3  # three epochs of the one damaged run
    assert Table.read_csv(tmp_path / "results.csv") == table


def test_cli_reruns_and_reports_damaged_run_files(tmp_path, small_study_file):
    out = tmp_path / "results"
    lpsim("run", small_study_file, "--out", out, "--executor", "serial", "--no-plot", "--quiet")
    reference = Table.read_csv(out / "results.csv")
    runs = Study.from_toml(small_study_file).runs()
    truncated, emptied, keyless = (out / "runs" / f"{spec.id}.json" for spec in runs[:3])
    truncated.write_text(truncated.read_text()[:40])
    emptied.write_bytes(b"")
    keyless.write_text('{"id": "x"}')

    plotted = lpsim("plot", out, "--format", "svg", "--out", tmp_path / "figs")  # plotting what is there
    assert "damaged run file" in plotted.stderr and "Traceback" not in plotted.stderr

    resumed = lpsim("resume", out, "--executor", "serial", "--no-plot", "--quiet")
    for path in (truncated, emptied, keyless):
        assert f"{path}: damaged run file" in resumed.stderr
    assert resumed.stderr.count("rerunning it") == 3
    assert Table.read_csv(out / "results.csv").drop("seconds") == reference.drop("seconds")

    binary = out / "runs" / f"{runs[5].id}.json"
    binary.write_bytes(bytes(range(256)))
    rerun = lpsim("run", small_study_file, "--out", out, "--executor", "serial", "--no-plot")
    assert f"{binary}: damaged run file (is not text" in rerun.stderr
    assert "10 runs, 9 already done, 1 to run" in rerun.stderr
    assert Table.read_csv(out / "results.csv").drop("seconds") == reference.drop("seconds")


# -- concurrent lpsim processes on one folder ---------------------------------------------------------
HOLDER = textwrap.dedent(
    """\
    import sys
    from lpsim.studies import ResultsStore
    with ResultsStore(sys.argv[1]).session():
        print("holding", flush=True)
        sys.stdin.read()
    """
)


def test_temporaries_are_swept_only_when_no_other_process_holds_the_folder(tmp_path):
    s = study()
    store = ResultsStore(tmp_path)
    store.prepare(s)
    users_own = tmp_path / ".notes.tmp"  # not a name lpsim writes: never deleted
    users_own.write_text("mine")

    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "holding\n"
        # as if the holder had written it and were about to rename it:
        leftover = store.runs_dir / f".{s.runs()[0].id}.json.{holder.pid}.0123abcd.tmp"
        leftover.write_text('{"id": "trunc')
        store.remove_temporaries()
        assert leftover.exists()  # it may be the holder's, about to be renamed
        result = run_study(s, tmp_path, executor="serial", quiet=True, plot=False, _run=fake_run)
        assert result.complete and leftover.exists()
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
        holder.stdout.close()
    assert holder.returncode == 0
    store.remove_temporaries()  # alone now: the leftover is a crash's
    assert not leftover.exists() and users_own.read_text() == "mine"


CONCURRENT_STUDY = textwrap.dedent(
    """\
    [study]
    name = "concurrent"

    [problem]
    n = 32
    d = 4

    [train]
    epochs = 2

    [grid]
    seed = [0, 1, 2, 3]
    algorithm = ["lpsgd", "halp"]
    bits = [3, 4, 5, 6, 8]
    """
)


def _temporaries(folder):
    try:
        return [name for name in os.listdir(folder / "runs") if name.endswith(".tmp")]
    except FileNotFoundError:
        return []


def stop_while_writing(proc, folder, timeout=120.0):
    """SIGSTOP ``proc`` at an instant when it has written a run's temporary file but not yet
    renamed it (the window a concurrent start-up sweep must not touch); return that file's name."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if _temporaries(folder):
            os.kill(proc.pid, signal.SIGSTOP)
            caught = _temporaries(folder)
            if caught:
                return caught[0]
            os.kill(proc.pid, signal.SIGCONT)
    raise AssertionError("never caught the first process between writing and renaming a run file")


# The CLI on a slow disk: each rename waits 20 ms, so the instant between writing a temporary
# file and renaming it is wide enough to stop the process there on any file system.
SLOW_RENAME_CLI = textwrap.dedent(
    """\
    import os, sys, time
    rename = os.replace
    def slow_replace(src, dst):
        time.sleep(0.02)
        rename(src, dst)
    os.replace = slow_replace
    from lpsim.cli import main
    sys.exit(main(sys.argv[1:]))
    """
)


def test_concurrent_runs_on_one_folder_never_abort_each_other(tmp_path):
    path = tmp_path / "concurrent.toml"
    path.write_text(CONCURRENT_STUDY)
    out = tmp_path / "shared"
    args = ["run", path, "--out", out, "--executor", "serial", "--no-plot"]
    first = subprocess.Popen([sys.executable, "-c", SLOW_RENAME_CLI, *map(str, args)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        pending = stop_while_writing(first, out)
        second = lpsim(*args, check=False)  # starts (and sweeps) while the first is mid-write
        survived = (out / "runs" / pending).exists()
    finally:
        os.kill(first.pid, signal.SIGCONT)
        _, first_err = first.communicate(timeout=300)
    assert first.returncode == 0, first_err
    assert second.returncode == 0, second.stderr
    assert survived
    total = len(Study.from_toml(path).runs())
    reference = run_study(Study.from_toml(path), tmp_path / "alone", executor="serial", quiet=True, plot=False)
    assert Table.read_csv(out / "results.csv").drop("seconds") == reference.table.drop("seconds")
    assert sorted(os.listdir(out / "runs")) == sorted(f"{r.id}.json" for r in Study.from_toml(path).runs())
    assert len(reference.table.unique("run_id")) == total


# -- a results folder must be ours ---------------------------------------------------------------------
def test_run_refuses_a_non_empty_folder_that_is_not_a_results_folder(tmp_path, small_study_file):
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "results.csv").write_text("their,data\n1,2\n")
    (theirs / ".draft.json.123.abcdef01.tmp").write_text("their draft")
    before = {p.name: p.read_bytes() for p in theirs.iterdir()}

    result = lpsim("run", small_study_file, "--out", theirs, "--executor", "serial", check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{theirs}: refusing to use this folder" in result.stderr
    assert "not an lpsim results folder" in result.stderr and "results.csv" in result.stderr
    assert {p.name: p.read_bytes() for p in theirs.iterdir()} == before

    with pytest.raises(StoreError, match="not empty .*not an lpsim results folder"):
        run_study(study(), theirs, executor="serial", quiet=True, plot=False, _run=fake_run)
    assert {p.name: p.read_bytes() for p in theirs.iterdir()} == before


def test_run_accepts_an_empty_folder_and_its_own_results_folder(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run_study(study(), empty, executor="serial", quiet=True, plot=False, _run=fake_run).complete
    (empty / "notes.txt").write_text("the user's notes next to the results are fine")
    again = run_study(study(seed=[0, 1, 2]), empty, executor="serial", quiet=True, plot=False, _run=fake_run)
    assert again.complete and (empty / "notes.txt").exists()
    only_layout = tmp_path / "interrupted_at_start"  # a start killed before study.json was written
    (only_layout / "runs").mkdir(parents=True)
    assert run_study(study(), only_layout, executor="serial", quiet=True, plot=False, _run=fake_run).complete


def test_out_that_is_a_file_is_refused(tmp_path):
    path = tmp_path / "a_file"
    path.write_text("x")
    with pytest.raises(StoreError, match="not a folder"):
        run_study(study(), path, executor="serial", quiet=True, plot=False, _run=fake_run)


# -- a run whose every metric is NaN or inf diverged ------------------------------------------------
def test_overflowing_problem_gives_diverged_not_ok(tmp_path):
    s = Study.create("overflow", problem={"n": 32, "d": 4, "noise": 1e300}, train={"epochs": 2},
                     grid={"algorithm": ["sgd", "svrg", "lpsgd", "halp"]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's overflow warnings: expected here
        result = run_study(s, tmp_path, executor="serial", quiet=True, plot=False)
    final = result.table.final()
    assert final.column("status") == ["diverged"] * 4
    for record in final.records():
        assert not any(math.isfinite(record[m]) for m in ("gap", "grad_norm", "dist", "loss"))


finite = st.floats(allow_nan=False, allow_infinity=False)
non_finite = st.sampled_from([math.inf, -math.inf, math.nan])


@given(metrics=st.dictionaries(st.sampled_from(["gap", "grad_norm", "dist", "loss"]),
                               st.lists(finite | non_finite, min_size=1, max_size=1), min_size=1),
       status=st.sampled_from(["ok", "diverged", "converged"]))
def test_run_status_is_diverged_exactly_when_no_final_metric_is_finite(metrics, status):
    history = {"epoch": [0], **metrics, "scale": [1.0]}
    new_status, message = run_status(status, "", history)
    none_finite = not any(math.isfinite(values[-1]) for values in metrics.values())
    if status == "ok" and none_finite:
        assert new_status == "diverged" and "NaN or inf" in message
    else:
        assert (new_status, message) == (status, "")
