"""Energy tables: the default table's cited numbers and pricing rules, user tables from TOML, clear errors."""

from __future__ import annotations

import math
import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lpsim.cost import Cost, EnergyTable, EnergyTableError, default_table, energy_table, load_energy_table
from lpsim.cost.energy import power_law

# Horowitz, ISSCC 2014, 45 nm: pJ per operation
CITED = [("add", "int8", 0.03), ("add", "int32", 0.1), ("multiply", "int8", 0.2), ("multiply", "int32", 3.1),
         ("add", "fp16", 0.4), ("add", "fp32", 0.9), ("multiply", "fp16", 1.1), ("multiply", "fp32", 3.7)]


@pytest.mark.parametrize("kind, label, pj", CITED)
def test_default_table_gives_the_cited_numbers(kind, label, pj):
    assert default_table().op_energy(kind, label, label) == pj


def test_widths_between_and_beyond_the_table_follow_the_power_law_through_the_nearest_two():
    table = default_table()
    # int16 add: between 8 (0.03) and 32 (0.1): 0.03 * 2 ** (log(0.1 / 0.03) / log 4)
    assert math.isclose(table.op_energy("add", "int16", "int16"), 0.03 * 2 ** (math.log(0.1 / 0.03) / math.log(4)))
    # fp64 multiply: beyond 32, on the line through 16 (1.1) and 32 (3.7): 3.7 * 3.7 / 1.1
    assert math.isclose(table.op_energy("multiply", "fp64", "fp64"), 3.7 * (3.7 / 1.1))
    # int4 multiply: below 8, on the line through 8 and 32
    assert math.isclose(table.op_energy("multiply", "int4", "int4"), 0.2 * 0.5 ** (math.log(3.1 / 0.2) / math.log(4)))


def test_pricing_rules_for_kinds_the_table_lacks():
    table = default_table()
    assert table.op_energy("fma", "int8", "int32") == 0.2 + 0.1  # multiply at the operand, add at the register
    assert table.op_energy("compare", "int32", "int8") == 0.1  # as an add at the operand's width
    assert table.op_energy("add", "int32", "int8") == 0.03  # an add lands in its register
    assert math.isclose(table.op_energy("exp", "fp32", "fp32"), 10 * 3.7)  # [derived] exp = 10 multiplies
    assert math.isclose(table.op_energy("divide", "fp16", "fp16"), 4 * 1.1)


def test_estimate_sums_operations_memory_and_random_bits():
    cost = Cost(ops=(("add", "int8", "int8", 10), ("multiply", "fp32", "fp32", 2)), random_bits=128,
                memory=(("dram", "read", 64), ("sram", "write", 16)))
    estimate = default_table().estimate(cost)
    ops = 10 * 0.03 + 2 * 3.7
    memory = 8 * 1300 / 8 + 2 * 10 / 8
    random = 128 * 20 * 3.1 / 128
    assert math.isclose(estimate["energy_ops_pj"], ops)
    assert math.isclose(estimate["energy_memory_pj"], memory)
    assert math.isclose(estimate["energy_random_pj"], random)
    assert math.isclose(estimate["energy_pj"], ops + memory + random)


USER_TABLE = textwrap.dedent("""\
    name = "my-7nm"
    source = "made up for a test"
    [ops.int]
    add = {8 = 0.01, 32 = 0.04}
    multiply = {8 = 0.05}
    fma = {8 = 0.07}
    [ops.fp]
    add = {32 = 0.2}
    multiply = {32 = 0.8}
    [memory]
    dram = 50.0
    sram = 0.5
    [random]
    bit = 0.25
    """)


