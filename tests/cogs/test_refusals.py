"""Every command for Stackup's owners or for Manage Server refuses everyone else, through the
real bot under simcord: privately, saying why, with nothing in the database changed.

The checks live in the bot's code (`manages_server`, the owner check of `/stackup status`); no
command leans on `default_member_permissions`, which a server's admins can change. `/stackup
forget-me` and the rest are for everyone; `/advice close` has its own rule (the asker, Manage
Threads or the closer role), tested with the advice posts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import discord
import pytest
from discord import app_commands
from sqlalchemy import inspect, text
from sqlmodel import select

from bot.core.voting import VoteTarget
from bot.errors import NotAllowed
from cogs._shared.discord_io import manages_server
from db.models import ProCon, Tool
from db.votes import cast_vote
from tests.conftest import last_error, make_settings, sqlite_url

# Someone who never takes part: no member these tests create is one of Stackup's owners.
ABSENT_OWNER_ID = 111_111_111_111_111_111
MANAGE_SERVER = "You need the Manage Server permission to do that."
OWNERS_ONLY = "Only Stackup's owners can see its status."


@pytest.fixture
def settings(database_path):
    return make_settings(database_url=sqlite_url(database_path), owner_ids=[ABSENT_OWNER_ID])


@pytest.fixture
async def world(simcord_env, sessions) -> dict[str, Any]:
    """A server with settings saved and items of its own with votes: what the commands would
    change. Its members: `ada` (no role), `mod` (every moderator's permission but Manage
    Server), `admin` (Administrator) and the server's owner."""
    owner = simcord_env.create_user("owner")
    guild = simcord_env.create_guild(owner=owner)
    everything_but = discord.Permissions(
        manage_channels=True,
        manage_threads=True,
        manage_messages=True,
        manage_roles=True,
        kick_members=True,
        ban_members=True,
        moderate_members=True,
    )
    mods = guild.create_role("Mods", permissions=everything_but)
    admins = guild.create_role("Admins", permissions=discord.Permissions(administrator=True))
    world: dict[str, Any] = {
        "guild": guild,
        "channel": guild.create_text_channel("general"),
        "forum": guild.create_forum_channel("advice"),
        "mods": mods,
        "ada": guild.add_member(simcord_env.create_user("ada")),
        "mod": guild.add_member(simcord_env.create_user("mod"), roles=[mods]),
        "admin": guild.add_member(simcord_env.create_user("admin"), roles=[admins]),
        "owner": guild.add_member(owner),
    }
    saved = await world["admin"].slash(
        world["channel"], "stackup setup", advice_forum=world["forum"], idle_days=10
    )
    assert saved.ephemeral and saved.response.embeds
    world.update(await own_items(sessions, guild.id, voter=world["ada"].id))
    return world


async def own_items(sessions, guild_id: int, *, voter: int) -> dict[str, int]:
    """Two pros and two cons of Flask added in the server, each with a vote."""
    async with sessions() as session, session.begin():
        (flask,) = (await session.exec(select(Tool.id).where(Tool.slug == "flask"))).all()
        items = {
            name: ProCon(tool_id=flask, kind=kind, text=text, guild_id=guild_id, author_id=1)
            for name, kind, text in (
                ("pro", "pro", "Tiny core"),
                ("other pro", "pro", "Small core"),
                ("con", "con", "Slow start"),
                ("other con", "con", "Slow boot"),
            )
        }
        session.add_all(items.values())
        await session.flush()
        for item in items.values():
            await cast_vote(
                session,
                kind=VoteTarget.PRO_CON,
                target_id=item.id,
                member_id=voter,
                guild_id=guild_id,
                value=1,
            )
        return {name: item.id for name, item in items.items()}


@dataclass(frozen=True)
class Case:
    command: str
    options: Callable[[dict[str, Any]], dict[str, Any]]
    refusal: str
    error: type[Exception]


def _merge(kind: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda w: {"tool": "flask", "duplicate": str(w[kind]), "into": str(w[f"other {kind}"])}


def _remove(kind: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda w: {"tool": "flask", "item": str(w[kind])}


MISSING = app_commands.MissingPermissions
CASES = {
    "stackup status": Case("stackup status", lambda w: {}, OWNERS_ONLY, NotAllowed),
    "stackup settings": Case("stackup settings", lambda w: {}, MANAGE_SERVER, MISSING),
    "stackup setup": Case(
        "stackup setup",
        lambda w: {"idle_days": 3, "closer_role": w["mods"], "stop_digest": True},
        MANAGE_SERVER,
        MISSING,
    ),
    "stackup reset": Case("stackup reset", lambda w: {}, MANAGE_SERVER, MISSING),
    "pros merge": Case("pros merge", _merge("pro"), MANAGE_SERVER, MISSING),
    "pros remove": Case("pros remove", _remove("pro"), MANAGE_SERVER, MISSING),
    "cons merge": Case("cons merge", _merge("con"), MANAGE_SERVER, MISSING),
    "cons remove": Case("cons remove", _remove("con"), MANAGE_SERVER, MISSING),
}
# Who is refused: without Manage Server, anyone but the admins and the owner; for the owners'
# command, even those (Manage Server and ownership of a server are not Stackup's ownership).
REFUSED = [
    (command, who)
    for command, case in CASES.items()
    for who in (("ada", "admin", "owner") if case.refusal == OWNERS_ONLY else ("ada", "mod"))
]


async def snapshot(sessions) -> dict[str, list[tuple]]:
    """Every row of every table the database has (read from the database, not the models)."""
    async with sessions() as session:
        connection = await session.connection()
        names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        tables = {}
        for name in names:
            found = (await session.exec(text(f'SELECT * FROM "{name}"'))).all()  # type: ignore[call-overload]
            tables[name] = sorted((tuple(row) for row in found), key=repr)
        return tables


def test_every_command_checking_manage_server_is_refused_here(simcord_env):
    """A command given the check later is listed here too, or this fails."""
    checked = {
        command.qualified_name
        for command in simcord_env.bot.tree.walk_commands()
        if isinstance(command, app_commands.Command) and manages_server in command.checks
    }
    assert checked == {name for name, case in CASES.items() if case.refusal == MANAGE_SERVER}


@pytest.mark.parametrize(("command", "who"), REFUSED)
async def test_refused_privately_with_the_reason_and_nothing_changed(
    simcord_env, world, sessions, command, who
):
    case = CASES[command]
    before = await snapshot(sessions)

    result = await world[who].slash(world["channel"], command, **case.options(world))

    assert result.ephemeral
    assert result.response.content == case.refusal
    assert not result.response.embeds and not result.response.components
    assert not result.followups
    assert isinstance(last_error(simcord_env), case.error)
    assert await snapshot(sessions) == before


async def test_a_reset_confirmed_after_losing_manage_server_is_refused(
    simcord_env, world, sessions
):
    """The button checks again at the click: the command's check was then."""
    asked = await world["admin"].slash(world["channel"], "stackup reset")
    assert asked.ephemeral
    before = await snapshot(sessions)
    (admins,) = [r for r in world["guild"].roles.values() if r.name == "Admins"]
    simcord_env.backend.remove_member_role(world["guild"].id, world["admin"].id, admins.id)
    await simcord_env.settle()

    clicked = await world["admin"].click(asked.response, label="Reset the settings")

    answer = clicked.followups[-1] if clicked.followups else clicked.response
    assert answer.content == MANAGE_SERVER
    assert answer.flags.ephemeral
    assert await snapshot(sessions) == before
