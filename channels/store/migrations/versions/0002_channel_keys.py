"""Channel keys shared by every gateway process (button payloads, menus, WeChat message claims).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_keys",
        sa.Column("namespace", sa.String(32), primary_key=True),
        sa.Column("key", sa.String(160), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_channel_keys_created_at", "channel_keys", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_channel_keys_created_at", "channel_keys")
    op.drop_table("channel_keys")
