"""Stacks and follows through the real bot under simcord: /stack add, remove, show and server,
/follow, /unfollow and /following with the mention preference, followers told of new advice
posts (by DM, or mentioned in the post when their DMs are closed and they asked for it), the
write limits, and guild isolation."""

from __future__ import annotations

import discord
import pytest
from sqlmodel import select

from bot.core.ratelimit import RateLimited
from bot.errors import InvalidInput, UnknownTool
from bot.services.community import CommunityService
from bot.services.follows import FollowService
from db import community
from db.models import Follow, MemberPreference, StackEntry, Tool, ToolTally
from tests.conftest import add_tools, final, last_error, make_settings, rows, sqlite_url

GUILD_NAME = "Rustaceans & Pythonistas"


@pytest.fixture
def world(simcord_env):
    guild = simcord_env.create_guild(GUILD_NAME)
    channel = guild.create_text_channel("general")
    forum = guild.create_forum_channel("advice")
    admins = guild.create_role(
        "Admins", permissions=discord.Permissions(manage_guild=True, manage_threads=True)
    )
    users = {name: simcord_env.create_user(name) for name in ("ada", "ben", "cy", "dee")}
    members = {name: guild.add_member(user) for name, user in users.items()}
    admin = guild.add_member(simcord_env.create_user("admin"), roles=[admins])
    return {
        "guild": guild,
        "channel": channel,
        "forum": forum,
        "admin": admin,
        "users": users,
        **members,
    }


async def tallies(sessions, guild_id: int, field: str) -> dict[str, int]:
    """A guild's non-zero tallies of one kind, by tool slug."""
    found = await rows(
        sessions,
        select(Tool.slug, getattr(ToolTally, field))
        .join(Tool, Tool.id == ToolTally.tool_id)
        .where(ToolTally.guild_id == guild_id),
    )
    return {slug: count for slug, count in found if count}


async def stack_rows(sessions, guild_id: int, member_id: int) -> set[str]:
    found = await rows(
        sessions,
        select(Tool.slug)
        .join(StackEntry, StackEntry.tool_id == Tool.id)
        .where(StackEntry.guild_id == guild_id, StackEntry.member_id == member_id),
    )
    return set(found)


async def follow_rows(sessions, guild_id: int, member_id: int) -> set[str]:
    found = await rows(
        sessions,
        select(Tool.slug)
        .join(Follow, Follow.tool_id == Tool.id)
        .where(Follow.guild_id == guild_id, Follow.member_id == member_id),
    )
    return set(found)


def fields(embed) -> dict[str, str]:
    return {field.name: field.value for field in embed.fields}


def dms(user) -> list[str]:
    """What the bot sent the user by DM, oldest first."""
    return [message.content for message in user.dm_channel.history()]


async def open_post(world, *, asker="ada", tools="Flask, Django", title="Flask or Django?"):
    before = len(world["forum"].threads)
    await world[asker].slash(
        world["channel"],
        "advice ask",
        title=title,
        question="Team of three, a REST API for a mobile app.",
        tools=tools,
    )
    threads = world["forum"].threads
    assert len(threads) == before + 1
    return threads[-1]


async def set_forum(world) -> None:
    result = await world["admin"].slash(
        world["channel"], "stackup setup", advice_forum=world["forum"]
    )
    assert result.ephemeral


# ---------------------------------------------------------------- /stack


async def test_stack_add_and_remove_keep_rows_and_tallies(simcord_env, world, sessions):
    guild, ada = world["guild"], world["ada"]
    result = await ada.slash(world["channel"], "stack add", tools="Flask, django ,PostgreSQL")
    assert result.ephemeral
    assert result.response.content == (
        "Added to your stack in this server: **Flask**, **Django** and **PostgreSQL**. "
        "See it with `/stack show`."
    )
    assert await stack_rows(sessions, guild.id, ada.id) == {"flask", "django", "postgresql"}

    result = await ada.slash(world["channel"], "stack add", tools="Koa; Flask; Flaskk")
    assert result.response.content == (
        "Added to your stack in this server: **Koa**. Already in your stack: **Flask**. "
        "See it with `/stack show`."
    )
    await world["ben"].slash(world["channel"], "stack add", tools="Flask")
    assert await tallies(sessions, guild.id, "stacks") == {
        "flask": 2,
        "django": 1,
        "postgresql": 1,
        "koa": 1,
    }

    result = await ada.slash(world["channel"], "stack remove", tools="Django, Redis")
    assert result.ephemeral
    assert result.response.content == (
        "Removed from your stack in this server: **Django**. Not in your stack: **Redis**. "
        "See it with `/stack show`."
    )
    assert await stack_rows(sessions, guild.id, ada.id) == {"flask", "postgresql", "koa"}
    assert await tallies(sessions, guild.id, "stacks") == {"flask": 2, "postgresql": 1, "koa": 1}


