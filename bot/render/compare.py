"""Embeds for /compare, /tool, /alternatives and the comparison's buttons. Pure: plain data in,
embeds out.

Every message must fit Discord's limits (6000 characters over all embeds, 25 fields, 1024 per
field value), whatever the catalog holds: each renderer tries levels of detail from generous
to terse and keeps the first that fits; the full lists live behind the buttons.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import discord

from bot.charts import ChartBar, ComparisonChartSpec, ToolChart
from bot.core.comparison import (
    Comparison,
    Difference,
    ExternalFigure,
    MemberFigures,
    Reason,
    ToolAlternatives,
    ToolCard,
    ToolReasons,
    differences,
    distinct_aliases,
    format_count,
    shared_integrations,
)
from bot.core.github import GITHUB_SOURCE
from bot.core.text import one_line
from bot.render.about import BRAND_COLOUR

CHART_FILENAME = "stackup-chart.png"
EMBED_TOTAL = 6000
EMBEDS_PER_MESSAGE = 10
FIELD_VALUE = 1024
FIELD_NAME = 256
FOOTER = 2048
TITLE = 256
DESCRIPTION = 4096
# Headroom under 6000 for anything Discord counts that we might not (it costs nothing).
BUDGET = EMBED_TOTAL - 50
EMBED_FIELDS = 25

METRIC_LABELS = {
    "stacks": "Stacks",
    "followers": "Followers",
    "votes": "Votes",
    "github_stars": "GitHub Stars",
    "github_forks": "GitHub Forks",
}
_METRIC_ORDER = {metric: position for position, metric in enumerate(METRIC_LABELS)}
# Sources written by Stackup itself, keyed by code; the catalog's are already display names.
SOURCE_LABELS = {GITHUB_SOURCE: "GitHub"}
# A table of figures has this many columns at most (StackShare's stacks, followers, votes);
# more would not fit a phone's width. Other figures are lines.
TABLE_COLUMNS = 3
# Tool names in a table: with three narrow columns, a row stays within a phone's width.
TABLE_NAME = 14
NBSP = "\u00a0"
# Longer phrases may wrap: held together they would not fit a line, and Discord would break
# them mid-word instead.
KEEP_TOGETHER = 32
# What each tool is, in about two lines of a desktop embed; the whole text is under Details.
SUMMARY_LIMIT = 130
# Pros and cons per tool in the answer itself; all of them are under "Pros & cons".
TOP_REASONS = 3
# Bars per side over all tools in the chart, and for a lone tool.
CHART_ROWS = 9
MAX_CHART_ROWS = 5
# A footer saying where counts come from: a few sources, named.
NOTE_LIMIT = 300
NOTHING_HERE = "No stacks, follows or votes from this server's members yet."
NOTHING_ANYWHERE = "No stacks, follows or votes from members yet."


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, an ellipsis marking a cut."""
    if len(text) <= limit:
        return text
    if limit <= 1:
        return "…"[:limit]
    return text[: limit - 1].rstrip() + "…"


def first_sentence(text: str) -> str:
    text = one_line(text)
    cuts = [cut for end in (". ", "! ", "? ") if (cut := text.find(end)) > 0]
    return text[: min(cuts) + 1] if cuts else text


