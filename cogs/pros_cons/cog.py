"""`/pros` and `/cons`: add (asking first when a close one exists), vote on a voting message of
ten numbered reactions, merge and remove (Manage Server). Votes themselves arrive as reactions
through the Votes cog; this cog hands their results to `bot.flows.pros_cons`, which keeps the
voting messages' counts shown. Buttons and menus are in `views`.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.autocomplete import CHOICE_NAME_LIMIT, tool_choices
from bot.bot import StackupBot
from bot.core.pros_cons import KIND_WORDS, Added, same_text
from bot.core.ratelimit import ADDITIONS, CHANGES
from bot.core.resolver import AUTOCOMPLETE_LIMIT
from bot.core.voting import BatchResult
from bot.errors import InvalidInput
from bot.render.compare import clip
from bot.render.pros_cons import added_text, merged_text, removed_text, similar_question
from bot.services.catalog import resolve_names, resolve_or_raise
from bot.services.pros_cons import ProsConsService
from cogs._shared.discord_io import NO_PINGS, bot_of, manages_server, writes
from cogs.pros_cons.flows import Draft, ProsConsFlows
from cogs.pros_cons.views import DYNAMIC_ITEMS, AddAnyway, VoteSimilar, guild_id_of


def _service(interaction: discord.Interaction) -> ProsConsService:
    return bot_of(interaction).services.pros_cons


def _flows(interaction: discord.Interaction) -> ProsConsFlows:
    return bot_of(interaction).flows.pros_cons


# ---------------------------------------------------------------- commands


async def _tool_id(interaction: discord.Interaction, name: str) -> int:
    index = await bot_of(interaction).fresh_catalog_index()
    return resolve_or_raise(index, name).tool_id


async def _reason_ids(
    interaction: discord.Interaction, tool_id: int, kind: str, *values: str
) -> list[int]:
    """Item options: each the id autocomplete sent (one of this tool's items), or the text
    typed, matched exactly. The tool's list is read once for all of them."""
    listing = await _service(interaction).listing(tool_id, kind, guild_id=guild_id_of(interaction))
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
        guild_id = guild_id_of(interaction)
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
        _flows(interaction).keep_draft(
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
        await _flows(interaction).post_voting_message(interaction, tool_id, self.kind, page)

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
            duplicate_id,
            into_id,
            tool_id=tool_id,
            guild_id=guild_id_of(interaction),
            kind=self.kind,
        )
        _flows(interaction).show_counts(touched)
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
            reason_id, tool_id=tool_id, guild_id=guild_id_of(interaction), kind=self.kind
        )
        _flows(interaction).show_counts(touched)
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

    async def cog_load(self) -> None:
        for group in self.groups:
            self.bot.tree.add_command(group)
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)

    async def cog_unload(self) -> None:
        for group in self.groups:
            self.bot.tree.remove_command(group.name)
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)
        self.bot.flows.pros_cons.cancel()

    @commands.Cog.listener()
    async def on_stackup_votes_applied(self, result: BatchResult) -> None:
        await self.bot.flows.pros_cons.votes_applied(result)

    @commands.Cog.listener()
    async def on_stackup_vote_message_gone(self, message_id: int) -> None:
        await self.bot.services.pros_cons.close_voting([message_id])


async def setup(bot: StackupBot) -> None:
    await bot.add_cog(ProsCons(bot))
