"""A gateway that answers late, as Discord's does.

simcord applies the gateway event that follows a REST write (CHANNEL_UPDATE after a PATCH,
THREAD_UPDATE after an archive, MESSAGE_UPDATE after an edit) inside the REST call, before it
returns, so the bot's cache is always fresh after its own writes. On Discord the event comes
after the REST answer, at a moment no one controls. `LateGateway` restores that:

- every event the backend emits while one of the bot's own REST calls runs is held;
- held events are delivered after the bot's next REST call has returned, or the one after,
  or the one after that (drawn per call, seeded), never before; or, when the bot makes no
  further call, once it has nothing left to do (simcord's settle), so a test's assertions
  and its next action see them delivered;
- when delivered, events of different objects come in a shuffled order (seeded per test);
  events of one channel, thread or message keep their order, as one shard's gateway does.

Events the test itself causes (a member's reaction, a slash command) are not held: only the
bot's own writes answer late. How it hooks in: simcord's `Backend.emit` (the one place every
gateway event starts from) is wrapped on the test's backend, and simcord's fake HTTP client and
webhook adapter classes are wrapped to mark the bot's REST calls; `Env._settle_internal` is
wrapped so that settling also delivers what is still held.
"""

from __future__ import annotations

import asyncio
import copy
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from simcord.env import Env
from simcord.http.client import FakeHTTPClient, FakeWebhookAdapter

Event = tuple[str, dict[str, Any]]
# A call's events wait for one to this many more of the bot's REST calls.
MAX_CALLS_LATE = 3


def _object_of(payload: dict[str, Any]) -> object:
    """Events of one channel (or thread, with its messages and reactions) keep their order."""
    for key in ("channel_id", "id", "guild_id"):
        if key in payload:
            return payload[key]
    return None


class LateGateway:
    def __init__(self, env: Env, seed: int) -> None:
        self.env = env
        self.random = random.Random(seed)
        self._emit = env.backend.emit
        self._depth = 0
        self._current: list[Event] = []
        # Events of finished calls, with how many more of the bot's calls they wait for.
        self._held: list[tuple[int, list[Event]]] = []
        # What the tests can check: the fixture did hold and deliver events late.
        self.held_total = 0
        self.delivered_after_next_call = 0

    # -- hooks ---------------------------------------------------------------------------

    def emit(self, event: str, payload: Any) -> None:
        if self._depth > 0:
            self._current.append((event, copy.deepcopy(dict(payload))))
            self.held_total += 1
        else:
            self._emit(event, payload)

    @contextmanager
    def rest_call(self) -> Iterator[None]:
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0:
                self._call_returned()

    def _call_returned(self) -> None:
        """Each call's events wait for one to `MAX_CALLS_LATE` more of the bot's calls (drawn
        at random), and go out after the last of those has returned; events still held when
        the bot is idle go out then."""
        due: list[Event] = []
        still: list[tuple[int, list[Event]]] = []
        for calls_left, events in self._held:
            if calls_left <= 1:
                due += events
            else:
                still.append((calls_left - 1, events))
        if self._current:
            still.append((self.random.randint(1, MAX_CALLS_LATE), self._current))
        self._held, self._current = still, []
        if due:
            # call_soon from the bot's own task: simcord counts it as the bot's work.
            asyncio.get_running_loop().call_soon(self._deliver_after_a_call, due)

    def _deliver(self, events: list[Event]) -> None:
        for event, payload in self._shuffled(events):
            self._emit(event, payload)

    def _deliver_after_a_call(self, events: list[Event]) -> None:
        self._deliver(events)
        self.delivered_after_next_call += len(events)

    def _shuffled(self, events: list[Event]) -> list[Event]:
        """Interleave objects at random, keeping each object's own events in order."""
        queues: dict[object, list[Event]] = {}
        for item in events:
            queues.setdefault(_object_of(item[1]), []).append(item)
        order = [key for key, queue in queues.items() for _ in queue]
        self.random.shuffle(order)
        return [queues[key].pop(0) for key in order]

    def flush(self) -> bool:
        """Deliver everything held; False if nothing was."""
        held = [event for _, events in self._held for event in events] + self._current
        self._held, self._current = [], []
        if held:
            self._deliver(held)
        return bool(held)


def install_late_gateway(env: Env, monkeypatch: pytest.MonkeyPatch, seed: int) -> LateGateway:
    """Installs a `LateGateway` on an env before it starts; undone by `monkeypatch`."""
    gate = LateGateway(env, seed)
    monkeypatch.setattr(env.backend, "emit", gate.emit)
    for cls in (FakeHTTPClient, FakeWebhookAdapter):
        original = cls.request

        async def marked(self: Any, *args: Any, _original: Any = original, **kwargs: Any):
            with gate.rest_call():
                return await _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "request", marked)
    settle = env._settle_internal

    async def settle_then_deliver(**options: Any) -> None:
        await settle(**options)
        while gate.flush():
            await settle(**options)

    monkeypatch.setattr(env, "_settle_internal", settle_then_deliver)
    return gate
