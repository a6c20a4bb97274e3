"""Deleting data on SQLite and PostgreSQL: a member forgotten in one server or in every one, a
departed server's every row, and that deletion claimed once by processes racing for it. Every
test ends with each counter equal to the COUNT of its rows."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, literal, update
from sqlmodel import SQLModel, select

from bot.core.advice import NewPost
from bot.core.privacy import FORMER_MEMBER_ID, KEPT_AFTER_LEAVING, Reaction
from bot.core.voting import DOWN
from bot.services.advice import AdviceService
from bot.services.privacy import DEPARTURE_JOB, PrivacyService
from bot.services.schedule import ANNOUNCE_JOB
from db import community, decisions
from db.models import (
    AdvicePost,
    CompareDay,
    GuildDeparture,
    GuildSettings,
    JobRun,
    ProCon,
    Recommendation,
    Vote,
    VoteMessage,
    VoteTarget,
)
from db.pros_cons import add_reason
from db.votes import cast_vote
from tests.conftest import FakeClock, add_tools, rows
from tests.counters import counter_mismatches

T0 = datetime(2026, 11, 23, 10, tzinfo=UTC)
G1, G2 = 1000 << 22, 1001 << 22
ADA, BEN, CY = 11, 12, 13


async def vote(session, kind, target_id, member_id, guild_id, value=1, message_id=None):
    await cast_vote(
        session,
        kind=kind,
        target_id=target_id,
        member_id=member_id,
        guild_id=guild_id,
        value=value,
    )
    if message_id is not None:  # cast with that message's reaction
        await session.exec(
            update(Vote)
            .where(Vote.target_id == target_id, Vote.member_id == member_id)
            .values(message_id=message_id)
        )


async def a_post(db, clock, guild_id, asker_id, tools, n) -> int:
    summary = await AdviceService(db, clock=clock.now).open_post(
        NewPost(
            guild_id=guild_id,
            channel_id=guild_id + 1,
            thread_id=guild_id + 100 + n,
            starter_message_id=guild_id + 200 + n,
            asker_id=asker_id,
            title=f"Post {n}",
            question="Which one?",
            context="",
            tool_ids=tuple(tool.id for tool in tools),
        )
    )
    return summary.id


async def a_recommendation(db, clock, guild_id, post_n, member_id, tool_id) -> tuple[int, int]:
    """(recommendation, its vote message)."""
    advice = AdviceService(db, clock=clock.now)
    _, line = await advice.recommend(
        thread_id=guild_id + 100 + post_n, member_id=member_id, tool_id=tool_id, reason="Good."
    )
    message_id = guild_id + 500 + line.id
    await advice.attach_message(
        line.id, guild_id=guild_id, channel_id=guild_id + 100 + post_n, message_id=message_id
    )
    return line.id, message_id


async def guild_data(db, clock, guild_id: int, tools) -> dict:
    """A server where ADA did a bit of everything and others voted on it; ids by name."""
    flask, django = tools
    ids: dict = {}
    ids["ada_post"] = await a_post(db, clock, guild_id, ADA, tools, 0)
    ids["ben_post"] = await a_post(db, clock, guild_id, BEN, tools, 1)
    ids["ada_rec"], ids["ada_rec_message"] = await a_recommendation(
        db, clock, guild_id, 1, ADA, flask.id
    )
    ids["ben_rec"], ids["ben_rec_message"] = await a_recommendation(
        db, clock, guild_id, 0, BEN, django.id
    )
    async with db() as session, session.begin():
        catalog = (await session.exec(select(ProCon).where(ProCon.guild_id.is_(None)))).one()
        ids["ada_pro"] = await add_reason(
            session,
            tool_id=flask.id,
            kind="pro",
            text=f"Tiny {guild_id}",
            author_id=ADA,
            guild_id=guild_id,
        )
        decision = await decisions.add_decision(
            session,
            guild_id=guild_id,
            member_id=ADA,
            chosen_tool_id=flask.id,
            over_tool_id=django.id,
            reason="Small.",
            channel_id=guild_id + 1,
            message_id=guild_id + 900,
            now=clock.now(),
        )
        ids["ada_decision"] = decision.id
        pro, rec, dec = VoteTarget.PRO_CON, VoteTarget.RECOMMENDATION, VoteTarget.DECISION
        await vote(session, pro, catalog.id, ADA if guild_id == G1 else CY, guild_id)
        await vote(session, pro, catalog.id, BEN if guild_id == G1 else 14, guild_id, -1)
        await vote(session, pro, ids["ada_pro"], BEN, guild_id)
        await vote(session, rec, ids["ada_rec"], CY, guild_id, 1, ids["ada_rec_message"])
        await vote(session, rec, ids["ben_rec"], ADA, guild_id, -1, ids["ben_rec_message"])
        await vote(session, dec, ids["ada_decision"], BEN, guild_id, 1, guild_id + 900)
        for member, stack in ((ADA, [flask.id, django.id]), (BEN, [flask.id])):
            await community.add_to_stack(
                session, guild_id=guild_id, member_id=member, tool_ids=stack
            )
            await community.follow(session, guild_id=guild_id, member_id=member, tool_ids=stack)
        await community.set_mention_in_posts(session, guild_id=guild_id, member_id=ADA, value=True)
        session.add(GuildSettings(guild_id=guild_id, digest_channel_id=guild_id + 2))
        session.add(CompareDay(guild_id=guild_id, tool_id=flask.id, day=date(2026, 11, 23), runs=2))
        session.add(JobRun(job="digest", scope=guild_id, period="2026-11-30", claimed_by="x"))
        session.add(
            JobRun(job=ANNOUNCE_JOB, scope=ids["ada_post"], period="verdict", claimed_by="x")
        )
    return ids


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
async def world(db, clock) -> dict:
    async with db() as session, session.begin():
        tools = await add_tools(session, "flask", "django")
        session.add(ProCon(tool_id=tools[0].id, kind="pro", text="Simple", imported_count=9))
    return {G1: await guild_data(db, clock, G1, tools), G2: await guild_data(db, clock, G2, tools)}


async def count_by_guild(db) -> dict[str, dict[int | None, int]]:
    """Rows of every table with a guild_id, per guild."""
    counts = {}
    async with db() as session:
        for table in SQLModel.metadata.sorted_tables:
            if "guild_id" in table.c:
                found = await session.exec(
                    select(table.c.guild_id, func.count()).group_by(table.c.guild_id)
                )
                counts[table.name] = dict(found.all())
    return counts


async def member_rows(db, member_id: int) -> dict[str, list]:
    """What the schema holds of a member, wherever it names them."""
    async with db() as session:
        found = {}
        for table in SQLModel.metadata.sorted_tables:
            for column in ("member_id", "author_id", "asker_id", "excluded_member_id"):
                if column in table.c:
                    # Recommendations name their guild through their post.
                    guild = table.c.guild_id if "guild_id" in table.c else literal(None)
                    result = await session.exec(select(guild).where(table.c[column] == member_id))
                    if hits := result.all():
                        found[f"{table.name}.{column}"] = sorted(set(hits), key=str)
        return found


def service(db, clock, claimer: str = "host-0") -> PrivacyService:
    return PrivacyService(db, shard_ids=None, shard_count=1, clock=clock.now, claimer=claimer)


async def test_the_world_is_counted_right_before_anything_is_deleted(db, world):
    assert await counter_mismatches(db) == []
    assert set(await member_rows(db, ADA)) >= {
        "votes.member_id",
        "stack_entries.member_id",
        "follows.member_id",
        "member_preferences.member_id",
        "decisions.member_id",
        "advice_posts.asker_id",
        "pros_cons.author_id",
        "recommendations.member_id",
    }


async def test_forgetting_a_member_in_one_server_leaves_the_other(db, world, clock):
    before = await count_by_guild(db)

    forgotten = await service(db, clock).forget_member(ADA, guild_id=G1)

    assert forgotten.removed == {
        "votes": 2,  # on the catalog pro and on ben's recommendation
        "stack_entries": 2,
        "follows": 2,
        "preferences": 1,
        "decisions": 1,
        "recommendations": 1,
        "pros_cons": 1,
        "votes_on_their_items": 3,  # ben's on the pro and the decision, cy's on the recommendation
        "vote_messages": 2,  # the recommendation's and the decision's
    }
    assert forgotten.advice_posts_kept == 1
    w = world[G1]
    # Ben's post lost ada's recommendation, ada's post lost ada as its asker (and her vote).
    assert forgotten.posts_changed == tuple(sorted((w["ada_post"], w["ben_post"])))
    assert forgotten.reactions == (Reaction(G1 + 100, w["ben_rec_message"], DOWN),)
    assert await member_rows(db, ADA) == {
        table: [G2]
        for table in (
            "votes.member_id",
            "stack_entries.member_id",
            "follows.member_id",
            "member_preferences.member_id",
            "decisions.member_id",
            "advice_posts.asker_id",
            "pros_cons.author_id",
            "vote_messages.excluded_member_id",
        )
    } | {"recommendations.member_id": [None]}
    (left,) = await rows(db, select(Recommendation.id).where(Recommendation.member_id == ADA))
    assert left == world[G2]["ada_rec"]
    (kept,) = await rows(db, select(AdvicePost).where(AdvicePost.id == w["ada_post"]))
    assert kept.asker_id == FORMER_MEMBER_ID and kept.guild_id == G1
    after = await count_by_guild(db)
    assert {table: counts.get(G2) for table, counts in after.items()} == {
        table: counts.get(G2) for table, counts in before.items()
    }
    assert await counter_mismatches(db) == []


async def test_forgetting_a_member_everywhere_and_again_finds_nothing(db, world, clock):
    forgotten = await service(db, clock).forget_member(ADA, guild_id=None)

    assert forgotten.removed["votes"] == 3  # two in G1, one in G2
    assert forgotten.removed["recommendations"] == 2
    assert forgotten.advice_posts_kept == 2
    assert await member_rows(db, ADA) == {}
    assert await counter_mismatches(db) == []
    again = await service(db, clock).forget_member(ADA, guild_id=None)
    assert again.total == 0 and again.advice_posts_kept == 0


async def test_a_departed_server_is_deleted_only_once_due(db, world, clock):
    privacy = service(db, clock)
    departure = await privacy.guild_left(G1)
    before = await count_by_guild(db)
    assert departure.due_at == T0 + KEPT_AFTER_LEAVING
    # Leaving "again" (a repeated event) keeps the first time.
    clock.advance(days=1)
    assert (await privacy.guild_left(G1)).left_at == T0

    clock.set(T0 + KEPT_AFTER_LEAVING - timedelta(seconds=1))
    assert await privacy.delete_departed(G1) is None
    assert await count_by_guild(db) == before

    clock.advance(seconds=1)
    deleted = await privacy.delete_departed(G1)

    assert deleted is not None and deleted["advice_posts"] == 2 and deleted["guild_settings"] == 1
    after = await count_by_guild(db)
    assert {table: counts.get(G1) for table, counts in after.items() if counts.get(G1)} == {}
    assert {table: counts.get(G2) for table, counts in after.items()} == {
        table: counts.get(G2) for table, counts in before.items()
    }
    assert await counter_mismatches(db) == []
    runs = await rows(db, select(JobRun.job, JobRun.scope))
    # The guild's own job runs went (its posts' too); the deletion's record stays.
    assert {tuple(run) for run in runs} == {
        (DEPARTURE_JOB, G1),
        ("digest", G2),
        (ANNOUNCE_JOB, world[G2]["ada_post"]),
    }
    assert await rows(db, select(GuildDeparture)) == []
    assert await privacy.delete_departed(G1) is None


async def test_a_server_that_came_back_keeps_its_data(db, world, clock):
    privacy = service(db, clock)
    before = await count_by_guild(db)
    await privacy.guild_left(G1)
    clock.advance(days=10)
    assert await privacy.guild_back(G1)
    clock.advance(days=30)
    assert await privacy.delete_departed(G1) is None
    assert await count_by_guild(db) == before
    assert not await privacy.guild_back(G1)


async def test_processes_racing_for_a_deletion_delete_once(db, world, clock):
    await service(db, clock).guild_left(G1)
    clock.advance(days=31)
    racers = [service(db, clock, f"host-{n}") for n in range(3)]

    results = await asyncio.gather(*(racer.delete_departed(G1) for racer in racers))

    assert sum(result is not None for result in results) == 1
    (run,) = await rows(db, select(JobRun).where(JobRun.job == DEPARTURE_JOB))
    winner = next(r for r, result in zip(racers, results, strict=True) if result is not None)
    assert run.claimed_by == winner.claimer and run.outcome.startswith("deleted ")
    assert await counter_mismatches(db) == []


async def test_departures_are_served_by_the_process_of_their_shard(db, clock):
    await service(db, clock).guild_left(G1)
    await service(db, clock).guild_left(G2)
    on_0 = PrivacyService(db, shard_ids=[0], shard_count=2, clock=clock.now)
    on_1 = PrivacyService(db, shard_ids=[1], shard_count=2, clock=clock.now)
    assert [d.guild_id for d in await on_0.departures()] == [G1]
    assert [d.guild_id for d in await on_1.departures()] == [G2]


async def test_forgetting_a_member_takes_their_reaction_cast_votes_on_open_messages(
    db, world, clock
):
    # A closed message is never recounted: its reactions cannot bring a vote back.
    async with db() as session, session.begin():
        await session.exec(
            update(VoteMessage)
            .where(VoteMessage.message_id == world[G2]["ben_rec_message"])
            .values(is_open=False)
        )
    forgotten = await service(db, clock).forget_member(ADA, guild_id=None)
    assert forgotten.reactions == (Reaction(G1 + 100, world[G1]["ben_rec_message"], DOWN),)
