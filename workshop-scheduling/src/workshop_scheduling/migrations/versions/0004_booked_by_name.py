"""an appointment keeps the name of who booked it beside their subject

Revision ID: 0004
Revises: 0003

`booked_by_name` is the display name the token carried when the appointment was booked
(issue 16: identity's tokens name the person), so renaming the person later does not
rewrite the booking. Appointments booked before this migration get their subject.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SCHEMA = "scheduling"


def upgrade() -> None:
    op.add_column("appointments", sa.Column("booked_by_name", sa.String(200), nullable=True), schema=SCHEMA)
    op.execute("UPDATE scheduling.appointments SET booked_by_name = booked_by")
    op.alter_column("appointments", "booked_by_name", nullable=False, schema=SCHEMA)


def downgrade() -> None:
    op.drop_column("appointments", "booked_by_name", schema=SCHEMA)
