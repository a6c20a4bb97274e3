"""Pointing discord.py at a REST or gateway proxy (nirn-proxy, a gateway proxy, a test server).

discord.py keeps the REST base and the default gateway as class attributes, so those are
process-wide by nature and set once before the bot connects. An auto-sharded bot without a
fixed shard count asks `GET /gateway/bot` where to connect instead, so the bot's own HTTP client
is told to answer with the configured gateway too (`route_gateway`).

discord.py dials a gateway URL with its query replaced (`?v=10&encoding=json&compress=...`,
`DiscordWebSocket.from_client`), path untouched: the configured URL is used as given, and one
without a path gets `/`, as Discord's own `wss://gateway.discord.gg/` has.
"""

from __future__ import annotations

from typing import Any

import discord.gateway
import discord.http
import yarl

from bot.settings import DISCORD_API_BASE_URL, DISCORD_GATEWAY_URL, Settings


def gateway_url(value: str) -> yarl.URL:
    """The gateway URL discord.py is given: `value` as it is, `/` as its path if it has none."""
    url = yarl.URL(value)
    # yarl reads an absent path as "/" but would write it out absent: written out, it is there.
    return url.with_path("/") if url.path == "/" else url


def configured_gateway(settings: Settings) -> yarl.URL | None:
    """The gateway the settings name, or None for Discord's own."""
    url = gateway_url(settings.discord_gateway_url)
    return None if url == gateway_url(DISCORD_GATEWAY_URL) else url


def apply_endpoints(settings: Settings) -> None:
    if settings.discord_api_base_url != DISCORD_API_BASE_URL:
        discord.http.Route.BASE = settings.discord_api_base_url
    gateway = configured_gateway(settings)
    if gateway is not None:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway


def route_gateway(http: discord.http.HTTPClient, settings: Settings) -> None:
    gateway = configured_gateway(settings)
    if gateway is None:
        return
    discovered = http.get_bot_gateway

    async def get_bot_gateway() -> tuple[int, str, Any]:
        shards, _discord_gateway, limits = await discovered()
        return shards, str(gateway), limits

    http.get_bot_gateway = get_bot_gateway  # type: ignore[method-assign]
