"""Advice posts through the real bot under simcord: setup, the forum post and its tags,
recommendations voted with reactions, the live ranking, closing with a verdict, listing,
and votes repaired from the messages after events were missed."""

from __future__ import annotations

import random
import re

import discord
import pytest
from discord import app_commands
from simcord.backend.models import Overwrite
from simcord.enums import OverwriteType
from sqlmodel import select

from bot.bot import StackupBot
from bot.charts import VotesChartSpec
from bot.errors import InvalidInput, NotAllowed, StackupError
from bot.render.advice import NOT_COUNTED
from db.models import (
    AdvicePost,
    AdvicePostTool,
    Comparison,
    Decision,
    GuildSettings,
    Recommendation,
    Vote,
)
from tests.conftest import final, last_error, rows, tool_id
from tests.discord_contract import IS_COMPONENTS_V2, TEXT_DISPLAY, with_nested

UP, DOWN = "👍", "👎"
MEDIA_GALLERY = 12
NOT_COUNTED_ON_RECOMMENDATIONS = "Stackup's own are there to click, not counted"


@pytest.fixture
def world(simcord_env):
    return advice_world(simcord_env)


def advice_world(simcord_env) -> dict:
    """A server with #general, an #advice forum, members, admins (Manage Server) and mods."""
    guild = simcord_env.create_guild()
    channel = guild.create_text_channel("general")
    forum = guild.create_forum_channel("advice")
    admins = guild.create_role(
        "Admins", permissions=discord.Permissions(manage_guild=True, manage_threads=True)
    )
    mods = guild.create_role("Mods", permissions=discord.Permissions(manage_threads=True))
    members = {
        "ada": guild.add_member(simcord_env.create_user("ada")),
        "ben": guild.add_member(simcord_env.create_user("ben")),
        "cy": guild.add_member(simcord_env.create_user("cy")),
        "dee": guild.add_member(simcord_env.create_user("dee")),
        "admin": guild.add_member(simcord_env.create_user("admin"), roles=[admins]),
        "mod": guild.add_member(simcord_env.create_user("mod"), roles=[mods]),
    }
    return {"guild": guild, "channel": channel, "forum": forum, **members}


async def deny_the_bot(env, channel, denied: discord.Permissions) -> None:
    env.backend.edit_channel(
        channel.id,
        {},
        overwrites=[Overwrite(env.bot.user.id, OverwriteType.MEMBER, allow=0, deny=denied.value)],
    )
    await env.settle()


async def set_forum(world) -> None:
    result = await world["admin"].slash(
        world["channel"], "stackup setup", advice_forum=world["forum"]
    )
    assert result.ephemeral


async def open_post(env, world, *, tools="Flask, Django", asker="ada", **options):
    before = len(world["forum"].threads)
    result = await world[asker].slash(
        world["channel"],
        "advice ask",
        title=options.pop("title", "Flask or Django for a REST API?"),
        question=options.pop("question", "Team of three, a REST API for a mobile app."),
        tools=tools,
        **options,
    )
    threads = world["forum"].threads
    assert len(threads) == before + 1, result
    return threads[-1], result


def forum_tags(env, forum_id: int) -> dict[int, str]:
    """The forum's tags as Discord holds them (not the bot's cache, which learns late)."""
    return {int(t["id"]): t["name"] for t in env.backend.get_channel(forum_id).available_tags}


def applied_tags(env, thread_id: int) -> list[str]:
    thread = env.backend.get_channel(thread_id)
    tags = forum_tags(env, thread.parent_id)
    return [tags[int(t)] for t in thread.applied_tags]


def starter_of(thread):
    return thread.history()[0]  # oldest first


async def recommend(world, thread, who: str, tool: str, reason: str = "It served us well."):
    result = await world[who].slash(thread, "advice recommend", tool=tool, reason=reason)
    return result, result.response


# ---------------------------------------------------------------- setup


async def test_setup_is_for_server_managers_and_saves_the_forum(simcord_env, world, sessions):
    result = await world["ada"].slash(
        world["channel"], "stackup setup", advice_forum=world["forum"]
    )
    assert result.ephemeral
    assert result.response.content == "You need the Manage Server permission to do that."
    assert isinstance(last_error(simcord_env), app_commands.MissingPermissions)
    assert await rows(sessions, select(GuildSettings)) == []

    result = await world["admin"].slash(
        world["channel"], "stackup setup", advice_forum=world["forum"], idle_days=10
    )
    assert result.ephemeral
    fields = {f.name: f.value for f in result.response.embeds[0].fields}
    assert fields["Advice forum"] == f"<#{world['forum'].id}>"
    assert fields["Idle posts close after"] == "10 days"
    (saved,) = await rows(sessions, select(GuildSettings))
    assert (saved.advice_forum_id, saved.idle_days) == (world["forum"].id, 10)
    assert list(forum_tags(simcord_env, world["forum"].id).values()) == ["Solved"]


