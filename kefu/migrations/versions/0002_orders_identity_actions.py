"""Orders as a shop has them: contact factors for verification, a verified shopper identity on the
conversation, and the order actions (idempotency keys, results) and returns the bot starts.

Revision ID: 0002_orders_identity_actions
Revises: 0001_baseline
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_orders_identity_actions"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("orders") as b:
        b.add_column(sa.Column("phone", sa.String(32), nullable=False, server_default=""))
        b.add_column(sa.Column("postcode", sa.String(16), nullable=False, server_default=""))
    with op.batch_alter_table("conversations") as b:
        b.add_column(sa.Column("customer", sa.String(256), nullable=True))
    op.create_table(
        "order_actions",
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("order_id", sa.String(32), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("result", sa.JSON, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index("ix_order_actions_order_id", "order_actions", ["order_id"])
    op.create_table(
        "order_returns",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("order_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("items", sa.JSON, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("fee", sa.Float, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index("ix_order_returns_order_id", "order_returns", ["order_id"])


def downgrade() -> None:
    op.drop_table("order_returns")
    op.drop_table("order_actions")
    with op.batch_alter_table("conversations") as b:
        b.drop_column("customer")
    with op.batch_alter_table("orders") as b:
        b.drop_column("postcode")
        b.drop_column("phone")
