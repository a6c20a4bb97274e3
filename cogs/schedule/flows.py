"""The scheduled work itself, run by the jobs in `cogs/schedule/jobs.py` and by the Scheduled
cog's listeners: advice posts reminded, warned and closed when idle; weekly digests; vote
messages repaired; external stats refreshed. One object the bot builds, `bot.flows.schedule`,
holding what this process knows of work in progress (the jobs it runs, the digests it sent).

Each piece of work is claimed in the database before its message goes out (no transaction is
open while Discord is called), so nothing is done twice, across restarts and across processes
that each serve their own shards.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

import discord

from bot.core.advice import AdviceSummary
from bot.core.privacy import FORMER_MEMBER_ID, Departure
from bot.core.schedule import Claim, DigestSchedule, IdleWarning, PostClock, PostWork, Reminder
from bot.render.digest import digest_chart_spec, digest_embed
from bot.render.scheduled import reminder_message, warning_message
from bot.timers import Job
from cogs._shared.discord_io import chart_file
from cogs.schedule.jobs import (
    DEPARTURE_TIMER,
    departure_deadline,
    departure_job,
    digest_deadline,
    digest_job,
    post_deadline,
    post_job,
)

if TYPE_CHECKING:
    from bot.bot import StackupBot

log = logging.getLogger(__name__)

Claimed = TypeVar("Claimed", Reminder, IdleWarning)

# Work that could not be done (Discord failed) is tried again this much later, not at once.
RETRY_AFTER = timedelta(minutes=5)
WORK_CONCURRENCY = 4
REPAIRS_PER_RUN = 100
# An idle close whose verdict failed to go out is announced again for this long.
ANNOUNCE_WITHIN = timedelta(days=1)
# Vote repair looks at messages voted on this recently (older ones wait for a restart's recount).
RECENTLY_VOTED = timedelta(days=1)


class ScheduledWork:
    def __init__(self, bot: StackupBot) -> None:
        self.bot = bot
        self.service = bot.services.schedule
        self.timers = bot.timers
        self._busy: set[str] = set()
        self._work = asyncio.Semaphore(WORK_CONCURRENCY)
        # Digest periods known to be done, so sweeps do not ask the database again.
        self._digests_done: dict[int, str] = {}
        # A guild whose digest failed is not retried before this (not at every sweep).
        self._digest_retry: dict[int, datetime] = {}
        # Guilds of this process Stackup left whose data is still kept: a guild coming back
        # at start is looked up here, not in the database.
        self._departed: set[int] = set()
        # Set while the Scheduled cog is loaded: after its unload, work already running
        # sets no new timers and jobs that fire do nothing.
        self.active = False

    def _at(self, job_id: str, when: datetime, job: Job, *args: object) -> None:
        if self.active:
            self.timers.at(job_id, when, job, *args)

    async def rebuild(self) -> None:
        """Every deadline of this process's guilds gets its job; overdue ones run at once."""
        posts = await self.service.open_posts()
        for post in posts:
            self.schedule_post(post)
        digests = await self.service.digest_schedules()
        for schedule in digests:
            self.schedule_digest(schedule)
        departures = await self.bot.services.privacy.departures()
        for departure in departures:
            self.schedule_departure(departure)
        log.info(
            "scheduled %d open advice posts, %d digests and %d deletions of servers left",
            len(posts),
            len(digests),
            len(departures),
        )

    # -- advice posts -------------------------------------------------------------------

    def schedule_post(self, post: PostClock) -> None:
        self._at(
            post_job(post.post_id), post.next_deadline(), post_deadline, self.bot, post.post_id
        )

    async def post_due(self, post_id: int) -> None:
        """The post's timer fired (or a sweep found it due): do what is due now, then set the
        timer for what comes next."""
        key = post_job(post_id)
        if key in self._busy:
            return
        self._busy.add(key)
        try:
            async with self._work:
                post = await self.service.post(post_id)
                if post is None:
                    self.timers.cancel(key)
                    return
                for work in post.due_work(self.service.clock()):
                    if work is PostWork.CLOSE:
                        await self._close_idle(post)
                    elif work is PostWork.REMIND:
                        await self._remind(post)
                    else:
                        await self._warn(post)
                after = await self.service.post(post_id)
            if after is None:
                self.timers.cancel(key)
                return
            now = self.service.clock()
            # Still due means its message failed: try again later, not in a tight loop.
            self._at(
                key, max(after.next_deadline(), now + RETRY_AFTER), post_deadline, self.bot, post_id
            )
        finally:
            self._busy.discard(key)

    async def _close_idle(self, post: PostClock) -> None:
        # Votes already received count towards the verdict.
        await self.bot.services.votes.wait_idle()
        summary = await self.bot.services.advice.close_idle(post.post_id)
        if summary is None:
            return  # closed meanwhile, or active again
        log.info("advice post %d closed after %d idle days", post.post_id, post.idle_days)
        await self._announce_close(summary, post.idle_days)

    async def _announce_close(self, summary: AdviceSummary, idle_days: int) -> bool:
        """Whether the verdict went out (or never can); False if a later try may send it."""
        if await self.bot.flows.advice.close_idle_post(summary, idle_days):
            await self.bot.services.advice.verdict_posted(summary.id)
            return True
        return False

    async def _announce_again(self, post_id: int, idle_days: int) -> None:
        """A verdict that failed to go out, claimed first: overlapping sweeps send it once."""
        if not await self.service.claim_announcement(post_id):
            return
        try:
            summary = await self.bot.services.advice.summary(post_id)
            announced = summary is None or await self._announce_close(summary, idle_days)
        except BaseException:
            await asyncio.shield(self.service.release_announcement(post_id))
            raise
        if announced:
            await self.service.finish_announcement(post_id, "announced")
        else:
            await self.service.release_announcement(post_id)

    async def _remind(self, post: PostClock) -> None:
        reminder = await self.service.claim_reminder(post.post_id)
        await self._send_claimed(reminder, reminder_message, self.service.release_reminder)

    async def _warn(self, post: PostClock) -> None:
        warning = await self.service.claim_warning(post)
        if warning is not None and warning.post.asker_id == FORMER_MEMBER_ID:
            return  # nobody to warn: the claim stands, and the post closes on time
        await self._send_claimed(warning, warning_message, self.service.release_warning)

    async def _send_claimed(
        self,
        claimed: Claimed | None,
        render: Callable[[Claimed], dict],
        release: Callable[[Claimed], Awaitable[None]],
    ) -> None:
        """Send a claimed reminder or warning to its post; if it may work later, or the work
        was cancelled (shutdown) on the way, give the claim back so that a later run sends it."""
        if claimed is None or claimed.post.thread_id is None:
            return
        post = claimed.post
        try:
            # In turn with the post's other edits: a post closed since the claim is archived
            # and locked, and a message would reopen it.
            async with self.bot.post_locks(post.id):
                if await self.service.post(post.id) is None:
                    return
                sent = await self._send_to_thread(post.guild_id, post.thread_id, render(claimed))
        except BaseException:
            await asyncio.shield(release(claimed))
            raise
        if not sent:
            await release(claimed)
            log.info("post %d: scheduled message to be tried again", post.id)

    async def _send_to_thread(self, guild_id: int, thread_id: int, message: dict) -> bool:
        """False if it may work later (a 5xx or 429: the claim is released); a thread gone or
        closed to Stackup, or a message refused, counts as done: retrying cannot help."""
        thread = self.bot.get_partial_messageable(thread_id, guild_id=guild_id)
        try:
            await thread.send(**message)
        except discord.HTTPException as exc:
            if exc.status >= 500 or exc.status == 429:
                log.warning("thread %d: scheduled message failed, will retry (%s)", thread_id, exc)
                return False
            log.info("thread %d: scheduled message not sent (%s)", thread_id, exc)
        return True

    # -- digests ------------------------------------------------------------------------

    def schedule_digest(self, schedule: DigestSchedule) -> None:
        now = self.service.clock()
        due = schedule.due(now)
        done = self._digests_done.get(schedule.guild_id)
        # Overdue (and not known to be sent): at once. Otherwise at the next moment.
        if due is not None and done != schedule.period(due):
            when = now
        else:
            when = schedule.next_moment(now)
        self._at(digest_job(schedule.guild_id), when, digest_deadline, self.bot, schedule.guild_id)

    async def digest_due(self, guild_id: int) -> None:
        found = await self.service.digest_schedules(guild_id)
        if not found:
            self.timers.cancel(digest_job(guild_id))
            return
        await self._digest(found[0])

    async def _digest(self, schedule: DigestSchedule) -> None:
        """Send the digest due now, if any and not sent, then set the timer for what comes
        next. One at a time per guild in this process; other processes are kept out by the
        claim."""
        guild_id = schedule.guild_id
        key = digest_job(guild_id)
        now = self.service.clock()
        retry_at = self._digest_retry.get(guild_id)
        if key in self._busy or (retry_at is not None and now < retry_at):
            return
        self._busy.add(key)
        try:
            moment = schedule.due(now)
            if moment is not None and self._digests_done.get(guild_id) != schedule.period(moment):
                claim = await self.service.claim_digest(schedule, moment)
                if claim is Claim.CLAIMED:
                    await self._send_digest(schedule, moment)
                if claim is not Claim.HELD:
                    # Held by another process (or one that died: taken over once stale, by a
                    # later sweep): not known to be done.
                    self._digests_done[guild_id] = schedule.period(moment)
            self._digest_retry.pop(guild_id, None)
            self.schedule_digest(schedule)
        except Exception:
            log.exception("guild %d: digest failed; trying again later", guild_id)
            retry = now + RETRY_AFTER
            self._digest_retry[guild_id] = retry
            self._at(key, retry, digest_deadline, self.bot, guild_id)
        finally:
            self._busy.discard(key)

    async def _send_digest(self, schedule: DigestSchedule, moment: datetime) -> None:
        start, end = schedule.window(moment)
        try:
            digest = await self.bot.services.digests.collect(schedule.guild_id, start, end)
            if digest.is_empty:
                await self.service.finish_digest(schedule, moment, "a quiet week: not sent")
                return
            spec = digest_chart_spec(digest)
            chart = await chart_file(self.bot, spec, "This week on Stackup") if spec else None
            channel = self.bot.get_partial_messageable(
                schedule.channel_id, guild_id=schedule.guild_id
            )
            message = await channel.send(
                embed=digest_embed(digest, chart=chart is not None),
                **({"file": chart} if chart is not None else {}),
            )
        except discord.HTTPException as exc:
            if exc.status >= 500 or exc.status == 429:
                await asyncio.shield(self.service.release_digest(schedule, moment))
                raise
            # The channel is gone or closed to Stackup, or Discord refused the message:
            # sending the same again cannot help.
            await self.service.finish_digest(schedule, moment, f"not sent: {exc}")
            log.info("guild %d: digest not sent (%s)", schedule.guild_id, exc)
            return
        except BaseException:
            await asyncio.shield(self.service.release_digest(schedule, moment))
            raise
        # Sent: if this write failed, a later run would send the week again (at least once,
        # rather than at most once, for a digest).
        await self.service.finish_digest(schedule, moment, f"sent as message {message.id}")
        log.info("guild %d: digest for %s sent", schedule.guild_id, schedule.period(moment))

    async def guild_configured(self, guild_id: int) -> None:
        """Idle days or the digest changed, or the bot is back in the guild: its timers
        follow."""
        for post in await self.service.open_posts(guild_id=guild_id):
            self.schedule_post(post)
        self._digests_done.pop(guild_id, None)
        self._digest_retry.pop(guild_id, None)
        found = await self.service.digest_schedules(guild_id)
        if found:
            self.schedule_digest(found[0])
        else:
            self.timers.cancel(digest_job(guild_id))

    # -- servers Stackup left ----------------------------------------------------------

    def schedule_departure(self, departure: Departure) -> None:
        self._departed.add(departure.guild_id)
        self._at(
            departure_job(departure.guild_id),
            departure.due_at,
            departure_deadline,
            self.bot,
            departure.guild_id,
        )

    async def guild_left(self, guild_id: int) -> None:
        """Stackup was removed from a server (or the server deleted): its data goes later."""
        departure = await self.bot.services.privacy.guild_left(guild_id)
        self.schedule_departure(departure)
        log.info("guild %d left: its data is deleted at %s", guild_id, departure.due_at)

    async def guild_back(self, guild_id: int) -> None:
        """Stackup is in the server: its data stays."""
        self._departed.discard(guild_id)
        self.timers.cancel(departure_job(guild_id))
        if await self.bot.services.privacy.guild_back(guild_id):
            log.info("guild %d: Stackup is back, its data stays", guild_id)
            # Its posts and digest were left alone while it was gone: they run again now,
            # not at the next sweep (an overdue post is warned first, then closed later).
            await self.guild_configured(guild_id)

    async def guilds_present(self, guild_ids: Iterable[int]) -> None:
        """Stackup is in these servers (at start, every one): those it had left, and was added
        back to while it was down, keep their data. The others cost no query."""
        for guild_id in sorted(self._departed.intersection(guild_ids)):
            await self.guild_back(guild_id)

    async def guilds_gone_at_start(self) -> None:
        """Servers of this process's shards that have data but that the bot is not in once
        every shard is ready were left while it was down: Discord sends no GUILD_DELETE for
        those, so they are recorded as left now and their data goes 30 days from now. A server
        unavailable in an outage is in the cache all the same, so it counts as present."""
        privacy = self.bot.services.privacy
        gone = [g for g in await privacy.undeparted_guilds() if self.bot.get_guild(g) is None]
        if not gone:
            return
        for departure in await privacy.guilds_left(gone):
            self.schedule_departure(departure)
            log.info(
                "guild %d left while the bot was down: its data is deleted at %s",
                departure.guild_id,
                departure.due_at,
            )
        # A server that added the bot back meanwhile had its join handled before the write:
        # looked at again after it, so the join wins.
        for guild_id in gone:
            if self.bot.get_guild(guild_id) is not None:
                await self.guild_back(guild_id)

    async def departure_due(self, guild_id: int) -> None:
        """A left server's time is up: its data goes, once, by whichever process claims it."""
        if self.bot.get_guild(guild_id) is not None:
            await self.guild_back(guild_id)  # back with no event saying so: nothing goes
            return
        key = departure_job(guild_id)
        if key in self._busy:
            return
        self._busy.add(key)
        try:
            deleted = await self.bot.services.privacy.delete_departed(guild_id)
        finally:
            self._busy.discard(key)
        if deleted is not None:
            self._departed.discard(guild_id)
            self.timers.cancel(key)
            log.info("guild %d: data deleted, %s", guild_id, deleted)
            return
        found = await self.bot.services.privacy.departures(guild_id)
        if not found:
            self._departed.discard(guild_id)
            self.timers.cancel(key)
            return
        # Not due yet, or held by another process: looked at again then, never in a loop.
        when = max(found[0].due_at, self.service.clock() + RETRY_AFTER)
        self._at(key, when, departure_deadline, self.bot, guild_id)

    async def _sweep_departures(self) -> None:
        """Due deletions run; any departure without a timer (or a gone one's timer) is fixed."""
        scheduled = self.timers.job_ids(f"{DEPARTURE_TIMER}:")
        now = self.service.clock()
        departures = await self.bot.services.privacy.departures()
        for departure in departures:
            if departure.due_at <= now:
                await self.departure_due(departure.guild_id)
            elif departure_job(departure.guild_id) not in scheduled:
                self.schedule_departure(departure)
        for gone in scheduled - {departure_job(d.guild_id) for d in departures}:
            self.timers.cancel(gone)

    # -- the sweep, vote repair, external stats -----------------------------------------

    async def sweep(self) -> None:
        """Whatever is due runs; any open post or digest without a timer gets one."""
        # Taken before the read, so a post opened meanwhile keeps the job it just got.
        scheduled = self.timers.job_ids("post:")
        now = self.service.clock()
        posts = await self.service.open_posts()
        due = []
        for post in posts:
            if post.due_work(now):
                due.append(post.post_id)
            elif post_job(post.post_id) not in scheduled:
                self.schedule_post(post)
        for gone in scheduled - {post_job(post.post_id) for post in posts}:
            self.timers.cancel(gone)
        results = await asyncio.gather(
            *(self.post_due(post_id) for post_id in due), return_exceptions=True
        )
        for post_id, result in zip(due, results, strict=True):
            if isinstance(result, Exception):
                log.error("post %d: scheduled work failed", post_id, exc_info=result)
        # Idle closes of the last day whose verdict did not go out (a 5xx, a shutdown).
        for post_id, idle_days in await self.service.unannounced_closes(now - ANNOUNCE_WITHIN):
            await self._announce_again(post_id, idle_days)
        for schedule in await self.service.digest_schedules():
            await self._digest(schedule)
        await self._sweep_departures()

    async def repair_votes(self) -> None:
        """Recount the vote messages that had votes since their last recount (events lost on
        the way are found this way, not only at the next start)."""
        settings = self.bot.settings
        messages = await self.bot.services.votes.messages_to_repair(
            shard_ids=settings.shard_ids,
            shard_count=settings.shard_count or 1,
            voted_since=self.service.clock() - RECENTLY_VOTED,
            limit=REPAIRS_PER_RUN,
        )
        if not messages:
            return
        found = await self.bot.services.votes.vote_messages(message for _, message in messages)
        recounts = self.bot.flows.recounts
        await asyncio.gather(
            *(
                recounts.recount(channel, message, found.get(message))
                for channel, message in messages
            )
        )

    async def refresh_stats(self) -> None:
        if self.bot.services.external_stats is None:
            return
        run = await self.bot.services.external_stats.refresh()
        log.info("external stats: %s", run)
