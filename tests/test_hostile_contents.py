"""What a study holds is data: a study written by someone else cannot style, link, clear or retitle
the reader's terminal, and brackets in stored text are shown as written (#22)."""

from __future__ import annotations

import pytest

import hyperknob as hk
from hyperknob.cli import main

LINK = "[link=https://evil.example]click me[/link]"
STYLED = "[bold red]FAKE BEST[/]"
ESCAPES = "\x1b[2J\x1b]0;pwned\x07"
BRACKETS = "could not read [/data/train.csv]"


@pytest.fixture
def hostile_study(tmp_path):
    study = hk.create_study(str(tmp_path), "hostile", algorithm="random", seed=0)

    def objective(hp):
        hp.Choice("choice", [LINK, STYLED])
        hp.Float("name" + ESCAPES, 0.0, 1.0)
        return 1.0

    study.optimize(objective, n_trials=2, verbose=0)
    trial = study.ask()
    study.tell(trial, status="FAILED", message=BRACKETS + " expected shape [batch, 10]" + ESCAPES)
    return str(tmp_path / "hostile")


@pytest.mark.parametrize("command", [["trials"], ["summary"], ["best", "-n", "2"], ["studies"]])
def test_stored_text_is_shown_as_written_and_never_reaches_the_terminal_as_control(
    hostile_study, capsys, monkeypatch, command
):
    monkeypatch.setenv("COLUMNS", "400")  # wide enough that no cell is cut short
    project = hostile_study if command[0] != "studies" else None
    argv = [command[0], *([project] if project else ["--directory", hostile_study.rsplit("/", 1)[0]]), *command[1:]]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    if command[0] == "trials":
        flat = "".join(out.split())  # the table may fold long cells over several lines
        assert "".join(BRACKETS.split()) in flat and "[batch,10]" in flat
        assert "".join(LINK.split()) in flat or "".join(STYLED.split()) in flat
        assert "\\x1b" in flat  # the escape is shown as text


def test_the_live_display_shows_stored_text_as_written(tmp_path, capsys):
    study = hk.create_study(str(tmp_path), "display", algorithm="random", seed=0)
    def objective(hp):
        hp.Choice("c" + ESCAPES, [LINK])
        return hp.Float("x", 0.0, 1.0)

    study.optimize(objective, n_trials=2, verbose=1)
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert LINK in out and "\\x1b[2J" in out  # shown as written, the escape as text


def test_a_storage_password_is_never_printed(postgres_url, capsys, monkeypatch):
    """'No study named' messages name the storage with its password hidden, from every door."""
    from sqlalchemy.engine import make_url

    # The test server trusts its user whatever the password.
    url = make_url(postgres_url).set(password="S3CRET").render_as_string(hide_password=False)
    with pytest.raises(SystemExit) as exc:
        main(["summary", "nosuch", "--storage", url])
    assert "S3CRET" not in str(exc.value) and "***" in str(exc.value)
    monkeypatch.setenv("HYPERKNOB_STORAGE", url)
    with pytest.raises(SystemExit) as exc:
        main(["trials", "nosuch"])
    assert "S3CRET" not in str(exc.value)
    with pytest.raises(ValueError) as error:
        hk.load_study(storage=url, project_name="nosuch")
    assert "S3CRET" not in str(error.value)
    assert "S3CRET" not in capsys.readouterr().err


def test_a_refused_login_is_reported_at_once_not_retried(postgres_url, caplog):
    """A wrong password or an unknown role is not a transient error: the first attempt reports it."""
    import logging

    from sqlalchemy.engine import make_url

    from hyperknob.exceptions import HyperknobError
    from hyperknob.storage.sql import SQLStorage

    url = make_url(postgres_url).set(username="no_such_role_hk").render_as_string(hide_password=False)
    caplog.set_level(logging.DEBUG, logger="hyperknob")
    with pytest.raises(HyperknobError, match="Cannot open storage .*no_such_role_hk.*Check the user") as exc:
        SQLStorage(url)
    assert "no_such_role_hk" in str(exc.value)
    assert not [r for r in caplog.records if "transient database error" in r.getMessage()]
