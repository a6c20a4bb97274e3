"""The weekly digest: what a guild's week holds (on SQLite and PostgreSQL), only its own data,
and the embed and chart members see, within Discord's limits whatever members wrote."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlmodel import select

from bot.charts import LABEL_LIMIT, TITLE_LIMIT, ChartBar, render_pros_cons_png
from bot.core.comparison import ToolRef
from bot.core.digest import (
    Capped,
    ComparedTool,
    Digest,
    DigestPost,
    DigestVerdict,
    VotedReason,
    window_days,
)
from bot.render.compare import BUDGET, total_length
from bot.render.digest import (
    COMPARED_CHART_NAME,
    QUIET_WEEK,
    VOTED_CHART_NAME,
    digest_chart_spec,
    digest_embed,
)
from bot.services.digest import DigestService
from db.models import AdvicePost, AdviceStatus, CompareDay, ProCon, Vote, VoteTarget
from db.tool_queries import record_comparison
from tests.conftest import add_tools

GUILD, OTHER = 1_200_000_000_000_000_001, 1_200_000_000_000_000_002
# Monday 09:00 in Paris: a guild's digest hour, not midnight UTC.
START = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
END = START + timedelta(days=7)


def at(day: int, hour: int = 12, month: int = 3) -> datetime:
    return datetime(2025, month, day, hour, 0, tzinfo=UTC)


def units(text: str | None) -> int:
    text = text or ""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


# ---------------------------------------------------------------- the window's days


def test_a_window_counts_the_utc_days_whose_noon_it_holds() -> None:
    assert window_days(START, END) == (date(2025, 3, 3), date(2025, 3, 9))
    midnight = datetime(2025, 3, 3, tzinfo=UTC)
    assert window_days(midnight, midnight + timedelta(days=7)) == (
        date(2025, 3, 3),
        date(2025, 3, 9),
    )
    # 20:00 UTC: Monday's noon was before it, so Monday went to the week before.
    evening = datetime(2025, 3, 3, 20, tzinfo=UTC)
    assert window_days(evening, evening + timedelta(days=7)) == (
        date(2025, 3, 4),
        date(2025, 3, 10),
    )
    assert window_days(at(3, 13), at(3, 20)) is None


def test_consecutive_windows_count_every_day_once() -> None:
    start = datetime(2025, 3, 3, 22, 30, tzinfo=timezone(timedelta(hours=-5)))
    counted: list[date] = []
    for week in range(6):
        first, last = window_days(start + timedelta(weeks=week), start + timedelta(weeks=week + 1))
        counted += [first + timedelta(days=n) for n in range((last - first).days + 1)]
    assert counted == [counted[0] + timedelta(days=n) for n in range(42)]


def test_a_window_must_be_aware_and_forward() -> None:
    with pytest.raises(ValueError):
        Digest(guild_id=GUILD, start=START.replace(tzinfo=None), end=END)
    with pytest.raises(ValueError):
        Digest(guild_id=GUILD, start=END, end=START)


# ---------------------------------------------------------------- record_comparison


async def test_a_compare_run_counts_each_tool_on_its_utc_day_and_an_advice_post_does_not(db):
    async with db() as session, session.begin():
        flask, django, koa = (
            tool.id for tool in await add_tools(session, "flask", "django", "koa")
        )
    evening_in_new_york = datetime(2025, 3, 3, 20, 30, tzinfo=timezone(timedelta(hours=-5)))
    async with db() as session, session.begin():
        await record_comparison(session, guild_id=GUILD, tool_ids=[flask, django], now=at(3, 1))
        await record_comparison(session, guild_id=GUILD, tool_ids=[django, flask], now=at(3, 23))
        await record_comparison(
            session, guild_id=GUILD, tool_ids=[flask, koa], now=evening_in_new_york
        )
        await record_comparison(
            session, guild_id=GUILD, tool_ids=[flask, koa], now=at(3), asked=True
        )
        await record_comparison(session, guild_id=OTHER, tool_ids=[flask, koa], now=at(3))
    async with db() as session:
        days = (
            await session.exec(
                select(CompareDay.guild_id, CompareDay.tool_id, CompareDay.day, CompareDay.runs)
            )
        ).all()
    assert sorted(days) == sorted(
        [
            (GUILD, flask, date(2025, 3, 3), 2),
            (GUILD, django, date(2025, 3, 3), 2),
            (GUILD, flask, date(2025, 3, 4), 1),
            (GUILD, koa, date(2025, 3, 4), 1),
            (OTHER, flask, date(2025, 3, 3), 1),
            (OTHER, koa, date(2025, 3, 3), 1),
        ]
    )


async def test_concurrent_compare_runs_all_count(db):
    async with db() as session, session.begin():
        flask, django = (tool.id for tool in await add_tools(session, "flask", "django"))

    async def run(tool_ids):
        async with db() as session, session.begin():
            await record_comparison(session, guild_id=GUILD, tool_ids=tool_ids, now=at(4))

    await asyncio.gather(*(run([flask, django] if n % 2 else [django, flask]) for n in range(12)))
    async with db() as session:
        runs = (await session.exec(select(CompareDay.tool_id, CompareDay.runs))).all()
    assert sorted(runs) == sorted([(flask, 12), (django, 12)])


# ---------------------------------------------------------------- a realistic week


def advice_post(number: int, guild_id: int = GUILD, **values) -> AdvicePost:
    values.setdefault("thread_id", 9_000 + number)
    return AdvicePost(
        guild_id=guild_id,
        channel_id=500,
        asker_id=600 + number,
        title=f"Post {number}",
        question="Which one?",
        **values,
    )


@pytest.fixture
async def week(db):
    """A guild's week, with what happened before and after it and in another guild."""
    async with db() as session, session.begin():
        tools = await add_tools(session, "flask", "django", "koa", "express", "bottle")
        flask, django, koa, express, bottle = (tool.id for tool in tools)
        closed = {"status": AdviceStatus.CLOSED}
        session.add_all(
            [
                advice_post(1, created_at=at(20, month=2)),  # still open
                advice_post(2, created_at=at(10, month=2), closed_at=at(25, month=2), **closed),
                advice_post(
                    3,
                    created_at=at(26, month=2),
                    closed_at=at(4),
                    verdict_tool_id=flask,
                    accepted_tool_id=flask,
                    **closed,
                ),
                advice_post(4, created_at=at(4)),
                advice_post(5, created_at=at(5), closed_at=at(8), verdict_tool_id=django, **closed),
                advice_post(6, created_at=at(6), closed_at=at(7), **closed),
                advice_post(7, created_at=START),  # the window's first moment is in it
                advice_post(8, created_at=END),  # its end is not
                advice_post(9, created_at=at(27, month=2), closed_at=at(11), **closed),
                advice_post(10, created_at=at(5, 9), thread_id=None),
                advice_post(11, created_at=at(3, 9), closed_at=END, verdict_tool_id=koa, **closed),
                advice_post(21, OTHER, created_at=at(4)),
                advice_post(22, OTHER, created_at=at(1, month=2)),
                advice_post(
                    23,
                    OTHER,
                    created_at=at(1, month=2),
                    closed_at=at(4),
                    verdict_tool_id=koa,
                    **closed,
                ),
            ]
        )
        runs = [
            ([flask, django], at(2, 23), GUILD, False),  # the day before the window
            ([flask, django], at(3, 10), GUILD, False),
            ([flask, koa], at(5), GUILD, False),
            ([koa, flask], at(5, 18), GUILD, False),
            ([django, flask, express], at(9, 20), GUILD, False),
            ([express, koa], at(10, 9), GUILD, False),  # the day the next window counts
            ([bottle, koa], at(5), GUILD, True),  # an advice post asking, not a run
            ([bottle, express], at(5), OTHER, False),
        ]
        for tool_ids, now, guild_id, asked in runs:
            await record_comparison(
                session, guild_id=guild_id, tool_ids=tool_ids, now=now, asked=asked
            )
        simple = ProCon(tool_id=flask, kind="pro", text="Simple")
        heavy = ProCon(tool_id=django, kind="con", text="Heavy")
        tiny = ProCon(tool_id=koa, kind="pro", text="Tiny", guild_id=GUILD)
        theirs = ProCon(tool_id=flask, kind="pro", text="Theirs", guild_id=OTHER)
        unvoted = ProCon(tool_id=express, kind="pro", text="Unvoted", guild_id=GUILD)
        session.add_all([simple, heavy, tiny, theirs, unvoted])
        await session.flush()
        members = iter(range(1, 1000))

        def vote(target, guild_id, created_at, value=1, kind=VoteTarget.PRO_CON):
            return Vote(
                target_kind=kind.value,
                target_id=target.id,
                member_id=next(members),
                guild_id=guild_id,
                value=value,
                created_at=created_at,
            )

        session.add_all(
            [
                *(vote(simple, GUILD, at(day)) for day in (3, 4, 9)),
                vote(simple, GUILD, at(2)),  # before the window
                vote(simple, GUILD, at(4), value=-1),  # a 👎 is no "most voted"
                vote(simple, GUILD, END),
                *(vote(simple, OTHER, at(4)) for _ in range(5)),
                *(vote(heavy, GUILD, at(day)) for day in (5, 6)),
                vote(tiny, GUILD, START),
                *(vote(theirs, OTHER, at(4)) for _ in range(4)),
                # Should never exist; if it did, another guild's pro still stays out.
                vote(theirs, GUILD, at(4)),
                # A recommendation vote whose id happens to be a pro's is no pro vote.
                *(vote(unvoted, GUILD, at(4), kind=VoteTarget.RECOMMENDATION) for _ in range(9)),
            ]
        )
    return {tool.slug: ToolRef(tool.id, tool.slug, tool.name) for tool in tools}


