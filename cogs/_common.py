"""What every cog needs: the bot behind an interaction, no pings, and chart attachments."""

from __future__ import annotations

import io

import discord

from bot.bot import StackupBot
from bot.charts import ChartSpec
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
