"""Pros and cons as pure logic: checking what a member adds, finding near-duplicates among a
tool's existing reasons, and paging a tool's list onto voting messages of ten numbered
reactions. No Discord and no database here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process, utils

from bot.core.comparison import Reason, ToolRef
from bot.core.text import one_line
from bot.core.voting import NUMBERED, Option
from bot.errors import InvalidInput

TEXT_LIMIT = 100
TEXT_MINIMUM = 3
# One voting message holds as many items as there are numbered reactions.
PAGE_SIZE = len(NUMBERED)
# WRatio scores a reason contained in another ("Fast" in "Lightweight and fast") high on
# purpose: a false alarm costs one click on "Add mine anyway", a missed duplicate splits votes.
SIMILAR_CUTOFF = 85.0

KIND_WORDS = {"pro": ("pro", "pros"), "con": ("con", "cons")}


def check_text(text: str, kind: str) -> str:
    """The reason as stored: one line, whitespace normalised, 3 to 100 characters."""
    singular = KIND_WORDS[kind][0]
    cleaned = one_line(text)
    if len(cleaned) < TEXT_MINIMUM:
        raise InvalidInput(f"Say what the {singular} is in a few words (3 characters at least).")
    if len(cleaned) > TEXT_LIMIT:
        raise InvalidInput(
            f"Keep a {singular} to {TEXT_LIMIT} characters (it has {len(cleaned)}): "
            "a short reason others can vote for."
        )
    return cleaned


@dataclass(frozen=True)
class Similar:
    reason: Reason
    score: float


def most_similar(text: str, reasons: Sequence[Reason]) -> Similar | None:
    """The existing reason closest to `text`, if close enough to be the same point."""
    if not reasons:
        return None
    found = process.extractOne(
        text,
        [reason.text for reason in reasons],
        scorer=fuzz.WRatio,
        processor=utils.default_process,
        score_cutoff=SIMILAR_CUTOFF,
    )
    if found is None:
        return None
    _, score, position = found
    return Similar(reasons[position], score)


def same_text(text: str, reasons: Sequence[Reason]) -> Reason | None:
    """A reason saying exactly this, ignoring case and whitespace."""
    wanted = one_line(text).casefold()
    return next((r for r in reasons if one_line(r.text).casefold() == wanted), None)


def page_count(total: int) -> int:
    return max(1, -(-total // PAGE_SIZE))


def page_of(reasons: Sequence[Reason], page: int) -> tuple[int, tuple[Reason, ...]]:
    """Page `page` (1-based, clamped to the pages there are) of the ranked reasons."""
    page = min(max(page, 1), page_count(len(reasons)))
    start = (page - 1) * PAGE_SIZE
    return page, tuple(reasons[start : start + PAGE_SIZE])


@dataclass(frozen=True)
class ReasonList:
    """A tool's pros (or cons) as a guild sees them, most voted first."""

    tool: ToolRef
    kind: str
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Added:
    """A pro or con added; or, when `similar` is set, not added yet: the member is asked first."""

    tool: ToolRef
    kind: str
    reason: Reason | None
    similar: Similar | None = None


@dataclass(frozen=True)
class VoteCast:
    reason: Reason
    changed: bool
    # The guild's open voting messages listing the item, whose counts changed.
    shown_on: tuple[int, ...] = ()


@dataclass(frozen=True)
class VotingPage:
    """One voting message: up to ten reasons, each behind a numbered reaction."""

    tool: ToolRef
    kind: str
    page: int
    pages: int
    items: tuple[tuple[str, Reason], ...]

    @property
    def options(self) -> list[Option]:
        return [Option(emoji, reason.id, 1) for emoji, reason in self.items]


@dataclass(frozen=True)
class Merged:
    kept: Reason
    gone: str
    # Votes carried over to the kept item; votes of members who had voted for both (they
    # count once).
    moved: int
    dropped: int
