"""Advice post embeds: what members read, and every embed within Discord's limits whatever
members wrote."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.charts import VOTES_LABEL_LIMIT
from bot.core.advice import (
    CLOSED,
    OPEN,
    AdviceFigures,
    AdviceListItem,
    AdvicePage,
    AdviceSummary,
    RecommendationLine,
    ToolAdvice,
    ranked,
)
from bot.core.comparison import Comparison, ToolRef
from bot.core.decisions import DecisionLine
from bot.render.advice import (
    advice_figures_line,
    advice_list_embed,
    decision_line,
    recommendation_embed,
    starter_embed,
    tool_advice_line,
    verdict_chart_spec,
    verdict_view,
)
from bot.render.compare import comparison_embeds, tool_embeds, total_length
from bot.render.decisions import decision_embed
from tests.discord_contract import IS_COMPONENTS_V2 as V2
from tests.discord_contract import TEXT_DISPLAY, limit_problems, schema_problems, with_nested
from tests.render.test_compare import TODAY, _monster

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
DJANGO = ToolRef(1, "django", "Django")
FLASK = ToolRef(2, "flask", "Flask")
KOA = ToolRef(3, "koa", "Koa")


def rec(
    id: int, tool: ToolRef, up: int, down: int, *, member: int | None = None, reason: str = ""
) -> RecommendationLine:
    return RecommendationLine(
        id=id,
        tool=tool,
        member_id=member if member is not None else 1000 + id,
        reason=reason or f"Reason {id}",
        up=up,
        down=down,
        created_at=NOW + timedelta(minutes=id),
    )


def post(
    recommendations=(),
    *,
    tools=(DJANGO, FLASK),
    status: str = OPEN,
    accepted: ToolRef | None = None,
    verdict: ToolRef | None = None,
    question: str = "Which one for a small API?",
    context: str = "Two developers, Postgres.",
    title: str = "Django or Flask?",
    asker: int = 42,
) -> AdviceSummary:
    return AdviceSummary(
        id=7,
        guild_id=1,
        channel_id=2,
        thread_id=3,
        starter_message_id=4,
        asker_id=asker,
        title=title,
        question=question,
        context=context,
        status=status,
        tools=tuple(tools),
        recommendations=tuple(ranked(recommendations)),
        created_at=NOW,
        accepted=accepted,
        verdict=verdict,
        closed_at=None if status == OPEN else NOW + timedelta(days=3),
    )


def message(*embeds) -> dict:
    return {"embeds": [e.to_dict() for e in embeds], "allowed_mentions": {"parse": []}}


def fits(*embeds) -> bool:
    problems = limit_problems("POST", "/channels/1/messages", message(*embeds))
    assert problems == []
    return True


def field(embed, name: str) -> str:
    values = [f["value"] for f in embed.to_dict().get("fields", []) if f["name"] == name]
    assert len(values) == 1, f"no single {name!r} field"
    return values[0]


def field_names(embed) -> list[str]:
    return [f["name"] for f in embed.to_dict().get("fields", [])]


def monster_post(
    status: str = OPEN, context: str = "C" * 500 + "\n" + "c" * 499, **values
) -> AdviceSummary:
    tools = [ToolRef(n, f"t{n}", f"{n}" + "T" * 99) for n in range(5)]
    recommendations = [
        rec(n, tools[n % 5], up=n, down=n % 3, member=10**18 + n, reason=("why " * 250)[:1000])
        for n in range(60)
    ]
    return post(
        recommendations,
        tools=tools,
        status=status,
        question="Q" * 3999 + "?",
        context=context,
        title="T" * 100,
        **values,
    )


# ---------------------------------------------------------------- starter


def test_starter_shows_question_context_and_live_ranking_best_first():
    embed = starter_embed(
        post([rec(1, DJANGO, 2, 1), rec(2, FLASK, 6, 1, member=123), rec(3, KOA, 0, 0)]), "Ann"
    )
    data = embed.to_dict()
    assert data["title"] == "Needs advice on Django, Flask"
    assert data["description"] == "Which one for a small API?"
    assert data["author"]["name"] == "Ann"
    assert field(embed, "Context") == "Two developers, Postgres."
    lines = field(embed, "Recommendations").split("\n")
    assert lines[0].startswith("1. **Flask** · +5 (👍 6 · 👎 1) · <@123>")
    assert lines[1].startswith("2. **Django** · +1")
    assert lines[2].startswith("3. **Koa** · 0 (👍 0 · 👎 0)")
    assert "Verdict" not in field_names(embed)
    assert "/advice recommend" in data["footer"]["text"]
    assert data["color"] == 0x5865F2
    fits(embed)


def test_starter_and_recommendations_say_stackups_own_reactions_are_not_counted():
    """Each recommendation shows Stackup's own 👍 and 👎 beside members' (so members need only
    click), one more of each than the ranking counts: said under the ranking and above the
    reactions, where the two sets of numbers are seen."""
    note = "Stackup's own 👍 and 👎 under each recommendation are not counted"
    for status in (OPEN, CLOSED):
        assert note in starter_embed(post([rec(1, FLASK, 3, 0)], status=status), "Ann").footer.text
    footer = recommendation_embed(rec(1, FLASK, 0, 0), "Bo").footer.text
    assert "Stackup's own are there to click, not counted" in footer


def test_starter_without_tools_context_or_recommendations():
    embed = starter_embed(post(tools=(), context="  "), "Ann")
    assert embed.title == "Needs advice"
    assert field_names(embed) == ["Recommendations"]
    assert field(embed, "Recommendations").startswith("None yet.")
    assert "`/advice recommend`" in field(embed, "Recommendations")


def test_starter_lists_ten_then_counts_the_rest():
    recommendations = [rec(n, FLASK, 20 - n, 0) for n in range(14)]
    lines = field(starter_embed(post(recommendations), "Ann"), "Recommendations").split("\n")
    assert len(lines) == 11
    assert lines[9].startswith("10. ")
    assert lines[-1] == "…and 4 more"


def test_closed_starter_verdict_wording():
    ranking = [rec(1, FLASK, 6, 1), rec(2, DJANGO, 1, 0)]
    accepted = starter_embed(post(ranking, status=CLOSED, accepted=FLASK, verdict=FLASK), "Ann")
    assert field(accepted, "Verdict") == "Chose **Flask** over Django (accepted by the asker)"
    assert accepted.colour == accepted.colour.green()
    assert accepted.footer.text.startswith("Closed")

    voted = starter_embed(post(ranking, status=CLOSED, verdict=FLASK), "Ann")
    assert field(voted, "Verdict") == "Most voted: **Flask**"

    none = starter_embed(post(status=CLOSED), "Ann")
    assert field(none, "Verdict") == "Closed without a verdict"


def test_worst_case_starter_keeps_the_whole_question_and_fits():
    for status, values in ((OPEN, {}), (CLOSED, {"accepted": ToolRef(0, "t0", "0" + "T" * 99)})):
        monster = monster_post(status, **values)
        embed = starter_embed(monster, "A" * 100)
        data = embed.to_dict()
        assert data["description"] == monster.question
        assert len(data["title"]) <= 256 and data["title"].startswith("Needs advice on 0TTT")
        assert data["author"]["name"] == "A" * 100
        ranking = field(embed, "Recommendations").split("\n")
        assert [line.split(".", 1)[0] for line in ranking[:10]] == [str(n) for n in range(1, 11)]
        assert ranking[10:] == ["…and 50 more"]
        assert all("\n" not in line for line in ranking)
        assert field(embed, "Context").startswith("CCC")
        fits(embed)


def test_starter_shows_reasons_where_there_is_room():
    long_reasons = [
        rec(n, tool, n, 0, reason="Line one.\n" + "because " * 125)
        for n, tool in enumerate((DJANGO, FLASK, KOA))
    ]
    embed = starter_embed(post(long_reasons, context="c" * 1000), "Ann")
    ranking = field(embed, "Recommendations").split("\n")
    assert len(ranking) == 3
    assert all(" — Line one. because" in line and line.endswith("…") for line in ranking)
    assert len(field(embed, "Context")) == 1000
    fits(embed)


def test_absurd_starter_still_fits():
    # Beyond what the input checks allow: a name and context far over their limits.
    monster = monster_post(context="x" * 5000)
    embed = starter_embed(monster, "N" * 1000)
    assert embed.description == monster.question
    fits(embed)


# ---------------------------------------------------------------- recommendation


def test_recommendation_embed():
    recommendation = rec(1, FLASK, 0, 0, reason="Small, and the team knows it.")
    data = recommendation_embed(recommendation, "Bo").to_dict()
    assert data["title"] == "Recommends Flask"
    assert data["author"]["name"] == "Bo"
    assert data["description"] == "Small, and the team knows it."
    assert "👍" in data["footer"]["text"] and "👎" in data["footer"]["text"]

    long = recommendation_embed(
        rec(2, ToolRef(9, "x", "X" * 100), 0, 0, reason="r" * 1000), "B" * 300
    )
    fits(long)


# ---------------------------------------------------------------- verdict


def v2(view) -> dict:
    """The verdict's body as discord.py sends it."""
    return {
        "flags": V2,
        "components": view.to_components(),
        "allowed_mentions": {"parse": []},
    }


