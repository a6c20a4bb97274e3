"""When scheduled work is due (pure), and APScheduler as the alarm clock on the wall clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.schedule import (
    DigestSchedule,
    PostClock,
    PostWork,
    check_timezone,
    serves,
    shard_of,
    timezone_matches,
)
from bot.errors import InvalidInput
from bot.timers import Timers

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def clock_of(**changes) -> PostClock:
    values = {
        "post_id": 1,
        "guild_id": 1,
        "created_at": T0,
        "last_activity_at": T0,
        "idle_days": 7,
        "has_recommendation": False,
        "reminder_sent_at": None,
        "idle_warning_sent_at": None,
    }
    values.update(changes)
    return PostClock(**values)


# ---------------------------------------------------------------- advice posts


def test_a_new_post_is_reminded_then_warned_then_closed():
    post = clock_of()
    assert post.next_deadline() == T0 + timedelta(hours=48)
    assert post.due_work(T0 + timedelta(hours=47, minutes=59)) == []
    assert post.due_work(T0 + timedelta(hours=48)) == [PostWork.REMIND]
    reminded = clock_of(reminder_sent_at=T0 + timedelta(hours=48))
    assert reminded.next_deadline() == T0 + timedelta(days=6)
    assert reminded.due_work(T0 + timedelta(days=6)) == [PostWork.WARN]
    warned = clock_of(reminder_sent_at=T0, idle_warning_sent_at=T0 + timedelta(days=6))
    assert warned.next_deadline() == T0 + timedelta(days=7)
    assert warned.due_work(T0 + timedelta(days=7)) == [PostWork.CLOSE]


def test_no_close_without_the_warning_a_day_before():
    # The bot was down past the idle time: the asker is warned first (the reminder is moot),
    # and the close comes a day after the warning.
    late = T0 + timedelta(days=30)
    assert clock_of().due_work(late) == [PostWork.WARN]
    warned = clock_of(idle_warning_sent_at=late)
    assert warned.due_work(late + timedelta(hours=23)) == []
    assert warned.next_deadline() == late + timedelta(days=1)
    assert warned.due_work(late + timedelta(days=1)) == [PostWork.CLOSE]


def test_a_recommended_post_is_not_reminded():
    post = clock_of(has_recommendation=True)
    assert post.reminds_at is None
    assert post.due_work(T0 + timedelta(days=3)) == []
    assert post.next_deadline() == T0 + timedelta(days=6)


def test_activity_moves_the_close_and_asks_for_a_new_warning():
    later = T0 + timedelta(days=5)
    post = clock_of(
        has_recommendation=True,
        last_activity_at=later,
        idle_warning_sent_at=T0 + timedelta(days=4),  # warned before the activity
    )
    assert not post.warned and post.close_due_at is None
    assert post.closes_at == later + timedelta(days=7)
    assert post.due_work(later + timedelta(days=7)) == [PostWork.WARN]


def test_short_idle_times_warn_half_way():
    post = clock_of(idle_days=1, has_recommendation=True)
    assert post.warns_at == T0 + timedelta(hours=12)
    assert post.closes_at == T0 + timedelta(days=1)


# ---------------------------------------------------------------- digests


def paris(**changes) -> DigestSchedule:
    values = {"guild_id": 1, "channel_id": 2, "day": 0, "hour": 9, "timezone": "Europe/Paris"}
    values.update(changes)
    return DigestSchedule(**values)


def test_digest_moments_follow_the_guilds_zone():
    schedule = paris()
    # Monday 23 November, 10:00 UTC is 11:00 in Paris: this week's 09:00 has passed.
    assert schedule.last_moment(T0) == datetime(2026, 11, 23, 8, tzinfo=UTC)
    assert schedule.next_moment(T0) == datetime(2026, 11, 30, 8, tzinfo=UTC)
    just_before = datetime(2026, 11, 23, 7, 59, tzinfo=UTC)
    assert schedule.last_moment(just_before) == datetime(2026, 11, 16, 8, tzinfo=UTC)
    assert schedule.next_moment(just_before) == datetime(2026, 11, 23, 8, tzinfo=UTC)


def test_digest_keeps_its_local_hour_across_daylight_saving_time():
    schedule = paris(day=6, hour=9)  # Sundays; Paris leaves summer time on 25 October 2026
    before = datetime(2026, 10, 20, tzinfo=UTC)
    first = schedule.next_moment(before)
    assert first == datetime(2026, 10, 25, 8, tzinfo=UTC)  # 09:00 CET (UTC+1)
    assert schedule.next_moment(first) == datetime(2026, 11, 1, 8, tzinfo=UTC)
    summer = schedule.next_moment(datetime(2026, 10, 10, tzinfo=UTC))
    assert summer == datetime(2026, 10, 11, 7, tzinfo=UTC)  # 09:00 CEST (UTC+2)
    assert schedule.window(first) == (datetime(2026, 10, 18, 7, tzinfo=UTC), first)


def test_one_period_per_moment_named_by_its_local_date():
    schedule = paris()
    moment = datetime(2026, 11, 30, 8, tzinfo=UTC)
    assert schedule.period(moment) == "2026-11-30"
    assert schedule.period(schedule.next_moment(moment)) == "2026-12-07"
    # A guild far east of UTC: Monday 09:00 in Tokyo is Monday 00:00 UTC, its Monday.
    tokyo = paris(timezone="Asia/Tokyo")
    moment = tokyo.next_moment(T0)
    assert moment == datetime(2026, 11, 30, 0, tzinfo=UTC)
    assert tokyo.period(moment) == "2026-11-30"
    # Moved from Monday to Sunday after Monday's digest: Sunday's is a new moment, not skipped.
    sunday = paris(day=6).next_moment(datetime(2026, 11, 30, 9, tzinfo=UTC))
    assert paris(day=6).period(sunday) == "2026-12-06"


def test_a_digest_is_due_only_for_moments_after_it_was_set():
    moment = datetime(2026, 11, 23, 8, tzinfo=UTC)
    assert paris(set_at=None).due(T0) is None
    assert paris(set_at=T0 - timedelta(hours=1)).due(T0) is None
    assert paris(set_at=moment - timedelta(days=1)).due(T0) == moment
    # Down for weeks: only the latest moment is due, once.
    long_ago = moment - timedelta(days=60)
    assert paris(set_at=long_ago).due(T0 + timedelta(days=20)) == datetime(
        2026, 12, 7, 8, tzinfo=UTC
    )


def test_time_zones_are_checked_and_completed():
    assert check_timezone(" europe/paris ") == "Europe/Paris"
    assert check_timezone("America/New York") == "America/New_York"
    with pytest.raises(InvalidInput, match="not a time zone"):
        check_timezone("Mars/Olympus_Mons")
    assert timezone_matches("paris") == ["Europe/Paris"]
    assert timezone_matches("")[0] == "UTC"
    assert len(timezone_matches("a")) == 25


# ---------------------------------------------------------------- shards


def test_guilds_are_served_by_the_process_running_their_shard():
    guild = (5 << 22) + 1234  # shard 5 of 8, 1 of 4
    assert shard_of(guild, 8) == 5
    assert serves(guild, [4, 5], 8)
    assert not serves(guild, [0, 2, 3], 4)
    assert serves(guild, None, 8) and serves(guild, [0], 1)


# ---------------------------------------------------------------- APScheduler, for real


async def test_timers_run_due_jobs_at_once_and_later_ones_not_yet():
    ran: list[str] = []
    done = asyncio.Event()

    async def job(name: str) -> None:
        ran.append(name)
        done.set()

    fake_now = datetime(2030, 1, 1, tzinfo=UTC)  # the bot's clock may be anything
    timers = Timers(lambda: fake_now)
    timers.start()
    try:
        timers.at("later", fake_now + timedelta(hours=1), job, "later")
        timers.at("overdue", fake_now - timedelta(days=3), job, "overdue")
        await asyncio.wait_for(done.wait(), timeout=5)
        assert ran == ["overdue"]
        assert timers.job_ids() == {"later"}  # a date job is gone once run
        assert timers.due_at("later") == fake_now + timedelta(hours=1)
        # Re-adding a job of the same id replaces it, so a rebuild never doubles a timer.
        timers.at("later", fake_now + timedelta(hours=2), job, "later")
        assert timers.job_ids() == {"later"}
        assert timers.due_at("later") == fake_now + timedelta(hours=2)
        timers.cancel("later")
        assert timers.job_ids() == set()
    finally:
        timers.shutdown()


class JumpingWall:
    """APScheduler's wall clock, as a test moves it (a loaded machine, a suspended VM)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def test_a_deadline_is_reported_exactly_however_the_wall_clock_moves(monkeypatch):
    wall = JumpingWall(datetime(2026, 1, 1, 12, 0, 0, 400_000, tzinfo=UTC))
    monkeypatch.setattr("bot.timers._wall_now", wall)
    bot_now = datetime(2026, 11, 23, 9, 59, 59, 999_999, tzinfo=UTC)
    timers = Timers(lambda: bot_now)  # not started: nothing runs, the jobs are only held

    async def job() -> None:
        raise AssertionError("not run in this test")

    deadline = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    timers.at("post:1", deadline, job)
    timers.at("overdue", bot_now - timedelta(days=3), job)
    wall.now += timedelta(seconds=1, milliseconds=700)  # the wall clock moved on, unevenly
    assert timers.due_at("post:1") == deadline
    # An overdue job runs at once, but what it was due at is still its deadline.
    assert timers.due_at("overdue") == bot_now - timedelta(days=3)
    # Replaced: the new deadline; cancelled: none; never scheduled: none.
    timers.at("post:1", deadline + timedelta(days=1), job)
    wall.now += timedelta(hours=5)
    assert timers.due_at("post:1") == deadline + timedelta(days=1)
    timers.cancel("post:1")
    assert timers.due_at("post:1") is None
    assert timers.due_at("post:2") is None
    # A date job replaced by an interval job (and back) reports the new kind's deadline.
    timers.every("overdue", timedelta(minutes=10), job)
    assert timers.due_at("overdue") == bot_now + timedelta(minutes=10)
    timers.at("overdue", deadline, job)
    assert timers.due_at("overdue") == deadline


