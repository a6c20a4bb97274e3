"""The Stackup bot: a discord.py Bot built from the settings, the engine and the session factory."""

from __future__ import annotations

import asyncio
import hashlib
import importlib.metadata
import json
import logging
import pkgutil
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands
from sqlalchemy.ext.asyncio import AsyncEngine

import cogs
from bot.charts import ChartRenderer
from bot.core.ratelimit import RateLimiter, member_rules
from bot.core.resolver import CatalogIndex
from bot.endpoints import route_gateway
from bot.errors import StackupError
from bot.keyed_locks import KeyedLocks
from bot.metrics import FAILED, OK, REJECTED, Metrics
from bot.services import Services
from bot.services.catalog import About
from bot.settings import Settings
from bot.timers import Timers
from cogs.advice.forum_tags import ForumTags
from db.engine import SessionFactory
from db.locks import wait_for_lock, waiting_for
from db.types import utcnow

if TYPE_CHECKING:
    from cogs._shared.flows import Flows

log = logging.getLogger(__name__)

INDEX_FRESHNESS_SECONDS = 30.0
# Discord takes one IDENTIFY per max_concurrency bucket every 5 seconds, across all processes.
IDENTIFY_SPACING_SECONDS = 5.0
UNEXPECTED_ERROR = "Something went wrong on Stackup's side. It has been logged; please try again."


def stackup_version() -> str:
    try:
        return importlib.metadata.version("stackup")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


# Discord's client names some permissions differently from the API.
PERMISSION_NAMES = {"manage_guild": "Manage Server", "manage_channels": "Manage Channels"}


def _permission_names(permissions: list[str]) -> str:
    return ", ".join(PERMISSION_NAMES.get(p, p.replace("_", " ").title()) for p in permissions)


def _check_failure_message(error: app_commands.AppCommandError) -> str | None:
    if isinstance(error, app_commands.MissingPermissions):
        missing = _permission_names(error.missing_permissions)
        return f"You need the {missing} permission to do that."
    if isinstance(error, app_commands.BotMissingPermissions):
        missing = _permission_names(error.missing_permissions)
        return f"Stackup needs the {missing} permission here; ask a server admin."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "That command works in a server, not in direct messages."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down a little: try again in {error.retry_after:.0f} s."
    if isinstance(error, app_commands.CheckFailure):
        return "You cannot use that command here."
    if isinstance(error, app_commands.TransformerError):
        return f"“{str(error.value)[:80]}” is not a valid value for that option."
    return None


def cog_extensions() -> list[str]:
    """Every feature package's cog module (`cogs/<feature>/cog.py`); `cogs/_shared` is not a
    feature."""
    return [
        f"cogs.{module.name}.cog"
        for module in pkgutil.iter_modules(cogs.__path__)
        if module.ispkg and not module.name.startswith("_")
    ]


class StackupTree(app_commands.CommandTree["StackupBot"]):
    """One error handler for every app command: domain errors become ephemeral replies. Every
    command's outcome and duration is counted here too (the successes in the bot's
    `on_app_command_completion`)."""

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.type is discord.InteractionType.application_command:
            interaction.extras[COMMAND_STARTED] = time.perf_counter()
        return True

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        count_command(interaction, _outcome(error))
        await report_error(interaction, error)


COMMAND_STARTED = "stackup_started"


def _outcome(error: app_commands.AppCommandError) -> str:
    original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    if isinstance(original, StackupError) or _check_failure_message(error) is not None:
        return REJECTED
    return FAILED


def count_command(interaction: discord.Interaction, outcome: str) -> None:
    command = interaction.command
    name = command.qualified_name if command is not None else "unknown"
    started = interaction.extras.get(COMMAND_STARTED)
    seconds = time.perf_counter() - started if started is not None else None
    interaction.client.metrics.command_done(name, outcome, seconds)  # type: ignore[attr-defined]


