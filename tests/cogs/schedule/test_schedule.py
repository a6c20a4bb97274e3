"""Scheduled work through the real bot under simcord, with the bot's clock moved by the test:
idle posts warned and closed once, reminders, weekly digests, vote repair, and all of it
across restarts. A test fires a job by calling what APScheduler would call."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import discord
import pytest
from sqlmodel import select

from bot.bot import StackupBot
from bot.core.privacy import FORMER_MEMBER_ID
from bot.errors import InvalidInput
from db.models import (
    AdvicePost,
    GuildSettings,
    JobRun,
    JobState,
    Recommendation,
    StatCheck,
    Tool,
    Vote,
)
from tests.cogs.advice.test_advice import (
    applied_tags,
    forum_tags,
    open_post,
    recommend,
    set_forum,
    verdict_texts,
)
from tests.conftest import FakeClock, last_error, rows
from tests.fake_github import FakeGitHub

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def simcord_bot(settings, engine, sessions, chart_renderer, clock):
    return StackupBot(settings, engine, sessions, charts=chart_renderer, clock=clock.now)


@pytest.fixture
def world(simcord_env):
    guild = simcord_env.create_guild()
    channel = guild.create_text_channel("general")
    digests = guild.create_text_channel("digests")
    forum = guild.create_forum_channel("advice")
    admins = guild.create_role(
        "Admins", permissions=discord.Permissions(manage_guild=True, manage_threads=True)
    )
    members = {
        name: guild.add_member(simcord_env.create_user(name))
        for name in ("ada", "ben", "cy", "dee")
    }
    admin = guild.add_member(simcord_env.create_user("admin"), roles=[admins])
    return {
        "guild": guild,
        "channel": channel,
        "digests": digests,
        "forum": forum,
        "admin": admin,
        **members,
    }


def sent_to(env, channel_id: int) -> list[dict]:
    """The bodies of the messages the bot posted in a channel, oldest first."""
    return [
        entry.json
        for entry in env.http_requests
        if entry.method == "POST" and entry.path == f"/channels/{channel_id}/messages"
    ]


def restarted(settings, engine, sessions, chart_renderer, clock) -> StackupBot:
    return StackupBot(settings, engine, sessions, charts=chart_renderer, clock=clock.now)


async def fire(env, job_id: str) -> None:
    """What APScheduler calls when the job's time comes, called now (APScheduler's own timing
    is tested in test_schedule.py, on the wall clock)."""
    pending = env.bot.timers.pending(job_id)
    assert pending is not None, f"no job {job_id}"
    job, args = pending
    # Started as the bot's own work, as APScheduler's task is: the tasks it starts in turn
    # (the vote writer, edits) are then the bot's too, and settle() waits for them.
    with env._bot_scope():
        task = asyncio.ensure_future(job(*args))
    await task
    await env.settle()


async def a_recommended_post(env, world, sessions):
    """An advice post with one recommendation: its thread, its row and its job's id."""
    await set_forum(world)
    thread, _ = await open_post(env, world)
    await recommend(world, thread, "ben", "Flask")
    post = await post_row(sessions)
    return thread, post, f"post:{post.id}"


def message_text(message) -> str:
    """A message's text: its content, or a Components V2 message's text displays."""
    texts = [message.content]
    pending = list(message.components)
    while pending:
        component = pending.pop(0)
        texts.append(getattr(component, "content", None) or "")
        pending += getattr(component, "children", None) or []
    return "\n".join(text for text in texts if text)


def idle_verdicts(thread) -> list:
    return [m for m in thread.history() if "so Stackup closed this post" in message_text(m)]


async def post_row(sessions) -> AdvicePost:
    (post,) = await rows(sessions, select(AdvicePost))
    return post


