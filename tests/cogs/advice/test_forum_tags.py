"""Discord answers late: forum tags, closes and edits after Stackup's own writes, through the
real bot under simcord with the gateway answering late (`tests/late_gateway.py`). Every check
reads what Discord holds (simcord's backend), never the bot's cache."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import discord
import pytest
from sqlmodel import select

from db.catalog_format import load_catalog
from db.catalog_import import import_catalog
from db.models import AdvicePost
from tests.cogs.advice.test_advice import (
    DOWN,
    UP,
    advice_world,
    applied_tags,
    forum_tags,
    open_post,
    recommend,
    set_forum,
)
from tests.conftest import final, rows


@pytest.fixture
def world(simcord_env):
    return advice_world(simcord_env)


@contextmanager
def interactions_at_once(env) -> Iterator[None]:
    """Interactions started inside run together: each is sent without waiting for the bot to
    finish the previous one; `env.settle()` after the block waits for all of them."""
    settle = env._settle_internal

    async def not_yet(**_: object) -> None:
        return None

    env._settle_internal = not_yet
    try:
        yield
    finally:
        env._settle_internal = settle


def tag_payloads(env, forum_id: int) -> list[dict]:
    return [
        r.json
        for r in env.http_requests
        if r.method == "PATCH" and r.path == f"/channels/{forum_id}"
    ]


async def add_forum_tags(env, forum_id: int, names: list[str]) -> None:
    """An admin adds tags in Discord's client."""
    backend = env.backend
    forum = backend.get_channel(forum_id)
    new = [
        {"id": str(backend.snowflake()), "name": name, "moderated": False}
        | {"emoji_id": None, "emoji_name": None}
        for name in names
    ]
    backend.edit_channel(forum_id, {"available_tags": [*forum.available_tags, *new]})
    await env.settle()


async def test_the_late_gateway_reproduces_discords_tag_race(simcord_env, world):
    """The harness itself: two tag creations built from discord.py's cache, one after the
    other, lose the first tag, as they do on Discord. Stackup must not work this way."""
    forum = simcord_env.bot.get_channel(world["forum"].id)
    await forum.create_tag(name="First")
    await forum.create_tag(name="Second")
    await simcord_env.settle()
    assert list(forum_tags(simcord_env, forum.id).values()) == ["Second"]
    assert simcord_env.late_gateway.held_total >= 2
    # Delivered in the end: the cache catches up with Discord.
    assert [t.name for t in simcord_env.bot.get_channel(forum.id).available_tags] == ["Second"]


async def test_ask_creates_every_missing_tag_in_one_write(simcord_env, world, sessions):
    await set_forum(world)
    await add_forum_tags(
        simcord_env,
        world["forum"].id,
        ["Python", "JavaScript", "Web frameworks", "Databases", "DevOps", "Frontend", "Open"],
    )
    before = len(tag_payloads(simcord_env, world["forum"].id))
    thread, result = await open_post(
        simcord_env, world, title="Flask or Django for REST APIs?", tools="Flask, Django"
    )
    assert "Your advice post is open" in final(result).content
    assert sorted(applied_tags(simcord_env, thread.id)) == ["Django", "Flask"]
    (patch,) = tag_payloads(simcord_env, world["forum"].id)[before:]
    assert [t["name"] for t in patch["available_tags"]][-2:] == ["Flask", "Django"]
    assert len(forum_tags(simcord_env, world["forum"].id)) == 10
    assert simcord_env.late_gateway.delivered_after_next_call > 0
    (post,) = await rows(sessions, select(AdvicePost))
    assert post.thread_id == thread.id


async def test_two_asks_at_once_keep_each_others_tags(simcord_env, world, sessions):
    await set_forum(world)
    with interactions_at_once(simcord_env):
        await world["ada"].slash(
            world["channel"],
            "advice ask",
            title="Flask or Django?",
            question="An API.",
            tools="Flask, Django",
        )
        await world["ben"].slash(
            world["channel"],
            "advice ask",
            title="Koa or Express?",
            question="A gateway.",
            tools="Koa, ExpressJS",
        )
    await simcord_env.settle()
    posts = await rows(sessions, select(AdvicePost).order_by(AdvicePost.title))
    assert [p.title for p in posts] == ["Flask or Django?", "Koa or Express?"]
    assert sorted(applied_tags(simcord_env, posts[0].thread_id)) == ["Django", "Flask"]
    assert sorted(applied_tags(simcord_env, posts[1].thread_id)) == ["ExpressJS", "Koa"]
    assert sorted(forum_tags(simcord_env, world["forum"].id).values()) == [
        "Django",
        "ExpressJS",
        "Flask",
        "Koa",
        "Solved",
    ]


async def test_a_forum_with_19_tags_creates_what_fits_and_posts(simcord_env, world, sessions):
    await set_forum(world)  # "Solved"
    await add_forum_tags(simcord_env, world["forum"].id, [f"Topic {n}" for n in range(18)])
    thread, result = await open_post(simcord_env, world, tools="Flask, Django")
    assert "Your advice post is open" in final(result).content
    assert len(forum_tags(simcord_env, world["forum"].id)) == 20  # Discord's limit
    assert applied_tags(simcord_env, thread.id) == ["Flask"]
    assert len(await rows(sessions, select(AdvicePost))) == 1


