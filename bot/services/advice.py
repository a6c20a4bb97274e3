"""Advice posts: guild settings, opening, recommending, closing with a verdict, listing, and the
advice figures of /compare and /tool. Each use-case is one transaction; no Discord here.

Discord calls happen between these calls, never inside them: the cog creates the thread, then
records the post; posts the recommendation, then attaches its message.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.advice import (
    CLOSED,
    IDLE_DAYS_RANGE,
    LIST_PAGE_SIZE,
    OPEN,
    AdviceFigures,
    AdviceListItem,
    AdvicePage,
    AdviceSummary,
    DecisionLine,
    GuildConfig,
    RecommendationLine,
    ToolAdvice,
    ranked,
    verdict_tool,
)
from bot.core.comparison import ToolRef
from bot.core.schedule import WEEKDAYS, PostClock, PostWork, check_timezone
from bot.core.voting import DOWN, UP, Option
from bot.errors import InvalidInput, NotAllowed
from db.engine import SessionFactory
from db.models import (
    AdvicePost,
    AdvicePostTool,
    Decision,
    GuildSettings,
    Recommendation,
    Tool,
    Vote,
    VoteMessage,
    VoteTarget,
)
from db.reaction_votes import close_vote_messages, register_vote_message
from db.scheduling import guild_config
from db.tool_queries import record_comparison
from db.types import utcnow

UNSET: Any = object()
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


@dataclass(frozen=True)
class NewPost:
    guild_id: int
    channel_id: int
    thread_id: int
    starter_message_id: int
    asker_id: int
    title: str
    question: str
    context: str
    tool_ids: tuple[int, ...]


async def _refs(session: AsyncSession, tool_ids: Sequence[int]) -> dict[int, ToolRef]:
    if not tool_ids:
        return {}
    rows = await session.exec(
        select(Tool.id, Tool.slug, Tool.name).where(Tool.id.in_(sorted(set(tool_ids))))  # type: ignore[union-attr]
    )
    return {row.id: ToolRef(row.id, row.slug, row.name) for row in rows.all()}


async def _named_tools(session: AsyncSession, post_ids: Sequence[int]) -> dict[int, list[int]]:
    """The tools each post named, in the order named."""
    named: dict[int, list[int]] = defaultdict(list)
    if post_ids:
        rows = await session.exec(
            select(AdvicePostTool.post_id, AdvicePostTool.tool_id)
            .where(AdvicePostTool.post_id.in_(post_ids))  # type: ignore[attr-defined]
            .order_by(AdvicePostTool.post_id, AdvicePostTool.position)
        )
        for post_id, tool_id in rows.all():
            named[post_id].append(tool_id)
    return named


async def _summary(session: AsyncSession, post: AdvicePost) -> AdviceSummary:
    tool_rows = (await _named_tools(session, [post.id or 0])).get(post.id or 0, [])
    recommendations = (
        await session.exec(select(Recommendation).where(Recommendation.post_id == post.id))
    ).all()
    named = list(tool_rows)
    refs = await _refs(
        session,
        [
            *named,
            *(r.tool_id for r in recommendations),
            *(t for t in (post.accepted_tool_id, post.verdict_tool_id) if t is not None),
        ],
    )
    lines = ranked(
        [
            RecommendationLine(
                id=r.id or 0,
                tool=refs[r.tool_id],
                member_id=r.member_id,
                reason=r.reason,
                up=r.up_count,
                down=r.down_count,
                created_at=r.created_at,
                message_id=r.message_id,
            )
            for r in recommendations
            if r.tool_id in refs
        ]
    )
    return AdviceSummary(
        id=post.id or 0,
        guild_id=post.guild_id,
        channel_id=post.channel_id,
        thread_id=post.thread_id,
        starter_message_id=post.starter_message_id,
        asker_id=post.asker_id,
        title=post.title,
        question=post.question,
        context=post.context,
        status=post.status,
        tools=tuple(refs[t] for t in named if t in refs),
        recommendations=tuple(lines),
        created_at=post.created_at,
        accepted=refs.get(post.accepted_tool_id) if post.accepted_tool_id else None,
        verdict=refs.get(post.verdict_tool_id) if post.verdict_tool_id else None,
        closed_at=post.closed_at,
    )


def _may_close(post: AdvicePost, closer_id: int, may_manage_threads: bool) -> None:
    if post.status != OPEN:
        raise InvalidInput("This advice post is already closed.")
    if closer_id != post.asker_id and not may_manage_threads:
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


async def _close_votes(session: AsyncSession, post_id: int) -> None:
    """The post's recommendations stop taking votes."""
    messages = await session.exec(
        select(Recommendation.message_id).where(
            Recommendation.post_id == post_id,
            Recommendation.message_id.is_not(None),  # type: ignore[union-attr]
        )
    )
    await close_vote_messages(session, sorted(messages.all()))


