"""The SQL storage's tables and the one mapping of a trial to a row (every field JSON text or a number).

Changing anything here changes the stored format: bump ``SCHEMA_VERSION`` in ``storage/base.py``.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from hyperknob._types import FrozenTrial, MetricPoint, TrialStatus
from hyperknob.exceptions import StorageError, StudyVersionError
from hyperknob.storage.base import SCHEMA_VERSION, dumps

__all__ = [
    "LIBRARY",
    "init_schema",
    "ALL_TRIALS",
    "INSERT_TRIAL",
    "PLACEHOLDER",
    "SOME_TRIALS",
    "STUDY_CONFIG",
    "STUDY_CONFIG_FOR_UPDATE",
    "STUDY_EXISTS",
    "changed_trials",
    "meta_table",
    "metadata",
    "number_params",
    "row_to_trial",
    "studies_table",
    "trial_columns",
    "trial_to_row",
    "trials_table",
    "update_statement",
]

LIBRARY = "hyperknob"  # the meta table's 'library': a database written by another program is refused
_SCHEMA_LOCK_KEY = 0x68797065726B6E6F  # pg_advisory_xact_lock key ("hyperkno") for creating the tables

metadata = sa.MetaData()
meta_table = sa.Table(
    "hyperknob_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
studies_table = sa.Table(
    "hyperknob_studies",
    metadata,
    sa.Column("study_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(512), nullable=False, unique=True),
    sa.Column("config", sa.Text, nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sqlite_autoincrement=True,
)
trials_table = sa.Table(
    "hyperknob_trials",
    metadata,
    sa.Column("trial_pk", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("study_id", sa.Integer, sa.ForeignKey("hyperknob_studies.study_id", ondelete="CASCADE"), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("trial_id", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("hp_values", sa.Text, nullable=False),
    sa.Column("space", sa.Text),
    sa.Column("metrics", sa.Text, nullable=False, default="{}"),
    sa.Column("score", sa.Float),
    sa.Column("best_step", sa.Integer),
    sa.Column("message", sa.Text),
    sa.Column("worker", sa.String(256)),
    sa.Column("run_count", sa.Integer, nullable=False, default=1),
    sa.Column("datetime_start", sa.Float),
    sa.Column("datetime_complete", sa.Float),
    sa.Column("heartbeat", sa.Float),
    sa.Column("user_attrs", sa.Text, nullable=False, default="{}"),
    sa.UniqueConstraint("study_id", "number", name="uq_trial_number"),
)

# Statements on the hot path are built once: building a statement costs more than running it.
_T = trials_table.c
STUDY_CONFIG = sa.select(studies_table.c.config).where(studies_table.c.study_id == sa.bindparam("sid"))
STUDY_CONFIG_FOR_UPDATE = STUDY_CONFIG.with_for_update()
STUDY_EXISTS = sa.select(studies_table.c.study_id).where(studies_table.c.study_id == sa.bindparam("sid"))
ALL_TRIALS = sa.select(trials_table).where(_T.study_id == sa.bindparam("sid"))
SOME_TRIALS = ALL_TRIALS.where(_T.number.in_(sa.bindparam("numbers", expanding=True)))
_FIXED_IN_MAX = 32  # up to this many numbers, one statement per count (an expanding IN is re-rendered each time)
INSERT_TRIAL = trials_table.insert()
_WHERE_TRIAL = (_T.study_id == sa.bindparam("sid"), _T.number == sa.bindparam("num"))
_JSON_FIELDS = {"values": "hp_values", "space": "space", "metrics": "metrics", "user_attrs": "user_attrs"}


@functools.lru_cache(maxsize=_FIXED_IN_MAX)
def _some_trials_fixed(count: int) -> Any:
    return ALL_TRIALS.where(_T.number.in_([sa.bindparam(f"n{i}") for i in range(count)]))


@functools.lru_cache(maxsize=_FIXED_IN_MAX + 2)
def changed_trials(count: int) -> Any:
    """The rows numbered from ``next`` on, and those of ``count`` given numbers below it (parameters:
    ``sid``, ``next`` and ``number_params``): what a process that has read the trials before ``next``
    and cached the finished ones must read again. A UNION ALL, not an OR, so that both halves are
    index lookups (SQLite scans the whole study for the OR)."""
    newer = ALL_TRIALS.where(_T.number >= sa.bindparam("next"))
    if count == 0:
        return newer
    listed = _some_trials_fixed(count) if count <= _FIXED_IN_MAX else SOME_TRIALS
    return sa.union_all(newer, listed)


def number_params(numbers: Sequence[int]) -> dict[str, Any]:
    if len(numbers) <= _FIXED_IN_MAX:
        return {f"n{i}": n for i, n in enumerate(numbers)}
    return {"numbers": list(numbers)}


def _metrics_to_json(metrics: Mapping[str, Sequence[MetricPoint]]) -> str:
    return dumps({name: [[p.step, p.value] for p in points] for name, points in metrics.items()})


def _json(row: Mapping[Any, Any], column: str, empty: str | None = None) -> Any:
    """A JSON cell of a trial's row; a cell that does not parse is named, with the trial."""
    text = row[column] or empty
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise StorageError(
            f"Study {row['study_id']}, trial {row['number']}: its {column} cell is damaged ({exc}); it is not "
            "JSON that hyperknob wrote. Restore the study from a backup, or start a new one."
        ) from exc