async def test_refused_tag_creation_posts_with_a_note_to_the_asker(simcord_env, world, sessions):
    await set_forum(world)
    await add_forum_tags(simcord_env, world["forum"].id, ["Django"])
    simcord_env.inject_error(
        "PATCH",
        f"/channels/{world['forum'].id}",
        status=403,
        code=50013,
        message="Missing Permissions",
    )
    thread, result = await open_post(simcord_env, world, tools="Flask, Django")
    answer = final(result)
    assert answer.flags.ephemeral
    assert "Your advice post is open" in answer.content
    assert "No tags for Flask" in answer.content and "Manage Channels" in answer.content
    assert applied_tags(simcord_env, thread.id) == ["Django"]
    assert len(await rows(sessions, select(AdvicePost))) == 1


async def test_tools_whose_names_cut_to_one_tag_share_it(simcord_env, world, sessions, tmp_path):
    catalog = tmp_path / "jwt.yaml"
    catalog.write_text(
        "tools:\n"
        "  - slug: django-rest-framework-jwt\n"
        "    name: Django REST framework JWT\n"
        "    description: JSON Web Token authentication for Django REST framework.\n"
        "    category: Application & Data > Libraries\n"
    )
    await import_catalog(sessions, load_catalog([catalog]))
    await simcord_env.bot.refresh_catalog_index()
    await set_forum(world)
    thread, _ = await open_post(
        simcord_env, world, tools="Django REST framework, Django REST framework JWT"
    )
    tags = forum_tags(simcord_env, world["forum"].id)
    assert sorted(tags.values()) == ["Django REST framewo…", "Solved"]
    assert applied_tags(simcord_env, thread.id) == ["Django REST framewo…"]


async def test_closes_at_once_add_one_solved_tag_and_keep_every_other(simcord_env, world):
    await set_forum(world)
    # The forum lost its Solved tag: both closes must create it, once.
    simcord_env.backend.edit_channel(world["forum"].id, {"available_tags": []})
    await simcord_env.settle()
    first, _ = await open_post(simcord_env, world, tools="Flask, Django", asker="ada")
    second, _ = await open_post(simcord_env, world, tools="Koa, ExpressJS", asker="ben")
    with interactions_at_once(simcord_env):
        await world["ada"].slash(first, "advice close")
        await world["ben"].slash(second, "advice close")
    await simcord_env.settle()
    tags = forum_tags(simcord_env, world["forum"].id)
    assert sorted(tags.values()) == ["Django", "ExpressJS", "Flask", "Koa", "Solved"]
    assert sorted(applied_tags(simcord_env, first.id)) == ["Django", "Flask", "Solved"]
    assert sorted(applied_tags(simcord_env, second.id)) == ["ExpressJS", "Koa", "Solved"]
    for thread in (first, second):
        stored = simcord_env.backend.get_channel(thread.id)
        assert stored.thread_metadata.locked and stored.thread_metadata.archived


async def test_close_keeps_a_tag_created_a_moment_before(simcord_env, world):
    """The post's tags were created by the ask just before: the cache may not know them, the
    close must keep them all the same."""
    await set_forum(world)
    thread, _ = await open_post(simcord_env, world, tools="Flask, Django")
    simcord_env.late_gateway.flush()  # nothing is pending from the ask...
    forum = simcord_env.bot.get_channel(world["forum"].id)
    # ...but the bot's cache never learnt of the tags (an event lost on the way).
    forum._available_tags = {t.id: t for t in forum.available_tags if t.name == "Solved"}
    await world["ada"].slash(thread, "advice close")
    assert sorted(applied_tags(simcord_env, thread.id)) == ["Django", "Flask", "Solved"]


async def test_no_ranking_edit_lands_after_the_close(simcord_env, world, settings, caplog):
    await set_forum(world)
    thread, _ = await open_post(simcord_env, world)
    await recommend(world, thread, "ben", "Flask")
    message = thread.history()[1]
    await simcord_env.advance_time(settings.ranking_edit_seconds)
    await world["cy"].react(message, UP)  # edited at once
    await world["dee"].react(message, UP)  # edit waits for the interval
    await world["cy"].react(message, DOWN)
    await world["ada"].slash(thread, "advice close")
    requests = simcord_env.http_requests
    archive = max(
        i
        for i, r in enumerate(requests)
        if r.method == "PATCH" and r.path == f"/channels/{thread.id}" and r.json.get("archived")
    )
    with caplog.at_level(logging.INFO, logger="cogs"):
        await simcord_env.advance_time(settings.ranking_edit_seconds * 2)
    later = simcord_env.http_requests[archive + 1 :]
    assert not [r for r in later if r.path.startswith(f"/channels/{thread.id}/messages")]
    assert "could not edit message" not in caplog.text
    stored = simcord_env.backend.get_channel(thread.id)
    assert stored.thread_metadata.archived
    # The starter shows the verdict, with the last votes.
    starter = {f.name: f.value for f in thread.history()[0].embeds[0].fields}
    assert "Verdict" in starter


async def test_a_close_with_the_thread_out_of_the_cache_still_locks_it(simcord_env, world):
    await set_forum(world)
    thread, _ = await open_post(simcord_env, world)
    simcord_env.late_gateway.flush()
    guild = simcord_env.bot.get_guild(world["guild"].id)
    guild._remove_thread(discord.Object(thread.id))
    await world["ada"].slash(thread, "advice close")
    stored = simcord_env.backend.get_channel(thread.id)
    assert stored.thread_metadata.locked and stored.thread_metadata.archived
    assert "Solved" in applied_tags(simcord_env, thread.id)
