"""Every storage backend passes the same contract suite."""

from __future__ import annotations

from hyperknob.storage import InMemoryStorage, open_storage
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
