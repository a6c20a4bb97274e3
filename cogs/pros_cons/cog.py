"""`/pros` and `/cons`: add (asking first when a close one exists), vote on a voting message of
ten numbered reactions, merge and remove (Manage Server). Votes themselves arrive as reactions
through the Votes cog; this cog keeps the voting messages' counts shown.

Buttons are `DynamicItem`s whose custom_id carries what they act on, so they keep working
after a restart; only "Add mine anyway" needs the member's text, kept in memory a while.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

import discord
from discord import app_commands
from discord.ext import commands

from bot.autocomplete import CHOICE_NAME_LIMIT, tool_choices
from bot.bot import StackupBot
from bot.core.pros_cons import KIND_WORDS, Added, VotingPage, same_text
from bot.core.ratelimit import ADDITIONS, CHANGES
from bot.core.resolver import AUTOCOMPLETE_LIMIT
from bot.errors import InvalidInput
from bot.render.compare import clip
from bot.render.pros_cons import (
    added_text,
    merged_text,
    removed_text,
    similar_question,
    vote_text,
    voting_embed,
)
from bot.services.catalog import resolve_names, resolve_or_raise
from bot.services.pros_cons import ProsConsService
from cogs._shared.discord_io import (
    NO_PINGS,
    Debouncer,
    bot_of,
    edit_embed,
    guarded,
    keep_recent,
    limit_writes,
    manages_server,
    recount_message,
    writes,
)
from db.models import VoteTarget
from db.reaction_votes import BatchResult, Withdrawn

log = logging.getLogger(__name__)

DRAFTS_KEPT = 1000
KIND = r"(?P<kind>pro|con)"


@dataclass(frozen=True)
class Draft:
    member_id: int
    guild_id: int
    tool_id: int
    kind: str
    text: str


def _service(interaction: discord.Interaction) -> ProsConsService:
    return bot_of(interaction).services.pros_cons


def _cog(interaction: discord.Interaction) -> ProsCons:
    cog = bot_of(interaction).get_cog("ProsCons")
    assert isinstance(cog, ProsCons)
    return cog


def _guild_id(interaction: discord.Interaction) -> int:
    if interaction.guild_id is None:
        raise InvalidInput("Pros and cons are voted in servers, not in direct messages.")
    return interaction.guild_id


# ---------------------------------------------------------------- voting messages


async def post_voting_message(
    interaction: discord.Interaction, tool_id: int, kind: str, page: int
) -> None:
    """Post the voting message for one page of a tool's pros or cons in the channel, with its
    numbered reactions. It counts from the moment it is registered; one recount then catches
    reactions members made before that."""
    bot = bot_of(interaction)
    guild_id = _guild_id(interaction)
    shown = await bot.services.pros_cons.voting_page(tool_id, kind, page, guild_id=guild_id)
    callback = await interaction.response.send_message(
        embed=voting_embed(shown), view=_pages_view(shown), allowed_mentions=NO_PINGS
    )
    message = callback.resource
    assert isinstance(message, discord.InteractionMessage)
    earlier = await bot.services.pros_cons.attach_voting_message(
        shown, guild_id=guild_id, channel_id=message.channel.id, message_id=message.id
    )
    for closed in earlier:
        # The older message of the same list stops counting; it says where voting went.
        old = message.channel.get_partial_message(closed)  # type: ignore[union-attr]
        try:
            await old.edit(
                content=f"Voting on this list moved to {message.jump_url}.",
                view=None,
                allowed_mentions=NO_PINGS,
            )
        except discord.HTTPException:
            log.info("could not mark voting message %d as moved", closed, exc_info=True)
    try:
        for emoji, _ in shown.items:
            await message.add_reaction(emoji)
    except discord.Forbidden:
        await interaction.followup.send(
            "Stackup may not add reactions here (it needs Add Reactions and Read Message "
            "History), so the numbers are not under the message; members who react with them "
            "still vote.",
            ephemeral=True,
            allowed_mentions=NO_PINGS,
        )
    await recount_message(bot, message.channel.id, message.id)


def _pages_view(shown: VotingPage) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    if shown.pages <= 1:
        return view
    for step, label in ((-1, "◀ Previous"), (1, "Next ▶")):
        target = shown.page + step
        view.add_item(
            VotingPageButton(
                shown.kind,
                shown.tool.id,
                target,
                label=label,
                disabled=not 1 <= target <= shown.pages,
            )
        )
    return view


class VotingPageButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"stackup:pcv:" + KIND + r":(?P<tool>\d{1,20}):(?P<page>\d{1,4})",
):
    """Posts the voting message of another page (reactions cannot be renumbered in place)."""

    def __init__(
        self, kind: str, tool_id: int, page: int, *, label: str = "Page", disabled: bool = False
    ) -> None:
        self.kind, self.tool_id, self.page = kind, tool_id, page
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                disabled=disabled,
                custom_id=f"stackup:pcv:{kind}:{tool_id}:{max(page, 0)}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> VotingPageButton:
        return cls(match["kind"], int(match["tool"]), int(match["page"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        async def run() -> None:
            limit_writes(interaction, CHANGES)
            await post_voting_message(interaction, self.tool_id, self.kind, self.page)

        await guarded(interaction, run())


class VoteOnSelect(
    discord.ui.DynamicItem[discord.ui.Select],
    template=r"stackup:pcvote:(?P<ids>\d{1,20}(?:,\d{1,20}){0,4})",
):
    """Under the "Pros & cons" lists: post a voting message for one tool's pros or cons."""

    def __init__(self, tool_ids: list[int], select: discord.ui.Select | None = None) -> None:
        self.tool_ids = tool_ids
        super().__init__(
            select or discord.ui.Select(custom_id=f"stackup:pcvote:{','.join(map(str, tool_ids))}")
        )

    @classmethod
    def offering(cls, tools: list[tuple[int, str]]) -> VoteOnSelect:
        ids = [tool_id for tool_id, _ in tools]
        options = [
            discord.SelectOption(
                label=clip(f"Vote on {name}'s {KIND_WORDS[kind][1]}", 100),
                value=f"{kind}:{tool_id}",
                emoji="🗳️",
            )
            for tool_id, name in tools
            for kind in ("pro", "con")
        ]
        return cls(
            ids,
            discord.ui.Select(
                custom_id=f"stackup:pcvote:{','.join(map(str, ids))}",
                placeholder="Post a voting message in the channel…",
                options=options,
            ),
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Select, match: re.Match[str], /
    ) -> VoteOnSelect:
        return cls([int(part) for part in match["ids"].split(",")], item)

    async def callback(self, interaction: discord.Interaction) -> None:
        async def run() -> None:
            kind, _, tool = (self.item.values or [""])[0].partition(":")
            if kind not in KIND_WORDS or not tool.isdigit() or int(tool) not in self.tool_ids:
                raise InvalidInput("Choose one of the tools offered.")
            limit_writes(interaction, CHANGES)
            await post_voting_message(interaction, int(tool), kind, 1)

        await guarded(interaction, run())


