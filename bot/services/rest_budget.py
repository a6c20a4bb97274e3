"""So many Discord requests of one kind a window, for every process of the bot together.

Discord counts a bot's requests per token, whichever process sends them: with one process per
shard range, each process keeping to a limit of its own would let all of them together go over
it. On PostgreSQL the processes share the count through their database (`db/rest_budget.py`).
On SQLite there is one process, and the count is kept in memory.

Windows are numbered from the epoch in the bot's clock, so every process agrees on where one
ends (to within the hosts' clock skew).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from db.engine import SessionFactory
from db.rest_budget import take_unit


class RestBudget:
    def __init__(
        self,
        sessions: SessionFactory,
        *,
        name: str,
        per_window: int,
        window: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self.name = name
        self.per_window = per_window
        self._window = window
        self._clock = clock
        self.shared = sessions.kw["bind"].dialect.name == "postgresql"
        # SQLite: the window being counted and the units taken in it.
        self._local: tuple[int, int] = (-1, 0)

    def _window_of(self, moment: datetime) -> int:
        return int((moment - datetime.fromtimestamp(0, UTC)) // self._window)

    def window_start(self, window: int) -> datetime:
        return datetime.fromtimestamp(0, UTC) + window * self._window

    async def take(self) -> datetime | None:
        """One unit: None if it was granted, else the moment (in the bot's clock) the next
        window starts, which is when to ask again."""
        window = self._window_of(self._clock())
        if await self._take(window):
            return None
        return self.window_start(window + 1)

    async def _take(self, window: int) -> bool:
        if self.shared:
            async with self._sessions() as session, session.begin():
                return await take_unit(
                    session, name=self.name, window=window, limit=self.per_window
                )
        counted, used = self._local
        if counted != window:
            counted, used = window, 0
        if used >= self.per_window:
            return False
        self._local = (counted, used + 1)
        return True
