"""The recount budget: reads of reaction users, so many a second for every process of the bot
together (RECOUNT_FETCHES_PER_SECOND).

The budget itself on SQLite (kept in memory: one process) and PostgreSQL (counted in
`app_meta`, shared); two bot processes on one PostgreSQL database recounting their shards at
the same moment, as after a deploy; and one bot under simcord restarting on SQLite.

The two processes are real bots (`StackupBot`, the real Votes cog's `on_shard_ready` and the
real recounts), each with its own engine. Discord is faked at the one call recounts make
(`bot.http.get_reaction_users`). Their clock is a test clock moved a second at a time once
every recount in both processes is waiting for the budget, so nothing sleeps on the wall clock.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.bot import StackupBot
from bot.core.voting import DOWN, UP, Option, VoteTarget
from bot.services.rest_budget import RestBudget
from cogs._shared.flows import Flows
from cogs.votes.cog import Votes
from cogs.votes.flows import NewestFirst, Recounts
from db.engine import SessionFactory, create_engine, create_session_factory
from db.models import AdvicePost, AppMeta, Recommendation, Vote
from db.reaction_votes import register_vote_message
from tests.cogs.advice.test_advice import advice_world, open_post, recommend, set_forum
from tests.conftest import FakeClock, add_tools, make_settings, rows
from tests.postgres import fresh_migrated_postgres_url

T0 = datetime(2026, 11, 23, 10, tzinfo=UTC)
SECOND = timedelta(seconds=1)
SHARDS = 2
GUILDS = {0: 1000 << 22, 1: 1001 << 22}  # (id >> 22) % 2: on shard 0, on shard 1
MESSAGES_PER_GUILD = 7
BUDGET = 3
MEMBER = 500_000


def budget(sessions: SessionFactory, clock: FakeClock, per_window: int = BUDGET) -> RestBudget:
    return RestBudget(
        sessions, name="reaction_users", per_window=per_window, window=SECOND, clock=clock.now
    )


async def budget_rows(sessions: SessionFactory) -> list[str]:
    return await rows(sessions, select(AppMeta.key).where(AppMeta.key.startswith("rest_budget:")))


# ---------------------------------------------------------------- the budget


async def test_a_window_grants_its_units_then_names_the_next_window(db):
    clock = FakeClock(T0 + timedelta(milliseconds=250))
    spent = budget(db, clock)
    assert [await spent.take() for _ in range(BUDGET)] == [None] * BUDGET
    assert await spent.take() == T0 + SECOND  # when the next window starts
    clock.advance(milliseconds=500)
    assert await spent.take() == T0 + SECOND  # still the same window
    clock.set(T0 + SECOND)
    assert [await spent.take() for _ in range(BUDGET + 1)] == [None] * BUDGET + [T0 + 2 * SECOND]
    shared = db.kw["bind"].dialect.name == "postgresql"
    assert spent.shared is shared
    # PostgreSQL: one row, the current window's (the earlier one's went); SQLite: none.
    assert await budget_rows(db) == (["rest_budget:reaction_users:001795428001"] if shared else [])


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    async for url in fresh_migrated_postgres_url():
        yield url


async def test_processes_taking_at_the_same_moment_share_one_window(postgres_url):
    engines = [create_engine(postgres_url, pool_size=10) for _ in range(2)]
    clock = FakeClock(T0)
    try:
        budgets = [budget(create_session_factory(e), clock, per_window=7) for e in engines]
        taken = await asyncio.gather(*(b.take() for b in budgets for _ in range(20)))
        assert taken.count(None) == 7
        assert set(taken) == {None, T0 + SECOND}
    finally:
        for engine in engines:
            await engine.dispose()


# ---------------------------------------------------------------- two processes


class Windows:
    """The processes' clock, and their waits for a later window: the test moves the clock a
    window on and wakes those whose window has come."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.waiting: dict[StackupBot, list[tuple[datetime, asyncio.Future[None]]]] = {}
        # Set whenever a process starts waiting for a window or a task ends: the only moments
        # the processes can become quiet.
        self.changed = asyncio.Event()

    def sleeper(self, bot: StackupBot) -> Callable[[datetime], asyncio.Future[None]]:
        waits = self.waiting.setdefault(bot, [])

        def sleep_until(moment: datetime) -> asyncio.Future[None]:
            future = asyncio.get_running_loop().create_future()
            waits.append((moment, future))
            self.changed.set()
            return future

        return sleep_until

    def watch(self, task: asyncio.Task) -> None:
        task.add_done_callback(lambda _: self.changed.set())

    async def until(self, condition: Callable[[], bool]) -> None:
        """Waits for the processes to make `condition` true (the timeout only ends a hang)."""
        async with asyncio.timeout(120):
            while not condition():
                self.changed.clear()
                await self.changed.wait()

    def next(self) -> None:
        self.clock.advance(seconds=1)
        for waits in self.waiting.values():
            for moment, future in [w for w in waits if w[0] <= self.clock.now()]:
                waits.remove((moment, future))
                future.set_result(None)


