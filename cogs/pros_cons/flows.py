"""What pros and cons run beyond one command: posting a voting message, keeping the counts on
voting messages shown (debounced edits), recounting other messages listing a withdrawn vote's
item, and the drafts "Add mine anyway" completes.

One object the bot builds, `bot.flows.pros_cons`, so that the cog, the buttons and other
features (the voting menu under a comparison's lists) share the same drafts and debouncers
without finding the cog by name.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import discord

from bot.core.voting import BatchResult, VoteTarget, Withdrawn
from bot.render.pros_cons import voting_embed
from cogs._shared.discord_io import NO_PINGS, Debouncer, edit_embed, keep_recent
from cogs.pros_cons.views import VoteOnSelect, guild_id_of, pages_view

if TYPE_CHECKING:
    from bot.bot import StackupBot

log = logging.getLogger(__name__)

DRAFTS_KEPT = 1000


@dataclass(frozen=True)
class Draft:
    """A pro or con a member wrote while a close one existed, kept until they decide."""

    member_id: int
    guild_id: int
    tool_id: int
    kind: str
    text: str


class ProsConsFlows:
    def __init__(self, bot: StackupBot) -> None:
        self.bot = bot
        self._drafts: OrderedDict[int, Draft] = OrderedDict()
        self._counts = Debouncer(
            bot.settings.ranking_edit_seconds, self.refresh_voting_message, name="pros-cons-edit"
        )
        self._recounts = Debouncer(
            bot.settings.ranking_edit_seconds, self._recount, name="pros-cons-recount"
        )

    def cancel(self) -> None:
        """Pending count edits and recounts are dropped (the feature is unloading)."""
        self._counts.cancel()
        self._recounts.cancel()

    # -- drafts -----------------------------------------------------------------------------

    def keep_draft(self, draft_id: int, draft: Draft) -> None:
        keep_recent(self._drafts, draft_id, draft, DRAFTS_KEPT)

    def take_draft(self, draft_id: int) -> Draft | None:
        """The draft, forgotten once taken: one click adds it, a second finds it gone."""
        return self._drafts.pop(draft_id, None)

    # -- voting messages --------------------------------------------------------------------

    def voting_menu(self, tools: list[tuple[int, str]]) -> discord.ui.Item:
        """The menu that posts a voting message for one of these (id, name) tools' pros or
        cons, for answers that list them."""
        return VoteOnSelect.offering(tools)

    async def post_voting_message(
        self, interaction: discord.Interaction, tool_id: int, kind: str, page: int
    ) -> None:
        """Post the voting message for one page of a tool's pros or cons in the channel, with
        its numbered reactions. It counts from the moment it is registered; one recount then
        catches reactions members made before that."""
        bot = self.bot
        guild_id = guild_id_of(interaction)
        shown = await bot.services.pros_cons.voting_page(tool_id, kind, page, guild_id=guild_id)
        callback = await interaction.response.send_message(
            embed=voting_embed(shown), view=pages_view(shown), allowed_mentions=NO_PINGS
        )
        message = callback.resource
        assert isinstance(message, discord.InteractionMessage)
        earlier = await bot.services.pros_cons.attach_voting_message(
            shown, guild_id=guild_id, channel_id=message.channel.id, message_id=message.id
        )
        await self._mark_moved(message, earlier)
        try:
            for emoji, _ in shown.items:
                await message.add_reaction(emoji)
        except discord.Forbidden:
            await interaction.followup.send(
                "Stackup may not add reactions here (it needs Add Reactions and Read Message "
                "History), so the numbers are not under the message; members who react with "
                "them still vote.",
                ephemeral=True,
                allowed_mentions=NO_PINGS,
            )
        await bot.flows.recounts.recount(message.channel.id, message.id)

    async def _mark_moved(self, message: discord.InteractionMessage, closed: list[int]) -> None:
        """Older messages of the same list stop counting; each says where voting went."""
        for message_id in closed:
            old = message.channel.get_partial_message(message_id)  # type: ignore[union-attr]
            try:
                await old.edit(
                    content=f"Voting on this list moved to {message.jump_url}.",
                    view=None,
                    allowed_mentions=NO_PINGS,
                )
            except discord.HTTPException:
                log.info("could not mark voting message %d as moved", message_id, exc_info=True)

    # -- counts shown -----------------------------------------------------------------------

    def show_counts(self, message_ids: Iterable[int]) -> None:
        """These voting messages' counts changed: edit them (debounced)."""
        for message_id in sorted(message_ids):
            self._counts.touch(message_id)

    async def votes_applied(self, result: BatchResult) -> None:
        self.show_counts(result.changed_messages.get(VoteTarget.PRO_CON, set()))
        await self._recount_other_messages(result.withdrawn)

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
                    self._recounts.touch(message_id)

    async def _recount(self, message_id: int) -> None:
        info = await self.bot.services.votes.vote_message(message_id)
        if info is not None:
            await self.bot.flows.recounts.recount(info.channel_id, message_id)
