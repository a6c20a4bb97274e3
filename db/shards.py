"""Which rows belong to the guilds a process serves: those of its shards (`(guild_id >> 22) %
shard_count`), and not of a guild Stackup has left."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import literal_column, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import select

from bot.core.schedule import SHARD_SHIFT
from db.models import GuildDeparture


def on_shards(
    guild_column: Any, shard_ids: Sequence[int] | None, shard_count: int
) -> ColumnElement[bool]:
    """A filter on `guild_column` for the guilds of `shard_ids` (None: every guild)."""
    if shard_ids is None or shard_count <= 1:
        return true()
    # Literals: PostgreSQL has no bigint >> bigint, which bound parameters would make.
    shard = guild_column.op(">>")(literal_column(str(SHARD_SHIFT))).op("%")(
        literal_column(str(int(shard_count)))
    )
    return shard.in_(sorted({int(s) for s in shard_ids}))


def not_departed(guild_column: Any) -> ColumnElement[bool]:
    """A filter on `guild_column` leaving out the guilds Stackup has left. Nothing can be read
    or sent there (Discord answers 403 or 404) while the guild may still add the bot back and
    find its data as it was: a recount would withdraw its votes, an idle post would close with
    a verdict nobody sees, a digest would fail every week."""
    return guild_column.not_in(select(GuildDeparture.guild_id))
