"""Start-up preparation: several processes starting at once on one PostgreSQL database."""

from __future__ import annotations

import asyncio

from db import migrate
from db.bootstrap import prepare_database
from db.catalog_format import SHIPPED_CATALOG_DIR, load_catalog
from db.catalog_import import count_tools
from db.engine import create_engine, create_session_factory
from tests.conftest import sqlite_url
from tests.postgres import fresh_postgres_url


async def test_processes_starting_together_migrate_and_seed_once():
    async for url in fresh_postgres_url():
        engines = [create_engine(url) for _ in range(3)]
        try:
            reports = await asyncio.gather(
                *(prepare_database(engine, create_session_factory(engine)) for engine in engines)
            )
            sessions = create_session_factory(engines[0])
            assert await migrate.current_revision(engines[0]) == migrate.head_revision()
            assert await count_tools(sessions) == len(load_catalog([SHIPPED_CATALOG_DIR]).tools)
            assert sum(report is not None for report in reports) == 1
        finally:
            for engine in engines:
                await engine.dispose()


async def test_a_database_with_tools_is_not_seeded_again(tmp_path):
    engine = create_engine(sqlite_url(tmp_path / "boot.db"))
    try:
        sessions = create_session_factory(engine)
        first = await prepare_database(engine, sessions)
        assert first is not None and len(first.created) == await count_tools(sessions)
        assert await prepare_database(engine, sessions) is None
    finally:
        await engine.dispose()
