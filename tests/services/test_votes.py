"""Votes are rows; counters follow them in the same transaction, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import random

import pytest
from sqlalchemy import func, select

from db import migrate
from db.catalog_format import SHIPPED_CATALOG_DIR, load_catalog
from db.catalog_import import catalog_stats, import_catalog
from db.engine import create_engine, create_session_factory
from db.models import ProCon, ToolTally, Vote, VoteTarget
from db.votes import UnknownVoteTarget, VoteChange, cast_vote, withdraw_vote
from tests.conftest import add_tools, sqlite_url
from tests.postgres import fresh_postgres_url

GUILD = 1_100_000_000_000_000_001


@pytest.fixture
async def reasons(db) -> list[int]:
    async with db() as session, session.begin():
        (tool,) = await add_tools(session, "flask")
        rows = [ProCon(tool_id=tool.id, kind="pro", text=f"Reason {n}") for n in range(3)]
        session.add_all(rows)
        await session.flush()
        return [row.id for row in rows]


async def vote(db, target, member, value):
    async with db() as session, session.begin():
        return await cast_vote(
            session,
            kind=VoteTarget.PRO_CON,
            target_id=target,
            member_id=member,
            guild_id=GUILD,
            value=value,
        )


async def withdraw(db, target, member):
    async with db() as session, session.begin():
        return await withdraw_vote(
            session, kind=VoteTarget.PRO_CON, target_id=target, member_id=member
        )


async def counters(db, target) -> tuple[int, int]:
    async with db() as session:
        row = await session.get(ProCon, target)
        return row.up_count, row.down_count


async def recount(db, target) -> tuple[int, int]:
    async with db() as session:
        values = (
            await session.exec(
                select(Vote.value, func.count())
                .where(Vote.target_id == target)
                .group_by(Vote.value)
            )
        ).all()
    by_value = dict(values)
    return by_value.get(1, 0), by_value.get(-1, 0)


async def test_cast_switch_repeat_and_withdraw(db, reasons):
    target = reasons[0]
    member = 900_000_000_000_000_001
    assert await vote(db, target, member, 1) == VoteChange(None, 1)
    assert await counters(db, target) == (1, 0)
    assert await vote(db, target, member, 1) == VoteChange(1, 1)
    assert await counters(db, target) == (1, 0)
    assert await vote(db, target, member, -1) == VoteChange(1, -1)
    assert await counters(db, target) == (0, 1)
    assert await withdraw(db, target, member) == VoteChange(-1, None)
    assert await withdraw(db, target, member) == VoteChange(None, None)
    assert await counters(db, target) == (0, 0) == await recount(db, target)


async def test_concurrent_votes_of_one_member_make_one_row(db, reasons):
    target = reasons[1]
    member = 900_000_000_000_000_002
    await asyncio.gather(*(vote(db, target, member, 1) for _ in range(15)))
    assert await counters(db, target) == (1, 0) == await recount(db, target)


async def test_random_events_end_equal_to_a_model_of_them(db, reasons):
    rng = random.Random(20261124)
    model: dict[tuple[int, int], int] = {}
    for _ in range(300):
        target, member = rng.choice(reasons), rng.randrange(1, 12)
        if rng.random() < 0.3:
            await withdraw(db, target, member)
            model.pop((target, member), None)
        else:
            value = rng.choice((1, -1))
            await vote(db, target, member, value)
            model[(target, member)] = value
    for target in reasons:
        expected = (
            sum(1 for (t, _), v in model.items() if t == target and v == 1),
            sum(1 for (t, _), v in model.items() if t == target and v == -1),
        )
        assert await counters(db, target) == expected == await recount(db, target)
    # The tool's tally in the guild counts every vote row on its pros and cons.
    async with db() as session:
        tool_id = (await session.get(ProCon, reasons[0])).tool_id
        tally = await session.get(ToolTally, (tool_id, GUILD))
    assert tally.votes == len(model)


async def test_concurrent_votes_move_the_tally_once(db, reasons):
    member = 900_000_000_000_000_003
    await asyncio.gather(*(vote(db, reasons[2], member, 1) for _ in range(10)))
    await asyncio.gather(*(withdraw(db, reasons[2], member) for _ in range(10)))
    await vote(db, reasons[2], member, -1)
    async with db() as session:
        tool_id = (await session.get(ProCon, reasons[2])).tool_id
        assert (await session.get(ToolTally, (tool_id, GUILD))).votes == 1


async def test_a_vote_on_a_missing_target_leaves_no_row(db, reasons):
    with pytest.raises(UnknownVoteTarget):
        await vote(db, 999_999, 5, 1)
    async with db() as session:
        assert (await session.exec(select(func.count()).select_from(Vote))).scalar_one() == 0


async def test_a_vote_is_plus_or_minus_one(db, reasons):
    with pytest.raises(ValueError, match=r"\+1 or -1"):
        await vote(db, reasons[0], 1, 2)


async def test_shipped_catalog_imports_on_postgresql_like_on_sqlite(tmp_path):
    catalog = load_catalog([SHIPPED_CATALOG_DIR])
    results = []
    sqlite_engine = create_engine(sqlite_url(tmp_path / "catalog.db"))
    engines = [sqlite_engine]
    try:
        async for url in fresh_postgres_url():
            engines.append(create_engine(url))
            for engine in engines:
                await migrate.upgrade(engine)
                sessions = create_session_factory(engine)
                await import_catalog(sessions, catalog)
                report = await import_catalog(sessions, catalog)
                assert not report.changed
                results.append(await catalog_stats(sessions))
    finally:
        for engine in engines:
            await engine.dispose()
    assert results[0] == results[1]
