"""The lpsim CLI as a user runs it: a subprocess from study file to table and figure; kill -9 and resume."""

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from lpsim.studies import Study, Table, run_study

from ..live_processes import in_group, kill_group, needs_proc, wait_until_gone


def lpsim(*args, check=True, timeout=300, **kwargs):
    result = subprocess.run([sys.executable, "-m", "lpsim.cli", *map(str, args)], capture_output=True, text=True,
                            timeout=timeout, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"lpsim {' '.join(map(str, args))} exited {result.returncode}:\n{result.stderr}")
    return result


def test_run_produces_table_and_figure(tmp_path, small_study_file):
    out = tmp_path / "results"
    result = lpsim("run", small_study_file, "--out", out, "--executor", "serial")
    assert "10 runs, 0 already done, 10 to run" in result.stderr
    assert "10/10 runs" in result.stderr  # the progress line
    table = Table.read_csv(out / "results.csv")
    assert len(table) == 10 * 4 and set(table.unique("algorithm")) == {"svrg", "lpsgd", "halp"}
    png = out / "figures" / "error_vs_bits.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "figures" / "error_vs_bits.pdf").read_bytes()[:5] == b"%PDF-"
    assert f"figure: {png}" in result.stderr

    again = lpsim("resume", out, "--quiet")
    assert again.stderr == ""  # nothing left to do, and quiet

    plotted = lpsim("plot", out, "--format", "svg", "--out", tmp_path / "figs")
    svg = tmp_path / "figs" / "error_vs_bits.svg"
    assert plotted.stdout.strip() == str(svg) and b"<svg" in svg.read_bytes()[:500]


def test_malformed_study_is_rejected_with_line_and_allowed_values(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[study]\nname = "bad"\n\n[grid]\nrounding = ["stochastic", "banker"]\n')
    result = lpsim("run", bad, "--out", tmp_path / "r", check=False)
    assert result.returncode == 2
    assert "bad.toml, line 5: [grid] rounding" in result.stderr and "nearest_even" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "r").exists()


def test_cli_usage_errors(tmp_path):
    result = lpsim("resume", tmp_path / "nowhere", check=False)
    assert result.returncode == 2 and "no study.json" in result.stderr
    result = lpsim("run", tmp_path / "x.toml", "--out", tmp_path / "r", "--workers", "0", check=False)
    assert result.returncode == 2 and "--workers must be a positive integer, got 0" in result.stderr
    assert "avx2" in lpsim("profiles").stdout or "no hardware profiles" in lpsim("profiles").stdout


def test_scheduler_options_fail_fast_and_name_the_address(tmp_path, small_study_file):
    out = tmp_path / "r"
    # a scheduler with a local executor would be ignored: refused before anything runs
    result = lpsim("run", small_study_file, "--out", out, "--executor", "processes", "--scheduler",
                   "tcp://127.0.0.1:8786", check=False)
    assert result.returncode == 2 and not out.exists()
    assert "--scheduler tcp://127.0.0.1:8786 is the address of a Dask cluster, but --executor processes" in result.stderr
    result = lpsim("run", small_study_file, "--out", out, "--scheduler", "tcp://127.0.0.1:8786", "--workers", "2",
                   check=False)
    assert result.returncode == 2 and "--workers" in result.stderr and not out.exists()

    result = lpsim("run", small_study_file, "--out", out, "--scheduler", "notaurl", check=False, timeout=30)
    assert result.returncode == 2 and not out.exists()
    assert "'notaurl'" in result.stderr and "tcp://127.0.0.1:8786" in result.stderr
    assert "Traceback" not in result.stderr

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    result = lpsim("run", small_study_file, "--out", out, "--scheduler", address, check=False, timeout=30)
    assert result.returncode == 2
    assert f"cannot reach the Dask scheduler at {address}" in result.stderr and "Traceback" not in result.stderr


KILL_STUDY = textwrap.dedent(
    """\
    [study]
    name = "killme"

    [problem]
    n = 48
    d = 4

    [train]
    epochs = 3

    [grid]
    seed = [0, 1, 2]
    algorithm = ["lpsgd", "halp"]
    bits = [3, 4, 5, 6, 7, 8, 10, 12]
    """
)


def count_runs(folder):
    runs = folder / "runs"
    return len([p for p in runs.iterdir() if p.name.endswith(".json") and not p.name.startswith(".")]) \
        if runs.exists() else 0


