"""Writing a parsed catalog to the database (upsert by slug, one transaction) and reading it back.

Members' data is never touched by an import: pros and cons are upserted by their text (the
imported count and its source are updated, members' vote counters are left alone) and none is
deleted; aliases, alternatives and integrations of an imported tool are replaced by the file's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import yaml
from sqlalchemy import Integer, Text, cast, delete, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.github import GITHUB_SOURCE
from db.catalog_format import CATEGORY_SEPARATOR, Catalog, LocatedTool
from db.engine import SessionFactory
from db.models import (
    AppMeta,
    Category,
    ExternalStat,
    ProCon,
    ReasonKind,
    Tool,
    ToolAlias,
    ToolAlternative,
    ToolIntegration,
)
from db.types import utcnow

CATALOG_REVISION_KEY = "catalog_revision"


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def summary(self) -> str:
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged"
        )


async def _category_id(session: AsyncSession, path: str, cache: dict[str, int]) -> int:
    if path in cache:
        return cache[path]
    parts = path.split(CATEGORY_SEPARATOR)
    parent_id = None
    for depth in range(1, len(parts) + 1):
        prefix = CATEGORY_SEPARATOR.join(parts[:depth])
        if prefix not in cache:
            category = Category(name=parts[depth - 1], path=prefix, parent_id=parent_id)
            session.add(category)
            await session.flush()
            cache[prefix] = category.id  # type: ignore[assignment]
        parent_id = cache[prefix]
    return cache[path]


def _tool_fields(located: LocatedTool, category_id: int) -> dict[str, Any]:
    spec = located.spec
    return {
        "name": spec.name,
        "description": spec.description,
        "category_id": category_id,
        "website": spec.website,
        "repository": spec.repository,
        "language": spec.language,
        "license": spec.license,
        "first_release": spec.first_release,
        "features": list(spec.features),
    }


async def import_catalog(session_factory: SessionFactory, catalog: Catalog) -> ImportReport:
    """Upsert every tool of `catalog`; all or nothing."""
    report = ImportReport()
    async with session_factory() as session, session.begin():
        categories = {c.path: c.id for c in (await session.exec(select(Category))).scalars()}
        tools = {t.slug: t for t in (await session.exec(select(Tool))).scalars()}
        now = utcnow()

        changed_slugs: set[str] = set()
        created: set[str] = set()
        for located in catalog.tools:
            spec = located.spec
            fields = _tool_fields(located, await _category_id(session, spec.category, categories))
            tool = tools.get(spec.slug)
            if tool is None:
                tool = Tool(slug=spec.slug, created_at=now, updated_at=now, **fields)
                session.add(tool)
                tools[spec.slug] = tool
                report.created.append(spec.slug)
                created.add(spec.slug)
                changed_slugs.add(spec.slug)
            elif any(getattr(tool, key) != value for key, value in fields.items()):
                for key, value in fields.items():
                    setattr(tool, key, value)
                tool.updated_at = now
                changed_slugs.add(spec.slug)
        await session.flush()

        existing = await _Existing.load(session)
        for located in catalog.tools:
            spec = located.spec
            tool = tools[spec.slug]
            related_changed = await _sync_related(session, tool, located, tools, existing)
            if related_changed and spec.slug not in changed_slugs:
                tool.updated_at = now
                changed_slugs.add(spec.slug)
            if spec.slug in created:
                continue
            (report.updated if spec.slug in changed_slugs else report.unchanged).append(spec.slug)

        if report.changed:
            await _bump_revision(session)
        await session.flush()
    return report


@dataclass
class _Existing:
    """Every tool's related rows, loaded in one query per table rather than one per tool,
    in a stable order (the import compares them, the export writes them)."""

    aliases: dict[int, list[ToolAlias]]
    alternatives: dict[int, list[int]]
    integrations: dict[int, set[int]]
    stats: dict[int, list[ExternalStat]]
    reasons: dict[int, list[ProCon]]

    @classmethod
    async def load(cls, session: AsyncSession) -> _Existing:
        existing = cls({}, {}, {}, {}, {})
        for alias in (await session.exec(select(ToolAlias).order_by(ToolAlias.id))).scalars():
            existing.aliases.setdefault(alias.tool_id, []).append(alias)
        for link in (
            await session.exec(select(ToolAlternative).order_by(ToolAlternative.position))
        ).scalars():
            existing.alternatives.setdefault(link.tool_id, []).append(link.alternative_id)
        for link in (await session.exec(select(ToolIntegration))).scalars():
            existing.integrations.setdefault(link.tool_id, set()).add(link.integrated_tool_id)
        for stat in (await session.exec(select(ExternalStat).order_by(ExternalStat.id))).scalars():
            existing.stats.setdefault(stat.tool_id, []).append(stat)
        # Members' pros and cons belong to their guilds; the catalog owns only its own.
        catalog_reasons = select(ProCon).where(ProCon.guild_id.is_(None)).order_by(ProCon.id)  # type: ignore[union-attr]
        for reason in (await session.exec(catalog_reasons)).scalars():
            existing.reasons.setdefault(reason.tool_id, []).append(reason)
        return existing


async def _sync_related(
    session: AsyncSession,
    tool: Tool,
    located: LocatedTool,
    tools: dict[str, Tool],
    existing: _Existing,
) -> bool:
    """Bring the tool's aliases, alternatives, integrations, figures and catalog pros and cons
    in line with the file; whether anything changed. Every step runs, changed or not."""
    spec = located.spec
    changes = [
        await _sync_aliases(session, tool, spec.aliases, existing),
        await _sync_alternatives(session, tool, spec.alternatives, tools, existing),
        await _sync_integrations(session, tool, spec.integrations, tools, existing),
        _sync_stats(session, tool, located, existing),
        _sync_reasons(session, tool, located, existing),
    ]
    return any(changes)


async def _sync_aliases(
    session: AsyncSession, tool: Tool, aliases: Sequence[str], existing: _Existing
) -> bool:
    changed = False
    wanted = list(dict.fromkeys(aliases))
    current = {a.alias: a for a in existing.aliases.get(tool.id, [])}
    for alias, row in current.items():
        if alias not in wanted:
            await session.delete(row)
            changed = True
    for alias in wanted:
        if alias not in current:
            session.add(ToolAlias(tool_id=tool.id, alias=alias))
            changed = True
    return changed


async def _sync_alternatives(
    session: AsyncSession,
    tool: Tool,
    alternatives: Sequence[str],
    tools: dict[str, Tool],
    existing: _Existing,
) -> bool:
    wanted = [tools[slug].id for slug in dict.fromkeys(alternatives)]
    if existing.alternatives.get(tool.id, []) == wanted:
        return False
    await session.exec(delete(ToolAlternative).where(ToolAlternative.tool_id == tool.id))
    session.add_all(
        ToolAlternative(tool_id=tool.id, alternative_id=alt_id, position=position)
        for position, alt_id in enumerate(wanted)
    )
    return True


async def _sync_integrations(
    session: AsyncSession,
    tool: Tool,
    integrations: Sequence[str],
    tools: dict[str, Tool],
    existing: _Existing,
) -> bool:
    wanted = {tools[slug].id for slug in integrations}
    if existing.integrations.get(tool.id, set()) == wanted:
        return False
    await session.exec(delete(ToolIntegration).where(ToolIntegration.tool_id == tool.id))
    session.add_all(ToolIntegration(tool_id=tool.id, integrated_tool_id=other) for other in wanted)
    return True


def _sync_stats(
    session: AsyncSession, tool: Tool, located: LocatedTool, existing: _Existing
) -> bool:
    changed = False
    stats = {(s.source, s.metric): s for s in existing.stats.get(tool.id, [])}
    for stat in located.spec.stats:
        source = located.sources[stat.source]
        values = {"value": stat.value, "as_of": source.as_of, "source_url": source.url}
        row = stats.get((source.name, stat.metric))
        if row is None:
            session.add(
                ExternalStat(tool_id=tool.id, source=source.name, metric=stat.metric, **values)
            )
            changed = True
        else:
            changed = _update(row, values) or changed
    return changed


def _sync_reasons(
    session: AsyncSession, tool: Tool, located: LocatedTool, existing: _Existing
) -> bool:
    """Upserted by text; members' vote counters are left alone and none is deleted."""
    changed = False
    spec = located.spec
    reasons = {(r.kind, r.text): r for r in existing.reasons.get(tool.id, [])}
    for kind, items in ((ReasonKind.PRO, spec.pros), (ReasonKind.CON, spec.cons)):
        for item in items:
            source = located.sources[item.source] if item.source else None
            values: dict[str, Any] = {
                "imported_count": item.count,
                "imported_source": source.name if source else None,
                "imported_as_of": source.as_of if source else None,
            }
            row = reasons.get((kind.value, item.text))
            if row is None:
                session.add(ProCon(tool_id=tool.id, kind=kind.value, text=item.text, **values))
                changed = True
            else:
                changed = _update(row, values) or changed
    return changed


