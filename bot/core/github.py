"""GitHub's side of the external stats, as pure functions: which repository a catalog URL names,
and what an answer of GitHub's REST API tells us to do next (its documented rate-limit rules).

No I/O here: the API client fetches, the service decides with these and writes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from urllib.parse import urlsplit

GITHUB_SOURCE = "github"
STARS = "github_stars"
FORKS = "github_forks"

# Headers the rate-limit rules read; the client keeps these (lower-cased) and no others.
RATE_LIMIT_HEADERS = ("retry-after", "x-ratelimit-remaining", "x-ratelimit-reset")

# GitHub: "wait for at least one minute before retrying", then exponentially longer.
SECONDARY_LIMIT_WAIT = timedelta(minutes=1)
SECONDARY_LIMIT_LONGEST_WAIT = timedelta(hours=2)
# A reset time already past on our clock still means GitHub refused: clocks differ.
RESET_MARGIN = timedelta(seconds=1)
SHORTEST_PAUSE = timedelta(seconds=5)

_HOSTS = {"github.com", "www.github.com"}
_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
_NAME = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


def repository_name(url: str | None) -> str | None:
    """ "owner/name" of a github.com repository URL, else None.

    Tolerates http, `www.`, a trailing slash, `.git` and deeper paths (".../tree/main")."""
    if not url:
        return None
    text = url.strip()
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or (parts.hostname or "") not in _HOSTS:
        return None
    segments = [segment for segment in parts.path.split("/") if segment]
    if len(segments) < 2:
        return None
    owner, name = segments[0], segments[1].removesuffix(".git")
    if not _OWNER.match(owner) or not _NAME.match(name) or name in (".", ".."):
        return None
    return f"{owner}/{name}"


class Verdict(StrEnum):
    FIGURES = "figures"  # 200: new figures
    NOT_MODIFIED = "not_modified"  # 304: the stored figures are still true
    MISSING = "missing"  # the repository is gone (404, 410, 451)
    RATE_LIMITED = "rate_limited"  # stop every request until `resume_at`
    FAILED = "failed"  # anything else: this repository is retried later


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    # Set when GitHub asks for a pause: with RATE_LIMITED, and on a 200 that spent the last
    # request of the budget (slowing down before GitHub refuses).
    resume_at: datetime | None = None
    # A secondary limit (no header said when to come back): its backoff grows with a streak.
    secondary: bool = False
    reason: str = ""


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value.strip()
    return None


def _retry_after(value: str, now: datetime) -> datetime | None:
    """Seconds (what GitHub sends) or an HTTP date (what HTTP also allows)."""
    try:
        return now + timedelta(seconds=max(float(value), 0))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _reset_time(headers: Mapping[str, str]) -> datetime | None:
    reset = _header(headers, "x-ratelimit-reset")
    if reset is None:
        return None
    try:
        return datetime.fromtimestamp(int(float(reset)), UTC)
    except (ValueError, OverflowError, OSError):
        return None


def secondary_limit_wait(streak: int) -> timedelta:
    """A minute for the first secondary limit in a row, doubling with each one after."""
    factor = 2 ** min(max(streak, 0), 16)
    return min(SECONDARY_LIMIT_WAIT * factor, SECONDARY_LIMIT_LONGEST_WAIT)


def _not_before(when: datetime, now: datetime) -> datetime:
    return max(when, now + SHORTEST_PAUSE)


def decide(
    status: int,
    headers: Mapping[str, str],
    *,
    now: datetime,
    secondary_streak: int = 0,
    message: str | None = None,
) -> Decision:
    """What GitHub's answer means for the run, following its documented rules: on 403/429,
    `retry-after` if present; else, with `x-ratelimit-remaining: 0`, the `x-ratelimit-reset`
    time; else, for a 429 or a `message` that says so, a secondary limit, a minute growing
    with `secondary_streak` (how many came in a row before this one); another 403 is a
    refusal of that repository only. A 200 that spent the budget pauses until the reset too.
    `status` 0 is a request that got no answer (network error, timeout)."""
    remaining = _header(headers, "x-ratelimit-remaining")
    if status in (403, 429):
        retry_after = _header(headers, "retry-after")
        if retry_after is not None and (when := _retry_after(retry_after, now)) is not None:
            return Decision(
                Verdict.RATE_LIMITED,
                resume_at=_not_before(when, now),
                reason=f"GitHub asked to retry after {retry_after}",
            )
        reset = _reset_time(headers)
        if remaining == "0" and reset is not None:
            return Decision(
                Verdict.RATE_LIMITED,
                resume_at=_not_before(reset + RESET_MARGIN, now),
                reason="GitHub's rate limit is spent",
            )
        if status == 429 or "rate limit" in (message or "").casefold():
            return Decision(
                Verdict.RATE_LIMITED,
                resume_at=now + secondary_limit_wait(secondary_streak),
                secondary=True,
                reason="GitHub's secondary rate limit",
            )
        # A 403 that is no limit (a repository blocked, say): this tool failed, not the run.
        return Decision(Verdict.FAILED, reason=f"GitHub refused: {message or status}")
    if status == 304:
        return Decision(Verdict.NOT_MODIFIED)
    if status in (404, 410, 451):
        return Decision(Verdict.MISSING, reason=f"GitHub answered {status}")
    if 200 <= status < 300:
        reset = _reset_time(headers)
        if remaining == "0" and reset is not None:
            return Decision(
                Verdict.FIGURES,
                resume_at=_not_before(reset + RESET_MARGIN, now),
                reason="GitHub's rate limit is spent",
            )
        return Decision(Verdict.FIGURES)
    return Decision(
        Verdict.FAILED, reason=f"GitHub answered {status}" if status else "no answer from GitHub"
    )


# A repository whose check failed is retried after an hour, doubling, at most after
# `refresh_after` (it is due then anyway).
FAILED_CHECK_WAIT = timedelta(hours=1)
# A repository GitHub does not know is looked at again weekly, not daily.
MISSING_CHECK_WAIT = timedelta(days=7)


def failed_check_wait(failures: int, refresh_after: timedelta) -> timedelta:
    """After the `failures`-th failure in a row (1 for the first)."""
    factor = 2 ** min(max(failures - 1, 0), 16)
    return min(FAILED_CHECK_WAIT * factor, max(refresh_after, FAILED_CHECK_WAIT))


def missing_check_wait(refresh_after: timedelta) -> timedelta:
    return max(MISSING_CHECK_WAIT, refresh_after)
