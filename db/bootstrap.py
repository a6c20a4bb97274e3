"""Getting a database ready at start: migrate, and load the shipped catalog into an empty one.

Several bot processes (shard ranges) may start at once against one PostgreSQL database; a
session-level advisory lock lets one of them migrate and seed while the others wait, then find
nothing left to do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db import migrate
from db.catalog_format import SHIPPED_CATALOG_DIR, load_catalog
from db.catalog_import import ImportReport, count_tools, import_catalog
from db.engine import SessionFactory

# Any fixed 64-bit number; it names Stackup's start-up lock among the server's advisory locks.
STARTUP_LOCK = 0x5354_4143_4B55_5001


@asynccontextmanager
async def startup_lock(engine: AsyncEngine) -> AsyncIterator[None]:
    if engine.dialect.name != "postgresql":
        yield
        return
    async with engine.connect() as connection:
        await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": STARTUP_LOCK})
        await connection.commit()
        try:
            yield
        finally:
            await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": STARTUP_LOCK})
            await connection.commit()


async def prepare_database(engine: AsyncEngine, sessions: SessionFactory) -> ImportReport | None:
    """Migrate to head; import the shipped catalog when there are no tools. Safe to race."""
    async with startup_lock(engine):
        await migrate.upgrade(engine)
        if await count_tools(sessions) == 0:
            return await import_catalog(sessions, load_catalog([SHIPPED_CATALOG_DIR]))
    return None


class NotMigrated(Exception):
    pass


async def require_migrated(engine: AsyncEngine) -> None:
    if await migrate.current_revision(engine) != migrate.head_revision():
        raise NotMigrated
