"""/compare, /tool and /alternatives through the real bot under simcord, on the shipped catalog.

The seed page (tests/fixtures/, StackShare's ExpressJS vs Flask vs Koa) is the model: every fact
on it must be reachable from `/compare first:ExpressJS second:Flask third:Koa`, in the message
or behind its buttons.
"""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlmodel import select

from bot.bot import StackupBot
from bot.charts import ChartRenderer
from bot.core.comparison import format_count
from bot.core.ratelimit import member_rules
from bot.errors import InvalidInput
from db import community
from db.models import Comparison, Follow, ProCon, Tool, ToolTally, VoteTarget
from db.votes import cast_vote
from tests.conftest import final
from tests.seed_page import read_seed_page

SEED = read_seed_page()
NBSP = "\u00a0"
METRICS = {
    "stacks": "Stacks",
    "followers": "Followers",
    "votes": "Votes",
    "github_stars": "GitHub Stars",
    "github_forks": "GitHub Forks",
}


@pytest.fixture
def world(simcord_env):
    guild = simcord_env.create_guild()
    channel = guild.create_text_channel("general")
    member = guild.add_member(simcord_env.create_user("ada"))
    return guild, channel, member


async def _tool_ids(sessions, *slugs: str) -> list[int]:
    async with sessions() as session:
        rows = (await session.exec(select(Tool.slug, Tool.id).where(Tool.slug.in_(slugs)))).all()
    ids = dict(rows)
    return [ids[slug] for slug in slugs]


def _fields(embed) -> dict[str, str]:
    return {field.name: field.value for field in embed.fields}


def _flat(text: str) -> str:
    return " ".join(text.split())


async def _compare_trio(member, channel):
    return await member.slash(channel, "compare", first="ExpressJS", second="Flask", third="Koa")


# The default answer was five embeds, 2,655 characters, 2,425 pixels tall on a desktop
# preview; now three embeds, about 1,400 characters and 1,000 pixels, buttons included. A
# little room over that for catalogs' longer texts, none for another embed.
DEFAULT_EMBEDS = 3
DEFAULT_CHARACTERS = 1_600
ACTIONS = ["Details", "Pros & cons", "Chart", "Alternatives", "Ask for advice", "Follow"]


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


def _table(value: str) -> dict[str, list[str]]:
    """A figures table's rows by tool name: the cells after the name."""
    header, *rows = value.split("```")[1].strip("\n").splitlines()
    columns = len(header.split())
    return {name: cells for name, *cells in (row.rsplit(None, columns) for row in rows)}


def _labels(message) -> list[str]:
    return [c.get("label") for row in message.components for c in row["components"]]


