"""Tables of the ``jobs`` schema (created by migrations, never by create_all)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from maintenance_job_management import domain
from service_kit.clock import utcnow
from service_kit.db import make_database, one_of, schema_metadata
from service_kit.idempotency import define_idempotency_table
from service_kit.ids import uuid7
from service_kit.links import define_links_table
from service_kit.outbox import define_outbox_table

SCHEMA = "jobs"


class Model(DeclarativeBase):
    """The base of this service's tables: all of them live in its schema."""

    metadata = schema_metadata(SCHEMA)


# portal_links: the customer portal's links this service issued (service_kit.links).
db = make_database(Model, tables=(define_idempotency_table, define_outbox_table, define_links_table))


class Job(Model):
    __tablename__ = "maintenance_jobs"
    __table_args__ = (
        CheckConstraint(one_of("status", domain.STATUSES), name="status"),
        CheckConstraint(f"hold_kind IS NULL OR {one_of('hold_kind', domain.HOLD_KINDS)}", name="hold_kind"),
        CheckConstraint(one_of("odometer_unit", domain.ODOMETER_UNITS), name="odometer_unit"),
        CheckConstraint("planned_start < planned_end", name="planned_order"),
        CheckConstraint("odometer_in IS NULL OR odometer_in >= 0", name="odometer_in"),
        # History of a vehicle or a customer, newest first: one index range scan per page.
        Index("ix_maintenance_jobs_vehicle_history", "vehicle_id", "planned_start", "id"),
        Index("ix_maintenance_jobs_customer_history", "customer_id", "planned_start", "id"),
        Index("ix_maintenance_jobs_planned", "planned_start", "id"),
        Index("ix_maintenance_jobs_status_planned", "status", "planned_start", "id"),  # lists by status
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    appointment_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), unique=True)
    vehicle_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    # The vehicle as the booking named it (workshop-scheduling knows it from
    # vehicle-management): what the customer's page and messages call it.
    vehicle_plate: Mapped[str | None] = mapped_column(String(20))
    vehicle_make: Mapped[str | None] = mapped_column(String(100))
    vehicle_model: Mapped[str | None] = mapped_column(String(100))
    planned_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    planned_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=domain.SCHEDULED)
    hold_kind: Mapped[str | None] = mapped_column(String(16))
    hold_reason: Mapped[str | None] = mapped_column(Text)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    assigned_technician: Mapped[str | None] = mapped_column(String(100))
    actual_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    actual_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    odometer_in: Mapped[int | None] = mapped_column(Integer)
    odometer_unit: Mapped[str] = mapped_column(String(2), default="km")
    technician_notes: Mapped[str | None] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(String(3))
    # The appointment's status as workshop-scheduling last reported it (docs/visits.md):
    # the version it reported it at, so an older or repeated report changes nothing.
    appointment_status: Mapped[str | None] = mapped_column(String(16))
    appointment_version: Mapped[int | None] = mapped_column(Integer)
    arrived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The customer collected the vehicle (hand-over): who at the desk recorded it.
    collected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    collected_by: Mapped[str | None] = mapped_column(String(200))
    collected_by_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    lines: Mapped[list[JobLine]] = relationship(
        back_populates="job", order_by="JobLine.id", lazy="selectin", cascade="all, delete-orphan"
    )
    time_entries: Mapped[list[TimeEntry]] = relationship(
        order_by="TimeEntry.id", lazy="selectin", cascade="all, delete-orphan"
    )

    # UPDATE ... WHERE version = <read version>: a concurrent writer cannot be overwritten.
    __mapper_args__ = {"version_id_col": version}

    @property
    def totals(self) -> domain.Totals:
        return domain.totals(self.lines)

    @property
    def progress(self) -> domain.Progress:
        return domain.progress(self.lines)

    @property
    def time(self) -> dict[str, Any]:
        now = utcnow()
        seconds = sum(
            domain.seconds_between(entry.clocked_in_at, entry.clocked_out_at or now)
            for entry in self.time_entries
        )
        return {
            "clocked_seconds": seconds,
            "clocked_hours": domain.from_hundredths(domain.to_hours_hundredths(seconds)),
            "billed_labour_hours": domain.from_hundredths(domain.billed_labour_hundredths(self.lines)),
            "clocked_in": sorted(e.technician for e in self.time_entries if e.clocked_out_at is None),
        }