async def test_an_idle_post_closes_once_with_its_verdict_and_tells_the_asker(
    simcord_env, world, sessions, clock
):
    await set_forum(world)
    thread, _ = await open_post(simcord_env, world)
    post = await post_row(sessions)
    job = f"post:{post.id}"
    # Nobody has recommended anything yet: the first deadline is the reminder's.
    assert simcord_env.bot.timers.due_at(job) == post.created_at + timedelta(hours=48)
    await recommend(world, thread, "ben", "Flask")
    await world["cy"].react(thread.history()[-1], "👍")

    # A day before, the asker is warned; the close comes a day after the warning.
    clock.advance(days=6, seconds=1)
    await fire(simcord_env, job)
    assert (await post_row(sessions)).status == "open"
    assert simcord_env.bot.timers.due_at(job) == clock.now() + timedelta(days=1)
    clock.advance(days=1)
    await fire(simcord_env, job)
    closed = await post_row(sessions)
    assert closed.status == "closed" and closed.verdict_tool_id is not None
    verdict = thread.history()[-1]
    texts = verdict_texts(simcord_env, thread, verdict)
    assert texts[0].startswith(f"<@{world['ada'].id}> nothing happened here for 7 days")
    # The asker, and only the asker, is pinged.
    assert sent_to(simcord_env, thread.id)[-1]["allowed_mentions"]["users"] == [
        str(world["ada"].id)
    ]
    assert texts[1].startswith("## Verdict: Flask")
    stored = simcord_env.backend.get_channel(thread.id)
    assert stored.thread_metadata.locked and stored.thread_metadata.archived

    messages = len(thread.history())
    assert job not in simcord_env.bot.timers.job_ids()
    await simcord_env.bot.flows.schedule.sweep()
    assert len(thread.history()) == messages


async def test_the_idle_close_of_a_forgotten_askers_post_names_and_pings_nobody(
    simcord_env, world, sessions, clock
):
    await set_forum(world)
    thread, _ = await open_post(simcord_env, world)
    post = await post_row(sessions)
    await recommend(world, thread, "ben", "Flask")
    asked = await world["ada"].slash(world["channel"], "stackup forget-me")
    await world["ada"].click(asked.response, label="Forget me")
    assert (await post_row(sessions)).asker_id == FORMER_MEMBER_ID

    # No one is left to warn (nothing is sent), and the close keeps the warning's day.
    job = f"post:{post.id}"
    clock.advance(days=6, seconds=1)
    messages = len(thread.history())
    await fire(simcord_env, job)
    assert len(thread.history()) == messages
    assert (await post_row(sessions)).status == "open"
    clock.advance(days=1)
    await fire(simcord_env, job)

    assert (await post_row(sessions)).status == "closed"
    texts = verdict_texts(simcord_env, thread, thread.history()[-1])
    assert texts[0] == (
        "Nothing happened here for 7 days, so Stackup closed this post with its verdict."
    )
    assert sent_to(simcord_env, thread.id)[-1]["allowed_mentions"]["users"] == []


async def test_a_restart_between_scheduling_and_the_deadline_still_closes_once(
    simcord_env, world, sessions, clock, settings, engine, chart_renderer
):
    thread, post, job = await a_recommended_post(simcord_env, world, sessions)

    clock.advance(days=3)
    await simcord_env.restart_bot(restarted(settings, engine, sessions, chart_renderer, clock))
    # Rebuilt from the database: the warning a day before the idle close comes first.
    assert simcord_env.bot.timers.due_at(job) == post.last_activity_at + timedelta(days=6)
    clock.advance(days=3, seconds=1)
    await fire(simcord_env, job)

    # Restarted again between the warning and the close.
    await simcord_env.restart_bot(restarted(settings, engine, sessions, chart_renderer, clock))
    assert simcord_env.bot.timers.due_at(job) == clock.now() + timedelta(days=1)
    clock.advance(days=1)
    await fire(simcord_env, job)
    assert (await post_row(sessions)).status == "closed"
    assert len(idle_verdicts(thread)) == 1

    await simcord_env.restart_bot(restarted(settings, engine, sessions, chart_renderer, clock))
    assert job not in simcord_env.bot.timers.job_ids()
    await simcord_env.bot.flows.schedule.sweep()
    await simcord_env.settle()
    assert len(idle_verdicts(thread)) == 1


async def test_a_post_overdue_while_the_bot_was_down_is_warned_at_start_then_closed(
    simcord_env, world, sessions, clock, settings, engine, chart_renderer
):
    await set_forum(world)
    thread, _ = await open_post(simcord_env, world)
    clock.advance(days=30)
    # APScheduler runs the overdue job at once, with no test firing it: the asker gets the
    # day's notice first (the reminder is moot by now), not a close out of the blue.
    await simcord_env.restart_bot(restarted(settings, engine, sessions, chart_renderer, clock))
    await simcord_env.settle()
    post = await post_row(sessions)
    assert post.status == "open" and post.idle_warning_sent_at == clock.now()
    assert post.reminder_sent_at is None
    assert thread.history()[-1].content.startswith(f"<@{world['ada'].id}> this post closes")

    clock.advance(days=1)
    await fire(simcord_env, f"post:{post.id}")
    post = await post_row(sessions)
    assert post.status == "closed" and post.verdict_tool_id is None
    assert message_text(thread.history()[-1]).startswith(f"<@{world['ada'].id}> nothing happened")


