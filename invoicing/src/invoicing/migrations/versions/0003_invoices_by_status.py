"""invoices listed by status: an index in the list's order

Revision ID: 0003
Revises: 0002

GET /api/v1/invoices?status= lists newest first (by id). Open and overdue invoices
come through ix_invoices_open_due_date; for the others (paid, credited) the list
walked every invoice newest first until it had a page, as long as the status is rare.
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_invoices_status_id", "invoices", ["status", "id"], schema="invoicing")


def downgrade() -> None:
    op.drop_index("ix_invoices_status_id", table_name="invoices", schema="invoicing")
