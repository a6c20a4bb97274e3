"""The PostgreSQL server the Postgres-path tests use: a fresh database per test, dropped after."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

ADMIN_URL = os.environ.get("STACKUP_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


async def _admin() -> asyncpg.Connection:
    try:
        return await asyncpg.connect(ADMIN_URL, timeout=3)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.skip(
            f"no PostgreSQL server answers at {ADMIN_URL} ({exc.__class__.__name__}: {exc})"
        )


async def fresh_postgres_url() -> AsyncIterator[str]:
    admin = await _admin()
    name = f"stackup_test_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        base = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        yield f"{base}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
