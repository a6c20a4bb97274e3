"""/compare benchmark: the handler's latency on a big database; the Chart button's chart.

Seeds a temporary SQLite database (WAL, as the app sets it) with the raw sqlite3 module: the
migrated schema and the shipped catalog, then generated tools up to 10,000 in all, every tool
topped up to at least 8 pros and 6 cons (the 100 most popular to 20 and 12), 1,000,000 vote
rows on them (Zipf-like: popular tools and their first reasons get most; 200k members in 50
guilds, also skewed; one vote per reason and member), 300k stack entries, 100k follows and 30k
comparisons members ran (for "Related comparisons"), with every counter the app keeps (pros
and cons' up/down counts, tool_tallies per tool and guild) set from the rows.

Then measures, with `time.perf_counter()`:

* through the real bot under simcord (no network: `github_stats=False`, so no GitHub
  figures are fetched; `chart_workers=0`, so no worker process competes for the CPU and the
  answer's buttons lack "Chart"): `/compare` with five of the 20 tools with most votes (half
  the time the five hottest, shuffled, else another five of the 20), in the guild with most
  votes, next to the trivial `/stackup about`, interleaved, 300 calls each after a warm-up;
  p50/p99/max and the ratio. The answer is the one the bot sends: three embeds (the overview
  titled "A vs B vs ...", "Differences", "Top pros and cons") and no chart, checked on the
  first call. Each `/compare` records its comparison (an upsert), as in production. simcord's
  own per-interaction work (settling the loop, building payloads) is part of both figures;
* the handler's own work without the harness: `CompareService.compare` then
  `comparison_embeds`, called directly on the same tool sets (and `bot.about()`);
* where the handler's time goes: each query it makes, timed alone, in its order;
* full garbage collections (generation 2) inside timed calls, which make most of the tail;
* the chart, as the Chart button under a comparison draws it: the five hottest tools'
  pros and cons read with `CompareService.reasons` and made into a `ComparisonChartSpec` by
  `chart_spec` (one scale shared by all the tools); a `ChartRenderer(workers=1)` (cold start
  printed), then `render_comparison` 50 times; p50/p99 per render. Meanwhile a monitor task
  in the same loop sleeps 1 ms at a time and records its largest extra delay: the loop's
  longest stall. For contrast, the same `render_comparison_png` in a thread and inline on the
  loop, and the monitor on an idle loop (the timer's own jitter). The weekly digest's chart
  (`render`, the older `ChartSpec`) is not measured here.

Targets: /compare (five tools, no chart) p99 under 25 ms through the bot; the Chart button's
chart rendered (p99) in under 150 ms off the event loop; the loop's longest stall while charts
render under 5 ms ("a few ms"). It always exits 0: it is a benchmark, not a test; the
PASS/FAIL lines report the targets. `--profile` adds a cProfile of the direct handler loop.
Figures move by a few ms from run to run on a busy machine: other processes take the CPU from
the loop too.

Run from the repository root with `make bench` or `.venv/bin/python bench/compare.py`.

The chart worker is a spawned process, which imports this script again as `__mp_main__`:
heavy modules (discord, SQLAlchemy, simcord) are imported inside functions, so the worker's
cold start is what the bot's own (light) entry point costs, not this script's imports.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import os
import random
import sqlite3
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.charts import ChartRenderer, ComparisonChartSpec, render_comparison_png

SEED = 20240611
TOTAL_TOOLS = 10_000
PROS, CONS = 8, 6  # at least this many per tool
HOT_TOOLS, HOT_PROS, HOT_CONS = 100, 20, 12  # the most popular tools have more
VOTES = 1_000_000
GUILDS = 50
MEMBERS = 200_000
STACK_ENTRIES = 300_000
FOLLOWS = 100_000
COMPARISONS = 30_000
TOOL_SKEW = 1.0  # Zipf exponent over tools ranked by popularity
GUILD_SKEW = 0.8  # ... over guilds
GUILD_BASE = 700_000_000_000_000_000  # snowflake-sized ids
MEMBER_BASE = 800_000_000_000_000_000
GENERATED_CATEGORIES = ("Libraries", "Services", "Frameworks", "Utilities", "Platforms", "Tools")

WARMUP = 20
CALLS = 300
HOT_POOL = 20  # /compare picks its five among these
STEP_CALLS = 100
CHART_RENDERS = 50
THREAD_RENDERS = 20
INLINE_RENDERS = 10
IDLE_MONITOR_SECONDS = 1.0
MONITOR_TICK = 0.001

TARGET_COMPARE_P99_MS = 25.0
TARGET_CHART_P99_MS = 150.0
TARGET_STALL_MS = 5.0

NOW = "2025-06-01 12:00:00.000000"  # SQLAlchemy's SQLite DateTime format

# ---------------------------------------------------------------------------------- names

HEADS = (
    "fast", "flux", "hyper", "nano", "open", "quick", "deep", "neo", "cloud", "data", "snap",
    "bolt", "zen", "astro", "nova", "terra", "vector", "graph", "stream", "pixel", "sky",
    "iron", "blue", "omni", "poly", "mono", "tiny", "ultra", "light", "solid", "next", "fire",
    "echo", "rapid", "pure", "jet", "atom", "sonic", "turbo", "orbit", "prism", "ember",
)  # fmt: skip
PARTS = (
    "db", "kit", "ql", "router", "hub", "stack", "flow", "base", "forge", "lab", "io", "ops",
    "mesh", "grid", "pipe", "sync", "cache", "store", "queue", "log", "auth", "form", "test",
    "pack", "build", "scope", "wave", "core", "beam", "craft", "box", "cast", "map", "view",
)  # fmt: skip
LANGUAGES = ("Python", "JavaScript", "TypeScript", "Go", "Rust", "Java", "Ruby", "PHP", "C#")
LICENSES = ("MIT", "Apache-2.0", "BSD-3-Clause", "GPL-3.0", "MPL-2.0", "Proprietary")
PRO_TEXTS = (
    "Easy to learn", "Great documentation", "Fast", "Large community", "Open source",
    "Simple API", "Scales well", "Good performance", "Lightweight", "Flexible", "Stable",
    "Well tested", "Active development", "Great tooling", "Good defaults", "Cheap to run",
    "Batteries included", "Type safe", "Easy to deploy", "Rich plugin ecosystem",
    "Helpful error messages", "Low memory use", "Quick to set up", "Good for prototyping",
)  # fmt: skip
CON_TEXTS = (
    "Steep learning curve", "Poor documentation", "Slow", "Small community", "Verbose",
    "Breaking changes", "Hard to debug", "Heavy", "Expensive at scale", "Limited plugins",
    "Confusing configuration", "Memory hungry", "Immature", "Vendor lock-in",
    "Few maintainers", "Slow builds",
)  # fmt: skip


def _tool_name(rng: random.Random, taken: set[str]) -> str:
    name = rng.choice(HEADS).capitalize() + rng.choice(PARTS).capitalize()
    if rng.random() < 0.4:
        name += rng.choice((" Cloud", ".js", " Pro", "DB", " Studio", "-rs", " Lite"))
    candidate, number = name, 2
    while candidate.lower() in taken:
        candidate, number = f"{name} {number}", number + 1
    taken.add(candidate.lower())
    return candidate


def _reason_texts(pool: tuple[str, ...], count: int, used: set[str]) -> list[str]:
    """`count` texts for one tool, none it has already: the pool first, then numbered ones."""
    texts = [text for text in pool if text not in used][:count]
    number = 2
    while len(texts) < count:
        text = f"{pool[number % len(pool)]} ({number})"
        if text not in used and text not in texts:
            texts.append(text)
        number += 1
    return texts


# ---------------------------------------------------------------------------------- seeding


def _zipf_cumulative(count: int, skew: float) -> list[float]:
    total = 0.0
    cumulative = []
    for rank in range(count):
        total += 1.0 / (rank + 1) ** skew
        cumulative.append(total)
    return cumulative


@dataclass
class Seeded:
    path: Path
    url: str
    hot_ids: list[int]  # the HOT_POOL tools with most vote rows, most first
    hot_slugs: list[str]
    hot_votes: list[int]
    hot_guild: int
    counts: dict[str, int]
    seconds: float


async def _migrate_and_import(url: str) -> None:
    from db import migrate
    from db.catalog_format import SHIPPED_CATALOG_DIR, load_catalog
    from db.catalog_import import import_catalog
    from db.engine import create_engine, create_session_factory

    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
        await import_catalog(create_session_factory(engine), load_catalog([SHIPPED_CATALOG_DIR]))
    finally:
        await engine.dispose()


def seed(directory: Path) -> Seeded:
    started = time.perf_counter()
    path = directory / "stackup.db"
    url = f"sqlite+aiosqlite:///{path}"
    asyncio.run(_migrate_and_import(url))
    print(f"  migrated and imported the shipped catalog: {time.perf_counter() - started:.1f} s")
    rng = random.Random(SEED)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-262144")  # 256 MB while seeding
    db.execute("BEGIN")

    # Categories and tools.
    db.execute(
        "INSERT INTO categories (name, path, parent_id) VALUES ('Generated', 'Generated', NULL)"
    )
    (top,) = db.execute("SELECT id FROM categories WHERE path = 'Generated'").fetchone()
    db.executemany(
        "INSERT INTO categories (name, path, parent_id) VALUES (?, ?, ?)",
        [(name, f"Generated > {name}", top) for name in GENERATED_CATEGORIES],
    )
    category_ids = [
        row[0] for row in db.execute("SELECT id FROM categories WHERE parent_id = ?", (top,))
    ]
    shipped = [row[0] for row in db.execute("SELECT id FROM tools ORDER BY id")]
    taken = {row[0].lower() for row in db.execute("SELECT name FROM tools")}
    tools = []
    for number in range(TOTAL_TOOLS - len(shipped)):
        name = _tool_name(rng, taken)
        slug = f"gen-{number + 1:05d}"
        features = [
            f"{rng.choice(PRO_TEXTS)} {rng.choice(PARTS)}" for _ in range(rng.randint(3, 7))
        ]
        tools.append(
            (
                slug,
                name,
                f"{name} is a {rng.choice(('small', 'fast', 'popular', 'modern'))} "
                f"{rng.choice(GENERATED_CATEGORIES).lower()[:-1]} for "
                f"{rng.choice(PARTS)} and {rng.choice(PARTS)} work, used by teams of every "
                "size to ship software with less effort.",
                rng.choice(category_ids),
                f"https://{slug}.example.com",
                f"https://github.com/example/{slug}",
                rng.choice(LANGUAGES),
                rng.choice(LICENSES),
                rng.randint(2005, 2024),
                json.dumps(features),
                NOW,
                NOW,
            )
        )
    db.executemany(
        "INSERT INTO tools (slug, name, description, category_id, website, repository, language,"
        " license, first_release, features, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        tools,
    )
    generated = [row[0] for row in db.execute("SELECT id FROM tools WHERE slug LIKE 'gen-%'")]
    # Popularity: the well-known (shipped) tools first, each group in a seeded order.
    rng.shuffle(shipped)
    rng.shuffle(generated)
    ranking = shipped + generated

    # Pros and cons: every tool topped up, the most popular more (members add them).
    existing: dict[int, dict[str, set[str]]] = defaultdict(lambda: {"pro": set(), "con": set()})
    for tool_id, kind, text in db.execute("SELECT tool_id, kind, text FROM pros_cons"):
        existing[tool_id][kind].add(text)
    reasons = []
    for rank, tool_id in enumerate(ranking):
        wanted = {"pro": PROS, "con": CONS}
        if rank < HOT_TOOLS:
            wanted = {"pro": HOT_PROS, "con": HOT_CONS}
        for kind, pool in (("pro", PRO_TEXTS), ("con", CON_TEXTS)):
            have = existing[tool_id][kind]
            for text in _reason_texts(pool, max(0, wanted[kind] - len(have)), have):
                author = MEMBER_BASE + rng.randrange(MEMBERS)
                reasons.append(
                    (tool_id, kind, text, author, GUILD_BASE + rng.randrange(GUILDS), NOW)
                )
    db.executemany(
        "INSERT INTO pros_cons (tool_id, kind, text, author_id, guild_id, imported_count,"
        " up_count, down_count, created_at) VALUES (?, ?, ?, ?, ?, 0, 0, 0, ?)",
        reasons,
    )
    reasons_of: dict[int, list[tuple[int, bool]]] = defaultdict(list)
    for reason_id, tool_id, kind in db.execute(
        "SELECT id, tool_id, kind FROM pros_cons ORDER BY id"
    ):
        reasons_of[tool_id].append((reason_id, kind == "pro"))
    print(
        f"  tools and pros/cons: {time.perf_counter() - started:.1f} s "
        f"({len(ranking):,} tools, {sum(map(len, reasons_of.values())):,} pros/cons)"
    )

    # Members belong to one guild each, the guilds skewed too.
    home = rng.choices(range(GUILDS), cum_weights=_zipf_cumulative(GUILDS, GUILD_SKEW), k=MEMBERS)
    tool_cumulative = _zipf_cumulative(len(ranking), TOOL_SKEW)

    # Votes: a popular tool, one of its reasons (the first ones more), a member.
    seen: set[int] = set()
    while len(seen) < VOTES:
        batch = min(VOTES - len(seen), 200_000) * 11 // 10
        for tool_id in rng.choices(ranking, cum_weights=tool_cumulative, k=batch):
            options = reasons_of[tool_id]
            reason_id, _ = options[int(len(options) * rng.random() ** 2)]
            seen.add(reason_id * MEMBERS + rng.randrange(MEMBERS))
            if len(seen) == VOTES:
                break
    kind_of = {rid: is_pro for options in reasons_of.values() for rid, is_pro in options}
    tool_of = {rid: tool_id for tool_id, options in reasons_of.items() for rid, _ in options}
    up: Counter[int] = Counter()
    down: Counter[int] = Counter()
    tallies: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0, 0])
    votes = []
    for key in sorted(seen):
        reason_id, member = divmod(key, MEMBERS)
        value = 1 if rng.random() < (0.85 if kind_of[reason_id] else 0.65) else -1
        (up if value == 1 else down)[reason_id] += 1
        guild = GUILD_BASE + home[member]
        tallies[(tool_of[reason_id], guild)][2] += 1
        votes.append(("pro_con", reason_id, MEMBER_BASE + member, guild, value, NOW, NOW))
    del seen
    db.executemany(
        "INSERT INTO votes (target_kind, target_id, member_id, guild_id, value, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        votes,
    )
    del votes
    db.executemany(
        "UPDATE pros_cons SET up_count = ?, down_count = ? WHERE id = ?",
        [(up[rid], down[rid], rid) for rid in kind_of if up[rid] or down[rid]],
    )
    print(f"  votes: {time.perf_counter() - started:.1f} s")

    # Stacks and follows, one row per guild, member and tool.
    for table, total, field in (("stack_entries", STACK_ENTRIES, 0), ("follows", FOLLOWS, 1)):
        keys: set[tuple[int, int]] = set()
        while len(keys) < total:
            for tool_id in rng.choices(ranking, cum_weights=tool_cumulative, k=total):
                keys.add((rng.randrange(MEMBERS), tool_id))
                if len(keys) == total:
                    break
        rows = []
        for member, tool_id in sorted(keys):
            guild = GUILD_BASE + home[member]
            tallies[(tool_id, guild)][field] += 1
            rows.append((guild, MEMBER_BASE + member, tool_id, NOW))
        extra = ", notify" if table == "follows" else ""
        db.executemany(
            f"INSERT INTO {table} (guild_id, member_id, tool_id, created_at{extra})"
            f" VALUES (?, ?, ?, ?{', 0' if extra else ''})",
            rows,
        )
    db.executemany(
        "INSERT INTO tool_tallies (tool_id, guild_id, stacks, followers, votes)"
        " VALUES (?, ?, ?, ?, ?)",
        [(tool_id, guild, *figures) for (tool_id, guild), figures in tallies.items()],
    )
    print(f"  stacks, follows, tallies: {time.perf_counter() - started:.1f} s")

    # Comparisons members ran, for "Related comparisons": popular tools, busy guilds.
    guild_cumulative = _zipf_cumulative(GUILDS, GUILD_SKEW)
    comparisons: dict[tuple[int, str], list[int]] = {}
    while len(comparisons) < COMPARISONS:
        size = rng.choice((2, 2, 2, 3, 3, 4, 5))
        ids = sorted(set(rng.choices(ranking, cum_weights=tool_cumulative, k=size)))
        if len(ids) < 2:
            continue
        guild = GUILD_BASE + rng.choices(range(GUILDS), cum_weights=guild_cumulative)[0]
        comparisons.setdefault((guild, ",".join(map(str, ids))), ids)
    db.executemany(
        "INSERT INTO comparisons (guild_id, tools_key, run_count, ask_count, first_run_at,"
        " last_run_at) VALUES (?, ?, ?, 0, ?, ?)",
        [(guild, key, rng.randint(1, 20), NOW, NOW) for guild, key in comparisons],
    )
    comparison_tools = [
        (comparison_id, tool_id, guild)
        for comparison_id, guild, key in db.execute(
            "SELECT id, guild_id, tools_key FROM comparisons"
        )
        for tool_id in comparisons[(guild, key)]
    ]
    db.executemany(
        "INSERT INTO comparison_tools (comparison_id, tool_id, guild_id) VALUES (?, ?, ?)",
        comparison_tools,
    )
    db.execute("COMMIT")
    db.execute("ANALYZE")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    counts = {
        table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in (
            "categories",
            "tools",
            "pros_cons",
            "votes",
            "tool_tallies",
            "stack_entries",
            "follows",
            "comparisons",
            "comparison_tools",
        )
    }
    vote_rows, pro_con_votes, tallied_votes, stacks, tallied_stacks, follows, tallied_follows = (
        db.execute(
            "SELECT (SELECT count(*) FROM votes), (SELECT sum(up_count + down_count) FROM"
            " pros_cons), (SELECT sum(votes) FROM tool_tallies), (SELECT count(*) FROM"
            " stack_entries), (SELECT sum(stacks) FROM tool_tallies), (SELECT count(*) FROM"
            " follows), (SELECT sum(followers) FROM tool_tallies)"
        ).fetchone()
    )
    consistent = vote_rows == pro_con_votes == tallied_votes and (stacks, follows) == (
        tallied_stacks,
        tallied_follows,
    )
    print(f"  counters match the rows: {'yes' if consistent else 'NO'}")
    hot = db.execute(
        "SELECT t.id, t.slug, sum(p.up_count + p.down_count) AS n FROM tools t"
        " JOIN pros_cons p ON p.tool_id = t.id GROUP BY t.id ORDER BY n DESC, t.id LIMIT ?",
        (HOT_POOL,),
    ).fetchall()
    (hot_guild,) = db.execute(
        "SELECT guild_id FROM votes GROUP BY guild_id ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()
    db.close()
    # Seeding wrote without syncing: flush it to disk now, or the app's first WAL checkpoint
    # (synchronous=NORMAL syncs there) pays for writing the whole database back, mid-measurement.
    flushing = time.perf_counter()
    for written in (path, path.with_name(path.name + "-wal")):
        if written.exists():
            with written.open("rb+") as file:
                os.fsync(file.fileno())
    print(f"  synced the database file to disk: {time.perf_counter() - flushing:.1f} s")
    return Seeded(
        path=path,
        url=url,
        hot_ids=[row[0] for row in hot],
        hot_slugs=[row[1] for row in hot],
        hot_votes=[row[2] for row in hot],
        hot_guild=hot_guild,
        counts=counts,
        seconds=time.perf_counter() - started,
    )


# ---------------------------------------------------------------------------------- timing


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@dataclass(frozen=True)
class Latency:
    what: str
    samples: list[float]  # milliseconds
    collector: list[float] | None = None  # ms of full (generation 2) GC inside each call

    @property
    def p50(self) -> float:
        return percentile(self.samples, 0.50)

    @property
    def p99(self) -> float:
        return percentile(self.samples, 0.99)

    @property
    def max(self) -> float:
        return max(self.samples)

    @property
    def full_gc_calls(self) -> list[float]:
        return [ms for ms in self.collector or () if ms > 0]

    @property
    def p99_without_full_gc(self) -> float:
        collector = self.collector or [0.0] * len(self.samples)
        calm = [ms for ms, gc_ms in zip(self.samples, collector, strict=True) if gc_ms == 0]
        return percentile(calm or [0.0], 0.99)

    def row(self) -> str:
        return (
            f"  {self.what:<44} {self.p50:8.2f} {self.p99:8.2f} {self.max:8.2f} "
            f"{len(self.samples):>6}"
        )


class FullCollections:
    """Milliseconds the garbage collector spent in full (generation 2) collections so far."""

    def __init__(self) -> None:
        self.ms = 0.0
        self._start = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.ms += (time.perf_counter() - self._start) * 1000

    def __enter__(self) -> FullCollections:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)


def latency_header() -> str:
    return f"  {'':<44} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'calls':>6}"


def compare_sets(hot_slugs: list[str], count: int) -> list[list[str]]:
    """Five tools per call: half the time the five hottest shuffled, else five of the pool."""
    rng = random.Random(SEED + 2)
    sets = []
    for _ in range(count):
        if rng.random() < 0.5:
            sets.append(rng.sample(hot_slugs[:5], 5))
        else:
            sets.append(rng.sample(hot_slugs, 5))
    return sets


class LoopMonitor:
    """Sleeps `MONITOR_TICK` at a time; the largest extra delay is the loop's longest stall."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(MONITOR_TICK)
            now = time.perf_counter()
            self.worst = max(self.worst, now - last - MONITOR_TICK)
            last = now

    async def __aenter__(self) -> LoopMonitor:
        self._task = asyncio.create_task(self._run())
        await asyncio.sleep(0.01)  # running before the work starts
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.sleep(0.01)  # sees the last render's return
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    @property
    def worst_ms(self) -> float:
        return self.worst * 1000

    def take_ms(self) -> float:
        """The longest stall since the last call, in ms; starts over."""
        worst, self.worst = self.worst, 0.0
        return worst * 1000


