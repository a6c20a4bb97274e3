"""Shared fixtures: a migrated database with the shipped catalog, the real bot under simcord,
and the contract check on every REST body the bot sent in a test that drove it."""

from __future__ import annotations

import asyncio
import logging
import random
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from simcord.env import Env
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from bot.bot import StackupBot
from bot.charts import ChartRenderer
from bot.settings import LOG_HANDLER_NAME, Settings
from db import migrate
from db.catalog_format import SHIPPED_CATALOG_DIR, load_catalog
from db.catalog_import import import_catalog
from db.engine import SessionFactory, create_engine, create_session_factory
from db.models import Category, Tool
from tests.discord_contract import problems_in
from tests.hidden_failures import unexpected_errors
from tests.late_gateway import install_late_gateway
from tests.postgres import drop_template, fresh_migrated_postgres_url


def make_settings(**values: object) -> Settings:
    """Settings for tests: nothing read from a developer's .env, no token."""
    values.setdefault("discord_token", None)
    values.setdefault("shard_count", 1)
    # Bots built from these settings render no charts unless a test passes a renderer.
    values.setdefault("chart_workers", 0)
    # Longer than simcord's settle timeout, so a pending ranking edit waits for advance_time.
    values.setdefault("ranking_edit_seconds", 30.0)
    # Tests that drive many writes are not about rate limits; those that are set their own.
    values.setdefault("rate_additions_per_minute", 1000)
    values.setdefault("rate_changes_per_minute", 1000)
    # Nothing in tests reaches GitHub; the tests of the refresh point it at a local fake.
    values.setdefault("github_stats", False)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class FakeClock:
    """The bot's clock in tests: time moves only when the test moves it."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current

    def set(self, moment: datetime) -> None:
        self.current = moment


def write_bottle_catalog(path: Path, *extra_lines: str) -> Path:
    """A one-tool catalog file with a tool the shipped catalog does not have."""
    path.write_text(
        "tools:\n"
        "  - slug: bottle\n"
        "    name: Bottle\n"
        "    description: A fast and simple micro-framework for Python web applications.\n"
        "    category: Application & Data > Microframeworks\n"
        + "".join(f"    {line}\n" for line in extra_lines)
    )
    return path


async def add_tools(session, *slugs: str) -> list[Tool]:
    """Tools in one category, for tests on an empty database."""
    category = Category(name="Microframeworks", path="Microframeworks")
    session.add(category)
    await session.flush()
    tools = [
        Tool(slug=slug, name=slug.title(), description="d", category_id=category.id)
        for slug in slugs
    ]
    session.add_all(tools)
    await session.flush()
    return tools


def final(result):
    """The message that answered: a followup replacing a deferral becomes the response."""
    return result.followups[-1] if result.followups else result.response


def last_error(env) -> Exception:
    """The error the bot raised last (unwrapped); reading it acknowledges simcord's record."""
    error = env.errors[-1]
    return getattr(error, "original", error)


async def rows(sessions, statement):
    async with sessions() as session:
        return list((await session.exec(statement)).all())


async def tool_id(sessions, slug: str) -> int:
    (found,) = await rows(sessions, select(Tool.id).where(Tool.slug == slug))
    return found


async def until_a_session_waits_on_a_lock(db) -> None:
    """Polls PostgreSQL's own view of its sessions (no timed sleep)."""
    for _ in range(10_000):
        async with db() as session:
            waiting = (
                await session.exec(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                        " AND datname = current_database()"
                    )
                )
            ).one()[0]
        if waiting:
            return
    raise AssertionError("no session ever waited on a lock")


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def _build_catalog_database(path: Path) -> None:
    engine = create_engine(sqlite_url(path))
    try:
        await migrate.upgrade(engine)
        await import_catalog(create_session_factory(engine), load_catalog([SHIPPED_CATALOG_DIR]))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def catalog_database_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated once and loaded with the shipped catalog once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "stackup.db"
    asyncio.run(_build_catalog_database(path))
    return path


