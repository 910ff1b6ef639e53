"""Figures from synthetic results tables: what is drawn, labelled and saved (no training here)."""

import math
from pathlib import Path

import pytest

from lpsim.formats.registry import get_format

from lpsim.plots import bits_needed, convergence, draw, error_vs_bits, plot_study
from lpsim.plots._common import line_columns
from lpsim.plots.reference import SR_VARIANCE, halp_bits_reference, lpsgd_floor
from lpsim.studies import PARAMS, Study, Table

BITS = [2, 4, 6, 8, 10]
SEEDS = [0, 1, 2]


def row(**values):
    base = {name: None for name in PARAMS}
    base.update(status="ok", hessian_trace=4.0, n_params=8, step_size=0.05, dataset="least_squares",
                model="least_squares")
    base.update(values)
    return base


def synthetic_table(kappas=(10.0,)) -> Table:
    """LP-SGD and HALP at each bit width, SVRG at full precision; three seeds, three epochs."""
    rows = []
    for kappa in kappas:
        for alg in ("svrg", "lpsgd", "halp"):
            for bits in ([None] if alg == "svrg" else BITS):
                for seed in SEEDS:
                    run = f"{alg}-{bits}-{seed}-{kappa}"
                    delta = 2.0 ** -(bits - 1) if bits else None
                    for epoch in range(3):
                        if alg == "lpsgd":
                            value = 2 ** -bits * (1 + 0.1 * seed)
                        elif alg == "halp":
                            value = 1e-10 * (kappa if bits < 8 else 1) * (1 + seed)
                        else:
                            value = 1e-10 * (1 + seed)
                        rows.append(row(run_id=run, algorithm=alg, bits=bits, seed=seed, epoch=epoch,
                                        condition_number=kappa, grad_norm=value * 10 ** (2 - epoch),
                                        gap=value ** 2, scale=delta, family=None if alg == "svrg" else "fixed",
                                        rounding=None if alg == "svrg" else "stochastic"))
    return Table.from_records(rows)


def lines_by_label(ax):
    return {line.get_label(): line for line in ax.get_lines()}


def test_error_vs_bits_draws_median_per_algorithm_and_full_precision_reference():
    fig = error_vs_bits(synthetic_table(), metric="grad_norm")
    (ax,) = fig.axes
    lines = lines_by_label(ax)
    assert {"SVRG", "LP-SGD", "HALP", "LP-SGD predicted floor"} <= set(lines)
    assert ax.get_yscale() == "log" and "bits" in ax.get_xlabel() and "gradient norm" in ax.get_ylabel()
    lp = lines["LP-SGD"]
    assert list(lp.get_xdata()) == BITS
    # median over seeds of the final epoch: seeds give factors 1.0, 1.1, 1.2 -> median 1.1
    assert lp.get_ydata()[0] == pytest.approx(2 ** -2 * 1.1 * 1.0)
    svrg = lines["SVRG"]  # full precision: a horizontal line across the bit range
    assert list(svrg.get_xdata()) == [2, 10] and svrg.get_ydata()[0] == svrg.get_ydata()[1] == pytest.approx(2e-10)
    assert svrg.get_linestyle() == "--"
    assert len(ax.collections) >= 3  # seed bands
    assert "median of 3 seeds" in fig._suptitle.get_text()


def test_predicted_floor_halves_per_bit():
    fig = error_vs_bits(synthetic_table(), metric="grad_norm")
    floor = lines_by_label(fig.axes[0])["LP-SGD predicted floor"]
    ys = floor.get_ydata()
    for (b0, y0), (b1, y1) in zip(zip(floor.get_xdata(), ys), zip(floor.get_xdata()[1:], ys[1:])):
        assert y1 / y0 == pytest.approx(2.0 ** -(b1 - b0))
    # value: delta * sqrt(tr(H) / (12 alpha)) with delta = 2^-(b-1)
    assert ys[0] == pytest.approx(0.5 * math.sqrt(4.0 / (12 * 0.05)))


def test_floor_formula():
    assert lpsgd_floor("grad_norm", 0.1, 0.05, 4.0, 8) == pytest.approx(math.sqrt(SR_VARIANCE * 0.01 * 4.0 / 0.1))
    assert lpsgd_floor("gap", 0.1, 0.05, 4.0, 8) == pytest.approx(SR_VARIANCE * 0.01 * 8 / 0.2)
    assert math.isnan(lpsgd_floor("grad_norm", None, 0.05, 4.0, 8))
    assert math.isnan(lpsgd_floor("dist", 0.1, 0.05, 4.0, 8))
    assert 2 ** (halp_bits_reference(1000.0, 16) - 1) - 1 == pytest.approx(4000.0)


