"""The reaction vote pipeline: events in, batches written, results out. No Discord here.

Events are queued without waiting and written by one drain task, as many per transaction as
have arrived (up to `batch_size`): a burst costs a few statements per batch rather than a few
per event, and an idle bot runs no task at all. The task ends when the queue is empty.

A recount (the reactions read back from Discord) must not undo an event that arrives while the
reactions are being read: events for a message being recounted wait and are applied after it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.voting import BatchResult, ReactionEvent, Recount, VoteMessageInfo, VoteTarget
from bot.services.rest_budget import RestBudget
from db.engine import SessionFactory
from db.reaction_votes import (
    apply_vote_batch,
    current_votes,
    load_vote_messages,
    open_vote_messages,
    vote_messages_to_repair,
)
from db.types import utcnow

log = logging.getLogger(__name__)

BATCH_SIZE = 1000
ATTEMPTS = 3


@dataclass
class VoteStats:
    # Events handed to `submit`, whatever became of them.
    submitted: int = 0
    applied: int = 0
    ignored: int = 0
    batches: int = 0
    failed_batches: int = 0


class VoteService:
    def __init__(
        self,
        sessions: SessionFactory,
        *,
        clock: Callable[[], datetime] = utcnow,
        batch_size: int = BATCH_SIZE,
        on_applied: Callable[[BatchResult], None] | None = None,
        on_failed: Callable[[set[int]], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._batch_size = batch_size
        self.on_applied = on_applied
        # Messages whose events could not be written; the caller recounts them.
        self.on_failed = on_failed
        self._queue: deque[ReactionEvent | Recount] = deque()
        self._held: dict[int, list[ReactionEvent]] = {}
        # Recounts of a message in flight: its events wait until the last one is in.
        self._holds: dict[int, int] = {}
        self._drain: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        # Set, and replaced by a fresh one, each time a message's recounts end.
        self._unheld = asyncio.Event()
        self.stats = VoteStats()
        self._reaction_budget: RestBudget | None = None

    @property
    def queue_depth(self) -> int:
        """Events and recounts not yet written: queued, or held behind a recount."""
        # `list` copies the held lists in one step: a metrics scrape reads this from its own
        # thread while the loop may be changing `_held`.
        return len(self._queue) + sum(map(len, list(self._held.values())))

    # -- events ------------------------------------------------------------------------

    def submit(self, event: ReactionEvent) -> None:
        """Queue one reaction event; never waits."""
        self.stats.submitted += 1
        held = self._held.get(event.message_id)
        if held is not None:
            held.append(event)
            return
        self._queue.append(event)
        self._kick()

    def begin_recount(self, message_id: int) -> None:
        """From now until its `finish_recount`, events for the message wait behind the
        recount. Recounts may overlap: the events wait for the last, and then all of them
        since the first began apply after the recounts, so none is undone by an older read."""
        self._held.setdefault(message_id, [])
        self._holds[message_id] = self._holds.get(message_id, 0) + 1

    def finish_recount(self, recount: Recount) -> None:
        self._queue.append(recount)
        self._release(recount.message_id)

    def abort_recount(self, message_id: int) -> None:
        self._release(message_id)

    def _release(self, message_id: int) -> None:
        remaining = self._holds.get(message_id, 1) - 1
        if remaining > 0:
            self._holds[message_id] = remaining
        else:
            self._holds.pop(message_id, None)
            self._queue.extend(self._held.pop(message_id, []))
            unheld, self._unheld = self._unheld, asyncio.Event()
            unheld.set()
        self._kick()

    @property
    def pending(self) -> int:
        return len(self._queue) + sum(len(held) for held in self._held.values())

    async def wait_idle(self) -> None:
        """Until every queued event is written (or given up on)."""
        while self._queue or (self._drain is not None and not self._drain.done()):
            await self._idle.wait()

    async def wait_received(self) -> None:
        """Until every event received so far is written: the queued ones, and those held
        behind a recount in flight now (they are queued when it ends). A member forgotten
        next has no vote of theirs from before it written after it."""
        held = set(self._holds)
        while held & self._holds.keys():
            await self._unheld.wait()
        await self.wait_idle()

    def _kick(self) -> None:
        if self._drain is None or self._drain.done():
            self._idle.clear()
            self._drain = asyncio.get_running_loop().create_task(
                self._run(), name="stackup-vote-writer"
            )

    async def _run(self) -> None:
        try:
            while self._queue:
                count = min(self._batch_size, len(self._queue))
                batch = [self._queue.popleft() for _ in range(count)]
                result = await self._write(batch)
                if result is not None and self.on_applied is not None:
                    try:
                        self.on_applied(result)
                    except Exception:
                        log.exception("vote result handler failed")
                # Let new events and handlers run between batches.
                await asyncio.sleep(0)
        finally:
            self._idle.set()

    async def _write(self, batch: list[ReactionEvent | Recount]) -> BatchResult | None:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                async with self._sessions() as session, session.begin():
                    result = await apply_vote_batch(session, batch, now=self._clock())
            except Exception:
                log.warning(
                    "writing %d vote events failed (attempt %d)", len(batch), attempt, exc_info=True
                )
                continue
            self.stats.batches += 1
            self.stats.applied += result.applied
            self.stats.ignored += result.ignored
            return result
        self.stats.failed_batches += 1
        log.error("gave up writing %d vote events; their messages will be recounted", len(batch))
        if self.on_failed is not None:
            self.on_failed({item.message_id for item in batch})
        return None

    def reaction_fetch_budget(self, *, per_window: int, window: timedelta) -> RestBudget:
        """The reads of reaction users every process of the bot shares (see RestBudget).
        Built once: on SQLite its count, in memory, must be the whole process's."""
        if self._reaction_budget is None:
            self._reaction_budget = RestBudget(
                self._sessions,
                name="reaction_users",
                per_window=per_window,
                window=window,
                clock=self._clock,
            )
        return self._reaction_budget

    # -- vote messages -------------------------------------------------------------------

    async def votes_held(
        self, kind: VoteTarget, pairs: Iterable[tuple[int, int]]
    ) -> dict[tuple[int, int], int]:
        """The votes members hold now, by (target, member), in one query per 400 pairs."""
        async with self._sessions() as session:
            held = await current_votes(session, kind, set(pairs))
        return {key: value for key, (value, _) in held.items()}

    async def vote_message(self, message_id: int) -> VoteMessageInfo | None:
        return (await self.vote_messages([message_id])).get(message_id)

    async def vote_messages(self, message_ids: Iterable[int]) -> dict[int, VoteMessageInfo]:
        async with self._sessions() as session:
            return await load_vote_messages(session, message_ids)

    async def open_messages(
        self, *, shard_ids: Sequence[int] | None, shard_count: int
    ) -> list[tuple[int, int]]:
        """(channel, message) of every open vote message in guilds on these shards."""
        async with self._sessions() as session:
            return await open_vote_messages(session, shard_ids=shard_ids, shard_count=shard_count)

    async def messages_to_repair(
        self,
        *,
        shard_ids: Sequence[int] | None,
        shard_count: int,
        voted_since: datetime,
        limit: int,
    ) -> list[tuple[int, int]]:
        """(channel, message) of open vote messages in guilds on these shards voted on since
        `voted_since` and since their last recount, the latest voted first (a message that
        cannot be read stays behind the active ones, and drops out once it is quiet)."""
        async with self._sessions() as session:
            return await vote_messages_to_repair(
                session,
                shard_ids=shard_ids,
                shard_count=shard_count,
                voted_since=voted_since,
                limit=limit,
            )
