"""Stacks and follows: what members use and follow in a guild, their mention preference, and
who to tell about a new advice post. Each use-case is one transaction; no Discord here.

Everything is per guild: every read and write carries the guild's id, so a member's stack or
follows in one server never show in another.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.community import (
    Follower,
    Following,
    FollowResult,
    MemberStack,
    RankedTool,
    ServerStack,
    StackChange,
    StackTool,
)
from bot.core.comparison import ToolRef
from bot.services.compare import ToolsGone
from db import community
from db.community import ToolRow
from db.engine import SessionFactory
from db.models import Tool

# However many members follow a post's tools, at most this many are told about it, so one
# popular tool cannot turn a post into hundreds of DMs.
MAX_FOLLOWERS_TOLD = 200
SERVER_STACK_SHOWN = 30


def _stack_tool(row: ToolRow) -> StackTool:
    return StackTool(ToolRef(row.tool_id, row.slug, row.name), row.category)


async def _catalog_refs(session: AsyncSession, tool_ids: Sequence[int]) -> list[ToolRef]:
    """The tools still in the catalog, in id order: the resolver's index may be a few seconds
    behind an import that removed some; none left is `ToolsGone`."""
    rows = await session.exec(
        select(Tool.id, Tool.slug, Tool.name).where(Tool.id.in_(sorted(set(tool_ids))))  # type: ignore[union-attr]
    )
    refs = sorted((ToolRef(*row) for row in rows.all()), key=lambda ref: ref.id)
    if not refs:
        raise ToolsGone()
    return refs


class CommunityService:
    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    async def add_to_stack(
        self, *, guild_id: int, member_id: int, tool_ids: Sequence[int]
    ) -> StackChange:
        async with self._sessions() as session, session.begin():
            refs = await _catalog_refs(session, tool_ids)
            # Id order: tally rows are shared by the guild's members, and two members locking
            # them in opposite orders would deadlock on PostgreSQL.
            added = set(
                await community.add_to_stack(
                    session, guild_id=guild_id, member_id=member_id, tool_ids=[r.id for r in refs]
                )
            )
        return _change(tool_ids, refs, added)

    async def remove_from_stack(
        self, *, guild_id: int, member_id: int, tool_ids: Sequence[int]
    ) -> StackChange:
        async with self._sessions() as session, session.begin():
            refs = await _catalog_refs(session, tool_ids)
            removed = set(
                await community.remove_from_stack(
                    session, guild_id=guild_id, member_id=member_id, tool_ids=[r.id for r in refs]
                )
            )
        return _change(tool_ids, refs, removed)

    async def member_stack(self, *, guild_id: int, member_id: int) -> MemberStack:
        async with self._sessions() as session:
            rows = await community.stack_of(session, guild_id=guild_id, member_id=member_id)
        return MemberStack(guild_id, member_id, tuple(_stack_tool(row) for row in rows))

    async def server_stack(self, *, guild_id: int, shown: int = SERVER_STACK_SHOWN) -> ServerStack:
        async with self._sessions() as session:
            ranked, total = await community.most_stacked(session, guild_id=guild_id, limit=shown)
            members = await community.stacking_members(session, guild_id=guild_id)
        return ServerStack(
            guild_id=guild_id,
            ranking=tuple(RankedTool(_stack_tool(row), count) for row, count in ranked),
            total_tools=total,
            members=members,
        )

    async def follow(
        self, *, guild_id: int, member_id: int, tool_id: int, mention_in_posts: bool | None = None
    ) -> FollowResult:
        """Follow a tool; `mention_in_posts`, when given, also sets the member's preference."""
        async with self._sessions() as session, session.begin():
            (ref,) = await _catalog_refs(session, [tool_id])
            added = await community.follow(
                session, guild_id=guild_id, member_id=member_id, tool_ids=[ref.id]
            )
            before = await community.mention_in_posts(
                session, guild_id=guild_id, member_id=member_id
            )
            if mention_in_posts is not None:
                await community.set_mention_in_posts(
                    session, guild_id=guild_id, member_id=member_id, value=mention_in_posts
                )
        now = before if mention_in_posts is None else mention_in_posts
        return FollowResult(
            tool=ref,
            newly_followed=bool(added),
            mention_in_posts=now,
            preference_changed=now != before,
        )

    async def unfollow(
        self, *, guild_id: int, member_id: int, tool_id: int
    ) -> tuple[ToolRef, bool]:
        """Stop following a tool; the tool, and whether the member was following it."""
        async with self._sessions() as session, session.begin():
            (ref,) = await _catalog_refs(session, [tool_id])
            gone = await community.unfollow(
                session, guild_id=guild_id, member_id=member_id, tool_ids=[ref.id]
            )
        return ref, bool(gone)

    async def following(self, *, guild_id: int, member_id: int) -> Following:
        async with self._sessions() as session:
            rows = await community.follows_of(session, guild_id=guild_id, member_id=member_id)
            mention = await community.mention_in_posts(
                session, guild_id=guild_id, member_id=member_id
            )
        return Following(tuple(_stack_tool(row) for row in rows), mention)

    async def followers_to_tell(
        self,
        *,
        guild_id: int,
        tool_ids: Sequence[int],
        asker_id: int,
        limit: int = MAX_FOLLOWERS_TOLD,
    ) -> tuple[Follower, ...]:
        """Who to tell about a new advice post: the guild's followers of any of its tools, once
        each, never the asker, at most `limit`. Read in one query; the caller sends the news
        after this returns, with no transaction open."""
        async with self._sessions() as session:
            rows = await community.followers_of(
                session,
                guild_id=guild_id,
                tool_ids=tool_ids,
                excluded_member_id=asker_id,
                limit=limit,
            )
        return tuple(Follower(member_id, mention) for member_id, mention in rows)


def _change(asked: Sequence[int], refs: Sequence[ToolRef], changed: set[int]) -> StackChange:
    """In the order the member named the tools."""
    by_id = {ref.id: ref for ref in refs}
    ordered = [by_id[tool_id] for tool_id in dict.fromkeys(asked) if tool_id in by_id]
    return StackChange(
        changed=tuple(ref for ref in ordered if ref.id in changed),
        unchanged=tuple(ref for ref in ordered if ref.id not in changed),
    )
