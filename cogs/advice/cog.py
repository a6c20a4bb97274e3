"""/advice: "needs advice" posts, recommendations voted with reactions, verdicts.

The commands and listeners; the flows they share with other features (opening a post,
showing its verdict, keeping its starter current) are `bot.flows.advice`, the components
are in `views`. The recommendation is recorded, then its message sent and attached: no
transaction is open during a Discord call.
"""

from __future__ import annotations

import logging
import time

import discord
from discord import app_commands
from discord.ext import commands

from bot.autocomplete import tool_choices
from bot.bot import StackupBot
from bot.core.advice import CLOSED, OPEN, check_reason, title_from
from bot.core.ratelimit import ADDITIONS, CHANGES
from bot.core.voting import DOWN, UP, BatchResult
from bot.render.advice import recommendation_embed
from bot.render.compare import clip
from bot.services.catalog import resolve_or_raise
from cogs._shared.discord_io import NO_PINGS, writes
from cogs.advice.flows import AdvicePosts
from cogs.advice.views import AdviceListPage, AskModal, Draft, RetryAsk, send_list

log = logging.getLogger(__name__)

STATUS_CHOICES = [
    app_commands.Choice(name="open", value=OPEN),
    app_commands.Choice(name="closed", value=CLOSED),
    app_commands.Choice(name="all", value="all"),
]
RECOMMENDED_CACHE_SECONDS = 10.0
RECOMMENDED_KEPT = 500


