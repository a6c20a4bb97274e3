"""How long Stackup keeps a server's data after leaving it, and what forgetting a member
removed. Pure: plain data, no Discord, no database."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta

from bot.core.voting import BatchResult

# A server's settings and data are deleted this long after Stackup leaves it (kicked, or the
# server deleted); coming back before then keeps everything.
KEPT_AFTER_LEAVING = timedelta(days=30)

# An advice post whose asker asked to be forgotten keeps this id in place of theirs: Discord
# never gives a user the snowflake 0.
FORMER_MEMBER_ID = 0
FORMER_MEMBER = "a former member"


def asker_mention(asker_id: int) -> str:
    """How a message names an advice post's asker."""
    return FORMER_MEMBER if asker_id == FORMER_MEMBER_ID else f"<@{asker_id}>"


@dataclass(frozen=True)
class Departure:
    """Stackup left a server at `left_at`; its data goes at `due_at` unless it comes back."""

    guild_id: int
    left_at: datetime

    @property
    def due_at(self) -> datetime:
        return self.left_at + KEPT_AFTER_LEAVING

    @property
    def period(self) -> str:
        """Names this departure's deletion among job runs: a server that comes back and leaves
        again has a new one."""
        return str(int(self.left_at.timestamp()))


@dataclass(frozen=True)
class Reaction:
    """A member's reaction on one of Stackup's vote messages."""

    channel_id: int
    message_id: int
    emoji: str


@dataclass(frozen=True)
class Posted:
    """One of Stackup's messages (a recommendation, a decision) showing what a member wrote."""

    channel_id: int
    message_id: int


@dataclass(frozen=True)
class Forgotten:
    """What forgetting a member removed, in rows of each kind. The votes of other members on
    what the member wrote (their recommendations, decisions, pros and cons) go with it and are
    counted apart. Advice posts stay, their asker shown as a former member."""

    votes: int = 0
    stack_entries: int = 0
    follows: int = 0
    preferences: int = 0
    decisions: int = 0
    recommendations: int = 0
    pros_cons: int = 0
    votes_on_their_items: int = 0
    vote_messages: int = 0
    advice_posts_kept: int = 0
    # Open advice posts whose starter message shows something that changed.
    posts_changed: tuple[int, ...] = ()
    # Reactions of theirs on open vote messages: a recount would count them again.
    reactions: tuple[Reaction, ...] = field(default=(), repr=False)
    # Stackup's messages that showed their recommendations and decisions, name and words.
    messages: tuple[Posted, ...] = field(default=(), repr=False)
    # What their votes were counted in, as a vote batch reports it: the counts those items'
    # messages show moved, and each feature shows its own again.
    votes_moved: BatchResult = field(default_factory=BatchResult, repr=False)

    @property
    def removed(self) -> dict[str, int]:
        """Rows removed, by kind, in the order they are shown."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name in REMOVED_KINDS}

    @property
    def total(self) -> int:
        return sum(self.removed.values())


REMOVED_KINDS = (
    "votes",
    "stack_entries",
    "follows",
    "preferences",
    "decisions",
    "recommendations",
    "pros_cons",
    "votes_on_their_items",
    "vote_messages",
)