# ---------------------------------------------------------------------------------- /compare


@dataclass
class CompareResults:
    compare: Latency
    about: Latency
    service: Latency
    embeds: Latency
    direct: Latency
    about_direct: Latency
    steps: list[Latency]
    spec: ComparisonChartSpec
    first_answer: str
    related_rows: int
    profile: str | None


@contextlib.asynccontextmanager
async def closed_at_end(bot: object) -> AsyncIterator[None]:
    """Closes the bot (timers, flows, discord.py's HTTP session) before simcord detaches it,
    as the playground does, however the measurement ends."""
    try:
        yield
    finally:
        await bot.close()  # type: ignore[attr-defined]


async def measure_bot(data: Seeded, *, profile: bool) -> CompareResults:
    import simcord

    from bot.bot import StackupBot
    from bot.render.about import about_embed
    from bot.render.compare import chart_spec, comparison_embeds, title_for
    from bot.settings import Settings
    from db.engine import create_engine, create_session_factory

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        discord_token=None,
        shard_count=1,
        chart_workers=0,
        github_stats=False,
        database_url=data.url,
    )
    engine = create_engine(settings.database_url)
    bot = StackupBot(settings, engine, create_session_factory(engine))
    sets = compare_sets(data.hot_slugs, WARMUP + CALLS)
    id_of = dict(zip(data.hot_slugs, data.hot_ids, strict=True))
    try:
        async with simcord.run(bot) as env, closed_at_end(bot):
            # The guild with most votes, so "here" figures are the biggest ones.
            guild = env.create_guild("Busy guild", id=data.hot_guild)
            channel = guild.create_text_channel("general")
            member = guild.add_member(env.create_user("ada"))

            async def compare(slugs: list[str]) -> object:
                names = dict(
                    zip(("first", "second", "third", "fourth", "fifth"), slugs, strict=True)
                )
                return await member.slash(channel, "compare", **names)

            async def about() -> object:
                return await member.slash(channel, "stackup about")

            first = await compare(sets[0])
            message = first.response  # type: ignore[attr-defined]
            # The answer: an overview titled "A vs B vs ...", then "Differences" and "Top pros
            # and cons"; no chart attached (the Chart button draws it).
            expected = await bot.services.compare.compare(
                [id_of[slug] for slug in sets[0]], guild_id=guild.id
            )
            titles = [title_for(expected.tools), "Differences", "Top pros and cons"]
            if (
                first.ephemeral  # type: ignore[attr-defined]
                or message is None
                or [embed.title for embed in message.embeds] != titles
                or message.attachments
            ):
                raise SystemExit(f"/compare did not answer with a comparison: {message!r}")
            first_answer = (
                f"{len(message.embeds)} embeds, {sum(len(e) for e in message.embeds):,} "
                f"characters, {len(message.attachments)} attachments, titles "
                + ", ".join(repr(title) for title in titles)
            )
            print(f"  first /compare: {first_answer}")
            for slugs in sets[1:WARMUP]:
                await compare(slugs)
                await about()

            print(f"  timing {CALLS} /compare and {CALLS} /stackup about, interleaved ...")
            compare_ms, about_ms, compare_gc, about_gc = [], [], [], []
            gc.collect()
            with FullCollections() as collections:
                for slugs in sets[WARMUP:]:
                    before, start = collections.ms, time.perf_counter()
                    await compare(slugs)
                    compare_ms.append((time.perf_counter() - start) * 1000)
                    compare_gc.append(collections.ms - before)
                    before, start = collections.ms, time.perf_counter()
                    await about()
                    about_ms.append((time.perf_counter() - start) * 1000)
                    about_gc.append(collections.ms - before)
            if env.errors:
                print(f"  the bot swallowed {len(env.errors)} errors; first: {env.errors[0]!r}")

            print(f"  timing the handler's own work directly, {CALLS} calls ...")
            service_ms, embeds_ms, direct_ms = [], [], []
            id_sets = [[id_of[slug] for slug in slugs] for slugs in sets[WARMUP:]]
            direct_gc, about_direct_ms = [], []
            for ids in id_sets[:WARMUP]:
                comparison_embeds(
                    await bot.services.compare.compare(ids, guild_id=guild.id), guild=True
                )
                about_embed(await bot.about())
            comparison = None
            gc.collect()
            with FullCollections() as collections:
                for ids in id_sets:
                    before, start = collections.ms, time.perf_counter()
                    comparison = await bot.services.compare.compare(ids, guild_id=guild.id)
                    middle = time.perf_counter()
                    comparison_embeds(comparison, guild=True)
                    answered = time.perf_counter()
                    # After answering, the handler counts the run (a write) for related ones.
                    await bot.services.compare.record_run(ids, guild_id=guild.id)
                    end = time.perf_counter()
                    service_ms.append((middle - start) * 1000)
                    embeds_ms.append((answered - middle) * 1000)
                    direct_ms.append((end - start) * 1000)
                    direct_gc.append(collections.ms - before)
                    start = time.perf_counter()
                    about_embed(await bot.about())
                    about_direct_ms.append((time.perf_counter() - start) * 1000)
            assert comparison is not None
            related_rows = len(comparison.related)
            print(f"  timing each query of the handler, {STEP_CALLS} rounds ...")
            steps = await measure_steps(bot.sessions, id_sets[:STEP_CALLS], guild.id)

            profile_text = None
            if profile:
                profile_text = await profile_direct(bot, id_sets, guild.id)

            # What the Chart button draws: the tools' pros and cons, on one scale.
            hottest = await bot.services.compare.reasons(data.hot_ids[:5], guild_id=guild.id)
            spec = chart_spec(hottest)
    finally:
        await engine.dispose()
    return CompareResults(
        compare=Latency("/compare, 5 tools, via simcord", compare_ms, compare_gc),
        about=Latency("/stackup about, via simcord", about_ms, about_gc),
        service=Latency("CompareService.compare (direct)", service_ms),
        embeds=Latency("comparison_embeds (direct)", embeds_ms),
        direct=Latency("service + embeds + record (direct)", direct_ms, direct_gc),
        about_direct=Latency("bot.about() + about_embed (direct)", about_direct_ms),
        steps=steps,
        spec=spec,
        first_answer=first_answer,
        related_rows=related_rows,
        profile=profile_text,
    )