class JobLine(Model):
    """Labour (quantity = hours) or a part, priced in minor units, with its approval."""

    __tablename__ = "job_lines"
    __table_args__ = (
        CheckConstraint(one_of("kind", domain.LINE_KINDS), name="kind"),
        CheckConstraint(one_of("approval", domain.APPROVALS), name="approval"),
        CheckConstraint("quantity_hundredths > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0", name="unit_price_not_negative"),
        CheckConstraint("vat_rate >= 0 AND vat_rate <= 100", name="vat_rate_percent"),
        CheckConstraint("kind = 'part' OR part_number IS NULL", name="labour_has_no_part_number"),
        CheckConstraint("approval <> 'approved' OR approved_net IS NOT NULL", name="approved_has_amount"),
        Index("ix_job_lines_job_id", "job_id"),
        Index("ix_job_lines_declined", "job_id", postgresql_where=text("approval = 'declined'")),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.maintenance_jobs.id"))
    kind: Mapped[str] = mapped_column(String(8))
    description: Mapped[str] = mapped_column(Text)
    part_number: Mapped[str | None] = mapped_column(String(64))
    quantity_hundredths: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(Integer)
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    approval: Mapped[str] = mapped_column(String(16), default=domain.PENDING)
    approved_net: Mapped[int | None] = mapped_column(Integer)
    covered_by_booking: Mapped[bool] = mapped_column(Boolean, default=False)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))
    created_by_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    # The canned job it came from; its prices are the line's own, copied when added.
    canned_job_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))

    job: Mapped[Job] = relationship(back_populates="lines")

    @property
    def net_amount(self) -> int:
        return domain.net_of(self)

    @property
    def vat_amount(self) -> int:
        return domain.vat_amount(self.net_amount, self.vat_rate)

    @property
    def quantity(self) -> Decimal:
        return domain.from_hundredths(self.quantity_hundredths)

    @property
    def approved(self) -> bool:
        return self.approval == domain.APPROVED

    @property
    def hours(self) -> Decimal | None:
        return self.quantity if self.kind == domain.LABOUR else None

    @property
    def hourly_rate(self) -> int | None:
        return self.unit_price if self.kind == domain.LABOUR else None

    @property
    def needs_reapproval(self) -> bool:
        return domain.needs_reapproval(self)


