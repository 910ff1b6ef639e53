"""run_study draws figures through the writer its caller passes (studies never import plots)."""

import math

import pytest

from lpsim.plots import plot_study
from lpsim.studies import Study, resume_study, run_study


def _history_run(params):
    """A stand-in for training: the driver only moves histories from the runner to the store."""
    e = params["epochs"]
    history = {"epoch": list(range(e + 1)), "grad_norm": [0.5 ** k / (params["bits"] or 64) for k in range(e + 1)],
               "scale": [math.nan] * (e + 1)}
    return {"status": "ok", "history": history, "problem": {"n_params": 4}, "seconds": 0.0}


def _study():
    return Study.create("driver", problem={"n": 16, "d": 3}, train={"epochs": 2},
                        grid={"algorithm": ["svrg", "lpsgd"], "bits": [4, 8]},
                        plots=[{"kind": "error_vs_bits", "metric": "grad_norm"}])


def test_the_given_writer_draws_the_figures_from_the_finished_table(tmp_path):
    calls = []

    def writer(study, table, folder):
        calls.append((study.name, len(table), folder))
        return plot_study(study, table, folder, ("svg",))

    result = run_study(_study(), tmp_path, executor="serial", quiet=True, plot=writer, _run=_history_run)
    assert calls == [("driver", len(result.table), tmp_path / "figures")]
    assert result.figures == (tmp_path / "figures" / "error_vs_bits.svg",)
    assert b"<svg" in result.figures[0].read_bytes()[:500]


@pytest.mark.parametrize("plot", [None, False])
def test_no_writer_draws_no_figures(tmp_path, plot):
    result = run_study(_study(), tmp_path, executor="serial", quiet=True, plot=plot, _run=_history_run)
    assert result.figures == () and result.ran == 3 and not (tmp_path / "figures").exists()


@pytest.mark.parametrize("entry", ["run", "resume"])
def test_a_plot_that_is_not_a_writer_fails_before_anything_runs(tmp_path, entry):
    ran = []
    if entry == "resume":
        run_study(_study(), tmp_path, executor="serial", quiet=True, _run=lambda p: ran.append(p) or _history_run(p))
    with pytest.raises(TypeError, match="plot must be a figure writer such as lpsim.plots.plot_study"):
        if entry == "run":
            run_study(_study(), tmp_path / "new", executor="serial", quiet=True, plot=True, _run=ran.append)
        else:
            resume_study(tmp_path, executor="serial", quiet=True, plot="png", _run=ran.append)
    assert not (tmp_path / "new").exists() and len(ran) == (3 if entry == "resume" else 0)
