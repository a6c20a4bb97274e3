"""Reaction votes written in batches, against a plain model of the rules, on SQLite and
PostgreSQL: counters equal the rows, recounts repair, switches leave stale reactions named."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from bot.core.voting import DOWN, NUMBERED, UP, Option, ReactionEvent, Recount, VoteTarget
from bot.services.advice import AdviceService
from bot.services.votes import VoteService
from cogs.votes.flows import Recounts
from db.models import (
    AdvicePost,
    ProCon,
    Recommendation,
    ToolTally,
    Vote,
)
from db.reaction_votes import apply_vote_batch, register_vote_message
from db.types import utcnow
from tests.conftest import add_tools, until_a_session_waits_on_a_lock

GUILD = 1_100_000_000_000_000_001
CHANNEL = 1_100_000_000_000_000_002
RECOMMENDER = 900


@pytest.fixture
async def world(db):
    """Two recommendations (one vote message each) and a pros message with three numbered
    options."""
    async with db() as session, session.begin():
        (tool,) = await add_tools(session, "flask")
        post = AdvicePost(guild_id=GUILD, channel_id=CHANNEL, asker_id=1, title="t", question="q")
        session.add(post)
        await session.flush()
        recommendations = [
            Recommendation(post_id=post.id, tool_id=tool.id, member_id=RECOMMENDER + n)
            for n in range(2)
        ]
        pros = [ProCon(tool_id=tool.id, kind="pro", text=f"Reason {n}") for n in range(3)]
        session.add_all([*recommendations, *pros])
        await session.flush()
        for n, recommendation in enumerate(recommendations):
            await register_vote_message(
                session,
                message_id=5000 + n,
                channel_id=CHANNEL,
                guild_id=GUILD,
                kind=VoteTarget.RECOMMENDATION,
                options=[Option(UP, recommendation.id, 1), Option(DOWN, recommendation.id, -1)],
                excluded_member_id=recommendation.member_id,
            )
        await register_vote_message(
            session,
            message_id=6000,
            channel_id=CHANNEL,
            guild_id=GUILD,
            kind=VoteTarget.PRO_CON,
            options=[Option(NUMBERED[n], pro.id, 1) for n, pro in enumerate(pros)],
        )
        return {
            "db": db,
            "recommendations": {5000 + n: r.id for n, r in enumerate(recommendations)},
            "recommenders": {5000 + n: r.member_id for n, r in enumerate(recommendations)},
            "pros": [p.id for p in pros],
            "tool": tool.id,
        }


class Model:
    """The rules, written plainly: per member the set of reactions shown, and the vote."""

    def __init__(self, world) -> None:
        self.world = world
        self.reactions: dict[tuple[int, int], set[str]] = defaultdict(set)
        self.votes: dict[tuple[str, int, int], int] = {}

    def target(self, message: int, emoji: str) -> tuple[str, int, int] | None:
        if message in self.world["recommendations"]:
            if emoji not in (UP, DOWN):
                return None
            return ("r", self.world["recommendations"][message], 1 if emoji == UP else -1)
        if message == 6000 and emoji in NUMBERED[:3]:
            return ("p", self.world["pros"][NUMBERED.index(emoji)], 1)
        return None

    def apply(self, event: ReactionEvent) -> None:
        shown = self.reactions[(event.message_id, event.member_id)]
        (shown.add if event.added else shown.discard)(event.emoji)
        found = self.target(event.message_id, event.emoji)
        if found is None or event.member_id == self.world["recommenders"].get(event.message_id):
            return
        kind, target, value = found
        key = (kind, target, event.member_id)
        if event.added:
            self.votes[key] = value
        elif self.votes.get(key) == value:
            del self.votes[key]

    def counts(self) -> dict[tuple[str, int], tuple[int, int]]:
        counted: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
        for (kind, target, _), value in self.votes.items():
            counted[(kind, target)][0 if value == 1 else 1] += 1
        return {key: tuple(value) for key, value in counted.items()}


async def stored_counts(db) -> dict[tuple[str, int], tuple[int, int]]:
    async with db() as session:
        found = {}
        for row in (await session.exec(select(Recommendation))).all():
            if row[0].up_count or row[0].down_count:
                found[("r", row[0].id)] = (row[0].up_count, row[0].down_count)
        for row in (await session.exec(select(ProCon))).all():
            if row[0].up_count or row[0].down_count:
                found[("p", row[0].id)] = (row[0].up_count, row[0].down_count)
        return found


async def stored_votes(db) -> dict[tuple[str, int, int], int]:
    async with db() as session:
        rows = (
            await session.exec(select(Vote.target_kind, Vote.target_id, Vote.member_id, Vote.value))
        ).all()
    kinds = {VoteTarget.RECOMMENDATION.value: "r", VoteTarget.PRO_CON.value: "p"}
    return {(kinds[k], t, m): v for k, t, m, v in rows}


async def write(db, *items):
    """One batch, in a transaction of its own."""
    async with db() as session, session.begin():
        return await apply_vote_batch(session, list(items), now=utcnow())


def random_events(world, rng: random.Random, count: int) -> list[ReactionEvent]:
    members = [*range(1, 30), *world["recommenders"].values()]
    messages = [*world["recommendations"], 6000, 7777]  # 7777 is no vote message
    emojis = [UP, DOWN, *NUMBERED[:4], "🎉"]
    return [
        ReactionEvent(
            rng.choice(messages), rng.choice(members), rng.choice(emojis), rng.random() < 0.6
        )
        for _ in range(count)
    ]


async def test_random_bursts_in_random_batches_equal_the_model(world):
    db = world["db"]
    rng = random.Random(4)
    model = Model(world)
    events = random_events(world, rng, 3000)
    position = 0
    while position < len(events):
        size = rng.choice([1, 2, 7, 50, 400, 900])
        batch = events[position : position + size]
        position += size
        await write(db, *batch)
        for event in batch:
            model.apply(event)
    assert await stored_votes(db) == model.votes
    assert await stored_counts(db) == model.counts()
    async with db() as session:
        tally = await session.get(ToolTally, (world["tool"], GUILD))
    assert tally.votes == sum(1 for key in model.votes if key[0] == "p")


async def test_a_recount_sets_votes_to_what_the_reactions_show(world):
    db = world["db"]
    message = 5000
    recommendation = world["recommendations"][message]
    await write(db, ReactionEvent(message, 1, UP, True), ReactionEvent(message, 2, DOWN, True))
    # Meanwhile (bot offline): 1 took the reaction away, 3 and the recommender reacted, 4 shows
    # both emojis without a vote held, 2 shows both and keeps the vote held.
    reactors = {
        UP: frozenset({3, 4, 2, world["recommenders"][message]}),
        DOWN: frozenset({2, 4}),
    }
    result = await write(db, Recount(message, reactors))
    assert result.changed_targets[VoteTarget.RECOMMENDATION] == {recommendation}
    assert await stored_votes(db) == {("r", recommendation, 2): -1, ("r", recommendation, 3): 1}
    assert await stored_counts(db) == {("r", recommendation): (1, 1)}


async def test_events_after_a_recount_in_one_batch_apply_after_it(world):
    db = world["db"]
    message = 5001
    recommendation = world["recommendations"][message]
    await write(
        db,
        ReactionEvent(message, 1, UP, True),
        Recount(message, {UP: frozenset(), DOWN: frozenset({5})}),
        ReactionEvent(message, 5, UP, True),
    )
    assert await stored_votes(db) == {("r", recommendation, 5): 1}


async def test_switching_names_the_reaction_left_behind(world):
    db = world["db"]
    message = 5000
    result = await write(
        db, ReactionEvent(message, 1, UP, True), ReactionEvent(message, 1, DOWN, True)
    )
    assert [(s.message_id, s.emoji, s.member_id) for s in result.stale_reactions] == [
        (message, UP, 1)
    ]
    # The bot removes the 👍: the event it causes changes nothing.
    result = await write(db, ReactionEvent(message, 1, UP, False))
    assert not result.changed_targets
    assert await stored_counts(db) == {("r", world["recommendations"][message]): (0, 1)}


async def test_the_service_holds_events_while_a_message_is_recounted(world):
    db = world["db"]
    results = []
    service = VoteService(db, on_applied=results.append)
    message = 5000
    recommendation = world["recommendations"][message]
    service.begin_recount(message)
    service.submit(ReactionEvent(message, 7, UP, True))  # arrives while reactions are read
    # The read happened before 7 reacted, so it does not show 7.
    service.finish_recount(Recount(message, {UP: frozenset({8}), DOWN: frozenset()}))
    await service.wait_idle()
    assert await stored_votes(db) == {("r", recommendation, 7): 1, ("r", recommendation, 8): 1}
    assert service.stats.applied == 2
    async with db() as session:
        total = (await session.exec(select(func.count()).select_from(Vote))).one()
    assert total[0] == 2


async def test_concurrent_writers_for_one_member_leave_one_row(world):
    """Two processes (two services, two transactions) hearing the same member's 👍 at once."""
    db = world["db"]
    message = 5000
    recommendation = world["recommendations"][message]

    await asyncio.gather(*(write(db, ReactionEvent(message, 42, UP, True)) for _ in range(8)))
    assert await stored_votes(db) == {("r", recommendation, 42): 1}
    assert await stored_counts(db) == {("r", recommendation): (1, 0)}