def components(view) -> list[dict]:
    return with_nested(view.to_components())


def texts(view) -> list[str]:
    return [c["content"] for c in components(view) if c["type"] == TEXT_DISPLAY]


def v2_fits(view) -> bool:
    body = v2(view)
    path = "/channels/1/messages"
    assert schema_problems("POST", path, body) + limit_problems("POST", path, body) == []
    return True


def test_verdict_for_an_accepted_recommendation_reads_as_a_decision():
    ranking = [rec(1, FLASK, 6, 1, member=123, reason="Tiny.\nFast."), rec(2, DJANGO, 1, 0)]
    view = verdict_view(
        post(ranking, tools=(DJANGO, FLASK, KOA), status=CLOSED, accepted=FLASK, verdict=FLASK),
        chart=True,
    )
    head, votes = texts(view)
    assert head == (
        "## Verdict: Flask\n"
        "<@42> chose **Flask** over Django and Koa. <@123> recommended it:\n>>> Tiny.\nFast."
    )
    assert votes.split("\n") == [
        "**Members' votes**",
        "1. **Flask** · +5 (👍 6 · 👎 1) · <@123>",
        "2. **Django** · +1 (👍 1 · 👎 0) · <@1002>",
        "-# Stackup's own 👍 and 👎 under each recommendation are not counted.",
    ]
    (container,) = view.to_components()
    assert [c["type"] for c in container["components"]] == [TEXT_DISPLAY, 14, TEXT_DISPLAY, 12]
    (item,) = container["components"][-1]["items"]
    assert item["media"]["url"] == "attachment://stackup-chart.png"
    assert container["accent_color"] == 0x2ECC71
    v2_fits(view)


