"""Serial, local-process and Dask executors give identical tables (real training runs)."""

import pytest

from lpsim.studies import ProcessExecutor, Study, make_executor, run_study


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


def test_executor_arguments_are_checked():
    with pytest.raises(ValueError, match="executor must be one of serial, processes, dask"):
        make_executor("threads")
    with pytest.raises(ValueError, match="scheduler address"):
        make_executor("dask")
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        ProcessExecutor(0)