async def test_setup_says_what_stackup_lacks_in_the_forum(simcord_env, world, sessions):
    await deny_the_bot(
        simcord_env, world["forum"], discord.Permissions(manage_threads=True, manage_channels=True)
    )
    result = await world["admin"].slash(
        world["channel"], "stackup setup", advice_forum=world["forum"]
    )
    notes = {f.name: f.value for f in result.response.embeds[0].fields}["Permissions"]
    assert "Missing **Manage Threads**" in notes and "lock and archive" in notes
    assert "Manage Channels" in notes and "No **Solved** tag" in notes
    (saved,) = await rows(sessions, select(GuildSettings))
    assert saved.advice_forum_id == world["forum"].id  # saved all the same


# ---------------------------------------------------------------- asking


async def test_ask_opens_a_forum_post_with_tool_tags(simcord_env, world, sessions):
    await set_forum(world)
    thread, result = await open_post(
        simcord_env, world, context="Python shop, 10k users, deadline in a month."
    )
    assert result.ephemeral
    assert f"<#{thread.id}>" in final(result).content

    assert thread.name == "Flask or Django for a REST API?"
    starter = starter_of(thread)
    (embed,) = starter.embeds
    assert embed.title == "Needs advice on Flask, Django"
    assert embed.description == "Team of three, a REST API for a mobile app."
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Context"] == "Python shop, 10k users, deadline in a month."
    assert "None yet" in fields["Recommendations"]

    assert sorted(applied_tags(simcord_env, thread.id)) == ["Django", "Flask"]
    (post,) = await rows(sessions, select(AdvicePost))
    assert (post.thread_id, post.asker_id, post.status) == (thread.id, world["ada"].id, "open")
    named = await rows(sessions, select(AdvicePostTool.tool_id).order_by(AdvicePostTool.position))
    assert named == [await tool_id(sessions, "flask"), await tool_id(sessions, "django")]
    (asked,) = await rows(sessions, select(Comparison))
    assert (asked.ask_count, asked.run_count) == (1, 0)


async def test_a_full_forum_gets_no_new_tags_but_existing_ones_apply(simcord_env, world):
    await set_forum(world)  # creates "Solved": 1 tag
    backend = simcord_env.backend
    forum = backend.get_channel(world["forum"].id)
    existing = [
        {
            "id": str(backend.snowflake()),
            "name": name,
            "moderated": False,
            "emoji_id": None,
            "emoji_name": None,
        }
        for name in ["Django", *(f"Topic {n}" for n in range(18))]
    ]
    backend.edit_channel(forum.id, {"available_tags": [*forum.available_tags, *existing]})
    await simcord_env.settle()

    thread, _ = await open_post(simcord_env, world, tools="Flask, Django")
    tags = {int(t["id"]): t["name"] for t in backend.get_channel(forum.id).available_tags}
    assert len(tags) == 20  # Discord's limit: no tag for Flask
    stored = backend.get_channel(thread.id)
    assert [tags[t] for t in stored.applied_tags] == ["Django"]


async def test_a_forum_stackup_may_not_post_in_is_explained_privately(simcord_env, world, sessions):
    await set_forum(world)
    await deny_the_bot(
        simcord_env,
        world["forum"],
        discord.Permissions(send_messages=True, send_messages_in_threads=True),
    )
    result = await world["ada"].slash(
        world["channel"], "advice ask", question="Which?", tools="Flask, Django"
    )
    assert result.ephemeral
    assert "Stackup may not open posts in" in final(result).content
    assert isinstance(last_error(simcord_env), InvalidInput)
    assert await rows(sessions, select(AdvicePost)) == []


async def test_ask_without_a_question_opens_a_form(simcord_env, world, sessions):
    await set_forum(world)
    shown = await world["ben"].slash(world["channel"], "advice ask", tools="Koa")
    assert shown.modal is not None
    await world["ben"].submit_modal(
        shown,
        {
            "title": "Koa for a small API?",
            "question": "Is Koa still a good choice in 2026?",
            "tools": "Koa, ExpressJS",
            "context": "Two developers.",
        },
    )
    (thread,) = world["forum"].threads
    assert thread.name == "Koa for a small API?"
    assert starter_of(thread).embeds[0].title == "Needs advice on Koa, ExpressJS"


