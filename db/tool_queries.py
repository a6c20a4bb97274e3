"""Reads behind /compare, /tool and /alternatives: a handful of indexed queries for up to five
tools, all from stored counters (no COUNT over votes, stacks or follows)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func, or_, union_all
from sqlalchemy.orm import aliased
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.comparison import Reason, ToolRef
from db.models import (
    Category,
    CompareDay,
    Comparison,
    ComparisonTool,
    ExternalStat,
    ProCon,
    Tool,
    ToolAlias,
    ToolAlternative,
    ToolIntegration,
    ToolTally,
)
from db.tallies import dialect_insert


@dataclass(frozen=True)
class TallyTotals:
    stacks: int = 0
    followers: int = 0
    votes: int = 0


async def tool_refs(session: AsyncSession, tool_ids: Iterable[int]) -> dict[int, ToolRef]:
    """The tools among `tool_ids` still in the catalog, by id; ids removed since are absent."""
    wanted = sorted(set(tool_ids))
    if not wanted:
        return {}
    rows = await session.exec(
        select(Tool.id, Tool.slug, Tool.name).where(Tool.id.in_(wanted))  # type: ignore[union-attr]
    )
    return {row.id: ToolRef(row.id, row.slug, row.name) for row in rows.all()}


async def every_tool_name(
    session: AsyncSession,
) -> tuple[list[tuple[int, str, str]], dict[int, list[str]]]:
    """Every tool in the catalog as (id, slug, name), in id order, and each tool's aliases in
    catalog order: what the resolver's index is built from."""
    tools = (await session.exec(select(Tool.id, Tool.slug, Tool.name).order_by(Tool.id))).all()
    aliases: dict[int, list[str]] = {}
    alias_rows = await session.exec(
        select(ToolAlias.tool_id, ToolAlias.alias).order_by(ToolAlias.id)
    )
    for tool_id, alias in alias_rows.all():
        aliases.setdefault(tool_id, []).append(alias)
    return [(tool_id, slug, name) for tool_id, slug, name in tools], aliases


async def tools_with_categories(
    session: AsyncSession, tool_ids: Sequence[int]
) -> dict[int, tuple[Tool, Category]]:
    rows = await session.exec(
        select(Tool, Category)
        .join(Category, Category.id == Tool.category_id)
        .where(Tool.id.in_(tool_ids))  # type: ignore[union-attr]
    )
    return {tool.id: (tool, category) for tool, category in rows.all()}


async def aliases_of(session: AsyncSession, tool_ids: Sequence[int]) -> dict[int, list[str]]:
    rows = await session.exec(
        select(ToolAlias.tool_id, ToolAlias.alias)
        .where(ToolAlias.tool_id.in_(tool_ids))  # type: ignore[attr-defined]
        .order_by(ToolAlias.id)
    )
    found: dict[int, list[str]] = {}
    for tool_id, alias in rows.all():
        found.setdefault(tool_id, []).append(alias)
    return found


async def integrations_of(session: AsyncSession, tool_ids: Sequence[int]) -> dict[int, list[str]]:
    rows = await session.exec(
        select(ToolIntegration.tool_id, Tool.name)
        .join(Tool, Tool.id == ToolIntegration.integrated_tool_id)
        .where(ToolIntegration.tool_id.in_(tool_ids))  # type: ignore[attr-defined]
        .order_by(ToolIntegration.tool_id, Tool.name)
    )
    found: dict[int, list[str]] = {}
    for tool_id, name in rows.all():
        found.setdefault(tool_id, []).append(name)
    return found


async def alternatives_of(
    session: AsyncSession, tool_ids: Sequence[int]
) -> dict[int, list[tuple[int, str, str, str]]]:
    """Each tool's alternatives in catalog order: (id, slug, name, description)."""
    other = aliased(Tool)
    rows = await session.exec(
        select(ToolAlternative.tool_id, other.id, other.slug, other.name, other.description)
        .join(other, other.id == ToolAlternative.alternative_id)
        .where(ToolAlternative.tool_id.in_(tool_ids))  # type: ignore[attr-defined]
        .order_by(ToolAlternative.tool_id, ToolAlternative.position, other.name)
    )
    found: dict[int, list[tuple[int, str, str, str]]] = {}
    for tool_id, *alternative in rows.all():
        found.setdefault(tool_id, []).append(tuple(alternative))  # type: ignore[arg-type]
    return found


