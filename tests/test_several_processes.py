"""Several bot processes on one PostgreSQL database: command sync once, IDENTIFY spaced per
max_concurrency bucket across processes. Each "process" is a bot with an engine of its own.

The last tests run two whole bots, shards 0 and 1 of 2, each in a thread with its own event
loop (simcord allows one running Env a loop), started at the same moment against one database.
What is real: the bots (`StackupBot`, every cog, `setup_hook` with its command sync), their
engines and connection pools, the PostgreSQL database and its advisory locks, discord.py's
parsing and dispatch, and simcord's routing of a guild's events to shard
`(guild_id >> 22) % shard_count` (an Env drops events of shards it was not given).
What is not: each simcord Env is a Discord of its own. Both worlds hold both guilds (same ids),
so a member of the other shard's guild can ask a process, which never hears it, as Discord would
never send it. Discord's one registry of global commands is two registries here: the commands
the one syncing process registered are copied into the other world. simcord's shards become
READY without an IDENTIFY, so discord.py never calls `before_identify_hook`: each bot calls it
itself right after `setup_hook`, which is where discord.py's connect would. "Killing" a process
is shutting its Env down, closing its bot and disposing of its engine.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, TypeVar

import discord
import pytest
from simcord.env import Env
from sqlmodel import select

from bot.bot import StackupBot
from db.engine import create_engine, create_session_factory
from db.models import Comparison
from tests.conftest import add_tools, make_settings, rows, until_a_session_waits_on_a_lock
from tests.discord_contract import problems_in
from tests.postgres import fresh_migrated_postgres_url

T = TypeVar("T")

APPLICATION_ID = 4242


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    async for url in fresh_migrated_postgres_url():
        yield url


@pytest.fixture
async def two_bots(postgres_url: str) -> AsyncIterator[tuple[StackupBot, StackupBot]]:
    engines = [create_engine(postgres_url), create_engine(postgres_url)]
    bots = []
    for engine in engines:
        bot = StackupBot(
            make_settings(database_url=postgres_url), engine, create_session_factory(engine)
        )
        bot._connection.application_id = APPLICATION_ID
        bots.append(bot)
    try:
        yield bots[0], bots[1]
    finally:
        for bot in bots:
            await bot.release_identify_holds()  # as close() does; these bots never started
        for engine in engines:
            await engine.dispose()


async def test_two_processes_starting_together_sync_the_commands_once(two_bots, postgres_url):
    first, second = two_bots
    syncs: list[StackupBot] = []
    syncing = asyncio.Event()
    finish = asyncio.Event()

    def stub(bot: StackupBot):
        async def sync(*, guild=None) -> list:
            syncs.append(bot)
            syncing.set()
            await finish.wait()
            return []

        return sync

    first.tree.sync = stub(first)  # type: ignore[method-assign]
    second.tree.sync = stub(second)  # type: ignore[method-assign]

    one = asyncio.create_task(first.sync_commands_if_changed())
    await syncing.wait()  # the first is inside the sync, holding the lock
    two = asyncio.create_task(second.sync_commands_if_changed())
    await until_a_session_waits_on_a_lock(first.sessions)
    assert not two.done()
    finish.set()
    await asyncio.gather(one, two)
    assert syncs == [first]

    # Started the other way round and nothing changed: nobody syncs.
    await asyncio.gather(second.sync_commands_if_changed(), first.sync_commands_if_changed())
    assert syncs == [first]


class Hold:
    """An IDENTIFY's hold, released when the test says."""

    def __init__(self) -> None:
        self.released = asyncio.Event()

    async def __call__(self) -> None:
        await self.released.wait()


async def test_identifies_in_one_bucket_wait_for_the_previous_hold(two_bots):
    first, second = two_bots
    for bot in two_bots:
        bot.max_concurrency = 1
        bot.identify_hold = Hold()

    await first.before_identify_hook(0, initial=True)  # returns holding bucket 0
    waiting = asyncio.create_task(second.before_identify_hook(1, initial=True))  # bucket 0 too
    await until_a_session_waits_on_a_lock(first.sessions)
    assert not waiting.done()

    first.identify_hold.released.set()
    await waiting  # the first's hold ended: the second may IDENTIFY
    second.identify_hold.released.set()