async def test_members_talking_in_the_thread_keep_the_post_open(
    simcord_env, world, sessions, clock
):
    thread, post, job = await a_recommended_post(simcord_env, world, sessions)

    clock.advance(days=5)
    await world["cy"].send(thread, "We tried Flask last year, happy with it.")
    await simcord_env.settle()
    assert (await post_row(sessions)).last_activity_at == clock.now()

    clock.advance(days=2, seconds=1)  # past the first deadline, not past the new one
    await fire(simcord_env, job)
    post = await post_row(sessions)
    assert post.status == "open" and post.idle_warning_sent_at is None
    # The timer moved to the warning before the new deadline.
    assert simcord_env.bot.timers.due_at(job) == post.last_activity_at + timedelta(days=6)


async def test_the_reminder_bumps_a_post_once_mentioning_only_opted_in_followers(
    simcord_env, world, sessions, clock, settings, engine, chart_renderer
):
    await set_forum(world)
    await world["ben"].slash(world["channel"], "follow", tool="Flask", mention_in_posts=True)
    await world["cy"].slash(world["channel"], "follow", tool="Django")
    await world["ada"].slash(world["channel"], "follow", tool="Flask", mention_in_posts=True)
    thread, _ = await open_post(simcord_env, world)
    post = await post_row(sessions)
    job = f"post:{post.id}"

    # A failed send is not a sent reminder: it is tried again later, not at once.
    clock.advance(hours=48, seconds=1)
    simcord_env.inject_error("POST", f"/channels/{thread.id}/messages", status=500, times=1)
    await fire(simcord_env, job)
    assert (await post_row(sessions)).reminder_sent_at is None
    assert simcord_env.bot.timers.due_at(job) == clock.now() + timedelta(minutes=5)
    assert simcord_env.errors == []  # handled: logged, retried later, nothing raised

    clock.advance(minutes=5)
    await fire(simcord_env, job)
    reminder = thread.history()[-1]
    assert reminder.content.startswith("👋 Nobody has recommended anything here yet.")
    assert f"<@{world['ben'].id}>: you follow" in reminder.content
    assert str(world["cy"].id) not in reminder.content
    assert str(world["ada"].id) not in reminder.content
    assert sent_to(simcord_env, thread.id)[-1]["allowed_mentions"]["users"] == [
        str(world["ben"].id)
    ]
    assert (await post_row(sessions)).reminder_sent_at == clock.now()

    count = len(thread.history())
    await simcord_env.bot.flows.schedule.sweep()
    await simcord_env.restart_bot(restarted(settings, engine, sessions, chart_renderer, clock))
    await simcord_env.bot.flows.schedule.sweep()
    await simcord_env.settle()
    assert len(thread.history()) == count


async def test_a_day_before_the_idle_close_the_asker_is_asked_to_accept(
    simcord_env, world, sessions, clock
):
    await set_forum(world)
    thread, _ = await open_post(simcord_env, world)
    await recommend(world, thread, "ben", "Flask")
    await recommend(world, thread, "cy", "Django")
    await world["dee"].react(thread.history()[-2], "👍")
    post = await post_row(sessions)
    job = f"post:{post.id}"

    clock.advance(days=6, seconds=1)
    await fire(simcord_env, job)
    warning = thread.history()[-1]
    closes = int((post.last_activity_at + timedelta(days=7)).timestamp())
    assert warning.content.startswith(f"<@{world['ada'].id}> this post closes <t:{closes}:R>")
    lines = warning.content.splitlines()
    assert lines[-2] == "• **Flask** (+1: 1 👍, 0 👎)"
    assert lines[-1] == "• **Django** (+0: 0 👍, 0 👎)"
    assert sent_to(simcord_env, thread.id)[-1]["allowed_mentions"]["users"] == [
        str(world["ada"].id)
    ]
    count = len(thread.history())
    await simcord_env.bot.flows.schedule.sweep()
    await simcord_env.settle()
    assert len(thread.history()) == count
    assert (await post_row(sessions)).status == "open"
    # Next: the close itself, a day after the warning.
    assert simcord_env.bot.timers.due_at(job) == clock.now() + timedelta(days=1)


# ---------------------------------------------------------------- the weekly digest


