"""Stacks and follows as plain data: what services return and renderers show. No Discord and
no database here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.comparison import ToolRef


@dataclass(frozen=True)
class StackTool:
    tool: ToolRef
    category: str


def by_category(tools: Sequence[StackTool]) -> list[tuple[str, tuple[ToolRef, ...]]]:
    """Tools grouped by category, as StackShare shows a stack: categories by name, tools by
    name within each."""
    groups: dict[str, list[ToolRef]] = {}
    for entry in sorted(tools, key=lambda e: (e.category.casefold(), e.tool.name.casefold())):
        groups.setdefault(entry.category, []).append(entry.tool)
    return [(category, tuple(refs)) for category, refs in groups.items()]


@dataclass(frozen=True)
class StackChange:
    """What one /stack add or /stack remove did: `changed` were added (removed); `unchanged`
    were in the stack already (were not in it)."""

    changed: tuple[ToolRef, ...]
    unchanged: tuple[ToolRef, ...]


@dataclass(frozen=True)
class MemberStack:
    guild_id: int
    member_id: int
    tools: tuple[StackTool, ...]

    @property
    def groups(self) -> list[tuple[str, tuple[ToolRef, ...]]]:
        return by_category(self.tools)


@dataclass(frozen=True)
class RankedTool:
    entry: StackTool
    members: int


@dataclass(frozen=True)
class ServerStack:
    guild_id: int
    ranking: tuple[RankedTool, ...]  # most used first
    total_tools: int  # tools at least one member uses, shown or not
    members: int  # members with at least one tool in their stack


@dataclass(frozen=True)
class FollowResult:
    tool: ToolRef
    newly_followed: bool
    mention_in_posts: bool
    preference_changed: bool


@dataclass(frozen=True)
class FollowChange:
    """What choosing among offered tools did: each offered tool is in `followed` (newly),
    `unfollowed` (newly), and in `now_following` when followed after the change."""

    followed: tuple[ToolRef, ...]
    unfollowed: tuple[ToolRef, ...]
    now_following: tuple[ToolRef, ...]


@dataclass(frozen=True)
class Following:
    tools: tuple[StackTool, ...]
    mention_in_posts: bool

    @property
    def groups(self) -> list[tuple[str, tuple[ToolRef, ...]]]:
        return by_category(self.tools)


@dataclass(frozen=True)
class Follower:
    member_id: int
    mention_in_posts: bool
