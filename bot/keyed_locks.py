"""One asyncio lock per key (a forum, an advice post), forgotten once nobody holds or awaits it."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Hashable


class KeyedLocks:
    """`async with locks(key):` serialises work on one Discord object in this process, such as
    read-modify-write edits whose gateway echo comes late. A guild's interactions and jobs all
    reach the process running its shard, so a lock in this process is enough."""

    def __init__(self) -> None:
        # A lock in use is referenced by its holder and its waiters; an idle one is dropped.
        self._locks: weakref.WeakValueDictionary[Hashable, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    def __call__(self, key: Hashable) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock
