"""Pointing discord.py at a REST or gateway proxy (nirn-proxy, a gateway proxy, a test server).

discord.py keeps both addresses as class attributes, so this is process-wide by nature; it is
applied once, from the settings, before the bot connects.
"""

from __future__ import annotations

import discord.gateway
import discord.http
import yarl

from bot.settings import DISCORD_API_BASE_URL, DISCORD_GATEWAY_URL, Settings


def apply_endpoints(settings: Settings) -> None:
    if settings.discord_api_base_url != DISCORD_API_BASE_URL:
        discord.http.Route.BASE = settings.discord_api_base_url
    if settings.discord_gateway_url != DISCORD_GATEWAY_URL:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(
            settings.discord_gateway_url + "/"
        )
