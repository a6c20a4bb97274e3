"""A server's data deleted 30 days after Stackup leaves it, through the real bot under simcord
with the bot's clock moved by the test: not a second before, not if the bot is added back
(or was back at start), picked up again after a restart, found at start when the bot was
removed while down, nothing sent or closed there meanwhile, and done once by two processes
racing for it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from simcord.backend.serializers import guild_create_payload
from sqlalchemy import func
from sqlmodel import SQLModel, select

from bot.bot import StackupBot
from bot.core.privacy import KEPT_AFTER_LEAVING
from bot.services.privacy import DELETION_RUN
from cogs.schedule.jobs import departure_job, digest_job, post_job
from db.models import AdvicePost, GuildDeparture, GuildSettings, JobRun, StackEntry
from db.tallies import move_tally
from tests.cogs.advice.test_advice import advice_world, open_post, recommend, set_forum
from tests.cogs.schedule.test_schedule import fire, message_text, restarted
from tests.cogs.schedule.test_several_processes import (
    GUILD_ON_0,
    GUILD_ON_1,
    fake_discord,
    open_posts,
    start_processes,
    sweep_all,
)
from tests.conftest import FakeClock, rows
from tests.counters import counter_mismatches

__all__ = ["fake_discord", "start_processes"]  # fixtures of the two-process test

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def simcord_bot(settings, engine, sessions, chart_renderer, clock):
    return StackupBot(settings, engine, sessions, charts=chart_renderer, clock=clock.now)


async def a_busy_server(env, world) -> None:
    """Members ask, recommend, vote, stack and decide: rows in most tables with a guild_id."""
    await set_forum(world)
    thread, _ = await open_post(env, world)
    await recommend(world, thread, "ben", "Flask")
    await world["cy"].react(thread.history()[-1], "👍")
    await world["ada"].slash(world["channel"], "stack add", tools="Flask, Django")
    await world["ben"].slash(world["channel"], "follow", tool="flask", mention_in_posts=True)
    await world["ada"].slash(
        world["channel"], "decision", chose="Flask", over="Django", why="Small and explicit."
    )
    await world["ben"].react(world["channel"].history()[-1], "👍")


@pytest.fixture
async def worlds(simcord_env):
    """Two busy servers: the first is left, the second stays."""
    left, kept = advice_world(simcord_env), advice_world(simcord_env)
    await a_busy_server(simcord_env, left)
    await kept["ada"].slash(kept["channel"], "stack add", tools="Flask, Django")
    await set_forum(kept)
    await open_post(simcord_env, kept)
    await simcord_env.settle()
    return left, kept


async def rows_by_guild(sessions) -> dict[str, dict[int, int]]:
    """Rows of every table with a guild_id, per guild."""
    counts = {}
    async with sessions() as session:
        for table in SQLModel.metadata.sorted_tables:
            if "guild_id" in table.c:
                found = await session.exec(
                    select(table.c.guild_id, func.count()).group_by(table.c.guild_id)
                )
                counts[table.name] = dict(found.all())
    return counts


def of_guild(counts: dict[str, dict[int, int]], guild_id: int) -> dict[str, int]:
    return {table: n[guild_id] for table, n in counts.items() if n.get(guild_id)}


async def leave(env, guild) -> None:
    """Stackup is removed from the server (kicked, or the server deleted)."""
    env.backend.remove_guild(guild.id)
    await env.settle()


def removed_while_down(env, guild):
    """Stackup is removed from the server while it is down: no GUILD_DELETE reaches it, and
    the server is not in the READY of its next start. The stored guild, to add back."""
    return env.backend.guilds.pop(guild.id)


async def kicked(env, guild):
    """Stackup is kicked: the server and its channels stay in Discord, out of the bot's
    reach. The stored guild, to invite it back with its channels as they were."""
    stored = env.backend.guilds.pop(guild.id)
    env.backend.emit("GUILD_DELETE", {"id": str(guild.id)})
    await env.settle()
    return stored


async def invited_back(env, stored) -> None:
    env.backend.guilds[stored.id] = stored
    env.backend.emit("GUILD_CREATE", guild_create_payload(env.backend, stored))
    await env.settle()


async def add_back(env, stored) -> None:
    """The server adds Stackup again (its channels went when the bot left: none are back)."""
    stored.channel_ids.clear()
    stored.thread_ids.clear()
    env.backend.guilds[stored.id] = stored
    env.backend.emit("GUILD_CREATE", guild_create_payload(env.backend, stored))
    await env.settle()


async def test_a_left_servers_data_goes_30_days_later_and_not_before(
    simcord_env, worlds, sessions, clock
):
    left, kept = worlds
    guild_id, job = left["guild"].id, departure_job(left["guild"].id)
    before = await rows_by_guild(sessions)
    assert of_guild(before, guild_id)["advice_posts"] == 1

    await leave(simcord_env, left["guild"])

    (departure,) = await rows(sessions, select(GuildDeparture))
    assert (departure.guild_id, departure.left_at) == (guild_id, START)
    assert simcord_env.bot.timers.due_at(job) == START + KEPT_AFTER_LEAVING
    # A second short of the 30 days, whatever fires, nothing goes.
    clock.set(START + KEPT_AFTER_LEAVING - timedelta(seconds=1))
    await fire(simcord_env, job)
    await simcord_env.bot.flows.schedule.sweep()
    assert of_guild(await rows_by_guild(sessions), guild_id) == {
        **of_guild(before, guild_id),
        "guild_departures": 1,
    }

    clock.set(START + KEPT_AFTER_LEAVING)
    await fire(simcord_env, job)

    after = await rows_by_guild(sessions)
    assert of_guild(after, guild_id) == {}
    assert of_guild(after, kept["guild"].id) == of_guild(before, kept["guild"].id)
    assert await counter_mismatches(sessions) == []
    (run,) = await rows(sessions, select(JobRun).where(JobRun.job == DELETION_RUN))
    assert (run.scope, run.finished_at) == (guild_id, clock.now())
    assert job not in simcord_env.bot.timers.job_ids()


async def test_a_server_that_adds_the_bot_back_keeps_its_data(simcord_env, worlds, sessions, clock):
    left, _ = worlds
    guild_id, job = left["guild"].id, departure_job(left["guild"].id)
    before = await rows_by_guild(sessions)
    stored = simcord_env.backend.get_guild(guild_id)
    await leave(simcord_env, left["guild"])
    clock.advance(days=29)

    await add_back(simcord_env, stored)

    assert await rows(sessions, select(GuildDeparture)) == []
    assert job not in simcord_env.bot.timers.job_ids()
    clock.advance(days=2)
    await simcord_env.bot.flows.schedule.sweep()
    assert await rows_by_guild(sessions) == before


async def test_after_a_restart_the_deletion_still_comes(
    simcord_env, worlds, sessions, clock, settings, engine, chart_renderer
):
    left, kept = worlds
    guild_id, job = left["guild"].id, departure_job(left["guild"].id)
    before = await rows_by_guild(sessions)
    await leave(simcord_env, left["guild"])

    clock.advance(days=10)
    await simcord_env.restart_bot(restarted(settings, engine, sessions, chart_renderer, clock))
    # Rebuilt from the database, due at the same moment.
    assert simcord_env.bot.timers.due_at(job) == START + KEPT_AFTER_LEAVING
    await simcord_env.settle()
    # Its vote messages cannot be read any more: no recount took that for deleted messages
    # and withdrew their votes while the server may still come back.
    assert of_guild(await rows_by_guild(sessions), guild_id) == {
        **of_guild(before, guild_id),
        "guild_departures": 1,
    }
    # A timer lost on the way is the sweep's to find: it runs the deletion once due.
    simcord_env.bot.timers.cancel(job)
    clock.set(START + KEPT_AFTER_LEAVING + timedelta(hours=1))
    await simcord_env.bot.flows.schedule.sweep()
    await simcord_env.settle()

    after = await rows_by_guild(sessions)
    assert of_guild(after, guild_id) == {}
    assert of_guild(after, kept["guild"].id) == of_guild(before, kept["guild"].id)
    assert await counter_mismatches(sessions) == []


async def test_overdue_at_start_the_deletion_runs_at_once(
    simcord_env, worlds, sessions, clock, settings, engine, chart_renderer
):
    left, _ = worlds
    await leave(simcord_env, left["guild"])
    clock.advance(days=45)  # the bot was down when the 30 days ran out

    await simcord_env.restart_bot(restarted(settings, engine, sessions, chart_renderer, clock))
    await simcord_env.settle()

    assert of_guild(await rows_by_guild(sessions), left["guild"].id) == {}
    assert await counter_mismatches(sessions) == []


async def test_a_server_the_bot_is_in_at_start_keeps_its_data(
    simcord_env, worlds, sessions, clock, settings, engine, chart_renderer
):
    """Left, then added back while the bot was down (no event said so): at start the server
    is available again, and nothing of it goes."""
    left, _ = worlds
    before = await rows_by_guild(sessions)
    await simcord_env.bot.flows.schedule.guild_left(left["guild"].id)
    clock.advance(days=3)

    await simcord_env.restart_bot(restarted(settings, engine, sessions, chart_renderer, clock))
    await simcord_env.settle()

    assert await rows(sessions, select(GuildDeparture)) == []
    assert departure_job(left["guild"].id) not in simcord_env.bot.timers.job_ids()
    clock.advance(days=40)
    await simcord_env.bot.flows.schedule.sweep()
    assert await rows_by_guild(sessions) == before


async def test_a_due_deletion_of_a_server_the_bot_is_in_deletes_nothing(
    simcord_env, worlds, sessions, clock
):
    left, _ = worlds
    before = await rows_by_guild(sessions)
    await simcord_env.bot.flows.schedule.guild_left(left["guild"].id)
    clock.advance(days=31)

    await fire(simcord_env, departure_job(left["guild"].id))

    assert await rows(sessions, select(GuildDeparture)) == []
    assert await rows_by_guild(sessions) == before


async def test_a_server_that_removed_the_bot_while_it_was_down_goes_30_days_after_its_start(
    simcord_env, worlds, sessions, clock, settings, engine, chart_renderer
):
    left, kept = worlds
    guild_id, job = left["guild"].id, departure_job(left["guild"].id)
    before = await rows_by_guild(sessions)
    removed_while_down(simcord_env, left["guild"])
    clock.advance(days=3)

    await simcord_env.restart_bot(restarted(settings, engine, sessions, chart_renderer, clock))
    await simcord_env.settle()

    # Recorded as left when the bot found itself without it; the server it is in, not at all.
    started = START + timedelta(days=3)
    assert [(d.guild_id, d.left_at) for d in await rows(sessions, select(GuildDeparture))] == [
        (guild_id, started)
    ]
    assert simcord_env.bot.timers.due_at(job) == started + KEPT_AFTER_LEAVING
    kept_rows = {**of_guild(before, guild_id), "guild_departures": 1}
    assert of_guild(await rows_by_guild(sessions), guild_id) == kept_rows
    clock.set(started + KEPT_AFTER_LEAVING - timedelta(seconds=1))
    await simcord_env.bot.flows.schedule.sweep()
    assert of_guild(await rows_by_guild(sessions), guild_id) == kept_rows

    clock.set(started + KEPT_AFTER_LEAVING)
    await fire(simcord_env, job)

    after = await rows_by_guild(sessions)
    assert of_guild(after, guild_id) == {}
    assert of_guild(after, kept["guild"].id) == of_guild(before, kept["guild"].id)
    assert await counter_mismatches(sessions) == []


async def test_a_left_servers_posts_and_digest_wait_until_the_bot_is_back(
    simcord_env, worlds, sessions, clock
):
    """Nothing is sent to a server Stackup left (Discord would refuse it) and nothing is
    closed there unseen; added back, its overdue post is warned, then closed, on time."""
    left, _ = worlds
    guild_id, thread = left["guild"].id, left["forum"].threads[-1]
    await left["admin"].slash(left["channel"], "stackup setup", digest_channel=left["channel"])
    (post,) = await rows(sessions, select(AdvicePost).where(AdvicePost.guild_id == guild_id))
    stored = await kicked(simcord_env, left["guild"])
    sent_before = len(simcord_env.http_requests)

    clock.set(START + timedelta(days=8))  # past the idle close and the week's digest
    await fire(simcord_env, post_job(post.id))
    await fire(simcord_env, digest_job(guild_id))
    await simcord_env.bot.flows.schedule.sweep()
    await simcord_env.settle()

    # Neither job set itself again, and nothing of the server was claimed, closed or sent.
    jobs = simcord_env.bot.timers.job_ids()
    assert post_job(post.id) not in jobs and digest_job(guild_id) not in jobs
    (waiting,) = await rows(sessions, select(AdvicePost).where(AdvicePost.id == post.id))
    assert (waiting.status, waiting.idle_warning_sent_at) == ("open", None)
    assert await rows(sessions, select(JobRun).where(JobRun.scope == guild_id)) == []
    channels = {str(thread.id), str(left["channel"].id)}
    requests = simcord_env.http_requests[sent_before:]
    reached = [r.path for r in requests if set(r.path.split("/")[2:3]) & channels]
    assert reached == []

    await invited_back(simcord_env, stored)

    # Scheduled again at once: the overdue post's asker is warned first, the digest goes.
    (warned,) = await rows(sessions, select(AdvicePost).where(AdvicePost.id == post.id))
    assert warned.status == "open" and warned.idle_warning_sent_at == clock.now()
    assert thread.history()[-1].content.startswith(f"<@{left['ada'].id}> this post closes")
    (digest,) = await rows(sessions, select(JobRun).where(JobRun.scope == guild_id))
    assert (digest.job, digest.outcome.startswith("sent")) == ("digest", True)
    clock.advance(days=1)
    await fire(simcord_env, post_job(post.id))
    (closed,) = await rows(sessions, select(AdvicePost).where(AdvicePost.id == post.id))
    assert closed.status == "closed"
    assert "so Stackup closed this post" in message_text(thread.history()[-1])


async def test_two_processes_serving_the_same_shard_race_for_a_deletion_and_delete_once(
    db, clock, fake_discord, start_processes
):
    await open_posts(db, clock, fake_discord, GUILD_ON_0, 2)
    await open_posts(db, clock, fake_discord, GUILD_ON_1, 1)
    async with db() as session, session.begin():
        for guild_id in (GUILD_ON_0, GUILD_ON_1):
            session.add(GuildSettings(guild_id=guild_id, idle_days=30))
            session.add(StackEntry(guild_id=guild_id, member_id=7, tool_id=1))
            await move_tally(session, tool_id=1, guild_id=guild_id, field="stacks", step=1)
    # An overlapping deploy: the old process and the new one both serve shard 0.
    processes = await start_processes([0], [0])
    await processes[0].bot.flows.schedule.guild_left(GUILD_ON_0)
    await processes[1].sweep()  # the other process finds the departure and sets its timer
    job = departure_job(GUILD_ON_0)
    assert all(job in p.bot.timers.job_ids() for p in processes)
    results = contested_deletions(processes)

    # Both timers fire at once, and both processes read the departure as due before either
    # claims it: one deletes, the other finds the claim taken.
    clock.advance(days=30)
    async with asyncio.timeout(60):  # a process that never reads it would hold the other
        await asyncio.gather(*(p.bot.flows.schedule.departure_due(GUILD_ON_0) for p in processes))

    assert sorted(result is None for result in results.values()) == [False, True]
    counts = await rows_by_guild(db)
    assert of_guild(counts, GUILD_ON_0) == {}
    assert of_guild(counts, GUILD_ON_1)["advice_posts"] == 1
    (run,) = await rows(db, select(JobRun).where(JobRun.job == DELETION_RUN))
    (winner,) = [processes[n] for n, result in results.items() if result is not None]
    assert run.claimed_by == winner.bot.services.privacy.claimer
    assert run.outcome.startswith("deleted")
    assert await counter_mismatches(db) == []
    assert all(job not in p.bot.timers.job_ids() for p in processes)
    await sweep_all(processes)
    assert len(await rows(db, select(JobRun).where(JobRun.job == DELETION_RUN))) == 1


def contested_deletions(processes) -> dict[int, object]:
    """Makes each process's deletion wait, once it has read the departure as due, until every
    process has: their claims then meet in the database. What each process's deletion
    returned, by its index."""
    read_by_all = asyncio.Barrier(len(processes))
    results: dict[int, object] = {}
    for n, process in enumerate(processes):
        process.bot.services.privacy.claimer = f"host-{n}:1"
        _contest(process.bot.services.privacy, read_by_all, results, n)
    return results


def _contest(privacy, read_by_all: asyncio.Barrier, results: dict, n: int) -> None:
    read, delete = privacy.departures, privacy.delete_departed
    waited = False

    async def departures(guild_id=None):
        nonlocal waited
        found = await read(guild_id)
        if not waited:  # the deletion's first read only
            waited = True
            await read_by_all.wait()
        return found

    async def delete_departed(guild_id):
        results[n] = await delete(guild_id)
        return results[n]

    privacy.departures, privacy.delete_departed = departures, delete_departed
