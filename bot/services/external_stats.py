"""The external stats refresh: GitHub stars and forks of catalog tools, fetched again once they
are `refresh_after` old, within GitHub's rate limits.

Safe to call often (the scheduler calls it hourly and at start): the database says what is
due and whether GitHub asked for a pause, so a call with nothing to do returns at once. One
process at a time does the work (`db.locks.exclusive`); a rate limit stops the run and its
resume time is stored, and the next run carries on with the tool it stopped at.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.core.github import (
    FORKS,
    GITHUB_SOURCE,
    STARS,
    Verdict,
    decide,
    failed_check_wait,
    missing_check_wait,
    repository_name,
)
from bot.services.github_api import GitHubApi, RepoAnswer
from db.engine import SessionFactory
from db.external_stats import (
    DueTool,
    confirm_figures,
    job_state,
    record_check,
    save_job_state,
    tools_due,
    write_figures,
)
from db.locks import exclusive
from db.types import utcnow

log = logging.getLogger(__name__)

JOB = "external_stats"
# GitHub unreachable (or failing) this many times in a row: stop, the next run tries again,
# rather than spending a timeout on every remaining tool.
FAILURES_BEFORE_STOPPING = 3
# The streak of secondary limits is kept in the job's last outcome (JobState has no counter).
_SECONDARY_STREAK = re.compile(r"\(secondary rate limit #(\d+)\)")


@dataclass(frozen=True)
class StatsRun:
    """How a refresh went: tools with new figures, confirmed unchanged (304), missing from
    GitHub, failed; `paused_until` when GitHub's rate limit stopped it; `skipped` says why
    nothing was done, if nothing was."""

    updated: int = 0
    unchanged: int = 0
    missing: int = 0
    failed: int = 0
    paused_until: datetime | None = None
    skipped: str | None = None

    @property
    def summary(self) -> str:
        if self.skipped:
            return self.skipped
        text = (
            f"{self.updated} updated, {self.unchanged} unchanged, "
            f"{self.missing} missing, {self.failed} failed"
        )
        if self.paused_until:
            text += f"; paused by GitHub's rate limit until {_when(self.paused_until)}"
        return text


def _when(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def _secondary_streak(last_outcome: str | None) -> int:
    found = _SECONDARY_STREAK.search(last_outcome or "")
    return int(found.group(1)) if found else 0


class ExternalStatsService:
    def __init__(
        self,
        session_factory: SessionFactory,
        api: GitHubApi,
        *,
        clock: Callable[[], datetime] = utcnow,
        refresh_after: timedelta = timedelta(hours=24),
        batch: int = 100,
    ) -> None:
        self._sessions = session_factory
        self._api = api
        self._clock = clock
        self._refresh_after = refresh_after
        self._batch = batch

    async def close(self) -> None:
        await self._api.close()

    async def refresh(self) -> StatsRun:
        engine = self._sessions.kw["bind"]
        async with exclusive(engine, JOB) as mine:
            if not mine:
                return StatsRun(skipped="another process is refreshing")
            return await self._refresh()

    async def _refresh(self) -> StatsRun:
        now = self._clock()
        async with self._sessions() as session:
            state = await job_state(session, JOB)
            if state and state.next_run_at and state.next_run_at > now:
                return StatsRun(
                    paused_until=state.next_run_at,
                    skipped=f"paused by GitHub's rate limit until {_when(state.next_run_at)}",
                )
            due = await tools_due(
                session, source=GITHUB_SOURCE, metric=STARS, now=now, limit=self._batch
            )
        if not due:
            run = StatsRun(skipped="nothing due")
            await self._finish(run, secondary_streak=0)
            return run
        counts, paused_until, streak = await self._check(
            due, _secondary_streak(state.last_outcome if state else None)
        )
        run = StatsRun(
            updated=counts[Verdict.FIGURES],
            unchanged=counts[Verdict.NOT_MODIFIED],
            missing=counts[Verdict.MISSING],
            failed=counts[Verdict.FAILED],
            paused_until=paused_until,
        )
        await self._finish(run, secondary_streak=streak)
        return run

    async def _check(
        self, due: Sequence[DueTool], streak: int
    ) -> tuple[dict[Verdict, int], datetime | None, int]:
        """Ask GitHub about each due tool in turn and record its answer, until a rate limit or
        repeated failures stop the run: the verdicts counted, when GitHub said to resume (if
        it did), and the streak of secondary rate limits (given the streak before)."""
        counts = {verdict: 0 for verdict in Verdict}
        paused_until: datetime | None = None
        failed_in_a_row = 0
        for tool in due:
            full_name = repository_name(tool.repository)
            if full_name is None:
                # A github.com URL naming no repository: nothing to ask, looked at weekly.
                await self._record(tool, Verdict.MISSING, RepoAnswer(0), self._clock())
                counts[Verdict.MISSING] += 1
                continue
            # No session is open here: a slow answer holds no transaction.
            answer = await self._api.repository(full_name, tool.etag)
            now = self._clock()
            decision = decide(
                answer.status,
                answer.headers,
                now=now,
                secondary_streak=streak,
                message=answer.message,
            )
            if decision.verdict is Verdict.RATE_LIMITED:
                # This tool is not recorded: it stays due, first of the next run.
                paused_until = decision.resume_at
                streak = streak + 1 if decision.secondary else 0
                log.info("external stats paused: %s", decision.reason)
                break
            streak = 0
            verdict = decision.verdict
            if verdict is Verdict.FIGURES and not answer.has_figures:
                verdict = Verdict.FAILED
            await self._record(tool, verdict, answer, now)
            counts[verdict] += 1
            if decision.resume_at is not None:
                paused_until = decision.resume_at
                break
            failed_in_a_row = failed_in_a_row + 1 if verdict is Verdict.FAILED else 0
            if failed_in_a_row >= FAILURES_BEFORE_STOPPING:
                log.warning(
                    "external stats stopped: GitHub failed %d times in a row", failed_in_a_row
                )
                break
        return counts, paused_until, streak

    async def _record(
        self, tool: DueTool, verdict: Verdict, answer: RepoAnswer, now: datetime
    ) -> None:
        today = now.astimezone(UTC).date()
        check = {"tool_id": tool.tool_id, "source": GITHUB_SOURCE, "checked_at": now}
        async with self._sessions() as session, session.begin():
            if verdict is Verdict.FIGURES:
                assert answer.stars is not None and answer.forks is not None
                await write_figures(
                    session,
                    tool_id=tool.tool_id,
                    source=GITHUB_SOURCE,
                    source_url=answer.html_url or tool.repository,
                    figures={STARS: answer.stars, FORKS: answer.forks},
                    as_of=today,
                )
                await record_check(
                    session,
                    **check,
                    next_check_at=now + self._refresh_after,
                    status="ok",
                    etag=answer.etag,
                )
            elif verdict is Verdict.NOT_MODIFIED:
                # GitHub says the repository is as it was: the figures are true today too.
                await confirm_figures(
                    session,
                    tool_id=tool.tool_id,
                    source=GITHUB_SOURCE,
                    metrics=(STARS, FORKS),
                    as_of=today,
                )
                await record_check(
                    session,
                    **check,
                    next_check_at=now + self._refresh_after,
                    status="ok",
                    etag=answer.etag or tool.etag,
                )
            elif verdict is Verdict.MISSING:
                # Figures already stored stay, labelled with the day they were last true.
                await record_check(
                    session,
                    **check,
                    next_check_at=now + missing_check_wait(self._refresh_after),
                    status="not_found",
                    etag=None,
                )
            else:
                failures = tool.failures + 1
                await record_check(
                    session,
                    **check,
                    next_check_at=now + failed_check_wait(failures, self._refresh_after),
                    status="failed",
                    etag=tool.etag,
                    failures=failures,
                )

    async def _finish(self, run: StatsRun, *, secondary_streak: int) -> None:
        outcome = run.summary
        if secondary_streak:
            outcome += f" (secondary rate limit #{secondary_streak})"
        async with self._sessions() as session, session.begin():
            await save_job_state(
                session,
                JOB,
                next_run_at=run.paused_until,
                last_run_at=self._clock(),
                last_outcome=outcome,
            )