@pytest.mark.parametrize(
    ("tools", "expected"),
    [
        ("Flask, Nosuchtoolxyz", "Not in the catalog: “Nosuchtoolxyz”"),
        ("Jav", "“Jav” (did you mean **Java**, **JavaScript**"),
        (" , ;", "Name the tools, comma separated"),
        (", ".join(["Flask"] * 11), "Name at most 10 tools at a time (you named 11)."),
    ],
)
async def test_bad_tool_lists_are_explained_privately_and_change_nothing(
    simcord_env, world, sessions, tools, expected
):
    result = await world["ada"].slash(world["channel"], "stack add", tools=tools)
    assert result.ephemeral
    assert expected in result.response.content
    assert isinstance(last_error(simcord_env), InvalidInput)
    assert await rows(sessions, select(StackEntry)) == []
    assert await tallies(sessions, world["guild"].id, "stacks") == {}


async def test_stack_tools_autocomplete_completes_the_last_name(simcord_env, world):
    choices = await world["ada"].autocomplete(world["channel"], "stack add", "tools", "Flask, Djan")
    values = [choice["value"] for choice in choices]
    assert "Flask, Django" in values
    assert all(value.startswith("Flask, ") for value in values)


async def test_stack_show_groups_a_members_tools_by_category(simcord_env, world):
    ada, ben = world["ada"], world["ben"]
    await ada.slash(world["channel"], "stack add", tools="Koa, Flask, Django, PostgreSQL")

    result = await ada.slash(world["channel"], "stack show")
    assert not result.ephemeral
    (embed,) = result.response.embeds
    assert embed.title == "Your stack in this server"
    assert list(fields(embed).items()) == [
        ("Databases", "PostgreSQL"),
        ("Frameworks (Full Stack)", "Django"),
        ("Microframeworks", "Flask · Koa"),
    ]
    assert embed.footer.text == "4 tools in 3 categories"

    # Another member's stack, asked by someone else, in public.
    result = await ben.slash(world["channel"], "stack show", member=ada)
    assert not result.ephemeral
    (embed,) = result.response.embeds
    assert embed.title == "ada's stack in this server"
    assert fields(embed)["Microframeworks"] == "Flask · Koa"

    result = await ada.slash(world["channel"], "stack show", member=ben)
    (embed,) = result.response.embeds
    assert embed.title == "ben's stack in this server"
    assert embed.fields == []
    assert embed.description == "ben has not added any tools here yet."


async def test_stack_server_ranks_tools_by_members_using_them(simcord_env, world):
    await world["ada"].slash(world["channel"], "stack add", tools="Flask, Django")
    await world["ben"].slash(world["channel"], "stack add", tools="Flask, PostgreSQL")
    await world["cy"].slash(world["channel"], "stack add", tools="Flask, PostgreSQL, Redis")
    await world["cy"].slash(world["channel"], "stack remove", tools="Redis")

    result = await world["dee"].slash(world["channel"], "stack server")
    assert not result.ephemeral
    (embed,) = result.response.embeds
    assert embed.title == f"What {discord.utils.escape_markdown(GUILD_NAME)} uses"
    assert embed.description.splitlines() == [
        "` 1.` **Flask** · 3 members · *Microframeworks*",
        "` 2.` **PostgreSQL** · 2 members · *Databases*",
        "` 3.` **Django** · 1 member · *Frameworks (Full Stack)*",
    ]
    assert embed.footer.text == (
        "3 members shared their stack · 3 tools in use · add yours with /stack add"
    )


async def test_an_empty_server_stack_says_how_to_start(simcord_env, world):
    result = await world["ada"].slash(world["channel"], "stack server")
    (embed,) = result.response.embeds
    assert "No member has shared their stack here yet" in embed.description


# ---------------------------------------------------------------- following