def test_verdict_shows_each_figure_once():
    ranking = [rec(1, FLASK, 3, 0, member=123), rec(2, DJANGO, 1, 1), rec(3, KOA, 2, 1)]
    view = verdict_view(post(ranking, status=CLOSED, accepted=FLASK, verdict=FLASK), chart=True)
    text = "\n".join(texts(view))
    for figure in ("+3", "👍 3 · 👎 0", "+1", "👍 2 · 👎 1", "0 (👍 1 · 👎 1)"):
        assert text.count(figure) == 1, figure
    # The recommender is named in the decision and beside the figures, which are in the
    # ranking alone.
    assert text.count("Flask") == 3  # title, decision, ranking


def test_verdict_accepted_tool_without_a_recommendation():
    view = verdict_view(post(status=CLOSED, accepted=KOA, verdict=KOA), chart=False)
    assert texts(view) == ["## Verdict: Koa\n<@42> chose **Koa** over Django and Flask."]
    assert 12 not in [c["type"] for c in components(view)]


def test_verdict_by_votes_and_without_one():
    ranking = [rec(1, FLASK, 3, 0), rec(2, DJANGO, 0, 2)]
    head, votes = texts(verdict_view(post(ranking, status=CLOSED, verdict=FLASK), chart=False))
    assert head == (
        "## Verdict: Flask\n"
        "Members' votes favour **Flask**. The asker did not accept a recommendation."
    )
    assert votes.split("\n")[2].startswith("2. **Django** · −2")

    none = verdict_view(post(status=CLOSED), chart=False)
    assert texts(none) == [
        "## Closed without a verdict\nNobody recommended a tool before the post closed."
    ]


def test_verdict_of_a_former_member_names_them_so():
    view = verdict_view(
        post([rec(1, FLASK, 1, 0)], status=CLOSED, accepted=FLASK, verdict=FLASK, asker=0),
        chart=False,
    )
    assert texts(view)[0].split("\n")[1].startswith("A former member chose **Flask**")