def titles(capped: Capped) -> list[str]:
    return [post.title for post in capped.items]


async def test_the_digest_holds_exactly_the_guilds_week(db, week):
    digest = await DigestService(db).collect(GUILD, START, END)

    assert digest.guild_id == GUILD and (digest.start, digest.end) == (START, END)
    assert titles(digest.new_posts) == [
        "Post 6",
        "Post 5",
        "Post 10",
        "Post 4",
        "Post 11",
        "Post 7",
    ]
    assert digest.new_posts.total == 6
    assert [post.thread_id for post in digest.new_posts.items][2] is None
    assert digest.new_posts.items[0].created_at == at(6)
    assert titles(digest.open_posts) == ["Post 1"] and digest.open_posts.total == 1
    assert [
        (verdict.post.title, verdict.tool, verdict.accepted, verdict.closed_at)
        for verdict in digest.verdicts.items
    ] == [
        ("Post 3", week["flask"], True, at(4)),
        ("Post 6", None, False, at(7)),
        ("Post 5", week["django"], False, at(8)),
    ]
    assert digest.verdicts.total == 3
    assert digest.compared.items == (
        ComparedTool(week["flask"], 4),
        ComparedTool(week["django"], 2),
        ComparedTool(week["koa"], 2),
        ComparedTool(week["express"], 1),
    )
    assert digest.compared.total == 4
    assert [(r.tool, r.kind, r.text, r.votes) for r in digest.voted.items] == [
        (week["flask"], "pro", "Simple", 3),
        (week["django"], "con", "Heavy", 2),
        (week["koa"], "pro", "Tiny", 1),
    ]
    assert digest.voted.total == 3 and digest.votes_cast == 6
    assert not digest.is_quiet and not digest.is_empty


