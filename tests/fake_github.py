"""A local fake of the part of GitHub's REST API the external stats use, on 127.0.0.1 and a
random port: `GET /repos/{owner}/{name}` (and `/repositories/{id}`, where a renamed
repository's 301 points), ETags and 304s, 404s, and the rate-limit answers GitHub documents.

    async with FakeGitHub() as github:
        github.add_repo("koajs/koa", stars=35700, forks=3200)
        api = GitHubApi(github.url, None)
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass(frozen=True)
class Recorded:
    path: str
    headers: Mapping[str, str]  # lower-cased names

    @property
    def repository(self) -> str:
        return self.path.removeprefix("/repos/")


@dataclass
class _Repo:
    id: int
    full_name: str
    stars: int
    forks: int

    @property
    def etag(self) -> str:
        digest = hashlib.sha1(f"{self.full_name}:{self.stars}:{self.forks}".encode()).hexdigest()
        return f'W/"{digest}"'

    def body(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "full_name": self.full_name,
            "html_url": f"https://github.com/{self.full_name}",
            "stargazers_count": self.stars,
            "forks_count": self.forks,
            "watchers_count": self.stars,
        }


@dataclass
class _Refusal:
    status: int
    headers: dict[str, str]
    normal_first: int  # requests answered normally before refusing
    times: int | None  # None: until allow()


@dataclass
class FakeGitHub:
    repos: dict[str, _Repo] = field(default_factory=dict)
    renamed: dict[str, str] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    # The primary rate limit: requests left before a 403 (None: no limit, no headers).
    remaining: int | None = None
    reset_at: int = 0
    # Set `hold` to keep answers waiting until it is set; `arrived` tells a request came.
    hold: asyncio.Event | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    status_override: int | None = None
    # Repositories GitHub refuses for good ("Repository access blocked": a 403, not a limit).
    blocked: set[str] = field(default_factory=set)
    _refusal: _Refusal | None = None
    _runner: web.AppRunner | None = None
    url: str = ""

    # ------------------------------------------------------------ set up

    def add_repo(self, full_name: str, *, stars: int, forks: int) -> None:
        self.repos[full_name.lower()] = _Repo(len(self.repos) + 1000, full_name, stars, forks)

    def rename(self, old: str, new: str) -> None:
        self.renamed[old.lower()] = new.lower()

    def refuse(
        self,
        status: int,
        headers: Mapping[str, str] | None = None,
        *,
        after: int = 0,
        times: int | None = None,
    ) -> None:
        """Answer `after` requests normally, then `status` with `headers` (`times` times, or
        until `allow()`)."""
        self._refusal = _Refusal(status, dict(headers or {}), after, times)

    def allow(self) -> None:
        self._refusal = None

    def limit(self, remaining: int, reset_at: int) -> None:
        """GitHub's primary rate limit: `remaining` requests until `reset_at` (epoch seconds)."""
        self.remaining = remaining
        self.reset_at = reset_at

    def paths(self) -> list[str]:
        return [request.path for request in self.requests]

    # ------------------------------------------------------------ serving

    async def __aenter__(self) -> FakeGitHub:
        app = web.Application()
        app.router.add_get("/repos/{owner}/{name}", self._repository)
        app.router.add_get("/repositories/{id}", self._repository_by_id)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _rate_headers(self) -> dict[str, str]:
        if self.remaining is None:
            return {}
        return {
            "x-ratelimit-limit": "60",
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-reset": str(self.reset_at),
            "x-ratelimit-resource": "core",
        }

    async def _answer(self, request: web.Request, repo: _Repo | None) -> web.StreamResponse:
        self.requests.append(
            Recorded(request.path, {k.lower(): v for k, v in request.headers.items()})
        )
        self.arrived.set()
        if self.hold is not None:
            await self.hold.wait()

        refusal = self._refusal
        if refusal is not None:
            if refusal.normal_first > 0:
                refusal.normal_first -= 1
            else:
                if refusal.times is not None:
                    refusal.times -= 1
                    if refusal.times <= 0:
                        self._refusal = None
                message = "You have exceeded a secondary rate limit."
                return web.json_response(
                    {"message": message}, status=refusal.status, headers=refusal.headers
                )
        if self.status_override is not None:
            return web.json_response({"message": "Server Error"}, status=self.status_override)
        if self.remaining is not None and self.remaining <= 0:
            return web.json_response(
                {"message": "API rate limit exceeded"}, status=403, headers=self._rate_headers()
            )

        if repo is not None and repo.full_name.lower() in self.blocked:
            self._spend()
            return web.json_response(
                {"message": "Repository access blocked"}, status=403, headers=self._rate_headers()
            )
        if repo is None:
            self._spend()
            return web.json_response(
                {"message": "Not Found"}, status=404, headers=self._rate_headers()
            )
        if request.headers.get("If-None-Match") == repo.etag:
            # GitHub does not count a 304 against the limit.
            return web.Response(status=304, headers={"ETag": repo.etag, **self._rate_headers()})
        self._spend()
        return web.json_response(repo.body(), headers={"ETag": repo.etag, **self._rate_headers()})

    def _spend(self) -> None:
        if self.remaining is not None:
            self.remaining -= 1

    async def _repository(self, request: web.Request) -> web.StreamResponse:
        full_name = f"{request.match_info['owner']}/{request.match_info['name']}".lower()
        if full_name in self.renamed and self._refusal is None:
            self.requests.append(
                Recorded(request.path, {k.lower(): v for k, v in request.headers.items()})
            )
            target = self.repos[self.renamed[full_name]]
            location = f"{self.url}/repositories/{target.id}"
            return web.json_response(
                {"message": "Moved Permanently", "url": location},
                status=301,
                headers={"Location": location},
            )
        return await self._answer(request, self.repos.get(full_name))

    async def _repository_by_id(self, request: web.Request) -> web.StreamResponse:
        wanted = int(request.match_info["id"])
        repo = next((repo for repo in self.repos.values() if repo.id == wanted), None)
        return await self._answer(request, repo)
