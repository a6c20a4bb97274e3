"""/advice: "needs advice" posts, recommendations voted with reactions, verdicts.

Every Discord call happens outside the service's transactions: the thread is created, then the
post recorded; the recommendation recorded, then its message sent and attached. The starter
message's live ranking is edited at most once every `ranking_edit_seconds` per post.
"""

from __future__ import annotations

import logging
import re
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.autocomplete import tool_choices
from bot.bot import StackupBot, report_error, send_ephemeral
from bot.core.advice import (
    CLOSED,
    CONTEXT_LIMIT,
    MAX_TOOLS,
    OPEN,
    QUESTION_LIMIT,
    TITLE_LIMIT,
    AdviceSummary,
    OpenedPost,
    check_context,
    check_question,
    check_reason,
    check_title,
    split_tool_names,
    title_from,
)
from bot.core.comparison import ToolRef
from bot.core.ratelimit import ADDITIONS, CHANGES
from bot.core.voting import DOWN, UP
from bot.errors import InvalidInput, StackupError
from bot.render import only_pinging
from bot.render.advice import (
    advice_list_embed,
    recommendation_embed,
    starter_embed,
    verdict_chart_spec,
    verdict_embed,
)
from bot.render.compare import clip
from bot.services.advice import NewPost
from bot.services.catalog import resolve_or_raise, resolve_refs
from cogs._shared.discord_io import (
    NO_PINGS,
    Debouncer,
    MemberNames,
    bot_of,
    chart_file,
    edit_embed,
    guarded,
    keep_recent,
    limit_writes,
    recount_message,
    writes,
)
from cogs.advice.forum_tags import POST_TAG_LIMIT, TagsFound
from db.reaction_votes import BatchResult

log = logging.getLogger(__name__)

ARCHIVE_AFTER_MINUTES = 10080  # a week, the longest Discord offers
STATUS_CHOICES = [
    app_commands.Choice(name="open", value=OPEN),
    app_commands.Choice(name="closed", value=CLOSED),
    app_commands.Choice(name="all", value="all"),
]


def _names(refs: Sequence[ToolRef]) -> str:
    return ", ".join(ref.name for ref in refs)


# ---------------------------------------------------------------- the ask modal


DRAFTS_KEPT = 500
RECOMMENDED_CACHE_SECONDS = 10.0


class AskModal(discord.ui.Modal, title="Ask for advice"):
    def __init__(
        self,
        cog: Advice,
        *,
        title: str = "",
        tools: str = "",
        question: str = "",
        context: str = "",
    ) -> None:
        super().__init__(timeout=900)
        self.cog = cog
        self.post_title = discord.ui.TextInput(
            label="Title",
            custom_id="title",
            placeholder="Flask or Django for a REST API?",
            max_length=TITLE_LIMIT,
            default=title[:TITLE_LIMIT] or None,
        )
        self.question = discord.ui.TextInput(
            label="Question",
            custom_id="question",
            style=discord.TextStyle.paragraph,
            placeholder="What must you decide, and what matters most?",
            max_length=QUESTION_LIMIT,
            default=question[:QUESTION_LIMIT] or None,
        )
        self.tools = discord.ui.TextInput(
            label="Tools involved (comma separated)",
            custom_id="tools",
            placeholder="Flask, Django",
            max_length=200,
            default=tools[:200] or None,
        )
        self.context = discord.ui.TextInput(
            label="Context: team size, scale, constraints",
            custom_id="context",
            style=discord.TextStyle.paragraph,
            required=False,
            max_length=CONTEXT_LIMIT,
            default=context[:CONTEXT_LIMIT] or None,
        )
        for item in (self.post_title, self.question, self.tools, self.context):
            self.add_item(item)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        draft = Draft(
            self.post_title.value, self.question.value, self.tools.value, self.context.value
        )
        self.cog.keep_draft(interaction.user.id, draft)
        await self.cog.open_post(
            interaction,
            title=draft.title,
            question=draft.question,
            tools=draft.tools,
            context=draft.context,
        )
        self.cog.drafts.pop(interaction.user.id, None)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        """A mistake in the form should not cost the member what they wrote: the answer comes
        with a button that opens the form again, filled in."""
        if not isinstance(error, StackupError):
            await report_error(interaction, error)
            return
        view = discord.ui.View(timeout=None)
        view.add_item(RetryAsk())
        if interaction.response.is_done():
            await interaction.followup.send(
                error.message, view=view, ephemeral=True, allowed_mentions=NO_PINGS
            )
        else:
            await interaction.response.send_message(
                error.message, view=view, ephemeral=True, allowed_mentions=NO_PINGS
            )


