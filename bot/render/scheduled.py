"""The scheduler's messages in advice threads: the reminder of a post nobody answered and the
asker's warning before an idle close. Pure: plain data in, message arguments out; each message
may ping exactly the members it names and nobody else."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.core.comparison import ToolRef
from bot.core.schedule import IdleWarning, Reminder
from bot.core.text import one_line
from bot.render import only_pinging
from bot.render.compare import clip

CONTENT_LIMIT = 2000
TOOL_NAME = 40


def _tools(tools: Sequence[ToolRef]) -> str:
    names = [
        f"**{discord.utils.escape_markdown(clip(one_line(t.name), TOOL_NAME))}**" for t in tools
    ]
    if len(names) <= 1:
        return "".join(names) or "these tools"
    return ", ".join(names[:-1]) + " or " + names[-1]


def reminder_message(reminder: Reminder) -> dict[str, object]:
    """Bumps the post: nobody has recommended anything in two days."""
    tools = _tools(reminder.post.tools)
    lines = [f"👋 Nobody has recommended anything here yet. Do you know {tools}?"]
    if reminder.mention_ids:
        mentions = " ".join(f"<@{member_id}>" for member_id in reminder.mention_ids)
        lines.append(f"{mentions}: you follow {tools} and asked to be mentioned.")
    lines.append("Recommend a tool with `/advice recommend`; members vote on it with 👍 and 👎.")
    return {
        "content": "\n".join(lines)[:CONTENT_LIMIT],
        "allowed_mentions": only_pinging(reminder.mention_ids),
    }


def warning_message(warning: IdleWarning) -> dict[str, object]:
    """Asks the asker to accept a recommendation before the post closes as idle."""
    post = warning.post
    closes = f"<t:{int(warning.closes_at.timestamp())}:R>"
    lines = [f"<@{post.asker_id}> this post closes {closes} unless something happens here."]
    if warning.best:
        lines.append(
            "If one of these answered your question, accept it with "
            "`/advice close accepted:<tool>`:"
        )
        for line in warning.best:
            name = discord.utils.escape_markdown(clip(one_line(line.tool.name), TOOL_NAME))
            lines.append(f"• **{name}** ({line.score:+d}: {line.up} 👍, {line.down} 👎)")
    else:
        lines.append("Nobody has recommended a tool yet; it closes without a verdict then.")
    return {
        "content": "\n".join(lines)[:CONTENT_LIMIT],
        "allowed_mentions": only_pinging([post.asker_id]),
    }
