"""The `stackup` command: help, run without a token, migrations, catalog import/export/stats."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from bot.cli import build_parser, main
from db.catalog_format import SHIPPED_CATALOG_DIR, load_catalog
from tests.conftest import write_bottle_catalog


@pytest.fixture
def database(monkeypatch, tmp_path) -> Path:
    for name in ("DISCORD_TOKEN", "SHARD_COUNT", "SHARD_IDS", "OWNER_IDS", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "nested" / "stackup.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    return path


@pytest.fixture
def seeded_database(database: Path, catalog_database_template: Path) -> Path:
    """`database` as `stackup run` leaves it (migrated, the shipped catalog loaded), copied from
    the run's template: `run` then finds tools and seeds nothing. For tests about what comes
    after seeding; the tests of seeding itself start from no file."""
    database.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(catalog_database_template, database)
    return database


def count(path: Path, table: str) -> int:
    with sqlite3.connect(path) as connection:
        return connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["run"],
        ["db"],
        ["db", "upgrade"],
        ["catalog"],
        ["catalog", "import"],
        ["catalog", "export"],
        ["catalog", "stats"],
    ],
)
def test_every_command_has_help(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args([*argv, "--help"])
    assert exited.value.code == 0
    assert "usage: stackup" in capsys.readouterr().out


def test_run_without_token_prepares_the_database_and_says_what_to_set(database, capsys):
    assert main(["run"]) == 2
    out = capsys.readouterr().out
    assert "DISCORD_TOKEN is not set" in out
    assert "DISCORD_TOKEN=your-token" in out
    assert count(database, "tools") == len(load_catalog([SHIPPED_CATALOG_DIR]).tools)
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_db_upgrade_then_stats(database, capsys):
    assert main(["db", "upgrade"]) == 0
    assert count(database, "tools") == 0
    assert main(["catalog", "import", str(SHIPPED_CATALOG_DIR)]) == 0
    assert "0 updated" in capsys.readouterr().out
    assert main(["catalog", "stats"]) == 0
    out = capsys.readouterr().out
    assert f"tools:          {count(database, 'tools')}" in out


def test_import_with_an_error_reports_file_and_line_and_changes_nothing(database, tmp_path, capsys):
    assert main(["db", "upgrade"]) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "tools:\n"
        "  - slug: good-tool\n"
        "    name: Good Tool\n"
        "    description: Fine.\n"
        "    category: Application & Data > Databases\n"
        "  - slug: broken\n"
        "    name: Broken\n"
        "    description: Points at nothing.\n"
        "    category: Application & Data > Databases\n"
        "    alternatives: [good-tool, no-such-tool]\n"
    )
    assert main(["catalog", "import", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:10: broken: alternative 'no-such-tool' is not a tool in the catalog\n" in err
    assert "Traceback" not in err
    assert count(database, "tools") == 0


@pytest.mark.usefixtures("seeded_database")
def test_import_may_name_tools_already_in_the_database(database, tmp_path, capsys):
    assert main(["run"]) == 2
    extra = write_bottle_catalog(tmp_path / "extra.yaml", "alternatives: [flask, falcon]")
    before = count(database, "tools")
    assert main(["catalog", "import", str(extra)]) == 0
    assert "1 created" in capsys.readouterr().out
    assert count(database, "tools") == before + 1


@pytest.mark.usefixtures("seeded_database")
def test_export_round_trips_through_import(database, tmp_path, monkeypatch, capsys):
    assert main(["run"]) == 2
    exported = tmp_path / "export.yaml"
    assert main(["catalog", "export", str(exported)]) == 0
    capsys.readouterr()
    main(["catalog", "stats"])
    original_stats = capsys.readouterr().out

    other = tmp_path / "other.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{other}")
    assert main(["db", "upgrade"]) == 0
    assert main(["catalog", "import", str(exported)]) == 0
    capsys.readouterr()
    main(["catalog", "stats"])
    assert capsys.readouterr().out == original_stats


@pytest.mark.usefixtures("seeded_database")
def test_unreachable_discord_gets_one_line_and_no_token(database, monkeypatch, capsys):
    import discord.http

    token = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.not-a-real-token-but-secret"
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setenv("DISCORD_TOKEN", token)
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    monkeypatch.setenv("DISCORD_API_BASE_URL", "http://127.0.0.1:9/api/v10")
    assert main(["run"]) == 1
    captured = capsys.readouterr()
    assert "stackup: cannot reach Discord at http://127.0.0.1:9/api/v10" in captured.err
    assert "Traceback" not in captured.err
    assert token not in captured.out + captured.err


def test_catalog_commands_on_an_unmigrated_database_say_what_to_run(database, capsys):
    for argv in (["catalog", "stats"], ["catalog", "export"], ["catalog", "import", "x.yaml"]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert "is not at the newest revision: run `stackup db upgrade` first." in err
        assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "url", "expected"),
    [
        (["db", "upgrade"], "postgresql://stackup:s3cret@127.0.0.1:9/stackup", "stackup: "),
        (["db", "upgrade", "nope"], None, "stackup: migration failed: "),
    ],
)
def test_database_failures_get_one_line(database, monkeypatch, capsys, argv, url, expected):
    if url:
        monkeypatch.setenv("DATABASE_URL", url)
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(expected)
    assert "s3cret" not in err[0]


def test_export_to_an_unwritable_place_gets_one_line(database, tmp_path, capsys):
    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()
    assert main(["catalog", "export", str(tmp_path / "missing" / "dir" / "out.yaml")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("stackup: FileNotFoundError: ") and "Traceback" not in err


@pytest.mark.usefixtures("seeded_database")
def test_export_leaves_out_figures_fetched_from_github(database, tmp_path, capsys):
    assert main(["run"]) == 2
    with sqlite3.connect(database) as connection:
        connection.execute(
            "INSERT INTO external_stats (tool_id, source, source_url, metric, value, as_of) "
            "SELECT id, 'github', 'https://github.com/pallets/flask', 'github_stars', 70000, "
            "'2026-11-24' FROM tools WHERE slug = 'flask'"
        )
    exported = tmp_path / "export.yaml"
    assert main(["catalog", "export", str(exported)]) == 0
    text = exported.read_text()
    assert "70000" not in text
    assert "35700" in text  # StackShare's figure of the seed page stays
