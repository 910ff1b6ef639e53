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

A run file that is nevertheless damaged (truncated or edited by hand, another tool,
a failing disk) is not a finished run: ``scan`` reports it and the driver reruns it,
which replaces the file.

Several lpsim processes may work on one folder at once (two ``lpsim run``, a ``resume``
and a ``plot``): each holds a shared lock on ``.lpsim.lock`` while it writes, and
leftover temporary files are deleted only by a process that can take that lock
exclusively, i.e. when no other lpsim process is writing there. Without the lock a
start-up sweep could delete the temporary file another process is about to rename.
"""

from __future__ import annotations

import contextlib
import json
import re
import os
import time
import warnings
from pathlib import Path
from typing import Iterable, Iterator

import attrs

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; temporaries are swept by age instead
    fcntl = None

from ..cost import COST_COLUMNS, ENERGY_COLUMNS, Cost, EnergyTable, default_table
from .atomic import TEMP_SUFFIX as _TEMP_SUFFIX
from .atomic import atomic_write
from .outcome import with_outcomes
from .spec import RunSpec, Study, shown_params
from .table import HISTORY_COLUMNS, PROBLEM_COLUMNS, TIMING_COLUMNS, Table
from .schema import PARAMS

_RUN_FILE = re.compile(r"^[0-9a-f]{16}\.json$")
# atomic_write's temporary names: .<target>.<pid>.<8 hex>.tmp (nothing else is ever deleted)
_TEMP_FILE = re.compile(r"^\..+\.[0-9]+\.[0-9a-f]{8}\.tmp$")
_LOCK_NAME = ".lpsim.lock"
# What a start of lpsim leaves before it writes study.json (a folder holding only these,
# and temporary files, is one of ours); study.json marks every later state.
_EARLY_LAYOUT = {"runs", _LOCK_NAME}
# Without locks (Windows) a temporary file this old cannot belong to a live write.
_STALE_SECONDS = 3600.0


class StoreError(ValueError):
    """A results folder that cannot be used (missing study, unreadable files, someone else's folder)."""


@attrs.frozen
class DamagedRun:
    """A run file that is not a complete run (truncated, empty, binary, missing keys): it is rerun."""

    path: Path
    reason: str


def run_record_problem(record, run_id: str) -> str:
    """Why ``record`` (a parsed run file) cannot be a finished run ``run_id``, or "" if it can.

    Checks what the tidy table reads from it (``run_rows``): the id, the parameters (which
    must hash to that id), a status, a per-epoch history of equal-length lists, the problem
    constants and the run time.
    """
    from .spec import RunSpec

    if not isinstance(record, dict):
        return f"holds a JSON {type(record).__name__}, not an object"
    missing = [key for key in ("id", "params", "status", "history", "problem", "seconds") if key not in record]
    if missing:
        return f"lacks {', '.join(map(repr, missing))}"
    if record["id"] != run_id:
        return f"its id {record['id']!r} is not its file name's"
    params = record["params"]
    if not isinstance(params, dict):
        return "its 'params' are not an object"
    try:  # a parameter missing from an older file means None (does not apply), as in the id
        same_run = RunSpec(params={**dict.fromkeys(PARAMS), **params}).id == run_id
    except Exception:  # hand-edited values may break any part of the hashing: not this run either way
        same_run = False
    if not same_run:
        return "its 'params' do not hash to its id"
    if not isinstance(record["status"], str) or not record["status"]:
        return "its 'status' is not a string"
    if not isinstance(record["problem"], dict):
        return "its 'problem' is not an object"
    if not _is_number(record["seconds"]):
        return "its 'seconds' is not a number"
    history = record["history"]
    if not isinstance(history, dict) or not isinstance(history.get("epoch"), list) or not history["epoch"]:
        return "its 'history' has no list of epochs"
    for name, values in history.items():
        if name not in HISTORY_COLUMNS:
            continue
        if not isinstance(values, list) or len(values) != len(history["epoch"]):
            return f"its history {name!r} is not a list with one value per epoch"
        if not all(v is None or _is_number(v) for v in values):
            return f"its history {name!r} holds values that are not numbers"
    return ""


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class ResultsStore:
    """One study's results folder (see the module docstring for the layout and guarantees)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.runs_dir = self.root / "runs"
        self.study_file = self.root / "study.json"
        self.table_file = self.root / "results.csv"
        self.figures_dir = self.root / "figures"
        self.lock_file = self.root / _LOCK_NAME
        self._lock_fd: int | None = None

    # -- sharing the folder with other lpsim processes -----------------------------------------
    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        """Hold the folder (a shared lock) while writing to it; sweep crash leftovers if alone.

        Any number of processes may hold a session at once; leftover temporary files are
        deleted only when this process is the only holder, so no live write is ever swept.
        Nested sessions of one store share its lock. The folder must exist.
        """
        if self._lock_fd is not None:
            yield
            return
        if fcntl is None or not self.root.is_dir():
            self._sweep_stale_temporaries()
            yield
            return
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
        self._lock_fd = fd
        try:
            self._sweep_if_alone()
            yield
        finally:
            self._lock_fd = None
            os.close(fd)  # releases the lock (so does the death of this process)

    def _sweep_if_alone(self) -> None:
        fd = self._lock_fd
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # another process holds the folder: its temporary files may be live
        else:
            self._delete_temporaries(lambda path: True)
        finally:
            # back to shared (also after a failed upgrade, which may have dropped the lock)
            fcntl.flock(fd, fcntl.LOCK_SH)

    def _sweep_stale_temporaries(self) -> None:
        now = time.time()
        self._delete_temporaries(lambda path: now - path.stat().st_mtime > _STALE_SECONDS)

    def _delete_temporaries(self, abandoned) -> None:
        for folder in (self.root, self.runs_dir):
            if not folder.is_dir():
                continue
            for temp in folder.iterdir():
                if _TEMP_FILE.match(temp.name):
                    try:
                        if abandoned(temp):
                            temp.unlink()
                    except FileNotFoundError:  # renamed or swept meanwhile
                        pass

    def _check_ours(self) -> None:
        """Refuse a folder that exists, is not empty and is not an lpsim results folder."""
        if not self.root.exists():
            return
        if not self.root.is_dir():
            raise StoreError(f"{self.root}: not a folder; the results folder must be a new, empty or "
                             "earlier lpsim results folder")
        if self._has_study_file():
            return
        foreign = sorted(p.name for p in self.root.iterdir()
                         if p.name not in _EARLY_LAYOUT and not _TEMP_FILE.match(p.name))
        if not foreign:
            return
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise StoreError(
            f"{self.root}: refusing to use this folder for results: it is not empty ({shown}) and not an lpsim "
            "results folder (no study.json), and a study writes results.csv, runs/ and figures/ into it; "
            "choose a new or empty folder (--out DIR)")

    def _has_study_file(self) -> bool:
        try:
            raw = json.loads(self.study_file.read_text())
        except (OSError, ValueError):
            return False
        return isinstance(raw, dict) and isinstance(raw.get("study"), dict)

    # -- study ---------------------------------------------------------------------------------
    def prepare(self, study: Study) -> bool:
        """Create the folder and save the study. Returns True if it replaced a different study.

        Raises StoreError if the folder exists, is not empty and is not an lpsim results folder.
        """
        self._check_ours()
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        with self.session():
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
        """Delete leftover temporary files unless another lpsim process is writing here (then
        they may be live; a later start sweeps them). The start of every session does this."""
        if not self.root.is_dir():
            return
        if self._lock_fd is not None:
            self._sweep_if_alone()
            return
        with self.session():
            pass

    def finished_ids(self) -> set[str]:
        """Ids of the run files present (complete or not: ``scan`` checks them)."""
        if not self.runs_dir.exists():
            return set()
        return {p.name[:-5] for p in self.runs_dir.iterdir() if _RUN_FILE.match(p.name)}

    def scan(self, runs: Iterable[RunSpec]) -> tuple[set[str], tuple[DamagedRun, ...]]:
        """(ids of ``runs`` that are finished, run files of ``runs`` that are damaged)."""
        present = self.finished_ids()
        done, damaged = set(), []
        for spec in runs:
            if spec.id not in present or spec.id in done:
                continue
            record, reason = self._load_run(spec.id)
            if record is not None:
                done.add(spec.id)
            elif reason:
                damaged.append(DamagedRun(self.runs_dir / f"{spec.id}.json", reason))
        return done, tuple(damaged)

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
        with self.session():
            atomic_write(self.runs_dir / f"{spec.id}.json", json.dumps(record, allow_nan=True))

    def _load_run(self, run_id: str) -> tuple[dict | None, str]:
        """(the record, "") for a complete run file; (None, why) for a damaged one; (None, "") if absent."""
        path = self.runs_dir / f"{run_id}.json"
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None, ""
        if not data.strip():
            return None, "is empty"
        try:
            record = json.loads(data.decode("utf-8"))
        except UnicodeDecodeError:
            return None, "is not text (binary data)"
        except json.JSONDecodeError as exc:
            return None, f"is not valid JSON, truncated or corrupted ({exc})"
        reason = run_record_problem(record, run_id)
        return (None, reason) if reason else (record, "")

    def read_run(self, run_id: str) -> dict | None:
        """The record of a finished run, or None if absent or damaged (with a warning: such a run
        is left out of the table until ``lpsim resume`` reruns it)."""
        record, reason = self._load_run(run_id)
        if reason:
            warnings.warn(f"{self.runs_dir / f'{run_id}.json'}: damaged run file ({reason}); left out of the "
                          f"table until `lpsim resume {self.root}` reruns it", stacklevel=2)
        return record

    # -- the tidy table ------------------------------------------------------------------------
    def table(self, study: Study, runs: Iterable[RunSpec] | None = None) -> Table:
        """The tidy table of the study's finished runs, in grid order (independent of finishing order),
        parameters as the table shows them (``shown_params``) and each run's ``outcome``."""
        stored = self._stored_table(study, runs)
        shown = Table.from_records([shown_params(record) for record in stored.records()], stored.columns)
        return with_outcomes(shown, study.outcome_rule, study.reference_settings)

    def _stored_table(self, study: Study, runs: Iterable[RunSpec] | None = None) -> Table:
        """The rows of the finished runs as their files hold them."""
        metrics = [m for m in HISTORY_COLUMNS if m == "epoch" or m in study.record]
        columns = ["run_id", "study", *PARAMS, *metrics, *PROBLEM_COLUMNS, *COST_COLUMNS, *ENERGY_COLUMNS, "status",
                   *TIMING_COLUMNS]
        rows = []
        for spec in study.runs() if runs is None else runs:
            record = self.read_run(spec.id)
            if record is None:
                continue
            rows.extend(run_rows(record, study.name, metrics, study.energy_table))
        return Table.from_records(rows, columns)

    def compact(self, study: Study) -> Table:
        """Rebuild results.csv from runs/ (atomically) and return the table."""
        table = self.table(study)
        with self.session():
            table.write_csv(self.table_file)
        return table


def run_rows(record: dict, study_name: str, metrics: list[str], energy: EnergyTable | None = None) -> list[dict]:
    """One row per epoch of a stored run; its cost counts (if recorded) priced by ``energy`` (default table)."""
    base = {"run_id": record["id"], "study": study_name, **record["params"]}
    base.update(record.get("problem", {}))
    if isinstance(record.get("cost"), dict):
        cost = Cost.from_json(record["cost"])
        base.update(cost.columns())
        base.update((energy or default_table()).estimate(cost))
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