async def report_error(interaction: discord.Interaction, error: Exception) -> None:
    """Tell the member what went wrong: a domain error's own message, a failed check's reason,
    or (logged with its traceback) an apology. Commands and components both end here."""
    original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    if isinstance(original, StackupError):
        message = original.message
    else:
        message = (
            _check_failure_message(error)
            if isinstance(error, app_commands.AppCommandError)
            else None
        )
        if message is None:
            if interaction.command is not None:
                where = f"command /{interaction.command.qualified_name}"
            else:
                where = f"component {(interaction.data or {}).get('custom_id', '?')}"
            log.error("%s failed", where, exc_info=original)
            message = UNEXPECTED_ERROR
    await send_ephemeral(interaction, message)


async def send_ephemeral(interaction: discord.Interaction, message: str) -> None:
    """Tell only the member who acted, whatever state the interaction's response is in."""
    no_pings = discord.AllowedMentions.none()
    try:
        if not interaction.response.is_done():
            await interaction.response.send_message(
                message, ephemeral=True, allowed_mentions=no_pings
            )
            return
        if interaction.response.type is discord.InteractionResponseType.deferred_channel_message:
            # A deferred reply's "thinking…" message decides the visibility of what replaces it.
            original = await interaction.original_response()
            if original.flags.loading:
                if not original.flags.ephemeral:
                    # Cogs check input before deferring publicly, so this should not happen.
                    log.warning("error shown publicly after a public deferral: %s", message)
                await interaction.edit_original_response(content=message, allowed_mentions=no_pings)
                return
        await interaction.followup.send(message, ephemeral=True, allowed_mentions=no_pings)
    except discord.HTTPException:
        log.warning("could not tell the member about an error", exc_info=True)


