"""The weekly digest's content for one guild and one window of time. Reads only; when and where
it is sent is the scheduler's business."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.core.comparison import ToolRef
from bot.core.digest import (
    POSTS_SHOWN,
    REASONS_SHOWN,
    TOOLS_SHOWN,
    Capped,
    ComparedTool,
    Digest,
    DigestPost,
    DigestVerdict,
    VotedReason,
    check_window,
    window_days,
)
from db import digest as queries
from db.engine import SessionFactory


def _post(row: Any) -> DigestPost:
    return DigestPost(
        id=row.id, thread_id=row.thread_id, title=row.title, created_at=row.created_at
    )


def _verdict(row: Any) -> DigestVerdict:
    tool = ToolRef(row.tool_id, row.slug, row.name) if row.tool_id is not None else None
    return DigestVerdict(
        post=_post(row),
        closed_at=row.closed_at,
        tool=tool,
        accepted=tool is not None and row.accepted_tool_id == tool.id,
    )


class DigestService:
    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    async def collect(self, guild_id: int, start: datetime, end: datetime) -> Digest:
        """What the guild did in [start, end) (aware UTC), each list capped with its total."""
        check_window(start, end)
        async with self._sessions() as session:
            opened, opened_total = await queries.posts_opened(
                session, guild_id, start, end, limit=POSTS_SHOWN
            )
            waiting, waiting_total = await queries.posts_still_open(
                session, guild_id, start, limit=POSTS_SHOWN
            )
            closed, closed_total = await queries.verdicts(
                session, guild_id, start, end, limit=POSTS_SHOWN
            )
            days = window_days(start, end)
            compared, compared_total = (
                await queries.most_compared(session, guild_id, *days, limit=TOOLS_SHOWN)
                if days
                else ([], 0)
            )
            voted, voted_total, votes_cast = await queries.most_voted_reasons(
                session, guild_id, start, end, limit=REASONS_SHOWN
            )
        return Digest(
            guild_id=guild_id,
            start=start,
            end=end,
            new_posts=Capped(tuple(_post(row) for row in opened), opened_total),
            open_posts=Capped(tuple(_post(row) for row in waiting), waiting_total),
            verdicts=Capped(tuple(_verdict(row) for row in closed), closed_total),
            compared=Capped(
                tuple(
                    ComparedTool(ToolRef(row.tool_id, row.slug, row.name), int(row.runs))
                    for row in compared
                ),
                compared_total,
            ),
            voted=Capped(
                tuple(
                    VotedReason(
                        id=row.id,
                        tool=ToolRef(row.tool_id, row.slug, row.name),
                        kind=row.kind,
                        text=row.text,
                        votes=row.votes,
                    )
                    for row in voted
                ),
                voted_total,
            ),
            votes_cast=votes_cast,
        )
