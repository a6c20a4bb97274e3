"""Pure parts of comparisons: the differences computed from data, counts, and the renderers
keeping every message within Discord's limits whatever the catalog holds."""

from __future__ import annotations

import re
from datetime import date

import pytest

from bot.core.comparison import (
    Alternative,
    Comparison,
    ExternalFigure,
    MemberFigures,
    Reason,
    RelatedComparison,
    ToolAlternatives,
    ToolCard,
    ToolReasons,
    ToolRef,
    differences,
    distinct_aliases,
    format_count,
    ranked,
    shared_integrations,
)
from bot.render.compare import (
    NBSP,
    NOTHING_ANYWHERE,
    NOTHING_HERE,
    alternatives_embeds,
    chart_embed,
    chart_spec,
    clip,
    clip_words,
    comparison_embeds,
    details_embeds,
    external_figures,
    figure_fields,
    first_sentence,
    member_lines,
    reason_line,
    reasons_pages,
    tool_embeds,
    total_length,
)
from tests.discord_contract import limit_problems

TODAY = date(2026, 11, 24)


def card(name: str, **values: object) -> ToolCard:
    defaults: dict[str, object] = {
        "id": abs(hash(name)) % 10_000,
        "slug": name.lower(),
        "name": name,
        "description": f"{name} is a tool.",
        "category": "Microframeworks",
        "category_path": "Application & Data > Microframeworks",
    }
    defaults.update(values)
    return ToolCard(**defaults)  # type: ignore[arg-type]


def reasons(prefix: str, *counts: int) -> tuple[Reason, ...]:
    return tuple(
        Reason(id=n, text=f"{prefix} {n}", imported=count) for n, count in enumerate(counts)
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0, "0"),
        (812, "812"),
        (1600, "1.6K"),
        (35_100, "35.1K"),
        (999_949, "999.9K"),
        (999_950, "1.0M"),
        (2_345_678, "2.3M"),
        (-1500, "-1.5K"),
    ],
)
def test_counts_read_like_stackshares(value, shown):
    assert format_count(value) == shown


def test_reasons_rank_by_members_votes_plus_the_imported_count():
    older = Reason(id=1, text="Simple", imported=10)
    voted = Reason(id=2, text="Fast", imported=8, up=4, down=1)
    tie = Reason(id=3, text="Small", imported=10)
    assert [r.text for r in ranked([tie, voted, older])] == ["Fast", "Simple", "Small"]
    assert voted.total == 11 and voted.members == 3


def test_a_reason_line_labels_where_its_count_comes_from():
    imported = Reason(id=1, text="Simple", imported=381, imported_source="StackShare")
    mixed = Reason(id=2, text="Simple", imported=381, up=3, imported_source="StackShare")
    members = Reason(id=3, text="Typed", up=2)
    assert reason_line(imported, 100) == "`381` Simple"
    # The voting message asks for the parts, so members see where their votes go.
    assert reason_line(imported, 100) == "`381` Simple"
    assert reason_line(mixed, 100) == "`384` Simple (381 StackShare + 3 members)"
    assert reason_line(members, 100) == "`2` Typed"


def test_differences_group_tools_by_what_they_have():
    express = card(
        "ExpressJS",
        language="JavaScript",
        license="MIT",
        first_release=2010,
        pros=reasons("p", 381),
        cons=reasons("c", 27),
    )
    flask = card("Flask", language="Python", license="BSD-3-Clause", first_release=2010)
    koa = card("Koa", language="JavaScript", license="MIT", first_release=2013)
    found = {d.topic: d for d in differences([express, flask, koa], today=TODAY)}

    # What each is praised for is its top pros, shown beside the differences, not among them.
    assert list(found) == ["Language & ecosystem", "Category", "License", "Age"]
    assert found["Language & ecosystem"].groups == (
        ("JavaScript (npm)", ("ExpressJS", "Koa")),
        ("Python (PyPI)", ("Flask",)),
    )
    assert found["Category"].groups == (("Microframeworks", ("ExpressJS", "Flask", "Koa")),)
    assert found["License"].groups[1] == ("BSD-3-Clause", ("Flask",))
    assert found["Age"].note == "ExpressJS is the oldest (16 years); Koa came 3 years later."


def test_unknown_facts_are_said_to_be_unknown_not_dropped():
    found = {d.topic: d for d in differences([card("A"), card("B", license="MIT")], today=TODAY)}
    assert found["License"].groups == (("unknown", ("A",)), ("MIT", ("B",)))
    assert found["Age"].note == ""