# ---------------------------------------------------------------- near-duplicates


class VoteSimilar(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"stackup:pcsim:v:(?P<reason>\d{1,20})",
):
    def __init__(self, reason_id: int) -> None:
        self.reason_id = reason_id
        super().__init__(
            discord.ui.Button(
                label="Vote for that one",
                style=discord.ButtonStyle.primary,
                custom_id=f"stackup:pcsim:v:{reason_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> VoteSimilar:
        return cls(int(match["reason"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        async def run() -> None:
            guild_id = _guild_id(interaction)
            limit_writes(interaction, CHANGES)
            cast = await _service(interaction).vote_for(
                self.reason_id, guild_id=guild_id, member_id=interaction.user.id
            )
            await interaction.response.edit_message(content=vote_text(cast), view=None)
            _cog(interaction).show_counts(cast.shown_on)

        await guarded(interaction, run())


class AddAnyway(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"stackup:pcsim:a:(?P<draft>\d{1,20})",
):
    def __init__(self, draft_id: int) -> None:
        self.draft_id = draft_id
        super().__init__(
            discord.ui.Button(
                label="Add mine anyway",
                style=discord.ButtonStyle.secondary,
                custom_id=f"stackup:pcsim:a:{draft_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> AddAnyway:
        return cls(int(match["draft"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        async def run() -> None:
            draft = _cog(interaction).drafts.pop(self.draft_id, None)
            if draft is None or draft.member_id != interaction.user.id:
                raise InvalidInput(
                    "That draft is gone (Stackup keeps them a while, not across restarts); "
                    "run the command again."
                )
            # The command counted this addition already; the click completes it.
            added = await _service(interaction).add(
                draft.tool_id,
                draft.kind,
                draft.text,
                guild_id=draft.guild_id,
                author_id=draft.member_id,
                anyway=True,
            )
            await interaction.response.edit_message(content=added_text(added), view=None)

        await guarded(interaction, run())


# ---------------------------------------------------------------- commands


async def _tool_id(interaction: discord.Interaction, name: str) -> int:
    index = await bot_of(interaction).fresh_catalog_index()
    return resolve_or_raise(index, name).tool_id


async def _reason_ids(
    interaction: discord.Interaction, tool_id: int, kind: str, *values: str
) -> list[int]:
    """Item options: each the id autocomplete sent (one of this tool's items), or the text
    typed, matched exactly. The tool's list is read once for all of them."""
    listing = await _service(interaction).listing(tool_id, kind, guild_id=_guild_id(interaction))
    ids = {reason.id for reason in listing.reasons}
    found = []
    for value in values:
        if value.isdigit() and int(value) in ids:
            found.append(int(value))
            continue
        same = same_text(value, listing.reasons)
        if same is None:
            raise InvalidInput(
                f"{listing.tool.name} has no {KIND_WORDS[kind][0]} “{clip(value, 80)}”: "
                "choose one from the list."
            )
        found.append(same.id)
    return found


class ReasonCommands(app_commands.Group):
    """`/pros …` or `/cons …`: the same commands for either kind."""

    def __init__(self, kind: str) -> None:
        singular, plural = KIND_WORDS[kind]
        super().__init__(
            name=plural,
            description=f"A tool's {plural}: add one, vote, and (moderators) merge or remove",
            guild_only=True,
        )
        self.kind = kind
        self.singular = singular

    @app_commands.command(name="add")
    @app_commands.describe(tool="The tool, e.g. Flask", text="In a few words (100 characters)")
    @writes(ADDITIONS)
    async def add(
        self,
        interaction: discord.Interaction,
        tool: app_commands.Range[str, 1, 100],
        text: app_commands.Range[str, 1, 200],
    ) -> None:
        """Add a reason to choose (or avoid) a tool; a close existing one is offered first."""
        guild_id = _guild_id(interaction)
        tool_id = await _tool_id(interaction, tool)
        added = await _service(interaction).add(
            tool_id, self.kind, text, guild_id=guild_id, author_id=interaction.user.id
        )
        if added.similar is None:
            await interaction.response.send_message(
                added_text(added), ephemeral=True, allowed_mentions=NO_PINGS
            )
            return
        await self._ask_first(interaction, added, text, guild_id)

    async def _ask_first(
        self, interaction: discord.Interaction, added: Added, text: str, guild_id: int
    ) -> None:
        assert added.similar is not None
        draft_id = interaction.id
        _cog(interaction).keep_draft(
            draft_id,
            Draft(interaction.user.id, guild_id, added.tool.id, self.kind, text),
        )
        view = discord.ui.View(timeout=None)
        view.add_item(VoteSimilar(added.similar.reason.id))
        view.add_item(AddAnyway(draft_id))
        await interaction.response.send_message(
            similar_question(added), view=view, ephemeral=True, allowed_mentions=NO_PINGS
        )

    @app_commands.command(name="vote")
    @app_commands.describe(tool="The tool, e.g. Flask", page="Which ten (1: the most voted)")
    @writes(CHANGES)
    async def vote(
        self,
        interaction: discord.Interaction,
        tool: app_commands.Range[str, 1, 100],
        page: app_commands.Range[int, 1, 100] = 1,
    ) -> None:
        """Post a voting message: react with an item's number to vote for it."""
        tool_id = await _tool_id(interaction, tool)
        await post_voting_message(interaction, tool_id, self.kind, page)

    @app_commands.command(name="merge")
    @app_commands.describe(
        tool="The tool", duplicate="The item to merge away", into="The item that stays"
    )
    @writes(CHANGES)
    @app_commands.check(manages_server)  # checked first: a refused member spends nothing
    async def merge(
        self,
        interaction: discord.Interaction,
        tool: app_commands.Range[str, 1, 100],
        duplicate: app_commands.Range[str, 1, 100],
        into: app_commands.Range[str, 1, 100],
    ) -> None:
        """Moderators: join a duplicate into another item; each voter of either counts once."""
        tool_id = await _tool_id(interaction, tool)
        duplicate_id, into_id = await _reason_ids(interaction, tool_id, self.kind, duplicate, into)
        # Rewriting every vote on the items may wait for a vote batch: answer within 3 s.
        await interaction.response.defer(ephemeral=True, thinking=True)
        merged, touched = await _service(interaction).merge(
            duplicate_id, into_id, tool_id=tool_id, guild_id=_guild_id(interaction), kind=self.kind
        )
        _cog(interaction).show_counts(touched)
        await interaction.followup.send(
            merged_text(merged), ephemeral=True, allowed_mentions=NO_PINGS
        )

    @app_commands.command(name="remove")
    @app_commands.describe(tool="The tool", item="The item to remove, with its votes")
    @writes(CHANGES)
    @app_commands.check(manages_server)
    async def remove(
        self,
        interaction: discord.Interaction,
        tool: app_commands.Range[str, 1, 100],
        item: app_commands.Range[str, 1, 100],
    ) -> None:
        """Moderators: remove an item this server's members added."""
        tool_id = await _tool_id(interaction, tool)
        (reason_id,) = await _reason_ids(interaction, tool_id, self.kind, item)
        await interaction.response.defer(ephemeral=True, thinking=True)
        text, votes, touched = await _service(interaction).remove(
            reason_id, tool_id=tool_id, guild_id=_guild_id(interaction), kind=self.kind
        )
        _cog(interaction).show_counts(touched)
        await interaction.followup.send(
            removed_text(text, votes), ephemeral=True, allowed_mentions=NO_PINGS
        )

    @add.autocomplete("tool")
    @vote.autocomplete("tool")
    @merge.autocomplete("tool")
    @remove.autocomplete("tool")
    async def _tool_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return tool_choices(bot_of(interaction).catalog_index_now(), current)

    @merge.autocomplete("duplicate")
    @merge.autocomplete("into")
    @remove.autocomplete("item")
    async def _item_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        resolved = resolve_names(
            bot_of(interaction).catalog_index_now(), [str(interaction.namespace.tool or "")]
        )
        tool = resolved.tools[0] if resolved.tools else None
        if tool is None:
            return []
        found = await _service(interaction).search(
            tool.tool_id, self.kind, guild_id=interaction.guild_id, query=current
        )
        return [
            app_commands.Choice(name=clip(label, CHOICE_NAME_LIMIT), value=str(reason_id))
            for reason_id, label in found[:AUTOCOMPLETE_LIMIT]
        ]


# ---------------------------------------------------------------- the cog


class ProsCons(commands.Cog):
    def __init__(self, bot: StackupBot) -> None:
        self.bot = bot
        self.groups = [ReasonCommands("pro"), ReasonCommands("con")]
        self.drafts: OrderedDict[int, Draft] = OrderedDict()
        self.counts = Debouncer(
            bot.settings.ranking_edit_seconds, self.refresh_voting_message, name="pros-cons-edit"
        )
        self.recounts = Debouncer(
            bot.settings.ranking_edit_seconds, self.recount, name="pros-cons-recount"
        )

    def keep_draft(self, draft_id: int, draft: Draft) -> None:
        keep_recent(self.drafts, draft_id, draft, DRAFTS_KEPT)

    async def cog_load(self) -> None:
        for group in self.groups:
            self.bot.tree.add_command(group)
        self.bot.add_dynamic_items(VotingPageButton, VoteOnSelect, VoteSimilar, AddAnyway)

    async def cog_unload(self) -> None:
        for group in self.groups:
            self.bot.tree.remove_command(group.name)
        self.bot.remove_dynamic_items(VotingPageButton, VoteOnSelect, VoteSimilar, AddAnyway)
        self.counts.cancel()
        self.recounts.cancel()

    @commands.Cog.listener()
    async def on_stackup_votes_applied(self, result: BatchResult) -> None:
        self.show_counts(result.changed_messages.get(VoteTarget.PRO_CON, set()))
        await self._recount_other_messages(result.withdrawn)

    async def _recount_other_messages(self, withdrawn: list[Withdrawn]) -> None:
        """A vote withdrawn on one message may still show as a reaction on another message
        listing the same item (another channel's list): recount those, so the vote comes back
        if it does."""
        by_guild: dict[int, tuple[set[int], set[int]]] = {}
        for vote in withdrawn:
            if vote.kind is VoteTarget.PRO_CON:
                targets, sources = by_guild.setdefault(vote.guild_id, (set(), set()))
                targets.add(vote.target_id)
                sources.add(vote.message_id)
        for guild_id, (targets, sources) in sorted(by_guild.items()):
            listing = await self.bot.services.pros_cons.voting_messages_listing(
                sorted(targets), guild_id
            )
            for message_id in listing:
                if message_id not in sources:
                    self.recounts.touch(message_id)

    async def recount(self, message_id: int) -> None:
        info = await self.bot.services.votes.vote_message(message_id)
        if info is not None:
            await recount_message(self.bot, info.channel_id, message_id)

    def show_counts(self, message_ids: Iterable[int]) -> None:
        """These voting messages' counts changed: edit them (debounced)."""
        for message_id in sorted(message_ids):
            self.counts.touch(message_id)

    @commands.Cog.listener()
    async def on_stackup_vote_message_gone(self, message_id: int) -> None:
        await self.bot.services.pros_cons.close_voting([message_id])

    async def refresh_voting_message(self, message_id: int) -> None:
        """Show the counts of this moment on a voting message."""
        found = await self.bot.services.pros_cons.voting_page_of(message_id)
        if found is None:
            return
        channel_id, guild_id, shown = found
        if not await edit_embed(
            self.bot, channel_id, message_id, voting_embed(shown), guild_id=guild_id
        ):
            await self.bot.services.pros_cons.close_voting([message_id])


async def setup(bot: StackupBot) -> None:
    await bot.add_cog(ProsCons(bot))