async def set_digest(world, **options):
    return await world["admin"].slash(
        world["channel"],
        "stackup setup",
        digest_channel=world["digests"],
        digest_day=0,
        digest_hour=9,
        timezone="europe/paris",
        **options,
    )


async def test_setup_sets_the_digest_and_shows_when_it_comes(simcord_env, world, clock):
    result = await set_digest(world)
    assert result.ephemeral
    fields = {f.name: f.value for f in result.response.embeds[0].fields}
    # Monday 23 November 2026, 10:00 UTC: the next Monday 09:00 in Paris is 08:00 UTC.
    next_digest = int(datetime(2026, 11, 30, 8, tzinfo=UTC).timestamp())
    assert fields["Weekly digest"] == (
        f"<#{world['digests'].id}>, Mondays at 09:00 (Europe/Paris)\nNext: <t:{next_digest}:F>"
    )
    assert simcord_env.bot.timers.due_at(f"digest:{world['guild'].id}") == datetime(
        2026, 11, 30, 8, tzinfo=UTC
    )

    choices = await world["admin"].autocomplete(
        world["channel"], "stackup setup", "timezone", "new_y"
    )
    assert [c["value"] for c in choices] == ["America/New_York"]
    refused = await world["admin"].slash(
        world["channel"], "stackup setup", timezone="Mars/Olympus_Mons"
    )
    assert refused.ephemeral
    assert refused.response.content.startswith("“Mars/Olympus_Mons” is not a time zone")
    assert isinstance(last_error(simcord_env), InvalidInput)

    stopped = await world["admin"].slash(world["channel"], "stackup setup", stop_digest=True)
    fields = {f.name: f.value for f in stopped.response.embeds[0].fields}
    assert fields["Weekly digest"].startswith("off")
    assert f"digest:{world['guild'].id}" not in simcord_env.bot.timers.job_ids()


async def test_the_weekly_digest_goes_out_once_a_week_also_across_restarts(
    simcord_env, world, sessions, clock, settings, engine, chart_renderer
):
    await set_forum(world)
    await set_digest(world)
    clock.advance(days=1)
    thread, _ = await open_post(simcord_env, world, title="Flask or Django for a REST API?")
    await world["ben"].slash(world["channel"], "compare", first="Flask", second="Koa")
    await world["cy"].slash(world["channel"], "compare", first="Flask", second="Django")
    job = f"digest:{world['guild'].id}"

    clock.set(datetime(2026, 11, 30, 8, 0, 1, tzinfo=UTC))
    await fire(simcord_env, job)
    (digest,) = world["digests"].history()
    embed = digest.embeds[0]
    fields = {field.name: field.value for field in embed.fields}
    assert any(
        "Flask or Django for a REST API?" in v and str(thread.id) in v for v in fields.values()
    )
    compared = next(v for name, v in fields.items() if "compared" in name.lower())
    assert compared.splitlines()[0].startswith("1.") and "Flask" in compared.splitlines()[0]
    assert "2" in compared.splitlines()[0]
    (run,) = await rows(sessions, select(JobRun))
    assert (run.job, run.scope, run.period) == ("digest", world["guild"].id, "2026-11-30")
    assert run.finished_at == clock.now() and run.outcome == f"sent as message {digest.id}"
    assert simcord_env.bot.timers.due_at(job) == datetime(2026, 12, 7, 8, tzinfo=UTC)

    # Fired again, swept, restarted: still one digest this week.
    await fire(simcord_env, job)
    await simcord_env.bot.flows.schedule.sweep()
    await simcord_env.restart_bot(restarted(settings, engine, sessions, chart_renderer, clock))
    await simcord_env.settle()
    assert len(world["digests"].history()) == 1

    # A digest due while the bot was down goes out when it is back, once.
    clock.set(datetime(2026, 12, 2, 12, tzinfo=UTC))
    await world["dee"].slash(world["channel"], "compare", first="Koa", second="Express")
    clock.set(datetime(2026, 12, 7, 15, tzinfo=UTC))
    await simcord_env.restart_bot(restarted(settings, engine, sessions, chart_renderer, clock))
    await simcord_env.settle()
    assert len(world["digests"].history()) == 2
    assert "Koa" in world["digests"].history()[-1].embeds[0].to_dict().__repr__()
    periods = [run.period for run in await rows(sessions, select(JobRun).order_by(JobRun.id))]
    assert periods == ["2026-11-30", "2026-12-07"]


