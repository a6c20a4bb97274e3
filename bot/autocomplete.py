"""Autocomplete for tool options: answered from the in-memory index, never a query per keystroke."""

from __future__ import annotations

from discord import app_commands

from bot.resolver import AUTOCOMPLETE_LIMIT, CatalogIndex

CHOICE_NAME_LIMIT = 100


def tool_choices(index: CatalogIndex, current: str) -> list[app_commands.Choice[str]]:
    """Up to 25 choices; the value is the slug, so the command resolves it exactly."""
    return [
        app_commands.Choice(name=tool.name[:CHOICE_NAME_LIMIT], value=tool.slug)
        for tool in index.complete(current, AUTOCOMPLETE_LIMIT)
    ]
