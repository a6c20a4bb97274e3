"""Every counter the schema keeps, checked against a COUNT of the rows it counts: pros and cons'
and recommendations' up/down counts, decisions' up counts, and the per-guild tool tallies
(stacks, followers, votes on the tool's pros and cons). Tests that delete rows end with
`assert await counter_mismatches(sessions) == []`."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import func
from sqlmodel import select

from db.models import Decision, Follow, ProCon, Recommendation, StackEntry, ToolTally, Vote
from db.models import VoteTarget as Kind

TARGETS: dict[Kind, Any] = {
    Kind.PRO_CON: ProCon,
    Kind.RECOMMENDATION: Recommendation,
    Kind.DECISION: Decision,
}


async def _all(session, statement) -> list[Any]:
    return list((await session.exec(statement)).all())


async def _vote_counts(session, kind: Kind) -> Counter[tuple[int, int]]:
    """(target, value) -> votes, by COUNT."""
    rows = await _all(
        session,
        select(Vote.target_id, Vote.value, func.count())
        .where(Vote.target_kind == kind.value)
        .group_by(Vote.target_id, Vote.value),
    )
    return Counter({(target, value): count for target, value, count in rows})


async def _target_mismatches(session, kind: Kind) -> list[str]:
    model = TARGETS[kind]
    counted = await _vote_counts(session, kind)
    has_down = hasattr(model, "down_count")
    columns = [model.id, model.up_count] + ([model.down_count] if has_down else [])
    problems = []
    known = set()
    for row in await _all(session, select(*columns)):
        target, up = row[0], row[1]
        known.add(target)
        down = row[2] if has_down else 0
        if (up, down) != (counted[(target, 1)], counted[(target, -1)]):
            problems.append(
                f"{kind.value} {target}: counters {up}/{down}, votes "
                f"{counted[(target, 1)]}/{counted[(target, -1)]}"
            )
    orphans = {target for target, _ in counted} - known
    problems += [f"votes on a {kind.value} that is gone: {target}" for target in sorted(orphans)]
    return problems


async def _tally_counts(session) -> dict[str, Counter[tuple[int, int]]]:
    """(tool, guild) -> rows, by COUNT, for each tally field."""
    counts: dict[str, Counter[tuple[int, int]]] = {}
    for field, model in (("stacks", StackEntry), ("followers", Follow)):
        rows = await _all(
            session,
            select(model.tool_id, model.guild_id, func.count()).group_by(
                model.tool_id, model.guild_id
            ),
        )
        counts[field] = Counter({(tool, guild): n for tool, guild, n in rows})
    rows = await _all(
        session,
        select(ProCon.tool_id, Vote.guild_id, func.count())
        .join(ProCon, ProCon.id == Vote.target_id)
        .where(Vote.target_kind == Kind.PRO_CON.value, Vote.guild_id.is_not(None))
        .group_by(ProCon.tool_id, Vote.guild_id),
    )
    counts["votes"] = Counter({(tool, guild): n for tool, guild, n in rows})
    return counts


async def _tally_mismatches(session) -> list[str]:
    counts = await _tally_counts(session)
    tallies = {(t.tool_id, t.guild_id): t for t in await _all(session, select(ToolTally))}
    problems = []
    for field, counted in counts.items():
        for key in sorted(set(counted) | set(tallies)):
            stored = getattr(tallies[key], field) if key in tallies else 0
            if stored != counted[key]:
                problems.append(
                    f"tally {field} of tool {key[0]} in guild {key[1]}: {stored}, rows {counted[key]}"
                )
    return problems


async def counter_mismatches(sessions) -> list[str]:
    """Every counter that differs from the COUNT of its rows, described; [] when all agree."""
    async with sessions() as session:
        problems = []
        for kind in TARGETS:
            problems += await _target_mismatches(session, kind)
        return problems + await _tally_mismatches(session)
