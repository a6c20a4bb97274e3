"""SQLModel tables. Discord snowflakes are BigInteger; every time is aware UTC.

Votes are rows (one per target and member); the up/down counters on their targets are kept
in step by the vote queries in the same transaction, so reading a count never needs a
GROUP BY over the votes.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    SmallInteger,
    Text,
    UniqueConstraint,
)
from sqlalchemy import (
    text as sql_text,
)
from sqlmodel import Field, SQLModel

# Re-exported: the column values are the pure enum's, and queries name it with the tables.
from bot.core.voting import VoteTarget as VoteTarget
from db.types import UTCDateTime, utcnow

# Named constraints, so that Alembic's batch mode can alter them on SQLite.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _snowflake(*, nullable: bool = False, index: bool = False, **kwargs: object) -> object:
    return Field(
        default=None if nullable else ...,
        sa_type=BigInteger,
        nullable=nullable,
        index=index,
        **kwargs,
    )


def _timestamp(*, nullable: bool = False) -> object:
    if nullable:
        return Field(default=None, sa_type=UTCDateTime, nullable=True)
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class ReasonKind(StrEnum):
    PRO = "pro"
    CON = "con"


class AdviceStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Category(SQLModel, table=True):
    """A node of the category tree; `path` is the whole way down, "Application & Data > Databases"."""

    __tablename__ = "categories"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    path: str = Field(max_length=200, unique=True)
    parent_id: int | None = Field(default=None, foreign_key="categories.id", ondelete="RESTRICT")


class Tool(SQLModel, table=True):
    __tablename__ = "tools"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=100, index=True)
    description: str = Field(sa_type=Text)
    category_id: int = Field(foreign_key="categories.id", ondelete="RESTRICT", index=True)
    website: str | None = Field(default=None, max_length=300)
    repository: str | None = Field(default=None, max_length=300)
    language: str | None = Field(default=None, max_length=50)
    license: str | None = Field(default=None, max_length=50)
    first_release: int | None = None
    features: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class ToolAlias(SQLModel, table=True):
    __tablename__ = "tool_aliases"
    __table_args__ = (UniqueConstraint("tool_id", "alias"),)

    id: int | None = Field(default=None, primary_key=True)
    tool_id: int = Field(foreign_key="tools.id", ondelete="CASCADE", index=True)
    alias: str = Field(max_length=100)


class ToolAlternative(SQLModel, table=True):
    __tablename__ = "tool_alternatives"

    tool_id: int = Field(foreign_key="tools.id", ondelete="CASCADE", primary_key=True)
    alternative_id: int = Field(foreign_key="tools.id", ondelete="CASCADE", primary_key=True)
    position: int = 0


class ToolIntegration(SQLModel, table=True):
    __tablename__ = "tool_integrations"

    tool_id: int = Field(foreign_key="tools.id", ondelete="CASCADE", primary_key=True)
    integrated_tool_id: int = Field(foreign_key="tools.id", ondelete="CASCADE", primary_key=True)


class ExternalStat(SQLModel, table=True):
    """A figure from outside (StackShare stacks, GitHub stars), with where and when it was true."""

    __tablename__ = "external_stats"
    __table_args__ = (UniqueConstraint("tool_id", "source", "metric"),)

    id: int | None = Field(default=None, primary_key=True)
    tool_id: int = Field(foreign_key="tools.id", ondelete="CASCADE", index=True)
    source: str = Field(max_length=50)
    source_url: str | None = Field(default=None, max_length=300)
    metric: str = Field(max_length=50)
    value: int = Field(sa_type=BigInteger)
    as_of: date


class ProCon(SQLModel, table=True):
    """A pro or con of a tool. `imported_count` is a labelled figure from `imported_source`,
    never mixed into `up_count`/`down_count`, which count members' vote rows."""

    __tablename__ = "pros_cons"
    __table_args__ = (
        # One text per tool and kind in each place, whatever its case: the catalog (no guild)
        # and each guild. A member's pro belongs to their guild; catalog pros are everywhere.
        Index(
            "pros_cons_one_text_per_place",
            "tool_id",
            "kind",
            sql_text("coalesce(guild_id, 0)"),
            sql_text("lower(text)"),
            unique=True,
        ),
        CheckConstraint("kind IN ('pro', 'con')", name="kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    tool_id: int = Field(foreign_key="tools.id", ondelete="CASCADE", index=True)
    kind: str = Field(max_length=3)
    text: str = Field(max_length=100)
    author_id: int | None = _snowflake(nullable=True)
    guild_id: int | None = _snowflake(nullable=True)
    imported_count: int = 0
    imported_source: str | None = Field(default=None, max_length=50)
    imported_as_of: date | None = None
    up_count: int = 0
    down_count: int = 0
    created_at: datetime = _timestamp()


class Vote(SQLModel, table=True):
    """One member's vote on one target; the unique key makes a second vote a switch, not a row."""

    __tablename__ = "votes"
    __table_args__ = (
        UniqueConstraint("target_kind", "target_id", "member_id", name="votes_one_per_member"),
        # A guild's votes of one kind in a week (the digest's most voted pros and cons).
        Index("votes_by_guild_kind_time", "guild_id", "target_kind", "created_at"),
        CheckConstraint("value IN (-1, 1)", name="value"),
    )

    id: int | None = Field(default=None, primary_key=True)
    target_kind: str = Field(max_length=20)
    target_id: int = Field(sa_type=BigInteger)
    member_id: int = _snowflake()
    guild_id: int | None = _snowflake(nullable=True, index=True)
    value: int = Field(sa_type=SmallInteger)
    # The vote message whose reaction cast it (None: cast another way, e.g. a button). One
    # pro can be listed on many messages; a message's recount only settles its own votes.
    message_id: int | None = _snowflake(nullable=True, index=True)
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class StackEntry(SQLModel, table=True):
    """A member uses a tool, in one guild (guild data stays in its guild)."""

    __tablename__ = "stack_entries"
    __table_args__ = (UniqueConstraint("guild_id", "member_id", "tool_id"),)

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = _snowflake()
    member_id: int = _snowflake()
    tool_id: int = Field(foreign_key="tools.id", ondelete="CASCADE", index=True)
    created_at: datetime = _timestamp()


class Follow(SQLModel, table=True):
    __tablename__ = "follows"
    __table_args__ = (UniqueConstraint("guild_id", "member_id", "tool_id"),)

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = _snowflake()
    member_id: int = _snowflake()
    tool_id: int = Field(foreign_key="tools.id", ondelete="CASCADE", index=True)
    notify: bool = False
    created_at: datetime = _timestamp()


class MemberPreference(SQLModel, table=True):
    """A member's choices in one guild."""

    __tablename__ = "member_preferences"

    guild_id: int = Field(
        sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    member_id: int = Field(
        sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    # Mentioned in a new advice post on a followed tool when a DM cannot reach them.
    mention_in_posts: bool = False
    updated_at: datetime = _timestamp()


class Decision(SQLModel, table=True):
    """ "We chose Flask over Django because ..." in one guild."""

    __tablename__ = "decisions"

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = _snowflake(index=True)
    member_id: int = _snowflake()
    chosen_tool_id: int = Field(foreign_key="tools.id", ondelete="CASCADE", index=True)
    over_tool_id: int | None = Field(default=None, foreign_key="tools.id", ondelete="SET NULL")
    reason: str = Field(default="", sa_type=Text)
    advice_post_id: int | None = Field(
        default=None, foreign_key="advice_posts.id", ondelete="SET NULL"
    )
    channel_id: int | None = _snowflake(nullable=True)
    message_id: int | None = _snowflake(nullable=True)
    up_count: int = 0
    created_at: datetime = _timestamp()


class AdvicePost(SQLModel, table=True):
    """A "needs advice" post. Its deadlines live here, not in the scheduler."""

    __tablename__ = "advice_posts"
    __table_args__ = (
        Index("advice_posts_open_by_guild", "guild_id", "status"),
        Index("advice_posts_verdicts_by_guild", "guild_id", "verdict_tool_id"),
        # The scheduler reads every open post of its shards at start and in each sweep.
        Index("advice_posts_by_status", "status", "last_activity_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = _snowflake()
    channel_id: int = _snowflake()
    thread_id: int | None = _snowflake(nullable=True, unique=True)
    starter_message_id: int | None = _snowflake(nullable=True)
    asker_id: int = _snowflake()
    title: str = Field(max_length=100)
    question: str = Field(sa_type=Text)
    context: str = Field(default="", sa_type=Text)
    status: str = Field(default=AdviceStatus.OPEN, max_length=10)
    accepted_tool_id: int | None = Field(default=None, foreign_key="tools.id", ondelete="SET NULL")
    # What the verdict named: the accepted tool, else the most voted recommendation's.
    verdict_tool_id: int | None = Field(default=None, foreign_key="tools.id", ondelete="SET NULL")
    created_at: datetime = _timestamp()
    # Votes, recommendations and members' messages in the thread move it; the idle close
    # and its warning are counted from it.
    last_activity_at: datetime = _timestamp()
    reminder_sent_at: datetime | None = _timestamp(nullable=True)
    idle_warning_sent_at: datetime | None = _timestamp(nullable=True)
    closed_at: datetime | None = _timestamp(nullable=True)
    # When the verdict went out (or could never go out). An idle close sets it only once its
    # message is sent, so a close whose message failed is announced again by the sweep.
    verdict_posted_at: datetime | None = _timestamp(nullable=True)


class AdvicePostTool(SQLModel, table=True):
    __tablename__ = "advice_post_tools"
    # "Advice on Flask" in a guild, and the advice figures of /compare, read along this index.
    __table_args__ = (Index("advice_post_tools_by_guild_tool", "guild_id", "tool_id", "post_id"),)

    post_id: int = Field(foreign_key="advice_posts.id", ondelete="CASCADE", primary_key=True)
    tool_id: int = Field(foreign_key="tools.id", ondelete="CASCADE", primary_key=True)
    guild_id: int = _snowflake()
    position: int = 0


class Recommendation(SQLModel, table=True):
    __tablename__ = "recommendations"
    __table_args__ = (UniqueConstraint("post_id", "member_id", "tool_id"),)

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="advice_posts.id", ondelete="CASCADE", index=True)
    tool_id: int = Field(foreign_key="tools.id", ondelete="CASCADE")
    member_id: int = _snowflake()
    reason: str = Field(default="", sa_type=Text)
    message_id: int | None = _snowflake(nullable=True, unique=True)
    up_count: int = 0
    down_count: int = 0
    created_at: datetime = _timestamp()


class VoteMessage(SQLModel, table=True):
    """A message whose reactions are votes. Each of its options maps one emoji to a target and
    a value; reactions of `excluded_member_id` (the author of what is voted on) never count."""

    __tablename__ = "vote_messages"

    message_id: int = Field(
        sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    channel_id: int = _snowflake()
    guild_id: int = _snowflake(index=True)
    target_kind: str = Field(max_length=20)
    excluded_member_id: int | None = _snowflake(nullable=True)
    # Which page of a list the message shows (a tool's pros, ten to a message).
    page: int | None = None
    is_open: bool = True
    created_at: datetime = _timestamp()
    last_vote_at: datetime | None = _timestamp(nullable=True)
    reconciled_at: datetime | None = _timestamp(nullable=True)


class VoteOption(SQLModel, table=True):
    __tablename__ = "vote_options"
    __table_args__ = (CheckConstraint("value IN (-1, 1)", name="value"),)

    message_id: int = Field(
        sa_type=BigInteger,
        foreign_key="vote_messages.message_id",
        ondelete="CASCADE",
        primary_key=True,
        sa_column_kwargs={"autoincrement": False},
    )
    emoji: str = Field(max_length=64, primary_key=True)
    target_id: int = Field(sa_type=BigInteger)
    value: int = Field(sa_type=SmallInteger)


class ForgottenReaction(SQLModel, table=True):
    """A member forgotten while this vote message was open. Their reactions on it may still
    be in Discord (Stackup could not take them away, or a recount had read them just before),
    so recounts leave this member's votes on it alone: those reactions never count again.
    Goes with the message, or when it closes (closed messages are not recounted)."""

    __tablename__ = "forgotten_reactions"

    message_id: int = Field(
        sa_type=BigInteger,
        foreign_key="vote_messages.message_id",
        ondelete="CASCADE",
        primary_key=True,
        sa_column_kwargs={"autoincrement": False},
    )
    member_id: int = Field(
        sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )


class ToolTally(SQLModel, table=True):
    """A tool's members' figures in one guild: stacks, followers and votes on its pros and
    cons. Kept in step by the writes that change them (same transaction), so showing them
    never counts rows; "everywhere" is the sum over guilds."""

    __tablename__ = "tool_tallies"
    # "What this server uses" ranks one guild's tallies without reading the others'.
    __table_args__ = (Index("tool_tallies_by_guild", "guild_id", "stacks"),)

    tool_id: int = Field(foreign_key="tools.id", ondelete="CASCADE", primary_key=True)
    guild_id: int = Field(
        sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    stacks: int = 0
    followers: int = 0
    votes: int = 0


class Comparison(SQLModel, table=True):
    """A set of tools members of a guild compared (or asked about), for "Related comparisons".
    `tools_key` is the sorted tool ids, "3,17,42", so the same set is one row."""

    __tablename__ = "comparisons"
    __table_args__ = (UniqueConstraint("guild_id", "tools_key"),)

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = _snowflake()
    tools_key: str = Field(max_length=100)
    run_count: int = 0
    ask_count: int = 0
    first_run_at: datetime = _timestamp()
    last_run_at: datetime = _timestamp()


class ComparisonTool(SQLModel, table=True):
    __tablename__ = "comparison_tools"
    # Newest comparisons of a tool in a guild, read backwards from this index, bound the work
    # of "Related comparisons" however long the guild's history.
    __table_args__ = (
        Index("comparison_tools_by_guild_tool", "guild_id", "tool_id", "comparison_id"),
    )

    comparison_id: int = Field(foreign_key="comparisons.id", ondelete="CASCADE", primary_key=True)
    tool_id: int = Field(foreign_key="tools.id", ondelete="CASCADE", primary_key=True)
    guild_id: int = _snowflake()


class GuildSettings(SQLModel, table=True):
    __tablename__ = "guild_settings"

    guild_id: int = Field(
        sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    advice_forum_id: int | None = _snowflake(nullable=True)
    digest_channel_id: int | None = _snowflake(nullable=True)
    idle_days: int = 7
    digest_day: int | None = None
    digest_hour: int | None = None
    timezone: str = Field(default="UTC", max_length=64)
    # A role whose members may close advice posts, besides the asker and Manage Threads.
    closer_role_id: int | None = _snowflake(nullable=True)
    # When the digest's channel, day, hour or zone last changed: weeks due before it were
    # never asked for, so a digest missed while the bot was down is only sent after it.
    digest_set_at: datetime | None = _timestamp(nullable=True)
    updated_at: datetime = _timestamp()


class GuildDeparture(SQLModel, table=True):
    """Stackup left this guild: its data is deleted a while after `left_at` (see
    `bot.core.privacy`), unless the bot comes back first and the row goes."""

    __tablename__ = "guild_departures"

    guild_id: int = Field(
        sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    left_at: datetime = _timestamp()


class CompareDay(SQLModel, table=True):
    """How many times members of a guild ran /compare with a tool on one UTC day: the weekly
    digest's "most compared" reads a week of these instead of a log of runs."""

    __tablename__ = "compare_days"
    __table_args__ = (Index("compare_days_by_guild_day", "guild_id", "day"),)

    guild_id: int = Field(
        sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    tool_id: int = Field(foreign_key="tools.id", ondelete="CASCADE", primary_key=True)
    day: date = Field(primary_key=True)
    runs: int = 0


class JobRun(SQLModel, table=True):
    """One run of a scheduled job for one scope (a guild; 0 for tool-wide work) and period
    (a digest's: the local date of its moment, "2026-11-30"). The row is claimed before the
    work, by one process only, so a period's work happens once whatever restarts or other
    processes do."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "scope", "period", name="job_runs_once_per_period"),)

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=40)
    scope: int = Field(sa_type=BigInteger)
    period: str = Field(max_length=20)
    claimed_by: str = Field(max_length=100)
    claimed_at: datetime = _timestamp()
    # None while the claimer works; a claim left unfinished for long was lost with its process.
    finished_at: datetime | None = _timestamp(nullable=True)
    outcome: str | None = Field(default=None, max_length=200)


class JobState(SQLModel, table=True):
    """A tool-wide job's own deadline and last run, e.g. external stats paused until a rate
    limit resets."""

    __tablename__ = "job_state"

    job: str = Field(max_length=40, primary_key=True)
    next_run_at: datetime | None = _timestamp(nullable=True)
    last_run_at: datetime | None = _timestamp(nullable=True)
    last_outcome: str | None = Field(default=None, max_length=200)


class StatCheck(SQLModel, table=True):
    """When a tool's figures from an outside source (GitHub) were fetched and are due again,
    with the ETag that makes an unchanged answer free."""

    __tablename__ = "stat_checks"

    tool_id: int = Field(foreign_key="tools.id", ondelete="CASCADE", primary_key=True)
    source: str = Field(max_length=50, primary_key=True)
    next_check_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    checked_at: datetime | None = _timestamp(nullable=True)
    etag: str | None = Field(default=None, max_length=200)
    # ok, not_found, failed: how the last check ended.
    status: str = Field(default="ok", max_length=20)
    failures: int = 0


class AppMeta(SQLModel, table=True):
    """Small process-wide facts: the synced command tree's hash, the catalog's revision."""

    __tablename__ = "app_meta"

    key: str = Field(max_length=64, primary_key=True)
    value: str = Field(sa_type=Text)
