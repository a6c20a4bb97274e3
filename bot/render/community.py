"""What members see of stacks and follows, and the news of a new advice post sent to followers.
Pure: plain data in, embeds and message texts out.

A stack or a follow list can hold the whole catalog; the embeds keep whole categories while
they fit and say how many tools they left out.
"""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.core.advice import OpenedPost
from bot.core.community import Following, MemberStack, ServerStack, StackChange
from bot.core.comparison import ToolRef
from bot.render.about import BRAND_COLOUR
from bot.render.compare import (
    BUDGET,
    DESCRIPTION,
    EMBED_FIELDS,
    FIELD_NAME,
    FIELD_VALUE,
    clip,
    total_length,
)

CONTENT = 2000
# Discord mentions at most 100 users a message.
MENTIONS_PER_MESSAGE = 100
NAME = 100  # a tool's or a member's name as shown
TITLE_IN_DM = 100
SEPARATOR = " · "


def _plain(text: str, limit: int = NAME) -> str:
    """User or catalog text shown as written: clipped, its markdown shown rather than applied."""
    return discord.utils.escape_markdown(clip(text, limit))


def _bold(ref: ToolRef) -> str:
    return f"**{_plain(ref.name)}**"


def names_list(refs: Sequence[ToolRef]) -> str:
    """ "**Flask**", "**Flask** and **Django**", "**Flask**, **Koa** and **Django**"."""
    names = [_bold(ref) for ref in refs]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"


def _joined_names(refs: Sequence[ToolRef], limit: int = FIELD_VALUE) -> tuple[str, int]:
    """The names on one line within `limit`, and how many did not fit."""
    shown: list[str] = []
    for position, ref in enumerate(refs):
        name = _plain(ref.name)
        rest = len(refs) - position - 1
        more = len(f"{SEPARATOR}+{rest} more") if rest else 0
        if len(SEPARATOR.join([*shown, name])) + more > limit:
            hidden = len(refs) - position
            return SEPARATOR.join([*shown, f"+{hidden} more"]), hidden
        shown.append(name)
    return SEPARATOR.join(shown), 0


def _add_groups(embed: discord.Embed, groups: Sequence[tuple[str, Sequence[ToolRef]]]) -> int:
    """One field per category while the embed has room; the number of tools left out."""
    left_out = 0
    for category, refs in groups:
        name = clip(category, FIELD_NAME)
        value, hidden = _joined_names(refs)
        fits = (
            len(embed.fields) < EMBED_FIELDS
            and total_length([embed]) + len(name) + len(value) <= BUDGET - 100
        )
        if fits:
            embed.add_field(name=name, value=value, inline=False)
            left_out += hidden
        else:
            left_out += len(refs)
    return left_out


# ---------------------------------------------------------------- /stack


def stack_change_text(change: StackChange, *, adding: bool) -> str:
    parts = []
    if adding:
        if change.changed:
            parts.append(f"Added to your stack in this server: {names_list(change.changed)}.")
        if change.unchanged:
            parts.append(f"Already in your stack: {names_list(change.unchanged)}.")
    else:
        if change.changed:
            parts.append(f"Removed from your stack in this server: {names_list(change.changed)}.")
        if change.unchanged:
            parts.append(f"Not in your stack: {names_list(change.unchanged)}.")
    parts.append("See it with `/stack show`.")
    return " ".join(parts)


def member_stack_embed(stack: MemberStack, member_name: str, *, own: bool) -> discord.Embed:
    who = "Your" if own else f"{_plain(member_name)}'s"
    embed = discord.Embed(title=clip(f"{who} stack in this server", 256), colour=BRAND_COLOUR)
    if not stack.tools:
        embed.description = (
            "Nothing yet. Add the tools you use with `/stack add`, e.g. `Flask, PostgreSQL`."
            if own
            else f"{_plain(member_name)} has not added any tools here yet."
        )
        return embed
    groups = stack.groups
    left_out = _add_groups(embed, groups)
    footer = (
        f"{_plural(len(stack.tools), 'tool')} in {_plural(len(groups), 'category', 'categories')}"
    )
    if left_out:
        footer += f" · {left_out} not shown"
    embed.set_footer(text=footer)
    return embed


