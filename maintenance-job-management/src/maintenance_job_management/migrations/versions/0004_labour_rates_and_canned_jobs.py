"""labour rates (default and per kind of work) and canned jobs with their lines; job
lines name the canned job they came from

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "canned_jobs",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("work_kind", sa.String(length=40), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canned_jobs")),
        sa.UniqueConstraint("code", name=op.f("uq_canned_jobs_code")),
        schema="jobs",
    )
    op.create_table(
        "labour_rates",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("hourly_rate", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("hourly_rate >= 0", name=op.f("ck_labour_rates_hourly_rate_not_negative")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_labour_rates")),
        schema="jobs",
    )
    op.create_table(
        "canned_job_lines",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("canned_job_id", sa.UUID(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("part_number", sa.String(length=64), nullable=True),
        sa.Column("quantity_hundredths", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Integer(), nullable=True),
        sa.Column("vat_rate", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.CheckConstraint(
            "kind = 'labour' OR unit_price IS NOT NULL", name=op.f("ck_canned_job_lines_part_has_price")
        ),
        sa.CheckConstraint(
            "kind = 'part' OR part_number IS NULL", name=op.f("ck_canned_job_lines_labour_has_no_part_number")
        ),
        sa.CheckConstraint("kind IN ('labour', 'part')", name=op.f("ck_canned_job_lines_kind")),
        sa.CheckConstraint("quantity_hundredths > 0", name=op.f("ck_canned_job_lines_quantity_positive")),
        sa.CheckConstraint(
            "unit_price IS NULL OR unit_price >= 0", name=op.f("ck_canned_job_lines_unit_price_not_negative")
        ),
        sa.CheckConstraint(
            "vat_rate IS NULL OR (vat_rate >= 0 AND vat_rate <= 100)",
            name=op.f("ck_canned_job_lines_vat_rate_percent"),
        ),
        sa.ForeignKeyConstraint(
            ["canned_job_id"],
            ["jobs.canned_jobs.id"],
            name=op.f("fk_canned_job_lines_canned_job_id_canned_jobs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canned_job_lines")),
        schema="jobs",
    )
    op.create_index(
        "ix_canned_job_lines_canned_job_id",
        "canned_job_lines",
        ["canned_job_id"],
        unique=False,
        schema="jobs",
    )
    op.add_column("job_lines", sa.Column("canned_job_id", sa.UUID(), nullable=True), schema="jobs")


def downgrade() -> None:
    op.drop_column("job_lines", "canned_job_id", schema="jobs")
    op.drop_index("ix_canned_job_lines_canned_job_id", table_name="canned_job_lines", schema="jobs")
    op.drop_table("canned_job_lines", schema="jobs")
    op.drop_table("labour_rates", schema="jobs")
    op.drop_table("canned_jobs", schema="jobs")
