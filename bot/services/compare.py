"""Comparison use-cases: load tool cards from stored counters, record comparisons for "Related
comparisons", list pros/cons and alternatives, set follows. No Discord here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.comparison import (
    Alternative,
    Comparison,
    ExternalFigure,
    MemberFigures,
    Reason,
    RelatedComparison,
    ToolAlternatives,
    ToolCard,
    ToolReasons,
    ToolRef,
    ranked,
)
from bot.errors import InvalidInput
from db import community
from db.engine import SessionFactory
from db.models import Category, ReasonKind, Tool
from db.tool_queries import (
    TallyTotals,
    aliases_of,
    alternatives_of,
    external_stats_of,
    integrations_of,
    pros_cons_of,
    record_comparison,
    related_comparisons,
    tallies_of,
    tools_with_categories,
)
from db.types import utcnow

MAX_COMPARED = 5


class ToolsGone(InvalidInput):
    """Tools named by an old button were removed from the catalog since."""

    def __init__(self) -> None:
        super().__init__("Those tools are no longer in the catalog; run the command again.")


@dataclass(frozen=True)
class FollowChange:
    followed: tuple[ToolRef, ...]
    unfollowed: tuple[ToolRef, ...]
    now_following: tuple[ToolRef, ...]


def _reason(row: Any) -> Reason:
    """From a pros_cons row (columns named as on ProCon)."""
    return Reason(
        id=row.id or 0,
        text=row.text,
        up=row.up_count,
        down=row.down_count,
        imported=row.imported_count,
        imported_source=row.imported_source,
        imported_as_of=row.imported_as_of,
    )


def _pros_and_cons(rows: Sequence[Any]) -> tuple[tuple[Reason, ...], tuple[Reason, ...]]:
    """A tool's pros and cons, each ranked."""
    pros = ranked([_reason(row) for row in rows if row.kind == ReasonKind.PRO])
    cons = ranked([_reason(row) for row in rows if row.kind == ReasonKind.CON])
    return tuple(pros), tuple(cons)


def _ref(tool: Tool) -> ToolRef:
    return ToolRef(tool.id or 0, tool.slug, tool.name)


async def _existing(
    session: AsyncSession, tool_ids: Sequence[int]
) -> tuple[list[int], dict[int, tuple[Tool, Category]]]:
    """The ids still in the catalog, in the order given, without repeats, with their rows;
    `ToolsGone` when none is (an old button may name tools removed since)."""
    wanted = list(dict.fromkeys(tool_ids))
    tools = await tools_with_categories(session, wanted)
    ids = [tool_id for tool_id in wanted if tool_id in tools]
    if not ids:
        raise ToolsGone()
    return ids, tools