async def test_a_refused_form_can_be_edited_and_sent_again(simcord_env, world):
    await set_forum(world)
    shown = await world["ben"].slash(world["channel"], "advice ask")
    written = {
        "title": "Queue for jobs?",
        "question": "A long, careful question we do not want to type twice.",
        "tools": "RabbitMQ, Nosuchqueuexyz",
        "context": "Three services.",
    }
    refused = await world["ben"].submit_modal(shown, written)
    assert refused.ephemeral and "Nosuchqueuexyz" in refused.response.content
    assert isinstance(last_error(simcord_env), InvalidInput)
    assert world["forum"].threads == []

    again = await world["ben"].click(refused.response, label="Edit and try again")
    values = {
        row["components"][0]["custom_id"]: row["components"][0].get("value")
        for row in again.modal["components"]
    }
    assert values == written
    await world["ben"].submit_modal(again, {**written, "tools": "RabbitMQ, Apache Kafka"})
    (thread,) = world["forum"].threads
    assert thread.name == "Queue for jobs?"


async def test_compare_button_opens_the_form_with_the_tools(simcord_env, world):
    await set_forum(world)
    compared = await world["ada"].slash(world["channel"], "compare", first="Flask", second="Django")
    shown = await world["ada"].click(compared.response, label="Ask for advice")
    assert shown.modal is not None
    values = {
        c["custom_id"]: c.get("value")
        for row in shown.modal["components"]
        for c in row.get("components", [row.get("component")])
        if c
    }
    assert values["tools"] == "Flask, Django"


async def test_without_a_forum_posts_are_threads_in_the_channel(simcord_env, world, sessions):
    result = await world["ada"].slash(
        world["channel"], "advice ask", question="Which queue?", tools="RabbitMQ, Apache Kafka"
    )
    (thread,) = world["channel"].threads
    assert thread.name == "Which queue?"
    assert starter_of(thread).embeds[0].title == "Needs advice on RabbitMQ, Apache Kafka"
    assert f"<#{thread.id}>" in final(result).content


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"tools": "Flask, Nosuchtoolxyz"}, "Not in the catalog"),
        ({"question": "   \n  "}, None),  # blank: the form opens instead
        ({"question": "x" * 4001}, "4000 characters"),
        ({"tools": "Flask, Django, Koa, ExpressJS, FastAPI, Laravel"}, "at most 5"),
        ({"tools": ""}, None),
        ({"title": "t" * 101}, "100 characters"),
    ],
)
async def test_bad_questions_get_a_private_explanation(
    simcord_env, world, sessions, options, expected
):
    await set_forum(world)
    values = {"title": "A title", "question": "A question?", "tools": "Flask, Django"}
    values.update(options)
    result = await world["ada"].slash(world["channel"], "advice ask", **values)
    if expected is None:
        # A blank question opens the form, and nothing is posted or refused yet; no tools
        # at all is refused.
        if result.modal is not None:
            assert values["question"].strip() == ""
            assert simcord_env.errors == []
        else:
            assert isinstance(last_error(simcord_env), InvalidInput)
    else:
        assert result.ephemeral
        assert expected in result.response.content
        assert isinstance(last_error(simcord_env), InvalidInput)
    assert world["forum"].threads == []
    assert await rows(sessions, select(AdvicePost)) == []


# ---------------------------------------------------------------- recommending and voting


async def test_recommendations_are_voted_with_reactions(simcord_env, world, sessions):
    await set_forum(world)
    thread, _ = await open_post(simcord_env, world)
    result, message = await recommend(
        world, thread, "ben", "Flask", "Small, explicit, quick to learn."
    )
    assert not result.ephemeral
    (embed,) = message.embeds
    assert embed.title == "Recommends Flask"
    assert embed.description == "Small, explicit, quick to learn."
    stored = thread.history()[-1]
    assert {
        r.emoji.name if hasattr(r.emoji, "name") else str(r.emoji) for r in stored.reactions
    } >= {UP, DOWN}

    (recommendation,) = await rows(sessions, select(Recommendation))
    assert recommendation.message_id == stored.id

    async def counts():
        (row,) = await rows(sessions, select(Recommendation))
        return row.up_count, row.down_count

    await world["cy"].react(stored, UP)
    await world["dee"].react(stored, DOWN)
    assert await counts() == (1, 1)
    # Switching replaces: dee's 👎 becomes 👍, and the bot takes the old 👎 away.
    await world["dee"].react(stored, UP)
    assert await counts() == (2, 0)
    reactions = simcord_env.backend.get_message(thread.id, stored.id).reactions
    shown = {r.emoji: set(r.user_ids) for r in reactions}
    assert world["dee"].id not in shown[DOWN]
    assert world["dee"].id in shown[UP]
    # Removing the reaction removes the vote.
    await world["cy"].unreact(stored, UP)
    assert await counts() == (1, 0)
    # The recommender's own vote, the bot's reactions and other emojis do not count.
    await world["ben"].react(stored, UP)
    await world["cy"].react(stored, "🎉")
    assert await counts() == (1, 0)
    votes = await rows(sessions, select(Vote.member_id, Vote.value))
    assert votes == [(world["dee"].id, 1)]