async def test_an_interval_jobs_next_run_counts_whole_intervals_from_its_start(monkeypatch):
    # Started at the real time, as APScheduler computes the first run on its own clock.
    wall = JumpingWall(datetime.now(UTC))
    monkeypatch.setattr("bot.timers._wall_now", wall)
    bot_now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    timers = Timers(lambda: bot_now)

    async def job() -> None:
        raise AssertionError("not run in this test")

    timers.every("sweep", timedelta(minutes=15), job)
    assert timers.due_at("sweep") == bot_now + timedelta(minutes=15)  # before the start, too
    timers.start()
    try:
        wall.now += timedelta(seconds=2, microseconds=345_678)
        assert timers.due_at("sweep") == bot_now + timedelta(minutes=15)
        # APScheduler's next run, as it stands after two runs (its own arithmetic, in float
        # seconds): the third interval, exactly, in the bot's clock.
        (found,) = [j for j in timers._scheduler.get_jobs() if j.id == "sweep"]
        found.modify(next_run_time=found.next_run_time + timedelta(minutes=30, microseconds=3))
        assert timers.due_at("sweep") == bot_now + timedelta(minutes=45)
        timers.cancel("sweep")
        assert timers.due_at("sweep") is None
    finally:
        timers.shutdown()


async def test_a_date_job_that_ran_has_no_deadline_left():
    ran = asyncio.Event()

    async def job() -> None:
        ran.set()

    fake_now = datetime(2030, 1, 1, tzinfo=UTC)
    timers = Timers(lambda: fake_now)
    timers.start()
    try:
        timers.at("now", fake_now, job)
        await asyncio.wait_for(ran.wait(), timeout=5)
        assert timers.job_ids() == set()
        assert timers.due_at("now") is None
        assert timers._due == {}  # forgotten, not only hidden
    finally:
        timers.shutdown()
