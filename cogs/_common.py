"""What every cog needs: the bot behind an interaction, no pings, and chart attachments."""

from __future__ import annotations

import io

import discord
from discord import app_commands

from bot.bot import StackupBot
from bot.charts import ChartSpec
from bot.ratelimit import RateLimited
from bot.render.compare import CHART_FILENAME

NO_PINGS = discord.AllowedMentions.none()


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