async def test_the_other_guild_sees_only_its_own_week(db, week):
    digest = await DigestService(db).collect(OTHER, START, END)
    assert titles(digest.new_posts) == ["Post 21"]
    assert titles(digest.open_posts) == ["Post 22"]
    assert [(v.post.title, v.tool) for v in digest.verdicts.items] == [("Post 23", week["koa"])]
    assert digest.compared.items == (
        ComparedTool(week["bottle"], 1),
        ComparedTool(week["express"], 1),
    )
    # The catalog's pro is everyone's; each guild counts only its own members' votes on it.
    assert [(r.text, r.votes) for r in digest.voted.items] == [("Simple", 5), ("Theirs", 4)]
    assert digest.votes_cast == 9


async def test_a_week_before_anything_happened_is_empty(db, week):
    digest = await DigestService(db).collect(GUILD, at(1, month=1), at(8, month=1))
    assert digest.is_empty and digest.is_quiet
    assert digest == Digest(guild_id=GUILD, start=at(1, month=1), end=at(8, month=1))


async def test_a_week_with_only_posts_waiting_is_quiet_but_not_empty(db, week):
    digest = await DigestService(db).collect(GUILD, at(20, month=3), at(27, month=3))
    assert digest.is_quiet and not digest.is_empty
    # The longest waiting first; Post 8 was opened the moment the week before ended.
    assert titles(digest.open_posts) == ["Post 1", "Post 7", "Post 4", "Post 10", "Post 8"]


