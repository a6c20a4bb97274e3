"""Queries of scheduled work: open posts' clocks, claims that make each piece of work happen
once (a conditional UPDATE or a unique row: whichever process or task writes first wins, on
SQLite and PostgreSQL alike), and the digests of a process's guilds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, func, or_, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.advice import CLOSED, DEFAULT_IDLE_DAYS, OPEN, GuildConfig
from bot.core.schedule import Claim, DigestSchedule, PostClock, digest_schedule_of
from db.models import AdvicePost, GuildSettings, JobRun, Recommendation
from db.shards import not_departed, on_shards
from db.tallies import dialect_insert


def guild_config(row: GuildSettings | None, guild_id: int) -> GuildConfig:
    """A guild's settings as plain data (the defaults when it chose nothing)."""
    if row is None:
        return GuildConfig(guild_id)
    return GuildConfig(
        guild_id=guild_id,
        advice_forum_id=row.advice_forum_id,
        digest_channel_id=row.digest_channel_id,
        idle_days=row.idle_days,
        digest_day=row.digest_day,
        digest_hour=row.digest_hour,
        timezone=row.timezone,
        closer_role_id=row.closer_role_id,
    )


async def open_post_clocks(
    session: AsyncSession,
    *,
    shard_ids: Sequence[int] | None,
    shard_count: int,
    post_ids: Sequence[int] | None = None,
    guild_id: int | None = None,
) -> list[PostClock]:
    """The clocks of open posts in the guilds of these shards that Stackup is still in (of
    these posts, or of this guild, if named)."""
    has_recommendation = exists().where(Recommendation.post_id == AdvicePost.id)
    statement = (
        select(
            AdvicePost.id,
            AdvicePost.guild_id,
            AdvicePost.created_at,
            AdvicePost.last_activity_at,
            func.coalesce(GuildSettings.idle_days, DEFAULT_IDLE_DAYS),
            has_recommendation,
            AdvicePost.reminder_sent_at,
            AdvicePost.idle_warning_sent_at,
        )
        .outerjoin(GuildSettings, GuildSettings.guild_id == AdvicePost.guild_id)  # type: ignore[arg-type]
        .where(
            AdvicePost.status == OPEN,
            on_shards(AdvicePost.guild_id, shard_ids, shard_count),
            not_departed(AdvicePost.guild_id),
        )
        .order_by(AdvicePost.id)
    )
    if post_ids is not None:
        statement = statement.where(AdvicePost.id.in_(list(post_ids)))  # type: ignore[union-attr]
    if guild_id is not None:
        statement = statement.where(AdvicePost.guild_id == guild_id)
    rows = await session.exec(statement)
    return [
        PostClock(
            post_id=post_id,
            guild_id=guild_id,
            created_at=created_at,
            last_activity_at=last_activity_at,
            idle_days=idle_days,
            has_recommendation=bool(recommended),
            reminder_sent_at=reminder_sent_at,
            idle_warning_sent_at=idle_warning_sent_at,
        )
        for (
            post_id,
            guild_id,
            created_at,
            last_activity_at,
            idle_days,
            recommended,
            reminder_sent_at,
            idle_warning_sent_at,
        ) in rows.all()
    ]


async def unannounced_closes(
    session: AsyncSession,
    *,
    shard_ids: Sequence[int] | None,
    shard_count: int,
    closed_since: datetime,
    closed_before: datetime,
) -> list[tuple[int, int]]:
    """(post, idle days) of posts closed between `closed_since` and `closed_before` whose
    verdict did not go out, in guilds Stackup is still in."""
    rows = await session.exec(
        select(AdvicePost.id, func.coalesce(GuildSettings.idle_days, DEFAULT_IDLE_DAYS))
        .outerjoin(GuildSettings, GuildSettings.guild_id == AdvicePost.guild_id)  # type: ignore[arg-type]
        .where(
            AdvicePost.status == CLOSED,
            AdvicePost.verdict_posted_at.is_(None),  # type: ignore[union-attr]
            AdvicePost.closed_at >= closed_since,  # type: ignore[operator]
            AdvicePost.closed_at < closed_before,  # type: ignore[operator]
            on_shards(AdvicePost.guild_id, shard_ids, shard_count),
            not_departed(AdvicePost.guild_id),
        )
        .order_by(AdvicePost.id)
    )
    return [(post_id, idle_days) for post_id, idle_days in rows.all()]


async def claim_reminder(session: AsyncSession, post_id: int, now: datetime) -> bool:
    """Mark the post reminded, if it is open, unreminded and still without a recommendation."""
    claimed = await session.exec(
        update(AdvicePost)
        .where(
            AdvicePost.id == post_id,
            AdvicePost.status == OPEN,
            AdvicePost.reminder_sent_at.is_(None),  # type: ignore[union-attr]
            ~exists().where(Recommendation.post_id == AdvicePost.id),
        )
        .values(reminder_sent_at=now)
        .returning(AdvicePost.id)
    )
    return claimed.first() is not None


