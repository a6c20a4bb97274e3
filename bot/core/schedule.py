"""When scheduled work is due: an advice post's reminder, idle warning and idle close, a guild's
weekly digest, and which guilds a process serves. Pure: times in, times out; every time is an
aware UTC datetime, and the deadlines themselves come from rows in the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.core.advice import AdviceSummary, GuildConfig, RecommendationLine
from bot.errors import InvalidInput

# A post nobody has recommended anything in is bumped once, this long after it opened.
REMINDER_AFTER = timedelta(hours=48)
# The asker is warned this long before an idle close (half the idle time if that is shorter).
WARNING_BEFORE = timedelta(days=1)
WEEK = timedelta(days=7)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DEFAULT_DIGEST_DAY = 0  # Monday
DEFAULT_DIGEST_HOUR = 9
# A guild id's shard, as Discord routes it.
SHARD_SHIFT = 22


class Claim(StrEnum):
    """Who does a piece of scheduled work that several processes or tasks may reach at once."""

    CLAIMED = "claimed"  # this caller does the work
    DONE = "done"  # somebody did it
    HELD = "held"  # somebody is doing it (or died doing it: taken over once stale)


class PostWork(StrEnum):
    REMIND = "remind"
    WARN = "warn"
    CLOSE = "close"


@dataclass(frozen=True)
class PostClock:
    """What an open advice post's deadlines are computed from."""

    post_id: int
    guild_id: int
    created_at: datetime
    last_activity_at: datetime
    idle_days: int
    has_recommendation: bool
    reminder_sent_at: datetime | None
    idle_warning_sent_at: datetime | None

    @property
    def closes_at(self) -> datetime:
        """When the post has been idle for its guild's idle days."""
        return self.last_activity_at + timedelta(days=self.idle_days)

    @property
    def warning_lead(self) -> timedelta:
        return min(WARNING_BEFORE, timedelta(days=self.idle_days) / 2)

    @property
    def warns_at(self) -> datetime:
        return self.closes_at - self.warning_lead

    @property
    def warned(self) -> bool:
        """Warned since the last activity (activity starts the idle time, and the warning, over)."""
        sent = self.idle_warning_sent_at
        return sent is not None and sent >= self.last_activity_at

    @property
    def close_due_at(self) -> datetime | None:
        """When the post may close: idle long enough, and the asker warned the lead time
        before. A warning sent late (the bot was down, or idle days were lowered) moves the
        close, so nobody's post closes without the day's notice. None until warned."""
        if not self.warned:
            return None
        assert self.idle_warning_sent_at is not None
        return max(self.closes_at, self.idle_warning_sent_at + self.warning_lead)

    @property
    def reminds_at(self) -> datetime | None:
        if self.has_recommendation or self.reminder_sent_at is not None:
            return None
        return self.created_at + REMINDER_AFTER

    def due_work(self, now: datetime) -> list[PostWork]:
        """What is due at `now`, in the order to do it. Past the warning, a reminder is moot."""
        close = self.close_due_at
        if close is not None and now >= close:
            return [PostWork.CLOSE]
        if self.warned:
            return []
        if now >= self.warns_at:
            return [PostWork.WARN]
        if self.reminds_at is not None and now >= self.reminds_at:
            return [PostWork.REMIND]
        return []

    def next_deadline(self) -> datetime:
        """The earliest deadline still ahead of the post (or overdue)."""
        close = self.close_due_at
        if close is not None:
            return close
        deadlines = [self.warns_at]
        if self.reminds_at is not None:
            deadlines.append(self.reminds_at)
        return min(deadlines)


# -- the weekly digest ---------------------------------------------------------------------


