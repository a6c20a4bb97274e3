"""APScheduler as an alarm clock: it wakes the bot at deadlines that the database holds.

Its jobs live in memory only. APScheduler's store is not the truth (and must not be shared
between processes): at start the jobs are rebuilt from the database, a job re-reads the
database when it fires, and a periodic sweep catches any deadline left without a job.

Deadlines are given in the bot's clock, which tests replace; APScheduler counts wall-clock
time, so a deadline becomes "this long from now" on the wall clock.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)

Job = Callable[..., Awaitable[None]]


def _wall_now() -> datetime:
    return datetime.now(UTC)


class Timers:
    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self._scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={
                # A late timer still runs (the work re-checks the database), once.
                "misfire_grace_time": None,
                "coalesce": True,
                "max_instances": 1,
            },
        )

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

    def every(self, job_id: str, interval: timedelta, job: Job, *args: Any) -> None:
        self._scheduler.add_job(
            job,
            "interval",
            seconds=interval.total_seconds(),
            args=args,
            id=job_id,
            name=job_id,
            replace_existing=True,
        )

    def cancel(self, job_id: str) -> None:
        if self._scheduler.get_job(job_id) is not None:
            self._scheduler.remove_job(job_id)

    def due_at(self, job_id: str) -> datetime | None:
        """When the job runs next, in the bot's clock (to the second)."""
        job = self._scheduler.get_job(job_id)
        if job is None or job.next_run_time is None:
            return None
        ahead = (job.next_run_time - _wall_now()).total_seconds()
        due = self.clock() + timedelta(seconds=ahead)
        return due.replace(microsecond=0) + timedelta(seconds=round(due.microsecond / 1e6))

    def job_ids(self, prefix: str = "") -> set[str]:
        return {job.id for job in self._scheduler.get_jobs() if job.id.startswith(prefix)}

    def pending(self, job_id: str) -> tuple[Job, tuple[Any, ...]] | None:
        """The job's function and arguments, as the scheduler will call them."""
        job = self._scheduler.get_job(job_id)
        return None if job is None else (job.func, tuple(job.args))