class Advice(commands.Cog):
    advice = app_commands.Group(
        name="advice", description="Ask the server which tool to choose", guild_only=True
    )

    def __init__(self, bot: StackupBot) -> None:
        self.bot = bot
        # Per thread: when read, and the recommended tools offered to `/advice close`.
        self._recommended: dict[int, tuple[float, dict[str, str]]] = {}

    @property
    def flows(self) -> AdvicePosts:
        """Read when used: the bot builds its flows before loading cogs, but a cog may be
        added to a bot that has not built them yet (tests load every extension that way)."""
        return self.bot.flows.advice

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(AdviceListPage, RetryAsk)

    async def cog_unload(self) -> None:
        self.flows.cancel()
        self.bot.remove_dynamic_items(AdviceListPage, RetryAsk)

    # -- /advice ask ------------------------------------------------------------------

    @advice.command(name="ask")
    @app_commands.describe(
        title="A short title (up to 100 characters)",
        question="What you need to decide; leave empty to write it in a form",
        tools="The tools you are choosing between, comma separated",
        context="Team size, scale, constraints",
    )
    async def ask(
        self,
        interaction: discord.Interaction,
        title: str | None = None,
        question: str | None = None,
        tools: str | None = None,
        context: str | None = None,
    ) -> None:
        """Open a "needs advice" post: members recommend tools and vote on them."""
        if question is None or not question.strip():
            await interaction.response.send_modal(AskModal(Draft(title or "", "", tools or "", "")))
            return
        await self.flows.open_post(
            interaction,
            title=title or title_from(question),
            question=question,
            tools=tools or "",
            context=context or "",
        )

    @ask.autocomplete("tools")
    async def _ask_tools(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """Completes the last name of the comma separated list."""
        head, _, last = current.rpartition(",")
        chosen = [name.strip().casefold() for name in head.split(",") if name.strip()]
        prefix = (head + ", ") if head else ""
        choices = []
        for choice in tool_choices(self.bot.catalog_index_now(), last.strip()):
            tool = self.bot.catalog_index.by_slug(choice.value)
            name = tool.name if tool is not None else choice.name
            if name.casefold() in chosen or len(prefix + name) > 100:
                continue
            choices.append(app_commands.Choice(name=prefix + name, value=prefix + name))
        return choices

    # -- /advice recommend --------------------------------------------------------------

    @advice.command(name="recommend")
    @writes(ADDITIONS)
    @app_commands.describe(tool="The tool you recommend", reason="Why: your experience with it")
    async def recommend(self, interaction: discord.Interaction, tool: str, reason: str) -> None:
        """Recommend a tool in this advice post; members vote on it with 👍 and 👎."""
        reason = check_reason(reason)
        entry = resolve_or_raise(await self.bot.fresh_catalog_index(), tool)
        summary, line = await self.bot.services.advice.recommend(
            thread_id=interaction.channel_id or 0,
            member_id=interaction.user.id,
            tool_id=entry.tool_id,
            reason=reason,
        )
        try:
            callback = await interaction.response.send_message(
                embed=recommendation_embed(line, interaction.user.display_name),
                allowed_mentions=NO_PINGS,
            )
            message = callback.resource
            if not isinstance(message, discord.InteractionMessage):
                message = await interaction.original_response()
        except discord.HTTPException:
            await self.bot.services.advice.withdraw_recommendation(line.id)
            raise
        await self.bot.services.advice.attach_message(
            line.id,
            guild_id=summary.guild_id,
            channel_id=message.channel.id,
            message_id=message.id,
        )
        try:
            for emoji in (UP, DOWN):
                await message.add_reaction(emoji)
        except discord.HTTPException:
            log.info("could not add vote reactions in %d", message.channel.id, exc_info=True)
        self.flows.ranking_changed(summary.id)
        self._recommended.pop(message.channel.id, None)
        # Reactions made in the moment before the message counted as a vote message are
        # read back from the message itself.
        await self.bot.flows.recounts.recount(message.channel.id, message.id)

    @recommend.autocomplete("tool")
    async def _recommend_tool(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return tool_choices(self.bot.catalog_index_now(), current)

    # -- /advice close ------------------------------------------------------------------

    @advice.command(name="close")
    @writes(CHANGES)
    @app_commands.describe(accepted="The recommended tool you chose (optional)")
    async def close(self, interaction: discord.Interaction, accepted: str | None = None) -> None:
        """Close this advice post with its verdict (the asker, Manage Threads or the closer role)."""
        accepted_id = None
        if accepted:
            accepted_id = resolve_or_raise(await self.bot.fresh_catalog_index(), accepted).tool_id
        closing = {
            "thread_id": interaction.channel_id or 0,
            "closer_id": interaction.user.id,
            "may_manage_threads": interaction.permissions.manage_threads,
            # A server's closer role may close too: the service compares them with it.
            "closer_role_ids": [role.id for role in getattr(interaction.user, "roles", ())],
            "accepted_tool_id": accepted_id,
        }
        # Refusals are private: checked before the verdict is deferred publicly.
        await self.bot.services.advice.check_close(**closing)
        await interaction.response.defer(thinking=True)
        # Votes already received count towards the verdict.
        await self.bot.services.votes.wait_idle()
        summary = await self.bot.services.advice.close(**closing)
        await self.flows.post_verdict(interaction, summary)

    @close.autocomplete("accepted")
    async def _close_accepted(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """The tools recommended in this post, read once per post every few seconds rather
        than on every keystroke."""
        thread_id = interaction.channel_id or 0
        cached = self._recommended.get(thread_id)
        if cached is None or time.monotonic() - cached[0] > RECOMMENDED_CACHE_SECONDS:
            summary = await self.bot.services.advice.post_in_thread(thread_id)
            offered: dict[str, str] = {}
            for line in summary.recommendations if summary is not None else ():
                offered.setdefault(line.tool.slug, clip(f"{line.tool.name} ({line.score:+d})", 100))
            cached = (time.monotonic(), offered)
            self._recommended[thread_id] = cached
            if len(self._recommended) > RECOMMENDED_KEPT:
                self._recommended.pop(next(iter(self._recommended)))
        needle = current.strip().casefold()
        return [
            app_commands.Choice(name=name, value=slug)
            for slug, name in cached[1].items()
            if not needle or needle in name.casefold()
        ][:25]

    # -- /advice list -------------------------------------------------------------------

    @advice.command(name="list")
    @app_commands.describe(tool="Only posts about this tool", status="Open, closed or all")
    @app_commands.choices(status=STATUS_CHOICES)
    async def list_posts(
        self,
        interaction: discord.Interaction,
        tool: str | None = None,
        status: app_commands.Choice[str] | None = None,
    ) -> None:
        """This server's advice posts, newest first."""
        tool_id = None
        if tool:
            tool_id = resolve_or_raise(await self.bot.fresh_catalog_index(), tool).tool_id
        await send_list(interaction, tool_id, status.value if status else "all", 1)

    @list_posts.autocomplete("tool")
    async def _list_tool(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return tool_choices(self.bot.catalog_index_now(), current)

    # -- keeping the starter message current --------------------------------------------

    @commands.Cog.listener()
    async def on_stackup_votes_applied(self, result: BatchResult) -> None:
        for post_id in sorted(result.changed_posts):
            self.flows.ranking_changed(post_id)

    @commands.Cog.listener()
    async def on_raw_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        post_id = await self.bot.services.advice.thread_gone(payload.thread_id)
        if post_id is not None:
            log.info("advice post %d closed: its thread was deleted", post_id)

    def _in_a_thread(self, channel_id: int) -> bool:
        """Recommendations live in threads; deletions elsewhere need no query. An uncached
        channel is checked all the same."""
        channel = self.bot.get_channel(channel_id)
        return channel is None or isinstance(channel, discord.Thread)

    @commands.Cog.listener()
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        if payload.guild_id is not None and self._in_a_thread(payload.channel_id):
            await self._recommendation_gone(payload.message_id)

    @commands.Cog.listener()
    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        if payload.guild_id is not None and self._in_a_thread(payload.channel_id):
            for message_id in sorted(payload.message_ids):
                await self._recommendation_gone(message_id)

    @commands.Cog.listener()
    async def on_stackup_vote_message_gone(self, message_id: int) -> None:
        await self._recommendation_gone(message_id)

    async def _recommendation_gone(self, message_id: int) -> None:
        """A deleted recommendation leaves the ranking, with its votes."""
        post_id = await self.bot.services.advice.withdraw_recommendation(message_id=message_id)
        if post_id is not None:
            self.flows.ranking_changed(post_id)


async def setup(bot: StackupBot) -> None:
    await bot.add_cog(Advice(bot))