def test_no_floor_for_nearest_rounding():
    table = Table.from_records([dict(r, rounding="nearest_even") if r["algorithm"] == "lpsgd" else r
                                for r in synthetic_table().records()])
    assert "LP-SGD predicted floor" not in lines_by_label(error_vs_bits(table).axes[0])


def test_no_floor_for_a_loss_without_constant_curvature():
    # the derivation needs a constant Hessian; for logistic runs the formula is orders of magnitude off
    assert "LP-SGD predicted floor" in lines_by_label(error_vs_bits(synthetic_table()).axes[0])
    for model, dataset in (("logistic", "logistic"), ("softmax", "digits")):
        table = Table.from_records([dict(r, model=model, dataset=dataset) for r in synthetic_table().records()])
        assert "LP-SGD predicted floor" not in lines_by_label(error_vs_bits(table).axes[0])


def test_no_floor_off_a_uniform_grid():
    # the derivation's grid step delta is fixed point's: a float or block format has no single step
    for family in ("float", "bfp", "format"):
        table = Table.from_records([dict(r, family=family) if r["algorithm"] == "lpsgd" else r
                                    for r in synthetic_table().records()])
        assert "LP-SGD predicted floor" not in lines_by_label(error_vs_bits(table).axes[0])


def test_each_lpsgd_line_gets_its_own_floor():
    table = synthetic_table()
    both = Table.from_records([dict(r, data_format="fixed8_f0", run_id=r["run_id"] + "q")
                               for r in table.records() if r["algorithm"] == "lpsgd"] + table.records())
    labels = set(lines_by_label(error_vs_bits(both).axes[0]))
    assert {"LP-SGD (data_format=fixed8_f0) predicted floor", "LP-SGD predicted floor"} <= labels


def test_convergence_panels_per_metric():
    fig = convergence(synthetic_table().where(bits=[None, 8]), metric=["grad_norm", "gap"])
    assert len(fig.axes) == 2
    lines = lines_by_label(fig.axes[0])
    assert set(lines) == {"SVRG", "LP-SGD", "HALP"}
    assert list(lines["HALP"].get_xdata()) == [0, 1, 2] and fig.axes[0].get_xlabel() == "epoch"


def test_lines_split_by_every_varying_setting():
    table = synthetic_table()
    assert line_columns(table, "bits") == ["algorithm"]
    assert line_columns(table, "epoch") == ["algorithm", "bits"]
    mixed = Table.from_records([dict(r, rounding="nearest_even", run_id=r["run_id"] + "n")
                                for r in table.records() if r["algorithm"] == "lpsgd"] + table.records())
    assert line_columns(mixed, "bits") == ["algorithm", "rounding"]
    labels = set(lines_by_label(error_vs_bits(mixed).axes[0]))
    assert {"LP-SGD (stochastic)", "LP-SGD (nearest_even)"} <= labels


def test_bits_needed():
    table = synthetic_table(kappas=(10.0, 1000.0))
    fig = bits_needed(table, tolerance=10.0)
    left, right = fig.axes
    assert left.get_xscale() == "log" and left.get_yscale() == "log"
    needed = lines_by_label(right)
    # HALP is within 10x of SVRG from 2 bits at kappa 10, from 8 bits at kappa 1000
    assert list(needed["HALP"].get_xdata()) == [10.0, 1000.0] and list(needed["HALP"].get_ydata()) == [2, 8]
    assert all(math.isnan(v) for v in needed["LP-SGD"].get_ydata())  # never close to SVRG
    assert any("sufficient condition" in label for label in needed)


