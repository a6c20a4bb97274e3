"""Pros and cons through the real bot under simcord: adding with the near-duplicate question,
voting messages with numbered reactions and their pages, votes cast by button, merge and
remove by moderators, rate limits, and what stays inside a guild."""

from __future__ import annotations

import discord
import pytest
from discord import app_commands
from sqlmodel import select

from bot.bot import StackupBot
from bot.core.ratelimit import RateLimited, member_rules
from bot.core.voting import NUMBERED
from bot.errors import InvalidInput, NotAllowed, UnknownTool
from db.models import ProCon, Tool, ToolTally, Vote, VoteMessage, VoteOption
from tests.conftest import last_error, rows


@pytest.fixture
def world(simcord_env):
    guild = simcord_env.create_guild()
    channel = guild.create_text_channel("general")
    admins = guild.create_role("Admins", permissions=discord.Permissions(manage_guild=True))
    members = {
        name: guild.add_member(simcord_env.create_user(name)) for name in ("ada", "ben", "cy")
    }
    members["admin"] = guild.add_member(simcord_env.create_user("admin"), roles=[admins])
    return {"guild": guild, "channel": channel, **members}


async def reason(sessions, text: str, tool_slug: str = "flask") -> ProCon:
    (found,) = await rows(
        sessions,
        select(ProCon)
        .join(Tool, Tool.id == ProCon.tool_id)
        .where(ProCon.text == text, Tool.slug == tool_slug),
    )
    return found


async def add_pros(sessions, guild_id: int, texts: list[str], tool_slug: str = "flask") -> None:
    async with sessions() as session, session.begin():
        (tool_id,) = (await session.exec(select(Tool.id).where(Tool.slug == tool_slug))).all()
        session.add_all(
            ProCon(tool_id=tool_id, kind="pro", text=text, guild_id=guild_id, author_id=1)
            for text in texts
        )


def last_message(channel):
    return channel.history()[-1]


def lines_of(message) -> list[str]:
    return message.embeds[0].description.splitlines()


async def test_a_similar_pro_is_offered_first_with_both_buttons(world, sessions):
    asked = await world["ada"].slash(
        world["channel"], "pros add", tool="flask", text="  Flexibility   and easy to use "
    )
    assert asked.response.flags.ephemeral
    assert asked.response.content.startswith(
        "Similar: “Flexibilty and easy to use” (9) is already a pro of Flask."
    )
    labels = [c["label"] for row in asked.response.components for c in row["components"]]
    assert labels == ["Vote for that one", "Add mine anyway"]

    voted = await world["ada"].click(asked.response, label="Vote for that one")
    assert voted.response.content == "Voted for “Flexibilty and easy to use” (10)."
    existing = await reason(sessions, "Flexibilty and easy to use")
    assert (existing.up_count, existing.imported_count) == (1, 9)
    (vote,) = await rows(sessions, select(Vote))
    # A vote by button belongs to no voting message.
    assert (vote.member_id, vote.target_id, vote.message_id) == (
        world["ada"].id,
        existing.id,
        None,
    )
    again = await world["ada"].slash(
        world["channel"], "pros add", tool="flask", text="Flexibility and easy to use"
    )
    repeat = await world["ada"].click(again.response, label="Vote for that one")
    assert repeat.response.content == "You already vote for “Flexibilty and easy to use” (10)."

    asked = await world["ben"].slash(
        world["channel"], "pros add", tool="flask", text="Flexibility and easy to use"
    )
    added = await world["ben"].click(asked.response, label="Add mine anyway")
    assert added.response.content.startswith(
        "Added the pro “Flexibility and easy to use” to Flask in this server."
    )
    mine = await reason(sessions, "Flexibility and easy to use")
    assert (mine.guild_id, mine.author_id, mine.kind) == (world["guild"].id, world["ben"].id, "pro")
    # A text nothing resembles is added at once.
    plain = await world["cy"].slash(
        world["channel"], "cons add", tool="flask", text="Async support came late"
    )
    assert plain.response.flags.ephemeral
    assert plain.response.content.startswith("Added the con “Async support came late”")
    assert (await reason(sessions, "Async support came late")).kind == "con"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ok", "Say what the pro is in a few words (3 characters at least)."),
        ("x" * 150, "Keep a pro to 100 characters (it has 150)"),
    ],
)
async def test_bad_text_is_refused_privately(world, simcord_env, sessions, text, expected):
    result = await world["ada"].slash(world["channel"], "pros add", tool="flask", text=text)
    assert result.response.flags.ephemeral
    assert result.response.content.startswith(expected)
    assert isinstance(last_error(simcord_env), InvalidInput)
    assert not await rows(sessions, select(ProCon).where(ProCon.guild_id.is_not(None)))