def _update(row: Any, values: dict[str, Any]) -> bool:
    """Set the row's values; whether any differed."""
    if all(getattr(row, key) == value for key, value in values.items()):
        return False
    for key, value in values.items():
        setattr(row, key, value)
    return True


async def _bump_revision(session: AsyncSession) -> None:
    """One atomic UPDATE, so two imports committing together both count."""
    bumped = await session.exec(
        update(AppMeta)
        .where(AppMeta.key == CATALOG_REVISION_KEY)
        .values(value=cast(cast(AppMeta.value, Integer) + 1, Text))
    )
    if bumped.rowcount == 0:
        session.add(AppMeta(key=CATALOG_REVISION_KEY, value="1"))


async def read_revision(session: AsyncSession) -> int:
    meta = await session.get(AppMeta, CATALOG_REVISION_KEY)
    return int(meta.value) if meta else 0


async def catalog_revision(session_factory: SessionFactory) -> int:
    async with session_factory() as session:
        return await read_revision(session)


async def count_tools(session_factory: SessionFactory) -> int:
    async with session_factory() as session:
        return (await session.exec(select(func.count()).select_from(Tool))).scalar_one()


@dataclass(frozen=True)
class CatalogStats:
    tools: int
    categories: int
    aliases: int
    alternatives: int
    pros_cons: int
    external_stats: int
    revision: int
    tools_by_top_category: dict[str, int]


