"""Reads behind a guild's weekly digest. Each reads one guild's rows along an index that starts
with the guild, and returns at most `limit` rows with the total behind them (a window count,
so the total costs no second query).

Only the guild's own data: its posts, its compare runs, and its members' votes on pros and cons
it sees (the catalog's and its own, never another guild's).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import AdvicePost, AdviceStatus, CompareDay, ProCon, Tool, Vote, VoteTarget
from db.tool_queries import visible_in

POST_COLUMNS = (AdvicePost.id, AdvicePost.thread_id, AdvicePost.title, AdvicePost.created_at)


def _total() -> Any:
    return func.count().over().label("total")


async def _capped(session: AsyncSession, statement: Any) -> tuple[list[Any], int]:
    rows = list((await session.exec(statement)).all())
    return rows, rows[0].total if rows else 0


async def posts_opened(
    session: AsyncSession, guild_id: int, start: datetime, end: datetime, *, limit: int
) -> tuple[list[Any], int]:
    """Posts created in [start, end), newest first: rows of POST_COLUMNS, and their total."""
    return await _capped(
        session,
        select(*POST_COLUMNS, _total())
        .where(
            AdvicePost.guild_id == guild_id,
            AdvicePost.created_at >= start,
            AdvicePost.created_at < end,
        )
        .order_by(AdvicePost.created_at.desc(), AdvicePost.id.desc())  # type: ignore[attr-defined]
        .limit(limit),
    )


async def posts_still_open(
    session: AsyncSession, guild_id: int, start: datetime, *, limit: int
) -> tuple[list[Any], int]:
    """Posts opened before `start` and open still, the longest waiting first."""
    return await _capped(
        session,
        select(*POST_COLUMNS, _total())
        .where(
            AdvicePost.guild_id == guild_id,
            AdvicePost.status == AdviceStatus.OPEN,
            AdvicePost.created_at < start,
        )
        .order_by(AdvicePost.created_at, AdvicePost.id)
        .limit(limit),
    )


async def verdicts(
    session: AsyncSession, guild_id: int, start: datetime, end: datetime, *, limit: int
) -> tuple[list[Any], int]:
    """Posts closed in [start, end) in the order they closed, each with its verdict's tool
    (tool_id, slug and name None when it closed without one) and `accepted`."""
    return await _capped(
        session,
        select(
            *POST_COLUMNS,
            AdvicePost.closed_at,
            AdvicePost.accepted_tool_id,
            Tool.id.label("tool_id"),  # type: ignore[union-attr]
            Tool.slug,
            Tool.name,
            _total(),
        )
        .outerjoin(Tool, Tool.id == AdvicePost.verdict_tool_id)
        .where(
            AdvicePost.guild_id == guild_id,
            AdvicePost.status == AdviceStatus.CLOSED,
            AdvicePost.closed_at >= start,  # type: ignore[operator]
            AdvicePost.closed_at < end,  # type: ignore[operator]
        )
        .order_by(AdvicePost.closed_at, AdvicePost.id)
        .limit(limit),
    )


async def most_compared(
    session: AsyncSession, guild_id: int, first_day: date, last_day: date, *, limit: int
) -> tuple[list[Any], int]:
    """Tools by /compare runs on the days first_day..last_day: rows (tool_id, slug, name, runs),
    most run first; the total is how many tools were compared at all."""
    runs = func.sum(CompareDay.runs).label("runs")
    by_tool = (
        select(CompareDay.tool_id, runs, _total())
        .where(
            CompareDay.guild_id == guild_id,
            CompareDay.day >= first_day,
            CompareDay.day <= last_day,
        )
        .group_by(CompareDay.tool_id)
        .subquery()
    )
    return await _capped(
        session,
        select(by_tool.c.tool_id, Tool.slug, Tool.name, by_tool.c.runs, by_tool.c.total)
        .join(Tool, Tool.id == by_tool.c.tool_id)
        .order_by(by_tool.c.runs.desc(), Tool.name, Tool.id)
        .limit(limit),
    )


async def most_voted_reasons(
    session: AsyncSession, guild_id: int, start: datetime, end: datetime, *, limit: int
) -> tuple[list[Any], int, int]:
    """Pros and cons by the 👍 votes members of the guild cast in [start, end): rows (id,
    tool_id, slug, name, kind, text, votes), most voted first; the number of pros and cons
    voted on; and the votes cast on them all."""
    votes = func.count().label("votes")
    by_reason = (
        select(
            ProCon.id,
            ProCon.tool_id,
            ProCon.kind,
            ProCon.text,
            votes,
            _total(),
            func.sum(func.count()).over().label("cast"),
        )
        .select_from(Vote)
        .join(
            ProCon,
            and_(
                ProCon.id == Vote.target_id,
                # A vote in this guild on another guild's pro should not exist; if it ever
                # did, that pro still stays in its own guild.
                visible_in(guild_id),
            ),
        )
        .where(
            Vote.guild_id == guild_id,
            Vote.target_kind == VoteTarget.PRO_CON.value,
            Vote.created_at >= start,
            Vote.created_at < end,
            Vote.value == 1,
        )
        .group_by(ProCon.id, ProCon.tool_id, ProCon.kind, ProCon.text)
        .subquery()
    )
    rows = list(
        (
            await session.exec(
                select(
                    by_reason.c.id,
                    by_reason.c.tool_id,
                    Tool.slug,
                    Tool.name,
                    by_reason.c.kind,
                    by_reason.c.text,
                    by_reason.c.votes,
                    by_reason.c.total,
                    by_reason.c.cast,
                )
                .join(Tool, Tool.id == by_reason.c.tool_id)
                .order_by(by_reason.c.votes.desc(), by_reason.c.id)
                .limit(limit)
            )
        ).all()
    )
    if not rows:
        return rows, 0, 0
    return rows, rows[0].total, int(rows[0].cast)
