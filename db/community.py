"""Members' follows and stacks: one row per (guild, member, tool), with the tool's tallies moved
in the same transaction. Race-safe the same way as votes: conflicting inserts are ignored,
removals are DELETE ... RETURNING, so a tally moves only for a row that really changed.
Also the reads behind /stack and /following, and members' mention preference."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.community import StackTool
from bot.core.comparison import ToolRef
from db.models import Category, Follow, MemberPreference, StackEntry, Tool, ToolTally
from db.tallies import TallyField, dialect_insert, move_tally
from db.types import utcnow

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


# ---------------------------------------------------------------- reads for /stack and /follow


@dataclass(frozen=True)
class ToolRow:
    """A tool as the community commands show it: named, in its category."""

    tool_id: int
    slug: str
    name: str
    category: str

    def stack_tool(self) -> StackTool:
        return StackTool(ToolRef(self.tool_id, self.slug, self.name), self.category)


def _tools_of(model: type[Follow] | type[StackEntry], guild_id: int, member_id: int):
    return (
        select(Tool.id, Tool.slug, Tool.name, Category.name)
        .join(model, model.tool_id == Tool.id)  # type: ignore[arg-type]
        .join(Category, Category.id == Tool.category_id)  # type: ignore[arg-type]
        .where(model.guild_id == guild_id, model.member_id == member_id)
        .order_by(Category.name, Tool.name, Tool.id)
    )


async def stack_of(session: AsyncSession, *, guild_id: int, member_id: int) -> list[ToolRow]:
    """The tools a member uses in one guild, by category then name."""
    rows = await session.exec(_tools_of(StackEntry, guild_id, member_id))
    return [ToolRow(*row) for row in rows.all()]


async def follows_of(session: AsyncSession, *, guild_id: int, member_id: int) -> list[ToolRow]:
    """The tools a member follows in one guild, by category then name."""
    rows = await session.exec(_tools_of(Follow, guild_id, member_id))
    return [ToolRow(*row) for row in rows.all()]


async def most_stacked(
    session: AsyncSession, *, guild_id: int, limit: int
) -> tuple[list[tuple[ToolRow, int]], int]:
    """A guild's most used tools with how many of its members use each (from the tallies, not
    a count over the stacks), and how many tools its members use in all."""
    ranked = await session.exec(
        select(Tool.id, Tool.slug, Tool.name, Category.name, ToolTally.stacks)
        .join(Tool, Tool.id == ToolTally.tool_id)  # type: ignore[arg-type]
        .join(Category, Category.id == Tool.category_id)  # type: ignore[arg-type]
        .where(ToolTally.guild_id == guild_id, ToolTally.stacks > 0)
        .order_by(ToolTally.stacks.desc(), Tool.name, Tool.id)  # type: ignore[attr-defined]
        .limit(limit)
    )
    tools = [(ToolRow(*row[:4]), row[4]) for row in ranked.all()]
    total = await session.exec(
        select(func.count())
        .select_from(ToolTally)
        .where(ToolTally.guild_id == guild_id, ToolTally.stacks > 0)
    )
    return tools, total.one()


async def stacking_members(session: AsyncSession, *, guild_id: int) -> int:
    """How many members of a guild have put at least one tool in their stack."""
    counted = await session.exec(
        select(func.count(func.distinct(StackEntry.member_id))).where(
            StackEntry.guild_id == guild_id
        )
    )
    return counted.one()


async def mention_in_posts(session: AsyncSession, *, guild_id: int, member_id: int) -> bool:
    preference = await session.get(MemberPreference, (guild_id, member_id))
    return preference is not None and preference.mention_in_posts


async def set_mention_in_posts(
    session: AsyncSession, *, guild_id: int, member_id: int, value: bool
) -> None:
    statement = dialect_insert(session)(MemberPreference).values(
        guild_id=guild_id, member_id=member_id, mention_in_posts=value, updated_at=utcnow()
    )
    await session.exec(
        statement.on_conflict_do_update(
            index_elements=["guild_id", "member_id"],
            set_={"mention_in_posts": value, "updated_at": statement.excluded.updated_at},
        )
    )


async def followers_of(
    session: AsyncSession,
    *,
    guild_id: int,
    tool_ids: Iterable[int],
    excluded_member_id: int,
    limit: int,
    opted_in_only: bool = False,
) -> list[tuple[int, bool]]:
    """Members of a guild following any of the tools, once each, with their `mention_in_posts`
    preference (only those who opted in, if asked): the longest-standing followers first, at
    most `limit` of them."""
    wanted = list(dict.fromkeys(tool_ids))
    if not wanted:
        return []
    statement = (
        select(Follow.member_id, func.coalesce(MemberPreference.mention_in_posts, False))
        .outerjoin(
            MemberPreference,
            (MemberPreference.guild_id == Follow.guild_id)  # type: ignore[arg-type]
            & (MemberPreference.member_id == Follow.member_id),
        )
        .where(
            Follow.guild_id == guild_id,
            Follow.tool_id.in_(wanted),  # type: ignore[attr-defined]
            Follow.member_id != excluded_member_id,
        )
        .group_by(Follow.member_id, MemberPreference.mention_in_posts)
        .order_by(func.min(Follow.id))
        .limit(limit)
    )
    if opted_in_only:
        statement = statement.where(MemberPreference.mention_in_posts)
    rows = await session.exec(statement)
    return [(member_id, bool(mention)) for member_id, mention in rows.all()]
