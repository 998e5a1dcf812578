"""Every storage backend passes the same contract suite; the SQL storage survives transient errors."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from hyperknob._types import TrialStatus
from hyperknob.exceptions import StorageError
from hyperknob.storage import InMemoryStorage, Proposal, open_storage
from hyperknob.storage.sql import SQLStorage, is_transient
from hyperknob.testing.storage_contract import StorageContract


class TestInMemoryStorage(StorageContract):
    def make_storage(self, tmp_path):
        return InMemoryStorage()


class TestSQLiteFileStorage(StorageContract):
    def make_storage(self, tmp_path):
        return open_storage(f"sqlite:///{tmp_path}/contract.db")


class TestSQLiteMemoryStorage(StorageContract):
    def make_storage(self, tmp_path):
        return open_storage("sqlite://")


class TestPostgreSQLStorage(StorageContract):
    @pytest.fixture(autouse=True)
    def _database(self, postgres_url):
        self.url = postgres_url
        self.opened = []
        yield
        for storage in self.opened:
            storage.close()

    def make_storage(self, tmp_path):
        storage = open_storage(self.url)
        self.opened.append(storage)
        return storage


# --- what each process caches -------------------------------------------------------------------------
def _check_processes_see_each_others_changes(url):
    """Two storages on one database stand for two worker processes: each caches what it has read and
    reads only what changed since, yet always answers what a fresh reader would."""
    a, b = open_storage(url), open_storage(url)
    sid = a.create_study("a", {}).study_id

    def claim(storage, worker):
        return storage.claim_trial(sid, lambda t, n, c: Proposal({"n": n}), worker=worker, max_trials=None,
                                   is_orphan=lambda t: t.worker == "dead").trial

    def agree():
        fresh = open_storage(url)
        expected = fresh.get_trials(sid)
        fresh.close()
        assert a.get_trials(sid) == expected and b.get_trials(sid) == expected
        return expected

    for _ in range(3):
        claim(a, "wa")
    assert [t.status for t in agree()] == [TrialStatus.RUNNING] * 3
    a.report(sid, 0, 0, {"loss": 1.0}, owner="wa")
    a.finish_trial(sid, 1, TrialStatus.COMPLETED, score=1.0, owner="wa")
    assert claim(b, "wb").number == 3
    b.finish_trial(sid, 3, TrialStatus.FAILED, owner="wb")
    trials = agree()
    assert [t.status for t in trials] == [TrialStatus.RUNNING, TrialStatus.COMPLETED, TrialStatus.RUNNING, TrialStatus.FAILED]
    assert trials[0].metrics["loss"][0].value == 1.0
    a.update_trial(sid, 2, owner="wa", worker="dead")
    resumed = claim(b, "wb")  # the trial whose worker died, not a new one
    assert resumed.number == 2 and resumed.run_count == 2
    assert agree()[2].worker == "wb"
    a.finish_trial(sid, 0, TrialStatus.COMPLETED, score=0.0, owner="wa")
    b.finish_trial(sid, 2, TrialStatus.COMPLETED, score=0.0, owner="wb")
    assert all(t.status.is_finished for t in agree())
    a.delete_study("a")  # with nothing left running, only the study's row tells that it is gone
    assert b.get_trials(sid) == [] and a.get_trials(sid) == []
    a.close()
    b.close()


def test_sqlite_processes_see_each_others_changes(tmp_path):
    _check_processes_see_each_others_changes(f"sqlite:///{tmp_path}/study.db")


def test_postgres_processes_see_each_others_changes(postgres_url):
    _check_processes_see_each_others_changes(postgres_url)


# --- transient errors ------------------------------------------------------------------------------
class _DriverError(Exception):
    def __init__(self, text: str, sqlstate: str | None = None) -> None:
        super().__init__(text)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("error", "sqlite", "expected"),
    [
        (sa.exc.OperationalError("x", {}, _DriverError("could not serialize access", "40001")), False, True),
        (sa.exc.OperationalError("x", {}, _DriverError("deadlock detected", "40P01")), False, True),
        (sa.exc.OperationalError("x", {}, _DriverError("sorry, too many clients already", "53300")), False, True),
        (sa.exc.OperationalError("x", {}, _DriverError("terminating connection", "57P01")), False, True),
        (sa.exc.OperationalError("x", {}, _DriverError("server closed the connection unexpectedly")), False, True),
        (sa.exc.OperationalError("x", {}, _DriverError("connection refused", "08006")), False, True),
        (sa.exc.OperationalError("x", {}, _DriverError("disk full", "53100")), False, False),
        (sa.exc.ProgrammingError("x", {}, _DriverError("relation does not exist", "42P01")), False, False),
        (sa.exc.IntegrityError("x", {}, _DriverError("duplicate key", "23505")), False, False),
        (sa.exc.OperationalError("x", {}, _DriverError("database is locked")), True, True),
        (sa.exc.OperationalError("x", {}, _DriverError("no such table: t")), True, False),
        (ValueError("not a database error"), False, False),
    ],
)
def test_which_errors_are_transient(error, sqlite, expected):
    assert is_transient(error, sqlite) is expected


def test_transient_errors_are_retried_then_reported(tmp_path, monkeypatch):
    storage = SQLStorage(f"sqlite:///{tmp_path}/retry.db")
    sid = storage.create_study("a", {}).study_id
    calls = []
    real = storage._get_trials

    def flaky(study_id):
        calls.append(study_id)
        if len(calls) < 3:
            raise sa.exc.OperationalError("SELECT", {}, _DriverError("database is locked"))
        return real(study_id)

    monkeypatch.setattr(storage, "_get_trials", flaky)
    assert storage.get_trials(sid) == [] and len(calls) == 3

    storage.retry_timeout_s = 0.05

    def always_locked(study_id):
        raise sa.exc.OperationalError("SELECT", {}, _DriverError("database is locked"))

    monkeypatch.setattr(storage, "_get_trials", always_locked)
    with pytest.raises(StorageError, match="transient database errors.*database is locked"):
        storage.get_trials(sid)
    storage.close()


def test_a_commit_cut_off_after_it_happened_is_not_done_twice(tmp_path, monkeypatch):
    storage = SQLStorage(f"sqlite:///{tmp_path}/commit.db")
    sid = storage.create_study("a", {}).study_id
    real_commit = sa.engine.Connection._commit_impl
    cut = []

    def commit_then_lose_connection(self):
        real_commit(self)
        if cut:
            cut.pop()
            raise sa.exc.OperationalError("COMMIT", {}, _DriverError("server closed the connection"), connection_invalidated=True)

    monkeypatch.setattr(sa.engine.Connection, "_commit_impl", commit_then_lose_connection)
    proposals = []

    def propose(trials, number, config):
        proposals.append(number)
        return Proposal({"n": number})

    cut.append(1)
    claim = storage.claim_trial(sid, propose, worker="w", max_trials=None, is_orphan=lambda t: False)
    assert claim.trial.number == 0 and proposals == [0]
    assert [t.number for t in storage.get_trials(sid)] == [0]
    cut.append(1)
    done = storage.finish_trial(sid, 0, TrialStatus.COMPLETED, score=2.0, owner="w")
    assert done.status == TrialStatus.COMPLETED and done.score == 2.0 and not cut
    cut.append(1)
    with pytest.raises(StorageError, match="may or may not have been saved"):
        storage.update_study_config(sid, lambda c: {**c, "k": 1})
    storage.close()


def _terminate_other_backends(admin_url: str, database: str) -> int:
    import psycopg

    with psycopg.connect(admin_url.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
    return len(rows)


def test_postgres_claim_survives_a_connection_dropped_mid_transaction(postgres_server, postgres_url):
    storage = open_storage(postgres_url)
    database = postgres_url.rsplit("/", 1)[1]
    sid = storage.create_study("a", {}).study_id
    proposals = []

    def propose(trials, number, config):
        proposals.append(number)
        if len(proposals) == 1:  # the server drops this very transaction's connection
            assert _terminate_other_backends(postgres_server, database) >= 1
        return Proposal({"n": number})

    claim = storage.claim_trial(sid, propose, worker="w", max_trials=None, is_orphan=lambda t: False)
    assert claim.trial.number == 0 and proposals == [0, 0]
    # Idle pooled connections dropped by the server are replaced before use.
    _terminate_other_backends(postgres_server, database)
    storage.finish_trial(sid, 0, TrialStatus.COMPLETED, score=1.0, owner="w")
    assert [t.status for t in storage.get_trials(sid)] == [TrialStatus.COMPLETED]
    storage.close()


def test_postgres_pool_stays_small_with_many_threads(postgres_url):
    storage = open_storage(postgres_url)
    sid = storage.create_study("a", {}).study_id
    errors = []

    def work():
        try:
            for _ in range(10):
                claim = storage.claim_trial(sid, lambda t, n, c: Proposal({"n": n}), worker=threading.current_thread().name,
                                            max_trials=None, is_orphan=lambda t: False)
                storage.finish_trial(sid, claim.trial.number, TrialStatus.COMPLETED, score=0.0)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(t.number for t in storage.get_trials(sid)) == list(range(160))
    # At most pool_size + max_overflow (2 + 8) open at once, and only pool_size kept once idle.
    assert storage.engine.pool.checkedout() == 0 and storage.engine.pool.checkedin() <= 2
    storage.close()


def test_an_unreachable_server_is_reported_with_the_url_but_no_password(monkeypatch):
    pytest.importorskip("psycopg")
    monkeypatch.setattr(SQLStorage, "retry_timeout_s", 0.3)
    port = _closed_port()
    with pytest.raises(StorageError, match=rf"Opening the study storage in .*127\.0\.0\.1:{port}.* failed") as info:
        open_storage(f"postgresql+psycopg://tuner:secret@127.0.0.1:{port}/hyperknob")
    assert "secret" not in str(info.value)


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