async def _close(
    session: AsyncSession, post: AdvicePost, accepted_tool_id: int | None, now: datetime
) -> AdviceSummary:
    """Close a post locked by the caller: its votes, its verdict, the asker's decision."""
    # Votes close first: this waits for a batch of votes in flight (it holds the vote
    # messages), and any later batch finds the post closed, so the ranking read next is the
    # final one.
    await _close_votes(session, post.id or 0)
    before = await _summary(session, post)
    accepted = None
    if accepted_tool_id is not None:
        accepted = _accepted(before, accepted_tool_id)
    verdict = verdict_tool(accepted.tool if accepted else None, before.recommendations)
    post.status = CLOSED
    post.closed_at = now
    post.last_activity_at = now
    post.accepted_tool_id = accepted.tool.id if accepted else None
    post.verdict_tool_id = verdict.id if verdict else None
    if accepted is not None:
        others = [t for t in before.tools if t.id != accepted.tool.id]
        session.add(
            Decision(
                guild_id=post.guild_id,
                member_id=post.asker_id,
                chosen_tool_id=accepted.tool.id,
                over_tool_id=others[0].id if others else None,
                reason=accepted.reason,
                advice_post_id=post.id,
                channel_id=post.thread_id,
                created_at=now,
            )
        )
    await session.flush()
    return await _summary(session, post)


async def _post_in_thread(
    session: AsyncSession, thread_id: int, *, lock: bool = False
) -> AdvicePost:
    statement = select(AdvicePost).where(AdvicePost.thread_id == thread_id)
    if lock:
        statement = statement.with_for_update()
    post = (await session.exec(statement)).first()
    if post is None:
        raise NotAnAdvicePost()
    return post


async def _counts(
    session: AsyncSession, column: Any, guild_column: Any, guild_id: int, ids: Sequence[int]
) -> dict[int, int]:
    """Rows per value of `column` among `ids`, in one guild."""
    rows = await session.exec(
        select(column, func.count())
        .where(guild_column == guild_id, column.in_(ids))
        .group_by(column)
    )
    return dict(rows.all())