async def test_the_seed_trio_answers_in_about_a_screen(simcord_env, world):
    _guild, channel, member = world
    result = await _compare_trio(member, channel)

    # Deferred first, publicly; no picture to wait for.
    callbacks = [r.json for r in simcord_env.http_requests if r.path.endswith("/callback")]
    assert callbacks == [{"type": 5}]
    assert not result.ephemeral
    message = result.response
    assert len(message.embeds) <= DEFAULT_EMBEDS
    assert sum(len(embed) for embed in message.embeds) <= DEFAULT_CHARACTERS
    assert message.attachments == []
    overview, differences, top = message.embeds
    assert [overview.title, differences.title, top.title] == [
        "ExpressJS vs Flask vs Koa",
        "Differences",
        "Top pros and cons",
    ]
    # No narrow columns: inline fields squeezed three texts into 130 pixels each.
    assert not any(field.inline for embed in message.embeds for field in embed.fields)
    lines = _lines(message.embeds)
    assert not [line for line in lines if _zero_only(line)]
    assert lines.count("No stacks, follows or votes from this server's members yet.") == 1
    assert _labels(message) == ACTIONS

    # Each tool in a line or two, figures as StackShare's table.
    assert f"📂 {SEED.category_path}" in overview.description
    for name, page in SEED.tools.items():
        first = _flat(page.description).split(". ")[0]
        assert f"**{name}**: {first[:100]}" in _flat(overview.description), name
    figures = _fields(overview)["StackShare, as of 2025-01-01"]
    assert figures.splitlines()[1].split() == ["Stacks", "Followers", "Votes"]
    table = _table(figures)
    for name, page in SEED.tools.items():
        wanted = [format_count(page.stats[metric]) for metric in ("stacks", "followers", "votes")]
        assert table[name] == wanted, name
    assert "**Koa**: GitHub Stars 35.7K · GitHub Forks 3.2K" in _flat(figures)

    # Where they differ, a line a topic: the page's "Language and Ecosystem" point among them.
    found = _flat(differences.description)
    assert (
        "**Language & ecosystem** — ExpressJS, Koa: JavaScript (npm) · Flask: Python (PyPI)"
        in found
    )
    assert "**License** — ExpressJS, Koa: MIT · Flask: BSD-3-Clause" in found
    assert "ExpressJS is the oldest (16 years); Koa came 3 years later." in found

    # Top three pros and cons a tool, phrases held together so a line breaks between them.
    shown = _fields(top)
    for name, page in SEED.tools.items():
        pros, cons = shown[name].split("\n")
        wanted = [f"`{count}` {text}".replace(" ", NBSP) for text, count in page.pros[:3]]
        assert pros == "👍 " + " · ".join(wanted), name
        expected_cons = [f"`{count}` {text}" for text, count in page.cons[:3]] or ["none yet"]
        assert _flat(cons) == _flat("👎 " + " · ".join(expected_cons)), name
    assert top.footer.text == (
        "More under ⚖️ Pros & cons. Counts: votes on StackShare as of 2025-01-01."
    )
    assert "members)" not in " ".join(lines)


async def test_every_fact_of_the_seed_page_is_one_click_away(simcord_env, world):
    _guild, channel, member = world
    message = (await _compare_trio(member, channel)).response

    # "Details": each tool's whole description, features, figures and integrations.
    details = await member.click(message, label="Details")
    assert details.ephemeral
    cards = {embed.title: embed for embed in details.response.embeds}
    assert sorted(cards) == sorted(SEED.tools)
    for name, page in SEED.tools.items():
        card = cards[name]
        assert _flat(card.description) == _flat(page.description)
        fields = _fields(card)
        assert fields["Category"] == SEED.category_path
        for feature in page.features:
            assert f"• {feature}" in fields["Features"]
        figures = _flat(fields["Figures"])
        assert "StackShare (2025-01-01)" in figures
        for metric, value in page.stats.items():
            assert f"{METRICS[metric]} {format_count(value)}" in figures, (name, metric)
        assert "members" not in figures  # said once, under the comparison
    integrations = {name: _fields(card)["Integrations"] for name, card in cards.items()}
    assert integrations == {"ExpressJS": "Node.js", "Flask": "None listed.", "Koa": "Node.js"}

    # "Pros & cons": every pro and con of the page with its count, the source said once.
    lists = await member.click(message, label="Pros & cons")
    assert lists.ephemeral
    by_tool = {embed.title: _fields(embed) for embed in lists.response.embeds}
    for name, page in SEED.tools.items():
        fields = by_tool[f"{name}: pros and cons"]
        assert fields["Pros"].split("\n") == [f"`{count}` {text}" for text, count in page.pros]
        if page.cons:
            assert fields["Cons"].split("\n") == [f"`{count}` {text}" for text, count in page.cons]
    footers = [embed.footer.text for embed in lists.response.embeds]
    assert footers == [None, None, "Counts: votes on StackShare as of 2025-01-01."]

    # "Alternatives": each of the page's alternatives, with its one-line description.
    alternatives = await member.click(message, label="Alternatives")
    assert alternatives.ephemeral
    listed = _flat(" ".join(embed.description for embed in alternatives.response.embeds))
    for name, description in SEED.alternatives.items():
        first_sentence = _flat(description).split(". ")[0]
        assert f"**{name}**: {first_sentence}" in listed, name


