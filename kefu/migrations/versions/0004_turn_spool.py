"""The gateway's durable spool of answered turns dialog could not take (dialog or Redis down).

Revision ID: 0004_turn_spool
Revises: 0003_knowledge_base
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_turn_spool"
down_revision = "0003_knowledge_base"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "turn_spool",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_turn_spool_conversation_id", "turn_spool", ["conversation_id"])
    op.create_index("ix_turn_spool_turn", "turn_spool", ["conversation_id", "message_id", "role"], unique=True)


def downgrade() -> None:
    op.drop_table("turn_spool")
