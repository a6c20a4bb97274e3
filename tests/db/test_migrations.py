"""Real Alembic migrations, up and down, on SQLite and on the PostgreSQL server."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from db import migrate
from db.engine import create_engine
from tests.conftest import sqlite_url
from tests.postgres import fresh_postgres_url

TABLES = {
    "vote_messages",
    "vote_options",
    "advice_post_tools",
    "advice_posts",
    "app_meta",
    "categories",
    "decisions",
    "external_stats",
    "follows",
    "guild_settings",
    "pros_cons",
    "recommendations",
    "stack_entries",
    "tool_aliases",
    "tool_alternatives",
    "tool_integrations",
    "tools",
    "votes",
    "member_preferences",
}


# A category, a tool and an advice post, as rows any revision since 0002 holds.
A_TOOL_AND_A_POST = (
    "INSERT INTO categories (id, name, path) VALUES (1, 'Web', 'Web')",
    "INSERT INTO tools (id, slug, name, description, category_id, features, created_at,"
    " updated_at) VALUES (1, 'flask', 'Flask', 'd', 1, '[]', CURRENT_TIMESTAMP,"
    " CURRENT_TIMESTAMP)",
    "INSERT INTO advice_posts (id, guild_id, channel_id, asker_id, title, question,"
    " context, status, created_at, last_activity_at) VALUES (1, 77, 2, 3, 't', 'q', '',"
    " 'open', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
)


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(request, tmp_path):
    if request.param == "sqlite":
        url = sqlite_url(tmp_path / "migrations.db")
        engine = create_engine(url)
        yield engine
        await engine.dispose()
    else:
        async for url in fresh_postgres_url():
            engine = create_engine(url)
            yield engine
            await engine.dispose()


async def table_names(engine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


async def test_upgrade_down_and_up_again(engine):
    await migrate.upgrade(engine)
    assert await migrate.current_revision(engine) == migrate.head_revision()
    assert await table_names(engine) >= TABLES

    await migrate.downgrade(engine, "base")
    assert await migrate.current_revision(engine) is None
    assert not TABLES & await table_names(engine)

    await migrate.upgrade(engine)
    assert await table_names(engine) >= TABLES


async def test_models_and_migrations_agree(engine):
    await migrate.upgrade(engine)

    def differences(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, SQLModel.metadata)

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_snowflakes_fit_their_columns(engine):
    # SQLite's INTEGER is always 64-bit; PostgreSQL's is 32-bit unless the column is BIGINT.
    await migrate.upgrade(engine)
    largest = 2**63 - 1
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO votes (target_kind, target_id, member_id, guild_id, value, created_at,"
                " updated_at) VALUES ('pro_con', 1, :m, :g, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            {"m": largest, "g": largest},
        )
        stored = (await connection.execute(text("SELECT member_id, guild_id FROM votes"))).one()
    assert tuple(stored) == (largest, largest)


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    engine = create_engine(sqlite_url(tmp_path / "pragmas.db"))
    try:
        async with engine.connect() as connection:
            journal = (await connection.execute(text("PRAGMA journal_mode"))).scalar_one()
            foreign_keys = (await connection.execute(text("PRAGMA foreign_keys"))).scalar_one()
    finally:
        await engine.dispose()
    assert (journal, foreign_keys) == ("wal", 1)


async def test_upgrading_and_downgrading_keeps_advice_rows(engine):
    """SQLite rebuilds altered tables; with foreign keys on, dropping the old table would
    cascade into recommendations and decisions."""
    await migrate.upgrade(engine, "0002")
    async with engine.begin() as connection:
        for statement in (
            *A_TOOL_AND_A_POST,
            "INSERT INTO advice_post_tools (post_id, tool_id) VALUES (1, 1)",
            "INSERT INTO recommendations (id, post_id, tool_id, member_id, reason, up_count,"
            " down_count, created_at) VALUES (1, 1, 1, 4, 'r', 2, 0, CURRENT_TIMESTAMP)",
            "INSERT INTO decisions (id, guild_id, member_id, chosen_tool_id, reason,"
            " advice_post_id, up_count, created_at) VALUES (1, 77, 3, 1, '', 1, 0,"
            " CURRENT_TIMESTAMP)",
        ):
            await connection.execute(text(statement))

    async def kept() -> tuple:
        async with engine.connect() as connection:
            recommendations = (
                await connection.execute(text("SELECT count(*) FROM recommendations"))
            ).scalar_one()
            decision = (
                await connection.execute(text("SELECT advice_post_id FROM decisions"))
            ).scalar_one()
            named = (
                await connection.execute(text("SELECT count(*) FROM advice_post_tools"))
            ).scalar_one()
            return recommendations, decision, named

    await migrate.upgrade(engine)
    assert await kept() == (1, 1, 1)
    async with engine.connect() as connection:
        guild = (
            await connection.execute(text("SELECT guild_id FROM advice_post_tools"))
        ).scalar_one()
    assert guild == 77  # backfilled from the post
    await migrate.downgrade(engine, "0002")
    assert await kept() == (1, 1, 1)


async def test_0004_gives_recommendation_votes_their_message_and_keeps_pros(engine):
    await migrate.upgrade(engine, "0003")
    async with engine.begin() as connection:
        for statement in (
            *A_TOOL_AND_A_POST,
            "INSERT INTO recommendations (id, post_id, tool_id, member_id, reason, message_id,"
            " up_count, down_count, created_at) VALUES (1, 1, 1, 4, 'r', 555, 1, 0,"
            " CURRENT_TIMESTAMP)",
            "INSERT INTO votes (id, target_kind, target_id, member_id, guild_id, value,"
            " created_at, updated_at) VALUES (1, 'recommendation', 1, 8, 77, 1,"
            " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
            "INSERT INTO pros_cons (id, tool_id, kind, text, imported_count, up_count,"
            " down_count, created_at) VALUES (1, 1, 'pro', 'Simple', 9, 0, 0, CURRENT_TIMESTAMP)",
        ):
            await connection.execute(text(statement))
    await migrate.upgrade(engine)
    async with engine.begin() as connection:
        owner = (await connection.execute(text("SELECT message_id FROM votes"))).scalar_one()
        # The same text now fits once per guild besides the catalog's.
        await connection.execute(
            text(
                "INSERT INTO pros_cons (id, tool_id, kind, text, guild_id, imported_count,"
                " up_count, down_count, created_at) VALUES (2, 1, 'pro', 'Simple', 77, 0, 0, 0,"
                " CURRENT_TIMESTAMP)"
            )
        )
    assert owner == 555
    # Once per place, whatever the case.
    for duplicate in (
        "(3, 1, 'pro', 'simple', NULL, 0, 0, 0, CURRENT_TIMESTAMP)",
        "(3, 1, 'pro', 'SIMPLE', 77, 0, 0, 0, CURRENT_TIMESTAMP)",
    ):
        with pytest.raises(Exception, match=r"(?i)unique"):
            async with engine.begin() as connection:
                await connection.execute(
                    text(
                        "INSERT INTO pros_cons (id, tool_id, kind, text, guild_id,"
                        " imported_count, up_count, down_count, created_at) VALUES " + duplicate
                    )
                )
    # A member's pro older than the catalog's same text, with a vote and its tally.
    async with engine.begin() as connection:
        for statement in (
            "INSERT INTO pros_cons (id, tool_id, kind, text, guild_id, imported_count, up_count,"
            " down_count, created_at) VALUES (4, 1, 'pro', 'Fast', 77, 0, 1, 0,"
            " CURRENT_TIMESTAMP)",
            "INSERT INTO pros_cons (id, tool_id, kind, text, imported_count, up_count,"
            " down_count, created_at) VALUES (5, 1, 'pro', 'Fast', 3, 0, 0, CURRENT_TIMESTAMP)",
            "INSERT INTO votes (id, target_kind, target_id, member_id, guild_id, value,"
            " message_id, created_at, updated_at) VALUES (2, 'pro_con', 4, 8, 77, 1, NULL,"
            " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
            "INSERT INTO tool_tallies (tool_id, guild_id, stacks, followers, votes) VALUES"
            " (1, 77, 0, 0, 1)",
        ):
            await connection.execute(text(statement))
    # Down again: members' copies of a catalog text cannot stay under the old constraint;
    # they go with their votes, and the tally follows.
    await migrate.downgrade(engine, "0003")
    async with engine.connect() as connection:
        texts = (
            await connection.execute(text("SELECT text, guild_id FROM pros_cons ORDER BY id"))
        ).all()
        votes = (await connection.execute(text("SELECT target_kind FROM votes"))).all()
        tally = (await connection.execute(text("SELECT votes FROM tool_tallies"))).scalar_one()
    assert [tuple(row) for row in texts] == [("Simple", None), ("Fast", None)]
    assert [tuple(row) for row in votes] == [("recommendation",)]
    assert tally == 0


async def test_0005_starts_digests_for_servers_that_chose_a_channel_before(engine):
    await migrate.upgrade(engine, "0004")
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO guild_settings (guild_id, advice_forum_id, digest_channel_id,"
                " idle_days, timezone, updated_at) VALUES (1, NULL, 10, 7, 'UTC',"
                " '2026-11-01 12:00:00'), (2, NULL, NULL, 7, 'UTC', '2026-11-01 12:00:00')"
            )
        )
    await migrate.upgrade(engine)
    async with engine.begin() as connection:
        found = (
            await connection.execute(
                text(
                    "SELECT guild_id, digest_set_at IS NOT NULL FROM guild_settings"
                    " ORDER BY guild_id"
                )
            )
        ).all()
    assert [tuple(row) for row in found] == [(1, True), (2, False)]
    await migrate.downgrade(engine, "0004")