async def test_unknown_tool_is_answered_with_suggestions(world, simcord_env):
    result = await world["ada"].slash(world["channel"], "pros add", tool="sql", text="Tiny")
    assert result.response.flags.ephemeral
    assert result.response.content.startswith("No tool called “sql” in the catalog. Did you mean")
    assert isinstance(last_error(simcord_env), UnknownTool)


async def test_reactions_on_a_voting_message_are_votes(world, simcord_env, sessions):
    posted = await world["ada"].slash(world["channel"], "pros vote", tool="flask")
    message = last_message(world["channel"])
    assert not posted.response.flags.ephemeral
    embed = message.embeds[0]
    assert embed.title == "Flask: pros"
    assert lines_of(message)[:2] == [
        "1️⃣ `10` For it flexibility",
        "2️⃣ `9` Flexibilty and easy to use",
    ]
    assert "React with an item's number to vote for it" in embed.footer.text
    shown = simcord_env.backend.get_message(world["channel"].id, message.id).reactions
    assert [r.emoji for r in shown] == list(NUMBERED[:5])

    await world["ben"].react(message, "2️⃣")
    flexible = await reason(sessions, "Flexibilty and easy to use")
    assert flexible.up_count == 1
    (vote,) = await rows(sessions, select(Vote))
    assert (vote.member_id, vote.message_id) == (world["ben"].id, message.id)
    (tally,) = await rows(sessions, select(ToolTally).where(ToolTally.tool_id == flexible.tool_id))
    assert tally.votes == 1
    # The first change after a quiet spell is shown at once, with the labelled parts.
    assert lines_of(last_message(world["channel"]))[1] == (
        "2️⃣ `10` Flexibilty and easy to use (9 StackShare + 1 member)"
    )
    # Removing the reaction withdraws the vote; the count follows after the edit interval.
    await world["ben"].unreact(message, "2️⃣")
    assert (await reason(sessions, "Flexibilty and easy to use")).up_count == 0
    assert not await rows(sessions, select(Vote))
    await simcord_env.advance_time(31)
    assert lines_of(last_message(world["channel"]))[1] == ("2️⃣ `9` Flexibilty and easy to use")


async def test_one_vote_per_member_across_voting_messages(world, simcord_env, sessions):
    other_channel = world["guild"].create_text_channel("random")
    await world["ada"].slash(world["channel"], "pros vote", tool="flask")
    first = last_message(world["channel"])
    await world["ben"].slash(other_channel, "pros vote", tool="flask")
    second = last_message(other_channel)
    await world["cy"].react(first, "1️⃣")
    await world["cy"].react(second, "1️⃣")
    top = await reason(sessions, "For it flexibility")
    assert top.up_count == 1
    votes = await rows(sessions, select(Vote.message_id))
    assert votes == [first.id]
    # The vote belongs to the message that cast it: taking the other reaction away, or a
    # recount of the other message, leaves it.
    await world["cy"].unreact(second, "1️⃣")
    assert (await reason(sessions, "For it flexibility")).up_count == 1
    await simcord_env.bot.flows.recounts.recount(other_channel.id, second.id)
    await simcord_env.settle()
    assert (await reason(sessions, "For it flexibility")).up_count == 1
    await world["cy"].unreact(first, "1️⃣")
    assert (await reason(sessions, "For it flexibility")).up_count == 0


async def test_a_vote_cast_by_button_survives_recounts(world, simcord_env, sessions):
    await world["ben"].slash(world["channel"], "pros vote", tool="flask")
    message = last_message(world["channel"])
    assert "4️⃣ `6` Secured" in lines_of(message)
    asked = await world["ada"].slash(world["channel"], "pros add", tool="flask", text="Secure")
    await world["ada"].click(asked.response, label="Vote for that one")
    # The voting message listing it shows the vote.
    assert "4️⃣ `7` Secured (6 StackShare + 1 member)" in lines_of(last_message(world["channel"]))
    await simcord_env.bot.flows.recounts.recount(world["channel"].id, message.id)
    await simcord_env.settle()
    assert (await reason(sessions, "Secured")).up_count == 1
    # Reacting adds nothing; taking that reaction away withdraws the vote, as members expect.
    await world["ada"].react(message, "4️⃣")
    assert (await reason(sessions, "Secured")).up_count == 1
    await world["ada"].unreact(message, "4️⃣")
    assert (await reason(sessions, "Secured")).up_count == 0