async def test_recommending_outside_an_advice_post_or_twice_is_refused(
    simcord_env, world, sessions
):
    await set_forum(world)
    result = await world["ben"].slash(
        world["channel"], "advice recommend", tool="Flask", reason="Good."
    )
    assert result.ephemeral and "not an advice post" in result.response.content
    assert isinstance(last_error(simcord_env), InvalidInput)
    thread, _ = await open_post(simcord_env, world)
    await recommend(world, thread, "ben", "Flask")
    result = await world["ben"].slash(thread, "advice recommend", tool="Flask", reason="Again.")
    assert result.ephemeral and "already recommended" in result.response.content
    result = await world["ben"].slash(thread, "advice recommend", tool="Nosuchtoolxyz", reason="?")
    assert result.ephemeral and "No tool called" in result.response.content
    result = await world["ben"].slash(thread, "advice recommend", tool="Django", reason="  ")
    assert result.ephemeral and "Say why" in result.response.content
    assert all(isinstance(getattr(e, "original", e), StackupError) for e in simcord_env.errors)
    assert len(await rows(sessions, select(Recommendation))) == 1


async def test_the_live_ranking_is_edited_at_most_once_per_interval(simcord_env, world, settings):
    await set_forum(world)
    thread, _ = await open_post(simcord_env, world)
    await recommend(world, thread, "ben", "Flask")
    await recommend(world, thread, "cy", "Django")
    # Two intervals: the pending edit goes out, then the post has been quiet for a while.
    await simcord_env.advance_time(settings.ranking_edit_seconds)
    await simcord_env.advance_time(settings.ranking_edit_seconds)
    flask_message, django_message = thread.history()[1:3]
    starter = starter_of(thread)

    def starter_edits() -> int:
        return sum(
            1
            for r in simcord_env.http_requests
            if r.method == "PATCH" and r.path.endswith(f"/messages/{starter.id}")
        )

    edits_before = starter_edits()
    for who in ("ada", "dee", "admin", "mod"):
        await world[who].react(flask_message, UP)
    await world["dee"].react(django_message, DOWN)
    # The first change is shown at once; the rest wait for the interval to pass.
    assert starter_edits() == edits_before + 1
    await simcord_env.advance_time(settings.ranking_edit_seconds)
    assert starter_edits() == edits_before + 2
    ranking = {f.name: f.value for f in starter_of(thread).embeds[0].fields}["Recommendations"]
    lines = ranking.splitlines()
    assert "Flask" in lines[0] and "+4" in lines[0]
    assert "Django" in lines[1] and "−1" in lines[1]


# ---------------------------------------------------------------- closing


def stored(env, thread, message):
    return env.backend.get_message(thread.id, message.id)


def verdict_texts(env, thread, message) -> list[str]:
    """The verdict's text displays, as Discord holds them (a Components V2 message)."""
    held = stored(env, thread, message)
    assert held.flags & IS_COMPONENTS_V2 and not held.content and not held.embeds
    return [c["content"] for c in with_nested(held.components) if c["type"] == TEXT_DISPLAY]


@pytest.fixture
def charts_drawn(simcord_env, monkeypatch) -> list[VotesChartSpec]:
    """The votes charts' data as handed to the chart workers, drawn all the same."""
    drawn: list[VotesChartSpec] = []
    charts = simcord_env.bot.charts
    draw = charts.render_votes

    async def spy(spec: VotesChartSpec) -> bytes | None:
        drawn.append(spec)
        return await draw(spec)

    monkeypatch.setattr(charts, "render_votes", spy)
    return drawn


