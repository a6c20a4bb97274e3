"""Queries of the external stats refresh: which tools are due, their figures from GitHub, how
each check ended and when it is due again, and the job's own state (a rate-limit pause)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, exists, or_, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import ExternalStat, JobState, StatCheck, Tool
from db.tallies import dialect_insert


@dataclass(frozen=True)
class DueTool:
    tool_id: int
    repository: str
    # The ETag of the last answer, when its figures are still stored (else a 304 would leave
    # the tool without figures).
    etag: str | None
    failures: int


async def tools_due(
    session: AsyncSession, *, source: str, metric: str, now: datetime, limit: int
) -> list[DueTool]:
    """Catalog tools with a github.com repository never checked or due again, never checked
    first, then the longest due; `metric` is the figure whose presence makes the ETag usable."""
    check = and_(StatCheck.tool_id == Tool.id, StatCheck.source == source)
    has_figure = exists().where(
        ExternalStat.tool_id == Tool.id,
        ExternalStat.source == source,
        ExternalStat.metric == metric,
    )
    rows = await session.exec(
        select(Tool.id, Tool.repository, StatCheck.etag, StatCheck.failures, has_figure)
        .outerjoin(StatCheck, check)
        .where(
            Tool.repository.ilike("%github.com/%"),  # type: ignore[union-attr]
            or_(StatCheck.tool_id.is_(None), StatCheck.next_check_at <= now),  # type: ignore[union-attr]
        )
        .order_by(StatCheck.next_check_at.asc().nulls_first(), Tool.id)  # type: ignore[union-attr]
        .limit(limit)
    )
    return [
        DueTool(tool_id, repository, etag if figured else None, failures or 0)
        for tool_id, repository, etag, failures, figured in rows.all()
    ]


async def write_figures(
    session: AsyncSession,
    *,
    tool_id: int,
    source: str,
    source_url: str | None,
    figures: dict[str, int],
    as_of: date,
) -> None:
    """Upsert one row per metric (the figure, where it came from and the day it was true)."""
    for metric, value in figures.items():
        values = {"value": value, "as_of": as_of, "source_url": source_url}
        await session.exec(
            dialect_insert(session)(ExternalStat)
            .values(tool_id=tool_id, source=source, metric=metric, **values)
            .on_conflict_do_update(index_elements=["tool_id", "source", "metric"], set_=values)
        )


async def confirm_figures(
    session: AsyncSession, *, tool_id: int, source: str, metrics: Sequence[str], as_of: date
) -> int:
    """The stored figures are still true (GitHub answered 304): only their day moves on.
    Returns how many figures were confirmed."""
    result = await session.exec(
        update(ExternalStat)
        .where(
            ExternalStat.tool_id == tool_id,
            ExternalStat.source == source,
            ExternalStat.metric.in_(metrics),  # type: ignore[attr-defined]
        )
        .values(as_of=as_of)
    )
    return result.rowcount or 0


async def record_check(
    session: AsyncSession,
    *,
    tool_id: int,
    source: str,
    checked_at: datetime,
    next_check_at: datetime,
    status: str,
    etag: str | None,
    failures: int = 0,
) -> None:
    values = {
        "checked_at": checked_at,
        "next_check_at": next_check_at,
        "status": status,
        "etag": etag,
        "failures": failures,
    }
    await session.exec(
        dialect_insert(session)(StatCheck)
        .values(tool_id=tool_id, source=source, **values)
        .on_conflict_do_update(index_elements=["tool_id", "source"], set_=values)
    )


async def stat_check(session: AsyncSession, tool_id: int, source: str) -> StatCheck | None:
    return await session.get(StatCheck, (tool_id, source))


async def job_state(session: AsyncSession, job: str) -> JobState | None:
    return await session.get(JobState, job)


async def save_job_state(
    session: AsyncSession,
    job: str,
    *,
    next_run_at: datetime | None,
    last_run_at: datetime,
    last_outcome: str,
) -> None:
    values = {
        "next_run_at": next_run_at,
        "last_run_at": last_run_at,
        "last_outcome": last_outcome[:200],
    }
    await session.exec(
        dialect_insert(session)(JobState)
        .values(job=job, **values)
        .on_conflict_do_update(index_elements=["job"], set_=values)
    )