async def test_a_digest_set_after_this_weeks_moment_waits_for_next_week(
    simcord_env, world, sessions, clock
):
    await set_forum(world)
    await open_post(simcord_env, world)
    # Monday 10:00 UTC is after Monday 09:00 UTC: this week's moment was never asked for.
    await world["admin"].slash(
        world["channel"], "stackup setup", digest_channel=world["digests"], digest_hour=9
    )
    await simcord_env.bot.flows.schedule.sweep()
    await simcord_env.settle()
    assert world["digests"].history() == []
    assert await rows(sessions, select(JobRun)) == []


async def test_a_digest_channel_chosen_before_digests_existed_gets_them(
    simcord_env, world, sessions, clock
):
    async with sessions() as session, session.begin():
        session.add(
            GuildSettings(guild_id=world["guild"].id, digest_channel_id=world["digests"].id)
        )
    # Choosing the same channel again starts the digest from now.
    await world["admin"].slash(world["channel"], "stackup setup", digest_channel=world["digests"])
    (row,) = await rows(sessions, select(GuildSettings))
    assert row.digest_set_at == clock.now()
    assert simcord_env.bot.timers.due_at(f"digest:{world['guild'].id}") == datetime(
        2026, 11, 30, 9, tzinfo=UTC
    )


# ---------------------------------------------------------------- vote repair


async def test_vote_repair_recounts_messages_voted_on_since_their_last_recount(
    simcord_env, world, sessions, clock
):
    await set_forum(world)
    thread, _ = await open_post(simcord_env, world)
    await recommend(world, thread, "ben", "Flask")
    message = thread.history()[-1]
    clock.advance(minutes=1)
    await world["cy"].react(message, "👍")
    # The bot misses a removal and an addition (its gateway dropped them).
    votes_cog = simcord_env.bot.get_cog("Votes")
    await simcord_env.bot.remove_cog("Votes")
    await world["cy"].unreact(message, "👍")
    await world["dee"].react(message, "👎")
    await simcord_env.bot.add_cog(votes_cog)
    (row,) = await rows(sessions, select(Recommendation))
    assert (row.up_count, row.down_count) == (1, 0)

    clock.advance(minutes=5)
    await fire(simcord_env, "vote-repair")
    (row,) = await rows(sessions, select(Recommendation))
    assert (row.up_count, row.down_count) == (0, 1)
    assert dict(await rows(sessions, select(Vote.member_id, Vote.value))) == {world["dee"].id: -1}

    # Recounted: the next run reads no reactions.
    reads = len(
        [e for e in simcord_env.http_requests if e.method == "GET" and "reactions" in e.path]
    )
    await fire(simcord_env, "vote-repair")
    after = len(
        [e for e in simcord_env.http_requests if e.method == "GET" and "reactions" in e.path]
    )
    assert after == reads


async def test_an_idle_verdict_that_failed_to_go_out_is_announced_by_the_sweep_once(
    simcord_env, world, sessions, clock
):
    thread, post, job = await a_recommended_post(simcord_env, world, sessions)
    clock.advance(days=6, seconds=1)
    await fire(simcord_env, job)  # the warning
    clock.advance(days=1)
    simcord_env.inject_error("POST", f"/channels/{thread.id}/messages", status=503, times=1)
    await fire(simcord_env, job)
    assert simcord_env.errors == []  # handled: logged, retried later, nothing raised
    post = await post_row(sessions)
    assert post.status == "closed" and post.verdict_posted_at is None
    assert idle_verdicts(thread) == []

    clock.advance(minutes=10)
    await simcord_env.bot.flows.schedule.sweep()
    await simcord_env.settle()
    assert len(idle_verdicts(thread)) == 1
    assert (await post_row(sessions)).verdict_posted_at == clock.now()
    await simcord_env.bot.flows.schedule.sweep()
    await simcord_env.settle()
    assert len(idle_verdicts(thread)) == 1


async def test_a_post_closed_by_its_asker_is_not_announced_again(simcord_env, world, sessions):
    await set_forum(world)
    thread, _ = await open_post(simcord_env, world)
    await world["ada"].slash(thread, "advice close")
    count = len(thread.history())
    await simcord_env.bot.flows.schedule.sweep()
    await simcord_env.settle()
    assert len(thread.history()) == count
    assert (await post_row(sessions)).verdict_posted_at is not None


# ---------------------------------------------------------------- external stats