def test_integrations_in_common_are_those_every_tool_has():
    tools = [
        card("A", integrations=("Node.js", "Docker")),
        card("B", integrations=("Docker", "Node.js")),
        card("C", integrations=("Docker",)),
    ]
    assert shared_integrations(tools) == ("Docker",)
    assert shared_integrations(tools[:2]) == ("Node.js", "Docker")


def test_text_helpers():
    assert clip("abcdef", 4) == "abc…" and clip("abc", 4) == "abc"
    assert first_sentence("Fast. Really fast.") == "Fast."
    assert first_sentence("Is it? Yes. No") == "Is it?"
    assert first_sentence("No full stop") == "No full stop"
    assert (
        clip_words("Express is a minimal and flexible framework", 30) == "Express is a minimal and…"
    )
    assert clip_words("Supercalifragilistic", 10) == "Supercali…"


def test_aliases_that_only_spell_the_name_are_not_shown():
    assert distinct_aliases("Flask", ["flask python", "python flask", "pallets flask"]) == ()
    assert distinct_aliases("Koa", ["koa.js", "koajs", "koa js"]) == ()
    assert distinct_aliases(
        "Django REST framework", ["drf", "django rest", "djangorestframework"]
    ) == ("DRF",)
    assert distinct_aliases("Ruby", ["ruby lang", "cruby", "mri", "MRI"]) == ("MRI",)


def test_githubs_fresh_figures_are_a_line_of_their_own_after_the_pages():
    page = date(2025, 1, 1)
    fetched = date(2026, 3, 2)
    koa = [
        ExternalFigure("github", "github_forks", 3_234, fetched),
        ExternalFigure("StackShare", "stacks", 812, page),
        ExternalFigure("github", "github_stars", 35_456, fetched),
        ExternalFigure("StackShare", "github_stars", 35_700, page),
        ExternalFigure("StackShare", "github_forks", 3_200, page),
    ]
    expected = [
        "StackShare (2025-01-01): Stacks 812 · GitHub Stars 35.7K · GitHub Forks 3.2K",
        "GitHub (2026-03-02): Stars 35.5K · Forks 3.2K",
    ]
    # Whatever order the database returned them in (PostgreSQL and SQLite sort case apart).
    assert [_spaced(line) for line in external_figures(koa)] == expected
    assert [_spaced(line) for line in external_figures(list(reversed(koa)))] == expected

    # Beside other tools: stacks, followers and votes a table per source, the rest a line.
    # Beside other tools: a source's first three metrics a table, the rest a line per tool;
    # a source only one tool has, lines.
    express = card(
        "ExpressJS",
        external=tuple(
            ExternalFigure("StackShare", metric, value, page)
            for metric, value in (("stacks", 35_100), ("followers", 24_000), ("votes", 1_600))
        ),
    )
    fields = figure_fields([express, card("Koa", external=tuple(koa))])
    assert [name for name, _ in fields] == [
        "StackShare, as of 2025-01-01",
        "GitHub, as of 2026-03-02",
    ]
    stackshare, github = (_spaced(value) for _, value in fields)
    assert stackshare == (
        "```\n"
        "           Stacks  Followers  Votes\n"
        "ExpressJS   35.1K      24.0K   1.6K\n"
        "Koa           812          -      -\n"
        "```\n"
        "**Koa**: GitHub Stars 35.7K · GitHub Forks 3.2K"
    )
    assert github == "**Koa**: Stars 35.5K · Forks 3.2K"
    fresh = figure_fields(
        [card("Flask", external=tuple(koa[::2])), card("Koa", external=tuple(koa))]
    )
    assert _spaced(fresh[1][1]) == (
        "```\n       Stars  Forks\nFlask  35.5K   3.2K\nKoa    35.5K   3.2K\n```"
    )


def _spaced(text: str) -> str:
    return text.replace(NBSP, " ")


def _lines(embeds) -> list[str]:
    texts = []
    for embed in embeds:
        texts += [embed.title or "", embed.description or "", embed.footer.text or ""]
        texts += [text for field in embed.fields for text in (field.name, field.value)]
    return [line for text in texts for line in text.splitlines()]


def _zero_only(line: str) -> bool:
    """A line of figures that are all 0 ("Stacks **0** here · 0 all"); dates are not figures."""
    numbers = re.findall(r"(?<![\d-])\d+(?:\.\d+)?[KM]?(?![\d-])", line)
    return bool(numbers) and all(float(number.rstrip("KM")) == 0 for number in numbers)


