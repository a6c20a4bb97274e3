"""A server's Stackup settings: its advice forum, when idle advice posts close, who besides
the asker may close them, and its weekly digest. One transaction per use-case; no Discord here.

Read by the advice flows (where a post goes) and written by `/stackup setup`; the schedule
reads idle days and digest times straight from the same rows in its own queries.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.advice import IDLE_DAYS_RANGE, GuildConfig
from bot.core.schedule import WEEKDAYS, check_timezone
from bot.errors import InvalidInput
from db.engine import SessionFactory
from db.models import GuildSettings
from db.schedule import guild_config
from db.types import utcnow

# "Leave this setting as it is": None is a value some settings take (no digest channel).
UNSET: Any = object()


def _check(*, idle_days: int, digest_day: int, digest_hour: int, timezone: str) -> str:
    """Refuse values out of range; the time zone as stored (or UNSET)."""
    if idle_days is not UNSET and not IDLE_DAYS_RANGE[0] <= idle_days <= IDLE_DAYS_RANGE[1]:
        low, high = IDLE_DAYS_RANGE
        raise InvalidInput(f"Idle days must be between {low} and {high}.")
    if digest_day is not UNSET and not 0 <= digest_day < len(WEEKDAYS):
        raise InvalidInput("The digest day must be a day of the week.")
    if digest_hour is not UNSET and not 0 <= digest_hour <= 23:
        raise InvalidInput("The digest hour must be between 0 and 23.")
    return check_timezone(timezone) if timezone is not UNSET else timezone


async def read_config(session: AsyncSession, guild_id: int) -> GuildConfig:
    """A guild's settings read in the caller's transaction (closing an idle post reads its
    idle days in the transaction holding the post)."""
    return guild_config(await session.get(GuildSettings, guild_id), guild_id)


class GuildSettingsService:
    def __init__(
        self, session_factory: SessionFactory, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._sessions = session_factory
        self._clock = clock

    async def settings(self, guild_id: int) -> GuildConfig:
        async with self._sessions() as session:
            return await read_config(session, guild_id)

    async def configure(
        self,
        guild_id: int,
        *,
        advice_forum_id: int | None = UNSET,
        digest_channel_id: int | None = UNSET,
        idle_days: int = UNSET,
        digest_day: int = UNSET,
        digest_hour: int = UNSET,
        timezone: str = UNSET,
        closer_role_id: int | None = UNSET,
    ) -> GuildConfig:
        """Change the settings given (UNSET ones stay as they are); the settings now."""
        timezone = _check(
            idle_days=idle_days, digest_day=digest_day, digest_hour=digest_hour, timezone=timezone
        )
        digest = {
            "digest_channel_id": digest_channel_id,
            "digest_day": digest_day,
            "digest_hour": digest_hour,
            "timezone": timezone,
        }
        async with self._sessions() as session, session.begin():
            row = await session.get(GuildSettings, guild_id, with_for_update=True)
            if row is None:
                row = GuildSettings(guild_id=guild_id)
                session.add(row)
            now = self._clock()
            if advice_forum_id is not UNSET:
                row.advice_forum_id = advice_forum_id
            if idle_days is not UNSET:
                row.idle_days = idle_days
            if closer_role_id is not UNSET:
                row.closer_role_id = closer_role_id
            changed = {k: v for k, v in digest.items() if v is not UNSET and getattr(row, k) != v}
            for name, value in changed.items():
                setattr(row, name, value)
            if changed or (row.digest_channel_id and row.digest_set_at is None):
                # Digest moments before now were never asked for (see DigestSchedule.due).
                row.digest_set_at = now
            row.updated_at = now
        return guild_config(row, guild_id)

    async def reset(self, guild_id: int) -> bool:
        """Back to the defaults: the guild's settings row goes (its posts and votes stay).
        False if it had chosen nothing."""
        async with self._sessions() as session, session.begin():
            row = await session.get(GuildSettings, guild_id, with_for_update=True)
            if row is None:
                return False
            await session.delete(row)
            return True