def test_verdict_lead_goes_above_the_verdict():
    lead = "<@42> nothing happened here for 7 days, so Stackup closed this post with its verdict."
    view = verdict_view(
        post([rec(1, FLASK, 1, 0)], status=CLOSED, verdict=FLASK), chart=False, lead=lead
    )
    first, container = view.to_components()
    assert first == {"type": TEXT_DISPLAY, "content": lead}
    assert container["type"] == 17
    v2_fits(view)


def test_worst_case_verdict_cuts_the_ranking_and_fits():
    monster = monster_post(CLOSED, accepted=ToolRef(0, "t0", "0" + "T" * 99))
    for lead in ("", "<@1> " + "l" * 1900):
        view = verdict_view(monster, chart=True, lead=lead)
        v2_fits(view)
        lines = texts(view)[-1].split("\n")
        assert lines[1].startswith("1. ")
        shown = len(lines) - 3  # but the heading, "…and N more" and the note
        assert lines[-2] == f"…and {60 - shown} more"
        assert [line.split(".", 1)[0] for line in lines[1:-2]] == [
            str(n) for n in range(1, shown + 1)
        ]
        assert sum(len(text) for text in texts(view)) <= 4000


def test_verdict_with_few_long_recommendations_shows_all():
    ranking = [rec(n, ToolRef(n, "x", "X" * 100), n, 0) for n in range(20)]
    view = verdict_view(post(ranking, status=CLOSED, verdict=ranking[-1].tool), chart=False)
    assert len(texts(view)[-1].split("\n")) == 20 + 2
    v2_fits(view)


def test_verdict_chart_only_from_three_recommendations():
    assert verdict_chart_spec(post(status=CLOSED)) is None
    two = [rec(1, FLASK, 6, 1), rec(2, DJANGO, 2, 3)]
    assert verdict_chart_spec(post(two, status=CLOSED, accepted=FLASK, verdict=FLASK)) is None


def test_verdict_chart_has_one_bar_pair_per_recommendation_labelled_with_the_votes():
    ranking = [
        rec(1, FLASK, 6, 1),
        rec(2, DJANGO, 2, 3),
        rec(3, FLASK, 2, 0),
        rec(4, ToolRef(9, "x", "Y" * 100), 1, 0),
    ]
    spec = verdict_chart_spec(post(ranking, status=CLOSED, accepted=DJANGO, verdict=DJANGO))
    assert spec is not None
    assert (spec.down_label, spec.up_label) == ("👎", "👍")
    assert [(row.label, row.up, row.down) for row in spec.rows] == [
        ("Flask", 6, 1),
        ("Flask #2", 2, 0),
        ("Y" * (VOTES_LABEL_LIMIT - 1) + "…", 1, 0),
        ("Django", 2, 3),
    ]
    assert [row.chosen for row in spec.rows] == [False, False, False, True]
    assert all(len(row.label) <= VOTES_LABEL_LIMIT for row in spec.rows)

    many = verdict_chart_spec(post([rec(n, FLASK, n, 0) for n in range(15)], status=CLOSED))
    assert many is not None and len(many.rows) == 10
    assert many.rows[0].up == 14 and not any(row.chosen for row in many.rows)


# ---------------------------------------------------------------- lists


def item(id: int, **values) -> AdviceListItem:
    defaults = dict(
        id=id,
        guild_id=1,
        thread_id=500 + id,
        title=f"Post {id}",
        asker_id=42,
        created_at=NOW,
        status=OPEN,
        recommendations=3,
        tools=(DJANGO, FLASK),
    )
    return AdviceListItem(**{**defaults, **values})


def test_advice_list_links_posts_with_dates_and_verdicts():
    page = AdvicePage(
        items=(
            item(1),
            item(2, status=CLOSED, verdict=FLASK, recommendations=1),
            item(3, status=CLOSED, thread_id=None),
        ),
        page=2,
        pages=3,
        total=13,
        tool=FLASK,
    )
    embed = advice_list_embed(page, guild_id=99)
    data = embed.to_dict()
    assert data["title"] == "Advice on Flask"
    assert field_names(embed) == ["Post 1", "Post 2", "Post 3"]
    first = field(embed, "Post 1")
    assert "https://discord.com/channels/99/501" in first
    assert f"asked by <@42> · <t:{int(NOW.timestamp())}:D>" in first
    assert "3 recommendations" in first and "Django, Flask" in first
    assert first.endswith("Open")
    second = field(embed, "Post 2")
    assert "1 recommendation" in second and second.endswith("Verdict: **Flask**")
    third = field(embed, "Post 3")
    assert "discord.com" not in third and third.endswith("Closed without a verdict")
    assert data["footer"]["text"] == "Page 2 of 3 · 13 posts"
    fits(embed)


