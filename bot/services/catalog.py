"""Catalog use-cases for the bot: the resolver's index and the catalog's size. No Discord here."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from bot.errors import UnknownTool
from bot.resolver import CatalogIndex, ToolEntry
from db.catalog_import import CatalogStats, catalog_revision, catalog_stats
from db.engine import SessionFactory
from db.models import Tool, ToolAlias


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
            revision_row = await catalog_revision(self._sessions)
            tools = (
                await session.exec(select(Tool.id, Tool.slug, Tool.name).order_by(Tool.id))
            ).all()
            aliases: dict[int, list[str]] = {}
            for tool_id, alias in (
                await session.exec(
                    select(ToolAlias.tool_id, ToolAlias.alias).order_by(ToolAlias.id)
                )
            ).all():
                aliases.setdefault(tool_id, []).append(alias)
        entries = [
            ToolEntry(
                tool_id=tool_id, slug=slug, name=name, aliases=tuple(aliases.get(tool_id, ()))
            )
            for tool_id, slug, name in tools
        ]
        return CatalogIndex(entries, revision=revision_row)

    async def revision(self) -> int:
        return await catalog_revision(self._sessions)

    async def stats(self) -> CatalogStats:
        return await catalog_stats(self._sessions)


def resolve_or_raise(index: CatalogIndex, query: str) -> ToolEntry:
    """The tool a member meant, or `UnknownTool` carrying ranked suggestions."""
    resolution = index.resolve(query)
    if resolution.tool is None:
        raise UnknownTool(query, [tool.name for tool in resolution.suggestions])
    return resolution.tool
