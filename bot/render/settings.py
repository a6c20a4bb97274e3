"""The `/stackup setup` and `/stackup settings` answer: a server's settings and what Stackup lacks to use them. Pure:
data in, embed out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import discord

from bot.core.advice import GuildConfig
from bot.core.schedule import WEEKDAYS, digest_schedule_of
from bot.render.about import BRAND_COLOUR


def digest_schedule_text(config: GuildConfig, next_digest: datetime | None) -> str:
    if not config.digest_channel_id:
        return "off: choose a digest channel to get one"
    schedule = digest_schedule_of(config)
    day = WEEKDAYS[schedule.day]
    text = f"<#{config.digest_channel_id}>, {day}s at {schedule.hour:02d}:00 ({config.timezone})"
    if next_digest is not None:
        text += f"\nNext: <t:{int(next_digest.timestamp())}:F>"
    return text


def settings_embed(
    config: GuildConfig, notes: Sequence[str] = (), *, next_digest: datetime | None = None
) -> discord.Embed:
    """A server's Stackup settings, with what Stackup lacks to use them."""
    embed = discord.Embed(title="Stackup settings for this server", colour=BRAND_COLOUR)
    forum = (
        f"<#{config.advice_forum_id}>"
        if config.advice_forum_id
        else "none: threads in the channel asked in"
    )
    embed.add_field(name="Advice forum", value=forum, inline=False)
    embed.add_field(
        name="Weekly digest", value=digest_schedule_text(config, next_digest), inline=False
    )
    embed.add_field(name="Idle posts close after", value=f"{config.idle_days} days", inline=True)
    closer = (
        f"<@&{config.closer_role_id}>"
        if config.closer_role_id
        else "none: the asker and Manage Threads"
    )
    embed.add_field(name="Closer role", value=closer, inline=True)
    if notes:
        embed.add_field(name="Permissions", value="\n".join(notes)[:1024], inline=False)
    return embed
