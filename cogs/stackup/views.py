"""The confirm buttons of `/stackup reset` and `/stackup forget-me`: persistent
`DynamicItem`s whose custom_id names the server to reset or the member to forget, so nothing is
kept in memory between the question and the click."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import discord

from bot.bot import StackupBot
from bot.core.privacy import Posted, Reaction
from bot.errors import InvalidInput, NotAllowed
from bot.render.privacy import FORGET_CANCELLED, forgotten_message, left_in_discord_message
from cogs._shared.discord_io import bot_of, guarded, manages_server

log = logging.getLogger(__name__)

RESET_DONE = "Stackup's settings for this server are back to the defaults."


class ConfirmReset(
    discord.ui.DynamicItem[discord.ui.Button], template=r"stackup:reset:(?P<guild>\d{1,20})"
):
    def __init__(self, guild_id: int) -> None:
        self.guild_id = guild_id
        super().__init__(
            discord.ui.Button(
                label="Reset the settings",
                style=discord.ButtonStyle.danger,
                custom_id=f"stackup:reset:{guild_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> ConfirmReset:
        return cls(int(match["guild"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await guarded(interaction, self.reset(interaction))

    async def reset(self, interaction: discord.Interaction) -> None:
        # Checked again at the click: the command's check was then, and for someone else.
        manages_server(interaction)
        if interaction.guild_id != self.guild_id:
            raise InvalidInput("This button resets another server's settings.")
        bot = bot_of(interaction)
        await bot.services.guild_settings.reset(self.guild_id)
        # The guild's timers follow: idle closes and the digest go back to the defaults.
        bot.dispatch("stackup_guild_configured", self.guild_id)
        await interaction.response.edit_message(content=RESET_DONE, embed=None, view=None)


class ConfirmForget(
    discord.ui.DynamicItem[discord.ui.Button], template=r"stackup:forget:(?P<member>\d{1,20})"
):
    """`/stackup forget-me`'s confirm button; its custom_id names the member who asked, the
    only one it works for."""

    def __init__(self, member_id: int) -> None:
        self.member_id = member_id
        super().__init__(
            discord.ui.Button(
                label="Forget me",
                style=discord.ButtonStyle.danger,
                custom_id=f"stackup:forget:{member_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> ConfirmForget:
        return cls(int(match["member"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await guarded(interaction, self.forget(interaction))

    async def forget(self, interaction: discord.Interaction) -> None:
        _only_the_asker(interaction, self.member_id)
        assert interaction.guild_id is not None
        bot = bot_of(interaction)
        await interaction.response.defer()
        # Votes of theirs already received (queued, or held behind a recount in flight) are
        # written first, then deleted with the rest.
        await bot.services.votes.wait_received()
        forgotten = await bot.services.privacy.forget_member(
            self.member_id, guild_id=interaction.guild_id
        )
        for post_id in forgotten.posts_changed:
            bot.flows.advice.ranking_changed(post_id)
        # The counts their votes were in moved: each feature shows its own again, as after a
        # vote batch (rankings, decisions' 👍, pros and cons lists).
        bot.dispatch("stackup_votes_applied", forgotten.votes_moved)
        await interaction.edit_original_response(
            content=forgotten_message(forgotten), embed=None, view=None
        )
        left = await _delete_messages(bot, forgotten.messages)
        left += await _take_reactions_away(bot, self.member_id, forgotten.reactions)
        if left:
            await interaction.followup.send(left_in_discord_message(left), ephemeral=True)


class CancelForget(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"stackup:forget-cancel:(?P<member>\d{1,20})",
):
    def __init__(self, member_id: int) -> None:
        self.member_id = member_id
        super().__init__(
            discord.ui.Button(
                label="Cancel",
                style=discord.ButtonStyle.secondary,
                custom_id=f"stackup:forget-cancel:{member_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> CancelForget:
        return cls(int(match["member"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await guarded(interaction, self.cancel(interaction))

    async def cancel(self, interaction: discord.Interaction) -> None:
        _only_the_asker(interaction, self.member_id)
        await interaction.response.edit_message(content=FORGET_CANCELLED, embed=None, view=None)


def _only_the_asker(interaction: discord.Interaction, member_id: int) -> None:
    # The question is private, but a custom_id can be replayed by anyone.
    if interaction.user.id != member_id:
        raise NotAllowed("Only the member who asked to be forgotten can answer this.")
    if interaction.guild_id is None:
        raise InvalidInput("Stackup forgets members server by server; ask in a server.")


async def _delete_messages(bot: StackupBot, messages: Sequence[Posted]) -> int:
    """Delete Stackup's messages that showed the member's recommendations and decisions (its
    own: no permission needed); how many are left (Discord failed)."""
    left = 0
    for message in messages:
        try:
            await bot.http.delete_message(message.channel_id, message.message_id)
        except discord.NotFound:
            pass  # deleted already
        except discord.HTTPException:
            log.info("could not delete a forgotten member's message", exc_info=True)
            left += 1
    return left


async def _take_reactions_away(
    bot: StackupBot, member_id: int, reactions: Sequence[Reaction]
) -> int:
    """Remove the member's reactions on open vote messages (a recount would count them
    again); how many are left (no Manage Messages there, or Discord failed)."""
    left = 0
    refused: set[int] = set()
    for reaction in reactions:
        if reaction.channel_id in refused:
            left += 1
            continue
        try:
            await bot.http.remove_reaction(
                reaction.channel_id, reaction.message_id, reaction.emoji, member_id
            )
        except discord.NotFound:
            pass  # the message is gone, and its reactions with it
        except discord.Forbidden:
            refused.add(reaction.channel_id)
            left += 1
        except discord.HTTPException:
            log.info("could not remove a forgotten member's reaction", exc_info=True)
            left += 1
    return left
