"""Members' follows and stacks: one row per (guild, member, tool), with the tool's tallies moved
in the same transaction. Race-safe the same way as votes: conflicting inserts are ignored,
removals are DELETE ... RETURNING, so a tally moves only for a row that really changed."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import Follow, StackEntry
from db.tallies import TallyField, dialect_insert, move_tally

_TABLES: dict[TallyField, type[Follow] | type[StackEntry]] = {
    "followers": Follow,
    "stacks": StackEntry,
}


async def _add(
    session: AsyncSession, field: TallyField, guild_id: int, member_id: int, tool_ids: Iterable[int]
) -> list[int]:
    model = _TABLES[field]
    added = []
    for tool_id in dict.fromkeys(tool_ids):
        inserted = await session.exec(
            dialect_insert(session)(model)
            .values(guild_id=guild_id, member_id=member_id, tool_id=tool_id)
            .on_conflict_do_nothing(index_elements=["guild_id", "member_id", "tool_id"])
            .returning(model.id)
        )
        if inserted.first() is not None:
            await move_tally(session, tool_id=tool_id, guild_id=guild_id, field=field, step=1)
            added.append(tool_id)
    return added


async def _remove(
    session: AsyncSession, field: TallyField, guild_id: int, member_id: int, tool_ids: Iterable[int]
) -> list[int]:
    model = _TABLES[field]
    wanted = list(dict.fromkeys(tool_ids))
    if not wanted:
        return []
    removed = await session.exec(
        delete(model)
        .where(
            model.guild_id == guild_id,
            model.member_id == member_id,
            model.tool_id.in_(wanted),  # type: ignore[attr-defined]
        )
        .returning(model.tool_id)
    )
    gone = sorted(removed.scalars().all())
    for tool_id in gone:
        await move_tally(session, tool_id=tool_id, guild_id=guild_id, field=field, step=-1)
    return gone


async def follow(
    session: AsyncSession, *, guild_id: int, member_id: int, tool_ids: Iterable[int]
) -> list[int]:
    """Follow tools; returns those newly followed."""
    return await _add(session, "followers", guild_id, member_id, tool_ids)


async def unfollow(
    session: AsyncSession, *, guild_id: int, member_id: int, tool_ids: Iterable[int]
) -> list[int]:
    """Stop following tools; returns those that were followed."""
    return await _remove(session, "followers", guild_id, member_id, tool_ids)


async def followed_among(
    session: AsyncSession, *, guild_id: int, member_id: int, tool_ids: Iterable[int]
) -> set[int]:
    rows = await session.exec(
        select(Follow.tool_id).where(
            Follow.guild_id == guild_id,
            Follow.member_id == member_id,
            Follow.tool_id.in_(list(tool_ids)),  # type: ignore[attr-defined]
        )
    )
    return set(rows.all())


async def add_to_stack(
    session: AsyncSession, *, guild_id: int, member_id: int, tool_ids: Iterable[int]
) -> list[int]:
    """Record that a member uses tools; returns those newly added."""
    return await _add(session, "stacks", guild_id, member_id, tool_ids)


async def remove_from_stack(
    session: AsyncSession, *, guild_id: int, member_id: int, tool_ids: Iterable[int]
) -> list[int]:
    return await _remove(session, "stacks", guild_id, member_id, tool_ids)
