"""the job's status on its appointment: job_status, job_version

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = "scheduling"
TABLE = "appointments"


def upgrade() -> None:
    # Nullable: appointments booked before this revision learn their job's status with
    # its next change.
    op.add_column(TABLE, sa.Column("job_status", sa.String(length=16), nullable=True), schema=SCHEMA)
    op.add_column(TABLE, sa.Column("job_version", sa.Integer(), nullable=True), schema=SCHEMA)


def downgrade() -> None:
    op.drop_column(TABLE, "job_version", schema=SCHEMA)
    op.drop_column(TABLE, "job_status", schema=SCHEMA)
