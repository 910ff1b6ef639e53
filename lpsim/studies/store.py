"""The results store of one study: a folder that survives kill -9 at any instant.

Layout of a results folder::

    study.json        the validated study (what ``lpsim resume`` reruns)
    runs/<id>.json    one file per finished run: its spec, status, history, timing
    results.csv       the tidy table, rebuilt from runs/ (derived, never the source of truth)
    figures/          plots

Why nothing is lost or duplicated: a run exists in the store iff ``runs/<id>.json``
exists, and that file appears in one step: it is written to a temporary name in the
same folder, flushed and fsynced, then ``os.replace``d onto its final name (atomic on
POSIX and Windows), and the folder is fsynced. A crash before the rename leaves only a
temporary file (ignored, removed on the next start) and the run is redone; after it
the run is complete. Ids are hashes of the run spec, so a run is stored at most once.
``results.csv`` is written the same way and can always be rebuilt (``lpsim plot``
and ``lpsim resume`` do so).
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from typing import Iterable

from .atomic import TEMP_SUFFIX as _TEMP_SUFFIX
from .atomic import atomic_write
from .spec import RunSpec, Study
from .table import HISTORY_COLUMNS, PROBLEM_COLUMNS, TIMING_COLUMNS, Table
from .schema import PARAMS

_RUN_FILE = re.compile(r"^[0-9a-f]{16}\.json$")


class StoreError(ValueError):
    """A results folder that cannot be used (missing study, unreadable files)."""


class ResultsStore:
    """One study's results folder (see the module docstring for the layout and guarantees)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.runs_dir = self.root / "runs"
        self.study_file = self.root / "study.json"
        self.table_file = self.root / "results.csv"
        self.figures_dir = self.root / "figures"

    # -- study ---------------------------------------------------------------------------------
    def prepare(self, study: Study) -> bool:
        """Create the folder and save the study. Returns True if it replaced a different study."""
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.remove_temporaries()
        text = study.to_json()
        saved = self.study_file.read_text() if self.study_file.exists() else None
        if saved != text:
            atomic_write(self.study_file, text)
        return saved is not None and saved != text

    def load_study(self) -> Study:
        if not self.study_file.exists():
            raise StoreError(f"{self.root}: not a results folder (no study.json); run `lpsim run STUDY.toml` first")
        try:
            raw = json.loads(self.study_file.read_text())
        except json.JSONDecodeError as exc:
            raise StoreError(f"{self.study_file}: unreadable ({exc})") from None
        return Study.from_dict(raw, source=str(self.study_file))

    # -- runs ----------------------------------------------------------------------------------
    def remove_temporaries(self) -> None:
        for folder in (self.root, self.runs_dir):
            if folder.exists():
                for temp in folder.glob(f".*{_TEMP_SUFFIX}"):
                    temp.unlink(missing_ok=True)

    def finished_ids(self) -> set[str]:
        if not self.runs_dir.exists():
            return set()
        return {p.name[:-5] for p in self.runs_dir.iterdir() if _RUN_FILE.match(p.name)}

    def write_run(self, spec: RunSpec, result: dict, study_name: str = "") -> None:
        from .. import __version__

        record = {
            "id": spec.id,
            "semantics": spec.semantics,
            "lpsim_version": __version__,
            "study": study_name,
            "params": spec.params,
            **result,
        }
        atomic_write(self.runs_dir / f"{spec.id}.json", json.dumps(record, allow_nan=True))

    def read_run(self, run_id: str) -> dict | None:
        path = self.runs_dir / f"{run_id}.json"
        try:
            return json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:  # only if edited by hand: files appear whole
            warnings.warn(f"{path}: unreadable run file ({exc}); the run will be redone", stacklevel=2)
            return None

    # -- the tidy table ------------------------------------------------------------------------
    def table(self, study: Study, runs: Iterable[RunSpec] | None = None) -> Table:
        """The tidy table of the study's finished runs, in grid order (independent of finishing order)."""
        metrics = [m for m in HISTORY_COLUMNS if m == "epoch" or m in study.record]
        columns = ["run_id", "study", *PARAMS, *metrics, *PROBLEM_COLUMNS, "status", *TIMING_COLUMNS]
        rows = []
        for spec in study.runs() if runs is None else runs:
            record = self.read_run(spec.id)
            if record is None:
                continue
            rows.extend(run_rows(record, study.name, metrics))
        return Table.from_records(rows, columns)

    def compact(self, study: Study) -> Table:
        """Rebuild results.csv from runs/ (atomically) and return the table."""
        table = self.table(study)
        table.write_csv(self.table_file)
        return table


def run_rows(record: dict, study_name: str, metrics: list[str]) -> list[dict]:
    """One row per epoch of a stored run."""
    base = {"run_id": record["id"], "study": study_name, **record["params"]}
    base.update(record.get("problem", {}))
    base["status"] = record.get("status")
    base["seconds"] = record.get("seconds")
    history = record.get("history", {})
    epochs = history.get("epoch") or [None]
    rows = []
    for i, epoch in enumerate(epochs):
        row = dict(base)
        for name in metrics:
            values = history.get(name)
            row[name] = values[i] if values is not None and i < len(values) else None
        row["epoch"] = epoch
        rows.append(row)
    return rows
