"""The confirm button of `/stackup reset`: a persistent `DynamicItem` whose custom_id names the
server it resets, so nothing is kept in memory between the question and the click."""

from __future__ import annotations

import re

import discord

from bot.errors import InvalidInput
from cogs._shared.discord_io import bot_of, guarded, manages_server

RESET_DONE = "Stackup's settings for this server are back to the defaults."


class ConfirmReset(
    discord.ui.DynamicItem[discord.ui.Button], template=r"stackup:reset:(?P<guild>\d{1,20})"
):
    def __init__(self, guild_id: int) -> None:
        self.guild_id = guild_id
        super().__init__(
            discord.ui.Button(
                label="Reset the settings",
                style=discord.ButtonStyle.danger,
                custom_id=f"stackup:reset:{guild_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> ConfirmReset:
        return cls(int(match["guild"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await guarded(interaction, self.reset(interaction))

    async def reset(self, interaction: discord.Interaction) -> None:
        # Checked again at the click: the command's check was then, and for someone else.
        manages_server(interaction)
        if interaction.guild_id != self.guild_id:
            raise InvalidInput("This button resets another server's settings.")
        bot = bot_of(interaction)
        await bot.services.guild_settings.reset(self.guild_id)
        # The guild's timers follow: idle closes and the digest go back to the defaults.
        bot.dispatch("stackup_guild_configured", self.guild_id)
        await interaction.response.edit_message(content=RESET_DONE, embed=None, view=None)
