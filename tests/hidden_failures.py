"""What makes a test fail although its assertions passed: an ERROR that Stackup logged and
swallowed (a scheduled job, a listener, a debounced edit) that the test did not expect."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

# Stackup's own loggers, and asyncio's: a task of Stackup's that died with an exception
# nobody read is reported there ("Task exception was never retrieved").
STACKUPS_LOGGERS = ("bot", "cogs", "db", "stackup", "asyncio")


def unexpected_errors(
    records: Iterable[logging.LogRecord], expected: Sequence[type[BaseException] | str] = ()
) -> list[str]:
    """The ERRORs (and worse) of Stackup's loggers not covered by `expected`: an exception
    class the logged exception is an instance of, or text the message starts with."""

    def allowed(record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return any(
            (isinstance(kind, str) and record.getMessage().startswith(kind))
            or (isinstance(kind, type) and isinstance(error, kind))
            for kind in expected
        )

    return [
        f"{r.name}: {r.getMessage()} ({r.exc_info[0].__name__ if r.exc_info else 'no exception'})"
        for r in records
        if r.levelno >= logging.ERROR
        and r.name.split(".", 1)[0] in STACKUPS_LOGGERS
        and not allowed(r)
    ]
