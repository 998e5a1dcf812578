"""Studies in a SQL database through SQLAlchemy Core: an SQLite file by default, any URL where given.

SQLite runs in WAL mode with ``synchronous=NORMAL``: a committed trial survives a killed process,
readers never block the writer, and every write transaction starts with ``BEGIN IMMEDIATE`` so
that a claim (read the trials, propose, insert) is one atomic step across processes; the
processes writing one file queue for it on a lock file next to it (``study.db-writer.lock``), so a
waiting worker starts as soon as the lock is free instead of polling SQLite's lock. Other
databases (PostgreSQL for several machines) lock the study's row (``SELECT ... FOR UPDATE``) under
READ COMMITTED for the same effect.

Many workers on a server database: each process keeps a small connection pool (two idle
connections: the worker and its heartbeat thread), checks a connection that has been idle for a
while before use, and runs every transaction again after a transient error (serialization
failure, deadlock, dropped connection, server restarting or out of connection slots) with jittered
exponential backoff, for up to ``retry_timeout_s`` seconds. A transaction whose COMMIT was cut off
may or may not have happened; claims and trial writes are safe to run again (see ``_retry``).
Every round trip wakes the server process, so reads and one-statement writes run without BEGIN
and COMMIT (a single statement is atomic on its own): a trial of the worker loop costs six round
trips (seven when other workers are active), three of them while the study's row is locked.

Everything is stored as JSON text; nothing is pickled. A metadata table carries the schema
version, and a file written by another version or another program is refused, never altered.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from hyperknob._types import FrozenTrial, TrialStatus
from hyperknob.exceptions import StorageError, StudyVersionError, TrialNotOwnedError
from hyperknob.storage.base import (
    SCHEMA_VERSION,
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
from hyperknob.storage.sql_schema import (
    INSERT_TRIAL,
    PLACEHOLDER,
    STUDY_CONFIG,
    STUDY_CONFIG_FOR_UPDATE,
    STUDY_EXISTS,
    changed_trials,
    meta_table,
    metadata,
    number_params,
    row_to_trial,
    studies_table,
    trial_columns,
    trial_to_row,
    trials_table,
    update_statement,
)

__all__ = ["SQLStorage", "is_transient"]

logger = logging.getLogger("hyperknob")
_R = TypeVar("_R")

LIBRARY = "hyperknob"
_BUSY_TIMEOUT_S = 120
# Server databases: idle connections kept per process (a worker and its heartbeat thread), and how
# many more a process may open at once; every worker process holds at most the sum.
_POOL_SIZE = 2
_MAX_OVERFLOW = 8
_CONNECT_TIMEOUT_S = 30
# A pooled server connection idle for longer than this is checked (one round trip) before use; one
# reused at once is not: a connection dropped meanwhile fails its first statement, which is retried.
_PING_IDLE_S = 10.0
# SQLSTATEs worth running a transaction again for: a lost connection (class 08), a serialization
# failure or deadlock (class 40), no free connection slot, a lock not granted, a server shutting
# down or starting up.
_TRANSIENT_CLASSES = ("08", "40")
_TRANSIENT_CODES = frozenset({"53300", "55P03", "57P01", "57P02", "57P03"})
_SCHEMA_LOCK_KEY = 0x68797065726B6E6F  # pg_advisory_xact_lock key ("hyperkno") for creating the tables
_WRITER_LOCK_SUFFIX = "-writer.lock"  # next to an SQLite file: the queue of its writing processes


class _WriterQueue:
    """Makes the processes that write one SQLite file take turns through a lock file, before
    ``BEGIN IMMEDIATE``.

    SQLite lets a writer that finds the file locked poll it with growing sleeps (1, 2, 5, 10, ...
    up to 100 ms), so with many workers a claim waits far longer than the lock is held. An
    exclusive ``flock`` on a file next to the database instead queues the writers in the kernel,
    which wakes the next one as soon as the lock is released. SQLite's own locking stays in force
    (a writer without the queue, another program, is still excluded); where the lock file cannot
    be opened (a read-only folder, no ``fcntl``), writers fall back to SQLite's polling.
    """

    def __init__(self, database: str) -> None:
        self.path = os.path.abspath(database) + _WRITER_LOCK_SUFFIX
        self._pid = -1
        self._fd: int | None = None
        self._threads = threading.Lock()

    def _open(self) -> int | None:
        if self._pid != os.getpid():
            # A forked child opens its own: a lock taken through the parent's open file would not
            # exclude the parent. (The parent's thread lock may have been held at the fork.)
            self._pid = os.getpid()
            self._threads = threading.Lock()
            self._fd = None
            if _flock is not None:
                try:
                    self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
                except OSError:
                    self._fd = None
        return self._fd

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        fd = self._open()
        if fd is None:
            yield
            return
        with self._threads:  # a process's threads share its open file: they take turns here first
            try:
                _flock(fd, _LOCK_EX)
            except OSError:  # a file system without flock: SQLite's polling only
                locked = False
            else:
                locked = True
            try:
                yield
            finally:
                if locked:
                    _flock(fd, _LOCK_UN)

    def close(self) -> None:
        if self._fd is not None and self._pid == os.getpid():
            with contextlib.suppress(OSError):
                os.close(self._fd)
        self._fd = None
        self._pid = -1


try:
    from fcntl import LOCK_EX as _LOCK_EX
    from fcntl import LOCK_UN as _LOCK_UN
    from fcntl import flock as _flock
except ImportError:  # Windows: SQLite's own polling only
    _flock = None  # type: ignore[assignment]
    _LOCK_EX = _LOCK_UN = 0


@dataclasses.dataclass
class _TrialCache:
    """What this process has read of one study's trials.

    Numbers are gap-free and a finished trial never changes again (the library writes a trial only
    through its owner while it runs), so a read asks the database only for the trials numbered from
    ``len(trials)`` on and for those that had not finished when last read: a claim's cost then
    follows what changed since the last one, not the length of the study. A row read again exactly
    as before is not parsed again (parsing is most of a read's time).
    """

    trials: list[FrozenTrial] = dataclasses.field(default_factory=list)  # indexed by number
    # number -> (raw row as last read, or None where this process wrote it; parsed trial)
    unfinished: dict[int, tuple[tuple[Any, ...] | None, FrozenTrial]] = dataclasses.field(default_factory=dict)

    def put(self, trial: FrozenTrial) -> None:
        """Record a trial this process has just written (committed)."""
        number = trial.number
        if number > len(self.trials):
            return  # the trials before it are not read yet: it is read with them
        if number == len(self.trials):
            self.trials.append(trial)
        elif self.trials[number].status.is_finished:
            return
        else:
            self.trials[number] = trial
        if trial.status.is_finished:
            self.unfinished.pop(number, None)
        else:
            self.unfinished[number] = (None, trial)


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use only when it has been idle for ``_PING_IDLE_S``: a
    server restart or an idle timeout drops connections that wait, and a worker's loop would
    otherwise pay a round trip for every transaction (SQLAlchemy's ``pool_pre_ping``)."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info["hyperknob_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("hyperknob_idle_since")
        if since is None or time.monotonic() - since < _PING_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # The pool replaces the connection and checks out again.
            raise sa.exc.DisconnectionError(f"a pooled connection failed its check: {exc}") from exc


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


def is_transient(exc: BaseException, sqlite: bool = False) -> bool:
    """Whether running the failed transaction again may succeed: a dropped connection, a
    serialization failure or deadlock, a server out of connection slots or restarting (on SQLite:
    a database still locked after the busy timeout)."""
    if not isinstance(exc, sa.exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if sqlite:
        text = str(exc.orig).lower()
        return isinstance(exc, sa.exc.OperationalError) and ("locked" in text or "busy" in text)
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if code:
        return code.startswith(_TRANSIENT_CLASSES) or code in _TRANSIENT_CODES
    # No SQLSTATE: the driver lost or could not open the connection (refused, closed by the server).
    return isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError))


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
        kwargs = dict(engine_kwargs or {})
        parsed = sa.engine.make_url(url)
        self._safe_url = parsed.render_as_string(hide_password=True)
        self._sqlite = parsed.get_backend_name() == "sqlite"
        self._memory = self._sqlite and parsed.database in (None, "", ":memory:")
        self._postgres = parsed.get_backend_name() == "postgresql"
        if self._sqlite:
            kwargs.setdefault("connect_args", {"timeout": _BUSY_TIMEOUT_S, "check_same_thread": False})
            if self._memory:
                # One shared connection holds the in-memory database; threads take turns on it.
                kwargs.setdefault("poolclass", sa.pool.StaticPool)
                self._lock = threading.RLock()
            else:
                _check_sqlite_file(parsed.database)
                if not parsed.database.startswith("file:"):
                    self._writers = _WriterQueue(parsed.database)
        else:
            # Many workers, each with its own pool: few idle connections per process, checked before
            # use after a pause (a server restart or an idle timeout drops them; see _ping_when_idle),
            # renewed every half hour.
            kwargs.setdefault("pool_size", _POOL_SIZE)
            kwargs.setdefault("max_overflow", _MAX_OVERFLOW)
            kwargs.setdefault("pool_recycle", 1800)
            kwargs.setdefault("pool_timeout", 60)
            # A claim reads the trials after locking the study row, and must see every trial committed
            # before the lock was granted: READ COMMITTED, whatever the server's default.
            kwargs.setdefault("isolation_level", "READ COMMITTED")
            if self._postgres and "connect_timeout" not in parsed.query:
                kwargs.setdefault("connect_args", {"connect_timeout": _CONNECT_TIMEOUT_S, "application_name": LIBRARY})
        try:
            self.engine = sa.create_engine(url, **kwargs)
        except ModuleNotFoundError as exc:
            hint = "pip install 'hyperknob[postgres]'" if parsed.get_backend_name() == "postgresql" else f"install {exc.name}"
            raise StorageError(
                f"Cannot open storage {self._safe_url!r}: its database driver "
                f"{exc.name!r} is not installed. Fix: {hint}."
            ) from exc
        except Exception as exc:  # a malformed URL or an unknown dialect
            raise StorageError(f"Cannot open storage {self._safe_url!r}: {exc}") from exc
        if self._sqlite:
            _configure_sqlite(self.engine)
        elif not kwargs.get("pool_pre_ping"):
            _ping_when_idle(self.engine)
        self._local = threading.local()
        self._pid = os.getpid()
        self._jitter = random.Random()  # backoff jitter; never the user's global random state
        # The trials read so far, per study (see _TrialCache); the lock keeps this process's threads
        # from merging two reads into one cache at once.
        self._caches: dict[int, _TrialCache] = {}
        self._cache_lock = threading.Lock()
        self._prefetch: dict[int, bool] = {}
        # Opening waits less than later writes: a wrong host or port should not take a minute to report.
        self._retry(lambda _unknown: self._init_schema(), "Opening the study storage", timeout_s=min(10.0, self.retry_timeout_s))

    # --- connections ------------------------------------------------------------------------------
    _lock: Any = contextlib.nullcontext()
    _writers: _WriterQueue | None = None

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
            with self._translate_errors(), self._connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                self._local.committing = True
                yield conn
            return
        queue = self._writers.hold() if self._writers is not None else contextlib.nullcontext()
        # The queue is left as soon as the transaction ends, before the connection goes back to the pool.
        with self._lock, self._translate_errors(), self._connect() as conn, queue:
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
            with self._translate_errors(), self._connect() as conn:
                yield conn.execution_options(isolation_level="AUTOCOMMIT")
            return
        with self._lock, self._translate_errors(), self._connect() as conn, conn.begin():
            yield conn

    def _retry(self, operation: Callable[[bool], _R], what: str, timeout_s: float | None = None) -> _R:
        """``operation(after_unknown_commit)`` (one or more whole transactions), run again after
        transient errors with jittered exponential backoff, for up to ``retry_timeout_s`` seconds
        (or ``timeout_s``).

        ``after_unknown_commit`` is True once an attempt failed while committing: its writes may be in
        the database, and the operation must check before doing them twice. Inside a transaction
        (a proposal reading the study during a claim) nothing is retried here: the outermost
        operation runs the whole transaction again.
        """
        if getattr(self._local, "conn", None) is not None:
            return operation(False)
        timeout_s = self.retry_timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + timeout_s
        unknown = False
        attempt = 0
        while True:
            self._local.committing = False
            try:
                return operation(unknown)
            except sa.exc.DBAPIError as exc:
                if not is_transient(exc, self._sqlite):
                    raise
                unknown = unknown or bool(getattr(self._local, "committing", False))
                wait = min(self.retry_max_wait_s, self.retry_first_wait_s * 2**attempt)
                wait *= 0.5 + self._jitter.random()
                attempt += 1
                if time.monotonic() + wait > deadline:
                    raise StorageError(
                        f"{what} in {self._safe_url} failed {attempt} times in {timeout_s:g} s on "
                        f"transient database errors; the last one: {_orig_text(exc)}. Check that the database "
                        "server is running and reachable and has free connection slots (max_connections), "
                        "then start this worker again."
                    ) from exc
                logger.log(
                    logging.WARNING if attempt == 5 else logging.DEBUG,
                    "%s: transient database error (attempt %d), trying again in %.2f s: %s", what, attempt, wait, _orig_text(exc),
                )
                time.sleep(wait)

    @contextlib.contextmanager
    def _translate_errors(self) -> Iterator[None]:
        try:
            yield
        except sa.exc.DatabaseError as exc:
            text = str(exc.orig) if getattr(exc, "orig", None) is not None else str(exc)
            if "file is not a database" in text or "file is encrypted" in text:
                raise StudyVersionError(
                    f"{self._safe_url} is not a hyperknob study (not an SQLite database). "
                    "Point directory/project_name or storage= somewhere else, or remove the file."
                ) from exc
            if "readonly" in text or "unable to open" in text:
                raise StorageError(
                    f"Cannot write the study at {self._safe_url}: {text}. Pass a writable directory= or storage=."
                ) from exc
            raise

    def _forget(self, study_id: int) -> None:
        self._caches.pop(study_id, None)
        self._prefetch.pop(study_id, None)

    def close(self) -> None:
        self.engine.dispose()
        if self._writers is not None:
            self._writers.close()

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
            if self._postgres:
                # Workers started together on a fresh database create the tables one after another.
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_SCHEMA_LOCK_KEY)))
            tables = set(sa.inspect(conn).get_table_names())
            if meta_table.name in tables:
                meta = dict(conn.execute(sa.select(meta_table.c.key, meta_table.c.value)).all())
                if meta.get("library") != LIBRARY:
                    raise StudyVersionError(
                        f"{self._safe_url} was not written by hyperknob (library={meta.get('library')!r}). "
                        "Use another directory/project_name or storage URL."
                    )
                version = int(meta.get("schema_version", "-1"))
                if version != SCHEMA_VERSION:
                    newer = version > SCHEMA_VERSION
                    raise StudyVersionError(
                        f"{self._safe_url} holds a study in schema version {version}, and this hyperknob reads "
                        f"version {SCHEMA_VERSION}. "
                        + ("Upgrade hyperknob to read it" if newer else "Open it with the hyperknob version that wrote it")
                        + ", or start a new study: another project_name or storage, or overwrite=True "
                        "(which replaces a project's own study.db file; a storage URL you named is never replaced)."
                    )
                return
            foreign = sorted(t for t in tables if not t.startswith("hyperknob_"))
            if foreign:
                raise StudyVersionError(
                    f"{self._safe_url} is not a hyperknob study: it holds other tables ({', '.join(foreign[:8])}). "
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
        # Run again after an unknown commit, overwrite=True included: at worst the study just created
        # is replaced by an identical empty one before any worker used it.
        return self._retry(lambda _unknown: self._create_study(name, config, overwrite), f"Creating study {name!r}")

    def _create_study(self, name: str, config: Mapping[str, Any], overwrite: bool) -> StudyRecord:
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
                self._forget(row.study_id)
                row = None
            if row is not None:
                return self._record(row)
            conn.execute(studies_table.insert().values(name=name, config=dumps(dict(config)), created=time.time()))
            row = conn.execute(sa.select(studies_table).where(studies_table.c.name == name)).one()
            self._forget(row.study_id)
            return self._record(row)

    def load_study(self, name: str) -> StudyRecord | None:
        return self._retry(lambda _unknown: self._load_study(name), f"Loading study {name!r}")

    def _load_study(self, name: str) -> StudyRecord | None:
        with self._read() as conn:
            row = conn.execute(sa.select(studies_table).where(studies_table.c.name == name)).first()
        return None if row is None else self._record(row)

    def list_studies(self) -> list[StudyRecord]:
        return self._retry(lambda _unknown: self._list_studies(), "Listing the studies")

    def _list_studies(self) -> list[StudyRecord]:
        with self._read() as conn:
            rows = conn.execute(sa.select(studies_table).order_by(studies_table.c.study_id)).all()
        return [self._record(r) for r in rows]

    def delete_study(self, name: str) -> None:
        self._retry(lambda _unknown: self._delete_study(name), f"Deleting study {name!r}")

    def _delete_study(self, name: str) -> None:
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
            return self._update_study_config(study_id, update)

        return self._retry(attempt, f"Updating study {study_id}'s configuration")

    def _update_study_config(
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
    def _load_trials(self, conn: Connection, study_id: int) -> tuple[list[FrozenTrial], list[FrozenTrial]]:
        """The study's trials and, of those, the unfinished ones (number order), reading only what
        this process has not cached: one statement (see ``_TrialCache``)."""
        claiming = getattr(self._local, "conn", None) is not None
        with self._cache_lock:
            cache = self._caches.setdefault(study_id, _TrialCache())
            trials, unfinished = cache.trials, cache.unfinished
            known = len(trials)
            pending = sorted(unfinished)
            params = {"sid": study_id, "next": known, **number_params(pending)}
            rows = conn.execute(changed_trials(len(pending)), params).all()
            changed = False
            found = 0
            newer = {}
            for row in rows:
                number = row.number
                if number >= known:
                    newer[number] = row
                    continue
                found += 1
                raw = tuple(row)
                if unfinished[number][0] == raw:
                    continue
                changed = True
                trial = row_to_trial(row._mapping)
                trials[number] = trial
                if trial.status.is_finished:
                    del unfinished[number]
                else:
                    unfinished[number] = (raw, trial)
            gone = found < len(pending) or (
                # Nothing to read back at all: outside a claim (which has just read the study's row),
                # make sure the study still exists before answering from the cache.
                not rows and known and not claiming and conn.execute(STUDY_EXISTS, {"sid": study_id}).first() is None
            )
            if gone:
                # Trials read before are gone: the study was deleted (its id is never given again).
                self._forget(study_id)
                return [], []
            for number in sorted(newer):
                if number != len(trials):
                    break  # not committed as far as this read saw (numbers are gap-free): read it next time
                row = newer[number]
                trial = row_to_trial(row._mapping)
                trials.append(trial)
                if not trial.status.is_finished:
                    unfinished[number] = (tuple(row), trial)
                changed = True
            if claiming:
                # Read inside a claim: when other workers changed trials since this process last looked,
                # the next claim first reads them outside the lock (see claim_trial).
                self._prefetch[study_id] = changed
            return list(trials), [unfinished[n][1] for n in sorted(unfinished)]

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
                    if trial.status == TrialStatus.RUNNING and trial.worker == worker and (trial.datetime_start or 0) >= started:
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

    def _write_fields(self, conn: Connection, trial: FrozenTrial, fields: Sequence[str], owner: str | None = None) -> FrozenTrial:
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

    def get_trial(self, study_id: int, number: int) -> FrozenTrial:
        return self._retry(lambda _unknown: self._get_trial(study_id, number), f"Reading trial {number} of study {study_id}")

    def _get_trial(self, study_id: int, number: int) -> FrozenTrial:
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

    def report(
        self, study_id: int, number: int, step: int, metrics: Mapping[str, float], *, owner: str | None = None
    ) -> None:
        # Safe to run again: the same step replaces its own earlier point.
        self._retry(
            lambda _unknown: self._report(study_id, number, step, metrics, owner),
            f"Reporting step {step} of trial {number} of study {study_id}",
        )

    def _report(
        self, study_id: int, number: int, step: int, metrics: Mapping[str, float], owner: str | None
    ) -> None:
        with self._write() as conn:
            where = (trials_table.c.study_id == study_id, trials_table.c.number == number)
            row = conn.execute(sa.select(trials_table.c.metrics, trials_table.c.status, trials_table.c.worker).where(*where)).first()
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
            updated = conn.execute(trials_table.update().where(*where).values(metrics=dumps(history), heartbeat=time.time()))
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
                    stored = self._get_trial(study_id, number)
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
        self.unfinished = unfinished
        self.config = config

    def insert(self, trial: FrozenTrial) -> None:
        self._conn.execute(INSERT_TRIAL, trial_to_row(trial))

    def write(self, trial: FrozenTrial, fields: Sequence[str]) -> None:
        self._storage._write_fields(self._conn, trial, fields)


def _orig_text(exc: sa.exc.DBAPIError) -> str:
    text = str(exc.orig if exc.orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc.orig).__name__


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
