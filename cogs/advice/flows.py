"""Advice posts' Discord flows, built once as `bot.flows.advice` and run by whoever needs them:
the Advice cog, the ask form, the compare feature's "Ask for advice" button, and the scheduler
when it closes an idle post.

Every Discord call happens outside the service's transactions: the thread is created, then
the post recorded. The starter message's live ranking is edited at most once every
`ranking_edit_seconds` per post, and every edit of a post's Discord objects (ranking, verdict,
lock) holds the post's lock, so none lands on a thread another has just archived.
"""

from __future__ import annotations

import io
import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import discord

from bot.bot import send_ephemeral
from bot.core.advice import (
    MAX_TOOLS,
    OPEN,
    AdviceSummary,
    NewPost,
    OpenedPost,
    check_context,
    check_question,
    check_title,
    split_tool_names,
)
from bot.core.comparison import ToolRef
from bot.core.privacy import FORMER_MEMBER_ID
from bot.core.ratelimit import ADDITIONS
from bot.errors import InvalidInput
from bot.render import only_pinging
from bot.render.advice import CHART_DESCRIPTION, starter_embed, verdict_chart_spec, verdict_view
from bot.render.compare import CHART_FILENAME
from bot.services.catalog import resolve_refs
from cogs._shared.discord_io import (
    NO_PINGS,
    ChartFile,
    Debouncer,
    MemberNames,
    edit_embed,
    keep_recent,
    limit_writes,
)
from cogs.advice.forum_tags import POST_TAG_LIMIT, TagsFound
from cogs.advice.views import AskModal, Draft

if TYPE_CHECKING:
    from bot.bot import StackupBot

log = logging.getLogger(__name__)

ARCHIVE_AFTER_MINUTES = 10080  # a week, the longest Discord offers
DRAFTS_KEPT = 500
FORUM_REQUIRES_A_TAG = 40067  # Discord's error code


@dataclass(frozen=True)
class Asked:
    """A question as checked, with the tools it names."""

    title: str
    question: str
    context: str
    refs: tuple[ToolRef, ...]


@dataclass(frozen=True)
class Created:
    """A post's thread as Discord created it."""

    thread: discord.Thread
    starter: discord.Message
    parent: discord.ForumChannel | discord.TextChannel
    tags: TagsFound


