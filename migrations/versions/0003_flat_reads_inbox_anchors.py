"""indexes for flat reads, the command inbox, weekly chain anchors

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 20:34:29.751938
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import govbot.storage.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "inbox_command",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("received_at", govbot.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_until", govbot.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("inbox_command", schema=None) as batch_op:
        batch_op.create_index("ix_inbox_command_pending", ["done", "lease_until"], unique=False)

    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_entry_subject",
            ["community_id", "subject_kind", "subject_id", "seq"],
            unique=False,
        )

    with op.batch_alter_table("community", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("weekly_anchor", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column("anchored_seq", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column(
                "anchor_due_at", govbot.storage.types.UTCDateTime(timezone=True), nullable=True
            )
        )

    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.create_index(
            "ix_membership_body_member", ["body_id", "member_id", "start"], unique=False
        )
        batch_op.create_index(
            "ix_membership_body_open", ["body_id", "end_recorded", "member_id"], unique=False
        )
        batch_op.create_index("ix_membership_due", ["end_recorded", "end"], unique=False)


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.drop_index("ix_membership_due")
        batch_op.drop_index("ix_membership_body_open")
        batch_op.drop_index("ix_membership_body_member")

    with op.batch_alter_table("community", schema=None) as batch_op:
        batch_op.drop_column("anchor_due_at")
        batch_op.drop_column("anchored_seq")
        batch_op.drop_column("weekly_anchor")

    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entry_subject")

    with op.batch_alter_table("inbox_command", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_command_pending")

    op.drop_table("inbox_command")
