"""Small key/value facts the bot keeps about itself (see `AppMeta`)."""

from __future__ import annotations

from db.engine import SessionFactory
from db.models import AppMeta
from db.tallies import dialect_insert


class MetaService:
    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    async def get(self, key: str) -> str | None:
        async with self._sessions() as session:
            row = await session.get(AppMeta, key)
            return row.value if row else None

    async def set(self, key: str, value: str) -> None:
        """An upsert: two processes setting the same key at once both succeed (the later
        write wins), where a read then an insert would fail one on the primary key."""
        async with self._sessions() as session, session.begin():
            statement = (
                dialect_insert(session)(AppMeta)
                .values(key=key, value=value)
                .on_conflict_do_update(index_elements=["key"], set_={"value": value})
            )
            await session.exec(statement)
