"""The advice feature's components: the ask form, the button that reopens a refused form filled
in, and the pager of `/advice list`.

They reach the feature through `bot.flows.advice`, never through the cog: the buttons are
dynamic items that outlive any one message (and the process that sent it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import discord

from bot.bot import report_error
from bot.core.advice import CONTEXT_LIMIT, QUESTION_LIMIT, TITLE_LIMIT
from bot.errors import InvalidInput, StackupError
from bot.render.advice import advice_list_embed
from cogs._shared.discord_io import NO_PINGS, bot_of
from cogs._shared.pager import BACK, PageButton


@dataclass(frozen=True)
class Draft:
    """What a member wrote in the ask form."""

    title: str
    question: str
    tools: str
    context: str


EMPTY_DRAFT = Draft("", "", "", "")


class AskModal(discord.ui.Modal, title="Ask for advice"):
    def __init__(self, draft: Draft = EMPTY_DRAFT) -> None:
        super().__init__(timeout=900)
        self.post_title = discord.ui.TextInput(
            label="Title",
            custom_id="title",
            placeholder="Flask or Django for a REST API?",
            max_length=TITLE_LIMIT,
            default=draft.title[:TITLE_LIMIT] or None,
        )
        self.question = discord.ui.TextInput(
            label="Question",
            custom_id="question",
            style=discord.TextStyle.paragraph,
            placeholder="What must you decide, and what matters most?",
            max_length=QUESTION_LIMIT,
            default=draft.question[:QUESTION_LIMIT] or None,
        )
        self.tools = discord.ui.TextInput(
            label="Tools involved (comma separated)",
            custom_id="tools",
            placeholder="Flask, Django",
            max_length=200,
            default=draft.tools[:200] or None,
        )
        self.context = discord.ui.TextInput(
            label="Context: team size, scale, constraints",
            custom_id="context",
            style=discord.TextStyle.paragraph,
            required=False,
            max_length=CONTEXT_LIMIT,
            default=draft.context[:CONTEXT_LIMIT] or None,
        )
        for item in (self.post_title, self.question, self.tools, self.context):
            self.add_item(item)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        draft = Draft(
            self.post_title.value, self.question.value, self.tools.value, self.context.value
        )
        advice = bot_of(interaction).flows.advice
        advice.keep_draft(interaction.user.id, draft)
        await advice.open_post(
            interaction,
            title=draft.title,
            question=draft.question,
            tools=draft.tools,
            context=draft.context,
        )
        advice.drafts.pop(interaction.user.id, None)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        """A mistake in the form should not cost the member what they wrote: the answer comes
        with a button that opens the form again, filled in."""
        if not isinstance(error, StackupError):
            await report_error(interaction, error)
            return
        view = discord.ui.View(timeout=None)
        view.add_item(RetryAsk())
        if interaction.response.is_done():
            await interaction.followup.send(
                error.message, view=view, ephemeral=True, allowed_mentions=NO_PINGS
            )
        else:
            await interaction.response.send_message(
                error.message, view=view, ephemeral=True, allowed_mentions=NO_PINGS
            )


class RetryAsk(discord.ui.DynamicItem[discord.ui.Button], template=r"stackup:advice:retry"):
    def __init__(self) -> None:
        super().__init__(
            discord.ui.Button(
                label="Edit and try again",
                emoji="✏️",
                style=discord.ButtonStyle.primary,
                custom_id="stackup:advice:retry",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> RetryAsk:
        return cls()

    async def callback(self, interaction: discord.Interaction) -> None:
        # After a restart the draft is gone: the form opens empty rather than not at all.
        draft = bot_of(interaction).flows.advice.drafts.get(interaction.user.id, EMPTY_DRAFT)
        await interaction.response.send_modal(AskModal(draft))


NEWER, OLDER = "◀ Newer", "Older ▶"


class AdviceListPage(
    PageButton,
    template=r"stackup:advlist:(?P<tool>\d{1,19}):(?P<status>open|closed|all):(?P<page>\d{1,6}):(?P<dir>p|n)",
):
    """◀/▶ through `/advice list`, newest posts first, edited in place (tool 0: any tool)."""

    def __init__(self, tool_id: int, status: str, page: int, **button: Any) -> None:
        self.tool_id, self.status = tool_id, status
        super().__init__(page, **button)

    def custom_id_for(self, page: int, direction: str) -> str:
        return f"stackup:advlist:{self.tool_id}:{self.status}:{page}:{direction}"

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> AdviceListPage:
        direction = match["dir"]
        return cls(
            int(match["tool"]),
            match["status"],
            int(match["page"]),
            direction=direction,
            label=NEWER if direction == BACK else OLDER,
        )

    async def turn(self, interaction: discord.Interaction) -> None:
        await send_list(interaction, self.tool_id or None, self.status, self.page, edit=True)


async def send_list(
    interaction: discord.Interaction,
    tool_id: int | None,
    status: str,
    page: int,
    *,
    edit: bool = False,
) -> None:
    """A page of the server's advice posts, with its pager; `edit` turns the page in place."""
    bot = bot_of(interaction)
    if interaction.guild_id is None:
        raise InvalidInput("Advice posts live in servers.")
    found = await bot.services.advice.list_posts(
        guild_id=interaction.guild_id,
        tool_id=tool_id,
        status=None if status == "all" else status,
        page=page,
    )
    embed = advice_list_embed(found, interaction.guild_id)
    view = discord.ui.View(timeout=None)
    if found.pages > 1:
        for button in AdviceListPage.pair(
            tool_id or 0, status, page=found.page, first=1, last=found.pages, labels=(NEWER, OLDER)
        ):
            view.add_item(button)
    if edit:
        await interaction.response.edit_message(embed=embed, view=view)
    else:
        await interaction.response.send_message(embed=embed, view=view, allowed_mentions=NO_PINGS)