async def test_more_than_ten_are_paged(world, simcord_env, sessions):
    await add_pros(sessions, world["guild"].id, [f"Reason number {n:02}" for n in range(1, 9)])
    await world["ada"].slash(world["channel"], "pros vote", tool="flask")
    first = last_message(world["channel"])
    assert first.embeds[0].title == "Flask: pros (page 1 of 2)"
    assert len(lines_of(first)) == 10
    buttons = {c.label: c for row in first.components for c in row.children}
    assert buttons["◀ Previous"].disabled and not buttons["Next ▶"].disabled

    await world["ben"].click(first, label="Next ▶")
    second = last_message(world["channel"])
    assert second.id != first.id
    assert second.embeds[0].title == "Flask: pros (page 2 of 2)"
    # Flask's five catalog pros and eight of this server's: 13, the last three on page 2.
    assert lines_of(second) == [
        "1️⃣ `0` Reason number 06",
        "2️⃣ `0` Reason number 07",
        "3️⃣ `0` Reason number 08",
    ]
    shown = simcord_env.backend.get_message(world["channel"].id, second.id).reactions
    assert [r.emoji for r in shown] == ["1️⃣", "2️⃣", "3️⃣"]
    await world["cy"].react(second, "3️⃣")
    assert (await reason(sessions, "Reason number 08")).up_count == 1
    (option,) = await rows(
        sessions,
        select(VoteOption).where(VoteOption.message_id == second.id, VoteOption.emoji == "3️⃣"),
    )
    assert option.target_id == (await reason(sessions, "Reason number 08")).id
    (stored,) = await rows(sessions, select(VoteMessage).where(VoteMessage.message_id == second.id))
    assert stored.page == 2


async def test_the_pros_and_cons_button_posts_a_voting_message(world, simcord_env, sessions):
    result = await world["ada"].slash(world["channel"], "compare", first="flask", second="koa")
    message = result.followups[-1] if result.followups else result.response
    lists = await world["ada"].click(message, label="Pros & cons")
    assert lists.response.flags.ephemeral
    koa = (await reason(sessions, "Async/Await", tool_slug="koa")).tool_id
    await world["ada"].select(lists.response, [f"pro:{koa}"])
    posted = last_message(world["channel"])
    assert posted.embeds[0].title == "Koa: pros"
    assert not posted.flags.ephemeral


async def test_merge_keeps_every_voter_once(world, simcord_env, sessions):
    await add_pros(sessions, world["guild"].id, ["Tiny core", "Small core"])
    await world["ada"].slash(world["channel"], "pros vote", tool="flask")
    message = last_message(world["channel"])
    numbers = {line.split(" ")[0]: line for line in lines_of(message)}
    tiny = next(e for e, line in numbers.items() if "Tiny core" in line)
    small = next(e for e, line in numbers.items() if "Small core" in line)
    await world["ada"].react(message, tiny)
    await world["ada"].react(message, small)
    await world["ben"].react(message, tiny)
    await world["cy"].react(message, small)

    refused = await world["ada"].slash(
        world["channel"], "pros merge", tool="flask", duplicate="Tiny core", into="Small core"
    )
    assert refused.response.content == "You need the Manage Server permission to do that."
    assert isinstance(last_error(simcord_env), app_commands.MissingPermissions)

    choices = await world["admin"].autocomplete(
        world["channel"], "pros merge", "duplicate", "core", tool="flask"
    )
    assert {c["name"] for c in choices} == {"Tiny core (2)", "Small core (2)"}
    tiny_id = (await reason(sessions, "Tiny core")).id
    small_id = (await reason(sessions, "Small core")).id
    merged = await world["admin"].slash(
        world["channel"], "pros merge", tool="flask", duplicate=str(tiny_id), into=str(small_id)
    )
    assert merged.response.flags.ephemeral
    assert merged.response.content == (
        "Merged “Tiny core” into “Small core” (3): 1 vote moved, "
        "1 of members who had voted for both counted once."
    )
    assert not await rows(sessions, select(ProCon).where(ProCon.id == tiny_id))
    voters = await rows(sessions, select(Vote.member_id).where(Vote.target_id == small_id))
    assert sorted(voters) == sorted([world["ada"].id, world["ben"].id, world["cy"].id])
    assert (await reason(sessions, "Small core")).up_count == 3
    (tally,) = await rows(
        sessions, select(ToolTally).where(ToolTally.guild_id == world["guild"].id)
    )
    assert tally.votes == 3
    # The message listed both: the duplicate's number no longer counts there, and ben, who
    # voted with it, keeps his vote through a recount that shows him on no kept number.
    await world["ada"].unreact(message, tiny)
    await simcord_env.bot.flows.recounts.recount(world["channel"].id, message.id)
    await simcord_env.settle()
    assert (await reason(sessions, "Small core")).up_count == 3
    # The message shows the counts of the moment, the merged item's number gone.
    await simcord_env.advance_time(31)
    shown = lines_of(last_message(world["channel"]))
    assert not any("Tiny core" in line for line in shown)
    assert f"{small} `3` Small core" in shown


