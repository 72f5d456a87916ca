"""part lines without a part number (not every part has one: oil from the drum, a bulb)

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = "jobs"


def upgrade() -> None:
    op.drop_constraint(op.f("ck_job_lines_part_has_part_number"), "job_lines", schema=SCHEMA, type_="check")


def downgrade() -> None:
    # Lines saved without a number meanwhile are given one that says so.
    op.execute(
        "UPDATE jobs.job_lines SET part_number = 'unknown' WHERE kind = 'part' AND part_number IS NULL"
    )
    op.create_check_constraint(
        op.f("ck_job_lines_part_has_part_number"),
        "job_lines",
        "kind = 'labour' OR part_number IS NOT NULL",
        schema=SCHEMA,
    )
