"""payments found by when they were received (the cash-up)

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = "invoicing"


def upgrade() -> None:
    op.create_index(op.f("ix_payments_paid_at"), "payments", ["paid_at"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_index(op.f("ix_payments_paid_at"), table_name="payments", schema=SCHEMA)