async def test_follow_unfollow_and_following_with_the_mention_preference(
    simcord_env, world, sessions
):
    guild, ada = world["guild"], world["ada"]
    choices = await ada.autocomplete(world["channel"], "follow", "tool", "fla")
    assert {"name": "Flask", "value": "flask"} in choices

    result = await ada.slash(world["channel"], "follow", tool="flask")
    assert result.ephemeral
    assert result.response.content == (
        "You now follow **Flask** in this server: new advice posts on it reach you by DM. "
        "When your DMs are closed, you are not told; set `mention_in_posts` to True with "
        "`/follow` to be mentioned in the post instead."
    )
    assert await follow_rows(sessions, guild.id, ada.id) == {"flask"}
    assert await rows(sessions, select(MemberPreference)) == []

    result = await ada.slash(world["channel"], "follow", tool="Django", mention_in_posts=True)
    assert "You now follow **Django**" in result.response.content
    assert "you are mentioned in the post instead" in result.response.content
    (preference,) = await rows(sessions, select(MemberPreference))
    assert (preference.guild_id, preference.member_id, preference.mention_in_posts) == (
        guild.id,
        ada.id,
        True,
    )
    assert await tallies(sessions, guild.id, "followers") == {"flask": 1, "django": 1}

    result = await ada.slash(world["channel"], "following")
    assert result.ephemeral
    (embed,) = result.response.embeds
    assert embed.title == "Tools you follow in this server"
    assert "you are mentioned in the post instead" in embed.description
    assert fields(embed) == {"Frameworks (Full Stack)": "Django", "Microframeworks": "Flask"}
    assert embed.footer.text == "2 tools · stop with /unfollow"

    # Following again only changes the preference.
    result = await ada.slash(world["channel"], "follow", tool="flask", mention_in_posts=False)
    assert result.response.content.startswith("You already follow **Flask** in this server.")
    assert "you are not told" in result.response.content
    (preference,) = await rows(sessions, select(MemberPreference))
    assert preference.mention_in_posts is False
    assert await tallies(sessions, guild.id, "followers") == {"flask": 1, "django": 1}

    result = await ada.slash(world["channel"], "unfollow", tool="Flask")
    assert result.ephemeral
    assert result.response.content == "You no longer follow **Flask** in this server."
    result = await ada.slash(world["channel"], "unfollow", tool="flask")
    assert result.response.content == "You were not following **Flask** in this server."
    assert await follow_rows(sessions, guild.id, ada.id) == {"django"}
    assert await tallies(sessions, guild.id, "followers") == {"django": 1}

    result = await world["ben"].slash(world["channel"], "following")
    (embed,) = result.response.embeds
    assert embed.fields == [] and embed.description.startswith("None yet.")


async def test_following_an_unknown_tool_is_refused_with_suggestions(simcord_env, world, sessions):
    result = await world["ada"].slash(world["channel"], "follow", tool="Jav")
    assert result.ephemeral
    assert "Did you mean **Java**, **JavaScript**" in result.response.content
    assert isinstance(last_error(simcord_env), UnknownTool)
    assert await rows(sessions, select(Follow)) == []


async def test_the_compare_follow_button_still_follows(simcord_env, world, sessions):
    compared = await world["ada"].slash(world["channel"], "tool", name="Flask")
    clicked = await world["ada"].click(final(compared), label="Follow")
    assert "You now follow **Flask**" in clicked.response.content
    result = await world["ada"].slash(world["channel"], "following")
    assert fields(result.response.embeds[0]) == {"Microframeworks": "Flask"}


# ---------------------------------------------------------------- telling followers


async def test_a_new_post_is_sent_by_dm_to_followers_once_but_not_to_the_asker(
    simcord_env, world, sessions
):
    await set_forum(world)
    users = world["users"]
    await world["ben"].slash(world["channel"], "follow", tool="flask")
    for tool in ("flask", "django"):  # told once, though following both
        await world["cy"].slash(world["channel"], "follow", tool=tool)
    await world["ada"].slash(world["channel"], "follow", tool="django")  # the asker
    await world["dee"].slash(world["channel"], "follow", tool="koa")  # not on the post
    # A follower of Flask in another server hears nothing of this one's posts.
    elsewhere = simcord_env.create_guild("Elsewhere")
    elsewhere_channel = elsewhere.create_text_channel("general")
    stranger = simcord_env.create_user("stranger")
    await elsewhere.add_member(stranger).slash(elsewhere_channel, "follow", tool="flask")

    thread = await open_post(world, title="Flask or **Django**?")
    await simcord_env.settle()

    expected = (
        f"New advice post on **Flask**, **Django** in "
        f"**{discord.utils.escape_markdown(GUILD_NAME)}**: “Flask or \\*\\*Django\\*\\*?” "
        f"https://discord.com/channels/{world['guild'].id}/{thread.id}\n"
        "-# You follow these tools there; stop with `/unfollow` in that server."
    )
    assert dms(users["ben"]) == [expected]
    assert dms(users["cy"]) == [expected]
    assert dms(users["ada"]) == []
    assert dms(users["dee"]) == []
    assert dms(stranger) == []
    # Nobody was mentioned in the post.
    assert all("<@" not in message.content for message in thread.history())


