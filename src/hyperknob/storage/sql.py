"""Studies in a SQL database through SQLAlchemy Core: an SQLite file by default, any URL where given.

A claim (read the trials, propose, insert) is one atomic step across processes: on SQLite every
write transaction starts with ``BEGIN IMMEDIATE``; other databases (PostgreSQL for several
machines) lock the study's row (``SELECT ... FOR UPDATE``) under READ COMMITTED. Every transaction
runs again after a transient error (serialization failure, deadlock, dropped connection, server
restarting or out of connection slots) for up to ``retry_timeout_s`` seconds: each public method
is one ``@retried`` transaction. A transaction whose COMMIT was cut off may or may not have
happened; claims and trial writes are safe to run again (see ``claim_trial`` and
``update_trial``). Every round trip wakes the server process, so reads and one-statement writes
run without BEGIN and COMMIT (a single statement is atomic on its own): a trial of the worker loop
costs six round trips (seven when other workers are active), three of them while the study's row
is locked.

The parts, one job each: ``sql_engine`` (connection set-up and the SQLite writer queue),
``sql_retry`` (which errors are transient, the retry loop), ``sql_schema`` (tables, rows and
statements, the schema check), ``sql_cache`` (what this process has read of a study's trials).
Everything is stored as JSON text; nothing is pickled.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hyperknob._types import FrozenTrial, TrialStatus
from hyperknob.exceptions import StorageError, TrialNotOwnedError
from hyperknob.storage.base import (
    Claim,
    ClaimTransaction,
    OrphanFn,
    ProposeFn,
    Storage,
    StudyRecord,
    dumps,
    not_owned,
    study_gone,
)
from hyperknob.storage.sql_cache import TrialCache, read_trials
from hyperknob.storage.sql_engine import create_sql_engine
from hyperknob.storage.sql_retry import is_transient, orig_text, run_with_retries, translate_errors
from hyperknob.storage.sql_schema import (
    INSERT_TRIAL,
    PLACEHOLDER,
    STUDY_CONFIG,
    STUDY_CONFIG_FOR_UPDATE,
    init_schema,
    row_to_trial,
    studies_table,
    trial_columns,
    trial_to_row,
    trials_table,
    update_statement,
)

__all__ = ["SQLStorage", "is_transient"]

_R = TypeVar("_R")
_F = TypeVar("_F", bound=Callable[..., Any])


def retried(what: str) -> Callable[[_F], _F]:
    """Run the method as one transaction, again after transient errors (``SQLStorage._retry``).
    ``what`` names it in messages, formatted with the call's arguments (``{0}`` the first after
    ``self``) only when a message is written."""

    def decorate(method: _F) -> _F:
        @functools.wraps(method)
        def run(self: SQLStorage, *args: Any, **kwargs: Any) -> Any:
            def describe() -> str:
                try:
                    return what.format(*args, **kwargs)
                except (IndexError, KeyError):  # called with keywords: the template without values
                    return what

            return self._retry(lambda _unknown: method(self, *args, **kwargs), describe)

        return run  # type: ignore[return-value]

    return decorate


class SQLStorage(Storage):
    """Storage in any SQLAlchemy database; ``sqlite:///path/to/study.db`` by default.

    ``engine_kwargs`` go to ``sqlalchemy.create_engine`` and override the defaults (on a server
    database: ``pool_size=2, max_overflow=8``, a connection idle for 10 s checked before use, READ
    COMMITTED).
    """

    #: how long (seconds) a transaction is run again after transient errors before giving up
    retry_timeout_s: float = 60.0
    #: the first wait between attempts (doubling, with jitter, up to ``retry_max_wait_s``)
    retry_first_wait_s: float = 0.01
    retry_max_wait_s: float = 2.0

    @property
    def display_url(self) -> str:
        return self._safe_url

    def __init__(self, url: str, engine_kwargs: Mapping[str, Any] | None = None) -> None:
        self.url = url
        setup = create_sql_engine(url, engine_kwargs)
        self.engine = setup.engine
        self._safe_url = setup.safe_url
        self._sqlite, self._memory, self._postgres = setup.sqlite, setup.memory, setup.postgres
        self._writers = setup.writers
        if self._memory:
            self._lock = threading.RLock()  # threads take turns on the one shared connection
        self._local = threading.local()
        self._pid = os.getpid()
        self._jitter = random.Random()  # backoff jitter; never the user's global random state
        # The trials read so far, per study (see sql_cache.TrialCache); the lock keeps this
        # process's threads from merging two reads into one cache at once.
        self._caches: dict[int, TrialCache] = {}
        self._cache_lock = threading.Lock()
        self._prefetch: dict[int, bool] = {}
        # Opening waits less than later writes: a wrong host or port should not take a minute to report.
        try:
            self._retry(lambda _unknown: self._init_schema(), "Opening the study storage",
                        timeout_s=min(10.0, self.retry_timeout_s))
        except sa.exc.OperationalError as exc:  # not transient: a refused login, a missing database
            raise StorageError(
                f"Cannot open storage {self._safe_url}: {orig_text(exc)}. Check the user, password, host and "
                "database in the URL (or HYPERKNOB_STORAGE)."
            ) from exc

    # --- connections ------------------------------------------------------------------------------
    _lock: Any = contextlib.nullcontext()

    def _connect(self) -> Connection:
        if self._pid != os.getpid() and not self._memory:
            # A forked child must not use its parent's connections: open its own from here on.
            self.engine.dispose(close=False)
            self._local = threading.local()
            self._cache_lock = threading.Lock()  # the parent's may have been held at the fork
            self._pid = os.getpid()
        return self.engine.connect()

    @contextlib.contextmanager
    def _write(self, one_statement: bool = False) -> Iterator[Connection]:
        """A write transaction (BEGIN IMMEDIATE on SQLite). Inside one, this thread's further reads and
        writes join it: a proposal that reads the study during a claim sees the same snapshot and
        cannot wait on its own lock.

        ``one_statement``: the block runs a single statement, which a server database runs without
        BEGIN and COMMIT (two round trips fewer); it commits with the statement, so any error in it
        leaves the commit unknown."""
        current = getattr(self._local, "conn", None)
        if current is not None:
            yield current
            return
        if one_statement and not self._sqlite:
            with translate_errors(self._safe_url), self._connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                self._local.committing = True
                yield conn
            return
        queue = self._writers.hold() if self._writers is not None else contextlib.nullcontext()
        # The queue is left as soon as the transaction ends, before the connection goes back to the pool.
        with self._lock, translate_errors(self._safe_url), self._connect() as conn, queue:
            conn = conn.execution_options(hyperknob_write=True)
            with conn.begin():
                self._local.conn = conn
                try:
                    yield conn
                finally:
                    self._local.conn = None
                # Only COMMIT is left: an error from here on leaves it unknown whether it happened.
                self._local.committing = True

    @contextlib.contextmanager
    def _read(self) -> Iterator[Connection]:
        # Never write inside a read: on a single-connection database that would nest transactions.
        current = getattr(self._local, "conn", None)
        if current is not None:
            yield current
            return
        if not self._sqlite:
            # Each read is one statement (consistent on its own): no BEGIN and COMMIT round trips.
            with translate_errors(self._safe_url), self._connect() as conn:
                yield conn.execution_options(isolation_level="AUTOCOMMIT")
            return
        with self._lock, translate_errors(self._safe_url), self._connect() as conn, conn.begin():
            yield conn

    def _retry(
        self, operation: Callable[[bool], _R], what: str | Callable[[], str], timeout_s: float | None = None
    ) -> _R:
        """``operation(after_unknown_commit)`` (one or more whole transactions), run again after
        transient errors (``sql_retry.run_with_retries``). Inside a transaction (a proposal reading
        the study during a claim) nothing is retried here: the outermost operation runs the whole
        transaction again."""
        if getattr(self._local, "conn", None) is not None:
            return operation(False)
        return run_with_retries(
            operation, what if callable(what) else lambda: what, local=self._local, sqlite=self._sqlite,
            safe_url=self._safe_url, timeout_s=self.retry_timeout_s if timeout_s is None else timeout_s,
            first_wait_s=self.retry_first_wait_s, max_wait_s=self.retry_max_wait_s, jitter=self._jitter,
        )

    def _forget(self, study_id: int) -> None:
        self._caches.pop(study_id, None)
        self._prefetch.pop(study_id, None)

    def close(self) -> None:
        self.engine.dispose()
        if self._writers is not None:
            self._writers.close()

    def _init_schema(self) -> None:
        # Workers started together on a fresh server database race to create the tables; the losers
        # see the winner's tables on the next attempt. (SQLite serialises this with BEGIN IMMEDIATE.)
        for attempt in range(5):
            try:
                with self._write() as conn:
                    init_schema(conn, self._postgres, self._safe_url)
                return
            except (sa.exc.IntegrityError, sa.exc.ProgrammingError):
                if attempt == 4:
                    raise
                time.sleep(0.05 * (attempt + 1))

    # --- studies ----------------------------------------------------------------------------------
    def _record(self, row: Any) -> StudyRecord:
        try:
            config = json.loads(row.config)
        except ValueError as exc:
            raise StorageError(
                f"Study {row.name!r} in {self._safe_url}: its stored configuration is damaged ({exc}). Restore the "
                "file from a backup, or copy its readable trials with `hyperknob recover PROJECT --to NEW`."
            ) from exc
        return StudyRecord(row.study_id, row.name, config, row.created)

    # Run again after an unknown commit, overwrite=True included: at worst the study just created
    # is replaced by an identical empty one before any worker used it.
    @retried("Creating study {0!r}")
    def create_study(self, name: str, config: Mapping[str, Any], overwrite: bool = False) -> StudyRecord:
        for attempt in range(5):
            try:
                with self._write() as conn:
                    row = conn.execute(sa.select(studies_table).where(studies_table.c.name == name)).first()
                    if row is not None and overwrite:
                        conn.execute(trials_table.delete().where(trials_table.c.study_id == row.study_id))
                        conn.execute(studies_table.delete().where(studies_table.c.study_id == row.study_id))
                        self._forget(row.study_id)
                        row = None
                    if row is not None:
                        return self._record(row)
                    conn.execute(
                        studies_table.insert().values(name=name, config=dumps(dict(config)), created=time.time())
                    )
                    row = conn.execute(sa.select(studies_table).where(studies_table.c.name == name)).one()
                    self._forget(row.study_id)
                    return self._record(row)
            except sa.exc.IntegrityError:
                # Another worker created the study between our read and our insert: read it back.
                if attempt == 4:
                    raise
                overwrite = False
        raise AssertionError("unreachable")

    @retried("Loading study {0!r}")
    def load_study(self, name: str) -> StudyRecord | None:
        with self._read() as conn:
            row = conn.execute(sa.select(studies_table).where(studies_table.c.name == name)).first()
        return None if row is None else self._record(row)

    @retried("Listing the studies")
    def list_studies(self) -> list[StudyRecord]:
        with self._read() as conn:
            rows = conn.execute(sa.select(studies_table).order_by(studies_table.c.study_id)).all()
        return [self._record(r) for r in rows]

    @retried("Deleting study {0!r}")
    def delete_study(self, name: str) -> None:
        with self._write() as conn:
            row = conn.execute(sa.select(studies_table.c.study_id).where(studies_table.c.name == name)).first()
            if row is None:
                return
            conn.execute(trials_table.delete().where(trials_table.c.study_id == row.study_id))
            conn.execute(studies_table.delete().where(studies_table.c.study_id == row.study_id))
            self._forget(row.study_id)

    def update_study_config(
        self, study_id: int, update: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> dict[str, Any]:
        def attempt(unknown_commit: bool) -> dict[str, Any]:
            if unknown_commit:
                # ``update`` need not be idempotent (it may append): never apply it twice.
                raise StorageError(
                    f"The connection to {self._safe_url} was lost while committing a change to study {study_id}'s "
                    "configuration; it may or may not have been saved. Check the study and start this worker again."
                )
            with self._write() as conn:
                row = conn.execute(
                    sa.select(studies_table.c.config).where(studies_table.c.study_id == study_id).with_for_update()
                ).one()
                config = update(json.loads(row.config))
                conn.execute(
                    studies_table.update().where(studies_table.c.study_id == study_id).values(config=dumps(config))
                )
                return config

        return self._retry(attempt, f"Updating study {study_id}'s configuration")

    # --- trials -----------------------------------------------------------------------------------
    def _load_trials(self, conn: Connection, study_id: int) -> tuple[list[FrozenTrial], list[FrozenTrial]]:
        """The study's trials and, of those, the unfinished ones (number order), reading only what
        this process has not cached: one statement (see ``sql_cache.TrialCache``)."""
        claiming = getattr(self._local, "conn", None) is not None
        with self._cache_lock:
            read = read_trials(self._caches.setdefault(study_id, TrialCache()), conn, study_id, claiming)
            if read is None:
                # Trials read before are gone: the study was deleted (its id is never given again).
                self._forget(study_id)
                return [], []
            trials, unfinished, changed = read
            if claiming:
                # Read inside a claim: when other workers changed trials since this process last looked,
                # the next claim first reads them outside the lock (see claim_trial).
                self._prefetch[study_id] = changed
            return trials, unfinished

    def _remember(self, trial: FrozenTrial) -> None:
        """Put a trial this process has just committed into its cache: its next claim need not read it."""
        with self._cache_lock:
            cache = self._caches.get(trial.study_id)
            if cache is not None:
                cache.put(trial)

    def claim_trial(
        self,
        study_id: int,
        propose: ProposeFn,
        *,
        worker: str,
        max_trials: int | None,
        is_orphan: OrphanFn,
        max_orphan_runs: int | None = None,
    ) -> Claim:
        started = time.time()

        def attempt(unknown_commit: bool) -> Claim:
            if unknown_commit:
                # The last attempt may have committed its claim: a trial this worker started since is it.
                # (A worker runs one trial at a time, so it has no other RUNNING trial here.)
                for trial in self._get_trials(study_id):
                    if (trial.status == TrialStatus.RUNNING and trial.worker == worker
                            and (trial.datetime_start or 0) >= started):
                        return Claim(trial, resumed=trial.run_count > 1)
            elif self._prefetch.get(study_id) and getattr(self._local, "conn", None) is None:
                # Other workers are active: read what they changed before taking the lock, so that the
                # claim itself (which every worker waits for) reads and parses only the last changes.
                self._get_trials(study_id)
            return Storage.claim_trial(
                self, study_id, propose, worker=worker, max_trials=max_trials, is_orphan=is_orphan,
                max_orphan_runs=max_orphan_runs,
            )

        claim = self._retry(attempt, f"Claiming a trial of study {study_id}")
        if claim.trial is not None and getattr(self._local, "conn", None) is None:
            self._remember(claim.trial)
        return claim

    @contextlib.contextmanager
    def _claim_transaction(self, study_id: int) -> Iterator[ClaimTransaction]:
        with self._write() as conn:
            # Locking the study row serialises claims on servers; SQLite is serialised by BEGIN IMMEDIATE.
            query = STUDY_CONFIG if self._sqlite else STUDY_CONFIG_FOR_UPDATE
            config = conn.execute(query, {"sid": study_id}).scalar()
            if config is None:
                raise study_gone(study_id, self._safe_url)
            trials, unfinished = self._load_trials(conn, study_id)
            yield _SQLTransaction(self, conn, trials, unfinished, json.loads(config))

    def _write_fields(
        self, conn: Connection, trial: FrozenTrial, fields: Sequence[str], owner: str | None = None
    ) -> FrozenTrial:
        columns = trial_columns(trial, fields)
        params = {"sid": trial.study_id, "num": trial.number, **columns}
        if owner is not None:
            params["owner"] = owner
        updated = conn.execute(update_statement(tuple(sorted(columns)), owner is not None), params).mappings().first()
        if updated is None:
            if owner is not None:
                raise not_owned(trial.study_id, trial.number, owner)
            raise study_gone(trial.study_id, self._safe_url)
        return row_to_trial(updated)

    def get_trials(self, study_id: int, statuses: Sequence[TrialStatus] | None = None) -> list[FrozenTrial]:
        trials = self._retry(lambda _unknown: self._get_trials(study_id), f"Reading the trials of study {study_id}")
        if statuses is not None:
            trials = [t for t in trials if t.status in statuses]
        return trials

    def _get_trials(self, study_id: int) -> list[FrozenTrial]:
        with self._read() as conn:
            return self._load_trials(conn, study_id)[0]

    @retried("Reading trial {1} of study {0}")
    def get_trial(self, study_id: int, number: int) -> FrozenTrial:
        return self._read_trial(study_id, number)

    def _read_trial(self, study_id: int, number: int) -> FrozenTrial:
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
        return row_to_trial(row)

    @retried("Reporting step {2} of trial {1} of study {0}")  # safe to run again: a step replaces its own point
    def report(
        self, study_id: int, number: int, step: int, metrics: Mapping[str, float], *, owner: str | None = None
    ) -> None:
        with self._write() as conn:
            where: tuple[sa.ColumnElement[bool], ...] = (
                trials_table.c.study_id == study_id, trials_table.c.number == number
            )
            columns = (trials_table.c.metrics, trials_table.c.status, trials_table.c.worker)
            row = conn.execute(sa.select(*columns).where(*where)).first()
            if row is None:
                raise study_gone(study_id, self._safe_url)
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
            updated = conn.execute(
                trials_table.update().where(*where).values(metrics=dumps(history), heartbeat=time.time())
            )
            if updated.rowcount == 0:
                raise not_owned(study_id, number, owner or "?")

    def update_trial(self, study_id: int, number: int, *, owner: str | None = None, **fields: Any) -> FrozenTrial:
        unknown = set(fields) - set(FrozenTrial.__dataclass_fields__)
        if unknown:
            raise TypeError(f"Unknown trial fields: {sorted(unknown)}")
        template = dataclasses.replace(PLACEHOLDER, study_id=study_id, number=number, **fields)

        nested = getattr(self._local, "conn", None) is not None

        def attempt(unknown_commit: bool) -> FrozenTrial:
            try:
                with self._write(one_statement=True) as conn:
                    stored = self._write_fields(conn, template, list(fields), owner)
                if stored.status.is_finished and not nested:
                    # Committed: a trial this worker finished need not be read back by its next claim.
                    self._remember(stored)
                return stored
            except TrialNotOwnedError:
                # After an unknown commit, a trial this worker just finished is no longer "its" trial:
                # if it already holds exactly what we write, the last attempt did commit.
                if unknown_commit:
                    stored = self._read_trial(study_id, number)
                    if trial_columns(stored, fields) == trial_columns(template, fields):
                        return stored
                raise

        return self._retry(attempt, f"Writing trial {number} of study {study_id}")


class _SQLTransaction:
    def __init__(
        self, storage: SQLStorage, conn: Connection, trials: list[FrozenTrial], unfinished: list[FrozenTrial],
        config: dict[str, Any],
    ) -> None:
        self._storage = storage
        self._conn = conn
        self.trials = trials
        self.unfinished: Sequence[FrozenTrial] = unfinished
        self.config = config

    def insert(self, trial: FrozenTrial) -> None:
        self._conn.execute(INSERT_TRIAL, trial_to_row(trial))

    def write(self, trial: FrozenTrial, fields: Sequence[str]) -> None:
        self._storage._write_fields(self._conn, trial, fields)


