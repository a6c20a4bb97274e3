"""DISCORD_API_BASE_URL and DISCORD_GATEWAY_URL reach the addresses discord.py really uses."""

from __future__ import annotations

import asyncio

import discord.gateway
import discord.http
import discord.utils
import pytest

from bot.bot import StackupBot
from bot.endpoints import apply_endpoints, route_gateway
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


class Dialled(BaseException):
    """Stops discord.py at the dial (a BaseException: launch_shard retries on an Exception)."""


QUERY = f"v=10&encoding=json&compress={discord.utils._ActiveDecompressionContext.COMPRESSION_TYPE}"


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        ("ws://127.0.0.1:8081/gateway", f"ws://127.0.0.1:8081/gateway?{QUERY}"),
        ("ws://127.0.0.1:8081/gateway/", f"ws://127.0.0.1:8081/gateway/?{QUERY}"),
        ("ws://127.0.0.1:8081", f"ws://127.0.0.1:8081/?{QUERY}"),
        ("ws://127.0.0.1:8081/", f"ws://127.0.0.1:8081/?{QUERY}"),
    ],
)
@pytest.mark.parametrize("shard_count", [None, 2])
async def test_shards_dial_the_configured_gateway_as_given(
    monkeypatch, engine, sessions, configured, expected, shard_count
):
    async def discord_says(self):
        return 2, "wss://gateway.discord.gg", {}

    monkeypatch.setattr(discord.http.HTTPClient, "get_bot_gateway", discord_says)
    settings = make_settings(discord_gateway_url=configured, shard_count=shard_count)
    apply_endpoints(settings)
    bot = StackupBot(settings, engine, sessions)
    dialled: list[str] = []

    async def ws_connect(url, *, compress=0):
        dialled.append(url)
        raise Dialled

    # Only the socket is faked: discord.py builds the URL and calls this with it.
    monkeypatch.setattr(bot.http, "ws_connect", ws_connect)
    # With no shard count the gateway comes from GET /gateway/bot (answered with the
    # configured one); with one, from DiscordWebSocket.DEFAULT_GATEWAY.
    with pytest.raises(Dialled):
        await bot.launch_shards()
    assert dialled == [expected]
    # A shard whose session was invalidated reconnects to DEFAULT_GATEWAY: the same URL.
    with pytest.raises(Dialled):
        await discord.gateway.DiscordWebSocket.from_client(bot, shard_id=1)
    assert dialled == [expected, expected]


async def test_discords_own_gateway_leaves_discord_py_alone():
    default = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    for given in ("wss://gateway.discord.gg", "wss://gateway.discord.gg/"):
        settings = make_settings(discord_gateway_url=given)
        apply_endpoints(settings)
        assert discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY is default
        http = discord.http.HTTPClient(asyncio.get_running_loop())
        discovered = http.get_bot_gateway
        route_gateway(http, settings)
        assert http.get_bot_gateway == discovered
