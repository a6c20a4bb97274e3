"""What Stackup keeps, and for how long: a server's data is deleted a while after the bot
leaves it (unless it comes back first), and a member's data when they ask to be forgotten.
One transaction per use-case; no Discord here.

A departed server's deletion is claimed in `job_runs` in the transaction that deletes, so it
happens once however many processes find it due, and a crash leaves neither claim nor
half-deleted server behind.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from bot.core.privacy import Departure, Forgotten
from bot.core.schedule import Claim
from bot.services.schedule import ANNOUNCE_JOB, STALE_CLAIM, process_name
from db import privacy as queries
from db.engine import SessionFactory
from db.schedule import claim_run, finish_run
from db.types import utcnow

# The `job_runs` job of a left guild's deletion: its claim, and the record that it ran.
DELETION_RUN = "guild-data-deletion"


class PrivacyService:
    def __init__(
        self,
        session_factory: SessionFactory,
        *,
        shard_ids: Sequence[int] | None,
        shard_count: int,
        clock: Callable[[], datetime] = utcnow,
        claimer: str | None = None,
    ) -> None:
        self._sessions = session_factory
        self._shard_ids = None if shard_ids is None else tuple(shard_ids)
        self._shard_count = shard_count
        self.clock = clock
        self.claimer = claimer or process_name(shard_ids)

    # -- servers Stackup left -------------------------------------------------------------

    async def guild_left(self, guild_id: int) -> Departure:
        async with self._sessions() as session, session.begin():
            return await queries.record_departure(session, guild_id, self.clock())

    async def guild_back(self, guild_id: int) -> bool:
        """Stackup is in the guild again: its data stays. Whether it had left."""
        async with self._sessions() as session, session.begin():
            return await queries.cancel_departure(session, guild_id)

    async def departures(self, guild_id: int | None = None) -> list[Departure]:
        """Departures of this process's guilds (of one guild, if named)."""
        async with self._sessions() as session:
            return await queries.departures(
                session,
                shard_ids=self._shard_ids,
                shard_count=self._shard_count,
                guild_id=guild_id,
            )

    async def undeparted_guilds(self) -> list[int]:
        """This process's guilds with data and no departure: those Stackup should be in."""
        async with self._sessions() as session:
            return await queries.undeparted_guilds(
                session, shard_ids=self._shard_ids, shard_count=self._shard_count
            )

    async def guilds_left(self, guild_ids: Sequence[int]) -> list[Departure]:
        """Stackup left these guilds now (found gone at start), in one transaction."""
        now = self.clock()
        async with self._sessions() as session, session.begin():
            return [
                await queries.record_departure(session, guild_id, now)
                for guild_id in sorted(set(guild_ids))
            ]

    async def delete_departed(self, guild_id: int) -> dict[str, int] | None:
        """Delete every row of a guild Stackup left long enough ago: rows deleted per table,
        or None if it is not due (back since, not long enough, or deleted by another
        process)."""
        now = self.clock()
        found = await self.departures(guild_id)
        if not found or found[0].due_at > now:
            return None
        departure = found[0]
        run = {
            "job": DELETION_RUN,
            "scope": guild_id,
            "period": departure.period,
            "claimer": self.claimer,
        }
        async with self._sessions() as session, session.begin():
            # Claimed first, read again after: the winner sees the departure as it is now
            # (cancelled meanwhile by the bot's return, or replaced by a later departure).
            claim = await claim_run(session, **run, now=now, stale_after=STALE_CLAIM)
            if claim is not Claim.CLAIMED:
                return None
            still = await queries.departures(
                session, shard_ids=None, shard_count=1, guild_id=guild_id
            )
            if still != [departure]:
                await finish_run(session, **run, now=now, outcome="came back: nothing deleted")
                return None
            deleted = await queries.delete_guild_data(
                session, guild_id, post_jobs=(ANNOUNCE_JOB,), kept_job=DELETION_RUN
            )
            rows = sum(deleted.values())
            await finish_run(session, **run, now=now, outcome=f"deleted {rows} rows")
        return deleted

    # -- members who asked to be forgotten ------------------------------------------------

    async def forget_member(self, member_id: int, *, guild_id: int | None) -> Forgotten:
        """Forget a member in one guild, or in every guild (`guild_id` None)."""
        async with self._sessions() as session, session.begin():
            return await queries.forget_member(session, member_id, guild_id=guild_id)