async def test_closed_dms_mean_a_mention_in_the_post_only_for_members_who_asked(
    simcord_env, world, sessions
):
    await set_forum(world)
    users = world["users"]
    await world["ben"].slash(world["channel"], "follow", tool="flask", mention_in_posts=True)
    await world["cy"].slash(world["channel"], "follow", tool="flask")
    await world["dee"].slash(world["channel"], "follow", tool="django", mention_in_posts=True)
    # A follower who left the server hears nothing of its posts, DM or mention.
    eve = simcord_env.create_user("eve")
    await (
        world["guild"]
        .add_member(eve)
        .slash(world["channel"], "follow", tool="flask", mention_in_posts=True)
    )
    world["guild"].remove_member(eve)
    for name in ("ben", "cy"):
        dm = simcord_env.backend.get_dm_channel(users[name].id)
        simcord_env.inject_error(
            "POST",
            f"/channels/{dm.id}/messages",
            status=403,
            code=50007,
            message="Cannot send messages to this user",
            times=None,
        )

    thread = await open_post(world)
    await simcord_env.settle()

    assert dms(users["dee"])  # open DMs: told there, not mentioned
    mentions = [m for m in thread.history() if "<@" in (m.content or "")]
    (mention,) = mentions
    assert f"<@{users['ben'].id}>" in mention.content
    assert f"<@{users['cy'].id}>" not in mention.content
    assert f"<@{users['dee'].id}>" not in mention.content
    assert f"<@{eve.id}>" not in mention.content and dms(eve) == []
    assert mention.content.startswith("New advice post on **Flask**, **Django**.")
    stored = simcord_env.backend.get_message(thread.id, mention.id)
    assert stored.mention_user_ids == [users["ben"].id]
    (body,) = [
        request.json
        for request in simcord_env.http_requests
        if request.method == "POST"
        and request.path == f"/channels/{thread.id}/messages"
        and "<@" in (request.json or {}).get("content", "")
    ]
    assert body["allowed_mentions"]["users"] == [str(users["ben"].id)]
    assert body["allowed_mentions"]["parse"] == []


async def test_followers_told_per_post_are_capped_and_read_once_each(db):
    """On SQLite and PostgreSQL: one query, each member once, the asker left out, the
    longest-standing followers first, this guild only."""
    guild_id, asker = 1_200_000_000_000_000_001, 99
    async with db() as session, session.begin():
        flask, django, koa = (
            tool.id for tool in await add_tools(session, "flask", "django", "koa")
        )
        for member_id in (5, 1, 2, 3, 4):
            await community.follow(
                session, guild_id=guild_id, member_id=member_id, tool_ids=[flask, django]
            )
        await community.follow(session, guild_id=guild_id, member_id=6, tool_ids=[koa])
        await community.follow(session, guild_id=guild_id, member_id=asker, tool_ids=[flask])
        await community.follow(session, guild_id=guild_id + 1, member_id=7, tool_ids=[flask])
        for value in (False, True):  # the second write updates the first
            await community.set_mention_in_posts(
                session, guild_id=guild_id, member_id=2, value=value
            )
        await community.set_mention_in_posts(
            session, guild_id=guild_id + 1, member_id=1, value=True
        )
    service = FollowService(db)
    everyone = await service.followers_to_tell(
        guild_id=guild_id, tool_ids=[flask, django], asker_id=asker
    )
    assert [(f.member_id, f.mention_in_posts) for f in everyone] == [
        (5, False),
        (1, False),
        (2, True),
        (3, False),
        (4, False),
    ]
    capped = await service.followers_to_tell(
        guild_id=guild_id, tool_ids=[flask, django], asker_id=asker, limit=3
    )
    assert [f.member_id for f in capped] == [5, 1, 2]
    elsewhere = await service.followers_to_tell(
        guild_id=guild_id + 2, tool_ids=[flask, django], asker_id=asker
    )
    assert elsewhere == ()