class AdviceService:
    def __init__(
        self, session_factory: SessionFactory, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._sessions = session_factory
        self._clock = clock

    # -- guild settings -------------------------------------------------------------------

    async def settings(self, guild_id: int) -> GuildConfig:
        async with self._sessions() as session:
            return guild_config(await session.get(GuildSettings, guild_id), guild_id)

    async def configure(
        self,
        guild_id: int,
        *,
        advice_forum_id: int | None = UNSET,
        digest_channel_id: int | None = UNSET,
        idle_days: int = UNSET,
        digest_day: int = UNSET,
        digest_hour: int = UNSET,
        timezone: str = UNSET,
    ) -> GuildConfig:
        if idle_days is not UNSET and not IDLE_DAYS_RANGE[0] <= idle_days <= IDLE_DAYS_RANGE[1]:
            low, high = IDLE_DAYS_RANGE
            raise InvalidInput(f"Idle days must be between {low} and {high}.")
        if digest_day is not UNSET and not 0 <= digest_day < len(WEEKDAYS):
            raise InvalidInput("The digest day must be a day of the week.")
        if digest_hour is not UNSET and not 0 <= digest_hour <= 23:
            raise InvalidInput("The digest hour must be between 0 and 23.")
        if timezone is not UNSET:
            timezone = check_timezone(timezone)
        digest = {
            "digest_channel_id": digest_channel_id,
            "digest_day": digest_day,
            "digest_hour": digest_hour,
            "timezone": timezone,
        }
        async with self._sessions() as session, session.begin():
            row = await session.get(GuildSettings, guild_id, with_for_update=True)
            if row is None:
                row = GuildSettings(guild_id=guild_id)
                session.add(row)
            now = self._clock()
            if advice_forum_id is not UNSET:
                row.advice_forum_id = advice_forum_id
            if idle_days is not UNSET:
                row.idle_days = idle_days
            changed = {k: v for k, v in digest.items() if v is not UNSET and getattr(row, k) != v}
            for name, value in changed.items():
                setattr(row, name, value)
            if changed or (row.digest_channel_id and row.digest_set_at is None):
                # Digest moments before now were never asked for (see DigestSchedule.due).
                row.digest_set_at = now
            row.updated_at = now
        return guild_config(row, guild_id)

    # -- posts ----------------------------------------------------------------------------

    async def open_post(self, new: NewPost) -> AdviceSummary:
        now = self._clock()
        tool_ids = list(dict.fromkeys(new.tool_ids))
        async with self._sessions() as session, session.begin():
            post = AdvicePost(
                guild_id=new.guild_id,
                channel_id=new.channel_id,
                thread_id=new.thread_id,
                starter_message_id=new.starter_message_id,
                asker_id=new.asker_id,
                title=new.title,
                question=new.question,
                context=new.context,
                status=OPEN,
                created_at=now,
                last_activity_at=now,
            )
            session.add(post)
            await session.flush()
            session.add_all(
                AdvicePostTool(post_id=post.id, tool_id=tool_id, guild_id=new.guild_id, position=n)
                for n, tool_id in enumerate(tool_ids)
            )
            await session.flush()
            if len(tool_ids) >= 2:
                await record_comparison(
                    session, guild_id=new.guild_id, tool_ids=tool_ids, now=now, asked=True
                )
            return await _summary(session, post)

    async def post_in_thread(self, thread_id: int) -> AdviceSummary | None:
        async with self._sessions() as session:
            try:
                return await _summary(session, await _post_in_thread(session, thread_id))
            except NotAnAdvicePost:
                return None

    async def summary(self, post_id: int) -> AdviceSummary | None:
        async with self._sessions() as session:
            post = await session.get(AdvicePost, post_id)
            return None if post is None else await _summary(session, post)

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
                summary = await _summary(session, post)
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
                recommendation = (
                    await session.exec(
                        select(Recommendation).where(Recommendation.message_id == message_id)
                    )
                ).first()
            else:
                recommendation = await session.get(Recommendation, recommendation_id)
            if recommendation is None:
                return None
            await session.exec(
                delete(Vote).where(
                    Vote.target_kind == VoteTarget.RECOMMENDATION.value,
                    Vote.target_id == recommendation.id,
                )
            )
            if recommendation.message_id is not None:
                await session.exec(
                    delete(VoteMessage).where(VoteMessage.message_id == recommendation.message_id)
                )
            await session.delete(recommendation)
            return recommendation.post_id

    # -- closing --------------------------------------------------------------------------

    async def check_close(
        self,
        *,
        thread_id: int,
        closer_id: int,
        may_manage_threads: bool,
        accepted_tool_id: int | None = None,
    ) -> None:
        """What `close` would refuse, checked without writing (so the refusal can be private
        before the verdict is deferred publicly)."""
        async with self._sessions() as session:
            post = await _post_in_thread(session, thread_id)
            _may_close(post, closer_id, may_manage_threads)
            if accepted_tool_id is not None:
                _accepted(await _summary(session, post), accepted_tool_id)

    async def close(
        self,
        *,
        thread_id: int,
        closer_id: int,
        may_manage_threads: bool,
        accepted_tool_id: int | None = None,
    ) -> AdviceSummary:
        """Close the post with its verdict; an accepted tool becomes the asker's decision."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            # Locked: of two closes at once, the second sees the first's verdict.
            post = await _post_in_thread(session, thread_id, lock=True)
            _may_close(post, closer_id, may_manage_threads)
            # The verdict goes out as the command's answer, told to the closer if it fails.
            post.verdict_posted_at = now
            return await _close(session, post, accepted_tool_id, now)

    async def close_idle(self, post_id: int) -> AdviceSummary | None:
        """Close the post with its verdict if it is still open, idle for its guild's
        `idle_days` and its asker was warned in time; None if not (closed already, by anyone,
        or active since): closing twice does nothing."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            statement = select(AdvicePost).where(AdvicePost.id == post_id).with_for_update()
            post = (await session.exec(statement)).first()
            if post is None or post.status != OPEN:
                return None
            config = guild_config(await session.get(GuildSettings, post.guild_id), post.guild_id)
            clock = PostClock(
                post_id=post_id,
                guild_id=post.guild_id,
                created_at=post.created_at,
                last_activity_at=post.last_activity_at,
                idle_days=config.idle_days,
                has_recommendation=True,
                reminder_sent_at=post.reminder_sent_at,
                idle_warning_sent_at=post.idle_warning_sent_at,
            )
            if PostWork.CLOSE not in clock.due_work(now):
                return None  # active since, or the asker not warned in time yet
            # The claim: of two processes (or a sweep and a timer) closing at once, on
            # PostgreSQL and on SQLite alike, only the first write finds the post open.
            claimed = await session.exec(
                update(AdvicePost)
                .where(AdvicePost.id == post_id, AdvicePost.status == OPEN)
                .values(status=CLOSED)
                .returning(AdvicePost.id)
            )
            if claimed.first() is None:
                return None
            return await _close(session, post, None, now)

    async def thread_gone(self, thread_id: int) -> int | None:
        """The post's thread was deleted: the post is closed without a verdict, its votes
        stop counting. The post's id, if the thread was one."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            post = (
                await session.exec(select(AdvicePost).where(AdvicePost.thread_id == thread_id))
            ).first()
            if post is None or post.status != OPEN:
                return None
            await _close_votes(session, post.id or 0)
            post.status = CLOSED
            post.closed_at = now
            post.verdict_posted_at = now  # no thread, no verdict to post
            return post.id

    async def verdict_posted(self, post_id: int) -> None:
        """An idle close's verdict went out (or never can): the sweep stops announcing it."""
        async with self._sessions() as session, session.begin():
            await session.exec(
                update(AdvicePost)
                .where(AdvicePost.id == post_id, AdvicePost.verdict_posted_at.is_(None))  # type: ignore[union-attr]
                .values(verdict_posted_at=self._clock())
            )

    # -- listing and figures --------------------------------------------------------------

    async def list_posts(
        self, *, guild_id: int, tool_id: int | None = None, status: str | None = None, page: int = 1
    ) -> AdvicePage:
        async with self._sessions() as session:
            conditions = [AdvicePost.guild_id == guild_id]
            if status is not None:
                conditions.append(AdvicePost.status == status)
            if tool_id is not None:
                conditions.append(
                    AdvicePost.id.in_(  # type: ignore[union-attr]
                        select(AdvicePostTool.post_id).where(
                            AdvicePostTool.guild_id == guild_id, AdvicePostTool.tool_id == tool_id
                        )
                    )
                )
            total = (
                await session.exec(select(func.count()).select_from(AdvicePost).where(*conditions))
            ).one()
            pages = max(1, -(-total // LIST_PAGE_SIZE))
            page = min(max(page, 1), pages)
            rows = (
                await session.exec(
                    select(AdvicePost)
                    .where(*conditions)
                    .order_by(AdvicePost.created_at.desc(), AdvicePost.id.desc())  # type: ignore[attr-defined]
                    .offset((page - 1) * LIST_PAGE_SIZE)
                    .limit(LIST_PAGE_SIZE)
                )
            ).all()
            posts = list(rows)
            ids = [p.id for p in posts]
            counts: dict[int, int] = {}
            if ids:
                counted = await session.exec(
                    select(Recommendation.post_id, func.count())
                    .where(Recommendation.post_id.in_(ids))  # type: ignore[attr-defined]
                    .group_by(Recommendation.post_id)
                )
                counts = dict(counted.all())
            named = await _named_tools(session, ids)
            refs = await _refs(
                session,
                [
                    *(t for tools in named.values() for t in tools),
                    *(p.verdict_tool_id for p in posts if p.verdict_tool_id),
                    *([tool_id] if tool_id else []),
                ],
            )
        items = tuple(
            AdviceListItem(
                id=p.id or 0,
                guild_id=p.guild_id,
                thread_id=p.thread_id,
                title=p.title,
                asker_id=p.asker_id,
                created_at=p.created_at,
                status=p.status,
                recommendations=counts.get(p.id or 0, 0),
                tools=tuple(refs[t] for t in named.get(p.id or 0, []) if t in refs),
                verdict=refs.get(p.verdict_tool_id) if p.verdict_tool_id else None,
            )
            for p in posts
        )
        return AdvicePage(
            items=items,
            page=page,
            pages=pages,
            total=total,
            tool=refs.get(tool_id) if tool_id else None,
            status=status,
        )

    async def _latest_decisions(
        self, session: AsyncSession, guild_id: int, tool_ids: Sequence[int]
    ) -> tuple[DecisionLine, ...]:
        """The guild's newest decisions choosing one of the tools or choosing over one, with
        their 👍 as counted now."""
        posts_naming = select(AdvicePostTool.post_id).where(
            AdvicePostTool.guild_id == guild_id,
            AdvicePostTool.tool_id.in_(tool_ids),  # type: ignore[attr-defined]
        )
        rows = (
            await session.exec(
                select(Decision)
                .where(
                    Decision.guild_id == guild_id,
                    or_(
                        Decision.chosen_tool_id.in_(tool_ids),  # type: ignore[attr-defined]
                        Decision.over_tool_id.in_(tool_ids),  # type: ignore[union-attr]
                        Decision.advice_post_id.in_(posts_naming),  # type: ignore[union-attr]
                    ),
                )
                .order_by(Decision.created_at.desc(), Decision.id.desc())  # type: ignore[attr-defined]
                .limit(DECISIONS_SHOWN)
            )
        ).all()
        over = await _named_tools(session, [d.advice_post_id for d in rows if d.advice_post_id])
        refs = await _refs(
            session,
            [
                *(d.chosen_tool_id for d in rows),
                *(d.over_tool_id for d in rows if d.over_tool_id),
                *(t for named in over.values() for t in named),
            ],
        )
        lines = []
        for d in rows:
            if d.chosen_tool_id not in refs:
                continue
            others = over.get(d.advice_post_id or 0) or ([d.over_tool_id] if d.over_tool_id else [])
            lines.append(
                DecisionLine(
                    member_id=d.member_id,
                    chosen=refs[d.chosen_tool_id],
                    over=tuple(refs[t] for t in others if t in refs and t != d.chosen_tool_id),
                    created_at=d.created_at,
                    guild_id=d.guild_id,
                    # An advice post's decision lives in its thread; a /decision in its message.
                    thread_id=d.channel_id if d.message_id is None else None,
                    id=d.id or 0,
                    channel_id=d.channel_id,
                    message_id=d.message_id,
                    up=d.up_count,
                    reason=d.reason,
                )
            )
        return tuple(lines)

    async def figures(self, *, guild_id: int, tools: Sequence[ToolRef]) -> AdviceFigures:
        """How often this guild's advice posts named the tools, and what their verdicts chose."""
        ids = [t.id for t in tools]
        if not ids:
            return AdviceFigures()
        async with self._sessions() as session:
            named = await _counts(
                session, AdvicePostTool.tool_id, AdvicePostTool.guild_id, guild_id, ids
            )
            won = await _counts(
                session, AdvicePost.verdict_tool_id, AdvicePost.guild_id, guild_id, ids
            )
            together: list[tuple[int, int | None]] = []
            if len(ids) >= 2:
                shared = (
                    select(AdvicePostTool.post_id)
                    .where(
                        AdvicePostTool.guild_id == guild_id,
                        AdvicePostTool.tool_id.in_(ids),  # type: ignore[attr-defined]
                    )
                    .group_by(AdvicePostTool.post_id)
                    .having(func.count() >= 2)
                )
                together = list(
                    (
                        await session.exec(
                            select(AdvicePost.id, AdvicePost.verdict_tool_id).where(
                                AdvicePost.id.in_(shared)  # type: ignore[union-attr]
                            )
                        )
                    ).all()
                )
            decisions = await self._latest_decisions(session, guild_id, ids)
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