def test_advice_list_titles_and_empty_page():
    empty = advice_list_embed(AdvicePage(items=(), page=1, pages=1, total=0), guild_id=1)
    assert empty.title == "Advice posts"
    assert "/advice ask" in empty.description

    open_on = AdvicePage(items=(item(1),), page=1, pages=1, total=1, tool=FLASK, status=OPEN)
    assert advice_list_embed(open_on, guild_id=1).title == "Open advice on Flask"
    closed = AdvicePage(items=(), page=1, pages=1, total=0, status=CLOSED)
    assert advice_list_embed(closed, guild_id=1).title == "Closed advice posts"

    naive = item(1, created_at=datetime(2026, 11, 24, 12, 0))
    embed = advice_list_embed(AdvicePage(items=(naive,), page=1, pages=1, total=1), guild_id=1)
    assert f"<t:{int(NOW.timestamp())}:D>" in field(embed, "Post 1")


def test_worst_case_advice_list_fits():
    tools = tuple(ToolRef(n, f"t{n}", "T" * 100) for n in range(5))
    items = tuple(
        item(n, title="x" * 300, tools=tools, status=CLOSED, verdict=tools[0], thread_id=10**18)
        for n in range(5)
    )
    page = AdvicePage(items=items, page=1, pages=1, total=5, tool=ToolRef(1, "t", "N" * 300))
    fits(advice_list_embed(page, guild_id=10**18))


# ---------------------------------------------------------------- /compare and /tool


def test_advice_figures_line():
    assert advice_figures_line(AdviceFigures()) is None
    assert advice_figures_line(AdviceFigures(tools=(ToolAdvice(FLASK),))) is None

    together = AdviceFigures(
        tools=(ToolAdvice(FLASK, named=4, won=2), ToolAdvice(DJANGO, named=3)),
        together=3,
        together_verdicts=((FLASK, 2), (DJANGO, 1)),
    )
    assert advice_figures_line(together) == (
        "3 advice posts here named two or more of these; **Flask** won 2 of them."
    )
    tied = AdviceFigures(together=2, together_verdicts=((FLASK, 1), (DJANGO, 1)))
    assert "split" in advice_figures_line(tied)

    apart = AdviceFigures(
        tools=(ToolAdvice(FLASK, named=4, won=2), ToolAdvice(KOA), ToolAdvice(DJANGO, named=1))
    )
    assert advice_figures_line(apart) == "Flask named in 4 posts (chosen 2) · Django in 1"

    many = AdviceFigures(
        tools=tuple(ToolAdvice(ToolRef(n, "x", "X" * 100), 9, 9) for n in range(50))
    )
    assert len(advice_figures_line(many)) <= 1024


def test_tool_advice_line():
    assert tool_advice_line(ToolAdvice(FLASK)) is None
    assert tool_advice_line(ToolAdvice(FLASK, named=4, won=2)) == (
        "Named in 4 advice posts here · chosen in 2"
    )
    assert tool_advice_line(ToolAdvice(FLASK, named=1)) == "Named in 1 advice post here"


# ---------------------------------------------------------------- decisions


def shared(
    id: int, chosen: ToolRef = FLASK, over: ToolRef = DJANGO, *, up: int = 0, member: int = 42
) -> DecisionLine:
    """A /decision: posted as message 500 + id in channel 9 of guild 1."""
    return DecisionLine(
        member_id=member,
        chosen=chosen,
        over=(over,),
        created_at=NOW + timedelta(minutes=id),
        guild_id=1,
        id=id,
        channel_id=9,
        message_id=500 + id,
        up=up,
        reason=f"Reason {id}, long enough.",
    )


def from_post(chosen: ToolRef = FLASK, over=(DJANGO, KOA)) -> DecisionLine:
    return DecisionLine(
        member_id=42, chosen=chosen, over=tuple(over), created_at=NOW, guild_id=1, thread_id=3
    )


