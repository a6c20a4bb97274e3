"""Queries of advice posts: their rows, the tools they name, their recommendations, listing
pages and the per-tool figures of /compare and /tool. Each takes the caller's session; the
advice service opens the transactions and decides what a change means."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.advice import CLOSED, OPEN, AdviceSummary, NewPost, RecommendationLine, ranked
from bot.core.voting import VoteTarget
from db.models import AdvicePost, AdvicePostTool, Recommendation, Vote, VoteMessage
from db.reaction_votes import close_vote_messages
from db.tool_queries import tool_refs


async def add_post(
    session: AsyncSession, new: NewPost, *, tool_ids: Sequence[int], now: datetime
) -> AdvicePost:
    """A new open post and the tools it names, in the order named (`tool_ids`, deduplicated)."""
    columns = {k: v for k, v in dataclasses.asdict(new).items() if k != "tool_ids"}
    post = AdvicePost(**columns, status=OPEN, created_at=now, last_activity_at=now)
    session.add(post)
    await session.flush()
    session.add_all(
        AdvicePostTool(post_id=post.id, tool_id=tool_id, guild_id=new.guild_id, position=n)
        for n, tool_id in enumerate(tool_ids)
    )
    await session.flush()
    return post


async def post_in_thread(
    session: AsyncSession, thread_id: int, *, lock: bool = False
) -> AdvicePost | None:
    statement = select(AdvicePost).where(AdvicePost.thread_id == thread_id)
    if lock:
        statement = statement.with_for_update()
    return (await session.exec(statement)).first()


async def locked_post(session: AsyncSession, post_id: int) -> AdvicePost | None:
    """The post, held until the transaction ends."""
    statement = select(AdvicePost).where(AdvicePost.id == post_id).with_for_update()
    return (await session.exec(statement)).first()


async def claim_close(session: AsyncSession, post_id: int) -> bool:
    """Mark the post closed if it is still open. Of two processes (or a sweep and a timer)
    closing at once, on PostgreSQL and on SQLite alike, only the first write finds it open."""
    claimed = await session.exec(
        update(AdvicePost)
        .where(AdvicePost.id == post_id, AdvicePost.status == OPEN)
        .values(status=CLOSED)
        .returning(AdvicePost.id)
    )
    return claimed.first() is not None


async def mark_verdict_posted(session: AsyncSession, post_id: int, now: datetime) -> None:
    await session.exec(
        update(AdvicePost)
        .where(AdvicePost.id == post_id, AdvicePost.verdict_posted_at.is_(None))  # type: ignore[union-attr]
        .values(verdict_posted_at=now)
    )


async def named_tools(session: AsyncSession, post_ids: Sequence[int]) -> dict[int, list[int]]:
    """The tools each post named, in the order named."""
    named: dict[int, list[int]] = defaultdict(list)
    if post_ids:
        rows = await session.exec(
            select(AdvicePostTool.post_id, AdvicePostTool.tool_id)
            .where(AdvicePostTool.post_id.in_(post_ids))  # type: ignore[attr-defined]
            .order_by(AdvicePostTool.post_id, AdvicePostTool.position)
        )
        for post_id, tool_id in rows.all():
            named[post_id].append(tool_id)
    return named


def posts_naming(guild_id: int, tool_ids: Sequence[int]) -> Any:
    """A subquery: the ids of the guild's posts naming any of the tools."""
    return select(AdvicePostTool.post_id).where(
        AdvicePostTool.guild_id == guild_id,
        AdvicePostTool.tool_id.in_(tool_ids),  # type: ignore[attr-defined]
    )


async def post_summary(session: AsyncSession, post: AdvicePost) -> AdviceSummary:
    """The post as plain data, its recommendations ranked with their votes as counted now."""
    named = (await named_tools(session, [post.id or 0])).get(post.id or 0, [])
    recommendations = (
        await session.exec(select(Recommendation).where(Recommendation.post_id == post.id))
    ).all()
    refs = await tool_refs(
        session,
        [
            *named,
            *(r.tool_id for r in recommendations),
            *(t for t in (post.accepted_tool_id, post.verdict_tool_id) if t is not None),
        ],
    )
    lines = ranked(
        [
            RecommendationLine(
                id=r.id or 0,
                tool=refs[r.tool_id],
                member_id=r.member_id,
                reason=r.reason,
                up=r.up_count,
                down=r.down_count,
                created_at=r.created_at,
                message_id=r.message_id,
            )
            for r in recommendations
            if r.tool_id in refs
        ]
    )
    return AdviceSummary(
        id=post.id or 0,
        guild_id=post.guild_id,
        channel_id=post.channel_id,
        thread_id=post.thread_id,
        starter_message_id=post.starter_message_id,
        asker_id=post.asker_id,
        title=post.title,
        question=post.question,
        context=post.context,
        status=post.status,
        tools=tuple(refs[t] for t in named if t in refs),
        recommendations=tuple(lines),
        created_at=post.created_at,
        accepted=refs.get(post.accepted_tool_id) if post.accepted_tool_id else None,
        verdict=refs.get(post.verdict_tool_id) if post.verdict_tool_id else None,
        closed_at=post.closed_at,
    )


