"""Serial, local-process and Dask executors give identical tables (real training runs)."""

import pytest

from lpsim.studies import ProcessExecutor, Study, make_executor, run_study


def without_timing(table):
    return table.drop("seconds")


def test_processes_equal_serial(tmp_path, small_study_file):
    study = Study.from_toml(small_study_file)
    serial = run_study(study, tmp_path / "serial", executor="serial", quiet=True, plot=False)
    procs = run_study(study, tmp_path / "procs", executor="processes", workers=2, quiet=True, plot=False)
    assert serial.complete and procs.complete and len(serial.table) == 10 * 4
    assert without_timing(procs.table) == without_timing(serial.table)
    assert (tmp_path / "serial" / "results.csv").read_text().count("\n") == len(serial.table) + 1


def test_dask_equals_serial(tmp_path, small_study_file):
    distributed = pytest.importorskip("distributed")
    study = Study.from_toml(small_study_file)
    serial = run_study(study, tmp_path / "serial", executor="serial", quiet=True, plot=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        dask = run_study(study, tmp_path / "dask", executor="dask", scheduler=cluster.scheduler_address,
                         quiet=True, plot=False)
    assert dask.complete
    assert without_timing(dask.table) == without_timing(serial.table)


def test_executor_arguments_are_checked():
    with pytest.raises(ValueError, match="executor must be one of serial, processes, dask"):
        make_executor("threads")
    with pytest.raises(ValueError, match="scheduler address"):
        make_executor("dask")
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        ProcessExecutor(0)
