"""A small client of GitHub's REST API: one repository's stars and forks, conditional on a
stored ETag (a 304 answer does not count against GitHub's rate limit). Never raises for what
the network or GitHub do: every outcome is a `RepoAnswer`."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp

from bot.core.github import RATE_LIMIT_HEADERS

log = logging.getLogger(__name__)

API_VERSION = "2022-11-28"
DEFAULT_USER_AGENT = "Stackup-Discord-bot"
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=10)


@dataclass(frozen=True)
class RepoAnswer:
    """What GitHub answered for one repository. `status` 0: no answer (network, timeout)."""

    status: int
    stars: int | None = None
    forks: int | None = None
    etag: str | None = None
    html_url: str | None = None
    # Only the rate-limit headers, lower-cased (see bot.github.RATE_LIMIT_HEADERS).
    headers: Mapping[str, str] = field(default_factory=dict)
    error: str | None = None
    # GitHub's "message" of a refusal: it tells a secondary rate limit from a blocked repository.
    message: str | None = None

    @property
    def has_figures(self) -> bool:
        return self.stars is not None and self.forks is not None


def _count(body: Mapping[str, Any], key: str) -> int | None:
    value = body.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


async def _message(response: aiohttp.ClientResponse) -> str | None:
    """The "message" of an error body, if it has one (a 304 has no body)."""
    if response.status == 304:
        return None
    try:
        body = await response.json(content_type=None)
    except (aiohttp.ClientError, ValueError):
        return None
    message = body.get("message") if isinstance(body, dict) else None
    return message[:200] if isinstance(message, str) else None


class GitHubApi:
    def __init__(
        self, base_url: str, token: str | None, *, user_agent: str = DEFAULT_USER_AGENT
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._token = token or None
        self._user_agent = user_agent
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        # Never the token, whatever prints this object.
        return f"GitHubApi({self._base_url!r}, token={'set' if self._token else 'none'})"

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            headers = {
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": self._user_agent,
            }
            if self._token:
                headers["Authorization"] = f"Bearer {self._token}"
            self._session = aiohttp.ClientSession(headers=headers, timeout=REQUEST_TIMEOUT)
        return self._session

    async def repository(self, full_name: str, etag: str | None = None) -> RepoAnswer:
        """GET /repos/{owner}/{name}; redirects (a renamed repository) are followed."""
        url = f"{self._base_url}/repos/{quote(full_name, safe='/')}"
        headers = {"If-None-Match": etag} if etag else {}
        try:
            async with self._client().get(url, headers=headers) as response:
                kept = {
                    name: response.headers[name]
                    for name in RATE_LIMIT_HEADERS
                    if name in response.headers
                }
                answer_etag = response.headers.get("ETag")
                if response.status != 200:
                    return RepoAnswer(
                        response.status,
                        etag=answer_etag or etag,
                        headers=kept,
                        message=await _message(response),
                    )
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            # ValueError: a body that is not JSON. The run goes on with the next repository.
            log.info("GitHub request for %s failed: %s", full_name, exc.__class__.__name__)
            return RepoAnswer(0, error=f"{exc.__class__.__name__}: {exc}"[:200])
        if not isinstance(body, dict):
            return RepoAnswer(200, headers=kept, error="unexpected body")
        html_url = body.get("html_url")
        return RepoAnswer(
            200,
            stars=_count(body, "stargazers_count"),
            forks=_count(body, "forks_count"),
            etag=answer_etag,
            html_url=html_url if isinstance(html_url, str) else None,
            headers=kept,
        )

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None
