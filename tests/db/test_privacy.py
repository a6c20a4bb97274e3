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
from bot.core.voting import DOWN, UP, ReactionEvent, Recount
from bot.services.advice import AdviceService
from bot.services.privacy import DELETION_RUN, PrivacyService
from bot.services.schedule import ANNOUNCE_JOB
from bot.services.votes import VoteService
from db import community, decisions
from db.models import (
    AdvicePost,
    CompareDay,
    Decision,
    ForgottenReaction,
    GuildDeparture,
    GuildSettings,
    JobRun,
    ProCon,
    Recommendation,
    Tool,
    Vote,
    VoteMessage,
    VoteTarget,
)
from db.pros_cons import add_reason
from db.reaction_votes import close_vote_messages
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


# Kept of a forgotten member on purpose, and checked on its own (`forgotten_on`): the open vote
# messages whose recounts leave them out.
KEPT_OF_THE_FORGOTTEN = {"forgotten_reactions"}


async def member_rows(db, member_id: int) -> dict[str, list]:
    """What the schema holds of a member, wherever it names them (but KEPT_OF_THE_FORGOTTEN)."""
    async with db() as session:
        found = {}
        for table in SQLModel.metadata.sorted_tables:
            if table.name in KEPT_OF_THE_FORGOTTEN:
                continue
            for column in ("member_id", "author_id", "asker_id", "excluded_member_id"):
                if column in table.c:
                    # Recommendations name their guild through their post.
                    guild = table.c.guild_id if "guild_id" in table.c else literal(None)
                    result = await session.exec(select(guild).where(table.c[column] == member_id))
                    if hits := result.all():
                        found[f"{table.name}.{column}"] = sorted(set(hits), key=str)
        return found


async def forgotten_on(db, member_id: int) -> set[int]:
    """The vote messages whose recounts leave the member out."""
    found = await rows(
        db,
        select(ForgottenReaction.message_id).where(ForgottenReaction.member_id == member_id),
    )
    return set(found)


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
        (DELETION_RUN, G1),
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
    (run,) = await rows(db, select(JobRun).where(JobRun.job == DELETION_RUN))
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


async def test_the_guilds_with_data_and_no_departure_are_those_of_each_shard(db, world, clock):
    """What the bot checks at start against the servers it is in: a guild whose only rows
    are compare days is found too; catalog rows (no guild) and departed guilds are not."""
    g3 = 1002 << 22  # on shard 0, with nothing but a day of comparisons
    (flask,) = await rows(db, select(Tool.id).where(Tool.slug == "flask"))
    async with db() as session, session.begin():
        session.add(CompareDay(guild_id=g3, tool_id=flask, day=date(2026, 11, 24), runs=1))
    on_0 = PrivacyService(db, shard_ids=[0], shard_count=2, clock=clock.now)
    on_1 = PrivacyService(db, shard_ids=[1], shard_count=2, clock=clock.now)
    assert await service(db, clock).undeparted_guilds() == [G1, G2, g3]
    assert (await on_0.undeparted_guilds(), await on_1.undeparted_guilds()) == ([G1, g3], [G2])

    clock.advance(days=2)
    departures = await on_0.guilds_left([g3, G1, g3])

    assert [(d.guild_id, d.left_at) for d in departures] == [(G1, clock.now()), (g3, clock.now())]
    assert await on_0.undeparted_guilds() == []
    assert [d.guild_id for d in await on_0.departures()] == [G1, g3]


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


async def recount(votes: VoteService, message_id: int, **reactors: set[int]) -> None:
    """A recount of the message as if it had read these reactions (by emoji name)."""
    emojis = {"up": UP, "down": DOWN}
    votes.begin_recount(message_id)
    votes.finish_recount(
        Recount(message_id, {emojis[name]: frozenset(who) for name, who in reactors.items()})
    )
    await votes.wait_idle()


async def votes_of(db, member_id: int, guild_id: int | None = None) -> list[tuple[str, int, int]]:
    """The member's votes (in one server, if named)."""
    statement = select(Vote.target_kind, Vote.target_id, Vote.value).where(
        Vote.member_id == member_id
    )
    if guild_id is not None:
        statement = statement.where(Vote.guild_id == guild_id)
    return await rows(db, statement)


async def test_recounts_after_the_forget_leave_the_member_out_and_live_votes_count(
    db, world, clock
):
    w = world[G1]
    await service(db, clock).forget_member(ADA, guild_id=G1)
    open_in_g1 = await rows(
        db,
        select(VoteMessage.message_id).where(VoteMessage.guild_id == G1, VoteMessage.is_open),
    )
    assert await forgotten_on(db, ADA) == set(open_in_g1) and w["ben_rec_message"] in open_in_g1
    votes = VoteService(db, clock=clock.now)

    # Her 👎 is still on Ben's recommendation (Stackup could not take it away, or a recount
    # in flight had read it before the forget): the recount does not count it again.
    await recount(votes, w["ben_rec_message"], down={ADA})
    assert await votes_of(db, ADA, G1) == []
    # A reaction of hers after the forget counts, and a recount leaves it be, old 👎 or not.
    votes.submit(ReactionEvent(w["ben_rec_message"], ADA, UP, added=True))
    await votes.wait_idle()
    await recount(votes, w["ben_rec_message"], up={ADA}, down={ADA})
    await recount(votes, w["ben_rec_message"])
    assert await votes_of(db, ADA, G1) == [(VoteTarget.RECOMMENDATION.value, w["ben_rec"], 1)]
    assert await counter_mismatches(db) == []

    # Closed, a message is never recounted: whom it leaves out goes.
    async with db() as session, session.begin():
        await close_vote_messages(session, [w["ben_rec_message"]])
    assert w["ben_rec_message"] not in await forgotten_on(db, ADA)