async def test_lists_are_capped_and_totals_are_not(db):
    async with db() as session, session.begin():
        tools = await add_tools(session, *(f"tool{n}" for n in range(8)))
        ids = [tool.id for tool in tools]
        session.add_all(advice_post(n, created_at=at(4) + timedelta(minutes=n)) for n in range(12))
        for n in range(7):
            # tool0 and tool1 in 7 runs, tool(n + 1) in n + 1
            for _ in range(n + 1):
                await record_comparison(
                    session, guild_id=GUILD, tool_ids=[ids[0], ids[n + 1]], now=at(5)
                )
        reasons = [ProCon(tool_id=ids[n], kind="con", text=f"Con {n}") for n in range(7)]
        session.add_all(reasons)
        await session.flush()
        members = iter(range(1, 1000))
        session.add_all(
            Vote(
                target_kind=VoteTarget.PRO_CON.value,
                target_id=reason.id,
                member_id=next(members),
                guild_id=GUILD,
                value=1,
                created_at=at(6),
            )
            for n, reason in enumerate(reasons)
            for _ in range(n + 1)
        )
    digest = await DigestService(db).collect(GUILD, START, END)
    assert len(digest.new_posts.items) == 10 and digest.new_posts.total == 12
    assert titles(digest.new_posts)[:2] == ["Post 11", "Post 10"]
    assert [(c.tool.slug, c.runs) for c in digest.compared.items] == [
        ("tool0", 28),
        ("tool7", 7),
        ("tool6", 6),
        ("tool5", 5),
        ("tool4", 4),
    ]
    assert digest.compared.total == 8
    assert [r.text for r in digest.voted.items] == ["Con 6", "Con 5", "Con 4", "Con 3", "Con 2"]
    assert digest.voted.total == 7 and digest.votes_cast == 28


# ---------------------------------------------------------------- the embed

FLASK = ToolRef(1, "flask", "Flask")
DJANGO = ToolRef(2, "django", "Django")


def post(number: int, title: str | None = None, *, thread: bool = True) -> DigestPost:
    return DigestPost(
        id=number,
        thread_id=7_000 + number if thread else None,
        title=title if title is not None else f"Post {number}",
        created_at=at(4),
    )


def a_digest(**values) -> Digest:
    return Digest(guild_id=GUILD, start=START, end=END, **values)


