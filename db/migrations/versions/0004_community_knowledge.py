"""community knowledge: vote owners, guild pros and cons, member preferences

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 07:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("votes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message_id", sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f("ix_votes_message_id"), ["message_id"], unique=False)
    # Every recommendation vote so far was cast by a reaction on its recommendation.
    op.execute(
        "UPDATE votes SET message_id = (SELECT message_id FROM recommendations "
        "WHERE recommendations.id = votes.target_id) WHERE target_kind = 'recommendation'"
    )

    with op.batch_alter_table("pros_cons", schema=None) as batch_op:
        batch_op.drop_constraint("uq_pros_cons_tool_id_kind_text", type_="unique")
    op.create_index(
        "pros_cons_one_text_per_place",
        "pros_cons",
        ["tool_id", "kind", sa.text("coalesce(guild_id, 0)"), sa.text("lower(text)")],
        unique=True,
    )

    with op.batch_alter_table("vote_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("page", sa.Integer(), nullable=True))

    op.create_index("tool_tallies_by_guild", "tool_tallies", ["guild_id", "stacks"], unique=False)

    op.create_table(
        "member_preferences",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("member_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("mention_in_posts", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "member_id", name=op.f("pk_member_preferences")),
    )


def downgrade() -> None:
    op.drop_table("member_preferences")
    op.drop_index("tool_tallies_by_guild", table_name="tool_tallies")
    with op.batch_alter_table("vote_messages", schema=None) as batch_op:
        batch_op.drop_column("page")
    op.drop_index("pros_cons_one_text_per_place", table_name="pros_cons")
    # Members' pros repeating a text of the catalog or of an older member's pro cannot
    # survive the old constraint: they go with their votes, and the vote tallies follow.
    twins = (
        "SELECT id FROM pros_cons WHERE guild_id IS NOT NULL AND EXISTS (SELECT 1 FROM "
        "pros_cons AS other WHERE other.tool_id = pros_cons.tool_id AND other.kind = "
        "pros_cons.kind AND other.text = pros_cons.text AND other.id != pros_cons.id AND "
        "(other.guild_id IS NULL OR other.id < pros_cons.id))"
    )
    op.execute(f"DELETE FROM votes WHERE target_kind = 'pro_con' AND target_id IN ({twins})")
    op.execute(
        "DELETE FROM vote_options WHERE message_id IN (SELECT message_id FROM vote_messages "
        f"WHERE target_kind = 'pro_con') AND target_id IN ({twins})"
    )
    op.execute(f"DELETE FROM pros_cons WHERE id IN (SELECT id FROM ({twins}) AS gone)")
    op.execute(
        "UPDATE tool_tallies SET votes = (SELECT count(*) FROM votes JOIN pros_cons ON "
        "pros_cons.id = votes.target_id WHERE votes.target_kind = 'pro_con' AND "
        "pros_cons.tool_id = tool_tallies.tool_id AND votes.guild_id = tool_tallies.guild_id)"
    )
    with op.batch_alter_table("pros_cons", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            "uq_pros_cons_tool_id_kind_text", ["tool_id", "kind", "text"]
        )
    with op.batch_alter_table("votes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_votes_message_id"))
        batch_op.drop_column("message_id")
