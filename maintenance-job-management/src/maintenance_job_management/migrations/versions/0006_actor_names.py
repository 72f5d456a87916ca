"""who added, sent, recorded, changed or clocked: their name beside their subject

Revision ID: 0006
Revises: 0005

Each "..._by" column gets a "..._by_name" beside it, and a time entry the technician's
name beside their account id: the display name the token carried at that moment (issue
16: identity's tokens name the person), so renaming a person later does not rewrite
what was recorded. Rows made before this migration get the subject as the name.
A technician's latest entry is found by an index (the name an admin's clock-in records).
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SCHEMA = "jobs"
NAMES = (
    ("job_lines", "created_by_name"),
    ("estimates", "sent_by_name"),
    ("approvals", "recorded_by_name"),
    ("time_entries", "recorded_by_name"),
    ("time_entries", "technician_name"),
    ("labour_rates", "updated_by_name"),
    ("canned_jobs", "updated_by_name"),
)
BACKFILL = (
    "UPDATE jobs.job_lines SET created_by_name = created_by",
    "UPDATE jobs.estimates SET sent_by_name = sent_by",
    "UPDATE jobs.approvals SET recorded_by_name = recorded_by",
    "UPDATE jobs.time_entries SET recorded_by_name = recorded_by, technician_name = technician",
    "UPDATE jobs.labour_rates SET updated_by_name = updated_by",
    "UPDATE jobs.canned_jobs SET updated_by_name = updated_by",
)


def upgrade() -> None:
    for table, name in NAMES:
        op.add_column(table, sa.Column(name, sa.String(200), nullable=True), schema=SCHEMA)
    for statement in BACKFILL:
        op.execute(statement)
    for table, name in NAMES:
        op.alter_column(table, name, nullable=False, schema=SCHEMA)
    op.create_index(
        "ix_time_entries_technician_clocked_in_at",
        "time_entries",
        ["technician", "clocked_in_at"],
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_index("ix_time_entries_technician_clocked_in_at", table_name="time_entries", schema=SCHEMA)
    for table, name in NAMES:
        op.drop_column(table, name, schema=SCHEMA)