def worst_decision(id: int) -> DecisionLine:
    tools = [ToolRef(n, f"t{n}", "W" * 100) for n in range(5)]
    return DecisionLine(
        member_id=10**19 - id,
        chosen=tools[0],
        over=tuple(tools[1:]),
        created_at=NOW,
        guild_id=10**19 - 1,
        id=id,
        channel_id=10**19 - 2,
        message_id=10**19 - 3 - id,
        up=10**6,
        reason="r" * 1000,
    )


def test_decision_lines_show_votes_and_link_the_message_or_the_post():
    assert decision_line(shared(1, up=3)) == (
        "<@42> chose **Flask** over Django · 👍 3 · [why](https://discord.com/channels/1/9/501)"
    )
    assert decision_line(from_post()) == (
        "<@42> chose **Flask** over Django, Koa · [post](https://discord.com/channels/1/3)"
    )


def test_decisions_come_under_their_heading_in_the_order_given():
    newest, older = shared(2, DJANGO, FLASK, up=0), shared(1, up=5)
    figures = AdviceFigures(
        tools=(ToolAdvice(FLASK, named=2, won=1), ToolAdvice(DJANGO, named=1)),
        decisions=(newest, older),
    )
    assert advice_figures_line(figures).splitlines() == [
        "Flask named in 2 posts (chosen 1) · Django in 1",
        "**Decisions**",
        decision_line(newest),
        decision_line(older),
    ]
    assert advice_figures_line(AdviceFigures(decisions=(older,))) == (
        f"**Decisions**\n{decision_line(older)}"
    )
    assert tool_advice_line(ToolAdvice(FLASK, named=1), (newest,)) == (
        f"Named in 1 advice post here\n**Decisions**\n{decision_line(newest)}"
    )
    assert tool_advice_line(ToolAdvice(FLASK), (newest,)) == (
        f"**Decisions**\n{decision_line(newest)}"
    )


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def test_worst_case_decisions_keep_whole_lines_within_a_field():
    decisions = tuple(worst_decision(n) for n in range(3))
    many = AdviceFigures(
        tools=tuple(ToolAdvice(ToolRef(n, "x", "X" * 100), 9, 9) for n in range(50)),
        decisions=decisions,
    )
    for value in (
        advice_figures_line(many),
        tool_advice_line(ToolAdvice(FLASK, named=9, won=9), decisions),
    ):
        assert utf16(value) <= 1024
        lines = value.splitlines()
        assert "**Decisions**" in lines
        shown = lines[lines.index("**Decisions**") + 1 :]
        assert shown and all(line.endswith(")") for line in shown)  # whole, link included


def test_worst_case_compare_and_tool_card_with_decisions_fit():
    decisions = tuple(worst_decision(n) for n in range(3))
    tools = tuple(_monster(n) for n in range(5))
    advice = advice_figures_line(
        AdviceFigures(
            tools=tuple(ToolAdvice(t.ref, 9, 9) for t in tools),
            decisions=decisions,
            together=9,
            together_verdicts=((tools[0].ref, 9),),
        )
    )
    embeds = comparison_embeds(
        Comparison(tools=tools, today=TODAY), guild=True, chart=True, advice=advice
    )
    assert total_length(embeds) <= 6000
    assert fits(*embeds)
    assert "**Decisions**" in {f.name: f.value for f in embeds[0].fields}["Advice here"]
    card = tool_embeds(
        tools[0],
        guild=True,
        advice=tool_advice_line(ToolAdvice(tools[0].ref, 9, 9), decisions),
    )
    assert fits(*card)
    assert "**Decisions**" in field(card[0], "Advice here")


def test_decision_embed_says_who_chose_what_over_what_why_and_the_votes():
    embed = decision_embed(shared(1, up=4), "Ada")
    assert embed.author.name == "Ada"
    assert embed.description == "chose **Flask** over **Django**"
    assert field(embed, "Why") == "Reason 1, long enough."
    assert field(embed, "Votes") == "👍 4"
    assert "not on your own decision" in embed.footer.text
    assert embed.timestamp == NOW + timedelta(minutes=1)

    worst = decision_embed(worst_decision(1), "N" * 300)
    assert fits(worst)
    assert len(worst.author.name) == 256
    assert field(worst, "Why") == "r" * 1000
    assert decision_embed(shared(1), "  ").author.name == "A member"
