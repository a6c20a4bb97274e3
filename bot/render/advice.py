"""Advice posts as members read them: the post's live starter, recommendations and lists as
embeds, the verdict as Components V2 with its chart's data. Pure: plain data in, messages out.

The starter is edited on every vote, so it must fit Discord's limits whatever members wrote:
the asker's question is kept whole and the context and ranking shrink around it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import discord

from bot.charts import VOTES_LABEL_LIMIT, VoteRow, VotesChartSpec
from bot.core.advice import (
    OPEN,
    REASON_LIMIT,
    AdviceFigures,
    AdviceListItem,
    AdvicePage,
    AdviceSummary,
    RecommendationLine,
    ToolAdvice,
)
from bot.core.comparison import ToolRef
from bot.core.decisions import DecisionLine
from bot.core.privacy import FORMER_MEMBER, FORMER_MEMBER_ID, asker_mention
from bot.render.about import BRAND_COLOUR
from bot.render.compare import (
    BUDGET,
    CHART_FILENAME,
    DESCRIPTION,
    EMBED_FIELDS,
    FIELD_NAME,
    FIELD_VALUE,
    FOOTER,
    TITLE,
    clip,
    fit,
    listed,
    one_line,
    total_length,
    utf16_units,
)

OPEN_COLOUR = discord.Colour.blurple()
CLOSED_COLOUR = discord.Colour.green()
AUTHOR_NAME = 256
STARTER_RANKING = 10
CHART_RECOMMENDATIONS = 10
TOOL_NAME = 100

NO_RECOMMENDATIONS = (
    "None yet. Recommend a tool with `/advice recommend`; vote with 👍 and 👎 on recommendations."
)
# Stackup reacts 👍 and 👎 under each recommendation so members need only click; its own are
# never votes, so every count under a recommendation reads one more than the ranking's. Said
# wherever those numbers are seen, or members cannot tell which to believe.
NOT_COUNTED = "Stackup's own 👍 and 👎 under each recommendation are not counted"
OPEN_FOOTER = f"Open · {NOT_COUNTED} · recommend with /advice recommend · close with /advice close"
CLOSED_FOOTER = f"Closed · {NOT_COUNTED}"
RECOMMENDATION_FOOTER = (
    "👍 or 👎 to vote (Stackup's own are there to click, not counted)"
    " · one vote per member · not on your own recommendation"
)


def _fits(embed: discord.Embed) -> bool:
    return total_length([embed]) <= BUDGET and len(embed.fields) <= EMBED_FIELDS


def _signed(number: int) -> str:
    return f"+{number}" if number > 0 else f"−{-number}" if number < 0 else "0"


def _votes(recommendation: RecommendationLine) -> str:
    return f"{_signed(recommendation.score)} (👍 {recommendation.up} · 👎 {recommendation.down})"


def _name(tool: ToolRef, limit: int = TOOL_NAME) -> str:
    return clip(one_line(tool.name), limit)


def _names(tools: Sequence[ToolRef], limit: int) -> str:
    return ", ".join(_name(tool, limit) for tool in tools)


def _others(post: AdviceSummary, chosen: ToolRef) -> tuple[ToolRef, ...]:
    # post.others goes by post.verdict, which an accepted tool should equal; going by the
    # tool actually named keeps the sentence right even if the two ever disagree.
    return tuple(tool for tool in post.tools if tool.id != chosen.id)


def _unix(moment: datetime) -> int:
    # The database hands out aware datetimes; a naive one is UTC here, never the host's zone.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _thread_url(guild_id: int, thread_id: int) -> str:
    return f"https://discord.com/channels/{guild_id}/{thread_id}"


# ---------------------------------------------------------------- the starter message


@dataclass(frozen=True)
class _Detail:
    context: int
    lines: int
    name: int
    reason: int  # 0: no reason in the ranking


# Context gives way before the ranking: the ranking is what the starter is edited live for.
_STARTER_LEVELS = (
    _Detail(context=1000, lines=STARTER_RANKING, name=100, reason=120),
    _Detail(context=600, lines=STARTER_RANKING, name=60, reason=60),
    _Detail(context=300, lines=STARTER_RANKING, name=40, reason=0),
    _Detail(context=200, lines=STARTER_RANKING, name=28, reason=0),
    _Detail(context=120, lines=5, name=24, reason=0),
    _Detail(context=60, lines=3, name=20, reason=0),
)


def starter_embed(post: AdviceSummary, asker_name: str) -> discord.Embed:
    """The post's first message, edited as votes come in."""
    (embed,) = fit(
        lambda detail: [_starter(post, asker_name, detail)],
        _STARTER_LEVELS,
        last_resort=lambda embeds: [_squeeze(embeds[0])],
    )
    return embed


