"""Several bot processes on one PostgreSQL database: command sync once, IDENTIFY spaced per
max_concurrency bucket across processes. Each "process" is a bot with an engine of its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import discord
import pytest

from bot.bot import StackupBot
from db.engine import create_engine, create_session_factory
from tests.conftest import make_settings, until_a_session_waits_on_a_lock
from tests.postgres import fresh_migrated_postgres_url

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
