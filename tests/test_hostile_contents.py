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
