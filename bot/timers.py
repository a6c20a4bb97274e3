"""APScheduler as an alarm clock: it wakes the bot at deadlines that the database holds.

Its jobs live in memory only. APScheduler's store is not the truth (and must not be shared
between processes): at start the jobs are rebuilt from the database, a job re-reads the
database when it fires, and a periodic sweep catches any deadline left without a job.

Deadlines are given in the bot's clock, which tests replace; APScheduler counts wall-clock
time, so a deadline becomes "this long from now" on the wall clock. What a job is due at is
remembered in the bot's clock when it is scheduled, never read back from the wall clock (which
has moved on meanwhile, by an amount a loaded machine makes unpredictable).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_REMOVED, JobEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)

Job = Callable[..., Awaitable[None]]


def _wall_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class _Once:
    """A date job: due at this moment of the bot's clock."""

    deadline: datetime


@dataclass(frozen=True)
class _Repeating:
    """An interval job: its n-th run is due `n * interval` after it was scheduled, which was
    `start` on the bot's clock and `wall_start` on APScheduler's."""

    start: datetime
    wall_start: datetime
    interval: timedelta


class Timers:
    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        # What each job is due at, in the bot's clock, as it was scheduled.
        self._due: dict[str, _Once | _Repeating] = {}
        self._scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={
                # A late timer still runs (the work re-checks the database), once.
                "misfire_grace_time": None,
                "coalesce": True,
                "max_instances": 1,
            },
        )
        # A date job is removed once it has run (before its coroutine starts), and any job
        # when it is cancelled: its deadline goes with it.
        self._scheduler.add_listener(self._forget, EVENT_JOB_REMOVED)

    def _forget(self, event: JobEvent) -> None:
        self._due.pop(event.job_id, None)

    @property
    def running(self) -> bool:
        return self._scheduler.running

    def start(self) -> None:
        if not self._scheduler.running:
            self._scheduler.start()

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def _wall(self, when: datetime) -> datetime:
        delay = (when - self.clock()).total_seconds()
        return _wall_now() + timedelta(seconds=max(delay, 0.0))

    def at(self, job_id: str, when: datetime, job: Job, *args: Any) -> None:
        """Run `job(*args)` at `when` (at once if it is past), replacing any job of that id."""
        self._scheduler.add_job(
            job,
            "date",
            run_date=self._wall(when),
            args=args,
            id=job_id,
            name=job_id,
            replace_existing=True,
        )
        self._due[job_id] = _Once(when)

    def every(self, job_id: str, interval: timedelta, job: Job, *args: Any) -> None:
        """Run `job(*args)` every `interval`, the first time one interval from now, replacing
        any job of that id."""
        start, wall_start = self.clock(), _wall_now()
        self._scheduler.add_job(
            job,
            "interval",
            seconds=interval.total_seconds(),
            start_date=wall_start + interval,
            args=args,
            id=job_id,
            name=job_id,
            replace_existing=True,
        )
        self._due[job_id] = _Repeating(start, wall_start, interval)

    def cancel(self, job_id: str) -> None:
        if self._scheduler.get_job(job_id) is not None:
            self._scheduler.remove_job(job_id)
        self._due.pop(job_id, None)

    def due_at(self, job_id: str) -> datetime | None:
        """What the job is due at next, in the bot's clock; None if there is no such job.

        A date job's is the deadline it was given to `at()`, exactly (an overdue one runs at
        once). An interval job's is its start on the bot's clock plus as many intervals as
        APScheduler's next run is from its start on the wall clock (a whole number, so the
        wall clock's progress since then does not leak in)."""
        job = self._scheduler.get_job(job_id)
        due = self._due.get(job_id)
        if job is None or due is None:
            return None
        if isinstance(due, _Once):
            return due.deadline
        # A job added before the scheduler started has no run time yet: its first is due.
        next_run = due.wall_start + due.interval if job.pending else job.next_run_time
        if next_run is None:  # paused
            return None
        return due.start + round((next_run - due.wall_start) / due.interval) * due.interval

    def job_ids(self, prefix: str = "") -> set[str]:
        return {job.id for job in self._scheduler.get_jobs() if job.id.startswith(prefix)}

    def pending(self, job_id: str) -> tuple[Job, tuple[Any, ...]] | None:
        """The job's function and arguments, as the scheduler will call them."""
        job = self._scheduler.get_job(job_id)
        return None if job is None else (job.func, tuple(job.args))
