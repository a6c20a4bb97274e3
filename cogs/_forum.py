"""Forum tags for advice posts: one per tool, created while the forum has room, and "Solved"."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import discord

from bot.comparison import ToolRef
from bot.render.compare import clip

log = logging.getLogger(__name__)

SOLVED_TAG = "Solved"
TAG_NAME_LIMIT = 20
FORUM_TAG_LIMIT = 20
POST_TAG_LIMIT = 5


def _tag_name(name: str) -> str:
    return clip(name, TAG_NAME_LIMIT)


async def tags_for(forum: discord.ForumChannel, tools: Sequence[ToolRef]) -> list[discord.ForumTag]:
    """The forum's tags for these tools, creating missing ones while the forum has room (one
    place kept for the "Solved" tag) and Stackup may manage the channel."""
    me = forum.guild.me
    may_create = me is not None and forum.permissions_for(me).manage_channels
    tags: list[discord.ForumTag] = []
    for tool in tools[:POST_TAG_LIMIT]:
        wanted = _tag_name(tool.name).casefold()
        tag = next((t for t in forum.available_tags if t.name.casefold() == wanted), None)
        has_solved = any(t.name.casefold() == SOLVED_TAG.casefold() for t in forum.available_tags)
        room = FORUM_TAG_LIMIT - len(forum.available_tags) - (0 if has_solved else 1)
        if tag is None and may_create and room > 0:
            try:
                tag = await forum.create_tag(name=_tag_name(tool.name))
            except discord.HTTPException:
                log.info("could not create a forum tag in %d", forum.id, exc_info=True)
                may_create = False
        if tag is not None and tag not in tags:
            tags.append(tag)
    return tags


async def ensure_solved_tag(forum: discord.ForumChannel) -> discord.ForumTag | None:
    tag = next(
        (t for t in forum.available_tags if t.name.casefold() == SOLVED_TAG.casefold()), None
    )
    me = forum.guild.me
    if tag is not None or me is None or not forum.permissions_for(me).manage_channels:
        return tag
    if len(forum.available_tags) >= FORUM_TAG_LIMIT:
        return None
    try:
        return await forum.create_tag(name=SOLVED_TAG, emoji="✅")
    except discord.HTTPException:
        log.info("could not create the Solved tag in %d", forum.id, exc_info=True)
        return None