def test_zero_figures_are_left_out_and_no_activity_is_said_once():
    quiet = [card(name) for name in ("ExpressJS", "Flask", "Koa")]
    embeds = comparison_embeds(Comparison(tools=tuple(quiet), today=TODAY), guild=True)
    lines = _lines(embeds)
    assert not [line for line in lines if _zero_only(line)]
    assert lines.count(NOTHING_HERE) == 1
    assert [f.value for f in embeds[-1].fields] == ["No pros or cons yet."] * 3
    assert not any("here ·" in line or " all" in line for line in lines)
    assert member_lines(quiet, guild=False) == [NOTHING_ANYWHERE]

    busy = card(
        "Flask", figures=MemberFigures(stacks_here=1, stacks_everywhere=3, votes_everywhere=2)
    )
    shown = [_spaced(line) for line in member_lines([busy, card("Koa")], guild=True)]
    assert shown == [
        "In this server: **Flask** 1 stack",
        "In all servers: **Flask** 3 stacks · 2 votes",
    ]
    # Where this server is all there is, one line says it; a lone tool (a card) is not named.
    alone = card("Flask", figures=MemberFigures(followers_here=1, followers_everywhere=1))
    assert [_spaced(line) for line in member_lines([alone], guild=True)] == [
        "In this server: 1 follower"
    ]


def _monster(n: int) -> ToolCard:
    """As long as the catalog format allows, and then some."""
    return card(
        f"{'Tool' * 25}"[:99] + str(n),  # names are up to 100 characters
        description="word " * 2000,
        category_path=" > ".join(["Category with a long name"] * 7),
        language="JavaScript",
        license="Some-Very-Long-License-Identifier-1.0-or-later",
        first_release=1990 + n,
        features=tuple("feature " * 12 + str(i) for i in range(60)),
        aliases=tuple(f"alias {i}" * 5 for i in range(30)),
        integrations=tuple(f"Integration {i}" for i in range(80)),
        alternatives=tuple(ToolRef(i, f"alt-{i}", f"Alternative {i}") for i in range(40)),
        external=tuple(
            ExternalFigure(f"Source {s}", f"metric_{m}", 10**m, TODAY)
            for s in range(4)
            for m in range(6)
        ),
        pros=tuple(
            Reason(
                id=i,
                text="p" * 100,
                imported=1000 - i,
                imported_source=f"Source number {i % 30} with a long name",
                imported_as_of=TODAY,
            )
            for i in range(200)
        ),
        cons=tuple(Reason(id=i, text="c" * 100, imported=500 - i) for i in range(200)),
    )


def _message(embeds) -> dict:
    return {"embeds": [e.to_dict() for e in embeds], "allowed_mentions": {"parse": []}}


def test_five_monstrous_tools_still_fit_one_message():
    tools = tuple(_monster(n) for n in range(5))
    related = tuple(
        RelatedComparison(tuple(t.ref for t in tools[:3]), runs=5, asks=1) for _ in range(5)
    )
    comparison = Comparison(tools=tools, related=related, today=TODAY)
    embeds = comparison_embeds(comparison, guild=True, chart=True)
    assert total_length(embeds) <= 6000 and len(embeds) <= 10
    assert limit_problems("POST", "/webhooks/1/token", _message(embeds)) == []
    # Terse, not empty: every tool is still named in the overview, with its top pro and con.
    overview, found, top, chart = embeds
    assert all(f"**{tool.name[:60]}" in overview.description for tool in tools)
    assert found.title == "Differences"
    assert [f.name for f in top.fields] == [t.name for t in tools]
    assert all(f.value.startswith("👍 `") and "\n👎 `" in f.value for f in top.fields)
    assert "27 more sources" in top.footer.text
    assert chart.image.url == "attachment://stackup-chart.png"

    details = details_embeds(comparison, guild=True)
    assert [e.title for e in details] == [t.name for t in tools]
    assert limit_problems("POST", "/webhooks/1/token", _message(details)) == []


def test_a_monstrous_tool_card_and_its_alternatives_fit():
    monster = _monster(1)
    embeds = tool_embeds(monster, guild=False, chart=True)
    assert total_length(embeds) <= 6000
    assert limit_problems("POST", "/webhooks/1/token", _message(embeds)) == []

    alternatives = [
        ToolAlternatives(
            ToolRef(n, f"t{n}", f"Tool {n}"),
            tuple(Alternative(ToolRef(i, f"a{i}", "A" * 100), "x" * 3000) for i in range(25)),
        )
        for n in range(5)
    ]
    embeds = alternatives_embeds(alternatives)
    assert total_length(embeds) <= 6000
    assert limit_problems("POST", "/webhooks/1/token", _message(embeds)) == []


