"""`/stackup …`: about the bot itself."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import StackupBot
from bot.render.about import about_embed


class Meta(commands.Cog):
    stackup = app_commands.Group(name="stackup", description="About Stackup and its settings")

    def __init__(self, bot: StackupBot) -> None:
        self.bot = bot

    @stackup.command(name="about")
    async def about(self, interaction: discord.Interaction) -> None:
        """Stackup's version, the size of its catalog and useful links."""
        about = await self.bot.about()
        await interaction.response.send_message(embed=about_embed(about), ephemeral=True)


async def setup(bot: StackupBot) -> None:
    await bot.add_cog(Meta(bot))
