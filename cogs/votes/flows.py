"""Recounts: a vote message's votes brought in line with the reactions Discord shows on it.

Run by the Votes cog (a fresh shard session, REMOVE_ALL, REMOVE_EMOJI, a failed batch), by the
scheduler's vote repair, and by features that have just posted a vote message (reactions made
before it was registered count). One object the bot builds, `bot.flows.recounts`, so that every
caller shares one limit on concurrent reads.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord

from bot.core.voting import Recount, VoteMessageInfo

if TYPE_CHECKING:
    from bot.bot import StackupBot

log = logging.getLogger(__name__)

REACTION_PAGE = 100
# Recounts at start run a few at a time; discord.py spaces the requests by rate limit bucket.
RECOUNT_CONCURRENCY = 4


class Recounts:
    def __init__(self, bot: StackupBot) -> None:
        self.bot = bot
        self._recounts = asyncio.Semaphore(RECOUNT_CONCURRENCY)

    async def recount(
        self, channel_id: int, message_id: int, info: VoteMessageInfo | None = None
    ) -> bool:
        """Bring the message's votes in line with its reactions; False if it could not be read.
        `info`: the vote message, when the caller has read it already."""
        if info is None:
            info = await self.bot.services.votes.vote_message(message_id)
        if info is None or not info.is_open:
            return False
        async with self._recounts:
            self.bot.services.votes.begin_recount(message_id)
            try:
                reactors = {
                    emoji: await self._reactors(channel_id, message_id, emoji)
                    for emoji in info.options
                }
            except discord.NotFound:
                self.bot.services.votes.abort_recount(message_id)
                self.bot.dispatch("stackup_vote_message_gone", message_id)
                return False
            except discord.HTTPException:
                self.bot.services.votes.abort_recount(message_id)
                log.warning("could not read the reactions of message %d", message_id, exc_info=True)
                return False
            except BaseException:
                self.bot.services.votes.abort_recount(message_id)
                raise
            self.bot.services.votes.finish_recount(Recount(message_id, reactors))
        return True

    async def _reactors(self, channel_id: int, message_id: int, emoji: str) -> frozenset[int]:
        """Members (not bots) showing the reaction, read 100 a page."""
        members: set[int] = set()
        after = 0
        while True:
            page = await self.bot.http.get_reaction_users(
                channel_id, message_id, emoji, REACTION_PAGE, after=after or None
            )
            ids = sorted(int(user["id"]) for user in page)
            members.update(int(u["id"]) for u in page if not u.get("bot"))
            newer = [user_id for user_id in ids if user_id > after]
            if len(page) < REACTION_PAGE or not newer:
                return frozenset(members)
            after = newer[-1]
