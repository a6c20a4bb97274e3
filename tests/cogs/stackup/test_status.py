"""`/stackup status` through the real bot under simcord: the bot's owners see its health,
everyone else an ephemeral refusal and nothing more."""

from __future__ import annotations

import importlib.metadata

import pytest

from bot.errors import NotAllowed
from tests.conftest import last_error, make_settings, sqlite_url

# Someone who never takes part: the members these tests create are not owners unless made so.
ABSENT_OWNER_ID = 111_111_111_111_111_111
REFUSAL = "Only Stackup's owners can see its status."


@pytest.fixture
def settings(database_path):
    return make_settings(database_url=sqlite_url(database_path), owner_ids=[ABSENT_OWNER_ID])


def _member(simcord_env, name: str):
    guild = simcord_env.create_guild()
    channel = guild.create_text_channel("general")
    return channel, guild.add_member(simcord_env.create_user(name))


async def test_a_member_who_is_not_an_owner_is_refused_privately(simcord_env, simcord_bot):
    assert simcord_bot.owner_ids == {ABSENT_OWNER_ID}
    channel, member = _member(simcord_env, "ada")

    result = await member.slash(channel, "stackup status")

    assert result.ephemeral
    assert result.response.content == REFUSAL
    assert not result.response.embeds
    assert not result.followups
    assert isinstance(last_error(simcord_env), NotAllowed)


async def test_without_owner_ids_the_application_owner_decides(simcord_env, simcord_bot):
    # As a bot built without OWNER_IDS: discord.py asks Discord who owns the application.
    simcord_bot.owner_ids = set()
    channel, member = _member(simcord_env, "grace")

    result = await member.slash(channel, "stackup status")

    assert result.ephemeral
    assert result.response.content == REFUSAL
    assert not result.response.embeds
    assert isinstance(last_error(simcord_env), NotAllowed)


async def test_an_owner_sees_the_bots_health(simcord_env, simcord_bot, settings):
    channel, member = _member(simcord_env, "linus")
    # simcord gives a user its id when it is created, after the bot was built from the
    # settings: the member joins the owners the settings named, as OWNER_IDS would make it.
    simcord_bot.owner_ids = {*settings.owner_ids, member.id}

    result = await member.slash(channel, "stackup status")

    assert result.ephemeral
    (embed,) = result.response.embeds
    fields = {field.name: field.value for field in embed.fields}
    assert list(fields) == [
        "Version",
        "Uptime",
        "Servers",
        "Shards",
        "Database",
        "Scheduled jobs",
        "Vote queue",
    ]
    assert fields["Version"] == importlib.metadata.version("stackup")
    assert fields["Uptime"]
    assert fields["Servers"] == f"{len(simcord_bot.guilds):,}"
    assert fields["Shards"].startswith("#0: ")
    assert fields["Database"].startswith("sqlite, `SELECT 1` in ")
    assert fields["Database"].endswith(" ms")
    assert fields["Scheduled jobs"] == f"{len(simcord_bot.timers.job_ids()):,}"
    assert fields["Vote queue"].endswith(" waiting")