async def external_stats_of(
    session: AsyncSession, tool_ids: Sequence[int]
) -> dict[int, list[ExternalStat]]:
    rows = await session.exec(
        select(ExternalStat)
        .where(ExternalStat.tool_id.in_(tool_ids))  # type: ignore[attr-defined]
        .order_by(ExternalStat.tool_id, ExternalStat.source, ExternalStat.id)
    )
    found: dict[int, list[ExternalStat]] = {}
    for stat in rows.all():
        found.setdefault(stat.tool_id, []).append(stat)
    return found


REASON_COLUMNS = (
    ProCon.id,
    ProCon.tool_id,
    ProCon.kind,
    ProCon.text,
    ProCon.up_count,
    ProCon.down_count,
    ProCon.imported_count,
    ProCon.imported_source,
    ProCon.imported_as_of,
)


def reason_of(row: Any) -> Reason:
    """A `Reason` from a pros and cons row: a ProCon, or a row of `REASON_COLUMNS`."""
    return Reason(
        id=row.id or 0,
        text=row.text,
        up=row.up_count,
        down=row.down_count,
        imported=row.imported_count,
        imported_source=row.imported_source,
        imported_as_of=row.imported_as_of,
    )


def visible_in(guild_id: int | None) -> Any:
    """Pros and cons a guild sees: the catalog's, and its own members' (never another
    guild's). Outside a guild (DMs), only the catalog's."""
    catalog = ProCon.guild_id.is_(None)  # type: ignore[union-attr]
    if guild_id is None:
        return catalog
    return or_(catalog, ProCon.guild_id == guild_id)


async def pros_cons_of(
    session: AsyncSession, tool_ids: Sequence[int], guild_id: int | None
) -> dict[int, list[Any]]:
    """Rows with ProCon's column names, as `guild_id` sees them; plain rows, because building a
    few hundred ORM objects costs more than the query."""
    rows = await session.exec(
        select(*REASON_COLUMNS).where(
            ProCon.tool_id.in_(tool_ids),  # type: ignore[attr-defined]
            visible_in(guild_id),
        )
    )
    found: dict[int, list[Any]] = {}
    for reason in rows.all():
        found.setdefault(reason.tool_id, []).append(reason)
    return found


async def tallies_of(
    session: AsyncSession, tool_ids: Sequence[int], guild_id: int | None
) -> tuple[dict[int, TallyTotals], dict[int, TallyTotals]]:
    """(in this guild, summed over every guild) per tool, in one query."""

    def here(column: Any) -> Any:
        return func.sum(case((ToolTally.guild_id == guild_id, column), else_=0))

    rows = await session.exec(
        select(
            ToolTally.tool_id,
            func.sum(ToolTally.stacks),
            func.sum(ToolTally.followers),
            func.sum(ToolTally.votes),
            here(ToolTally.stacks),
            here(ToolTally.followers),
            here(ToolTally.votes),
        )
        .where(ToolTally.tool_id.in_(tool_ids))  # type: ignore[attr-defined]
        .group_by(ToolTally.tool_id)
    )
    in_guild: dict[int, TallyTotals] = {}
    everywhere: dict[int, TallyTotals] = {}
    for tool_id, stacks, followers, votes, stacks_here, followers_here, votes_here in rows.all():
        everywhere[tool_id] = TallyTotals(int(stacks), int(followers), int(votes))
        if guild_id is not None:
            in_guild[tool_id] = TallyTotals(int(stacks_here), int(followers_here), int(votes_here))
    return in_guild, everywhere


def tools_key(tool_ids: Sequence[int]) -> str:
    return ",".join(str(tool_id) for tool_id in sorted(set(tool_ids)))