async def release_mark(
    session: AsyncSession, post_id: int, column: str, claimed_at: datetime
) -> None:
    """A reminder or warning (`column`: its "sent at") could not be sent: the claim is given
    back, if it is still the one made at `claimed_at`, and a later run tries again."""
    sent_at = getattr(AdvicePost, column)
    await session.exec(
        update(AdvicePost)
        .where(AdvicePost.id == post_id, sent_at == claimed_at)
        .values({column: None})
    )


async def claim_warning(
    session: AsyncSession, post_id: int, *, seen_activity: datetime, now: datetime
) -> bool:
    """Mark the asker warned, if the post is open and nothing happened since `seen_activity`
    (activity moves the close, and the warning with it)."""
    claimed = await session.exec(
        update(AdvicePost)
        .where(
            AdvicePost.id == post_id,
            AdvicePost.status == OPEN,
            AdvicePost.last_activity_at == seen_activity,
            or_(
                AdvicePost.idle_warning_sent_at.is_(None),  # type: ignore[union-attr]
                AdvicePost.idle_warning_sent_at < AdvicePost.last_activity_at,  # type: ignore[operator]
            ),
        )
        .values(idle_warning_sent_at=now)
        .returning(AdvicePost.id)
    )
    return claimed.first() is not None


async def note_activity(session: AsyncSession, thread_id: int, now: datetime) -> int | None:
    """A member wrote in the post's thread: its idle time starts over. The post's id, if the
    thread is an open post."""
    moved = await session.exec(
        update(AdvicePost)
        .where(
            AdvicePost.thread_id == thread_id,
            AdvicePost.status == OPEN,
            AdvicePost.last_activity_at < now,
        )
        .values(last_activity_at=now)
        .returning(AdvicePost.id)
    )
    return moved.scalars().first()


# -- job runs: once per job, scope and period ------------------------------------------------


async def claim_run(
    session: AsyncSession,
    *,
    job: str,
    scope: int,
    period: str,
    claimer: str,
    now: datetime,
    stale_after: timedelta,
) -> Claim:
    """Claim the period's run of a job. A run finished, or claimed by a live process, is not
    claimed again; a claim unfinished for `stale_after` was lost with its process and is
    taken over."""
    inserted = await session.exec(
        dialect_insert(session)(JobRun)
        .values(job=job, scope=scope, period=period, claimed_by=claimer, claimed_at=now)
        .on_conflict_do_nothing(index_elements=["job", "scope", "period"])
        .returning(JobRun.id)
    )
    if inserted.first() is not None:
        return Claim.CLAIMED
    taken_over = await session.exec(
        update(JobRun)
        .where(
            JobRun.job == job,
            JobRun.scope == scope,
            JobRun.period == period,
            JobRun.finished_at.is_(None),  # type: ignore[union-attr]
            JobRun.claimed_at < now - stale_after,  # type: ignore[operator]
        )
        .values(claimed_by=claimer, claimed_at=now)
        .returning(JobRun.id)
    )
    if taken_over.first() is not None:
        return Claim.CLAIMED
    finished = await session.exec(
        select(JobRun.finished_at).where(
            JobRun.job == job, JobRun.scope == scope, JobRun.period == period
        )
    )
    return Claim.HELD if finished.first() is None else Claim.DONE


async def finish_run(
    session: AsyncSession,
    *,
    job: str,
    scope: int,
    period: str,
    claimer: str,
    now: datetime,
    outcome: str,
) -> None:
    await session.exec(
        update(JobRun)
        .where(
            JobRun.job == job,
            JobRun.scope == scope,
            JobRun.period == period,
            JobRun.claimed_by == claimer,
        )
        .values(finished_at=now, outcome=outcome[:200])
    )


async def release_run(
    session: AsyncSession, *, job: str, scope: int, period: str, claimer: str
) -> None:
    """The run failed before its work was done: a later sweep may claim it again."""
    await session.exec(
        delete(JobRun).where(
            JobRun.job == job,
            JobRun.scope == scope,
            JobRun.period == period,
            JobRun.claimed_by == claimer,
            JobRun.finished_at.is_(None),  # type: ignore[union-attr]
        )
    )


async def runs_of(session: AsyncSession, *, job: str, scope: int) -> list[JobRun]:
    rows = await session.exec(
        select(JobRun).where(JobRun.job == job, JobRun.scope == scope).order_by(JobRun.id)
    )
    return list(rows.all())


# -- digests ---------------------------------------------------------------------------------


async def digest_schedules(
    session: AsyncSession,
    *,
    shard_ids: Sequence[int] | None,
    shard_count: int,
    guild_id: int | None = None,
) -> list[DigestSchedule]:
    """The digests of guilds on these shards that chose a digest channel and that Stackup is
    still in."""
    statement = select(GuildSettings).where(
        GuildSettings.digest_channel_id.is_not(None),  # type: ignore[union-attr]
        on_shards(GuildSettings.guild_id, shard_ids, shard_count),
        not_departed(GuildSettings.guild_id),
    )
    if guild_id is not None:
        statement = statement.where(GuildSettings.guild_id == guild_id)
    rows = await session.exec(statement.order_by(GuildSettings.guild_id))
    return [
        digest_schedule_of(guild_config(row, row.guild_id), set_at=row.digest_set_at)
        for row in rows.all()
    ]