async def three_voted_recommendations(world, thread) -> None:
    """Flask (ben) 👍 3 · 👎 0, FastAPI (dee) 👍 2 · 👎 1, Django (cy) 👍 1 · 👎 1."""
    await recommend(world, thread, "ben", "Flask", "Small and explicit.")
    await recommend(world, thread, "cy", "Django", "Batteries included.")
    await recommend(world, thread, "dee", "FastAPI", "Typed and async.")
    flask, django, fastapi = thread.history()[1:4]
    votes = {
        flask: [("cy", UP), ("dee", UP), ("admin", UP)],
        django: [("mod", UP), ("ben", DOWN)],
        fastapi: [("ada", UP), ("mod", UP), ("ben", DOWN)],
    }
    for message, cast in votes.items():
        for who, emoji in cast:
            await world[who].react(message, emoji)


RANKED = re.compile(r"\*\*(?P<tool>[^*]+)\*\* · \S+ \(👍 (?P<up>\d+) · 👎 (?P<down>\d+)\)")


def ranked_votes(text: str) -> dict[str, tuple[int, int]]:
    return {m["tool"]: (int(m["up"]), int(m["down"])) for m in RANKED.finditer(text)}


async def test_only_the_asker_or_thread_managers_close(simcord_env, world, sessions):
    await set_forum(world)
    thread, _ = await open_post(simcord_env, world)
    result = await world["ben"].slash(thread, "advice close")
    assert result.ephemeral and "Only the member who asked" in result.response.content
    assert isinstance(last_error(simcord_env), NotAllowed)
    (post,) = await rows(sessions, select(AdvicePost))
    assert post.status == "open"

    result = await world["mod"].slash(thread, "advice close")
    assert not result.ephemeral
    (post,) = await rows(sessions, select(AdvicePost))
    assert post.status == "closed"
    assert post.accepted_tool_id is None
    assert await rows(sessions, select(Decision)) == []


async def test_closing_with_an_accepted_tool_gives_a_verdict_and_a_decision(
    simcord_env, world, sessions
):
    await set_forum(world)
    thread, _ = await open_post(simcord_env, world)
    await recommend(world, thread, "ben", "Flask", "Small and explicit.")
    await recommend(world, thread, "cy", "Django", "Batteries included.")
    flask_message = thread.history()[1]
    await world["dee"].react(flask_message, UP)
    await world["admin"].react(flask_message, UP)

    result = await world["ada"].slash(thread, "advice close", accepted="Flask")
    head, ranking = verdict_texts(simcord_env, thread, final(result))
    assert head.startswith("## Verdict: Flask\n")
    assert f"<@{world['ada'].id}> chose **Flask** over Django." in head
    assert ranking.index("Flask") < ranking.index("Django")
    assert "+2" in ranking

    stored = simcord_env.backend.get_channel(thread.id)
    assert stored.thread_metadata.locked and stored.thread_metadata.archived
    tags = {
        int(t["id"]): t["name"]
        for t in simcord_env.backend.get_channel(world["forum"].id).available_tags
    }
    assert sorted(tags[t] for t in stored.applied_tags) == ["Django", "Flask", "Solved"]
    (decision,) = await rows(sessions, select(Decision))
    assert decision.chosen_tool_id == await tool_id(sessions, "flask")
    assert decision.over_tool_id == await tool_id(sessions, "django")
    assert decision.member_id == world["ada"].id
    starter = {f.name: f.value for f in starter_of(thread).embeds[0].fields}
    assert "Flask" in starter["Verdict"]

    # Closed: no more recommendations; a second close says so.
    result = await world["ben"].slash(thread, "advice recommend", tool="Koa", reason="Tiny.")
    assert result.ephemeral and "closed" in result.response.content
    assert isinstance(last_error(simcord_env), InvalidInput)

    # /tool and /compare show the advice figures.
    card = await world["ben"].slash(world["channel"], "tool", name="Flask")
    text = str([e.to_dict() for e in card.response.embeds])
    assert "Named in 1 advice post" in text and "chosen in 1" in text
    assert f"<@{world['ada'].id}> chose **Flask** over Django" in text
    compared = await world["ben"].slash(world["channel"], "compare", first="Flask", second="Django")
    text = str([e.to_dict() for e in compared.response.embeds])
    assert "1 advice post here named two or more of these; **Flask** won 1 of them." in text
    assert f"<@{world['ada'].id}> chose **Flask** over Django" in text


