"""Baseline: the schema kefu shipped before migrations (tables made by create_all).

A database that already has these tables (an install older than migrations) keeps them: each
table is created only when missing, and the revision is then recorded, so `upgrade head` carries
old installs forward without touching their rows.

Revision ID: 0001_baseline
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


Index = tuple[str, list[str], bool]  # name, columns, unique


def _tables() -> dict[str, list[sa.Column | Index]]:
    return {
        "products": [
            sa.Column("id", sa.String(64), primary_key=True), sa.Column("title", sa.String(512), nullable=False),
            sa.Column("description", sa.Text, nullable=False), sa.Column("category", sa.String(128), nullable=False),
            sa.Column("brand", sa.String(128), nullable=False), sa.Column("price", sa.Float, nullable=True),
            sa.Column("currency", sa.String(8), nullable=False), sa.Column("stock", sa.Integer, nullable=False),
            sa.Column("url", sa.String(1024), nullable=False), sa.Column("image_url", sa.String(1024), nullable=False),
            sa.Column("attributes", sa.JSON, nullable=False), sa.Column("updated_at", TZ, nullable=False),
            ("ix_products_category", ["category"], False), ("ix_products_brand", ["brand"], False),
        ],
        "orders": [
            sa.Column("id", sa.String(32), primary_key=True), sa.Column("email", sa.String(256), nullable=False),
            sa.Column("status", sa.String(32), nullable=False), sa.Column("items", sa.JSON, nullable=False),
            sa.Column("total", sa.Float, nullable=False), sa.Column("currency", sa.String(8), nullable=False),
            sa.Column("carrier", sa.String(64), nullable=True),
            sa.Column("tracking_number", sa.String(64), nullable=True),
            sa.Column("shipping_address", sa.Text, nullable=False), sa.Column("created_at", TZ, nullable=False),
            sa.Column("updated_at", TZ, nullable=False), sa.Column("shipped_at", TZ, nullable=True),
            sa.Column("delivered_at", TZ, nullable=True), sa.Column("eta", TZ, nullable=True),
            sa.Column("refund_status", sa.String(32), nullable=True),
            ("ix_orders_email", ["email"], False), ("ix_orders_status", ["status"], False),
        ],
        "conversations": [
            sa.Column("id", sa.String(64), primary_key=True), sa.Column("token_hash", sa.String(128), nullable=False),
            sa.Column("status", sa.String(16), nullable=False), sa.Column("lang", sa.String(8), nullable=False),
            sa.Column("slots", sa.JSON, nullable=False), sa.Column("created_at", TZ, nullable=False),
            sa.Column("updated_at", TZ, nullable=False),
        ],
        "messages": [
            sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
            sa.Column("conversation_id", sa.String(64), sa.ForeignKey("conversations.id", ondelete="CASCADE"),
                      nullable=False),
            sa.Column("seq", sa.Integer, nullable=False), sa.Column("message_id", sa.String(64), nullable=False),
            sa.Column("role", sa.String(8), nullable=False), sa.Column("text", sa.Text, nullable=False),
            sa.Column("intent", sa.String(64), nullable=True), sa.Column("confidence", sa.Float, nullable=True),
            sa.Column("stage", sa.String(16), nullable=True), sa.Column("slots", sa.JSON, nullable=False),
            sa.Column("products", sa.JSON, nullable=False), sa.Column("evidence", sa.JSON, nullable=False),
            sa.Column("latency_ms", sa.Float, nullable=True), sa.Column("created_at", TZ, nullable=False),
            ("ix_messages_conv_seq", ["conversation_id", "seq"], True),
            ("ix_messages_message_id", ["message_id"], False),
        ],
        "agent_keys": [
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("name", sa.String(128), nullable=False),
            sa.Column("key_hash", sa.String(128), nullable=False, unique=True),
            sa.Column("created_at", TZ, nullable=False),
        ],
    }


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name, items in _tables().items():
        if name in existing:
            continue
        op.create_table(name, *[i for i in items if isinstance(i, sa.Column)])
        for idx_name, cols, unique in (i for i in items if isinstance(i, tuple)):
            op.create_index(idx_name, name, cols, unique=unique)


def downgrade() -> None:
    for name in reversed(list(_tables())):
        op.drop_table(name)
