"""The tidy results table: one row per run and epoch, spec columns then metrics.

Stored as plain CSV (readable by anything; floats written with repr, so they read back
bit for bit), loadable with ``Table.read_csv`` without lpsim's dependencies beyond the
standard library, or into pandas with ``to_pandas()`` / ``pandas.read_csv``.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any, Iterable

import attrs

from ..cost.counts import COST_COLUMNS
from .atomic import atomic_write
from .schema import PARAMS

RUN_COLUMNS = ("run_id", "study", "status", "outcome")
HISTORY_COLUMNS = ("epoch", "gap", "grad_norm", "dist", "loss", "scale", "train_acc", "test_acc")
# Properties of the run's problem, recorded by the runner so plots need no computation.
PROBLEM_COLUMNS = ("model_mu", "model_L", "hessian_trace", "n_params",
                   "resolved_step_size", "resolved_epoch_length", "resolved_mu")
TIMING_COLUMNS = ("seconds",)  # wall-clock time of the run: the one column that varies between reruns

_STR = set(RUN_COLUMNS)
_INT = {"epoch", "n_params", "resolved_epoch_length", *(c for c in COST_COLUMNS if not c.startswith("bytes_"))}


def _parse_cell(column: str, text: str) -> Any:
    if text == "":
        return None
    if column in _STR:
        return text
    if column in _INT:
        return int(text)
    param = PARAMS.get(column)
    if param is not None:
        return param.kind(text) if param.kind is not bool else text == "True"
    try:
        return float(text)
    except ValueError:
        return text


def _format_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _same(a: Any, b: Any) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


@attrs.frozen(eq=False)
class Table:
    """Rows of a results table (tuples, in ``columns`` order). Small helpers for plotting.

    Two tables are equal when they have the same columns and the same cells, NaN equal to NaN
    (a run's missing metric is NaN in every executor).
    """

    columns: tuple[str, ...]
    rows: tuple[tuple, ...]

    def __eq__(self, other) -> bool:
        if not isinstance(other, Table):
            return NotImplemented
        return (self.columns == other.columns and len(self.rows) == len(other.rows)
                and all(len(a) == len(b) and all(map(_same, a, b)) for a, b in zip(self.rows, other.rows)))

    __hash__ = None

    @classmethod
    def from_records(cls, records: Iterable[dict], columns: Iterable[str] | None = None) -> "Table":
        records = list(records)
        if columns is None:
            seen: dict[str, None] = {}
            for record in records:
                seen.update(dict.fromkeys(record))
            columns = list(seen)
        columns = tuple(columns)
        return cls(columns, tuple(tuple(r.get(c) for c in columns) for r in records))

    def __len__(self) -> int:
        return len(self.rows)

    def records(self) -> list[dict]:
        return [dict(zip(self.columns, row)) for row in self.rows]

    def _index(self, name: str) -> int:
        if name not in self.columns:
            raise KeyError(f"no column {name!r}; columns: {', '.join(self.columns)}")
        return self.columns.index(name)

    def column(self, name: str) -> list:
        i = self._index(name)
        return [row[i] for row in self.rows]

    def unique(self, name: str) -> list:
        """Distinct values of a column in order of first appearance."""
        return list(dict.fromkeys(self.column(name)))

    def where(self, keep_none: bool = False, **conditions) -> "Table":
        """Rows whose column equals the value (or is in the tuple/list of values). With ``keep_none``
        rows where the column is None (does not apply, e.g. the bits of full-precision SGD) stay."""
        tests = []
        for name, value in conditions.items():
            allowed = tuple(value) if isinstance(value, (list, tuple, set)) else (value,)
            tests.append((self._index(name), allowed + (None,) if keep_none else allowed))
        keep = tuple(r for r in self.rows if all(r[i] in allowed for i, allowed in tests))
        return Table(self.columns, keep)

    def group(self, names: Iterable[str]) -> dict[tuple, "Table"]:
        """Split by the values of ``names``, groups in order of first appearance. No names: one
        group ``()`` of every row (even none), so callers need no special case for "no lines"."""
        idx = [self.columns.index(n) for n in names]
        if not idx:
            return {(): self}
        groups: dict[tuple, list] = {}
        for row in self.rows:
            groups.setdefault(tuple(row[i] for i in idx), []).append(row)
        return {k: Table(self.columns, tuple(v)) for k, v in groups.items()}

    def final(self) -> "Table":
        """The last epoch of every run."""
        run, epoch = self.columns.index("run_id"), self.columns.index("epoch")
        last: dict[str, tuple] = {}
        for row in self.rows:
            if row[run] not in last or row[epoch] > last[row[run]][epoch]:
                last[row[run]] = row
        return Table(self.columns, tuple(last.values()))

    def drop(self, *names: str) -> "Table":
        keep = [i for i, c in enumerate(self.columns) if c not in names]
        return Table(tuple(self.columns[i] for i in keep), tuple(tuple(r[i] for i in keep) for r in self.rows))

    def varying(self, names: Iterable[str]) -> list[str]:
        """Those of ``names`` that are columns and take more than one value."""
        return [n for n in names if n in self.columns and len(self.unique(n)) > 1]

    # -- I/O -----------------------------------------------------------------------------------
    def to_csv_text(self) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(self.columns)
        writer.writerows([_format_cell(v) for v in row] for row in self.rows)
        return buf.getvalue()

    def write_csv(self, path: str | Path) -> None:
        """Write atomically: a reader (or a crash) sees the old file or the new one, never half."""
        atomic_write(Path(path), self.to_csv_text())

    @classmethod
    def read_csv(cls, path: str | Path) -> "Table":
        with open(path, newline="") as handle:
            reader = csv.reader(handle)
            try:
                columns = tuple(next(reader))
            except StopIteration:
                raise ValueError(f"{path}: empty results file (no header)") from None
            rows = []
            for number, row in enumerate(reader, 2):
                if len(row) != len(columns):
                    raise ValueError(f"{path}, line {number}: {len(row)} cells, the header has {len(columns)}")
                rows.append(tuple(_parse_cell(c, t) for c, t in zip(columns, row)))
        return cls(columns, tuple(rows))

    def to_pandas(self):
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("to_pandas needs pandas (pip install pandas); the CSV itself needs nothing") from None
        return pd.DataFrame.from_records(list(self.rows), columns=list(self.columns))


__all__ = ["Table", "RUN_COLUMNS", "HISTORY_COLUMNS", "PROBLEM_COLUMNS", "TIMING_COLUMNS"]
