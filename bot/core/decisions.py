"""Decisions as plain data: "<member> chose Flask over Django", from a `/decision` or from the
verdict of a closed advice post, and the rules on what a `/decision` may say. No Discord and
no database here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.comparison import ToolRef
from bot.core.text import one_line
from bot.errors import InvalidInput

REASON_MIN = 10
REASON_MAX = 1000


@dataclass(frozen=True)
class DecisionLine:
    """ "<member> chose Flask over Django": the verdict of a closed advice post (linked by its
    thread), or a `/decision` (linked by its message, voted on with 👍)."""

    member_id: int
    chosen: ToolRef
    over: tuple[ToolRef, ...]
    created_at: datetime
    guild_id: int = 0
    thread_id: int | None = None  # the advice post's thread
    id: int = 0
    channel_id: int | None = None
    message_id: int | None = None  # the /decision message, whose 👍 are its votes
    up: int = 0
    reason: str = ""

    @property
    def votable(self) -> bool:
        return self.message_id is not None


def checked_reason(why: str) -> str:
    """The reason on one line, if it says enough and not too much."""
    reason = one_line(why)
    if len(reason) < REASON_MIN:
        raise InvalidInput(
            f"Say why in at least {REASON_MIN} characters: the reason is what others learn from."
        )
    if len(reason) > REASON_MAX:
        raise InvalidInput(f"Keep the reason to {REASON_MAX} characters (it has {len(reason)}).")
    return reason


def check_pair(chosen_id: int, over_id: int) -> None:
    if chosen_id == over_id:
        raise InvalidInput(
            "A decision is between two different tools: name the one you passed over."
        )
