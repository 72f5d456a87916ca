"""the appointment's status on its job: appointment_status, appointment_version, arrived_at

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SCHEMA = "jobs"
TABLE = "maintenance_jobs"


def upgrade() -> None:
    # Nullable: jobs made before this revision have heard nothing from workshop-scheduling yet.
    op.add_column(TABLE, sa.Column("appointment_status", sa.String(length=16), nullable=True), schema=SCHEMA)
    op.add_column(TABLE, sa.Column("appointment_version", sa.Integer(), nullable=True), schema=SCHEMA)
    op.add_column(TABLE, sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=True), schema=SCHEMA)


def downgrade() -> None:
    op.drop_column(TABLE, "arrived_at", schema=SCHEMA)
    op.drop_column(TABLE, "appointment_version", schema=SCHEMA)
    op.drop_column(TABLE, "appointment_status", schema=SCHEMA)