def _interned(data: Any) -> Any:
    """A parsed dict with its keys interned: every trial repeats the same parameter names, and a
    process caches every trial, so one copy of each name instead of one per trial."""
    if isinstance(data, dict):
        return {sys.intern(k) if isinstance(k, str) else k: v for k, v in data.items()}
    return data


def row_to_trial(row: Mapping[Any, Any]) -> FrozenTrial:
    try:
        return _row_to_trial(row)
    except StorageError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise StorageError(
            f"Study {row['study_id']}, trial {row['number']}: its stored row is damaged ({exc}). Restore the study "
            "from a backup, or copy every readable trial with `hyperknob recover PROJECT --to NEW`."
        ) from exc


def _row_to_trial(row: Mapping[Any, Any]) -> FrozenTrial:
    metrics = {
        sys.intern(name): tuple(MetricPoint(int(s), float(v) if v is not None else float("nan")) for s, v in points)
        for name, points in _json(row, "metrics", "{}").items()
    }
    return FrozenTrial(
        study_id=row["study_id"],
        number=row["number"],
        trial_id=row["trial_id"],
        status=TrialStatus(row["status"]),
        values=_interned(_json(row, "hp_values")),
        metrics=metrics,
        score=row["score"],
        best_step=row["best_step"],
        message=row["message"],
        worker=sys.intern(row["worker"]) if row["worker"] else row["worker"],
        run_count=row["run_count"],
        datetime_start=row["datetime_start"],
        datetime_complete=row["datetime_complete"],
        heartbeat=row["heartbeat"],
        user_attrs=_interned(_json(row, "user_attrs", "{}")),
        space=_json(row, "space"),
    )


def trial_to_row(trial: FrozenTrial) -> dict[str, Any]:
    return {
        "study_id": trial.study_id,
        "number": trial.number,
        "trial_id": trial.trial_id,
        "status": trial.status.value,
        "hp_values": dumps(dict(trial.values)),
        "space": dumps(trial.space) if trial.space is not None else None,
        "metrics": _metrics_to_json(trial.metrics),
        "score": trial.score,
        "best_step": trial.best_step,
        "message": trial.message,
        "worker": trial.worker,
        "run_count": trial.run_count,
        "datetime_start": trial.datetime_start,
        "datetime_complete": trial.datetime_complete,
        "heartbeat": trial.heartbeat,
        "user_attrs": dumps(dict(trial.user_attrs)),
    }


def trial_columns(trial: FrozenTrial, fields: Iterable[str]) -> dict[str, Any]:
    row = trial_to_row(trial)
    return {_JSON_FIELDS.get(f, f): row[_JSON_FIELDS.get(f, f)] for f in fields}


@functools.lru_cache(maxsize=64)
def update_statement(columns: tuple[str, ...], owned: bool) -> Any:
    where: tuple[sa.ColumnElement[bool], ...] = _WHERE_TRIAL
    if owned:
        where = (*where, _T.status == TrialStatus.RUNNING.value, _T.worker == sa.bindparam("owner"))
    return (
        trials_table.update()
        .where(*where)
        .values({c: sa.bindparam(c) for c in columns})
        .returning(*trials_table.columns)
    )


PLACEHOLDER = FrozenTrial(study_id=0, number=0, trial_id="", status=TrialStatus.RUNNING, values={})


def init_schema(conn: Any, postgres: bool, safe_url: str) -> None:
    """Create the tables in an empty database, or check that an existing one holds hyperknob's
    schema in this version; a database written by another version or program is refused, never
    altered. Runs inside a write transaction."""
    if postgres:
        # Workers started together on a fresh database create the tables one after another.
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_SCHEMA_LOCK_KEY)))
    tables = set(sa.inspect(conn).get_table_names())
    if meta_table.name in tables:
        meta = dict(conn.execute(sa.select(meta_table.c.key, meta_table.c.value)).all())
        if meta.get("library") != LIBRARY:
            raise StudyVersionError(
                f"{safe_url} was not written by hyperknob (library={meta.get('library')!r}). "
                "Use another directory/project_name or storage URL."
            )
        try:
            version = int(meta.get("schema_version", "-1"))
        except ValueError:
            raise StudyVersionError(
                f"{safe_url} holds schema version {meta.get('schema_version')!r}, which is not a number: the "
                "file was altered outside hyperknob. Restore it from a backup, or start a new study."
            ) from None
        if version != SCHEMA_VERSION:
            newer = version > SCHEMA_VERSION
            raise StudyVersionError(
                f"{safe_url} holds a study in schema version {version}, and this hyperknob reads "
                f"version {SCHEMA_VERSION}. "
                + ("Upgrade hyperknob to read it" if newer else "Open it with the hyperknob version that wrote it")
                + ", or start a new study: another project_name or storage, or overwrite=True "
                "(which replaces a project's own study.db file; a storage URL you named is never replaced)."
            )
        return
    foreign = sorted(t for t in tables if not t.startswith(("hyperknob_", "sqlite_")))
    if foreign:
        raise StudyVersionError(
            f"{safe_url} is not a hyperknob study: it holds other tables ({', '.join(foreign[:8])}). "
            "Use another directory/project_name or storage URL; hyperknob never writes into it."
        )
    metadata.create_all(conn)
    conn.execute(
        meta_table.insert(),
        [{"key": "library", "value": LIBRARY}, {"key": "schema_version", "value": str(SCHEMA_VERSION)}],
    )