async def test_a_verdict_states_each_figure_once_with_a_chart_from_three_recommendations(
    simcord_env, world, charts_drawn
):
    await set_forum(world)
    thread, _ = await open_post(simcord_env, world, tools="Flask, Django, FastAPI")
    await three_voted_recommendations(world, thread)

    result = await world["ada"].slash(thread, "advice close", accepted="Flask")
    verdict = final(result)
    head, ranking = verdict_texts(simcord_env, thread, verdict)
    assert head.split("\n")[1] == (
        f"<@{world['ada'].id}> chose **Flask** over Django and FastAPI."
        f" <@{world['ben'].id}> recommended it:"
    )
    text = "\n".join((head, ranking))
    for score in ("+3", "+1", "· 0 ("):
        assert text.count(score) == 1, score
    for votes in ("👍 3 · 👎 0", "👍 2 · 👎 1", "👍 1 · 👎 1"):
        assert text.count(votes) == 1, votes

    # One bar pair per recommendation, in the ranking's order, on sides labelled 👎 and 👍.
    (spec,) = charts_drawn
    assert (spec.down_label, spec.up_label) == (DOWN, UP)
    assert [(row.label, row.up, row.down, row.chosen) for row in spec.rows] == [
        ("Flask", 3, 0, True),
        ("FastAPI", 2, 1, False),
        ("Django", 1, 1, False),
    ]
    held = stored(simcord_env, thread, verdict)
    (attachment,) = held.attachments
    galleries = [c for c in with_nested(held.components) if c["type"] == MEDIA_GALLERY]
    (gallery,) = galleries
    # Discord resolves "attachment://" to the uploaded chart's own address.
    assert gallery["items"][0]["media"]["url"] == attachment["url"]
    assert attachment["filename"].endswith(".png")


async def test_a_verdict_on_two_recommendations_has_no_chart(simcord_env, world, charts_drawn):
    await set_forum(world)
    thread, _ = await open_post(simcord_env, world)
    await recommend(world, thread, "ben", "Flask")
    await recommend(world, thread, "cy", "Django")
    await world["dee"].react(thread.history()[1], UP)

    result = await world["ada"].slash(thread, "advice close")
    verdict = final(result)
    head, ranking = verdict_texts(simcord_env, thread, verdict)
    assert head.startswith("## Verdict: Flask\nMembers' votes favour **Flask**.")
    assert ranked_votes(ranking) == {"Flask": (1, 0), "Django": (0, 0)}
    assert charts_drawn == []
    held = stored(simcord_env, thread, verdict)
    assert held.attachments == []
    assert MEDIA_GALLERY not in [c["type"] for c in with_nested(held.components)]


async def test_the_ranking_agrees_with_the_reactions_members_see(simcord_env, world, settings):
    """Each recommendation shows Stackup's own 👍 and 👎 beside members' (so members need
    only click them): its counts read one more than the ranking's, and both say why."""
    await set_forum(world)
    thread, _ = await open_post(simcord_env, world, tools="Flask, Django, FastAPI")
    await three_voted_recommendations(world, thread)
    await simcord_env.advance_time(settings.ranking_edit_seconds)
    starter = starter_of(thread).embeds[0]
    ranking = {f.name: f.value for f in starter.fields}["Recommendations"]

    bot_id = simcord_env.bot.user.id
    seen = {}
    for message in thread.history()[1:4]:
        tool = message.embeds[0].title.removeprefix("Recommends ")
        chips = {r.emoji: set(r.user_ids) for r in stored(simcord_env, thread, message).reactions}
        assert bot_id in chips[UP] and bot_id in chips[DOWN]
        seen[tool] = (len(chips[UP]) - 1, len(chips[DOWN]) - 1)
        assert NOT_COUNTED_ON_RECOMMENDATIONS in message.embeds[0].footer.text
    assert (
        ranked_votes(ranking)
        == seen
        == {
            "Flask": (3, 0),
            "FastAPI": (2, 1),
            "Django": (1, 1),
        }
    )
    assert NOT_COUNTED in starter.footer.text

    result = await world["ada"].slash(thread, "advice close")
    _, votes = verdict_texts(simcord_env, thread, final(result))
    assert ranked_votes(votes) == seen
    assert f"{NOT_COUNTED}." in votes


async def test_an_idle_verdict_pings_the_asker_above_it(simcord_env, world, sessions):
    await set_forum(world)
    thread, _ = await open_post(simcord_env, world)
    await recommend(world, thread, "ben", "Flask")
    await world["cy"].react(thread.history()[-1], UP)
    advice = simcord_env.bot.services.advice
    summary = await advice.close(
        thread_id=thread.id, closer_id=world["ada"].id, may_manage_threads=False
    )

    assert await simcord_env.bot.flows.advice.close_idle_post(summary, 7)
    await simcord_env.settle()
    verdict = thread.history()[-1]
    lead, head, _ = verdict_texts(simcord_env, thread, verdict)
    assert lead == (
        f"<@{world['ada'].id}> nothing happened here for 7 days, so Stackup closed this post"
        " with its verdict."
    )
    assert head.startswith("## Verdict: Flask")
    # The asker, and only the asker, is pinged: not the recommender the ranking names.
    assert stored(simcord_env, thread, verdict).ping_user_ids == [world["ada"].id]