class StackupBot(commands.AutoShardedBot):
    def __init__(
        self,
        settings: Settings,
        engine: AsyncEngine,
        session_factory: SessionFactory,
        *,
        charts: ChartRenderer | None = None,
        index_freshness_seconds: float = INDEX_FRESHNESS_SECONDS,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=discord.Intents.default(),
            # Nothing the bot sends pings anyone unless a message opts in explicitly.
            allowed_mentions=discord.AllowedMentions.none(),
            owner_ids=set(settings.owner_ids),
            shard_count=settings.shard_count,
            shard_ids=list(settings.shard_ids) if settings.shard_ids is not None else None,
            tree_cls=StackupTree,
            max_messages=1000,
        )
        route_gateway(self.http, settings)
        self.settings = settings
        self.version = stackup_version()  # read from disk once, not inside a command
        self.engine = engine
        self.sessions = session_factory
        # The time every service and timer reads; tests move it instead of waiting.
        self.clock = clock
        # Written votes reach cogs as events: "stackup_votes_applied" (a BatchResult) and
        # "stackup_votes_failed" (message ids to recount).
        self.services = Services.build(
            settings,
            session_factory,
            clock=clock,
            version=self.version,
            on_votes_applied=lambda result: self.dispatch("stackup_votes_applied", result),
            on_votes_failed=lambda message_ids: self.dispatch("stackup_votes_failed", message_ids),
        )
        # Per-member write limits; tests replace its clock to move time.
        self.limits = RateLimiter(
            member_rules(settings.rate_additions_per_minute, settings.rate_changes_per_minute)
        )
        # Scheduled work: deadlines in the database, APScheduler as the alarm clock.
        self.timers = Timers(clock)
        # Forum tags change one PATCH at a time per forum, from what Discord returned.
        self.forum_tags = ForumTags(self)
        # An advice post's Discord edits (ranking, verdict, lock, scheduled messages) in turn,
        # so none lands on a thread another has just archived.
        self.post_locks = KeyedLocks()
        # A renderer passed in belongs to the caller (tests share one); our own we close.
        self._owns_charts = charts is None
        self.charts = charts if charts is not None else ChartRenderer(settings.chart_workers)
        self._start_catalog_index(index_freshness_seconds)
        self.metrics = self._new_metrics()
        # What features run of each other's: built by `setup_hook`, before any cog loads.
        self.flows: Flows
        # `stackup sync` turns this off and syncs itself, whether or not anything changed.
        self.sync_on_setup = True
        self._start_identify_coordination()

    def _new_metrics(self) -> Metrics:
        """Always counted; served only with METRICS_PORT (by `setup_hook`)."""
        return Metrics(
            queue_depth=lambda: self.services.votes.queue_depth,
            votes_submitted=lambda: self.services.votes.stats.submitted,
            latencies=lambda: self.latencies,
        )

    def _start_identify_coordination(self) -> None:
        # On PostgreSQL, how long an IDENTIFY's bucket stays locked after the hook returns (the
        # IDENTIFY goes out right after it); tests replace it with an event to release at will.
        self.identify_hold: Callable[[], Awaitable[object]] = lambda: asyncio.sleep(
            IDENTIFY_SPACING_SECONDS
        )
        # Discord's session start limit; read from GET /gateway/bot on first IDENTIFY if unset.
        self.max_concurrency: int | None = None
        self._identify_holds: set[asyncio.Task[None]] = set()

    def _start_catalog_index(self, freshness_seconds: float) -> None:
        """Empty until `setup_hook` reads the catalog; then checked for changes at most every
        `freshness_seconds`."""
        self.catalog_index = CatalogIndex([])
        self._index_freshness = freshness_seconds
        self._index_checked_at = 0.0
        self._index_refresh: asyncio.Task[None] | None = None

    async def setup_hook(self) -> None:
        self.metrics.watch_rate_limits()
        if self.settings.metrics_port is not None:
            self.metrics.serve(self.settings.metrics_host, self.settings.metrics_port)
        await self.refresh_catalog_index()
        await self.charts.start()
        self.timers.start()
        from cogs._shared.flows import Flows  # cogs import this module: imported once it is

        self.flows = Flows(self)
        for extension in cog_extensions():
            await self.load_extension(extension)
        await self.sync_commands_if_changed()

    async def close(self) -> None:
        # No new scheduled work starts; votes already received are written before the
        # connection pool goes.
        self.timers.shutdown()
        await self.services.votes.wait_idle()
        flows: Flows | None = getattr(self, "flows", None)  # None if setup_hook did not run
        if flows is not None:
            await flows.close()
        if self.services.external_stats is not None:
            await self.services.external_stats.close()
        if self._owns_charts:
            await self.charts.close()
        await self.release_identify_holds()
        await asyncio.to_thread(self.metrics.close)
        await super().close()

    async def on_app_command_completion(
        self,
        interaction: discord.Interaction,
        command: app_commands.Command | app_commands.ContextMenu,
    ) -> None:
        count_command(interaction, OK)

    async def release_identify_holds(self) -> None:
        """Holds still running unlock now (their connections go back before the pool goes)."""
        holds = list(self._identify_holds)
        for hold in holds:
            hold.cancel()
        await asyncio.gather(*holds, return_exceptions=True)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """One IDENTIFY per max_concurrency bucket every 5 seconds, across every process on the
        PostgreSQL database: wait for the bucket's advisory lock (a session lock on a connection
        of its own, outside any transaction) and keep it `identify_hold` (5 s) after returning.
        On SQLite (one process), discord.py's own spacing."""
        if self.engine.dialect.name != "postgresql":
            await super().before_identify_hook(shard_id, initial=initial)
            return
        bucket = (shard_id or 0) % await self._max_concurrency()
        release = await wait_for_lock(self.engine, f"identify:{bucket}")
        hold = asyncio.create_task(self._hold_then_release(release))
        self._identify_holds.add(hold)
        hold.add_done_callback(self._identify_holds.discard)

    async def _hold_then_release(self, release: Callable[[], Awaitable[None]]) -> None:
        try:
            await self.identify_hold()
        finally:
            try:
                await release()
            except Exception:
                log.exception("could not release an IDENTIFY lock (its connection was closed)")

    async def _max_concurrency(self) -> int:
        if self.max_concurrency is None:
            try:
                self.max_concurrency = (await self.fetch_session_start_limits()).max_concurrency
            except (discord.HTTPException, discord.GatewayNotFound) as exc:
                log.warning("could not read max_concurrency (%s); assuming 1", exc)
                self.max_concurrency = 1
        return max(self.max_concurrency, 1)

    async def refresh_catalog_index(self) -> None:
        self.catalog_index = await self.services.catalog.build_index()
        self._index_checked_at = time.monotonic()
        log.info(
            "catalog index: %d tools, %d names (revision %d)",
            len(self.catalog_index),
            len(self.catalog_index.labels),
            self.catalog_index.revision,
        )

    async def fresh_catalog_index(self) -> CatalogIndex:
        """For commands: the index, rebuilt first if another process (an import) changed the
        catalog. Costs one small query at most every `index_freshness_seconds`."""
        if self._index_is_due():
            await self._refresh_if_changed()
        return self.catalog_index

    def catalog_index_now(self) -> CatalogIndex:
        """For autocomplete, which cannot wait: the index as it is; if it is due for a check,
        the check runs in the background and the next keystroke sees its result."""
        if self._index_is_due() and self._index_refresh is None:
            self._index_refresh = asyncio.create_task(self._refresh_if_changed())
            self._index_refresh.add_done_callback(self._index_refresh_done)
        return self.catalog_index

    def _index_is_due(self) -> bool:
        return time.monotonic() - self._index_checked_at >= self._index_freshness

    def _index_refresh_done(self, task: asyncio.Task[None]) -> None:
        self._index_refresh = None
        if not task.cancelled() and task.exception() is not None:
            log.error("catalog index refresh failed", exc_info=task.exception())

    async def _refresh_if_changed(self) -> None:
        self._index_checked_at = time.monotonic()
        if await self.services.catalog.revision() != self.catalog_index.revision:
            await self.refresh_catalog_index()

    def _command_payload(self, guild: discord.abc.Snowflake | None) -> list[dict]:
        commands_ = self.tree.get_commands(guild=guild)
        return sorted((c.to_dict(self.tree) for c in commands_), key=lambda c: c["name"])

    async def sync_commands_if_changed(self) -> None:
        """Sync the command tree only when it differs from what was last synced.

        Syncing on every start burns a rate-limited endpoint; the hash of what was synced,
        per application and scope, lives in the database.
        """
        if not self.sync_on_setup:
            return
        try:
            if self.engine.dialect.name == "postgresql":
                # Several processes start together: one syncs, the others wait here, then
                # find its hash stored and skip.
                async with waiting_for(self.engine, "sync_commands"):
                    await self.sync_commands()
            else:
                await self.sync_commands()
        except discord.HTTPException as exc:
            # Commands keep their last synced form; the next start tries again.
            log.error("could not sync application commands (%s): %s", self._sync_scope(), exc)

    def _sync_scope(self) -> str:
        guild_id = self.settings.dev_guild_id
        return f"guild:{guild_id}" if guild_id else "global"

    async def sync_commands(self, *, force: bool = False) -> int | None:
        """Sync the command tree, globally or copied to DEV_GUILD_ID's server, and remember what
        was synced; unless `force`, only when it changed (None then). Raises HTTPException."""
        guild = None
        if self.settings.dev_guild_id:
            guild = discord.Object(id=self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
        payload = json.dumps(self._command_payload(guild), sort_keys=True)
        digest = hashlib.sha256(payload.encode()).hexdigest()
        scope = self._sync_scope()
        key = f"synced_commands:{self.application_id}:{scope}"
        if not force and await self.services.meta.get(key) == digest:
            log.info("application commands unchanged; not syncing")
            return None
        synced = await self.tree.sync(guild=guild)
        await self.services.meta.set(key, digest)
        log.info("synced %d application commands (%s)", len(synced), scope)
        return len(synced)

    async def about(self) -> About:
        return About(
            version=self.version,
            catalog=await self.services.catalog.stats(),
            guilds=len(self.guilds),
            application_id=self.application_id,
        )