async def close_post_votes(session: AsyncSession, post_id: int) -> None:
    """The post's recommendations stop taking votes."""
    messages = await session.exec(
        select(Recommendation.message_id).where(
            Recommendation.post_id == post_id,
            Recommendation.message_id.is_not(None),  # type: ignore[union-attr]
        )
    )
    await close_vote_messages(session, sorted(messages.all()))


async def recommendation_by_message(
    session: AsyncSession, message_id: int
) -> Recommendation | None:
    found = await session.exec(
        select(Recommendation).where(Recommendation.message_id == message_id)
    )
    return found.first()


async def remove_recommendation(session: AsyncSession, recommendation: Recommendation) -> None:
    """The recommendation goes, with its votes and its vote message."""
    await session.exec(
        delete(Vote).where(
            Vote.target_kind == VoteTarget.RECOMMENDATION.value,
            Vote.target_id == recommendation.id,
        )
    )
    if recommendation.message_id is not None:
        await session.exec(
            delete(VoteMessage).where(VoteMessage.message_id == recommendation.message_id)
        )
    await session.delete(recommendation)


@dataclass(frozen=True)
class PostPage:
    total: int
    pages: int
    page: int  # within 1..pages
    posts: list[AdvicePost]


async def post_page(
    session: AsyncSession,
    *,
    guild_id: int,
    tool_id: int | None,
    status: str | None,
    page: int,
    page_size: int,
) -> PostPage:
    """A page of the guild's posts (about the tool, with the status, if given), newest
    first; a page past the last shows the last."""
    conditions = [AdvicePost.guild_id == guild_id]
    if status is not None:
        conditions.append(AdvicePost.status == status)
    if tool_id is not None:
        conditions.append(AdvicePost.id.in_(posts_naming(guild_id, [tool_id])))  # type: ignore[union-attr]
    total = (
        await session.exec(select(func.count()).select_from(AdvicePost).where(*conditions))
    ).one()
    pages = max(1, -(-total // page_size))
    page = min(max(page, 1), pages)
    rows = await session.exec(
        select(AdvicePost)
        .where(*conditions)
        .order_by(AdvicePost.created_at.desc(), AdvicePost.id.desc())  # type: ignore[attr-defined]
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return PostPage(total=total, pages=pages, page=page, posts=list(rows.all()))


async def recommendation_counts(session: AsyncSession, post_ids: Sequence[int]) -> dict[int, int]:
    if not post_ids:
        return {}
    counted = await session.exec(
        select(Recommendation.post_id, func.count())
        .where(Recommendation.post_id.in_(post_ids))  # type: ignore[attr-defined]
        .group_by(Recommendation.post_id)
    )
    return dict(counted.all())


async def _counts(
    session: AsyncSession, column: Any, guild_column: Any, guild_id: int, ids: Sequence[int]
) -> dict[int, int]:
    """Rows per value of `column` among `ids`, in one guild."""
    rows = await session.exec(
        select(column, func.count())
        .where(guild_column == guild_id, column.in_(ids))
        .group_by(column)
    )
    return dict(rows.all())


async def times_named(
    session: AsyncSession, guild_id: int, tool_ids: Sequence[int]
) -> dict[int, int]:
    """Per tool, the guild's posts naming it."""
    return await _counts(
        session, AdvicePostTool.tool_id, AdvicePostTool.guild_id, guild_id, tool_ids
    )


async def times_won(
    session: AsyncSession, guild_id: int, tool_ids: Sequence[int]
) -> dict[int, int]:
    """Per tool, the guild's posts whose verdict named it."""
    return await _counts(
        session, AdvicePost.verdict_tool_id, AdvicePost.guild_id, guild_id, tool_ids
    )


async def verdicts_naming_together(
    session: AsyncSession, guild_id: int, tool_ids: Sequence[int]
) -> list[tuple[int, int | None]]:
    """(post id, verdict tool id) of the guild's posts naming two or more of the tools."""
    if len(tool_ids) < 2:
        return []
    shared = (
        posts_naming(guild_id, tool_ids).group_by(AdvicePostTool.post_id).having(func.count() >= 2)
    )
    rows = await session.exec(
        select(AdvicePost.id, AdvicePost.verdict_tool_id).where(
            AdvicePost.id.in_(shared)  # type: ignore[union-attr]
        )
    )
    return list(rows.all())
