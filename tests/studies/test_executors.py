"""Serial, local-process and Dask executors give identical tables (real training runs); their
processes end with the study; warnings inside runs do not cut the progress line."""

import io
import os
import re
import signal
import subprocess
import sys
import textwrap
import warnings

import pytest

from lpsim.studies import DaskExecutor, ProcessExecutor, Study, make_executor, run_study

from ..live_processes import in_group, kill_group, needs_proc, wait_until_gone
from . import warning_runs
from .warning_runs import WARNING_TEXT, run_with_a_warning


def without_timing(table):
    return table.drop("seconds")


@pytest.fixture(scope="module")
def serial(tmp_path_factory, small_study_text):
    """The small study run serially once: the reference both other executors must match."""
    import tomllib

    study = Study.from_dict(tomllib.loads(small_study_text))
    result = run_study(study, tmp_path_factory.mktemp("serial"), executor="serial", quiet=True, plot=False)
    assert result.complete and len(result.table) == 10 * 4
    return study, result


def test_processes_equal_serial(tmp_path, serial):
    study, reference = serial
    procs = run_study(study, tmp_path / "procs", executor="processes", workers=2, quiet=True, plot=False)
    assert procs.complete
    assert without_timing(procs.table) == without_timing(reference.table)
    assert (tmp_path / "procs" / "results.csv").read_text().count("\n") == len(procs.table) + 1


def test_dask_equals_serial(tmp_path, serial):
    distributed = pytest.importorskip("distributed")
    study, reference = serial
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        dask = run_study(study, tmp_path / "dask", executor="dask", scheduler=cluster.scheduler_address,
                         quiet=True, plot=False)
    assert dask.complete
    assert without_timing(dask.table) == without_timing(reference.table)


def test_local_dask_cluster_equals_serial(tmp_path, serial):
    """executor "dask" without a scheduler starts a real local cluster for the study and stops it after."""
    pytest.importorskip("distributed")
    study, reference = serial
    dask = run_study(study, tmp_path / "dask", executor="dask", workers=2, quiet=True, plot=False)
    assert dask.complete
    assert without_timing(dask.table) == without_timing(reference.table)


def test_executor_arguments_are_checked():
    with pytest.raises(ValueError, match="executor must be one of serial, processes, dask"):
        make_executor("threads")
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        ProcessExecutor(0)
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        make_executor("dask", workers=0)
    for address in ("notaurl", "tcp://", "127.0.0.1", "tcp://host:port", "http://host:8786", ""):
        with pytest.raises(ValueError, match=f"scheduler must be a Dask scheduler address .*got {address!r}"):
            make_executor("dask", scheduler=address)
    for name in ("processes", "serial"):
        with pytest.raises(ValueError, match=f"needs executor 'dask'; the {name} executor runs on this machine"):
            make_executor(name, scheduler="tcp://127.0.0.1:8786")
    with pytest.raises(ValueError, match="workers does not apply to the serial executor"):
        make_executor("serial", workers=2)
    with pytest.raises(ValueError, match="workers applies to the local Dask cluster only"):
        DaskExecutor("tcp://127.0.0.1:8786", workers=2)
    for address in ("tcp://127.0.0.1:8786", "127.0.0.1:8786", "tls://sched.example.org:8786", "tcp://[::1]:8786"):
        assert make_executor("dask", scheduler=address).scheduler == address
    assert make_executor("dask").scheduler is None  # a local cluster


def test_bad_executor_options_make_no_results_folder(tmp_path, serial):
    study, _ = serial
    with pytest.raises(ValueError, match="needs executor 'dask'"):
        run_study(study, tmp_path / "r", executor="processes", scheduler="tcp://127.0.0.1:8786")
    assert not (tmp_path / "r").exists()


class Terminal(io.StringIO):
    """What a terminal would receive: progress redraws in place, as on a real one."""

    def isatty(self):
        return True


