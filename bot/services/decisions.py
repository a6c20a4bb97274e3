"""Decisions ("We chose Flask over Django because ..."), voted with 👍 on their message. Each
use-case is one transaction; no Discord here.

The cog posts the decision's message first and records the decision with it: the decision
and its vote message are written together, so every recorded decision can be voted on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.advice import DecisionLine
from bot.core.comparison import ToolRef
from bot.core.text import one_line
from bot.core.voting import UP, Option
from bot.errors import InvalidInput
from db.engine import SessionFactory
from db.models import Decision, Tool, Vote, VoteMessage, VoteOption, VoteTarget
from db.reaction_votes import register_vote_message
from db.types import utcnow

REASON_MIN = 10
REASON_MAX = 1000


def checked_reason(why: str) -> str:
    """The reason on one line, if it says enough and not too much."""
    reason = one_line(why)
    if len(reason) < REASON_MIN:
        raise InvalidInput(
            f"Say why in at least {REASON_MIN} characters: the reason is what others learn from."
        )
    if len(reason) > REASON_MAX:
        raise InvalidInput(f"Keep the reason to {REASON_MAX} characters (it has {len(reason)}).")
    return reason


def check_pair(chosen_id: int, over_id: int) -> None:
    if chosen_id == over_id:
        raise InvalidInput(
            "A decision is between two different tools: name the one you passed over."
        )


@dataclass(frozen=True)
class NewDecision:
    guild_id: int
    member_id: int
    chosen_tool_id: int
    over_tool_id: int
    reason: str
    channel_id: int
    message_id: int


def _line(decision: Decision, refs: dict[int, ToolRef]) -> DecisionLine:
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


async def _refs(session: AsyncSession, tool_ids: list[int]) -> dict[int, ToolRef]:
    rows = await session.exec(
        select(Tool.id, Tool.slug, Tool.name).where(Tool.id.in_(tool_ids))  # type: ignore[union-attr]
    )
    return {row.id: ToolRef(row.id, row.slug, row.name) for row in rows.all()}


class DecisionService:
    def __init__(
        self, session_factory: SessionFactory, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._sessions = session_factory
        self._clock = clock

    async def record(self, new: NewDecision) -> DecisionLine:
        """Record a posted decision; from now on its message's 👍 (but the author's) are votes."""
        reason = checked_reason(new.reason)
        check_pair(new.chosen_tool_id, new.over_tool_id)
        async with self._sessions() as session, session.begin():
            refs = await _refs(session, [new.chosen_tool_id, new.over_tool_id])
            if len(refs) < 2:
                raise InvalidInput("One of those tools has just left the catalog; try again.")
            decision = Decision(
                guild_id=new.guild_id,
                member_id=new.member_id,
                chosen_tool_id=new.chosen_tool_id,
                over_tool_id=new.over_tool_id,
                reason=reason,
                channel_id=new.channel_id,
                message_id=new.message_id,
                created_at=self._clock(),
            )
            session.add(decision)
            await session.flush()
            await register_vote_message(
                session,
                message_id=new.message_id,
                channel_id=new.channel_id,
                guild_id=new.guild_id,
                kind=VoteTarget.DECISION,
                options=[Option(UP, decision.id or 0, 1)],
                excluded_member_id=new.member_id,
            )
            return _line(decision, refs)

    async def decision(self, decision_id: int) -> DecisionLine | None:
        """A decision with its 👍 as counted now."""
        async with self._sessions() as session:
            decision = await session.get(Decision, decision_id)
            if decision is None:
                return None
            tool_ids = [decision.chosen_tool_id]
            if decision.over_tool_id is not None:
                tool_ids.append(decision.over_tool_id)
            refs = await _refs(session, tool_ids)
            if decision.chosen_tool_id not in refs:
                return None
            return _line(decision, refs)

    async def withdraw(self, message_ids: Iterable[int]) -> list[int]:
        """Messages are gone: the decisions they were go too, with their votes. Returns those
        decisions' ids. Most deleted messages are not decisions': they cost one read."""
        ids = sorted(set(message_ids))
        if not ids:
            return []
        async with self._sessions() as session:
            found = (
                await session.exec(
                    select(VoteMessage.message_id).where(
                        VoteMessage.message_id.in_(ids),  # type: ignore[attr-defined]
                        VoteMessage.target_kind == VoteTarget.DECISION.value,
                    )
                )
            ).all()
        if not found:
            return []
        async with self._sessions() as session, session.begin():
            if session.bind.dialect.name == "postgresql":
                # Held as vote batches hold them: a batch in flight on these messages commits
                # first, and a later one finds them gone.
                await session.exec(
                    select(VoteMessage.message_id)
                    .where(VoteMessage.message_id.in_(found))  # type: ignore[attr-defined]
                    .order_by(VoteMessage.message_id)
                    .with_for_update()
                )
            decision_ids = sorted(
                (
                    await session.exec(
                        select(VoteOption.target_id).where(
                            VoteOption.message_id.in_(found)  # type: ignore[attr-defined]
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
                delete(VoteMessage).where(VoteMessage.message_id.in_(found))  # type: ignore[attr-defined]
            )
            await session.exec(
                delete(Decision).where(Decision.id.in_(decision_ids))  # type: ignore[union-attr]
            )
            return decision_ids
