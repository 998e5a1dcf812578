"""How hyperknob connects to a SQL database: the engine's options for SQLite and for servers, the
queue of processes writing one SQLite file, and the idle-connection check.

SQLite runs in WAL mode with ``synchronous=NORMAL``: a committed trial survives a killed process,
readers never block the writer, and every write transaction starts with ``BEGIN IMMEDIATE``. The
processes writing one file queue for it on a lock file next to it (``study.db-writer.lock``).
A server database gets a small pool per process (a worker and its heartbeat thread), READ
COMMITTED, and a check of a connection that has been idle for a while before its use.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import os
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from hyperknob.exceptions import ForeignDatabaseError, StorageError
from hyperknob.storage.sql_schema import LIBRARY

logger = logging.getLogger(__name__)

__all__ = ["SQLEngine", "WriterQueue", "check_sqlite_file", "create_sql_engine"]

BUSY_TIMEOUT_S = 120
# Server databases: idle connections kept per process (a worker and its heartbeat thread), and how
# many more a process may open at once; every worker process holds at most the sum.
_POOL_SIZE = 2
_MAX_OVERFLOW = 8
_CONNECT_TIMEOUT_S = 30
# A pooled server connection idle for longer than this is checked (one round trip) before use; one
# reused at once is not: a connection dropped meanwhile fails its first statement, which is retried.
_PING_IDLE_S = 10.0
_WRITER_LOCK_SUFFIX = "-writer.lock"  # next to an SQLite file: the queue of its writing processes


@dataclasses.dataclass
class SQLEngine:
    """An engine and what the storage must know about the database behind it."""

    engine: Engine
    safe_url: str  # the URL with its password hidden: the only form that goes into messages
    sqlite: bool
    memory: bool  # an in-memory SQLite database: one shared connection
    postgres: bool
    writers: WriterQueue | None  # an SQLite file's queue of writing processes
    read_only: bool = False  # an SQLite study this process may not write (an archive): opened read-only


def create_sql_engine(url: str, engine_kwargs: Mapping[str, Any] | None = None) -> SQLEngine:
    """The engine for ``url`` with hyperknob's defaults; ``engine_kwargs`` override them."""
    kwargs = dict(engine_kwargs or {})
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        shown = url if "@" not in url else url.partition("://")[0] + "://..."
        raise StorageError(
            f"{shown!r} is not a storage URL. Pass a SQLAlchemy URL (sqlite:///path/to/study.db, "
            "postgresql+psycopg://user@host/database), ':memory:', or leave storage out for a study file "
            "under directory/project_name."
        ) from None
    safe_url = parsed.render_as_string(hide_password=True)
    sqlite = parsed.get_backend_name() == "sqlite"
    memory = sqlite and parsed.database in (None, "", ":memory:")
    postgres = parsed.get_backend_name() == "postgresql"
    writers = None
    read_only = False
    if sqlite:
        kwargs.setdefault("connect_args", {"timeout": BUSY_TIMEOUT_S, "check_same_thread": False})
        if memory or parsed.database is None:  # (None is the in-memory database too)
            # One shared connection holds the in-memory database; threads take turns on it.
            kwargs.setdefault("poolclass", sa.pool.StaticPool)
        elif check_sqlite_file(parsed.database):
            read_only = True
            kwargs.setdefault("creator", functools.partial(open_sqlite_read_only, parsed.database))
        elif not parsed.database.startswith("file:"):
            writers = WriterQueue(parsed.database)
    else:
        # Many workers, each with its own pool: few idle connections per process, checked before
        # use after a pause (a server restart or an idle timeout drops them; see ping_when_idle),
        # renewed every half hour.
        kwargs.setdefault("pool_size", _POOL_SIZE)
        kwargs.setdefault("max_overflow", _MAX_OVERFLOW)
        kwargs.setdefault("pool_recycle", 1800)
        kwargs.setdefault("pool_timeout", 60)
        # A claim reads the trials after locking the study row, and must see every trial committed
        # before the lock was granted: READ COMMITTED, whatever the server's default.
        kwargs.setdefault("isolation_level", "READ COMMITTED")
        if postgres and "connect_timeout" not in parsed.query:
            kwargs.setdefault("connect_args", {"connect_timeout": _CONNECT_TIMEOUT_S, "application_name": LIBRARY})
    try:
        engine = sa.create_engine(url, **kwargs)
    except ModuleNotFoundError as exc:
        hint = "pip install 'hyperknob[postgres]'" if postgres else f"install {exc.name}"
        raise StorageError(
            f"Cannot open storage {safe_url!r}: its database driver {exc.name!r} is not installed. Fix: {hint}."
        ) from exc
    except sa.exc.NoSuchModuleError as exc:
        backend = parsed.get_backend_name()
        hint = " PostgreSQL's scheme is postgresql+psycopg://." if backend == "postgres" else ""
        raise StorageError(
            f"Cannot open storage {safe_url!r}: SQLAlchemy knows no database kind {parsed.drivername!r}.{hint}"
        ) from exc
    except Exception as exc:  # a malformed URL
        raise StorageError(f"Cannot open storage {safe_url!r}: {exc}") from exc
    if sqlite:
        configure_sqlite(engine, read_only)
    elif not kwargs.get("pool_pre_ping"):
        ping_when_idle(engine)
    return SQLEngine(engine, safe_url, sqlite, memory, postgres, writers, read_only)