async def catalog_stats(session_factory: SessionFactory) -> CatalogStats:
    async with session_factory() as session:

        async def count(model: Any) -> int:
            return (await session.exec(select(func.count()).select_from(model))).scalar_one()

        rows = await session.exec(
            select(Category.path, func.count(Tool.id))
            .join(Tool, Tool.category_id == Category.id)
            .group_by(Category.path)
        )
        by_top: dict[str, int] = {}
        for path, number in rows.all():
            top = path.split(CATEGORY_SEPARATOR)[0]
            by_top[top] = by_top.get(top, 0) + number
        return CatalogStats(
            tools=await count(Tool),
            categories=await count(Category),
            aliases=await count(ToolAlias),
            alternatives=await count(ToolAlternative),
            pros_cons=await count(ProCon),
            external_stats=await count(ExternalStat),
            revision=await read_revision(session),
            tools_by_top_category=dict(sorted(by_top.items())),
        )


async def export_catalog(session_factory: SessionFactory) -> str:
    """The database's catalog as one YAML document in the import format (round-trips)."""
    found = await _Export.load(session_factory)
    sources = _Sources()
    documents = [found.entry(tool, sources) for tool in found.tools]
    document: dict[str, Any] = {}
    if sources.found:
        document["sources"] = sources.document()
    document["tools"] = documents
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


