"""Forum tags for advice posts: one per tool, created while the forum has room, and "Solved".

Discord answers late: after a PATCH of a forum's `available_tags`, the CHANNEL_UPDATE that
updates discord.py's cache comes later, at a moment no one controls. A second PATCH built from
the cache would replace the forum's tags without the first one's, deleting it. So:

- every change of a forum's tags is one PATCH, built from the forum as Discord returns it
  (fetched inside the change), never from the cache;
- changes of one forum are serialised in this process (a guild's interactions and jobs all
  reach the process running its shard), so two asks at once, or an ask during a close that
  adds *Solved*, never undo each other;
- what the post applies comes from the forum object the PATCH returned.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import discord

from bot.keyed_locks import KeyedLocks
from bot.render.compare import clip

log = logging.getLogger(__name__)

SOLVED_TAG = "Solved"
SOLVED_EMOJI = "✅"
TAG_NAME_LIMIT = 20
FORUM_TAG_LIMIT = 20
POST_TAG_LIMIT = 5


def tag_name(name: str) -> str:
    """A tool's tag: its name cut to Discord's 20 characters (two long names may share one)."""
    return clip(name, TAG_NAME_LIMIT)


def _key(name: str) -> str:
    return tag_name(name).casefold()


@dataclass
class TagsFound:
    """The tags a post can apply, and what to tell the asker about those that are missing."""

    tags: list[discord.ForumTag] = field(default_factory=list)
    note: str | None = None


class ForumTags:
    """Creates forum tags one PATCH at a time per forum, from what Discord returns."""

    def __init__(self, bot: discord.Client) -> None:
        self.bot = bot
        self._lock = KeyedLocks()

    async def for_tools(self, forum: discord.ForumChannel, names: Sequence[str]) -> TagsFound:
        """The forum's tags for these names (at most five), creating the missing ones in one
        PATCH while the forum has room (one place is kept for *Solved*) and Stackup may manage
        the channel. Never raises for tags: a post goes out with the tags that exist."""
        wanted: list[str] = []
        for name in names:
            if tag_name(name) and _key(name) not in {_key(w) for w in wanted}:
                wanted.append(tag_name(name))
        wanted = wanted[:POST_TAG_LIMIT]
        found = _matching(forum.available_tags, wanted)
        if len(found) == len(wanted):
            # Every tag is in the cache already: tags are never deleted by Stackup, so no
            # write and no read is needed.
            return TagsFound(tags=[found[_key(w)] for w in wanted])
        async with self._lock(forum.id):
            return await self._create(forum, wanted)

    async def _create(self, cached: discord.ForumChannel, wanted: list[str]) -> TagsFound:
        try:
            forum = await self._fresh(cached)
        except discord.HTTPException as error:
            log.info("could not read forum %d: %s", cached.id, error)
            return _found(cached.available_tags, wanted)
        existing = list(forum.available_tags)
        missing = [w for w in wanted if _key(w) not in _matching(existing, [w])]
        if not missing:
            return _found(existing, wanted)
        has_solved = any(t.name.casefold() == SOLVED_TAG.casefold() for t in existing)
        room = FORUM_TAG_LIMIT - len(existing) - (0 if has_solved else 1)
        creatable, left_out = missing[: max(room, 0)], missing[max(room, 0) :]
        if not creatable:
            return _found(existing, wanted)  # a full forum: a permission would not help
        me = forum.guild.me
        if me is None or not forum.permissions_for(me).manage_channels:
            return _found(existing, wanted, note=_permission_note(forum, creatable))
        try:
            forum = await self._add(forum, [discord.ForumTag(name=name) for name in creatable])
        except discord.Forbidden:
            return _found(existing, wanted, note=_permission_note(forum, creatable))
        except discord.HTTPException as error:
            log.info("could not create tags in forum %d: %s", forum.id, error)
            return _found(existing, wanted)
        found = _found(forum.available_tags, wanted)
        if left_out:
            log.info("forum %d is full: no tags for %s", forum.id, ", ".join(left_out))
        return found

    async def solved(self, cached: discord.ForumChannel) -> discord.ForumTag | None:
        """The forum's *Solved* tag, created if missing (room and Manage Channels allowing)."""
        tag = _matching(cached.available_tags, [SOLVED_TAG]).get(_key(SOLVED_TAG))
        if tag is not None:
            return tag
        me = cached.guild.me
        if me is None or not cached.permissions_for(me).manage_channels:
            return None
        async with self._lock(cached.id):
            try:
                forum = await self._fresh(cached)
                tag = _matching(forum.available_tags, [SOLVED_TAG]).get(_key(SOLVED_TAG))
                if tag is not None or len(forum.available_tags) >= FORUM_TAG_LIMIT:
                    return tag
                forum = await self._add(
                    forum, [discord.ForumTag(name=SOLVED_TAG, emoji=SOLVED_EMOJI)]
                )
            except discord.HTTPException as error:
                log.info("could not create the Solved tag in forum %d: %s", cached.id, error)
                return None
        return _matching(forum.available_tags, [SOLVED_TAG]).get(_key(SOLVED_TAG))

    async def _fresh(self, forum: discord.ForumChannel) -> discord.ForumChannel:
        """The forum as Discord has it now (the cache may not hold Stackup's last change)."""
        fetched = await self.bot.fetch_channel(forum.id)
        return fetched if isinstance(fetched, discord.ForumChannel) else forum

    async def _add(
        self, forum: discord.ForumChannel, new: list[discord.ForumTag]
    ) -> discord.ForumChannel:
        """One PATCH with the forum's tags and the new ones; the forum Discord returned."""
        edited = await forum.edit(available_tags=[*forum.available_tags, *new])
        return edited if isinstance(edited, discord.ForumChannel) else forum


def _matching(
    tags: Sequence[discord.ForumTag], wanted: Sequence[str]
) -> dict[str, discord.ForumTag]:
    keys = {_key(name) for name in wanted}
    found: dict[str, discord.ForumTag] = {}
    for tag in tags:
        key = tag.name.casefold()
        if key in keys:
            found.setdefault(key, tag)
    return found


def _found(
    tags: Sequence[discord.ForumTag], wanted: Sequence[str], *, note: str | None = None
) -> TagsFound:
    found = _matching(tags, wanted)
    return TagsFound(
        tags=[found[_key(w)] for w in wanted if _key(w) in found],
        note=note,
    )


def _permission_note(forum: discord.ForumChannel, names: Sequence[str]) -> str:
    return (
        f"ℹ️ No tags for {', '.join(names)}: Stackup needs **Manage Channels** in "
        f"{forum.mention} to create them. Ask an admin."
    )