def full_week() -> Digest:
    return a_digest(
        new_posts=Capped((post(1), post(2, thread=False)), 2),
        open_posts=Capped((post(3),), 1),
        verdicts=Capped(
            (
                DigestVerdict(post(4, "Flask or Django?"), at(5), FLASK, accepted=True),
                DigestVerdict(post(5, "Which ORM?"), at(6), DJANGO, accepted=False),
                DigestVerdict(post(6, "Queue?"), at(6), None, accepted=False),
            ),
            3,
        ),
        compared=Capped((ComparedTool(FLASK, 4), ComparedTool(DJANGO, 1)), 2),
        voted=Capped(
            (
                VotedReason(1, FLASK, "pro", "Simple", 3),
                VotedReason(2, DJANGO, "con", "Heavy", 2),
            ),
            2,
        ),
        votes_cast=5,
    )


def fields(embed) -> dict[str, str]:
    return {field.name: field.value for field in embed.fields}


def test_a_member_reads_each_section_of_the_week() -> None:
    embed = digest_embed(full_week(), chart=False)
    assert embed.title == "Stackup weekly digest"
    assert f"<t:{int(START.timestamp())}:f>" in embed.description
    assert f"<t:{int(END.timestamp())}:f>" in embed.description
    assert QUIET_WEEK not in embed.description
    url = f"https://discord.com/channels/{GUILD}"
    relative = f"<t:{int(at(4).timestamp())}:R>"
    assert fields(embed) == {
        "New advice posts · 2": (
            f"1. [Post 1]({url}/7001) · asked {relative}\n2. Post 2 · asked {relative}"
        ),
        "Still open · 1": f"1. [Post 3]({url}/7003) · asked {relative}",
        "Verdicts · 3": (
            f"1. [**Flask or Django?**]({url}/7004) → Flask (accepted by the asker)\n"
            f"2. [**Which ORM?**]({url}/7005) → Django (most voted)\n"
            f"3. [**Queue?**]({url}/7006) → no verdict"
        ),
        "Most compared tools · 2 compared": "1. **Flask** · 4 runs\n2. **Django** · 1 run",
        "Most voted pros and cons · 5 votes on 2": (
            "1. **Flask** pro: Simple · 👍 3\n2. **Django** con: Heavy · 👍 2"
        ),
    }
    assert embed.image.url is None


def test_the_chart_shows_under_the_digest_when_attached() -> None:
    embed = digest_embed(full_week(), chart=True)
    assert embed.image.url == "attachment://stackup-chart.png"


def test_a_capped_list_says_how_many_more() -> None:
    digest = a_digest(
        new_posts=Capped(tuple(post(n) for n in range(10)), 14),
        compared=Capped(tuple(ComparedTool(FLASK, 9 - n) for n in range(5)), 6),
    )
    values = fields(digest_embed(digest, chart=False))
    assert values["New advice posts · 14"].endswith(
        "10. [Post 9](https://discord.com/channels/"
        f"{GUILD}/7009) · asked <t:{int(at(4).timestamp())}:R>\n…and 4 more"
    )
    assert values["Most compared tools · 6 compared"].endswith("5. **Flask** · 5 runs\n…and 1 more")


def test_an_empty_week_says_so_and_shows_no_sections() -> None:
    embed = digest_embed(a_digest(), chart=False)
    assert QUIET_WEEK in embed.description and embed.fields == []
    quiet = digest_embed(a_digest(open_posts=Capped((post(1),), 1)), chart=False)
    assert QUIET_WEEK in quiet.description and list(fields(quiet)) == ["Still open · 1"]


def test_markdown_and_mentions_in_titles_read_as_typed() -> None:
    sneaky = "**Bold** [click](https://evil.example) <@123> `code` _x_ ~~y~~ ||z|| @everyone"
    digest = a_digest(
        new_posts=Capped((post(1, sneaky),), 1),
        voted=Capped((VotedReason(1, FLASK, "pro", "[link](https://a.b) *ok*", 1),), 1),
        votes_cast=1,
    )
    embed = digest_embed(digest, chart=False)
    # One link only, the thread's; no live mention, bold, code or spoiler from the title.
    assert fields(embed)["New advice posts · 1"] == (
        r"1. [\*\*Bold\*\* \[click\]\(https\://evil.example\) \<@123\> \`code\` \_x\_"
        r" \~\~y\~\~ \|\|z\|\| @everyone]"
        f"(https://discord.com/channels/{GUILD}/7001) · asked <t:{int(at(4).timestamp())}:R>"
    )
    assert fields(embed)["Most voted pros and cons · 1 vote on 1"] == (
        r"1. **Flask** pro: \[link\]\(https\://a.b\) \*ok\* · 👍 1"
    )


