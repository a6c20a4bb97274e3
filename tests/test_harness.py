"""The test harness itself: hidden failures are found, and the late gateway keeps each
object's events in order while it reorders objects."""

from __future__ import annotations

import logging

from tests.hidden_failures import unexpected_errors
from tests.late_gateway import LateGateway


def record(name: str, level: int, message: str, error: BaseException | None = None):
    exc_info = (type(error), error, None) if error is not None else None
    return logging.LogRecord(name, level, __file__, 1, message, (), exc_info)


def test_an_error_stackup_logged_and_swallowed_is_found():
    crash = record("cogs.schedule.cog", logging.ERROR, "scheduled sweep failed", RuntimeError("x"))
    assert unexpected_errors([crash]) == [
        "cogs.schedule.cog: scheduled sweep failed (RuntimeError)"
    ]
    assert unexpected_errors([record("bot.bot", logging.CRITICAL, "down")]) == [
        "bot.bot: down (no exception)"
    ]


def test_expected_errors_warnings_and_other_loggers_pass():
    crash = record("cogs.schedule.cog", logging.ERROR, "scheduled sweep failed", RuntimeError("x"))
    assert unexpected_errors([crash], [RuntimeError]) == []
    assert unexpected_errors([crash], [Exception]) == []
    assert unexpected_errors([crash], ["scheduled sweep"]) == []
    assert unexpected_errors([crash], [KeyError]) != []
    assert unexpected_errors([record("cogs.advice.cog", logging.WARNING, "late")]) == []
    assert unexpected_errors([record("discord.client", logging.ERROR, "theirs")]) == []
    assert unexpected_errors([record("bottle", logging.ERROR, "not ours")]) == []


class _Env:
    class backend:
        @staticmethod
        def emit(event, payload):
            raise AssertionError("not delivered in this test")


def test_late_events_keep_each_objects_order_and_reorder_objects():
    forum = [("CHANNEL_UPDATE", {"id": "1", "n": n}) for n in range(5)]
    message = [("MESSAGE_UPDATE", {"channel_id": "2", "id": "9", "n": n}) for n in range(5)]
    orders = set()
    for seed in range(20):
        shuffled = LateGateway(_Env(), seed)._shuffled(forum + message)
        assert [e for e in shuffled if e in forum] == forum
        assert [e for e in shuffled if e in message] == message
        assert len(shuffled) == 10
        orders.add(tuple(event for event, _ in shuffled))
    assert len(orders) > 1  # objects do come in other orders
