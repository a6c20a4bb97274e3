"""How the command line reaches the playground: `stackup playground` and its modes, and
`stackup run --playground` (what `make run` runs) without a token: one line, then the
playground, leaving the real database alone."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bot.cli import build_parser, main
from bot.playground import ONE_LINE


@pytest.fixture
def started(monkeypatch, tmp_path) -> list[dict]:
    for name in ("DISCORD_TOKEN", "SHARD_COUNT", "SHARD_IDS", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'data' / 'stackup.db'}")
    calls: list[dict] = []
    monkeypatch.setattr("bot.playground.main", lambda **options: calls.append(options) or 0)
    return calls


def test_run_without_a_token_starts_the_playground_after_one_line(started, tmp_path, capsys):
    assert main(["run", "--playground"]) == 0
    assert capsys.readouterr().out.splitlines() == [ONE_LINE]
    assert started == [{"terminal": False, "script": None, "channel": None, "port": 0}]
    assert not (tmp_path / "data").exists(), "the playground has a database of its own"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["playground"], {"terminal": False, "script": None, "channel": None, "port": 0}),
        (
            ["playground", "--terminal"],
            {"terminal": True, "script": None, "channel": None, "port": 0},
        ),
        (
            ["playground", "--script", "demo.play"],
            {"terminal": False, "script": Path("demo.play"), "channel": None, "port": 0},
        ),
        (
            ["playground", "--channel", "Which database", "--port", "8765"],
            {"terminal": False, "script": None, "channel": "Which database", "port": 8765},
        ),
    ],
)
def test_the_playground_command_and_its_modes(started, argv, expected, capsys):
    assert main(argv) == 0
    assert started == [expected]
    assert capsys.readouterr().out == ""


def test_terminal_and_script_are_one_or_the_other(capsys):
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["playground", "--terminal", "--script", "x.play"])
    assert exited.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_a_missing_script_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["playground", "--script", str(tmp_path / "nope.play")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("stackup: [Errno 2] No such file or directory") and "Traceback" not in err


def test_without_the_playground_extra_the_playground_says_how_to_install_it(
    started, monkeypatch, capsys
):
    # As in the Docker image, installed with `pip install .`: no simcord, no rich.
    monkeypatch.setitem(sys.modules, "simcord", None)
    assert main(["playground"]) == 2
    assert capsys.readouterr().err == (
        "stackup: the playground needs its extra: pip install 'stackup[playground]' "
        "(`make run` installs it).\n"
    )
    assert started == []
