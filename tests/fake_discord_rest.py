"""A small Discord REST API on 127.0.0.1 for the operator commands (`stackup sync`,
`stackup doctor --connect`): the real discord.py HTTP client talks to it over a real socket,
through `DISCORD_API_BASE_URL` as a proxy such as nirn-proxy would be configured.

It serves the few routes those commands use, from a world the test describes, and records
every request with its JSON body so the test can check them against Discord's spec.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

API = "/api/v10"


@dataclass
class Recorded:
    method: str
    path: str  # without the /api/v10 prefix, as tests/discord_contract.py expects
    json: Any


@dataclass
class FakeDiscordRest:
    bot_id: int
    token: str
    guilds: dict[int, dict[str, Any]] = field(default_factory=dict)
    members: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    channels: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    base_url: str = ""

    def add_guild(
        self, guild_id: int, name: str, *, bot_permissions: int, channels: list[dict[str, Any]]
    ) -> None:
        """A server whose @everyone role has `bot_permissions`; the bot holds no other role."""
        self.guilds[guild_id] = {
            "id": str(guild_id),
            "name": name,
            "owner_id": "1",
            "icon": None,
            "features": [],
            "emojis": [],
            "stickers": [],
            "roles": [
                {
                    "id": str(guild_id),
                    "name": "@everyone",
                    "permissions": str(bot_permissions),
                    "position": 0,
                    "color": 0,
                    "hoist": False,
                    "managed": False,
                    "mentionable": False,
                    "flags": 0,
                }
            ],
        }
        self.members[(guild_id, self.bot_id)] = {
            "user": self._bot_user(),
            "roles": [],
            "joined_at": "2026-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
        }
        self.channels[guild_id] = [{"guild_id": str(guild_id), **c} for c in channels]

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": str(self.bot_id),
            "username": "Stackup",
            "discriminator": "0",
            "global_name": None,
            "avatar": None,
            "bot": True,
        }

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._authorised_and_recorded])
        app.router.add_get(f"{API}/users/@me", self._me)
        app.router.add_get(f"{API}/oauth2/applications/@me", self._application)
        app.router.add_put(f"{API}/applications/{{app}}/commands", self._put_commands)
        app.router.add_put(f"{API}/applications/{{app}}/guilds/{{g}}/commands", self._put_commands)
        app.router.add_get(f"{API}/guilds/{{g}}", self._guild)
        app.router.add_get(f"{API}/guilds/{{g}}/members/{{u}}", self._member)
        app.router.add_get(f"{API}/guilds/{{g}}/channels", self._channels)
        return app

    @web.middleware
    async def _authorised_and_recorded(self, request: web.Request, handler: Any) -> Any:
        body = await request.json() if request.can_read_body else None
        self.requests.append(Recorded(request.method, request.path.removeprefix(API), body))
        if request.headers.get("Authorization") != f"Bot {self.token}":
            return _json({"message": "401: Unauthorized", "code": 0}, status=401)
        return await handler(request)

    async def _me(self, _: web.Request) -> web.Response:
        return _json(self._bot_user())

    async def _application(self, _: web.Request) -> web.Response:
        # discord.py reads the application at login, for its id.
        return _json(
            {
                "id": str(self.bot_id),
                "name": "Stackup",
                "icon": None,
                "description": "",
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "flags": 0,
                "owner": {**self._bot_user(), "id": "1", "username": "owner", "bot": False},
            }
        )

    async def _put_commands(self, request: web.Request) -> web.Response:
        commands = await request.json()
        application = request.match_info["app"]
        answered = [
            {"id": str(900 + i), "application_id": application, "version": "1", **command}
            for i, command in enumerate(commands)
        ]
        return _json(answered)

    def _unknown(self) -> web.Response:
        return _json({"message": "Unknown Guild", "code": 10004}, status=404)

    async def _guild(self, request: web.Request) -> web.Response:
        guild = self.guilds.get(int(request.match_info["g"]))
        return _json(guild) if guild else self._unknown()

    async def _member(self, request: web.Request) -> web.Response:
        key = (int(request.match_info["g"]), int(request.match_info["u"]))
        return _json(self.members[key]) if key in self.members else self._unknown()

    async def _channels(self, request: web.Request) -> web.Response:
        channels = self.channels.get(int(request.match_info["g"]))
        return _json(channels) if channels is not None else self._unknown()


def _json(data: Any, status: int = 200) -> web.Response:
    # discord.py decodes a body as JSON only when Content-Type is exactly application/json.
    return web.Response(
        body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"}
    )


@contextmanager
def serving(fake: FakeDiscordRest) -> Iterator[FakeDiscordRest]:
    """Serves `fake` on 127.0.0.1 from a thread of its own: the CLI under test runs its own
    event loop (`asyncio.run`) in the test's thread."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(fake.app(), access_log=None)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.base_url = f"http://127.0.0.1:{port}{API}"
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.run_until_complete(runner.cleanup())
        loop.close()
