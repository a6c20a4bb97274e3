"""Pure parts of comparisons: the differences computed from data, counts, and the renderers
keeping every message within Discord's limits whatever the catalog holds."""

from __future__ import annotations

from datetime import date

import pytest

from bot.core.comparison import (
    Alternative,
    Comparison,
    ExternalFigure,
    Reason,
    RelatedComparison,
    ToolAlternatives,
    ToolCard,
    ToolReasons,
    ToolRef,
    differences,
    format_count,
    ranked,
    shared_integrations,
)
from bot.render.compare import (
    alternatives_embeds,
    chart_spec,
    clip,
    comparison_embeds,
    external_figures,
    first_sentence,
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
    assert reason_line(imported, 100, breakdown=True) == "`381` Simple (381 StackShare + 0 members)"
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

    assert found["Language & ecosystem"].groups == (
        ("JavaScript (npm)", ("ExpressJS", "Koa")),
        ("Python (PyPI)", ("Flask",)),
    )
    assert found["Category"].same
    assert found["License"].groups[1] == ("BSD-3-Clause", ("Flask",))
    assert found["Age"].note == "ExpressJS is the oldest (16 years); Koa came 3 years later."
    assert found["Most praised"].groups[0] == ("“p 0” (381)", ("ExpressJS",))
    assert found["Most criticised"].groups[1] == ("nothing yet", ("Flask",))


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
    assert external_figures(koa) == expected
    assert external_figures(list(reversed(koa))) == expected

    embeds = comparison_embeds(
        Comparison(tools=(card("Koa", external=tuple(koa)),), today=TODAY), guild=False
    )
    assert embeds[0].fields[0].value.endswith("\n".join(expected))


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
    embeds = comparison_embeds(
        Comparison(tools=tools, related=related, today=TODAY), guild=True, chart=True
    )
    assert total_length(embeds) <= 6000 and len(embeds) <= 10
    assert limit_problems("POST", "/webhooks/1/token", _message(embeds)) == []
    # Terse, not empty: every tool still has its column, its embed and its top pro.
    assert [f.name for f in embeds[0].fields][:5] == [t.name for t in tools]
    assert [e.title for e in embeds[2:]] == [t.name for t in tools]
    assert all(e.fields[0].name == "Pros" and e.fields[0].value.startswith("`") for e in embeds[2:])
    assert "27 more sources" in embeds[0].footer.text
    assert embeds[-1].image.url == "attachment://stackup-chart.png"


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


def test_the_chart_shows_the_top_pros_and_cons_of_each_tool():
    express = card("ExpressJS", pros=reasons("p", 381, 336, 1, 1, 1, 1), cons=reasons("c", 27))
    spec = chart_spec([express, card("Koa")])
    assert spec.title == "ExpressJS vs Koa: pros and cons votes"
    assert [bar.value for bar in spec.tools[0].pros] == [381, 336, 1, 1, 1]
    assert spec.tools[1].pros == () and spec.tools[1].cons == ()
