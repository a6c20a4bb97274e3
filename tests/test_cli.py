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


# --- operator commands: invite-url, sync, db backup, doctor -----------------------------------

WELL_FORMED_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.not-a-real-token-but-secret"


@pytest.mark.parametrize("argv", [["invite-url"], ["sync"], ["doctor"], ["db", "backup"]])
def test_operator_commands_have_help(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args([*argv, "--help"])
    assert exited.value.code == 0
    assert "usage: stackup" in capsys.readouterr().out


def test_every_permission_the_cogs_check_is_in_the_invite():
    import discord

    from bot.permissions import BOT_PERMISSIONS, DIGEST_NEEDS, FORUM_NEEDS, FORUM_WANTS
    from cogs.stackup import cog

    assert (cog.FORUM_NEEDS, cog.FORUM_WANTS, cog.DIGEST_NEEDS) == (
        FORUM_NEEDS,
        FORUM_WANTS,
        DIGEST_NEEDS,
    )
    for name in [*FORUM_NEEDS, *FORUM_WANTS, *DIGEST_NEEDS, "create_public_threads"]:
        assert getattr(BOT_PERMISSIONS, name), name
    assert not BOT_PERMISSIONS.administrator
    # Nothing beyond what the cogs name: no Manage Server, roles, bans, mentions of everyone.
    named = {*FORUM_NEEDS, *FORUM_WANTS, *DIGEST_NEEDS, "create_public_threads"}
    assert discord.Permissions(**dict.fromkeys(named, True)) == BOT_PERMISSIONS


def test_invite_url_reads_the_application_id_from_the_token(database, monkeypatch, capsys):
    import discord

    from bot.permissions import BOT_PERMISSIONS

    monkeypatch.setenv("DISCORD_TOKEN", WELL_FORMED_TOKEN)
    assert main(["invite-url"]) == 0
    url, names = capsys.readouterr().out.splitlines()
    assert url == (
        "https://discord.com/oauth2/authorize?client_id=123456789012345678"
        f"&scope=bot+applications.commands&permissions={BOT_PERMISSIONS.value}"
    )
    assert names.startswith("permissions: View Channel, Send Messages, ")
    assert "Manage Messages" in names and "Administrator" not in names
    assert discord.Permissions(BOT_PERMISSIONS.value).manage_channels
    assert not database.exists()  # nothing was created for it


def test_invite_url_with_an_application_id_needs_no_token(database, capsys):
    assert main(["invite-url", "--application-id", "42"]) == 0
    assert "client_id=42&scope=bot+applications.commands&permissions=" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (None, "DISCORD_TOKEN is not set"),
        ("only-one-part", "three parts separated by dots"),
        ("bm90LWFuLWlk.GhIjKl.rest", "does not decode to an application id"),
        ("!!!.GhIjKl.rest", "is not base64"),
    ],
)
def test_invite_url_without_an_application_id_says_how(
    database, monkeypatch, capsys, token, reason
):
    if token:
        monkeypatch.setenv("DISCORD_TOKEN", token)
    assert main(["invite-url"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert reason in captured.err and "--application-id ID" in captured.err
    assert "Traceback" not in captured.err


@pytest.mark.parametrize(("token", "argv"), [(None, ["sync"]), ("a.b", ["sync", "--guild", "7"])])
def test_sync_without_a_usable_token_exits_2(database, monkeypatch, capsys, token, argv):
    if token:
        monkeypatch.setenv("DISCORD_TOKEN", token)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("stackup: DISCORD_TOKEN ") and "sync logs in as the bot" in err
    assert not database.exists()


def test_sync_guild_must_be_a_number(capsys):
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["sync", "--guild", "my-server"])
    assert exited.value.code == 2


@pytest.mark.usefixtures("seeded_database")
def test_sync_with_discord_unreachable_gets_one_line(database, monkeypatch, capsys):
    import discord.http

    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setenv("DISCORD_TOKEN", WELL_FORMED_TOKEN)
    monkeypatch.setenv("DISCORD_API_BASE_URL", "http://127.0.0.1:9/api/v10")
    assert main(["sync", "--guild", "7"]) == 1
    captured = capsys.readouterr()
    assert "stackup: sync failed at http://127.0.0.1:9/api/v10: " in captured.err
    assert "Traceback" not in captured.err
    assert WELL_FORMED_TOKEN not in captured.out + captured.err


@pytest.mark.usefixtures("seeded_database")
def test_db_backup_copies_a_live_sqlite_database(database, tmp_path, capsys):
    target = tmp_path / "backup.db"
    with sqlite3.connect(database) as writer:  # a connection open meanwhile does not matter
        writer.execute("SELECT 1")
        assert main(["db", "backup", str(target)]) == 0
    assert f"backed up {database} to {target}" in capsys.readouterr().out
    assert count(target, "tools") == count(database, "tools") > 0
    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.usefixtures("seeded_database")
def test_db_backup_never_overwrites(tmp_path, capsys):
    target = tmp_path / "backup.db"
    target.write_text("keep me")
    assert main(["db", "backup", str(target)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert target.read_text() == "keep me"


def test_db_backup_of_no_database_creates_nothing(database, tmp_path, capsys):
    assert main(["db", "backup", str(tmp_path / "backup.db")]) == 1
    assert f"no database at {database}" in capsys.readouterr().err
    assert not database.exists() and not (tmp_path / "backup.db").exists()


def test_db_backup_on_postgresql_prints_the_pg_dump_command(database, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "postgres://stackup:s3cret@db.example.org:5433/stackup")
    assert main(["db", "backup", "stackup.dump"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == (
        "pg_dump --format=custom --host=db.example.org --port=5433 --username=stackup "
        "--dbname=stackup --file=stackup.dump"
    )
    assert "s3cret" not in out


@pytest.mark.usefixtures("seeded_database")
def test_doctor_on_a_ready_install_exits_0(monkeypatch, capsys):
    from db import migrate

    monkeypatch.setenv("DISCORD_TOKEN", WELL_FORMED_TOKEN)
    assert main(["doctor"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "✓ settings",
        "✓ database",
        "✓ migrations",
        "✓ catalog",
        "✓ token",
    ]
    assert f"at the newest revision ({migrate.head_revision()})" in lines[2]
    assert "application 123456789012345678" in lines[4]
    assert WELL_FORMED_TOKEN not in "\n".join(lines)


def test_doctor_names_the_migrations_not_applied(database, monkeypatch, capsys):
    from db import migrate

    monkeypatch.setenv("DISCORD_TOKEN", WELL_FORMED_TOKEN)
    assert main(["db", "upgrade", "0001"]) == 0
    capsys.readouterr()
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    (line,) = [line for line in out.splitlines() if line.startswith("✗")]
    assert line.startswith("✗ migrations: at 0001; not applied: 0002 (")
    assert f"{migrate.head_revision()} (" in line and line.endswith("run `stackup db upgrade`")


def test_doctor_reports_a_missing_database_without_creating_it(database, monkeypatch, capsys):
    monkeypatch.setenv("DISCORD_TOKEN", WELL_FORMED_TOKEN)
    assert main(["doctor"]) == 1
    assert f"✗ database: no database file at {database}" in capsys.readouterr().out
    assert not database.exists() and not database.parent.exists()


@pytest.mark.usefixtures("seeded_database")
@pytest.mark.parametrize(
    ("token", "expected"),
    [
        (None, "✗ token: DISCORD_TOKEN is not set"),
        ("MTIz.abc", "✗ token: DISCORD_TOKEN is not a bot token: a bot token is three parts"),
        ("aGVsbG8.GhIjKl.rest", "✗ token: DISCORD_TOKEN is not a bot token: its first part does"),
    ],
)
def test_doctor_fails_on_a_missing_or_malformed_token(monkeypatch, capsys, token, expected):
    if token:
        monkeypatch.setenv("DISCORD_TOKEN", token)
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert expected in out
    assert "✓ migrations" in out


def test_doctor_with_bad_settings_exits_2(database, monkeypatch, capsys):
    monkeypatch.setenv("SHARD_COUNT", "many")
    assert main(["doctor"]) == 2
    assert capsys.readouterr().out.startswith("✗ settings: SHARD_COUNT: ")


@pytest.mark.usefixtures("seeded_database")
def test_doctor_connect_with_discord_unreachable_fails(monkeypatch, capsys):
    import discord.http

    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setenv("DISCORD_TOKEN", WELL_FORMED_TOKEN)
    monkeypatch.setenv("DISCORD_API_BASE_URL", "http://127.0.0.1:9/api/v10")
    assert main(["doctor", "--connect"]) == 1
    out = capsys.readouterr().out
    assert "✗ discord: cannot reach Discord at http://127.0.0.1:9/api/v10: " in out
    assert WELL_FORMED_TOKEN not in out
