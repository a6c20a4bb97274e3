"""Comparison use-cases: load tool cards from stored counters, record comparisons for "Related
comparisons", list pros/cons and alternatives. No Discord here."""

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
from bot.services.catalog import ToolsGone, existing_refs
from db.engine import SessionFactory
from db.models import Category, ExternalStat, ReasonKind, Tool
from db.tool_queries import (
    TallyTotals,
    aliases_of,
    alternatives_of,
    external_stats_of,
    integrations_of,
    pros_cons_of,
    reason_of,
    record_comparison,
    related_comparisons,
    tallies_of,
    tools_with_categories,
)
from db.types import utcnow

MAX_COMPARED = 5


def _pros_and_cons(rows: Sequence[Any]) -> tuple[tuple[Reason, ...], tuple[Reason, ...]]:
    """A tool's pros and cons, each ranked."""
    pros = ranked([reason_of(row) for row in rows if row.kind == ReasonKind.PRO])
    cons = ranked([reason_of(row) for row in rows if row.kind == ReasonKind.CON])
    return tuple(pros), tuple(cons)


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


@dataclass(frozen=True)
class _CardReads:
    """Everything a card shows beyond the tool's own row, read for all the tools at once: one
    query per kind of fact, however many tools."""

    aliases: dict[int, list[str]]
    integrations: dict[int, list[str]]
    alternatives: dict[int, list[tuple[int, str, str, str]]]
    stats: dict[int, list[ExternalStat]]
    reasons: dict[int, list[Any]]
    here: dict[int, TallyTotals]
    everywhere: dict[int, TallyTotals]

    @classmethod
    async def read(
        cls, session: AsyncSession, ids: list[int], guild_id: int | None, *, full: bool
    ) -> _CardReads:
        aliases = await aliases_of(session, ids) if full else {}
        integrations = await integrations_of(session, ids)
        alternatives = await alternatives_of(session, ids) if full else {}
        stats = await external_stats_of(session, ids)
        reasons = await pros_cons_of(session, ids, guild_id)
        here, everywhere = await tallies_of(session, ids, guild_id)
        return cls(aliases, integrations, alternatives, stats, reasons, here, everywhere)

    def card(self, tool_id: int, tool: Tool, category: Category) -> ToolCard:
        pros, cons = _pros_and_cons(self.reasons.get(tool_id, []))
        return ToolCard(
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
            aliases=tuple(self.aliases.get(tool_id, ())),
            integrations=tuple(self.integrations.get(tool_id, ())),
            alternatives=tuple(
                ToolRef(alt_id, slug, name)
                for alt_id, slug, name, _ in self.alternatives.get(tool_id, ())
            ),
            external=tuple(
                ExternalFigure(s.source, s.metric, s.value, s.as_of, s.source_url)
                for s in self.stats.get(tool_id, ())
            ),
            pros=pros,
            cons=cons,
            figures=self.figures(tool_id),
        )

    def figures(self, tool_id: int) -> MemberFigures:
        local = self.here.get(tool_id, TallyTotals())
        total = self.everywhere.get(tool_id, TallyTotals())
        return MemberFigures(
            stacks_here=local.stacks,
            stacks_everywhere=total.stacks,
            followers_here=local.followers,
            followers_everywhere=total.followers,
            votes_here=local.votes,
            # A sum over guilds: other guilds' own pros are not shown here.
            votes_everywhere=total.votes,
        )


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
        found = await _CardReads.read(session, ids, guild_id, full=full)
        return [found.card(tool_id, *tools[tool_id]) for tool_id in ids]

    async def reasons(self, tool_ids: Sequence[int], *, guild_id: int | None) -> list[ToolReasons]:
        async with self._sessions() as session:
            refs = await existing_refs(session, tool_ids)
            rows = await pros_cons_of(session, [ref.id for ref in refs], guild_id)
        found = []
        for ref in refs:
            pros, cons = _pros_and_cons(rows.get(ref.id, []))
            found.append(ToolReasons(ref, pros=pros, cons=cons))
        return found

    async def alternatives(self, tool_ids: Sequence[int]) -> list[ToolAlternatives]:
        async with self._sessions() as session:
            refs = await existing_refs(session, tool_ids)
            rows = await alternatives_of(session, [ref.id for ref in refs])
        return [
            ToolAlternatives(
                ref,
                tuple(
                    Alternative(ToolRef(alt_id, slug, name), description)
                    for alt_id, slug, name, description in rows.get(ref.id, ())
                ),
            )
            for ref in refs
        ]

    async def tool_refs(self, tool_ids: Sequence[int]) -> list[ToolRef]:
        """The tools still in the catalog, in the order given, without repeats; `ToolsGone`
        when none is."""
        async with self._sessions() as session:
            return await existing_refs(session, tool_ids)