async def test_forget_user_leaves_the_member_out_of_recounts_in_every_server(db, world, clock):
    await service(db, clock).forget_member(ADA, guild_id=None)
    votes = VoteService(db, clock=clock.now)
    for guild_id in (G1, G2):
        await recount(votes, world[guild_id]["ben_rec_message"], down={ADA})
    assert await votes_of(db, ADA) == []
    assert await counter_mismatches(db) == []
    # Forgotten again: nothing twice.
    await service(db, clock).forget_member(ADA, guild_id=None)
    assert len(await forgotten_on(db, ADA)) == len(
        await rows(db, select(VoteMessage.message_id).where(VoteMessage.is_open))
    )


async def test_the_forget_reports_what_their_votes_were_counted_in(db, world, clock):
    w = world[G1]
    (catalog,) = await rows(db, select(ProCon.id).where(ProCon.guild_id.is_(None)))

    moved = (await service(db, clock).forget_member(ADA, guild_id=G1)).votes_moved

    assert moved.changed_targets == {
        VoteTarget.PRO_CON: {catalog},
        VoteTarget.RECOMMENDATION: {w["ben_rec"]},
    }
    # Ben's recommendation is in Ada's post, open; its message lists it.
    assert moved.changed_posts == {w["ada_post"]}
    assert moved.changed_messages[VoteTarget.RECOMMENDATION] == {w["ben_rec_message"]}


async def close_accepting(db, clock, guild_id: int, post_n: int, tool_id: int, closer: int):
    return await AdviceService(db, clock=clock.now).close(
        thread_id=guild_id + 100 + post_n,
        closer_id=closer,
        may_manage_threads=True,
        accepted_tool_id=tool_id,
    )


async def test_a_former_members_post_closed_with_an_accepted_tool_makes_no_decision(
    db, world, clock
):
    w = world[G1]
    (django,) = await rows(db, select(Tool.id).where(Tool.slug == "django"))
    await service(db, clock).forget_member(ADA, guild_id=G1)

    # A moderator accepts Ben's recommendation in the post Ada asked.
    closed = await close_accepting(db, clock, G1, 0, django, closer=CY)

    assert closed.accepted is not None and closed.accepted.id == django
    assert await rows(db, select(Decision).where(Decision.advice_post_id == w["ada_post"])) == []
    assert await member_rows(db, FORMER_MEMBER_ID) == {"advice_posts.asker_id": [G1]}


async def test_forgetting_a_recommender_clears_the_reason_a_decision_copied(db, world, clock):
    (flask,) = await rows(db, select(Tool.id).where(Tool.slug == "flask"))
    # Ben accepts Ada's Flask in his post, in both servers: his decisions quote her reason.
    for guild_id in (G1, G2):
        await close_accepting(db, clock, guild_id, 1, flask, closer=BEN)
    before = await rows(
        db, select(Decision.guild_id, Decision.reason).where(Decision.member_id == BEN)
    )
    assert sorted(before) == [(G1, "Good."), (G2, "Good.")]

    await service(db, clock).forget_member(ADA, guild_id=G1)

    after = await rows(
        db,
        select(Decision.guild_id, Decision.chosen_tool_id, Decision.reason).where(
            Decision.member_id == BEN
        ),
    )
    # Her words go where she was forgotten; Ben's choice stays.
    assert sorted(after) == [(G1, flask, ""), (G2, flask, "Good.")]


async def test_the_forget_can_wait_for_votes_held_behind_a_recount(db, world, clock):
    message = world[G1]["ben_rec_message"]
    votes = VoteService(db, clock=clock.now)
    votes.begin_recount(message)
    votes.submit(ReactionEvent(message, CY, UP, added=True))  # waits behind the recount

    waiting = asyncio.create_task(votes.wait_received())
    for _ in range(5):
        await asyncio.sleep(0)
    assert not waiting.done()
    votes.finish_recount(Recount(message, {UP: frozenset({CY})}))
    await waiting

    # Written before a forget that comes next, so deleted with the rest of theirs.
    assert sorted(await votes_of(db, CY, G1)) == [
        (VoteTarget.RECOMMENDATION.value, world[G1]["ada_rec"], 1),
        (VoteTarget.RECOMMENDATION.value, world[G1]["ben_rec"], 1),
    ]
