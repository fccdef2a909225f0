"""delegation per body, ballots cast by delegation, forwarded proposals

Revision ID: 0007
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import govbot.storage.types

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "delegation",
        sa.Column("body_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("delegate_id", sa.Integer(), nullable=False),
        sa.Column("since", govbot.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["body_id"], ["body.id"]),
        sa.ForeignKeyConstraint(["delegate_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("body_id", "member_id"),
    )
    with op.batch_alter_table("delegation", schema=None) as batch_op:
        batch_op.create_index("ix_delegation_delegate_id", ["delegate_id"], unique=False)

    # A plain ADD COLUMN: the ballot table keeps its SQLite WITHOUT ROWID form.
    op.add_column(
        "ballot", sa.Column("delegated", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    with op.batch_alter_table("body", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("delegation", sa.Boolean(), nullable=False, server_default=sa.false())
        )

    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("delegated", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("ratifies_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_proposal_ratifies_id", "proposal", ["ratifies_id"], ["id"])


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.drop_constraint("fk_proposal_ratifies_id", type_="foreignkey")
        batch_op.drop_column("ratifies_id")
        batch_op.drop_column("delegated")

    with op.batch_alter_table("body", schema=None) as batch_op:
        batch_op.drop_column("delegation")

    op.drop_column("ballot", "delegated")
    with op.batch_alter_table("delegation", schema=None) as batch_op:
        batch_op.drop_index("ix_delegation_delegate_id")

    op.drop_table("delegation")
