"""ownerships and odometer readings keep the name of who recorded them

Revision ID: 0003
Revises: 0002

`recorded_by_name` is the display name the token carried when the row was recorded
(issue 16: identity's tokens name the person), so renaming the person later does not
rewrite the history. Rows made before this migration get their subject as the name.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SCHEMA = "vehicles"
TABLES = ("ownerships", "odometer_readings")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("recorded_by_name", sa.String(200), nullable=True), schema=SCHEMA)
    op.execute("UPDATE vehicles.ownerships SET recorded_by_name = recorded_by")
    op.execute("UPDATE vehicles.odometer_readings SET recorded_by_name = recorded_by")
    for table in TABLES:
        op.alter_column(table, "recorded_by_name", nullable=False, schema=SCHEMA)


def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, "recorded_by_name", schema=SCHEMA)
