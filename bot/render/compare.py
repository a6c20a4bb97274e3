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

from bot.charts import ChartBar, ChartSpec, ToolChart
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


def reason_line(reason: Reason, text_limit: int, *, breakdown: bool = False) -> str:
    """`381` Simple: the total adds members' votes to the imported figure; where both are in
    it (or always, with `breakdown`), the parts are labelled."""
    line = f"`{format_count(reason.total)}` {clip(reason.text, text_limit)}"
    if reason.imported and (reason.members or breakdown):
        sign = "+" if reason.members >= 0 else "−"
        line += (
            f" ({format_count(reason.imported)} {reason.imported_source or 'imported'}"
            f" {sign} {abs(reason.members)} members)"
        )
    return line


def reason_lines(reasons: Sequence[Reason], count: int, text_limit: int) -> str:
    if not reasons:
        return "None yet."
    lines = [reason_line(reason, text_limit) for reason in reasons[:count]]
    if len(reasons) > count:
        lines.append(f"+{len(reasons) - count} more (Pros & cons)")
    return "\n".join(lines)


def member_figures(figures: MemberFigures, *, guild: bool) -> str:
    if not guild:
        return (
            f"Stacks {format_count(figures.stacks_everywhere)} · "
            f"Followers {format_count(figures.followers_everywhere)} · "
            f"Votes {format_count(figures.votes_everywhere)}"
        )
    return "\n".join(
        f"{label} **{format_count(here)}** here · {format_count(everywhere)} all"
        for label, here, everywhere in (
            ("Stacks", figures.stacks_here, figures.stacks_everywhere),
            ("Followers", figures.followers_here, figures.followers_everywhere),
            ("Votes", figures.votes_here, figures.votes_everywhere),
        )
    )


def external_figures(figures: Sequence[ExternalFigure]) -> list[str]:
    """One line per source and day, oldest first (the same order on every database):
    "StackShare (2025-01-01): Stacks 35.1K · Followers 24.0K", then GitHub's own fresher
    figures, "GitHub (2026-03-02): Stars 66.0K · Forks 16.5K"."""
    by_source: dict[tuple[date, str], list[ExternalFigure]] = {}
    for figure in figures:
        source = SOURCE_LABELS.get(figure.source, figure.source)
        by_source.setdefault((figure.as_of, source), []).append(figure)
    lines = []
    for as_of, source in sorted(by_source, key=lambda key: (key[0], key[1].casefold())):
        group = sorted(by_source[as_of, source], key=lambda f: _METRIC_ORDER.get(f.metric, 99))
        values = " · ".join(
            f"{_metric_label(f.metric, source)} {format_count(f.value)}" for f in group
        )
        lines.append(f"{source} ({as_of.isoformat()}): {values}")
    return lines


def _metric_label(metric: str, source: str) -> str:
    """ "GitHub Stars", or "Stars" on GitHub's own line."""
    label = METRIC_LABELS.get(metric, metric.replace("_", " ").title())
    return label.removeprefix(f"{source} ") or label


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


def _counts_footer(tools: Sequence[ToolCard], *, guild: bool) -> str:
    parts = []
    sources = imported_sources(reason for tool in tools for reason in (*tool.pros, *tool.cons))
    if sources:
        parts.append("Pro/con counts: members' votes + " + sources)
    if guild:
        parts.append("here = this server, all = every server")
    return clip(" · ".join(parts), FOOTER)


def title_for(tools: Sequence[ToolCard]) -> str:
    return clip(" vs ".join(tool.name for tool in tools), TITLE)


def _facts_line(tool: ToolCard) -> str:
    facts = [tool.category]
    if tool.language:
        facts.append(tool.language)
    if tool.license:
        facts.append(tool.license)
    if tool.first_release:
        facts.append(f"since {tool.first_release}")
    return " · ".join(facts)


