"""One playground: the real bot with its real settings, on a temporary SQLite database
(migrated, with the shipped catalog), connected to simcord's simulated Discord instead of
Discord, and the demo server built through it. Everything lives in a temporary folder that is
removed when the playground ends.

The bot's clock is simcord's: `advance` moves it, and runs the scheduled work that comes due on
the way in order (idle posts, reminders, digests), as APScheduler would if days had passed.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from simcord.env import Env

from bot.bot import StackupBot
from bot.playground.world import DemoWorld, WorldError, build_world
from bot.settings import Settings, configure_logging, load_settings
from db.bootstrap import prepare_database
from db.engine import SessionFactory, create_engine, create_session_factory

# How long simcord waits for the bot after a member acts. Below ranking_edit_seconds' default
# (5 s): simcord waits for timers due within it, and a debounced edit should land later, in
# real time, as it does in Discord, rather than hold the prompt.
QUICK_SETTLE_SECONDS = 4.0
# What a simulated week of scheduled work, or an answer on a loaded machine, may take.
SETTLE_SECONDS = 120.0
# Stackup's loggers and asyncio's (a task that died unread): an ERROR there is a failure.
FAILURE_LOGGERS = ("bot", "cogs", "db", "stackup", "asyncio")
BOT_NAME = "Stackup"


class ErrorLog(logging.Handler):
    """Keeps the ERROR records of Stackup's loggers: a script fails if there is any."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".", 1)[0] in FAILURE_LOGGERS:
            self.records.append(record)


def playground_settings(folder: Path, **overrides: object) -> Settings:
    """The settings the bot reads everywhere, with what the playground needs: its own
    database, no token, one shard, nothing fetched from or served to the network."""
    values: dict[str, object] = {
        "database_url": f"sqlite+aiosqlite:///{folder / 'stackup.db'}",
        "discord_token": None,
        "shard_count": 1,
        "shard_ids": None,
        "dev_guild_id": None,
        "github_stats": False,
        "metrics_port": None,
        "log_level": "WARNING",
    }
    values.update(overrides)
    return load_settings(**values)


@dataclass
class Playground:
    settings: Settings
    folder: Path
    env: Env
    bot: StackupBot
    errors: ErrorLog
    world: DemoWorld | None = None

    @property
    def files(self) -> Path:
        path = self.folder / "files"
        path.mkdir(exist_ok=True)
        return path

    def now(self) -> datetime:
        return self.env.now()

    async def advance(self, seconds: float) -> None:
        """Move the clock `seconds` on; each scheduled job due meanwhile runs at its moment."""
        target = self.env.now() + timedelta(seconds=seconds)
        # A job run here that the scheduler still holds at the same deadline (a repeating one:
        # APScheduler only moves it on by the wall clock) is done for this wait, as coalesced.
        fired: set[tuple[str, datetime]] = set()
        while (due := self._next_due(target, fired)) is not None:
            when, job_id = due
            await self._advance_to(when)
            fired.add((job_id, when))
            await self._fire(job_id)
        await self._advance_to(target)

    def _next_due(
        self, target: datetime, fired: set[tuple[str, datetime]]
    ) -> tuple[datetime, str] | None:
        timers = self.bot.timers
        due = []
        for job_id in timers.job_ids():
            when = timers.due_at(job_id)
            if when is not None and when <= target and (job_id, when) not in fired:
                due.append((when, job_id))
        return min(due, default=None)

    async def _advance_to(self, when: datetime) -> None:
        seconds = (when - self.env.now()).total_seconds()
        if seconds <= 0:
            return
        # While time is being advanced every timer is virtual, so a longer limit waits for
        # nothing but the work itself.
        self.env.settle_timeout = SETTLE_SECONDS
        try:
            await self.env.advance_time(seconds)
        finally:
            self.env.settle_timeout = QUICK_SETTLE_SECONDS

    async def _fire(self, job_id: str) -> None:
        """What APScheduler would call at the job's time (its own timer counts wall-clock
        time, which a simulated week does not move)."""
        pending = self.bot.timers.pending(job_id)
        if pending is None:
            return
        job, args = pending
        # Started as the bot's own work, as APScheduler's task is, so that settling waits for
        # the tasks it starts in turn (the same call the project's schedule tests make).
        with self.env._bot_scope():
            task = asyncio.ensure_future(job(*args))
        await task
        await self.settle()

    async def settle(self) -> None:
        """Waits for the bot's work; longer than usual if it is still busy (a loaded machine)."""
        try:
            await self.env.settle()
        except TimeoutError:
            await self.env.settle(timeout=SETTLE_SECONDS)


@asynccontextmanager
async def playground(*, build: bool = True, **overrides: object) -> AsyncIterator[Playground]:
    """A running playground (with the demo server unless `build` is false)."""
    with tempfile.TemporaryDirectory(prefix="stackup-playground-") as name:
        folder = Path(name)
        settings = playground_settings(folder, **overrides)
        configure_logging(settings)
        # discord.py warns about voice libraries at every client built: nothing to do with
        # Stackup, and it would open every session. Its level comes back at the end (the
        # metrics count discord.http's rate-limit warnings).
        discord_log = logging.getLogger("discord")
        discord_level = discord_log.level
        discord_log.setLevel(logging.ERROR)
        errors = ErrorLog()
        logging.getLogger().addHandler(errors)
        engine = create_engine(settings.database_url)
        try:
            sessions = create_session_factory(engine)
            await prepare_database(engine, sessions)
            async with _simulated(settings, engine, sessions) as (env, bot):
                found = Playground(settings, folder, env, bot, errors)
                if build:
                    found.world = await build_world(env, found.advance)
                    if errors.records:
                        raise WorldError(f"Stackup logged: {errors.records[0].getMessage()}")
                yield found
        finally:
            logging.getLogger().removeHandler(errors)
            discord_log.setLevel(discord_level)
            await engine.dispose()


@asynccontextmanager
async def _simulated(
    settings: Settings, engine: object, sessions: SessionFactory
) -> AsyncIterator[tuple[Env, StackupBot]]:
    """The bot logged in to simcord, on simcord's clock; closed (charts, votes, timers) before
    the simulated Discord goes."""
    env: Env | None = None

    def clock() -> datetime:
        assert env is not None
        return env.now()

    bot = StackupBot(settings, engine, sessions, clock=clock)  # type: ignore[arg-type]
    # The playground reports bot errors itself (the error log), so simcord re-raises none.
    env = Env(bot, check_errors=False, settle_timeout=QUICK_SETTLE_SECONDS)
    env.backend.edit_bot_profile(BOT_NAME)
    await env.start()
    try:
        with env.time_context():
            yield env, bot
    finally:
        try:
            await bot.close()
        finally:
            await env.shutdown()
