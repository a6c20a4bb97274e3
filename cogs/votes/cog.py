"""Reactions as votes: raw reaction events into the vote service, and recounts from the
messages themselves (`bot.flows.recounts`) when events were missed (bot offline, REMOVE_ALL,
REMOVE_EMOJI).

Raw events, because the non-raw ones fire only for cached messages. The database is the
truth, never `reaction.count`: a vote is a row, and a recount compares the rows with the
reaction users Discord lists, 100 a page.
"""

from __future__ import annotations

import asyncio
import logging

import discord
from discord.ext import commands

from bot.bot import StackupBot
from bot.core.voting import VOTING_EMOJIS, BatchResult, ReactionEvent, VoteTarget

log = logging.getLogger(__name__)


class Votes(commands.Cog):
    def __init__(self, bot: StackupBot) -> None:
        self.bot = bot
        self._no_manage_messages: set[int] = set()

    # -- events in --------------------------------------------------------------------

    def _event(self, payload: discord.RawReactionActionEvent, added: bool) -> ReactionEvent | None:
        if payload.guild_id is None or payload.emoji.id is not None or payload.burst:
            return None  # votes are normal reactions with the voting emojis, in servers
        if payload.emoji.name not in VOTING_EMOJIS:
            return None
        if self.bot.user is not None and payload.user_id == self.bot.user.id:
            return None
        if added and payload.member is not None and payload.member.bot:
            return None
        # A removal carries no member; another bot's removal finds no vote to withdraw.
        return ReactionEvent(payload.message_id, payload.user_id, payload.emoji.name, added)

    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        event = self._event(payload, True)
        if event is not None:
            self.bot.services.votes.submit(event)

    @commands.Cog.listener()
    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        event = self._event(payload, False)
        if event is not None:
            self.bot.services.votes.submit(event)

    @commands.Cog.listener()
    async def on_raw_reaction_clear(self, payload: discord.RawReactionClearEvent) -> None:
        await self.bot.flows.recounts.recount(payload.channel_id, payload.message_id)

    @commands.Cog.listener()
    async def on_raw_reaction_clear_emoji(
        self, payload: discord.RawReactionClearEmojiEvent
    ) -> None:
        if payload.emoji.id is None and payload.emoji.name in VOTING_EMOJIS:
            await self.bot.flows.recounts.recount(payload.channel_id, payload.message_id)

    @commands.Cog.listener()
    async def on_stackup_votes_failed(self, message_ids: set[int]) -> None:
        found = await self.bot.services.votes.vote_messages(message_ids)
        for message_id, info in sorted(found.items()):
            await self.bot.flows.recounts.recount(info.channel_id, message_id, info)

    @commands.Cog.listener()
    async def on_shard_ready(self, shard_id: int) -> None:
        """A fresh session (not a resume) replays nothing: recount what this shard serves."""
        shard_count = self.bot.shard_count or 1
        messages = await self.bot.services.votes.open_messages(
            shard_ids=[shard_id], shard_count=shard_count
        )
        if messages:
            log.info("shard %d: recounting %d vote messages", shard_id, len(messages))
        # Read in one query, not one per message as they are recounted.
        found = await self.bot.services.votes.vote_messages(message for _, message in messages)
        recounts = self.bot.flows.recounts
        await asyncio.gather(
            *(
                recounts.recount(channel, message, found.get(message))
                for channel, message in messages
            )
        )

    # -- results out ------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_stackup_votes_applied(self, result: BatchResult) -> None:
        """A member who switched 👍 to 👎 still shows the 👍: take it away, so the message
        shows the vote that counts (needs Manage Messages; without it the vote still counts)."""
        stale = [s for s in result.stale_reactions if s.channel_id not in self._no_manage_messages]
        held: dict[tuple[VoteTarget, int, int], int] = {}
        for kind in {s.kind for s in stale}:
            found = await self.bot.services.votes.votes_held(
                kind, ((s.target_id, s.member_id) for s in stale if s.kind is kind)
            )
            held.update({(kind, *key): value for key, value in found.items()})
        for reaction in stale:
            if reaction.channel_id in self._no_manage_messages:
                continue
            # The member may have switched back since: then that reaction is their vote.
            if held.get((reaction.kind, reaction.target_id, reaction.member_id)) == reaction.value:
                continue
            try:
                await self.bot.http.remove_reaction(
                    reaction.channel_id, reaction.message_id, reaction.emoji, reaction.member_id
                )
            except discord.Forbidden:
                self._no_manage_messages.add(reaction.channel_id)
                log.info(
                    "no Manage Messages in %d: switched votes keep both reactions",
                    reaction.channel_id,
                )
            except discord.HTTPException:
                log.debug("could not remove a switched reaction", exc_info=True)


async def setup(bot: StackupBot) -> None:
    await bot.add_cog(Votes(bot))
