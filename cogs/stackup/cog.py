"""`/stackup …`: about the bot itself, a server's settings, and forgetting a member; and the
bot joining and leaving servers (a server's data is deleted a while after it leaves)."""

from __future__ import annotations

import asyncio

import discord
from discord import app_commands
from discord.ext import commands

from bot.bot import StackupBot
from bot.core.advice import IDLE_DAYS_RANGE, GuildConfig
from bot.core.ratelimit import CHANGES
from bot.core.schedule import WEEKDAYS, digest_schedule_of, timezone_matches
from bot.errors import InvalidInput, NotAllowed
from bot.permissions import DIGEST_NEEDS, FORUM_NEEDS, FORUM_WANTS, permission_label
from bot.render.about import about_embed
from bot.render.privacy import FORGET_QUESTION
from bot.render.settings import settings_embed
from bot.render.status import BotStatus, status_embed
from bot.services.guild_settings import UNSET
from cogs._shared.discord_io import manages_server, writes
from cogs.stackup.views import CancelForget, ConfirmForget, ConfirmReset

# How long /stackup setup waits for the Solved tag before it answers.
SOLVED_TAG_WAIT_SECONDS = 1.5


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


def _permission_notes(
    channel: discord.ForumChannel | discord.TextChannel,
    needs: dict[str, str],
    wants: dict[str, str] | None = None,
) -> list[str]:
    """What Stackup lacks in the channel: what it needs, then what it would like."""
    me = channel.guild.me
    if me is None:
        return []
    granted = channel.permissions_for(me)
    notes = [
        f"⚠️ Missing **{permission_label(name)}** in {channel.mention}: cannot {why}."
        for name, why in needs.items()
        if not getattr(granted, name)
    ]
    notes += [
        f"ℹ️ Without **{permission_label(name)}** Stackup cannot {why}."
        for name, why in (wants or {}).items()
        if not getattr(granted, name)
    ]
    return notes