@dataclass(frozen=True)
class Draft:
    title: str
    question: str
    tools: str
    context: str


class RetryAsk(discord.ui.DynamicItem[discord.ui.Button], template=r"stackup:advice:retry"):
    def __init__(self) -> None:
        super().__init__(
            discord.ui.Button(
                label="Edit and try again",
                emoji="✏️",
                style=discord.ButtonStyle.primary,
                custom_id="stackup:advice:retry",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> RetryAsk:
        return cls()

    async def callback(self, interaction: discord.Interaction) -> None:
        cog = bot_of(interaction).get_cog("Advice")
        if not isinstance(cog, Advice):
            await send_ephemeral(interaction, "Advice posts are not available right now.")
            return
        # After a restart the draft is gone: the form opens empty rather than not at all.
        draft = cog.drafts.get(interaction.user.id, Draft("", "", "", ""))
        await interaction.response.send_modal(
            AskModal(
                cog,
                title=draft.title,
                question=draft.question,
                tools=draft.tools,
                context=draft.context,
            )
        )


# ---------------------------------------------------------------- the list pager


class AdviceListPage(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"stackup:advlist:(?P<tool>\d{1,19}):(?P<status>open|closed|all):(?P<page>\d{1,6}):(?P<dir>p|n)",
):
    def __init__(self, tool_id: int, status: str, page: int, direction: str, *, disabled: bool):
        self.tool_id, self.status, self.page = tool_id, status, page
        super().__init__(
            discord.ui.Button(
                label="◀ Newer" if direction == "p" else "Older ▶",
                style=discord.ButtonStyle.secondary,
                disabled=disabled,
                custom_id=f"stackup:advlist:{tool_id}:{status}:{page}:{direction}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> AdviceListPage:
        return cls(
            int(match["tool"]), match["status"], int(match["page"]), match["dir"], disabled=False
        )

    async def callback(self, interaction: discord.Interaction) -> None:
        await guarded(
            interaction,
            _send_list(interaction, self.tool_id or None, self.status, self.page, edit=True),
        )


async def _send_list(
    interaction: discord.Interaction,
    tool_id: int | None,
    status: str,
    page: int,
    *,
    edit: bool = False,
) -> None:
    bot = bot_of(interaction)
    if interaction.guild_id is None:
        raise InvalidInput("Advice posts live in servers.")
    found = await bot.services.advice.list_posts(
        guild_id=interaction.guild_id,
        tool_id=tool_id,
        status=None if status == "all" else status,
        page=page,
    )
    embed = advice_list_embed(found, interaction.guild_id)
    view = discord.ui.View(timeout=None)
    if found.pages > 1:
        view.add_item(
            AdviceListPage(tool_id or 0, status, found.page - 1, "p", disabled=found.page <= 1)
        )
        view.add_item(
            AdviceListPage(
                tool_id or 0, status, found.page + 1, "n", disabled=found.page >= found.pages
            )
        )
    if edit:
        await interaction.response.edit_message(embed=embed, view=view)
    else:
        await interaction.response.send_message(embed=embed, view=view, allowed_mentions=NO_PINGS)


# ---------------------------------------------------------------- the cog


class Advice(commands.Cog):
    advice = app_commands.Group(
        name="advice", description="Ask the server which tool to choose", guild_only=True
    )

    def __init__(self, bot: StackupBot) -> None:
        self.bot = bot
        # A post's starter shows its ranking; edited at most once per interval.
        self.rankings = Debouncer(
            bot.settings.ranking_edit_seconds, self.refresh_starter, name="ranking edit"
        )
        # What members wrote in a form that was refused, for "Edit and try again".
        self.drafts: OrderedDict[int, Draft] = OrderedDict()
        # Askers' display names, for the starter embeds.
        self.names = MemberNames(bot)
        # Per thread: when read, and the recommended tools offered to `/advice close`.
        self._recommended: dict[int, tuple[float, dict[str, str]]] = {}

    def keep_draft(self, member_id: int, draft: Draft) -> None:
        keep_recent(self.drafts, member_id, draft, DRAFTS_KEPT)

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(AdviceListPage, RetryAsk)

    async def cog_unload(self) -> None:
        self.rankings.cancel()
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
            await interaction.response.send_modal(
                AskModal(self, title=title or "", tools=tools or "")
            )
            return
        await self.open_post(
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

    async def ask_about(self, interaction: discord.Interaction, refs: Sequence[ToolRef]) -> None:
        """The "Ask for advice" button under a comparison: the form, with the tools filled in."""
        if interaction.guild_id is None:
            raise InvalidInput("Advice posts live in servers; ask in one where Stackup is.")
        await interaction.response.send_modal(AskModal(self, tools=_names(refs)))

    async def open_post(
        self,
        interaction: discord.Interaction,
        *,
        title: str,
        question: str,
        tools: str,
        context: str,
    ) -> None:
        guild = interaction.guild
        if guild is None:
            raise InvalidInput("Advice posts live in servers.")
        # Counted here, not as a check: asking without a question only opens the form.
        limit_writes(interaction, ADDITIONS)
        title = check_title(title)
        question = check_question(question)
        context = check_context(context)
        refs = await self._resolve_tools(tools)
        config = await self.bot.services.advice.settings(guild.id)
        forum = guild.get_channel(config.advice_forum_id) if config.advice_forum_id else None
        if not isinstance(forum, discord.ForumChannel):
            forum = None
        channel = interaction.channel
        if forum is None and not isinstance(channel, discord.TextChannel):
            raise InvalidInput(
                "Ask in a text channel, or ask an admin to choose an advice forum with "
                "`/stackup setup`."
            )
        await interaction.response.defer(ephemeral=True, thinking=True)
        draft = AdviceSummary(
            id=0,
            guild_id=guild.id,
            channel_id=0,
            thread_id=None,
            starter_message_id=None,
            asker_id=interaction.user.id,
            title=title,
            question=question,
            context=context,
            status=OPEN,
            tools=tuple(refs),
            recommendations=(),
            created_at=discord.utils.utcnow(),
        )
        self.names.remember(guild.id, interaction.user.id, interaction.user.display_name)
        embed = starter_embed(draft, interaction.user.display_name)
        tags = TagsFound()
        try:
            if forum is not None:
                tags = await self.bot.forum_tags.for_tools(forum, [ref.name for ref in refs])
                created = await forum.create_thread(
                    name=title,
                    embed=embed,
                    applied_tags=tags.tags,
                    auto_archive_duration=ARCHIVE_AFTER_MINUTES,
                    allowed_mentions=NO_PINGS,
                )
                thread, starter, parent = created.thread, created.message, forum
            else:
                assert isinstance(channel, discord.TextChannel)
                thread = await channel.create_thread(
                    name=title,
                    type=discord.ChannelType.public_thread,
                    auto_archive_duration=ARCHIVE_AFTER_MINUTES,
                )
                starter = await thread.send(embed=embed, allowed_mentions=NO_PINGS)
                parent = channel
        except discord.Forbidden:
            where = forum.mention if forum is not None else channel.mention  # type: ignore[union-attr]
            raise InvalidInput(
                f"Stackup may not open posts in {where}: it needs View Channel, Send Messages, "
                "Create Posts/Threads and Send Messages in Threads there. Ask an admin."
            ) from None
        except discord.HTTPException as error:
            if error.code == 40067:
                raise InvalidInput(
                    "That forum requires a tag and none fits these tools; ask an admin to add "
                    "tags for them or to let Stackup manage the forum's tags."
                ) from None
            raise
        post = await self.bot.services.advice.open_post(
            NewPost(
                guild_id=guild.id,
                channel_id=parent.id,
                thread_id=thread.id,
                starter_message_id=starter.id,
                asker_id=interaction.user.id,
                title=title,
                question=question,
                context=context,
                tool_ids=tuple(ref.id for ref in refs),
            )
        )
        opened = (
            f"Your advice post is open: {thread.mention}. Members recommend tools there with "
            "`/advice recommend` and vote with 👍 and 👎; close it with `/advice close`."
        )
        await interaction.followup.send(
            f"{opened}\n{tags.note}" if tags.note else opened,
            ephemeral=True,
            allowed_mentions=NO_PINGS,
        )
        log.info("advice post %d opened in guild %d", post.id, guild.id)
        self.bot.dispatch(
            "stackup_advice_opened",
            OpenedPost(
                post_id=post.id,
                guild_id=guild.id,
                channel_id=parent.id,
                thread_id=thread.id,
                asker_id=interaction.user.id,
                title=title,
                tools=tuple(refs),
                jump_url=thread.jump_url,
            ),
        )

    async def _resolve_tools(self, text: str) -> list[ToolRef]:
        names = split_tool_names(text)
        if not names:
            raise InvalidInput("Name the tools you are choosing between, e.g. “Flask, Django”.")
        refs = resolve_refs(await self.bot.fresh_catalog_index(), names)
        if len(refs) > MAX_TOOLS:
            raise InvalidInput(f"Name at most {MAX_TOOLS} tools: a post takes five tags at most.")
        return refs

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
        self.rankings.touch(summary.id)
        self._recommended.pop(message.channel.id, None)
        # Reactions made in the moment before the message counted as a vote message are
        # read back from the message itself.
        await recount_message(self.bot, message.channel.id, message.id)

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
        """Close this advice post with its verdict (the asker, or Manage Threads)."""
        accepted_id = None
        if accepted:
            accepted_id = resolve_or_raise(await self.bot.fresh_catalog_index(), accepted).tool_id
        closing = {
            "thread_id": interaction.channel_id or 0,
            "closer_id": interaction.user.id,
            "may_manage_threads": interaction.permissions.manage_threads,
            "accepted_tool_id": accepted_id,
        }
        # Refusals are private: checked before the verdict is deferred publicly.
        await self.bot.services.advice.check_close(**closing)
        await interaction.response.defer(thinking=True)
        # Votes already received count towards the verdict.
        await self.bot.services.votes.wait_idle()
        summary = await self.bot.services.advice.close(**closing)
        problem = None
        async with self.bot.post_locks(summary.id):
            try:
                await self._post_verdict(interaction, summary)
            finally:
                # Closed in the database: whatever happened to the verdict message, the post
                # is shown closed and locked.
                problem = await self._show_closed(summary)
        if problem:
            await send_ephemeral(interaction, problem)

    async def _post_verdict(self, interaction: discord.Interaction, summary: AdviceSummary) -> None:
        await interaction.followup.send(
            allowed_mentions=NO_PINGS, **await self._verdict_message(summary)
        )

    async def _verdict_message(self, summary: AdviceSummary) -> dict[str, Any]:
        """The verdict's embed and, if it could be drawn in time, its chart."""
        spec = verdict_chart_spec(summary)
        chart = None
        if spec is not None:
            chart = await chart_file(self.bot, spec, "Votes per recommendation")
        message: dict[str, Any] = {"embed": verdict_embed(summary, chart=chart is not None)}
        if chart is not None:
            message["file"] = chart
        return message

    async def close_idle_post(self, summary: AdviceSummary, idle_days: int) -> bool:
        """The scheduler closed an idle post: its verdict goes to the thread, mentioning the
        asker (and only them), and the post ends solved, locked and archived, as
        `/advice close` leaves it. False if the verdict may go out on a later try (a 5xx)."""
        if summary.thread_id is None:
            return True
        async with self.bot.post_locks(summary.id):
            return await self._announce_idle_close(summary, summary.thread_id, idle_days)

    async def _announce_idle_close(
        self, summary: AdviceSummary, thread_id: int, idle_days: int
    ) -> bool:
        thread = self.bot.get_partial_messageable(thread_id, guild_id=summary.guild_id)
        days = "a day" if idle_days == 1 else f"{idle_days} days"
        posted = True
        try:
            # Sending to an archived (not locked) thread unarchives it, so the verdict is seen.
            await thread.send(
                content=(
                    f"<@{summary.asker_id}> nothing happened here for {days}, so Stackup "
                    "closed this post with its verdict."
                ),
                allowed_mentions=only_pinging([summary.asker_id]),
                **await self._verdict_message(summary),
            )
        except discord.HTTPException as exc:
            posted = not (exc.status >= 500 or exc.status == 429)
            log.warning("post %d: could not send its idle verdict (%s)", summary.id, exc)
        finally:
            problem = await self._show_closed(summary)
            if problem:
                log.info("post %d: %s", summary.id, problem)
        return posted

    async def _show_closed(self, summary: AdviceSummary) -> str | None:
        """The starter shows the verdict, then the post is tagged solved, locked and
        archived; what went wrong, if anything. Called holding the post's lock: a ranking edit
        still pending is absorbed by this last one, and none comes after the archive."""
        self.rankings.discard(summary.id)
        await self._edit_starter(summary.id)
        return await self._lock(summary)

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
            if len(self._recommended) > DRAFTS_KEPT:
                self._recommended.pop(next(iter(self._recommended)))
        needle = current.strip().casefold()
        return [
            app_commands.Choice(name=name, value=slug)
            for slug, name in cached[1].items()
            if not needle or needle in name.casefold()
        ][:25]

    async def _lock(self, summary: AdviceSummary) -> str | None:
        """Tag the post solved, lock and archive it; what went wrong, if anything."""
        if summary.thread_id is None:
            return None
        # Read from Discord, not the cache: the verdict just sent may have unarchived it, and
        # its tags may include one created a moment ago that the cache does not know yet.
        try:
            thread = await self.bot.fetch_channel(summary.thread_id)
        except discord.HTTPException:
            return "Stackup could not find this post's thread to lock it."
        if not isinstance(thread, discord.Thread):
            return None
        changes: dict[str, object] = {"archived": True, "locked": True}
        parent = self.bot.get_channel(thread.parent_id)
        if isinstance(parent, discord.ForumChannel):
            solved = await self.bot.forum_tags.solved(parent)
            if solved is not None:
                # The ids as Discord holds them (`applied_tags` keeps only cached tags).
                applied = [solved.id, *(i for i in thread._applied_tags if i != solved.id)]
                changes["applied_tags"] = [discord.Object(i) for i in applied[:POST_TAG_LIMIT]]
        try:
            await thread.edit(**changes)  # type: ignore[arg-type]
        except discord.Forbidden:
            return (
                "The verdict is in, but Stackup could not lock and archive this post: it needs "
                "Manage Threads here."
            )
        return None

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
        await _send_list(interaction, tool_id, status.value if status else "all", 1)

    @list_posts.autocomplete("tool")
    async def _list_tool(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return tool_choices(self.bot.catalog_index_now(), current)

    # -- keeping the starter message current --------------------------------------------

    @commands.Cog.listener()
    async def on_stackup_votes_applied(self, result: BatchResult) -> None:
        for post_id in sorted(result.changed_posts):
            self.rankings.touch(post_id)

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
            self.rankings.touch(post_id)

    async def refresh_starter(self, post_id: int) -> None:
        """The ranking changed (debounced). A closed post's starter was edited for the last
        time by its close, and its thread is archived: nothing more is edited."""
        async with self.bot.post_locks(post_id):
            await self._edit_starter(post_id, only_open=True)

    async def _edit_starter(self, post_id: int, *, only_open: bool = False) -> None:
        summary = await self.bot.services.advice.summary(post_id)
        if summary is None or summary.thread_id is None or summary.starter_message_id is None:
            return
        if only_open and summary.status != OPEN:
            return
        asker = await self.names.display_name(summary.guild_id, summary.asker_id)
        await edit_embed(
            self.bot,
            summary.thread_id,
            summary.starter_message_id,
            starter_embed(summary, asker),
            guild_id=summary.guild_id,
        )


async def setup(bot: StackupBot) -> None:
    await bot.add_cog(Advice(bot))