def utf16_units(text: str) -> int:
    """Length as Discord may count it, in UTF-16 units: 👍 is two."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def listed(lines: Sequence[str], total: int, limit: int = FIELD_VALUE) -> str:
    """Whole lines within `limit` UTF-16 units, then "…and N more" for the `total` not shown."""
    kept: list[str] = []
    used = 0
    for line in lines:
        rest = total - len(kept) - 1
        tail = utf16_units(f"\n…and {rest} more") if rest else 0
        needed = used + utf16_units(line) + (1 if kept else 0)
        if needed + tail > limit:
            break
        kept.append(line)
        used = needed
    hidden = total - len(kept)
    if hidden:
        kept.append(f"…and {hidden} more")
    return clip("\n".join(kept), limit)


def total_length(embeds: Sequence[discord.Embed]) -> int:
    """The embeds' length as Discord may count it: in UTF-16 units, where an emoji such as 👍
    is two. Counting those twice costs a line at most; an answer refused costs the answer."""
    return sum(len(embed) + _astral(embed) for embed in embeds)


def _astral(embed: discord.Embed) -> int:
    texts = [embed.title, embed.description, embed.footer.text, embed.author.name]
    texts += [text for field in embed.fields for text in (field.name, field.value)]
    return sum(1 for text in texts if text for char in text if ord(char) > 0xFFFF)


def _fits(embeds: Sequence[discord.Embed]) -> bool:
    return (
        total_length(embeds) <= BUDGET
        and len(embeds) <= EMBEDS_PER_MESSAGE
        and all(len(embed.fields) <= EMBED_FIELDS for embed in embeds)
    )


@dataclass(frozen=True)
class Detail:
    """How much of each text a message can afford."""

    description: int
    features: int
    reasons: int
    reason_text: int
    line: int  # one-line texts: alternatives' descriptions, differences' values
    sources: int  # lines of figures from elsewhere, one per source


LEVELS = (
    Detail(description=400, features=10, reasons=5, reason_text=100, line=160, sources=4),
    Detail(description=240, features=7, reasons=5, reason_text=60, line=110, sources=3),
    Detail(description=160, features=5, reasons=3, reason_text=40, line=80, sources=2),
    Detail(description=100, features=3, reasons=2, reason_text=32, line=60, sources=2),
    Detail(description=60, features=0, reasons=1, reason_text=24, line=40, sources=1),
    Detail(description=0, features=0, reasons=1, reason_text=16, line=24, sources=1),
)


def fit(
    build: Callable[[Any], list[discord.Embed]],
    levels: Sequence[Any] = LEVELS,
    last_resort: Callable[[list[discord.Embed]], list[discord.Embed]] | None = None,
) -> list[discord.Embed]:
    """The most detailed rendering that fits one message: `build` tried at each of `levels`,
    most detailed first; if none fits, the tersest one cut by `last_resort`."""
    for detail in levels:
        embeds = build(detail)
        if _fits(embeds):
            return embeds
    return (last_resort or _force_fit)(embeds)


def _force_fit(embeds: list[discord.Embed]) -> list[discord.Embed]:
    """Last resort, for data beyond anything the catalog format allows: shorten footers and
    descriptions, then drop trailing fields, keeping every embed's title."""
    embeds = embeds[:EMBEDS_PER_MESSAGE]
    while not _fits(embeds):
        biggest = max(embeds, key=len)
        if biggest.footer.text and len(biggest.footer.text) > 100:
            biggest.set_footer(text=clip(biggest.footer.text, 100))
        elif biggest.description and len(biggest.description) > 100:
            biggest.description = clip(biggest.description, len(biggest.description) // 2)
        elif biggest.fields:
            biggest.remove_field(len(biggest.fields) - 1)
        else:
            biggest.description = None
            biggest.set_footer(text=None)
            biggest.title = clip(biggest.title or "", 100)
    return embeds


def _field(embed: discord.Embed, name: str, value: str, *, inline: bool = False) -> None:
    value = value.strip() or "—"
    embed.add_field(name=clip(name, FIELD_NAME), value=_clip_lines(value), inline=inline)


def _clip_lines(value: str, limit: int = FIELD_VALUE) -> str:
    """Keep whole lines where possible; a field value must stay within 1024 characters."""
    if len(value) <= limit:
        return value
    kept: list[str] = []
    used = 0
    for line in value.split("\n"):
        if used + len(line) + 1 > limit - 2:
            break
        kept.append(line)
        used += len(line) + 1
    return "\n".join(kept) + "\n…" if kept else clip(value, limit)


# ---------------------------------------------------------------- pieces


def clip_words(text: str, limit: int) -> str:
    """At most `limit` characters, cut after a whole word where there is one to cut after."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rstrip()
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:–—-") + "…"


def together(text: str) -> str:
    """A short phrase that Discord wraps as one word ("35.1K stacks", "`27` Not python"), so a
    line breaks between phrases, never inside one. Long text stays free to wrap: it could not
    fit a line on its own."""
    return text.replace(" ", NBSP) if len(text) <= KEEP_TOGETHER else text


def joined(phrases: Iterable[str]) -> str:
    return " · ".join(together(phrase) for phrase in phrases)


def counted(value: int, unit: str) -> str:
    """ "1 stack", "35.1K stacks"."""
    return f"{format_count(value)} {unit}{'' if value == 1 else 's'}"


def reason_line(reason: Reason, text_limit: int) -> str:
    """`381` Simple: the total adds members' votes to the imported figure; only where both
    are in it are the parts labelled, so no count is shown twice or next to a zero."""
    line = f"`{format_count(reason.total)}` {clip(reason.text, text_limit)}"
    if reason.imported and reason.members:
        sign = "+" if reason.members >= 0 else "−"
        members = abs(reason.members)
        line += (
            f" ({format_count(reason.imported)} {reason.imported_source or 'imported'}"
            f" {sign} {members} member{'' if members == 1 else 's'})"
        )
    return line


def reason_lines(reasons: Sequence[Reason], count: int, text_limit: int) -> str:
    if not reasons:
        return "None yet."
    lines = [reason_line(reason, text_limit) for reason in reasons[:count]]
    if len(reasons) > count:
        lines.append(f"+{len(reasons) - count} more (Pros & cons)")
    return "\n".join(lines)


def _top_line(emoji: str, reasons: Sequence[Reason], count: int, text_limit: int) -> str:
    """👍 `381` Simple · `336` Node.js: one tool's top pros (or cons) on one line."""
    if not reasons:
        return f"{emoji} none yet"
    shown = [
        f"`{format_count(reason.total)}` {clip(reason.text, text_limit)}"
        for reason in reasons[:count]
    ]
    return f"{emoji} {joined(shown)}"


def imported_sources(reasons: Iterable[Reason], *, shown: int = 3) -> str:
    """ "StackShare as of 2025-01-01", the first few sources of imported counts named."""
    seen: dict[str, str] = {}
    for reason in reasons:
        if reason.imported and reason.imported_source:
            as_of = reason.imported_as_of.isoformat() if reason.imported_as_of else "?"
            seen.setdefault(clip(reason.imported_source, 50), as_of)
    named = [f"{source} as of {as_of}" for source, as_of in list(seen.items())[:shown]]
    if len(seen) > shown:
        named.append(f"{len(seen) - shown} more sources")
    return ", ".join(named)


def counts_note(reasons: Iterable[Reason]) -> str | None:
    """Where the pro and con counts come from, said once for a message: imported votes alone,
    or imported votes plus members'. Members' votes alone need no note."""
    reasons = list(reasons)
    sources = imported_sources(reasons)
    if not sources:
        return None
    if any(reason.members for reason in reasons):
        return f"Counts: votes on {sources}, plus members' votes."
    return f"Counts: votes on {sources}."


def _member_counts(counts: tuple[int, int, int]) -> list[str]:
    units = ("stack", "follower", "vote")
    return [counted(value, unit) for value, unit in zip(counts, units, strict=True) if value]


def _members_where(tools: Sequence[ToolCard], counts: Callable[[MemberFigures], Any]) -> str:
    """ "**Flask** 1 stack · 2 votes; **Koa** 1 follower": tools with nothing left out, and a
    lone tool (a card) not named."""
    parts = []
    for tool in tools:
        shown = _member_counts(counts(tool.figures))
        if shown:
            # The name goes with its first figure: a line must not end on a bare name.
            named = f"**{clip(tool.name, 60)}**{NBSP}" if len(tools) > 1 else ""
            parts.append(named + joined(shown))
    return "; ".join(parts)


def member_lines(tools: Sequence[ToolCard], *, guild: bool) -> list[str]:
    """Members' stacks, follows and votes with zeros left out: in this server, then in all
    servers where that says more; a single line when there is nothing yet."""
    here = _members_where(tools, lambda figures: figures.here) if guild else ""
    everywhere = _members_where(tools, lambda figures: figures.everywhere)
    lines = []
    if guild:
        lines.append(f"In this server: {here}" if here else NOTHING_HERE)
    if everywhere and everywhere != here:
        lines.append(f"In all servers: {everywhere}")
    elif not guild:
        lines.append(NOTHING_ANYWHERE)
    return lines


def external_figures(figures: Sequence[ExternalFigure]) -> list[str]:
    """One line per source and day, oldest first (the same order on every database):
    "StackShare (2025-01-01): Stacks 35.1K · Followers 24.0K", then GitHub's own fresher
    figures, "GitHub (2026-03-02): Stars 66.0K · Forks 16.5K"."""
    lines = []
    for (as_of, source), group in _by_source(figures).items():
        values = joined(f"{_metric_label(f.metric, source)} {format_count(f.value)}" for f in group)
        lines.append(f"{source} ({as_of.isoformat()}): {values}")
    return lines


def _by_source(figures: Iterable[ExternalFigure]) -> dict[tuple[date, str], list[ExternalFigure]]:
    """Figures grouped by day and source, oldest first, each group in the metrics' order."""
    groups: dict[tuple[date, str], list[ExternalFigure]] = {}
    for figure in figures:
        source = SOURCE_LABELS.get(figure.source, figure.source)
        groups.setdefault((figure.as_of, source), []).append(figure)
    return {
        key: sorted(groups[key], key=lambda f: _METRIC_ORDER.get(f.metric, 99))
        for key in sorted(groups, key=lambda key: (key[0], key[1].casefold()))
    }


def _metric_label(metric: str, source: str) -> str:
    """ "GitHub Stars", or "Stars" on GitHub's own line."""
    label = METRIC_LABELS.get(metric, metric.replace("_", " ").title())
    return label.removeprefix(f"{source} ") or label


def figure_fields(tools: Sequence[ToolCard]) -> list[tuple[str, str]]:
    """A field per source and day. Where several tools have its figures, the first three
    metrics are a table, a row per tool, the way StackShare shows stacks, followers and votes;
    any other figure (GitHub stars on StackShare's page) is a line for the tools that have it."""
    found: dict[tuple[date, str], list[tuple[ToolCard, list[ExternalFigure]]]] = {}
    for tool in tools:
        for key, group in _by_source(tool.external).items():
            found.setdefault(key, []).append((tool, group))
    fields = []
    for as_of, source in sorted(found, key=lambda key: (key[0], key[1].casefold())):
        rows = found[as_of, source]
        tabled = _table_metrics(rows) if len(rows) > 1 else []
        parts = [_figures_table(rows, tabled, source)] if tabled else []
        for tool, group in rows:
            other = [f for f in group if f.metric not in tabled]
            if other:
                values = (
                    f"{_metric_label(f.metric, source)} {format_count(f.value)}" for f in other
                )
                parts.append(f"**{clip(tool.name, 60)}**: {joined(values)}")
        fields.append((f"{source}, as of {as_of.isoformat()}", "\n".join(parts)))
    return fields


def _table_metrics(rows: Sequence[tuple[ToolCard, Sequence[ExternalFigure]]]) -> list[str]:
    metrics = {f.metric for _tool, group in rows for f in group}
    return sorted(metrics, key=lambda metric: (_METRIC_ORDER.get(metric, 99), metric))[
        :TABLE_COLUMNS
    ]


def _figures_table(
    rows: Sequence[tuple[ToolCard, Sequence[ExternalFigure]]], metrics: Sequence[str], source: str
) -> str:
    """A code block, so the columns line up; "-" where a tool has no such figure (as StackShare
    marks it). Three columns stay narrow enough for a phone."""
    table = [["", *(_metric_label(m, source) for m in metrics)]]
    for tool, group in rows:
        values = {f.metric: f.value for f in group}
        if any(m in values for m in metrics):
            name = clip(tool.name.replace("`", "'"), TABLE_NAME)
            cells = [format_count(values[m]) if m in values else "-" for m in metrics]
            table.append([name, *cells])
    widths = [max(len(row[column]) for row in table) for column in range(len(table[0]))]
    lines = [
        "  ".join(
            cell.ljust(width) if column == 0 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in table
    ]
    return "```\n" + "\n".join(lines) + "\n```"


def title_for(tools: Sequence[Any]) -> str:
    return clip(" vs ".join(tool.name for tool in tools), TITLE)


def _names(names: Sequence[str], limit: int) -> str:
    return ", ".join(clip(name, limit) for name in names)


def _difference_line(difference: Difference, limit: int) -> str:
    """**License** — ExpressJS, Koa: MIT · Flask: BSD-3-Clause, with the note after."""
    name_limit = max(limit // 2, 16)
    groups = " · ".join(
        f"{_names(names, name_limit)}: {together(clip(value, limit))}"
        for value, names in difference.groups
    )
    line = f"**{difference.topic}** — {groups}"
    return f"{line}\n*{difference.note}*" if difference.note else line


# ---------------------------------------------------------------- /compare


def comparison_embeds(
    comparison: Comparison, *, guild: bool, chart: bool = False, advice: str | None = None
) -> list[discord.Embed]:
    """The /compare answer, about a screen: what each tool is and its figures, where they
    differ, and each tool's top pros and cons; the rest is behind the buttons. `chart` adds
    the chart's embed (its picture attached as CHART_FILENAME). `advice` is the server's
    advice posts on these tools, in a line."""
    return fit(
        lambda detail: _comparison_embeds(
            comparison, detail, guild=guild, chart=chart, advice=advice
        )
    )


def _comparison_embeds(
    comparison: Comparison, detail: Detail, *, guild: bool, chart: bool, advice: str | None
) -> list[discord.Embed]:
    tools = comparison.tools
    embeds = [_overview_embed(comparison, detail, guild=guild, advice=advice)]
    if len(tools) > 1:
        embeds.append(_differences_embed(comparison, detail))
    embeds.append(_top_reasons_embed(tools, detail))
    if chart:
        embeds.append(chart_embed(tools))
    return embeds


def _overview_embed(
    comparison: Comparison, detail: Detail, *, guild: bool, advice: str | None
) -> discord.Embed:
    """The category, each tool in a sentence, the figures as a table, members' activity, related
    comparisons and advice."""
    tools = comparison.tools
    overview = discord.Embed(title=title_for(tools), colour=BRAND_COLOUR)
    paths = list(dict.fromkeys(tool.category_path for tool in tools))
    lines = [f"📂 {clip(path, detail.line * 2)}" for path in paths]
    if detail.description:
        limit = min(detail.description, SUMMARY_LIMIT)
        lines += [
            f"**{clip(tool.name, 80)}**: {clip_words(first_sentence(tool.description), limit)}"
            for tool in tools
        ]
    overview.description = clip("\n".join(lines), DESCRIPTION)
    for name, value in figure_fields(tools)[: detail.sources]:
        _field(overview, name, value)
    _field(overview, "Members", "\n".join(member_lines(tools, guild=guild)))
    if comparison.related:
        _field(
            overview,
            "Related comparisons",
            "\n".join(
                f"{' vs '.join(ref.name for ref in related.tools)} ({related.runs + related.asks}×)"
                for related in comparison.related
            ),
        )
    if advice:
        _field(overview, "Advice here", clip(advice, FIELD_VALUE))
    return overview


def _differences_embed(comparison: Comparison, detail: Detail) -> discord.Embed:
    """One line per topic where the tools differ; what they share in one line after. A shared
    category is left out: the overview shows it."""
    found = differences(comparison.tools, today=comparison.today)
    lines = [_difference_line(d, detail.line) for d in found if not d.same]
    same = [
        f"{d.topic.lower()} {clip(d.groups[0][0], detail.line)}"
        for d in found
        if d.same and d.topic != "Category"
    ]
    common = shared_integrations(comparison.tools)
    if common:
        same.append(f"integrations {', '.join(common)}")
    if same:
        lines.append(f"**Alike** — {clip(joined(same), FIELD_VALUE)}")
    embed = discord.Embed(title="Differences", colour=BRAND_COLOUR)
    embed.description = clip("\n".join(lines), DESCRIPTION) or "None in the catalog's facts."
    return embed


def _top_reasons_embed(tools: Sequence[ToolCard], detail: Detail) -> discord.Embed:
    """Each tool's top pros and cons, a line each; the counts' source said once below."""
    count = min(TOP_REASONS, detail.reasons)
    embed = discord.Embed(title="Top pros and cons", colour=BRAND_COLOUR)
    for tool in tools:
        value = "\n".join(
            _top_line(emoji, reasons, count, detail.reason_text)
            for emoji, reasons in (("👍", tool.pros), ("👎", tool.cons))
        )
        _field(embed, tool.name, value if tool.pros or tool.cons else "No pros or cons yet.")
    notes = []
    if any(len(tool.pros) > count or len(tool.cons) > count for tool in tools):
        notes.append("More under ⚖️ Pros & cons.")
    note = counts_note(reason for tool in tools for reason in (*tool.pros, *tool.cons))
    if note:
        notes.append(note)
    if notes:
        embed.set_footer(text=clip(" ".join(notes), FOOTER))
    return embed


# ---------------------------------------------------------------- the chart


def chart_spec(tools: Sequence[ToolCard] | Sequence[ToolReasons]) -> ComparisonChartSpec:
    """Each tool's top pros and cons on one scale, the longest bar of them all. Fewer bars the
    more tools, so that the picture stays wide enough to read where Discord shows it (about
    400 x 300 pixels)."""
    per_side = max(1, min(MAX_CHART_ROWS, CHART_ROWS // max(len(tools), 1)))
    charted = tuple(
        ToolChart(
            name=tool.name,
            pros=tuple(ChartBar(r.text, max(r.total, 0)) for r in tool.pros[:per_side]),
            cons=tuple(ChartBar(r.text, max(r.total, 0)) for r in tool.cons[:per_side]),
        )
        for tool in tools
    )
    longest = max((bar.value for t in charted for bar in (*t.pros, *t.cons)), default=0)
    reasons = [reason for tool in tools for reason in (*tool.pros, *tool.cons)]
    return ComparisonChartSpec(title=_chart_title(reasons), tools=charted, scale=max(longest, 1))


def _chart_title(reasons: Sequence[Reason]) -> str:
    """Whose votes the bars count: "StackShare votes on top pros and cons"."""
    sources = dict.fromkeys(r.imported_source or "Imported" for r in reasons if r.imported)
    whose = [clip(source, 40) for source in list(sources)[:2]]
    if any(reason.members for reason in reasons) or not whose:
        whose.append("members'")
    title = f"{' and '.join(whose)} votes on top pros and cons"
    return clip(title[0].upper() + title[1:], TITLE)


def chart_embed(tools: Sequence[ToolCard] | Sequence[ToolReasons]) -> discord.Embed:
    """The chart, in an embed of its own titled for what it shows; the picture is attached
    as CHART_FILENAME."""
    spec = chart_spec(tools)
    per_side = max((max(len(t.pros), len(t.cons)) for t in spec.tools), default=0)
    scale = f"a full bar is {counted(spec.scale, 'vote')}."
    embed = discord.Embed(
        title=spec.title,
        description=(
            f"Top {per_side} pros and cons of each tool, all on one scale: {scale}"
            if len(spec.tools) > 1
            else f"Top {per_side} pros and cons: {scale}"
        ),
        colour=BRAND_COLOUR,
    )
    note = counts_note(reason for tool in tools for reason in (*tool.pros, *tool.cons))
    if note:
        embed.set_footer(text=note)
    embed.set_image(url=f"attachment://{CHART_FILENAME}")
    return embed


# ---------------------------------------------------------------- the Details button


def details_embeds(comparison: Comparison, *, guild: bool) -> list[discord.Embed]:
    """Each tool's card but its pros and cons (behind their own button): the whole
    description, facts, links, figures, every feature and integration."""
    return fit(
        lambda detail: [
            _card_embed(tool, detail, guild=guild, advice=None, quiet=True)
            for tool in comparison.tools
        ]
    )


# ---------------------------------------------------------------- /tool


def tool_embeds(
    card: ToolCard, *, guild: bool, chart: bool = False, advice: str | None = None
) -> list[discord.Embed]:
    """The tool's card, then its top pros and cons; `chart` adds the chart's embed."""
    return fit(lambda detail: _tool_embeds(card, detail, guild=guild, chart=chart, advice=advice))


def _tool_embeds(
    card: ToolCard, detail: Detail, *, guild: bool, chart: bool, advice: str | None
) -> list[discord.Embed]:
    main = _card_embed(card, detail, guild=guild, advice=advice)
    votes = discord.Embed(title=f"{clip(card.name, 200)}: top pros and cons", colour=BRAND_COLOUR)
    count = detail.reasons * 2
    _field(votes, "Pros", reason_lines(card.pros, count, detail.reason_text), inline=True)
    _field(votes, "Cons", reason_lines(card.cons, count, detail.reason_text), inline=True)
    note = counts_note((*card.pros, *card.cons))
    if note:
        votes.set_footer(text=note)
    return [main, votes, chart_embed([card])] if chart else [main, votes]


def _card_embed(
    card: ToolCard, detail: Detail, *, guild: bool, advice: str | None, quiet: bool = False
) -> discord.Embed:
    """Everything about the tool but its pros and cons. `quiet`: members' figures only where
    there are some (beside a comparison, which says once that there are none)."""
    # The card has room for more than a comparison column: scale the detail up.
    description_limit = min(DESCRIPTION, detail.description * 4)
    main = discord.Embed(
        title=clip(card.name, TITLE),
        url=card.website or None,
        description=clip(one_line(card.description), description_limit)
        if description_limit
        else None,
        colour=BRAND_COLOUR,
    )
    _field(main, "Category", card.category_path)
    facts = _card_facts(card)
    if facts:
        _field(main, "Facts", "\n".join(facts), inline=True)
    links = _card_links(card)
    if links:
        _field(main, "Links", "\n".join(links), inline=True)
    figures = [clip(line, detail.line * 2) for line in external_figures(card.external)]
    members = member_lines([card], guild=guild)
    if quiet:
        members = [line for line in members if line not in (NOTHING_HERE, NOTHING_ANYWHERE)]
    figures = [*figures[: detail.sources], *members]
    if figures:
        _field(main, "Figures", "\n".join(figures))
    if advice:
        _field(main, "Advice here", clip(advice, FIELD_VALUE))
    _card_lists(main, card, detail)
    return main


def _card_facts(card: ToolCard) -> list[str]:
    facts = []
    if card.language:
        facts.append(
            f"Language: {card.language}" + (f" ({card.ecosystem})" if card.ecosystem else "")
        )
    if card.license:
        facts.append(f"License: {card.license}")
    if card.first_release:
        facts.append(f"First release: {card.first_release}")
    return facts


def _card_links(card: ToolCard) -> list[str]:
    links = []
    if card.website:
        links.append(f"[Website]({card.website})")
    if card.repository:
        links.append(f"[Repository]({card.repository})")
    return links


def _card_lists(main: discord.Embed, card: ToolCard, detail: Detail) -> None:
    """Other names, features, integrations and alternatives, each a field when there are any
    (integrations say so when there are none, as StackShare does)."""
    aliases = distinct_aliases(card.name, card.aliases)
    if aliases:
        _field(main, "Also known as", clip(", ".join(aliases), detail.line * 2))
    if card.features:
        shown = card.features[: max(detail.features, 1) * 2]
        text = "\n".join(f"• {clip(feature, detail.line)}" for feature in shown)
        if len(card.features) > len(shown):
            text += f"\n+{len(card.features) - len(shown)} more"
        _field(main, "Features", text)
    integrations = ", ".join(card.integrations) or "None listed."
    _field(main, "Integrations", clip(integrations, detail.line * 3))
    if card.alternatives:
        _field(
            main,
            "Alternatives",
            clip(", ".join(alt.name for alt in card.alternatives), detail.line * 3),
        )


# ---------------------------------------------------------------- alternatives


def alternatives_embeds(found: Sequence[ToolAlternatives]) -> list[discord.Embed]:
    return fit(lambda detail: _alternatives_embeds(found, detail))


def _alternatives_embeds(found: Sequence[ToolAlternatives], detail: Detail) -> list[discord.Embed]:
    embeds = []
    for entry in found:
        embed = discord.Embed(
            title=clip(f"Alternatives to {entry.tool.name}", TITLE), colour=BRAND_COLOUR
        )
        if not entry.alternatives:
            embed.description = "The catalog lists no alternatives yet."
        else:
            limit = detail.line * 2  # a whole first sentence where there is room
            lines = [
                f"**{alt.tool.name}**"
                + (f": {clip(first_sentence(alt.description), limit)}" if limit >= 30 else "")
                for alt in entry.alternatives
            ]
            embed.description = clip("\n".join(lines), DESCRIPTION)
        embeds.append(embed)
    return embeds


# ---------------------------------------------------------------- pros & cons lists


def reasons_pages(found: Sequence[ToolReasons]) -> list[list[discord.Embed]]:
    """Every pro and con of each tool, nothing cut: a tool whose lists outgrow one embed
    continues in the next, and embeds are packed into as few messages as fit. Where the
    counts come from is said once a page, under its last embed."""
    note = counts_note(reason for entry in found for reason in (*entry.pros, *entry.cons))
    note = clip(note, NOTE_LIMIT) if note else None
    budget = BUDGET - (len(note) if note else 0)
    pages: list[list[discord.Embed]] = [[]]
    for entry in found:
        for embed in _reasons_embeds(entry, budget):
            page = pages[-1]
            if page and (
                total_length(page) + len(embed) > budget or len(page) >= EMBEDS_PER_MESSAGE
            ):
                pages.append([])
            pages[-1].append(embed)
    if note:
        for page in pages:
            page[-1].set_footer(text=note)
    return pages


def _reasons_embeds(entry: ToolReasons, budget: int) -> list[discord.Embed]:
    title = clip(f"{entry.tool.name}: pros and cons", TITLE)
    fields: list[tuple[str, str]] = []
    for label, reasons in (("Pros", entry.pros), ("Cons", entry.cons)):
        lines = [reason_line(reason, 100) for reason in reasons] or ["None yet."]
        for number, chunk in enumerate(field_chunks(lines)):
            fields.append((label if number == 0 else f"{label} (continued)", chunk))
    embeds = [discord.Embed(title=title, colour=BRAND_COLOUR)]
    for name, value in fields:
        embed = embeds[-1]
        if embed.fields and (
            len(embed) + len(name) + len(value) > budget or len(embed.fields) >= EMBED_FIELDS
        ):
            embed = discord.Embed(title=clip(f"{title} (continued)", TITLE), colour=BRAND_COLOUR)
            embeds.append(embed)
        embed.add_field(name=name, value=value, inline=False)
    return embeds


def field_chunks(lines: Sequence[str]) -> list[str]:
    """Whole lines grouped into field values of at most 1024 characters."""
    chunks: list[list[str]] = [[]]
    used = 0
    for line in lines:
        if chunks[-1] and used + len(line) > FIELD_VALUE - 10:
            chunks.append([])
            used = 0
        chunks[-1].append(line)
        used += len(line) + 1
    return ["\n".join(chunk) for chunk in chunks]