async def test_the_chart_button_draws_every_tool_on_one_scale(
    simcord_env, simcord_bot, world, monkeypatch
):
    _guild, channel, member = world
    message = (await _compare_trio(member, channel)).response

    # "Chart": its own embed, titled for what it shows, every tool on one scale.
    drawn = []
    render = simcord_bot.charts.render_comparison

    async def spy(spec):
        drawn.append(spec)
        return await render(spec)

    monkeypatch.setattr(simcord_bot.charts, "render_comparison", spy)
    chart = await member.click(message, label="Chart")
    assert chart.ephemeral
    answer = final(chart)
    (embed,) = answer.embeds
    assert embed.title == "StackShare votes on top pros and cons"
    assert embed.image.url == "attachment://stackup-chart.png"
    (attachment,) = answer.attachments
    picture = Image.open(io.BytesIO(await attachment.read()))
    assert picture.format == "PNG" and picture.width / picture.height >= 1.2
    (spec,) = drawn
    bars = [bar.value for tool in spec.tools for bar in (*tool.pros, *tool.cons)]
    assert spec.scale == max(bars) == 381  # one x-axis maximum: ExpressJS's 381, for all
    charted = {tool.name: [bar.value for bar in tool.pros] for tool in spec.tools}
    assert charted == {name: [n for _text, n in page.pros[:3]] for name, page in SEED.tools.items()}


async def test_fuzzy_names_and_slugs_resolve(simcord_env, world):
    _guild, channel, member = world
    result = await member.slash(channel, "compare", first="express.js", second="flsk", third="koa")
    assert result.response.embeds[0].title == "ExpressJS vs Flask vs Koa"


async def test_autocomplete_offers_tools_for_every_option(simcord_env, world):
    _guild, channel, member = world
    for option in ("first", "second", "third", "fourth", "fifth"):
        choices = await member.autocomplete(channel, "compare", option, "fla")
        assert {"name": "Flask", "value": "flask"} in choices
    choices = await member.autocomplete(channel, "tool", "name", "koa")
    assert choices[0] == {"name": "Koa", "value": "koa"}


async def test_autocomplete_does_not_offer_a_tool_chosen_in_another_option(simcord_env, world):
    _guild, channel, member = world
    alone = await member.autocomplete(channel, "compare", "second", "fla")
    assert {"name": "Flask", "value": "flask"} in alone
    offered = await member.autocomplete(channel, "compare", "second", "fla", first="flask")
    assert {"name": "Flask", "value": "flask"} not in offered
    # Otherwise the same choices, in the same order.
    assert offered[: len(alone) - 1] == [c for c in alone if c["value"] != "flask"]


async def test_an_unknown_name_gets_an_ephemeral_answer_with_buttons_that_go_on(simcord_env, world):
    _guild, channel, member = world
    result = await member.slash(channel, "compare", first="flask", second="sql")

    assert result.ephemeral
    assert result.response.content.startswith("No tool called “sql” in the catalog. Closest: ")
    buttons = [c for row in result.response.components for c in row["components"]]
    assert buttons and all(b["custom_id"].startswith("stackup:go:cmp:") for b in buttons)
    choice = buttons[0]["label"]
    assert f"**{choice}**" in result.response.content

    followed = await member.click(result.response, label=choice)
    assert not followed.ephemeral
    assert followed.response.embeds[0].title == f"Flask vs {choice}"


async def test_several_unknown_names_are_all_named(simcord_env, world):
    _guild, channel, member = world
    result = await member.slash(channel, "compare", first="qqqzzz", second="sql")
    assert result.ephemeral
    assert "“qqqzzz”" in result.response.content and "“sql”" in result.response.content
    assert result.response.components == []


async def test_the_same_tool_twice_is_explained_ephemerally(simcord_env, world):
    _guild, channel, member = world
    result = await member.slash(channel, "compare", first="Flask", second="flask")
    assert result.ephemeral
    assert result.response.content == (
        "**Flask** is named twice; compare two to five different tools."
    )
    assert isinstance(simcord_env.errors[-1].original, InvalidInput)