def _squeeze(embed: discord.Embed) -> discord.Embed:
    """Last resort, beyond anything the input checks allow: cut the fields, never the
    question, starting with the context."""
    for name in ("Context", "Recommendations", "Verdict"):
        for index, field in enumerate(embed.fields):
            excess = total_length([embed]) - BUDGET
            if excess <= 0:
                return embed
            if field.name != name or not field.value:
                continue
            value = clip(field.value, max(len(field.value) - excess, 1))
            embed.set_field_at(index, name=field.name, value=value, inline=field.inline)
    while not _fits(embed) and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    return embed


def _starter(post: AdviceSummary, asker_name: str, detail: _Detail) -> discord.Embed:
    title = f"Needs advice on {_names(post.tools, TOOL_NAME)}" if post.tools else "Needs advice"
    embed = discord.Embed(
        title=clip(title, TITLE),
        description=clip(post.question, DESCRIPTION) or None,
        colour=OPEN_COLOUR if post.is_open else CLOSED_COLOUR,
    )
    if post.asker_id == FORMER_MEMBER_ID:
        asker_name = FORMER_MEMBER.capitalize()
    embed.set_author(name=clip(asker_name, AUTHOR_NAME) or "Someone")
    context = post.context.strip()
    if context:
        embed.add_field(
            name="Context", value=clip(context, min(detail.context, FIELD_VALUE)), inline=False
        )
    embed.add_field(name="Recommendations", value=_starter_ranking(post, detail), inline=False)
    if not post.is_open:
        embed.add_field(name="Verdict", value=_verdict_field(post, detail.name), inline=False)
    embed.set_footer(text=OPEN_FOOTER if post.is_open else CLOSED_FOOTER)
    return embed