@pytest.fixture
def database_path(catalog_database_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "stackup.db"
    shutil.copyfile(catalog_database_template, path)
    return path


@pytest.fixture
def settings(database_path: Path) -> Settings:
    return make_settings(database_url=sqlite_url(database_path))


@pytest.fixture
async def sessions(settings: Settings) -> AsyncIterator[SessionFactory]:
    engine = create_engine(settings.database_url)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def engine(sessions: SessionFactory) -> AsyncEngine:
    return sessions.kw["bind"]


@pytest.fixture(scope="session")
def chart_renderer() -> Iterator[ChartRenderer]:
    """One chart worker process for the whole run: spawning one costs about a second."""
    renderer = ChartRenderer(workers=1)
    yield renderer
    asyncio.run(renderer.close())


@pytest.fixture
def simcord_bot(
    settings: Settings,
    engine: AsyncEngine,
    sessions: SessionFactory,
    chart_renderer: ChartRenderer,
) -> StackupBot:
    return StackupBot(settings, engine, sessions, charts=chart_renderer)


@pytest.fixture(scope="session")
def migrated_database_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite database migrated once; each `db` test on SQLite gets a copy."""
    path = tmp_path_factory.mktemp("migrated") / "stackup.db"

    async def build() -> None:
        engine = create_engine(sqlite_url(path))
        try:
            await migrate.upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(build())
    return path


@pytest.fixture(scope="session", autouse=True)
def _postgres_template() -> Iterator[None]:
    """Drops, at the end of the run, the PostgreSQL template `fresh_migrated_postgres_url`
    migrated on first use (one per process: per xdist worker)."""
    yield
    drop_template()


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(
    request: pytest.FixtureRequest, tmp_path: Path, migrated_database_template: Path
) -> AsyncIterator[SessionFactory]:
    """An empty migrated database, once on SQLite and once on the PostgreSQL server: each a
    copy of a template migrated once per run (per xdist worker)."""
    if request.param == "sqlite":
        path = tmp_path / "stackup.db"
        shutil.copyfile(migrated_database_template, path)
        engine = create_engine(sqlite_url(path))
        yield create_session_factory(engine)
        await engine.dispose()
    else:
        async for url in fresh_migrated_postgres_url():
            engine = create_engine(url, pool_size=20)
            yield create_session_factory(engine)
            await engine.dispose()


@pytest_asyncio.fixture
async def simcord_env(
    simcord_bot: StackupBot, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Env]:
    """simcord's own fixture, with the gateway answering late (`tests/late_gateway.py`): the
    events that follow the bot's own REST writes arrive after its next call, reordered. A test
    marked `prompt_gateway` gets simcord's immediate delivery."""
    marker = request.node.get_closest_marker("simcord")
    env = Env(simcord_bot, **(marker.kwargs if marker else {}))
    if request.node.get_closest_marker("prompt_gateway") is None:
        # Seeded from the test's id: a failure reproduces.
        seed = random.Random(request.node.nodeid).randrange(2**32)
        env.late_gateway = install_late_gateway(env, monkeypatch, seed)  # type: ignore[attr-defined]
    await env.start()
    try:
        yield env
    finally:
        await env.shutdown()
        if env.check_errors:
            env._raise_errors_since(env._errors_acknowledged)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "prompt_gateway: gateway events applied inside the REST call (simcord's way)"
    )
    config.addinivalue_line(
        "markers",
        "logs_errors(*types): the bot may log ERRORs from bot.*, cogs.* or db.* for these "
        "exception types (a class, or a string the message starts with); write "
        "`logs_errors.with_args(SomeError)` for a lone class",
    )


@pytest.fixture(autouse=True)
def _logging_as_it_was() -> Iterator[None]:
    """A CLI test configures logging for the process: its handler (bound to that test's
    captured stderr) and level must not outlive the test."""
    root = logging.getLogger()
    level = root.level
    yield
    root.handlers[:] = [h for h in root.handlers if h.get_name() != LOG_HANDLER_NAME]
    root.setLevel(level)


@pytest.fixture(autouse=True)
def _no_unexpected_errors(
    request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> Iterator[None]:
    """A test fails when Stackup logs an ERROR it did not expect by type: a scheduled job, a
    listener or a debounced edit that crashes is logged and swallowed, and would otherwise
    pass every "nothing more happened" check."""
    yield
    marker = request.node.get_closest_marker("logs_errors")
    records = [r for when in ("setup", "call", "teardown") for r in caplog.get_records(when)]
    unexpected = unexpected_errors(records, marker.args if marker else ())
    assert not unexpected, "Stackup logged errors the test did not expect:\n" + "\n".join(
        unexpected
    )


@pytest.fixture(autouse=True)
def _discord_contract(request: pytest.FixtureRequest) -> object:
    """Every body the bot sent must fit Discord's spec and limits (applied to every bot test)."""
    yield
    env = request.node.funcargs.get("simcord_env")
    if isinstance(env, Env):
        problems = problems_in(env.http_requests)
        assert not problems, "bodies Discord would refuse:\n" + "\n".join(problems)