def server_stack_embed(stack: ServerStack, guild_name: str) -> discord.Embed:
    embed = discord.Embed(title=clip(f"What {_plain(guild_name)} uses", 256), colour=BRAND_COLOUR)
    if not stack.ranking:
        embed.description = (
            "No member has shared their stack here yet. Add the tools you use with `/stack add`."
        )
        return embed
    lines = []
    used = 0
    for rank, ranked in enumerate(stack.ranking, start=1):
        line = (
            f"`{rank:>2}.` {_bold(ranked.entry.tool)} · {_plural(ranked.members, 'member')}"
            f" · *{_plain(ranked.entry.category)}*"
        )
        if used + len(line) + 1 > DESCRIPTION - 100:
            break
        lines.append(line)
        used += len(line) + 1
    embed.description = "\n".join(lines)
    footer = (
        f"{_plural(stack.members, 'member')} shared their stack · "
        f"{_plural(stack.total_tools, 'tool')} in use"
    )
    if len(lines) < stack.total_tools:
        footer += f" · top {len(lines)} shown"
    embed.set_footer(text=footer + " · add yours with /stack add")
    return embed


# ---------------------------------------------------------------- /follow


def _preference_text(mention_in_posts: bool) -> str:
    if mention_in_posts:
        return "When your DMs are closed, you are mentioned in the post instead."
    return (
        "When your DMs are closed, you are not told; set `mention_in_posts` to True with "
        "`/follow` to be mentioned in the post instead."
    )


def follow_text(
    tool: ToolRef, *, newly_followed: bool, mention_in_posts: bool, preference_changed: bool
) -> str:
    if newly_followed:
        text = (
            f"You now follow {_bold(tool)} in this server: new advice posts on it reach you by DM."
        )
    else:
        text = f"You already follow {_bold(tool)} in this server."
    if preference_changed or newly_followed:
        text += " " + _preference_text(mention_in_posts)
    return text


def unfollow_text(tool: ToolRef, *, was_following: bool) -> str:
    if was_following:
        return f"You no longer follow {_bold(tool)} in this server."
    return f"You were not following {_bold(tool)} in this server."


def following_embed(following: Following) -> discord.Embed:
    embed = discord.Embed(title="Tools you follow in this server", colour=BRAND_COLOUR)
    if not following.tools:
        embed.description = (
            "None yet. Follow a tool with `/follow`: new advice posts on it reach you by DM."
        )
        return embed
    embed.description = "New advice posts on these tools reach you by DM. " + _preference_text(
        following.mention_in_posts
    )
    left_out = _add_groups(embed, following.groups)
    footer = _plural(len(following.tools), "tool")
    if left_out:
        footer += f" · {left_out} not shown"
    embed.set_footer(text=footer + " · stop with /unfollow")
    return embed


# ---------------------------------------------------------------- telling followers


def _post_tools(post: OpenedPost) -> str:
    return ", ".join(_bold(ref) for ref in post.tools)


def advice_news_text(post: OpenedPost, guild_name: str) -> str:
    """The DM a follower of the post's tools gets."""
    text = (
        f"New advice post on {_post_tools(post)} in **{_plain(guild_name)}**: "
        f"“{_plain(post.title, TITLE_IN_DM)}” {post.jump_url}\n"
        "-# You follow these tools there; stop with `/unfollow` in that server."
    )
    return clip(text, CONTENT)


def thread_mention_texts(
    post: OpenedPost, member_ids: Sequence[int]
) -> list[tuple[str, list[int]]]:
    """Messages for the post's thread mentioning followers whose DMs are closed and who asked
    to be mentioned: each within Discord's length and mention limits, with the ids it
    mentions."""
    head = (
        f"New advice post on {_post_tools(post)}. Mentioning members who follow these tools "
        "and asked to be mentioned when their DMs are closed:"
    )
    head = clip(head, CONTENT // 2)
    messages: list[tuple[str, list[int]]] = []
    text, ids = head, []
    for member_id in dict.fromkeys(member_ids):
        mention = f" <@{member_id}>"
        if len(text) + len(mention) > CONTENT or len(ids) == MENTIONS_PER_MESSAGE:
            messages.append((text, ids))
            text, ids = "-# (continued)", []
        text += mention
        ids.append(member_id)
    if ids:
        messages.append((text, ids))
    return messages
