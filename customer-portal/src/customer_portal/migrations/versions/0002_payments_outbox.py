"""payments: the payments the portal started from pay links, and the outbox that
reports each paid one to invoicing

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 03:00:00
"""

import sqlalchemy as sa
from alembic import op

from service_kit.outbox import create_outbox_table, drop_outbox_table

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = "customer_portal"
STATUSES = (
    "created",
    "not_started",
    "open",
    "pending",
    "authorized",
    "paid",
    "canceled",
    "expired",
    "failed",
)


def upgrade() -> None:
    op.create_table(
        "payments",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("provider_payment_id", sa.String(length=100), nullable=True),
        sa.Column("invoice_number", sa.String(length=64), nullable=False),
        sa.Column("link_token", sa.Text(), nullable=False),
        sa.Column("link_hash", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=True),
        sa.Column("checkout_url", sa.Text(), nullable=True),
        sa.Column("paid_amount", sa.Integer(), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN (" + ", ".join(f"'{status}'" for status in STATUSES) + ")",
            name=op.f("ck_payments_status"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payments_amount_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint(
            "provider", "provider_payment_id", name=op.f("uq_payments_provider_provider_payment_id")
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_payments_link_hash_created_at",
        "payments",
        ["link_hash", "created_at"],
        unique=False,
        schema=SCHEMA,
    )
    create_outbox_table(SCHEMA)


def downgrade() -> None:
    drop_outbox_table(SCHEMA)
    op.drop_index("ix_payments_link_hash_created_at", table_name="payments", schema=SCHEMA)
    op.drop_table("payments", schema=SCHEMA)
