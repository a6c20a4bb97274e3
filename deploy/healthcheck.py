"""Container health: the settings load and the database answers `SELECT 1`. Needs no Discord.

The image's HEALTHCHECK runs it from /app, the bot's working directory, so it reads the same
environment and `.env` as `stackup run`. Exit status 0 is healthy, 1 is not; one line says why.
A SQLite database that does not exist yet is unhealthy rather than created here: `stackup run`
creates and migrates it (the HEALTHCHECK's start period covers that).
"""

from __future__ import annotations

import asyncio
import sys

TIMEOUT_SECONDS = 5.0


async def _select_one(database_url: str) -> None:
    from sqlalchemy import text

    from db.engine import create_engine

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()


def check() -> str | None:
    """None when healthy, else the reason (never a secret)."""
    from bot.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        return f"bad settings: {exc}".replace("\n", "; ")
    where = settings.redacted_database_url
    path = settings.sqlite_path
    if path is not None and not path.exists():
        return f"no database file yet at {path}"
    try:
        asyncio.run(asyncio.wait_for(_select_one(settings.database_url), TIMEOUT_SECONDS))
    except TimeoutError:
        return f"database did not answer within {TIMEOUT_SECONDS:g}s ({where})"
    except Exception as exc:  # any failure to connect or query is "unhealthy"
        reason = getattr(exc, "orig", None) or exc
        return f"database unreachable ({where}): {reason.__class__.__name__}: {reason}"
    return None


def main() -> int:
    problem = check()
    if problem is None:
        print("healthy")
        return 0
    print(f"unhealthy: {problem}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
