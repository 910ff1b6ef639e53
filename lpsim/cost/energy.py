"""Energy estimates from operation counts: a per-operation table, the default one, and user tables from TOML.

An ``EnergyTable`` gives picojoules per operation by (family, kind) at a few widths, picojoules
per byte per memory level, and per random bit. ``estimate(cost, table)`` prices a Cost
(lpsim.cost.counts). The default table is the 45 nm figures of Horowitz, "Computing's energy
problem (and what we can do about it)", ISSCC 2014 (docs/cost.md has the numbers and every rule).

Pricing rules:
* an add is priced at its register's width and family, a multiply and a compare at the operand's;
* a width between or beyond the table's is priced on the power law through the two nearest
  widths (a straight line in log-log); a kind given at one width only scales as width (add,
  compare) or width**2 (the others);
* compare: as an add of the same width when the table has no compare;
* fma: a multiply at the operand width plus an add at the register width when the table has no fma;
* kinds in ``[derived]`` (e.g. exp = {multiply = 10}): that multiple of another kind at the same width.
"""

from __future__ import annotations

import math
import numbers
import tomllib
from pathlib import Path

import attrs

from ..formats import plugins
from .counts import KINDS, LEVELS, Cost, label_bits

FAMILIES = ("int", "fp")
TABLE_KEYS = ("name", "source", "ops", "memory", "random", "derived")
REQUIRED_OPS = ("add", "multiply")
ENERGY_COLUMNS = ("energy_pj", "energy_ops_pj", "energy_memory_pj", "energy_random_pj")
DEFAULT_TABLE_NAME = "horowitz45"
# entry points: name = a table name, object = an EnergyTable, a dict in the TOML layout, or a
# zero-argument callable returning either
ENERGY_TABLES_GROUP = "lpsim.energy_tables"


class EnergyTableError(ValueError):
    """A malformed energy table; the message names the table and the key at fault."""


def _table_error(where: str, key: str, message: str) -> EnergyTableError:
    return EnergyTableError(f"energy table {where}: {key}: {message}")