@dataclass(frozen=True)
class DigestSchedule:
    """A guild's digest: weekly on `day` (0 is Monday) at `hour` o'clock in `timezone`."""

    guild_id: int
    channel_id: int
    day: int = DEFAULT_DIGEST_DAY
    hour: int = DEFAULT_DIGEST_HOUR
    timezone: str = "UTC"
    # When the schedule last changed: earlier moments were never asked for.
    set_at: datetime | None = None

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.timezone)

    def _moment(self, day: date) -> datetime:
        local = datetime.combine(day, time(self.hour), tzinfo=self.zone)
        return local.astimezone(UTC)

    def last_moment(self, now: datetime) -> datetime:
        """The latest digest moment at or before `now`."""
        today = now.astimezone(self.zone).date()
        day = today - timedelta(days=(today.weekday() - self.day) % 7)
        moment = self._moment(day)
        if moment > now:
            moment = self._moment(day - WEEK)
        return moment

    def next_moment(self, now: datetime) -> datetime:
        """The first digest moment after `now`."""
        last = self.last_moment(now)
        # Counted in local days, so a change of daylight saving time keeps the hour.
        return self._moment(last.astimezone(self.zone).date() + WEEK)

    def window(self, moment: datetime) -> tuple[datetime, datetime]:
        """The week a digest sent at `moment` tells about: the week before it, local time."""
        day = moment.astimezone(self.zone).date()
        return self._moment(day - WEEK), moment

    def period(self, moment: datetime) -> str:
        """The moment's local date: one digest per moment, so a day or zone changed after a
        digest went out neither repeats it nor skips the next one."""
        return moment.astimezone(self.zone).date().isoformat()

    def due(self, now: datetime) -> datetime | None:
        """The moment whose digest is due now, if any: the latest one, if the schedule was set
        before it. A bot down for weeks sends one digest when it is back, not each week's."""
        moment = self.last_moment(now)
        if self.set_at is None or moment < self.set_at:
            return None
        return moment


def digest_schedule_of(config: GuildConfig, set_at: datetime | None = None) -> DigestSchedule:
    """A guild's digest as its settings describe it (defaults where it chose nothing)."""
    return DigestSchedule(
        guild_id=config.guild_id,
        channel_id=config.digest_channel_id or 0,
        day=DEFAULT_DIGEST_DAY if config.digest_day is None else config.digest_day,
        hour=DEFAULT_DIGEST_HOUR if config.digest_hour is None else config.digest_hour,
        timezone=config.timezone,
        set_at=set_at,
    )


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@cache
def timezone_names() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


def check_timezone(name: str) -> str:
    """The IANA zone named (case and spaces forgiven), or a clear refusal."""
    wanted = name.strip().replace(" ", "_")
    for known in timezone_names():
        if known.casefold() == wanted.casefold():
            try:
                zone(known)
            except ZoneInfoNotFoundError:
                break
            return known
    raise InvalidInput(
        f"“{name.strip()[:64]}” is not a time zone Stackup knows. "
        "Pick one from the list, like Europe/Paris or America/New_York."
    )


def timezone_matches(current: str, limit: int = 25) -> list[str]:
    """Zones for autocomplete: those starting with what was typed, then those containing it."""
    needle = current.strip().replace(" ", "_").casefold()
    names = timezone_names()
    if not needle:
        preferred = ["UTC", "Europe/London", "Europe/Paris", "America/New_York"]
        return [*preferred, *(n for n in names if n not in preferred)][:limit]
    starts = [n for n in names if n.casefold().startswith(needle)]
    contains = [n for n in names if needle in n.casefold() and n not in starts]
    return (starts + contains)[:limit]


# -- shards ----------------------------------------------------------------------------------


def shard_of(guild_id: int, shard_count: int) -> int:
    return (guild_id >> SHARD_SHIFT) % shard_count


def serves(guild_id: int, shard_ids: Sequence[int] | None, shard_count: int) -> bool:
    """Whether a process running `shard_ids` (None: all) of `shard_count` serves the guild."""
    if shard_ids is None or shard_count <= 1:
        return True
    return shard_of(guild_id, shard_count) in shard_ids


@dataclass(frozen=True)
class Reminder:
    """A post's one reminder, claimed: the followers it mentions."""

    post: AdviceSummary
    mention_ids: tuple[int, ...]
    claimed_at: datetime


@dataclass(frozen=True)
class IdleWarning:
    """The asker's warning before an idle close, claimed: the best recommendations so far."""

    post: AdviceSummary
    closes_at: datetime
    best: tuple[RecommendationLine, ...]
    claimed_at: datetime
