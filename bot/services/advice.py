"""Advice posts: opening, recommending, closing with a verdict, listing, and the advice figures
of /compare and /tool. Each use-case is one transaction; no Discord here. A server's settings
are the guild settings service's; decisions are read and written through the decisions side.

Discord calls happen between these calls, never inside them: the cog creates the thread, then
records the post; posts the recommendation, then attaches its message.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.advice import (
    CLOSED,
    LIST_PAGE_SIZE,
    OPEN,
    AdviceFigures,
    AdviceListItem,
    AdvicePage,
    AdviceSummary,
    NewPost,
    RecommendationLine,
    ToolAdvice,
    may_close,
    verdict_tool,
)
from bot.core.comparison import ToolRef
from bot.core.privacy import FORMER_MEMBER_ID
from bot.core.schedule import PostClock, PostWork
from bot.core.voting import DOWN, UP, Option, VoteTarget
from bot.errors import InvalidInput, NotAllowed
from bot.services.guild_settings import read_config
from db import advice as queries
from db.decisions import add_post_decision, latest_decisions
from db.engine import SessionFactory
from db.models import AdvicePost, Recommendation
from db.reaction_votes import register_vote_message
from db.tool_queries import record_comparison, tool_refs
from db.types import utcnow

DECISIONS_SHOWN = 3


class NotAnAdvicePost(InvalidInput):
    def __init__(self) -> None:
        super().__init__(
            "This is not an advice post. Run this inside a post opened with `/advice ask`."
        )


class PostClosed(InvalidInput):
    def __init__(self) -> None:
        super().__init__(
            "This advice post is closed; its verdict is in. Ask again with `/advice ask`."
        )


async def _post_in_thread(
    session: AsyncSession, thread_id: int, *, lock: bool = False
) -> AdvicePost:
    post = await queries.post_in_thread(session, thread_id, lock=lock)
    if post is None:
        raise NotAnAdvicePost()
    return post


async def _may_close(
    session: AsyncSession,
    post: AdvicePost,
    closer_id: int,
    may_manage_threads: bool,
    closer_role_ids: Sequence[int],
) -> None:
    if post.status != OPEN:
        raise InvalidInput("This advice post is already closed.")
    allowed = may_close(
        asker_id=post.asker_id,
        closer_id=closer_id,
        may_manage_threads=may_manage_threads,
        closer_role_ids=closer_role_ids,
        closer_role_id=(await read_config(session, post.guild_id)).closer_role_id,
    )
    if not allowed:
        raise NotAllowed(
            "Only the member who asked, or someone with Manage Threads, can close this post."
        )


def _accepted(summary: AdviceSummary, tool_id: int) -> RecommendationLine:
    """The best-ranked recommendation of the accepted tool."""
    found = next((r for r in summary.recommendations if r.tool.id == tool_id), None)
    if found is None:
        names = ", ".join(dict.fromkeys(r.tool.name for r in summary.recommendations))
        raise InvalidInput(
            "Accept one of the tools recommended here"
            + (f": {names}." if names else "; nobody has recommended one yet.")
        )
    return found


async def _close(
    session: AsyncSession, post: AdvicePost, accepted_tool_id: int | None, now: datetime
) -> AdviceSummary:
    """Close a post locked by the caller: its votes, its verdict, the asker's decision."""
    # Votes close first: this waits for a batch of votes in flight (it holds the vote
    # messages), and any later batch finds the post closed, so the ranking read next is the
    # final one.
    await queries.close_post_votes(session, post.id or 0)
    before = await queries.post_summary(session, post)
    accepted = None
    if accepted_tool_id is not None:
        accepted = _accepted(before, accepted_tool_id)
    verdict = verdict_tool(accepted.tool if accepted else None, before.recommendations)
    post.status = CLOSED
    post.closed_at = now
    post.last_activity_at = now
    post.accepted_tool_id = accepted.tool.id if accepted else None
    post.verdict_tool_id = verdict.id if verdict else None
    # A decision is a member's own record ("I chose Flask"); a former member has none, as
    # forgetting deleted theirs. The post keeps its accepted tool and verdict all the same.
    if accepted is not None and post.asker_id != FORMER_MEMBER_ID:
        others = [t for t in before.tools if t.id != accepted.tool.id]
        add_post_decision(
            session,
            guild_id=post.guild_id,
            member_id=post.asker_id,
            chosen_tool_id=accepted.tool.id,
            over_tool_id=others[0].id if others else None,
            reason=accepted.reason,
            advice_post_id=post.id or 0,
            thread_id=post.thread_id,
            now=now,
        )
    await session.flush()
    return await queries.post_summary(session, post)


