"""slack installations and OAuth states (for many workspaces installed by OAuth)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 07:37:13.099391
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import govbot.storage.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "slack_installation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.String(length=64), nullable=False),
        sa.Column("team_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=True),
        sa.Column("enterprise_name", sa.String(length=200), nullable=True),
        sa.Column("enterprise_url", sa.String(length=300), nullable=True),
        sa.Column("team_name", sa.String(length=200), nullable=True),
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False),
        sa.Column("token_type", sa.String(length=16), nullable=True),
        sa.Column("bot_token", sa.Text(), nullable=True),
        sa.Column("bot_id", sa.String(length=64), nullable=True),
        sa.Column("bot_user_id", sa.String(length=64), nullable=True),
        sa.Column("bot_scopes", sa.Text(), nullable=False),
        sa.Column("bot_refresh_token", sa.Text(), nullable=True),
        sa.Column(
            "bot_token_expires_at", govbot.storage.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("user_token", sa.Text(), nullable=True),
        sa.Column("user_scopes", sa.Text(), nullable=False),
        sa.Column("user_refresh_token", sa.Text(), nullable=True),
        sa.Column(
            "user_token_expires_at", govbot.storage.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("incoming_webhook_url", sa.Text(), nullable=True),
        sa.Column("incoming_webhook_channel", sa.String(length=100), nullable=True),
        sa.Column("incoming_webhook_channel_id", sa.String(length=64), nullable=True),
        sa.Column("incoming_webhook_configuration_url", sa.Text(), nullable=True),
        sa.Column("installed_at", govbot.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("enterprise_id", "team_id", "user_id"),
    )
    op.create_table(
        "slack_oauth_state",
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("created_at", govbot.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("state"),
    )
    with op.batch_alter_table("slack_oauth_state", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_slack_oauth_state_created_at"), ["created_at"], unique=False
        )


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("slack_oauth_state", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_slack_oauth_state_created_at"))

    op.drop_table("slack_oauth_state")
    op.drop_table("slack_installation")
