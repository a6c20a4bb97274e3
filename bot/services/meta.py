"""Small key/value facts the bot keeps about itself (see `AppMeta`)."""

from __future__ import annotations

from db.engine import SessionFactory
from db.models import AppMeta


class MetaService:
    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    async def get(self, key: str) -> str | None:
        async with self._sessions() as session:
            row = await session.get(AppMeta, key)
            return row.value if row else None

    async def set(self, key: str, value: str) -> None:
        async with self._sessions() as session, session.begin():
            row = await session.get(AppMeta, key)
            if row is None:
                session.add(AppMeta(key=key, value=value))
            else:
                row.value = value
