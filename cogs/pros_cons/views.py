"""The buttons and menus of pros and cons: a voting message's pages, "Post a voting message"
under the lists, and the near-duplicate question ("Vote for that one", "Add mine anyway").

Every component is a `DynamicItem` whose custom_id carries what it acts on, so it keeps working
after a restart; only "Add mine anyway" needs the member's text, kept a while by the flows.
What a click starts (posting a voting message, editing counts) is `bot.flows.pros_cons`.
"""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.core.pros_cons import KIND_WORDS, VotingPage
from bot.core.ratelimit import CHANGES
from bot.errors import InvalidInput
from bot.render.compare import clip
from bot.render.pros_cons import added_text, vote_text
from cogs._shared.discord_io import bot_of, guarded, limit_writes
from cogs._shared.pager import PageButton

KIND = r"(?P<kind>pro|con)"


def guild_id_of(interaction: discord.Interaction) -> int:
    if interaction.guild_id is None:
        raise InvalidInput("Pros and cons are voted in servers, not in direct messages.")
    return interaction.guild_id


# ---------------------------------------------------------------- voting messages


def pages_view(shown: VotingPage) -> discord.ui.View:
    """◀/▶ under a voting message, when its list has more than one page."""
    view = discord.ui.View(timeout=None)
    if shown.pages > 1:
        for button in VotingPageButton.pair(
            shown.kind, shown.tool.id, page=shown.page, first=1, last=shown.pages
        ):
            view.add_item(button)
    return view


class VotingPageButton(
    PageButton,
    template=r"stackup:pcv:" + KIND + r":(?P<tool>\d{1,20}):(?P<page>\d{1,4})",
):
    """Posts the voting message of another page (reactions cannot be renumbered in place)."""

    def __init__(self, kind: str, tool_id: int, page: int, **button: Any) -> None:
        self.kind, self.tool_id = kind, tool_id
        super().__init__(page, **button)

    def custom_id_for(self, page: int, direction: str) -> str:
        return f"stackup:pcv:{self.kind}:{self.tool_id}:{max(page, 0)}"

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> VotingPageButton:
        return cls(match["kind"], int(match["tool"]), int(match["page"]))

    async def turn(self, interaction: discord.Interaction) -> None:
        limit_writes(interaction, CHANGES)
        await bot_of(interaction).flows.pros_cons.post_voting_message(
            interaction, self.tool_id, self.kind, self.page
        )


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
            await bot_of(interaction).flows.pros_cons.post_voting_message(
                interaction, int(tool), kind, 1
            )

        await guarded(interaction, run())


# ---------------------------------------------------------------- near-duplicates


class _ChoiceButton(
    discord.ui.DynamicItem[discord.ui.Button], template=r"stackup:pcsim:(?P<number>\d{1,20})"
):
    """A button of the near-duplicate question, carrying one number in its custom_id (the
    similar reason's id, or the draft's). Subclasses name their prefix, label and style."""

    prefix = ""
    label = ""
    style = discord.ButtonStyle.secondary

    def __init__(self, number: int) -> None:
        self.number = number
        super().__init__(
            discord.ui.Button(
                label=self.label, style=self.style, custom_id=f"{self.prefix}{number}"
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> Any:
        return cls(int(match["number"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await guarded(interaction, self.act(interaction))

    async def act(self, interaction: discord.Interaction) -> None:
        raise NotImplementedError


class VoteSimilar(_ChoiceButton, template=r"stackup:pcsim:v:(?P<number>\d{1,20})"):
    prefix = "stackup:pcsim:v:"
    label = "Vote for that one"
    style = discord.ButtonStyle.primary

    async def act(self, interaction: discord.Interaction) -> None:
        bot = bot_of(interaction)
        guild_id = guild_id_of(interaction)
        limit_writes(interaction, CHANGES)
        cast = await bot.services.pros_cons.vote_for(
            self.number, guild_id=guild_id, member_id=interaction.user.id
        )
        await interaction.response.edit_message(content=vote_text(cast), view=None)
        bot.flows.pros_cons.show_counts(cast.shown_on)


class AddAnyway(_ChoiceButton, template=r"stackup:pcsim:a:(?P<number>\d{1,20})"):
    prefix = "stackup:pcsim:a:"
    label = "Add mine anyway"

    async def act(self, interaction: discord.Interaction) -> None:
        bot = bot_of(interaction)
        draft = bot.flows.pros_cons.take_draft(self.number)
        if draft is None or draft.member_id != interaction.user.id:
            raise InvalidInput(
                "That draft is gone (Stackup keeps them a while, not across restarts); "
                "run the command again."
            )
        # The command counted this addition already; the click completes it.
        added = await bot.services.pros_cons.add(
            draft.tool_id,
            draft.kind,
            draft.text,
            guild_id=draft.guild_id,
            author_id=draft.member_id,
            anyway=True,
        )
        await interaction.response.edit_message(content=added_text(added), view=None)


DYNAMIC_ITEMS = (VotingPageButton, VoteOnSelect, VoteSimilar, AddAnyway)
