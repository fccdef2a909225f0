"""proposals, ballots, concerns, decision records, posted messages

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import govbot.storage.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "posted_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("message", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id", "key"),
    )
    op.create_table(
        "proposal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body_id", sa.Integer(), nullable=True),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("threshold", sa.String(length=16), nullable=True),
        sa.Column("quorum", sa.String(length=16), nullable=True),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("secret", sa.Boolean(), nullable=False),
        sa.Column("hide_results", sa.Boolean(), nullable=False),
        sa.Column("tie_rule", sa.String(length=16), nullable=False),
        sa.Column("electorate_size", sa.Integer(), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.Column("ballots", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("opened_at", govbot.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closes_at", govbot.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", govbot.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("remind_at", govbot.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "comment_period_ends", govbot.storage.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("closed_at", govbot.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("ballot_key", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["body_id"],
            ["body.id"],
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id", "number"),
    )
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.create_index("ix_proposal_due", ["state", "due_at"], unique=False)
        batch_op.create_index("ix_proposal_remind", ["state", "remind_at"], unique=False)

    op.create_table(
        "ballot",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.String(length=40), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("choice", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposal.id"],
        ),
        sa.PrimaryKeyConstraint("proposal_id", "slot"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "concern",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raised_at", govbot.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", govbot.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposal.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("proposal_id", "number"),
    )
    op.create_table(
        "decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("closing_hash", sa.String(length=64), nullable=False),
        sa.Column("corrects_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", govbot.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
        ),
        sa.ForeignKeyConstraint(
            ["corrects_id"],
            ["decision.id"],
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposal.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.create_index("ix_decision_community", ["community_id", "id"], unique=False)

    op.create_table(
        "eligible",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("recused", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposal.id"],
        ),
        sa.PrimaryKeyConstraint("proposal_id", "member_id"),
    )
    op.create_table(
        "voter",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposal.id"],
        ),
        sa.PrimaryKeyConstraint("proposal_id", "member_id"),
    )
    with op.batch_alter_table("body", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("author_recused", sa.Boolean(), nullable=False, server_default=sa.false())
        )

    with op.batch_alter_table("community", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("remind_before", sa.String(length=16), nullable=False, server_default="1d")
        )


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("community", schema=None) as batch_op:
        batch_op.drop_column("remind_before")

    with op.batch_alter_table("body", schema=None) as batch_op:
        batch_op.drop_column("author_recused")

    op.drop_table("voter")
    op.drop_table("eligible")
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_index("ix_decision_community")

    op.drop_table("decision")
    op.drop_table("concern")
    op.drop_table("ballot")
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.drop_index("ix_proposal_remind")
        batch_op.drop_index("ix_proposal_due")

    op.drop_table("proposal")
    op.drop_table("posted_message")
