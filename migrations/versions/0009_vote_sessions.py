"""vote sessions: the meeting, its agenda and roll; body settings for them

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import govbot.storage.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "vote_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("body_id", sa.Integer(), nullable=False),
        sa.Column("chair_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("window", sa.String(length=16), nullable=False),
        sa.Column("absent_votes", sa.Boolean(), nullable=False),
        sa.Column("opened_at", govbot.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", govbot.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", govbot.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("timed_out", sa.Boolean(), nullable=False),
        sa.Column("closing_hash", sa.String(length=64), nullable=True),
        sa.Column("minutes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["body_id"],
            ["body.id"],
        ),
        sa.ForeignKeyConstraint(
            ["chair_id"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id", "number"),
    )
    with op.batch_alter_table("vote_session", schema=None) as batch_op:
        batch_op.create_index("ix_vote_session_body", ["body_id", "state"], unique=False)
        batch_op.create_index("ix_vote_session_due", ["state", "due_at"], unique=False)

    op.create_table(
        "session_attendee",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("arrived_at", govbot.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["vote_session.id"],
        ),
        sa.PrimaryKeyConstraint("session_id", "member_id"),
    )
    op.create_table(
        "session_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("opened_at", govbot.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("due_at", govbot.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", govbot.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposal.id"],
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["vote_session.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_id", "position"),
    )
    with op.batch_alter_table("session_item", schema=None) as batch_op:
        batch_op.create_index("ix_session_item_due", ["state", "due_at"], unique=False)
        batch_op.create_index("ix_session_item_proposal", ["proposal_id", "state"], unique=False)

    with op.batch_alter_table("body", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_window", sa.String(length=16), nullable=False, server_default="10m")
        )
        batch_op.add_column(
            sa.Column("absent_votes", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("body", schema=None) as batch_op:
        batch_op.drop_column("absent_votes")
        batch_op.drop_column("session_window")

    with op.batch_alter_table("session_item", schema=None) as batch_op:
        batch_op.drop_index("ix_session_item_proposal")
        batch_op.drop_index("ix_session_item_due")

    op.drop_table("session_item")
    op.drop_table("session_attendee")
    with op.batch_alter_table("vote_session", schema=None) as batch_op:
        batch_op.drop_index("ix_vote_session_due")
        batch_op.drop_index("ix_vote_session_body")

    op.drop_table("vote_session")