def _positive(value, where: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise _table_error(where, key, f"expected a finite number > 0 (picojoules), got {value!r}")
    return float(value)


def _table(value, where: str, key: str) -> dict:
    if not isinstance(value, dict):
        raise _table_error(where, key, f"expected a table, got {value!r}")
    return value


@attrs.frozen(kw_only=True)
class EnergyTable:
    """Picojoules per operation, per byte moved and per random bit (see the module docstring)."""

    name: str
    source: str = ""
    ops: dict = attrs.field(factory=dict)  # (family, kind) -> ((width, pJ), ...) sorted by width
    memory: dict = attrs.field(factory=dict)  # level -> pJ per byte
    random_bit: float = 0.0
    derived: dict = attrs.field(factory=dict)  # kind -> (base kind, factor)

    @classmethod
    def from_dict(cls, raw: dict, where: str = "(dict)") -> "EnergyTable":
        """Validate a table in the TOML layout of docs/cost.md; errors name ``where`` and the key."""
        raw = _table(raw, where, "(top level)")
        for key in raw:
            if key not in TABLE_KEYS:
                raise _table_error(where, key, f"unknown key; allowed keys: {', '.join(TABLE_KEYS)}")
        name = raw.get("name", where)
        if not isinstance(name, str) or not name:
            raise _table_error(where, "name", f"expected a non-empty string, got {name!r}")
        ops = {}
        for family, kinds in _table(raw.get("ops", {}), where, "ops").items():
            if family not in FAMILIES:
                raise _table_error(where, f"ops.{family}", f"unknown family; allowed: {', '.join(FAMILIES)}")
            for kind, points in _table(kinds, where, f"ops.{family}").items():
                if kind not in KINDS:
                    raise _table_error(where, f"ops.{family}.{kind}", f"unknown kind; allowed: {', '.join(KINDS)}")
                key = f"ops.{family}.{kind}"
                pairs = []
                for width, pj in _table(points, where, key).items():
                    if not (isinstance(width, str) and width.isdigit() and 1 <= int(width) <= 256):
                        raise _table_error(where, f"{key}.{width}", "expected a width in bits (an integer 1..256) as the key")
                    pairs.append((int(width), _positive(pj, where, f"{key}.{width}")))
                if not pairs:
                    raise _table_error(where, key, "expected at least one width = picojoules entry")
                ops[(family, kind)] = tuple(sorted(pairs))
        for family in FAMILIES:
            for kind in REQUIRED_OPS:
                if (family, kind) not in ops:
                    raise _table_error(where, f"ops.{family}.{kind}", "missing: every table prices int and fp add and multiply")
        memory_raw = _table(raw.get("memory", {}), where, "memory")
        for level in memory_raw:
            if level not in LEVELS:
                raise _table_error(where, f"memory.{level}", f"unknown memory level; allowed: {', '.join(LEVELS)}")
        memory = {}
        for level in LEVELS:
            if level not in memory_raw:
                raise _table_error(where, f"memory.{level}", "missing: picojoules per byte moved")
            memory[level] = _positive(memory_raw[level], where, f"memory.{level}")
        random = _table(raw.get("random", {}), where, "random")
        for key in random:
            if key != "bit":
                raise _table_error(where, f"random.{key}", "unknown key; allowed: bit")
        if "bit" not in random:
            raise _table_error(where, "random.bit", "missing: picojoules per random bit drawn")
        derived = {}
        for kind, rule in _table(raw.get("derived", {}), where, "derived").items():
            key = f"derived.{kind}"
            if kind not in KINDS:
                raise _table_error(where, key, f"unknown kind; allowed: {', '.join(KINDS)}")
            rule = _table(rule, where, key)
            if len(rule) != 1 or next(iter(rule)) not in REQUIRED_OPS:
                raise _table_error(where, key, f"expected one entry {{add or multiply = factor}}, got {rule!r}")
            (base, factor), = rule.items()
            derived[kind] = (base, _positive(factor, where, f"{key}.{base}"))
        source = raw.get("source", "")
        if not isinstance(source, str):
            raise _table_error(where, "source", f"expected a string, got {source!r}")
        return cls(name=name, source=source, ops=ops, memory=memory,
                   random_bit=_positive(random["bit"], where, "random.bit"), derived=derived)

    # -- pricing ---------------------------------------------------------------------------------
    def op_energy(self, kind: str, operand: str, register: str) -> float:
        """Picojoules of one operation keyed as in lpsim.cost.counts (kind, operand label, register label)."""
        if kind == "fma" and not self._has("fma", operand):
            return self.op_energy("multiply", operand, register) + self.op_energy("add", register, register)
        label = register if kind == "add" else operand
        if kind == "compare" and not self._has("compare", label):
            kind = "add"
        return self._price(kind, label)

    def _has(self, kind: str, label: str) -> bool:
        return (_family(label), kind) in self.ops

    def _price(self, kind: str, label: str) -> float:
        family, width = _family(label), label_bits(label)
        points = self.ops.get((family, kind))
        if points is None:
            if kind in self.derived:
                base, factor = self.derived[kind]
                return factor * self._price(base, label)
            raise EnergyTableError(f"energy table {self.name}: ops.{family}.{kind}: missing, and no derived.{kind} "
                                   f"rule: cannot price {kind} on {label}")
        return power_law(points, width, 1.0 if kind in ("add", "compare") else 2.0)

    def estimate(self, cost: Cost) -> dict:
        """{energy_pj, energy_ops_pj, energy_memory_pj, energy_random_pj} of ``cost``."""
        ops = sum(n * self.op_energy(kind, operand, register) for kind, operand, register, n in cost.ops)
        memory = sum(bits / 8 * self.memory[level] for level, _, bits in cost.memory)
        random = cost.random_bits * self.random_bit
        return {"energy_pj": ops + memory + random, "energy_ops_pj": ops, "energy_memory_pj": memory,
                "energy_random_pj": random}


def _family(label: str) -> str:
    return "int" if label.startswith("int") else "fp"


def power_law(points: tuple, width: int, single_exponent: float) -> float:
    """pJ at ``width`` from (width, pJ) points: the point itself, else the power law through the two
    nearest widths (the two at the nearer end outside the range); one point scales as width**exponent."""
    for w, pj in points:
        if w == width:
            return pj
    if len(points) == 1:
        w, pj = points[0]
        return pj * (width / w) ** single_exponent
    below = [p for p in points if p[0] < width]
    above = [p for p in points if p[0] > width]
    if below and above:
        (w0, e0), (w1, e1) = below[-1], above[0]
    elif above:
        (w0, e0), (w1, e1) = points[0], points[1]
    else:
        (w0, e0), (w1, e1) = points[-2], points[-1]
    exponent = math.log(e1 / e0) / math.log(w1 / w0)
    return e0 * (width / w0) ** exponent


# -- the default table --------------------------------------------------------------------------------

HOROWITZ_45NM = {
    "name": DEFAULT_TABLE_NAME,
    "source": "M. Horowitz, Computing's energy problem (and what we can do about it), ISSCC 2014, 45 nm, 0.9 V",
    "ops": {
        "int": {"add": {"8": 0.03, "32": 0.1}, "multiply": {"8": 0.2, "32": 3.1}},
        "fp": {"add": {"16": 0.4, "32": 0.9}, "multiply": {"16": 1.1, "32": 3.7}},
    },
    # a 64-bit access: 8 KB SRAM 10 pJ, DRAM 1.3 to 2.6 nJ (the low end taken)
    "memory": {"sram": 10.0 / 8, "dram": 1300.0 / 8},
    # one Philox4x32-10 call (128 bits): 10 rounds of two 32x32 multiplies, priced as 20 int32 multiplies
    "random": {"bit": 20 * 3.1 / 128},
    # not in the source: rough assumptions, replace them with your own table
    "derived": {"exp": {"multiply": 10}, "divide": {"multiply": 4}},
}


def default_table() -> EnergyTable:
    return EnergyTable.from_dict(HOROWITZ_45NM, DEFAULT_TABLE_NAME)


def load_energy_table(path: str | Path) -> EnergyTable:
    """An EnergyTable from a TOML file (the layout of docs/cost.md); errors name the file and the key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise EnergyTableError(f"energy table {path}: cannot read: {exc.strerror or exc}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise EnergyTableError(f"energy table {path}: not valid TOML: {exc}") from None
    return EnergyTable.from_dict(raw, str(path))


def plugin_tables() -> list[str]:
    """The names of the energy tables installed as plugins (entry-point group ``lpsim.energy_tables``)."""
    return sorted(plugins.entries(ENERGY_TABLES_GROUP, _reserved))


def _reserved(name: str) -> str | None:
    return f"{DEFAULT_TABLE_NAME!r} is lpsim's default table" if name == DEFAULT_TABLE_NAME else None


def _plugin_table(name: str) -> EnergyTable:
    def convert(value) -> EnergyTable:
        if callable(value) and not isinstance(value, (EnergyTable, dict)):
            value = value()
        if isinstance(value, EnergyTable):
            return value
        if isinstance(value, dict):
            return EnergyTable.from_dict(value, f"plugin {name!r}")
        raise TypeError(f"expected an EnergyTable, a dict in the TOML layout or a callable returning one, "
                        f"got {type(value).__name__}")

    table = plugins.load(ENERGY_TABLES_GROUP, plugins.entries(ENERGY_TABLES_GROUP, _reserved)[name], convert)
    if table is None:
        raise EnergyTableError(f"energy table plugin {name!r} is broken: {plugins.problem(ENERGY_TABLES_GROUP, name)}")
    return table


def is_plugin_table(spec) -> bool:
    """Whether ``spec`` names an installed energy-table plugin (rather than a file)."""
    return isinstance(spec, str) and spec.strip().lower() in plugin_tables()


def energy_table(spec: str | Path | None = None) -> EnergyTable:
    """None or "horowitz45": the default table; the name of an installed plugin table; else a path to a
    TOML table."""
    if spec is None or spec == DEFAULT_TABLE_NAME:
        return default_table()
    if is_plugin_table(spec):
        return _plugin_table(spec.strip().lower())
    return load_energy_table(spec)
