"""`/stackup …`: about the bot itself, and a server's settings."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.advice import IDLE_DAYS_RANGE
from bot.bot import StackupBot
from bot.errors import InvalidInput
from bot.ratelimit import CHANGES
from bot.render.about import about_embed, settings_embed
from bot.services.advice import UNSET
from cogs._common import manages_server, writes
from cogs._forum import ensure_solved_tag

# What Stackup needs in the advice forum, and what each lets it do.
FORUM_NEEDS = {
    "view_channel": "see the forum",
    "send_messages": "open posts",
    "send_messages_in_threads": "post recommendations and verdicts",
    "embed_links": "show embeds",
    "attach_files": "attach verdict charts",
    "add_reactions": "add 👍 and 👎 to recommendations",
    "read_message_history": "count votes",
    "manage_threads": "lock and archive closed posts",
}
FORUM_WANTS = {
    "manage_channels": "create tags for tools and the Solved tag",
    "manage_messages": "remove a member's old reaction when they switch their vote",
}


class ForumOption(app_commands.Transformer):
    """A forum channel (not a media channel, which Discord's API spec does not list)."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return [discord.ChannelType.forum]

    async def transform(
        self, interaction: discord.Interaction, value: object
    ) -> discord.ForumChannel:
        channel = (
            interaction.guild.get_channel(getattr(value, "id", 0)) if interaction.guild else None
        )
        if not isinstance(channel, discord.ForumChannel):
            raise InvalidInput("Choose a forum channel for advice posts.")
        return channel


def _permission_notes(forum: discord.ForumChannel) -> list[str]:
    me = forum.guild.me
    if me is None:
        return []
    granted = forum.permissions_for(me)
    notes = [
        f"⚠️ Missing **{name.replace('_', ' ').title()}** in {forum.mention}: cannot {why}."
        for name, why in FORUM_NEEDS.items()
        if not getattr(granted, name)
    ]
    notes += [
        f"ℹ️ Without **{name.replace('_', ' ').title()}** Stackup cannot {why}."
        for name, why in FORUM_WANTS.items()
        if not getattr(granted, name)
    ]
    return notes


class Meta(commands.Cog):
    stackup = app_commands.Group(name="stackup", description="About Stackup and its settings")

    def __init__(self, bot: StackupBot) -> None:
        self.bot = bot

    @stackup.command(name="about")
    async def about(self, interaction: discord.Interaction) -> None:
        """Stackup's version, the size of its catalog and useful links."""
        about = await self.bot.about()
        await interaction.response.send_message(embed=about_embed(about), ephemeral=True)

    @stackup.command(name="setup")
    @app_commands.describe(
        advice_forum="The forum where advice posts go (without one, posts are threads)",
        digest_channel="Where the weekly digest goes",
        idle_days="Days without activity before an advice post is closed",
    )
    @writes(CHANGES)
    @app_commands.check(manages_server)  # checked first: a refused member spends nothing
    async def setup(
        self,
        interaction: discord.Interaction,
        advice_forum: app_commands.Transform[discord.ForumChannel, ForumOption] | None = None,
        digest_channel: discord.TextChannel | None = None,
        idle_days: app_commands.Range[int, IDLE_DAYS_RANGE[0], IDLE_DAYS_RANGE[1]] | None = None,
    ) -> None:
        """Choose the advice forum, the digest channel and when idle posts close (Manage Server)."""
        assert interaction.guild is not None
        config = await self.bot.advice.configure(
            interaction.guild.id,
            advice_forum_id=advice_forum.id if advice_forum is not None else UNSET,
            digest_channel_id=digest_channel.id if digest_channel is not None else UNSET,
            idle_days=idle_days if idle_days is not None else UNSET,
        )
        notes: list[str] = []
        forum = interaction.guild.get_channel(config.advice_forum_id or 0)
        if isinstance(forum, discord.ForumChannel):
            notes = _permission_notes(forum)
            if await ensure_solved_tag(forum) is None:
                notes.append(
                    "ℹ️ No **Solved** tag: closed posts are locked and archived without it."
                )
        await interaction.response.send_message(embed=settings_embed(config, notes), ephemeral=True)


async def setup(bot: StackupBot) -> None:
    await bot.add_cog(Meta(bot))