def _starter_ranking(post: AdviceSummary, detail: _Detail) -> str:
    if not post.recommendations:
        return NO_RECOMMENDATIONS
    shown = post.recommendations[: detail.lines]
    total = len(post.recommendations)
    tail = len(f"\n…and {total - len(shown)} more") if total > len(shown) else 0
    # Every place in the ranking before any reason: reasons give way first, then long names.
    tries = dict.fromkeys(
        (
            (detail.name, detail.reason),
            (detail.name, detail.reason // 2),
            (detail.name, 0),
            (min(detail.name, 40), 0),
            (min(detail.name, 24), 0),
        )
    )
    for name_limit, reason_limit in tries:
        lines = [
            _ranking_line(number, recommendation, name_limit, reason_limit)
            for number, recommendation in enumerate(shown, start=1)
        ]
        if sum(len(line) + 1 for line in lines) + tail <= FIELD_VALUE:
            break
    return listed(lines, total, FIELD_VALUE)


def _ranking_line(
    number: int, recommendation: RecommendationLine, name_limit: int, reason_limit: int = 0
) -> str:
    line = (
        f"{number}. **{_name(recommendation.tool, name_limit)}** · {_votes(recommendation)}"
        f" · <@{recommendation.member_id}>"
    )
    reason = one_line(recommendation.reason)
    if reason_limit and reason:
        line += f" — {clip(reason, reason_limit)}"
    return line


def _verdict_field(post: AdviceSummary, name_limit: int) -> str:
    if post.accepted is not None:
        others = _others(post, post.accepted)
        over = f" over {clip(_names(others, name_limit), name_limit * 3)}" if others else ""
        text = f"Chose **{_name(post.accepted, name_limit)}**{over} (accepted by the asker)"
    elif post.verdict is not None:
        text = f"Most voted: **{_name(post.verdict, name_limit)}**"
    else:
        text = "Closed without a verdict"
    return clip(text, FIELD_VALUE)


# ---------------------------------------------------------------- recommendations


def recommendation_embed(recommendation: RecommendationLine, member_name: str) -> discord.Embed:
    """Posted in the thread for members to vote on with 👍 and 👎."""
    embed = discord.Embed(
        title=clip(f"Recommends {one_line(recommendation.tool.name)}", TITLE),
        description=clip(recommendation.reason.strip(), REASON_LIMIT) or None,
        colour=OPEN_COLOUR,
    )
    embed.set_author(name=clip(member_name, AUTHOR_NAME) or "Someone")
    embed.set_footer(text=RECOMMENDATION_FOOTER)
    return embed


# ---------------------------------------------------------------- the verdict

VOTES_HEADING = "Members' votes"
# With two, the ranking's two lines say all a chart would.
CHART_MIN_RECOMMENDATIONS = 3
CHART_DESCRIPTION = "Members' 👎 and 👍 for each recommendation"
V2_TEXT = 4000  # over all of a Components V2 message's text displays
V2_HEADROOM = 50


def _verdict_title(post: AdviceSummary) -> str:
    chosen = post.accepted or post.verdict
    return (
        clip(f"Verdict: {one_line(chosen.name)}", TITLE) if chosen else "Closed without a verdict"
    )


def verdict_view(post: AdviceSummary, *, chart: bool, lead: str = "") -> discord.ui.LayoutView:
    """Posted when a post closes, in Components V2: the decision and why, then how members
    voted, each figure once, and the chart if one was drawn. `lead` goes above, outside."""
    head = f"## {_verdict_title(post)}\n{_verdict_description(post)}"
    view = discord.ui.LayoutView(timeout=None)
    if lead:
        view.add_item(discord.ui.TextDisplay(lead))
    container = discord.ui.Container(discord.ui.TextDisplay(head), accent_colour=CLOSED_COLOUR)
    if post.recommendations:
        container.add_item(discord.ui.Separator())
        room = V2_TEXT - V2_HEADROOM - utf16_units(lead) - utf16_units(head)
        container.add_item(discord.ui.TextDisplay(_verdict_votes(post, room)))
    if chart:
        gallery = discord.MediaGalleryItem(
            f"attachment://{CHART_FILENAME}", description=CHART_DESCRIPTION
        )
        container.add_item(discord.ui.MediaGallery(gallery))
    view.add_item(container)
    return view


def _verdict_votes(post: AdviceSummary, room: int) -> str:
    """The ranking under its heading, as many lines as `room` holds, and what is not counted
    right under the numbers it explains."""
    heading = f"**{VOTES_HEADING}**"
    note = f"-# {NOT_COUNTED}."
    lines = [
        _ranking_line(number, recommendation, TOOL_NAME)
        for number, recommendation in enumerate(post.recommendations, start=1)
    ]
    room -= utf16_units(heading) + utf16_units(note) + 2
    return "\n".join((heading, listed(lines, len(lines), room), note))


def _verdict_description(post: AdviceSummary) -> str:
    """The decision in a sentence, then the accepted recommendation's reason; its votes are in
    the ranking below, and only there."""
    if post.accepted is not None:
        others = [_name(tool) for tool in _others(post, post.accepted)]
        over = f" over {clip(_and(others), 400)}" if others else ""
        # Capitalised for "A former member"; a mention has no letters to change.
        text = (
            f"{asker_mention(post.asker_id).capitalize()} chose **{_name(post.accepted)}**{over}."
        )
        accepted = post.accepted_recommendation
        if accepted is not None:
            text += f" <@{accepted.member_id}> recommended it:"
            reason = accepted.reason.strip()
            if reason:
                # ">>> " quotes everything after it, paragraphs included: it goes last.
                text += f"\n>>> {clip(reason, REASON_LIMIT)}"
        return text
    if post.verdict is not None:
        return (
            f"Members' votes favour **{_name(post.verdict)}**."
            " The asker did not accept a recommendation."
        )
    if post.recommendations:
        return "The asker accepted no recommendation, and none was voted above zero."
    return "Nobody recommended a tool before the post closed."


def _and(names: Sequence[str]) -> str:
    """ "Django", "Django and Koa", "Django, Koa and Flask": a sentence, not a list."""
    return " and ".join((", ".join(names[:-1]), names[-1])) if len(names) > 1 else "".join(names)


def verdict_chart_spec(post: AdviceSummary) -> VotesChartSpec | None:
    """One bar pair per recommendation, best first, 👎 left and 👍 right on one scale, the
    chosen one marked; none for fewer than three recommendations."""
    if len(post.recommendations) < CHART_MIN_RECOMMENDATIONS:
        return None
    top = post.recommendations[:CHART_RECOMMENDATIONS]
    labels = _chart_labels([recommendation.tool for recommendation in top])
    chosen = post.accepted or post.verdict
    # The chosen tool's best-ranked recommendation, as the ranking shows it.
    marked = next((r.id for r in top if chosen is not None and r.tool.id == chosen.id), None)
    return VotesChartSpec(
        rows=tuple(
            VoteRow(label, up=max(r.up, 0), down=max(r.down, 0), chosen=r.id == marked)
            for label, r in zip(labels, top, strict=True)
        )
    )


def _chart_labels(tools: Sequence[ToolRef]) -> list[str]:
    """Tool names, "#2" marking a tool's second recommendation, short enough that the chart
    never cuts the number off."""
    seen: dict[int, int] = {}
    labels = []
    for tool in tools:
        seen[tool.id] = seen.get(tool.id, 0) + 1
        suffix = f" #{seen[tool.id]}" if seen[tool.id] > 1 else ""
        labels.append(clip(one_line(tool.name), VOTES_LABEL_LIMIT - len(suffix)) + suffix)
    return labels


# ---------------------------------------------------------------- lists


def advice_list_embed(page: AdvicePage, guild_id: int) -> discord.Embed:
    """One page of a server's advice posts, newest first, StackShare's "Advice on Flask"."""
    subject = f"advice on {one_line(page.tool.name)}" if page.tool else "advice posts"
    status = {"open": "Open ", "closed": "Closed "}.get(page.status or "", "")
    title = f"{status}{subject}" if status else subject[0].upper() + subject[1:]
    embed = discord.Embed(title=clip(title, TITLE), colour=BRAND_COLOUR)
    if not page.items:
        about = f" naming {_name(page.tool)}" if page.tool else ""
        embed.description = (
            f"No {status.strip().lower() + ' ' if status else ''}advice posts{about} here yet."
            " Ask for advice with `/advice ask`."
        )
    for item in page.items:
        embed.add_field(
            name=clip(one_line(item.title), FIELD_NAME) or "Untitled",
            value=_list_item(item, guild_id),
            inline=False,
        )
    footer = f"Page {page.page} of {page.pages} · {_plural(page.total, 'post')}"
    embed.set_footer(text=clip(footer, FOOTER))
    return embed


def _list_item(item: AdviceListItem, guild_id: int) -> str:
    lines = []
    if item.thread_id:
        lines.append(f"[Open the post]({_thread_url(guild_id, item.thread_id)})")
    lines.append(
        f"asked by {asker_mention(item.asker_id)} · <t:{_unix(item.created_at)}:D>"
        f" · {_plural(item.recommendations, 'recommendation')}"
    )
    if item.tools:
        lines.append(clip(_names(item.tools, 60), 300))
    if item.status == OPEN:
        lines.append("Open")
    elif item.verdict is not None:
        lines.append(f"Verdict: **{_name(item.verdict)}**")
    else:
        lines.append("Closed without a verdict")
    return clip("\n".join(lines), FIELD_VALUE)


# ---------------------------------------------------------------- /compare and /tool


def advice_figures_line(figures: AdviceFigures) -> str | None:
    """What this server's advice posts said about the compared tools, then its latest
    decisions about them under a "Decisions" heading, or None if nothing."""
    return _with_decisions(_advice_summary(figures), figures.decisions)


def _advice_summary(figures: AdviceFigures) -> str | None:
    if figures.together:
        text = f"{_plural(figures.together, 'advice post')} here named two or more of these"
        leader = figures.leader
        if leader is not None:
            tool, wins = leader
            text += f"; **{_name(tool)}** won {wins} of them."
        elif figures.together_verdicts:
            text += "; their verdicts are split."
        else:
            text += "; none has a verdict yet."
        return text
    named = [advice for advice in figures.tools if advice.named > 0]
    if not named:
        return None
    parts = []
    for number, advice in enumerate(named):
        chosen = f" (chosen {advice.won})" if advice.won else ""
        if number == 0:
            parts.append(f"{_name(advice.tool)} named in {_plural(advice.named, 'post')}{chosen}")
        else:
            parts.append(f"{_name(advice.tool)} in {advice.named}{chosen}")
    return " · ".join(parts)


def tool_advice_line(advice: ToolAdvice, decisions: Sequence[DecisionLine] = ()) -> str | None:
    summary = None
    if advice.named > 0:
        summary = f"Named in {_plural(advice.named, 'advice post')} here"
        if advice.won:
            summary += f" · chosen in {advice.won}"
    return _with_decisions(summary, decisions)


DECISIONS_HEADING = "**Decisions**"
# With decisions to show, a summary longer than this (dozens of tools) gives way to them.
SUMMARY_BESIDE_DECISIONS = 400
DECISION_TOOL_NAME = 60
DECISION_OVER = 160


def _with_decisions(summary: str | None, decisions: Sequence[DecisionLine]) -> str | None:
    """One field value: the summary, then the decisions, newest first, as many whole lines
    as fit."""
    if not decisions:
        return clip(summary, FIELD_VALUE) if summary else None
    lines = [clip(summary, SUMMARY_BESIDE_DECISIONS)] if summary else []
    lines.append(DECISIONS_HEADING)
    used = utf16_units("\n".join(lines))
    for decision in decisions:
        line = decision_line(decision)
        if used + 1 + utf16_units(line) > FIELD_VALUE:
            break
        lines.append(line)
        used += 1 + utf16_units(line)
    return "\n".join(lines)


def decision_line(decision: DecisionLine) -> str:
    """ "<@1> chose **Flask** over Django · 👍 3 · [why](link)"; a closed advice post's
    decision links its post and has no votes."""
    text = f"<@{decision.member_id}> chose **{_name(decision.chosen, DECISION_TOOL_NAME)}**"
    if decision.over:
        text += f" over {clip(_names(decision.over, DECISION_TOOL_NAME), DECISION_OVER)}"
    if decision.votable:
        text += f" · 👍 {decision.up}"
        if decision.guild_id and decision.channel_id:
            text += f" · [why]({_decision_url(decision)})"
    elif decision.thread_id and decision.guild_id:
        text += f" · [post]({_thread_url(decision.guild_id, decision.thread_id)})"
    return text


def _decision_url(decision: DecisionLine) -> str:
    return (
        f"https://discord.com/channels/{decision.guild_id}/{decision.channel_id}"
        f"/{decision.message_id}"
    )
