"""Pros and cons: reading what a guild sees, adding one, merging a duplicate into another and
removing one, with vote rows, counters, tallies and voting messages kept in step in the
caller's transaction."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import aliased
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.comparison import Reason
from db.models import ProCon, Vote, VoteMessage, VoteOption, VoteTarget
from db.tallies import dialect_insert, move_tally
from db.tool_queries import REASON_COLUMNS, reason_of, visible_in
from db.types import utcnow

PRO_CON = VoteTarget.PRO_CON.value


async def add_reason(
    session: AsyncSession, *, tool_id: int, kind: str, text: str, author_id: int, guild_id: int
) -> int | None:
    """The new reason's id; None when the guild (or the catalog) already has this text."""
    inserted = await session.exec(
        dialect_insert(session)(ProCon)
        .values(
            tool_id=tool_id,
            kind=kind,
            text=text,
            author_id=author_id,
            guild_id=guild_id,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing()
        .returning(ProCon.id)
    )
    return inserted.scalar_one_or_none()


async def reasons_seen(
    session: AsyncSession, tool_id: int, kind: str, guild_id: int | None
) -> list[Reason]:
    """A tool's pros (or cons) as `guild_id` sees them, unranked."""
    rows = await session.exec(
        select(*REASON_COLUMNS).where(
            ProCon.tool_id == tool_id, ProCon.kind == kind, visible_in(guild_id)
        )
    )
    return [reason_of(row) for row in rows.all()]


async def reason_rows(session: AsyncSession, reason_ids: Iterable[int]) -> dict[int, Any]:
    """The reasons still there among `reason_ids`, by id, as rows of `REASON_COLUMNS`."""
    rows = await session.exec(
        select(*REASON_COLUMNS).where(
            ProCon.id.in_(reason_ids)  # type: ignore[union-attr]
        )
    )
    return {row.id: row for row in rows.all()}


async def hold_reasons(session: AsyncSession, reason_ids: Sequence[int]) -> set[int]:
    """Those of the reasons still there. On PostgreSQL they are held (FOR SHARE, in id order)
    until the transaction ends: a removal after this waits for the caller's commit."""
    statement = select(ProCon.id).where(
        ProCon.id.in_(reason_ids)  # type: ignore[union-attr]
    )
    if session.bind.dialect.name == "postgresql":
        statement = statement.order_by(ProCon.id).with_for_update(read=True)
    return set((await session.exec(statement)).scalars().all())


@dataclass(frozen=True)
class MergeResult:
    moved: int  # votes carried over to the kept reason
    dropped: int  # votes of members who had voted for both: they count once


def _pro_con_messages() -> object:
    return select(VoteMessage.message_id).where(VoteMessage.target_kind == PRO_CON)


def _messages_listing(reason_ids: list[int]) -> object:
    return select(VoteOption.message_id).where(
        VoteOption.target_id.in_(reason_ids),  # type: ignore[attr-defined]
        VoteOption.message_id.in_(_pro_con_messages()),  # type: ignore[attr-defined]
    )


async def lock_reasons(session: AsyncSession, reason_ids: list[int]) -> dict[int, ProCon]:
    """The reasons, held for a merge or a removal until the transaction ends. On PostgreSQL
    the voting messages listing them are locked first, in id order as vote batches lock them:
    a batch in flight on those messages commits before the change reads the votes, and a later
    one waits and then finds the options as the change left them. (SQLite has one writer.)"""
    ids = sorted(set(reason_ids))
    statement = select(ProCon).where(ProCon.id.in_(ids))  # type: ignore[union-attr]
    if session.bind.dialect.name == "postgresql":
        await session.exec(
            select(VoteMessage.message_id)
            .where(VoteMessage.message_id.in_(_messages_listing(ids)))  # type: ignore[attr-defined]
            .order_by(VoteMessage.message_id)
            .with_for_update()
        )
        statement = statement.order_by(ProCon.id).with_for_update()  # type: ignore[arg-type]
    found = await session.exec(statement)
    return {row.id: row for row in found.scalars().all()}  # type: ignore[misc]


async def open_messages_listing(
    session: AsyncSession, reason_ids: list[int], guild_id: int
) -> list[int]:
    """A guild's open voting messages that list any of these reasons (their counts change)."""
    found = await session.exec(
        select(VoteMessage.message_id).where(
            VoteMessage.message_id.in_(_messages_listing(reason_ids)),  # type: ignore[attr-defined]
            VoteMessage.guild_id == guild_id,
            VoteMessage.is_open.is_(True),  # type: ignore[attr-defined]
        )
    )
    return sorted(found.scalars().all())


async def release_votes_of(session: AsyncSession, message_ids: list[int]) -> None:
    """Messages closed: the votes they cast belong to no message any more, so a reaction taken
    away on another message listing the item still withdraws them."""
    if message_ids:
        await session.exec(
            update(Vote)
            .where(Vote.message_id.in_(message_ids))  # type: ignore[union-attr]
            .values(message_id=None)
        )


async def merge_reasons(session: AsyncSession, *, duplicate: ProCon, into: ProCon) -> MergeResult:
    """Join `duplicate` into `into` (same tool and kind): every voter of either keeps one vote
    on `into`; voting messages listing the duplicate now count for `into`."""
    moved = await _move_votes(session, duplicate, into)
    dropped = await _drop_votes(session, duplicate)
    await _count_merged_votes(session, into, moved, dropped)
    await _renumber_voting_messages(session, duplicate, into)
    await session.exec(delete(ProCon).where(ProCon.id == duplicate.id))
    return MergeResult(moved=sum(moved.values()), dropped=sum(dropped.values()))


async def _move_votes(session: AsyncSession, duplicate: ProCon, into: ProCon) -> Counter[int]:
    """The duplicate's votes of members who have none on `into` go to `into`; how many of
    each value moved."""
    other = aliased(Vote)
    moved = await session.exec(
        update(Vote)
        .where(
            Vote.target_kind == PRO_CON,
            Vote.target_id == duplicate.id,
            ~exists().where(
                other.target_kind == PRO_CON,
                other.target_id == into.id,
                other.member_id == Vote.member_id,
            ),
        )
        .values(target_id=into.id)
        .returning(Vote.value)
    )
    return Counter(moved.scalars().all())


async def _drop_votes(session: AsyncSession, duplicate: ProCon) -> Counter[int | None]:
    """The duplicate's votes left (their members voted on `into` already); how many per
    guild."""
    dropped = await session.exec(
        delete(Vote)
        .where(Vote.target_kind == PRO_CON, Vote.target_id == duplicate.id)
        .returning(Vote.guild_id)
    )
    return Counter(dropped.scalars().all())


async def _count_merged_votes(
    session: AsyncSession, into: ProCon, moved: Counter[int], dropped: Counter[int | None]
) -> None:
    await session.exec(
        update(ProCon)
        .where(ProCon.id == into.id)
        .values(
            up_count=ProCon.up_count + moved[1],
            down_count=ProCon.down_count + moved[-1],
        )
    )
    for guild_id, count in sorted(dropped.items(), key=lambda item: item[0] or 0):
        if guild_id is not None:
            await move_tally(
                session, tool_id=into.tool_id, guild_id=guild_id, field="votes", step=-count
            )


async def _renumber_voting_messages(session: AsyncSession, duplicate: ProCon, into: ProCon) -> None:
    # A message listing both keeps the kept item's number only: two numbers for one item
    # would let taking one reaction away withdraw a vote the other still shows. Elsewhere the
    # duplicate's number now counts for the kept item.
    listing_both = select(VoteOption.message_id).where(
        VoteOption.target_id == into.id,
        VoteOption.message_id.in_(_messages_listing([duplicate.id])),  # type: ignore[attr-defined]
    )
    # Votes those messages cast through the duplicate's number show no reaction for the kept
    # item there: owned by no message, no recount of theirs withdraws them.
    await session.exec(
        update(Vote)
        .where(
            Vote.target_kind == PRO_CON,
            Vote.target_id == into.id,
            Vote.message_id.in_(listing_both),  # type: ignore[union-attr]
        )
        .values(message_id=None)
    )
    await session.exec(
        delete(VoteOption).where(
            VoteOption.target_id == duplicate.id,
            VoteOption.message_id.in_(_pro_con_messages()),  # type: ignore[attr-defined]
            VoteOption.message_id.in_(listing_both),  # type: ignore[attr-defined]
        )
    )
    await session.exec(
        update(VoteOption)
        .where(
            VoteOption.target_id == duplicate.id,
            VoteOption.message_id.in_(_pro_con_messages()),  # type: ignore[attr-defined]
        )
        .values(target_id=into.id)
    )


async def remove_reason(session: AsyncSession, reason: ProCon) -> int:
    """Delete a reason with its votes (their tallies move back); returns how many votes went.
    Its numbers on voting messages stop counting."""
    dropped = await session.exec(
        delete(Vote)
        .where(Vote.target_kind == PRO_CON, Vote.target_id == reason.id)
        .returning(Vote.guild_id)
    )
    guilds = Counter(dropped.scalars().all())
    for guild_id, count in sorted(guilds.items(), key=lambda item: item[0] or 0):
        if guild_id is not None:
            await move_tally(
                session, tool_id=reason.tool_id, guild_id=guild_id, field="votes", step=-count
            )
    await session.exec(
        delete(VoteOption).where(
            VoteOption.target_id == reason.id,
            VoteOption.message_id.in_(_pro_con_messages()),  # type: ignore[attr-defined]
        )
    )
    await session.exec(delete(ProCon).where(ProCon.id == reason.id))
    return sum(guilds.values())


async def open_list_messages(
    session: AsyncSession, *, channel_id: int, tool_id: int, kind: str, page: int
) -> list[int]:
    """Open voting messages in a channel showing this page of this tool's pros (or cons)."""
    listing = (
        select(VoteOption.message_id)
        .join(ProCon, ProCon.id == VoteOption.target_id)
        .where(ProCon.tool_id == tool_id, ProCon.kind == kind)
    )
    found = await session.exec(
        select(VoteMessage.message_id).where(
            VoteMessage.channel_id == channel_id,
            VoteMessage.target_kind == PRO_CON,
            VoteMessage.page == page,
            VoteMessage.is_open.is_(True),  # type: ignore[attr-defined]
            VoteMessage.message_id.in_(listing),  # type: ignore[attr-defined]
        )
    )
    return sorted(found.scalars().all())
