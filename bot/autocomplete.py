"""Autocomplete for tool options: answered from the in-memory index, never a query per keystroke."""

from __future__ import annotations

from collections.abc import Collection

from discord import app_commands

from bot.core.resolver import AUTOCOMPLETE_LIMIT, CatalogIndex

CHOICE_NAME_LIMIT = 100


def tool_choices(
    index: CatalogIndex, current: str, *, chosen: Collection[str] = ()
) -> list[app_commands.Choice[str]]:
    """Up to 25 choices; the value is the slug, so the command resolves it exactly. Tools
    `chosen` already (their slugs, in the command's other options) are not offered again."""
    tools = index.complete(current, AUTOCOMPLETE_LIMIT + len(chosen))
    return [
        app_commands.Choice(name=tool.name[:CHOICE_NAME_LIMIT], value=tool.slug)
        for tool in tools
        if tool.slug not in chosen
    ][:AUTOCOMPLETE_LIMIT]