async def test_identifies_in_different_buckets_do_not_wait(two_bots):
    first, second = two_bots
    for bot in two_bots:
        bot.max_concurrency = 2
        bot.identify_hold = Hold()

    await first.before_identify_hook(0, initial=True)  # bucket 0
    await second.before_identify_hook(3, initial=True)  # bucket 1: no wait
    assert first._identify_holds and second._identify_holds

    # Another shard in bucket 0 in the same process waits for the first hold too.
    waiting = asyncio.create_task(second.before_identify_hook(2))
    await until_a_session_waits_on_a_lock(first.sessions)
    assert not waiting.done()
    first.identify_hold.released.set()
    await waiting
    second.identify_hold.released.set()


async def test_max_concurrency_is_read_from_discord_once_and_defaults_to_one(two_bots):
    first, second = two_bots
    calls = []

    async def limits():
        calls.append(1)
        return discord.SessionStartLimits(
            total=1000, remaining=999, reset_after=0, max_concurrency=16
        )

    async def unreachable():
        raise discord.GatewayNotFound()

    first.fetch_session_start_limits = limits  # type: ignore[method-assign]
    second.fetch_session_start_limits = unreachable  # type: ignore[method-assign]
    assert await first._max_concurrency() == 16
    assert await first._max_concurrency() == 16
    assert len(calls) == 1
    assert await second._max_concurrency() == 1


async def test_on_sqlite_the_identify_hook_is_discord_pys(engine, sessions, settings, monkeypatch):
    calls = []

    async def default(self, shard_id, *, initial=False):
        calls.append((shard_id, initial))

    monkeypatch.setattr(discord.Client, "before_identify_hook", default)
    bot = StackupBot(settings, engine, sessions)
    await bot.before_identify_hook(1, initial=False)
    assert calls == [(1, False)]
    assert not bot._identify_holds


# ---------------------------------------------------------------- two whole processes

SHARDS = 2
GUILDS = {0: 1000 << 22, 1: 1001 << 22}  # (id >> 22) % 2 is 0, then 1
IDENTIFY_TURNS = itertools.count(1)


class BotProcess:
    """One bot process serving shard `shard` of two: a thread running an event loop of its own,
    and in it an engine, the real bot and a simcord Env (a world of its own) holding both
    guilds. `run` runs a coroutine there and awaits it from the test's loop."""

    def __init__(self, url: str, shard: int) -> None:
        self.url, self.shard = url, shard
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name=f"bot-process-{shard}", daemon=True
        )
        self.thread.start()
        self.setup_done = False  # its setup_hook (with the command sync) returned
        # Its turn among the IDENTIFYs (simcord's clock, inside a bot, stands still).
        self.identified_at: int | None = None
        self.stopped = False

    async def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self.loop))

    def call(self, function: Callable[[], T]) -> T:
        """A plain function in the process's thread (its loop's objects are not thread-safe)."""

        async def call() -> T:
            return function()

        return asyncio.run_coroutine_threadsafe(call(), self.loop).result(timeout=30)

    async def build(self) -> None:
        self.engine = create_engine(self.url, pool_size=10)
        settings = make_settings(database_url=self.url, shard_count=SHARDS, shard_ids=[self.shard])
        self.bot = StackupBot(settings, self.engine, create_session_factory(self.engine))
        self.bot.max_concurrency = 1  # one bucket: an IDENTIFY waits for the one before
        self.env = Env(self.bot)
        self.released = asyncio.Event()
        # The 5 s an IDENTIFY's bucket stays locked, ended by the test; declared to simcord as
        # an outside wait, so the bot still settles.
        self.bot.identify_hold = lambda: self.env.external_wait(
            self.released.wait(), reason="the IDENTIFY bucket's 5 seconds"
        )
        setup = self.bot.setup_hook

        async def setup_then_identify() -> None:
            await setup()
            progressed(lambda: setattr(self, "setup_done", True))
            await self.bot.before_identify_hook(self.shard, initial=True)
            progressed(lambda: setattr(self, "identified_at", next(IDENTIFY_TURNS)))

        self.bot.setup_hook = setup_then_identify  # type: ignore[method-assign]
        self.guilds = {
            shard: self.env.create_guild(f"Server {shard}", id=guild_id, shard_id=shard)
            for shard, guild_id in GUILDS.items()
        }
        self.channels = {s: g.create_text_channel("general") for s, g in self.guilds.items()}
        self.members = {
            s: g.add_member(self.env.create_user(f"member-{s}")) for s, g in self.guilds.items()
        }

    async def start(self) -> None:
        await self.env.start()

    def release_identify(self) -> None:
        self.loop.call_soon_threadsafe(self.released.set)

    async def compare(self, shard: int):
        return await self.members[shard].slash(
            self.channels[shard], "compare", first="flask", second="django"
        )

    async def stop(self) -> None:
        """The process dies: its gateway goes, its bot closes, its connections are closed."""
        if self.stopped:
            return
        self.stopped = True
        await self.env.shutdown()
        await self.bot.close()
        await self.engine.dispose()

    def end(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=30)
        self.loop.close()