class Meta(commands.Cog):
    stackup = app_commands.Group(name="stackup", description="About Stackup and its settings")

    def __init__(self, bot: StackupBot) -> None:
        self.bot = bot
        # Loaded by the bot's setup_hook, before it connects: its uptime starts here.
        self.started = bot.clock()
        self.bot.add_dynamic_items(ConfirmReset, ConfirmForget, CancelForget)

    @stackup.command(name="about")
    async def about(self, interaction: discord.Interaction) -> None:
        """Stackup's version, the size of its catalog and useful links."""
        about = await self.bot.about()
        await interaction.response.send_message(embed=about_embed(about), ephemeral=True)

    @stackup.command(name="status")
    async def status(self, interaction: discord.Interaction) -> None:
        """Stackup's health: shards, database, scheduled jobs and queues (the bot's owners)."""
        # Checked here, whatever permissions a server gives the command.
        if not await self.bot.is_owner(interaction.user):
            raise NotAllowed("Only Stackup's owners can see its status.")
        ping = await self.bot.services.status.ping()
        status = BotStatus(
            version=self.bot.version,
            uptime=self.bot.clock() - self.started,
            shards=sorted(self.bot.latencies),
            guilds=len(self.bot.guilds),
            database=ping.backend,
            database_ms=ping.latency_ms,
            jobs=len(self.bot.timers.job_ids()),
            vote_queue=self.bot.services.votes.queue_depth,
        )
        await interaction.response.send_message(embed=status_embed(status), ephemeral=True)

    @stackup.command(name="setup")
    @app_commands.describe(
        advice_forum="The forum where advice posts go (without one, posts are threads)",
        digest_channel="Where the weekly digest goes (choosing one turns the digest on)",
        digest_day="The day the weekly digest is sent (Monday if not chosen)",
        digest_hour="The hour, 0 to 23 in the server's time zone, the digest is sent (9)",
        timezone="The server's time zone for the digest, like Europe/Paris (UTC)",
        stop_digest="Turn the weekly digest off",
        idle_days="Days without activity before an advice post is closed",
        closer_role="A role whose members may close advice posts (besides the asker and mods)",
        clear_closer_role="Remove the closer role",
    )
    @app_commands.choices(
        digest_day=[app_commands.Choice(name=day, value=n) for n, day in enumerate(WEEKDAYS)]
    )
    @writes(CHANGES)
    @app_commands.check(manages_server)  # checked first: a refused member spends nothing
    async def setup(
        self,
        interaction: discord.Interaction,
        advice_forum: app_commands.Transform[discord.ForumChannel, ForumOption] | None = None,
        digest_channel: discord.TextChannel | None = None,
        digest_day: app_commands.Choice[int] | None = None,
        digest_hour: app_commands.Range[int, 0, 23] | None = None,
        timezone: app_commands.Range[str, 1, 64] | None = None,
        stop_digest: bool = False,
        idle_days: app_commands.Range[int, IDLE_DAYS_RANGE[0], IDLE_DAYS_RANGE[1]] | None = None,
        closer_role: discord.Role | None = None,
        clear_closer_role: bool = False,
    ) -> None:
        """Choose the advice forum, the digest, when idle posts close, who closes (Manage Server)."""
        assert interaction.guild is not None
        if stop_digest and digest_channel is not None:
            raise InvalidInput("Choose a digest channel or stop the digest, not both.")
        if clear_closer_role and closer_role is not None:
            raise InvalidInput("Choose a closer role or clear it, not both.")
        role_id: int | None = UNSET
        if clear_closer_role:
            role_id = None
        elif closer_role is not None:
            role_id = closer_role.id
        channel_id: int | None = UNSET
        if stop_digest:
            channel_id = None
        elif digest_channel is not None:
            channel_id = digest_channel.id
        config = await self.bot.services.guild_settings.configure(
            interaction.guild.id,
            advice_forum_id=advice_forum.id if advice_forum is not None else UNSET,
            digest_channel_id=channel_id,
            digest_day=digest_day.value if digest_day is not None else UNSET,
            digest_hour=digest_hour if digest_hour is not None else UNSET,
            timezone=timezone if timezone is not None else UNSET,
            idle_days=idle_days if idle_days is not None else UNSET,
            closer_role_id=role_id,
        )
        # The guild's timers follow: idle closes and the digest.
        self.bot.dispatch("stackup_guild_configured", interaction.guild.id)
        await interaction.response.send_message(
            embed=await self._settings_embed(interaction.guild, config), ephemeral=True
        )

    @stackup.command(name="settings")
    @app_commands.check(manages_server)
    async def settings(self, interaction: discord.Interaction) -> None:
        """This server's Stackup settings, in one private message (Manage Server)."""
        assert interaction.guild is not None
        config = await self.bot.services.guild_settings.settings(interaction.guild.id)
        await interaction.response.send_message(
            embed=await self._settings_embed(interaction.guild, config), ephemeral=True
        )

    @stackup.command(name="reset")
    @writes(CHANGES)
    @app_commands.check(manages_server)  # checked first: a refused member spends nothing
    async def reset(self, interaction: discord.Interaction) -> None:
        """Put this server's settings back to the defaults; posts and votes stay (Manage Server)."""
        assert interaction.guild is not None
        view = discord.ui.View(timeout=None)
        view.add_item(ConfirmReset(interaction.guild.id))
        await interaction.response.send_message(
            "Reset Stackup's settings for this server to the defaults? The advice forum, the "
            "weekly digest, idle days and the closer role are forgotten; advice posts and "
            "votes stay.",
            view=view,
            ephemeral=True,
        )

    @stackup.command(name="forget-me")
    @writes(CHANGES)
    async def forget_me(self, interaction: discord.Interaction) -> None:
        """Delete what Stackup holds about you in this server (asks first)."""
        if interaction.guild is None:
            raise app_commands.NoPrivateMessage()
        view = discord.ui.View(timeout=None)
        view.add_item(ConfirmForget(interaction.user.id))
        view.add_item(CancelForget(interaction.user.id))
        await interaction.response.send_message(FORGET_QUESTION, view=view, ephemeral=True)

    # -- servers joined and left ------------------------------------------------------

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """Removed from a server, or the server deleted: its data goes a while later."""
        await self.bot.flows.schedule.guild_left(guild.id)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        """Added to a server: if it had left it, nothing of it is deleted."""
        await self.bot.flows.schedule.guild_back(guild.id)

    @commands.Cog.listener()
    async def on_guild_available(self, guild: discord.Guild) -> None:
        """A server the bot had left, and was added back to while it was down, keeps its
        data."""
        await self.bot.flows.schedule.guilds_present([guild.id])

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """Every server the bot is in at start, whether or not each became available first,
        keeps its data; one it has data of but is not in was left while it was down."""
        await self.bot.flows.schedule.guilds_present(guild.id for guild in self.bot.guilds)
        await self.bot.flows.schedule.guilds_gone_at_start()

    async def _settings_embed(self, guild: discord.Guild, config: GuildConfig) -> discord.Embed:
        """The settings as saved, with what Stackup lacks in the channels they name."""
        notes: list[str] = []
        forum = guild.get_channel(config.advice_forum_id or 0)
        if isinstance(forum, discord.ForumChannel):
            notes = _permission_notes(forum, FORUM_NEEDS, FORUM_WANTS)
            notes += await self._solved_tag_notes(forum)
        next_digest = None
        if config.digest_channel_id:
            next_digest = digest_schedule_of(config).next_moment(self.bot.clock())
            digest_channel_now = guild.get_channel(config.digest_channel_id)
            if isinstance(digest_channel_now, discord.TextChannel):
                notes += _permission_notes(digest_channel_now, DIGEST_NEEDS)
        return settings_embed(config, notes, next_digest=next_digest)

    async def _solved_tag_notes(self, forum: discord.ForumChannel) -> list[str]:
        """Creating *Solved* may wait for the forum's other tag changes, then read and write
        the forum: past a moment the answer goes out (Discord wants one within 3 s) and the
        tag is created all the same."""
        creating = asyncio.ensure_future(self.bot.forum_tags.solved(forum))
        done, _ = await asyncio.wait({creating}, timeout=SOLVED_TAG_WAIT_SECONDS)
        if not done:
            return ["ℹ️ The **Solved** tag is being created."]
        if creating.result() is None:
            return ["ℹ️ No **Solved** tag: closed posts are locked and archived without it."]
        return []

    @setup.autocomplete("timezone")
    async def _timezone(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=name, value=name) for name in timezone_matches(current)]


async def setup(bot: StackupBot) -> None:
    await bot.add_cog(Meta(bot))
