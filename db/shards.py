"""Which rows belong to the guilds of a process's shards: `(guild_id >> 22) % shard_count`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import literal_column, true
from sqlalchemy.sql.elements import ColumnElement

from bot.core.schedule import SHARD_SHIFT


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
