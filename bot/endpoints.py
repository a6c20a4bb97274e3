"""Pointing discord.py at a REST or gateway proxy (nirn-proxy, a gateway proxy, a test server).

discord.py keeps the REST base and the default gateway as class attributes, so those are
process-wide by nature and set once before the bot connects. An auto-sharded bot without a
fixed shard count asks `GET /gateway/bot` where to connect instead, so the bot's own HTTP client
is told to answer with the configured gateway too (`route_gateway`).
"""

from __future__ import annotations

from typing import Any

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


def route_gateway(http: discord.http.HTTPClient, settings: Settings) -> None:
    if settings.discord_gateway_url == DISCORD_GATEWAY_URL:
        return
    discovered = http.get_bot_gateway
    gateway = settings.discord_gateway_url + "/"

    async def get_bot_gateway() -> tuple[int, str, Any]:
        shards, _discord_gateway, limits = await discovered()
        return shards, gateway, limits

    http.get_bot_gateway = get_bot_gateway  # type: ignore[method-assign]
