"""Recounts: a vote message's votes brought in line with the reactions Discord shows on it.

Run by the Votes cog (a fresh shard session, REMOVE_ALL, REMOVE_EMOJI, a failed batch), by the
scheduler's vote repair, and by features that have just posted a vote message (reactions made
before it was registered count). One object the bot builds, `bot.flows.recounts`, so that every
caller shares one limit on concurrent reads.

Every read of reaction users takes a unit of a budget all the bot's processes share
(RECOUNT_FETCHES_PER_SECOND, counted in the database on PostgreSQL): after a deploy every process
recounts its shards' messages at once, and Discord counts their requests together. A process
that finds the second's budget spent waits for the next second of the bot's clock.
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import itertools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import discord

from bot.core.voting import Recount, VoteMessageInfo

if TYPE_CHECKING:
    from bot.bot import StackupBot
    from bot.services.rest_budget import RestBudget

log = logging.getLogger(__name__)

REACTION_PAGE = 100
# Recounts at start run a few at a time; discord.py spaces the requests by rate limit bucket.
RECOUNT_CONCURRENCY = 4
# The budget is counted a second, as Discord counts a bot's global rate limit.
BUDGET_WINDOW = timedelta(seconds=1)


class NewestFirst:
    """At most `size` holders at once; those waiting go in newest message first (a snowflake
    grows with time). When a start queues every open message, the ones posted last, likeliest
    to be voted on now, are recounted before the old ones."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._free = size
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrival = itertools.count()

    @property
    def held(self) -> int:
        return self.size - self._free

    @property
    def queued(self) -> int:
        return sum(not future.done() for _, _, future in self._waiting)

    @asynccontextmanager
    async def slot(self, message_id: int) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        heapq.heappush(self._waiting, (-message_id, next(self._arrival), future))
        # Let in from a callback: recounts started together (a shard's, gathered) have all
        # queued by then, and each is waiting on its future, so they start in their order.
        loop.call_soon(self._admit)
        try:
            await future
        except asyncio.CancelledError:
            if not future.cancelled():  # let in just as it was cancelled: pass the turn on
                self._release()
            raise
        try:
            yield
        finally:
            self._release()

    def _admit(self) -> None:
        while self._free and self._waiting:
            _, _, future = heapq.heappop(self._waiting)
            if not future.done():  # a cancelled waiter's future is done
                self._free -= 1
                future.set_result(None)

    def _release(self) -> None:
        self._free += 1
        self._admit()


class Recounts:
    def __init__(self, bot: StackupBot) -> None:
        self.bot = bot
        self.slots = NewestFirst(RECOUNT_CONCURRENCY)
        # Waits until a moment of the bot's clock; tests replace it and move their clock.
        self.sleep_until: Callable[[datetime], Awaitable[None]] = self._sleep_until

    @functools.cached_property
    def budget(self) -> RestBudget:
        """Built when first spent from: reading pages needs only `bot.http`."""
        return self.bot.services.votes.reaction_fetch_budget(
            per_window=self.bot.settings.recount_fetches_per_second, window=BUDGET_WINDOW
        )

    async def _sleep_until(self, moment: datetime) -> None:
        await asyncio.sleep(max((moment - self.bot.clock()).total_seconds(), 0.0))

    async def recount(
        self, channel_id: int, message_id: int, info: VoteMessageInfo | None = None
    ) -> bool:
        """Bring the message's votes in line with its reactions; False if it could not be read.
        `info`: the vote message, when the caller has read it already."""
        if info is None:
            info = await self.bot.services.votes.vote_message(message_id)
        if info is None or not info.is_open:
            return False
        async with self.slots.slot(message_id):
            # The first read is paid for before the message's events are held: waiting for
            # the budget then holds nothing back (a message of one emoji and page, not at all).
            await self._spend()
            self.bot.services.votes.begin_recount(message_id)
            try:
                reactors = await self._all_reactors(channel_id, message_id, list(info.options))
            except discord.NotFound:
                self.bot.services.votes.abort_recount(message_id)
                self.bot.dispatch("stackup_vote_message_gone", message_id)
                return False
            except discord.HTTPException:
                self.bot.services.votes.abort_recount(message_id)
                log.warning("could not read the reactions of message %d", message_id, exc_info=True)
                return False
            except BaseException:
                self.bot.services.votes.abort_recount(message_id)
                raise
            self.bot.services.votes.finish_recount(Recount(message_id, reactors))
        return True

    async def _spend(self) -> None:
        """One read of reaction users from the shared budget, after as many windows as it
        takes to get one."""
        while (next_window := await self.budget.take()) is not None:
            self.bot.metrics.recount_budget_waits.inc()
            await self.sleep_until(next_window)

    async def _all_reactors(
        self, channel_id: int, message_id: int, emojis: list[str]
    ) -> dict[str, frozenset[int]]:
        """Every emoji's members. The first read was paid for; each other one is paid for just
        before it is made, so the reads of a second stay within that second's budget."""
        paid = True

        async def before_page() -> None:
            nonlocal paid
            if not paid:
                await self._spend()
            paid = False
            self.bot.metrics.recount_fetches.inc()

        return {
            emoji: await self._reactors(channel_id, message_id, emoji, before_page)
            for emoji in emojis
        }

    async def _reactors(
        self,
        channel_id: int,
        message_id: int,
        emoji: str,
        before_page: Callable[[], Awaitable[None]] | None = None,
    ) -> frozenset[int]:
        """Members (not bots) showing the reaction, read 100 a page."""
        members: set[int] = set()
        after = 0
        while True:
            if before_page is not None:
                await before_page()
            page = await self.bot.http.get_reaction_users(
                channel_id, message_id, emoji, REACTION_PAGE, after=after or None
            )
            ids = sorted(int(user["id"]) for user in page)
            members.update(int(u["id"]) for u in page if not u.get("bot"))
            newer = [user_id for user_id in ids if user_id > after]
            if len(page) < REACTION_PAGE or not newer:
                return frozenset(members)
            after = newer[-1]