@pytest.mark.parametrize("executor", ["serial", "processes"])
def test_warnings_do_not_cut_the_progress_line(tmp_path, monkeypatch, serial, executor):
    study, _ = serial
    terminal = Terminal()

    def show_on_terminal(message, category, filename, lineno, file=None, line=None):
        terminal.write(warnings.formatwarning(message, category, filename, lineno, line))

    monkeypatch.setattr(warnings, "showwarning", show_on_terminal)  # stands for stderr, the terminal
    workers = {"workers": 2} if executor == "processes" else {}
    result = run_study(study, tmp_path / executor, executor=executor, plot=False, stream=terminal,
                       _run=run_with_a_warning, **workers)
    assert result.complete
    assert warnings.showwarning is show_on_terminal  # the progress line gave the display back
    segments = re.split(r"[\r\n]", terminal.getvalue())
    shown = [i for i, text in enumerate(segments) if WARNING_TEXT in text]
    assert shown, "the warning from inside the runs was not shown"
    for i in shown:  # on a line of its own: not after part of a progress line, not cut by one
        assert segments[i].startswith(f"{warning_runs.__file__}:"), segments[i]
        assert "/10 runs" not in segments[i]
        redrawn = next(text for text in segments[i + 1:] if text.strip() and not text.startswith(" "))
        assert redrawn.startswith("[") and "/10 runs" in redrawn  # the progress line comes back below it


GUARDED = textwrap.dedent(
    """\
    from lpsim.studies import run_study

    if __name__ == "__main__":
        result = run_study({study!r}, {out!r}, workers=2, plot=False, quiet=True)
        print("runs stored:", len(result.table))
    """
)


def test_script_without_main_guard_is_told_to_add_one(tmp_path, small_study_file):
    """Spawned workers import the main script; one that runs a study at its top level gets told why it
    fails and what to write, instead of a bare BrokenProcessPool."""
    unguarded = GUARDED.replace('if __name__ == "__main__":\n    ', "").replace("\n    print", "\nprint")
    script = tmp_path / "unguarded.py"
    script.write_text(unguarded.format(study=str(small_study_file), out=str(tmp_path / "r1")))
    failed = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert failed.returncode != 0
    last_line = failed.stderr.strip().splitlines()[-1]
    assert f"If {script} calls run_study or resume_study at its top level" in last_line
    assert 'put the call under `if __name__ == "__main__":`' in last_line
    # each worker refuses to start a study of its own, saying why
    assert "run_study was called while a worker process imported the main script" in failed.stderr

    script.write_text(GUARDED.format(study=str(small_study_file), out=str(tmp_path / "r2")))
    ran = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == f"runs stored: {10 * 4}"


WATCHED_CHILD = textwrap.dedent(
    """\
    import multiprocessing, os, threading, time
    from lpsim.studies import executors

    def child():
        # only the portable watch on the parent's id, not Linux's parent-death signal
        threading.Thread(target=executors._watch_parent, args=(os.getppid(),), daemon=True).start()
        print("watching", flush=True)
        time.sleep(600)

    if __name__ == "__main__":
        multiprocessing.get_context("spawn").Process(target=child).start()
        time.sleep(600)
    """
)


@pytest.mark.skipif(needs_proc, reason="reads the process table from /proc")
def test_a_worker_watching_its_parent_exits_when_the_parent_is_killed(tmp_path):
    """The watch that ends workers where the kernel cannot (no prctl outside Linux): kill -9 the
    parent of a worker that sleeps for ten minutes; the worker is gone within seconds."""
    script = tmp_path / "parent.py"
    script.write_text(WATCHED_CHILD)
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                              start_new_session=True)
    try:
        assert parent.stdout.readline().strip() == "watching"
        assert len(in_group(parent.pid)) >= 2  # the parent and its sleeping worker (and a resource tracker)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        assert not wait_until_gone(lambda: in_group(parent.pid)), "the worker outlived its parent"
    finally:
        kill_group(parent.pid)
        parent.wait()
