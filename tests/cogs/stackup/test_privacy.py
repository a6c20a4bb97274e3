"""`/stackup forget-me` through the real bot under simcord: it asks first (only the member who
asked can answer, cancel keeps everything), then deletes the member's data in the server with
every counter following, shows their advice posts as asked by a former member, shows again
the counts their votes were in, and takes their reactions off Stackup's open vote messages;
those it cannot take away, and those a recount read just before, never count again."""

from __future__ import annotations

from types import SimpleNamespace

import discord
import pytest
from simcord.backend.errors import SetupError
from sqlmodel import select

from bot.bot import StackupBot
from bot.errors import NotAllowed
from bot.render.privacy import FORGET_CANCELLED, FORGET_QUESTION
from bot.services.privacy import PrivacyService
from cogs.stackup.views import ConfirmForget
from db.models import AdvicePost, Recommendation, Vote
from tests.cogs.advice.test_advice import (
    advice_world,
    deny_the_bot,
    open_post,
    recommend,
    set_forum,
    starter_of,
)
from tests.conftest import rows
from tests.counters import counter_mismatches
from tests.db.test_privacy import member_rows

UP, DOWN = "👍", "👎"


@pytest.fixture
def world(simcord_env):
    return advice_world(simcord_env)


def last_message(channel):
    return channel.history()[-1]


def reactors(env, message, emoji: str) -> set[int]:
    """Who shows the reaction, as Discord holds it."""
    stored = env.backend.get_message(message.channel.id, message.id)
    return next((set(r.user_ids) for r in stored.reactions if r.emoji == emoji), set())


async def ada_does_a_bit_of_everything(env, world) -> dict:
    """Ada asks, recommends, votes, stacks, follows, decides and adds a pro; others vote on what
    she wrote. The messages that matter, by name."""
    ada, ben, cy = world["ada"], world["ben"], world["cy"]
    await set_forum(world)
    ada_thread, _ = await open_post(env, world)
    ben_thread, _ = await open_post(env, world, asker="ben", title="Koa or Express for an API?")
    await recommend(world, ada_thread, "ben", "Django")
    bens_recommendation = last_message(ada_thread)
    await recommend(world, ben_thread, "ada", "Flask")
    adas_recommendation = last_message(ben_thread)
    await cy.react(adas_recommendation, UP)
    await ada.react(bens_recommendation, DOWN)
    channel = world["channel"]
    await ada.slash(channel, "stack add", tools="Flask, Django")
    await ada.slash(channel, "follow", tool="flask", mention_in_posts=True)
    await ada.slash(channel, "decision", chose="Flask", over="Django", why="Small and explicit.")
    decision = last_message(channel)
    await ben.react(decision, UP)
    await ada.slash(channel, "pros add", tool="flask", text="Runs on a Raspberry Pi")
    await ben.slash(channel, "pros vote", tool="flask")
    pros = last_message(channel)
    await ada.react(pros, "1️⃣")
    await ben.react(pros, "2️⃣")
    return {
        "ada_thread": ada_thread,
        "ben_thread": ben_thread,
        "bens_recommendation": bens_recommendation,
        "adas_recommendation": adas_recommendation,
        "decision": decision,
        "pros": pros,
    }


async def test_forget_me_asks_first_and_cancel_keeps_everything(simcord_env, world, sessions):
    await ada_does_a_bit_of_everything(simcord_env, world)
    before = await member_rows(sessions, world["ada"].id)

    asked = await world["ada"].slash(world["channel"], "stackup forget-me")

    assert asked.ephemeral and asked.response.content == FORGET_QUESTION
    labels = [c["label"] for row in asked.response.components for c in row["components"]]
    assert labels == ["Forget me", "Cancel"]
    cancelled = await world["ada"].click(asked.response, label="Cancel")
    answer = cancelled.response if cancelled.response is not None else asked.response
    assert answer.content == FORGET_CANCELLED and not answer.components
    assert await member_rows(sessions, world["ada"].id) == before