def _idle_clock(post: AdvicePost, idle_days: int) -> PostClock:
    """The post's clock, asked only whether its close is due: reminders do not matter here,
    so it counts as recommended."""
    return PostClock(
        post_id=post.id or 0,
        guild_id=post.guild_id,
        created_at=post.created_at,
        last_activity_at=post.last_activity_at,
        idle_days=idle_days,
        has_recommendation=True,
        reminder_sent_at=post.reminder_sent_at,
        idle_warning_sent_at=post.idle_warning_sent_at,
    )


class AdviceService:
    def __init__(
        self, session_factory: SessionFactory, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._sessions = session_factory
        self._clock = clock

    # -- posts ----------------------------------------------------------------------------

    async def open_post(self, new: NewPost) -> AdviceSummary:
        now = self._clock()
        tool_ids = list(dict.fromkeys(new.tool_ids))
        async with self._sessions() as session, session.begin():
            post = await queries.add_post(session, new, tool_ids=tool_ids, now=now)
            if len(tool_ids) >= 2:
                await record_comparison(
                    session, guild_id=new.guild_id, tool_ids=tool_ids, now=now, asked=True
                )
            return await queries.post_summary(session, post)

    async def post_in_thread(self, thread_id: int) -> AdviceSummary | None:
        async with self._sessions() as session:
            post = await queries.post_in_thread(session, thread_id)
            return None if post is None else await queries.post_summary(session, post)

    async def summary(self, post_id: int) -> AdviceSummary | None:
        async with self._sessions() as session:
            post = await session.get(AdvicePost, post_id)
            return None if post is None else await queries.post_summary(session, post)

    # -- recommendations -----------------------------------------------------------------

    async def recommend(
        self, *, thread_id: int, member_id: int, tool_id: int, reason: str
    ) -> tuple[AdviceSummary, RecommendationLine]:
        """Record a recommendation (its message comes next, with `attach_message`)."""
        now = self._clock()
        try:
            async with self._sessions() as session, session.begin():
                post = await _post_in_thread(session, thread_id)
                if post.status != OPEN:
                    raise PostClosed()
                recommendation = Recommendation(
                    post_id=post.id,
                    tool_id=tool_id,
                    member_id=member_id,
                    reason=reason,
                    created_at=now,
                )
                session.add(recommendation)
                await session.flush()
                post.last_activity_at = now
                summary = await queries.post_summary(session, post)
        except IntegrityError:
            raise InvalidInput(
                "You already recommended that tool in this post; members vote on it there."
            ) from None
        line = next(r for r in summary.recommendations if r.id == recommendation.id)
        return summary, line

    async def attach_message(
        self, recommendation_id: int, *, guild_id: int, channel_id: int, message_id: int
    ) -> None:
        """The recommendation's message is out: its 👍 and 👎 now count as votes on it."""
        async with self._sessions() as session, session.begin():
            recommendation = await session.get(Recommendation, recommendation_id)
            if recommendation is None:
                return
            recommendation.message_id = message_id
            await register_vote_message(
                session,
                message_id=message_id,
                channel_id=channel_id,
                guild_id=guild_id,
                kind=VoteTarget.RECOMMENDATION,
                options=[Option(UP, recommendation_id, 1), Option(DOWN, recommendation_id, -1)],
                excluded_member_id=recommendation.member_id,
            )

    async def withdraw_recommendation(
        self, recommendation_id: int | None = None, *, message_id: int | None = None
    ) -> int | None:
        """Remove a recommendation, by id or by its message, and its votes (its message
        failed or was deleted); the id of its post, if there was one."""
        async with self._sessions() as session, session.begin():
            if message_id is not None:
                recommendation = await queries.recommendation_by_message(session, message_id)
            else:
                recommendation = await session.get(Recommendation, recommendation_id)
            if recommendation is None:
                return None
            await queries.remove_recommendation(session, recommendation)
            return recommendation.post_id

    # -- closing --------------------------------------------------------------------------

    async def check_close(
        self,
        *,
        thread_id: int,
        closer_id: int,
        may_manage_threads: bool,
        closer_role_ids: Sequence[int] = (),
        accepted_tool_id: int | None = None,
    ) -> None:
        """What `close` would refuse, checked without writing (so the refusal can be private
        before the verdict is deferred publicly)."""
        async with self._sessions() as session:
            post = await _post_in_thread(session, thread_id)
            await _may_close(session, post, closer_id, may_manage_threads, closer_role_ids)
            if accepted_tool_id is not None:
                _accepted(await queries.post_summary(session, post), accepted_tool_id)

    async def close(
        self,
        *,
        thread_id: int,
        closer_id: int,
        may_manage_threads: bool,
        closer_role_ids: Sequence[int] = (),
        accepted_tool_id: int | None = None,
    ) -> AdviceSummary:
        """Close the post with its verdict; an accepted tool becomes the asker's decision
        (unless the asker is a former member)."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            # Locked: of two closes at once, the second sees the first's verdict.
            post = await _post_in_thread(session, thread_id, lock=True)
            await _may_close(session, post, closer_id, may_manage_threads, closer_role_ids)
            # The verdict goes out as the command's answer, told to the closer if it fails.
            post.verdict_posted_at = now
            return await _close(session, post, accepted_tool_id, now)

    async def close_idle(self, post_id: int) -> AdviceSummary | None:
        """Close the post with its verdict if it is still open, idle for its guild's
        `idle_days` and its asker was warned in time; None if not (closed already, by anyone,
        or active since): closing twice does nothing."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            post = await queries.locked_post(session, post_id)
            if post is None or post.status != OPEN:
                return None
            config = await read_config(session, post.guild_id)
            if PostWork.CLOSE not in _idle_clock(post, config.idle_days).due_work(now):
                return None  # active since, or the asker not warned in time yet
            if not await queries.claim_close(session, post_id):
                return None
            return await _close(session, post, None, now)

    async def thread_gone(self, thread_id: int) -> int | None:
        """The post's thread was deleted: the post is closed without a verdict, its votes
        stop counting. The post's id, if the thread was one."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            post = await queries.post_in_thread(session, thread_id)
            if post is None or post.status != OPEN:
                return None
            await queries.close_post_votes(session, post.id or 0)
            post.status = CLOSED
            post.closed_at = now
            post.verdict_posted_at = now  # no thread, no verdict to post
            return post.id

    async def verdict_posted(self, post_id: int) -> None:
        """An idle close's verdict went out (or never can): the sweep stops announcing it."""
        async with self._sessions() as session, session.begin():
            await queries.mark_verdict_posted(session, post_id, self._clock())

    # -- listing and figures --------------------------------------------------------------

    async def list_posts(
        self, *, guild_id: int, tool_id: int | None = None, status: str | None = None, page: int = 1
    ) -> AdvicePage:
        async with self._sessions() as session:
            found = await queries.post_page(
                session,
                guild_id=guild_id,
                tool_id=tool_id,
                status=status,
                page=page,
                page_size=LIST_PAGE_SIZE,
            )
            posts = found.posts
            ids = [p.id or 0 for p in posts]
            counts = await queries.recommendation_counts(session, ids)
            named = await queries.named_tools(session, ids)
            refs = await tool_refs(
                session,
                [
                    *(t for tools in named.values() for t in tools),
                    *(p.verdict_tool_id for p in posts if p.verdict_tool_id),
                    *([tool_id] if tool_id else []),
                ],
            )
        return AdvicePage(
            items=tuple(_list_item(p, counts, named, refs) for p in posts),
            page=found.page,
            pages=found.pages,
            total=found.total,
            tool=refs.get(tool_id) if tool_id else None,
            status=status,
        )

    async def figures(self, *, guild_id: int, tools: Sequence[ToolRef]) -> AdviceFigures:
        """How often this guild's advice posts named the tools, and what their verdicts chose."""
        ids = [t.id for t in tools]
        if not ids:
            return AdviceFigures()
        async with self._sessions() as session:
            named = await queries.times_named(session, guild_id, ids)
            won = await queries.times_won(session, guild_id, ids)
            together = await queries.verdicts_naming_together(session, guild_id, ids)
            decisions = await latest_decisions(
                session, guild_id=guild_id, tool_ids=ids, limit=DECISIONS_SHOWN
            )
        by_id = {t.id: t for t in tools}
        wins = Counter(verdict for _, verdict in together if verdict in by_id)
        return AdviceFigures(
            decisions=decisions,
            tools=tuple(
                ToolAdvice(tool, named=named.get(tool.id, 0), won=won.get(tool.id, 0))
                for tool in tools
            ),
            together=len(together),
            together_verdicts=tuple(
                (by_id[tool_id], count)
                for tool_id, count in sorted(wins.items(), key=lambda kv: (-kv[1], kv[0]))
            ),
        )


def _list_item(
    post: AdvicePost,
    counts: dict[int, int],
    named: dict[int, list[int]],
    refs: dict[int, ToolRef],
) -> AdviceListItem:
    return AdviceListItem(
        id=post.id or 0,
        guild_id=post.guild_id,
        thread_id=post.thread_id,
        title=post.title,
        asker_id=post.asker_id,
        created_at=post.created_at,
        status=post.status,
        recommendations=counts.get(post.id or 0, 0),
        tools=tuple(refs[t] for t in named.get(post.id or 0, []) if t in refs),
        verdict=refs.get(post.verdict_tool_id) if post.verdict_tool_id else None,
    )
