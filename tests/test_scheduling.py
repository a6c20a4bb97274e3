"""Scheduled work on SQLite and PostgreSQL, without Discord: two bot processes sharing one
database, each serving its own shards, close each idle post once between them; reminders and
digests are claimed once however many processes try."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.schedule import PostWork
from bot.services.advice import AdviceService, NewPost
from bot.services.scheduling import ScheduleService
from db.engine import create_engine, create_session_factory
from db.models import AdvicePost, GuildSettings, JobRun, Tool
from db.scheduling import Claim
from tests.conftest import FakeClock, add_tools, rows

T0 = datetime(2026, 11, 23, 10, tzinfo=UTC)
SHARDS = 2
GUILD_ON_0 = 1000 << 22  # (id >> 22) % 2 == 0
GUILD_ON_1 = 1001 << 22


class Process:
    """One bot process: its own engine and services, serving some shards."""

    def __init__(self, url: str, shard_ids, clock: FakeClock, name: str) -> None:
        self.engine = (
            create_engine(url, pool_size=10) if "postgresql" in url else create_engine(url)
        )
        sessions = create_session_factory(self.engine)
        self.advice = AdviceService(sessions, clock=clock.now)
        self.schedule = ScheduleService(
            sessions,
            self.advice,
            shard_ids=shard_ids,
            shard_count=SHARDS,
            clock=clock.now,
            claimer=name,
        )
        self.clock = clock

    async def close_idle_posts(self) -> list[int]:
        """What the sweep does about idle posts: the ones this process closed."""
        closed = []
        now = self.clock.now()
        posts = await self.schedule.open_posts()

        async def close(post_id: int) -> None:
            summary = await self.advice.close_idle(post_id)
            if summary is not None:
                closed.append(summary.id)

        await asyncio.gather(
            *(close(p.post_id) for p in posts if PostWork.CLOSE in p.due_work(now))
        )
        return sorted(closed)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
async def two_processes(db, clock):
    url = db.kw["bind"].url.render_as_string(hide_password=False)
    processes = [
        Process(url, [0], clock, "host-a:1:shards 0"),
        Process(url, [1], clock, "host-b:1:shards 1"),
    ]
    yield processes
    for process in processes:
        await process.engine.dispose()


async def open_posts(db, clock, guild_id: int, count: int) -> list[int]:
    tools = await rows(db, select(Tool).order_by(Tool.id))
    if not tools:
        async with db() as session, session.begin():
            tools = await add_tools(session, "flask", "django")
    advice = AdviceService(db, clock=clock.now)
    ids = []
    for n in range(count):
        summary = await advice.open_post(
            NewPost(
                guild_id=guild_id,
                channel_id=guild_id + 1,
                thread_id=guild_id + 100 + n,
                starter_message_id=guild_id + 200 + n,
                asker_id=42,
                title=f"Post {n}",
                question="Which one?",
                context="",
                tool_ids=[tool.id for tool in tools],
            )
        )
        ids.append(summary.id)
    return ids


async def warn_all(db, at: datetime) -> None:
    """The asker of every open post was warned at `at` (the close needs it a day before)."""
    async with db() as session, session.begin():
        for post in (await session.exec(select(AdvicePost))).all():
            post.idle_warning_sent_at = at


async def test_two_processes_on_their_own_shards_close_each_guilds_posts_once(
    db, clock, two_processes
):
    on_0 = await open_posts(db, clock, GUILD_ON_0, 4)
    on_1 = await open_posts(db, clock, GUILD_ON_1, 4)
    first, second = two_processes
    assert [p.post_id for p in await first.schedule.open_posts()] == on_0
    assert [p.post_id for p in await second.schedule.open_posts()] == on_1

    await warn_all(db, clock.advance(days=6))
    clock.advance(days=1, seconds=1)
    closed = await asyncio.gather(first.close_idle_posts(), second.close_idle_posts())
    assert closed == [on_0, on_1]
    posts = await rows(db, select(AdvicePost).order_by(AdvicePost.id))
    assert [(p.status, p.closed_at) for p in posts] == [("closed", clock.now())] * 8
    # Swept again: nothing left to close.
    assert await asyncio.gather(first.close_idle_posts(), second.close_idle_posts()) == [[], []]


async def test_processes_that_overlap_still_close_each_post_once(db, clock):
    url = db.kw["bind"].url.render_as_string(hide_password=False)
    # A misconfiguration (or a resharding) has three processes serving every guild.
    processes = [Process(url, None, clock, f"host-{n}") for n in range(3)]
    try:
        ids = await open_posts(db, clock, GUILD_ON_0, 10)
        await warn_all(db, clock.advance(days=6))
        clock.advance(days=2)
        closed = await asyncio.gather(*(p.close_idle_posts() for p in processes))
        assert sorted(post for mine in closed for post in mine) == ids
    finally:
        for process in processes:
            await process.engine.dispose()


async def test_a_post_active_again_is_not_closed(db, clock, two_processes):
    (post_id,) = await open_posts(db, clock, GUILD_ON_0, 1)
    await warn_all(db, clock.advance(days=6))
    async with db() as session, session.begin():
        post = await session.get(AdvicePost, post_id)
        post.last_activity_at = clock.advance(hours=1)
    clock.advance(days=1, seconds=1)
    assert await two_processes[0].advice.close_idle(post_id) is None
    assert (await rows(db, select(AdvicePost.status))) == ["open"]
    # Without the activity, it would have closed.
    async with db() as session, session.begin():
        post = await session.get(AdvicePost, post_id)
        post.last_activity_at = clock.current - timedelta(days=7, hours=1)
    assert (await two_processes[0].advice.close_idle(post_id)).status == "closed"


async def test_an_unwarned_post_is_not_closed(db, clock, two_processes):
    (post_id,) = await open_posts(db, clock, GUILD_ON_0, 1)
    clock.advance(days=30)
    assert await two_processes[0].advice.close_idle(post_id) is None


async def test_a_reminder_is_claimed_once_and_a_released_one_again(db, clock, two_processes):
    (post_id,) = await open_posts(db, clock, GUILD_ON_0, 1)
    clock.advance(hours=49)
    first, second = two_processes
    claims = await asyncio.gather(
        first.schedule.claim_reminder(post_id), second.schedule.claim_reminder(post_id)
    )
    won = [claim for claim in claims if claim is not None]
    assert len(won) == 1 and won[0].post.id == post_id
    await first.schedule.release_reminder(won[0])
    assert await second.schedule.claim_reminder(post_id) is not None


async def test_a_digest_week_is_claimed_once_and_a_lost_claim_is_taken_over(
    db, clock, two_processes
):
    first, second = two_processes
    async with db() as session, session.begin():
        session.add(GuildSettings(guild_id=GUILD_ON_0, digest_channel_id=7, digest_set_at=T0))
    (schedule,) = await first.schedule.digest_schedules()
    assert await second.schedule.digest_schedules() == []  # not on its shards
    moment = schedule.next_moment(T0)
    clock.set(moment + timedelta(minutes=1))
    claims = await asyncio.gather(
        first.schedule.claim_digest(schedule, moment),
        second.schedule.claim_digest(schedule, moment),
    )
    assert sorted(claims) == [Claim.CLAIMED, Claim.HELD]
    winner, loser = (first, second) if claims[0] is Claim.CLAIMED else (second, first)

    # The winner dies before finishing: after a while its claim is taken over, once.
    assert await loser.schedule.claim_digest(schedule, moment) is Claim.HELD
    clock.advance(minutes=31)
    assert await loser.schedule.claim_digest(schedule, moment) is Claim.CLAIMED
    await loser.schedule.finish_digest(schedule, moment, "sent as message 1")
    clock.advance(hours=2)
    assert await winner.schedule.claim_digest(schedule, moment) is Claim.DONE
    (run,) = await rows(db, select(JobRun))
    assert (run.claimed_by, run.outcome, run.period) == (
        loser.schedule.claimer,
        "sent as message 1",
        "2026-11-30",
    )
