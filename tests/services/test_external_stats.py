"""The external stats refresh against a local fake of GitHub's REST API (tests/fake_github.py):
figures with their day and source, ETags, GitHub's rate limits, missing repositories, and one
process at a time. Time is an injected clock; nothing here touches the network."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from bot.core.github import (
    SECONDARY_LIMIT_WAIT,
    Verdict,
    decide,
    failed_check_wait,
    repository_name,
    secondary_limit_wait,
)
from bot.services.external_stats import ExternalStatsService, StatsRun
from bot.services.github_api import GitHubApi
from db.engine import create_engine, create_session_factory
from db.locks import exclusive, lock_key
from db.models import ExternalStat, JobState, StatCheck, Tool
from tests.conftest import add_tools, rows
from tests.fake_github import FakeGitHub

START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
DAY = timedelta(days=1)


class Clock:
    def __init__(self, now: datetime = START) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def move(self, by: timedelta) -> None:
        self.current += by


@pytest.fixture
async def github():
    async with FakeGitHub() as fake:
        yield fake


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def catalog(db, repositories: dict[str, str | None]) -> dict[str, int]:
    """Tools named by slug with these repositories; their ids by slug."""
    async with db() as session, session.begin():
        tools = await add_tools(session, *repositories)
        for tool in tools:
            tool.repository = repositories[tool.slug]
        return {tool.slug: tool.id for tool in tools}


def service(db, github: FakeGitHub, clock: Clock, **options) -> ExternalStatsService:
    token = options.pop("token", None)
    api = GitHubApi(github.url, token, user_agent="Stackup-tests")
    options.setdefault("refresh_after", DAY)
    return ExternalStatsService(db, api, clock=clock.now, **options)


async def figures(db, tool_id: int) -> dict[str, tuple[int, date, str | None]]:
    found = await rows(
        db,
        select(ExternalStat).where(
            ExternalStat.tool_id == tool_id, ExternalStat.source == "github"
        ),
    )
    return {stat.metric: (stat.value, stat.as_of, stat.source_url) for stat in found}


async def check_of(db, tool_id: int) -> StatCheck:
    (found,) = await rows(db, select(StatCheck).where(StatCheck.tool_id == tool_id))
    return found


async def job(db) -> JobState:
    (found,) = await rows(db, select(JobState).where(JobState.job == "external_stats"))
    return found


async def refresh(db, github, clock, **options) -> StatsRun:
    stats = service(db, github, clock, **options)
    try:
        return await stats.refresh()
    finally:
        await stats.close()


# ---------------------------------------------------------------- figures and ETags


async def test_stars_and_forks_are_written_with_their_day_and_repository(db, github, clock):
    ids = await catalog(
        db,
        {
            "express": "https://github.com/expressjs/express",
            "koa": "https://www.github.com/koajs/koa.git/",
            "ghc": "https://gitlab.haskell.org/ghc/ghc",
            "nothing": None,
        },
    )
    github.add_repo("expressjs/express", stars=66_000, forks=16_500)
    github.add_repo("koajs/koa", stars=35_700, forks=3_200)

    run = await refresh(db, github, clock)

    assert run == StatsRun(updated=2)
    assert sorted(github.paths()) == ["/repos/expressjs/express", "/repos/koajs/koa"]
    assert await figures(db, ids["express"]) == {
        "github_stars": (66_000, START.date(), "https://github.com/expressjs/express"),
        "github_forks": (16_500, START.date(), "https://github.com/expressjs/express"),
    }
    assert (await figures(db, ids["koa"]))["github_stars"][0] == 35_700
    assert await figures(db, ids["ghc"]) == {}
    check = await check_of(db, ids["koa"])
    assert (check.status, check.checked_at, check.next_check_at) == ("ok", START, START + DAY)
    assert (await job(db)).last_run_at == START
    assert (await job(db)).next_run_at is None


async def test_within_refresh_after_nothing_is_sent_then_a_304_keeps_the_figures(db, github, clock):
    ids = await catalog(db, {"koa": "https://github.com/koajs/koa"})
    github.add_repo("koajs/koa", stars=35_700, forks=3_200)
    await refresh(db, github, clock)
    (first,) = github.requests
    assert "if-none-match" not in first.headers

    clock.move(timedelta(hours=23))
    assert await refresh(db, github, clock) == StatsRun(skipped="nothing due")
    assert len(github.requests) == 1

    clock.move(timedelta(hours=2))
    run = await refresh(db, github, clock)
    assert run == StatsRun(unchanged=1)
    second = github.requests[-1]
    assert second.headers["if-none-match"] == github.repos["koajs/koa"].etag
    # The same figures, now known to be true on the day of the 304.
    assert await figures(db, ids["koa"]) == {
        "github_stars": (
            35_700,
            (START + timedelta(hours=25)).date(),
            "https://github.com/koajs/koa",
        ),
        "github_forks": (
            3_200,
            (START + timedelta(hours=25)).date(),
            "https://github.com/koajs/koa",
        ),
    }

    github.add_repo("koajs/koa", stars=35_800, forks=3_210)
    clock.move(DAY)
    assert await refresh(db, github, clock) == StatsRun(updated=1)
    assert (await figures(db, ids["koa"]))["github_stars"][:2] == (
        35_800,
        (START + timedelta(hours=49)).date(),
    )


async def test_a_304_is_not_asked_for_when_the_figures_are_gone(db, github, clock):
    ids = await catalog(db, {"koa": "https://github.com/koajs/koa"})
    github.add_repo("koajs/koa", stars=35_700, forks=3_200)
    await refresh(db, github, clock)
    async with db() as session, session.begin():
        await session.exec(text("DELETE FROM external_stats"))

    clock.move(2 * DAY)
    assert await refresh(db, github, clock) == StatsRun(updated=1)
    assert "if-none-match" not in github.requests[-1].headers
    assert (await figures(db, ids["koa"]))["github_stars"][0] == 35_700


async def test_a_batch_at_a_time_oldest_check_first(db, github, clock):
    slugs = ("a", "b", "c")
    await catalog(db, {slug: f"https://github.com/org/{slug}" for slug in slugs})
    for slug in slugs:
        github.add_repo(f"org/{slug}", stars=1, forks=1)

    assert await refresh(db, github, clock, batch=2) == StatsRun(updated=2)
    clock.move(timedelta(hours=1))
    assert await refresh(db, github, clock, batch=2) == StatsRun(updated=1)
    clock.move(DAY)
    assert await refresh(db, github, clock, batch=2) == StatsRun(unchanged=2)
    assert github.paths() == [f"/repos/org/{slug}" for slug in "abcab"]


async def test_a_renamed_repository_is_followed(db, github, clock):
    ids = await catalog(db, {"koa": "https://github.com/koa/old-koa"})
    github.add_repo("koajs/koa", stars=35_700, forks=3_200)
    github.rename("koa/old-koa", "koajs/koa")

    assert await refresh(db, github, clock) == StatsRun(updated=1)
    assert github.paths()[0] == "/repos/koa/old-koa"
    assert github.paths()[1].startswith("/repositories/")
    assert (await figures(db, ids["koa"]))["github_stars"] == (
        35_700,
        START.date(),
        "https://github.com/koajs/koa",
    )


async def test_the_token_is_sent_only_when_set(db, github, clock):
    await catalog(db, {"koa": "https://github.com/koajs/koa"})
    github.add_repo("koajs/koa", stars=1, forks=1)
    await refresh(db, github, clock)
    clock.move(2 * DAY)
    github.add_repo("koajs/koa", stars=2, forks=1)
    await refresh(db, github, clock, token="ghp_secret")

    without, with_token = github.requests
    assert "authorization" not in without.headers
    assert with_token.headers["authorization"] == "Bearer ghp_secret"
    for request in github.requests:
        assert request.headers["accept"] == "application/vnd.github+json"
        assert request.headers["x-github-api-version"] == "2022-11-28"
        assert request.headers["user-agent"] == "Stackup-tests"
    assert "ghp_secret" not in repr(GitHubApi(github.url, "ghp_secret"))


# ---------------------------------------------------------------- missing and failing


async def test_a_missing_repository_is_marked_and_looked_at_weekly(db, github, clock):
    ids = await catalog(
        db,
        {"gone": "https://github.com/someone/gone", "org-only": "https://github.com/someone"},
    )

    assert await refresh(db, github, clock) == StatsRun(missing=2)
    # The URL that names no repository costs no request.
    assert github.paths() == ["/repos/someone/gone"]
    check = await check_of(db, ids["gone"])
    assert (check.status, check.next_check_at) == ("not_found", START + timedelta(days=7))

    clock.move(2 * DAY)
    assert await refresh(db, github, clock) == StatsRun(skipped="nothing due")
    clock.move(6 * DAY)
    github.add_repo("someone/gone", stars=5, forks=0)
    assert await refresh(db, github, clock) == StatsRun(updated=1, missing=1)
    assert (await check_of(db, ids["gone"])).status == "ok"


async def test_a_failing_answer_is_retried_with_backoff_and_failures_stop_the_run(
    db, github, clock
):
    ids = await catalog(db, {slug: f"https://github.com/org/{slug}" for slug in "abcd"})
    for slug in "abcd":
        github.add_repo(f"org/{slug}", stars=1, forks=1)
    github.status_override = 502

    # Three failures in a row: GitHub is not answering, the rest waits for the next run.
    assert await refresh(db, github, clock) == StatsRun(failed=3)
    assert len(github.requests) == 3
    check = await check_of(db, ids["a"])
    assert (check.status, check.failures) == ("failed", 1)
    assert check.next_check_at == START + failed_check_wait(1, DAY)

    clock.move(failed_check_wait(1, DAY))
    github.status_override = None
    assert await refresh(db, github, clock) == StatsRun(updated=4)
    assert (await check_of(db, ids["a"])).failures == 0


async def test_no_answer_at_all_is_a_failure_not_an_exception(db, github, clock):
    await catalog(db, {"koa": "https://github.com/koajs/koa"})
    stats = service(db, github, clock)
    await github.stop()  # nothing listens on its port any more
    try:
        assert await stats.refresh() == StatsRun(failed=1)
    finally:
        await stats.close()


# ---------------------------------------------------------------- rate limits


async def test_a_spent_rate_limit_stops_the_run_until_its_reset(db, github, clock):
    slugs = ("a", "b", "c")
    ids = await catalog(db, {slug: f"https://github.com/org/{slug}" for slug in slugs})
    for slug in slugs:
        github.add_repo(f"org/{slug}", stars=10, forks=1)
    reset = START + timedelta(minutes=40)
    github.refuse(
        403,
        {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(reset.timestamp()))},
        after=1,
    )

    run = await refresh(db, github, clock)
    resume = reset + timedelta(seconds=1)
    assert run == StatsRun(updated=1, paused_until=resume)
    assert github.paths() == ["/repos/org/a", "/repos/org/b"]
    assert (await job(db)).next_run_at == resume

    clock.move(timedelta(minutes=20))
    before = await refresh(db, github, clock)
    assert before.skipped and before.skipped.startswith("paused by GitHub's rate limit until")
    assert before.paused_until == resume
    assert len(github.requests) == 2

    github.allow()
    clock.current = resume
    assert await refresh(db, github, clock) == StatsRun(updated=2)
    assert github.paths()[2:] == ["/repos/org/b", "/repos/org/c"]
    assert (await figures(db, ids["b"]))["github_stars"][0] == 10
    assert (await job(db)).next_run_at is None


async def test_a_429_with_retry_after_pauses_for_that_long(db, github, clock):
    await catalog(db, {slug: f"https://github.com/org/{slug}" for slug in "ab"})
    for slug in "ab":
        github.add_repo(f"org/{slug}", stars=1, forks=1)
    github.refuse(429, {"retry-after": "120"}, times=1)

    run = await refresh(db, github, clock)
    assert run == StatsRun(paused_until=START + timedelta(seconds=120))
    clock.move(timedelta(seconds=119))
    assert (await refresh(db, github, clock)).skipped.startswith("paused")
    assert len(github.requests) == 1
    clock.move(timedelta(seconds=1))
    assert await refresh(db, github, clock) == StatsRun(updated=2)
    assert github.paths() == ["/repos/org/a", "/repos/org/a", "/repos/org/b"]


async def test_a_secondary_limit_without_headers_backs_off_longer_each_time(db, github, clock):
    await catalog(db, {"a": "https://github.com/org/a"})
    github.add_repo("org/a", stars=1, forks=1)
    github.refuse(403, times=2)

    first = await refresh(db, github, clock)
    assert first.paused_until == START + SECONDARY_LIMIT_WAIT
    clock.current = first.paused_until
    second = await refresh(db, github, clock)
    assert second.paused_until == clock.current + 2 * SECONDARY_LIMIT_WAIT
    clock.current = second.paused_until
    assert await refresh(db, github, clock) == StatsRun(updated=1)
    assert "secondary" not in (await job(db)).last_outcome


async def test_the_last_request_of_the_budget_pauses_before_github_refuses(db, github, clock):
    await catalog(db, {slug: f"https://github.com/org/{slug}" for slug in "abc"})
    for slug in "abc":
        github.add_repo(f"org/{slug}", stars=1, forks=1)
    reset = START + timedelta(minutes=30)
    github.limit(remaining=2, reset_at=int(reset.timestamp()))

    run = await refresh(db, github, clock)
    assert run == StatsRun(updated=2, paused_until=reset + timedelta(seconds=1))
    # No request was refused: the run stopped when the budget said 0.
    assert github.paths() == ["/repos/org/a", "/repos/org/b"]


# ---------------------------------------------------------------- one process at a time


async def test_two_processes_one_refreshes_the_other_is_skipped(db, github, clock):
    await catalog(db, {slug: f"https://github.com/org/{slug}" for slug in "ab"})
    for slug in "ab":
        github.add_repo(f"org/{slug}", stars=1, forks=1)
    engine = db.kw["bind"]
    # The other process: its own engine (its own connections) on the same database.
    other_engine = create_engine(engine.url.render_as_string(hide_password=False))
    other_db = create_session_factory(other_engine)
    github.hold = asyncio.Event()
    first = service(db, github, clock)
    second = service(other_db, github, clock)
    try:
        working = asyncio.create_task(first.refresh())
        await github.arrived.wait()  # the first holds the lock and waits on GitHub

        assert await second.refresh() == StatsRun(skipped="another process is refreshing")
        assert len(github.requests) == 1

        github.hold.set()
        assert await working == StatsRun(updated=2)
        assert await second.refresh() == StatsRun(skipped="nothing due")
        assert len(github.requests) == 2
    finally:
        github.hold.set()
        await first.close()
        await second.close()
        await other_engine.dispose()


async def test_the_lock_is_released_on_error_and_never_left_in_a_transaction(db):
    engine = db.kw["bind"]
    other_engine = create_engine(engine.url.render_as_string(hide_password=False))
    try:
        with pytest.raises(RuntimeError):
            async with exclusive(engine, "external_stats") as got:
                assert got
                async with exclusive(other_engine, "external_stats") as other:
                    assert not other
                async with exclusive(other_engine, "something else") as unrelated:
                    assert unrelated
                if engine.dialect.name == "postgresql":
                    async with engine.connect() as connection:
                        states = (
                            await connection.execute(
                                text(
                                    "SELECT a.state FROM pg_locks l JOIN pg_stat_activity a"
                                    " ON a.pid = l.pid WHERE l.locktype = 'advisory'"
                                    " AND l.granted AND l.database = ("
                                    "SELECT oid FROM pg_database"
                                    " WHERE datname = current_database())"
                                )
                            )
                        ).all()
                    assert states == [("idle",)]
                raise RuntimeError("the job failed")
        async with exclusive(other_engine, "external_stats") as again:
            assert again
    finally:
        await other_engine.dispose()


def test_lock_keys_are_stable_signed_64_bit_numbers():
    key = lock_key("external_stats")
    assert key == lock_key("external_stats") != lock_key("digest")
    assert -(2**63) <= key < 2**63


# ---------------------------------------------------------------- bot/github.py


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/expressjs/express", "expressjs/express"),
        ("https://github.com/expressjs/express/", "expressjs/express"),
        ("https://github.com/expressjs/express.git", "expressjs/express"),
        ("http://www.github.com/koajs/koa", "koajs/koa"),
        ("github.com/pallets/flask", "pallets/flask"),
        ("https://github.com/vercel/next.js", "vercel/next.js"),
        ("https://github.com/org/repo/tree/main/packages/x", "org/repo"),
        ("https://github.com/someone", None),
        ("https://gitlab.com/gitlab-org/gitlab", None),
        ("https://codeberg.org/ziglang/zig", None),
        ("https://github.com.evil.example/a/b", None),
        ("ftp://github.com/a/b", None),
        ("", None),
        (None, None),
    ],
)
def test_repository_name(url, expected):
    assert repository_name(url) == expected


NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_decide_follows_githubs_rate_limit_rules():
    reset = int((NOW + timedelta(minutes=10)).timestamp())
    spent = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)}

    retry = decide(429, {"Retry-After": "30", **spent}, now=NOW)
    assert (retry.verdict, retry.resume_at) == (Verdict.RATE_LIMITED, NOW + timedelta(seconds=30))

    primary = decide(403, spent, now=NOW)
    assert primary.resume_at == NOW + timedelta(minutes=10, seconds=1) and not primary.secondary

    message = "You have exceeded a secondary rate limit."
    secondary = decide(
        403, {"x-ratelimit-remaining": "12"}, now=NOW, secondary_streak=0, message=message
    )
    assert secondary.secondary and secondary.resume_at == NOW + timedelta(minutes=1)
    blocked = decide(
        403, {"x-ratelimit-remaining": "12"}, now=NOW, message="Repository access blocked"
    )
    assert (blocked.verdict, blocked.resume_at) == (Verdict.FAILED, None)
    again = decide(429, {}, now=NOW, secondary_streak=3)
    assert again.resume_at == NOW + timedelta(minutes=8)
    assert secondary_limit_wait(50) == timedelta(hours=2)

    slow_down = decide(200, spent, now=NOW)
    assert slow_down.verdict is Verdict.FIGURES and slow_down.resume_at == primary.resume_at
    assert decide(200, {"x-ratelimit-remaining": "1"}, now=NOW).resume_at is None


def test_decide_names_every_other_answer():
    assert decide(304, {}, now=NOW).verdict is Verdict.NOT_MODIFIED
    assert decide(404, {}, now=NOW).verdict is Verdict.MISSING
    assert decide(451, {}, now=NOW).verdict is Verdict.MISSING
    assert decide(500, {}, now=NOW).verdict is Verdict.FAILED
    assert decide(0, {}, now=NOW).verdict is Verdict.FAILED
    # A reset already past on our clock still waits a moment, never hammers.
    past = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW.timestamp()) - 60)}
    assert decide(403, past, now=NOW).resume_at > NOW


def test_failed_checks_back_off_up_to_the_refresh_interval():
    assert [failed_check_wait(n, DAY).total_seconds() / 3600 for n in (1, 2, 3, 6, 9)] == [
        1,
        2,
        4,
        24,
        24,
    ]


# ---------------------------------------------------------------- what members see


async def test_compare_shows_githubs_fresh_figures_beside_the_seed_pages(
    simcord_env, sessions, github, clock
):
    """On the shipped catalog: the refresh fetches the seed trio's repositories, and /compare
    shows GitHub's figures on a line of their own, the StackShare page's line unchanged."""
    seed = {"expressjs": "expressjs/express", "flask": "pallets/flask", "koa": "koajs/koa"}
    github.add_repo("expressjs/express", stars=66_123, forks=16_543)
    github.add_repo("pallets/flask", stars=69_012, forks=16_321)
    github.add_repo("koajs/koa", stars=35_456, forks=3_234)
    async with sessions() as session, session.begin():
        # Every other tool was checked lately: this run is about the trio.
        others = await session.exec(
            select(Tool.id).where(Tool.slug.not_in(seed), Tool.repository.is_not(None))
        )
        session.add_all(
            StatCheck(tool_id=other, source="github", next_check_at=START + DAY)
            for other in others.all()
        )

    assert await refresh(sessions, github, clock) == StatsRun(updated=3)
    assert sorted(github.paths()) == sorted(f"/repos/{name}" for name in seed.values())

    channel = simcord_env.create_guild().create_text_channel("general")
    member = channel.guild.add_member(simcord_env.create_user("ada"))
    result = await member.slash(channel, "compare", first="ExpressJS", second="Flask", third="Koa")
    fields = {field.name: field.value for field in result.response.embeds[0].fields}
    # The seed page's figures as of its day, and GitHub's fresh ones in a table of their own.
    stackshare = fields["StackShare, as of 2025-01-01"].splitlines()
    assert "ExpressJS   35.1K      24.0K   1.6K" in stackshare
    assert "Koa           812        483     12" in stackshare
    assert stackshare[-1] == "**Koa**: GitHub\xa0Stars\xa035.7K · GitHub\xa0Forks\xa03.2K"
    assert fields["GitHub, as of 2026-03-02"].splitlines()[1:-1] == [
        "           Stars  Forks",
        "ExpressJS  66.1K  16.5K",
        "Flask      69.0K  16.3K",
        "Koa        35.5K   3.2K",
    ]


async def test_a_blocked_repository_fails_alone_and_the_run_goes_on(db, github, clock):
    ids = await catalog(
        db, {"blocked": "https://github.com/org/blocked", "fine": "https://github.com/org/fine"}
    )
    github.add_repo("org/blocked", stars=1, forks=1)
    github.add_repo("org/fine", stars=7, forks=2)
    github.blocked.add("org/blocked")

    assert await refresh(db, github, clock) == StatsRun(updated=1, failed=1)
    check = await check_of(db, ids["blocked"])
    assert (check.status, check.failures) == ("failed", 1)
    assert (await check_of(db, ids["fine"])).status == "ok"