async def record_comparison(
    session: AsyncSession,
    *,
    guild_id: int,
    tool_ids: Sequence[int],
    now: datetime,
    asked: bool = False,
) -> None:
    """Count a comparison run (or an advice post asking about these tools) in a guild; a run
    also counts for each of its tools on `now`'s UTC day, for the weekly digest."""
    counter = Comparison.ask_count if asked else Comparison.run_count
    inserted = await session.exec(
        dialect_insert(session)(Comparison)
        .values(
            guild_id=guild_id,
            tools_key=tools_key(tool_ids),
            run_count=0 if asked else 1,
            ask_count=1 if asked else 0,
            first_run_at=now,
            last_run_at=now,
        )
        .on_conflict_do_update(
            index_elements=["guild_id", "tools_key"],
            set_={counter.key: counter + 1, "last_run_at": now},
        )
        .returning(Comparison.id, Comparison.run_count + Comparison.ask_count)
    )
    comparison_id, times = inserted.one()
    if not asked:
        # One statement for all the tools, in id order, so two concurrent runs take the rows'
        # locks in the same order on PostgreSQL and cannot deadlock.
        day = now.astimezone(UTC).date()
        await session.exec(
            dialect_insert(session)(CompareDay)
            .values(
                [
                    {"guild_id": guild_id, "tool_id": tool_id, "day": day, "runs": 1}
                    for tool_id in sorted(set(tool_ids))
                ]
            )
            .on_conflict_do_update(
                index_elements=["guild_id", "tool_id", "day"],
                set_={"runs": CompareDay.runs + 1},
            )
        )
    if times > 1:
        return  # its tools were recorded by the run that created it
    await session.exec(
        dialect_insert(session)(ComparisonTool)
        .values(
            [
                {"comparison_id": comparison_id, "tool_id": tool_id, "guild_id": guild_id}
                for tool_id in sorted(set(tool_ids))
            ]
        )
        .on_conflict_do_nothing()
    )


RELATED_CANDIDATES_PER_TOOL = 50


async def related_comparisons(
    session: AsyncSession, *, guild_id: int, tool_ids: Sequence[int], limit: int = 5
) -> list[tuple[list[tuple[int, str, str]], int, int]]:
    """Other comparisons of this guild sharing tools with these: most shared tools first, then
    the most run or asked. Each as ([(id, slug, name)], runs, asks).

    Candidates are each tool's newest comparisons (read backwards along an index), so the
    cost stays flat however many comparisons the guild has run."""
    newest = [
        select(ComparisonTool.comparison_id)
        .where(ComparisonTool.guild_id == guild_id, ComparisonTool.tool_id == tool_id)
        .order_by(ComparisonTool.comparison_id.desc())  # type: ignore[attr-defined]
        .limit(RELATED_CANDIDATES_PER_TOOL)
        .subquery()
        for tool_id in dict.fromkeys(tool_ids)
    ]
    candidates = union_all(*(select(sub.c.comparison_id) for sub in newest)).subquery()
    shared = func.count().label("shared")
    top = (
        select(
            Comparison.id,
            Comparison.run_count,
            Comparison.ask_count,
            Comparison.last_run_at,
            shared,
        )
        .join(candidates, candidates.c.comparison_id == Comparison.id)
        .where(Comparison.tools_key != tools_key(tool_ids))
        .group_by(Comparison.id, Comparison.run_count, Comparison.ask_count, Comparison.last_run_at)
        .order_by(
            shared.desc(),
            (Comparison.run_count + Comparison.ask_count).desc(),
            Comparison.last_run_at.desc(),  # type: ignore[attr-defined]
            Comparison.id,
        )
        .limit(limit)
        .cte("top")
    )
    rows = await session.exec(
        select(top.c.id, top.c.run_count, top.c.ask_count, Tool.id, Tool.slug, Tool.name)
        .join(ComparisonTool, ComparisonTool.comparison_id == top.c.id)
        .join(Tool, Tool.id == ComparisonTool.tool_id)
        .order_by(
            top.c.shared.desc(),
            (top.c.run_count + top.c.ask_count).desc(),
            top.c.last_run_at.desc(),
            top.c.id,
            Tool.name,
        )
    )
    found: dict[int, tuple[list[tuple[int, str, str]], int, int]] = {}
    for comparison_id, runs, asks, tool_id, slug, name in rows.all():
        found.setdefault(comparison_id, ([], runs, asks))[0].append((tool_id, slug, name))
    return list(found.values())
