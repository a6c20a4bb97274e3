"""scheduled work: job runs and state, stat checks, compare days, digest settings,
verdicts posted

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 08:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=40), nullable=False),
        sa.Column("scope", sa.BigInteger(), nullable=False),
        sa.Column("period", sa.String(length=20), nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
        sa.UniqueConstraint("job", "scope", "period", name="job_runs_once_per_period"),
    )
    op.create_table(
        "job_state",
        sa.Column("job", sa.String(length=40), nullable=False),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_outcome", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("job", name=op.f("pk_job_state")),
    )
    op.create_table(
        "stat_checks",
        sa.Column("tool_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=50), nullable=False),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("etag", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tool_id"],
            ["tools.id"],
            name=op.f("fk_stat_checks_tool_id_tools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tool_id", "source", name=op.f("pk_stat_checks")),
    )
    op.create_index(
        op.f("ix_stat_checks_next_check_at"), "stat_checks", ["next_check_at"], unique=False
    )
    op.create_table(
        "compare_days",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("tool_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tool_id"],
            ["tools.id"],
            name=op.f("fk_compare_days_tool_id_tools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("guild_id", "tool_id", "day", name=op.f("pk_compare_days")),
    )
    op.create_index("compare_days_by_guild_day", "compare_days", ["guild_id", "day"], unique=False)
    with op.batch_alter_table("guild_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digest_set_at", sa.DateTime(timezone=True), nullable=True))
    # Servers that chose a digest channel before digests were sent get them from now on.
    op.execute(
        "UPDATE guild_settings SET digest_set_at = updated_at WHERE digest_channel_id IS NOT NULL"
    )
    with op.batch_alter_table("advice_posts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("verdict_posted_at", sa.DateTime(timezone=True), nullable=True)
        )
    op.execute("UPDATE advice_posts SET verdict_posted_at = closed_at WHERE status = 'closed'")
    op.create_index(
        "advice_posts_by_status", "advice_posts", ["status", "last_activity_at"], unique=False
    )
    op.create_index(
        "votes_by_guild_kind_time", "votes", ["guild_id", "target_kind", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("votes_by_guild_kind_time", table_name="votes")
    op.drop_index("advice_posts_by_status", table_name="advice_posts")
    with op.batch_alter_table("advice_posts", schema=None) as batch_op:
        batch_op.drop_column("verdict_posted_at")
    with op.batch_alter_table("guild_settings", schema=None) as batch_op:
        batch_op.drop_column("digest_set_at")
    op.drop_index("compare_days_by_guild_day", table_name="compare_days")
    op.drop_table("compare_days")
    op.drop_index(op.f("ix_stat_checks_next_check_at"), table_name="stat_checks")
    op.drop_table("stat_checks")
    op.drop_table("job_state")
    op.drop_table("job_runs")
