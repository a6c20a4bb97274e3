"""`/stackup settings`, the closer role of `/stackup setup` and `/stackup reset` through the
real bot under simcord: Manage Server only, refusals private with nothing changed."""

from __future__ import annotations

import pytest
from discord import app_commands
from sqlmodel import select

from bot.errors import InvalidInput, NotAllowed
from cogs.stackup.views import RESET_DONE
from db.models import AdvicePost, GuildSettings
from tests.cogs.advice.test_advice import advice_world, open_post, set_forum
from tests.conftest import last_error, rows

REFUSAL = "You need the Manage Server permission to do that."
CLOSE_REFUSAL = "Only the member who asked, or someone with Manage Threads, can close this post."


@pytest.fixture
def world(simcord_env):
    world = advice_world(simcord_env)
    guild = world["guild"]
    world["helpers"] = guild.create_role("Helpers")
    world["helper"] = guild.add_member(simcord_env.create_user("helper"), roles=[world["helpers"]])
    return world


def fields_of(message) -> dict[str, str]:
    return {f.name: f.value for f in message.embeds[0].fields}


async def settings_rows(sessions) -> list[GuildSettings]:
    return await rows(sessions, select(GuildSettings))


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("stackup settings", {}),
        ("stackup setup", {"idle_days": 3}),
        ("stackup reset", {}),
    ],
)
async def test_members_without_manage_server_are_refused_privately(
    simcord_env, world, sessions, command, options
):
    await set_forum(world)
    (before,) = await settings_rows(sessions)

    # Manage Threads is not Manage Server.
    result = await world["mod"].slash(world["channel"], command, **options)

    assert result.ephemeral
    assert result.response.content == REFUSAL
    assert not result.response.embeds and not result.response.components
    assert isinstance(last_error(simcord_env), app_commands.MissingPermissions)
    (after,) = await settings_rows(sessions)
    assert after.model_dump() == before.model_dump()


async def test_a_member_cannot_save_a_closer_role(simcord_env, world, sessions):
    result = await world["ben"].slash(
        world["channel"], "stackup setup", closer_role=world["helpers"]
    )
    assert result.ephemeral and result.response.content == REFUSAL
    assert isinstance(last_error(simcord_env), app_commands.MissingPermissions)
    assert await settings_rows(sessions) == []


async def test_settings_shows_everything_privately(world):
    await set_forum(world)
    await world["admin"].slash(world["channel"], "stackup setup", closer_role=world["helpers"])

    result = await world["admin"].slash(world["channel"], "stackup settings")

    assert result.ephemeral
    fields = fields_of(result.response)
    assert fields["Advice forum"] == f"<#{world['forum'].id}>"
    assert fields["Weekly digest"].startswith("off")
    assert fields["Idle posts close after"] == "7 days"
    assert fields["Closer role"] == f"<@&{world['helpers'].id}>"


async def test_settings_of_a_server_that_chose_nothing_are_the_defaults(world, sessions):
    result = await world["admin"].slash(world["channel"], "stackup settings")
    fields = fields_of(result.response)
    assert result.ephemeral
    assert fields["Advice forum"].startswith("none")
    assert fields["Closer role"].startswith("none")
    assert await settings_rows(sessions) == []  # showing writes nothing


async def test_the_closer_role_is_saved_and_cleared(simcord_env, world, sessions):
    result = await world["admin"].slash(
        world["channel"], "stackup setup", closer_role=world["helpers"]
    )
    assert result.ephemeral
    assert fields_of(result.response)["Closer role"] == f"<@&{world['helpers'].id}>"
    (row,) = await settings_rows(sessions)
    assert row.closer_role_id == world["helpers"].id

    both = await world["admin"].slash(
        world["channel"], "stackup setup", closer_role=world["helpers"], clear_closer_role=True
    )
    assert both.ephemeral and "not both" in both.response.content
    assert isinstance(last_error(simcord_env), InvalidInput)
    (row,) = await settings_rows(sessions)
    assert row.closer_role_id == world["helpers"].id

    await world["admin"].slash(world["channel"], "stackup setup", idle_days=5)
    (row,) = await settings_rows(sessions)
    assert row.closer_role_id == world["helpers"].id  # other options leave it alone

    cleared = await world["admin"].slash(world["channel"], "stackup setup", clear_closer_role=True)
    assert fields_of(cleared.response)["Closer role"].startswith("none")
    (row,) = await settings_rows(sessions)
    assert row.closer_role_id is None


async def test_without_the_closer_role_a_member_cannot_close_someone_elses_post(
    simcord_env, world, sessions
):
    await set_forum(world)
    thread, _ = await open_post(simcord_env, world)

    result = await world["helper"].slash(thread, "advice close")

    assert result.ephemeral and result.response.content == CLOSE_REFUSAL
    assert isinstance(last_error(simcord_env), NotAllowed)
    (post,) = await rows(sessions, select(AdvicePost))
    assert post.status == "open"


async def test_a_member_with_the_closer_role_closes_someone_elses_post(
    simcord_env, world, sessions
):
    await set_forum(world)
    await world["admin"].slash(world["channel"], "stackup setup", closer_role=world["helpers"])
    thread, _ = await open_post(simcord_env, world)

    # Someone without the role is still refused, with the same words.
    refused = await world["ben"].slash(thread, "advice close")
    assert refused.ephemeral and refused.response.content == CLOSE_REFUSAL
    assert isinstance(last_error(simcord_env), NotAllowed)

    result = await world["helper"].slash(thread, "advice close")

    assert not result.ephemeral
    (post,) = await rows(sessions, select(AdvicePost))
    assert post.status == "closed"


async def test_reset_after_confirming_deletes_the_settings_and_keeps_the_posts(
    simcord_env, world, sessions
):
    await set_forum(world)
    await world["admin"].slash(world["channel"], "stackup setup", closer_role=world["helpers"])
    await open_post(simcord_env, world)

    asked = await world["admin"].slash(world["channel"], "stackup reset")
    assert asked.ephemeral
    assert len(await settings_rows(sessions)) == 1  # nothing changes before the click

    confirmed = await world["admin"].click(asked.response, label="Reset the settings")

    # The question becomes the answer, its button gone.
    answer = confirmed.response if confirmed.response is not None else asked.response
    assert answer.content == RESET_DONE
    assert not answer.components
    assert await settings_rows(sessions) == []
    assert len(await rows(sessions, select(AdvicePost))) == 1
    shown = await world["admin"].slash(world["channel"], "stackup settings")
    fields = fields_of(shown.response)
    assert fields["Advice forum"].startswith("none")
    assert fields["Closer role"].startswith("none")


async def test_reset_without_confirming_changes_nothing(world, sessions):
    await set_forum(world)
    (before,) = await settings_rows(sessions)

    asked = await world["admin"].slash(world["channel"], "stackup reset")

    assert asked.ephemeral
    assert "back to the defaults" not in asked.response.content
    (after,) = await settings_rows(sessions)
    assert after.model_dump() == before.model_dump()
