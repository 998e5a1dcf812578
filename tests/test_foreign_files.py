"""Another program's database is inspected read-only and refused before anything writes to it;
overwrite=True replaces only a hyperknob study (#22, item 2)."""

from __future__ import annotations

import hashlib
import os
import sqlite3

import pytest

import hyperknob as hk
from hyperknob.cli import main
from hyperknob.exceptions import StudyVersionError


def _foreign(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO users (name) VALUES ('ada')")
    conn.close()


def _state(folder):
    """Every file in the folder and its bytes' digest."""
    return {name: hashlib.sha256(open(os.path.join(folder, name), "rb").read()).hexdigest()
            for name in sorted(os.listdir(folder))}


def test_a_foreign_sqlite_file_is_refused_and_left_byte_for_byte_unchanged(tmp_path):
    path = str(tmp_path / "app" / "app.db")
    _foreign(path)
    before = _state(tmp_path / "app")
    with pytest.raises(StudyVersionError, match="not a hyperknob study"):
        hk.create_study(storage=f"sqlite:///{path}", project_name="p")
    assert _state(tmp_path / "app") == before


def test_overwrite_never_replaces_another_programs_file(tmp_path):
    path = str(tmp_path / "proj" / "study.db")
    _foreign(path)
    before = _state(tmp_path / "proj")
    with pytest.raises(StudyVersionError, match="not a hyperknob study"):
        hk.create_study(str(tmp_path), "proj", overwrite=True)
    assert _state(tmp_path / "proj") == before


def test_listing_studies_reads_a_foreign_file_without_changing_it(tmp_path, capsys):
    path = str(tmp_path / "proj" / "study.db")
    _foreign(path)
    before = _state(tmp_path / "proj")
    assert main(["studies", "--directory", str(tmp_path)]) == 0
    assert "unreadable" in capsys.readouterr().out
    assert _state(tmp_path / "proj") == before


def test_a_file_that_is_not_a_database_is_refused_unchanged(tmp_path):
    folder = tmp_path / "proj"
    folder.mkdir()
    (folder / "study.db").write_bytes(b"this is a text file, not a database\n" * 100)
    before = _state(folder)
    with pytest.raises(StudyVersionError, match="not a hyperknob study"):
        hk.create_study(str(tmp_path), "proj", overwrite=True)
    assert _state(folder) == before