async def test_names_in_answers_cannot_ping(simcord_env, world):
    _guild, channel, member = world
    result = await member.slash(channel, "compare", first="flask", second="@everyone")
    assert "@everyone" in result.response.content
    callback = [r for r in simcord_env.http_requests if r.path.endswith("/callback")][-1]
    assert callback.json["data"]["allowed_mentions"] == {"parse": []}


async def test_buttons_keep_working_after_a_restart(
    simcord_env, world, settings, engine, sessions, chart_renderer
):
    _guild, channel, member = world
    message = (await _compare_trio(member, channel)).response

    await simcord_env.restart_bot(StackupBot(settings, engine, sessions, charts=chart_renderer))

    lists = await member.click(message, label="Pros & cons")
    assert [embed.title for embed in lists.response.embeds] == [
        "ExpressJS: pros and cons",
        "Flask: pros and cons",
        "Koa: pros and cons",
    ]
    alternatives = await member.click(message, label="Alternatives")
    assert alternatives.response.embeds[0].title == "Alternatives to ExpressJS"
    follow = await member.click(message, label="Follow")
    assert follow.ephemeral and follow.response.components
    details = await member.click(message, label="Details")
    assert [embed.title for embed in details.response.embeds] == ["ExpressJS", "Flask", "Koa"]
    chart = final(await member.click(message, label="Chart"))
    assert chart.embeds[0].image.url == "attachment://stackup-chart.png"


async def test_no_chart_button_without_chart_workers_and_a_failed_chart_is_said(
    simcord_env, simcord_bot, world, settings, engine, sessions, monkeypatch
):
    _guild, channel, member = world
    message = (await _compare_trio(member, channel)).response

    async def nothing(spec):
        return None

    monkeypatch.setattr(simcord_bot.charts, "render_comparison", nothing)
    failed = final(await member.click(message, label="Chart"))
    assert failed.content == "The chart could not be drawn just now; try again in a moment."
    assert failed.flags.ephemeral and failed.attachments == []

    await simcord_env.restart_bot(
        StackupBot(settings, engine, sessions, charts=ChartRenderer(workers=0))
    )
    without = (await _compare_trio(member, channel)).response
    assert _labels(without) == [label for label in ACTIONS if label != "Chart"]


async def test_follow_chooses_tools_and_the_figures_show_it(simcord_env, world, sessions):
    guild, channel, member = world
    flask, koa = await _tool_ids(sessions, "flask", "koa")
    message = (await _compare_trio(member, channel)).response

    offer = await member.click(message, label="Follow")
    await member.select(offer.response, [str(flask), str(koa)])

    async with sessions() as session:
        follows = await session.exec(select(Follow.tool_id).where(Follow.member_id == member.id))
        assert sorted(follows.all()) == sorted([flask, koa])
        tally = await session.get(ToolTally, (flask, guild.id))
        assert tally.followers == 1
    again = await _compare_trio(member, channel)
    # This server is all there is: one line says it.
    members = _fields(again.response.embeds[0])["Members"]
    assert _flat(members) == "In this server: **Flask** 1 follower; **Koa** 1 follower"

    # Choosing again replaces the choice: Koa only.
    offer = await member.click(again.response, label="Follow")
    options = offer.response.components[0]["components"][0]["options"]
    assert [o["label"] for o in options if o.get("default")] == ["Flask", "Koa"]
    answer = await member.select(offer.response, [str(koa)])
    assert answer.response.content == "You follow **Koa** in this server."
    async with sessions() as session:
        follows = await session.exec(select(Follow.tool_id).where(Follow.member_id == member.id))
        assert follows.all() == [koa]
        assert (await session.get(ToolTally, (flask, guild.id))).followers == 0


async def test_follow_on_a_tool_card_toggles(simcord_env, world, sessions):
    _guild, channel, member = world
    card = (await member.slash(channel, "tool", name="flask")).response
    first = await member.click(card, label="Follow")
    assert first.response.content.startswith("You now follow **Flask** in this server.")
    second = await member.click(card, label="Follow")
    assert second.response.content == "You no longer follow **Flask**."


