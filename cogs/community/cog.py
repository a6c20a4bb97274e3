"""/stack, /follow, /unfollow and /following, and the news of a new advice post sent to the
followers of its tools.

Followers are read in one query, then told one by one by DM with no transaction open; those
whose DMs are closed and who opted in with `mention_in_posts` are mentioned in the post's
thread instead, the others are skipped.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import discord
from discord import app_commands
from discord.ext import commands

from bot.autocomplete import tool_choices
from bot.bot import StackupBot
from bot.core.advice import OPEN, OpenedPost
from bot.core.community import StackChange
from bot.core.comparison import ToolRef
from bot.core.ratelimit import CHANGES
from bot.core.resolver import CatalogIndex
from bot.errors import InvalidInput
from bot.render import SnowflakeText, only_pinging
from bot.render.community import (
    advice_news_text,
    follow_text,
    following_embed,
    member_stack_embed,
    server_stack_embed,
    stack_change_text,
    thread_mention_texts,
    unfollow_text,
)
from bot.services.catalog import resolve_or_raise, resolve_refs
from cogs._shared.discord_io import NO_PINGS, writes

log = logging.getLogger(__name__)

MAX_TOOLS_PER_COMMAND = 10
ERROR_TEXT_LIMIT = 1900
MEMBERS_PER_QUERY = 100  # the gateway's limit on user ids per member request
CHOICE_LIMIT = 100
# Names are separated by commas; semicolons and new lines are taken as commas too. Not "/"
# or "and": some tools' names hold them ("GitLab CI/CD").
SEPARATORS = re.compile(r"[,;\n]")


def split_names(text: str) -> list[str]:
    return [name.strip() for name in SEPARATORS.split(text) if name.strip()]


def tool_list_choices(index: CatalogIndex, current: str) -> list[app_commands.Choice[str]]:
    """Completes the last name of a comma separated list, keeping the names before it."""
    head, _, last = current.rpartition(",")
    chosen = {name.casefold() for name in split_names(head)}
    prefix = (head.strip() + ", ") if head.strip() else ""
    choices = []
    for choice in tool_choices(index, last.strip()):
        tool = index.by_slug(choice.value)
        name = tool.name if tool is not None else choice.name
        if name.casefold() in chosen or len(prefix + name) > CHOICE_LIMIT:
            continue
        choices.append(app_commands.Choice(name=prefix + name, value=prefix + name))
    return choices


async def resolve_tool_list(bot: StackupBot, text: str) -> list[ToolRef]:
    """The tools a comma separated list names, each once, in the order named; unknown names
    are refused with suggestions."""
    names = split_names(text)
    if not names:
        raise InvalidInput("Name the tools, comma separated, e.g. “Flask, PostgreSQL”.")
    if len(names) > MAX_TOOLS_PER_COMMAND:
        raise InvalidInput(
            f"Name at most {MAX_TOOLS_PER_COMMAND} tools at a time (you named {len(names)})."
        )
    return resolve_refs(await bot.fresh_catalog_index(), names)


def _where(interaction: discord.Interaction) -> tuple[int, int]:
    """(guild, member): every community command is guild only."""
    if interaction.guild_id is None:
        raise InvalidInput("Stacks and follows live in servers.")
    return interaction.guild_id, interaction.user.id


class Community(commands.Cog):
    stack = app_commands.Group(
        name="stack", description="The tools members of this server use", guild_only=True
    )

    def __init__(self, bot: StackupBot) -> None:
        self.bot = bot
        self.community = bot.services.community
        self.follows = bot.services.follows

    # -- /stack -------------------------------------------------------------------------

    async def _change_stack(
        self, interaction: discord.Interaction, tools: str, *, adding: bool
    ) -> None:
        guild_id, member_id = _where(interaction)
        refs = await resolve_tool_list(self.bot, tools)
        change_stack = self.community.add_to_stack if adding else self.community.remove_from_stack
        change: StackChange = await change_stack(
            guild_id=guild_id, member_id=member_id, tool_ids=[ref.id for ref in refs]
        )
        await interaction.response.send_message(
            stack_change_text(change, adding=adding), ephemeral=True, allowed_mentions=NO_PINGS
        )

    @stack.command(name="add")
    @writes(CHANGES)
    @app_commands.describe(tools="The tools you use, comma separated (up to 10)")
    async def stack_add(self, interaction: discord.Interaction, tools: str) -> None:
        """Add tools you use to your stack in this server."""
        await self._change_stack(interaction, tools, adding=True)

    @stack.command(name="remove")
    @writes(CHANGES)
    @app_commands.describe(tools="The tools to take out, comma separated (up to 10)")
    async def stack_remove(self, interaction: discord.Interaction, tools: str) -> None:
        """Remove tools from your stack in this server."""
        await self._change_stack(interaction, tools, adding=False)

    @stack_add.autocomplete("tools")
    @stack_remove.autocomplete("tools")
    async def _stack_tools(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return tool_list_choices(self.bot.catalog_index_now(), current)

    @stack.command(name="show")
    @app_commands.describe(member="Whose stack (yours if left empty)")
    async def stack_show(
        self, interaction: discord.Interaction, member: discord.Member | None = None
    ) -> None:
        """The tools a member uses in this server, by category."""
        guild_id, own_id = _where(interaction)
        shown = member or interaction.user
        stack = await self.community.member_stack(guild_id=guild_id, member_id=shown.id)
        await interaction.response.send_message(
            embed=member_stack_embed(stack, shown.display_name, own=shown.id == own_id),
            allowed_mentions=NO_PINGS,
        )

    @stack.command(name="server")
    async def stack_server(self, interaction: discord.Interaction) -> None:
        """The tools this server's members use most."""
        guild_id, _ = _where(interaction)
        stack = await self.community.server_stack(guild_id=guild_id)
        guild_name = interaction.guild.name if interaction.guild is not None else "this server"
        await interaction.response.send_message(
            embed=server_stack_embed(stack, guild_name), allowed_mentions=NO_PINGS
        )

    # -- /follow, /unfollow, /following ---------------------------------------------------

    @app_commands.command(name="follow")
    @app_commands.guild_only()
    @writes(CHANGES)
    @app_commands.describe(
        tool="The tool to follow",
        mention_in_posts="Be mentioned in new posts when your DMs are closed (all your follows)",
    )
    async def follow(
        self,
        interaction: discord.Interaction,
        tool: str,
        mention_in_posts: bool | None = None,
    ) -> None:
        """Follow a tool: new advice posts on it in this server reach you by DM."""
        guild_id, member_id = _where(interaction)
        entry = resolve_or_raise(await self.bot.fresh_catalog_index(), tool)
        result = await self.follows.follow(
            guild_id=guild_id,
            member_id=member_id,
            tool_id=entry.tool_id,
            mention_in_posts=mention_in_posts,
        )
        await interaction.response.send_message(
            follow_text(
                result.tool,
                newly_followed=result.newly_followed,
                mention_in_posts=result.mention_in_posts,
                preference_changed=result.preference_changed,
            ),
            ephemeral=True,
            allowed_mentions=NO_PINGS,
        )

    @app_commands.command(name="unfollow")
    @app_commands.guild_only()
    @writes(CHANGES)
    @app_commands.describe(tool="The tool to stop following")
    async def unfollow(self, interaction: discord.Interaction, tool: str) -> None:
        """Stop following a tool in this server."""
        guild_id, member_id = _where(interaction)
        entry = resolve_or_raise(await self.bot.fresh_catalog_index(), tool)
        ref, was_following = await self.follows.unfollow(
            guild_id=guild_id, member_id=member_id, tool_id=entry.tool_id
        )
        await interaction.response.send_message(
            unfollow_text(ref, was_following=was_following),
            ephemeral=True,
            allowed_mentions=NO_PINGS,
        )

    @follow.autocomplete("tool")
    @unfollow.autocomplete("tool")
    async def _follow_tool(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return tool_choices(self.bot.catalog_index_now(), current)

    @app_commands.command(name="following")
    @app_commands.guild_only()
    async def following(self, interaction: discord.Interaction) -> None:
        """The tools you follow in this server, and how new posts reach you."""
        guild_id, member_id = _where(interaction)
        found = await self.follows.following(guild_id=guild_id, member_id=member_id)
        await interaction.response.send_message(
            embed=following_embed(found), ephemeral=True, allowed_mentions=NO_PINGS
        )

    # -- telling followers about new advice posts ---------------------------------------

    @commands.Cog.listener("on_stackup_advice_opened")
    async def tell_followers(self, post: OpenedPost) -> None:
        followers = await self.follows.followers_to_tell(
            guild_id=post.guild_id,
            tool_ids=[ref.id for ref in post.tools],
            asker_id=post.asker_id,
        )
        guild = self.bot.get_guild(post.guild_id)
        if not followers or guild is None:
            return
        present = await self._still_members(guild, [f.member_id for f in followers])
        news = advice_news_text(post, guild.name)
        told, to_mention = 0, []
        # One at a time: discord.py waits out DM rate limits between sends.
        for follower in followers:
            if follower.member_id not in present:
                log.info(
                    "follower %d not told of advice post %d: no longer in the server",
                    follower.member_id,
                    post.post_id,
                )
                continue
            if await self._direct_message(follower.member_id, news):
                told += 1
            elif follower.mention_in_posts:
                to_mention.append(follower.member_id)
            else:
                log.info(
                    "follower %d not told of advice post %d: DMs closed, no mention wanted",
                    follower.member_id,
                    post.post_id,
                )
        if to_mention:
            await self._mention_in_thread(post, to_mention)
        log.info(
            "advice post %d: %d followers told by DM, %d mentioned in the post",
            post.post_id,
            told,
            len(to_mention),
        )

    async def _still_members(self, guild: discord.Guild, member_ids: Sequence[int]) -> set[int]:
        """Those of `member_ids` still in the guild. Without the members intent the bot does
        not hear of leaves, so a member who left keeps their follows; the server's posts are
        not theirs to hear of. Asked of the gateway, 100 members a request."""
        present: set[int] = set()
        for start in range(0, len(member_ids), MEMBERS_PER_QUERY):
            batch = list(member_ids[start : start + MEMBERS_PER_QUERY])
            try:
                found = await guild.query_members(user_ids=batch, limit=len(batch), cache=False)
            except TimeoutError:
                # Better to tell a member who left than no member at all.
                log.warning("could not check who is still in guild %d", guild.id)
                present.update(batch)
                continue
            present.update(member.id for member in found)
        return present

    async def _direct_message(self, member_id: int, text: str) -> bool:
        """Whether the DM went through. It fails when the member closed their DMs (50007),
        shares no server with the bot any more, or their account is gone."""
        user = self.bot.get_user(member_id)
        try:
            channel = user.dm_channel if user is not None else None
            if channel is None:
                channel = await self.bot.create_dm(SnowflakeText.of(member_id))  # type: ignore[arg-type]
            await channel.send(text, allowed_mentions=NO_PINGS)
        except discord.HTTPException as error:
            log.info("could not DM member %d: %s (%s)", member_id, error.status, error.code)
            return False
        return True

    async def _mention_in_thread(self, post: OpenedPost, member_ids: Sequence[int]) -> None:
        # By id: the thread was created a moment ago and the cache may not hold it yet.
        thread = self.bot.get_partial_messageable(
            post.thread_id, guild_id=post.guild_id, type=discord.ChannelType.public_thread
        )
        # In turn with the post's other edits, and only while it is open: a post closed
        # meanwhile is archived and locked, and a message would reopen it.
        async with self.bot.post_locks(post.post_id):
            summary = await self.bot.services.advice.summary(post.post_id)
            if summary is None or summary.status != OPEN:
                return
            await self._send_mentions(thread, post, member_ids)

    async def _send_mentions(
        self, thread: discord.PartialMessageable, post: OpenedPost, member_ids: Sequence[int]
    ) -> None:
        for text, mentioned in thread_mention_texts(post, member_ids):
            try:
                await thread.send(
                    text,
                    allowed_mentions=only_pinging(mentioned),
                )
            except discord.HTTPException:
                log.warning(
                    "could not mention followers in advice post %d", post.post_id, exc_info=True
                )
                return


async def setup(bot: StackupBot) -> None:
    await bot.add_cog(Community(bot))