class Discord:
    """Reaction users of the vote messages, read 100 a page; every read noted with the
    window it was made in and the process that made it."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.reactions: dict[tuple[int, str], list[int]] = {}
        self.reads: list[tuple[datetime, StackupBot, int, str]] = []

    def for_bot(self, bot: StackupBot):
        async def get_reaction_users(channel_id, message_id, emoji, limit, after=None):
            self.reads.append((self.clock.now(), bot, message_id, emoji))
            users = sorted(
                u for u in self.reactions.get((message_id, emoji), []) if u > (after or 0)
            )
            return [{"id": str(u), "username": f"m{u}"} for u in users[:limit]]

        return get_reaction_users


async def vote_messages(sessions: SessionFactory, discord: Discord) -> dict[int, list[int]]:
    """Each guild's recommendations, a vote message each, with reactions Discord shows and the
    votes do not (made while no process was up). One message has 150 👍: two pages."""
    by_shard: dict[int, list[int]] = {}
    async with sessions() as session, session.begin():
        (tool,) = await add_tools(session, "flask")
        for shard, guild in GUILDS.items():
            post = AdvicePost(
                guild_id=guild, channel_id=guild + 1, asker_id=1, title="t", question="q"
            )
            session.add(post)
            await session.flush()
            for n in range(MESSAGES_PER_GUILD):
                recommendation = Recommendation(post_id=post.id, tool_id=tool.id, member_id=2 + n)
                session.add(recommendation)
                await session.flush()
                message_id = guild + 100 + n
                await register_vote_message(
                    session,
                    message_id=message_id,
                    channel_id=guild + 1,
                    guild_id=guild,
                    kind=VoteTarget.RECOMMENDATION,
                    options=[Option(UP, recommendation.id, 1), Option(DOWN, recommendation.id, -1)],
                    excluded_member_id=recommendation.member_id,
                )
                ups = 150 if (shard, n) == (1, 0) else n + 1
                discord.reactions[(message_id, UP)] = [MEMBER + k for k in range(ups)]
                discord.reactions[(message_id, DOWN)] = [MEMBER + 1000 + shard]
                by_shard.setdefault(shard, []).append(message_id)
    return by_shard


def quiet(bot: StackupBot, windows: Windows, task: asyncio.Task) -> bool:
    """Nothing the process does can go on until the clock moves: every recount it is running
    waits for the next window, and none is about to be let in."""
    if task.done():
        return True
    slots = bot.flows.recounts.slots
    held = slots.held
    waiting = len(windows.waiting.get(bot, []))
    return 0 < held == waiting and not (slots.queued and held < slots.size)


@pytest.fixture
async def two_processes(postgres_url) -> AsyncIterator[tuple[list[StackupBot], Windows, Discord]]:
    clock = FakeClock(T0)
    windows, discord = Windows(clock), Discord(clock)
    bots = []
    for shard in (0, 1):
        settings = make_settings(
            database_url=postgres_url,
            shard_count=SHARDS,
            shard_ids=[shard],
            recount_fetches_per_second=BUDGET,
        )
        engine = create_engine(postgres_url, pool_size=10)
        bot = StackupBot(settings, engine, create_session_factory(engine), clock=clock.now)
        bot.flows = Flows(bot)  # what setup_hook builds; these bots never log in
        bot.flows.recounts.sleep_until = windows.sleeper(bot)  # type: ignore[method-assign]
        bot.http.get_reaction_users = discord.for_bot(bot)  # type: ignore[method-assign]
        bots.append(bot)
    try:
        yield bots, windows, discord
    finally:
        for bot in bots:
            await bot.services.votes.wait_idle()
            await bot.engine.dispose()


async def test_two_processes_recounting_at_once_keep_to_one_budget(two_processes):
    bots, windows, discord = two_processes
    by_shard = await vote_messages(bots[0].sessions, discord)

    # A deploy: both processes' shards become ready at the same moment.
    tasks = [asyncio.ensure_future(Votes(bot).on_shard_ready(n)) for n, bot in enumerate(bots)]
    for task in tasks:
        windows.watch(task)
    moves = 0
    while not all(task.done() for task in tasks):
        await windows.until(
            lambda: all(quiet(b, windows, t) for b, t in zip(bots, tasks, strict=True))
        )
        if not all(task.done() for task in tasks):
            windows.next()
            moves += 1
    await asyncio.gather(*tasks)

    # Every message read whole, once, by the process of its shard (the 150 👍 in two pages).
    reads = discord.reads
    assert len(reads) == 2 * 2 * MESSAGES_PER_GUILD + 1
    for shard, bot in enumerate(bots):
        assert {m for _, b, m, _ in reads if b is bot} == set(by_shard[shard])
    # Never more than the budget a second between them, and every second used to the full.
    per_window: dict[datetime, int] = {}
    for moment, *_ in reads:
        per_window[moment] = per_window.get(moment, 0) + 1
    assert max(per_window.values()) == BUDGET
    assert len(per_window) == moves + 1 == math.ceil(len(reads) / BUDGET)
    # Each process let its four newest messages in first (the order is tested on its own below).
    for shard, bot in enumerate(bots):
        first = next(m for _, b, m, _ in reads if b is bot)
        assert first in sorted(by_shard[shard])[-4:]
    await voted_as_discord_shows(bots, discord)
    figures = [b.metrics.registry.get_sample_value for b in bots]
    assert sum(f("stackup_recount_fetches_total") for f in figures) == len(reads)
    assert sum(f("stackup_recount_budget_waits_total") for f in figures) > 0


async def voted_as_discord_shows(bots: list[StackupBot], discord: Discord) -> None:
    for bot in bots:
        await bot.services.votes.wait_idle()
    votes = await rows(bots[0].sessions, select(Vote.message_id, Vote.member_id, Vote.value))
    shown = {
        (message_id, member, 1 if emoji == UP else -1)
        for (message_id, emoji), members in discord.reactions.items()
        for member in members
    }
    assert set(votes) == shown


async def turns_until(condition: Callable[[], bool]) -> None:
    """Gives the loop's other tasks turns (no time passes) until `condition` holds: on one
    loop with nothing but these tasks, a few turns are all they need."""
    for _ in range(100):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the tasks never got there")


async def test_recounts_queued_together_go_in_newest_message_first():
    slots = NewestFirst(2)
    entered: list[int] = []
    leave = asyncio.Event()

    async def recount(message_id: int) -> None:
        async with slots.slot(message_id):
            entered.append(message_id)
            await leave.wait()

    queued = asyncio.gather(*(recount(m) for m in (11, 15, 12, 14, 13)))
    await turns_until(lambda: len(entered) == 2)
    assert entered == [15, 14] and (slots.held, slots.queued) == (2, 3)
    leave.set()
    await queued
    assert entered == [15, 14, 13, 12, 11] and slots.held == 0


async def test_a_recount_cancelled_while_queued_gives_its_turn_on():
    slots = NewestFirst(1)
    inside = asyncio.Event()
    leave = asyncio.Event()

    async def hold() -> None:
        async with slots.slot(1):
            inside.set()
            await leave.wait()

    holder = asyncio.ensure_future(hold())
    await inside.wait()
    waiting = asyncio.ensure_future(hold())
    await turns_until(lambda: slots.queued == 1)
    waiting.cancel()
    leave.set()
    await holder
    assert (slots.held, slots.queued) == (0, 0)
    async with slots.slot(2):  # not taken by the cancelled one
        assert slots.held == 1


# ---------------------------------------------------------------- one bot under simcord


async def test_a_restart_on_sqlite_recounts_within_the_budget_newest_first(
    simcord_env, sessions, settings, engine, chart_renderer, monkeypatch
):
    world = advice_world(simcord_env)
    await set_forum(world)
    thread, _ = await open_post(simcord_env, world, tools="Flask, Django, FastAPI")
    messages = []
    for who, tool in (("ben", "Flask"), ("cy", "Django"), ("dee", "FastAPI")):
        await recommend(world, thread, who, tool)
        messages.append(thread.history()[-1])
    # Reactions made while the bot heard none (as if it were down).
    await simcord_env.bot.remove_cog("Votes")
    for message in messages:
        await world["ada"].react(message, UP)
        await world["admin"].react(message, DOWN)
    before = len(simcord_env.http_requests)

    async def sleep_until(self: Recounts, moment: datetime) -> None:
        # The wait the bot makes, declared to simcord: only advance_time ends it.
        delay = (moment - self.bot.clock()).total_seconds()
        await simcord_env.external_wait(asyncio.sleep(delay), reason="the budget's next second")

    monkeypatch.setattr(Recounts, "_sleep_until", sleep_until)
    restarted = StackupBot(
        settings.model_copy(update={"recount_fetches_per_second": 2}),
        engine,
        sessions,
        charts=chart_renderer,
        clock=simcord_env.now,  # simcord's clock, which advance_time moves
    )
    await simcord_env.restart_bot(restarted)

    def reads() -> list[int]:
        return [
            int(r.path.split("/")[4])
            for r in simcord_env.http_requests[before:]
            if r.method == "GET" and "/reactions/" in r.path
        ]

    assert len(reads()) == 2 and reads()[0] == messages[-1].id  # the newest first
    for read in (4, 6):
        await simcord_env.advance_time(1)
        assert len(reads()) == read
    assert sorted(reads()) == sorted(m.id for m in messages * 2)
    votes = await rows(sessions, select(Vote.member_id, Vote.value))
    assert sorted(votes) == sorted([(world["ada"].id, 1), (world["admin"].id, -1)] * 3)
