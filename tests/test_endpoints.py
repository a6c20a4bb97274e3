"""DISCORD_API_BASE_URL and DISCORD_GATEWAY_URL reach the addresses discord.py really uses."""

from __future__ import annotations

import discord.gateway
import discord.http
import pytest

from bot.bot import StackupBot
from bot.endpoints import apply_endpoints
from tests.conftest import make_settings


@pytest.fixture(autouse=True)
def restore_discord_py(monkeypatch):
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket,
        "DEFAULT_GATEWAY",
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
    )


def test_rest_requests_go_to_the_configured_base():
    apply_endpoints(make_settings(discord_api_base_url="http://127.0.0.1:8080/api/v10"))
    assert discord.http.Route("GET", "/users/@me").url == "http://127.0.0.1:8080/api/v10/users/@me"


def test_default_urls_leave_discord_py_alone(monkeypatch):
    monkeypatch.setattr(discord.http.Route, "BASE", "sentinel")
    apply_endpoints(make_settings())
    assert discord.http.Route.BASE == "sentinel"


@pytest.mark.parametrize("shard_count", [None, 2])
async def test_shards_connect_to_the_configured_gateway(monkeypatch, engine, sessions, shard_count):
    async def discord_says(self):
        return 2, "wss://gateway.discord.gg", {}

    monkeypatch.setattr(discord.http.HTTPClient, "get_bot_gateway", discord_says)
    settings = make_settings(discord_gateway_url="ws://127.0.0.1:8081", shard_count=shard_count)
    apply_endpoints(settings)
    bot = StackupBot(settings, engine, sessions)
    launched = []

    async def launch_shard(gateway, shard_id, *, initial=False):
        launched.append((str(gateway), shard_id))

    monkeypatch.setattr(bot, "launch_shard", launch_shard)
    await bot.launch_shards()
    assert launched == [("ws://127.0.0.1:8081/", 0), ("ws://127.0.0.1:8081/", 1)]