# Notified by a process's thread whenever its start-up moves on (setup done, identified).
PROGRESS = threading.Condition()


def progressed(change: Callable[[], None]) -> None:
    with PROGRESS:
        change()
        PROGRESS.notify_all()


async def until(condition: Callable[[], bool]) -> None:
    """Waits, off the test's loop, until a process's thread makes `condition` true; the
    timeout only ends a hang."""

    def wait() -> None:
        with PROGRESS:
            assert PROGRESS.wait_for(condition, timeout=120), "the processes never got there"

    await asyncio.to_thread(wait)


@pytest.fixture
async def processes(postgres_url: str) -> AsyncIterator[list[BotProcess]]:
    """Two processes, built, not started, on one database holding two tools."""
    engine = create_engine(postgres_url)
    sessions = create_session_factory(engine)
    async with sessions() as session, session.begin():
        await add_tools(session, "flask", "django")
    started = [BotProcess(postgres_url, shard) for shard in (0, 1)]
    try:
        for process in started:
            await process.run(process.build())
        yield started
    finally:
        for process in started:
            if process.identified_at is not None or process.setup_done:
                process.release_identify()
            await process.run(process.stop())
            process.end()
        await engine.dispose()
    requests = [r for p in started for r in p.env.http_requests]
    problems = problems_in(requests)
    assert not problems, "bodies Discord would refuse:\n" + "\n".join(problems)


async def start_together(processes: list[BotProcess], sessions) -> tuple[BotProcess, BotProcess]:
    """Both started at the same moment; returns them in the order they identified. The second
    waits for the first's IDENTIFY bucket until the test ends the first's hold."""
    starting = asyncio.gather(*(p.run(p.start()) for p in processes))
    await until(lambda: sum(p.identified_at is not None for p in processes) == 1)
    first = next(p for p in processes if p.identified_at is not None)
    second = next(p for p in processes if p is not first)
    await until(lambda: second.setup_done)
    await until_a_session_waits_on_a_lock(sessions)  # on the bucket's lock
    assert second.identified_at is None
    first.release_identify()
    await starting
    assert second.identified_at is not None and second.identified_at > first.identified_at
    second.release_identify()
    return first, second


def command_syncs(process: BotProcess) -> int:
    return sum(
        r.method == "PUT" and r.path.endswith("/commands") for r in process.env.http_requests
    )


async def comparisons(sessions) -> dict[int, int]:
    found = await rows(sessions, select(Comparison.guild_id, Comparison.run_count))
    return dict(found)


async def test_two_processes_on_their_shards_serve_their_own_servers(processes, postgres_url):
    engine = create_engine(postgres_url)
    sessions = create_session_factory(engine)
    try:
        first, second = await start_together(processes, sessions)
        # The commands were synced once, by the process that held the lock first; the other
        # found their hash stored. Discord's one registry: copied into the other's world.
        assert (command_syncs(first), command_syncs(second)) in ((1, 0), (0, 1))
        syncer, other = (first, second) if command_syncs(first) else (second, first)
        registered = syncer.call(lambda: copy.deepcopy(syncer.env.backend.commands))
        other.call(lambda: other.env.backend.commands.update(registered))

        for process in processes:
            # Each bot has its own shard and its own server, nothing of the other's.
            assert process.call(lambda p=process: [g.id for g in p.bot.guilds]) == [
                GUILDS[process.shard]
            ]
            answer = await process.run(process.compare(process.shard))
            assert answer.response is not None and answer.response.embeds
            assert not answer.ephemeral
        assert await comparisons(sessions) == {GUILDS[0]: 1, GUILDS[1]: 1}

        # Asked in the other shard's server, a process never hears it (Discord sends it the
        # other shard's way): no answer, nothing written.
        for process in processes:
            unheard = await process.run(process.compare(1 - process.shard))
            assert unheard.response is None and not unheard.followups
        assert await comparisons(sessions) == {GUILDS[0]: 1, GUILDS[1]: 1}

        # Shard 0's process dies; shard 1's still answers in its server, and writes.
        shard_0, shard_1 = processes
        await shard_0.run(shard_0.stop())
        answer = await shard_1.run(shard_1.compare(1))
        assert answer.response is not None and answer.response.embeds
        assert await comparisons(sessions) == {GUILDS[0]: 1, GUILDS[1]: 2}
    finally:
        await engine.dispose()
