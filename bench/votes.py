"""Reaction votes benchmark: events per second one process turns into votes, end to end.

Seeds a fresh database (a temporary SQLite file; on PostgreSQL a new database, dropped
afterwards) through the app's own code: the migrations, one category and a few tools, one
advice post with 200 recommendations (by default; 200 different recommenders), each one's
message registered as a vote message with `AdviceService.attach_message` (👍 = +1, 👎 = -1,
the recommender excluded).

Then builds a deterministic stream of 50,000 reaction events by 5,000 members (defaults;
plus ten bots), consistent the way Discord's are (a member adds an emoji they do not show and
removes one they do): 👍 and 👎 mostly, switches and withdrawals among them (half the events revisit a
member and message already reacted on; messages skewed, a few hot), some other emojis (❤️, 😂,
1️⃣, a custom emoji), about 2% by the recommender on their own message and 1% by bots, all of
which must be ignored. Each event is a gateway dispatch frame (MESSAGE_REACTION_ADD with a
`member`, or MESSAGE_REACTION_REMOVE) encoded as JSON beforehand.

Measures, with `time.perf_counter()`, in one process and one event loop:

* end to end: a real `StackupBot` (no token, no network, `setup_hook` not run; the guild is in
  discord.py's cache, as after GUILD_CREATE, so adds build a `Member`) with the `Votes` cog
  added. Each frame is JSON-decoded and handed to discord.py's own parser
  (`bot._connection.parsers[...]`), which dispatches `raw_reaction_add/remove` to the cog's
  listeners, which submit `ReactionEvent`s to `bot.services.votes` (the `VoteService`), which writes
  them in batches. Frames go in at full speed, yielding to the loop every 200, so the writer
  drains a sustained stream rather than one giant batch. The clock runs from the first frame
  to `bot.services.votes.wait_idle()` returning. The writer's batch count and mean batch size are
  printed, and how far the feed got ahead of the writer (when the last frame was fed, how many
  events were still queued): the writer is the slower part, so batches fill up and the figure
  is what the writer sustains under a backlog. REST calls the cog makes (taking away the 👍 a
  member left when switching to 👎) are answered by a stub that counts them;
* the part before the database alone: the same frames through discord.py and the cog with
  `bot.services.votes.submit` replaced by a list's `append`;
* the baseline, in the same run on the same database server, with the raw driver: the stdlib
  `sqlite3` module (WAL, synchronous=NORMAL, as `db/engine.py` sets them), or asyncpg
  (autocommit), doing one transaction per event of one upsert
  `INSERT ... ON CONFLICT (target, member) DO UPDATE` (the event's message and member, the
  value it sets) on a scratch table; the ratio end to end / raw. sqlite3 upserts every event;
  asyncpg the first 10,000 (`--postgres-raw-events`): each commit waits for the WAL flush, so
  the rate is steady and the whole stream would add some 15 s.

Checks, after the run: every vote row and every recommendation's up/down counts against a
plain Python model of the rules run over the same events (adding 👍 sets the member's vote to
+1 and 👎 to -1, a switch replaces; removing 👍 withdraws only a +1, removing 👎 only a -1;
other emojis, bots' adds and the recommender's own reactions are ignored), and the writer's
applied/ignored counts against what the model expects. "nothing lost" means no mismatch and
no failed batch. Before the run, discord.py's parser is checked to dispatch a raw reaction
event with no guild cached too (the member is then None, and the cog still submits).

Target: at least 2,000 events/s end to end on SQLite with nothing lost. It always exits 0: it
is a benchmark, not a test; the PASS/FAIL line reports the target. Sizes are options
(`--events`, `--members`, `--recommendations`); `--profile` adds a cProfile of each end-to-end
run. PostgreSQL is the server at `--postgres-url` (default
`postgresql://postgres@127.0.0.1:5432/test`, or $STACKUP_BENCH_POSTGRES_URL); if it does not
answer, its rows are skipped. Gateway work before the parser (zlib, the websocket) is not
included; the JSON decoding of each frame is.

Run from the repository root with `make bench` or `.venv/bin/python bench/votes.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import logging
import os
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
import discord
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from bot.bot import StackupBot
from bot.core.advice import NewPost
from bot.core.voting import DOWN, UP, VOTING_EMOJIS, VoteTarget
from bot.settings import Settings
from cogs.votes.cog import Votes
from db import migrate
from db.engine import create_engine, create_session_factory
from db.models import Category, Recommendation, Tool, Vote
from db.types import utcnow

SEED = 20240611
EVENTS = 50_000
MEMBERS = 5_000
RECOMMENDATIONS = 200
TOOLS = 20
BOTS = 10
YIELD_EVERY = 200
# One commit each, flushed to disk: the whole stream would take 15 s for the same rate.
POSTGRES_RAW_EVENTS = 10_000

REVISIT = 0.5  # share of events on a (message, member) pair already reacted on
RECOMMENDER_SHARE = 0.02  # events by the recommender, on their own message
BOT_SHARE = 0.01  # events by bots
MESSAGE_SKEW = 0.8  # Zipf exponent over messages: a few recommendations get most reactions
# 1️⃣ is a voting emoji, but no option of these messages; "" is the custom emoji.
EMOJI_WEIGHTS = ((UP, 0.45), (DOWN, 0.35), ("❤️", 0.06), ("😂", 0.05), ("1️⃣", 0.05), ("", 0.04))
CUSTOM_EMOJI = {"id": "1180000000000000001", "name": "stackup", "animated": False}

GUILD_ID = 700_000_000_000_000_001
FORUM_ID = 700_000_000_000_000_002
THREAD_ID = 700_000_000_000_000_003
MESSAGE_BASE = 710_000_000_000_000_000
MEMBER_BASE = 800_000_000_000_000_000
BOT_BASE = 900_000_000_000_000_000
STACKUP_USER_ID = 950_000_000_000_000_000
ASKER_ID = 960_000_000_000_000_000  # asks, does not react
UNREGISTERED_MESSAGE = 719_999_999_999_999_999

TARGET_EVENTS_PER_S = 2_000
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
RAW_UPSERT = (
    "INSERT INTO raw_votes (target, member, value) VALUES ({}) "
    "ON CONFLICT (target, member) DO UPDATE SET value = excluded.value"
)

# ---------------------------------------------------------------------------------- events


@dataclass(frozen=True)
class Event:
    added: bool
    message: int  # index of the recommendation (and of its message)
    member: int  # a member's or a bot's user id
    emoji: str  # "" for the custom emoji


@dataclass
class Stream:
    events: list[Event]
    frames: list[str]  # the gateway dispatch frames, JSON
    recommenders: list[int]  # user id of each message's recommender
    bots: frozenset[int]


def _member_object(user_id: int, bot: bool) -> dict:
    user = {
        "id": str(user_id),
        "username": f"user{user_id % 100_000}",
        "discriminator": "0",
        "global_name": None,
        "avatar": None,
    }
    if bot:
        user["bot"] = True
    return {
        "user": user,
        "roles": [],
        "joined_at": "2024-01-01T00:00:00.000000+00:00",
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "pending": False,
        "flags": 0,
        "nick": None,
        "avatar": None,
        "communication_disabled_until": None,
    }


def frame(event: Event, sequence: int, *, bot: bool) -> str:
    emoji = dict(CUSTOM_EMOJI) if not event.emoji else {"id": None, "name": event.emoji}
    data: dict = {
        "user_id": str(event.member),
        "channel_id": str(THREAD_ID),
        "message_id": str(MESSAGE_BASE + event.message),
        "guild_id": str(GUILD_ID),
        "emoji": emoji,
        "burst": False,
        "type": 0,
    }
    if event.added:
        data["member"] = _member_object(event.member, bot)
        data["message_author_id"] = str(STACKUP_USER_ID)  # Stackup posts recommendations
        data["burst_colors"] = []
    kind = "MESSAGE_REACTION_ADD" if event.added else "MESSAGE_REACTION_REMOVE"
    return json.dumps({"op": 0, "t": kind, "s": sequence, "d": data}, ensure_ascii=False)


def make_stream(events: int, members: int, recommendations: int) -> Stream:
    """Reactions as Discord sends them: an emoji a member does not show is added, one they
    show is removed."""
    rng = random.Random(SEED)
    member_ids = [MEMBER_BASE + n for n in range(members)]
    recommenders = rng.sample(member_ids, recommendations)
    bots = [BOT_BASE + n for n in range(BOTS)]
    cumulative, total = [], 0.0
    for rank in range(recommendations):
        total += 1.0 / (rank + 1) ** MESSAGE_SKEW
        cumulative.append(total)
    emojis = [emoji for emoji, _ in EMOJI_WEIGHTS]
    emoji_cumulative, total = [], 0.0
    for _, weight in EMOJI_WEIGHTS:
        total += weight
        emoji_cumulative.append(total)

    shown: dict[tuple[int, int], set[str]] = {}
    seen_pairs: list[tuple[int, int]] = []
    out: list[Event] = []
    for _ in range(events):
        roll = rng.random()
        if roll < RECOMMENDER_SHARE:
            message = rng.choices(range(recommendations), cum_weights=cumulative)[0]
            pair = (message, recommenders[message])
        elif roll < RECOMMENDER_SHARE + BOT_SHARE:
            message = rng.choices(range(recommendations), cum_weights=cumulative)[0]
            pair = (message, rng.choice(bots))
        elif seen_pairs and rng.random() < REVISIT:
            pair = rng.choice(seen_pairs)
        else:
            message = rng.choices(range(recommendations), cum_weights=cumulative)[0]
            pair = (message, rng.choice(member_ids))
        if pair not in shown:
            shown[pair] = set()
            seen_pairs.append(pair)
        emoji = rng.choices(emojis, cum_weights=emoji_cumulative)[0]
        added = emoji not in shown[pair]
        (shown[pair].add if added else shown[pair].discard)(emoji)
        out.append(Event(added, pair[0], pair[1], emoji))
    bot_set = frozenset(bots)
    frames = [frame(event, n + 1, bot=event.member in bot_set) for n, event in enumerate(out)]
    return Stream(out, frames, recommenders, bot_set)


# ---------------------------------------------------------------------------------- model


@dataclass
class Expected:
    votes: dict[tuple[int, int], int]  # (message index, member) -> +1/-1
    submitted: int  # events the cog hands to the vote service
    applied: int  # ... that are votes (an option's emoji, not the recommender)

    @property
    def tallies(self) -> dict[int, tuple[int, int]]:
        up: Counter[int] = Counter()
        down: Counter[int] = Counter()
        for (message, _), value in self.votes.items():
            (up if value == 1 else down)[message] += 1
        return {m: (up[m], down[m]) for m in set(up) | set(down)}


def model(stream: Stream) -> Expected:
    """The rules, plainly, over the same events."""
    votes: dict[tuple[int, int], int] = {}
    submitted = applied = 0
    values = {UP: 1, DOWN: -1}
    for event in stream.events:
        if not event.emoji or event.emoji not in VOTING_EMOJIS:
            continue  # a custom emoji or not a voting emoji: the cog drops it
        if event.added and event.member in stream.bots:
            continue  # the cog drops bots' adds (a removal carries no member)
        submitted += 1
        if event.emoji not in values or event.member == stream.recommenders[event.message]:
            continue  # no option of the message, or the recommender: the writer ignores it
        applied += 1
        key = (event.message, event.member)
        value = values[event.emoji]
        if event.added:
            votes[key] = value
        elif votes.get(key) == value:
            del votes[key]
    return Expected(votes, submitted, applied)


# ---------------------------------------------------------------------------------- seeding


@dataclass
class Seeded:
    recommendation_ids: list[int]  # by message index
    seconds: float


async def seed(bot: StackupBot, engine: AsyncEngine, stream: Stream) -> Seeded:
    started = time.perf_counter()
    await migrate.upgrade(engine)
    now = utcnow()
    async with bot.sessions() as session, session.begin():
        category = Category(name="Bench", path="Bench")
        session.add(category)
        await session.flush()
        tools = [
            Tool(
                slug=f"bench-{n:02d}",
                name=f"Bench Tool {n}",
                description="A tool for the votes benchmark.",
                category_id=category.id,
                created_at=now,
                updated_at=now,
            )
            for n in range(TOOLS)
        ]
        session.add_all(tools)
        await session.flush()
        tool_ids = [tool.id for tool in tools]
    await bot.services.advice.open_post(
        NewPost(
            guild_id=GUILD_ID,
            channel_id=FORUM_ID,
            thread_id=THREAD_ID,
            starter_message_id=THREAD_ID,
            asker_id=ASKER_ID,
            title="Which tool?",
            question="Which of these should we use?",
            context="",
            tool_ids=tuple(tool_ids[:2]),
        )
    )
    ids = []
    for index, recommender in enumerate(stream.recommenders):
        _, line = await bot.services.advice.recommend(
            thread_id=THREAD_ID,
            member_id=recommender,
            tool_id=tool_ids[index % TOOLS],
            reason=f"Recommendation {index}",
        )
        await bot.services.advice.attach_message(
            line.id, guild_id=GUILD_ID, channel_id=THREAD_ID, message_id=MESSAGE_BASE + index
        )
        ids.append(line.id)
    return Seeded(ids, time.perf_counter() - started)


# ---------------------------------------------------------------------------------- the bot


def make_bot(url: str) -> tuple[StackupBot, AsyncEngine]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, discord_token=None, shard_count=1, chart_workers=0, database_url=url
    )
    engine = create_engine(settings.database_url)
    return StackupBot(settings, engine, create_session_factory(engine)), engine


@dataclass
class RestStub:
    """Answers the REST calls the cog makes while votes arrive; no network."""

    removed_reactions: int = 0

    async def remove_reaction(self, *_args: object) -> None:
        self.removed_reactions += 1


def cached_guild(bot: StackupBot) -> discord.Guild:
    """The guild as discord.py holds it after GUILD_CREATE (no members or channels cached)."""
    data = {
        "id": str(GUILD_ID),
        "name": "Bench",
        "owner_id": str(ASKER_ID),
        "roles": [],
        "emojis": [],
        "stickers": [],
        "features": [],
        "member_count": MEMBERS,
    }
    return discord.Guild(data=data, state=bot._connection)  # type: ignore[arg-type]


async def check_dispatch(bot: StackupBot, *, cached: bool) -> str:
    """One add for an unregistered message: the listener must see it; returns a note."""
    seen: list[discord.RawReactionActionEvent] = []

    async def listener(payload: discord.RawReactionActionEvent) -> None:
        seen.append(payload)

    before = bot.services.votes.stats.ignored
    bot.add_listener(listener, "on_raw_reaction_add")
    try:
        event = Event(True, UNREGISTERED_MESSAGE - MESSAGE_BASE, MEMBER_BASE, UP)
        message = json.loads(frame(event, 0, bot=False))
        bot._connection.parsers[message["t"]](message["d"])
        for _ in range(3):
            await asyncio.sleep(0)
        await bot.services.votes.wait_idle()
    finally:
        bot.remove_listener(listener, "on_raw_reaction_add")
    if len(seen) != 1:
        raise SystemExit(f"discord.py dispatched {len(seen)} raw_reaction_add events, not 1")
    if bot.services.votes.stats.ignored != before + 1:
        raise SystemExit("the Votes cog did not hand the event to the vote service")
    member = seen[0].member
    if cached and member is None:
        raise SystemExit("no Member built although the guild is cached")
    if not cached and member is not None:
        raise SystemExit("a Member built without a cached guild?")
    return "a Member built" if cached else "member None, still submitted"


@dataclass
class EndToEnd:
    backend: str
    seconds: float
    fed_seconds: float  # when the last frame had been fed
    backlog: int  # events still queued for the writer then
    events: int
    batches: int
    applied: int
    ignored: int
    failed_batches: int
    removed_reactions: int
    seed_seconds: float
    checks: list[str] = field(default_factory=list)
    mismatched_votes: int = 0
    mismatched_counts: int = 0
    vote_rows: int = 0
    expected_rows: int = 0
    expected_submitted: int = 0
    expected_applied: int = 0
    profile: str | None = None

    @property
    def rate(self) -> float:
        return self.events / self.seconds

    @property
    def lost_nothing(self) -> bool:
        return (
            self.mismatched_votes == 0
            and self.mismatched_counts == 0
            and self.failed_batches == 0
            and self.applied == self.expected_applied
            and self.applied + self.ignored == self.expected_submitted
        )


async def feed(bot: StackupBot, frames: list[str]) -> None:
    parsers = bot._connection.parsers
    for number, text in enumerate(frames, 1):
        message = json.loads(text)
        parsers[message["t"]](message["d"])
        if number % YIELD_EVERY == 0:
            await asyncio.sleep(0)


async def end_to_end(
    backend: str, url: str, stream: Stream, expected: Expected, *, profile: bool
) -> EndToEnd:
    bot, engine = make_bot(url)
    try:
        await bot._async_setup_hook()  # the loop discord.py needs; login would do it
        rest = RestStub()
        bot.http.remove_reaction = rest.remove_reaction  # type: ignore[method-assign]
        await bot.add_cog(Votes(bot))
        seeded = await seed(bot, engine, stream)
        print(f"  {backend}: seeded in {seeded.seconds:.1f} s")
        checks = [f"no guild cached: {await check_dispatch(bot, cached=False)}"]
        bot._connection._add_guild(cached_guild(bot))
        checks.append(f"guild cached: {await check_dispatch(bot, cached=True)}")
        stats = bot.services.votes.stats
        base = (stats.applied, stats.ignored, stats.batches, stats.failed_batches)

        profiler = None
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
        start = time.perf_counter()
        await feed(bot, stream.frames)
        fed, backlog = time.perf_counter() - start, bot.services.votes.pending
        await bot.services.votes.wait_idle()
        seconds = time.perf_counter() - start
        if profiler is not None:
            profiler.disable()
        for _ in range(3):  # the last batch's result handler
            await asyncio.sleep(0)

        result = EndToEnd(
            backend=backend,
            seconds=seconds,
            fed_seconds=fed,
            backlog=backlog,
            events=len(stream.frames),
            applied=stats.applied - base[0],
            ignored=stats.ignored - base[1],
            batches=stats.batches - base[2],
            failed_batches=stats.failed_batches - base[3],
            removed_reactions=rest.removed_reactions,
            seed_seconds=seeded.seconds,
            checks=checks,
            expected_submitted=expected.submitted,
            expected_applied=expected.applied,
            expected_rows=len(expected.votes),
        )
        await compare_with_model(bot, seeded, expected, result)
        if profiler is not None:
            result.profile = profile_text(profiler)
        return result
    finally:
        # AutoShardedBot.close() is for a bot that logged in; the pool is all there is here.
        await engine.dispose()


async def gateway_alone(directory: Path, stream: Stream, expected: Expected) -> float:
    """Frames through discord.py and the cog into a list (the vote service's `submit`
    replaced): events/s of the part before the database."""
    bot, engine = make_bot(f"sqlite+aiosqlite:///{directory / 'unused.db'}")
    try:
        await bot._async_setup_hook()
        await bot.add_cog(Votes(bot))
        bot._connection._add_guild(cached_guild(bot))
        submitted: list = []
        bot.services.votes.submit = submitted.append  # type: ignore[method-assign]
        start = time.perf_counter()
        await feed(bot, stream.frames)
        # The listener tasks of the last frames.
        await asyncio.gather(*(asyncio.all_tasks() - {asyncio.current_task()}))
        seconds = time.perf_counter() - start
    finally:
        await engine.dispose()
    if len(submitted) != expected.submitted:
        raise SystemExit(f"the cog submitted {len(submitted):,} events, not {expected.submitted:,}")
    return len(stream.frames) / seconds


async def compare_with_model(
    bot: StackupBot, seeded: Seeded, expected: Expected, result: EndToEnd
) -> None:
    message_of = {rid: index for index, rid in enumerate(seeded.recommendation_ids)}
    async with bot.sessions() as session:
        rows = await session.exec(
            select(Vote.target_id, Vote.member_id, Vote.value).where(
                Vote.target_kind == VoteTarget.RECOMMENDATION.value
            )
        )
        found = {(message_of.get(t, -1), m): v for t, m, v in rows.all()}
        counted = await session.exec(
            select(Recommendation.id, Recommendation.up_count, Recommendation.down_count)
        )
        counts = {message_of.get(r, -1): (up, down) for r, up, down in counted.all()}
    result.vote_rows = len(found)
    keys = set(found) | set(expected.votes)
    result.mismatched_votes = sum(found.get(k) != expected.votes.get(k) for k in keys)
    tallies = expected.tallies
    result.mismatched_counts = sum(
        counts.get(m) != tallies.get(m, (0, 0)) for m in range(len(seeded.recommendation_ids))
    ) + sum(m not in range(len(seeded.recommendation_ids)) for m in counts)


def profile_text(profiler: cProfile.Profile) -> str:
    import io
    import pstats

    out = io.StringIO()
    # Own time: cumulative figures of coroutines count every resumption, which misleads.
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime").print_stats(30)
    return out.getvalue()


# ---------------------------------------------------------------------------------- raw driver


def raw_rows(stream: Stream) -> list[tuple[int, int, int]]:
    """One upsert per event: the same (message, member) keys, the value the event sets."""
    values = {UP: 1, DOWN: -1}
    return [
        (event.message, event.member, values.get(event.emoji, 0) if event.added else 0)
        for event in stream.events
    ]


def raw_sqlite(path: Path, rows: list[tuple[int, int, int]]) -> float:
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(
            "CREATE TABLE raw_votes (target INTEGER NOT NULL, member INTEGER NOT NULL,"
            " value INTEGER NOT NULL, PRIMARY KEY (target, member))"
        )
        statement = RAW_UPSERT.format("?, ?, ?")
        start = time.perf_counter()
        for row in rows:
            db.execute("BEGIN")
            db.execute(statement, row)
            db.execute("COMMIT")
        seconds = time.perf_counter() - start
    finally:
        db.close()
    return len(rows) / seconds


async def raw_postgres(url: str, rows: list[tuple[int, int, int]]) -> float:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(
            "CREATE TABLE raw_votes (target INTEGER NOT NULL, member BIGINT NOT NULL,"
            " value SMALLINT NOT NULL, PRIMARY KEY (target, member))"
        )
        statement = RAW_UPSERT.format("$1, $2, $3")
        start = time.perf_counter()
        for row in rows:
            await connection.execute(statement, *row)
        seconds = time.perf_counter() - start
    finally:
        await connection.close()
    return len(rows) / seconds


@asynccontextmanager
async def fresh_postgres(admin_url: str) -> AsyncIterator[str | None]:
    """A new database on the server (dropped afterwards), as an asyncpg URL; None if the
    server does not answer."""
    try:
        admin = await asyncpg.connect(admin_url, timeout=3)
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"  PostgreSQL at {admin_url} does not answer ({exc.__class__.__name__}: {exc})")
        yield None
        return
    name = f"stackup_bench_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


# ---------------------------------------------------------------------------------- report


@dataclass
class Row:
    e2e: EndToEnd
    raw_rate: float
    raw_events: int


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(
    stream: Stream, expected: Expected, rows: list[Row], skipped: str | None, gateway: float
) -> None:
    kinds = Counter(
        ("add" if e.added else "remove", e.emoji if e.emoji in (UP, DOWN) else "other")
        for e in stream.events
    )
    own = sum(e.member == stream.recommenders[e.message] for e in stream.events)
    by_bots = sum(e.member in stream.bots for e in stream.events)
    print("\n== Events ==")
    print(
        f"  {len(stream.events):,} events on {len(stream.recommenders)} messages: "
        + ", ".join(f"{kind} {emoji} {n:,}" for (kind, emoji), n in sorted(kinds.items()))
    )
    print(
        f"  by the recommender on their own message {own:,}, by bots {by_bots:,}; "
        f"the cog submits {expected.submitted:,}, of which {expected.applied:,} are votes; "
        f"{len(expected.votes):,} votes held at the end"
    )

    print("\n== End to end (gateway frame -> discord.py -> Votes cog -> VoteService -> DB) ==")
    print(
        f"  {'backend':<11} {'events/s':>9} {'seconds':>8} {'batches':>8} {'mean batch':>10}"
        f"  {'raw upserts/s':>13} {'e2e / raw':>9}"
    )
    for row in rows:
        e = row.e2e
        print(
            f"  {e.backend:<11} {e.rate:9,.0f} {e.seconds:8.2f} {e.batches:8,} "
            f"{(e.applied + e.ignored) / max(e.batches, 1):10.1f}"
            f"  {row.raw_rate:13,.0f} {e.rate / row.raw_rate:8.2f}x"
        )
    if skipped:
        print(f"  postgresql  skipped: {skipped}")
    print(
        "  (raw: the driver alone, one transaction per event of one upsert on a scratch table;"
        "\n   mean batch: events per write transaction of the VoteService)"
    )
    print(
        "  raw rates over "
        + ", ".join(f"{row.raw_events:,} events ({row.e2e.backend})" for row in rows)
    )
    for row in rows:
        e = row.e2e
        print(
            f"  {e.backend}: the last frame was fed after {e.fed_seconds:.2f} s, with "
            f"{e.backlog:,} events still queued for the writer"
        )
    print(
        f"  discord.py and the Votes cog alone (JSON decode, parser, dispatch, listener; "
        f"`submit` into a list): {gateway:,.0f} events/s"
    )

    print("\n== Nothing lost ==")
    for row in rows:
        e = row.e2e
        print(
            f"  {e.backend}: nothing lost: {'yes' if e.lost_nothing else 'no'}; "
            f"mismatches {e.mismatched_votes + e.mismatched_counts} "
            f"({e.mismatched_votes} vote rows, {e.mismatched_counts} recommendation counts); "
            f"{e.vote_rows:,} vote rows (model {e.expected_rows:,}); "
            f"applied {e.applied:,} (model {e.expected_applied:,}), ignored {e.ignored:,} "
            f"(model {e.expected_submitted - e.expected_applied:,}); "
            f"failed batches {e.failed_batches}; "
            f"stale reactions taken away {e.removed_reactions:,}"
        )
        print(f"    parser dispatch check: {'; '.join(e.checks)}")

    print("\n== Summary ==")
    sqlite = next((row for row in rows if row.e2e.backend == "sqlite"), None)
    if sqlite is not None:
        e = sqlite.e2e
        ok = e.rate >= TARGET_EVENTS_PER_S and e.lost_nothing
        print(
            f"{verdict(ok)}: SQLite end to end ≥ {TARGET_EVENTS_PER_S:,} events/s with nothing "
            f"lost ({e.rate:,.0f} events/s, {e.rate / sqlite.raw_rate:.2f}x the raw sqlite3 "
            f"upsert rate of {sqlite.raw_rate:,.0f}/s; nothing lost: "
            f"{'yes' if e.lost_nothing else 'no'})"
        )
    for row in rows:
        if row.e2e.backend == "postgresql":
            e = row.e2e
            print(
                f"  PostgreSQL end to end {e.rate:,.0f} events/s, {e.rate / row.raw_rate:.2f}x "
                f"the raw asyncpg upsert rate of {row.raw_rate:,.0f}/s; nothing lost: "
                f"{'yes' if e.lost_nothing else 'no'} (no target)"
            )


async def run(
    args: argparse.Namespace, stream: Stream, expected: Expected, directory: Path
) -> tuple[list[Row], str | None, float]:
    rows: list[Row] = []
    rows_in = raw_rows(stream)
    print("discord.py and the Votes cog alone ...")
    gateway = await gateway_alone(directory, stream, expected)
    print(f"  {gateway:,.0f} events/s")
    print("SQLite ...")
    raw = raw_sqlite(directory / "raw.db", rows_in)
    print(f"  raw sqlite3: {raw:,.0f} upserts/s")
    e2e = await end_to_end(
        "sqlite",
        f"sqlite+aiosqlite:///{directory / 'stackup.db'}",
        stream,
        expected,
        profile=args.profile,
    )
    print(f"  end to end: {e2e.rate:,.0f} events/s")
    rows.append(Row(e2e, raw, len(rows_in)))

    skipped = None
    if args.no_postgres:
        skipped = "--no-postgres"
    else:
        print("PostgreSQL ...")
        async with fresh_postgres(args.postgres_url) as url:
            if url is None:
                skipped = f"no server at {args.postgres_url}"
            else:
                sample = rows_in[: args.postgres_raw_events]
                raw = await raw_postgres(url, sample)
                print(f"  raw asyncpg: {raw:,.0f} upserts/s")
                e2e = await end_to_end(
                    "postgresql",
                    url.replace("postgresql://", "postgresql+asyncpg://", 1),
                    stream,
                    expected,
                    profile=args.profile,
                )
                print(f"  end to end: {e2e.rate:,.0f} events/s")
                rows.append(Row(e2e, raw, len(sample)))
    return rows, skipped, gateway


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=EVENTS, help="reaction events fed")
    parser.add_argument("--members", type=int, default=MEMBERS, help="members who react")
    parser.add_argument(
        "--recommendations", type=int, default=RECOMMENDATIONS, help="vote messages"
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("STACKUP_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="an existing database on the server; the bench creates its own next to it",
    )
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument(
        "--postgres-raw-events",
        type=int,
        default=POSTGRES_RAW_EVENTS,
        help="the raw asyncpg baseline upserts this many of the events (the first ones)",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the end-to-end runs")
    args = parser.parse_args()
    if args.recommendations > args.members:
        parser.error("every recommendation needs its own recommender among the members")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("discord.client").setLevel(logging.ERROR)  # no voice libraries: fine
    began = time.perf_counter()
    stream = make_stream(args.events, args.members, args.recommendations)
    expected = model(stream)
    print(f"Built {len(stream.frames):,} gateway frames in {time.perf_counter() - began:.1f} s")
    with tempfile.TemporaryDirectory(prefix="stackup-bench-") as directory:
        rows, skipped, gateway = asyncio.run(run(args, stream, expected, Path(directory)))
    report(stream, expected, rows, skipped, gateway)
    for row in rows:
        if row.e2e.profile:
            print(f"\n== cProfile of the {row.e2e.backend} end-to-end run (own time) ==")
            print(row.e2e.profile)
    print(f"\n(total run time {time.perf_counter() - began:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
