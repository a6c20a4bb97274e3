"""Tool-wide work done by exactly one process: several bot processes share one PostgreSQL
database, and a job such as the external stats refresh must not run in two of them at once."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

# SQLite means one process: a lock held in this process is the only one there is.
_held_in_process: set[tuple[str, str]] = set()


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for `name` (pg_advisory_lock takes a bigint); the same in
    every process and every run, unlike hash()."""
    digest = hashlib.blake2b(name.encode(), digest_size=8, person=b"stackup-lock").digest()
    return int.from_bytes(digest, "big", signed=True)


@asynccontextmanager
async def exclusive(engine: AsyncEngine, name: str) -> AsyncIterator[bool]:
    """True inside if this process got the tool-wide lock `name`, False if another holds it.
    Never waits for it."""
    if engine.dialect.name == "postgresql":
        async with _advisory_lock(engine, name) as got:
            yield got
        return
    key = (engine.url.render_as_string(hide_password=True), name)
    # No await between the test and the add: nothing else runs in between.
    if key in _held_in_process:
        yield False
        return
    _held_in_process.add(key)
    try:
        yield True
    finally:
        _held_in_process.discard(key)


@asynccontextmanager
async def _advisory_lock(engine: AsyncEngine, name: str) -> AsyncIterator[bool]:
    """A session-level advisory lock on a connection of its own, held for the whole block.
    The connection is not left in a transaction (that would pin a snapshot and hold back
    VACUUM for as long as the job runs). It goes back to the pool only once unlocked: a pooled
    connection keeps its session's locks, so if unlocking fails it is closed instead."""
    key = lock_key(name)
    connection = await engine.connect()
    try:
        got = bool(await connection.scalar(select(func.pg_try_advisory_lock(key))))
        await connection.commit()
    except BaseException:
        await _discard(connection)
        raise
    if not got:
        await connection.close()
        yield False
        return
    try:
        yield True
    finally:
        await _unlock(connection, key)


async def wait_for_lock(engine: AsyncEngine, name: str) -> Callable[[], Awaitable[None]]:
    """PostgreSQL only: waits for the session-level advisory lock `name` on a connection of its
    own (outside any transaction, as `exclusive`) and returns the function that unlocks it and
    gives the connection back. Cancelled while waiting, the connection is closed for good (the
    server may grant the lock after the cancel)."""
    key = lock_key(name)
    connection = await engine.connect()
    try:
        await connection.scalar(select(func.pg_advisory_lock(key)))
        await connection.commit()
    except BaseException:
        await _discard(connection)
        raise

    async def release() -> None:
        await _unlock(connection, key)

    return release


@asynccontextmanager
async def waiting_for(engine: AsyncEngine, name: str) -> AsyncIterator[None]:
    """PostgreSQL only: the block runs holding the advisory lock `name`, waited for if another
    process holds it."""
    release = await wait_for_lock(engine, name)
    try:
        yield
    finally:
        await release()


async def _unlock(connection: AsyncConnection, key: int) -> None:
    """Unlock and give the connection back; if that fails, end its session (which ends its
    locks) rather than return a connection that may still hold one to the pool."""
    try:
        await connection.scalar(select(func.pg_advisory_unlock(key)))
        await connection.commit()
    except BaseException:
        await _discard(connection)
        raise
    await connection.close()


async def _discard(connection: AsyncConnection) -> None:
    """Close the connection for good (ending its session ends its advisory locks)."""
    try:
        await connection.invalidate()
    finally:
        await connection.close()
