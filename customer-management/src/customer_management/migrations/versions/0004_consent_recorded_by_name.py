"""a consent record keeps the name of who recorded it beside their subject

Revision ID: 0004
Revises: 0003

`recorded_by_name` is the display name the token carried when the consent was recorded
(issue 16: identity's tokens name the person), so renaming the person later does not
rewrite the ledger. Records made before this migration get their subject as the name.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SCHEMA = "customers"


def upgrade() -> None:
    op.add_column("consent_records", sa.Column("recorded_by_name", sa.String(200), nullable=True), schema=SCHEMA)
    op.execute("UPDATE customers.consent_records SET recorded_by_name = recorded_by")
    op.alter_column("consent_records", "recorded_by_name", nullable=False, schema=SCHEMA)


def downgrade() -> None:
    op.drop_column("consent_records", "recorded_by_name", schema=SCHEMA)
