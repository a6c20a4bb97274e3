"""Reads behind /compare, /tool and /alternatives: a handful of indexed queries for up to five
tools, all from stored counters (no COUNT over votes, stacks or follows)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import (
    Category,
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


async def pros_cons_of(session: AsyncSession, tool_ids: Sequence[int]) -> dict[int, list[ProCon]]:
    rows = await session.exec(
        select(ProCon).where(ProCon.tool_id.in_(tool_ids))  # type: ignore[attr-defined]
    )
    found: dict[int, list[ProCon]] = {}
    for reason in rows.all():
        found.setdefault(reason.tool_id, []).append(reason)
    return found


async def tallies_of(
    session: AsyncSession, tool_ids: Sequence[int], guild_id: int | None
) -> tuple[dict[int, TallyTotals], dict[int, TallyTotals]]:
    """(in this guild, summed over every guild) per tool."""
    everywhere_rows = await session.exec(
        select(
            ToolTally.tool_id,
            func.sum(ToolTally.stacks),
            func.sum(ToolTally.followers),
            func.sum(ToolTally.votes),
        )
        .where(ToolTally.tool_id.in_(tool_ids))  # type: ignore[attr-defined]
        .group_by(ToolTally.tool_id)
    )
    everywhere = {
        tool_id: TallyTotals(int(stacks), int(followers), int(votes))
        for tool_id, stacks, followers, votes in everywhere_rows.all()
    }
    here: dict[int, TallyTotals] = {}
    if guild_id is not None:
        here_rows = await session.exec(
            select(ToolTally).where(
                ToolTally.guild_id == guild_id,
                ToolTally.tool_id.in_(tool_ids),  # type: ignore[attr-defined]
            )
        )
        here = {
            row.tool_id: TallyTotals(row.stacks, row.followers, row.votes)
            for row in here_rows.all()
        }
    return here, everywhere


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
    """Count a comparison run (or an advice post asking about these tools) in a guild."""
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
        .returning(Comparison.id)
    )
    comparison_id = inserted.scalar_one()
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


async def related_comparisons(
    session: AsyncSession, *, guild_id: int, tool_ids: Sequence[int], limit: int = 5
) -> list[tuple[list[tuple[int, str, str]], int, int]]:
    """Other comparisons of this guild sharing tools with these: most shared tools first, then
    the most run or asked. Each as ([(id, slug, name)], runs, asks)."""
    shared = func.count(ComparisonTool.tool_id).label("shared")
    rows = await session.exec(
        select(Comparison.id, Comparison.run_count, Comparison.ask_count, shared)
        .join(ComparisonTool, ComparisonTool.comparison_id == Comparison.id)
        .where(
            ComparisonTool.guild_id == guild_id,
            ComparisonTool.tool_id.in_(tool_ids),  # type: ignore[attr-defined]
            Comparison.tools_key != tools_key(tool_ids),
        )
        .group_by(Comparison.id, Comparison.run_count, Comparison.ask_count)
        .order_by(
            shared.desc(),
            (Comparison.run_count + Comparison.ask_count).desc(),
            Comparison.last_run_at.desc(),  # type: ignore[attr-defined]
            Comparison.id,
        )
        .limit(limit)
    )
    found = rows.all()
    if not found:
        return []
    members = await session.exec(
        select(ComparisonTool.comparison_id, Tool.id, Tool.slug, Tool.name)
        .join(Tool, Tool.id == ComparisonTool.tool_id)
        .where(ComparisonTool.comparison_id.in_([row[0] for row in found]))  # type: ignore[attr-defined]
        .order_by(Tool.name)
    )
    tools: dict[int, list[tuple[int, str, str]]] = {}
    for comparison_id, tool_id, slug, name in members.all():
        tools.setdefault(comparison_id, []).append((tool_id, slug, name))
    return [(tools.get(comparison_id, []), runs, asks) for comparison_id, runs, asks, _ in found]
