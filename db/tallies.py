"""Per-guild tool tallies (stacks, followers, pro/con votes), moved by the writes that change
what they count, inside the caller's transaction."""

from __future__ import annotations

from typing import Literal

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import ToolTally

TallyField = Literal["stacks", "followers", "votes"]


def dialect_insert(session: AsyncSession):
    """The dialect's INSERT, which has ON CONFLICT on both SQLite and PostgreSQL."""
    return postgresql_insert if session.bind.dialect.name == "postgresql" else sqlite_insert


async def move_tally(
    session: AsyncSession, *, tool_id: int, guild_id: int, field: TallyField, step: int
) -> None:
    """Add `step` to one tally, creating its row on first use (a relative upsert, so two
    concurrent writers both count)."""
    column = getattr(ToolTally, field)
    statement = (
        dialect_insert(session)(ToolTally)
        .values(tool_id=tool_id, guild_id=guild_id, **{field: max(step, 0)})
        .on_conflict_do_update(index_elements=["tool_id", "guild_id"], set_={field: column + step})
    )
    await session.exec(statement)
