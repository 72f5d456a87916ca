"""declined work followed up (issue 19)

Revision ID: 0008
Revises: 0007

- ``declined_work_follow_ups``: the jobs whose declined work (the recommendations) was
  followed up with a ``declined_work`` booking invitation, once per job: the primary key
  keeps two runs of ``send-declined-work-follow-ups`` from sending it twice.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SCHEMA = "jobs"


def upgrade() -> None:
    op.create_table(
        "declined_work_follow_ups",
        sa.Column("job_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("vehicle_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("outbox_message_id", postgresql.UUID(as_uuid=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            [f"{SCHEMA}.maintenance_jobs.id"],
            name=op.f("fk_declined_work_follow_ups_job_id_maintenance_jobs"),
        ),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_declined_work_follow_ups")),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("declined_work_follow_ups", schema=SCHEMA)
