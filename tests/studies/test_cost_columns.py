"""Cost and energy columns in a study's table, the study's own energy table, and the error_vs_cost figure."""

from __future__ import annotations

import json
import math
import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lpsim.cost import COST_COLUMNS, ENERGY_COLUMNS, Cost, default_table, load_energy_table
from lpsim.plots import draw, error_vs_cost
from lpsim.plots.cost import pareto_front
from lpsim.studies import Study, StudyError, run_study
from lpsim.studies.runner import run_one

COST_STUDY = textwrap.dedent("""\
    [study]
    name = "costs"
    {energy}
    [problem]
    dataset = "least_squares"
    n = 24
    d = 3

    [train]
    epochs = 2
    batch_size = 2
    arithmetic = "integer"

    [precision]
    data_format = "int8"

    [grid]
    algorithm = ["sgd", "svrg", "lpsgd", "halp"]
    bits = [4, 8]
    seed = [0]

    [[plot]]
    kind = "error_vs_cost"
    x = "bytes_moved"
    """)

MY_TABLE = textwrap.dedent("""\
    name = "flat"
    [ops.int]
    add = {8 = 1.0}
    multiply = {8 = 1.0}
    [ops.fp]
    add = {8 = 1.0}
    multiply = {8 = 1.0}
    [memory]
    dram = 1.0
    sram = 1.0
    [random]
    bit = 1.0
    """)


def _study(tmp_path, energy: str = "") -> Study:
    path = tmp_path / "costs.toml"
    path.write_text(COST_STUDY.format(energy=energy))
    return Study.from_toml(path)


def test_table_has_cost_and_default_energy_columns(tmp_path):
    study = _study(tmp_path)
    result = run_study(study, tmp_path / "out", executor="serial", quiet=True)
    final = result.table.final()
    for column in COST_COLUMNS + ENERGY_COLUMNS:
        assert column in final.columns
    table = default_table()
    for record in final.records():
        stored = json.loads((tmp_path / "out" / "runs" / f"{record['run_id']}.json").read_text())
        cost = Cost.from_json(stored["cost"])
        assert record["ops_multiply"] == cost.count("multiply") > 0
        assert math.isclose(record["energy_pj"], table.estimate(cost)["energy_pj"])
    # the table read back from CSV holds the same cells (counts as ints, bytes and energy as floats)
    from lpsim.studies import load_results

    assert load_results(tmp_path / "out") == result.table


def test_study_energy_table_prices_the_same_counts(tmp_path):
    (tmp_path / "flat.toml").write_text(MY_TABLE)
    study = _study(tmp_path, 'energy_table = "flat.toml"')
    assert study.energy_table.name == "flat"
    final = run_study(study, tmp_path / "out", executor="serial", quiet=True).table.final()
    flat = load_energy_table(tmp_path / "flat.toml")
    for record in final.records():
        stored = json.loads((tmp_path / "out" / "runs" / f"{record['run_id']}.json").read_text())
        cost = Cost.from_json(stored["cost"])
        # a flat table at 8 bits: 1 pJ per 8-bit op, widths scaled linearly (add) or quadratically
        assert math.isclose(record["energy_pj"], flat.estimate(cost)["energy_pj"])
        assert not math.isclose(record["energy_pj"], default_table().estimate(cost)["energy_pj"])
    # the saved study resumes from anywhere: its table path is stored resolved
    saved = json.loads((tmp_path / "out" / "study.json").read_text())
    assert saved["study"]["energy_table"] == str((tmp_path / "flat.toml").resolve())


def test_energy_table_leaves_run_ids_alone(tmp_path):
    (tmp_path / "flat.toml").write_text(MY_TABLE)
    plain = [run.id for run in _study(tmp_path).runs()]
    priced = [run.id for run in _study(tmp_path, 'energy_table = "flat.toml"').runs()]
    assert plain == priced


@pytest.mark.parametrize("energy, expected", [
    ('energy_table = "missing.toml"', r"costs.toml, line 3: \[study\] energy_table: energy table .*missing.toml: cannot read"),
    ('energy_table = 3', r"costs.toml, line 3: \[study\] energy_table: expected 'horowitz45', a plugin table's name"),
    ('energy_table = "bad.toml"', r"\[study\] energy_table: energy table .*bad.toml: memory.dram: missing"),
])
def test_bad_energy_table_in_a_study_names_file_line_and_key(tmp_path, energy, expected):
    (tmp_path / "bad.toml").write_text(MY_TABLE.replace("dram = 1.0\n", ""))
    with pytest.raises(StudyError, match=expected):
        _study(tmp_path, energy)


def test_error_vs_cost_x_must_be_a_cost_column(tmp_path):
    text = COST_STUDY.format(energy="").replace('x = "bytes_moved"', 'x = "bits"')
    path = tmp_path / "bad_x.toml"
    path.write_text(text)
    with pytest.raises(StudyError, match=r"\[\[plot\]\] #1 x: expected a cost column \(energy_pj, "):
        Study.from_toml(path)


def test_both_engines_store_identical_cost(tmp_path):
    for spec in _study(tmp_path).runs():
        if spec["algorithm"] not in ("lpsgd", "halp"):
            continue
        fast = run_one({**spec.params, "engine": "fast"})
        exact = run_one({**spec.params, "engine": "exact"})
        assert fast["status"] == exact["status"] == "ok"
        assert fast["cost"] == exact["cost"]


def test_error_vs_cost_marks_the_pareto_front(tmp_path):
    study = _study(tmp_path)
    table = run_study(study, tmp_path / "out", executor="serial", quiet=True).table
    fig = draw(study.plots[0], table)
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert "Pareto front" in labels and "HALP" in labels and "SVRG" in labels
    with pytest.raises(ValueError, match="no column 'energy_pj'"):
        error_vs_cost(table.drop("energy_pj"), x="energy_pj")


@given(st.lists(st.tuples(st.floats(0.1, 100), st.floats(0.1, 100), st.integers()), max_size=12))
def test_pareto_front_is_exactly_the_undominated_points(points):
    front = pareto_front(points)

    def dominated(p):
        return any(q[0] <= p[0] and q[1] <= p[1] and (q[0], q[1]) != (p[0], p[1]) for q in points)

    for p in front:
        assert not dominated(p)
    coords = {(p[0], p[1]) for p in front}
    for p in points:
        if (p[0], p[1]) not in coords:
            assert dominated(p) or any(q[0] == p[0] and q[1] == p[1] for q in front)


def test_run_files_without_cost_still_load_with_empty_cost_columns(tmp_path):
    """Results folders made before runs recorded their cost keep working: those cells are empty."""
    from lpsim.studies import load_results

    study = _study(tmp_path)
    run_study(study, tmp_path / "out", executor="serial", quiet=True)
    first = next((tmp_path / "out" / "runs").glob("*.json"))
    record = json.loads(first.read_text())
    del record["cost"]
    first.write_text(json.dumps(record))
    from lpsim.studies.store import ResultsStore

    table = ResultsStore(tmp_path / "out").compact(study).final()
    rows = {r["run_id"]: r for r in table.records()}
    assert len(rows) == len(study.runs())
    old = rows[record["id"]]
    assert all(old[c] is None for c in COST_COLUMNS + ENERGY_COLUMNS)
    assert all(r["energy_pj"] > 0 for key, r in rows.items() if key != record["id"])
    assert load_results(tmp_path / "out") == ResultsStore(tmp_path / "out").table(study)
