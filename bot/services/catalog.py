"""Catalog use-cases for the bot: the resolver's index and the catalog's size. No Discord here."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.comparison import ToolRef
from bot.core.resolver import CatalogIndex, ToolEntry
from bot.errors import InvalidInput, UnknownTool
from db.catalog_import import CatalogStats, catalog_revision, catalog_stats, read_revision
from db.engine import SessionFactory
from db.tool_queries import every_tool_name, tool_refs


class ToolsGone(InvalidInput):
    """Tools named by an old button were removed from the catalog since."""

    def __init__(self) -> None:
        super().__init__("Those tools are no longer in the catalog; run the command again.")


async def existing_refs(session: AsyncSession, tool_ids: Sequence[int]) -> list[ToolRef]:
    """The tools still in the catalog, in the order given, without repeats; `ToolsGone` when
    none is. Ids come from old buttons, or from the resolver's index, which may be a few
    seconds behind an import that removed some."""
    found = await tool_refs(session, tool_ids)
    refs = [found[tool_id] for tool_id in dict.fromkeys(tool_ids) if tool_id in found]
    if not refs:
        raise ToolsGone()
    return refs


@dataclass(frozen=True)
class About:
    version: str
    catalog: CatalogStats
    guilds: int
    application_id: int | None


class CatalogService:
    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    async def build_index(self) -> CatalogIndex:
        async with self._sessions() as session:
            revision = await read_revision(session)
            tools, aliases = await every_tool_name(session)
        entries = [
            ToolEntry(tool_id, slug, name, tuple(aliases.get(tool_id, ())))
            for tool_id, slug, name in tools
        ]
        # Building is pure Python (about a second at 100k names): in a thread it yields the
        # GIL to the event loop every few milliseconds instead of stalling it throughout.
        return await asyncio.to_thread(CatalogIndex, entries, revision=revision)

    async def revision(self) -> int:
        return await catalog_revision(self._sessions)

    async def stats(self) -> CatalogStats:
        return await catalog_stats(self._sessions)


@dataclass(frozen=True)
class UnresolvedName:
    position: int
    query: str
    suggestions: tuple[ToolEntry, ...]


@dataclass(frozen=True)
class ResolvedNames:
    tools: tuple[ToolEntry | None, ...]  # in the order named; None where unknown
    unknown: tuple[UnresolvedName, ...]

    @property
    def duplicates(self) -> list[ToolEntry]:
        seen: set[int] = set()
        repeated = []
        for tool in self.tools:
            if tool is not None and tool.tool_id in seen:
                repeated.append(tool)
            elif tool is not None:
                seen.add(tool.tool_id)
        return repeated


def resolve_names(index: CatalogIndex, queries: Sequence[str]) -> ResolvedNames:
    """Resolve several names at once, keeping every unknown one with its suggestions."""
    tools: list[ToolEntry | None] = []
    unknown = []
    for position, query in enumerate(queries):
        tool = index.by_slug(query.strip())
        if tool is None:
            resolution = index.resolve(query)
            tool = resolution.tool
            if tool is None:
                unknown.append(UnresolvedName(position, query, tuple(resolution.suggestions)))
        tools.append(tool)
    return ResolvedNames(tuple(tools), tuple(unknown))


def resolve_or_raise(index: CatalogIndex, query: str) -> ToolEntry:
    """The tool a member meant, or `UnknownTool` carrying ranked suggestions.

    Autocomplete sends the slug as the value, so a slug is taken as it is first."""
    resolved = resolve_names(index, [query])
    if resolved.unknown:
        raise UnknownTool(query, [tool.name for tool in resolved.unknown[0].suggestions])
    return resolved.tools[0]  # type: ignore[return-value]


def resolve_refs(index: CatalogIndex, names: Sequence[str]) -> list[ToolRef]:
    """The tools a list of names means, each once, in the order named; `InvalidInput` naming
    every unknown one with up to three suggestions."""
    resolved = resolve_names(index, names)
    if resolved.unknown:
        parts = []
        for unknown in resolved.unknown:
            hint = ", ".join(f"**{s.name}**" for s in unknown.suggestions[:3])
            shown = unknown.query if len(unknown.query) <= 80 else unknown.query[:79] + "…"
            parts.append(f"“{shown}”" + (f" (did you mean {hint}?)" if hint else ""))
        message = "Not in the catalog: " + "; ".join(parts) + "."
        raise InvalidInput(message if len(message) <= 1900 else message[:1899] + "…")
    return list(
        {t.tool_id: ToolRef(t.tool_id, t.slug, t.name) for t in resolved.tools if t}.values()
    )