class WriterQueue:
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
    _LOCK_EX = _LOCK_UN = 0  # type: ignore[misc]  # typeshed declares them Final; never used without flock


def ping_when_idle(engine: Engine) -> None:
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


def configure_sqlite(engine: Engine, read_only: bool = False) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own handling is off).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
        if engine.url.database not in (None, "", ":memory:") and not read_only:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("hyperknob_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def check_sqlite_file(path: str) -> bool:
    """Whether ``path`` is an existing study this process may only read: a file or folder without
    write permission (an archive, a read-only mount, a colleague's study). A study is opened
    read-only then, for viewing; a new study in an unwritable folder is an error."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isfile(path) and os.path.getsize(path) > 0 and not (
        os.access(folder, os.W_OK) and os.access(path, os.W_OK)
    ):
        refuse_foreign_sqlite(path)
        return True
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
    if os.path.isfile(path) and os.path.getsize(path) > 0:
        refuse_foreign_sqlite(path)
    return False


def _read_only_uri(path: str, immutable: bool) -> str:
    import urllib.parse

    return f"file:{urllib.parse.quote(os.path.abspath(path))}?" + ("immutable=1" if immutable else "mode=ro")


def open_sqlite_read_only(path: str) -> Any:
    """A connection that cannot write ``path``. SQLite reads a WAL-mode file read-only only where
    it can use the ``-shm`` index beside it; where it cannot (a folder no one may write, so no one
    can be writing the study either) the file is read as immutable: no locks, no index."""
    import sqlite3

    conn = sqlite3.connect(_read_only_uri(path, False), uri=True, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:  # read-only refused; damage shows when read
        conn.close()
        logger.debug("%s: read as immutable (%s)", path, exc)
    return sqlite3.connect(_read_only_uri(path, True), uri=True, check_same_thread=False)


def refuse_foreign_sqlite(path: str) -> None:
    """Look at an existing file read-only before any connection can write to it (SQLAlchemy's
    first connection sets WAL mode, which persists in the file): another program's database, or
    a file that is not a database, is refused unchanged. A hyperknob study of another schema
    version passes here; the schema check says what to do with it."""
    import sqlite3

    try:
        conn = open_sqlite_read_only(path)
        try:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            library = None
            if "hyperknob_meta" in tables:
                row = conn.execute("SELECT value FROM hyperknob_meta WHERE key = 'library'").fetchone()
                library = row[0] if row else None
        finally:
            conn.close()
    except UnicodeDecodeError as exc:  # a damaged byte inside a table's name
        raise StorageError(
            f"The study file {path} is damaged (text that is not UTF-8: {exc.reason}). Restore it from a backup, or "
            f"copy what reads with `hyperknob recover {os.path.dirname(path) or '.'} --to NEW`."
        ) from exc
    except sqlite3.DatabaseError as exc:
        if "not a database" in str(exc) or "encrypted" in str(exc):
            raise ForeignDatabaseError(
                f"{path} is not a hyperknob study (not an SQLite database). Point directory/project_name or "
                "storage= somewhere else, or remove the file yourself; hyperknob never writes into it."
            ) from exc
        return  # damaged, locked or unreadable here: the engine's own opening reports it
    # sqlite_* tables are SQLite's own (sqlite_sequence for AUTOINCREMENT, sqlite_stat1 ...).
    others = sorted(t for t in tables if not t.startswith(("hyperknob_", "sqlite_")))
    if others or (tables and library != LIBRARY):
        shown = ", ".join(others[:8]) or f"library={library!r}"
        raise ForeignDatabaseError(
            f"{path} is not a hyperknob study: it holds other tables ({shown}). Use another "
            "directory/project_name or storage URL; hyperknob never writes into it, and overwrite=True "
            "does not replace it."
        )
