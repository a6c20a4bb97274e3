"""Reaction votes as pure logic: what an add, a removal or a recount does to a member's vote.

A member holds at most one vote per target (+1, -1 or none). Reactions change it:
- adding a reaction votes its value (adding 👎 while holding +1 switches to -1);
- removing a reaction withdraws the vote only if it is that reaction's value (removing 👍
  after switching to 👎 leaves the -1 alone);
- a recount (the message's reactions read back from Discord) sets the vote to what the
  member's reactions say; a member showing both 👍 and 👎 keeps the vote they hold.
Nothing here knows Discord or the database; `db/reaction_votes.py` applies it in batches.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

UP = "👍"
DOWN = "👎"
NUMBERED = ("1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣", "🔟")
# Reactions with any other emoji are never votes; the bot drops them before any work.
VOTING_EMOJIS = frozenset((UP, DOWN, *NUMBERED))


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


def step_for(event: ReactionEvent, option: Option) -> Step:
    if event.added:
        return Step("set", option.value, option.emoji)
    return Step("clear", option.value, option.emoji)


def recount_steps(
    options: Iterable[Option], reactors: Mapping[str, frozenset[int]], voters: Iterable[int]
) -> dict[tuple[int, int], Step]:
    """Steps that bring each (target, member) to what the reactions show. `voters` are the
    members holding a vote in the database, so that votes whose reactions are gone go too."""
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
                steps[(target, member)] = Step("keep", None)
            elif member in up:
                steps[(target, member)] = Step("set", 1)
            elif member in down:
                steps[(target, member)] = Step("set", -1)
            else:
                steps[(target, member)] = Step("set", None)
    return steps


@dataclass(frozen=True)
class Outcome:
    """A member's vote after a run of steps, and the emojis of reactions the member still
    shows for a value they no longer hold (a 👍 left behind by a switch to 👎)."""

    before: int | None
    after: int | None
    stale_values: tuple[int, ...]


def run_steps(current: int | None, steps: Iterable[Step]) -> Outcome:
    vote = current
    stale: list[int] = []
    for step in steps:
        if step.action == "set":
            if step.emoji and vote is not None and step.value is not None and vote != step.value:
                stale.append(vote)
            vote = step.value
        elif step.action == "clear":
            if vote == step.value:
                vote = None
            if step.value in stale:
                stale.remove(step.value)
    return Outcome(current, vote, tuple(v for v in dict.fromkeys(stale) if v != vote))