def kill_after(args, folder, finished, timeout=120.0):
    """Start the CLI, SIGKILL it as soon as ``finished`` runs are stored; return the count at the kill."""
    # its own process group: every process it starts can be found, even after it is gone
    proc = subprocess.Popen([sys.executable, "-m", "lpsim.cli", *map(str, args)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + timeout
    try:
        while count_runs(folder) < finished:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("the study ended before the kill")
            time.sleep(0.002)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        if not needs_proc:
            assert not wait_until_gone(lambda: in_group(proc.pid)), "processes outlived the killed CLI"
    finally:
        proc.wait()
        kill_group(proc.pid)
    assert proc.returncode == -signal.SIGKILL
    return count_runs(folder)


def test_resume_after_kill_loses_and_duplicates_nothing(tmp_path):
    path = tmp_path / "killme.toml"
    path.write_text(KILL_STUDY)
    study = Study.from_toml(path)
    total = len(study.runs())
    out = tmp_path / "interrupted"

    at_first_kill = kill_after(["run", path, "--out", out, "--executor", "serial", "--no-plot"], out, 3)
    assert 3 <= at_first_kill < total
    at_second_kill = kill_after(["resume", out, "--executor", "serial", "--no-plot"], out, at_first_kill + 5)
    assert at_first_kill + 5 <= at_second_kill < total
    result = lpsim("resume", out, "--executor", "serial", "--no-plot")
    assert f"{total} runs, {at_second_kill} already done, {total - at_second_kill} to run" in result.stderr

    reference = run_study(study, tmp_path / "reference", executor="serial", quiet=True, plot=False)
    resumed = Table.read_csv(out / "results.csv")
    assert len(resumed) == len(reference.table) == total * 4
    assert resumed.drop("seconds") == Table.read_csv(tmp_path / "reference" / "results.csv").drop("seconds")
    assert sorted(os.listdir(out / "runs")) == sorted(f"{r.id}.json" for r in study.runs())  # no temp files


@pytest.mark.slow
def test_resume_after_kill_with_processes(tmp_path):
    path = tmp_path / "killme.toml"
    path.write_text(KILL_STUDY)
    study = Study.from_toml(path)
    out = tmp_path / "interrupted"
    kill_after(["run", path, "--out", out, "--workers", "2", "--no-plot"], out, 4)
    lpsim("resume", out, "--no-plot", "--quiet")
    reference = run_study(study, tmp_path / "reference", executor="serial", quiet=True, plot=False)
    assert Table.read_csv(out / "results.csv").drop("seconds") == reference.table.drop("seconds")


# Runs of a few seconds each: the CLI is stopped while its workers are busy.
SLOW_STUDY = textwrap.dedent(
    """\
    [study]
    name = "slow"

    [problem]
    n = 400
    d = 8

    [train]
    epochs = 60

    [grid]
    seed = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    algorithm = ["halp"]
    bits = [8]
    """
)


@pytest.mark.skipif(needs_proc, reason="reads the process table from /proc")
@pytest.mark.parametrize(("executor", "stop"), [("processes", "SIGTERM"), ("processes", "SIGKILL"),
                                                ("processes", "SIGINT to the group"), ("processes", "SIGHUP"),
                                                ("dask", "SIGTERM"),
                                                ("dask", "SIGKILL"), ("dask", "SIGINT to the group")])
def test_no_process_outlives_the_cli(tmp_path, executor, stop):
    """SIGTERM, kill -9, Ctrl-C (SIGINT to the terminal's whole process group) or a closed terminal
    (SIGHUP) while workers are busy: every process the CLI started ends within seconds, so a pipe
    reader (`| tee log`) sees EOF."""
    path = tmp_path / "slow.toml"
    path.write_text(SLOW_STUDY)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "lpsim.cli", "run", path, "--out", out, "--executor", executor,
                             "--workers", "2", "--no-plot"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while count_runs(out) < 1:
            assert proc.poll() is None and time.monotonic() < deadline, "the study ended before the signal"
            time.sleep(0.05)
        started = in_group(proc.pid) - {proc.pid}
        assert len(started) >= 2  # the two workers (and the resource tracker), busy with runs
        if stop == "SIGINT to the group":
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, getattr(signal, stop))
        try:
            stdout, stderr = proc.communicate(timeout=30)  # EOF on both pipes: nobody holds them
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the CLI's pipes are still open after {stop}: "
                                 f"processes {sorted(in_group(proc.pid))} hold them") from None
        assert not wait_until_gone(lambda: in_group(proc.pid)), f"processes outlived the CLI after {stop}"
    finally:
        kill_group(proc.pid)
        proc.wait()
    if stop == "SIGKILL":
        assert proc.returncode == -signal.SIGKILL
        return
    signum = getattr(signal, stop.split()[0])
    assert proc.returncode == 128 + signum
    assert f"interrupted; finished runs are kept, resume with `lpsim resume {out}`" in stderr
    assert "Traceback" not in stderr
    assert 1 <= count_runs(out) < 10