class PagingHttp:
    """Discord's reaction users endpoint: at most `limit` users after `after`, by id."""

    def __init__(self, users: list[dict]) -> None:
        self.users = sorted(users, key=lambda u: int(u["id"]))
        self.calls: list[tuple[int, int | None]] = []

    async def get_reaction_users(self, channel_id, message_id, emoji, limit, after=None):
        self.calls.append((limit, after))
        return [u for u in self.users if int(u["id"]) > (after or 0)][:limit]


async def test_reaction_users_are_read_100_a_page_without_bots():
    users = [{"id": str(1000 + n), "bot": n % 50 == 0} for n in range(250)]
    http = PagingHttp(users)
    recounts = Recounts(SimpleNamespace(http=http))
    found = await recounts._reactors(1, 2, UP)
    assert found == frozenset(1000 + n for n in range(250) if n % 50)
    assert http.calls == [(100, None), (100, 1099), (100, 1199)]


async def test_overlapping_recounts_never_undo_a_newer_event(world):
    db = world["db"]
    service = VoteService(db)
    message = 5000
    recommendation = world["recommendations"][message]
    service.begin_recount(message)  # a REMOVE_EMOJI
    service.begin_recount(message)  # and another, while the first still reads
    service.finish_recount(Recount(message, {UP: frozenset(), DOWN: frozenset()}))
    service.submit(ReactionEvent(message, 7, UP, True))
    await service.wait_idle()
    # The second recount read before 7 reacted; it must not undo 7's vote.
    service.finish_recount(Recount(message, {UP: frozenset(), DOWN: frozenset()}))
    await service.wait_idle()
    assert await stored_votes(db) == {("r", recommendation, 7): 1}


