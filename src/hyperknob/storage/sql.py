"""Studies in a SQL database through SQLAlchemy Core: an SQLite file by default, any URL where given.

SQLite runs in WAL mode with ``synchronous=NORMAL``: a committed trial survives a killed process,
readers never block the writer, and every write transaction starts with ``BEGIN IMMEDIATE`` so
that a claim (read the trials, propose, insert) is one atomic step across processes. Other
databases lock the study's row (``SELECT ... FOR UPDATE``) for the same effect.

Everything is stored as JSON text; nothing is pickled. A metadata table carries the schema
version, and a file written by another version or another program is refused, never altered.
"""

from __future__ import annotations

import contextlib
import functools
import dataclasses
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from hyperknob._types import FrozenTrial, MetricPoint, TrialStatus
from hyperknob.exceptions import StorageError, StudyVersionError
from hyperknob.storage.base import (
    SCHEMA_VERSION,
    Storage,
    StudyRecord,
    ClaimTransaction,
    dumps,
    not_owned,
    study_gone,
)

__all__ = ["SQLStorage"]

LIBRARY = "hyperknob"
_BUSY_TIMEOUT_S = 120

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

_COLUMNS = [c.name for c in trials_table.columns]

# Statements on the hot path are built once: building a statement costs more than running it.
_T = trials_table.c
_STUDY_CONFIG = sa.select(studies_table.c.config).where(studies_table.c.study_id == sa.bindparam("sid"))
_TRIAL_HEADS = sa.select(_T.number, _T.status).where(_T.study_id == sa.bindparam("sid")).order_by(_T.number)
_ALL_TRIALS = sa.select(trials_table).where(_T.study_id == sa.bindparam("sid"))
_SOME_TRIALS = _ALL_TRIALS.where(_T.number.in_(sa.bindparam("numbers", expanding=True)))
_INSERT_TRIAL = trials_table.insert()
_WHERE_TRIAL = (_T.study_id == sa.bindparam("sid"), _T.number == sa.bindparam("num"))
_JSON_FIELDS = {"values": "hp_values", "space": "space", "metrics": "metrics", "user_attrs": "user_attrs"}


def _metrics_to_json(metrics: Mapping[str, Sequence[MetricPoint]]) -> str:
    return dumps({name: [[p.step, p.value] for p in points] for name, points in metrics.items()})


def _row_to_trial(row: Mapping[str, Any]) -> FrozenTrial:
    metrics = {
        name: tuple(MetricPoint(int(s), float(v) if v is not None else float("nan")) for s, v in points)
        for name, points in json.loads(row["metrics"] or "{}").items()
    }
    return FrozenTrial(
        study_id=row["study_id"],
        number=row["number"],
        trial_id=row["trial_id"],
        status=TrialStatus(row["status"]),
        values=json.loads(row["hp_values"]),
        metrics=metrics,
        score=row["score"],
        best_step=row["best_step"],
        message=row["message"],
        worker=row["worker"],
        run_count=row["run_count"],
        datetime_start=row["datetime_start"],
        datetime_complete=row["datetime_complete"],
        heartbeat=row["heartbeat"],
        user_attrs=json.loads(row["user_attrs"] or "{}"),
        space=json.loads(row["space"]) if row["space"] else None,
    )