async def test_ask_for_advice_opens_the_form_with_the_compared_tools(simcord_env, world):
    _guild, channel, member = world
    message = (await _compare_trio(member, channel)).response
    result = await member.click(message, label="Ask for advice")
    inputs = {
        row["components"][0]["custom_id"]: row["components"][0].get("value")
        for row in result.modal["components"]
    }
    assert inputs["tools"] == "ExpressJS, Flask, Koa"


async def test_member_figures_count_this_server_and_everywhere(simcord_env, world, sessions):
    guild, channel, member = world
    (flask,) = await _tool_ids(sessions, "flask")
    other_guild = 4242
    async with sessions() as session, session.begin():
        await community.add_to_stack(session, guild_id=guild.id, member_id=1, tool_ids=[flask])
        await community.add_to_stack(session, guild_id=other_guild, member_id=2, tool_ids=[flask])
        await community.add_to_stack(session, guild_id=other_guild, member_id=3, tool_ids=[flask])
        pro = (
            await session.exec(
                select(ProCon).where(ProCon.tool_id == flask, ProCon.text == "Secured")
            )
        ).one()
        for voter, where in ((1, guild.id), (2, other_guild)):
            await cast_vote(
                session,
                kind=VoteTarget.PRO_CON,
                target_id=pro.id,
                member_id=voter,
                guild_id=where,
                value=1,
            )

    result = await member.slash(channel, "compare", first="flask", second="django")
    members = _fields(result.response.embeds[0])["Members"].split("\n")
    # Nothing is 0: Django has nothing yet, Flask no followers.
    assert [_flat(line) for line in members] == [
        "In this server: **Flask** 1 stack · 1 vote",
        "In all servers: **Flask** 3 stacks · 2 votes",
    ]
    # The members' votes are added to the imported count, and labelled where they are.
    lists = await member.click(result.response, label="Pros & cons")
    pros = _fields(lists.response.embeds[0])["Pros"].split("\n")
    assert "`8` Secured (6 StackShare + 2 members)" in pros
    assert "`10` For it flexibility" in pros
    assert lists.response.embeds[-1].footer.text == (
        "Counts: votes on StackShare as of 2025-01-01, plus members' votes."
    )
    chart = final(await member.click(result.response, label="Chart"))
    assert chart.embeds[0].title == "StackShare and members' votes on top pros and cons"


async def test_related_comparisons_come_from_this_server_only(simcord_env, sessions):
    here = simcord_env.create_guild(name="here")
    there = simcord_env.create_guild(name="there")
    channel_here = here.create_text_channel("general")
    channel_there = there.create_text_channel("general")
    ada = here.add_member(simcord_env.create_user("ada"))
    bob = there.add_member(simcord_env.create_user("bob"))

    await ada.slash(channel_here, "compare", first="flask", second="django")
    await ada.slash(channel_here, "compare", first="flask", second="django")
    await bob.slash(channel_there, "compare", first="koa", second="fastify")
    result = await ada.slash(
        channel_here, "compare", first="expressjs", second="koa", third="flask"
    )

    related = _fields(result.response.embeds[0])["Related comparisons"]
    assert related == "Django vs Flask (2×)"
    buttons = [c for row in result.response.components for c in row["components"]]
    assert buttons[-1]["label"] == "Django vs Flask"
    rerun = await ada.click(result.response, label="Django vs Flask")
    assert rerun.response.embeds[0].title == "Django vs Flask"
    async with sessions() as session:
        rows = (await session.exec(select(Comparison.guild_id, Comparison.run_count))).all()
    assert sorted(rows) == sorted([(here.id, 3), (here.id, 1), (there.id, 1)])