def huge_week(title: str, text: str, name: str) -> Digest:
    tool = ToolRef(1, "x", name)
    posts = tuple(post(n, title) for n in range(10))
    return a_digest(
        new_posts=Capped(posts, 500),
        open_posts=Capped(posts, 800),
        verdicts=Capped(tuple(DigestVerdict(p, at(5), tool, True) for p in posts), 300),
        compared=Capped(tuple(ComparedTool(tool, 10**9) for _ in range(5)), 900),
        voted=Capped(tuple(VotedReason(n, tool, "con", text, 10**9) for n in range(5)), 700),
        votes_cast=10**12,
    )


@pytest.mark.parametrize(
    ("title", "text", "name"),
    [
        ("😀" * 100, "👍" * 100, "🚀" * 100),
        ("*_`|~[]()<>:#-\\" * 7, "**" * 50, "[x](y)" * 16),
        ("W" * 100, "\n".join(["line"] * 20), "N" * 100),
        ("", " ", "👨‍👩‍👧‍👦" * 14),
    ],
)
@pytest.mark.parametrize("chart", [False, True])
def test_any_week_fits_discords_limits(title: str, text: str, name: str, chart: bool) -> None:
    embed = digest_embed(huge_week(title, text, name), chart=chart)
    assert units(embed.title) <= 256 and units(embed.description) <= 4096
    assert len(embed.fields) <= 25 and units(embed.footer.text) <= 2048
    for field in embed.fields:
        assert 0 < units(field.name) <= 256
        assert 0 < units(field.value) <= 1024
        assert "\n\n" not in field.value
    assert total_length([embed]) <= BUDGET
    # Every section is there, each saying how much it leaves out.
    assert len(embed.fields) == 5
    assert all(re.search(r"…and \d+ more$", field.value) for field in embed.fields)


# ---------------------------------------------------------------- the chart


def test_the_chart_shows_compared_tools_and_voted_pros_and_cons() -> None:
    spec = digest_chart_spec(full_week())
    assert len(spec.title) <= TITLE_LIMIT
    compared, voted = spec.tools
    assert compared.name == COMPARED_CHART_NAME
    assert compared.pros == (ChartBar("Flask", 4), ChartBar("Django", 1)) and compared.cons == ()
    assert voted.name == VOTED_CHART_NAME
    assert voted.pros == (ChartBar("Flask: Simple", 3),)
    assert voted.cons == (ChartBar("Django: Heavy", 2),)
    assert render_pros_cons_png(spec).startswith(b"\x89PNG")


def test_the_chart_has_only_what_the_week_has() -> None:
    assert digest_chart_spec(a_digest()) is None
    assert digest_chart_spec(a_digest(open_posts=Capped((post(1),), 1))) is None
    only_votes = digest_chart_spec(
        a_digest(voted=Capped((VotedReason(1, FLASK, "con", "Slow", 2),), 1), votes_cast=2)
    )
    assert [tool.name for tool in only_votes.tools] == [VOTED_CHART_NAME]


def test_chart_labels_stay_short_and_on_one_line() -> None:
    spec = digest_chart_spec(huge_week("t", "Line one\nline two " + "x" * 100, "N" * 100))
    bars = [bar for tool in spec.tools for bar in tool.pros + tool.cons]
    assert bars and all(len(bar.label) <= LABEL_LIMIT and "\n" not in bar.label for bar in bars)
    assert all(bar.label.startswith("N") for bar in bars)
    assert all(": Line one li" in bar.label for bar in spec.tools[1].cons)
