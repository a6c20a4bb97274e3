"""A REST budget several bot processes share through their one database: so many units (Discord
requests) a window, counted in `app_meta` (no table of its own), one row per window.

A unit is taken by one INSERT ... ON CONFLICT DO UPDATE ... WHERE used < limit RETURNING: on
PostgreSQL the conflicting row is locked and the condition re-read on its newest version, so
processes taking at the same moment never grant more than the limit between them. The statement
also runs on SQLite (3.35 and later), where one process is the only taker.
"""

from __future__ import annotations

from sqlalchemy import Integer, Text, cast, delete
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import AppMeta
from db.tallies import dialect_insert

KEY_PREFIX = "rest_budget:"
# Zero-padded, so that keys sort as their windows do (epoch seconds have 10 digits until 2286).
WINDOW_DIGITS = 12


def window_key(name: str, window: int) -> str:
    return f"{KEY_PREFIX}{name}:{window:0{WINDOW_DIGITS}d}"


async def take_unit(session: AsyncSession, *, name: str, window: int, limit: int) -> bool:
    """One unit of `name`'s budget for `window` (a window's number: its start divided by its
    length), if fewer than `limit` were taken in it; in the caller's transaction."""
    key = window_key(name, window)
    used = cast(AppMeta.value, Integer)
    statement = (
        dialect_insert(session)(AppMeta)
        .values(key=key, value="1")
        .on_conflict_do_update(
            index_elements=["key"], set_={"value": cast(used + 1, Text)}, where=used < limit
        )
        .returning(AppMeta.value)
    )
    taken = (await session.exec(statement)).scalar_one_or_none()  # type: ignore[call-overload]
    if taken == "1":
        # The window's first unit: the rows of windows before it are no longer read.
        await session.exec(
            delete(AppMeta).where(  # type: ignore[call-overload]
                AppMeta.key.startswith(f"{KEY_PREFIX}{name}:", autoescape=True),  # type: ignore[attr-defined]
                AppMeta.key < key,
            )
        )
    return taken is not None
