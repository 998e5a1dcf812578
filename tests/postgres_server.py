"""A throwaway PostgreSQL server for the test session, on the loopback address only.

``postgres_url`` gives each test a fresh, empty database on one server started for the whole
session (``initdb`` into a temporary folder, ``pg_ctl start`` on a free port with its unix socket in
that folder; stopped and deleted at the end). As root, the server runs as the unprivileged
``postgres`` user (or ``nobody``): PostgreSQL refuses to run as root.

Without server binaries (``initdb``/``pg_ctl`` on PATH, in /usr/local/bin or
/usr/lib/postgresql/*/bin) or without psycopg, the PostgreSQL tests are skipped with the reason;
with ``HYPERKNOB_REQUIRE_POSTGRES=1`` (set by ``.ci/run``) they fail instead. With
``HYPERKNOB_TEST_POSTGRES_URL`` (a ``postgresql+psycopg://`` URL of a database whose user may
``CREATE DATABASE``), no server is started: each test gets a new database on that server.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

__all__ = ["postgres_server", "postgres_url"]

URL_ENV = "HYPERKNOB_TEST_POSTGRES_URL"
REQUIRE_ENV = "HYPERKNOB_REQUIRE_POSTGRES"
SERVER_USER = "hyperknob"
_UNPRIVILEGED = ("postgres", "nobody")


def find_server_bin() -> str | None:
    """The folder holding ``initdb`` and ``pg_ctl`` (the newest version when several), or None."""
    candidates = [os.path.dirname(p) for p in [shutil.which("initdb")] if p]
    candidates.append("/usr/local/bin")
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += sorted(versions, key=lambda p: _version_key(p.split("/")[-2]), reverse=True)
    for folder in candidates:
        if all(os.access(os.path.join(folder, tool), os.X_OK) for tool in ("initdb", "pg_ctl")):
            return folder
    return None


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else -1 for part in text.split("."))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """One PostgreSQL cluster in a temporary folder; ``create_database()`` gives URLs of new databases."""

    def __init__(self, bindir: str) -> None:
        self.bindir = bindir
        self.port = 0
        self._counter = itertools.count()
        self._run_as: dict[str, Any] = {}
        if os.geteuid() == 0:
            for name in _UNPRIVILEGED:
                try:
                    entry = pwd.getpwnam(name)
                except KeyError:
                    continue
                self._run_as = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
                break
            else:
                raise RuntimeError(
                    "running as root, and neither a 'postgres' nor a 'nobody' user exists to run the server "
                    "(PostgreSQL refuses to run as root)"
                )
        self.root = tempfile.mkdtemp(prefix="hyperknob-pg-")
        if self._run_as:
            os.chown(self.root, self._run_as["user"], self._run_as["group"])
        self.data = os.path.join(self.root, "data")
        self.log = os.path.join(self.root, "server.log")

    def _run(self, *args: str) -> None:
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        result = subprocess.run(
            [os.path.join(self.bindir, args[0]), *args[1:]], env=env, cwd=self.root, capture_output=True, text=True,
            timeout=120, **self._run_as,
        )
        if result.returncode != 0:
            log = ""
            if os.path.exists(self.log):
                with open(self.log, errors="replace") as f:
                    log = f.read()[-2000:]
            raise RuntimeError(f"{' '.join(args[:2])} failed ({result.returncode}): {result.stderr.strip()} {log}".strip())

    def start(self) -> None:
        self._run("initdb", "-D", self.data, "-U", SERVER_USER, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
        last: Exception | None = None
        for _ in range(3):  # another process may take the free port before the server binds it
            self.port = _free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} "
                # A test server: durability off for speed; the default connection limit (100) is kept,
                # so tests with many workers also check that they do not exhaust it.
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            try:
                self._run("pg_ctl", "start", "-D", self.data, "-l", self.log, "-w", "-t", "60", "-o", options)
                return
            except RuntimeError as exc:
                last = exc
        raise RuntimeError(f"the PostgreSQL server did not start: {last}")

    def stop(self) -> None:
        try:
            if os.path.exists(os.path.join(self.data, "postmaster.pid")):
                try:
                    self._run("pg_ctl", "stop", "-D", self.data, "-m", "fast", "-w", "-t", "30")
                except (RuntimeError, subprocess.TimeoutExpired):
                    self._run("pg_ctl", "stop", "-D", self.data, "-m", "immediate", "-w", "-t", "30")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://{SERVER_USER}@127.0.0.1:{self.port}/postgres"


def _admin_execute(admin_url: str, *statements: str) -> None:
    import psycopg

    url = admin_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(url, autocommit=True, connect_timeout=30) as conn:
        for statement in statements:
            conn.execute(statement)


def _unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV, "") not in ("", "0"):
        pytest.fail(f"PostgreSQL tests required ({REQUIRE_ENV} is set) but cannot run: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The admin URL (database ``postgres``) of the session's PostgreSQL server."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("psycopg is not installed (pip install 'hyperknob[postgres]', or the dev extra)")
    given = os.environ.get(URL_ENV)
    if given:
        yield given
        return
    bindir = find_server_bin()
    if bindir is None:
        _unavailable(
            "no PostgreSQL server binaries (initdb, pg_ctl) on PATH, in /usr/local/bin or /usr/lib/postgresql/*/bin; "
            "install them with: apt-get install postgresql"
        )
    try:
        server = PostgresServer(bindir)
    except RuntimeError as exc:
        _unavailable(str(exc))
    try:
        server.start()
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        server.stop()
        _unavailable(str(exc))
    try:
        yield server.admin_url
    finally:
        server.stop()


_names = itertools.count()


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A ``postgresql+psycopg://`` URL of a new, empty database, dropped after the test."""
    name = f"hyperknob_test_{os.getpid()}_{next(_names)}"
    _admin_execute(postgres_server, f'CREATE DATABASE "{name}"')
    base, _, _ = postgres_server.rpartition("/")
    yield f"{base}/{name}"
    # FORCE: connections a test left open (a killed worker's, an unclosed storage's) do not block it.
    _admin_execute(postgres_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
