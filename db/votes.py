"""Votes as rows, with the targets' up/down counters changed in the same transaction.

Race-safe without locks held across anything slow: the insert ignores a conflict on
(target, member), a switch is a conditional UPDATE, a withdrawal a DELETE ... RETURNING, and
counters move by relative UPDATEs. Two events for the same member never make two rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, update
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import Decision, ProCon, Recommendation, Vote, VoteTarget
from db.tallies import dialect_insert, move_tally
from db.types import utcnow

COUNTED_TARGETS = {
    VoteTarget.PRO_CON: ProCon,
    VoteTarget.RECOMMENDATION: Recommendation,
    VoteTarget.DECISION: Decision,
}


class UnknownVoteTarget(LookupError):
    pass


@dataclass(frozen=True)
class VoteChange:
    """The member's vote before and after (None: no vote)."""

    before: int | None
    after: int | None

    @property
    def changed(self) -> bool:
        return self.before != self.after


def _counter(kind: VoteTarget, value: int) -> str:
    if value == 1:
        return "up_count"
    if kind is VoteTarget.DECISION:
        raise ValueError("decisions take only up-votes")
    return "down_count"


def _members_vote(kind: VoteTarget, target_id: int, member_id: int) -> tuple[Any, ...]:
    return (
        Vote.target_kind == kind.value,
        Vote.target_id == target_id,
        Vote.member_id == member_id,
    )


async def _move_counter(
    session: AsyncSession,
    kind: VoteTarget,
    target_id: int,
    value: int,
    step: int,
    *,
    guild_id: int | None = None,
) -> None:
    """Move the target's counter; a pro/con vote that appears or disappears (not a switch,
    `guild_id` given) also moves its tool's votes tally in that guild."""
    model = COUNTED_TARGETS[kind]
    column = getattr(model, _counter(kind, value))
    owner = model.tool_id if kind is VoteTarget.PRO_CON else model.id  # type: ignore[attr-defined]
    moved = await session.exec(
        update(model)
        .where(model.id == target_id)  # type: ignore[attr-defined]
        .values({column: column + step})
        .returning(owner)
    )
    tool_id = moved.scalar_one_or_none()
    if tool_id is None:
        # The caller's transaction rolls back, so no vote row is left without its target.
        raise UnknownVoteTarget(f"no {kind.value} with id {target_id}")
    if kind is VoteTarget.PRO_CON and guild_id is not None:
        await move_tally(session, tool_id=tool_id, guild_id=guild_id, field="votes", step=step)


async def cast_vote(
    session: AsyncSession,
    *,
    kind: VoteTarget,
    target_id: int,
    member_id: int,
    guild_id: int | None,
    value: int,
) -> VoteChange:
    """Add or switch a member's vote; call inside the caller's transaction."""
    if value not in (1, -1):
        raise ValueError("a vote is +1 or -1")
    _counter(kind, value)
    now = utcnow()
    inserted = await session.exec(
        dialect_insert(session)(Vote)
        .values(
            target_kind=kind.value,
            target_id=target_id,
            member_id=member_id,
            guild_id=guild_id,
            value=value,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["target_kind", "target_id", "member_id"])
        .returning(Vote.id)
    )
    if inserted.first() is not None:
        await _move_counter(session, kind, target_id, value, +1, guild_id=guild_id)
        return VoteChange(None, value)

    switched = await session.exec(
        update(Vote)
        .where(*_members_vote(kind, target_id, member_id), Vote.value != value)
        .values(value=value, updated_at=now)
        .returning(Vote.id)
    )
    if switched.first() is None:
        return VoteChange(value, value)
    await _move_counter(session, kind, target_id, -value, -1)
    await _move_counter(session, kind, target_id, value, +1)
    return VoteChange(-value, value)


async def withdraw_vote(
    session: AsyncSession, *, kind: VoteTarget, target_id: int, member_id: int
) -> VoteChange:
    removed = await session.exec(
        delete(Vote)
        .where(*_members_vote(kind, target_id, member_id))
        .returning(Vote.value, Vote.guild_id)
    )
    row = removed.first()
    if row is None:
        return VoteChange(None, None)
    before, guild_id = row
    await _move_counter(session, kind, target_id, before, -1, guild_id=guild_id)
    return VoteChange(before, None)
