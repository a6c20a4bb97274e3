"""DISCORD_API_BASE_URL and DISCORD_GATEWAY_URL reach discord.py's REST routes and gateway."""

from __future__ import annotations

import discord.gateway
import discord.http

from bot.endpoints import apply_endpoints
from tests.conftest import make_settings


def test_proxy_urls_reach_discord_py(monkeypatch, tmp_path):
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket,
        "DEFAULT_GATEWAY",
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
    )
    apply_endpoints(
        make_settings(
            discord_api_base_url="http://127.0.0.1:8080/api/v10",
            discord_gateway_url="ws://127.0.0.1:8081",
        )
    )
    route = discord.http.Route("GET", "/users/@me")
    assert route.url == "http://127.0.0.1:8080/api/v10/users/@me"
    assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == "ws://127.0.0.1:8081/"


def test_default_urls_leave_discord_py_alone(monkeypatch):
    monkeypatch.setattr(discord.http.Route, "BASE", "sentinel")
    apply_endpoints(make_settings())
    assert discord.http.Route.BASE == "sentinel"
