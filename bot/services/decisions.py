"""Decisions ("We chose Flask over Django because ..."), voted with 👍 on their message. Each
use-case is one transaction; no Discord here.

The cog posts the decision's message first and records the decision with it: the decision
and its vote message are written together, so every recorded decision can be voted on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.core.decisions import DecisionLine, check_pair, checked_reason
from bot.errors import InvalidInput
from db.decisions import (
    add_decision,
    decision_by_id,
    decision_line,
    decision_messages,
    remove_decisions_of,
)
from db.engine import SessionFactory
from db.tool_queries import tool_refs
from db.types import utcnow


@dataclass(frozen=True)
class NewDecision:
    guild_id: int
    member_id: int
    chosen_tool_id: int
    over_tool_id: int
    reason: str
    channel_id: int
    message_id: int


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
            refs = await tool_refs(session, [new.chosen_tool_id, new.over_tool_id])
            if len(refs) < 2:
                raise InvalidInput("One of those tools has just left the catalog; try again.")
            decision = await add_decision(
                session,
                guild_id=new.guild_id,
                member_id=new.member_id,
                chosen_tool_id=new.chosen_tool_id,
                over_tool_id=new.over_tool_id,
                reason=reason,
                channel_id=new.channel_id,
                message_id=new.message_id,
                now=self._clock(),
            )
            return decision_line(decision, refs)

    async def decision(self, decision_id: int) -> DecisionLine | None:
        """A decision with its 👍 as counted now."""
        async with self._sessions() as session:
            return await decision_by_id(session, decision_id)

    async def withdraw(self, message_ids: Iterable[int]) -> list[int]:
        """Messages are gone: the decisions they were go too, with their votes. Returns those
        decisions' ids. Most deleted messages are not decisions': they cost one read."""
        ids = sorted(set(message_ids))
        if not ids:
            return []
        async with self._sessions() as session:
            found = await decision_messages(session, ids)
        if not found:
            return []
        async with self._sessions() as session, session.begin():
            return await remove_decisions_of(session, found)
