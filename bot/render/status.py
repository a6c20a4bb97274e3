"""The `/stackup status` card for the bot's owners. Pure: data in, embed out."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import discord

from bot.render.about import BRAND_COLOUR

# Discord allows 1024 characters a field value; past this many shards the list is cut.
MAX_SHARDS_SHOWN = 25


@dataclass(frozen=True)
class BotStatus:
    version: str
    uptime: timedelta
    shards: Sequence[tuple[int, float]]  # (shard id, heartbeat latency in seconds)
    guilds: int
    database: str  # "sqlite" or "postgresql"
    database_ms: float
    jobs: int
    vote_queue: int


def uptime_text(uptime: timedelta) -> str:
    seconds = max(0, int(uptime.total_seconds()))
    days, seconds = divmod(seconds, 86_400)
    hours, seconds = divmod(seconds, 3_600)
    minutes, seconds = divmod(seconds, 60)
    if days:
        return f"{days} d {hours} h {minutes} min"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {seconds} s"


def _latency_text(seconds: float) -> str:
    # A shard that has not yet heartbeated reports infinity (or NaN).
    return f"{seconds * 1000:.0f} ms" if math.isfinite(seconds) else "no heartbeat yet"


def _shards_text(shards: Sequence[tuple[int, float]]) -> str:
    if not shards:
        return "none connected"
    lines = [f"#{shard_id}: {_latency_text(latency)}" for shard_id, latency in shards]
    if len(lines) > MAX_SHARDS_SHOWN:
        hidden = len(lines) - MAX_SHARDS_SHOWN
        lines = [*lines[:MAX_SHARDS_SHOWN], f"… and {hidden} more"]
    return "\n".join(lines)


def status_embed(status: BotStatus) -> discord.Embed:
    embed = discord.Embed(title="Stackup status", colour=BRAND_COLOUR)
    embed.add_field(name="Version", value=status.version, inline=True)
    embed.add_field(name="Uptime", value=uptime_text(status.uptime), inline=True)
    embed.add_field(name="Servers", value=f"{status.guilds:,}", inline=True)
    embed.add_field(name="Shards", value=_shards_text(status.shards), inline=False)
    embed.add_field(
        name="Database",
        value=f"{status.database}, `SELECT 1` in {status.database_ms:.1f} ms",
        inline=False,
    )
    embed.add_field(name="Scheduled jobs", value=f"{status.jobs:,}", inline=True)
    embed.add_field(name="Vote queue", value=f"{status.vote_queue:,} waiting", inline=True)
    return embed
