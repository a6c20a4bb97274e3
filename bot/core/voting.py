"""Reaction votes as pure logic: what an add, a removal or a recount does to a member's vote.

A member holds at most one vote per target (+1, -1 or none). Reactions change it:
- adding a reaction votes its value (adding 👎 while holding +1 switches to -1);
- removing a reaction withdraws the vote only if it is that reaction's value (removing 👍
  after switching to 👎 leaves the -1 alone);
- a recount (the message's reactions read back from Discord) sets the vote to what the
  member's reactions say; a member showing both 👍 and 👎 keeps the vote they hold.
One target can be listed on several messages (a pro on every voting message that shows it),
so a vote remembers the message whose reaction cast it, its owner: a removal or a recount on
another message leaves it alone. A vote cast without a reaction (a button) has no owner; a
reaction's removal on any message withdraws it, recounts never do.
Nothing here knows Discord or the database; `db/reaction_votes.py` applies it in batches and
reports what a batch changed as the plain data at the end of this module.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

UP = "👍"
DOWN = "👎"
NUMBERED = ("1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣", "🔟")
# Reactions with any other emoji are never votes; the bot drops them before any work.
VOTING_EMOJIS = frozenset((UP, DOWN, *NUMBERED))


class VoteTarget(StrEnum):
    PRO_CON = "pro_con"
    RECOMMENDATION = "recommendation"
    DECISION = "decision"


@dataclass(frozen=True)
class ReactionEvent:
    """A member added or removed one reaction on a message."""

    message_id: int
    member_id: int
    emoji: str
    added: bool


@dataclass(frozen=True)
class Recount:
    """Every member's reactions on a message, per emoji, as Discord shows them now (bots and
    the excluded member already left out)."""

    message_id: int
    reactors: Mapping[str, frozenset[int]]


@dataclass(frozen=True)
class Option:
    """One emoji of a vote message: a vote of `value` on `target_id`."""

    emoji: str
    target_id: int
    value: int


@dataclass(frozen=True)
class Step:
    """One change to a member's vote on a target: "set" to a value (None: no vote), "clear"
    it if it is `value`, or "keep" it as it is."""

    action: str
    value: int | None
    emoji: str = ""
    # The message the step comes from.
    message_id: int = 0


def step_for(event: ReactionEvent, option: Option) -> Step:
    if event.added:
        return Step("set", option.value, option.emoji, event.message_id)
    return Step("clear", option.value, option.emoji, event.message_id)


def recount_steps(
    options: Iterable[Option],
    reactors: Mapping[str, frozenset[int]],
    voters: Iterable[int],
    message_id: int = 0,
) -> dict[tuple[int, int], Step]:
    """Steps that bring each (target, member) to what the reactions show. `voters` are the
    members holding a vote this message owns, so that votes whose reactions are gone go too."""
    ups: dict[int, set[int]] = {}
    downs: dict[int, set[int]] = {}
    targets: set[int] = set()
    for option in options:
        targets.add(option.target_id)
        side = ups if option.value == 1 else downs
        side.setdefault(option.target_id, set()).update(reactors.get(option.emoji, ()))
    everyone = set(voters)
    steps: dict[tuple[int, int], Step] = {}
    for target in targets:
        up, down = ups.get(target, set()), downs.get(target, set())
        for member in up | down | everyone:
            if member in up and member in down:
                steps[(target, member)] = Step("keep", None, message_id=message_id)
            elif member in up:
                steps[(target, member)] = Step("set", 1, message_id=message_id)
            elif member in down:
                steps[(target, member)] = Step("set", -1, message_id=message_id)
            else:
                steps[(target, member)] = Step("set", None, message_id=message_id)
    return steps


@dataclass(frozen=True)
class Outcome:
    """A member's vote after a run of steps, the message that owns it, and the emojis of
    reactions the member still shows for a value they no longer hold (a 👍 left behind by a
    switch to 👎)."""

    before: int | None
    after: int | None
    stale_values: tuple[int, ...]
    owner: int | None = None


def run_steps(current: int | None, steps: Iterable[Step], owner: int | None = None) -> Outcome:
    vote = current
    stale: list[int] = []
    for step in steps:
        if step.action == "set":
            if step.value is None:
                # A recount withdraws only the votes its own message cast.
                if vote is not None and owner == step.message_id:
                    vote, owner = None, None
                continue
            if vote == step.value:
                continue
            if step.emoji and vote is not None and vote != step.value:
                stale.append(vote)
            vote, owner = step.value, step.message_id or None
        elif step.action == "clear":
            if vote == step.value and owner in (None, step.message_id):
                vote, owner = None, None
            if step.value in stale:
                stale.remove(step.value)
    return Outcome(current, vote, tuple(v for v in dict.fromkeys(stale) if v != vote), owner)


# -- what the database says of vote messages, and what a written batch changed ----------


@dataclass(frozen=True)
class VoteMessageInfo:
    """A registered vote message: which emoji votes for what, and who may not vote on it."""

    message_id: int
    channel_id: int
    guild_id: int
    kind: VoteTarget
    excluded_member_id: int | None
    is_open: bool
    options: Mapping[str, Option]


@dataclass(frozen=True)
class StaleReaction:
    """A reaction a member still shows for a vote they switched away from."""

    channel_id: int
    message_id: int
    emoji: str
    member_id: int
    kind: VoteTarget = VoteTarget.RECOMMENDATION
    target_id: int = 0
    value: int = 0


@dataclass(frozen=True)
class Withdrawn:
    """A vote withdrawn by taking a reaction away on `message_id`. The member may still show
    the reaction on another message listing the same target (a pro on two voting messages):
    a recount of those finds it."""

    kind: VoteTarget
    target_id: int
    member_id: int
    guild_id: int
    message_id: int


@dataclass
class BatchResult:
    """A written batch: how many items counted, and what changed that Discord should show."""

    applied: int = 0
    ignored: int = 0
    changed_targets: dict[VoteTarget, set[int]] = field(default_factory=lambda: defaultdict(set))
    # Advice posts whose recommendations' votes changed (their rankings need showing again).
    changed_posts: set[int] = field(default_factory=set)
    # Vote messages of this batch listing a target whose votes changed (their counts need
    # showing again), by kind.
    changed_messages: dict[VoteTarget, set[int]] = field(default_factory=lambda: defaultdict(set))
    stale_reactions: list[StaleReaction] = field(default_factory=list)
    withdrawn: list[Withdrawn] = field(default_factory=list)