def _trial_to_row(trial: FrozenTrial) -> dict[str, Any]:
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


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own handling is off).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_S * 1000}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("hyperknob_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class SQLStorage(Storage):
    """Storage in any SQLAlchemy database; ``sqlite:///path/to/study.db`` by default."""

    def __init__(self, url: str, engine_kwargs: Mapping[str, Any] | None = None) -> None:
        self.url = url
        kwargs = dict(engine_kwargs or {})
        parsed = sa.engine.make_url(url)
        self._sqlite = parsed.get_backend_name() == "sqlite"
        if self._sqlite:
            kwargs.setdefault("connect_args", {"timeout": _BUSY_TIMEOUT_S, "check_same_thread": False})
            if parsed.database in (None, "", ":memory:"):
                # One shared connection holds the in-memory database; threads take turns on it.
                kwargs.setdefault("poolclass", sa.pool.StaticPool)
                self._lock = threading.RLock()
            else:
                _check_sqlite_file(parsed.database)
        else:
            kwargs.setdefault("pool_pre_ping", True)
        try:
            self.engine = sa.create_engine(url, **kwargs)
        except ModuleNotFoundError as exc:
            hint = "pip install 'hyperknob[postgres]'" if parsed.get_backend_name() == "postgresql" else f"install {exc.name}"
            raise StorageError(
                f"Cannot open storage {parsed.render_as_string(hide_password=True)!r}: its database driver "
                f"{exc.name!r} is not installed. Fix: {hint}."
            ) from exc
        except Exception as exc:  # a malformed URL or an unknown dialect
            raise StorageError(f"Cannot open storage {parsed.render_as_string(hide_password=True)!r}: {exc}") from exc
        if self._sqlite:
            _configure_sqlite(self.engine)
        self._local = threading.local()
        # Finished trials never change again (writes to a trial require its owner while it runs);
        # caching them keeps a claim cheap on long studies.
        self._finished_cache: dict[int, dict[int, FrozenTrial]] = {}
        self._init_schema()

    # --- connections ------------------------------------------------------------------------------
    _lock: Any = contextlib.nullcontext()

    @contextlib.contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction (BEGIN IMMEDIATE on SQLite). Inside one, this thread's further reads and
        writes join it: a proposal that reads the study during a claim sees the same snapshot and
        cannot wait on its own lock."""
        current = getattr(self._local, "conn", None)
        if current is not None:
            yield current
            return
        with self._lock, self._translate_errors(), self.engine.connect() as conn:
            conn = conn.execution_options(hyperknob_write=True)
            with conn.begin():
                self._local.conn = conn
                try:
                    yield conn
                finally:
                    self._local.conn = None

    @contextlib.contextmanager
    def _read(self) -> Iterator[Connection]:
        # Never write inside a read: on a single-connection database that would nest transactions.
        current = getattr(self._local, "conn", None)
        if current is not None:
            yield current
            return
        with self._lock, self._translate_errors(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextlib.contextmanager
    def _translate_errors(self) -> Iterator[None]:
        try:
            yield
        except sa.exc.DatabaseError as exc:
            text = str(exc.orig) if getattr(exc, "orig", None) is not None else str(exc)
            if "file is not a database" in text or "file is encrypted" in text:
                raise StudyVersionError(
                    f"{self.url} is not a hyperknob study (not an SQLite database). "
                    "Point directory/project_name or storage= somewhere else, or remove the file."
                ) from exc
            if "readonly" in text or "unable to open" in text:
                raise StorageError(
                    f"Cannot write the study at {self.url}: {text}. Pass a writable directory= or storage=."
                ) from exc
            raise

    def close(self) -> None:
        self.engine.dispose()

    # --- schema -----------------------------------------------------------------------------------
    def _init_schema(self) -> None:
        # Workers started together on a fresh server database race to create the tables; the losers
        # see the winner's tables on the next attempt. (SQLite serialises this with BEGIN IMMEDIATE.)
        for attempt in range(5):
            try:
                self._init_schema_once()
                return
            except (sa.exc.IntegrityError, sa.exc.ProgrammingError):
                if attempt == 4:
                    raise
                time.sleep(0.05 * (attempt + 1))

    def _init_schema_once(self) -> None:
        with self._write() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            if meta_table.name in tables:
                meta = dict(conn.execute(sa.select(meta_table.c.key, meta_table.c.value)).all())
                if meta.get("library") != LIBRARY:
                    raise StudyVersionError(
                        f"{self.url} was not written by hyperknob (library={meta.get('library')!r}). "
                        "Use another directory/project_name or storage URL."
                    )
                version = int(meta.get("schema_version", "-1"))
                if version != SCHEMA_VERSION:
                    newer = version > SCHEMA_VERSION
                    raise StudyVersionError(
                        f"{self.url} holds a study in schema version {version}, and this hyperknob reads "
                        f"version {SCHEMA_VERSION}. "
                        + ("Upgrade hyperknob to read it" if newer else "Open it with the hyperknob version that wrote it")
                        + ", or start a new study: another project_name or storage, or overwrite=True "
                        "(which replaces a project's own study.db file; a storage URL you named is never replaced)."
                    )
                return
            foreign = sorted(t for t in tables if not t.startswith("hyperknob_"))
            if foreign:
                raise StudyVersionError(
                    f"{self.url} is not a hyperknob study: it holds other tables ({', '.join(foreign[:8])}). "
                    "Use another directory/project_name or storage URL; hyperknob never writes into it."
                )
            metadata.create_all(conn)
            conn.execute(
                meta_table.insert(),
                [{"key": "library", "value": LIBRARY}, {"key": "schema_version", "value": str(SCHEMA_VERSION)}],
            )

    # --- studies ----------------------------------------------------------------------------------
    def _record(self, row: Any) -> StudyRecord:
        return StudyRecord(row.study_id, row.name, json.loads(row.config), row.created)

    def create_study(self, name: str, config: Mapping[str, Any], overwrite: bool = False) -> StudyRecord:
        for attempt in range(5):
            try:
                return self._create_study_once(name, config, overwrite)
            except sa.exc.IntegrityError:
                # Another worker created the study between our read and our insert: read it back.
                if attempt == 4:
                    raise
                overwrite = False
        raise AssertionError("unreachable")

    def _create_study_once(self, name: str, config: Mapping[str, Any], overwrite: bool) -> StudyRecord:
        with self._write() as conn:
            row = conn.execute(sa.select(studies_table).where(studies_table.c.name == name)).first()
            if row is not None and overwrite:
                conn.execute(trials_table.delete().where(trials_table.c.study_id == row.study_id))
                conn.execute(studies_table.delete().where(studies_table.c.study_id == row.study_id))
                self._finished_cache.pop(row.study_id, None)
                row = None
            if row is not None:
                return self._record(row)
            conn.execute(studies_table.insert().values(name=name, config=dumps(dict(config)), created=time.time()))
            row = conn.execute(sa.select(studies_table).where(studies_table.c.name == name)).one()
            self._finished_cache.pop(row.study_id, None)
            return self._record(row)

    def load_study(self, name: str) -> StudyRecord | None:
        with self._read() as conn:
            row = conn.execute(sa.select(studies_table).where(studies_table.c.name == name)).first()
        return None if row is None else self._record(row)

    def list_studies(self) -> list[StudyRecord]:
        with self._read() as conn:
            rows = conn.execute(sa.select(studies_table).order_by(studies_table.c.study_id)).all()
        return [self._record(r) for r in rows]

    def delete_study(self, name: str) -> None:
        with self._write() as conn:
            row = conn.execute(sa.select(studies_table.c.study_id).where(studies_table.c.name == name)).first()
            if row is None:
                return
            conn.execute(trials_table.delete().where(trials_table.c.study_id == row.study_id))
            conn.execute(studies_table.delete().where(studies_table.c.study_id == row.study_id))
            self._finished_cache.pop(row.study_id, None)

    def update_study_config(
        self, study_id: int, update: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> dict[str, Any]:
        with self._write() as conn:
            row = conn.execute(
                sa.select(studies_table.c.config).where(studies_table.c.study_id == study_id).with_for_update()
            ).one()
            config = update(json.loads(row.config))
            conn.execute(
                studies_table.update().where(studies_table.c.study_id == study_id).values(config=dumps(config))
            )
            return config

    # --- trials -----------------------------------------------------------------------------------
    def _load_trials(self, conn: Connection, study_id: int) -> list[FrozenTrial]:
        cache = self._finished_cache.setdefault(study_id, {})
        heads = conn.execute(_TRIAL_HEADS, {"sid": study_id}).all()
        stale = [n for n, status in heads if not (n in cache and cache[n].status.value == status)]
        fresh: dict[int, FrozenTrial] = {}
        if stale:
            if len(stale) < len(heads):
                rows = conn.execute(_SOME_TRIALS, {"sid": study_id, "numbers": stale})
            else:
                rows = conn.execute(_ALL_TRIALS, {"sid": study_id})
            for row in rows.mappings():
                trial = _row_to_trial(row)
                fresh[trial.number] = trial
                if trial.status.is_finished:
                    cache[trial.number] = trial
        return [fresh[n] if n in fresh else cache[n] for n, _status in heads]

    @contextlib.contextmanager
    def _claim_transaction(self, study_id: int) -> Iterator[ClaimTransaction]:
        with self._write() as conn:
            # Locking the study row serialises claims on servers; SQLite is serialised by BEGIN IMMEDIATE.
            query = _STUDY_CONFIG if self._sqlite else _STUDY_CONFIG.with_for_update()
            config = conn.execute(query, {"sid": study_id}).scalar()
            if config is None:
                raise study_gone(study_id, self.url)
            yield _SQLTransaction(self, conn, self._load_trials(conn, study_id), json.loads(config))

    def _write_fields(self, conn: Connection, trial: FrozenTrial, fields: Sequence[str], owner: str | None = None) -> FrozenTrial:
        row = _trial_to_row(trial)
        columns = {_JSON_FIELDS.get(f, f): row[_JSON_FIELDS.get(f, f)] for f in fields}
        params = {"sid": trial.study_id, "num": trial.number, **columns}
        if owner is not None:
            params["owner"] = owner
        updated = conn.execute(_update_statement(tuple(sorted(columns)), owner is not None), params).mappings().first()
        if updated is None:
            if owner is not None:
                raise not_owned(trial.study_id, trial.number, owner)
            raise study_gone(trial.study_id, self.url)
        return _row_to_trial(updated)

    def get_trials(self, study_id: int, statuses: Sequence[TrialStatus] | None = None) -> list[FrozenTrial]:
        with self._read() as conn:
            trials = self._load_trials(conn, study_id)
        if statuses is not None:
            trials = [t for t in trials if t.status in statuses]
        return trials

    def get_trial(self, study_id: int, number: int) -> FrozenTrial:
        with self._read() as conn:
            row = (
                conn.execute(
                    sa.select(trials_table).where(trials_table.c.study_id == study_id, trials_table.c.number == number)
                )
                .mappings()
                .first()
            )
        if row is None:
            raise KeyError(f"Study {study_id} has no trial number {number}.")
        return _row_to_trial(row)

    def report(
        self, study_id: int, number: int, step: int, metrics: Mapping[str, float], *, owner: str | None = None
    ) -> None:
        with self._write() as conn:
            where = (trials_table.c.study_id == study_id, trials_table.c.number == number)
            row = conn.execute(sa.select(trials_table.c.metrics, trials_table.c.status, trials_table.c.worker).where(*where)).first()
            if row is None:
                raise study_gone(study_id, self.url)
            if owner is not None and (row.status != TrialStatus.RUNNING.value or row.worker != owner):
                raise not_owned(study_id, number, owner)
            history = json.loads(row.metrics or "{}")
            for name, value in metrics.items():
                points = [p for p in history.get(name, []) if p[0] != step]
                points.append([int(step), float(value)])
                history[name] = sorted(points, key=lambda p: p[0])
            if owner is not None:
                # Checked again in the write itself: a server database does not lock the row read above.
                where = (*where, trials_table.c.status == TrialStatus.RUNNING.value, trials_table.c.worker == owner)
            updated = conn.execute(trials_table.update().where(*where).values(metrics=dumps(history), heartbeat=time.time()))
            if updated.rowcount == 0:
                raise not_owned(study_id, number, owner or "?")

    def update_trial(self, study_id: int, number: int, *, owner: str | None = None, **fields: Any) -> FrozenTrial:
        unknown = set(fields) - set(FrozenTrial.__dataclass_fields__)
        if unknown:
            raise TypeError(f"Unknown trial fields: {sorted(unknown)}")
        template = dataclasses.replace(_PLACEHOLDER, study_id=study_id, number=number, **fields)
        with self._write() as conn:
            return self._write_fields(conn, template, list(fields), owner)


class _SQLTransaction:
    def __init__(self, storage: SQLStorage, conn: Connection, trials: list[FrozenTrial], config: dict[str, Any]) -> None:
        self._storage = storage
        self._conn = conn
        self.trials = trials
        self.config = config

    def insert(self, trial: FrozenTrial) -> None:
        self._conn.execute(_INSERT_TRIAL, _trial_to_row(trial))

    def write(self, trial: FrozenTrial, fields: Sequence[str]) -> None:
        self._storage._write_fields(self._conn, trial, fields)


@functools.lru_cache(maxsize=64)
def _update_statement(columns: tuple[str, ...], owned: bool) -> Any:
    where = _WHERE_TRIAL
    if owned:
        where = (*where, _T.status == TrialStatus.RUNNING.value, _T.worker == sa.bindparam("owner"))
    return (
        trials_table.update()
        .where(*where)
        .values({c: sa.bindparam(c) for c in columns})
        .returning(*trials_table.columns)
    )


_PLACEHOLDER = FrozenTrial(study_id=0, number=0, trial_id="", status=TrialStatus.RUNNING, values={})


def _check_sqlite_file(path: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise StorageError(
            f"Cannot create the study folder {folder!r}: {exc.strerror or exc}. "
            "Pass a writable directory= (or storage=) to the tuner or study."
        ) from exc
    if not os.access(folder, os.W_OK):
        raise StorageError(f"The study folder {folder!r} is not writable. Pass a writable directory= or storage=.")
    if os.path.isdir(path):
        raise StorageError(f"The study path {path!r} is a folder, not a database file.")
