"""/decision: "We chose Flask over Django because ...", posted in the channel and voted with 👍.

The message goes out first, then the decision is recorded with it (no transaction is open
during either Discord call). Its 👍 count is edited at most once every `ranking_edit_seconds`
per decision, the first edit after a quiet spell at once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import discord
from discord import app_commands
from discord.ext import commands

from bot.autocomplete import tool_choices
from bot.bot import StackupBot
from bot.core.comparison import ToolRef
from bot.core.decisions import REASON_MAX, REASON_MIN, DecisionLine, check_pair, checked_reason
from bot.core.ratelimit import ADDITIONS
from bot.core.voting import UP, BatchResult, VoteTarget
from bot.errors import InvalidInput
from bot.render.decisions import decision_embed
from bot.services.catalog import resolve_or_raise
from bot.services.decisions import NewDecision
from cogs._shared.discord_io import (
    NO_PINGS,
    Debouncer,
    MemberNames,
    edit_embed,
    writes,
)

log = logging.getLogger(__name__)


class Decisions(commands.Cog):
    def __init__(self, bot: StackupBot) -> None:
        self.bot = bot
        self.counts = Debouncer(
            bot.settings.ranking_edit_seconds, self.refresh_message, name="decision count edit"
        )
        # Authors' display names, for the edited embeds.
        self.names = MemberNames(bot)

    async def cog_unload(self) -> None:
        self.counts.cancel()

    # -- /decision ----------------------------------------------------------------------

    @app_commands.command(name="decision")
    @app_commands.guild_only()
    @writes(ADDITIONS)
    @app_commands.describe(
        chose="The tool you chose",
        over="The tool you passed over",
        why=f"Why you chose it ({REASON_MIN}–{REASON_MAX} characters)",
    )
    async def decision(
        self, interaction: discord.Interaction, chose: str, over: str, why: str
    ) -> None:
        """Share a decision: "We chose Flask over Django because ..."; members agree with 👍."""
        guild = interaction.guild
        if guild is None:
            raise InvalidInput("Decisions are shared in servers.")
        reason = checked_reason(why)
        index = await self.bot.fresh_catalog_index()
        chosen_entry = resolve_or_raise(index, chose)
        over_entry = resolve_or_raise(index, over)
        check_pair(chosen_entry.tool_id, over_entry.tool_id)
        chosen = ToolRef(chosen_entry.tool_id, chosen_entry.slug, chosen_entry.name)
        passed_over = ToolRef(over_entry.tool_id, over_entry.slug, over_entry.name)

        author = interaction.user
        self.names.remember(guild.id, author.id, author.display_name)
        draft = DecisionLine(
            member_id=author.id,
            chosen=chosen,
            over=(passed_over,),
            created_at=discord.utils.utcnow(),
            guild_id=guild.id,
            reason=reason,
        )
        callback = await interaction.response.send_message(
            embed=decision_embed(draft, author.display_name), allowed_mentions=NO_PINGS
        )
        message = callback.resource
        if not isinstance(message, discord.InteractionMessage):
            message = await interaction.original_response()
        recorded = await self._record(draft, message)
        log.info("decision %d shared in guild %d", recorded.id, guild.id)
        try:
            await message.add_reaction(UP)
        except discord.HTTPException:
            log.info("could not add 👍 in %d", message.channel.id, exc_info=True)
        # Reactions made in the moment before the message counted as a vote message are
        # read back from the message itself.
        await self.bot.flows.recounts.recount(message.channel.id, message.id)

    async def _record(self, draft: DecisionLine, message: discord.Message) -> DecisionLine:
        """The decision recorded with its posted message, or the message deleted."""
        try:
            return await self.bot.services.decisions.record(
                NewDecision(
                    guild_id=draft.guild_id,
                    member_id=draft.member_id,
                    chosen_tool_id=draft.chosen.id,
                    over_tool_id=draft.over[0].id,
                    reason=draft.reason,
                    channel_id=message.channel.id,
                    message_id=message.id,
                )
            )
        except Exception:
            # A decision that was not recorded must not look like one members can vote on.
            try:
                await message.delete()
            except discord.HTTPException:
                log.info("could not delete an unrecorded decision", exc_info=True)
            raise

    @decision.autocomplete("chose")
    async def _chose(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return tool_choices(self.bot.catalog_index_now(), current, chosen=_other(interaction))

    @decision.autocomplete("over")
    async def _over(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return tool_choices(self.bot.catalog_index_now(), current, chosen=_other(interaction))

    # -- keeping the 👍 count current -----------------------------------------------------

    @commands.Cog.listener()
    async def on_stackup_votes_applied(self, result: BatchResult) -> None:
        for decision_id in sorted(result.changed_targets.get(VoteTarget.DECISION, ())):
            self.counts.touch(decision_id)

    async def refresh_message(self, decision_id: int) -> None:
        decision = await self.bot.services.decisions.decision(decision_id)
        if decision is None or decision.channel_id is None or decision.message_id is None:
            return
        name = await self.names.display_name(decision.guild_id, decision.member_id)
        await edit_embed(
            self.bot,
            decision.channel_id,
            decision.message_id,
            decision_embed(decision, name),
            guild_id=decision.guild_id,
        )

    # -- a deleted message withdraws its decision -----------------------------------------

    @commands.Cog.listener()
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        if payload.guild_id is not None:
            await self._messages_gone([payload.message_id])

    @commands.Cog.listener()
    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        if payload.guild_id is not None:
            await self._messages_gone(payload.message_ids)

    @commands.Cog.listener()
    async def on_stackup_vote_message_gone(self, message_id: int) -> None:
        await self._messages_gone([message_id])

    async def _messages_gone(self, message_ids: Iterable[int]) -> None:
        for decision_id in await self.bot.services.decisions.withdraw(message_ids):
            log.info("decision %d withdrawn: its message was deleted", decision_id)


def _other(interaction: discord.Interaction) -> set[str]:
    """The tool already put in the other option (a slug, when picked from autocomplete), so
    it is not offered twice."""
    options = (interaction.data or {}).get("options", [])
    return {
        str(option.get("value", "")).strip()
        for option in options
        if option.get("name") in ("chose", "over")
        and not option.get("focused")
        and option.get("value")
    }


async def setup(bot: StackupBot) -> None:
    await bot.add_cog(Decisions(bot))
