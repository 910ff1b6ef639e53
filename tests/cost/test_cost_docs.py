"""docs/cost.md stays true: its python blocks run in order, its TOML table loads, its numbers are the table's."""

import re
import tomllib
from pathlib import Path

from lpsim.cost import EnergyTable, default_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "cost.md"


def test_cost_doc_examples_run(capsys):
    blocks = re.findall(r"```python\n(.+?)\n```", DOC.read_text(), flags=re.S)
    assert len(blocks) >= 2
    namespace: dict = {}
    for i, block in enumerate(blocks):
        exec(compile(block, f"{DOC.name}[block {i}]", "exec"), namespace)
    out = capsys.readouterr().out
    assert "uJ, of which memory" in out and "ops.int.add.8: expected a finite number > 0" in out
    assert "('multiply', 'int8', 'int18'," in out


def test_cost_doc_toml_table_is_a_valid_table():
    (block,) = [b for b in re.findall(r"```toml\n(.+?)\n```", DOC.read_text(), flags=re.S) if "[memory]" in b]
    table = EnergyTable.from_dict(tomllib.loads(block), "docs/cost.md")
    assert table.op_energy("fma", "fp32", "fp32") == 4.0


def test_cost_doc_quotes_the_default_tables_derived_prices():
    text = DOC.read_text()
    table = default_table()
    for kind, label, quoted in (("multiply", "fp64", "12.4 pJ"), ("add", "fp64", "2.02 pJ"),
                                ("multiply", "int64", "12.2 pJ"), ("add", "int16", "0.0548 pJ")):
        assert f"{table.op_energy(kind, label, label):.3g} pJ" == quoted and quoted in text
    assert f"{table.random_bit:.2f} pJ per bit" in text
