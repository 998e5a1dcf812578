"""Check a study file, and copy what can still be read out of a damaged one.

Both read the damaged file through SQLite's read-only mode and never write to it: whatever is
wrong with it stays as it was, for a backup tool or a second look. ``recover`` writes a new study
file with every readable study and trial under its own number and ``trial_id`` (so checkpoint
folders still match). A trial that cannot be read leaves a FAILED placeholder under its number,
saying so: a study's numbers stay gap-free, and no new trial takes an old trial's id.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
from typing import Any

from hyperknob.exceptions import StorageError
from hyperknob.storage.sql_engine import open_sqlite_read_only

__all__ = ["CheckReport", "check_study_file", "recover_study_file"]

_TRIAL_COLUMNS = (
    "study_id", "number", "trial_id", "status", "hp_values", "space", "metrics", "score", "best_step", "message",
    "worker", "run_count", "datetime_start", "datetime_complete", "heartbeat", "user_attrs",
)
_JSON_COLUMNS = ("hp_values", "space", "metrics", "user_attrs")


@dataclasses.dataclass
class CheckReport:
    """What ``check_study_file`` found: the problems in words, and the trials it could read."""

    path: str
    problems: list[str] = dataclasses.field(default_factory=list)
    studies: dict[str, int] = dataclasses.field(default_factory=dict)  # study name -> readable trials
    unreadable: list[str] = dataclasses.field(default_factory=list)  # "study 'x', trial 3: why"

    @property
    def ok(self) -> bool:
        return not self.problems and not self.unreadable


def _open_read_only(path: str) -> sqlite3.Connection:
    if not os.path.isfile(path):
        raise StorageError(f"No study file at {path}.")
    conn: sqlite3.Connection = open_sqlite_read_only(path)
    return conn


def _readable_rows(conn: sqlite3.Connection, report: CheckReport) -> dict[int, list[dict[str, Any]]]:
    """Every trial row that reads back whole, by study id. Rows are fetched one key at a time, so
    one damaged page costs only the rows on it."""
    by_study: dict[int, list[dict[str, Any]]] = {}
    try:
        keys = [row[0] for row in conn.execute("SELECT trial_pk FROM hyperknob_trials ORDER BY study_id, number")]
    except sqlite3.DatabaseError as exc:
        report.problems.append(f"the trials' index cannot be read ({exc})")
        keys = list(range(1, 1 + _max_key(conn)))
    names = ", ".join(_TRIAL_COLUMNS)
    for key in keys:
        try:
            row = conn.execute(f"SELECT {names} FROM hyperknob_trials WHERE trial_pk = ?", (key,)).fetchone()
        except sqlite3.DatabaseError as exc:
            report.unreadable.append(f"trial row {key}: {exc}")
            continue
        if row is None:
            continue
        record = dict(zip(_TRIAL_COLUMNS, row, strict=True))
        bad = [c for c in _JSON_COLUMNS if record[c] is not None and not _parses(record[c])]
        if bad:
            report.unreadable.append(f"study {record['study_id']}, trial {record['number']}: damaged {', '.join(bad)}")
            continue
        by_study.setdefault(record["study_id"], []).append(record)
    return by_study


def _max_key(conn: sqlite3.Connection) -> int:
    try:
        return int(conn.execute("SELECT max(trial_pk) FROM hyperknob_trials").fetchone()[0] or 0)
    except sqlite3.DatabaseError:
        return 0


def _parses(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _read(path: str) -> tuple[CheckReport, list[tuple[str, dict[str, Any], list[dict[str, Any]]]]]:
    report = CheckReport(path)
    conn = _open_read_only(path)
    studies: list[tuple[str, dict[str, Any], list[dict[str, Any]]]] = []
    try:
        try:
            verdict = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            if verdict != ["ok"]:
                report.problems += [f"integrity: {line}" for line in verdict[:10]]
            meta = dict(conn.execute("SELECT key, value FROM hyperknob_meta").fetchall())
            if meta.get("library") != "hyperknob":
                report.problems.append(f"not a hyperknob study (library={meta.get('library')!r})")
            rows = conn.execute("SELECT study_id, name, config FROM hyperknob_studies ORDER BY study_id").fetchall()
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            report.problems.append(f"the file cannot be read as a study ({exc})")
            return report, studies
        trials = _readable_rows(conn, report)
        for study_id, name, config in rows:
            if not _parses(config):
                report.unreadable.append(f"study {name!r}: its configuration is damaged")
                continue
            readable = trials.get(study_id, [])
            report.studies[name] = len(readable)
            studies.append((name, json.loads(config), readable))
    finally:
        conn.close()
    return report, studies


def check_study_file(path: str) -> CheckReport:
    """SQLite's integrity check, the schema's owner, and every study and trial read back."""
    return _read(path)[0]


def recover_study_file(path: str, to_dir: str) -> CheckReport:
    """Copy every readable study and trial of ``path`` into a new study file in ``to_dir``."""
    from hyperknob._types import FrozenTrial, TrialStatus
    from hyperknob.storage import default_sqlite_url
    from hyperknob.storage.base import trial_id_for
    from hyperknob.storage.sql import SQLStorage
    from hyperknob.storage.sql_schema import INSERT_TRIAL, trial_to_row

    target = os.path.join(to_dir, "study.db")
    if os.path.exists(target):
        raise StorageError(f"{target} exists already: recover into a new folder, so that nothing is overwritten.")
    report, studies = _read(path)
    storage = SQLStorage(default_sqlite_url(to_dir))
    try:
        for name, config, trials in studies:
            study_id = storage.create_study(name, config).study_id
            by_number = {record["number"]: record for record in trials}
            with storage._write() as conn:
                for number in range(max(by_number, default=-1) + 1):
                    record = by_number.get(number) or trial_to_row(FrozenTrial(
                        study_id=study_id, number=number, trial_id=trial_id_for(number, config.get("max_trials")),
                        status=TrialStatus.FAILED, values={},
                        message=f"This trial could not be read from the damaged study file {path}.",
                    ))
                    conn.execute(INSERT_TRIAL, {**record, "study_id": study_id})
    finally:
        storage.close()
    return report
