"""`stackup sync` and `stackup doctor --connect` against a Discord REST API served on
127.0.0.1 (`tests/fake_discord_rest.py`): the real discord.py client, a real socket, every body
checked against Discord's spec."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import discord
import discord.http
import pytest

from bot.cli import main
from bot.permissions import BOT_PERMISSIONS, DIGEST_NEEDS, FORUM_NEEDS
from tests import test_cli
from tests.discord_contract import problems_in
from tests.fake_discord_rest import FakeDiscordRest, serving
from tests.test_cli import WELL_FORMED_TOKEN

APPLICATION_ID = 123456789012345678  # what WELL_FORMED_TOKEN's first part says
SERVER, FORUM, DIGEST = 111, 222, 333

# The CLI tests' own database fixtures: a settings-free environment, a seeded SQLite file.
database = test_cli.database
seeded_database = test_cli.seeded_database


@pytest.fixture
def fake_discord(database, monkeypatch) -> Iterator[FakeDiscordRest]:
    # after `database`, which clears DISCORD_TOKEN
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    with serving(FakeDiscordRest(bot_id=APPLICATION_ID, token=WELL_FORMED_TOKEN)) as fake:
        monkeypatch.setenv("DISCORD_TOKEN", WELL_FORMED_TOKEN)
        monkeypatch.setenv("DISCORD_API_BASE_URL", fake.base_url)
        yield fake
    assert problems_in(fake.requests) == []


def _put_commands(fake: FakeDiscordRest) -> list:
    return [r for r in fake.requests if r.method == "PUT" and r.path.endswith("/commands")]


@pytest.mark.usefixtures("seeded_database")
def test_sync_puts_every_command_once_globally(fake_discord, capsys):
    assert main(["sync"]) == 0
    (put,) = _put_commands(fake_discord)
    assert put.path == f"/applications/{APPLICATION_ID}/commands"
    names = {command["name"] for command in put.json}
    assert {"compare", "tool", "advice", "stackup"} <= names
    assert capsys.readouterr().out == f"synced {len(put.json)} application commands (globally)\n"


@pytest.mark.usefixtures("seeded_database")
def test_sync_to_one_server_puts_there(fake_discord, capsys):
    assert main(["sync", "--guild", str(SERVER)]) == 0
    (put,) = _put_commands(fake_discord)
    assert put.path == f"/applications/{APPLICATION_ID}/guilds/{SERVER}/commands"
    assert f"(copied to server {SERVER})" in capsys.readouterr().out


@pytest.mark.usefixtures("seeded_database")
def test_sync_with_a_refused_token_exits_2_and_puts_nothing(fake_discord, monkeypatch, capsys):
    fake_discord.token = "someone-else's"
    assert main(["sync"]) == 2
    assert "DISCORD_TOKEN was refused by Discord" in capsys.readouterr().err
    assert _put_commands(fake_discord) == []


def _configure(path, *, forum: int | None, digest: int | None) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO guild_settings (guild_id, advice_forum_id, digest_channel_id, idle_days,"
            " timezone, updated_at) VALUES (?, ?, ?, 7, 'UTC', '2026-01-01 00:00:00')",
            (SERVER, forum, digest),
        )


def _channel(channel_id: int, name: str, kind: int) -> dict:
    return {"id": str(channel_id), "name": name, "type": kind, "position": 0,
            "permission_overwrites": [], "flags": 0}  # fmt: skip


def test_doctor_connect_names_what_the_bot_lacks_in_each_channel(
    fake_discord, seeded_database, capsys
):
    _configure(seeded_database, forum=FORUM, digest=DIGEST)
    without = discord.Permissions(BOT_PERMISSIONS.value)
    without.manage_threads = False  # needed in the forum
    without.attach_files = False  # needed in both
    fake_discord.add_guild(
        SERVER,
        "Pythonistas",
        bot_permissions=without.value,
        channels=[_channel(FORUM, "advice", 15), _channel(DIGEST, "news", 0)],
    )
    assert main(["doctor", "--connect"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert f"✓ discord: logged in as Stackup ({APPLICATION_ID})" in lines
    assert "✗ Pythonistas: advice forum #advice: missing Attach Files, Manage Threads" in lines
    assert "✗ Pythonistas: digest channel #news: missing Attach Files" in lines
    assert "manage_threads" in FORUM_NEEDS and "attach_files" in DIGEST_NEEDS
    assert WELL_FORMED_TOKEN not in "\n".join(lines)


def test_doctor_connect_passes_when_every_permission_is_granted(
    fake_discord, seeded_database, capsys
):
    _configure(seeded_database, forum=FORUM, digest=None)
    fake_discord.add_guild(
        SERVER,
        "Pythonistas",
        bot_permissions=BOT_PERMISSIONS.value,
        channels=[_channel(FORUM, "advice", 15)],
    )
    assert main(["doctor", "--connect"]) == 0
    out = capsys.readouterr().out
    assert "✓ Pythonistas: advice forum #advice: every permission Stackup needs" in out
    assert "✗" not in out


def test_doctor_connect_reports_a_server_stackup_has_left(fake_discord, seeded_database, capsys):
    _configure(seeded_database, forum=FORUM, digest=None)
    assert main(["doctor", "--connect"]) == 0
    assert f"ℹ server {SERVER}: Stackup is not in this server any more" in capsys.readouterr().out
