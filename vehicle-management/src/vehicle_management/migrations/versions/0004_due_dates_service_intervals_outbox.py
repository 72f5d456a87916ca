"""service and inspection due: first admission and inspection expiry dates, the
garage's service intervals, the worked-out due dates, the reminders sent, the outbox

Revision ID: 0004
Revises: 0003

Issue 19. `service_intervals` starts with the two services most garages remind of (a
small service every 12 months or 15,000 km, a major one every 24 months or 30,000 km;
a major service counts as a small one too); admins change them through the API. The
outbox carries the booking invitations to workshop-scheduling (docs/due-dates.md).
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from service_kit.outbox import create_outbox_table, drop_outbox_table

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SCHEMA = "vehicles"


def upgrade() -> None:
    op.add_column("vehicles", sa.Column("first_admission_on", sa.Date(), nullable=True), schema=SCHEMA)
    op.add_column("vehicles", sa.Column("inspection_expires_on", sa.Date(), nullable=True), schema=SCHEMA)
    intervals = op.create_table(
        "service_intervals",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("months", sa.Integer(), nullable=True),
        sa.Column("km", sa.Integer(), nullable=True),
        sa.Column("canned_job_codes", postgresql.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_by_name", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("km IS NULL OR km BETWEEN 100 AND 1000000", name=op.f("ck_service_intervals_km")),
        sa.CheckConstraint("months IS NULL OR months BETWEEN 1 AND 240", name=op.f("ck_service_intervals_months")),
        sa.CheckConstraint(
            "months IS NOT NULL OR km IS NOT NULL", name=op.f("ck_service_intervals_months_or_km")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_service_intervals")),
        schema=SCHEMA,
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        intervals,
        [
            {
                "code": "small-service",
                "name": "small service",
                "months": 12,
                "km": 15000,
                "canned_job_codes": ["small-service", "major-service"],
                "active": True,
                "updated_by": "migration",
                "updated_by_name": "migration 0004",
                "version": 1,
                "updated_at": now,
            },
            {
                "code": "major-service",
                "name": "major service",
                "months": 24,
                "km": 30000,
                "canned_job_codes": ["major-service"],
                "active": True,
                "updated_by": "migration",
                "updated_by_name": "migration 0004",
                "version": 1,
                "updated_at": now,
            },
        ],
        multiinsert=False,
    )
    op.create_table(
        "due_dates",
        sa.Column("vehicle_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("reminder_date", sa.Date(), nullable=True),
        sa.Column("due_km", sa.Integer(), nullable=True),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('service', 'inspection')", name=op.f("ck_due_dates_kind")),
        sa.ForeignKeyConstraint(
            ["vehicle_id"], ["vehicles.vehicles.id"], name=op.f("fk_due_dates_vehicle_id_vehicles")
        ),
        sa.PrimaryKeyConstraint("vehicle_id", "kind", name=op.f("pk_due_dates")),
        schema=SCHEMA,
    )
    op.create_index("ix_due_dates_due_on", "due_dates", ["due_on", "vehicle_id"], unique=False, schema=SCHEMA)
    op.create_index(
        "ix_due_dates_kind_due_on", "due_dates", ["kind", "due_on", "vehicle_id"], unique=False, schema=SCHEMA
    )
    op.create_table(
        "due_reminders",
        sa.Column("vehicle_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("outbox_message_id", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["vehicle_id"], ["vehicles.vehicles.id"], name=op.f("fk_due_reminders_vehicle_id_vehicles")
        ),
        sa.PrimaryKeyConstraint("vehicle_id", "kind", "due_on", name=op.f("pk_due_reminders")),
        schema=SCHEMA,
    )
    create_outbox_table(SCHEMA)


def downgrade() -> None:
    drop_outbox_table(SCHEMA)
    op.drop_table("due_reminders", schema=SCHEMA)
    op.drop_index("ix_due_dates_kind_due_on", table_name="due_dates", schema=SCHEMA)
    op.drop_index("ix_due_dates_due_on", table_name="due_dates", schema=SCHEMA)
    op.drop_table("due_dates", schema=SCHEMA)
    op.drop_table("service_intervals", schema=SCHEMA)
    op.drop_column("vehicles", "inspection_expires_on", schema=SCHEMA)
    op.drop_column("vehicles", "first_admission_on", schema=SCHEMA)