async def test_the_server_stack_ranks_from_the_tallies_on_both_databases(db):
    guild_id = 1_200_000_000_000_000_001
    async with db() as session, session.begin():
        flask, django, koa = (
            tool.id for tool in await add_tools(session, "flask", "django", "koa")
        )
    service = CommunityService(db)
    for member_id, tools in ((1, [flask, django]), (2, [flask]), (3, [koa, flask])):
        await service.add_to_stack(guild_id=guild_id, member_id=member_id, tool_ids=tools)
    await service.add_to_stack(guild_id=guild_id + 1, member_id=1, tool_ids=[koa])
    change = await service.remove_from_stack(guild_id=guild_id, member_id=3, tool_ids=[koa, django])
    assert ([r.slug for r in change.changed], [r.slug for r in change.unchanged]) == (
        ["koa"],
        ["django"],
    )
    stack = await service.server_stack(guild_id=guild_id, shown=1)
    assert [(r.entry.tool.slug, r.members) for r in stack.ranking] == [("flask", 3)]
    assert (stack.total_tools, stack.members) == (2, 3)
    mine = await service.member_stack(guild_id=guild_id, member_id=1)
    assert mine.groups == [("Microframeworks", (mine.tools[0].tool, mine.tools[1].tool))]
    assert [entry.tool.slug for entry in mine.tools] == ["django", "flask"]


# ---------------------------------------------------------------- rate limits


class TestWriteLimits:
    @pytest.fixture
    def settings(self, database_path):
        return make_settings(database_url=sqlite_url(database_path), rate_changes_per_minute=2)

    async def test_changes_are_rate_limited_and_allowed_again_later(
        self, simcord_env, simcord_bot, world, sessions
    ):
        now = [1000.0]
        simcord_bot.limits.clock = lambda: now[0]
        guild, ada = world["guild"], world["ada"]
        await ada.slash(world["channel"], "stack add", tools="Flask")
        now[0] += 10
        await ada.slash(world["channel"], "follow", tool="flask", mention_in_posts=True)
        now[0] += 10

        for command, options in (
            ("stack remove", {"tools": "Flask"}),
            ("unfollow", {"tool": "flask"}),
            ("follow", {"tool": "django"}),
            ("stack add", {"tools": "Django"}),
        ):
            result = await ada.slash(world["channel"], command, **options)
            assert result.ephemeral
            assert result.response.content == (
                "Easy there: at most 2 changes a minute. Try again in 40 s."
            )
            assert isinstance(last_error(simcord_env), RateLimited)
        assert await stack_rows(sessions, guild.id, ada.id) == {"flask"}
        assert await follow_rows(sessions, guild.id, ada.id) == {"flask"}

        # Reading is not limited.
        result = await ada.slash(world["channel"], "stack show")
        assert fields(result.response.embeds[0]) == {"Microframeworks": "Flask"}

        now[0] += 41
        result = await ada.slash(world["channel"], "stack remove", tools="Flask")
        assert result.response.content.startswith("Removed from your stack in this server")
        assert await stack_rows(sessions, guild.id, ada.id) == set()
        # Another member has a limit of their own.
        result = await world["ben"].slash(world["channel"], "stack add", tools="Koa")
        assert result.response.content.startswith("Added to your stack")


# ---------------------------------------------------------------- guild isolation


async def test_stacks_and_follows_stay_in_their_server(simcord_env, world, sessions):
    here, there = world["guild"], simcord_env.create_guild("There")
    here_channel, there_channel = world["channel"], there.create_text_channel("general")
    ada_here = world["ada"]
    ada_there = there.add_member(world["users"]["ada"])
    ben_there = there.add_member(world["users"]["ben"])

    await ada_here.slash(here_channel, "stack add", tools="Flask, Django")
    await ada_here.slash(here_channel, "follow", tool="flask", mention_in_posts=True)
    await ada_there.slash(there_channel, "stack add", tools="Flask")

    result = await ben_there.slash(there_channel, "stack show", member=ada_there)
    assert fields(result.response.embeds[0]) == {"Microframeworks": "Flask"}
    result = await ada_there.slash(there_channel, "stack server")
    (line,) = result.response.embeds[0].description.splitlines()
    assert "**Flask** · 1 member" in line
    result = await ada_there.slash(there_channel, "following")
    (embed,) = result.response.embeds
    assert embed.fields == [] and embed.description.startswith("None yet.")
    assert await rows(sessions, select(MemberPreference.guild_id)) == [here.id]

    # Removing in one server leaves the other alone.
    await ada_there.slash(there_channel, "stack remove", tools="Flask")
    assert await stack_rows(sessions, here.id, ada_here.id) == {"flask", "django"}
    assert await tallies(sessions, here.id, "stacks") == {"flask": 1, "django": 1}
    assert await tallies(sessions, there.id, "stacks") == {}

    # The tool card counts each server's members, and everywhere is the sum.
    await ben_there.slash(there_channel, "stack add", tools="Flask")
    result = await ben_there.slash(there_channel, "tool", name="flask")
    card = "\n".join(f"{field.name}\n{field.value}" for field in final(result).embeds[0].fields)
    assert "In this server: 1\xa0stack" in card
    assert "In all servers: 2\xa0stacks · 1\xa0follower" in card
