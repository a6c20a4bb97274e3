"""MetaService: small key/value facts, written by several processes at once."""

from __future__ import annotations

import asyncio

from bot.services.meta import MetaService
from db.engine import create_engine, create_session_factory


async def test_set_inserts_then_overwrites(db):
    meta = MetaService(db)
    assert await meta.get("k") is None
    await meta.set("k", "one")
    await meta.set("k", "two")
    assert await meta.get("k") == "two"


async def test_two_processes_setting_a_new_key_at_once_both_succeed(db):
    engine = db.kw["bind"]
    if engine.dialect.name != "postgresql":
        # SQLite is one process: nothing to race.
        return
    other_engine = create_engine(engine.url.render_as_string(hide_password=False))
    try:
        first, second = MetaService(db), MetaService(create_session_factory(other_engine))
        for round_ in range(20):
            key = f"k{round_}"
            await asyncio.gather(first.set(key, "first"), second.set(key, "second"))
            assert await first.get(key) in ("first", "second")
        # Sequential writes: the last one wins.
        await first.set("k0", "first")
        await second.set("k0", "second")
        assert await first.get("k0") == "second"
    finally:
        await other_engine.dispose()
