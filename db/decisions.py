"""Queries of decisions: a `/decision` with its vote message, the decision a closed advice
post leaves, the newest decisions about some tools (for the advice figures of /compare and
/tool), and decisions withdrawn with their deleted messages. Each takes the caller's
session; the services open the transactions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, or_
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.comparison import ToolRef
from bot.core.decisions import DecisionLine
from bot.core.voting import UP, Option, VoteTarget
from db.advice import named_tools, posts_naming
from db.models import Decision, Vote, VoteMessage, VoteOption
from db.reaction_votes import register_vote_message
from db.tool_queries import tool_refs


def decision_line(decision: Decision, refs: dict[int, ToolRef]) -> DecisionLine:
    """A decision as its own message shows it: the one tool it was chosen over."""
    over = refs.get(decision.over_tool_id) if decision.over_tool_id else None
    return DecisionLine(
        member_id=decision.member_id,
        chosen=refs[decision.chosen_tool_id],
        over=(over,) if over is not None else (),
        created_at=decision.created_at,
        guild_id=decision.guild_id,
        id=decision.id or 0,
        channel_id=decision.channel_id,
        message_id=decision.message_id,
        up=decision.up_count,
        reason=decision.reason,
    )


def add_post_decision(
    session: AsyncSession,
    *,
    guild_id: int,
    member_id: int,
    chosen_tool_id: int,
    over_tool_id: int | None,
    reason: str,
    advice_post_id: int,
    thread_id: int | None,
    now: datetime,
) -> None:
    """The asker's decision when a post closes with an accepted tool: it lives in the post's
    thread and has no message to vote on."""
    session.add(
        Decision(
            guild_id=guild_id,
            member_id=member_id,
            chosen_tool_id=chosen_tool_id,
            over_tool_id=over_tool_id,
            reason=reason,
            advice_post_id=advice_post_id,
            channel_id=thread_id,
            created_at=now,
        )
    )


async def add_decision(
    session: AsyncSession,
    *,
    guild_id: int,
    member_id: int,
    chosen_tool_id: int,
    over_tool_id: int,
    reason: str,
    channel_id: int,
    message_id: int,
    now: datetime,
) -> Decision:
    """A posted `/decision`, written with its vote message: its 👍 (but the author's) count."""
    decision = Decision(
        guild_id=guild_id,
        member_id=member_id,
        chosen_tool_id=chosen_tool_id,
        over_tool_id=over_tool_id,
        reason=reason,
        channel_id=channel_id,
        message_id=message_id,
        created_at=now,
    )
    session.add(decision)
    await session.flush()
    await register_vote_message(
        session,
        message_id=message_id,
        channel_id=channel_id,
        guild_id=guild_id,
        kind=VoteTarget.DECISION,
        options=[Option(UP, decision.id or 0, 1)],
        excluded_member_id=member_id,
    )
    return decision


async def decision_by_id(session: AsyncSession, decision_id: int) -> DecisionLine | None:
    """A decision as its message shows it; None if it is gone, or its chosen tool is."""
    decision = await session.get(Decision, decision_id)
    if decision is None:
        return None
    tool_ids = [decision.chosen_tool_id]
    if decision.over_tool_id is not None:
        tool_ids.append(decision.over_tool_id)
    refs = await tool_refs(session, tool_ids)
    if decision.chosen_tool_id not in refs:
        return None
    return decision_line(decision, refs)


async def latest_decisions(
    session: AsyncSession, *, guild_id: int, tool_ids: Sequence[int], limit: int
) -> tuple[DecisionLine, ...]:
    """The guild's newest decisions choosing one of the tools, choosing over one, or closing
    a post that named one, with their 👍 as counted now. A post's decision was chosen over
    the other tools the post named."""
    rows = (
        await session.exec(
            select(Decision)
            .where(
                Decision.guild_id == guild_id,
                or_(
                    Decision.chosen_tool_id.in_(tool_ids),  # type: ignore[attr-defined]
                    Decision.over_tool_id.in_(tool_ids),  # type: ignore[union-attr]
                    Decision.advice_post_id.in_(posts_naming(guild_id, tool_ids)),  # type: ignore[union-attr]
                ),
            )
            .order_by(Decision.created_at.desc(), Decision.id.desc())  # type: ignore[attr-defined]
            .limit(limit)
        )
    ).all()
    over = await named_tools(session, [d.advice_post_id for d in rows if d.advice_post_id])
    refs = await tool_refs(
        session,
        [
            *(d.chosen_tool_id for d in rows),
            *(d.over_tool_id for d in rows if d.over_tool_id),
            *(t for named in over.values() for t in named),
        ],
    )
    lines = []
    for d in rows:
        if d.chosen_tool_id not in refs:
            continue
        others = over.get(d.advice_post_id or 0) or ([d.over_tool_id] if d.over_tool_id else [])
        lines.append(
            DecisionLine(
                member_id=d.member_id,
                chosen=refs[d.chosen_tool_id],
                over=tuple(refs[t] for t in others if t in refs and t != d.chosen_tool_id),
                created_at=d.created_at,
                guild_id=d.guild_id,
                # An advice post's decision lives in its thread; a /decision in its message.
                thread_id=d.channel_id if d.message_id is None else None,
                id=d.id or 0,
                channel_id=d.channel_id,
                message_id=d.message_id,
                up=d.up_count,
                reason=d.reason,
            )
        )
    return tuple(lines)


async def decision_messages(session: AsyncSession, message_ids: Sequence[int]) -> list[int]:
    """Those of the messages that are decisions' vote messages."""
    found = await session.exec(
        select(VoteMessage.message_id).where(
            VoteMessage.message_id.in_(message_ids),  # type: ignore[attr-defined]
            VoteMessage.target_kind == VoteTarget.DECISION.value,
        )
    )
    return list(found.all())


async def remove_decisions_of(session: AsyncSession, message_ids: Sequence[int]) -> list[int]:
    """The decisions of these vote messages go, with their votes and the messages' rows;
    their ids, in order."""
    if session.bind.dialect.name == "postgresql":
        # Held as vote batches hold them: a batch in flight on these messages commits
        # first, and a later one finds them gone.
        await session.exec(
            select(VoteMessage.message_id)
            .where(VoteMessage.message_id.in_(message_ids))  # type: ignore[attr-defined]
            .order_by(VoteMessage.message_id)
            .with_for_update()
        )
    decision_ids = sorted(
        (
            await session.exec(
                select(VoteOption.target_id).where(
                    VoteOption.message_id.in_(message_ids)  # type: ignore[attr-defined]
                )
            )
        ).all()
    )
    await session.exec(
        delete(Vote).where(
            Vote.target_kind == VoteTarget.DECISION.value,
            Vote.target_id.in_(decision_ids),  # type: ignore[attr-defined]
        )
    )
    await session.exec(
        delete(VoteMessage).where(VoteMessage.message_id.in_(message_ids))  # type: ignore[attr-defined]
    )
    await session.exec(
        delete(Decision).where(Decision.id.in_(decision_ids))  # type: ignore[union-attr]
    )
    return decision_ids