def test_long_pros_and_cons_lists_are_paged_not_cut():
    long_pros = tuple(
        Reason(id=i, text=f"{i:03d} " + "x" * 96, imported=i, imported_source="StackShare")
        for i in range(200)
    )
    found = [
        ToolReasons(ToolRef(n, f"t{n}", "T" * 100), pros=long_pros, cons=reasons("con", 3))
        for n in range(5)
    ]
    pages = reasons_pages(found)
    assert len(pages) > 1
    for page in pages:
        assert limit_problems("POST", "/webhooks/1/token", _message(page)) == []
    listed = [
        line
        for page in pages
        for embed in page
        for field in embed.fields
        for line in field.value.split("\n")
        if line.startswith("`")
    ]
    assert len(listed) == 5 * (200 + 1)  # every pro and con of every tool, on some page
    # Only imported counts: no line names its source; the footer says it once a page.
    assert not any("StackShare" in line for line in listed)
    for page in pages:
        assert [bool(embed.footer.text) for embed in page] == [False] * (len(page) - 1) + [True]
        assert page[-1].footer.text == "Counts: votes on StackShare as of ?."


def test_a_count_names_its_sources_only_where_members_voted_too():
    mixed = Reason(id=1, text="Simple", imported=381, up=3, imported_source="StackShare")
    plain = Reason(id=2, text="Fast", imported=10, imported_source="StackShare")
    mine = Reason(id=3, text="Typed", up=2)
    (page,) = reasons_pages(
        [
            ToolReasons(ToolRef(1, "a", "A"), pros=(mixed, plain), cons=()),
            ToolReasons(ToolRef(2, "b", "B"), pros=(mine,), cons=()),
        ]
    )
    assert page[0].fields[0].value == "`384` Simple (381 StackShare + 3 members)\n`10` Fast"
    assert page[1].fields[0].value == "`2` Typed"
    assert page[0].footer.text is None
    assert page[1].footer.text == "Counts: votes on StackShare as of ?, plus members' votes."


def _sourced(prefix: str, *counts: int) -> tuple[Reason, ...]:
    return tuple(
        Reason(id=n, text=f"{prefix} {n}", imported=count, imported_source="StackShare")
        for n, count in enumerate(counts)
    )


def test_the_chart_puts_every_tool_on_one_scale():
    express = card("ExpressJS", pros=_sourced("p", 381, 336, 244, 193), cons=_sourced("c", 27))
    flask = card("Flask", pros=_sourced("p", 10, 9, 7, 6), cons=_sourced("c", 10, 7, 5))
    koa = card("Koa", pros=_sourced("p", 6, 5, 1))
    spec = chart_spec([express, flask, koa])

    # One x-axis maximum for all: ExpressJS's 381 fills a column, Flask's 10 is 10/381 of it.
    assert spec.scale == 381
    assert all(bar.value <= spec.scale for t in spec.tools for bar in (*t.pros, *t.cons))
    assert spec.title == "StackShare votes on top pros and cons"
    # Three a side for three tools, so the picture stays wide enough to read.
    assert [[bar.value for bar in t.pros] for t in spec.tools] == [
        [381, 336, 244],
        [10, 9, 7],
        [6, 5, 1],
    ]
    assert spec.tools[2].cons == ()

    # More tools, fewer bars each; a lone tool (its card) gets five.
    assert [len(chart_spec([express] * n).tools[0].pros) for n in (1, 2, 3, 4, 5)] == [
        4,
        4,
        3,
        2,
        1,
    ]
    assert len(chart_spec([card("X", pros=_sourced("p", *range(9, 0, -1)))]).tools[0].pros) == 5
    assert chart_spec([card("Quiet")]).scale == 1

    embed = chart_embed([express, flask, koa])
    assert embed.title == "StackShare votes on top pros and cons"
    assert "one scale" in embed.description and "381 votes" in embed.description
    assert embed.image.url == "attachment://stackup-chart.png"
    members = card(
        "Flask", pros=(Reason(id=1, text="Typed", up=2, imported=1, imported_source="StackShare"),)
    )
    assert chart_spec([members]).title == "StackShare and members' votes on top pros and cons"