async def test_tool_card_has_links_category_path_and_figures(simcord_env, world):
    _guild, channel, member = world
    result = await member.slash(channel, "tool", name="koa")

    assert not result.ephemeral
    card, votes = result.response.embeds
    fields = _fields(card)
    assert card.title == "Koa" and card.url == "https://koajs.com"
    assert _flat(SEED.tools["Koa"].description) in _flat(card.description)
    assert fields["Category"] == SEED.category_path
    assert "[Repository](https://github.com/koajs/koa)" in fields["Links"]
    assert "First release: 2013" in fields["Facts"]
    assert _flat(fields["Figures"]) == (
        "StackShare (2025-01-01): Stacks 812 · Followers 483 · Votes 12 · GitHub Stars 35.7K"
        " · GitHub Forks 3.2K No stacks, follows or votes from this server's members yet."
    )
    assert "Also known as" not in fields  # koa.js, koajs: spellings, for search only
    assert fields["Integrations"] == "Node.js"
    assert "ExpressJS" in fields["Alternatives"]
    # The counts' note sits under the counts.
    assert "`6` Async/Await" in _fields(votes)["Pros"]
    assert card.footer.text is None
    assert votes.footer.text == "Counts: votes on StackShare as of 2025-01-01."
    assert result.response.attachments == [] and not votes.image.url
    assert _labels(result.response) == [a for a in ACTIONS if a != "Details"]

    chart = final(await member.click(result.response, label="Chart"))
    assert chart.embeds[0].description == "Top 3 pros and cons: a full bar is 6 votes."
    drf = (await member.slash(channel, "tool", name="django rest framework")).response
    assert _fields(drf.embeds[0])["Also known as"] == "DRF"


async def test_alternatives_lists_one_line_descriptions_and_offers_a_comparison(simcord_env, world):
    _guild, channel, member = world
    result = await member.slash(channel, "alternatives", name="flask")

    assert not result.ephemeral
    (embed,) = result.response.embeds
    assert embed.title == "Alternatives to Flask"
    assert "**Django REST framework**: It is a powerful and flexible toolkit" in embed.description
    select_menu = result.response.components[0]["components"][0]
    chosen = [o["value"] for o in select_menu["options"][:2]]
    compared = await member.select(result.response, chosen)
    title = compared.response.embeds[0].title
    assert title.startswith("Flask vs ") and title.count(" vs ") == 2


async def test_unknown_name_for_tool_and_alternatives_offers_buttons(simcord_env, world):
    _guild, channel, member = world
    result = await member.slash(channel, "alternatives", name="sql")
    assert result.ephemeral
    label = result.response.components[0]["components"][0]["label"]
    shown = await member.click(result.response, label=label)
    assert shown.response.embeds[0].title == f"Alternatives to {label}"

    result = await member.slash(channel, "tool", name="sql")
    label = result.response.components[0]["components"][0]["label"]
    shown = await member.click(result.response, label=label)
    assert shown.response.embeds[0].title == label


async def test_five_tools_with_the_longest_texts_fit_in_one_message(simcord_env, world, sessions):
    _guild, channel, member = world
    async with sessions() as session:
        tools = (await session.exec(select(Tool))).all()
    longest = sorted(
        tools,
        key=lambda tool: -(len(tool.description) + sum(len(f) for f in tool.features)),
    )[:5]
    result = await member.slash(
        channel,
        "compare",
        **dict(
            zip(
                ("first", "second", "third", "fourth", "fifth"),
                (t.slug for t in longest),
                strict=True,
            )
        ),
    )
    embeds = result.response.embeds
    assert len(embeds) == DEFAULT_EMBEDS
    assert sum(len(embed) for embed in embeds) <= 6000
    details = await member.click(result.response, label="Details")
    assert len(details.response.embeds) == 5
    # The contract check (conftest) validates the body against the spec and the limits too.


async def test_a_blank_option_is_not_a_tool(simcord_env, world):
    _guild, channel, member = world
    result = await member.slash(channel, "compare", first="flask", second="   ")
    assert result.ephemeral
    assert result.response.content == "Name at least two different tools to compare."
    assert isinstance(simcord_env.errors[-1].original, InvalidInput)