async def test_close_offers_the_recommended_tools(simcord_env, world):
    await set_forum(world)
    thread, _ = await open_post(simcord_env, world)
    await recommend(world, thread, "ben", "Flask")
    await recommend(world, thread, "cy", "Django")
    await world["dee"].react(thread.history()[1], UP)
    choices = await world["ada"].autocomplete(thread, "advice close", "accepted", "")
    assert choices == [
        {"name": "Flask (+1)", "value": "flask"},
        {"name": "Django (+0)", "value": "django"},
    ]
    choices = await world["ada"].autocomplete(thread, "advice close", "accepted", "dja")
    assert [c["value"] for c in choices] == ["django"]


async def test_a_deleted_thread_closes_its_post(simcord_env, world, sessions):
    await set_forum(world)
    thread, _ = await open_post(simcord_env, world)
    await recommend(world, thread, "ben", "Flask")
    simcord_env.backend.delete_channel(thread.id)
    await simcord_env.settle()
    (post,) = await rows(sessions, select(AdvicePost))
    assert post.status == "closed" and post.verdict_tool_id is None
    assert await simcord_env.bot.services.votes.open_messages(shard_ids=None, shard_count=1) == []


async def test_setup_without_options_shows_the_settings(simcord_env, world):
    result = await world["admin"].slash(world["channel"], "stackup setup")
    fields = {f.name: f.value for f in result.response.embeds[0].fields}
    assert result.ephemeral
    assert fields["Advice forum"].startswith("none")
    assert fields["Idle posts close after"] == "7 days"


async def test_accepting_a_tool_nobody_recommended_is_refused(simcord_env, world, sessions):
    await set_forum(world)
    thread, _ = await open_post(simcord_env, world)
    await recommend(world, thread, "ben", "Flask")
    result = await world["ada"].slash(thread, "advice close", accepted="Koa")
    assert (
        result.ephemeral
        and "Accept one of the tools recommended here: Flask" in result.response.content
    )
    assert isinstance(last_error(simcord_env), InvalidInput)
    (post,) = await rows(sessions, select(AdvicePost))
    assert post.status == "open"


# ---------------------------------------------------------------- listing


async def test_advice_list_filters_by_tool_and_status(simcord_env, world):
    await set_forum(world)
    flask_thread, _ = await open_post(simcord_env, world, title="Flask or Django?")
    await open_post(simcord_env, world, title="Kafka or RabbitMQ?", tools="Apache Kafka, RabbitMQ")
    await world["ada"].slash(flask_thread, "advice close")

    result = await world["ben"].slash(world["channel"], "advice list", tool="Flask")
    embed = result.response.embeds[0]
    assert embed.title.endswith("Flask")
    assert [f.name for f in embed.fields] == ["Flask or Django?"]
    assert f"/{flask_thread.id}" in embed.fields[0].value

    result = await world["ben"].slash(world["channel"], "advice list", status="open")
    assert [f.name for f in result.response.embeds[0].fields] == ["Kafka or RabbitMQ?"]


async def test_advice_list_pages(simcord_env, world):
    await set_forum(world)
    for n in range(7):
        await open_post(simcord_env, world, title=f"Question {n}")
    result = await world["ben"].slash(world["channel"], "advice list")
    first = [f.name for f in result.response.embeds[0].fields]
    assert first == [f"Question {n}" for n in range(6, 1, -1)]
    paged = await world["ben"].click(result.response, label="Older ▶")
    message = paged.response if paged.response is not None else result.response
    assert [f.name for f in message.embeds[0].fields] == ["Question 1", "Question 0"]


# ---------------------------------------------------------------- repair


async def test_votes_missed_while_stopped_are_repaired_at_start(
    simcord_env, world, sessions, settings, engine, chart_renderer
):
    await set_forum(world)
    thread, _ = await open_post(simcord_env, world)
    await recommend(world, thread, "ben", "Flask")
    message = thread.history()[-1]
    await world["cy"].react(message, UP)
    await world["dee"].react(message, DOWN)

    # The bot stops hearing reactions (as if offline) while members change them.
    await simcord_env.bot.remove_cog("Votes")
    await world["cy"].unreact(message, UP)
    await world["admin"].react(message, UP)
    await world["mod"].react(message, UP)
    (row,) = await rows(sessions, select(Recommendation))
    assert (row.up_count, row.down_count) == (1, 1)  # stale

    await simcord_env.restart_bot(StackupBot(settings, engine, sessions, charts=chart_renderer))
    (row,) = await rows(sessions, select(Recommendation))
    assert (row.up_count, row.down_count) == (2, 1)
    votes = dict(await rows(sessions, select(Vote.member_id, Vote.value)))
    assert votes == {world["admin"].id: 1, world["mod"].id: 1, world["dee"].id: -1}


