"""Follows: the tools a member follows in a guild, their mention preference, and who to tell
about a new advice post. The single owner of follows, whether set from /follow, /unfollow or
the Follow button under a comparison. Each use-case is one transaction; no Discord here.

Everything is per guild: a member's follows in one server never show in another.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.community import FollowChange, Follower, Following, FollowResult
from bot.core.comparison import ToolRef
from bot.services.catalog import existing_refs
from db import community
from db.engine import SessionFactory

# However many members follow a post's tools, at most this many are told about it, so one
# popular tool cannot turn a post into hundreds of DMs.
MAX_FOLLOWERS_TOLD = 200


class FollowService:
    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    async def follow(
        self, *, guild_id: int, member_id: int, tool_id: int, mention_in_posts: bool | None = None
    ) -> FollowResult:
        """Follow a tool; `mention_in_posts`, when given, also sets the member's preference."""
        async with self._sessions() as session, session.begin():
            (ref,) = await existing_refs(session, [tool_id])
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
            (ref,) = await existing_refs(session, [tool_id])
            gone = await community.unfollow(
                session, guild_id=guild_id, member_id=member_id, tool_ids=[ref.id]
            )
        return ref, bool(gone)

    async def toggle(self, *, guild_id: int, member_id: int, tool_id: int) -> bool:
        """Follow the tool, or stop following it if the member did; True when now following.
        One transaction, so two quick clicks cannot both follow."""
        async with self._sessions() as session, session.begin():
            if await community.unfollow(
                session, guild_id=guild_id, member_id=member_id, tool_ids=[tool_id]
            ):
                return False
            await community.follow(
                session, guild_id=guild_id, member_id=member_id, tool_ids=[tool_id]
            )
        return True

    async def set_follows(
        self,
        *,
        guild_id: int,
        member_id: int,
        offered: Sequence[ToolRef],
        chosen: Sequence[int],
    ) -> FollowChange:
        """Among the tools offered, follow exactly those chosen."""
        chosen_ids = set(chosen)
        followed: list[int] = []
        unfollowed: list[int] = []
        async with self._sessions() as session, session.begin():
            # One pass in id order: tally rows are shared by the guild's members, and two
            # members locking them in opposite orders would deadlock on PostgreSQL.
            for tool_id in sorted({t.id for t in offered}):
                if tool_id in chosen_ids:
                    followed += await community.follow(
                        session, guild_id=guild_id, member_id=member_id, tool_ids=[tool_id]
                    )
                else:
                    unfollowed += await community.unfollow(
                        session, guild_id=guild_id, member_id=member_id, tool_ids=[tool_id]
                    )
            now = await community.followed_among(
                session, guild_id=guild_id, member_id=member_id, tool_ids=[t.id for t in offered]
            )
        return FollowChange(
            followed=tuple(t for t in offered if t.id in followed),
            unfollowed=tuple(t for t in offered if t.id in unfollowed),
            now_following=tuple(t for t in offered if t.id in now),
        )

    async def followed(self, *, guild_id: int, member_id: int, tool_ids: Sequence[int]) -> set[int]:
        """Which of these tools the member follows."""
        async with self._sessions() as session:
            return await community.followed_among(
                session, guild_id=guild_id, member_id=member_id, tool_ids=tool_ids
            )

    async def following(self, *, guild_id: int, member_id: int) -> Following:
        async with self._sessions() as session:
            rows = await community.follows_of(session, guild_id=guild_id, member_id=member_id)
            mention = await community.mention_in_posts(
                session, guild_id=guild_id, member_id=member_id
            )
        return Following(tuple(row.stack_tool() for row in rows), mention)

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
