"""Follows, stacks and recorded comparisons on SQLite and on a real PostgreSQL server: one row per
member and tool, tallies equal to the rows, concurrent writers counted once."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, text
from sqlmodel import select

from bot.services.compare import CompareService
from bot.services.follows import FollowService
from db import community, migrate
from db.engine import create_engine, create_session_factory
from db.models import Comparison, ComparisonTool, Follow, StackEntry, ToolTally
from db.tool_queries import record_comparison, related_comparisons
from db.types import utcnow
from tests.conftest import add_tools, sqlite_url

GUILD, OTHER_GUILD = 1_100_000_000_000_000_001, 1_100_000_000_000_000_002


@pytest.fixture
async def tools(db) -> list[int]:
    async with db() as session, session.begin():
        rows = await add_tools(session, "flask", "django", "koa", "express")
        return [row.id for row in rows]


async def tally(db, tool_id, guild_id) -> ToolTally | None:
    async with db() as session:
        return await session.get(ToolTally, (tool_id, guild_id))


async def test_follows_and_stacks_keep_their_tallies(db, tools):
    flask, django, koa, _ = tools
    async with db() as session, session.begin():
        added = await community.follow(session, guild_id=GUILD, member_id=1, tool_ids=[flask, koa])
        again = await community.follow(session, guild_id=GUILD, member_id=1, tool_ids=[flask])
        await community.follow(session, guild_id=OTHER_GUILD, member_id=2, tool_ids=[flask])
        await community.add_to_stack(session, guild_id=GUILD, member_id=1, tool_ids=[django])
    assert added == [flask, koa] and again == []
    assert (await tally(db, flask, GUILD)).followers == 1
    assert (await tally(db, flask, OTHER_GUILD)).followers == 1
    assert (await tally(db, django, GUILD)).stacks == 1

    async with db() as session, session.begin():
        gone = await community.unfollow(
            session, guild_id=GUILD, member_id=1, tool_ids=[flask, django]
        )
        await community.remove_from_stack(session, guild_id=GUILD, member_id=1, tool_ids=[django])
    assert gone == [flask]
    assert (await tally(db, flask, GUILD)).followers == 0
    assert (await tally(db, koa, GUILD)).followers == 1
    assert (await tally(db, django, GUILD)).stacks == 0


async def test_concurrent_follows_of_one_member_make_one_row_and_count_once(db, tools):
    flask = tools[0]

    async def follow_once():
        async with db() as session, session.begin():
            await community.follow(session, guild_id=GUILD, member_id=7, tool_ids=[flask])

    async def unfollow_once():
        async with db() as session, session.begin():
            await community.unfollow(session, guild_id=GUILD, member_id=7, tool_ids=[flask])

    await asyncio.gather(*(follow_once() for _ in range(12)))
    async with db() as session:
        rows = (await session.exec(select(func.count()).select_from(Follow))).one()
    assert rows == 1 and (await tally(db, flask, GUILD)).followers == 1
    await asyncio.gather(*(unfollow_once() for _ in range(12)))
    assert (await tally(db, flask, GUILD)).followers == 0


async def test_set_follows_follows_exactly_the_choice(db, tools):
    service = FollowService(db)
    refs = await CompareService(db).tool_refs(tools[:3])
    change = await service.set_follows(
        guild_id=GUILD, member_id=1, offered=refs, chosen=[tools[0], tools[1], 99_999]
    )
    assert [r.id for r in change.now_following] == tools[:2]
    change = await service.set_follows(guild_id=GUILD, member_id=1, offered=refs, chosen=[tools[2]])
    assert [r.id for r in change.followed] == [tools[2]]
    assert [r.id for r in change.unfollowed] == tools[:2]
    assert [r.id for r in change.now_following] == [tools[2]]


async def test_comparisons_are_counted_per_guild_and_related_by_shared_tools(db, tools):
    flask, django, koa, express = tools
    async with db() as session, session.begin():
        for ids in ([flask, django], [django, flask], [koa, express], [flask, koa, express]):
            await record_comparison(session, guild_id=GUILD, tool_ids=ids, now=utcnow())
        await record_comparison(session, guild_id=OTHER_GUILD, tool_ids=[flask, koa], now=utcnow())
        await record_comparison(
            session, guild_id=GUILD, tool_ids=[flask, django], now=utcnow(), asked=True
        )

    async with db() as session:
        counted = (
            await session.exec(
                select(Comparison.tools_key, Comparison.run_count, Comparison.ask_count).where(
                    Comparison.guild_id == GUILD
                )
            )
        ).all()
        related = await related_comparisons(session, guild_id=GUILD, tool_ids=[flask, express])
        members = (await session.exec(select(func.count()).select_from(ComparisonTool))).one()
    key = ",".join(str(i) for i in sorted([flask, django]))
    assert (key, 2, 1) in counted and len(counted) == 3
    assert members == 2 + 2 + 3 + 2
    # Sharing two tools beats sharing one; the other guild's Flask vs Koa is not there.
    assert [[name for _, _, name in tools_] for tools_, _, _ in related] == [
        ["Express", "Flask", "Koa"],
        ["Django", "Flask"],
        ["Express", "Koa"],
    ]


async def test_tallies_are_backfilled_by_the_migration_that_adds_them(tmp_path):
    engine = create_engine(sqlite_url(tmp_path / "old.db"))
    try:
        await migrate.upgrade(engine, "0001")
        async with engine.begin() as connection:
            await connection.execute(
                text("INSERT INTO categories (id, name, path) VALUES (1, 'C', 'C')")
            )
            await connection.execute(
                text(
                    "INSERT INTO tools (id, slug, name, description, category_id, features,"
                    " created_at, updated_at) VALUES (1, 'flask', 'Flask', 'd', 1, '[]',"
                    " '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                )
            )
            for member in (1, 2):
                await connection.execute(
                    text(
                        "INSERT INTO follows (guild_id, member_id, tool_id, notify, created_at)"
                        f" VALUES ({GUILD}, {member}, 1, false, '2026-01-01 00:00:00')"
                    )
                )
            await connection.execute(
                text(
                    "INSERT INTO stack_entries (guild_id, member_id, tool_id, created_at)"
                    f" VALUES ({OTHER_GUILD}, 3, 1, '2026-01-01 00:00:00')"
                )
            )
            await connection.execute(
                text(
                    "INSERT INTO pros_cons (id, tool_id, kind, text, imported_count, up_count,"
                    " down_count, created_at) VALUES (1, 1, 'pro', 'Small', 0, 1, 0,"
                    " '2026-01-01 00:00:00')"
                )
            )
            await connection.execute(
                text(
                    "INSERT INTO votes (target_kind, target_id, member_id, guild_id, value,"
                    f" created_at, updated_at) VALUES ('pro_con', 1, 5, {GUILD}, 1,"
                    " '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                )
            )
        await migrate.upgrade(engine)
        sessions = create_session_factory(engine)
        async with sessions() as session:
            rows = (await session.exec(select(ToolTally).order_by(ToolTally.guild_id))).all()
        assert [(r.guild_id, r.stacks, r.followers, r.votes) for r in rows] == [
            (GUILD, 0, 2, 1),
            (OTHER_GUILD, 1, 0, 0),
        ]
    finally:
        await engine.dispose()


async def test_stack_rows_are_guild_data(db, tools):
    async with db() as session, session.begin():
        await community.add_to_stack(session, guild_id=GUILD, member_id=1, tool_ids=tools[:2])
        await community.add_to_stack(session, guild_id=OTHER_GUILD, member_id=1, tool_ids=tools[:1])
    async with db() as session:
        rows = (await session.exec(select(StackEntry.guild_id, StackEntry.tool_id))).all()
    assert sorted(rows) == sorted([(GUILD, tools[0]), (GUILD, tools[1]), (OTHER_GUILD, tools[0])])


async def test_a_comparison_reads_the_same_on_both_databases(db, tools):
    flask, django, koa, _ = tools
    async with db() as session, session.begin():
        await community.follow(session, guild_id=GUILD, member_id=1, tool_ids=[flask])
        await community.follow(session, guild_id=OTHER_GUILD, member_id=2, tool_ids=[flask])
        await community.add_to_stack(session, guild_id=GUILD, member_id=1, tool_ids=[koa])
    service = CompareService(db)
    assert await service.record_run([flask, koa], guild_id=GUILD)
    assert not await service.record_run([flask], guild_id=GUILD)  # one tool is no comparison

    comparison = await service.compare([django, flask, koa], guild_id=GUILD)

    assert [card.name for card in comparison.tools] == ["Django", "Flask", "Koa"]
    flask_card = comparison.tools[1]
    assert (flask_card.figures.followers_here, flask_card.figures.followers_everywhere) == (1, 2)
    assert comparison.tools[2].figures.stacks_here == 1
    assert [[ref.name for ref in related.tools] for related in comparison.related] == [
        ["Flask", "Koa"]
    ]
    elsewhere = await service.compare([flask, koa], guild_id=OTHER_GUILD)
    assert elsewhere.related == ()
    assert elsewhere.tools[0].figures.followers_here == 1


async def test_members_changing_follows_at_once_neither_deadlock_nor_miscount(db, tools):
    service = FollowService(db)
    refs = await CompareService(db).tool_refs(tools)
    rng_orders = [tools, list(reversed(tools))]

    async def flip(member: int, round_: int):
        chosen = rng_orders[(member + round_) % 2][: 1 + (member + round_) % 3]
        await service.set_follows(guild_id=GUILD, member_id=member, offered=refs, chosen=chosen)

    for round_ in range(6):
        await asyncio.gather(*(flip(member, round_) for member in range(1, 9)))

    async with db() as session:
        rows = (await session.exec(select(Follow.tool_id))).all()
        for tool_id in tools:
            tally_ = await session.get(ToolTally, (tool_id, GUILD))
            assert (tally_.followers if tally_ else 0) == rows.count(tool_id)