class AdvicePosts:
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

    def keep_draft(self, member_id: int, draft: Draft) -> None:
        keep_recent(self.drafts, member_id, draft, DRAFTS_KEPT)

    def cancel(self) -> None:
        """Ranking edits still waiting are dropped."""
        self.rankings.cancel()

    # -- asking ------------------------------------------------------------------------

    async def ask_about(self, interaction: discord.Interaction, refs: Sequence[ToolRef]) -> None:
        """The "Ask for advice" button under a comparison: the form, with the tools filled in."""
        if interaction.guild_id is None:
            raise InvalidInput("Advice posts live in servers; ask in one where Stackup is.")
        tools = ", ".join(ref.name for ref in refs)
        await interaction.response.send_modal(AskModal(Draft("", "", tools, "")))

    async def open_post(
        self,
        interaction: discord.Interaction,
        *,
        title: str,
        question: str,
        tools: str,
        context: str,
    ) -> None:
        """Open an advice post in the server's advice forum, or as a thread of the channel
        asked in; the asker is told privately, and other features by an event."""
        guild = interaction.guild
        if guild is None:
            raise InvalidInput("Advice posts live in servers.")
        # Counted here, not as a check: asking without a question only opens the form.
        limit_writes(interaction, ADDITIONS)
        asked = Asked(
            title=check_title(title),
            question=check_question(question),
            context=check_context(context),
            refs=tuple(await self._resolve_tools(tools)),
        )
        forum = await self._advice_forum(guild)
        channel = interaction.channel
        if forum is None and not isinstance(channel, discord.TextChannel):
            raise InvalidInput(
                "Ask in a text channel, or ask an admin to choose an advice forum with "
                "`/stackup setup`."
            )
        await interaction.response.defer(ephemeral=True, thinking=True)
        asker = interaction.user
        self.names.remember(guild.id, asker.id, asker.display_name)
        embed = starter_embed(_draft_summary(guild.id, asker.id, asked), asker.display_name)
        where = forum if forum is not None else channel
        created = await self._create_thread(where, asked, embed)  # type: ignore[arg-type]
        await self._record(interaction, guild.id, asked, created)

    async def _resolve_tools(self, text: str) -> list[ToolRef]:
        names = split_tool_names(text)
        if not names:
            raise InvalidInput("Name the tools you are choosing between, e.g. “Flask, Django”.")
        refs = resolve_refs(await self.bot.fresh_catalog_index(), names)
        if len(refs) > MAX_TOOLS:
            raise InvalidInput(f"Name at most {MAX_TOOLS} tools: a post takes five tags at most.")
        return refs

    async def _advice_forum(self, guild: discord.Guild) -> discord.ForumChannel | None:
        """The forum the server chose for advice posts, if it still is one."""
        config = await self.bot.services.guild_settings.settings(guild.id)
        forum = guild.get_channel(config.advice_forum_id) if config.advice_forum_id else None
        return forum if isinstance(forum, discord.ForumChannel) else None

    async def _create_thread(
        self,
        where: discord.ForumChannel | discord.TextChannel,
        asked: Asked,
        embed: discord.Embed,
    ) -> Created:
        """A forum post tagged with its tools, or a public thread of the text channel, with
        the starter message."""
        tags = TagsFound()
        try:
            if isinstance(where, discord.ForumChannel):
                tags = await self.bot.forum_tags.for_tools(where, [ref.name for ref in asked.refs])
                created = await where.create_thread(
                    name=asked.title,
                    embed=embed,
                    applied_tags=tags.tags,
                    auto_archive_duration=ARCHIVE_AFTER_MINUTES,
                    allowed_mentions=NO_PINGS,
                )
                return Created(created.thread, created.message, where, tags)
            thread = await where.create_thread(
                name=asked.title,
                type=discord.ChannelType.public_thread,
                auto_archive_duration=ARCHIVE_AFTER_MINUTES,
            )
            starter = await thread.send(embed=embed, allowed_mentions=NO_PINGS)
            return Created(thread, starter, where, tags)
        except discord.Forbidden:
            raise InvalidInput(
                f"Stackup may not open posts in {where.mention}: it needs View Channel, Send "
                "Messages, Create Posts/Threads and Send Messages in Threads there. Ask an admin."
            ) from None
        except discord.HTTPException as error:
            if error.code == FORUM_REQUIRES_A_TAG:
                raise InvalidInput(
                    "That forum requires a tag and none fits these tools; ask an admin to add "
                    "tags for them or to let Stackup manage the forum's tags."
                ) from None
            raise

    async def _record(
        self, interaction: discord.Interaction, guild_id: int, asked: Asked, created: Created
    ) -> None:
        """The thread is out: the post is recorded, the asker told, other features too."""
        post = await self.bot.services.advice.open_post(
            NewPost(
                guild_id=guild_id,
                channel_id=created.parent.id,
                thread_id=created.thread.id,
                starter_message_id=created.starter.id,
                asker_id=interaction.user.id,
                title=asked.title,
                question=asked.question,
                context=asked.context,
                tool_ids=tuple(ref.id for ref in asked.refs),
            )
        )
        opened = (
            f"Your advice post is open: {created.thread.mention}. Members recommend tools there "
            "with `/advice recommend` and vote with 👍 and 👎; close it with `/advice close`."
        )
        note = created.tags.note
        await interaction.followup.send(
            f"{opened}\n{note}" if note else opened, ephemeral=True, allowed_mentions=NO_PINGS
        )
        log.info("advice post %d opened in guild %d", post.id, guild_id)
        self.bot.dispatch(
            "stackup_advice_opened",
            OpenedPost(
                post_id=post.id,
                guild_id=guild_id,
                channel_id=created.parent.id,
                thread_id=created.thread.id,
                asker_id=interaction.user.id,
                title=asked.title,
                tools=asked.refs,
                jump_url=created.thread.jump_url,
            ),
        )

    # -- closing -----------------------------------------------------------------------

    async def post_verdict(self, interaction: discord.Interaction, summary: AdviceSummary) -> None:
        """`/advice close` closed the post: its verdict answers the (deferred) command, then
        the post is shown closed; what went wrong with that is told to the closer."""
        problem = None
        async with self.bot.post_locks(summary.id):
            try:
                await interaction.followup.send(
                    allowed_mentions=NO_PINGS, **await self._verdict_message(summary)
                )
            finally:
                # Closed in the database: whatever happened to the verdict message, the post
                # is shown closed and locked.
                problem = await self._show_closed(summary)
        if problem:
            await send_ephemeral(interaction, problem)

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
            # An asker who asked to be forgotten is neither named nor pinged.
            former = summary.asker_id == FORMER_MEMBER_ID
            who = "Nothing" if former else f"<@{summary.asker_id}> nothing"
            lead = f"{who} happened here for {days}, so Stackup closed this post with its verdict."
            await thread.send(
                allowed_mentions=only_pinging([] if former else [summary.asker_id]),
                **await self._verdict_message(summary, lead),
            )
        except discord.HTTPException as exc:
            posted = not (exc.status >= 500 or exc.status == 429)
            log.warning("post %d: could not send its idle verdict (%s)", summary.id, exc)
        finally:
            # Whether the verdict went out decides a retry; a failed lock or starter edit
            # must not make the sweep send the verdict a second time.
            try:
                problem = await self._show_closed(summary)
            except discord.HTTPException as exc:
                problem = f"could not show it closed ({exc})"
            if problem:
                log.info("post %d: %s", summary.id, problem)
        return posted

    async def _verdict_message(self, summary: AdviceSummary, lead: str = "") -> dict[str, Any]:
        """The verdict (Components V2) and, if it could be drawn in time, its chart; `lead`
        is the text above it, V2 messages having no content."""
        spec = verdict_chart_spec(summary)
        png = await self.bot.charts.render_votes(spec) if spec is not None else None
        view = verdict_view(summary, chart=png is not None, lead=lead)
        if png is None:
            return {"view": view}
        chart = ChartFile(io.BytesIO(png), filename=CHART_FILENAME, description=CHART_DESCRIPTION)
        return {"view": view, "file": chart}

    async def _show_closed(self, summary: AdviceSummary) -> str | None:
        """The starter shows the verdict, then the post is tagged solved, locked and
        archived; what went wrong, if anything. Called holding the post's lock: a ranking edit
        still pending is absorbed by this last one, and none comes after the archive."""
        self.rankings.discard(summary.id)
        await self._edit_starter(summary.id)
        return await self._lock(summary)

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

    # -- keeping the starter message current ---------------------------------------------

    def ranking_changed(self, post_id: int) -> None:
        """A recommendation or a vote changed the post's ranking: its starter follows."""
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


def _draft_summary(guild_id: int, asker_id: int, asked: Asked) -> AdviceSummary:
    """The post as its starter shows it before it exists: open, nothing recommended yet."""
    return AdviceSummary(
        id=0,
        guild_id=guild_id,
        channel_id=0,
        thread_id=None,
        starter_message_id=None,
        asker_id=asker_id,
        title=asked.title,
        question=asked.question,
        context=asked.context,
        status=OPEN,
        tools=asked.refs,
        recommendations=(),
        created_at=discord.utils.utcnow(),
    )
