"""Pros and cons below the bot: the pure rules (text, near-duplicates, pages, vote owners, rate
limits) and merge/remove on SQLite and on the PostgreSQL server."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func
from sqlmodel import select

from bot.core.comparison import Reason
from bot.core.pros_cons import check_text, most_similar, page_count, page_of, same_text
from bot.core.ratelimit import RateLimited, RateLimiter, Rule
from bot.core.voting import NUMBERED, Option, ReactionEvent, Recount, Step, run_steps
from bot.errors import InvalidInput
from bot.services.pros_cons import ProsConsService
from db import pros_cons
from db.models import ProCon, ToolTally, Vote, VoteOption, VoteTarget
from db.reaction_votes import apply_vote_batch, register_vote_message
from db.types import utcnow
from db.votes import cast_vote
from tests.conftest import add_tools, until_a_session_waits_on_a_lock

GUILD, OTHER = 1_100_000_000_000_000_001, 1_100_000_000_000_000_002
SEED_FLASK_PROS = [
    Reason(1, "For it flexibility", imported=10),
    Reason(2, "Flexibilty and easy to use", imported=9),
    Reason(3, "User friendly", imported=7),
    Reason(4, "Secured", imported=6),
    Reason(5, "Unopinionated", imported=5),
]


def test_text_is_one_line_of_three_to_a_hundred_characters():
    assert check_text("  Easy\n\tto   learn ", "pro") == "Easy to learn"
    with pytest.raises(InvalidInput, match="3 characters at least"):
        check_text(" a ", "con")
    with pytest.raises(InvalidInput, match=r"Keep a con to 100 characters \(it has 101\)"):
        check_text("x" * 101, "con")
    assert check_text("y" * 100 + "   ", "pro") == "y" * 100


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Flexibility and easy to use", "Flexibilty and easy to use"),
        ("flexibility", "For it flexibility"),
        ("Secure", "Secured"),
        ("user-friendly!", "User friendly"),
    ],
)
def test_near_duplicates_of_the_seed_pros_are_found(text, expected):
    found = most_similar(text, SEED_FLASK_PROS)
    assert found is not None and found.reason.text == expected


@pytest.mark.parametrize("text", ["Great documentation", "Large ecosystem of extensions"])
def test_different_points_are_not_duplicates(text):
    assert most_similar(text, SEED_FLASK_PROS) is None


def test_same_text_ignores_case_and_spacing():
    assert same_text("  user   FRIENDLY", SEED_FLASK_PROS) == SEED_FLASK_PROS[2]
    assert same_text("user friendliness", SEED_FLASK_PROS) is None


def test_pages_hold_ten_and_clamp():
    reasons = [Reason(n, f"r{n}") for n in range(23)]
    assert page_count(0) == 1 and page_count(10) == 1 and page_count(23) == 3
    assert page_of(reasons, 1) == (1, tuple(reasons[:10]))
    assert page_of(reasons, 3) == (3, tuple(reasons[20:]))
    assert page_of(reasons, 9) == (3, tuple(reasons[20:]))
    assert page_of(reasons, 0) == (1, tuple(reasons[:10]))


def test_a_vote_belongs_to_the_message_that_cast_it():
    on = lambda message: Step("set", 1, "1️⃣", message)  # noqa: E731
    off = lambda message: Step("clear", 1, "1️⃣", message)  # noqa: E731
    # Cast on 10; the same reaction on 20 changes nothing and its removal leaves the vote.
    outcome = run_steps(None, [on(10), on(20), off(20)])
    assert (outcome.after, outcome.owner) == (1, 10)
    assert run_steps(None, [on(10), off(10)]).after is None
    # A recount of another message never withdraws it; one of its own message does.
    assert run_steps(1, [Step("set", None, message_id=20)], owner=10).after == 1
    assert run_steps(1, [Step("set", None, message_id=10)], owner=10).after is None
    # A vote cast by button (no owner) is withdrawn by taking a reaction away, never by a recount.
    assert run_steps(1, [Step("set", None, message_id=10)], owner=None).after == 1
    assert run_steps(1, [off(10)], owner=None).after is None


def test_rate_limits_count_a_sliding_minute_per_key():
    now = [0.0]
    limiter = RateLimiter({"adds": Rule(2, 60.0, "additions")}, clock=lambda: now[0])
    limiter.hit("adds", "ada")
    now[0] = 10
    limiter.hit("adds", "ada")
    limiter.hit("adds", "ben")
    now[0] = 30
    with pytest.raises(RateLimited) as refused:
        limiter.hit("adds", "ada")
    assert refused.value.retry_after == 30
    assert refused.value.message == "Easy there: at most 2 additions a minute. Try again in 30 s."
    # A refused attempt is not counted: the first hit leaves the window at 60.
    now[0] = 60
    limiter.hit("adds", "ada")
    with pytest.raises(RateLimited):
        limiter.hit("adds", "ada")
    # `allows` is the same count, answered with a bool.
    assert not limiter.allows("adds", "ada")
    now[0] = 70.5
    assert limiter.allows("adds", "ada")


# ---------------------------------------------------------------- database


@pytest.fixture
async def flask(db):
    async with db() as session, session.begin():
        (tool,) = await add_tools(session, "flask")
        return tool.id


async def add(db, tool_id, text, guild_id=GUILD) -> int:
    async with db() as session, session.begin():
        return await pros_cons.add_reason(
            session, tool_id=tool_id, kind="pro", text=text, author_id=1, guild_id=guild_id
        )


async def vote(db, target_id, member_id, guild_id=GUILD):
    async with db() as session, session.begin():
        await cast_vote(
            session,
            kind=VoteTarget.PRO_CON,
            target_id=target_id,
            member_id=member_id,
            guild_id=guild_id,
            value=1,
        )


async def test_the_same_text_once_per_guild_and_once_in_the_catalog(db, flask):
    first = await add(db, flask, "Tiny core")
    assert first is not None
    assert await add(db, flask, "Tiny core") is None
    assert await add(db, flask, "Tiny core", guild_id=OTHER) is not None
    async with db() as session, session.begin():
        session.add(ProCon(tool_id=flask, kind="pro", text="Tiny core"))
    async with db() as session:
        count = (await session.exec(select(func.count()).select_from(ProCon))).one()
    assert count == 3


async def test_merge_keeps_every_voter_once_and_moves_voting_messages(db, flask):
    duplicate, kept = await add(db, flask, "Tiny core"), await add(db, flask, "Small core")
    async with db() as session, session.begin():
        await register_vote_message(
            session,
            message_id=777,
            channel_id=1,
            guild_id=GUILD,
            kind=VoteTarget.PRO_CON,
            options=[Option(NUMBERED[0], duplicate, 1), Option(NUMBERED[1], kept, 1)],
        )
        await register_vote_message(
            session,
            message_id=778,
            channel_id=2,
            guild_id=GUILD,
            kind=VoteTarget.PRO_CON,
            options=[Option(NUMBERED[0], duplicate, 1)],
        )
    for member in (1, 2):
        await vote(db, duplicate, member)
    for member in (2, 3):
        await vote(db, kept, member)
    async with db() as session, session.begin():
        rows = {r.id: r for r in (await session.exec(select(ProCon))).all()}
        result = await pros_cons.merge_reasons(session, duplicate=rows[duplicate], into=rows[kept])
    assert (result.moved, result.dropped) == (1, 1)
    async with db() as session:
        voters = (await session.exec(select(Vote.member_id).where(Vote.target_id == kept))).all()
        row = await session.get(ProCon, kept)
        tally = await session.get(ToolTally, (flask, GUILD))
        options = (
            await session.exec(
                select(VoteOption.message_id, VoteOption.emoji, VoteOption.target_id).order_by(
                    VoteOption.message_id
                )
            )
        ).all()
        assert await session.get(ProCon, duplicate) is None
    assert sorted(voters) == [1, 2, 3]
    assert (row.up_count, tally.votes) == (3, 3)
    # A message listing both keeps one number for the kept item; elsewhere the duplicate's
    # number now votes for the kept one.
    assert [tuple(o) for o in options] == [(777, NUMBERED[1], kept), (778, NUMBERED[0], kept)]
    async with db() as session, session.begin():
        await apply_vote_batch(session, [ReactionEvent(778, 4, NUMBERED[0], True)], now=utcnow())
    async with db() as session:
        assert (await session.get(ProCon, kept)).up_count == 4


async def test_remove_takes_the_votes_and_their_tallies(db, flask):
    gone = await add(db, flask, "Tiny core")
    await vote(db, gone, 1)
    await vote(db, gone, 2, guild_id=OTHER)
    async with db() as session, session.begin():
        row = await session.get(ProCon, gone)
        assert await pros_cons.remove_reason(session, row) == 2
    async with db() as session:
        assert not (await session.exec(select(Vote))).all()
        assert (await session.get(ToolTally, (flask, GUILD))).votes == 0
        assert (await session.get(ToolTally, (flask, OTHER))).votes == 0


async def test_a_recount_settles_only_the_votes_its_message_cast(db, flask):
    pro = await add(db, flask, "Tiny core")
    async with db() as session, session.begin():
        for message_id in (801, 802):
            await register_vote_message(
                session,
                message_id=message_id,
                channel_id=1,
                guild_id=GUILD,
                kind=VoteTarget.PRO_CON,
                options=[Option(NUMBERED[0], pro, 1)],
            )
    await vote(db, pro, 9)  # by button: no message
    async with db() as session, session.begin():
        await apply_vote_batch(
            session,
            [ReactionEvent(801, 1, NUMBERED[0], True), ReactionEvent(802, 2, NUMBERED[0], True)],
            now=utcnow(),
        )
    # Message 801 shows nobody now (member 1's reaction went while the bot was away).
    async with db() as session, session.begin():
        await apply_vote_batch(session, [Recount(801, {NUMBERED[0]: frozenset()})], now=utcnow())
    async with db() as session:
        held = dict((await session.exec(select(Vote.member_id, Vote.message_id))).all())
        assert (await session.get(ProCon, pro)).up_count == 2
    assert held == {2: 802, 9: None}


async def test_a_merge_waits_for_votes_in_flight_and_carries_them(db, flask):
    """PostgreSQL: a batch holding the duplicate's voting message commits before the merge
    reads the votes, so its vote moves over instead of staying behind on a deleted item."""
    if db.kw["bind"].dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time; the race needs concurrent writers")
    duplicate, kept = await add(db, flask, "Tiny core"), await add(db, flask, "Small core")
    async with db() as session, session.begin():
        await register_vote_message(
            session,
            message_id=777,
            channel_id=1,
            guild_id=GUILD,
            kind=VoteTarget.PRO_CON,
            options=[Option(NUMBERED[0], duplicate, 1)],
        )
    batch_written, release = asyncio.Event(), asyncio.Event()

    async def votes_in_flight() -> None:
        async with db() as session, session.begin():
            await apply_vote_batch(
                session, [ReactionEvent(777, 5, NUMBERED[0], True)], now=utcnow()
            )
            batch_written.set()
            await release.wait()

    writer = asyncio.create_task(votes_in_flight())
    await batch_written.wait()
    merging = asyncio.create_task(
        ProsConsService(db).merge(duplicate, kept, tool_id=flask, guild_id=GUILD, kind="pro")
    )
    await until_a_session_waits_on_a_lock(db)
    assert not merging.done()
    release.set()
    await writer
    merged, _ = await merging
    assert (merged.moved, merged.kept.up) == (1, 1)
    async with db() as session:
        votes = (await session.exec(select(Vote.target_id, Vote.member_id))).all()
        tally = await session.get(ToolTally, (flask, GUILD))
        option = (await session.exec(select(VoteOption.target_id))).one()
    assert [tuple(v) for v in votes] == [(kept, 5)]
    assert (tally.votes, option) == (1, kept)
