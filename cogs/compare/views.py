"""The answers of /compare, /tool and /alternatives, and the buttons and menus under them.

The answers live here, beside the components, because buttons send them as well as commands
("Django vs Flask" under a comparison runs that comparison). Every component is a
`DynamicItem` whose custom_id carries the tool ids ("stackup:cmp:pc:3,17,42"), so it works on
messages sent before a restart without any state kept in memory.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

import discord

from bot.core.comparison import ToolAlternatives, ToolRef
from bot.core.ratelimit import CHANGES
from bot.errors import InvalidInput
from bot.render.advice import advice_figures_line, tool_advice_line
from bot.render.compare import (
    CHART_FILENAME,
    alternatives_embeds,
    chart_embed,
    chart_spec,
    clip,
    comparison_embeds,
    details_embeds,
    reasons_pages,
    tool_embeds,
)
from bot.services.compare import MAX_COMPARED
from cogs._shared.discord_io import NO_PINGS, ChartFile, bot_of, guarded, limit_writes
from cogs._shared.pager import PageButton

IDS = r"(?P<ids>\d{1,19}(?:,\d{1,19}){0,4})"
# Six actions fill the first row and start the second; related comparisons go under them.
RELATED_ROW = 2
PROS_CONS_CHART = "Chart of the top pros and cons votes"
NO_CHART = "The chart could not be drawn just now; try again in a moment."


def _ids(text: str) -> list[int]:
    return [int(part) for part in text.split(",")]


def _joined(ids: Sequence[int]) -> str:
    return ",".join(str(tool_id) for tool_id in ids)


def _names(refs: Sequence[ToolRef]) -> str:
    names = [f"**{ref.name}**" for ref in refs]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# ---------------------------------------------------------------- answers


async def send_comparison(
    interaction: discord.Interaction, tool_ids: Sequence[int], *, resolved: bool = False
) -> None:
    """Defer publicly (a busy database may take a moment), then answer with the comparison.

    Ids from a button may name tools removed since: unless they were `resolved` from the
    catalog index just now, they are checked first, so that the answer can still be private."""
    bot = bot_of(interaction)
    if not resolved:
        await bot.services.compare.tool_refs(tool_ids)
    await interaction.response.defer(thinking=True)
    comparison = await bot.services.compare.compare(tool_ids, guild_id=interaction.guild_id)
    advice = None
    if interaction.guild_id is not None:
        figures = await bot.services.advice.figures(
            guild_id=interaction.guild_id, tools=[tool.ref for tool in comparison.tools]
        )
        advice = advice_figures_line(figures)
    embeds = comparison_embeds(comparison, guild=interaction.guild_id is not None, advice=advice)
    view = actions_view([tool.id for tool in comparison.tools], charts=bot.charts.enabled)
    for related in comparison.related[:5]:
        button = Shortcut(
            "cmp",
            [ref.id for ref in related.tools],
            label=clip(" vs ".join(ref.name for ref in related.tools), 80),
        )
        button.item.row = RELATED_ROW
        view.add_item(button)
    await _followup(interaction, embeds=embeds, view=view)
    # Counting the run is a write: a member over their limit still gets the comparison, but
    # their runs stop moving "Related comparisons".
    if bot.limits.allows(CHANGES, (interaction.guild_id, interaction.user.id)):
        await bot.services.compare.record_run(
            [tool.id for tool in comparison.tools], guild_id=interaction.guild_id
        )


async def send_tool_card(
    interaction: discord.Interaction, tool_id: int, *, resolved: bool = False
) -> None:
    bot = bot_of(interaction)
    if not resolved:
        await bot.services.compare.tool_refs([tool_id])
    await interaction.response.defer(thinking=True)
    card = await bot.services.compare.card(tool_id, guild_id=interaction.guild_id)
    advice = None
    if interaction.guild_id is not None:
        figures = await bot.services.advice.figures(guild_id=interaction.guild_id, tools=[card.ref])
        advice = tool_advice_line(figures.tools[0], figures.decisions)
    embeds = tool_embeds(card, guild=interaction.guild_id is not None, advice=advice)
    view = actions_view([tool_id], charts=bot.charts.enabled)
    await _followup(interaction, embeds=embeds, view=view)


async def send_alternatives(
    interaction: discord.Interaction, tool_ids: Sequence[int], *, ephemeral: bool
) -> None:
    bot = bot_of(interaction)
    found = await bot.services.compare.alternatives(tool_ids)
    view = discord.ui.View(timeout=None)
    if len(found) == 1 and found[0].alternatives:
        view.add_item(CompareWithSelect.for_alternatives(found[0]))
    await interaction.response.send_message(
        embeds=alternatives_embeds(found),
        view=view,
        ephemeral=ephemeral,
        allowed_mentions=NO_PINGS,
    )


async def _followup(
    interaction: discord.Interaction, *, embeds: list[discord.Embed], view: discord.ui.View
) -> None:
    await interaction.followup.send(embeds=embeds, view=view, allowed_mentions=NO_PINGS)


def actions_view(tool_ids: Sequence[int], *, charts: bool = True) -> discord.ui.View:
    """The actions under a comparison or a tool card. A card shows its details already, and a
    bot without chart workers offers no chart."""
    view = discord.ui.View(timeout=None)
    for action in ToolAction.ACTIONS:
        if (action == "details" and len(tool_ids) < 2) or (action == "chart" and not charts):
            continue
        view.add_item(ToolAction(action, tool_ids))
    return view


# ---------------------------------------------------------------- the actions


class ToolAction(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"stackup:cmp:(?P<action>details|pc|chart|alts|advice|follow):" + IDS,
):
    """ "Details", "Pros & cons", "Chart", "Alternatives", "Ask for advice" and "Follow" under
    a comparison: what the answer leaves out is one click away."""

    LABELS = {
        "details": ("Details", "📋"),
        "pc": ("Pros & cons", "⚖️"),
        "chart": ("Chart", "📊"),
        "alts": ("Alternatives", "🔀"),
        "advice": ("Ask for advice", "🙋"),
        "follow": ("Follow", "🔔"),
    }
    ACTIONS = tuple(LABELS)

    def __init__(self, action: str, tool_ids: Sequence[int]) -> None:
        label, emoji = self.LABELS[action]
        self.action = action
        self.tool_ids = list(tool_ids)
        super().__init__(
            discord.ui.Button(
                label=label,
                emoji=emoji,
                style=discord.ButtonStyle.secondary,
                custom_id=f"stackup:cmp:{action}:{_joined(tool_ids)}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> ToolAction:
        return cls(match["action"], _ids(match["ids"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        handlers = {
            "details": _show_details,
            "pc": _show_reasons,
            "chart": _show_chart,
            "alts": _show_alternatives,
            "advice": _ask_for_advice,
            "follow": _offer_follow,
        }
        await guarded(interaction, handlers[self.action](interaction, self.tool_ids))


async def _show_reasons(
    interaction: discord.Interaction, tool_ids: Sequence[int], page: int = 0, *, edit: bool = False
) -> None:
    bot = bot_of(interaction)
    found = await bot.services.compare.reasons(tool_ids, guild_id=interaction.guild_id)
    pages = reasons_pages(found)
    page = min(max(page, 0), len(pages) - 1)
    view = discord.ui.View(timeout=None)
    if interaction.guild_id is not None:
        view.add_item(
            bot.flows.pros_cons.voting_menu([(entry.tool.id, entry.tool.name) for entry in found])
        )
    if len(pages) > 1:
        for button in ReasonsPage.pair(tool_ids, page=page, first=0, last=len(pages) - 1):
            view.add_item(button)
    content = f"Page {page + 1} of {len(pages)}" if len(pages) > 1 else None
    if edit:
        await interaction.response.edit_message(content=content, embeds=pages[page], view=view)
    else:
        await interaction.response.send_message(
            content=content,
            embeds=pages[page],
            view=view,
            ephemeral=True,
            allowed_mentions=NO_PINGS,
        )


async def _show_details(interaction: discord.Interaction, tool_ids: Sequence[int]) -> None:
    bot = bot_of(interaction)
    comparison = await bot.services.compare.compare(tool_ids, guild_id=interaction.guild_id)
    embeds = details_embeds(comparison, guild=interaction.guild_id is not None)
    await interaction.response.send_message(
        embeds=embeds, ephemeral=True, allowed_mentions=NO_PINGS
    )


async def _show_chart(interaction: discord.Interaction, tool_ids: Sequence[int]) -> None:
    """Deferred: drawing takes a moment, in a worker. Read first, so that tools gone from the
    catalog are still answered at once."""
    bot = bot_of(interaction)
    found = await bot.services.compare.reasons(tool_ids, guild_id=interaction.guild_id)
    await interaction.response.defer(ephemeral=True, thinking=True)
    png = await bot.charts.render_comparison(chart_spec(found))
    if png is None:
        await interaction.followup.send(NO_CHART, ephemeral=True, allowed_mentions=NO_PINGS)
        return
    picture = ChartFile(io.BytesIO(png), filename=CHART_FILENAME, description=PROS_CONS_CHART)
    await interaction.followup.send(
        embed=chart_embed(found), file=picture, ephemeral=True, allowed_mentions=NO_PINGS
    )


async def _show_alternatives(interaction: discord.Interaction, tool_ids: Sequence[int]) -> None:
    await send_alternatives(interaction, tool_ids, ephemeral=True)


async def _ask_for_advice(interaction: discord.Interaction, tool_ids: Sequence[int]) -> None:
    bot = bot_of(interaction)
    refs = await bot.services.compare.tool_refs(tool_ids)
    await bot.flows.advice.ask_about(interaction, refs)


async def _offer_follow(interaction: discord.Interaction, tool_ids: Sequence[int]) -> None:
    bot = bot_of(interaction)
    if interaction.guild_id is None:
        raise InvalidInput("Following works in a server, not in direct messages.")
    refs = await bot.services.compare.tool_refs(tool_ids)
    member = interaction.user.id
    if len(refs) == 1:
        limit_writes(interaction, CHANGES)
        following = await bot.services.follows.toggle(
            guild_id=interaction.guild_id, member_id=member, tool_id=refs[0].id
        )
        text = (
            f"You now follow {_names(refs)} in this server. Click Follow again to stop."
            if following
            else f"You no longer follow {_names(refs)}."
        )
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)
        return
    followed = await bot.services.follows.followed(
        guild_id=interaction.guild_id, member_id=member, tool_ids=[ref.id for ref in refs]
    )
    view = discord.ui.View(timeout=None)
    view.add_item(FollowSelect.offering(refs, followed))
    await interaction.response.send_message(
        "Choose the tools you follow in this server:",
        view=view,
        ephemeral=True,
        allowed_mentions=NO_PINGS,
    )


# ---------------------------------------------------------------- behind the actions


class FollowSelect(discord.ui.DynamicItem[discord.ui.Select], template=r"stackup:follow:" + IDS):
    """Follow exactly the tools chosen among those offered."""

    def __init__(self, tool_ids: Sequence[int], select: discord.ui.Select) -> None:
        self.tool_ids = list(tool_ids)
        super().__init__(select)

    @classmethod
    def offering(cls, refs: Sequence[ToolRef], followed: set[int]) -> FollowSelect:
        ids = [ref.id for ref in refs]
        select = discord.ui.Select(
            custom_id=f"stackup:follow:{_joined(ids)}",
            placeholder="Tools to follow",
            min_values=0,
            max_values=len(refs),
            options=[
                discord.SelectOption(
                    label=clip(ref.name, 100), value=str(ref.id), default=ref.id in followed
                )
                for ref in refs
            ],
        )
        return cls(ids, select)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Select, match: re.Match[str], /
    ) -> FollowSelect:
        return cls(_ids(match["ids"]), item)

    async def callback(self, interaction: discord.Interaction) -> None:
        await guarded(interaction, self._apply(interaction))

    async def _apply(self, interaction: discord.Interaction) -> None:
        bot = bot_of(interaction)
        if interaction.guild_id is None:
            raise InvalidInput("Following works in a server, not in direct messages.")
        limit_writes(interaction, CHANGES)
        refs = await bot.services.compare.tool_refs(self.tool_ids)
        chosen = [int(value) for value in self.item.values if value.isdigit()]
        change = await bot.services.follows.set_follows(
            guild_id=interaction.guild_id,
            member_id=interaction.user.id,
            offered=refs,
            chosen=chosen,
        )
        text = (
            f"You follow {_names(change.now_following)} in this server."
            if change.now_following
            else "You follow none of these tools."
        )
        view = discord.ui.View(timeout=None)
        view.add_item(FollowSelect.offering(refs, {ref.id for ref in change.now_following}))
        await interaction.response.edit_message(content=text, view=view)


class ReasonsPage(PageButton, template=r"stackup:pc:(?P<page>-?\d{1,3}):" + IDS):
    """◀/▶ through the "Pros & cons" lists, edited in place (pages count from 0)."""

    def __init__(self, tool_ids: Sequence[int], page: int, **button: Any) -> None:
        self.tool_ids = list(tool_ids)
        super().__init__(page, **button)

    def custom_id_for(self, page: int, direction: str) -> str:
        return f"stackup:pc:{page}:{_joined(self.tool_ids)}"

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> ReasonsPage:
        return cls(_ids(match["ids"]), int(match["page"]))

    async def turn(self, interaction: discord.Interaction) -> None:
        await _show_reasons(interaction, self.tool_ids, self.page, edit=True)


class Shortcut(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"stackup:go:(?P<what>cmp|tool|alts):" + IDS,
):
    """One click to a comparison, a tool card or a tool's alternatives: a suggestion for an
    unknown name, or a related comparison."""

    def __init__(self, what: str, tool_ids: Sequence[int], *, label: str = "Show") -> None:
        self.what = what
        self.tool_ids = list(tool_ids)
        super().__init__(
            discord.ui.Button(
                label=clip(label, 80),
                style=discord.ButtonStyle.primary,
                custom_id=f"stackup:go:{what}:{_joined(tool_ids)}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> Shortcut:
        return cls(match["what"], _ids(match["ids"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        if self.what == "cmp":
            action = send_comparison(interaction, self.tool_ids)
        elif self.what == "tool":
            action = send_tool_card(interaction, self.tool_ids[0])
        else:
            action = send_alternatives(interaction, self.tool_ids[:1], ephemeral=False)
        await guarded(interaction, action)


class CompareWithSelect(
    discord.ui.DynamicItem[discord.ui.Select], template=r"stackup:cmpwith:(?P<id>\d{1,19})"
):
    """Under /alternatives: compare the tool with up to four of its alternatives."""

    def __init__(self, tool_id: int, select: discord.ui.Select | None = None) -> None:
        self.tool_id = tool_id
        super().__init__(select or discord.ui.Select(custom_id=f"stackup:cmpwith:{tool_id}"))

    @classmethod
    def for_alternatives(cls, found: ToolAlternatives) -> CompareWithSelect:
        options = [
            discord.SelectOption(label=clip(alt.tool.name, 100), value=str(alt.tool.id))
            for alt in found.alternatives[:25]
        ]
        select = discord.ui.Select(
            custom_id=f"stackup:cmpwith:{found.tool.id}",
            placeholder=clip(f"Compare {found.tool.name} with…", 150),
            min_values=1,
            max_values=min(MAX_COMPARED - 1, len(options)),
            options=options,
        )
        return cls(found.tool.id, select)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Select, match: re.Match[str], /
    ) -> CompareWithSelect:
        return cls(int(match["id"]), item)

    async def callback(self, interaction: discord.Interaction) -> None:
        chosen = [int(value) for value in self.item.values if value.isdigit()]
        ids = list(dict.fromkeys([self.tool_id, *chosen]))[:MAX_COMPARED]
        await guarded(interaction, send_comparison(interaction, ids))


DYNAMIC_ITEMS = (
    ToolAction,
    FollowSelect,
    ReasonsPage,
    Shortcut,
    CompareWithSelect,
)