async def test_the_bot_refreshes_github_figures_at_start_and_waits_out_a_429(
    simcord_env, world, sessions, clock, settings, engine, chart_renderer
):
    async with FakeGitHub() as github:
        github.add_repo("pallets/flask", stars=69_012, forks=16_321)
        github.add_repo("koajs/koa", stars=35_456, forks=3_234)
        # GitHub answers the first request, then asks to wait ten minutes.
        github.refuse(429, {"retry-after": "600"}, after=1, times=1)
        async with sessions() as session, session.begin():
            # Every other tool was checked lately: this is about Flask and Koa.
            others = await session.exec(
                select(Tool.id).where(
                    Tool.slug.not_in(["flask", "koa"]), Tool.repository.is_not(None)
                )
            )
            session.add_all(
                StatCheck(
                    tool_id=other, source="github", next_check_at=clock.now() + timedelta(days=1)
                )
                for other in others.all()
            )
        with_github = settings.model_copy(
            update={"github_stats": True, "github_api_url": github.url}
        )
        # At start the refresh runs at once (APScheduler, not the test): one tool, then a 429.
        await simcord_env.restart_bot(
            restarted(with_github, engine, sessions, chart_renderer, clock)
        )
        await simcord_env.settle()
        assert len(github.paths()) == 2
        (state,) = await rows(sessions, select(JobState))
        assert state.next_run_at == clock.now() + timedelta(seconds=600)

        # The hourly job before the pause ends asks GitHub nothing; after it, it goes on.
        await fire(simcord_env, "external-stats")
        assert len(github.paths()) == 2
        clock.advance(seconds=601)
        await fire(simcord_env, "external-stats")
        assert len(github.paths()) == 3

        result = await world["ada"].slash(world["channel"], "compare", first="Flask", second="Koa")
        fields = {field.name: field.value for field in result.response.embeds[0].fields}
        day = clock.now().date().isoformat()
        github = fields[f"GitHub, as of {day}"]
        assert "Flask  69.0K  16.3K" in github
        assert "Koa    35.5K   3.2K" in github
        # simcord detaches the bot without closing it: its GitHub client is closed here.
        await simcord_env.bot.services.external_stats.close()


async def test_a_sweep_closing_several_posts_at_once_keeps_every_tag(simcord_env, world, clock):
    """After downtime every overdue post closes in one sweep, concurrently: each close needs
    the Solved tag, which the forum lost; it is created once and no tag is lost."""
    await set_forum(world)
    threads = []
    for asker, tools in (("ada", "Flask, Django"), ("ben", "Koa, ExpressJS"), ("cy", "Redis")):
        thread, _ = await open_post(simcord_env, world, tools=tools, asker=asker)
        await recommend(world, thread, "dee", "Flask")
        threads.append(thread)
    clock.advance(days=6, seconds=1)
    await fire(simcord_env, "sweep")  # the warnings
    simcord_env.backend.edit_channel(
        world["forum"].id,
        {
            "available_tags": [
                t
                for t in simcord_env.backend.get_channel(world["forum"].id).available_tags
                if t["name"] != "Solved"
            ]
        },
    )
    clock.advance(days=1)
    await fire(simcord_env, "sweep")  # the closes, at once

    tags = forum_tags(simcord_env, world["forum"].id)
    assert sorted(tags.values()) == ["Django", "ExpressJS", "Flask", "Koa", "Redis", "Solved"]
    expected = [["Django", "Flask", "Solved"], ["ExpressJS", "Koa", "Solved"], ["Redis", "Solved"]]
    assert [sorted(applied_tags(simcord_env, t.id)) for t in threads] == expected
    for thread in threads:
        stored = simcord_env.backend.get_channel(thread.id)
        assert stored.thread_metadata.locked and stored.thread_metadata.archived
        assert len(idle_verdicts(thread)) == 1


@pytest.mark.logs_errors.with_args(RuntimeError)
async def test_a_crashing_job_is_logged_as_an_error_not_passed_over(
    simcord_env, world, sessions, clock, caplog, monkeypatch
):
    """A scheduled job's exception is swallowed (the scheduler must go on) but logged as an
    ERROR, which fails any test that does not expect it (tests/hidden_failures.py)."""
    await a_recommended_post(simcord_env, world, sessions)

    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(simcord_env.bot.services.schedule, "open_posts", broken)
    await fire(simcord_env, "sweep")
    (logged,) = [r for r in caplog.records if r.levelname == "ERROR" and r.name.startswith("cogs")]
    assert (logged.name, logged.getMessage()) == ("cogs.schedule.jobs", "scheduled sweep failed")
    assert isinstance(logged.exc_info[1], RuntimeError)
    assert (await post_row(sessions)).status == "open"