async def test_moderators_change_only_their_servers_items(world, simcord_env, sessions):
    await add_pros(sessions, world["guild"].id, ["Tiny core"])
    await world["ada"].slash(world["channel"], "pros vote", tool="flask")
    message = last_message(world["channel"])
    tiny = next(line.split(" ")[0] for line in lines_of(message) if "Tiny core" in line)
    await world["ben"].react(message, tiny)

    catalog = await world["admin"].slash(
        world["channel"], "pros remove", tool="flask", item="Secured"
    )
    assert catalog.response.flags.ephemeral
    assert "comes from the catalog" in catalog.response.content
    assert await reason(sessions, "Secured")

    # An id of another tool's item is no item of this tool's.
    koa_pro = (await reason(sessions, "Async/Await", tool_slug="koa")).id
    other = await world["admin"].slash(
        world["channel"], "pros remove", tool="flask", item=str(koa_pro)
    )
    assert other.response.content.startswith(f"Flask has no pro “{koa_pro}”")
    assert await reason(sessions, "Async/Await", tool_slug="koa")

    removed = await world["admin"].slash(
        world["channel"], "pros remove", tool="flask", item="tiny core"
    )
    assert removed.response.content == "Removed “Tiny core” and its 1 vote."
    assert not await rows(sessions, select(Vote))
    (tally,) = await rows(
        sessions, select(ToolTally).where(ToolTally.guild_id == world["guild"].id)
    )
    assert tally.votes == 0
    refusals = [getattr(error, "original", error) for error in simcord_env.errors]
    assert [type(error) for error in refusals] == [NotAllowed, InvalidInput]


async def test_additions_are_rate_limited_per_member(world, simcord_env, simcord_bot, sessions):
    now = [1000.0]
    simcord_bot.limits.clock = lambda: now[0]
    simcord_bot.limits.rules = member_rules(additions_per_minute=2, changes_per_minute=20)
    for text in ("Blueprints", "Jinja templates"):
        result = await world["ada"].slash(world["channel"], "pros add", tool="flask", text=text)
        assert result.response.content.startswith("Added")
    now[0] += 20
    refused = await world["ada"].slash(world["channel"], "pros add", tool="flask", text="Click")
    assert refused.response.flags.ephemeral
    assert refused.response.content == (
        "Easy there: at most 2 additions a minute. Try again in 40 s."
    )
    assert isinstance(last_error(simcord_env), RateLimited)
    # Others are not held back; the member is again once the minute is over.
    other = await world["ben"].slash(world["channel"], "pros add", tool="flask", text="Click")
    assert other.response.content.startswith("Added")
    now[0] += 41
    again = await world["ada"].slash(world["channel"], "cons add", tool="flask", text="Globals")
    assert again.response.content.startswith("Added")
    texts = await rows(sessions, select(ProCon.text).where(ProCon.guild_id.is_not(None)))
    assert sorted(texts) == ["Blueprints", "Click", "Globals", "Jinja templates"]


