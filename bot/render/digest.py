"""The weekly digest's embed and chart. Pure: plain data in, embed (or chart spec) out.

Everything members wrote (post titles, pros and cons) is one-lined, clipped and escaped, so a
title full of markdown, brackets or mentions reads as typed and cannot break a link; each
section keeps whole lines and ends with "…and N more" for what it leaves out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import discord

from bot.charts import LABEL_LIMIT as CHART_LABEL_LIMIT
from bot.charts import TITLE_LIMIT as CHART_TITLE_LIMIT
from bot.charts import ChartBar, ChartSpec, ToolChart
from bot.core.digest import Capped, Digest, DigestPost, DigestVerdict, Item, VotedReason
from bot.render.about import BRAND_COLOUR
from bot.render.compare import (
    CHART_FILENAME,
    DESCRIPTION,
    FIELD_NAME,
    FOOTER,
    TITLE,
    clip,
    fit,
    listed,
    one_line,
)

DIGEST_TITLE = "Stackup weekly digest"
CHART_TITLE = "This week: most compared tools, most voted pros and cons"
COMPARED_CHART_NAME = "Most compared tools (runs of /compare)"
VOTED_CHART_NAME = "Most voted pros and cons (votes this week)"
QUIET_WEEK = "A quiet week: no new advice posts, verdicts, comparisons or votes."
FOOTER_TEXT = "Runs of /compare and 👍 votes on pros and cons cast in this server this week"

# Backslash before any of these shows the character itself instead of its markdown meaning;
# "<" keeps "<@123>" and "<t:…>" as text, ":" keeps a URL from turning into a link.
_MARKDOWN = re.compile(r"([\\*_~|`\[\]()<>:#-])")


@dataclass(frozen=True)
class _Detail:
    """How many characters of each member-written text a line affords."""

    title: int
    name: int
    text: int


# Longest texts first; shorter ones only when a week is so full, or its texts so long, that
# the whole embed would not fit.
_LEVELS = (
    _Detail(title=100, name=60, text=100),
    _Detail(title=60, name=40, text=60),
    _Detail(title=40, name=28, text=40),
    _Detail(title=24, name=16, text=24),
)


def _escaped(text: str, limit: int) -> str:
    """One line of at most `limit` characters (before escaping) that reads as typed."""
    return _MARKDOWN.sub(r"\\\1", clip(one_line(text), limit))


def _timestamp(moment: datetime, style: str) -> str:
    # The database hands out aware datetimes; a naive one is UTC here, never the host's zone.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return f"<t:{int(moment.timestamp())}:{style}>"


def thread_url(guild_id: int, thread_id: int) -> str:
    return f"https://discord.com/channels/{guild_id}/{thread_id}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


# ---------------------------------------------------------------- the embed


def digest_embed(digest: Digest, *, chart: bool) -> discord.Embed:
    """The digest as one embed: the window, then a field for each section with something in
    it. With `chart`, the picture attached as CHART_FILENAME shows under it."""
    (embed,) = fit(lambda detail: [_digest_embed(digest, detail, chart=chart)], _LEVELS)
    return embed


def _digest_embed(digest: Digest, detail: _Detail, *, chart: bool) -> discord.Embed:
    window = f"{_timestamp(digest.start, 'f')} → {_timestamp(digest.end, 'f')}"
    description = window
    if digest.is_quiet:
        description += "\n" + QUIET_WEEK
    embed = discord.Embed(
        title=clip(DIGEST_TITLE, TITLE),
        description=clip(description, DESCRIPTION),
        colour=BRAND_COLOUR,
    )
    guild_id = digest.guild_id
    _section(
        embed,
        f"New advice posts · {digest.new_posts.total}",
        digest.new_posts,
        lambda post: _post_line(post, guild_id, detail),
    )
    _section(
        embed,
        f"Still open · {digest.open_posts.total}",
        digest.open_posts,
        lambda post: _post_line(post, guild_id, detail),
    )
    _section(
        embed,
        f"Verdicts · {digest.verdicts.total}",
        digest.verdicts,
        lambda verdict: _verdict_line(verdict, guild_id, detail),
    )
    _section(
        embed,
        f"Most compared tools · {digest.compared.total} compared",
        digest.compared,
        lambda compared: (
            f"**{_escaped(compared.tool.name, detail.name)}** · {_plural(compared.runs, 'run')}"
        ),
    )
    _section(
        embed,
        f"Most voted pros and cons · {_plural(digest.votes_cast, 'vote')} on {digest.voted.total}",
        digest.voted,
        lambda reason: _reason_line(reason, detail),
    )
    embed.set_footer(text=clip(FOOTER_TEXT, FOOTER))
    if chart:
        embed.set_image(url=f"attachment://{CHART_FILENAME}")
    return embed


def _section(
    embed: discord.Embed, name: str, capped: Capped[Item], line: Callable[[Item], str]
) -> None:
    """A numbered field of the items, or nothing when the list is empty."""
    if not capped.total:
        return
    lines = [f"{number}. {line(item)}" for number, item in enumerate(capped.items, start=1)]
    embed.add_field(name=clip(name, FIELD_NAME), value=listed(lines, capped.total), inline=False)


def _post_title(post: DigestPost, limit: int) -> str:
    return _escaped(post.title, limit) or "Untitled"


def _linked(post: DigestPost, guild_id: int, text: str) -> str:
    if post.thread_id is None:
        return text
    return f"[{text}]({thread_url(guild_id, post.thread_id)})"


def _post_line(post: DigestPost, guild_id: int, detail: _Detail) -> str:
    title = _linked(post, guild_id, _post_title(post, detail.title))
    return f"{title} · asked {_timestamp(post.created_at, 'R')}"


def _verdict_line(verdict: DigestVerdict, guild_id: int, detail: _Detail) -> str:
    title = _linked(verdict.post, guild_id, f"**{_post_title(verdict.post, detail.title)}**")
    if verdict.tool is None:
        return f"{title} → no verdict"
    how = "accepted by the asker" if verdict.accepted else "most voted"
    return f"{title} → {_escaped(verdict.tool.name, detail.name)} ({how})"


def _reason_line(reason: VotedReason, detail: _Detail) -> str:
    return (
        f"**{_escaped(reason.tool.name, detail.name)}** {reason.kind}: "
        f"{_escaped(reason.text, detail.text)} · 👍 {reason.votes}"
    )


# ---------------------------------------------------------------- the chart


def digest_chart_spec(digest: Digest) -> ChartSpec | None:
    """The most compared tools as bars of runs, and the most voted pros (to the right) and cons
    (to the left) as bars of votes; None when the week has neither."""
    groups = []
    if digest.compared.items:
        groups.append(
            ToolChart(
                name=COMPARED_CHART_NAME,
                pros=tuple(
                    ChartBar(_chart_label(compared.tool.name), compared.runs)
                    for compared in digest.compared.items
                ),
                cons=(),
            )
        )
    if digest.voted.items:
        groups.append(
            ToolChart(
                name=VOTED_CHART_NAME,
                pros=tuple(
                    _reason_bar(reason) for reason in digest.voted.items if reason.kind == "pro"
                ),
                cons=tuple(
                    _reason_bar(reason) for reason in digest.voted.items if reason.kind == "con"
                ),
            )
        )
    if not groups:
        return None
    return ChartSpec(title=clip(CHART_TITLE, CHART_TITLE_LIMIT), tools=tuple(groups))


def _chart_label(text: str) -> str:
    return clip(one_line(text), CHART_LABEL_LIMIT)


def _reason_bar(reason: VotedReason) -> ChartBar:
    """ "Flask: Simple to learn", the tool's name kept short so the pro itself shows."""
    name = clip(one_line(reason.tool.name), CHART_LABEL_LIMIT // 2)
    return ChartBar(_chart_label(f"{name}: {one_line(reason.text)}"), reason.votes)