async def measure_steps(sessions, id_sets: list[list[int]], guild_id: int) -> list[Latency]:
    """Each query `CompareService.compare` makes, timed alone, in its order and in one
    transaction per round as the service runs them (the commit is timed with the upsert)."""
    from db import tool_queries as queries
    from db.types import utcnow

    steps = {
        "tools_with_categories": lambda s, ids: queries.tools_with_categories(s, ids),
        "integrations_of": lambda s, ids: queries.integrations_of(s, ids),
        "external_stats_of": lambda s, ids: queries.external_stats_of(s, ids),
        "pros_cons_of": lambda s, ids: queries.pros_cons_of(s, ids, None),
        "tallies_of": lambda s, ids: queries.tallies_of(s, ids, guild_id),
        "related_comparisons": lambda s, ids: queries.related_comparisons(
            s, guild_id=guild_id, tool_ids=ids
        ),
    }
    upsert = "record_comparison (1 statement, 2 when new) + commit"
    samples: dict[str, list[float]] = {upsert: [], **{name: [] for name in steps}}
    for ids in id_sets:
        async with sessions() as session:
            await session.begin()
            start = time.perf_counter()
            await queries.record_comparison(session, guild_id=guild_id, tool_ids=ids, now=utcnow())
            upsert_ms = (time.perf_counter() - start) * 1000
            for name, step in steps.items():
                start = time.perf_counter()
                await step(session, ids)
                samples[name].append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            await session.commit()
            samples[upsert].append(upsert_ms + (time.perf_counter() - start) * 1000)
    return [Latency(f"  {name}", values) for name, values in samples.items()]


