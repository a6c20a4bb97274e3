"""/decision through the real bot under simcord: the posted decision and its records, 👍 votes
and the debounced count, decisions on /tool and /compare, bad input, the rate limit and guild
isolation; and the decision service on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.core.comparison import ToolRef
from bot.core.decisions import DecisionLine
from bot.core.ratelimit import RateLimited
from bot.core.voting import ReactionEvent
from bot.errors import InvalidInput, UnknownTool
from bot.services.advice import AdviceService
from bot.services.decisions import DecisionService, NewDecision
from db.models import Decision, Vote, VoteMessage, VoteOption
from db.reaction_votes import apply_vote_batch
from db.types import utcnow
from tests.conftest import add_tools, last_error, make_settings, rows, sqlite_url, tool_id

UP = "👍"
FLASK_WHY = "Small and explicit; we only need a JSON API and chose our own ORM."


@pytest.fixture
def rate_additions() -> int:
    """Additions a member may make a minute; the rate limit test parametrizes a low one."""
    return 1000


@pytest.fixture
def settings(database_path, rate_additions):
    return make_settings(
        database_url=sqlite_url(database_path), rate_additions_per_minute=rate_additions
    )


@pytest.fixture
def world(simcord_env):
    guild = simcord_env.create_guild()
    channel = guild.create_text_channel("general")
    members = {
        name: guild.add_member(simcord_env.create_user(name))
        for name in ("ada", "ben", "cy", "dee")
    }
    return {"guild": guild, "channel": channel, **members}


async def decide(world, who="ada", chose="Flask", over="Django", why=FLASK_WHY, channel=None):
    return await world[who].slash(
        channel or world["channel"], "decision", chose=chose, over=over, why=why
    )


def fields(message) -> dict[str, str]:
    return {f.name: f.value for f in message.embeds[0].fields}


def shown(env, channel, message):
    """The message as the channel holds it now, edits included."""
    return env.backend.get_message(channel.id, message.id)


def votes_shown(env, channel, message) -> str:
    stored = shown(env, channel, message)
    (votes,) = [f["value"] for f in stored.embeds[0]["fields"] if f["name"] == "Votes"]
    return votes


def edits_of(env, message) -> int:
    return sum(
        1
        for r in env.http_requests
        if r.method == "PATCH" and r.path.endswith(f"/messages/{message.id}")
    )


def advice_field(result) -> str | None:
    """The "Advice here" field of a /tool or /compare answer."""
    message = result.followups[-1] if result.followups else result.response
    for embed in message.embeds:
        for field in embed.fields:
            if field.name == "Advice here":
                return field.value
    return None


# ---------------------------------------------------------------- posting


async def test_a_decision_is_posted_with_its_reason_and_a_thumbs_up(simcord_env, world, sessions):
    result = await decide(world, why="  Small and explicit;\n\n we only need   a JSON API.  ")
    assert not result.ephemeral
    message = result.response
    (embed,) = message.embeds
    assert embed.author.name == "ada"
    assert embed.description == "chose **Flask** over **Django**"
    assert fields(message) == {
        "Why": "Small and explicit; we only need a JSON API.",
        "Votes": "👍 0",
    }
    # It pings nobody.
    (sent,) = [
        r for r in simcord_env.http_requests if r.method == "POST" and r.path.endswith("/callback")
    ]
    assert sent.json["data"]["allowed_mentions"] == {"parse": []}

    (stored,) = world["channel"].history()
    assert stored.id == message.id
    reactions = simcord_env.backend.get_message(world["channel"].id, message.id).reactions
    assert {r.emoji: list(r.user_ids) for r in reactions} == {UP: [simcord_env.bot.user.id]}

    (decision,) = await rows(sessions, select(Decision))
    assert decision.guild_id == world["guild"].id
    assert decision.member_id == world["ada"].id
    assert decision.chosen_tool_id == await tool_id(sessions, "flask")
    assert decision.over_tool_id == await tool_id(sessions, "django")
    assert decision.reason == "Small and explicit; we only need a JSON API."
    assert (decision.channel_id, decision.message_id) == (world["channel"].id, message.id)
    assert decision.advice_post_id is None
    (vote_message,) = await rows(sessions, select(VoteMessage))
    assert vote_message.message_id == message.id
    assert vote_message.target_kind == "decision"
    assert vote_message.excluded_member_id == world["ada"].id
    options = await rows(sessions, select(VoteOption.emoji, VoteOption.target_id, VoteOption.value))
    assert options == [(UP, decision.id, 1)]


async def test_tool_options_complete_from_the_catalog_without_repeating_a_tool(simcord_env, world):
    choices = await world["ada"].autocomplete(world["channel"], "decision", "chose", "flas")
    assert {"name": "Flask", "value": "flask"} in choices
    choices = await world["ada"].autocomplete(
        world["channel"], "decision", "over", "flas", chose="flask"
    )
    assert "flask" not in [c["value"] for c in choices]


# ---------------------------------------------------------------- votes


async def test_thumbs_up_are_counted_and_shown_after_a_debounced_edit(
    simcord_env, world, sessions, settings
):
    channel = world["channel"]
    message = (await decide(world)).response

    async def up_count() -> int:
        (row,) = await rows(sessions, select(Decision.up_count))
        return row

    # The first vote after a quiet spell is shown at once.
    await world["ben"].react(message, UP)
    assert await up_count() == 1
    assert edits_of(simcord_env, message) == 1
    assert votes_shown(simcord_env, channel, message) == "👍 1"

    # Within the interval, votes are counted at once but shown in one edit when it ends.
    await world["cy"].react(message, UP)
    await world["dee"].react(message, UP)
    assert await up_count() == 3
    assert edits_of(simcord_env, message) == 1
    await simcord_env.advance_time(settings.ranking_edit_seconds)
    assert edits_of(simcord_env, message) == 2
    assert votes_shown(simcord_env, channel, message) == "👍 3"

    # The author's own 👍 does not count; no edit is needed for it.
    await world["ada"].react(message, UP)
    await simcord_env.advance_time(settings.ranking_edit_seconds)
    assert await up_count() == 3
    assert edits_of(simcord_env, message) == 2

    # Taking a 👍 back withdraws the vote.
    await world["cy"].unreact(message, UP)
    await simcord_env.advance_time(settings.ranking_edit_seconds)
    assert await up_count() == 2
    assert votes_shown(simcord_env, channel, message) == "👍 2"
    voters = await rows(sessions, select(Vote.member_id).order_by(Vote.member_id))
    assert voters == sorted([world["ben"].id, world["dee"].id])
    # The edited embed keeps everything else.
    edited = shown(simcord_env, channel, message).embeds[0]
    assert edited["author"]["name"] == "ada"
    assert edited["description"] == "chose **Flask** over **Django**"


async def test_a_deleted_decision_message_withdraws_the_decision(simcord_env, world, sessions):
    message = (await decide(world)).response
    await world["ben"].react(message, UP)
    simcord_env.backend.delete_message(world["channel"].id, message.id)
    await simcord_env.settle()
    assert await rows(sessions, select(Decision)) == []
    assert await rows(sessions, select(Vote)) == []
    assert await rows(sessions, select(VoteMessage)) == []
    card = await world["ben"].slash(world["channel"], "tool", name="Flask")
    assert advice_field(card) is None


# ---------------------------------------------------------------- /tool and /compare


async def test_tool_and_compare_list_decisions_newest_first_with_their_votes(
    simcord_env, world, settings
):
    guild, channel = world["guild"], world["channel"]
    first = (await decide(world, "ada", "Flask", "Django")).response
    for who in ("ben", "cy"):
        await world[who].react(first, UP)
    second = (
        await decide(world, "dee", "Django", "Flask", why="The admin saved us weeks of work.")
    ).response

    ada, dee = world["ada"].id, world["dee"].id
    newest = (
        f"<@{dee}> chose **Django** over Flask · 👍 0 · "
        f"[why](https://discord.com/channels/{guild.id}/{channel.id}/{second.id})"
    )
    older = (
        f"<@{ada}> chose **Flask** over Django · 👍 2 · "
        f"[why](https://discord.com/channels/{guild.id}/{channel.id}/{first.id})"
    )
    card = await world["ben"].slash(channel, "tool", name="Flask")
    assert advice_field(card) == f"**Decisions**\n{newest}\n{older}"
    compared = await world["ben"].slash(channel, "compare", first="Flask", second="Django")
    assert advice_field(compared) == f"**Decisions**\n{newest}\n{older}"

    # Counts are read when the answer is made: a vote since shows at once.
    await world["ben"].react(second, UP)
    card = await world["cy"].slash(channel, "tool", name="Django")
    assert f"<@{dee}> chose **Django** over Flask · 👍 1 ·" in advice_field(card)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("options", "expected", "error"),
    [
        (
            {"chose": "Flask web thing"},
            "No tool called “Flask web thing” in the catalog. Did you mean **Flask**",
            UnknownTool,
        ),
        ({"over": "Nosuchtoolxyz"}, "No tool called “Nosuchtoolxyz”", UnknownTool),
        ({"over": "flask"}, "two different tools", InvalidInput),
        ({"why": "   Too \n\n  short  "}, "at least 10 characters", InvalidInput),
        ({"why": "x" * 1001}, "Keep the reason to 1000 characters (it has 1001)", InvalidInput),
    ],
)
async def test_bad_input_is_answered_privately_and_posts_nothing(
    simcord_env, world, sessions, options, expected, error
):
    values = {"chose": "Flask", "over": "Django", "why": FLASK_WHY, **options}
    result = await world["ada"].slash(world["channel"], "decision", **values)
    assert result.ephemeral
    assert expected in result.response.content
    assert isinstance(last_error(simcord_env), error)
    assert world["channel"].history() == []
    assert await rows(sessions, select(Decision)) == []


async def test_decisions_are_for_servers_only(simcord_env, world):
    assert "decision" in world["ada"].available_commands(world["channel"])
    in_direct_messages = world["ada"].user.available_commands()
    assert "compare" in in_direct_messages  # commands for anywhere are offered there
    assert "decision" not in in_direct_messages


async def test_a_decision_that_could_not_be_recorded_is_taken_down(
    simcord_env, simcord_bot, world, sessions, monkeypatch
):
    async def fail(new):
        raise InvalidInput("One of those tools has just left the catalog; try again.")

    monkeypatch.setattr(simcord_bot.services.decisions, "record", fail)
    result = await decide(world)
    assert [f.content for f in result.followups] == [
        "One of those tools has just left the catalog; try again."
    ]
    assert result.followups[0].flags.ephemeral
    assert isinstance(last_error(simcord_env), InvalidInput)
    assert world["channel"].history() == []
    assert await rows(sessions, select(Decision)) == []


@pytest.mark.parametrize("rate_additions", [2])
async def test_too_many_decisions_are_answered_privately(simcord_env, simcord_bot, world, sessions):
    now = [1000.0]
    simcord_bot.limits.clock = lambda: now[0]
    for _ in range(2):
        assert not (await decide(world)).ephemeral
    result = await decide(world)
    assert result.ephemeral
    assert result.response.content == (
        "Easy there: at most 2 additions a minute. Try again in 60 s."
    )
    assert isinstance(last_error(simcord_env), RateLimited)
    assert len(await rows(sessions, select(Decision))) == 2
    # Another member has a bucket of their own; time frees the first one's.
    assert not (await decide(world, "ben")).ephemeral
    now[0] += 60
    assert not (await decide(world)).ephemeral
    assert len(await rows(sessions, select(Decision))) == 4


# ---------------------------------------------------------------- guilds


async def test_a_guilds_decisions_stay_in_that_guild(simcord_env, world, sessions):
    other = simcord_env.create_guild()
    other_channel = other.create_text_channel("general")
    eve = other.add_member(simcord_env.create_user("eve"))
    world["eve"] = eve

    await decide(world, "ada", "Flask", "Django")
    card = await eve.slash(other_channel, "tool", name="Flask")
    assert advice_field(card) is None
    compared = await eve.slash(other_channel, "compare", first="Flask", second="Django")
    assert advice_field(compared) is None

    await decide(world, "eve", "Django", "Flask", channel=other_channel)
    card = await world["ben"].slash(world["channel"], "tool", name="Django")
    value = advice_field(card)
    assert f"<@{world['ada'].id}> chose **Flask**" in value
    assert f"<@{eve.id}>" not in value
    card = await eve.slash(other_channel, "tool", name="Django")
    value = advice_field(card)
    assert f"<@{eve.id}> chose **Django**" in value
    assert f"<@{world['ada'].id}>" not in value
    guilds = await rows(sessions, select(Decision.guild_id).order_by(Decision.id))
    assert guilds == [world["guild"].id, other.id]


# ---------------------------------------------------------------- the service, on both databases


async def test_the_service_records_counts_lists_and_withdraws_decisions(db):
    async with db() as session, session.begin():
        flask, django, koa = await add_tools(session, "flask", "django", "koa")
    refs = {t.slug: ToolRef(t.id, t.slug, t.name) for t in (flask, django, koa)}
    decisions, advice = DecisionService(db), AdviceService(db)
    guild, other_guild = 1_100_000_000_000_000_001, 1_100_000_000_000_000_002

    async def share(message_id, chosen, over, *, guild_id=guild, member_id=7):
        return await decisions.record(
            NewDecision(
                guild_id=guild_id,
                member_id=member_id,
                chosen_tool_id=refs[chosen].id,
                over_tool_id=refs[over].id,
                reason="  Because   it fits our team. ",
                channel_id=50,
                message_id=message_id,
            )
        )

    first = await share(101, "flask", "django")
    assert first == DecisionLine(
        member_id=7,
        chosen=refs["flask"],
        over=(refs["django"],),
        created_at=first.created_at,
        guild_id=guild,
        id=first.id,
        channel_id=50,
        message_id=101,
        reason="Because it fits our team.",
    )
    second = await share(102, "koa", "flask")
    await share(103, "flask", "koa", guild_id=other_guild)

    async with db() as session, session.begin():
        await apply_vote_batch(
            session,
            [
                ReactionEvent(101, 8, "👍", True),
                ReactionEvent(101, 9, "👍", True),
                ReactionEvent(101, 7, "👍", True),  # the author's own
                ReactionEvent(102, 8, "👍", True),
                ReactionEvent(102, 8, "👍", False),
            ],
            now=utcnow(),
        )
    assert (await decisions.decision(first.id)).up == 2
    assert (await decisions.decision(second.id)).up == 0

    # Choosing a tool or choosing over it, newest first, this guild's only.
    figures = await advice.figures(guild_id=guild, tools=[refs["flask"]])
    assert [(d.id, d.up) for d in figures.decisions] == [(second.id, 0), (first.id, 2)]
    figures = await advice.figures(guild_id=guild, tools=[refs["django"]])
    assert [d.id for d in figures.decisions] == [first.id]

    assert await decisions.withdraw([999]) == []
    assert await decisions.withdraw([101, 999]) == [first.id]
    assert await decisions.decision(first.id) is None
    async with db() as session:
        assert (await session.exec(select(Vote).where(Vote.target_id == first.id))).all() == []
        assert await session.get(VoteMessage, 101) is None
    figures = await advice.figures(guild_id=guild, tools=[refs["flask"]])
    assert [d.id for d in figures.decisions] == [second.id]
