"""/compare, /tool and /alternatives: resolve the names the member typed, answer unknown ones
with the closest tools, and hand the tools to the answers in `views` (which its buttons send
too).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import discord
from discord import app_commands
from discord.ext import commands

from bot.autocomplete import tool_choices
from bot.bot import StackupBot
from bot.errors import InvalidInput
from bot.render.compare import clip
from bot.services.catalog import ResolvedNames, UnresolvedName, resolve_names
from cogs._shared.discord_io import NO_PINGS
from cogs.compare.views import (
    DYNAMIC_ITEMS,
    Shortcut,
    send_alternatives,
    send_comparison,
    send_tool_card,
)

CONTENT = 2000


def _other_options(interaction: discord.Interaction) -> set[str]:
    """What the member already put in the command's other options (slugs, when picked from
    autocomplete), so a tool is not offered twice."""
    options = (interaction.data or {}).get("options", [])
    return {
        str(option.get("value", "")).strip()
        for option in options
        if not option.get("focused") and option.get("value")
    }


# ---------------------------------------------------------------- unknown names


async def _answer_unknown(
    interaction: discord.Interaction,
    resolved: ResolvedNames,
    suggestion_items: Callable[[UnresolvedName], list[discord.ui.Item]],
) -> None:
    """Name each unknown tool with its closest matches; when only one name is unknown, the
    matches are buttons that go on with the command."""
    lines = []
    for unknown in resolved.unknown:
        shown = clip(unknown.query, 80)
        if unknown.suggestions:
            names = ", ".join(f"**{clip(s.name, 40)}**" for s in unknown.suggestions)
            lines.append(f"No tool called “{shown}” in the catalog. Closest: {names}.")
        else:
            lines.append(f"No tool called “{shown}” in the catalog, nor anything close.")
    view = discord.ui.View(timeout=None)
    if len(resolved.unknown) == 1:
        for item in suggestion_items(resolved.unknown[0])[:5]:
            view.add_item(item)
        if view.children:
            lines.append("Pick one below to go on with it.")
    await interaction.response.send_message(
        clip("\n".join(lines), CONTENT), view=view, ephemeral=True, allowed_mentions=NO_PINGS
    )


class Compare(commands.Cog):
    def __init__(self, bot: StackupBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)

    async def _resolve(self, queries: Sequence[str]) -> ResolvedNames:
        return resolve_names(await self.bot.fresh_catalog_index(), queries)

    async def _autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return tool_choices(
            self.bot.catalog_index_now(), current, chosen=_other_options(interaction)
        )

    @app_commands.command(name="compare")
    @app_commands.describe(
        first="A tool, e.g. ExpressJS",
        second="Another tool, e.g. Flask",
        third="Optional third tool",
        fourth="Optional fourth tool",
        fifth="Optional fifth tool",
    )
    async def compare(
        self,
        interaction: discord.Interaction,
        first: app_commands.Range[str, 1, 100],
        second: app_commands.Range[str, 1, 100],
        third: app_commands.Range[str, 1, 100] | None = None,
        fourth: app_commands.Range[str, 1, 100] | None = None,
        fifth: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        """Put two to five tools side by side: figures, differences, pros and cons."""
        queries = [q for q in (first, second, third, fourth, fifth) if q and q.strip()]
        if len(queries) < 2:
            raise InvalidInput("Name at least two different tools to compare.")
        resolved = await self._resolve(queries)
        repeated = resolved.duplicates
        if repeated:
            raise InvalidInput(
                f"**{clip(repeated[0].name, 80)}** is named twice; "
                "compare two to five different tools."
            )
        if resolved.unknown:
            known = resolved.tools

            def suggestions(unknown: UnresolvedName) -> list[discord.ui.Item]:
                taken = {tool.tool_id for tool in known if tool is not None}
                items = []
                for suggestion in unknown.suggestions:
                    if suggestion.tool_id in taken:
                        continue
                    ids = [
                        suggestion.tool_id if position == unknown.position else tool.tool_id
                        for position, tool in enumerate(known)
                        if tool is not None or position == unknown.position
                    ]
                    items.append(Shortcut("cmp", ids, label=suggestion.name))
                return items

            await _answer_unknown(interaction, resolved, suggestions)
            return
        ids = [tool.tool_id for tool in resolved.tools if tool]
        await send_comparison(interaction, ids, resolved=True)

    async def _resolve_one(
        self, interaction: discord.Interaction, name: str, shortcut: str
    ) -> int | None:
        """The tool's id; or None, once the member was told the name is unknown and offered
        the closest tools as `shortcut` buttons."""
        resolved = await self._resolve([name])
        tool = resolved.tools[0]
        if tool is not None:
            return tool.tool_id
        await _answer_unknown(
            interaction,
            resolved,
            lambda unknown: [
                Shortcut(shortcut, [s.tool_id], label=s.name) for s in unknown.suggestions
            ],
        )
        return None

    @app_commands.command(name="tool")
    @app_commands.describe(name="The tool, e.g. Flask")
    async def tool(
        self, interaction: discord.Interaction, name: app_commands.Range[str, 1, 100]
    ) -> None:
        """One tool's full card: facts, links, figures, features, pros and cons."""
        tool_id = await self._resolve_one(interaction, name, "tool")
        if tool_id is not None:
            await send_tool_card(interaction, tool_id, resolved=True)

    @app_commands.command(name="alternatives")
    @app_commands.describe(name="The tool, e.g. Koa")
    async def alternatives(
        self, interaction: discord.Interaction, name: app_commands.Range[str, 1, 100]
    ) -> None:
        """A tool's alternatives, each with a one-line description."""
        tool_id = await self._resolve_one(interaction, name, "alts")
        if tool_id is not None:
            await send_alternatives(interaction, [tool_id], ephemeral=False)

    compare.autocomplete("first")(_autocomplete)
    compare.autocomplete("second")(_autocomplete)
    compare.autocomplete("third")(_autocomplete)
    compare.autocomplete("fourth")(_autocomplete)
    compare.autocomplete("fifth")(_autocomplete)
    tool.autocomplete("name")(_autocomplete)
    alternatives.autocomplete("name")(_autocomplete)


async def setup(bot: StackupBot) -> None:
    await bot.add_cog(Compare(bot))