async def test_only_the_member_who_asked_can_confirm(simcord_env, world, sessions):
    await ada_does_a_bit_of_everything(simcord_env, world)
    before = await member_rows(sessions, world["ada"].id)
    asked = await world["ada"].slash(world["channel"], "stackup forget-me")

    # The question is Ada's alone: Discord shows nobody else the button.
    with pytest.raises(SetupError, match="not visible to this user"):
        await world["ben"].click(asked.response, label="Forget me")
    # And a click replaying its custom_id as someone else is refused before anything goes.
    button = ConfirmForget(world["ada"].id)
    replayed = SimpleNamespace(user=SimpleNamespace(id=world["ben"].id), guild_id=world["guild"].id)
    with pytest.raises(NotAllowed, match="Only the member who asked"):
        await button.forget(replayed)  # type: ignore[arg-type]
    assert await member_rows(sessions, world["ada"].id) == before


async def test_forget_me_deletes_the_members_data_and_every_counter_follows(
    simcord_env, world, sessions
):
    found = await ada_does_a_bit_of_everything(simcord_env, world)
    ada = world["ada"]
    assert ada.id in reactors(simcord_env, found["bens_recommendation"], DOWN)
    assert await counter_mismatches(sessions) == []

    asked = await ada.slash(world["channel"], "stackup forget-me")
    confirmed = await ada.click(asked.response, label="Forget me")

    answer = confirmed.followups[0] if confirmed.followups else asked.response
    lines = answer.content.splitlines()
    assert lines[0].startswith("Stackup forgot you in this server: ")
    assert lines[1:10] == [
        "• 2 votes",
        "• 2 tools in stacks",
        "• 1 followed tool",
        "• 1 preference",
        "• 1 decision",
        "• 1 recommendation",
        "• 1 pro or con added",
        "• 2 votes of others on those",
        "• 2 vote messages",
    ]
    assert "Your advice post stays, asked by a former member." in lines
    assert not answer.components
    assert await member_rows(sessions, ada.id) == {}
    assert await counter_mismatches(sessions) == []

    # Her post stays, its starter showing a former member once the ranking edit runs.
    (post,) = await rows(sessions, select(AdvicePost).where(AdvicePost.title.like("Flask%")))
    assert post.asker_id == 0
    await simcord_env.advance_time(31)
    starter = starter_of(found["ada_thread"])
    assert starter.embeds[0].author.name == "A former member"
    # Ben's post no longer ranks her recommendation; his own recommendation stays.
    ranking = starter_of(found["ben_thread"]).embeds[0].fields[-1].value
    assert "Flask" not in ranking
    assert [r.member_id for r in await rows(sessions, select(Recommendation))] == [world["ben"].id]
    # Stackup's messages showing her name and words are gone; so are her reactions on its
    # open vote messages: no recount brings the votes back.
    shown = [m.id for m in found["ben_thread"].history() + world["channel"].history()]
    assert found["adas_recommendation"].id not in shown and found["decision"].id not in shown
    assert ada.id not in reactors(simcord_env, found["bens_recommendation"], DOWN)
    assert ada.id not in reactors(simcord_env, found["pros"], "1️⃣")
    assert world["ben"].id in reactors(simcord_env, found["pros"], "2️⃣")
    await simcord_env.bot.flows.recounts.recount(world["channel"].id, found["pros"].id)
    await simcord_env.settle()
    assert await member_rows(sessions, ada.id) == {}
    assert await counter_mismatches(sessions) == []


# ---------------------------------------------------------------- votes on others' items


def shown(env, message):
    """The message as Discord holds it now, edits included."""
    return env.backend.get_message(message.channel.id, message.id)


def ranking_shown(env, starter) -> str:
    (ranking,) = [
        f["value"]
        for f in shown(env, starter).embeds[0]["fields"]
        if f["name"] == "Recommendations"
    ]
    return ranking


def decision_votes_shown(env, decision) -> str:
    (votes,) = [
        f["value"] for f in shown(env, decision).embeds[0]["fields"] if f["name"] == "Votes"
    ]
    return votes


async def ada_votes_on_what_others_wrote(env, world) -> dict:
    """Ada votes 👍 on Cy's recommendation in Ben's post and agrees with Cy's decision."""
    await set_forum(world)
    ben_thread, _ = await open_post(env, world, asker="ben", title="Koa or Express for an API?")
    await recommend(world, ben_thread, "cy", "Flask")
    cys_recommendation = last_message(ben_thread)
    await world["cy"].slash(
        world["channel"], "decision", chose="Django", over="Flask", why="Batteries."
    )
    cys_decision = last_message(world["channel"])
    for message in (cys_recommendation, cys_decision):
        await world["ada"].react(message, UP)
    return {
        "ben_thread": ben_thread,
        "cys_recommendation": cys_recommendation,
        "cys_decision": cys_decision,
    }


