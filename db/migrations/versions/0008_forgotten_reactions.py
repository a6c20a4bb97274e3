"""forgotten reactions: the open vote messages on which a forgotten member's reactions no
longer count, so that a recount never brings their votes back

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-12 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "forgotten_reactions",
        sa.Column("message_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("member_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["vote_messages.message_id"],
            name=op.f("fk_forgotten_reactions_message_id_vote_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", "member_id", name=op.f("pk_forgotten_reactions")),
    )


def downgrade() -> None:
    op.drop_table("forgotten_reactions")