def test_plot_study_saves_png_pdf_svg(tmp_path):
    study = Study.create("p", grid={"algorithm": ["svrg", "lpsgd", "halp"], "bits": BITS, "seed": SEEDS},
                         plots=[{"kind": "error_vs_bits"}, {"kind": "convergence", "where": {"bits": [8]}, "name": "conv8"}])
    paths = plot_study(study, synthetic_table(), tmp_path, formats=("png", "pdf", "svg"))
    assert sorted(p.name for p in paths) == sorted(f"{s}.{e}" for s in ("error_vs_bits", "conv8") for e in ("png", "pdf", "svg"))
    assert (tmp_path / "error_vs_bits.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="figure format"):
        plot_study(study, synthetic_table(), tmp_path, formats=("jpg",))


def test_plot_where_matching_nothing_is_an_error():
    study = Study.create("p", grid={"algorithm": ["halp"]}, plots=[{"kind": "convergence", "where": {"algorithm": "sgd"}}])
    with pytest.raises(ValueError, match="no rows match"):
        draw(study.plots[0], synthetic_table())


def test_plot_where_keeps_full_precision_rows():
    study = Study.create("p", grid={"algorithm": ["halp"]}, plots=[{"kind": "convergence", "where": {"bits": 8}}])
    labels = set(lines_by_label(draw(study.plots[0], synthetic_table()).axes[0]))
    assert labels == {"SVRG", "LP-SGD", "HALP"}  # SVRG has no bits, so bits = 8 does not drop it


def table_of(study: Study, value=lambda run: 1e-3 * (1 + run["seed"])) -> Table:
    """A results table with the study's real resolved runs (two epochs each) and made-up metrics."""
    metrics = lambda run, epoch: {name: value(run) * (2 - epoch) for name in ("grad_norm", "dist", "test_acc")}
    return Table.from_records([dict(run.params, run_id=run.id, epoch=epoch, status="ok", **metrics(run, epoch))
                               for run in study.runs() for epoch in (0, 1)])


FORMATS = ["e2m1", "e3m2", "e2m3", "e4m3", "e5m2"]


def test_format_family_gets_a_line_per_format_and_honest_counts():
    study = Study.create("f", precision={"family": "format"},
                         grid={"algorithm": ["svrg", "lpsgd", "halp"], "format": FORMATS, "seed": [0, 1]})
    fig = error_vs_bits(table_of(study))
    labels = set(lines_by_label(fig.axes[0]))
    assert {f"{alg} (format={get_format(f).spec})" for alg in ("LP-SGD", "HALP") for f in FORMATS} | {"SVRG"} <= labels
    assert "median of 2 seeds" in fig._suptitle.get_text()
    # lines chosen by hand that pool formats say how many runs each point pools
    merged = error_vs_bits(table_of(study), lines=["algorithm"])
    assert "median of 2-4 runs per point" in merged._suptitle.get_text()


@pytest.mark.parametrize("name", ["bits_vs_condition", "convergence_8bit", "error_vs_bits", "halp_formats",
                                  "rounding", "softmax_digits"])
def test_default_lines_of_shipped_studies_are_their_swept_axes_off_the_x_axis(name):
    study = Study.from_toml(Path(__file__).resolve().parents[2] / "studies" / f"{name}.toml")
    table = table_of(study)
    for plot in study.plots:
        x = "epoch" if plot.kind == "convergence" else plot.x
        swept = [axis for axis in study.grid if axis not in (x, "seed")]
        assert sorted(line_columns(table.final() if x != "epoch" else table, x)) == sorted(swept)
        note = draw(plot, table)._suptitle.get_text()
        assert f"median of {len(study.grid['seed'])} seeds" in note


def test_swept_axes_that_follow_from_x_add_no_lines():
    # exp_bits follows from bits for floats, block_size and format from family: one line per family
    study = Study.create("h", precision={"block_size": 8},
                         grid={"algorithm": ["halp"], "family": ["fixed", "bfp", "float"], "bits": [4, 6, 8]})
    assert line_columns(table_of(study).final(), "bits") == ["family"]


# -- bits_needed: outcomes and a panel per other swept setting ------------------------------------
def mu_sweep_table() -> Table:
    """SVRG and HALP at two widths and two mu_factors over two kappas, three seeds, three epochs. HALP at
    mu_factor 10 reaches at 8 bits everywhere; at mu_factor 1 it stalls at 4 bits and, at kappa 1000,
    diverges at 8 bits in two of three seeds."""
    rows = []
    for kappa in (10.0, 1000.0):
        for seed in SEEDS:
            rows += [row(run_id=f"svrg-{kappa}-{seed}", algorithm="svrg", seed=seed, epoch=e, condition_number=kappa,
                         grad_norm=0.5 * 1e-6 ** e) for e in range(3)]
            for factor in (1.0, 10.0):
                for bits in (4, 8):
                    if bits == 4 and factor == 1.0:
                        values, status = [0.5, 0.5, 0.5], "ok"
                    elif factor == 1.0 and kappa == 1000.0 and seed < 2:
                        values, status = [0.5, 40.0, math.inf], "diverged"
                    elif bits == 4:
                        values, status = [0.5, 0.1, 0.05], "ok"
                    else:
                        values, status = [0.5, 1e-6, 1e-13], "ok"
                    rows += [row(run_id=f"halp-{kappa}-{seed}-{factor}-{bits}", algorithm="halp", bits=bits,
                                 mu_factor=factor, seed=seed, epoch=e, condition_number=kappa, grad_norm=v,
                                 status=status) for e, v in enumerate(values)]
    return Table.from_records(rows)


def test_bits_needed_draws_a_panel_per_mu_factor_and_counts_bits_where_most_seeds_reached():
    fig = bits_needed(mu_sweep_table())
    *panels, right = fig.axes
    assert [ax.get_title() for ax in panels] == ["mu_factor=1", "mu_factor=10"]
    # the float64 reference has no mu_factor: drawn in both panels
    assert all("SVRG" in lines_by_label(ax) for ax in panels)
    assert panels[0].get_ylim() == panels[1].get_ylim()
    needed = lines_by_label(right)
    # kappa 10: 8 bits reach under both factors; kappa 1000: two of three seeds diverge at mu_factor 1
    assert list(needed["HALP (mu_factor=10)"].get_ydata()) == [8, 8]
    ys = list(needed["HALP (mu_factor=1)"].get_ydata())
    assert ys[0] == 8 and math.isnan(ys[1])
    beyond = [h for h in right.collections if h.get_label() == "more than 8 bits"]
    assert len(beyond) == 1 and list(beyond[0].get_offsets()[:, 0]) == [1000.0]
    # one legend for the panels names every outcome drawn
    (legend,) = fig.legends
    labels = [t.get_text() for t in legend.get_texts()]
    assert {"reached", "floor (ended above the target)", "stalled (never moved)", "diverged"} <= set(labels)


def test_bits_needed_marks_each_point_with_its_seeds_outcome():
    table = mu_sweep_table().where(mu_factor=[None, 1.0])
    fig = bits_needed(table)
    left = fig.axes[0]
    # HALP(4) at mu_factor 1 never moves: an open square at its start value at both kappas
    squares = [c for c in left.collections if len(c.get_offsets()) == 2 and
               all(float(y) == 0.5 for _, y in c.get_offsets())]
    assert squares and all(len(c.get_facecolors()) == 0 or c.get_facecolors()[0][3] == 0 for c in squares)
    assert "stalled (never moved)" in {t.get_text() for t in left.get_legend().get_texts()}


def test_bits_needed_refuses_a_metric_that_is_not_an_error():
    with pytest.raises(ValueError, match="metric must be one of gap, grad_norm, dist"):
        bits_needed(synthetic_table(), metric="test_acc")


def test_figures_fill_rows_of_the_columns_asked_for():
    from lpsim.plots._common import new_figure

    fig, axes = new_figure(3, columns=2)
    assert len(axes) == 3 and len(fig.axes) == 3
    rows = sorted({round(ax.get_position().y0, 3) for ax in axes})
    assert len(rows) == 2


def test_bits_needed_matches_a_reference_run_with_its_own_epochs_when_told():
    rows = []
    for kappa in (10.0, 1000.0):
        rows += [row(run_id=f"svrg-{kappa}", algorithm="svrg", epochs=60, epoch=e, condition_number=kappa,
                     grad_norm=v) for e, v in enumerate([0.5, 1e-3, 1e-6])]
        rows += [row(run_id=f"halp-{kappa}", algorithm="halp", bits=8, epochs=10, epoch=e, condition_number=kappa,
                     grad_norm=v) for e, v in enumerate([0.5, 1e-3, 5e-6])]
    table = Table.from_records(rows)
    alone = lines_by_label(bits_needed(table).axes[-1])["HALP"].get_ydata()
    matched = lines_by_label(bits_needed(table, reference_settings=("epochs",)).axes[-1])["HALP"].get_ydata()
    assert all(math.isnan(v) for v in alone) and list(matched) == [8, 8]
    study = Study.create("p", overrides={"svrg": {"epochs": 60}}, plots=[{"kind": "bits_needed"}])
    drawn = lines_by_label(draw(study.plots[0], table, study.reference_settings).axes[-1])["HALP"].get_ydata()
    assert list(drawn) == [8, 8]
