"""index audit entries by actor

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 21:09:50.177031
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_entry_actor", ["community_id", "actor", "seq"], unique=False
        )


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entry_actor")