class Estimate(Model):
    """Lines put before the customer, exactly as shown, and the decision on them."""

    __tablename__ = "estimates"
    __table_args__ = (
        CheckConstraint(one_of("status", domain.ESTIMATE_STATUSES), name="status"),
        CheckConstraint(one_of("channel", domain.ESTIMATE_CHANNELS), name="channel"),
        Index("ix_estimates_job_id_id", "job_id", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.maintenance_jobs.id"))
    status: Mapped[str] = mapped_column(String(16), default=domain.ESTIMATE_SENT)
    channel: Mapped[str] = mapped_column(String(16))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB)
    sent_by: Mapped[str] = mapped_column(String(200))
    sent_by_name: Mapped[str] = mapped_column(String(200))
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Approval(Model):
    """One decision on one line: the audit trail. Never updated or deleted."""

    __tablename__ = "approvals"
    __table_args__ = (
        CheckConstraint("decision IN ('approved', 'declined')", name="decision"),
        CheckConstraint(one_of("channel", domain.APPROVAL_CHANNELS), name="channel"),
        Index("ix_approvals_job_id_id", "job_id", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.maintenance_jobs.id"))
    line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.job_lines.id"))
    estimate_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey(f"{SCHEMA}.estimates.id"))
    decision: Mapped[str] = mapped_column(String(16))
    decided_by: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(16))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    shown: Mapped[dict[str, Any]] = mapped_column(JSONB)
    note: Mapped[str | None] = mapped_column(Text)
    # Channel portal: the name the customer typed, and their address as the portal saw it.
    signature: Mapped[str | None] = mapped_column(String(200))
    client_address: Mapped[str | None] = mapped_column(String(100))
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_by_name: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TimeEntry(Model):
    __tablename__ = "time_entries"
    __table_args__ = (
        CheckConstraint("clocked_out_at IS NULL OR clocked_out_at >= clocked_in_at", name="out_after_in"),
        # One running clock per technician, whichever job: holds under concurrency.
        Index(
            "uq_time_entries_open_per_technician",
            "technician",
            unique=True,
            postgresql_where=text("clocked_out_at IS NULL"),
        ),
        Index("ix_time_entries_job_id", "job_id"),
        # A technician's latest entry: the name an admin's clock-in for them records.
        Index("ix_time_entries_technician_clocked_in_at", "technician", "clocked_in_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.maintenance_jobs.id"))
    # The technician's account id (their token's subject) and their name at clock-in.
    technician: Mapped[str] = mapped_column(String(100))
    technician_name: Mapped[str] = mapped_column(String(200))
    clocked_in_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    clocked_out_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_by_name: Mapped[str] = mapped_column(String(200))

    @property
    def seconds(self) -> int:
        return domain.seconds_between(self.clocked_in_at, self.clocked_out_at or utcnow())


class Feedback(Model):
    """How the customer rated a visit (a job), once, kept with the job and the
    technician who did it. Never updated or deleted."""

    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating"),
        # Staff lists and summaries: newest first, by period, per technician.
        Index("ix_feedback_given_at_id", "given_at", "id"),
        Index("ix_feedback_technician_given_at", "technician", "given_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.maintenance_jobs.id"), unique=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    vehicle_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    # The job's assigned technician (account id) and their name as the job knew it.
    technician: Mapped[str | None] = mapped_column(String(100))
    technician_name: Mapped[str | None] = mapped_column(String(200))
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    given_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    client_address: Mapped[str | None] = mapped_column(String(100))


class DeclinedWorkFollowUp(Model):
    """The declined work of a job followed up (``send-declined-work-follow-ups``): once
    per job, ever. Written with its outbox row in one transaction; the primary key is
    what makes a second run, even one at the same moment, send nothing, and it holds
    after the outbox has purged the delivered row."""

    __tablename__ = "declined_work_follow_ups"

    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.maintenance_jobs.id"), primary_key=True)
    vehicle_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    # How many declined lines the message named.
    lines: Mapped[int] = mapped_column(Integer)
    outbox_message_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# ------------------------------------------------------------------------------ prices


class LabourRate(Model):
    """The garage's hourly rate for a kind of work (``default`` when none is named)."""

    __tablename__ = "labour_rates"
    __table_args__ = (CheckConstraint("hourly_rate >= 0", name="hourly_rate_not_negative"),)

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    hourly_rate: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_by_name: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}


class CannedJob(Model):
    """A job the garage does often ("small service"), priced once: added to a job's lines
    in one call. Retired (``active`` false) rather than deleted: lines name it."""

    __tablename__ = "canned_jobs"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    work_kind: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_by_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    lines: Mapped[list[CannedJobLine]] = relationship(
        back_populates="canned_job",
        order_by="CannedJobLine.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )

    __mapper_args__ = {"version_id_col": version}


class CannedJobLine(Model):
    """Labour hours (at the work kind's rate when added, unless a rate is set here) or
    a part with its price; VAT the configured rate unless set."""

    __tablename__ = "canned_job_lines"
    __table_args__ = (
        CheckConstraint(one_of("kind", domain.LINE_KINDS), name="kind"),
        CheckConstraint("quantity_hundredths > 0", name="quantity_positive"),
        CheckConstraint("unit_price IS NULL OR unit_price >= 0", name="unit_price_not_negative"),
        CheckConstraint("kind = 'labour' OR unit_price IS NOT NULL", name="part_has_price"),
        CheckConstraint("vat_rate IS NULL OR (vat_rate >= 0 AND vat_rate <= 100)", name="vat_rate_percent"),
        CheckConstraint("kind = 'part' OR part_number IS NULL", name="labour_has_no_part_number"),
        Index("ix_canned_job_lines_canned_job_id", "canned_job_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    canned_job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.canned_jobs.id"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))
    description: Mapped[str] = mapped_column(Text)
    part_number: Mapped[str | None] = mapped_column(String(64))
    quantity_hundredths: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int | None] = mapped_column(Integer)
    vat_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))

    canned_job: Mapped[CannedJob] = relationship(back_populates="lines")

    @property
    def quantity(self) -> Decimal:
        return domain.from_hundredths(self.quantity_hundredths)

    @property
    def hours(self) -> Decimal | None:
        return self.quantity if self.kind == domain.LABOUR else None

    @property
    def hourly_rate(self) -> int | None:
        return self.unit_price if self.kind == domain.LABOUR else None
