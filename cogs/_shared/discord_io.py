"""What every cog needs: the bot behind an interaction, no pings, and chart attachments."""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

import discord
from discord import app_commands

from bot.bot import StackupBot, report_error
from bot.charts import ChartSpec
from bot.core.privacy import FORMER_MEMBER, FORMER_MEMBER_ID
from bot.core.ratelimit import RateLimited
from bot.render.compare import CHART_FILENAME

NO_PINGS = discord.AllowedMentions.none()
log = logging.getLogger(__name__)
# Past this many remembered edits, those older than the interval are forgotten.
LAST_EDITS_KEPT = 10_000


def bot_of(interaction: discord.Interaction) -> StackupBot:
    return interaction.client  # type: ignore[return-value]


class ChartFile(discord.File):
    """Discord's spec types an upload's attachment id as a snowflake string; discord.py sends
    the index as a number, which the spec (if not Discord) refuses. Send what the spec says."""

    def to_dict(self, index: int) -> dict[str, object]:
        payload = super().to_dict(index)
        payload["id"] = str(index)
        return payload


async def chart_file(bot: StackupBot, spec: ChartSpec, description: str) -> discord.File | None:
    """The chart drawn off the loop, as an attachment; None if it could not be drawn in time."""
    png = await bot.charts.render(spec)
    if png is None:
        return None
    return ChartFile(io.BytesIO(png), filename=CHART_FILENAME, description=description)


def manages_server(interaction: discord.Interaction) -> bool:
    """An app command check for moderation: Manage Server, checked here and not only by
    default permissions, which a server's admins can change."""
    if interaction.guild is None:
        raise app_commands.NoPrivateMessage()
    if not interaction.permissions.manage_guild:
        raise app_commands.MissingPermissions(["manage_guild"])
    return True


def limit_writes(interaction: discord.Interaction, bucket: str) -> None:
    """Count one write of the member's in `bucket` (per guild), or raise `RateLimited`, which
    the error handler answers privately with the time left. For components' callbacks."""
    bot_of(interaction).limits.hit(bucket, (interaction.guild_id, interaction.user.id))


class TooManyWrites(RateLimited, app_commands.CheckFailure):
    """A failed check must be an AppCommandError to reach the tree's error handler."""


def writes(bucket: str):
    """App command check: the command writes, so it counts against the member's `bucket`."""

    async def predicate(interaction: discord.Interaction) -> bool:
        try:
            limit_writes(interaction, bucket)
        except RateLimited as limited:
            raise TooManyWrites(limited.rule, limited.retry_after) from None
        return True

    return app_commands.check(predicate)


class Debouncer:
    """Runs `action(key)` when something behind `key` changed (a message's counts): at once if
    it did not run for that key in the last `interval` seconds, else once when the interval is
    over, however many changes came meanwhile. Edits stay within Discord's rate limits."""

    def __init__(
        self, interval: float, action: Callable[[int], Awaitable[None]], *, name: str
    ) -> None:
        self.interval = interval
        self.action = action
        self.name = name
        self._last_run: dict[int, float] = {}
        self._scheduled: dict[int, asyncio.Task[None]] = {}

    def touch(self, key: int) -> None:
        if key in self._scheduled:
            return
        if len(self._last_run) > LAST_EDITS_KEPT:
            quiet = time.monotonic() - self.interval
            self._last_run = {k: t for k, t in self._last_run.items() if t > quiet}
        last = self._last_run.get(key)
        delay = 0.0 if last is None else max(0.0, last + self.interval - time.monotonic())
        self._scheduled[key] = asyncio.get_running_loop().create_task(
            self._run_after(key, delay), name=f"stackup-{self.name}-{key}"
        )

    async def _run_after(self, key: int, delay: float) -> None:
        try:
            if delay > 0:
                await asyncio.sleep(delay)
        finally:
            # A cancelled run may end after a newer one was scheduled for the key: that one
            # stays scheduled.
            if self._scheduled.get(key) is asyncio.current_task():
                del self._scheduled[key]
        self._last_run[key] = time.monotonic()
        try:
            await self.action(key)
        except Exception:
            log.exception("%s %d failed", self.name, key)

    def discard(self, key: int) -> None:
        """A run still waiting for `key` is dropped (what it would show was shown otherwise)."""
        task = self._scheduled.pop(key, None)
        if task is not None:
            task.cancel()

    def cancel(self) -> None:
        for task in self._scheduled.values():
            task.cancel()
        self._scheduled.clear()


def keep_recent(kept: OrderedDict, key: object, value: object, limit: int) -> None:
    """Keep at most `limit` entries, the most recently kept."""
    kept[key] = value
    kept.move_to_end(key)
    while len(kept) > limit:
        kept.popitem(last=False)


class MemberNames:
    """Members' display names for embeds edited later (rankings, vote counts): without the
    members intent a member is rarely cached, so a name seen or fetched once is kept rather
    than fetched on every edit."""

    def __init__(self, bot: StackupBot, limit: int = 5_000) -> None:
        self.bot = bot
        self.limit = limit
        self._names: OrderedDict[tuple[int, int], str] = OrderedDict()

    def remember(self, guild_id: int, member_id: int, name: str) -> None:
        keep_recent(self._names, (guild_id, member_id), name, self.limit)

    async def display_name(self, guild_id: int, member_id: int) -> str:
        if member_id == FORMER_MEMBER_ID:
            # Forgotten at their request: nobody to look up, nothing to fetch.
            return FORMER_MEMBER.capitalize()
        known = self._names.get((guild_id, member_id))
        if known is not None:
            return known
        guild = self.bot.get_guild(guild_id)
        if guild is None:
            return "A member"
        member = guild.get_member(member_id)
        if member is None:
            try:
                member = await guild.fetch_member(member_id)
            except discord.HTTPException:
                return "A member"
        self.remember(guild_id, member_id, member.display_name)
        return member.display_name


async def edit_embed(
    bot: StackupBot, channel_id: int, message_id: int, embed: discord.Embed, *, guild_id: int
) -> bool:
    """Show a message's embed anew (counts changed) by id, with no fetch; False if the message
    is gone. Other failures are logged: the next change edits it again."""
    message = bot.get_partial_messageable(channel_id, guild_id=guild_id).get_partial_message(
        message_id
    )
    try:
        await message.edit(embed=embed, allowed_mentions=NO_PINGS)
    except discord.NotFound:
        return False
    except discord.HTTPException:
        log.info("could not edit message %d", message_id, exc_info=True)
    return True


async def guarded(interaction: discord.Interaction, action: Awaitable[None]) -> None:
    """A component's failure reaches the member the same way a command's does."""
    try:
        await action
    except Exception as error:  # every failure is reported to the member, none swallowed
        await report_error(interaction, error)
