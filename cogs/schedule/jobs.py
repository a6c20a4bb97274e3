"""What APScheduler holds: module-level functions and the bot, never a cog or a bound method
(a reloaded cog would leave its old methods behind in the scheduler). Each job reaches the
scheduled work through `bot.flows.schedule` when it fires, and logs its failure instead of
raising it: the scheduler must go on, and an ERROR fails any test that does not expect it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from bot.metrics import FAILED, OK

if TYPE_CHECKING:
    from bot.bot import StackupBot

log = logging.getLogger(__name__)

SWEEP_JOB = "sweep"
VOTE_REPAIR_JOB = "vote-repair"
STATS_JOB = "external-stats"
POST_JOB = "post"
DIGEST_JOB = "digest"
# The timer of a left guild's deletion is "departure:<guild>"; its run in `job_runs` is
# bot.services.privacy.DELETION_RUN.
DEPARTURE_TIMER = "departure"


def post_job(post_id: int) -> str:
    return f"{POST_JOB}:{post_id}"


def digest_job(guild_id: int) -> str:
    return f"{DIGEST_JOB}:{guild_id}"


def departure_job(guild_id: int) -> str:
    return f"{DEPARTURE_TIMER}:{guild_id}"


@contextmanager
def _logged(bot: StackupBot, job: str, what: str | None = None) -> Iterator[None]:
    """Logs and swallows the run's failure, and counts the run by `job` (a kind of job: the
    post or server it is for is in `what`, the log's name for it)."""
    try:
        yield
    except Exception:
        log.exception("scheduled %s failed", what or job)
        bot.metrics.scheduled_run(job, FAILED)
    else:
        bot.metrics.scheduled_run(job, OK)


async def post_deadline(bot: StackupBot, post_id: int) -> None:
    await bot.wait_until_ready()
    if not bot.flows.schedule.active:
        return
    with _logged(bot, POST_JOB, post_job(post_id)):
        await bot.flows.schedule.post_due(post_id)


async def digest_deadline(bot: StackupBot, guild_id: int) -> None:
    await bot.wait_until_ready()
    if not bot.flows.schedule.active:
        return
    with _logged(bot, DIGEST_JOB, digest_job(guild_id)):
        await bot.flows.schedule.digest_due(guild_id)


async def departure_deadline(bot: StackupBot, guild_id: int) -> None:
    await bot.wait_until_ready()
    if not bot.flows.schedule.active:
        return
    with _logged(bot, DEPARTURE_TIMER, departure_job(guild_id)):
        await bot.flows.schedule.departure_due(guild_id)


async def sweep(bot: StackupBot) -> None:
    await bot.wait_until_ready()
    if not bot.flows.schedule.active:
        return
    with _logged(bot, SWEEP_JOB):
        await bot.flows.schedule.sweep()


async def repair_votes(bot: StackupBot) -> None:
    await bot.wait_until_ready()
    if not bot.flows.schedule.active:
        return
    with _logged(bot, VOTE_REPAIR_JOB):
        await bot.flows.schedule.repair_votes()


async def refresh_stats(bot: StackupBot) -> None:
    await bot.wait_until_ready()
    if not bot.flows.schedule.active:
        return
    with _logged(bot, STATS_JOB):
        await bot.flows.schedule.refresh_stats()
