"""The bot's own health, for `/stackup status`: the database's round trip. No Discord here."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import text

from db.engine import SessionFactory


@dataclass(frozen=True)
class DatabasePing:
    backend: str  # the SQLAlchemy dialect: "sqlite" or "postgresql"
    latency_ms: float


class StatusService:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    @property
    def backend(self) -> str:
        return self._sessions.kw["bind"].dialect.name

    async def ping(self) -> DatabasePing:
        """One `SELECT 1`, timed from taking a pooled connection to the row."""
        async with self._sessions() as session:
            started = time.perf_counter()
            await session.exec(text("SELECT 1"))
            elapsed = time.perf_counter() - started
        return DatabasePing(backend=self.backend, latency_ms=elapsed * 1000)