async def forget_ada(world):
    asked = await world["ada"].slash(world["channel"], "stackup forget-me")
    return await world["ada"].click(asked.response, label="Forget me")


async def votes_of(sessions, member_id: int) -> list[tuple[int, int]]:
    return await rows(
        sessions, select(Vote.target_id, Vote.value).where(Vote.member_id == member_id)
    )


async def test_the_counts_her_votes_were_in_are_shown_again(simcord_env, world, settings):
    found = await ada_votes_on_what_others_wrote(simcord_env, world)
    await simcord_env.advance_time(settings.ranking_edit_seconds + 1)
    starter = starter_of(found["ben_thread"])
    assert "**Flask** · +1 (👍 1 · 👎 0)" in ranking_shown(simcord_env, starter)
    assert decision_votes_shown(simcord_env, found["cys_decision"]) == "👍 1"

    await forget_ada(world)
    await simcord_env.advance_time(settings.ranking_edit_seconds + 1)

    # Ben's starter ranks Cy's recommendation without her 👍; Cy's decision shows 👍 0.
    assert "**Flask** · 0 (👍 0 · 👎 0)" in ranking_shown(simcord_env, starter)
    assert decision_votes_shown(simcord_env, found["cys_decision"]) == "👍 0"


async def test_reactions_stackup_cannot_take_away_never_count_again(
    simcord_env, world, sessions, settings, engine, chart_renderer
):
    found = await ada_votes_on_what_others_wrote(simcord_env, world)
    ada = world["ada"]
    for channel in (world["forum"], world["channel"]):
        await deny_the_bot(simcord_env, channel, discord.Permissions(manage_messages=True))
    assert len(await votes_of(sessions, ada.id)) == 2

    confirmed = await forget_ada(world)

    assert "could not be removed" in confirmed.followups[-1].content
    for message in (found["cys_recommendation"], found["cys_decision"]):
        assert ada.id in reactors(simcord_env, message, UP)
    # A restart recounts every open vote message: her reactions there are not votes again.
    await simcord_env.restart_bot(StackupBot(settings, engine, sessions, charts=chart_renderer))
    await simcord_env.settle()
    assert await votes_of(sessions, ada.id) == []
    assert await counter_mismatches(sessions) == []

    # She may vote again: a reaction made after the forget counts, and recounts keep it.
    await ada.unreact(found["cys_recommendation"], UP)
    await ada.react(found["cys_recommendation"], UP)
    recounts = simcord_env.bot.flows.recounts
    await recounts.recount(found["ben_thread"].id, found["cys_recommendation"].id)
    await simcord_env.bot.services.votes.wait_idle()
    (recommendation,) = await rows(sessions, select(Recommendation))
    assert await votes_of(sessions, ada.id) == [(recommendation.id, 1)]
    assert await counter_mismatches(sessions) == []


async def test_recounts_during_and_after_forget_user_do_not_bring_votes_back(
    simcord_env, world, sessions, monkeypatch
):
    found = await ada_votes_on_what_others_wrote(simcord_env, world)
    ada, recounts = world["ada"], simcord_env.bot.flows.recounts
    read = recounts._all_reactors
    forgotten = []

    async def read_then_forget(channel_id, message_id, emojis):
        reactions = await read(channel_id, message_id, emojis)
        assert ada.id in reactions[UP]
        if not forgotten:
            # `stackup forget-user` runs now, in a process of its own: it cannot wait for
            # this recount, and takes away no reaction.
            service = PrivacyService(sessions, shard_ids=None, shard_count=1)
            forgotten.append(await service.forget_member(ada.id, guild_id=None))
        return reactions

    monkeypatch.setattr(recounts, "_all_reactors", read_then_forget)
    # The first recount read her 👍 before the forget and is written after it; the second
    # reads it after.
    for message in (found["cys_recommendation"], found["cys_decision"]):
        assert await recounts.recount(message.channel.id, message.id)
        await simcord_env.bot.services.votes.wait_idle()

    assert forgotten[0].votes == 2
    assert await votes_of(sessions, ada.id) == []
    assert await member_rows(sessions, ada.id) == {}
    assert await counter_mismatches(sessions) == []
