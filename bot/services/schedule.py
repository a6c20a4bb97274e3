"""Scheduled work without Discord: which posts and digests of this process's shards are due,
and the claims that make each reminder, warning, close and digest happen once. The scheduler
(cogs/schedule/flows.py) asks, claims, then talks to Discord with no transaction open, and releases
a claim whose message could not be sent so that a later sweep tries again.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.core.advice import ranked
from bot.core.schedule import Claim, DigestSchedule, IdleWarning, PostClock, Reminder
from bot.services.advice import AdviceService
from db import community
from db import schedule as queries
from db.engine import SessionFactory
from db.types import utcnow

DIGEST_JOB = "digest"
# One process re-announces an idle close whose verdict failed to go out.
ANNOUNCE_JOB = "verdict-announcement"
# A digest claimed this long ago and never finished was lost with its process.
STALE_CLAIM = timedelta(minutes=30)
# An idle close this recent may still be being announced by the process that made it.
BEING_ANNOUNCED = timedelta(minutes=5)
# A reminder mentions at most this many followers (Discord pings at most 100 users a message).
REMINDER_MENTIONS = 50
WARNING_RECOMMENDATIONS = 3


def process_name(shard_ids: Sequence[int] | None) -> str:
    """Who claimed a run, for the logs and the job_runs table."""
    shards = "all" if shard_ids is None else ",".join(map(str, shard_ids))
    return f"{socket.gethostname()}:{os.getpid()}:shards {shards}"[:100]


class ScheduleService:
    def __init__(
        self,
        session_factory: SessionFactory,
        advice: AdviceService,
        *,
        shard_ids: Sequence[int] | None,
        shard_count: int,
        clock: Callable[[], datetime] = utcnow,
        claimer: str | None = None,
    ) -> None:
        self._sessions = session_factory
        self._advice = advice
        self._shard_ids = None if shard_ids is None else tuple(shard_ids)
        self._shard_count = shard_count
        self.clock = clock
        self.claimer = claimer or process_name(shard_ids)

    # -- advice posts ---------------------------------------------------------------------

    async def open_posts(
        self, post_ids: Sequence[int] | None = None, *, guild_id: int | None = None
    ) -> list[PostClock]:
        """Open posts in this process's guilds (of `post_ids`, or of one guild, if given); none
        of a guild Stackup has left: its posts wait, untouched, in case the bot comes back."""
        async with self._sessions() as session:
            return await queries.open_post_clocks(
                session,
                shard_ids=self._shard_ids,
                shard_count=self._shard_count,
                post_ids=post_ids,
                guild_id=guild_id,
            )

    async def post(self, post_id: int) -> PostClock | None:
        found = await self.open_posts([post_id])
        return found[0] if found else None

    async def unannounced_closes(self, closed_since: datetime) -> list[tuple[int, int]]:
        """(post, idle days) of idle closes since `closed_since` whose verdict failed to go out.
        A close of the last few minutes is left to the process that made it, which may be
        sending its verdict right now (another process's sweep would send it a second time)."""
        async with self._sessions() as session:
            return await queries.unannounced_closes(
                session,
                shard_ids=self._shard_ids,
                shard_count=self._shard_count,
                closed_since=closed_since,
                closed_before=self.clock() - BEING_ANNOUNCED,
            )

    async def claim_reminder(self, post_id: int) -> Reminder | None:
        """The post's one reminder, if it is still due: the followers of its tools who opted
        in to mentions (never the asker) are mentioned."""
        now = self.clock()
        async with self._sessions() as session, session.begin():
            if not await queries.claim_reminder(session, post_id, now):
                return None
        post = await self._advice.summary(post_id)
        if post is None:
            return None
        async with self._sessions() as session:
            followers = await community.followers_of(
                session,
                guild_id=post.guild_id,
                tool_ids=[tool.id for tool in post.tools],
                excluded_member_id=post.asker_id,
                limit=REMINDER_MENTIONS,
                opted_in_only=True,
            )
        return Reminder(post, tuple(member for member, _ in followers), now)

    async def release_reminder(self, reminder: Reminder) -> None:
        async with self._sessions() as session, session.begin():
            await queries.release_mark(
                session, reminder.post.id, "reminder_sent_at", reminder.claimed_at
            )

    async def claim_warning(self, clock: PostClock) -> IdleWarning | None:
        """The asker's warning before an idle close, if nothing happened since `clock` was read."""
        now = self.clock()
        async with self._sessions() as session, session.begin():
            claimed = await queries.claim_warning(
                session, clock.post_id, seen_activity=clock.last_activity_at, now=now
            )
        if not claimed:
            return None
        post = await self._advice.summary(clock.post_id)
        if post is None:
            return None
        best = tuple(r for r in ranked(post.recommendations) if r.score >= 0)
        return IdleWarning(post, clock.closes_at, best[:WARNING_RECOMMENDATIONS], now)

    async def release_warning(self, warning: IdleWarning) -> None:
        async with self._sessions() as session, session.begin():
            await queries.release_mark(
                session, warning.post.id, "idle_warning_sent_at", warning.claimed_at
            )

    async def note_activity(self, thread_id: int) -> int | None:
        """A member wrote in a thread: if it is an open post, its idle time starts over."""
        async with self._sessions() as session, session.begin():
            return await queries.note_activity(session, thread_id, self.clock())

    # -- digests --------------------------------------------------------------------------

    async def digest_schedules(self, guild_id: int | None = None) -> list[DigestSchedule]:
        """Digests of this process's guilds (of one guild, if named), but those Stackup left."""
        async with self._sessions() as session:
            return await queries.digest_schedules(
                session,
                shard_ids=self._shard_ids,
                shard_count=self._shard_count,
                guild_id=guild_id,
            )

    def _announcement_run(self, post_id: int) -> dict[str, Any]:
        return {"job": ANNOUNCE_JOB, "scope": post_id, "period": "verdict", "claimer": self.claimer}

    async def claim_announcement(self, post_id: int) -> bool:
        """Claim the re-announcement of an idle close's verdict that failed to go out: one
        process sends it, however many sweep at once."""
        async with self._sessions() as session, session.begin():
            claim = await queries.claim_run(
                session,
                **self._announcement_run(post_id),
                now=self.clock(),
                stale_after=STALE_CLAIM,
            )
        return claim is Claim.CLAIMED

    async def finish_announcement(self, post_id: int, outcome: str) -> None:
        async with self._sessions() as session, session.begin():
            await queries.finish_run(
                session, **self._announcement_run(post_id), now=self.clock(), outcome=outcome
            )

    async def release_announcement(self, post_id: int) -> None:
        async with self._sessions() as session, session.begin():
            await queries.release_run(session, **self._announcement_run(post_id))

    def _digest_run(self, schedule: DigestSchedule, moment: datetime) -> dict[str, Any]:
        return {
            "job": DIGEST_JOB,
            "scope": schedule.guild_id,
            "period": schedule.period(moment),
            "claimer": self.claimer,
        }

    async def claim_digest(self, schedule: DigestSchedule, moment: datetime) -> Claim:
        """Claim the digest of the moment: only one claim per guild and moment succeeds."""
        async with self._sessions() as session, session.begin():
            return await queries.claim_run(
                session,
                **self._digest_run(schedule, moment),
                now=self.clock(),
                stale_after=STALE_CLAIM,
            )

    async def finish_digest(self, schedule: DigestSchedule, moment: datetime, outcome: str) -> None:
        async with self._sessions() as session, session.begin():
            await queries.finish_run(
                session, **self._digest_run(schedule, moment), now=self.clock(), outcome=outcome
            )

    async def release_digest(self, schedule: DigestSchedule, moment: datetime) -> None:
        async with self._sessions() as session, session.begin():
            await queries.release_run(session, **self._digest_run(schedule, moment))
