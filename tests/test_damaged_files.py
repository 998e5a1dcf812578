"""A damaged study or a mistyped URL gives hyperknob's own message: what is wrong, with which file
or URL, and what to do (#22, item 3)."""

from __future__ import annotations

import gc
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


def test_check_and_recover_a_damaged_study(tmp_path, capsys):
    from hyperknob.cli import main

    path = _study_file(tmp_path, trials=6)
    ids = [t.trial_id for t in hk.load_study(str(tmp_path), "p").trials]
    assert main(["check", str(tmp_path / "p")]) == 0 and capsys.readouterr().out.strip().endswith("ok")
    gc.collect()  # the loaded study's pooled connection closes now, not (checkpointing) mid-test
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE hyperknob_trials SET metrics = '[' WHERE number = 2")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = path.read_bytes()
    assert main(["check", str(tmp_path / "p")]) == 1
    out = capsys.readouterr().out
    assert "trial 2: damaged metrics" in out and "recover" in out
    assert main(["recover", str(tmp_path / "p"), "--to", str(tmp_path / "q")]) == 0
    assert path.read_bytes() == before  # the damaged file is only read
    recovered = hk.load_study(project_name="p", storage=f"sqlite:///{tmp_path / 'q' / 'study.db'}")
    assert [t.trial_id for t in recovered.trials] == ids  # each keeps its number and id (and checkpoints)
    assert [t.status for t in recovered.trials].count(hk.TrialStatus.FAILED) == 1
    assert "could not be read" in recovered.trials[2].message
    recovered.optimize(lambda hp: hp.Float("x", 0.0, 1.0), n_trials=2, verbose=0)  # it goes on
    assert len(recovered.trials) == 8 and recovered.trials[-1].trial_id not in ids