async def test_open_messages_are_split_by_shard(world):
    db = world["db"]
    service = VoteService(db)
    shard_of_guild = (GUILD >> 22) % 3
    found = await service.open_messages(shard_ids=[shard_of_guild], shard_count=3)
    assert sorted(m for _, m in found) == [5000, 5001, 6000]
    others = [s for s in range(3) if s != shard_of_guild]
    assert await service.open_messages(shard_ids=others, shard_count=3) == []


async def test_a_post_closing_while_votes_are_written_counts_them(world):
    """PostgreSQL: the verdict waits for a batch of votes in flight, then ranks with them."""
    db = world["db"]
    if db.kw["bind"].dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time; the race needs concurrent writers")
    async with db() as session, session.begin():
        post = (await session.exec(select(AdvicePost))).first()[0]
        post.thread_id = 4444
    message = 5000
    recommendation = world["recommendations"][message]
    batch_written = asyncio.Event()
    release = asyncio.Event()

    async def votes_in_flight() -> None:
        async with db() as session, session.begin():
            await apply_vote_batch(session, [ReactionEvent(message, 42, UP, True)], now=utcnow())
            batch_written.set()
            await release.wait()

    writer = asyncio.create_task(votes_in_flight())
    await batch_written.wait()
    closing = asyncio.create_task(
        AdviceService(db).close(thread_id=4444, closer_id=1, may_manage_threads=False)
    )
    await until_a_session_waits_on_a_lock(db)
    assert not closing.done()
    release.set()
    await writer
    summary = await closing
    line = next(r for r in summary.recommendations if r.id == recommendation)
    assert (line.up, line.down) == (1, 0)
    assert summary.verdict is not None and summary.verdict.id == line.tool.id