async def test_buttons_naming_removed_tools_answer_privately(simcord_env, world, sessions):
    _guild, channel, member = world
    message = (await _compare_trio(member, channel)).response
    async with sessions() as session, session.begin():
        koa = (await session.exec(select(Tool).where(Tool.slug == "koa"))).one()
        await session.delete(koa)

    lists = await member.click(message, label="Pros & cons")
    assert [embed.title for embed in lists.response.embeds] == [
        "ExpressJS: pros and cons",
        "Flask: pros and cons",
    ]
    rerun = await member.slash(channel, "compare", first="expressjs", second="flask")
    assert rerun.response.embeds[0].title == "ExpressJS vs Flask"

    async with sessions() as session, session.begin():
        for slug in ("expressjs", "flask"):
            await session.delete((await session.exec(select(Tool).where(Tool.slug == slug))).one())
    gone = await member.click(message, label="Alternatives")
    assert gone.ephemeral
    assert gone.response.content == (
        "Those tools are no longer in the catalog; run the command again."
    )
    related = await member.click(rerun.response, label="Pros & cons")
    assert related.ephemeral and "no longer in the catalog" in related.response.content


async def test_menus_and_related_buttons_work_after_a_restart(
    simcord_env, world, settings, engine, sessions, chart_renderer
):
    _guild, channel, member = world
    await member.slash(channel, "compare", first="flask", second="django")
    message = (await _compare_trio(member, channel)).response
    offer = await member.click(message, label="Follow")
    alternatives = (await member.slash(channel, "alternatives", name="koa")).response

    await simcord_env.restart_bot(StackupBot(settings, engine, sessions, charts=chart_renderer))

    (flask,) = await _tool_ids(sessions, "flask")
    answer = await member.select(offer.response, [str(flask)])
    assert answer.response.content == "You follow **Flask** in this server."
    rerun = await member.click(message, label="Django vs Flask")
    assert rerun.response.embeds[0].title == "Django vs Flask"
    chosen = alternatives.components[0]["components"][0]["options"][0]
    compared = await member.select(alternatives, [chosen["value"]])
    assert compared.response.embeds[0].title == f"Koa vs {chosen['label']}"


async def test_compare_works_in_direct_messages_without_server_data(simcord_env, sessions):
    user = simcord_env.create_user("dee")
    result = await user.slash("compare", first="flask", second="koa")

    overview = result.response.embeds[0]
    assert overview.title == "Flask vs Koa"
    assert _fields(overview)["Members"] == "No stacks, follows or votes from members yet."
    follow = await user.click(result.response, label="Follow")
    assert follow.ephemeral
    assert follow.response.content == "Following works in a server, not in direct messages."
    async with sessions() as session:
        assert (await session.exec(select(Comparison))).all() == []


async def test_long_pros_and_cons_lists_page_through_the_bot(simcord_env, world, sessions):
    _guild, channel, member = world
    (flask,) = await _tool_ids(sessions, "flask")
    async with sessions() as session, session.begin():
        session.add_all(
            ProCon(tool_id=flask, kind="pro", text=f"Reason {n:03d} " + "x" * 80)
            for n in range(150)
        )
    message = (await member.slash(channel, "compare", first="flask", second="koa")).response

    first = await member.click(message, label="Pros & cons")
    assert first.ephemeral and first.response.content.startswith("Page 1 of ")
    pages = int(first.response.content.rsplit(" ", 1)[1])
    seen = [first.response.embeds]
    shown = first.response
    for number in range(2, pages + 1):
        shown = (await member.click(shown, label="Next ▶")).response
        assert shown.content == f"Page {number} of {pages}"
        seen.append(shown.embeds)
    text = "\n".join(f.value for embeds in seen for e in embeds for f in e.fields)
    assert all(f"Reason {n:03d} " in text for n in range(150))
    back = await member.click(shown, label="◀ Previous")
    assert back.response.content == f"Page {pages - 1} of {pages}"


async def test_runs_over_the_members_limit_are_answered_but_not_counted(
    simcord_env, simcord_bot, world, sessions
):
    _guild, channel, member = world
    simcord_bot.limits.clock = lambda: 1000.0
    simcord_bot.limits.rules = member_rules(additions_per_minute=5, changes_per_minute=2)
    for _ in range(3):
        result = await member.slash(channel, "compare", first="flask", second="django")
        assert result.response.embeds[0].title == "Flask vs Django"
    async with sessions() as session:
        runs = (await session.exec(select(Comparison.run_count))).all()
    assert runs == [2]
