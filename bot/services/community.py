"""Stacks: the tools members use in a guild, and the guild's most used. Each use-case is one
transaction; no Discord here. (Follows are `bot.services.follows`.)

Everything is per guild: every read and write carries the guild's id, so a member's stack in
one server never shows in another.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.community import (
    MemberStack,
    RankedTool,
    ServerStack,
    StackChange,
)
from bot.core.comparison import ToolRef
from bot.services.catalog import existing_refs
from db import community
from db.engine import SessionFactory

SERVER_STACK_SHOWN = 30


def _in_id_order(refs: Sequence[ToolRef]) -> list[int]:
    return sorted(ref.id for ref in refs)


class CommunityService:
    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    async def add_to_stack(
        self, *, guild_id: int, member_id: int, tool_ids: Sequence[int]
    ) -> StackChange:
        async with self._sessions() as session, session.begin():
            refs = await existing_refs(session, tool_ids)
            # Id order: tally rows are shared by the guild's members, and two members locking
            # them in opposite orders would deadlock on PostgreSQL.
            added = set(
                await community.add_to_stack(
                    session, guild_id=guild_id, member_id=member_id, tool_ids=_in_id_order(refs)
                )
            )
        return _change(tool_ids, refs, added)

    async def remove_from_stack(
        self, *, guild_id: int, member_id: int, tool_ids: Sequence[int]
    ) -> StackChange:
        async with self._sessions() as session, session.begin():
            refs = await existing_refs(session, tool_ids)
            removed = set(
                await community.remove_from_stack(
                    session, guild_id=guild_id, member_id=member_id, tool_ids=_in_id_order(refs)
                )
            )
        return _change(tool_ids, refs, removed)

    async def member_stack(self, *, guild_id: int, member_id: int) -> MemberStack:
        async with self._sessions() as session:
            rows = await community.stack_of(session, guild_id=guild_id, member_id=member_id)
        return MemberStack(guild_id, member_id, tuple(row.stack_tool() for row in rows))

    async def server_stack(self, *, guild_id: int, shown: int = SERVER_STACK_SHOWN) -> ServerStack:
        async with self._sessions() as session:
            ranked, total = await community.most_stacked(session, guild_id=guild_id, limit=shown)
            members = await community.stacking_members(session, guild_id=guild_id)
        return ServerStack(
            guild_id=guild_id,
            ranking=tuple(RankedTool(row.stack_tool(), count) for row, count in ranked),
            total_tools=total,
            members=members,
        )


def _change(asked: Sequence[int], refs: Sequence[ToolRef], changed: set[int]) -> StackChange:
    """In the order the member named the tools."""
    by_id = {ref.id: ref for ref in refs}
    ordered = [by_id[tool_id] for tool_id in dict.fromkeys(asked) if tool_id in by_id]
    return StackChange(
        changed=tuple(ref for ref in ordered if ref.id in changed),
        unchanged=tuple(ref for ref in ordered if ref.id not in changed),
    )