async def profile_direct(bot: object, id_sets: list[list[int]], guild_id: int) -> str:
    import cProfile
    import io
    import pstats

    from bot.render.compare import comparison_embeds

    profiler = cProfile.Profile()
    profiler.enable()
    for ids in id_sets:
        comparison = await bot.services.compare.compare(ids, guild_id=guild_id)  # type: ignore[attr-defined]
        comparison_embeds(comparison, guild=True)
    profiler.disable()
    out = io.StringIO()
    # Own time: cumulative figures of coroutines count every resumption, which misleads.
    stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime")
    stats.print_stats(25)
    return out.getvalue()


# ---------------------------------------------------------------------------------- charts


@dataclass
class ChartResults:
    cold_start_s: float
    png_bytes: int
    modes: list[tuple[Latency, Latency, float]]  # (render ms, loop stall ms, full GC ms)
    idle_stall_ms: float

    @property
    def process(self) -> Latency:
        return self.modes[0][0]

    @property
    def process_stall(self) -> Latency:
        return self.modes[0][1]


async def _renders(
    render, spec: ComparisonChartSpec, count: int, what: str
) -> tuple[Latency, Latency, float, int]:
    """ms per render, the loop's longest stall during each render (ms), the ms spent in full
    garbage collections meanwhile, and the PNG's size."""
    samples, stalls = [], []
    size = 0
    gc.collect()
    with FullCollections() as collections:
        async with LoopMonitor() as monitor:
            for _ in range(count):
                monitor.take_ms()
                start = time.perf_counter()
                png = await render(spec)
                samples.append((time.perf_counter() - start) * 1000)
                if not png:
                    raise SystemExit("the chart renderer returned no chart")
                size = len(png)
                await asyncio.sleep(0.005)  # the same pause after each render in every mode
                stalls.append(monitor.take_ms())
    return Latency(what, samples), Latency(what, stalls), collections.ms, size