def _difference_value(difference: Difference, limit: int) -> str:
    if difference.same:
        value, _names = difference.groups[0]
        text = f"All: {clip(value, limit)}"
    else:
        name_limit = max(limit // 2, 16)
        text = "\n".join(
            f"**{', '.join(clip(name, name_limit) for name in names)}**: {clip(value, limit)}"
            for value, names in difference.groups
        )
    if difference.note:
        text += f"\n{difference.note}"
    return text


# ---------------------------------------------------------------- /compare


def comparison_embeds(
    comparison: Comparison, *, guild: bool, chart: bool = False, advice: str | None = None
) -> list[discord.Embed]:
    """The /compare answer: overview, differences, one embed per tool, within one message.
    `advice` is the server's advice posts on these tools, in a line."""
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
    embeds.extend(_column_embed(tool, detail) for tool in tools)
    if chart:
        embeds[-1].set_image(url=f"attachment://{CHART_FILENAME}")
    return embeds


def _overview_embed(
    comparison: Comparison, detail: Detail, *, guild: bool, advice: str | None
) -> discord.Embed:
    """Categories, then each tool's summary side by side, related comparisons, advice."""
    tools = comparison.tools
    overview = discord.Embed(title=title_for(tools), colour=BRAND_COLOUR)
    paths = list(dict.fromkeys(tool.category_path for tool in tools))
    overview.description = "\n".join(f"📂 {clip(path, detail.line * 2)}" for path in paths)
    for tool in tools:
        _field(overview, tool.name, _summary(tool, detail, guild=guild), inline=True)
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
    footer = _counts_footer(tools, guild=guild)
    if footer:
        overview.set_footer(text=footer)
    return overview


def _summary(tool: ToolCard, detail: Detail, *, guild: bool) -> str:
    lines = []
    if detail.description:
        lines.append(clip(one_line(tool.description), detail.description))
    lines.append(f"*{clip(_facts_line(tool), detail.line)}*")
    lines.append(member_figures(tool.figures, guild=guild))
    sources = external_figures(tool.external)
    lines.extend(clip(line, detail.line * 2) for line in sources[: detail.sources])
    return "\n".join(lines)


def _differences_embed(comparison: Comparison, detail: Detail) -> discord.Embed:
    found = discord.Embed(title="Differences", colour=BRAND_COLOUR)
    for difference in differences(comparison.tools, today=comparison.today):
        _field(found, difference.topic, _difference_value(difference, detail.line))
    common = shared_integrations(comparison.tools)
    if common:
        _field(found, "Integrations in common", ", ".join(common))
    return found


def _column_embed(tool: ToolCard, detail: Detail) -> discord.Embed:
    """One tool's column: features, pros and cons, integrations."""
    embed = discord.Embed(title=clip(tool.name, TITLE), colour=BRAND_COLOUR)
    if detail.features and tool.features:
        shown = tool.features[: detail.features]
        text = "\n".join(f"• {clip(feature, detail.line)}" for feature in shown)
        if len(tool.features) > len(shown):
            text += f"\n+{len(tool.features) - len(shown)} more (/tool {tool.slug})"
        _field(embed, "Features", text)
    _field(embed, "Pros", reason_lines(tool.pros, detail.reasons, detail.reason_text), inline=True)
    _field(embed, "Cons", reason_lines(tool.cons, detail.reasons, detail.reason_text), inline=True)
    if tool.integrations and detail.features:
        _field(embed, "Integrations", clip(", ".join(tool.integrations), detail.line * 2))
    return embed


def chart_spec(tools: Sequence[ToolCard]) -> ChartSpec:
    """Each tool's top pros and cons: five of each for up to three tools, three for more,
    which keeps the picture readable and its drawing (text is most of it) near 100 ms."""
    per_side = 5 if len(tools) <= 3 else 3
    return ChartSpec(
        title=clip(f"{' vs '.join(tool.name for tool in tools)}: pros and cons votes", 120),
        tools=tuple(
            ToolChart(
                name=tool.name,
                pros=tuple(ChartBar(r.text, max(r.total, 0)) for r in tool.pros[:per_side]),
                cons=tuple(ChartBar(r.text, max(r.total, 0)) for r in tool.cons[:per_side]),
            )
            for tool in tools
        ),
    )


# ---------------------------------------------------------------- /tool


def tool_embeds(
    card: ToolCard, *, guild: bool, chart: bool = False, advice: str | None = None
) -> list[discord.Embed]:
    return fit(lambda detail: _tool_embeds(card, detail, guild=guild, chart=chart, advice=advice))


def _tool_embeds(
    card: ToolCard, detail: Detail, *, guild: bool, chart: bool, advice: str | None
) -> list[discord.Embed]:
    main = _card_embed(card, detail, guild=guild, advice=advice)
    votes = discord.Embed(title=f"{clip(card.name, 200)}: pros and cons", colour=BRAND_COLOUR)
    count = detail.reasons * 2
    _field(votes, "Pros", reason_lines(card.pros, count, detail.reason_text), inline=True)
    _field(votes, "Cons", reason_lines(card.cons, count, detail.reason_text), inline=True)
    if chart:
        votes.set_image(url=f"attachment://{CHART_FILENAME}")
    return [main, votes]


def _card_embed(
    card: ToolCard, detail: Detail, *, guild: bool, advice: str | None
) -> discord.Embed:
    """Everything about the tool but its pros and cons."""
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
    _field(main, "Members", member_figures(card.figures, guild=guild), inline=True)
    if advice:
        _field(main, "Advice here", clip(advice, FIELD_VALUE))
    external = external_figures(card.external)
    if external:
        _field(main, "Figures from elsewhere", "\n".join(external))
    _card_lists(main, card, detail)
    footer = _counts_footer([card], guild=guild)
    if footer:
        main.set_footer(text=footer)
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
    """Aliases, features, integrations and alternatives, each a field when there are any."""
    if card.aliases:
        _field(main, "Also known as", clip(", ".join(card.aliases), detail.line * 2))
    if card.features:
        shown = card.features[: max(detail.features, 1) * 2]
        text = "\n".join(f"• {clip(feature, detail.line)}" for feature in shown)
        if len(card.features) > len(shown):
            text += f"\n+{len(card.features) - len(shown)} more"
        _field(main, "Features", text)
    if card.integrations:
        _field(main, "Integrations", clip(", ".join(card.integrations), detail.line * 3))
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
    continues in the next, and embeds are packed into as few messages as fit."""
    pages: list[list[discord.Embed]] = [[]]
    for entry in found:
        for embed in _reasons_embeds(entry):
            page = pages[-1]
            if page and (
                total_length(page) + len(embed) > BUDGET or len(page) >= EMBEDS_PER_MESSAGE
            ):
                pages.append([])
            pages[-1].append(embed)
    return pages


def _reasons_embeds(entry: ToolReasons) -> list[discord.Embed]:
    title = clip(f"{entry.tool.name}: pros and cons", TITLE)
    sources = imported_sources((*entry.pros, *entry.cons))
    footer = clip(f"Counts: members' votes + {sources}", 200) if sources else None
    fields: list[tuple[str, str]] = []
    for label, reasons in (("Pros", entry.pros), ("Cons", entry.cons)):
        lines = [reason_line(reason, 100, breakdown=True) for reason in reasons] or ["None yet."]
        for number, chunk in enumerate(field_chunks(lines)):
            fields.append((label if number == 0 else f"{label} (continued)", chunk))

    def fresh(continued: bool) -> discord.Embed:
        embed = discord.Embed(
            title=clip(f"{title} (continued)", TITLE) if continued else title,
            colour=BRAND_COLOUR,
        )
        if footer:
            embed.set_footer(text=footer)
        return embed

    embeds = [fresh(continued=False)]
    for name, value in fields:
        embed = embeds[-1]
        if embed.fields and (
            len(embed) + len(name) + len(value) > BUDGET or len(embed.fields) >= EMBED_FIELDS
        ):
            embed = fresh(continued=True)
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
