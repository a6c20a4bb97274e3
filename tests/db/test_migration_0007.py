"""Migration 0007 (guild departures) up and down on SQLite and PostgreSQL, the rows around it
kept either way."""

from __future__ import annotations

from sqlalchemy import text

from db import migrate
from tests.db.test_migrations import A_TOOL_AND_A_POST, engine, table_names

__all__ = ["engine"]  # the fixture, on both databases


async def test_0007_adds_departures_and_takes_them_away_again(engine):
    await migrate.upgrade(engine, "0006")
    async with engine.begin() as connection:
        for statement in A_TOOL_AND_A_POST:
            await connection.execute(text(statement))
    assert "guild_departures" not in await table_names(engine)

    await migrate.upgrade(engine, "0007")
    assert await migrate.current_revision(engine) == "0007"
    async with engine.begin() as connection:
        # A snowflake past 32 bits, as every guild id is.
        await connection.execute(
            text(
                "INSERT INTO guild_departures (guild_id, left_at)"
                " VALUES (:guild, '2026-12-01 10:00:00+00')"
            ),
            {"guild": 2**62},
        )
        stored = (await connection.execute(text("SELECT guild_id FROM guild_departures"))).one()
    assert tuple(stored) == (2**62,)

    await migrate.downgrade(engine, "0006")
    assert "guild_departures" not in await table_names(engine)
    async with engine.connect() as connection:
        posts = (await connection.execute(text("SELECT count(*) FROM advice_posts"))).scalar_one()
    assert posts == 1
    await migrate.upgrade(engine)
    assert "guild_departures" in await table_names(engine)
