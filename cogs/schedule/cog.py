"""Scheduled work: advice posts reminded, warned and closed when idle; weekly digests; vote
messages repaired; external stats refreshed.

The database holds every deadline; `bot.timers` (APScheduler) only wakes the bot at them. On
start the jobs are rebuilt from the database and overdue ones run at once; every job re-reads
the database when it fires; a periodic sweep catches anything without a job. The work itself is
`bot.flows.schedule` (cogs/schedule/flows.py), the jobs APScheduler holds are in
cogs/schedule/jobs.py; this cog registers the periodic jobs and turns events into timers.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from datetime import timedelta

import discord
from discord.ext import commands

from bot.bot import StackupBot
from bot.core.advice import OpenedPost
from cogs.schedule.jobs import (
    STATS_JOB,
    SWEEP_JOB,
    VOTE_REPAIR_JOB,
    refresh_stats,
    repair_votes,
    sweep,
)

STATS_EVERY = timedelta(hours=1)
# A thread's messages move its post's last activity at most this often.
ACTIVITY_WRITE_SECONDS = 300.0
THREADS_REMEMBERED = 2000


class Scheduled(commands.Cog):
    def __init__(self, bot: StackupBot) -> None:
        self.bot = bot
        self.service = bot.services.schedule
        self.timers = bot.timers
        self._activity_written: OrderedDict[int, float] = OrderedDict()

    async def cog_load(self) -> None:
        settings = self.bot.settings
        self.bot.flows.schedule.active = True
        self.timers.every(SWEEP_JOB, timedelta(minutes=settings.sweep_minutes), sweep, self.bot)
        self.timers.every(
            VOTE_REPAIR_JOB,
            timedelta(minutes=settings.vote_repair_minutes),
            repair_votes,
            self.bot,
        )
        if self.bot.services.external_stats is not None:
            self.timers.every(STATS_JOB, STATS_EVERY, refresh_stats, self.bot)
            self.timers.at(f"{STATS_JOB}:start", self.service.clock(), refresh_stats, self.bot)
        await self.bot.flows.schedule.rebuild()

    async def cog_unload(self) -> None:
        self.bot.flows.schedule.active = False
        for job_id in self.timers.job_ids():
            self.timers.cancel(job_id)

    @commands.Cog.listener()
    async def on_stackup_advice_opened(self, opened: OpenedPost) -> None:
        post = await self.service.post(opened.post_id)
        if post is not None:
            self.bot.flows.schedule.schedule_post(post)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Members talking in a post's thread keep it from closing as idle."""
        if message.guild is None or message.author.bot:
            return
        if not isinstance(message.channel, discord.Thread):
            return
        thread_id = message.channel.id
        now = time.monotonic()
        last = self._activity_written.get(thread_id)
        if last is not None and now - last < ACTIVITY_WRITE_SECONDS:
            return
        self._activity_written[thread_id] = now
        self._activity_written.move_to_end(thread_id)
        while len(self._activity_written) > THREADS_REMEMBERED:
            self._activity_written.popitem(last=False)
        await self.service.note_activity(thread_id)

    @commands.Cog.listener()
    async def on_stackup_guild_configured(self, guild_id: int) -> None:
        """Idle days or the digest changed: the guild's timers follow."""
        await self.bot.flows.schedule.guild_configured(guild_id)


async def setup(bot: StackupBot) -> None:
    await bot.add_cog(Scheduled(bot))
