"""A damaged study or a mistyped URL gives hyperknob's own message: what is wrong, with which file
or URL, and what to do (#22, item 3)."""

from __future__ import annotations

import sqlite3

import pytest

import hyperknob as hk
from hyperknob.exceptions import StorageError


def _study_file(tmp_path, trials=3):
    study = hk.create_study(str(tmp_path), "p", algorithm="random", seed=0)
    study.optimize(lambda hp: hp.Float("x", 0.0, 1.0), n_trials=trials, verbose=0)
    study.storage.close()
    return tmp_path / "p" / "study.db"


@pytest.mark.parametrize(("url", "match"), [
    ("foo", "not a storage URL.*sqlite:///"),
    ("postgres://user@localhost/db", "postgresql\\+psycopg://"),
])
def test_a_mistyped_storage_url_says_what_a_url_looks_like(url, match):
    with pytest.raises(StorageError, match=match):
        hk.create_study(storage=url, project_name="p")


def test_a_truncated_study_file_is_named_with_what_to_do(tmp_path):
    path = _study_file(tmp_path, trials=30)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(StorageError, match=f"{path}.*damaged"):
        _ = hk.load_study(str(tmp_path), "p").trials


def test_a_corrupted_cell_names_the_trial(tmp_path):
    path = _study_file(tmp_path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE hyperknob_trials SET hp_values = '{\"x\": 0.5,' WHERE number = 1")
    conn.close()
    with pytest.raises(StorageError, match="trial 1.*hp_values.*damaged"):
        _ = hk.load_study(str(tmp_path), "p").trials


def test_a_schema_version_that_is_not_a_number_is_refused_clearly(tmp_path):
    path = _study_file(tmp_path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE hyperknob_meta SET value = 'two' WHERE key = 'schema_version'")
    conn.close()
    with pytest.raises(StorageError, match="schema version 'two'"):
        hk.load_study(str(tmp_path), "p")