async def measure_charts(spec: ComparisonChartSpec) -> ChartResults:
    """The chart the Chart button draws, in the bot's worker process, then for contrast in a
    thread and inline."""
    async with LoopMonitor() as idle:
        await asyncio.sleep(IDLE_MONITOR_SECONDS)

    renderer = ChartRenderer(workers=1)
    start = time.perf_counter()
    await renderer.start()
    cold_start_s = time.perf_counter() - start
    print(f"  chart worker started and warmed up in {cold_start_s:.2f} s")
    try:
        # The first real chart fills the worker's caches (its warm-up draws another kind).
        await renderer.render_comparison(spec)
        print(f"  rendering {CHART_RENDERS} charts in the worker process ...")
        process_ms, process_stall, process_gc, size = await _renders(
            renderer.render_comparison, spec, CHART_RENDERS, "in the worker process (ChartRenderer)"
        )
    finally:
        await renderer.close()

    render_comparison_png(spec)  # this process imports matplotlib and loads fonts, untimed

    async def in_thread(spec: ComparisonChartSpec) -> bytes:
        return await asyncio.to_thread(render_comparison_png, spec)

    async def inline(spec: ComparisonChartSpec) -> bytes:
        return render_comparison_png(spec)

    print(f"  rendering {THREAD_RENDERS} in a thread and {INLINE_RENDERS} inline ...")
    thread_ms, thread_stall, thread_gc, _ = await _renders(
        in_thread, spec, THREAD_RENDERS, "in a thread (asyncio.to_thread)"
    )
    inline_ms, inline_stall, inline_gc, _ = await _renders(
        inline, spec, INLINE_RENDERS, "inline on the event loop"
    )
    return ChartResults(
        cold_start_s=cold_start_s,
        png_bytes=size,
        modes=[
            (process_ms, process_stall, process_gc),
            (thread_ms, thread_stall, thread_gc),
            (inline_ms, inline_stall, inline_gc),
        ],
        idle_stall_ms=idle.worst_ms,
    )


