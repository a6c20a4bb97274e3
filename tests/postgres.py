"""The PostgreSQL server the Postgres-path tests use: a fresh database per test, dropped after.

`fresh_postgres_url()` gives an empty database, for the tests of migrations and of start-up.
`fresh_migrated_postgres_url()` gives one at the newest revision: a copy (`CREATE DATABASE …
TEMPLATE`) of a template this test process migrated once, on first use; `drop_template()`
removes that template at the end of the run (conftest.py's `_postgres_template`).

A server that does not answer skips these tests, with the reason; in CI (`CI=true`) it fails
them, so a broken PostgreSQL set-up cannot pass as green.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections.abc import AsyncIterator
from typing import NoReturn

import asyncpg
import pytest

from db import migrate
from db.engine import create_engine

ADMIN_URL = os.environ.get("STACKUP_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")

TEMPLATE_PREFIX = "stackup_tmpl_"
# A template this old was left by a run that was killed before its session ended.
STALE_TEMPLATE_SECONDS = 6 * 3600

_template: str | None = None  # this process's migrated template, made on first use


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def _unreachable(exc: BaseException) -> NoReturn:
    reason = f"no PostgreSQL server answers at {ADMIN_URL} ({exc.__class__.__name__}: {exc})"
    if in_ci():
        pytest.fail(f"{reason}; in CI (CI=true) the PostgreSQL tests must run", pytrace=False)
    pytest.skip(reason)


async def _admin() -> asyncpg.Connection:
    try:
        return await asyncpg.connect(ADMIN_URL, timeout=3)
    except (OSError, asyncpg.PostgresError) as exc:
        _unreachable(exc)


def _url(name: str) -> str:
    base = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{name}"


async def _drop_template(admin: asyncpg.Connection, name: str) -> None:
    await admin.execute(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE false')
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _drop_stale_templates(admin: asyncpg.Connection) -> None:
    """Templates of killed runs (their names start with the time they were made)."""
    names = await admin.fetch(
        "SELECT datname FROM pg_database WHERE datname LIKE $1", TEMPLATE_PREFIX + "%"
    )
    for (name,) in names:
        made = name.removeprefix(TEMPLATE_PREFIX).split("_", 1)[0]
        if made.isdigit() and time.time() - int(made) > STALE_TEMPLATE_SECONDS:
            with contextlib.suppress(asyncpg.PostgresError):  # another run dropped it first
                await _drop_template(admin, name)


async def _migrated_template(admin: asyncpg.Connection) -> str:
    """This process's template at the newest revision, migrated on first use. No connection
    to it stays open (CREATE DATABASE refuses a source with other sessions), and none may
    open: it is marked a template that allows no connections."""
    global _template
    if _template is not None:
        return _template
    await _drop_stale_templates(admin)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"{TEMPLATE_PREFIX}{int(time.time())}_{worker}_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        engine = create_engine(_url(name))
        try:
            await migrate.upgrade(engine)
        finally:
            await engine.dispose()
        await admin.execute(
            f'ALTER DATABASE "{name}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false'
        )
    except BaseException:
        await _drop_template(admin, name)
        raise
    _template = name
    return name


async def fresh_postgres_url(*, migrated: bool = False) -> AsyncIterator[str]:
    """An empty database (no migration run), or with `migrated` one at the newest revision
    copied from this process's template; dropped after."""
    admin = await _admin()
    try:
        clause = f' TEMPLATE "{await _migrated_template(admin)}"' if migrated else ""
        name = f"stackup_test_{uuid.uuid4().hex[:12]}"
        await admin.execute(f'CREATE DATABASE "{name}"{clause}')
        try:
            yield _url(name)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def fresh_migrated_postgres_url() -> AsyncIterator[str]:
    """A database at the newest revision, copied from this process's template, dropped after."""
    return fresh_postgres_url(migrated=True)


def drop_template() -> None:
    """Drops this process's template, if it made one (at the end of the test session)."""
    global _template
    if _template is None:
        return
    name, _template = _template, None

    async def drop() -> None:
        admin = await asyncpg.connect(ADMIN_URL, timeout=3)
        try:
            await _drop_template(admin, name)
        finally:
            await admin.close()

    asyncio.run(drop())
