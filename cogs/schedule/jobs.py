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

if TYPE_CHECKING:
    from bot.bot import StackupBot

log = logging.getLogger(__name__)

SWEEP_JOB = "sweep"
VOTE_REPAIR_JOB = "vote-repair"
STATS_JOB = "external-stats"


def post_job(post_id: int) -> str:
    return f"post:{post_id}"


def digest_job(guild_id: int) -> str:
    return f"digest:{guild_id}"


@contextmanager
def _logged(what: str) -> Iterator[None]:
    try:
        yield
    except Exception:
        log.exception("scheduled %s failed", what)


async def post_deadline(bot: StackupBot, post_id: int) -> None:
    await bot.wait_until_ready()
    if not bot.flows.schedule.active:
        return
    with _logged(post_job(post_id)):
        await bot.flows.schedule.post_due(post_id)


async def digest_deadline(bot: StackupBot, guild_id: int) -> None:
    await bot.wait_until_ready()
    if not bot.flows.schedule.active:
        return
    with _logged(digest_job(guild_id)):
        await bot.flows.schedule.digest_due(guild_id)


async def sweep(bot: StackupBot) -> None:
    await bot.wait_until_ready()
    if not bot.flows.schedule.active:
        return
    with _logged(SWEEP_JOB):
        await bot.flows.schedule.sweep()


async def repair_votes(bot: StackupBot) -> None:
    await bot.wait_until_ready()
    if not bot.flows.schedule.active:
        return
    with _logged(VOTE_REPAIR_JOB):
        await bot.flows.schedule.repair_votes()


async def refresh_stats(bot: StackupBot) -> None:
    await bot.wait_until_ready()
    if not bot.flows.schedule.active:
        return
    with _logged(STATS_JOB):
        await bot.flows.schedule.refresh_stats()
