"""the customer portal: links, the portal channel, hand-over and feedback (issue 18)

Revision ID: 0007
Revises: 0006

- ``portal_links``: the links this service issues for the customer portal (an
  estimate to decide, a visit to rate), revocable and counted (service_kit.links).
- A job keeps the vehicle as its booking named it (plate, make, model: what the
  customer's page shows) and when, and by whom, the vehicle was collected.
- An approval may come through the portal: channel ``portal``, with the customer's
  typed name as signature and their address as the portal saw it.
- ``feedback``: the customer's rating of a visit, once per job, with its technician.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from service_kit.links import create_links_table, drop_links_table

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SCHEMA = "jobs"
CHANNELS_BEFORE = "channel IN ('booking', 'counter', 'phone', 'email', 'sms', 'web')"
CHANNELS_AFTER = "channel IN ('booking', 'counter', 'phone', 'email', 'sms', 'web', 'portal')"


def upgrade() -> None:
    create_links_table(SCHEMA)
    for name, length in (("vehicle_plate", 20), ("vehicle_make", 100), ("vehicle_model", 100)):
        op.add_column("maintenance_jobs", sa.Column(name, sa.String(length), nullable=True), schema=SCHEMA)
    op.add_column(
        "maintenance_jobs", sa.Column("collected_at", sa.DateTime(timezone=True), nullable=True), schema=SCHEMA
    )
    for name in ("collected_by", "collected_by_name"):
        op.add_column("maintenance_jobs", sa.Column(name, sa.String(200), nullable=True), schema=SCHEMA)
    op.add_column("approvals", sa.Column("signature", sa.String(200), nullable=True), schema=SCHEMA)
    op.add_column("approvals", sa.Column("client_address", sa.String(100), nullable=True), schema=SCHEMA)
    op.drop_constraint(op.f("ck_approvals_channel"), "approvals", schema=SCHEMA, type_="check")
    op.create_check_constraint(op.f("ck_approvals_channel"), "approvals", CHANNELS_AFTER, schema=SCHEMA)
    op.create_table(
        "feedback",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("job_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("customer_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("vehicle_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("technician", sa.String(length=100), nullable=True),
        sa.Column("technician_name", sa.String(length=200), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client_address", sa.String(length=100), nullable=True),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name=op.f("ck_feedback_rating")),
        sa.ForeignKeyConstraint(
            ["job_id"], [f"{SCHEMA}.maintenance_jobs.id"], name=op.f("fk_feedback_job_id_maintenance_jobs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
        sa.UniqueConstraint("job_id", name=op.f("uq_feedback_job_id")),
        schema=SCHEMA,
    )
    op.create_index("ix_feedback_given_at_id", "feedback", ["given_at", "id"], schema=SCHEMA)
    op.create_index(
        "ix_feedback_technician_given_at", "feedback", ["technician", "given_at"], schema=SCHEMA
    )


def downgrade() -> None:
    op.drop_index("ix_feedback_technician_given_at", table_name="feedback", schema=SCHEMA)
    op.drop_index("ix_feedback_given_at_id", table_name="feedback", schema=SCHEMA)
    op.drop_table("feedback", schema=SCHEMA)
    approvals = sa.table("approvals", sa.column("channel", sa.String), schema=SCHEMA)
    op.execute(approvals.delete().where(approvals.c.channel == "portal"))
    op.drop_constraint(op.f("ck_approvals_channel"), "approvals", schema=SCHEMA, type_="check")
    op.create_check_constraint(op.f("ck_approvals_channel"), "approvals", CHANNELS_BEFORE, schema=SCHEMA)
    op.drop_column("approvals", "client_address", schema=SCHEMA)
    op.drop_column("approvals", "signature", schema=SCHEMA)
    for name in (
        "collected_by_name",
        "collected_by",
        "collected_at",
        "vehicle_model",
        "vehicle_make",
        "vehicle_plate",
    ):
        op.drop_column("maintenance_jobs", name, schema=SCHEMA)
    drop_links_table(SCHEMA)
