"""Recount budget benchmark: what a unit of the REST budget the processes share costs.

Every read of reaction users by a recount first takes a unit of RECOUNT_FETCHES_PER_SECOND
(`bot/services/rest_budget.py`). On PostgreSQL that is one upsert of the window's `app_meta` row,
in a transaction of its own; on SQLite, a counter in memory.

Measures, with `time.perf_counter()`, on a fresh PostgreSQL database (migrated, dropped
afterwards) at `--postgres-url` (default `postgresql://postgres@127.0.0.1:5432/test`, or
$STACKUP_BENCH_POSTGRES_URL):

* one process taking units one after another: p50/p99 per take, next to a `SELECT 1` in a
  transaction on the same engine (the ratio is what the budget adds to a plain round trip);
* `--processes` engines (8 by default) with 4 takers each (a process's recount concurrency),
  all on the same window's row with a limit they never reach: takes per second in all, the
  most the row can hand out when every process wants units at once. Discord's own limit, 50
  requests a second for the whole bot, is printed next to it as a ratio;
* the same with the limit reached: that no window granted more than its limit.

It always exits 0: it is a benchmark, not a test. Run from the repository root with
`.venv/bin/python bench/recount_budget.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
from sqlalchemy import text

from bot.services.rest_budget import RestBudget
from db import migrate
from db.engine import create_engine, create_session_factory

DISCORD_GLOBAL_PER_SECOND = 50
SECOND = timedelta(seconds=1)


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def one_process(url: str, takes: int) -> None:
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    budget = RestBudget(
        sessions, name="bench", per_window=10**9, window=SECOND, clock=lambda: datetime.now(UTC)
    )
    taking, selecting = [], []
    for _ in range(takes):
        started = time.perf_counter()
        await budget.take()
        taking.append(time.perf_counter() - started)
        started = time.perf_counter()
        async with sessions() as session, session.begin():
            await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        selecting.append(time.perf_counter() - started)
    await engine.dispose()
    take50, select50 = statistics.median(taking), statistics.median(selecting)
    print(f"one process, {takes} takes one after another:")
    print(f"  take      p50 {take50 * 1e3:.2f} ms  p99 {percentile(taking, 0.99) * 1e3:.2f} ms")
    print(
        f"  SELECT 1  p50 {select50 * 1e3:.2f} ms  p99 {percentile(selecting, 0.99) * 1e3:.2f} ms"
    )
    print(f"  take / SELECT 1 (p50): {take50 / select50:.2f}x")


async def many_processes(url: str, processes: int, seconds: float, limit: int) -> list[int]:
    """Units taken by `processes` engines, 4 takers each, for `seconds`; per window."""
    engines = [create_engine(url, pool_size=4) for _ in range(processes)]
    granted: dict[int, int] = {}
    stop = time.perf_counter() + seconds

    async def taker(budget: RestBudget) -> None:
        while time.perf_counter() < stop:
            if await budget.take() is None:
                window = int(datetime.now(UTC).timestamp())
                granted[window] = granted.get(window, 0) + 1
            else:
                await asyncio.sleep(0.001)  # as a process waits for the next second

    budgets = [
        RestBudget(
            create_session_factory(engine),
            name=f"bench-{limit}",
            per_window=limit,
            window=SECOND,
            clock=lambda: datetime.now(UTC),
        )
        for engine in engines
    ]
    await asyncio.gather(*(taker(budget) for budget in budgets for _ in range(4)))
    for engine in engines:
        await engine.dispose()
    return [granted[w] for w in sorted(granted)]


async def run(admin_url: str, processes: int) -> None:
    admin = await asyncpg.connect(admin_url, timeout=3)
    name = f"stackup_bench_budget_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    url = f"{base}/{name}"
    try:
        engine = create_engine(url)
        await migrate.upgrade(engine)
        await engine.dispose()
        await one_process(url, 2000)
        seconds = 3.0
        windows = await many_processes(url, processes, seconds, limit=10**9)
        rate = sum(windows) / seconds
        print(f"{processes} processes x 4 takers, no limit reached, {seconds:.0f} s:")
        print(
            f"  {rate:,.0f} takes/s in all; / Discord's {DISCORD_GLOBAL_PER_SECOND}/s for the bot:"
        )
        print(f"  {rate / DISCORD_GLOBAL_PER_SECOND:,.0f}x")
        limited = await many_processes(url, processes, seconds, limit=10)
        print(f"the same with a limit of 10 a second: granted per window {limited}")
        print(f"  most in one window: {max(limited)} (limit 10)")
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "STACKUP_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--processes", type=int, default=8)
    options = parser.parse_args()
    try:
        asyncio.run(run(options.postgres_url, options.processes))
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"no PostgreSQL at {options.postgres_url} ({exc}); nothing measured")


if __name__ == "__main__":
    main()