class CompareService:
    def __init__(
        self, session_factory: SessionFactory, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._sessions = session_factory
        self._clock = clock

    async def compare(self, tool_ids: Sequence[int], *, guild_id: int | None) -> Comparison:
        """The tools side by side, in the order given (tools removed from the catalog since
        are left out), with this guild's related comparisons. Reads only: the run itself is
        counted by `record_run` once the answer is out, so no answer waits on a write."""
        now = self._clock()
        async with self._sessions() as session:
            ids, found = await _existing(session, tool_ids)
            cards = await self._cards(session, ids, found, guild_id, full=False)
            related: list[RelatedComparison] = []
            if guild_id is not None and len(ids) >= 2:
                for refs, runs, asks in await related_comparisons(
                    session, guild_id=guild_id, tool_ids=ids
                ):
                    related.append(RelatedComparison(tuple(ToolRef(*r) for r in refs), runs, asks))
        return Comparison(tools=tuple(cards), related=tuple(related), today=now.date())

    async def record_run(self, tool_ids: Sequence[int], *, guild_id: int | None) -> bool:
        """Count a comparison run in a guild, for "Related comparisons". False when there is
        nothing to count, or a tool was removed from the catalog meanwhile."""
        ids = list(dict.fromkeys(tool_ids))
        if guild_id is None or len(ids) < 2:
            return False
        try:
            async with self._sessions() as session, session.begin():
                await record_comparison(session, guild_id=guild_id, tool_ids=ids, now=self._clock())
        except IntegrityError:
            return False
        return True

    async def card(self, tool_id: int, *, guild_id: int | None) -> ToolCard:
        """One tool's card, with what only a card shows (aliases, alternatives)."""
        async with self._sessions() as session:
            ids, found = await _existing(session, [tool_id])
            (card,) = await self._cards(session, ids, found, guild_id, full=True)
        return card

    async def _cards(
        self,
        session: AsyncSession,
        ids: list[int],
        tools: dict[int, tuple[Tool, Category]],
        guild_id: int | None,
        *,
        full: bool,
    ) -> list[ToolCard]:
        """`full` adds what only a tool's own card shows (aliases, alternatives); a comparison
        shows alternatives behind a button, so it does not read them."""
        aliases = await aliases_of(session, ids) if full else {}
        integrations = await integrations_of(session, ids)
        alternatives = await alternatives_of(session, ids) if full else {}
        stats = await external_stats_of(session, ids)
        reasons = await pros_cons_of(session, ids, guild_id)
        here, everywhere = await tallies_of(session, ids, guild_id)
        cards = []
        for tool_id in ids:
            tool, category = tools[tool_id]
            rows = reasons.get(tool_id, [])
            pros, cons = _pros_and_cons(rows)
            local = here.get(tool_id, TallyTotals())
            total = everywhere.get(tool_id, TallyTotals())
            cards.append(
                ToolCard(
                    id=tool_id,
                    slug=tool.slug,
                    name=tool.name,
                    description=tool.description,
                    category=category.name,
                    category_path=category.path,
                    website=tool.website,
                    repository=tool.repository,
                    language=tool.language,
                    license=tool.license,
                    first_release=tool.first_release,
                    features=tuple(tool.features),
                    aliases=tuple(aliases.get(tool_id, ())),
                    integrations=tuple(integrations.get(tool_id, ())),
                    alternatives=tuple(
                        ToolRef(alt_id, slug, name)
                        for alt_id, slug, name, _ in alternatives.get(tool_id, ())
                    ),
                    external=tuple(
                        ExternalFigure(s.source, s.metric, s.value, s.as_of, s.source_url)
                        for s in stats.get(tool_id, ())
                    ),
                    pros=pros,
                    cons=cons,
                    figures=MemberFigures(
                        stacks_here=local.stacks,
                        stacks_everywhere=total.stacks,
                        followers_here=local.followers,
                        followers_everywhere=total.followers,
                        votes_here=local.votes,
                        # A sum over guilds: other guilds' own pros are not shown here.
                        votes_everywhere=total.votes,
                    ),
                )
            )
        return cards

    async def reasons(self, tool_ids: Sequence[int], *, guild_id: int | None) -> list[ToolReasons]:
        async with self._sessions() as session:
            ids, tools = await _existing(session, tool_ids)
            rows = await pros_cons_of(session, ids, guild_id)
        found = []
        for tool_id in ids:
            pros, cons = _pros_and_cons(rows.get(tool_id, []))
            found.append(ToolReasons(_ref(tools[tool_id][0]), pros=pros, cons=cons))
        return found

    async def alternatives(self, tool_ids: Sequence[int]) -> list[ToolAlternatives]:
        async with self._sessions() as session:
            ids, tools = await _existing(session, tool_ids)
            rows = await alternatives_of(session, ids)
        return [
            ToolAlternatives(
                _ref(tools[tool_id][0]),
                tuple(
                    Alternative(ToolRef(alt_id, slug, name), description)
                    for alt_id, slug, name, description in rows.get(tool_id, ())
                ),
            )
            for tool_id in ids
        ]

    async def tool_refs(self, tool_ids: Sequence[int]) -> list[ToolRef]:
        async with self._sessions() as session:
            ids, tools = await _existing(session, tool_ids)
        return [_ref(tools[tool_id][0]) for tool_id in ids]

    async def followed(self, *, guild_id: int, member_id: int, tool_ids: Sequence[int]) -> set[int]:
        async with self._sessions() as session:
            return await community.followed_among(
                session, guild_id=guild_id, member_id=member_id, tool_ids=tool_ids
            )

    async def toggle_follow(self, *, guild_id: int, member_id: int, tool_id: int) -> bool:
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