def test_user_table_from_toml_replaces_every_number(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(USER_TABLE)
    table = energy_table(str(path))
    assert table.name == "my-7nm"
    assert table.op_energy("multiply", "int16", "int16") == 0.05 * 4  # one width: scales as width**2
    assert table.op_energy("add", "fp64", "fp64") == 0.4  # one width: scales as width
    assert table.op_energy("fma", "int8", "int32") == 0.07  # the table's own fma
    cost = Cost(ops=(("add", "int32", "int32", 3),), random_bits=4, memory=(("dram", "read", 16),))
    assert math.isclose(table.estimate(cost)["energy_pj"], 3 * 0.04 + 4 * 0.25 + 2 * 50.0)
    with pytest.raises(EnergyTableError, match=r"ops\.fp\.exp.*derived\.exp"):
        table.op_energy("exp", "fp64", "fp64")  # no exp and no rule for it


BAD_TABLES = [
    ("[ops.bf]\nadd = {8 = 1.0}", "ops.bf", "unknown family"),
    ("[ops.int]\nsqrt = {8 = 1.0}", "ops.int.sqrt", "unknown kind"),
    ("[ops.int]\nadd = {eight = 1.0}", "ops.int.add.eight", "width in bits"),
    ("[ops.int]\nadd = {8 = -1.0}", "ops.int.add.8", "number > 0"),
    ("[ops.int]\nadd = {8 = \"cheap\"}", "ops.int.add.8", "number > 0"),
    ("[memory]\ndram = 1.0\nsram = 1.0\ncache = 2.0", "memory.cache", "unknown memory level"),
    ("[random]\nbits = 1.0", "random.bits", "unknown key"),
    ("colour = 1", "colour", "unknown key"),
    ("[derived]\nexp = {sqrt = 2}", "derived.exp", "add or multiply"),
]


def _patched(base: str, extra: str) -> str:
    """The user table with ``extra`` merged in (a section of the same name replaces the base one)."""
    import tomllib

    raw = tomllib.loads(base)
    patch = tomllib.loads(extra)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(raw.get(key), dict):
            for sub, subvalue in value.items():
                if isinstance(subvalue, dict) and isinstance(raw[key].get(sub), dict):
                    raw[key][sub].update(subvalue)
                else:
                    raw[key][sub] = subvalue
        else:
            raw[key] = value
    return raw


@pytest.mark.parametrize("extra, key, why", BAD_TABLES)
def test_bad_tables_name_the_key(extra, key, why):
    raw = _patched(USER_TABLE, extra)
    with pytest.raises(EnergyTableError) as info:
        EnergyTable.from_dict(raw, "mine.toml")
    message = str(info.value)
    assert f"mine.toml: {key}:" in message and why in message


@pytest.mark.parametrize("missing, key", [("memory", "memory.dram"), ("random", "random.bit"), ("ops", "ops.int.add")])
def test_missing_sections_are_named(missing, key):
    import tomllib

    raw = tomllib.loads(USER_TABLE)
    del raw[missing]
    with pytest.raises(EnergyTableError, match=f"mine.toml: {key}: missing"):
        EnergyTable.from_dict(raw, "mine.toml")


def test_unreadable_or_malformed_files_name_the_file(tmp_path):
    with pytest.raises(EnergyTableError, match="nowhere.toml: cannot read"):
        load_energy_table(tmp_path / "nowhere.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[ops\n")
    with pytest.raises(EnergyTableError, match="broken.toml: not valid TOML"):
        load_energy_table(broken)


@given(st.lists(st.tuples(st.integers(1, 128), st.floats(0.01, 100)), min_size=2, max_size=5,
                unique_by=lambda p: p[0]),
       st.integers(1, 256))
def test_power_law_passes_through_the_points_and_is_positive(points, width):
    points = tuple(sorted(points))
    for w, pj in points:
        assert power_law(points, w, 1.0) == pj
    assert power_law(points, width, 1.0) > 0


# -- plugins: a real distribution's entry points, found on sys.path ---------------------------------

PLUGIN_MODULE = textwrap.dedent("""\
    from lpsim.cost import EnergyTable

    FLAT = {
        "name": "flat",
        "ops": {"int": {"add": {"8": 1.0}, "multiply": {"8": 2.0}}, "fp": {"add": {"8": 1.0}, "multiply": {"8": 2.0}}},
        "memory": {"dram": 10.0, "sram": 1.0},
        "random": {"bit": 0.5},
    }


    def made():
        return EnergyTable.from_dict(dict(FLAT, name="made"), "made")


    BROKEN = dict(FLAT, memory={"dram": 10.0})
    """)


@pytest.fixture
def plugin_tables_installed(tmp_path, monkeypatch):
    from lpsim.formats import plugins

    (tmp_path / "lpsim_test_tables.py").write_text(PLUGIN_MODULE)
    info = tmp_path / "lpsim_test_tables-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: lpsim-test-tables\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[lpsim.energy_tables]\nflat = lpsim_test_tables:FLAT\n"
                                           "made = lpsim_test_tables:made\nbroken = lpsim_test_tables:BROKEN\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    plugins.reset()
    yield tmp_path
    plugins.reset()


def test_plugin_tables_load_by_name(plugin_tables_installed):
    from lpsim.cost import plugin_tables

    assert {"flat", "made", "broken"} <= set(plugin_tables())
    flat = energy_table("flat")
    assert flat.name == "flat" and flat.op_energy("multiply", "int8", "int8") == 2.0
    assert energy_table("made").name == "made"  # a factory's table
    with pytest.raises(EnergyTableError, match=r"plugin 'broken' is broken: .*plugin 'broken': memory.sram: missing"):
        with pytest.warns(UserWarning, match="broken"):
            energy_table("broken")


def test_a_study_names_a_plugin_table(plugin_tables_installed):
    from lpsim.studies import Study, StudyError

    study = Study.create("p", grid={"algorithm": ["halp"]})
    assert study.energy_table.name == "horowitz45"
    raw = {"study": {"name": "p", "energy_table": "flat"}, "grid": {"algorithm": ["halp"]}}
    assert Study.from_dict(raw).energy_table.name == "flat"
    raw["study"]["energy_table"] = "broken"
    with pytest.raises(StudyError, match=r"energy_table: energy table plugin 'broken' is broken"):
        with pytest.warns(UserWarning):
            Study.from_dict(raw)