async def test_remove_all_and_remove_emoji_are_repaired_by_a_recount(simcord_env, world, sessions):
    await set_forum(world)
    thread, _ = await open_post(simcord_env, world)
    await recommend(world, thread, "ben", "Flask")
    message = thread.history()[-1]
    for who in ("cy", "dee"):
        await world[who].react(message, UP)
    await world["admin"].react(message, DOWN)

    simcord_env.backend.clear_reaction(thread.id, message.id, UP)
    await simcord_env.settle()
    (row,) = await rows(sessions, select(Recommendation))
    assert (row.up_count, row.down_count) == (0, 1)

    simcord_env.backend.clear_reactions(thread.id, message.id)
    await simcord_env.settle()
    (row,) = await rows(sessions, select(Recommendation))
    assert (row.up_count, row.down_count) == (0, 0)
    assert await rows(sessions, select(Vote)) == []


async def test_a_deleted_recommendation_leaves_the_ranking(simcord_env, world, sessions, settings):
    await set_forum(world)
    thread, _ = await open_post(simcord_env, world)
    await recommend(world, thread, "ben", "Flask")
    message = thread.history()[-1]
    await world["cy"].react(message, UP)
    simcord_env.backend.delete_message(thread.id, message.id)
    await simcord_env.settle()
    await simcord_env.advance_time(settings.ranking_edit_seconds)
    assert await rows(sessions, select(Recommendation)) == []
    assert await rows(sessions, select(Vote)) == []
    ranking = {f.name: f.value for f in starter_of(thread).embeds[0].fields}["Recommendations"]
    assert "None yet" in ranking


async def test_a_burst_of_random_reactions_ends_with_the_counts_of_a_model(simcord_env, sessions):
    guild = simcord_env.create_guild()
    # Without Manage Messages the bot leaves switched reactions in place, so the member
    # events alone decide the votes, and the model below needs no timing.
    channel = guild.create_text_channel(
        "general",
        overwrites={simcord_env.bot.user: discord.PermissionOverwrite(manage_messages=False)},
    )
    people = [guild.add_member(simcord_env.create_user(f"m{n}")) for n in range(40)]
    await people[0].slash(channel, "advice ask", question="Which one?", tools="Flask, Django")
    (thread,) = channel.threads
    messages = []
    for n, tool in enumerate(("Flask", "Django", "FastAPI")):
        await people[n].slash(thread, "advice recommend", tool=tool, reason="Because.")
    messages = thread.history()[1:4]
    recommenders = {}
    for row in await rows(sessions, select(Recommendation)):
        recommenders[row.message_id] = (row.id, row.member_id)

    rng = random.Random(7)
    shown: dict[tuple[int, int, str], bool] = {}
    model: dict[tuple[int, int], int] = {}
    backend = simcord_env.backend
    for _ in range(3000):
        message = rng.choice(messages)
        member = rng.choice(people)
        emoji = rng.choice((UP, DOWN, UP, DOWN, "🎉"))
        key = (message.id, member.id, emoji)
        wanted = not shown.get(key, False)
        shown[key] = wanted
        backend.set_reaction(thread.id, message.id, emoji, member.id, wanted)
        recommendation, recommender = recommenders[message.id]
        if emoji == "🎉" or member.id == recommender:
            continue
        value = 1 if emoji == UP else -1
        if wanted:
            model[(recommendation, member.id)] = value
        elif model.get((recommendation, member.id)) == value:
            del model[(recommendation, member.id)]
    simcord_env._mark_mutation()
    await simcord_env.settle(timeout=60)

    votes = await rows(sessions, select(Vote.target_id, Vote.member_id, Vote.value))
    assert {(t, m): v for t, m, v in votes} == model
    for row in await rows(sessions, select(Recommendation)):
        ups = sum(1 for (r, _), v in model.items() if r == row.id and v == 1)
        downs = sum(1 for (r, _), v in model.items() if r == row.id and v == -1)
        assert (row.up_count, row.down_count) == (ups, downs)
    assert simcord_env.bot.services.votes.stats.batches < 3000  # written in batches, not one by one
