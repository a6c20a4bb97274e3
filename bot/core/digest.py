"""A guild's weekly digest as plain data: what happened in one window of time. No Discord and
no database here.

Lists are capped (a digest is a summary, and an embed has room for a few lines each); every
list keeps the total behind it, so "and 12 more" can be said.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Generic, TypeVar

from bot.core.comparison import ToolRef

POSTS_SHOWN = 10
TOOLS_SHOWN = 5
REASONS_SHOWN = 5

Item = TypeVar("Item")

# A UTC day is counted in the window that holds its noon: consecutive windows then share no
# day and miss none, and a window that starts at another hour than midnight (the guild's own)
# is at most half a day off.
_DAY_BELONGS_AT = time(12, tzinfo=UTC)


@dataclass(frozen=True)
class Capped(Generic[Item]):
    """The first items of a list, and how many the whole list has."""

    items: tuple[Item, ...] = ()
    total: int = 0

    def __post_init__(self) -> None:
        if self.total < len(self.items):
            raise ValueError("a list's total cannot be smaller than the items shown")

    @property
    def hidden(self) -> int:
        return self.total - len(self.items)


@dataclass(frozen=True)
class DigestPost:
    id: int
    thread_id: int | None
    title: str
    created_at: datetime


@dataclass(frozen=True)
class DigestVerdict:
    post: DigestPost
    closed_at: datetime
    tool: ToolRef | None  # None: closed without a verdict
    accepted: bool  # the asker accepted it, rather than members' votes deciding


@dataclass(frozen=True)
class ComparedTool:
    tool: ToolRef
    runs: int


@dataclass(frozen=True)
class VotedReason:
    """A pro or con with the 👍 votes members of the guild cast on it in the window."""

    id: int
    tool: ToolRef
    kind: str  # "pro" or "con"
    text: str
    votes: int


@dataclass(frozen=True)
class Digest:
    guild_id: int
    start: datetime
    end: datetime  # exclusive
    new_posts: Capped[DigestPost] = Capped()
    # Opened before the window and open still.
    open_posts: Capped[DigestPost] = Capped()
    verdicts: Capped[DigestVerdict] = Capped()
    # Total: how many tools were compared at all.
    compared: Capped[ComparedTool] = Capped()
    # Total: how many pros and cons got votes.
    voted: Capped[VotedReason] = Capped()
    votes_cast: int = 0  # on every pro and con, not only those shown

    def __post_init__(self) -> None:
        check_window(self.start, self.end)

    @property
    def is_quiet(self) -> bool:
        """Nothing happened in the window (there may still be posts waiting for answers)."""
        return not (
            self.new_posts.total or self.verdicts.total or self.compared.total or self.voted.total
        )

    @property
    def is_empty(self) -> bool:
        """Nothing at all to tell: a quiet week, and no open post waiting either."""
        return self.is_quiet and not self.open_posts.total


def check_window(start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("a digest's window needs aware UTC times")
    if end <= start:
        raise ValueError("a digest's window must end after it starts")


def window_days(start: datetime, end: datetime) -> tuple[date, date] | None:
    """The first and last UTC day counted in the window [start, end), or None when no day's
    noon falls in it (a window shorter than a day may hold none)."""
    check_window(start, end)
    first = (start - timedelta(hours=12)).astimezone(UTC).date()
    while datetime.combine(first, _DAY_BELONGS_AT) < start:
        first += timedelta(days=1)
    last = (end - timedelta(hours=12)).astimezone(UTC).date()
    while datetime.combine(last, _DAY_BELONGS_AT) >= end:
        last -= timedelta(days=1)
    return (first, last) if first <= last else None