async def test_a_servers_pros_stay_in_that_server(world, simcord_env, sessions):
    other_guild = simcord_env.create_guild()
    other_channel = other_guild.create_text_channel("general")
    eve = simcord_env.create_user("eve")
    eve_here = world["guild"].add_member(eve)
    ada_there = other_guild.add_member(eve)

    await eve_here.slash(world["channel"], "pros add", tool="koa", text="Tiny and modern")
    await world["ben"].slash(world["channel"], "pros vote", tool="koa")
    here = last_message(world["channel"])
    assert any("Tiny and modern" in line for line in lines_of(here))
    await world["cy"].react(here, "1️⃣")

    await ada_there.slash(other_channel, "pros vote", tool="koa")
    there = last_message(other_channel)
    assert not any("Tiny and modern" in line for line in lines_of(there))
    card = await ada_there.slash(other_channel, "tool", name="koa")
    shown = card.followups[-1] if card.followups else card.response
    assert "Tiny and modern" not in str(shown.embeds[0].to_dict())
    # Votes on catalog items in either server add up "everywhere".
    await ada_there.react(there, "1️⃣")
    top = await reason(sessions, "Async/Await", tool_slug="koa")
    assert top.up_count == 2


async def test_pro_votes_missed_while_stopped_are_repaired_at_start(
    world, simcord_env, sessions, settings, engine, chart_renderer
):
    await world["ada"].slash(world["channel"], "pros vote", tool="flask")
    message = last_message(world["channel"])
    await world["ben"].react(message, "1️⃣")
    await world["cy"].react(message, "3️⃣")

    # The bot stops hearing reactions (as if offline) while members change them.
    await simcord_env.bot.remove_cog("Votes")
    await world["ben"].unreact(message, "1️⃣")
    await world["ada"].react(message, "3️⃣")
    assert (await reason(sessions, "For it flexibility")).up_count == 1  # stale

    await simcord_env.restart_bot(StackupBot(settings, engine, sessions, charts=chart_renderer))
    assert (await reason(sessions, "For it flexibility")).up_count == 0
    assert (await reason(sessions, "User friendly")).up_count == 2
    voters = await rows(sessions, select(Vote.member_id))
    assert sorted(voters) == sorted([world["ada"].id, world["cy"].id])


async def test_a_new_voting_message_of_the_same_list_replaces_the_old_one(
    world, simcord_env, sessions
):
    await world["ada"].slash(world["channel"], "pros vote", tool="flask")
    old = last_message(world["channel"])
    await world["ben"].react(old, "1️⃣")
    await world["cy"].slash(world["channel"], "pros vote", tool="flask")
    new = last_message(world["channel"])
    assert new.id != old.id
    moved = next(m for m in world["channel"].history() if m.id == old.id)
    assert moved.content == f"Voting on this list moved to {new.jump_url}."
    (stored,) = await rows(sessions, select(VoteMessage).where(VoteMessage.message_id == old.id))
    assert not stored.is_open
    # The old message's reactions stop counting; the vote cast there stays and, owned by no
    # message now, is withdrawn by taking the reaction away on the new one.
    await world["cy"].react(old, "1️⃣")
    assert (await reason(sessions, "For it flexibility")).up_count == 1
    (vote,) = await rows(sessions, select(Vote))
    assert (vote.member_id, vote.message_id) == (world["ben"].id, None)
    await world["ben"].react(new, "1️⃣")
    await world["ben"].unreact(new, "1️⃣")
    assert (await reason(sessions, "For it flexibility")).up_count == 0


async def test_a_vote_still_shown_on_another_message_comes_back(world, simcord_env, sessions):
    other_channel = world["guild"].create_text_channel("random")
    await world["ada"].slash(world["channel"], "pros vote", tool="flask")
    first = last_message(world["channel"])
    await world["ben"].slash(other_channel, "pros vote", tool="flask")
    second = last_message(other_channel)
    await world["cy"].react(first, "1️⃣")
    await world["cy"].react(second, "1️⃣")
    # Taken away on the message that cast it, while the other still shows it: the other
    # message is recounted and the vote is cy's again, now owned by that message.
    await world["cy"].unreact(first, "1️⃣")
    assert (await reason(sessions, "For it flexibility")).up_count == 1
    (vote,) = await rows(sessions, select(Vote))
    assert (vote.member_id, vote.message_id) == (world["cy"].id, second.id)