# ---------------------------------------------------------------------------------- report


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(data: Seeded, bot: CompareResults, charts: ChartResults) -> None:
    print("\n== /compare (3 embeds, no chart) ==")
    print(f"  the answer: {bot.first_answer}")
    print(latency_header())
    for latency in (
        bot.compare,
        bot.about,
        bot.direct,
        bot.service,
        bot.embeds,
        bot.about_direct,
    ):
        print(latency.row())
    print(
        f"  ratio /compare / /stackup about (via simcord): p50 "
        f"{bot.compare.p50 / bot.about.p50:.1f}x, p99 {bot.compare.p99 / bot.about.p99:.1f}x"
    )
    print(
        f"  simcord + discord.py per interaction (via simcord - direct, p50): /compare "
        f"{bot.compare.p50 - bot.direct.p50:.2f} ms, /stackup about "
        f"{bot.about.p50 - bot.about_direct.p50:.2f} ms"
    )
    for latency in (bot.compare, bot.about, bot.direct):
        hit = latency.full_gc_calls
        if hit:
            print(
                f"  full GC collections ran inside {len(hit)} of {len(latency.samples)} "
                f"{latency.what.split(',')[0]} calls (longest {max(hit):.1f} ms); "
                f"p99 of the others {latency.p99_without_full_gc:.2f} ms"
            )
        else:
            print(f"  no full GC collection inside {latency.what.split(',')[0]} calls")
    print(f"  (the last direct call listed {bot.related_rows} related comparisons)")
    print("\n  Where the handler's time goes (each query alone, same order, one transaction):")
    print(latency_header())
    for latency in bot.steps:
        print(latency.row())
    print(f"  {'sum of the p50s':<44} {sum(step.p50 for step in bot.steps):8.2f}")

    print("\n== Chart (five hottest tools, as the Chart button draws it) ==")
    print(f"  worker cold start (spawn, imports, warm-up chart): {charts.cold_start_s:.2f} s")
    bars = sum(len(tool.pros) + len(tool.cons) for tool in bot.spec.tools)
    print(
        f"  PNG: {charts.png_bytes:,} bytes, {len(bot.spec.tools)} tools, {bars} bars on one "
        f"scale of {bot.spec.scale:,} votes (ComparisonChartSpec, render_comparison)"
    )
    print(
        f"  {'render':<38} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'n':>4}"
        f"  {'stall p50':>9} {'stall max':>9} {'full GC':>8}"
    )
    for render, stall, collector_ms in charts.modes:
        print(
            f"  {render.what:<38} {render.p50:8.1f} {render.p99:8.1f} {render.max:8.1f} "
            f"{len(render.samples):>4}  {stall.p50:9.2f} {stall.max:9.2f} {collector_ms:8.1f}"
        )
    print(
        f"  idle loop, no rendering ({IDLE_MONITOR_SECONDS:.0f} s): longest stall "
        f"{charts.idle_stall_ms:.2f} ms (the timer's own jitter)"
    )
    print(
        "  (stall: the longest extra delay of a 1 ms sleep in the same loop during each render;"
        "\n   full GC: ms this process spent in full garbage collections meanwhile)"
    )

    print("\n== Summary ==")
    print(
        f"  database: {data.counts['tools']:,} tools, {data.counts['pros_cons']:,} pros/cons, "
        f"{data.counts['votes']:,} votes; hottest tools {', '.join(data.hot_slugs[:5])}"
    )
    print(
        f"{verdict(bot.compare.p99 < TARGET_COMPARE_P99_MS)}: /compare (five tools, no chart) "
        f"p99 {bot.compare.p99:.2f} ms through the bot (target < {TARGET_COMPARE_P99_MS:.0f} ms; "
        f"handler alone p99 {bot.direct.p99:.2f} ms; /stackup about p99 {bot.about.p99:.2f} ms)"
    )
    print(
        f"{verdict(charts.process.p99 < TARGET_CHART_P99_MS)}: the Chart button's chart rendered "
        f"off the event loop in p99 {charts.process.p99:.1f} ms, p50 {charts.process.p50:.1f} ms "
        f"(target < {TARGET_CHART_P99_MS:.0f} ms)"
    )
    thread_stall, inline_stall = charts.modes[1][1], charts.modes[2][1]
    print(
        f"{verdict(charts.process_stall.max < TARGET_STALL_MS)}: longest event loop stall while "
        f"charts render {charts.process_stall.max:.2f} ms, p50 per render "
        f"{charts.process_stall.p50:.2f} ms (target < {TARGET_STALL_MS:.0f} ms; "
        f"in a thread {thread_stall.max:.1f} ms, inline {inline_stall.max:.1f} ms)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the direct handler loop too"
    )
    args = parser.parse_args()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="stackup-bench-") as directory:
        print(f"Seeding {directory} ...")
        data = seed(Path(directory))
        print(f"Seeded in {data.seconds:.1f} s:")
        for table, count in data.counts.items():
            print(f"  {table:<18} {count:>10,}")
        size_mb = sum(p.stat().st_size for p in Path(directory).iterdir()) / 1e6
        print(f"  database file: {size_mb:.0f} MB")
        print(f"  busiest guild {data.hot_guild}; the {HOT_POOL} tools with most votes:")
        print(
            "  "
            + ", ".join(
                f"{slug} ({votes:,})"
                for slug, votes in zip(data.hot_slugs, data.hot_votes, strict=True)
            )
        )

        print("\nMeasuring /compare through the bot ...")
        results = asyncio.run(measure_bot(data, profile=args.profile))
    print("\nMeasuring charts ...")
    charts = asyncio.run(measure_charts(results.spec))
    report(data, results, charts)
    if results.profile:
        print("\n== cProfile of the direct handler loop (own time) ==")
        print(results.profile)
    print(f"\n(total run time {time.perf_counter() - began:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