class _Sources:
    """The sources the exported figures and counts cite, each under a key made from its name
    (numbered when two differ in URL or date)."""

    def __init__(self) -> None:
        self.found: dict[str, dict[str, Any]] = {}

    def key(self, name: str, url: str | None, as_of: date | None) -> str:
        base = "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-") or "source"
        key = base
        number = 2
        while key in self.found and self.found[key] != {"name": name, "url": url, "as_of": as_of}:
            key = f"{base}-{number}"
            number += 1
        self.found[key] = {"name": name, "url": url, "as_of": as_of}
        return key

    def document(self) -> dict[str, dict[str, Any]]:
        return {
            key: {k: v for k, v in value.items() if v is not None}
            for key, value in self.found.items()
        }


@dataclass(frozen=True)
class _Export:
    """The catalog as stored, by tool id, with what is not the catalog's left out."""

    tools: list[Tool]
    paths: dict[int, str]
    aliases: dict[int, list[str]]
    alternatives: dict[int, list[str]]
    integrations: dict[int, list[str]]
    stats: dict[int, list[ExternalStat]]
    reasons: dict[int, list[ProCon]]

    @classmethod
    async def load(cls, session_factory: SessionFactory) -> _Export:
        async with session_factory() as session:
            tools = list((await session.exec(select(Tool).order_by(Tool.slug))).scalars())
            paths = {c.id: c.path for c in (await session.exec(select(Category))).scalars()}
            existing = await _Existing.load(session)
        slug_of = {t.id: t.slug for t in tools}
        return cls(
            tools=tools,
            paths=paths,
            aliases={
                tool_id: [a.alias for a in rows] for tool_id, rows in existing.aliases.items()
            },
            alternatives={
                tool_id: [slug_of[other] for other in others]
                for tool_id, others in existing.alternatives.items()
            },
            integrations={
                tool_id: sorted(slug_of[other] for other in others)
                for tool_id, others in existing.integrations.items()
            },
            # Figures fetched by the bot (GitHub's) are refreshed data, not the catalog's.
            stats={
                tool_id: [s for s in rows if s.source != GITHUB_SOURCE]
                for tool_id, rows in existing.stats.items()
            },
            # The catalog's own pros and cons; members' additions are community data.
            reasons={
                tool_id: [r for r in rows if r.author_id is None]
                for tool_id, rows in existing.reasons.items()
            },
        )

    def entry(self, tool: Tool, sources: _Sources) -> dict[str, Any]:
        """One tool in the import format."""
        entry: dict[str, Any] = {
            "slug": tool.slug,
            "name": tool.name,
            "description": tool.description,
            "category": self.paths[tool.category_id],
        }
        for key in ("website", "repository", "language", "license", "first_release"):
            if getattr(tool, key) is not None:
                entry[key] = getattr(tool, key)
        for key, values in (
            ("aliases", self.aliases.get(tool.id)),
            ("features", tool.features),
            ("alternatives", self.alternatives.get(tool.id)),
            ("integrations", self.integrations.get(tool.id)),
        ):
            if values:
                entry[key] = list(values)
        if self.stats.get(tool.id):
            entry["stats"] = [
                {
                    "source": sources.key(s.source, s.source_url, s.as_of),
                    "metric": s.metric,
                    "value": s.value,
                }
                for s in self.stats[tool.id]
            ]
        for kind, key in ((ReasonKind.PRO, "pros"), (ReasonKind.CON, "cons")):
            items = self._reason_items(tool, kind, sources)
            if items:
                entry[key] = items
        return entry

    def _reason_items(
        self, tool: Tool, kind: ReasonKind, sources: _Sources
    ) -> list[dict[str, Any]]:
        items = []
        for reason in self.reasons.get(tool.id, []):
            if reason.kind != kind.value:
                continue
            item: dict[str, Any] = {"text": reason.text}
            if reason.imported_source:
                item["count"] = reason.imported_count
                # The source's URL is the one its figures give, when the tool has any.
                url = next(
                    (
                        s.source_url
                        for s in self.stats.get(tool.id, [])
                        if s.source == reason.imported_source
                    ),
                    None,
                )
                item["source"] = sources.key(reason.imported_source, url, reason.imported_as_of)
            items.append(item)
        return items


async def known_slugs(session_factory: SessionFactory) -> set[str]:
    async with session_factory() as session:
        return set((await session.exec(select(Tool.slug))).scalars())
